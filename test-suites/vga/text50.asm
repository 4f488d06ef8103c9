; Boot-sector guest: 80x50 text. Mode 3, then INT 10h AX=1111h (8x14: 28 rows) and
; AX=1114h (8x16: 25 rows), saving what the BIOS data area says after each at 0000:0500
; (rows - 1 from 40:84h, character height 40:85h, page size 40:4Ch, cursor shape 40:60h:
; 7 bytes each); then AX=1112h (8x8: 50 rows), whose values and AX=1130h's answer (DL
; rows - 1, CX height) follow at 0000:050E. Text: "SECOND" on row 1 and "LINE A" on row 49
; by teletype, a line feed there (the BIOS scrolls 50 rows: "SECOND" reaches row 0, "LINE
; A" row 48), "ROW 49: 80x50" on row 49 and "DIRECT" written to B800h at row 30, column 10
; (attribute 1Eh). Then it halts. tests/vga_guest.rs checks the BDA values, the text view,
; --print-screen and every pixel of the render against the 8x8 font.
        org 0x7C00
        bits 16
start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7C00
        cld
        mov ax, 0x0003
        int 0x10
        mov di, 0x500
        mov ax, 0x1111
        call font
        mov ax, 0x1114
        call font
        mov ax, 0x1112
        call font
        push es
        mov ax, 0x1130
        xor bh, bh
        int 0x10
        pop es
        mov [di], dl
        mov [di + 1], cx
        ; Rows 0 and 1 by teletype, then row 49, which the line feed scrolls.
        xor dx, dx
        call locate
        mov si, s_top
        call puts
        mov dx, 49 << 8
        call locate
        mov si, s_a
        call puts
        mov si, s_last
        call puts
        ; Straight into the regen buffer.
        push es
        mov ax, 0xB800
        mov es, ax
        mov di, (30 * 80 + 10) * 2
        mov si, s_direct
        mov ah, 0x1E
.direct:
        lodsb
        test al, al
        jz .done
        stosw
        jmp .direct
.done:
        pop es
.halt:  cli
        hlt
        jmp .halt

; INT 10h AX as given (BL = 0: block 0), then the BDA fields to [DI].
font:
        xor bl, bl
        int 0x10
        mov al, [0x484]
        stosb
        mov ax, [0x485]
        stosw
        mov ax, [0x44C]
        stosw
        mov ax, [0x460]
        stosw
        ret

locate:
        mov ah, 0x02
        xor bh, bh
        int 0x10
        ret

puts:
        lodsb
        test al, al
        jz .out
        mov ah, 0x0E
        xor bh, bh
        int 0x10
        jmp puts
.out:
        ret

s_top:  db "TOP LINE", 13, 10, "SECOND", 0
s_a:    db "LINE A", 13, 10, 0
s_last: db "ROW 49: 80x50", 0
s_direct: db "DIRECT", 0
        times 510-($-$$) db 0
        dw 0xAA55
        times 1474560-($-$$) db 0
