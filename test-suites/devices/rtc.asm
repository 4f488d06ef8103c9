; RTC interrupt test guest: INT 15h AH=86h/83h waits measured against the BIOS timer tick
; (IRQ0, 18.2 Hz), and the guest's own IRQ8 handler for the periodic, update-ended and
; alarm interrupts. Runs on emu and QEMU (-debugcon / port 0xE9, isa-debug-exit at 0xF4).

%include "lib.inc"

cpu 386

TICKS equ 0x46C

tests:
        dw t_wait, n_wait
        dw t_event_wait, n_event_wait
        dw t_periodic, n_periodic
        dw t_update, n_update
        dw t_alarm, n_alarm
        dw 0

n_wait: db "INT 15h AH=86h waits 1 s (17-19 timer ticks)", 0
n_event_wait: db "INT 15h AH=83h sets the flag byte after 200 ms (3-5 ticks)", 0
n_periodic: db "periodic IRQ8 at 1024 Hz: 540-580 interrupts in 10 ticks", 0
n_update: db "update-ended IRQ8: 3 interrupts 35-38 ticks apart (2 s)", 0
n_alarm: db "alarm IRQ8 two seconds ahead comes after 18-38 ticks", 0

irq8_count: dw 0
irq8_c: db 0
event_flag: db 0

; Waits for the next timer tick; returns the tick count in EAX.
next_tick:
        sti
        mov eax, [TICKS]
.wait:
        hlt
        cmp eax, [TICKS]
        je .wait
        mov eax, [TICKS]
        ret

; Reads CMOS register AL into AL.
cmos_read:
        out 0x70, al
        in al, 0x71
        ret

; Writes AH to CMOS register AL.
cmos_write:
        out 0x70, al
        mov al, ah
        out 0x71, al
        ret

; Our IRQ8 handler: counts, keeps the flags of register C.
irq8:
        push ax
        mov al, 0x0C
        out 0x70, al
        in al, 0x71
        or [cs:irq8_c], al
        inc word [cs:irq8_count]
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        iret

saved70: dd 0

hook_irq8:
        cli
        mov eax, [0x70 * 4]
        mov [saved70], eax
        mov word [0x70 * 4], irq8
        mov word [0x70 * 4 + 2], 0
        in al, 0xA1
        and al, ~0x01
        out 0xA1, al
        mov word [irq8_count], 0
        mov byte [irq8_c], 0
        sti
        ret

; Turns the RTC interrupts off and gives INT 70h back to the BIOS.
unhook_irq8:
        cli
        mov al, 0x0B
        call cmos_read
        and al, 0x8F
        mov ah, al
        mov al, 0x0B
        call cmos_write
        mov al, 0x0C
        call cmos_read
        mov eax, [saved70]
        mov [0x70 * 4], eax
        sti
        ret

; CF set unless lo <= EAX <= hi (BX = lo, DX = hi).
in_range:
        cmp ax, bx
        jb .bad
        cmp ax, dx
        ja .bad
        clc
        ret
.bad:
        push ax
        mov al, '#'
        out 0xE9, al
        pop ax
        call print_hex16
        mov al, 10
        out 0xE9, al
        stc
        ret

; ---- tests ---------------------------------------------------------------------------------

t_wait:
        call next_tick
        mov esi, eax
        mov ah, 0x86
        mov cx, 0x000F
        mov dx, 0x4240                  ; 1,000,000 us
        int 0x15
        jc .fail
        mov eax, [TICKS]
        sub eax, esi
        mov bx, 17
        mov dx, 19
        jmp in_range
.fail:
        stc
        ret

t_event_wait:
        call next_tick
        mov esi, eax
        mov byte [event_flag], 0
        mov ax, 0x8300
        mov cx, 0x0003
        mov dx, 0x0D40                  ; 200,000 us
        mov bx, event_flag
        int 0x15
        jc .fail
        mov ecx, 100                    ; ticks at most
.wait:
        test byte [event_flag], 0x80
        jnz .done
        hlt
        jmp .wait
.done:
        mov eax, [TICKS]
        sub eax, esi
        mov bx, 3
        mov dx, 5
        jmp in_range
.fail:
        stc
        ret

t_periodic:
        call hook_irq8
        mov ax, 0x260A                  ; register A: 32.768 kHz, rate 6 (1024 Hz)
        call cmos_write
        mov al, 0x0B
        call cmos_read
        or al, 0x40
        mov ah, al
        mov al, 0x0B
        call cmos_write
        call next_tick
        mov esi, eax
        mov word [irq8_count], 0
.wait:
        hlt
        mov eax, [TICKS]
        sub eax, esi
        cmp eax, 10
        jb .wait
        mov di, [irq8_count]
        call unhook_irq8
        test byte [irq8_c], 0x40        ; PF seen
        jz .fail
        mov ax, di
        mov bx, 540
        mov dx, 580
        jmp in_range
.fail:
        stc
        ret

t_update:
        call hook_irq8
        mov al, 0x0B
        call cmos_read
        or al, 0x10
        mov ah, al
        mov al, 0x0B
        call cmos_write
.first:
        hlt
        cmp word [irq8_count], 1
        jb .first
        mov esi, [TICKS]
.third:
        hlt
        cmp word [irq8_count], 3
        jb .third
        mov edi, [TICKS]
        call unhook_irq8
        test byte [irq8_c], 0x10        ; UF seen
        jz .fail
        mov eax, edi
        sub eax, esi
        mov bx, 35
        mov dx, 38
        jmp in_range
.fail:
        stc
        ret

t_alarm:
        call hook_irq8
        ; Seconds now (BCD, as the BIOS sets the clock up) plus two, wrapping at 60.
.uip:
        mov al, 0x0A
        call cmos_read
        test al, 0x80
        jnz .uip
        xor al, al
        call cmos_read
        add al, 2
        daa
        cmp al, 0x60
        jb .set
        sub al, 0x60
.set:
        mov ah, al
        mov al, 0x01
        call cmos_write
        mov ax, 0xFF03                  ; any minute
        call cmos_write
        mov ax, 0xFF05                  ; any hour
        call cmos_write
        mov al, 0x0C
        call cmos_read                  ; forget old flags
        mov byte [irq8_c], 0
        mov al, 0x0B
        call cmos_read
        or al, 0x20
        mov ah, al
        mov al, 0x0B
        call cmos_write
        call next_tick
        mov esi, eax
.wait:
        hlt
        test byte [irq8_c], 0x20
        jnz .got
        mov eax, [TICKS]
        sub eax, esi
        cmp eax, 60
        jb .wait
.got:
        mov edi, [TICKS]
        call unhook_irq8
        mov eax, edi
        sub eax, esi
        mov bx, 18
        mov dx, 38
        jmp in_range

times LOAD_SECTORS * 512 + 512 - ($ - $$) db 0
