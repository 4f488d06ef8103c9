; Boot-sector guest: finds a 640x480 32-bpp VBE mode with a linear framebuffer through
; 4F00h/4F01h, sets it with 4F02h (bit 14: LFB), and from unreal mode writes the pixel
; (x & 255) << 16 | (y & 255) << 8 | ((x ^ y) & 255) at (x, y) into the framebuffer at
; the PhysBasePtr the BIOS reported; then halts. tests/vga_guest.rs compares a screenshot
; with vbe32.png, recorded from QEMU running this same disk.
        org 0x7C00
        bits 16
start:  cli
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7C00
        mov ax, 0x0060
        mov es, ax
        xor di, di
        mov dword [es:0], 'VBE2'
        mov ax, 0x4F00
        int 0x10
        cmp ax, 0x004F
        jne fail
        lfs si, [es:14]         ; the mode list
next:   mov cx, [fs:si]
        cmp cx, 0xFFFF
        je fail
        add si, 2
        mov ax, 0x0080
        mov es, ax
        xor di, di
        mov ax, 0x4F01
        int 0x10
        cmp ax, 0x004F
        jne next
        cmp word [es:0x12], 640
        jne next
        cmp word [es:0x14], 480
        jne next
        cmp byte [es:0x19], 32
        jne next
        test byte [es:0], 0x80
        jz next
        mov ebp, [es:0x28]      ; framebuffer address
        movzx esi, word [es:0x10] ; bytes per scan line
        mov bx, cx
        or bx, 0x4000
        mov ax, 0x4F02
        int 0x10
        cmp ax, 0x004F
        jne fail
        ; Unreal mode: GS with a 4 GiB limit.
        cli
        lgdt [gdt_desc]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp short .pm
.pm:    mov bx, 8
        mov gs, bx
        and al, 0xFE
        mov cr0, eax
        jmp short .rm
.rm:    xor bx, bx              ; y
.row:   mov edi, ebp
        xor cx, cx              ; x
.px:    movzx eax, cl
        shl eax, 16
        mov ah, bl
        mov al, cl
        xor al, bl
        mov [gs:edi], eax
        add edi, 4
        inc cx
        cmp cx, 640
        jne .px
        add ebp, esi
        inc bx
        cmp bx, 480
        jne .row
        jmp halt
fail:   mov ax, 0x0003
        int 0x10
halt:   cli
        hlt
        jmp halt
        align 8
gdt:    dq 0
        dq 0x00CF92000000FFFF   ; data, base 0, limit 4 GiB
gdt_desc:
        dw 15
        dd gdt
        times 510-($-$$) db 0
        dw 0xAA55
        times 1474560-($-$$) db 0
