; Boot-sector guest: mode X the way games set it up. Mode 13h through INT 10h, a DAC
; palette of our own, chained pixels in the top 100 rows (CPU byte a gets colour
; (a XOR a >> 8) & 255), then the classic unchaining: chain-4 and odd/even off (SC 04h =
; 06h), 480-line clock (misc E3h), 240-line CRTC timing, doubleword mode off (CR14 = 0),
; byte mode on (CR17 = E3h). Rows 100-235 are drawn through the map mask (plane x & 3,
; offset y * 80 + x / 4, colour (x + 2y) & 255), and rows 100-103 are copied to rows
; 236-239 with write mode 1 (the latches move four pixels per byte). Then it halts.
;
; tests/vga_guest.rs computes the picture this gives on a VGA: chain-4 stored CPU byte a at
; plane a & 3, offset a & !3, so the unchained top rows show the chained bytes only where
; the plane offset is a multiple of 4 (QEMU stores it at a >> 2 and shows mode 13h's
; picture unchanged; see docs/vga.md).
        org 0x7C00
        bits 16
SC      equ 0x3C4
GC      equ 0x3CE
CRTC    equ 0x3D4
start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        cld
        mov ax, 0x0013
        int 0x10
        ; DAC entry i = (i >> 2, (i & 15) << 2, (5 * i) & 63), as in mode13.asm.
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
        ; Chained: CPU bytes 0-31999 (rows 0-99 of mode 13h).
        mov ax, 0xA000
        mov es, ax
        xor di, di
.chain: mov ax, di
        xor al, ah
        stosb
        cmp di, 32000
        jne .chain
        ; Unchain.
        mov dx, SC
        mov ax, 0x0604                  ; chain-4 off, odd/even off
        out dx, ax
        mov ax, 0x0100                  ; synchronous reset
        out dx, ax
        mov dx, 0x3C2
        mov al, 0xE3                    ; 25 MHz, 480-line sync polarity
        out dx, al
        mov dx, SC
        mov ax, 0x0300                  ; run
        out dx, ax
        mov dx, CRTC
        mov al, 0x11
        out dx, al
        inc dx
        in al, dx
        and al, 0x7F                    ; unprotect CR0-7
        out dx, al
        dec dx
        mov si, crtc_x
        mov cx, crtc_x_end - crtc_x
        shr cx, 1
.crtc:  lodsw
        out dx, ax
        loop .crtc
        ; Unchained: rows 100-235, plane by plane.
        mov bp, 0                       ; plane
.plane: mov dx, SC
        mov al, 2
        mov ah, 1
        mov cx, bp
        shl ah, cl
        out dx, ax                      ; map mask: this plane
        mov bx, 100                     ; y
.row:   mov ax, bx
        mov cx, 80
        mul cx
        mov di, ax                      ; y * 80
        xor cx, cx                      ; column (x / 4)
.col:   mov ax, cx
        shl ax, 2
        add ax, bp                      ; x
        add ax, bx
        add ax, bx                      ; x + 2y
        stosb
        inc cx
        cmp cx, 80
        jne .col
        inc bx
        cmp bx, 236
        jne .row
        inc bp
        cmp bp, 4
        jne .plane
        ; Copy rows 100-103 to 236-239 through the latches (write mode 1, all planes).
        mov dx, SC
        mov ax, 0x0F02
        out dx, ax
        mov dx, GC
        mov ax, 0x4105                  ; 256-colour shift, write mode 1
        out dx, ax
        push ds
        mov ax, es
        mov ds, ax
        mov si, 100 * 80
        mov di, 236 * 80
        mov cx, 4 * 80
        rep movsb
        pop ds
        mov ax, 0x4005                  ; write mode 0 again
        out dx, ax
.halt:  cli
        hlt
        jmp .halt

; The 320x240 CRTC values (index, value) of the well-known mode X set-up.
crtc_x: db 0x06, 0x0D                   ; vertical total
        db 0x07, 0x3E                   ; overflow
        db 0x09, 0x41                   ; two scan lines per row
        db 0x10, 0xEA                   ; vertical retrace start
        db 0x11, 0xAC                   ; vertical retrace end, protect
        db 0x12, 0xDF                   ; vertical display end (480 lines)
        db 0x14, 0x00                   ; doubleword mode off
        db 0x15, 0xE7                   ; vertical blank start
        db 0x16, 0x06                   ; vertical blank end
        db 0x17, 0xE3                   ; byte mode
crtc_x_end:
        times 510-($-$$) db 0
        dw 0xAA55
        times 1474560-($-$$) db 0
