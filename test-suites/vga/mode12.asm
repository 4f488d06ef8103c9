; Boot-sector guest: mode 12h (planar 640x480x16) drawn through the graphics controller:
; rows 0-159 with write mode 2, rows 160-319 with write mode 0 and set/reset under a bit
; mask (after a latch-loading read), rows 320-479 with write mode 3 and XOR. The attribute
; palette and DAC are programmed by the guest. tests/vga_guest.rs compares a screenshot
; with mode12.png, recorded from QEMU running this same disk.
        org 0x7C00
        bits 16
start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x0012
        int 0x10
        ; Attribute palette: identity.
        mov dx, 0x3DA
        in al, dx
        mov dx, 0x3C0
        xor cx, cx
.attr:  mov al, cl
        out dx, al
        out dx, al
        inc cx
        cmp cx, 16
        jne .attr
        mov al, 0x20            ; palette address source: video on
        out dx, al
        ; DAC 0-15: (4i, 63 - 4i, (9i) & 63)
        mov dx, 0x3C8
        xor al, al
        out dx, al
        inc dx
        xor cx, cx
.pal:   mov al, cl
        shl al, 2
        out dx, al
        mov al, 63
        sub al, cl
        sub al, cl
        sub al, cl
        sub al, cl
        out dx, al
        mov al, cl
        mov bl, 9
        mul bl
        and al, 63
        out dx, al
        inc cx
        cmp cx, 16
        jne .pal
        mov ax, 0xA000
        mov es, ax
        mov dx, 0x3CE
        ; Part 1: write mode 2, colour (x/8 + y/10) & 15 per byte.
        mov ax, 0x0205
        out dx, ax
        mov ax, 0xFF08
        out dx, ax
        xor di, di
        xor bx, bx              ; y
.r1:    mov ax, bx
        mov cl, 10
        div cl                  ; al = y / 10
        mov ah, al
        xor cx, cx              ; byte column
.c1:    mov al, cl
        add al, ah
        and al, 15
        mov si, ax
        mov al, [es:di]         ; load latches
        mov ax, si
        stosb
        inc cx
        cmp cx, 80
        jne .c1
        inc bx
        cmp bx, 160
        jne .r1
        ; Part 2: write mode 0, set/reset colour (y/16) & 15 on all planes, bit mask
        ; 0xAA on even columns and 0x3C on odd ones (latched pixels show in between).
        mov ax, 0x0005
        out dx, ax
        mov ax, 0x0F01
        out dx, ax
.r2:    mov ax, bx
        shr ax, 4
        and al, 15
        mov ah, al
        xor al, al              ; register 0: set/reset value
        out dx, ax
        xor cx, cx
.c2:    mov ax, 0xAA08
        test cl, 1
        jz .m2
        mov ax, 0x3C08
.m2:    out dx, ax
        mov al, [es:di]
        mov al, 0x00
        stosb
        inc cx
        cmp cx, 80
        jne .c2
        inc bx
        cmp bx, 320
        jne .r2
        mov ax, 0x0001          ; set/reset disabled again
        out dx, ax
        ; Part 3: write mode 3 with XOR: set/reset colour = column & 15, CPU byte
        ; (0xF0 >> (y & 3)) rotated through the bit mask 0xFF.
        mov ax, 0x0305
        out dx, ax
        mov ax, 0xFF08
        out dx, ax
        mov ax, 0x1803          ; function XOR, no rotation
        out dx, ax
.r3:    xor cx, cx
.c3:    mov al, cl
        and al, 15
        mov ah, al
        xor al, al
        out dx, ax
        mov al, [es:di]
        push cx
        mov cl, bl
        and cl, 3
        mov al, 0xF0
        shr al, cl
        pop cx
        stosb
        inc cx
        cmp cx, 80
        jne .c3
        inc bx
        cmp bx, 480
        jne .r3
.halt:  cli
        hlt
        jmp .halt
        times 510-($-$$) db 0
        dw 0xAA55
        times 1474560-($-$$) db 0
