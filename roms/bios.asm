; emu built-in BIOS: the ROM half. A 64 KiB image mapped at F0000 (and below 4 GiB).
;
; The services themselves are written in Rust (src/bios/): each one is reached through a
; 4-byte stub "out 0xE7, al / iret" (or "/ ret" for internal services) in the slot table at
; F000:E000. Writing port 0xE7 from inside the slot table hands control to the emulator,
; which finds the service from the stub's address, reads and writes the guest's registers
; and memory, and resumes at the IRET. Interrupt handlers that must run guest-visible code
; (the timer tick calling INT 1Ch, EOIs) are written here in assembly.
;
; Slots: 0x000-0x0FF are INT n services (slot = vector), 0x100 is POST, 0x101 the keyboard
; scancode service called by the IRQ1 handler.
;
; Build: nasm -f bin -o roms/bios.bin roms/bios.asm

        bits 16
        cpu 386
        org 0

SLOTS       equ 0xE000
SLOT_POST   equ 0x100
SLOT_KEY    equ 0x101

; ---- interrupt handlers in assembly ------------------------------------------------------
        times 0x100 db 0

; IRQ0: BDA tick count (with midnight rollover), the user hook INT 1Ch, EOI.
int08:
        push ds
        push ax
        mov ax, 0x40
        mov ds, ax
        add word [0x6C], 1
        adc word [0x6E], 0
        cmp word [0x6E], 0x18
        jb .hook
        cmp word [0x6C], 0xB0
        jb .hook
        mov word [0x6C], 0
        mov word [0x6E], 0
        mov byte [0x70], 1
.hook:  int 0x1C
        cli
        mov al, 0x20
        out 0x20, al
        pop ax
        pop ds
        iret

; IRQ1: hand the scancode to the keyboard service, EOI.
int09:
        push ax
        in al, 0x60
        call SLOTS + 4 * SLOT_KEY
        cli
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

; Other master IRQs (2-7): acknowledge and return.
irq_master:
        push ax
        mov al, 0x20
        out 0x20, al
        pop ax
        iret

; Slave IRQs (8-15): acknowledge both controllers.
irq_slave:
        push ax
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        iret

; IRQ13, the FPU error line (FERR#): clear the latch (port F0h), EOI both controllers,
; then INT 02h, where PC/AT software expects coprocessor errors.
int75:
        push ax
        xor al, al
        out 0xF0, al
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ax
        int 0x02
        iret

; Vectors with nothing behind them.
dummy_iret:
        iret

%include "bios-mouse.inc"

; The diskette parameter table (INT 1Eh) for 1.44 MB drives.
        align 16
diskette_params:
        db 0xAF, 0x02, 0x25, 0x02, 18, 0x1B, 0xFF, 0x6C, 0xF6, 0x0F, 0x08

; The configuration table INT 15h AH=C0h returns.
        align 16
config_table:
        dw 8                    ; bytes that follow
        db 0xFC, 0x01, 0x00     ; model AT, submodel, revision
        db 0x74                 ; feature 1: 2nd PIC, RTC, INT 15h/4Fh, EBDA
        db 0x40, 0, 0, 0        ; feature 2: INT 16h/09h

; The addresses the Rust side needs, at the fixed offset F000:DF00.
        times 0xDF00 - ($ - $$) db 0
handler_table:
        dw int08, int09, irq_master, irq_slave, dummy_iret, diskette_params, config_table, int74
        dw int75

; ---- the slot table --------------------------------------------------------------------
        times SLOTS - ($ - $$) db 0
%assign s 0
%rep 0x100
        out 0xE7, al
        iret
        nop
  %assign s s + 1
%endrep
; Internal services, called with CALL from the handlers above.
%rep 0x10
        out 0xE7, al
        ret
        nop
%endrep

; ---- reset ----------------------------------------------------------------------------
        times 0xFFF0 - ($ - $$) db 0
        jmp 0xF000:SLOTS + 4 * SLOT_POST
        db "emu BIOS"
        times 0xFFFE - ($ - $$) db 0
        db 0xFC                 ; model byte: AT
        db 0
