; El Torito floppy emulation test guest: a 1.44 MB boot floppy image put on an ISO by
; `xorriso -as mkisofs -b eltorito.img` (no -no-emul-boot, so 1.44 MB floppy emulation).
; The BIOS boots it as drive 00h and serves it through INT 13h by CHS (lib.inc loads the
; rest of the guest that way); checks the drive's parameters, that writes fail, the
; INT 13h AX=4B01h specification packet and that the packet's LBA on the CD (read through
; DL = E0h) holds this very boot sector; the host attaches a real floppy starting with
; "REAL" as A:, which must answer as drive 01h until AX=4B00h ends the emulation. Runs on emu and QEMU (SeaBIOS).

%include "lib.inc"

cpu 386

tests:
        dw t_drive, n_drive
        dw t_chs, n_chs
        dw t_write, n_write
        dw t_spec, n_spec
        dw t_lba, n_lba
        dw t_type, n_type
        dw t_real, n_real
        dw 0

n_drive: db "booted with DL = 00h; AH=08h: 1.44 MB (BL = 04h, CX = 4F12h, DH = 01h)", 0
n_chs: db "AH=02h by CHS: sector 1 is the boot sector, C79/H1/S18 reads, C80 fails", 0
n_write: db "AH=03h write fails with AH = 03h (write protected)", 0
n_spec: db "AX=4B01h: packet 13h, media 2, drive 00h, controller 1/0, segment 07C0h, 1 sector", 0
n_lba: db "the packet's image LBA, read from the CD (DL = E0h, AH=42h), is this boot sector", 0
n_type: db "AH=15h: floppy with change line (AH = 01h or 02h)", 0
n_real: db "the real floppy (REAL...) is drive 01h; after AX=4B00h it is drive 00h again", 0

spec: times 0x13 db 0xCC
dap:
        db 16, 0
        dw 1
        dw 0, 0x1000
dap_lba: dq 0

t_drive:
        cmp byte [boot_drive], 0
        jne .fail
        mov ah, 0x08
        xor dl, dl
        xor bx, bx
        push es
        int 0x13
        pop es
        jc .fail
        cmp bl, 4
        jne .fail
        cmp cx, 0x4F12
        jne .fail
        cmp dh, 1
        jne .fail
        clc
        ret
.fail:
        stc
        ret

; Reads CHS CX (cyl/sector), DH head of drive 00h to 2000:0000; CF as INT 13h sets it.
read_chs:
        push es
        mov ax, 0x2000
        mov es, ax
        xor bx, bx
        xor dl, dl
        mov ax, 0x0201
        int 0x13
        pop es
        ret

t_chs:
        mov cx, 0x0001
        xor dh, dh
        call read_chs
        jc .fail
        push ds
        mov ax, 0x2000
        mov ds, ax
        xor si, si
        mov di, 0x7C00
        mov cx, 16                      ; the far jump and the start of the boot code
        repe cmpsb
        pop ds
        jne .fail
        mov cx, 0x4F12
        mov dh, 1
        call read_chs
        jc .fail
        mov cx, 0x5001
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
        xor dx, dx
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
        xor dl, dl
        mov si, spec
        int 0x13
        jc .fail
        cmp byte [spec], 0x13
        jne .fail
        cmp byte [spec + 1], 2          ; 1.44 MB floppy
        jne .fail
        cmp byte [spec + 2], 0
        jne .fail
        cmp byte [spec + 3], 1          ; secondary channel
        jne .fail
        cmp word [spec + 8], 0          ; master
        jne .fail
        cmp word [spec + 12], 0x07C0
        jne .fail
        cmp word [spec + 14], 1
        jne .fail
        cmp dword [spec + 4], 0
        je .fail
        clc
        ret
.fail:
        stc
        ret

t_lba:
        mov ax, 0x4B01
        xor dl, dl
        mov si, spec
        int 0x13
        jc .fail
        mov eax, [spec + 4]
        mov [dap_lba], eax
        mov ah, 0x42
        mov dl, 0xE0
        mov si, dap
        int 0x13
        jc .fail
        mov cx, 0x0001
        xor dh, dh
        call read_chs
        jc .fail
        push ds
        push es
        mov ax, 0x1000
        mov ds, ax
        mov ax, 0x2000
        mov es, ax
        xor si, si
        xor di, di
        mov cx, 512
        repe cmpsb
        pop es
        pop ds
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_type:
        mov ah, 0x15
        xor dl, dl
        int 0x13
        jc .fail
        cmp ah, 1
        je .ok
        cmp ah, 2
        jne .fail
.ok:
        clc
        ret
.fail:
        stc
        ret

; Reads sector 1 of drive DL to 2000:0000; ZF set if it starts with "REAL", CF on error.
read_real:
        push es
        mov ax, 0x2000
        mov es, ax
        xor bx, bx
        mov cx, 0x0001
        xor dh, dh
        mov ax, 0x0201
        int 0x13
        jc .out
        cmp dword [es:0], "REAL"
        clc
.out:
        pop es
        ret

t_real:
        mov dl, 1
        call read_real
        jc .fail
        jne .fail
        mov ax, 0x4B00
        xor dl, dl
        mov si, spec
        int 0x13
        jc .fail
        cmp byte [spec + 1], 2
        jne .fail
        xor dl, dl
        call read_real
        jc .fail
        jne .fail
        clc
        ret
.fail:
        stc
        ret
