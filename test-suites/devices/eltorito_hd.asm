; El Torito hard disk emulation test guest: the host patches a partition table into this
; image (one partition ending at C9/H1/S18: a 10 x 2 x 18 disk) and puts it on an ISO with
; `xorriso -as mkisofs -b eltorito_hd.img -hard-disk-boot`. The BIOS boots it as drive 80h
; (lib.inc loads the rest by CHS); checks the geometry, the end of the disk, that writes
; fail and the AX=4B01h packet. Runs on emu and QEMU (SeaBIOS).

%include "lib.inc"

cpu 386

tests:
        dw t_drive, n_drive
        dw t_chs, n_chs
        dw t_write, n_write
        dw t_spec, n_spec
        dw 0

n_drive: db "booted with DL = 80h; AH=08h: CX = 0912h (SeaBIOS 0812h), DH = 01h", 0
n_chs: db "AH=02h: C9/H1/S18 reads, C10/H0/S1 fails", 0
n_write: db "AH=03h write fails with AH = 03h (write protected)", 0
n_spec: db "AX=4B01h: packet 13h, media 4, drive 80h, segment 07C0h, CHS 09h/12h/01h (SeaBIOS 01h/12h/09h)", 0

spec: times 0x13 db 0xCC

t_drive:
        cmp byte [boot_drive], 0x80
        jne .fail
        mov ah, 0x08
        mov dl, 0x80
        push es
        int 0x13
        pop es
        jc .fail
        cmp cx, 0x0912
        je .cx_ok
        cmp cx, 0x0812                  ; SeaBIOS keeps the last cylinder back
        jne .fail
.cx_ok:
        cmp dh, 1
        jne .fail
        clc
        ret
.fail:
        stc
        ret

; Reads CHS CX (cyl/sector), DH head of drive 80h to 2000:0000; CF as INT 13h sets it.
read_chs:
        push es
        mov ax, 0x2000
        mov es, ax
        xor bx, bx
        mov dl, 0x80
        mov ax, 0x0201
        int 0x13
        pop es
        ret

t_chs:
        mov cx, 0x0912
        mov dh, 1
        call read_chs
        jc .fail
        mov cx, 0x0A01
        xor dh, dh
        call read_chs
        jnc .fail
        clc
        ret
.fail:
        stc
        ret

t_write:
        mov ax, 0x0301
        mov cx, 0x0001
        mov dx, 0x0080
        mov bx, 0x7C00
        int 0x13
        jnc .fail
        cmp ah, 0x03
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_spec:
        mov ax, 0x4B01
        mov dl, 0x80
        mov si, spec
        int 0x13
        jc .fail
        cmp byte [spec], 0x13
        jne .fail
        cmp word [spec + 1], 0x8004     ; media 4, drive 80h
        jne .fail
        cmp word [spec + 12], 0x07C0
        jne .fail
        cmp word [spec + 16], 0x1209    ; AH=08h's CH, CL, DH (maxima) ...
        jne .counts
        cmp byte [spec + 18], 1
        jne .fail
        clc
        ret
.counts:
        cmp word [spec + 16], 0x1201    ; ... or head and cylinder swapped (SeaBIOS)
        jne .fail
        cmp byte [spec + 18], 9
        jne .fail
        clc
        ret
.fail:
        stc
        ret
