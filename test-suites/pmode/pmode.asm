; emu protected-mode test ROM: a 64 KiB firmware image that enters protected mode with
; paging and checks, one test at a time, the rules the CPU enforces in software: ring
; transitions, every gate kind, segment type/limit checks, the TSS I/O bitmap, page faults,
; task switches both ways (CALL/IRET, JMP through a task gate, INT through a task gate),
; virtual-8086 mode with and without VME, PVI, double faults, single-step and debug
; registers.
;
; Output is TAP on the debug console (port 0xE9): "ok N - name" / "not ok N - name: why",
; then the plan "1..N". The run ends by writing the number of failures to port 0xF4
; (isa-debug-exit), so the emulator exits with (failures << 1) | 1.
;
; Build: nasm -f bin -o pmode.bin pmode.asm
; Run:   emu boot --bios pmode.bin

        cpu 686
ROMBASE equ 0xF0000
        org ROMBASE

%define LIN(x) ((x) - $$ + ROMBASE)     ; a label as a plain number (for shifts)
%define OFS(x) ((x) - $$)               ; a label as an offset in segment F000

; ---- memory map (RAM) ---------------------------------------------------------------
EXC_VEC     equ 0x500       ; what the generic exception handler saw last
EXC_ERR     equ 0x504
EXC_EIP     equ 0x508
EXC_CS      equ 0x50C
EXC_FLAGS   equ 0x510
EXC_ESP     equ 0x514       ; the frame continues: ESP, SS, ES, DS (V86 and ring changes)
EXC_SS      equ 0x518
EXC_ES      equ 0x51C
EXC_DS      equ 0x520
RECOVER_EIP equ 0x524       ; where the handler resumes (far pointer) and with which ESP
RECOVER_CS  equ 0x528
RECOVER_ESP equ 0x52C
TESTNUM     equ 0x530
FAILS       equ 0x534
DEFAULT_ESP equ 0x538
DB_COUNT    equ 0x53C
DB_DR6      equ 0x540
DB_EIP      equ 0x544
INT42_COUNT equ 0x548
CUR_NAME    equ 0x54C
R0          equ 0x600       ; result slots R0 + 4*i

GDT         equ 0x1000
IDT         equ 0x1800
TSS0        equ 0x2000      ; the main task; I/O bitmap at +0x88, redirection map at +0x68
IOMAP       equ TSS0 + 0x88
TSS_B       equ 0x4100      ; 32-bit task
TSS_C       equ 0x4200      ; 16-bit task
TSS_D       equ 0x4300      ; 32-bit task entered through an IDT task gate
PD          equ 0x5000
PT          equ 0x6000
TESTPAGE    equ 0x10000     ; the page the paging tests remap (the page below is free)
KSTACK      equ 0x8000      ; main ring-0 stack
KSTACK0     equ 0x9000      ; TSS ESP0: the stack for entries from ring 3 and V86
USTACK      equ 0xA000
BSTACK      equ 0xB000
CSTACK      equ 0xB800
DSTACK      equ 0xC000
V86STACK    equ 0xE000

; ---- selectors ------------------------------------------------------------------------
SEL_CODE0   equ 0x08
SEL_DATA0   equ 0x10
SEL_CODE3   equ 0x18
SEL_DATA3   equ 0x20
SEL_TSS0    equ 0x28
SEL_TSSB    equ 0x30
SEL_TSSC    equ 0x38
SEL_TSSD    equ 0x40
SEL_CGATE   equ 0x48
SEL_TGATE   equ 0x50
SEL_RODATA  equ 0x58
SEL_XCODE   equ 0x60
SEL_SMALL   equ 0x68
SEL_CODE16  equ 0x70
SEL_DATA16  equ 0x78

EFL_TF      equ 0x100
EFL_IF      equ 0x200
EFL_IOPL3   equ 0x3000
EFL_NT      equ 0x4000
EFL_RF      equ 0x10000
EFL_VM      equ 0x20000
EFL_VIF     equ 0x80000
EFL_VIP     equ 0x100000

; ---- test helpers -----------------------------------------------------------------------
%assign NTESTS 0
%macro TEST 2                   ; routine, "name"
  %assign NTESTS NTESTS + 1
        mov esi, %%name
        mov edi, %1
        call run_test
        jmp %%next
%%name: db %2, 0
%%next:
%endmacro

; Fails the current test (EAX = address of the check, see `nasm -l`) unless the
; condition holds.
%macro ASSERT 1
        j%+1 %%ok
        mov eax, $
        ret
%%ok:
%endmacro

; Arms the exception handler to resume at %1 with the current ESP.
%macro TRY 1
        mov dword [EXC_VEC], 0xFFFFFFFF
        mov [RECOVER_ESP], esp
        mov dword [RECOVER_EIP], %1
%endmacro

; After a TRY resumed: the exception must be vector %1 with error code %2. Re-arms the
; default handler (an unexpected exception fails the test).
%macro EXPECT 2
        mov dword [RECOVER_EIP], run_test.unexpected
        push eax
        mov eax, [DEFAULT_ESP]
        mov [RECOVER_ESP], eax
        pop eax
        cmp dword [EXC_VEC], %1
        ASSERT e
        cmp dword [EXC_ERR], %2
        ASSERT e
%endmacro

; IRETD to ring 3 (IOPL from %1) right after the macro, with ring-3 data segments.
%macro TO_RING3 1
        push dword SEL_DATA3 | 3
        push dword USTACK
        push dword 0x2 | %1
        push dword SEL_CODE3 | 3
        push dword %%user
        iretd
%%user: mov ax, SEL_DATA3 | 3
        mov ds, ax
        mov es, ax
%endmacro

; IRETD into V86 mode at F000:%1 with EFLAGS %2 (VM is added), DS = ES = 0.
%macro TO_V86 2
        push dword 0            ; GS
        push dword 0            ; FS
        push dword 0            ; DS
        push dword 0            ; ES
        push dword 0            ; SS
        push dword V86STACK     ; ESP
        push dword EFL_VM | 0x2 | %2
        push dword 0xF000
        push dword OFS(%1)
        iretd
%endmacro

; =========================================================================================
        bits 16
start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        o32 lgdt [cs:OFS(gdtr_rom)]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword SEL_CODE0:pm_start

        bits 32
pm_start:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, KSTACK
        cld
        ; GDT into RAM (busy bits are written), then reload.
        mov esi, gdt_rom
        mov edi, GDT
        mov ecx, (gdt_rom_end - gdt_rom) / 4
        rep movsd
        mov word [0x400], gdt_rom_end - gdt_rom - 1
        mov dword [0x402], GDT
        lgdt [0x400]
        mov word [0x408], 256 * 8 - 1
        mov dword [0x40A], IDT
        lidt [0x408]
        ; Main TSS: ring-0 stack, CR3 (not saved by switches), I/O bitmap.
        mov dword [TSS0 + 4], KSTACK0
        mov dword [TSS0 + 8], SEL_DATA0
        mov dword [TSS0 + 0x1C], PD
        mov word [TSS0 + 0x66], 0x88
        mov edi, IOMAP
        mov ecx, 8192 / 4
        mov eax, 0xFFFFFFFF
        rep stosd
        mov byte [IOMAP + 0x2000], 0xFF
        mov byte [IOMAP + 0x80 / 8], 0xFC       ; ports 0x80, 0x81 allowed
        mov byte [IOMAP + 0xE9 / 8], 0xFD       ; port 0xE9 allowed
        mov ax, SEL_TSS0
        ltr ax
        ; Identity-map the first 4 MiB with user, writable pages.
        mov dword [PD], PT | 7
        mov edi, PT
        mov eax, 7
.map:   stosd
        add eax, 0x1000
        cmp edi, PT + 4096
        jb .map
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        mov dword [TESTNUM], 0
        mov dword [FAILS], 0

        TEST t_ring3_iret_and_int_gate, "IRET to ring 3, INT through a DPL-3 gate back to ring 0"
        TEST t_call_gate_params, "far CALL through a call gate copies parameters; RETF n to ring 3"
        TEST t_int_gate_dpl, "INT n to a DPL-0 gate from ring 3 raises #GP(vector*8+2)"
        TEST t_privileged_in_ring3, "CLI, HLT and MOV CR0 in ring 3 raise #GP(0)"
        TEST t_segment_types, "writes to read-only data and reads of execute-only code raise #GP(0)"
        TEST t_segment_limits, "byte-granular limits: #GP(0) past DS limit, #SS(0) past SS limit"
        TEST t_null_selector, "access through a null selector raises #GP(0)"
        TEST t_data_load_checks, "loading DS with a DPL-0 selector in ring 3 raises #GP(sel)"
        TEST t_io_bitmap, "TSS I/O permission bitmap at CPL 3, IOPL 0"
        TEST t_page_not_present, "#PF for a missing page: error code and CR2 (read and write)"
        TEST t_page_user_supervisor, "#PF for ring-3 access to a supervisor page (5 and 7)"
        TEST t_page_wp, "CR0.WP makes read-only pages read-only for ring 0"
        TEST t_page_accessed_dirty, "page walks set accessed and dirty bits"
        TEST t_cr3_flushes_tlb, "a CR3 load drops stale translations"
        TEST t_task_call_iret, "CALL to a TSS: back link, NT, busy bits, CR0.TS; IRET back"
        TEST t_task_jmp_gate16, "JMP through a task gate to a 16-bit TSS and JMP back"
        TEST t_task_int_gate, "INT through an IDT task gate and IRET back"
        TEST t_task_busy, "CALL to the busy current TSS raises #GP(selector)"
        TEST t_task_trap_bit, "the TSS T bit raises #DB (DR6.BT) on entry to the task"
        TEST t_v86_iopl0, "V86 with IOPL 0: segment arithmetic, CLI/PUSHF/INT n fault, INT3 checks DPL"
        TEST t_v86_iopl3, "V86 with IOPL 3: INT n reaches ring 0 with a V86 frame, IRET returns"
        TEST t_v86_io, "V86 port I/O follows the I/O bitmap"
        TEST t_vme, "VME: CLI/STI on VIF, PUSHF image, INT n redirected to the V86 IVT"
        TEST t_vme_vip, "VME: STI with VIP set raises #GP(0)"
        TEST t_pvi, "PVI: CLI/STI at CPL 3 change VIF"
        TEST t_double_fault, "a fault while delivering #GP becomes #DF(0)"
        TEST t_benign_then_np, "a fault while delivering #UD (benign) is delivered alone: #NP(6*8+2)"
        TEST t_single_step, "single-step traps, none right after MOV SS"
        TEST t_exec_breakpoint, "DR0 instruction breakpoint, resumed with RF"
        TEST t_data_breakpoint, "DR1 data write breakpoint traps after the write"
        TEST t_sysenter_sysexit, "SYSEXIT to ring 3 and SYSENTER back with the MSR-defined segments"
        TEST t_cpuid, "CPUID leaf 1 reports VME, PSE, TSC, MSR, CX8, SEP, PGE and CMOV"

        mov esi, msg_plan
        call print
        mov eax, NTESTS
        call print_dec
        mov al, 10
        out 0xE9, al
        mov eax, [FAILS]
        out 0xF4, al
        hlt

; ---- driver -----------------------------------------------------------------------------
; ESI = name, EDI = routine. The routine returns EAX = 0 on success, else the address of
; the check that failed.
run_test:
        inc dword [TESTNUM]
        mov [CUR_NAME], esi
        call reset_state
        mov [DEFAULT_ESP], esp
        mov [RECOVER_ESP], esp
        mov dword [RECOVER_EIP], .unexpected
        mov word [RECOVER_CS], SEL_CODE0
        call edi
        call reset_state
        test eax, eax
        jnz .fail
        mov esi, msg_ok
        call print_head
        mov al, 10
        out 0xE9, al
        ret
.fail:  push eax
        mov esi, msg_notok
        call print_head
        mov esi, msg_line
        call print
        pop eax
        call print_hex
        mov al, 10
        out 0xE9, al
        inc dword [FAILS]
        ret
.unexpected:
        call reset_state
        mov esi, msg_notok
        call print_head
        mov esi, msg_unexp
        call print
        mov eax, [EXC_VEC]
        call print_dec
        mov esi, msg_err
        call print
        mov eax, [EXC_ERR]
        call print_hex
        mov esi, msg_at
        call print
        mov eax, [EXC_CS]
        call print_hex
        mov al, ':'
        out 0xE9, al
        mov eax, [EXC_EIP]
        call print_hex
        mov al, 10
        out 0xE9, al
        inc dword [FAILS]
        ret

; "ok N - name" / "not ok N - name" (ESI = prefix)
print_head:
        call print
        mov eax, [TESTNUM]
        call print_dec
        mov esi, msg_dash
        call print
        mov esi, [CUR_NAME]
        jmp print

; Back to a known state: flat ring-0 segments, flags, CR0/CR4, debug registers, IDT,
; test page mapping, TLB.
reset_state:
        pushad
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        push dword 0x2
        popfd
        xor eax, eax
        mov cr4, eax
        mov dr7, eax
        mov dr6, eax
        mov eax, cr0
        and eax, ~(0x10000 | 8)         ; WP, TS
        or eax, 0x80000001
        mov cr0, eax
        mov dword [PT + (TESTPAGE >> 12) * 4], TESTPAGE | 7
        mov eax, PD
        mov cr3, eax
        ; IDT: vectors 0-0x4F to the numbered stubs; 0-0x3F DPL 0 interrupt gates,
        ; 0x40-0x4F DPL 3 trap gates; the rest not present.
        mov edi, IDT
        xor ecx, ecx
.gate:  mov eax, ecx
        shl eax, 4
        add eax, stubs
        mov ebx, eax
        and eax, 0xFFFF
        or eax, SEL_CODE0 << 16
        mov [edi], eax
        and ebx, 0xFFFF0000
        or ebx, 0x8E00
        cmp ecx, 0x40
        jb .dpl0
        or ebx, 0x6100                  ; DPL 3, trap gate (type 0xF)
.dpl0:  mov [edi + 4], ebx
        add edi, 8
        inc ecx
        cmp ecx, 0x50
        jb .gate
        mov ecx, (IDT + 256 * 8 - 0x50 * 8 - IDT) / 4
        xor eax, eax
        rep stosd
        ; INT 0x42: a ring-3/V86-callable handler that counts and returns.
        mov eax, 0x42
        mov ebx, int42_handler
        mov cl, 0xEF
        call set_gate
        ; INT 0x48: a task gate (DPL 3) to task D.
        mov dword [IDT + 0x48 * 8], SEL_TSSD << 16
        mov dword [IDT + 0x48 * 8 + 4], 0xE500
        popad
        ret

; EAX = vector, EBX = handler (selector 0x08), CL = attribute byte.
set_gate:
        push edx
        lea edx, [IDT + eax * 8]
        mov eax, ebx
        and eax, 0xFFFF
        or eax, SEL_CODE0 << 16
        mov [edx], eax
        and ebx, 0xFFFF0000
        movzx eax, cl
        shl eax, 8
        or ebx, eax
        mov [edx + 4], ebx
        pop edx
        ret

int42_handler:
        inc dword [ss:INT42_COUNT]      ; DS may be null (entered from V86 mode)
        iretd

; #DB handler for the debug tests: counts, records DR6 and the return EIP, clears DR6 and
; returns with RF set so an instruction breakpoint does not hit again.
db_handler:
        push eax
        inc dword [ss:DB_COUNT]
        mov eax, dr6
        mov [ss:DB_DR6], eax
        mov eax, [esp + 4]
        mov [ss:DB_EIP], eax
        xor eax, eax
        mov dr6, eax
        or dword [esp + 12], EFL_RF
        pop eax
        iretd

install_db_handler:
        mov dword [DB_COUNT], 0
        mov dword [DB_DR6], 0
        mov eax, 1
        mov ebx, db_handler
        mov cl, 0x8E
        jmp set_gate

; ---- exception stubs: vector v at stubs + 16*v ------------------------------------------
        align 16
stubs:
%assign v 0
%rep 0x50
        align 16
  %if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17
        push dword v
  %else
        push dword 0
        push dword v
  %endif
        jmp exc_common
  %assign v v + 1
%endrep

; Records the frame and resumes at RECOVER_CS:RECOVER_EIP with RECOVER_ESP.
exc_common:
        push eax
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov eax, [esp + 4]
        mov [EXC_VEC], eax
        mov eax, [esp + 8]
        mov [EXC_ERR], eax
        mov eax, [esp + 12]
        mov [EXC_EIP], eax
        mov eax, [esp + 16]
        mov [EXC_CS], eax
        mov eax, [esp + 20]
        mov [EXC_FLAGS], eax
        mov eax, [esp + 24]
        mov [EXC_ESP], eax
        mov eax, [esp + 28]
        mov [EXC_SS], eax
        mov eax, [esp + 32]
        mov [EXC_ES], eax
        mov eax, [esp + 36]
        mov [EXC_DS], eax
        pop eax
        mov ax, SEL_DATA0
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, [RECOVER_ESP]
        jmp far [RECOVER_EIP]

; ---- printing (ring 0) ------------------------------------------------------------------
print:  lodsb
        test al, al
        jz .done
        out 0xE9, al
        jmp print
.done:  ret

print_dec:
        push ebx
        push ecx
        push edx
        mov ebx, 10
        xor ecx, ecx
.div:   xor edx, edx
        div ebx
        push edx
        inc ecx
        test eax, eax
        jnz .div
.out:   pop eax
        add al, '0'
        out 0xE9, al
        loop .out
        pop edx
        pop ecx
        pop ebx
        ret

print_hex:
        push ecx
        mov ecx, 8
.digit: rol eax, 4
        push eax
        and al, 0xF
        add al, '0'
        cmp al, '9'
        jbe .put
        add al, 'a' - '0' - 10
.put:   out 0xE9, al
        pop eax
        loop .digit
        pop ecx
        ret

; =========================================================================================
; Tests. Each returns EAX = 0 when everything held, else the address of the failed check.

t_ring3_iret_and_int_gate:
        TRY .back
        TO_RING3 0
        mov ebx, cs
        int 0x40
.back:  EXPECT 0x40, 0
        cmp ebx, SEL_CODE3 | 3
        ASSERT e
        cmp dword [EXC_CS], SEL_CODE3 | 3
        ASSERT e
        cmp dword [EXC_SS], SEL_DATA3 | 3       ; the outer SS:ESP are in the frame
        ASSERT e
        cmp dword [EXC_ESP], USTACK
        ASSERT e
        xor eax, eax
        ret

t_call_gate_params:
        TRY .back
        TO_RING3 0
        mov esi, esp
        push dword 0x1111
        push dword 0x2222
        call (SEL_CGATE | 3):0
        mov edi, esp                    ; RETF 8 dropped the parameters on this stack too
        int 0x40
.back:  EXPECT 0x40, 0
        cmp esi, edi
        ASSERT e
        cmp dword [R0], 0x2222          ; what the ring-0 target found in its frame
        ASSERT e
        cmp dword [R0 + 4], 0x1111
        ASSERT e
        cmp dword [R0 + 8], SEL_CODE3 | 3
        ASSERT e
        cmp dword [R0 + 12], SEL_DATA3 | 3
        ASSERT e
        cmp dword [R0 + 16], SEL_CODE0  ; CPL 0 inside
        ASSERT e
        xor eax, eax
        ret

; Ring-0 target of the call gate: frame = EIP, CS, param0, param1, ESP, SS.
call_gate_target:
        mov eax, [esp + 8]
        mov [ss:R0], eax
        mov eax, [esp + 12]
        mov [ss:R0 + 4], eax
        mov eax, [esp + 4]
        mov [ss:R0 + 8], eax
        mov eax, [esp + 20]
        mov [ss:R0 + 12], eax
        mov eax, cs
        mov [ss:R0 + 16], eax
        retf 8

t_int_gate_dpl:
        TRY .back
        TO_RING3 0
        int 0x30
.back:  EXPECT 13, 0x30 * 8 + 2
        xor eax, eax
        ret

t_privileged_in_ring3:
        TRY .b1
        TO_RING3 0
        cli
.b1:    EXPECT 13, 0
        TRY .b2
        TO_RING3 0
        hlt
.b2:    EXPECT 13, 0
        TRY .b3
        TO_RING3 0
        mov eax, cr0
.b3:    EXPECT 13, 0
        xor eax, eax
        ret

t_segment_types:
        TRY .b1
        mov ax, SEL_RODATA
        mov ds, ax
        mov eax, [TESTPAGE]             ; reading is fine
        mov [TESTPAGE], eax
.b1:    EXPECT 13, 0
        jmp SEL_XCODE:.xonly            ; execute-only flat code segment
.xonly: TRY .b2
        mov eax, [cs:TESTPAGE]
.b2:    EXPECT 13, 0
        mov ax, SEL_DATA0
        mov ds, ax
        TRY .b3
        mov [cs:TESTPAGE], eax          ; code segments are never writable
.b3:    EXPECT 13, 0
        xor eax, eax
        ret

t_segment_limits:
        mov ax, SEL_SMALL               ; base TESTPAGE, limit 0xFFF
        mov es, ax
        mov eax, [es:0xFFC]
        TRY .b1
        mov eax, [es:0xFFD]
.b1:    EXPECT 13, 0
        mov ax, SEL_SMALL
        mov es, ax
        TRY .b2
        mov byte [es:0x1000], 1
.b2:    EXPECT 13, 0
        mov ax, SEL_SMALL
        mov es, ax
        TRY .b3
        mov eax, [es:0xFFFFFFFF]        ; offset wrap is not a way around the limit
.b3:    EXPECT 13, 0
        TRY .b4
        mov ax, SEL_SMALL
        mov ss, ax
        mov esp, 0x800
        mov eax, [ss:0xFFE]
.b4:    EXPECT 12, 0
        xor eax, eax
        ret

t_null_selector:
        xor eax, eax
        mov es, ax
        TRY .b1
        mov eax, [es:TESTPAGE]
.b1:    EXPECT 13, 0
        TRY .b2
        xor eax, eax
        mov ss, ax                      ; SS may not be null at CPL 0
.b2:    EXPECT 13, 0
        xor eax, eax
        ret

t_data_load_checks:
        TRY .b1
        TO_RING3 0
        mov ax, SEL_DATA0 | 3           ; RPL 3 does not help: DPL 0 < CPL 3
        mov ds, ax
.b1:    EXPECT 13, SEL_DATA0
        TRY .b2
        TO_RING3 0
        mov ax, 0x7F8                   ; beyond the GDT limit
        mov ds, ax
.b2:    EXPECT 13, 0x7F8
        TRY .b3
        mov ax, SEL_CODE3 | 3           ; a code segment cannot be SS
        mov ss, ax
.b3:    EXPECT 13, SEL_CODE3
        xor eax, eax
        ret

t_io_bitmap:
        TRY .b1
        TO_RING3 0
        mov ebx, 0
        in al, 0x80                     ; allowed by the bitmap
        out 0x81, al
        mov ebx, 1
        in ax, 0x81                     ; 0x81 and 0x82: 0x82 is not allowed
.b1:    EXPECT 13, 0
        cmp ebx, 1
        ASSERT e
        TRY .b2
        TO_RING3 0
        mov dx, 0x3F8
        out dx, al
.b2:    EXPECT 13, 0
        TRY .b3
        TO_RING3 EFL_IOPL3              ; IOPL 3: the bitmap is not consulted
        mov dx, 0x3F8
        in al, dx
        int 0x40
.b3:    EXPECT 0x40, 0
        xor eax, eax
        ret

t_page_not_present:
        mov dword [PT + (TESTPAGE >> 12) * 4], 0
        invlpg [TESTPAGE]
        TRY .b1
        mov eax, [TESTPAGE + 0x123]
.b1:    EXPECT 14, 0
        mov eax, cr2
        cmp eax, TESTPAGE + 0x123
        ASSERT e
        TRY .b2
        mov dword [TESTPAGE + 0xFFE], 5         ; crosses from the missing page onwards
.b2:    EXPECT 14, 2
        mov eax, cr2
        cmp eax, TESTPAGE + 0xFFE
        ASSERT e
        ; A write that starts on the page below and crosses into the missing one faults
        ; with CR2 at the missing page and writes nothing.
        mov dword [TESTPAGE - 4], 0
        TRY .b3
        mov dword [TESTPAGE - 2], 0x12345678
.b3:    EXPECT 14, 2
        mov eax, cr2
        cmp eax, TESTPAGE
        ASSERT e
        cmp dword [TESTPAGE - 4], 0
        ASSERT e
        xor eax, eax
        ret

t_page_user_supervisor:
        mov dword [PT + (TESTPAGE >> 12) * 4], TESTPAGE | 3     ; present, writable, supervisor
        invlpg [TESTPAGE]
        mov eax, [TESTPAGE]             ; ring 0 may
        TRY .b1
        TO_RING3 0
        mov eax, [TESTPAGE + 8]
.b1:    EXPECT 14, 5
        mov eax, cr2
        cmp eax, TESTPAGE + 8
        ASSERT e
        TRY .b2
        TO_RING3 0
        mov dword [TESTPAGE + 12], 1
.b2:    EXPECT 14, 7
        xor eax, eax
        ret

t_page_wp:
        mov dword [PT + (TESTPAGE >> 12) * 4], TESTPAGE | 5     ; present, read-only, user
        invlpg [TESTPAGE]
        mov dword [TESTPAGE], 0x5A5A            ; WP clear: ring 0 writes anyway
        cmp dword [TESTPAGE], 0x5A5A
        ASSERT e
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        TRY .b1
        mov dword [TESTPAGE], 1
.b1:    EXPECT 14, 3
        cmp dword [TESTPAGE], 0x5A5A
        ASSERT e
        TRY .b2
        TO_RING3 0
        mov dword [TESTPAGE], 1
.b2:    EXPECT 14, 7
        xor eax, eax
        ret

t_page_accessed_dirty:
        mov dword [PT + (TESTPAGE >> 12) * 4], TESTPAGE | 7
        invlpg [TESTPAGE]
        mov eax, [TESTPAGE]
        mov eax, [PT + (TESTPAGE >> 12) * 4]
        and eax, 0x60
        cmp eax, 0x20                   ; accessed, not dirty
        ASSERT e
        mov dword [TESTPAGE + 4], 9
        mov eax, [PT + (TESTPAGE >> 12) * 4]
        and eax, 0x60
        cmp eax, 0x60                   ; accessed and dirty
        ASSERT e
        test dword [PD], 0x20           ; the directory entry is marked accessed too
        ASSERT nz
        xor eax, eax
        ret

t_cr3_flushes_tlb:
        mov dword [TESTPAGE], 0x11111111
        mov dword [0x20000], 0x22222222
        cmp dword [TESTPAGE], 0x11111111        ; cached: TESTPAGE -> TESTPAGE
        ASSERT e
        mov dword [PT + (TESTPAGE >> 12) * 4], 0x20000 | 7
        mov eax, cr3
        mov cr3, eax
        cmp dword [TESTPAGE], 0x22222222
        ASSERT e
        xor eax, eax
        ret

; Task B (32-bit): records STR, its back link and EFLAGS, then IRET to the caller.
task_b:
        str ax
        movzx eax, ax
        mov [R0], eax
        mov eax, [TSS_B]
        mov [R0 + 4], eax
        pushfd
        pop eax
        mov [R0 + 8], eax
        mov eax, [GDT + SEL_TSS0 + 4]
        mov [R0 + 12], eax
        mov eax, [GDT + SEL_TSSB + 4]
        mov [R0 + 16], eax
        mov eax, cr0
        mov [R0 + 20], eax
        mov [R0 + 24], ebx              ; registers come from the TSS
        iretd
        jmp task_b                      ; the next CALL resumes here

init_tss_b:
        mov edi, TSS_B
        mov eax, task_b
        mov ebx, BSTACK
        call init_tss32
        mov dword [TSS_B + 0x34], 0xB0B0B0B0    ; EBX
        ret

; A ring-0 32-bit task: EDI = TSS, EAX = entry, EBX = stack top; flat segments, paging.
init_tss32:
        push eax
        push edi
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        pop edi
        pop eax
        mov dword [edi + 0x1C], PD
        mov [edi + 0x20], eax
        mov dword [edi + 0x24], 0x2
        mov [edi + 0x38], ebx
        mov dword [edi + 0x48], SEL_DATA0
        mov dword [edi + 0x4C], SEL_CODE0
        mov dword [edi + 0x50], SEL_DATA0
        mov dword [edi + 0x54], SEL_DATA0
        mov dword [edi + 0x58], SEL_DATA0
        mov dword [edi + 0x5C], SEL_DATA0
        ret

t_task_call_iret:
        call init_tss_b
        clts
        mov eax, 0x12345678
        mov ebx, 0x9ABCDEF0
        mov esi, 0x0BADF00D
        call SEL_TSSB:0
        cmp eax, 0x12345678             ; restored from the main TSS on return
        ASSERT e
        cmp ebx, 0x9ABCDEF0
        ASSERT e
        cmp esi, 0x0BADF00D
        ASSERT e
        cmp dword [R0], SEL_TSSB        ; STR inside task B
        ASSERT e
        cmp dword [R0 + 4], SEL_TSS0    ; back link
        ASSERT e
        test dword [R0 + 8], EFL_NT
        ASSERT nz
        mov eax, [R0 + 12]              ; both busy while B ran
        and eax, 0xF00
        cmp eax, 0xB00
        ASSERT e
        mov eax, [R0 + 16]
        and eax, 0xF00
        cmp eax, 0xB00
        ASSERT e
        test dword [R0 + 20], 8         ; CR0.TS set by the switch
        ASSERT nz
        cmp dword [R0 + 24], 0xB0B0B0B0
        ASSERT e
        mov eax, [GDT + SEL_TSSB + 4]   ; B is available again after its IRET
        and eax, 0xF00
        cmp eax, 0x900
        ASSERT e
        str ax
        cmp ax, SEL_TSS0
        ASSERT e
        pushfd
        pop eax
        test eax, EFL_NT
        ASSERT z
        xor eax, eax
        ret

; Task C (16-bit code at SEL_CODE16, data at SEL_DATA16 with base 0).
        bits 16
task_c:
        mov word [R0 + 0x20], 0xC0DE
        mov ax, ss
        mov [R0 + 0x24], ax
        jmp SEL_TSS0:0                  ; back to the main task (not busy after our JMP)
        bits 32

t_task_jmp_gate16:
        mov edi, TSS_C
        mov ecx, 0x2C / 2
        xor eax, eax
        rep stosw
        mov word [TSS_C + 0x0E], OFS(task_c)
        mov word [TSS_C + 0x10], 0x2
        mov word [TSS_C + 0x1A], CSTACK
        mov word [TSS_C + 0x22], SEL_DATA16
        mov word [TSS_C + 0x24], SEL_CODE16
        mov word [TSS_C + 0x26], SEL_DATA16
        mov word [TSS_C + 0x28], SEL_DATA16
        mov dword [R0 + 0x20], 0
        mov ebx, 0x600DCAFE
        jmp (SEL_TGATE | 3):0
        cmp ebx, 0x600DCAFE
        ASSERT e
        cmp dword [R0 + 0x20], 0xC0DE
        ASSERT e
        cmp word [R0 + 0x24], SEL_DATA16
        ASSERT e
        mov eax, [GDT + SEL_TSSC + 4]   ; JMP away cleared C's busy bit
        and eax, 0xF00
        cmp eax, 0x100
        ASSERT e
        mov eax, [GDT + SEL_TSS0 + 4]
        and eax, 0xF00
        cmp eax, 0xB00
        ASSERT e
        pushfd
        pop eax
        test eax, EFL_NT                ; JMP does not nest
        ASSERT z
        xor eax, eax
        ret

; Task D: records its back link, returns with IRET.
task_d:
        mov eax, [TSS_D]
        mov [R0 + 0x30], eax
        inc dword [R0 + 0x34]
        iretd
        jmp task_d

init_tss_d:
        mov edi, TSS_D
        mov eax, task_d
        mov ebx, DSTACK
        call init_tss32
        mov dword [R0 + 0x34], 0
        ret

t_task_int_gate:
        call init_tss_d
        int 0x48
        cmp dword [R0 + 0x30], SEL_TSS0
        ASSERT e
        int 0x48                        ; D resumes after its IRET and returns again
        cmp dword [R0 + 0x34], 2
        ASSERT e
        xor eax, eax
        ret

t_task_busy:
        TRY .b1
        call SEL_TSS0:0
.b1:    EXPECT 13, SEL_TSS0
        xor eax, eax
        ret

t_task_trap_bit:
        call init_tss_d
        call install_db_handler
        mov word [TSS_D + 0x64], 1      ; T bit
        int 0x48
        cmp dword [R0 + 0x34], 1
        ASSERT e
        cmp dword [DB_COUNT], 1
        ASSERT e
        test dword [DB_DR6], 0x8000     ; BT
        ASSERT nz
        cmp dword [DB_EIP], task_d      ; before the task's first instruction
        ASSERT e
        xor eax, eax
        ret

; ---- V86 mode ---------------------------------------------------------------------------
        bits 16
v86_cli:
        mov ax, 0x1234
        mov [R0 + 0x40], ax             ; DS = 0: linear R0 + 0x40
        mov ax, 0x0070
        mov es, ax
        mov word [es:0x0010], 0x4321    ; linear 0x710
v86_cli_insn:
        cli
v86_int21:
        int 0x21
v86_pushf:
        pushf
v86_int3:
        int3
        bits 32

t_v86_iopl0:
        mov dword [R0 + 0x40], 0
        TRY .b1
        TO_V86 v86_cli, 0
.b1:    EXPECT 13, 0
        cmp dword [EXC_EIP], OFS(v86_cli_insn)
        ASSERT e
        cmp dword [EXC_CS], 0xF000
        ASSERT e
        test dword [EXC_FLAGS], EFL_VM
        ASSERT nz
        cmp word [R0 + 0x40], 0x1234
        ASSERT e
        cmp word [0x710], 0x4321
        ASSERT e
        cmp dword [EXC_ES], 0x0070      ; V86 frame: ES, DS pushed by the CPU
        ASSERT e
        TRY .b2
        TO_V86 v86_int21, 0
.b2:    EXPECT 13, 0
        TRY .b3
        TO_V86 v86_pushf, 0
.b3:    EXPECT 13, 0
        TRY .b4
        TO_V86 v86_int3, 0              ; INT3 is not IOPL-sensitive, but the gate is DPL 0
.b4:    EXPECT 13, 3 * 8 + 2
        xor eax, eax
        ret

        bits 16
v86_iopl3:
        mov ax, 0x0123
        mov ds, ax
        cli
        sti
        pushf
        pop bx
        int 0x42                        ; counts in ring 0 and IRETs back here
        int 0x42
        mov [0], bx                     ; DS = 0x123: linear 0x1230
        int 0x41                        ; to ring 0 for good
        bits 32

t_v86_iopl3:
        mov dword [INT42_COUNT], 0
        TRY .b1
        TO_V86 v86_iopl3, EFL_IOPL3
.b1:    EXPECT 0x41, 0
        cmp dword [INT42_COUNT], 2
        ASSERT e
        cmp dword [EXC_DS], 0x0123
        ASSERT e
        test dword [EXC_FLAGS], EFL_VM
        ASSERT nz
        cmp dword [EXC_SS], 0
        ASSERT e
        cmp dword [EXC_ESP], V86STACK
        ASSERT e
        mov ax, [0x1230]                ; PUSHF with IOPL 3 showed IF set and IOPL 3
        and ax, EFL_IF | EFL_IOPL3
        cmp ax, EFL_IF | EFL_IOPL3
        ASSERT e
        xor eax, eax
        ret

        bits 16
v86_io:
        in al, 0x80
        mov bx, 1
        in al, 0x82
        bits 32

t_v86_io:
        TRY .b1
        mov ebx, 0
        TO_V86 v86_io, EFL_IOPL3        ; V86 I/O ignores IOPL: the bitmap decides
.b1:    EXPECT 13, 0
        cmp bx, 1
        ASSERT e
        xor eax, eax
        ret

        bits 16
v86_vme:
        cli                             ; VIF = 0
        pushf
        pop ax
        sti                             ; VIF = 1
        pushf
        pop bx
v86_int60_insn:
        int 0x60                        ; redirected: the V86 IVT entry at 0:0180
        mov [R0 + 0x44], ax
        mov [R0 + 0x48], bx
        hlt                             ; #GP(0): back to ring 0
v86_int60:
        mov word [R0 + 0x4C], 0x6060
        pushf
        pop word [R0 + 0x50]            ; flags inside the handler
        iret
v86_sti:
        sti
        bits 32

t_vme:
        mov eax, cr4
        or eax, 1                       ; VME
        mov cr4, eax
        mov edi, TSS0 + 0x68            ; redirection bitmap: every vector redirected
        mov ecx, 8
        xor eax, eax
        rep stosd
        mov word [0x60 * 4], OFS(v86_int60)
        mov word [0x60 * 4 + 2], 0xF000
        mov dword [R0 + 0x4C], 0
        TRY .b1
        TO_V86 v86_vme, EFL_IF          ; IOPL 0, VIF starts clear
.b1:    EXPECT 13, 0
        cmp word [R0 + 0x4C], 0x6060
        ASSERT e
        mov ax, [R0 + 0x44]             ; after CLI: IF image = VIF = 0, IOPL image = 3
        and ax, EFL_IF | EFL_IOPL3
        cmp ax, EFL_IOPL3
        ASSERT e
        test word [R0 + 0x48], EFL_IF   ; after STI: VIF = 1
        ASSERT nz
        test word [R0 + 0x50], EFL_IF   ; the redirected INT cleared VIF
        ASSERT z
        test dword [EXC_FLAGS], EFL_IF  ; the real IF never changed
        ASSERT nz
        test dword [EXC_FLAGS], EFL_VIF ; VIF after IRET: restored from the image (1)
        ASSERT nz
        ; A vector with its bit set in the bitmap is not redirected: IOPL 0 -> #GP(0).
        or byte [TSS0 + 0x68 + 0x60 / 8], 1
        TRY .b2
        TO_V86 v86_vme, EFL_IF
.b2:    EXPECT 13, 0
        cmp dword [EXC_EIP], OFS(v86_int60_insn)
        ASSERT e
        xor eax, eax
        ret

t_vme_vip:
        mov eax, cr4
        or eax, 1
        mov cr4, eax
        TRY .b1
        TO_V86 v86_sti, EFL_VIP
.b1:    EXPECT 13, 0
        cmp dword [EXC_EIP], OFS(v86_sti)
        ASSERT e
        xor eax, eax
        ret

t_pvi:
        mov eax, cr4
        or eax, 2                       ; PVI
        mov cr4, eax
        TRY .b1
        TO_RING3 EFL_VIF
        cli
        pushfd
        pop ebx
        sti
        pushfd
        pop ecx
        int 0x40
.b1:    EXPECT 0x40, 0
        test ebx, EFL_VIF
        ASSERT z
        test ecx, EFL_VIF
        ASSERT nz
        test ecx, EFL_IF                ; the real IF is untouched
        ASSERT z
        xor eax, eax
        ret

t_double_fault:
        and byte [IDT + 13 * 8 + 5], 0x7F       ; #GP gate not present
        TRY .b1
        mov ax, 0x7F8
        mov ds, ax                      ; #GP(0x7F8) -> #NP(13*8+2) while delivering -> #DF
.b1:    EXPECT 8, 0
        xor eax, eax
        ret

t_benign_then_np:
        and byte [IDT + 6 * 8 + 5], 0x7F        ; #UD gate not present
        TRY .b1
        ud2
.b1:    EXPECT 11, 6 * 8 + 2
        xor eax, eax
        ret

t_single_step:
        call install_db_handler
        mov ax, SEL_DATA0
        pushfd
        or dword [esp], EFL_TF
        popfd                           ; TF from here: no trap after this POPF
        nop                             ; 1
        mov ss, ax                      ; no trap here ...
        nop                             ; 2 (... but after this one)
        nop                             ; 3
        pushfd                          ; 4
        and dword [esp], ~EFL_TF        ; 5
        popfd                           ; 6: the POPF that clears TF still traps
        nop
        cmp dword [DB_COUNT], 6
        ASSERT e
        test dword [DB_DR6], 0x4000     ; BS
        ASSERT nz
        xor eax, eax
        ret

t_exec_breakpoint:
        call install_db_handler
        mov eax, .bp
        mov dr0, eax
        mov eax, 1                      ; L0, execute, 1 byte
        mov dr7, eax
        mov ebx, 0
        nop
.bp:    inc ebx                         ; the breakpoint fires before this runs
        nop
        xor eax, eax
        mov dr7, eax
        cmp ebx, 1                      ; ... and it ran exactly once (RF)
        ASSERT e
        cmp dword [DB_COUNT], 1
        ASSERT e
        mov eax, [DB_DR6]
        and eax, 0xF
        cmp eax, 1
        ASSERT e
        cmp dword [DB_EIP], .bp
        ASSERT e
        xor eax, eax
        ret

t_data_breakpoint:
        call install_db_handler
        mov eax, R0 + 0x60
        mov dr1, eax
        mov eax, 0x00D00004             ; L1, write, 4 bytes
        mov dr7, eax
        mov dword [R0 + 0x70], 1        ; elsewhere: no trap
        mov eax, [R0 + 0x60]            ; a read: no trap for a write breakpoint
        mov word [R0 + 0x62], 7         ; overlaps: trap after the write
.after: xor eax, eax
        mov dr7, eax
        cmp dword [DB_COUNT], 1
        ASSERT e
        mov eax, [DB_DR6]
        and eax, 0xF
        cmp eax, 2
        ASSERT e
        cmp dword [DB_EIP], .after
        ASSERT e
        cmp word [R0 + 0x62], 7
        ASSERT e
        xor eax, eax
        ret

t_sysenter_sysexit:
        mov ecx, 0x174                  ; SYSENTER_CS: CS 0x08, SS 0x10; SYSEXIT 0x1B, 0x23
        mov eax, SEL_CODE0
        xor edx, edx
        wrmsr
        mov ecx, 0x175                  ; SYSENTER_ESP
        mov eax, KSTACK0 - 0x100
        wrmsr
        mov ecx, 0x176                  ; SYSENTER_EIP
        mov eax, .kernel
        wrmsr
        mov [R0 + 0x80], esp
        mov ecx, USTACK
        mov edx, .user
        sysexit
.user:  mov ebx, cs
        mov esi, ss
        mov edi, esp
        sysenter
.kernel:
        mov ecx, cs
        mov edx, ss
        mov ebp, esp
        mov esp, [R0 + 0x80]
        cmp ebx, SEL_CODE3 | 3
        ASSERT e
        cmp esi, SEL_DATA3 | 3
        ASSERT e
        cmp edi, USTACK
        ASSERT e
        cmp ecx, SEL_CODE0
        ASSERT e
        cmp edx, SEL_DATA0
        ASSERT e
        cmp ebp, KSTACK0 - 0x100
        ASSERT e
        xor eax, eax
        ret

t_cpuid:
        mov eax, 1
        cpuid
        and edx, 0x2 | 0x8 | 0x10 | 0x20 | 0x100 | 0x800 | 0x2000 | 0x8000
        cmp edx, 0x2 | 0x8 | 0x10 | 0x20 | 0x100 | 0x800 | 0x2000 | 0x8000
        ASSERT e
        xor eax, eax
        ret

; ---- data ---------------------------------------------------------------------------------
msg_ok:     db "ok ", 0
msg_notok:  db "not ok ", 0
msg_dash:   db " - ", 0
msg_line:   db ": check failed at address 0x", 0
msg_unexp:  db ": unexpected exception ", 0
msg_err:    db " error ", 0
msg_at:     db " at ", 0
msg_plan:   db "1..", 0

; Segment descriptor: base, limit (raw 20 bits), access byte, flags nibble (G, D/B).
%macro DESC 4
        dw (%2) & 0xFFFF
        dw (%1) & 0xFFFF
        db ((%1) >> 16) & 0xFF
        db %3
        db (((%2) >> 16) & 0xF) | ((%4) << 4)
        db ((%1) >> 24) & 0xFF
%endmacro

        align 8
gdt_rom:
        dq 0
        DESC 0, 0xFFFFF, 0x9A, 0xC              ; 0x08 ring-0 code
        DESC 0, 0xFFFFF, 0x92, 0xC              ; 0x10 ring-0 data
        DESC 0, 0xFFFFF, 0xFA, 0xC              ; 0x18 ring-3 code
        DESC 0, 0xFFFFF, 0xF2, 0xC              ; 0x20 ring-3 data
        DESC TSS0, 0x2088, 0x89, 0              ; 0x28 main TSS (with I/O bitmap)
        DESC TSS_B, 0x67, 0x89, 0               ; 0x30 task B (32-bit)
        DESC TSS_C, 0x2B, 0x81, 0               ; 0x38 task C (16-bit)
        DESC TSS_D, 0x67, 0x89, 0               ; 0x40 task D (32-bit)
        ; 0x48 32-bit call gate, DPL 3, two parameters, to 0x08:call_gate_target
        dw LIN(call_gate_target) & 0xFFFF
        dw SEL_CODE0
        db 2
        db 0xEC
        dw LIN(call_gate_target) >> 16
        ; 0x50 task gate, DPL 3, to task C
        dw 0
        dw SEL_TSSC
        db 0
        db 0xE5
        dw 0
        DESC 0, 0xFFFFF, 0x90, 0xC              ; 0x58 read-only data
        DESC 0, 0xFFFFF, 0x98, 0xC              ; 0x60 execute-only code
        DESC TESTPAGE, 0xFFF, 0x92, 0x4         ; 0x68 small data, byte granular
        DESC ROMBASE, 0xFFFF, 0x9A, 0           ; 0x70 16-bit code at F0000
        DESC 0, 0xFFFF, 0x92, 0                 ; 0x78 16-bit data
gdt_rom_end:

gdtr_rom:
        dw gdt_rom_end - gdt_rom - 1
        dd LIN(gdt_rom)

        times 0xFFF0 - ($ - $$) db 0xF4
        bits 16
reset:  jmp 0xF000:OFS(start)
        times 0x10000 - ($ - $$) db 0xF4
