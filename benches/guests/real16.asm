; real16: a 16-bit real-mode benchmark in the style of DOS programs. Boots from a floppy,
; stays in real mode and runs ITERS rounds of: segment register loads, REP MOVSW/STOSW between
; segments, LODSB/STOSB and REPNE SCASB loops, LDS/LES pointer loads, far calls and an
; INT 21h-style software interrupt dispatcher. Prints "CHECKSUM xxxx" on COM1 and port 0xE9,
; writes 0 to port 0xF4 (isa-debug-exit), then "Shutdown" to port 0x8900 (Bochs) and halts.
;   nasm -f bin -DITERS=200 -o real16.img real16.asm
%ifndef ITERS
%define ITERS 200
%endif
%define SECTORS 4
        bits 16
        org 0x7c00
start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        mov [bootdrv], dl
        mov ax, 0x0200 + SECTORS
        mov cx, 0x0002
        xor dh, dh
        mov bx, 0x7e00
        int 0x13
        jc fail
        cli
        jmp main
fail:   mov al, '!'
        out 0xe9, al
.h:     hlt
        jmp .h
bootdrv db 0
        times 510-($-$$) db 0
        dw 0xaa55

; ---- second stage (loaded at 0x7e00) ----
main:   ; INT 21h vector -> our dispatcher
        mov word [0x21*4], int21
        mov word [0x21*4+2], 0
        ; source data in segment 0x2000: a byte pattern
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov cx, 4096
        mov al, 0x5a
.fill:  stosb
        add al, 37
        loop .fill
        xor bp, bp              ; checksum
        mov word [iter], ITERS
.outer:
        ; 1. block copy 0x2000:0 -> 0x3000:0 (4 KiB) with REP MOVSW
        mov ax, 0x2000
        mov ds, ax
        mov ax, 0x3000
        mov es, ax
        xor si, si
        xor di, di
        mov cx, 2048
        cld
        rep movsw
        ; 2. transform 1 KiB with LODSB/STOSB (DS:SI -> ES:DI), checksum in BX
        xor si, si
        mov di, 0x1000
        mov cx, 1024
        xor bx, bx
.xf:    lodsb
        xor al, bl
        add bl, al
        stosb
        loop .xf
        add bp, bx
        ; 3. search for a byte with REPNE SCASB
        push ds
        pop es
        xor di, di
        mov cx, 4096
        mov al, bl
        repne scasb
        add bp, cx
        ; 4. clear a buffer with REP STOSW
        mov ax, 0x4000
        mov es, ax
        xor di, di
        mov cx, 512
        mov ax, bp
        rep stosw
        ; 5. far pointers and far calls, 64 rounds
        xor ax, ax
        mov ds, ax
        mov cx, 64
.fc:    lds si, [cs:farptr]
        les di, [cs:farptr2]
        call 0:farfn
        loop .fc
        xor ax, ax
        mov ds, ax
        ; 6. INT 21h-style services, 64 rounds
        mov cx, 64
.dos:   mov ah, 0x01
        mov dx, cx
        int 0x21
        mov ah, 0x02
        int 0x21
        loop .dos
        dec word [iter]
        jnz .outer

        ; report
        xor ax, ax
        mov ds, ax
        mov si, msgck
        call puts
        mov cx, 4
.hx:    rol bp, 4
        mov bx, bp
        and bx, 15
        mov al, [hexd+bx]
        call putc
        loop .hx
        mov al, 10
        call putc
        mov al, 0
        out 0xf4, al
        mov si, shut
        mov dx, 0x8900
.sh:    lodsb
        or al, al
        jz .halt
        out dx, al
        jmp .sh
.halt:  cli
        hlt
        jmp .halt

; far routine: sums a word from each far pointer into BP
farfn:  mov ax, [si]
        add bp, ax
        mov ax, [es:di]
        xor bp, ax
        inc si
        retf

; INT 21h dispatcher: AH=01 adds DX to the checksum, AH=02 copies 32 bytes 0x2000:DX&0xFF -> 0x5000:0
int21:  cmp ah, 0x01
        jne .f2
        add bp, dx
        iret
.f2:    cmp ah, 0x02
        jne .done
        push ds
        push es
        push si
        push di
        push cx
        mov si, 0x2000
        mov ds, si
        mov si, dx
        and si, 0xff
        mov di, 0x5000
        mov es, di
        xor di, di
        mov cx, 16
        rep movsw
        add bp, [es:0]
        pop cx
        pop di
        pop si
        pop es
        pop ds
.done:  iret

puts:   lodsb
        or al, al
        jz .d
        call putc
        jmp puts
.d:     ret
putc:   push dx
        push ax
        mov dx, 0x3fd
.w:     in al, dx
        test al, 0x20
        jz .w
        pop ax
        mov dx, 0x3f8
        out dx, al
        out 0xe9, al
        pop dx
        ret

farptr  dw 0x0100, 0x2000
farptr2 dw 0x0200, 0x3000
iter    dw 0
msgck   db "CHECKSUM ", 0
hexd    db "0123456789abcdef"
shut    db "Shutdown", 0
        times (SECTORS+1)*512-($-$$) db 0
        times 1474560-($-$$) db 0
