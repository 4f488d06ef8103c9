; Boot-sector guest: mode 13h, its own 256-colour DAC palette, and a pattern whose colour is
; (x XOR y) + 64 * (x >> 8) at (x, y); then halts. tests/vga_guest.rs compares a screenshot
; with mode13.png, recorded from QEMU running this same disk.
        org 0x7C00
        bits 16
start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x0013
        int 0x10
        ; DAC entry i = (i >> 2, (i & 15) << 2, (5 * i) & 63)
        mov dx, 0x3C8
        xor al, al
        out dx, al
        inc dx
        xor cx, cx
.pal:   mov al, cl
        shr al, 2
        out dx, al
        mov al, cl
        and al, 0x0F
        shl al, 2
        out dx, al
        mov al, cl
        mov bl, 5
        mul bl
        and al, 63
        out dx, al
        inc cx
        cmp cx, 256
        jne .pal
        mov ax, 0xA000
        mov es, ax
        xor di, di
        xor bx, bx              ; y
.row:   xor cx, cx              ; x
.px:    mov al, cl
        xor al, bl
        mov ah, ch
        shl ah, 6
        add al, ah
        stosb
        inc cx
        cmp cx, 320
        jne .px
        inc bx
        cmp bx, 200
        jne .row
.halt:  cli
        hlt
        jmp .halt
        times 510-($-$$) db 0
        dw 0xAA55
        times 1474560-($-$$) db 0
