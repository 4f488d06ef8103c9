; A DOS program for the boot tests: prints a line through DOS, creates OUT.TXT on the boot
; disk (so the test can check that disk writes reach the image file), then ends the
; emulator run through isa-debug-exit with 0x2A (exit code 85).
;
; Build: nasm -f bin -o HELLO.COM hello.asm

        org 0x100
        mov ah, 0x09
        mov dx, msg
        int 0x21
        mov ah, 0x3C            ; create OUT.TXT
        xor cx, cx
        mov dx, fname
        int 0x21
        jc fail
        mov bx, ax
        mov ah, 0x40            ; write
        mov cx, data_end - data
        mov dx, data
        int 0x21
        jc fail
        mov ah, 0x3E            ; close
        int 0x21
        mov al, 0x2A
        out 0xF4, al
        int 0x20
fail:   mov al, 0x13
        out 0xF4, al
        int 0x20

msg:    db "HELLO FROM DOS", 13, 10, "$"
fname:  db "OUT.TXT", 0
data:   db "written by a DOS program running in emu", 13, 10
data_end:
