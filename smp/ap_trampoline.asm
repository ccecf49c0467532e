; AP start-up trampoline. The BSP copies this blob to a free page below 1 MiB,
; fills in the data fields at the end and sends INIT-SIPI-SIPI with that page
; as the vector (smp/smp.c). The AP starts in real mode at page:0 and goes
; straight to long mode (SDM Vol. 3A, 10.8.5: PAE, CR3, EFER.LME, then PE and
; PG together), on the hypervisor's page tables, then jumps to ap_entry in C.
; Everything here is position-independent except the far jump, whose target
; the BSP patches. At an ACPI S3 wake the same code is the boot processor's
; waking vector (guest/s3.c).

%define TR_GDT_CODE 0x08
%define TR_GDT_DATA 0x10

section .rodata
bits 16
align 16
global ap_trampoline_start, ap_trampoline_end
global ap_tr_gdt, ap_tr_gdt_base, ap_tr_long, ap_tr_ljmp_target, ap_tr_cr3, ap_tr_stack, ap_tr_entry, ap_tr_percpu
ap_trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    lgdt [ap_tr_gdt_ptr - ap_trampoline_start]
    ; CR4 and EFER exactly: an AP comes from INIT with both 0, but at an S3
    ; wake the boot processor comes from the firmware, which may have left
    ; bits set (LA57 would turn the 4-level tables into 5-level ones).
    mov eax, 1 << 5                         ; CR4.PAE alone
    mov cr4, eax
    mov eax, [ap_tr_cr3 - ap_trampoline_start]
    mov cr3, eax
    mov ecx, 0xC0000080                     ; EFER.LME alone
    mov eax, 1 << 8
    xor edx, edx
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1                   ; PG | PE
    mov cr0, eax
    db 0x66, 0xEA                           ; jmp dword TR_GDT_CODE:ap_tr_long (linear)
ap_tr_ljmp_target:
    dd 0
    dw TR_GDT_CODE

bits 64
ap_tr_long:
    mov ax, TR_GDT_DATA
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, [rel ap_tr_stack]
    mov rdi, [rel ap_tr_percpu]
    mov rax, [rel ap_tr_entry]
    push 0                                  ; no return: keeps the ABI's stack alignment
    jmp rax

align 16
ap_tr_gdt:
    dq 0
    dq 0x00AF9A000000FFFF                   ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF                   ; 0x10: data
ap_tr_gdt_ptr:
    dw ap_tr_gdt_ptr - ap_tr_gdt - 1
ap_tr_gdt_base:
    dd 0                                    ; patched: linear address of ap_tr_gdt
align 8
ap_tr_cr3:    dq 0                          ; patched: the hypervisor's CR3 (below 4 GiB)
ap_tr_stack:  dq 0                          ; patched per AP: its stack top
ap_tr_entry:  dq 0                          ; patched: address of ap_entry
ap_tr_percpu: dq 0                          ; patched per AP: its struct percpu
ap_trampoline_end:
