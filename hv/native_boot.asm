; Booting the guest chain without virtualization (no VMX, or VMX unusable):
; leave long mode the way SDM Vol. 3A, 10.8.5.4 describes (compatibility mode,
; paging off, EFER.LME off), drop to real mode and jump to the guest's first
; instruction (the boot sector at 0000:7C00, or the INT 13h loader of
; guest/bios_hooks.asm) with DL = the drive, as a BIOS would. The blob runs from
; NATIVE_BOOT_ADDR, in the 3 KiB below the boot sector, which a boot sector
; cannot expect to hold anything; hv/native_boot.c copies it there.

%define NATIVE_BOOT_ADDR 0x7000
%define A(l) ((l) - native_boot_start + NATIVE_BOOT_ADDR)

section .rodata
bits 64
global native_boot_start, native_boot_end, native_boot_drive, native_boot_target
native_boot_start:
    cli
    lgdt [A(nb_gdt_ptr)]
    push 0x08                             ; 32-bit code: compatibility mode
    push A(nb_compat)
    retfq

bits 32
nb_compat:
    mov eax, cr0
    and eax, ~(1 << 31)                   ; paging off: IA-32e mode is no longer active
    mov cr0, eax
    mov ecx, 0xC0000080
    rdmsr
    and eax, ~(1 << 8)                    ; EFER.LME off
    wrmsr
    xor eax, eax
    mov cr4, eax
    mov cr3, eax
    jmp 0x10:A(nb_pm16)

bits 16
nb_pm16:
    mov ax, 0x18                          ; 16-bit data, limit 64 KiB: real-mode-like caches
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, cr0
    and eax, ~1                           ; PE off: real mode
    mov cr0, eax
    jmp 0:A(nb_real)
nb_real:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov sp, 0x7C00
    lidt [A(nb_ivt_ptr)]
    mov dl, [A(native_boot_drive)]
    sti
    jmp far [A(native_boot_target)]

align 8
nb_gdt:
    dq 0
    dq 0x00CF9A000000FFFF                 ; 0x08: 32-bit code, flat
    dq 0x00009A000000FFFF                 ; 0x10: 16-bit code, base 0, limit 64 KiB
    dq 0x000092000000FFFF                 ; 0x18: 16-bit data, base 0, limit 64 KiB
nb_gdt_ptr:
    dw nb_gdt_ptr - nb_gdt - 1
    dq A(nb_gdt)
nb_ivt_ptr:
    dw 0x3FF                              ; the real-mode IVT at 0
    dd 0
native_boot_target:
    dw 0x7C00, 0                          ; offset, segment
native_boot_drive:
    db 0x80
native_boot_end:
