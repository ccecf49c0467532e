; thinvisor's way in on UEFI, and the two ways back into the firmware.
;
; GRUB's x86_64-efi `multiboot2` jumps to efi_entry64 (the EFI amd64 entry
; address tag of boot/entry.asm's header) in 64-bit mode, on the firmware's
; page tables, GDT, IDT and stack, with its boot services still running
; (Multiboot2 spec, 3.3, "EFI amd64 machine state with boot services
; enabled": EAX the magic, RBX the boot information). The rest of thinvisor
; runs on its own GDT and IDT, so:
;  - efi_entry64 keeps the firmware's state, maps the kernel at KERNEL_VBASE
;    in a copy of the firmware's top-level page table and calls kernel_main;
;  - efi_call6 (efi/call.asm, for efi/efi.c) calls a firmware service with
;    the firmware's GDT, IDT and interrupt flag back in place, from what
;    efi_entry64 kept here (efi_fw_*, efi_pml4);
;  - efi_start_next runs the next boot stage (StartImage) in the firmware's
;    own context: its page tables too, and a stack outside the hypervisor
;    region. It lives in .boot, memory the firmware identity-maps, so the next
;    loader keeps nothing of thinvisor's but this page of code.

%define KERNEL_LOAD        0x200000
%define EARLY_IMAGE_PAGES  4
%define CR4_LA57           (1 << 12)

%include "boot/early_serial.inc"

; SAVE_MSR msr, dest: the 64-bit MSR into memory (clobbers eax, ecx, edx).
%macro SAVE_MSR 2
    mov ecx, %1
    rdmsr
    mov [%2], eax
    mov [%2 + 4], edx
%endmacro

; RESTORE_MSR msr, src: the reverse (clobbers eax, ecx, edx).
%macro RESTORE_MSR 2
    mov ecx, %1
    mov eax, [%2]
    mov edx, [%2 + 4]
    wrmsr
%endmacro

extern kernel_main
extern boot_stack_top_ptr
extern kernel_bss_start_phys
extern kernel_bss_size
extern early_pdpt_high, early_pd_high
extern boot_mb_magic, boot_mb_info, boot_entry_tsc

section .boot.text
bits 64
global efi_entry64
efi_entry64:
    cli
    cld
    mov [boot_mb_magic], eax
    mov [boot_mb_info], ebx
    rdtsc                                 ; launch latency starts here (make bench)
    mov [boot_entry_tsc], eax
    mov [boot_entry_tsc + 4], edx
    pushfq
    pop qword [efi_fw_rflags]
    sgdt [efi_fw_gdtr]
    sidt [efi_fw_idtr]
    mov [efi_fw_cs], cs
    mov [efi_fw_ss], ss
    mov [efi_fw_ds], ds
    mov rax, cr3
    mov [efi_fw_cr3], rax
    ; The rest of the firmware's context, for the guest that continues in it
    ; (efi/next_stage.c, efi_guest_state): thinvisor changes CR0, CR4, EFER
    ; and GS_BASE.
    mov [efi_fw_es], es
    mov [efi_fw_fs], fs
    mov [efi_fw_gs], gs
    str word [efi_fw_tr]
    sldt word [efi_fw_ldtr]
    mov rax, cr0
    mov [efi_fw_cr0], rax
    mov rax, cr4
    mov [efi_fw_cr4], rax
    SAVE_MSR 0xC0000080, efi_fw_efer      ; IA32_EFER
    SAVE_MSR 0x277, efi_fw_pat            ; IA32_PAT
    SAVE_MSR 0xC0000100, efi_fw_fs_base   ; IA32_FS_BASE
    SAVE_MSR 0xC0000101, efi_fw_gs_base   ; IA32_GS_BASE
    SAVE_MSR 0xC0000102, efi_fw_kernel_gs_base

    ; Five-level paging would need a PML5 walk to reach the PML4 copied below.
    mov rax, cr4
    test eax, CR4_LA57
    jnz .la57

    ; As boot_entry32: GRUB zeroes .bss, a loader that does not must not leave garbage.
    mov edi, kernel_bss_start_phys
    mov ecx, kernel_bss_size
    xor eax, eax
    rep stosb

    ; The firmware's page tables stay as they are (the firmware may protect
    ; them, and its services keep using them); a copy of its PML4 gets the
    ; kernel's mapping in the top slot (KERNEL_VBASE -> KERNEL_LOAD, 2 MiB pages).
    mov rsi, [efi_fw_cr3]
    and rsi, ~0xFFF
    mov rdi, efi_pml4
    mov ecx, 512
    rep movsq
    cmp qword [efi_pml4 + 511 * 8], 0
    jne .top_slot_used
    mov edi, early_pd_high
    mov ecx, 512
    xor eax, eax
    rep stosq
    mov edi, early_pdpt_high
    mov ecx, 512
    rep stosq
    mov qword [early_pdpt_high + 510 * 8], early_pd_high + 3
    mov edi, early_pd_high
    mov eax, KERNEL_LOAD | 0x83           ; present, writable, page size
    mov ecx, EARLY_IMAGE_PAGES
.fill_pd_high:
    mov [rdi], rax
    add rax, 0x200000
    add rdi, 8
    loop .fill_pd_high
    mov qword [efi_pml4 + 511 * 8], early_pdpt_high + 3
    mov rax, [efi_fw_cr3]
    and rax, 0xFFF                        ; the firmware's PCD/PWT bits
    or rax, efi_pml4
    mov cr3, rax

    mov rax, boot_stack_top_ptr
    mov rsp, [rax]
    mov edi, [boot_mb_magic]
    mov esi, [boot_mb_info]
    mov rdx, [boot_entry_tsc]
    mov rax, kernel_main
    call rax
.hang:
    cli
    hlt
    jmp .hang

.la57:
    mov rsi, msg_la57
    jmp .fatal
.top_slot_used:
    mov rsi, msg_top_slot
.fatal:
    call efi_early_puts
    mov rax, [efi_fw_cr3]
    mov cr3, rax
    jmp .hang

; rsi = NUL-terminated message, to the serial port the firmware set up.
efi_early_puts:
    lodsb
    test al, al
    jz .done
    mov ah, al
    EARLY_SERIAL_PUTC_AH
    jmp efi_early_puts
.done:
    ret

; Starts the next boot stage in the firmware's context: page tables, GDT,
; IDT, flags, then BootServices->StartImage(efi_next_image, NULL, NULL), or
; without an image Exit(efi_next_parent, efi_next_status) at once: GRUB's
; image ends and the firmware's boot manager goes on with its BootOrder.
; Entered with interrupts off from any context that identity-maps .boot:
; thinvisor's (a native start) or the guest's first state, which is the
; firmware's already (efi/next_stage.c, efi_guest_state). If the loader
; comes back, the firmware's console says so and Exit() gives the machine
; back to the firmware's boot manager, which goes on with the next boot
; option.
global efi_start_next
efi_start_next:
    cli
    mov rax, [efi_fw_cr3]
    mov cr3, rax
    lgdt [efi_fw_gdtr]
    mov rsp, efi_next_stack_top
    movzx eax, word [efi_fw_cs]
    push rax
    push qword .fw_cs
    retfq
.fw_cs:
    mov ax, [efi_fw_ss]
    mov ss, ax
    mov ax, [efi_fw_ds]
    mov ds, ax
    mov es, [efi_fw_es]
    mov fs, [efi_fw_fs]                   ; a selector load sets the base from the
    mov gs, [efi_fw_gs]                   ; descriptor: the MSRs' values come after
    RESTORE_MSR 0xC0000100, efi_fw_fs_base
    RESTORE_MSR 0xC0000101, efi_fw_gs_base ; thinvisor's per-CPU block until now
    lidt [efi_fw_idtr]
    push qword [efi_fw_rflags]
    popfq
    sub rsp, 32                           ; the callee's home space (UEFI spec, 2.3.4.2)
    mov rcx, [efi_next_image]
    test rcx, rcx                         ; none: the boot manager goes on (efi_next_status)
    jz .exit
    xor edx, edx
    xor r8d, r8d
    call [efi_next_start_image]
    mov [efi_next_status], rax
    mov rcx, [efi_next_conout]
    test rcx, rcx
    jz .exit
    mov rdx, msg_returned
    call [efi_next_output_string]
.exit:
    mov rcx, [efi_next_parent]
    mov rdx, [efi_next_status]
    xor r8d, r8d
    xor r9d, r9d
    call [efi_next_exit]
.halt:
    hlt
    jmp .halt

section .boot.data
align 8
; The firmware's context at efi_entry64: struct efi_firmware_context
; (efi/next_stage.c), in this order.
global efi_fw_context
global efi_fw_cr3, efi_fw_rflags, efi_fw_cs, efi_fw_ss, efi_fw_ds, efi_fw_gdtr, efi_fw_idtr
global efi_pml4
efi_fw_context:
efi_fw_cr3:     dq 0
efi_fw_rflags:  dq 0
efi_fw_cr0:     dq 0
efi_fw_cr4:     dq 0
efi_fw_efer:    dq 0
efi_fw_pat:     dq 0
efi_fw_fs_base: dq 0
efi_fw_gs_base: dq 0
efi_fw_kernel_gs_base: dq 0
efi_fw_es:      dw 0                  ; the selectors in the VMCS's order
efi_fw_cs:      dw 0
efi_fw_ss:      dw 0
efi_fw_ds:      dw 0
efi_fw_fs:      dw 0
efi_fw_gs:      dw 0
efi_fw_ldtr:    dw 0
efi_fw_tr:      dw 0
efi_fw_gdtr:    dw 0
                dq 0
                dw 0, 0, 0
efi_fw_idtr:    dw 0
                dq 0
                dw 0, 0, 0
; Filled by efi/next_stage.c before efi_start_next (struct efi_next_stage).
efi_next_image:         dq 0
efi_next_start_image:   dq 0
efi_next_parent:        dq 0
efi_next_exit:          dq 0
efi_next_conout:        dq 0
efi_next_output_string: dq 0
efi_next_status:        dq 0
msg_returned:   ; UCS-2, for the firmware's console
    dw __utf16__("thinvisor: the next boot loader returned; back to the firmware's boot manager")
    dw 13, 10, 0
msg_la57:
    db 13, 10, "thinvisor: FATAL: the firmware runs with 5-level paging, which thinvisor "
    db "does not handle yet; halted.", 13, 10, 0
msg_top_slot:
    db 13, 10, "thinvisor: FATAL: the firmware maps the top 512 GiB of the address space, "
    db "where thinvisor runs; halted.", 13, 10, 0

; The kernel's C code reaches .boot (linked below 2 GiB) through absolute addresses.
section .data
global efi_next_stage_ptr, efi_start_next_ptr, efi_fw_context_ptr, efi_next_stack_top_ptr
efi_next_stage_ptr: dq efi_next_image
efi_start_next_ptr: dq efi_start_next
efi_fw_context_ptr: dq efi_fw_context
efi_next_stack_top_ptr: dq efi_next_stack_top

section .boot.bss nobits
align 4096
efi_pml4:           resb 4096
efi_next_stack:     resb 16384
efi_next_stack_top:
