; emu demo disk: the guest `emu boot` runs when no image is given. The emulator builds a
; 1.44 MB floppy in memory from this file (boot sector + payload) and boots it on the
; built-in BIOS. It talks only through BIOS services: INT 13h loads the payload, INT 10h
; writes the screen and INT 14h the serial console (COM1, the terminal in headless runs).
; It greets, computes the primes below 500 with a sieve, prints their count and sum, and
; halts.
;
; Build: nasm -i roms/ -f bin -o roms/demo-disk.bin roms/demo-disk.asm   (includes primes.inc)

        bits 16
        cpu 8086
        org 0x7C00

PAYLOAD_SECTORS equ (payload_end - payload + 511) / 512
SIEVE   equ 0x1000              ; sieve bytes at 0000:1000
LIMIT   equ 500

boot:   cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        sti
        mov [boot_drive], dl
        mov ax, 0x0200 | PAYLOAD_SECTORS        ; read the payload after this sector
        mov cx, 0x0002
        xor dh, dh
        mov bx, payload
        int 0x13
        jc .fail
        jmp payload
.fail:  mov si, msg_fail
        call print
        cli
        hlt

; Prints the NUL-terminated string at DS:SI on the screen and COM1 ("\n" -> CR LF).
print:  push ax
        push bx
        push dx
.next:  lodsb
        test al, al
        jz .done
        cmp al, 10
        jne .char
        mov al, 13
        call putc
        mov al, 10
.char:  call putc
        jmp .next
.done:  pop dx
        pop bx
        pop ax
        ret

putc:   push ax
        mov ah, 0x0E
        mov bx, 0x0007
        int 0x10
        pop ax
        push ax
        mov ah, 0x01
        xor dx, dx
        int 0x14
        pop ax
        ret

boot_drive: db 0
msg_fail:   db "demo disk: reading the payload failed", 10, 0

        times 510 - ($ - $$) db 0
        dw 0xAA55

payload:
        mov ax, 0x00E3                          ; COM1: 9600 baud, 8N1
        xor dx, dx
        int 0x14
        mov si, hello
        call print

        call count_primes

        mov si, primes_msg
        call print
        mov ax, cx
        call print_dec
        mov si, sum_msg
        call print
        mov ax, dx
        call print_dec
        mov si, bye
        call print
        cli
        hlt

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
        call putc
        loop .out
        pop dx
        pop cx
        pop bx
        pop ax
        ret

%include "primes.inc"

hello:      db "emu demo disk: hello from a guest booted by the emu BIOS", 10, 0
primes_msg: db "primes below 500: ", 0
sum_msg:    db ", their sum: ", 0
bye:        db 10, "demo done; halting the CPU.", 10, 0
payload_end:
        times (PAYLOAD_SECTORS * 512) - ($ - payload) db 0
