; The test guest's ACPI S3 waking vector (power.c, suspend_s3). The firmware's
; resume path (or thinvisor's, which starts the guest as the firmware would)
; jumps here in real mode with CS = vector >> 4 and IP = vector & 0xF (ACPI
; 6.5, 5.2.10): so this code starts 16-byte aligned, at IP 0, and addresses its
; data from CS. It goes to 32-bit flat protected mode as ap_trampoline.asm
; does, takes the stack power.c left in s3_wake_esp and calls s3_resumed.

bits 16

extern s3_resumed, s3_wake_esp

section .text.s3wake progbits alloc exec nowrite align=16

global s3_wake
s3_wake:
    cli
    cld
    o32 lgdt [cs:gdtr - s3_wake]
    mov eax, cr0
    and eax, ~0x60000000            ; caches on, should a reset have left them off
    or al, 1
    mov cr0, eax
    jmp dword 0x08:s3_pm32

align 8
gdt:                                ; the same selectors as boot.asm's and lib.c's GDT
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08: code, base 0, limit 4 GiB, 32-bit
    dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB
gdtr:
    dw gdtr - gdt - 1
    dd gdt                          ; a linear address (the link address is physical)

section .text
bits 32

s3_pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov esp, [s3_wake_esp]
    call s3_resumed                 ; ends the run
.halt:
    cli
    hlt
    jmp .halt
