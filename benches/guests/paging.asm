; paging: a benchmark heavy on TLB misses and privilege transitions. Boots from a floppy,
; enters 32-bit protected mode with paging (16 MiB identity-mapped with 4 KiB user pages),
; drops to ring 3 and runs ITERS rounds of: one read-modify-write on each of NPAGES pages
; (more pages than a 1024-entry TLB holds), with an INT 80h system call (ring 3 -> ring 0
; through an interrupt gate and the TSS stack, IRET back) every 16 pages; every 8th call
; the kernel reloads CR3 (a context switch's TLB flush) and every call does an INVLPG.
; At the end ring 3 calls INT 81h; the kernel prints "CHECKSUM xxxxxxxx" on COM1 and port
; 0xE9, writes 0 to port 0xF4 (isa-debug-exit), then "Shutdown" to port 0x8900 (Bochs).
;   nasm -f bin -DITERS=20 -o paging.img paging.asm
%ifndef ITERS
%define ITERS 20
%endif
%define SECTORS 4
%define NPAGES 2048
%define DATA 0x400000
        bits 16
        org 0x7c00
start:  cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 0x7c00
        mov ax, 0x0200 + SECTORS
        mov cx, 0x0002
        xor dh, dh
        mov bx, 0x7e00
        int 0x13
        jc fail16
        cli
        in al, 0x92             ; fast A20
        or al, 2
        and al, 0xfe
        out 0x92, al
        lgdt [gdtr]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp 0x08:pm32
fail16: mov al, '!'
        out 0xe9, al
.h:     hlt
        jmp .h
        align 8
gdt:    dq 0
        dq 0x00cf9a000000ffff   ; 0x08 ring 0 code
        dq 0x00cf92000000ffff   ; 0x10 ring 0 data
        dq 0x00cffa000000ffff   ; 0x18 ring 3 code
        dq 0x00cff2000000ffff   ; 0x20 ring 3 data
tssd:   dq 0                    ; 0x28 TSS, filled in at run time
gdtr:   dw gdtr - gdt - 1
        dd gdt
        times 510-($-$$) db 0
        dw 0xaa55

        bits 32
pm32:   mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov fs, ax
        mov gs, ax
        mov esp, 0x90000
        ; page directory at 0x100000, four page tables after it: 16 MiB, user|rw|present
        mov edi, 0x100000
        xor eax, eax
        mov ecx, 1024*5
        rep stosd
        mov edi, 0x100000
        mov eax, 0x101007
        mov ecx, 4
.pd:    stosd
        add eax, 0x1000
        loop .pd
        mov edi, 0x101000
        mov eax, 0x007
        mov ecx, 4096
.pt:    stosd
        add eax, 0x1000
        loop .pt
        mov eax, 0x100000
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        jmp .pg
.pg:    ; TSS: ring 0 stack for interrupts from ring 3
        mov dword [tss+4], 0x8f000
        mov dword [tss+8], 0x10
        mov eax, tss
        mov word [tssd], 103
        mov [tssd+2], ax
        shr eax, 16
        mov [tssd+4], al
        mov byte [tssd+5], 0x89
        mov [tssd+7], ah
        mov ax, 0x28
        ltr ax
        ; IDT gates 0x80 and 0x81: 32-bit interrupt gates callable from ring 3
        mov eax, sys80
        mov edi, idt + 0x80*8
        call gate
        mov eax, sys81
        mov edi, idt + 0x81*8
        call gate
        lidt [idtr]
        xor ebp, ebp            ; checksum (kept by both rings)
        xor esi, esi            ; system call counter
        ; to ring 3
        push dword 0x23
        push dword 0x80000
        push dword 0x002
        push dword 0x1b
        push dword user
        iret

gate:   mov [edi], ax
        mov word [edi+2], 0x08
        mov word [edi+4], 0xee00
        shr eax, 16
        mov [edi+6], ax
        ret

; ---- ring 3 ----
user:   mov ax, 0x23
        mov ds, ax
        mov es, ax
        mov ecx, ITERS
.outer: mov ebx, DATA
        xor edx, edx
.page:  mov eax, [ebx+edx*4]
        add eax, ebx
        xor eax, ebp
        mov [ebx+edx*4], eax
        add ebp, eax
        inc edx
        and edx, 63
        add ebx, 0x1000
        test ebx, 0xf000
        jnz .nosys
        int 0x80
.nosys: cmp ebx, DATA + NPAGES*0x1000
        jb .page
        dec ecx
        jnz .outer
        int 0x81
.hang:  jmp .hang

; ---- ring 0 ----
sys80:  inc esi
        add ebp, esi
        invlpg [ebx]
        test esi, 7
        jnz .r
        mov eax, cr3
        mov cr3, eax
.r:     iret

sys81:  mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov esi, msgck
        call puts
        mov eax, ebp
        mov ecx, 8
.hx:    rol eax, 4
        mov edx, eax
        and edx, 15
        mov dl, [hexd+edx]
        push eax
        mov al, dl
        call putc
        pop eax
        loop .hx
        mov al, 10
        call putc
        mov al, 0
        out 0xf4, al
        mov esi, shut
        mov dx, 0x8900
.sh:    lodsb
        or al, al
        jz .halt
        out dx, al
        jmp .sh
.halt:  cli
        hlt
        jmp .halt

puts:   lodsb
        or al, al
        jz .d
        call putc
        jmp puts
.d:     ret
putc:   push edx
        push eax
        mov dx, 0x3fd
.w:     in al, dx
        test al, 0x20
        jz .w
        pop eax
        mov dx, 0x3f8
        out dx, al
        out 0xe9, al
        pop edx
        ret

        align 4
idtr:   dw 0x81*8 + 7
        dd idt
msgck   db "CHECKSUM ", 0
hexd    db "0123456789abcdef"
shut    db "Shutdown", 0
        align 8
tss:    times 104 db 0
        align 8
idt:    times (0x82*8) db 0
        times (SECTORS+1)*512-($-$$) db 0
        times 1474560-($-$$) db 0
