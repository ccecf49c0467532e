; efi_call6: a call into the UEFI firmware's boot or runtime services from
; thinvisor's own context (efi/efi.c's only way into the firmware). UEFI
; services may enable interrupts (UEFI spec 2.10, 7.1, RestoreTPL), whose
; handlers expect the firmware's GDT and IDT: so each call puts them back,
; from what boot/efi_entry.asm's efi_entry64 kept of the firmware's context.

extern efi_pml4, efi_fw_cr3, efi_fw_rflags, efi_fw_cs, efi_fw_ss, efi_fw_ds
extern efi_fw_gdtr, efi_fw_idtr

bits 64

; uint64_t efi_call6(uint64_t fn, uint64_t a1, ..., uint64_t a6)
;
; Calls a UEFI service (Microsoft x64 convention, UEFI spec 2.3.4) from
; thinvisor's context: on the firmware's GDT, IDT and interrupt flag, and on
; the copy of its page tables (efi_pml4) with the kernel's top slot as it is
; now, so that pointers into thinvisor's image stay valid for the firmware.
; BSP only, before any guest runs.
section .text
global efi_call6
efi_call6:
    push rbp
    mov rbp, rsp
    push rbx
    push r12
    push r13
    push r14
    push r15
    sub rsp, 40
    sgdt [rsp]                            ; thinvisor's GDTR at rsp, IDTR at rsp + 16
    sidt [rsp + 16]
    mov r15, rsp
    mov r11, rcx
    mov r10, rdx
    mov ecx, 0xC0000101                   ; IA32_GS_BASE (the per-CPU block): the
    rdmsr                                 ; firmware's handlers reload GS
    mov [rsp + 32], eax
    mov [rsp + 36], edx
    mov rdx, r10
    mov rcx, r11
    mov r13, cs
    mov r14, ss
    mov rax, cr3
    mov r12, rax                          ; r12-r15 survive the call (UEFI spec, 2.3.4.1)
    and rax, ~0xFFF
    mov rbx, [rax + 511 * 8]              ; the kernel's mapping, wherever it runs now
    mov [efi_pml4 + 511 * 8], rbx
    mov rax, [efi_fw_cr3]
    and rax, 0xFFF
    or rax, efi_pml4
    mov cr3, rax
    mov rbx, rdi                          ; the service
    mov r10, [rbp + 16]                   ; a6
    lgdt [efi_fw_gdtr]
    movzx eax, word [efi_fw_cs]
    push rax
    lea rax, [rel .fw_cs]
    push rax
    retfq
.fw_cs:
    mov ax, [efi_fw_ss]
    mov ss, ax
    mov ax, [efi_fw_ds]                   ; the firmware's handlers save and reload them
    mov ds, ax
    mov es, ax
    lidt [efi_fw_idtr]
    and rsp, ~0xF
    sub rsp, 48                           ; home space for four, then a5 and a6
    mov [rsp + 32], r9
    mov [rsp + 40], r10
    mov r9, r8                            ; SysV a1..a4 (rsi, rdx, rcx, r8) -> rcx, rdx, r8, r9
    mov r8, rcx
    mov rcx, rsi
    test qword [efi_fw_rflags], 1 << 9
    jz .call
    sti
.call:
    call rbx
    cli
    mov rsp, r15
    lgdt [rsp]
    push r13
    lea rdx, [rel .own_cs]
    push rdx
    retfq
.own_cs:
    mov ss, r14
    mov ds, r14
    mov es, r14
    lidt [rsp + 16]
    mov rdx, r12
    mov cr3, rdx
    mov rbx, rax
    mov ecx, 0xC0000101
    mov eax, [rsp + 32]
    mov edx, [rsp + 36]
    wrmsr
    mov rax, rbx
    add rsp, 40
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    ret
