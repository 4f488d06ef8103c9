; fpu.asm - x87 guest test (boot floppy, real mode). Prints one line per check on the debug
; console (port 0xE9): status words and results in hex, so the output can be compared with
; other emulators. Ends with isa-debug-exit (port 0xF4) and Bochs' shutdown port (0x8900).
; Build: nasm -f bin -o fpu.img fpu.asm
%define SECTORS 17
        bits 16
        cpu 686
        org 0x7c00
start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        sti
        mov ax, 0x0200 + SECTORS        ; read CHS 0/0/2.. to 0x7e00
        mov cx, 0x0002
        xor dh, dh
        mov bx, 0x7e00
        int 0x13
        jc .fail
        jmp main
.fail:  mov al, '!'
        out 0xe9, al
        cli
        hlt
        times 510-($-$$) db 0
        dw 0xaa55

; ---- output helpers ----------------------------------------------------------------------
%macro say 1
        call say_inline
        db %1, 0
%endmacro

say_inline:                             ; prints the string after the CALL
        pop si
.l:     lodsb
        or al, al
        jz .d
        out 0xe9, al
        jmp .l
.d:     push si
        ret

newline:
        mov al, 10
        out 0xe9, al
        ret

hex4:   and al, 15
        add al, '0'
        cmp al, '9'
        jbe .o
        add al, 7
.o:     out 0xe9, al
        ret

hex8:   push ax
        shr al, 4
        call hex4
        pop ax
        push ax
        call hex4
        pop ax
        ret

hex16:  push ax
        xchg al, ah
        call hex8
        pop ax
        push ax
        call hex8
        pop ax
        ret

; prints CX bytes at DS:SI, last byte first
hexmem: push si
        add si, cx
.l:     dec si
        mov al, [si]
        call hex8
        loop .l
        pop si
        ret

; " sw=XXXX"
pr_sw:  fnstsw [tmpw]
        say " sw="
        mov ax, [tmpw]
        jmp hex16

; " st=SSSS:MMMMMMMMMMMMMMMM" (pops ST0)
pr_st:  fstp tword [tmp]
        say " st="
        mov si, tmp + 8
        mov cx, 2
        call hexmem
        mov al, ':'
        out 0xe9, al
        mov si, tmp
        mov cx, 8
        jmp hexmem

%macro setcw 1
        mov word [cwv], %1
        fldcw [cwv]
%endmacro

; ---- the checks ----------------------------------------------------------------------------
main:
        fninit
        say "init"
        call pr_sw
        fnstcw [tmpw]
        say " cw="
        mov ax, [tmpw]
        call hex16
        call newline

        ; constants under the four rounding modes
        mov bx, 0
.rc:    mov ax, bx
        shl ax, 10
        or ax, 0x037f
        mov [cwv], ax
        fldcw [cwv]
        say "const rc"
        mov al, bl
        call hex4
        fldpi
        call pr_st
        fldl2t
        call pr_st
        fldl2e
        call pr_st
        fldlg2
        call pr_st
        fldln2
        call pr_st
        call newline
        inc bx
        cmp bx, 4
        jb .rc

        ; 1/3 and 2/3 at each precision, rounding to nearest and up
        mov bx, 0
.pc:    mov ax, [pcs + bx]
        mov [cwv], ax
        fninit
        fldcw [cwv]
        say "div pc/rc "
        mov ax, [cwv]
        call hex16
        fld1
        fidiv word [three]
        call pr_st
        fild word [two]
        fidiv word [three]
        call pr_sw
        call pr_st
        call newline
        add bx, 2
        cmp bx, 12
        jb .pc

        ; add/sub/mul/sqrt with doubles
        fninit
        say "arith"
        fld qword [d_a]
        fadd qword [d_b]
        call pr_st
        fld qword [d_a]
        fsub qword [d_b]
        call pr_st
        fld qword [d_a]
        fmul qword [d_b]
        call pr_st
        fld qword [d_b]
        fsqrt
        call pr_sw
        call pr_st
        call newline

        ; stores to every memory format
        fninit
        say "stores"
        fld qword [d_c]
        fst dword [tmp]
        mov si, tmp
        mov cx, 4
        call hexmem
        mov al, ' '
        out 0xe9, al
        fst qword [tmp]
        mov si, tmp
        mov cx, 8
        call hexmem
        mov al, ' '
        out 0xe9, al
        fist dword [tmp]
        mov si, tmp
        mov cx, 4
        call hexmem
        mov al, ' '
        out 0xe9, al
        fistp qword [tmp]
        mov si, tmp
        mov cx, 8
        call hexmem
        call pr_sw
        call newline

        ; integer overflow: indefinite, IE
        fninit
        say "fist overflow"
        fild dword [big32]
        fist word [tmp]
        mov ax, [tmp]
        mov al, ' '
        out 0xe9, al
        mov ax, [tmp]
        call hex16
        call pr_sw
        call pr_st
        call newline

        ; BCD round trip, rounding, and out of range
        fninit
        say "bcd"
        fbld [bcd1]
        fld st0
        fbstp [tmp]
        mov si, tmp
        mov cx, 10
        mov al, ' '
        out 0xe9, al
        call hexmem
        call pr_st
        fld qword [d_c]
        fbstp [tmp]
        mov al, ' '
        out 0xe9, al
        mov si, tmp
        mov cx, 10
        call hexmem
        call pr_sw
        fninit
        fld qword [d_huge]
        fbstp [tmp]
        mov al, ' '
        out 0xe9, al
        mov si, tmp
        mov cx, 10
        call hexmem
        call pr_sw
        call newline

        ; masked exceptions: zero divide, invalid, stack overflow and underflow
        fninit
        say "zdiv"
        fld1
        fldz
        fdivp st1, st0
        call pr_sw
        call pr_st
        call newline
        fninit
        say "sqrt-1"
        fld1
        fchs
        fsqrt
        call pr_sw
        call pr_st
        call newline
        fninit
        say "overflow"
        mov cx, 9
.ov:    fld1
        loop .ov
        call pr_sw
        call pr_st
        call newline
        fninit
        say "underflow"
        fadd st0, st1
        call pr_sw
        call pr_st
        call newline
        fninit
        say "denormal"
        fld dword [f_den]
        call pr_sw
        fmul st0, st0
        call pr_sw
        call pr_st
        call newline
        fninit
        say "ovf"
        fld tword [t_max]
        fmul st0, st0
        call pr_sw
        call pr_st
        call newline

        ; FXAM of each class
        fninit
        say "fxam"
        fxam
        call pr_sw
        fldz
        fxam
        call pr_sw
        fstp st0
        fld1
        fchs
        fxam
        call pr_sw
        fstp st0
        fld dword [f_den]
        fxam
        call pr_sw
        fstp st0
        fld dword [f_inf]
        fxam
        call pr_sw
        fstp st0
        fld dword [f_nan]
        fxam
        call pr_sw
        fstp st0
        call newline

        ; compares: FCOM, FUCOM with NaN, FCOMI, FCMOV, FTST
        fninit
        say "fcom"
        fld1
        fldz
        fcom st1
        call pr_sw
        fcomi st0, st1
        pushf
        pop ax
        mov al, ' '
        out 0xe9, al
        pushf
        pop ax
        and ax, 0x8d5
        call hex16
        fcmovb st0, st1
        ftst
        call pr_sw
        fld dword [f_nan]
        fucom st1
        call pr_sw
        fucomip st0, st1
        pushf
        pop ax
        and ax, 0x8d5
        mov [tmpw], ax
        mov al, ' '
        out 0xe9, al
        mov ax, [tmpw]
        call hex16
        call pr_sw
        call newline

        ; FPREM until done (C2 clear), FPREM1
        fninit
        say "fprem"
        fldpi
        fld qword [d_huge]
        xor cx, cx
.pr:    inc cx
        fprem
        fnstsw ax
        test ah, 4
        jnz .pr
        mov al, ' '
        out 0xe9, al
        mov ax, cx
        call hex16
        call pr_sw
        call pr_st
        fld qword [d_c]
        fprem1
        call pr_sw
        call pr_st
        fld qword [d_c]
        fprem
        call pr_sw
        call pr_st
        call newline

        ; FRNDINT in every rounding mode, FSCALE, FXTRACT
        fninit
        say "frndint"
        mov bx, 0
.rn:    mov ax, bx
        shl ax, 10
        or ax, 0x037f
        mov [cwv], ax
        fldcw [cwv]
        fld qword [d_c]
        frndint
        call pr_st
        fld qword [d_c]
        fchs
        frndint
        call pr_st
        inc bx
        cmp bx, 4
        jb .rn
        call pr_sw
        call newline
        fninit
        say "fscale/fxtract"
        fild word [three]
        fld qword [d_c]
        fscale
        call pr_st
        call pr_st
        fld qword [d_c]
        fxtract
        call pr_st
        call pr_st
        call pr_sw
        call newline

        ; transcendentals
        fninit
        say "fsin"
        fld1
        fsin
        call pr_st
        fld qword [d_c]
        fsin
        call pr_st
        fld qword [d_big]
        fsin
        call pr_sw
        call pr_st
        call newline
        say "fcos"
        fld1
        fcos
        call pr_st
        fld qword [d_c]
        fcos
        call pr_st
        call newline
        say "fsincos"
        fld qword [d_b]
        fsincos
        call pr_st
        call pr_st
        call newline
        say "fptan"
        fld qword [d_half]
        fptan
        call pr_st
        call pr_st
        call newline
        say "fpatan"
        fld1
        fild word [three]
        fpatan
        call pr_st
        fld1
        fchs
        fild word [three]
        fchs
        fpatan
        call pr_st
        call newline
        say "f2xm1"
        fld qword [d_half]
        f2xm1
        call pr_st
        fld qword [d_half]
        fchs
        f2xm1
        call pr_st
        call newline
        say "fyl2x"
        fild word [three]
        fld qword [d_c]
        fyl2x
        call pr_st
        fld1
        fild word [ten]
        fyl2x
        call pr_st
        call newline
        say "fyl2xp1"
        fild word [three]
        fld qword [d_q]
        fyl2xp1
        call pr_st
        call pr_sw
        call newline
        say "fsin2^63"
        fld tword [t_263]
        fsin
        call pr_sw
        call pr_st
        call newline

        ; FSAVE/FRSTOR (16-bit real-mode layout) and FSTENV (32-bit layout)
        fninit
        say "fsave"
        fld1
        fldpi
        fldz
        setcw 0x0b7f
        fnsave [area]
        fnstcw [tmpw]
        mov ax, [tmpw]
        mov al, ' '
        out 0xe9, al
        mov ax, [tmpw]
        call hex16
        mov si, area
        mov cx, 6
        mov al, ' '
        out 0xe9, al
        call hexmem
        frstor [area]
        call pr_sw
        call pr_st
        call pr_st
        call pr_st
        call pr_sw
        call newline
        fninit
        say "fstenv32"
        fld1
        fld qword [d_c]
        o32 fnstenv [area]
        mov si, area
        mov cx, 28
        mov al, ' '
        out 0xe9, al
        call hexmem
        fnstcw [tmpw]
        mov al, ' '
        out 0xe9, al
        mov ax, [tmpw]
        call hex16
        call newline

        ; unmasked zero divide with CR0.NE=0: FERR# -> IRQ 13 -> BIOS INT 75h -> INT 02h
        fninit
        say "irq13"
        mov word [2*4], nmi_handler
        mov word [2*4+2], 0
        in al, 0xa1
        and al, ~0x20
        out 0xa1, al
        in al, 0x21
        and al, ~0x04
        out 0x21, al
        mov eax, cr0
        and eax, ~0x20
        mov cr0, eax
        mov byte [hits], 0
        setcw 0x037b                    ; ZE unmasked
        fld1
        fldz
        fdivp st1, st0
        fnstsw [tmpw]
        mov al, ' '
        out 0xe9, al
        mov ax, [tmpw]
        call hex16
        sti
        fwait
        mov cx, 200
.w13:   cmp byte [hits], 0
        jne .g13
        hlt
        loop .w13
.g13:   mov al, ' '
        out 0xe9, al
        mov al, [hits]
        call hex8
        mov al, ' '
        out 0xe9, al
        mov ax, [seen_sw]
        call hex16
        call pr_sw
        call newline

        ; unmasked invalid with CR0.NE=1: #MF (vector 16 = INT 10h in real mode)
        fninit
        say "mf"
        push word [16*4]
        push word [16*4+2]
        mov word [16*4], mf_handler
        mov word [16*4+2], 0
        mov eax, cr0
        or eax, 0x20
        mov cr0, eax
        mov byte [hits], 0
        setcw 0x037e                    ; IE unmasked
        fld1
        fchs
        fsqrt                           ; no result written: ST0 stays -1
        fnstsw [tmpw]
        mov al, ' '
        out 0xe9, al
        mov ax, [tmpw]
        call hex16
        fld1                            ; waiting instruction: #MF before it runs
        mov al, ' '
        out 0xe9, al
        mov al, [hits]
        call hex8
        mov al, ' '
        out 0xe9, al
        mov ax, [seen_sw]
        call hex16
        call pr_sw
        call pr_st
        call pr_st
        pop word [16*4+2]
        pop word [16*4]
        mov eax, cr0
        and eax, ~0x20
        mov cr0, eax
        call newline

        say "done"
        call newline
        mov al, 0
        out 0xf4, al
        mov dx, 0x8900
        mov si, shutdown
.sd:    lodsb
        or al, al
        jz .hl
        out dx, al
        jmp .sd
.hl:    cli
        hlt
        jmp .hl

nmi_handler:                            ; INT 02h from the BIOS IRQ 13 handler
        fnstsw [seen_sw]
        fnclex
        inc byte [hits]
        iret

mf_handler:                             ; #MF: record, clear, retry the instruction
        fnstsw [seen_sw]
        fnclex
        inc byte [hits]
        iret

; ---- data ----------------------------------------------------------------------------------
        align 8
pcs:    dw 0x007f, 0x027f, 0x037f, 0x087f, 0x0a7f, 0x0b7f
two:    dw 2
three:  dw 3
ten:    dw 10
big32:  dd 100000
d_a:    dq 1.0e10
d_b:    dq 3.14159e-3
d_c:    dq 2.5
d_half: dq 0.5
d_q:    dq 0.25
d_huge: dq 1.0e300
d_big:  dq 1.0e18
bcd1:   dq 0x1234567890123456
        dw 0x8000
f_den:  dd 0x00012345
f_inf:  dd 0x7f800000
f_nan:  dd 0x7fc00001
t_max:  dq 0xffffffffffffffff
        dw 0x7ffe
t_263:  dq 0x8000000000000000
        dw 0x403e
shutdown db "Shutdown", 0
cwv:    dw 0
tmpw:   dw 0
seen_sw: dw 0
hits:   db 0
        align 16
tmp:    times 16 db 0
area:   times 128 db 0
        times (SECTORS + 1) * 512 - ($ - $$) db 0
        times 1474560 - ($ - $$) db 0
