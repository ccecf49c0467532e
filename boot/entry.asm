; thinvisor's first instructions: the multiboot2 handoff in 32-bit protected
; mode, early page tables, long mode, and the call into C (hv/main.c).
;
; Multiboot2 spec, 3.3 "I386 machine state": EAX holds the magic, EBX the
; physical address of the boot information, paging is off, no stack is set.

%define MB2_MAGIC          0xE85250D6
%define MB2_ARCH_I386      0
%define MB2_LOADER_MAGIC   0x36D76289
%define MB1_MAGIC          0x1BADB002
%define KERNEL_VBASE       0xFFFFFFFF80000000
%define KERNEL_LOAD        0x200000
%define EARLY_IMAGE_PAGES  4              ; 2 MiB pages of the image mapped early

%include "boot/early_serial.inc"

extern kernel_main
extern efi_entry64
extern boot_stack_top_ptr
extern kernel_bss_start_phys
extern kernel_bss_size

section .multiboot
align 8
mb2_header:
    dd MB2_MAGIC, MB2_ARCH_I386, mb2_header_end - mb2_header
    dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    align 8                               ; module alignment tag: page-aligned modules
    dw 6, 0
    dd 8
    align 8                               ; EFI boot services tag: GRUB on UEFI keeps them
    dw 7, 1                               ; (optional: other loaders may skip it)
    dd 8
    align 8                               ; EFI amd64 entry address tag (boot/efi_entry.asm)
    dw 9, 1
    dd 12
    dd efi_entry64
    align 8                               ; end tag
    dw 0, 0
    dd 8
mb2_header_end:

; A multiboot1 header too, only so that a `multiboot` (not `multiboot2`) line
; in grub.cfg reaches our entry and gets a clear message instead of a hang.
align 4
mb1_header:
    dd MB1_MAGIC, 0, -(MB1_MAGIC)

section .boot.text
bits 32
global boot_entry32
boot_entry32:
    cli
    cld
    mov esp, boot_stack32_top
    mov [boot_mb_magic], eax
    mov [boot_mb_info], ebx
    rdtsc                                 ; launch latency starts here (make bench)
    mov [boot_entry_tsc], eax
    mov [boot_entry_tsc + 4], edx
    mov eax, [boot_mb_magic]
    cmp eax, MB2_LOADER_MAGIC
    jne .bad_magic

    ; Long mode needs CPUID.80000001h:EDX.LM[29] (SDM Vol. 3A, 10.8.5).
    mov eax, 0x80000000
    cpuid
    cmp eax, 0x80000001
    jb .no_long_mode
    mov eax, 0x80000001
    cpuid
    bt edx, 29
    jnc .no_long_mode

    ; GRUB zeroes .bss when it loads an ELF; a loader that does not must not
    ; leave us with garbage in our statics.
    mov edi, kernel_bss_start_phys
    mov ecx, kernel_bss_size
    xor eax, eax
    rep stosb

    ; Early page tables: identity map of the low 4 GiB with 2 MiB pages (the
    ; multiboot info, modules, firmware tables and the future hypervisor region
    ; all lie there) and KERNEL_VBASE -> KERNEL_LOAD for the C code.
    mov edi, early_pml4
    mov ecx, 8 * 4096 / 4
    xor eax, eax
    rep stosd
    mov dword [early_pml4], early_pdpt_low + 3
    mov dword [early_pml4 + 511 * 8], early_pdpt_high + 3
    mov edi, early_pdpt_low
    mov eax, early_pd_low + 3
    mov ecx, 4
.fill_pdpt:
    mov [edi], eax
    add eax, 4096
    add edi, 8
    loop .fill_pdpt
    mov edi, early_pd_low                 ; 2048 entries of 2 MiB = 4 GiB
    xor eax, eax
    xor edx, edx
    mov ecx, 2048
.fill_pd:
    mov dword [edi], 0x83                 ; present, writable, page size
    or [edi], eax
    mov [edi + 4], edx
    add eax, 0x200000
    adc edx, 0
    add edi, 8
    loop .fill_pd
    mov dword [early_pdpt_high + 510 * 8], early_pd_high + 3
    mov edi, early_pd_high
    mov eax, KERNEL_LOAD | 0x83
    mov ecx, EARLY_IMAGE_PAGES
.fill_pd_high:
    mov [edi], eax
    add eax, 0x200000
    add edi, 8
    loop .fill_pd_high

    ; SDM Vol. 3A, 10.8.5 "Initializing IA-32e Mode": PAE, CR3, EFER.LME, PG.
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, early_pml4
    mov cr3, eax
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8
    wrmsr
    mov eax, cr0
    or eax, (1 << 31) | 1
    mov cr0, eax
    lgdt [early_gdt_ptr]
    jmp 0x08:.long_mode

bits 64
.long_mode:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    mov rax, boot_stack_top_ptr
    mov rsp, [rax]
    mov edi, [boot_mb_magic]
    mov esi, [boot_mb_info]
    mov rdx, [boot_entry_tsc]
    mov rax, kernel_main
    call rax
.hang64:
    cli
    hlt
    jmp .hang64

bits 32
.bad_magic:
    mov esi, msg_bad_magic
    call early_puts
    mov eax, [boot_mb_magic]
    call early_puthex
    mov esi, msg_bad_magic_tail
    call early_puts
    jmp early_halt
.no_long_mode:
    mov esi, msg_no_long_mode
    call early_puts
early_halt:
    cli
    hlt
    jmp early_halt

; Before C runs nothing else can report a problem: program COM1 for
; 115200 8N1 and write to it and to Bochs's port 0xE9. The transmit wait is
; bounded so a machine without a UART still reaches the halt.
early_serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                            ; no UART interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                            ; DLAB
    mov dx, COM1
    mov al, 1
    out dx, al                            ; divisor 1 = 115200 baud
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 3
    out dx, al                            ; 8N1
    mov byte [early_serial_ready], 1
    ret

; esi = NUL-terminated string
early_puts:
    cmp byte [early_serial_ready], 0
    jne .next
    call early_serial_init
.next:
    lodsb
    test al, al
    jz .done
    call early_putc
    jmp .next
.done:
    ret

; al = character
early_putc:
    push ecx
    push edx
    mov ah, al
    EARLY_SERIAL_PUTC_AH
    pop edx
    pop ecx
    ret

; eax = value to print as 8 hex digits
early_puthex:
    mov ecx, 8
    mov ebx, eax
.digit:
    rol ebx, 4
    mov eax, ebx
    and eax, 0xF
    mov al, [hex_digits + eax]
    call early_putc
    loop .digit
    ret

section .boot.data
align 8
early_gdt:
    dq 0
    dq 0x00AF9A000000FFFF                 ; 0x08: 64-bit code
    dq 0x00CF92000000FFFF                 ; 0x10: data
early_gdt_ptr:
    dw early_gdt_ptr - early_gdt - 1
    dd early_gdt
global boot_mb_magic, boot_mb_info, boot_entry_tsc
boot_mb_magic: dd 0
boot_mb_info:  dd 0
boot_entry_tsc: dq 0                      ; the TSC at the multiboot2 handoff
early_serial_ready: db 0
hex_digits: db "0123456789ABCDEF"
msg_bad_magic:
    db 13, 10, "thinvisor: FATAL: not started by a multiboot2 loader (EAX=0x", 0
msg_bad_magic_tail:
    db ", expected 0x36D76289).", 13, 10
    db "thinvisor: use 'multiboot2' (not 'multiboot') in the GRUB entry. Halted.", 13, 10, 0
msg_no_long_mode:
    db 13, 10, "thinvisor: FATAL: this CPU has no long mode (x86-64); halted.", 13, 10, 0

section .boot.bss nobits
align 4096
global early_pdpt_high, early_pd_high
early_pml4:      resb 4096
early_pdpt_low:  resb 4096
early_pdpt_high: resb 4096
early_pd_high:   resb 4096
early_pd_low:    resb 4 * 4096
boot_stack32:    resb 1024
boot_stack32_top:
