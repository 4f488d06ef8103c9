; ATA PIO test guest: boots from a floppy with a hard disk on the primary master, drives the
; ATA registers itself and compares what it reads with the BIOS's INT 13h reads of the same
; sectors. Runs on emu, QEMU and Bochs (-debugcon / port 0xE9, isa-debug-exit at 0xF4).
;
; Buffers: 1000:0000 (INT 13h), 2000:0000 (ATA). The host checks afterwards that the sectors
; written through ATA (LBA 100 by WRITE SECTORS, 3000-3001 by WRITE SECTORS EXT, 3100-3105 by
; WRITE MULTIPLE EXT) reached the image file.
;
; The 48-bit tests run on the same small disk (4032 sectors), so the high address bytes are
; zero for the sectors in range; an address with them set must fail.

%include "lib.inc"

cpu 386

ATA equ 0x1F0
ATA_CTL equ 0x3F6
WRITE_LBA equ 100
WRITE48_LBA equ 3000
MULTI48_LBA equ 3100

tests:
        dw t_bda, n_bda
        dw t_identify, n_identify
        dw t_read_lba, n_read_lba
        dw t_read_chs, n_read_chs
        dw t_read_multiple, n_read_multiple
        dw t_irq, n_irq
        dw t_write, n_write
        dw t_no_device, n_no_device
        dw t_srst, n_srst
        dw t_tables, n_tables
        dw t_identify48, n_identify48
        dw t_hob, n_hob
        dw t_write_ext, n_write_ext
        dw t_multiple_ext, n_multiple_ext
        dw t_count0, n_count0
        dw t_range48, n_range48
        dw 0

n_bda: db "BIOS: one hard disk in the BDA and INT 13h AH=08h", 0
n_identify: db "IDENTIFY DEVICE: LBA capacity equals INT 13h AH=48h, LBA bit set", 0
n_read_lba: db "READ SECTORS (LBA28, 4 sectors, REP INSW) matches INT 13h", 0
n_read_chs: db "READ SECTORS (CHS 0/1/1) matches INT 13h", 0
n_read_multiple: db "SET MULTIPLE 4 + READ MULTIPLE (8 sectors, REP INSD) matches INT 13h", 0
n_irq: db "IRQ14 (INT 76h) announces the data of a READ SECTORS", 0
n_write: db "WRITE SECTORS then INT 13h AH=42h reads the same bytes back", 0
n_no_device: db "absent slave reads status 0, empty secondary channel reads FFh (or 00h)", 0
n_tables: db "INT 41h table heads/sectors match INT 13h AH=08h; CMOS 12h F0h, 19h 47", 0
n_srst: db "SRST: device 0 selected, signature 1/1/0/0, DRDY", 0
n_identify48: db "IDENTIFY: 48-bit feature set (words 83/86 bit 10), words 100-103 = INT 13h AH=48h", 0
n_hob: db "HOB: the register pairs read back the previous bytes; a register write clears HOB", 0
n_write_ext: db "WRITE SECTORS EXT (2 sectors) read back by READ SECTORS EXT and INT 13h AH=42h", 0
n_multiple_ext: db "WRITE MULTIPLE EXT (6 sectors, blocks of 4) read back by READ MULTIPLE EXT and INT 13h", 0
n_count0: db "READ SECTORS EXT count 0 (65536) 300 sectors before the end: 300 sectors, then ERR", 0
n_range48: db "READ SECTORS EXT at LBA 1_0000_0000h (past the end): ERR with IDNF (QEMU: ABRT), no DRQ", 0

; ---- helpers -------------------------------------------------------------------------------

; Waits until BSY clears; CF set on timeout. Returns the status in AL.
wait_ready:
        push ecx
        push dx
        mov dx, ATA + 7
        mov ecx, 1000000
.poll:
        in al, dx
        test al, 0x80
        jz .ok
        loop .poll, ecx
        stc
        jmp .out
.ok:
        clc
.out:
        pop dx
        pop ecx
        ret

; Waits for DRQ (CF set on timeout, error or no DRQ).
wait_drq:
        call wait_ready
        jc .out
        test al, 0x01
        jnz .bad
        test al, 0x08
        jnz .out                        ; CF is clear
.bad:
        stc
.out:
        ret

; Issues command AH for EBX = LBA, CL = count, on the master in LBA mode.
lba_command:
        push ax
        call wait_ready
        mov dx, ATA + 2
        mov al, cl
        out dx, al
        inc dx
        mov al, bl
        out dx, al
        inc dx
        mov al, bh
        out dx, al
        inc dx
        mov eax, ebx
        shr eax, 16
        out dx, al
        inc dx
        shr ax, 8
        and al, 0x0F
        or al, 0xE0
        out dx, al
        pop ax
        inc dx
        mov al, ah
        out dx, al
        ret

; Issues the 48-bit command AH for LBA DI:EBX (DI = bits 47-32), count CX, on the master:
; the high bytes first, then the low ones, as the register pairs want.
lba48_command:
        push ax
        call wait_ready
        mov dx, ATA + 2
        mov al, ch
        out dx, al                      ; count 15-8
        inc dx
        mov eax, ebx
        shr eax, 24
        out dx, al                      ; LBA 31-24
        inc dx
        mov ax, di
        out dx, al                      ; LBA 39-32
        inc dx
        mov al, ah
        out dx, al                      ; LBA 47-40
        mov dx, ATA + 2
        mov al, cl
        out dx, al                      ; count 7-0
        inc dx
        mov al, bl
        out dx, al                      ; LBA 7-0
        inc dx
        mov al, bh
        out dx, al                      ; LBA 15-8
        inc dx
        mov eax, ebx
        shr eax, 16
        out dx, al                      ; LBA 23-16
        inc dx
        mov al, 0x40                    ; LBA, device 0
        out dx, al
        pop ax
        inc dx
        mov al, ah
        out dx, al
        ret

; Fills CX bytes at 2000:0000 with the words (offset XOR AX).
fill_pattern:
        push es
        push di
        push bx
        mov bx, ax
        mov ax, 0x2000
        mov es, ax
        xor di, di
        shr cx, 1
        cld
.word:
        mov ax, di
        xor ax, bx
        stosw
        loop .word
        pop bx
        pop di
        pop es
        ret

; Moves SI blocks of CX words between the data port and 2000:0000 (DF clear): reads when
; AL = 0, writes otherwise. Waits for DRQ before each block; CF set on a timeout or error.
pio_blocks:
        push ds
        push es
        mov bx, 0x2000
        mov ds, bx
        mov es, bx
        xor di, di
        mov bx, cx
        mov ah, al
.block:
        call wait_drq
        jc .out
        mov cx, bx
        mov dx, ATA
        cld
        test ah, ah
        jnz .write
        rep insw
        jmp .next
.write:
        push si
        mov si, di
        rep outsw
        mov di, si
        pop si
.next:
        dec si
        jnz .block
        clc
.out:
        pop es
        pop ds
        ret

; INT 13h AH=42h: CX sectors from LBA EBX to 1000:0000. CF as returned.
int13_ext_read:
        mov [ext_packet + 2], cx
        mov [ext_packet + 8], ebx
        mov si, ext_packet
        mov ah, 0x42
        mov dl, 0x80
        int 0x13
        ret

ext_packet:
        db 16, 0
        dw 0
        dw 0, 0x1000
        dq 0

; INT 13h read: AL = count, CX/DH as for AH=02h, to 1000:0000. CF as returned.
int13_read:
        push es
        push bx
        mov bx, 0x1000
        mov es, bx
        xor bx, bx
        mov ah, 0x02
        mov dl, 0x80
        int 0x13
        pop bx
        pop es
        ret

; Reads CX words from the data port to 2000:0000.
ata_insw:
        push es
        push di
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov dx, ATA
        cld
        rep insw
        pop di
        pop es
        ret

; ---- tests ---------------------------------------------------------------------------------

t_bda:
        cmp byte [0x475], 1
        jne .fail
        mov ah, 0x08
        mov dl, 0x80
        int 0x13
        jc .fail
        cmp dl, 1
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_identify:
        mov al, 0x02                    ; nIEN: the polled tests run without interrupts
        mov dx, ATA_CTL
        out dx, al
        call wait_ready
        jc .fail
        mov dx, ATA + 6
        mov al, 0xA0
        out dx, al
        mov dx, ATA + 7
        mov al, 0xEC
        out dx, al
        call wait_drq
        jc .fail
        mov cx, 256
        call ata_insw
        mov si, edd_params
        mov word [si], 26
        mov ah, 0x48
        mov dl, 0x80
        int 0x13
        jc .fail
        mov dx, [si + 16]               ; total sectors (low dword)
        mov cx, [si + 18]
        push ds
        mov ax, 0x2000
        mov ds, ax
        mov ax, [120]                   ; word 60
        mov bx, [122]                   ; word 61
        mov si, [98]                    ; word 49
        pop ds
        cmp ax, dx
        jne .diag
        cmp bx, cx
        jne .fail
        test si, 0x0200
        jz .fail
        call wait_ready
        test al, 0x08                   ; all 512 bytes read: DRQ gone
        jnz .fail
        clc
        ret
.diag:
        push ax
        mov al, '#'
        out 0xE9, al
        pop ax
        call print_hex16                ; IDENTIFY words 60/61, INT 13h DX/CX
        mov ax, bx
        call print_hex16
        mov ax, dx
        call print_hex16
        mov ax, cx
        call print_hex16
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

edd_params: times 30 db 0

t_read_lba:
        mov al, 4
        mov cx, 0x0001                  ; cylinder 0, sector 1
        xor dh, dh
        call int13_read
        jc .fail
        mov ebx, 0
        mov cl, 4
        mov ah, 0x20
        call lba_command
        push es
        push di
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov si, 4
.sector:
        call wait_drq
        jc .fail_pop
        mov dx, ATA
        mov cx, 256
        cld
        rep insw
        dec si
        jnz .sector
        pop di
        pop es
        mov cx, 4 * 512
        jmp compare_buffers
.fail_pop:
        pop di
        pop es
.fail:
        stc
        ret

t_read_chs:
        mov al, 1
        mov cx, 0x0001
        mov dh, 1
        call int13_read
        jc .fail
        call wait_ready
        mov dx, ATA + 2
        mov al, 1
        out dx, al                      ; count
        inc dx
        out dx, al                      ; sector 1
        inc dx
        xor al, al
        out dx, al                      ; cylinder 0
        inc dx
        out dx, al
        inc dx
        mov al, 0xA1                    ; CHS, master, head 1
        out dx, al
        inc dx
        mov al, 0x20
        out dx, al
        call wait_drq
        jc .fail
        mov cx, 256
        call ata_insw
        mov cx, 512
        jmp compare_buffers
.fail:
        stc
        ret

t_read_multiple:
        mov al, 8
        mov cx, 0x0009                  ; LBA 8 = C0 H0 S9 under 16/63
        xor dh, dh
        call int13_read
        jc .fail
        call wait_ready
        mov dx, ATA + 2
        mov al, 4
        out dx, al
        mov dx, ATA + 7
        mov al, 0xC6
        out dx, al
        call wait_ready
        test al, 0x01
        jnz .fail
        mov ebx, 8
        mov cl, 8
        mov ah, 0xC4
        call lba_command
        push es
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov si, 2                       ; two blocks of 4 sectors
.block:
        call wait_drq
        jc .fail_pop
        mov dx, ATA
        mov cx, 4 * 128
        cld
        rep insd
        dec si
        jnz .block
        pop es
        call wait_ready
        test al, 0x09                   ; neither DRQ nor ERR at the end
        jnz .fail
        mov cx, 8 * 512
        jmp compare_buffers
.fail_pop:
        pop es
.fail:
        stc
        ret

irq_count: dw 0

irq14:
        push ax
        push dx
        mov dx, ATA + 7
        in al, dx                       ; acknowledges the device's interrupt
        inc word [cs:irq_count]
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop dx
        pop ax
        iret

t_irq:
        mov al, 1
        mov cx, 0x0006                  ; LBA 5
        xor dh, dh
        call int13_read
        jc .fail
        call wait_ready
        cli
        mov word [0x76 * 4], irq14
        mov word [0x76 * 4 + 2], 0
        in al, 0xA1
        and al, ~0x40
        out 0xA1, al
        in al, 0x21
        and al, ~0x04
        out 0x21, al
        mov word [irq_count], 0
        mov dx, ATA_CTL
        xor al, al                      ; interrupts on
        out dx, al
        sti
        mov ebx, 5
        mov cl, 1
        mov ah, 0x20
        call lba_command
        mov cx, 100
.wait:
        cmp word [irq_count], 0
        jne .got
        hlt
        loop .wait
        jmp .fail
.got:
        mov dx, ATA + 7
        in al, dx
        test al, 0x08
        jz .fail
        mov cx, 256
        call ata_insw
        mov al, 0x02
        mov dx, ATA_CTL
        out dx, al
        cmp word [irq_count], 1         ; no interrupt after the last sector of a read
        jne .fail
        mov cx, 512
        jmp compare_buffers
.fail:
        mov al, 0x02
        mov dx, ATA_CTL
        out dx, al
        stc
        ret

t_write:
        ; The pattern: byte i = i*7+3 at 2000:0000.
        push es
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov cx, 512
        mov al, 3
.fill:
        stosb
        add al, 7
        loop .fill
        pop es
        mov ebx, WRITE_LBA
        mov cl, 1
        mov ah, 0x30
        call lba_command
        call wait_drq
        jc .fail
        push ds
        mov ax, 0x2000
        mov ds, ax
        xor si, si
        mov dx, ATA
        mov cx, 256
        cld
        rep outsw
        pop ds
        call wait_ready
        test al, 0x09
        jnz .fail
        ; Read it back through the BIOS (EDD packet) into 1000:0000.
        mov si, packet
        mov ah, 0x42
        mov dl, 0x80
        int 0x13
        jc .fail
        mov cx, 512
        jmp compare_buffers
.fail:
        stc
        ret

packet:
        db 16, 0
        dw 1
        dw 0, 0x1000
        dq WRITE_LBA

t_no_device:
        call wait_ready
        mov dx, ATA + 6
        mov al, 0xB0                    ; device 1: not there
        out dx, al
        mov dx, ATA + 7
        in al, dx
        mov bl, al
        mov dx, ATA + 6
        mov al, 0xA0
        out dx, al
        mov dx, 0x177
        in al, dx
        mov ah, bl
        test ah, ah
        jnz .diag
        cmp al, 0xFF                    ; floating bus (emu)
        je .ok
        test al, al                     ; QEMU answers 00h for an empty channel
        jnz .diag
.ok:
        clc
        ret
.diag:
        push ax
        mov al, '#'
        out 0xE9, al
        pop ax
        call print_hex16
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

t_srst:
        mov dx, ATA + 6
        mov al, 0xA0
        out dx, al
        mov dx, ATA_CTL
        mov al, 0x06                    ; SRST, nIEN
        out dx, al
        mov cx, 100
.hold:
        in al, 0x80                     ; keep SRST up for a while
        loop .hold
        mov al, 0x02
        out dx, al
        call wait_ready
        jc .fail
        mov si, srst_regs
        mov [si + 5], al
        mov dx, ATA + 2
.collect:
        in al, dx
        mov [si], al
        inc si
        inc dx
        cmp dx, ATA + 7
        jne .collect
        mov si, srst_regs
        cmp word [si], 0x0101           ; count, sector
        jne .diag
        cmp word [si + 2], 0            ; cylinder
        jne .diag
        test byte [si + 4], 0x10        ; device 0 selected again
        jnz .diag
        test byte [si + 5], 0x40        ; DRDY
        jz .diag
        clc
        ret
.diag:
        mov al, '#'
        out 0xE9, al
        mov cx, 6
.show:
        lodsb
        call print_hex8
        loop .show
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

srst_regs: times 6 db 0

t_tables:
        mov ah, 0x08
        mov dl, 0x80
        int 0x13
        jc .fail
        inc dh                          ; heads
        and cl, 0x3F                    ; sectors per track
        push ds
        lds si, [0x41 * 4]
        mov al, [si + 2]
        mov ah, [si + 14]
        pop ds
        cmp al, dh
        jne .fail
        cmp ah, cl
        jne .fail
        mov al, 0x12
        out 0x70, al
        in al, 0x71
        cmp al, 0xF0
        jne .fail
        mov al, 0x19
        out 0x70, al
        in al, 0x71
        cmp al, 47
        jne .fail
        clc
        ret
.fail:
        stc
        ret

; ---- 48-bit addressing ---------------------------------------------------------------------

t_identify48:
        call wait_ready
        mov dx, ATA + 6
        mov al, 0xA0
        out dx, al
        mov dx, ATA + 7
        mov al, 0xEC
        out dx, al
        call wait_drq
        jc .fail
        mov cx, 256
        call ata_insw
        mov si, edd_params
        mov word [si], 26
        mov ah, 0x48
        mov dl, 0x80
        int 0x13
        jc .fail
        push ds
        mov ax, 0x2000
        mov ds, ax
        mov ax, [83 * 2]
        and ax, [86 * 2]
        mov ecx, [100 * 2]
        mov edx, [102 * 2]
        pop ds
        test ax, 0x0400
        jz .fail
        cmp ecx, [edd_params + 16]
        jne .fail
        cmp edx, [edd_params + 20]
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_hob:
        cld
        call wait_ready
        mov dx, ATA + 2
        mov si, hob_writes
.write:
        lodsb
        out dx, al                      ; previous byte
        lodsb
        out dx, al                      ; current byte
        inc dx
        cmp dx, ATA + 6
        jne .write
        mov di, hob_seen
        call .read4                     ; HOB clear: the current bytes
        mov dx, ATA_CTL
        mov al, 0x82                    ; HOB, nIEN
        out dx, al
        call .read4                     ; HOB set: the previous bytes
        mov dx, ATA + 3
        mov al, 0x11
        out dx, al                      ; clears HOB
        mov dx, ATA + 2
        in al, dx
        mov [di], al                    ; the current count again
        mov dx, ATA_CTL
        mov al, 0x02
        out dx, al
        mov si, hob_seen
        mov di, hob_want
        mov cx, 9
        repe cmpsb
        jne .diag
        clc
        ret
.read4:
        mov dx, ATA + 2
.read:
        in al, dx
        mov [di], al
        inc di
        inc dx
        cmp dx, ATA + 6
        jne .read
        ret
.diag:
        mov al, '#'
        out 0xE9, al
        mov si, hob_seen
        mov cx, 9
.show:
        lodsb
        call print_hex8
        loop .show
        mov al, 10
        out 0xE9, al
        stc
        ret

hob_writes: db 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0
hob_want: db 0x34, 0x78, 0xBC, 0xF0, 0x12, 0x56, 0x9A, 0xDE, 0x34
hob_seen: times 9 db 0

t_write_ext:
        mov cx, 2 * 512
        mov ax, 0x3CC3
        call fill_pattern
        mov ebx, WRITE48_LBA
        xor di, di
        mov cx, 2
        mov ah, 0x34
        call lba48_command
        mov si, 2
        mov cx, 256
        mov al, 1
        call pio_blocks
        jc .fail
        call wait_ready
        test al, 0x09
        jnz .fail
        ; Read back: READ SECTORS EXT into a cleared 2000:0000, INT 13h into 1000:0000.
        push es
        mov ax, 0x2000
        mov es, ax
        xor al, al
        mov cx, 2 * 512
        call fill_es
        pop es
        mov ebx, WRITE48_LBA
        xor di, di
        mov cx, 2
        mov ah, 0x24
        call lba48_command
        mov si, 2
        mov cx, 256
        xor al, al
        call pio_blocks
        jc .fail
        call wait_ready
        test al, 0x09
        jnz .fail
        mov ebx, WRITE48_LBA
        mov cx, 2
        call int13_ext_read
        jc .fail
        mov cx, 2 * 512
        jmp compare_buffers
.fail:
        stc
        ret

t_multiple_ext:
        call wait_ready
        mov dx, ATA + 2
        mov al, 4
        out dx, al
        mov dx, ATA + 7
        mov al, 0xC6                    ; SET MULTIPLE MODE 4
        out dx, al
        call wait_ready
        test al, 0x01
        jnz .fail
        mov cx, 6 * 512
        mov ax, 0xA55A
        call fill_pattern
        mov ebx, MULTI48_LBA
        xor di, di
        mov cx, 6
        mov ah, 0x39
        call lba48_command
        mov si, 1
        mov cx, 4 * 256
        mov al, 1
        call pio_blocks                 ; the first block: 4 sectors
        jc .fail
        ; pio_blocks restarts at 2000:0000; the second block (2 sectors) comes from 0800h.
        push ds
        mov ax, 0x2000
        mov ds, ax
        mov si, 4 * 512
        call wait_drq
        jc .fail_ds
        mov cx, 2 * 256
        mov dx, ATA
        cld
        rep outsw
        pop ds
        call wait_ready
        test al, 0x09
        jnz .fail
        mov ebx, MULTI48_LBA
        mov cx, 6
        call int13_ext_read
        jc .fail
        push es
        mov ax, 0x2000
        mov es, ax
        xor al, al
        mov cx, 6 * 512
        call fill_es
        xor di, di
        mov ebx, MULTI48_LBA
        mov cx, 6
        mov ah, 0x29
        call lba48_command
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov si, 2
        mov bx, 4 * 256                 ; words in the first block
.block:
        call wait_drq
        jc .fail_es
        mov cx, bx
        mov dx, ATA
        cld
        rep insw
        mov bx, 2 * 256
        dec si
        jnz .block
        pop es
        call wait_ready
        test al, 0x09
        jnz .fail
        mov cx, 6 * 512
        jmp compare_buffers
.fail_ds:
        pop ds
        stc
        ret
.fail_es:
        pop es
.fail:
        stc
        ret

t_count0:
        mov si, edd_params
        mov word [si], 26
        mov ah, 0x48
        mov dl, 0x80
        int 0x13
        jc .fail
        mov ebx, [edd_params + 16]
        sub ebx, 300
        xor di, di
        xor cx, cx                      ; 0: 65536 sectors
        mov ah, 0x24
        call lba48_command
        xor bp, bp                      ; sectors read
.sector:
        call wait_ready
        jc .fail
        test al, 0x01
        jnz .error
        test al, 0x08
        jz .diag                        ; finished without an error: count taken as 256?
        mov cx, 256
        call ata_insw
        inc bp
        cmp bp, 400
        jb .sector
        jmp .diag
.error:
        mov dx, ATA + 1
        in al, dx
        test al, 0x14                   ; IDNF (ABRT in QEMU)
        jz .diag
        cmp bp, 300
        jne .diag
        clc
        ret
.diag:
        mov al, '#'
        out 0xE9, al
        mov ax, bp
        call print_hex16
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

t_range48:
        mov ebx, 0
        mov di, 1                       ; LBA 1_0000_0000h
        mov cx, 1
        mov ah, 0x24
        call lba48_command
        call wait_ready
        jc .fail
        test al, 0x08
        jnz .fail                       ; no data
        test al, 0x01
        jz .fail
        mov dx, ATA + 1
        in al, dx
        test al, 0x14                   ; IDNF (ABRT in QEMU)
        jz .fail
        ; The drive still works afterwards: LBA 0 through the 48-bit command.
        xor ebx, ebx
        xor di, di
        mov cx, 1
        mov ah, 0x24
        call lba48_command
        call wait_drq
        jc .fail
        mov cx, 256
        call ata_insw
        clc
        ret
.fail:
        stc
        ret

times LOAD_SECTORS * 512 + 512 - ($ - $$) db 0
