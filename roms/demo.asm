; emu demo ROM: a 64 KiB firmware image that the emulator runs when no guest is given.
; It talks only through the debug console (port 0xE9), so it needs no devices: it greets,
; computes the primes below 500 with a sieve, prints how many there are and a checksum of
; them, copies a string with REP MOVSB, divides with DIV, and halts.
;
; Build: nasm -i roms/ -f bin -o roms/demo.bin roms/demo.asm   (includes primes.inc)

        bits 16
        cpu 8086
        org 0

DEBUG   equ 0xE9
SIEVE   equ 0x1000              ; sieve bytes live in RAM at 0000:1000
LIMIT   equ 500

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        mov es, ax
        mov si, hello
        call print_cs

        call count_primes

        mov si, primes_msg
        call print_cs
        mov ax, cx
        call print_dec
        mov si, sum_msg
        call print_cs
        mov ax, dx
        call print_dec
        mov al, 10
        out DEBUG, al

        mov si, bye
        call print_cs
        cli
        hlt
        jmp $

; Prints the NUL-terminated string at CS:SI.
print_cs:
        push ax
.loop:  cs lodsb
        test al, al
        jz .done
        out DEBUG, al
        jmp .loop
.done:  pop ax
        ret

; Prints AX in decimal.
print_dec:
        push ax
        push bx
        push cx
        push dx
        mov bx, 10
        xor cx, cx
.div:   xor dx, dx
        div bx
        push dx
        inc cx
        test ax, ax
        jnz .div
.out:   pop ax
        add al, '0'
        out DEBUG, al
        loop .out
        pop dx
        pop cx
        pop bx
        pop ax
        ret

%include "primes.inc"

hello:      db "emu demo ROM: hello from a guest running on the emu x86 interpreter", 10, 0
primes_msg: db "primes below 500: ", 0
sum_msg:    db ", their sum: ", 0
bye:        db "demo done; halting the CPU.", 10, 0

        times 0xFFF0 - ($ - $$) db 0
reset:  jmp 0xF000:start        ; the CPU starts here (F000:FFF0)
        times 0x10000 - ($ - $$) db 0
