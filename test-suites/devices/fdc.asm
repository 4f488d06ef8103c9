; Floppy controller + DMA test guest: boots from drive A: and drives the 82077AA and the
; 8237A itself (DMA channel 2, IRQ6), comparing what it reads with the BIOS's INT 13h reads
; of the same sectors. Runs on emu and QEMU (-debugcon / port 0xE9, isa-debug-exit at 0xF4).
;
; Buffers: 1000:0000 (INT 13h), 2000:0000 (FDC). The host checks afterwards that the sector
; written through the FDC (cylinder 2, head 1, sector 5) reached the image file.

%include "lib.inc"

cpu 386

FDC_DOR equ 0x3F2
FDC_MSR equ 0x3F4
FDC_DATA equ 0x3F5

tests:
        dw t_reset, n_reset
        dw t_version, n_version
        dw t_recalibrate, n_recalibrate
        dw t_seek, n_seek
        dw t_read, n_read
        dw t_write, n_write
        dw t_read_id, n_read_id
        dw t_dumpreg, n_dumpreg
        dw t_invalid, n_invalid
        dw 0

n_reset: db "DOR reset: IRQ6, four SENSE INTERRUPT polling statuses C0h-C3h", 0
n_version: db "VERSION reports 90h (82077AA)", 0
n_recalibrate: db "RECALIBRATE: IRQ6, ST0 20h, cylinder 0", 0
n_seek: db "SEEK to cylinder 2: IRQ6, ST0 20h, cylinder 2", 0
n_read: db "READ DATA multi-track (36 sectors by DMA) matches INT 13h; result C3 H0 R1", 0
n_write: db "WRITE DATA by DMA, then INT 13h reads the same bytes back", 0
n_read_id: db "READ ID on cylinder 2 head 1", 0
n_dumpreg: db "DUMPREG shows PCN 2 and the SPECIFY step rate", 0
n_invalid: db "an invalid command answers 80h", 0

irq_flag: db 0
results: times 16 db 0

; Our IRQ6 handler also sets the BDA's "interrupt occurred" bit (40:3Eh bit 7), as the
; BIOS's own handler does, so INT 13h keeps working on BIOSes that drive the FDC.
irq6:
        mov byte [cs:irq_flag], 1
        or byte [cs:0x43E], 0x80
        push ax
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

; Sends AL to the controller (CF set on timeout).
fdc_out:
        push cx
        push dx
        push ax
        mov dx, FDC_MSR
        mov cx, 0xFFFF
.poll:
        in al, dx
        and al, 0xC0
        cmp al, 0x80
        je .send
        loop .poll
        pop ax
        stc
        jmp .out
.send:
        pop ax
        mov dx, FDC_DATA
        out dx, al
        clc
.out:
        pop dx
        pop cx
        ret

; Reads result bytes into `results` until the controller stops offering them; CX = count.
fdc_results:
        push dx
        push di
        mov di, results
        xor cx, cx
.next:
        mov dx, FDC_MSR
        push cx
        mov cx, 0xFFFF
.poll:
        in al, dx
        and al, 0xD0
        cmp al, 0xD0                    ; RQM, DIO, busy: a result byte
        je .byte
        cmp al, 0x80                    ; idle: no more
        je .end
        loop .poll
.end:
        pop cx
        pop di
        pop dx
        ret
.byte:
        pop cx
        mov dx, FDC_DATA
        in al, dx
        mov [di], al
        inc di
        inc cx
        cmp cx, 16
        jb .next
        pop di
        pop dx
        ret

; Prints the last results (CX bytes) as a diagnostic line; returns CF set.
show_results:
        mov si, results
        mov al, '#'
        out 0xE9, al
.next:
        jcxz .done
        lodsb
        call print_hex8
        dec cx
        jmp .next
.done:
        mov al, 10
        out 0xE9, al
        stc
        ret

; Waits for IRQ6 (CF set when it does not come).
wait_irq:
        push cx
        mov cx, 200
.wait:
        cmp byte [irq_flag], 0
        jne .got
        sti
        hlt
        loop .wait
        pop cx
        stc
        ret
.got:
        mov byte [irq_flag], 0
        pop cx
        clc
        ret

; SENSE INTERRUPT STATUS: AL = ST0, AH = PCN.
sense:
        mov al, 0x08
        call fdc_out
        call fdc_results
        mov al, [results]
        mov ah, [results + 1]
        ret

; DMA channel 2: AL = mode, BX = offset in page 2 (physical 0x2xxxx), CX = bytes.
dma_setup:
        push ax
        mov al, 0x06
        out 0x0A, al                    ; mask channel 2
        out 0x0C, al                    ; clear the flip-flop
        pop ax
        out 0x0B, al
        mov al, bl
        out 0x04, al
        mov al, bh
        out 0x04, al
        mov al, 0x02
        out 0x81, al
        dec cx
        mov al, cl
        out 0x05, al
        mov al, ch
        out 0x05, al
        mov al, 0x02
        out 0x0A, al                    ; unmask
        ret

; Sends the CX command bytes at DS:SI (forgetting interrupts seen before, such as the
; BIOS's own during INT 13h).
send_command:
        mov byte [irq_flag], 0
.next:
        lodsb
        call fdc_out
        jc .out
        loop .next
.out:
        ret

; INT 13h read of 18 sectors at CH = cylinder, DH = head to 1000:BX.
int13_track:
        push es
        mov ax, 0x1000
        mov es, ax
        mov ax, 0x0212
        mov cl, 1
        mov dl, 0
        int 0x13
        pop es
        ret

; ---- tests ---------------------------------------------------------------------------------

t_reset:
        cli
        mov word [0x0E * 4], irq6
        mov word [0x0E * 4 + 2], 0
        in al, 0x21
        and al, ~0x40
        out 0x21, al
        mov byte [irq_flag], 0
        sti
        mov dx, FDC_DOR
        mov al, 0x08                    ; reset, DMA/IRQ gate on
        out dx, al
        mov cx, 20
.hold:
        in al, 0x80
        loop .hold
        mov al, 0x1C                    ; out of reset, motor A on, drive 0
        out dx, al
        call wait_irq
        jc .fail
        mov bl, 0xC0
.sense:
        call sense
        cmp al, bl
        jne .fail
        inc bl
        cmp bl, 0xC4
        jne .sense
        ; SPECIFY: step rate, head unload/load, DMA mode.
        mov si, specify
        mov cx, 3
        call send_command
        clc
        ret
.fail:
        stc
        ret

specify: db 0x03, 0xDF, 0x02

t_version:
        mov al, 0x10
        call fdc_out
        call fdc_results
        cmp cx, 1
        jne .fail
        cmp byte [results], 0x90
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_recalibrate:
        mov si, recalibrate
        mov cx, 2
        call send_command
        call wait_irq
        jc .fail
        call sense
        cmp ax, 0x0020
        jne .fail
        clc
        ret
.fail:
        stc
        ret

recalibrate: db 0x07, 0x00

t_seek:
        mov si, seek
        mov cx, 3
        call send_command
        call wait_irq
        jc .fail
        call sense
        cmp ax, 0x0220
        jne .fail
        clc
        ret
.fail:
        stc
        ret

seek: db 0x0F, 0x00, 2

t_read:
        mov ch, 2
        xor dh, dh
        xor bx, bx
        call int13_track
        jc .fail
        mov ch, 2
        mov dh, 1
        mov bx, 18 * 512
        call int13_track
        jc .fail
        mov dx, FDC_DOR
        mov al, 0x1C
        out dx, al
        mov al, 0x46                    ; single, write to memory, channel 2
        xor bx, bx
        mov cx, 36 * 512
        call dma_setup
        mov si, read_cmd
        mov cx, 9
        call send_command
        call wait_irq
        jc .fail
        call fdc_results
        cmp cx, 7
        jne .fail
        mov si, results
        test byte [si], 0xC0            ; normal termination
        jnz .diag
        cmp word [si + 3], 0x0003       ; C = 3, H = 0
        jne .diag
        cmp word [si + 5], 0x0201       ; R = 1, N = 2
        jne .diag
        mov cx, 36 * 512
        jmp compare_buffers
.diag:
        mov al, '#'
        out 0xE9, al
        mov cx, 7
.show:
        lodsb
        call print_hex8
        loop .show
        mov al, 10
        out 0xE9, al
.fail:
        stc
        ret

; READ DATA, MT + MFM: drive 0 head 0, C2 H0 R1 N2, EOT 18, GPL 1Bh, DTL FFh.
read_cmd: db 0xC6, 0x00, 2, 0, 1, 2, 18, 0x1B, 0xFF

t_write:
        push es
        mov ax, 0x2000
        mov es, ax
        xor di, di
        mov cx, 512
        mov al, 0x11
.fill:
        stosb
        add al, 13
        loop .fill
        pop es
        mov al, 0x4A                    ; single, read from memory, channel 2
        xor bx, bx
        mov cx, 512
        call dma_setup
        mov si, write_cmd
        mov cx, 9
        call send_command
        call wait_irq
        jc .fail
        call fdc_results
        cmp cx, 7
        jne .fail
        test byte [results], 0xC0
        jnz .fail
        ; Read it back through the BIOS.
        push es
        mov ax, 0x1000
        mov es, ax
        xor bx, bx
        mov ax, 0x0201
        mov cx, 0x0205
        mov dx, 0x0100
        int 0x13
        pop es
        jc .fail
        mov cx, 512
        jmp compare_buffers
.fail:
        stc
        ret

; WRITE DATA, MFM: drive 0 head 1, C2 H1 R5 N2, EOT 18.
write_cmd: db 0x45, 0x04, 2, 1, 5, 2, 18, 0x1B, 0xFF

; Seeks drive 0 to cylinder 2 again (QEMU moves the head along with a multi-track read;
; the BIOS's INT 13h may seek too). CF set on failure.
seek2:
        mov si, seek
        mov cx, 3
        call send_command
        call wait_irq
        jc .out
        call sense
        cmp ax, 0x0220
        je .out
        stc
.out:
        ret

t_read_id:
        call seek2
        jc .fail
        mov byte [irq_flag], 0
        mov al, 0x4A
        call fdc_out
        mov al, 0x04
        call fdc_out
        call wait_irq
        jc .fail
        call fdc_results
        cmp cx, 7
        jne .diag
        test byte [results], 0xC0
        jnz .diag
        cmp word [results + 3], 0x0102  ; C = 2, H = 1
        jne .diag
        cmp byte [results + 6], 2
        jne .diag
        clc
        ret
.diag:
        jmp show_results
.fail:
        stc
        ret

t_dumpreg:
        mov si, specify                 ; the BIOS may have specified its own timings
        mov cx, 3
        call send_command
        call seek2
        jc .fail
        mov al, 0x0E
        call fdc_out
        call fdc_results
        cmp cx, 10
        jne .diag
        cmp byte [results], 2
        jne .diag
        mov al, [results + 4]
        cmp al, 0xDF                    ; SRT/HUT as the datasheet dumps them
        je .ok
        cmp al, 0x0D                    ; QEMU dumps SRT alone
        jne .diag
.ok:
        clc
        ret
.diag:
        jmp show_results
.fail:
        stc
        ret

t_invalid:
        mov al, 0x1F
        call fdc_out
        call fdc_results
        cmp cx, 1
        jne .fail
        cmp byte [results], 0x80
        jne .fail
        clc
        ret
.fail:
        stc
        ret

times LOAD_SECTORS * 512 + 512 - ($ - $$) db 0
