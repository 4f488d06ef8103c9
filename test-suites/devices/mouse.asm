; PS/2 mouse test guest: the BIOS pointing-device services (INT 15h AH=C2h) and the IRQ12
; path to a far handler installed with C207h. Packets are made inside the 8042 with command
; D3h (write the auxiliary output buffer), so the guest needs no host input. Runs on emu
; and QEMU (-debugcon / port 0xE9, isa-debug-exit at 0xF4).

%include "lib.inc"

cpu 386

tests:
        dw t_init, n_init
        dw t_type, n_type
        dw t_rate_resolution, n_rate_resolution
        dw t_handler, n_handler
        dw t_packets, n_packets
        dw t_disable, n_disable
        dw 0

n_init: db "C205h initialise (3-byte packets), C201h reset answers AAh, id 0", 0
n_type: db "C204h device type 0", 0
n_rate_resolution: db "C202h/C203h set 100/s and 4 counts/mm; C206h status reads them back", 0
n_handler: db "C207h installs a handler, C200h enables the mouse", 0
n_packets: db "IRQ12 packets (8042 D3h) reach the handler as status, X, Y words", 0
n_disable: db "C200h disables reporting (C206h status bit 5 clear)", 0

calls: dw 0
got_status: dw 0
got_x: dw 0
got_y: dw 0
got_z: dw 0

; The far handler the BIOS calls: [bp+6] = Z, +8 = Y, +10 = X, +12 = status.
handler:
        push bp
        mov bp, sp
        push ax
        mov ax, [bp + 12]
        mov [cs:got_status], ax
        mov ax, [bp + 10]
        mov [cs:got_x], ax
        mov ax, [bp + 8]
        mov [cs:got_y], ax
        mov ax, [bp + 6]
        mov [cs:got_z], ax
        inc word [cs:calls]
        pop ax
        pop bp
        retf

; Puts AL into the 8042's auxiliary output buffer (as if the mouse had sent it).
aux_byte:
        push ax
.wait:
        in al, 0x64
        test al, 0x02
        jnz .wait
        mov al, 0xD3
        out 0x64, al
.wait2:
        in al, 0x64
        test al, 0x02
        jnz .wait2
        pop ax
        out 0x60, al
        ret

; Waits (with interrupts) until [calls] reaches BX or 20 timer ticks pass.
wait_calls:
        sti
        mov cx, 20
.wait:
        cmp [calls], bx
        jae .done
        hlt
        loop .wait
.done:
        ret

t_init:
        mov ax, 0xC205
        mov bh, 3
        int 0x15
        jc .fail
        mov ax, 0xC201
        int 0x15
        jc .fail
        cmp bx, 0x00AA
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_type:
        mov ax, 0xC204
        mov bh, 0xFF
        int 0x15
        jc .fail
        test bh, bh
        jnz .fail
        clc
        ret
.fail:
        stc
        ret

t_rate_resolution:
        mov ax, 0xC202
        mov bh, 5                       ; 100 reports/s
        int 0x15
        jc .fail
        mov ax, 0xC203
        mov bh, 2                       ; 4 counts/mm
        int 0x15
        jc .fail
        mov ax, 0xC206
        mov bh, 0
        int 0x15
        jc .fail
        cmp cl, 2
        jne .fail
        cmp dl, 100
        jne .fail
        clc
        ret
.fail:
        stc
        ret

t_handler:
        push es
        push cs
        pop es
        mov bx, handler
        mov ax, 0xC207
        int 0x15
        pop es
        jc .fail
        mov ax, 0xC200
        mov bh, 1
        int 0x15
        jc .fail
        clc
        ret
.fail:
        stc
        ret

t_packets:
        mov word [calls], 0
        mov al, 0x09                    ; left button, bit 3
        call aux_byte
        mov al, 0x05
        call aux_byte
        mov al, 0xFD
        call aux_byte
        mov al, 0x3A                    ; second packet: right button, X and Y negative
        call aux_byte
        mov al, 0xF0
        call aux_byte
        mov al, 0x10
        call aux_byte
        mov bx, 2
        call wait_calls
        cmp word [calls], 2
        jne .diag
        cmp byte [got_status], 0x3A
        jne .diag
        cmp byte [got_x], 0xF0
        jne .diag
        cmp byte [got_y], 0x10
        jne .diag
        cmp word [got_z], 0
        jne .diag
        clc
        ret
.diag:
        mov al, '#'
        out 0xE9, al
        mov ax, [calls]
        call print_hex16
        mov ax, [got_status]
        call print_hex16
        mov ax, [got_x]
        call print_hex16
        mov ax, [got_y]
        call print_hex16
        mov al, 10
        out 0xE9, al
        stc
        ret

t_disable:
        mov ax, 0xC200
        mov bh, 0
        int 0x15
        jc .fail
        ; With the device disabled, C206h still answers (reporting bit 5 clear).
        mov ax, 0xC206
        mov bh, 0
        int 0x15
        jc .fail
        test bl, 0x20
        jnz .fail
        clc
        ret
.fail:
        stc
        ret

times LOAD_SECTORS * 512 + 512 - ($ - $$) db 0
