; ATAPI CD-ROM test guest, booted from an ISO (El Torito, no emulation, the whole guest as
; the boot image). Checks the BIOS's INT 13h for the CD (DL = E0h, 2048-byte sectors) and
; drives the ATAPI device on the secondary channel itself (PACKET protocol), comparing its
; reads with INT 13h. Runs on emu and QEMU (-debugcon / port 0xE9, isa-debug-exit at 0xF4).

%define CD_BOOT
%include "lib.inc"

cpu 486

ATA2 equ 0x170
ATA2_CTL equ 0x376

tests:
        dw t_drive, n_drive
        dw t_int13_read, n_int13_read
        dw t_signature, n_signature
        dw t_identify, n_identify
        dw t_read10, n_read10
        dw t_inquiry_capacity, n_inquiry_capacity
        dw t_sense, n_sense
        dw 0

n_drive: db "booted with DL = E0h; INT 13h AH=41h/48h: EDD, 2048-byte sectors", 0
n_int13_read: db "INT 13h AH=42h reads the primary volume descriptor (CD001)", 0
n_signature: db "ATAPI signature 14h/EBh after SRST on the secondary channel", 0
n_identify: db "IDENTIFY PACKET DEVICE: ATAPI CD-ROM; IDENTIFY DEVICE aborts", 0
n_read10: db "PACKET READ(10) of LBA 16 matches INT 13h", 0
n_inquiry_capacity: db "INQUIRY type 05h; READ CAPACITY equals the INT 13h AH=48h sector count", 0
n_sense: db "an unknown packet fails; REQUEST SENSE gives 05h/20h", 0

edd: times 30 db 0
packet_dap:
        db 16, 0
        dw 1
        dw 0, 0x1000
        dq 16

; Waits until BSY clears on the secondary channel; AL = status, CF on timeout.
wait_ready:
        push ecx
        push dx
        mov dx, ATA2 + 7
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

; Sends the 12-byte packet at DS:SI with byte count limit BX; CF on failure.
send_packet:
        call wait_ready
        jc .out
        mov dx, ATA2 + 1
        xor al, al
        out dx, al                      ; features: PIO
        mov dx, ATA2 + 4
        mov al, bl
        out dx, al
        inc dx
        mov al, bh
        out dx, al
        mov dx, ATA2 + 7
        mov al, 0xA0
        out dx, al
        call wait_ready
        test al, 0x08
        jz .bad
        mov dx, ATA2 + 2
        in al, dx
        cmp al, 0x01                    ; interrupt reason: command out
        jne .bad
        mov dx, ATA2
        mov cx, 6
        cld
        rep outsw
        clc
        ret
.bad:
        stc
.out:
        ret

; Reads the data phase of a packet into 2000:0000; CX = bytes read. CF on error.
read_data_phase:
        push es
        mov ax, 0x2000
        mov es, ax
        xor di, di
.chunk:
        call wait_ready
        jc .fail
        test al, 0x01
        jnz .fail
        test al, 0x08
        jz .done
        mov dx, ATA2 + 4
        in al, dx
        mov cl, al
        inc dx
        in al, dx
        mov ch, al
        shr cx, 1
        mov dx, ATA2
        cld
        rep insw
        jmp .chunk
.done:
        mov cx, di
        pop es
        clc
        ret
.fail:
        pop es
        stc
        ret

t_drive:
        cmp byte [boot_drive], 0xE0
        jne .fail
        mov ah, 0x41
        mov bx, 0x55AA
        mov dl, 0xE0
        int 0x13
        jc .fail
        cmp bx, 0xAA55
        jne .fail
        mov si, edd
        mov word [si], 26
        mov ah, 0x48
        mov dl, 0xE0
        int 0x13
        jc .fail
        cmp word [edd + 24], 2048
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_int13_read:
        mov si, packet_dap
        mov ah, 0x42
        mov dl, 0xE0
        int 0x13
        jc .fail
        push ds
        mov ax, 0x1000
        mov ds, ax
        cmp dword [1], 0x30304443       ; "CD00"
        pop ds
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_signature:
        mov dx, ATA2 + 6
        mov al, 0xA0
        out dx, al
        mov dx, ATA2_CTL
        mov al, 0x06
        out dx, al
        mov cx, 100
.hold:
        in al, 0x80
        loop .hold
        mov al, 0x02
        out dx, al
        call wait_ready
        jc .fail
        mov dx, ATA2 + 4
        in al, dx
        cmp al, 0x14
        jne .fail
        inc dx
        in al, dx
        cmp al, 0xEB
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_identify:
        call wait_ready
        mov dx, ATA2 + 7
        mov al, 0xEC
        out dx, al
        call wait_ready
        test al, 0x01                   ; ERR: an ATAPI device refuses IDENTIFY DEVICE
        jz .fail
        mov al, 0xA1
        out dx, al
        call wait_ready
        test al, 0x08
        jz .fail
        push es
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov dx, ATA2
        mov cx, 256
        cld
        rep insw
        mov ax, [es:0]
        pop es
        and ax, 0xDF00
        cmp ax, 0x8500                  ; ATAPI, CD-ROM
        jne .fail
        clc
        ret
.fail:
        stc
        ret

read10: db 0x28, 0, 0, 0, 0, 16, 0, 0, 1, 0, 0, 0

t_read10:
        mov si, read10
        mov bx, 2048
        call send_packet
        jc .fail
        call read_data_phase
        jc .fail
        cmp cx, 2048
        jne .fail
        jmp compare_buffers             ; CX = 2048
.fail:
        stc
        ret

inquiry: db 0x12, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0
capacity: db 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

t_inquiry_capacity:
        mov si, inquiry
        mov bx, 36
        call send_packet
        jc .fail
        call read_data_phase
        jc .fail
        push es
        mov ax, 0x2000
        mov es, ax
        mov al, [es:0]
        pop es
        and al, 0x1F
        cmp al, 0x05
        jne .fail
        mov si, capacity
        mov bx, 8
        call send_packet
        jc .fail
        call read_data_phase
        jc .fail
        push es
        mov ax, 0x2000
        mov es, ax
        mov eax, [es:0]
        pop es
        bswap eax
        inc eax
        cmp eax, [edd + 16]
        je .ok
        cmp dword [edd + 16], -1        ; SeaBIOS: size unknown
        jne .diag
.ok:
        clc
        ret
.diag:
        push eax
        mov al, '#'
        out 0xE9, al
        pop eax
        call print_hex16
        mov ax, [edd + 16]
        call print_hex16
        mov ax, [edd + 18]
        call print_hex16
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

bogus: db 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
sense: db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0

t_sense:
        mov si, bogus
        mov bx, 2048
        call send_packet
        jc .fail
        call wait_ready
        test al, 0x01
        jz .fail
        mov si, sense
        mov bx, 18
        call send_packet
        jc .fail
        call read_data_phase
        jc .fail
        push es
        mov ax, 0x2000
        mov es, ax
        mov al, [es:2]
        mov ah, [es:12]
        pop es
        and al, 0x0F
        cmp ax, 0x2005
        jne .fail
        clc
        ret
.fail:
        stc
        ret

times LOAD_SECTORS * 512 + 512 - ($ - $$) db 0
