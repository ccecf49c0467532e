; The last instructions thinvisor runs on a CPU that leaves virtualization at
; run time (guest/leave.c). leave_stub is copied to offset 0 of a page the
; caller of TV_HC_OFF gave up, its struct leave_frame to LEAVE_FRAME_OFFSET;
; the page is then mapped at the same linear address in thinvisor's tables
; and in the guest's (as a supervisor page), so the code goes on after the
; CR3 load that switches from one to the other. It runs at CPL 0 with
; interrupts off, after VMXOFF (or with EFER.SVME still set and GIF clear,
; after a VMLOAD of the guest's VMCB), EFER already the guest's but for SVME
; (its NXE makes the XD bits of the guest's tables valid, SDM Vol. 3A,
; 4.5.4), and ends at the guest's next instruction with the guest's
; registers: IRETQ.
;
; The offsets below are struct leave_frame's (guest/leave.h checks them).

%define LEAVE_FRAME_OFFSET 0x800
%define F_CR0       0
%define F_CR3       8
%define F_CR4       16
%define F_EFER      24
%define F_DR7       32
%define F_FS_BASE   40
%define F_GS_BASE   48
%define F_GDTR      56      ; 6 bytes of padding, then limit (2) and base (8)
%define F_IDTR      72
%define F_DS        88
%define F_ES        90
%define F_FS        92
%define F_GS        94
%define F_LDTR      96
%define F_TR        98
%define F_FLAGS     100
%define F_GPRS      104     ; struct guest_regs: rax rcx rdx rbx rbp rsi rdi r8-r15
%define F_IRET      224     ; rip cs rflags rsp ss

%define LEAVE_LOAD_SEGMENTS 1   ; VT-x: LDTR, TR, FS and GS from the frame (SVM: VMLOAD did)
%define LEAVE_STGI          2   ; SVM: GIF back on before EFER.SVME goes

%define CR0_WP      (1 << 16)
%define CR4_PGE     (1 << 7)
%define CR4_PCIDE   (1 << 17)
%define CR4_CET     (1 << 23)
%define MSR_STAR    0xC0000081
%define MSR_EFER    0xC0000080
%define MSR_FS_BASE 0xC0000100
%define MSR_GS_BASE 0xC0000101

section .rodata
bits 64

global leave_stub, leave_stub_end
leave_stub:
    ; A stack at the page's end, clear of the frame: an NMI until the IRETQ
    ; pushes its frame on whatever stack is current.
    lea rsp, [rel leave_stub + 0x1000]
    ; Write protection off until LTR has set its TSS descriptor's busy bit: an
    ; OS may map its GDT read-only (Linux does, and switches to a writable
    ; alias for its own LTR, SDM Vol. 3A, 8.2.4). CR4.CET stays off until WP
    ; is back (CET needs WP, SDM Vol. 3A, 2.5).
    mov rax, [rel frame + F_CR0]
    and rax, ~CR0_WP
    mov cr0, rax
    ; The guest's tables first without PCIDs: CR4.PCIDE can only be set while
    ; CR3[11:0] is 0 (SDM Vol. 3A, 4.10.1), and this load of CR3 drops every
    ; non-global entry of PCID 0, thinvisor's (it makes no global ones).
    mov rax, [rel frame + F_CR4]
    and rax, ~(CR4_PGE | CR4_PCIDE | CR4_CET)
    mov cr4, rax
    mov rax, [rel frame + F_CR3]
    mov rcx, 0x000FFFFFFFFFF000
    and rax, rcx
    mov cr3, rax
    ; The OS's descriptor tables at once: an NMI from here on goes to its handler.
    lgdt [rel frame + F_GDTR + 6]
    lidt [rel frame + F_IDTR + 6]
    ; Then CR3 with its PCID (bit 63 clear: that PCID's entries go, among them
    ; the one that let CPL 3 use this page).
    mov rax, [rel frame + F_CR4]
    and rax, ~(CR4_PGE | CR4_CET)
    mov cr4, rax
    mov rax, [rel frame + F_CR3]
    btr rax, 63
    mov cr3, rax
    ; CS and SS are still thinvisor's selectors, which mean other descriptors
    ; in the OS's GDT: an NMI handler's IRETQ would load those. The OS's own
    ; kernel code and stack segments are the ones SYSCALL loads (STAR[47:32]
    ; and 8 above it, SDM Vol. 2B, SYSCALL); an OS without SYSCALL keeps the
    ; window open.
    mov ecx, MSR_STAR
    rdmsr
    movzx eax, dx
    test eax, eax
    jz .kernel_segments
    lea rcx, [rel .kernel_cs]
    push rax
    push rcx
    retfq
.kernel_cs:
    add eax, 8
    mov ss, ax
.kernel_segments:
    test dword [rel frame + F_FLAGS], LEAVE_LOAD_SEGMENTS
    jz .segments_loaded
    lldt [rel frame + F_LDTR]
    mov ax, [rel frame + F_TR]
    test ax, ax
    jz .tr_loaded                        ; a null TR (no TSS): nothing to load
    ltr ax                               ; its descriptor's busy bit was cleared for this
.tr_loaded:
    mov ax, [rel frame + F_FS]
    mov fs, ax
    mov ax, [rel frame + F_GS]
    mov gs, ax
    mov ecx, MSR_FS_BASE                 ; after the selectors, which load 32-bit bases
    mov eax, [rel frame + F_FS_BASE]
    mov edx, [rel frame + F_FS_BASE + 4]
    wrmsr
    mov ecx, MSR_GS_BASE
    mov eax, [rel frame + F_GS_BASE]
    mov edx, [rel frame + F_GS_BASE + 4]
    wrmsr
.segments_loaded:
    mov rax, [rel frame + F_CR0]
    mov cr0, rax
    mov rax, [rel frame + F_CR4]         ; global pages and CET as the OS had them
    mov cr4, rax
    mov ax, [rel frame + F_DS]
    mov ds, ax
    mov ax, [rel frame + F_ES]
    mov es, ax
    test dword [rel frame + F_FLAGS], LEAVE_STGI
    jz .gif_set
    stgi                                 ; needs EFER.SVME, which goes next
.gif_set:
    mov ecx, MSR_EFER
    mov eax, [rel frame + F_EFER]
    mov edx, [rel frame + F_EFER + 4]
    wrmsr
    mov rax, [rel frame + F_DR7]
    mov dr7, rax
    lea rsp, [rel frame + F_IRET]
    mov rcx, [rel frame + F_GPRS + 1 * 8]
    mov rdx, [rel frame + F_GPRS + 2 * 8]
    mov rbx, [rel frame + F_GPRS + 3 * 8]
    mov rbp, [rel frame + F_GPRS + 4 * 8]
    mov rsi, [rel frame + F_GPRS + 5 * 8]
    mov rdi, [rel frame + F_GPRS + 6 * 8]
    mov r8,  [rel frame + F_GPRS + 7 * 8]
    mov r9,  [rel frame + F_GPRS + 8 * 8]
    mov r10, [rel frame + F_GPRS + 9 * 8]
    mov r11, [rel frame + F_GPRS + 10 * 8]
    mov r12, [rel frame + F_GPRS + 11 * 8]
    mov r13, [rel frame + F_GPRS + 12 * 8]
    mov r14, [rel frame + F_GPRS + 13 * 8]
    mov r15, [rel frame + F_GPRS + 14 * 8]
    mov rax, [rel frame + F_GPRS]
    iretq
leave_stub_end:

; The stub's code must end before its frame: LEAVE_FRAME_OFFSET apart in the page.
frame equ leave_stub + LEAVE_FRAME_OFFSET
%if leave_stub_end - leave_stub > LEAVE_FRAME_OFFSET
%error "leave_stub is longer than LEAVE_FRAME_OFFSET"
%endif

; Where guest/leave.c writes the frame in the page: this file holds the offset, C reads it.
section .rodata
global leave_frame_offset
align 4
leave_frame_offset: dd LEAVE_FRAME_OFFSET

section .text
; void leave_jump(uint64_t page, uint64_t via) __attribute__((noreturn)): to the stub's copy
; at `page`, through `via` when not 0 (leave_la57_entry's identity address).
global leave_jump
leave_jump:
    test rsi, rsi
    jz .stub
    jmp rsi
.stub:
    jmp rdi

; void leave_jump_svm(uint64_t page, uint64_t guest_vmcb, uint64_t via) noreturn: the guest's
; FS, GS, TR, LDTR, KernelGsBase and syscall MSRs from its VMCB (VMLOAD), then as leave_jump.
; After the VMLOAD no C may run: this_cpu() reads the host's GS base.
global leave_jump_svm
leave_jump_svm:
    mov rax, rsi
    vmload
    mov rsi, rdx
    jmp leave_jump

; The way to the stub for an OS that runs 5-level paging (CR4.LA57), which
; thinvisor does not: LA57 changes only while paging is off (SDM Vol. 3A,
; 4.1.2), so this code, at its identity address below 4 GiB, steps down to
; compatibility mode, turns paging off, sets LA57, loads a PML5 whose first
; and last entries point at thinvisor's PML4 (the same mappings, the stub's
; page among them) and turns paging on again; then to the stub, whose address
; (RDI) crosses the 32-bit code as two halves: the upper 32 bits of the
; registers do not survive it (SDM Vol. 1, 3.4.1.1). guest/leave.c fills the
; words below at launch.
section .data
align 8
global leave_la57_pml5, leave_la57_far, leave_la57_gdtr_base
leave_la57_pml5:   dq 0                 ; below 4 GiB
leave_la57_far:    dd 0                 ; leave_la57_long's identity address...
                   dw 0x08              ; ...and the 64-bit code selector below
align 8
global leave_la57_gdt
leave_la57_gdt:
    dq 0
    dq 0x00AF9A000000FFFF               ; 0x08: 64-bit code
    dq 0x00CF9A000000FFFF               ; 0x10: 32-bit code
    dq 0x00CF92000000FFFF               ; 0x18: data
leave_la57_gdt_end:
    dw 0, 0, 0                          ; so that the base below is 8-byte aligned
leave_la57_gdtr:
    dw leave_la57_gdt_end - leave_la57_gdt - 1
leave_la57_gdtr_base:
    dq 0                                ; leave_la57_gdt's identity address

section .text
bits 64
global leave_la57_entry, leave_la57_long
leave_la57_entry:
    lgdt [rel leave_la57_gdtr]
    mov esi, [rel leave_la57_pml5]
    lea ebx, [rel leave_la57_far]       ; identity addresses: all below 4 GiB
    mov rbp, rdi
    shr rbp, 32                         ; EBP: the page's upper half, EDI its lower
    push 0x10
    lea rax, [rel .compat]
    push rax
    retfq
bits 32
.compat:
    mov eax, cr0
    and eax, ~(1 << 31)
    mov cr0, eax                        ; paging off: IA-32e mode inactive
    mov eax, cr4
    or eax, 1 << 12
    mov cr4, eax                        ; LA57
    mov cr3, esi
    mov eax, cr0
    or eax, 1 << 31
    mov cr0, eax                        ; IA-32e mode again, 5-level paging
    jmp far [ebx]
bits 64
leave_la57_long:
    mov eax, edi
    shl rbp, 32
    or rax, rbp
    jmp rax
