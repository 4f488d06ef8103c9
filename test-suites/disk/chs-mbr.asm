; A master boot record in the style of MS-DOS's: CHS only, no EDD. It moves itself to
; 0000:0600h, finds the active partition, reads the partition's first sector from the CHS
; address in its table entry (INT 13h AH=02h) to 0000:7C00h and jumps there with DL = the
; boot drive and DS:SI -> the entry. It boots only if the BIOS's geometry (INT 13h AH=08h)
; is the one the partitioning tool wrote the CHS fields for.
;
; tests/syslinux_hd.rs writes its first 440 bytes over an sfdisk-partitioned image
; (the partition table stays). Build: nasm -f bin -o chs-mbr.bin chs-mbr.asm

        bits 16
        org 0x600

start:
        cli
        xor ax, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ds, ax
        mov es, ax
        sti
        cld
        mov si, 0x7C00
        mov di, 0x600
        mov cx, 256
        rep movsw
        jmp 0:relocated

relocated:
        mov si, table
        mov cx, 4
.find:  cmp byte [si], 0x80
        je .found
        add si, 16
        loop .find
        mov si, msg_none
        jmp fail

.found: mov di, 3                       ; tries
.read:  mov bx, 0x7C00
        mov dh, [si + 1]                ; head
        mov cx, [si + 2]                ; sector, cylinder
        mov ax, 0x0201
        int 0x13
        jnc .loaded
        xor ax, ax                      ; reset and try again
        int 0x13
        dec di
        jnz .read
        mov si, msg_read
        jmp fail

.loaded:
        cmp word [0x7DFE], 0xAA55
        je .go
        mov si, msg_sig
        jmp fail
.go:    jmp 0:0x7C00

; Prints the string at SI and stops.
fail:   lodsb
        test al, al
        jz .stop
        mov ah, 0x0E
        mov bx, 7
        int 0x10
        jmp fail
.stop:  cli
        hlt
        jmp .stop

msg_none: db "CHS MBR: no active partition", 0
msg_read: db "CHS MBR: cannot read the boot sector", 0
msg_sig:  db "CHS MBR: no boot signature", 0

        times 440 - ($ - $$) db 0
        times 446 - ($ - $$) db 0
table:
        times 510 - ($ - $$) db 0
        dw 0xAA55
