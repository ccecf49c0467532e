; Where a SIPI starts an application processor of the test guest (smp.c).
;
; A SIPI with vector VV starts a processor that waits for it in real mode at
; CS = VV00h, IP = 0, so at physical address VV000h (SDM Vol. 3A, 9.4.4.1 and
; 9.4.3): this code must be the first byte of a page below 1 MiB. guest.ld
; places section .trampoline so and asserts it. From here the AP goes to 32-bit
; flat protected mode (SDM Vol. 3A, 10.9.1), takes the stack and the index the
; BSP left in ap_boot_stack and ap_boot_index, and calls ap_main(index). Only
; one AP runs this at a time: the BSP starts them one by one.

bits 16

extern ap_main, ap_boot_stack, ap_boot_index

section .trampoline progbits alloc exec nowrite align=16

global ap_trampoline
ap_trampoline:
    cli
    cld
    ; Real-mode addresses are relative to CS, which is this page: take the
    ; GDTR operand by its offset in the page.
    o32 lgdt [cs:gdtr - ap_trampoline]
    ; INIT leaves CR0 = 60000010h: caches off, CD and NW set (SDM Vol. 3A,
    ; Table 10-1). Turn them on with the same write that sets PE, as an OS does.
    mov eax, cr0
    and eax, ~0x60000000
    or al, 1
    mov cr0, eax
    jmp dword 0x08:ap_pm32          ; a 32-bit offset: ap_pm32 is in .text, above this page

align 8
gdt:                                ; the same selectors as boot.asm's and lib.c's GDT
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08: code, base 0, limit 4 GiB, 32-bit
    dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB
gdtr:
    dw gdtr - gdt - 1
    dd gdt                          ; a linear address (the link address is physical)

global ap_trampoline_end
ap_trampoline_end:

section .text
bits 32

ap_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [ap_boot_stack]
    push dword [ap_boot_index]
    call ap_main                    ; checks in, returns
.halt:                              ; and waits for the next INIT
    cli
    hlt
    jmp .halt
