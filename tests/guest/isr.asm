; Exception entry stubs for vectors 0-31, one interrupt stub (SELF_IPI_VECTOR) and the
; CPL 3 round trip used by the "VMCALL from CPL 3" probe. 32-bit, linked into the guest (guest.ld).

bits 32

KERNEL_DS equ 0x10
USER_CS   equ 0x18 | 3
USER_DS   equ 0x20 | 3
TV_HC_VERSION equ 0                 ; abi/hypercall.h

extern trap

section .text

; Vectors 8, 10-14, 17, 21, 29 and 30 push an error code (SDM Vol. 3A, 7.13,
; "Error Code");
; the others get a 0 so every frame has the layout of struct trapframe.
%macro ISR 1
isr%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30
%else
    push 0
%endif
    push %1
    jmp isr_common
%endmacro

%assign i 0
%rep 32
ISR i
%assign i i + 1
%endrep

; The one interrupt gate (lib.c, SELF_IPI_VECTOR): a frame like the exceptions', to trap().
global isr_self_ipi
isr_self_ipi:
    push 0
    push 0x40
    jmp isr_common

isr_common:
    pushad
    push esp                        ; struct trapframe *
    call trap
    add esp, 4
    popad
    add esp, 8                      ; vector, error code
    cmp dword [iret_step], 0        ; trap() asked for a single step over this IRETD
    jne .stepped
    iretd
.stepped:                           ; (the flags CMP sets: IRETD loads the frame's)
    mov dword [iret_step], 0
    pushfd
    or dword [esp], 0x100           ; TF, set by POPFD: a #DB trap right after the IRETD
    popfd
    iretd

section .rodata
global isr_table
isr_table:
%assign i 0
%rep 32
    dd isr %+ i
%assign i i + 1
%endrep

section .bss
saved_esp: resd 1
global iret_step
iret_step: resd 1                   ; one for all CPUs: set only while the APs are not started

section .text

; int user_enter(uint32_t eip, uint32_t esp): runs code at CPL 3 until it
; raises an exception; trap() then calls user_return(vector), which comes back
; here on the kernel stack, so this returns that vector.
; user_enter_eax(eip, esp, eax) is the same with EAX = eax at CPL 3 (user_enter's
; callers' code sets EAX itself, so the stack word it gets there does not matter).
global user_enter, user_enter_eax
user_enter:
user_enter_eax:
    push ebp
    push ebx
    push esi
    push edi
    mov [saved_esp], esp
    mov eax, [esp + 20]             ; eip
    mov ecx, [esp + 24]             ; esp
    push USER_DS                    ; IRET to an outer privilege level pops SS:ESP too
    push ecx
    pushfd                          ; IF stays 0, IOPL 0: port I/O at CPL 3 faults
    push USER_CS
    push eax
    mov dx, USER_DS
    mov ds, dx
    mov es, dx
    mov eax, [saved_esp]
    mov eax, [eax + 28]             ; the third argument
    iretd

; void user_return(int vector): called by trap() on the TSS stack; never returns.
; FS and GS too: the IRET to CPL 3 nulled them (their DPL 0 < CPL 3).
global user_return
user_return:
    mov eax, [esp + 4]
    mov dx, KERNEL_DS
    mov ds, dx
    mov es, dx
    mov fs, dx
    mov gs, dx
    mov esp, [saved_esp]
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; The CPL 3 code. Outside VMX operation VMCALL is #UD at any CPL (SDM Vol. 3C,
; 31.3, VMCALL); in VMX non-root operation it always exits, and thinvisor's ABI
; answers a caller at CPL > 0 with #UD. If VMCALL returns instead, HLT at CPL 3
; raises #GP, which brings us back all the same. The same with VMMCALL, the AMD
; hypercall, which is #UD without SVM and exits under it (APM Vol. 3, VMMCALL).
global user_vmcall, user_vmcall_insn, user_vmmcall, user_vmmcall_insn
user_vmcall:
    mov eax, TV_HC_VERSION
user_vmcall_insn:
    vmcall
    hlt
    jmp user_vmcall
user_vmmcall:
    mov eax, TV_HC_VERSION
user_vmmcall_insn:
    vmmcall
    hlt
    jmp user_vmmcall

; More CPL 3 code for probe_user: each instruction must raise #UD under thinvisor (VMX
; is hidden; VMCALL answers CPL > 0 with #UD) and natively (no VMX operation). A HLT
; after each raises #GP if it did not, which comes back all the same.
global user_vmcall_eax, user_vmxon, user_vmread, user_vmlaunch
user_vmcall_eax:
    vmcall                          ; EAX = the random function number probe_user set
    hlt
user_vmxon:
    vmxon [esp]
    hlt
user_vmread:
    vmread eax, ebx
    hlt
user_vmlaunch:
    vmlaunch
    hlt

; The same for AMD's SVM instructions, which a CPU whose EFER.SVME is clear (thinvisor
; hides SVM) answers with #UD at any CPL, before it looks at the CPL (APM Vol. 3).
global user_vmrun, user_stgi, user_vmload
user_vmrun:
    vmrun
    hlt
user_stgi:
    stgi
    hlt
user_vmload:
    vmload
    hlt

; Single-step probes (guest.c, check_single_step): POPF sets TF, and the
; single-step trap comes after the instruction that follows it (SDM Vol. 3A,
; 17.3.1.4), the one under test, whatever thinvisor did for it. Each *_after
; label is where that #DB must stop: trap() catches it at CPL 0 (step_probe,
; lib.c), probe_user at CPL 3. Without the trap, the NOP runs too and the #DB
; stops one byte further; at CPL 3 the HLT after it then raises #GP.
%macro SET_TF 0
    pushfd
    or dword [esp], 0x100
    popfd
%endmacro

global step_cpuid, step_cpuid_after, step_vmcall, step_vmcall_after
global step_vmmcall, step_vmmcall_after, step_store, step_store_after
step_cpuid:                             ; void step_cpuid(void)
    push ebx
    xor eax, eax
    xor ecx, ecx
    SET_TF
    cpuid
step_cpuid_after:
    nop
    pop ebx
    ret

step_vmcall:                            ; void step_vmcall(void): VMCALL TV_HC_VERSION
    push ebx
    mov eax, TV_HC_VERSION
    SET_TF
    vmcall
step_vmcall_after:
    nop
    pop ebx
    ret

step_vmmcall:                           ; the same on AMD
    push ebx
    mov eax, TV_HC_VERSION
    SET_TF
    vmmcall
step_vmmcall_after:
    nop
    pop ebx
    ret

step_store:                             ; void step_store(uint32_t addr): [addr] = [addr]
    push ebx
    mov ebx, [esp + 8]
    mov eax, [ebx]
    SET_TF
    mov [ebx], eax
step_store_after:
    nop
    pop ebx
    ret

; An event whose delivery exits (guest.c, check_event_redelivered): TF is set on this
; stack, then the stepped MOV moves ESP to the new one, a hidden page no one touched yet,
; where the #DB's frame goes: the push exits (EPT violation, nested page fault) amid the
; delivery. The #DB must stop at step_new_stack_after all the same.
global step_new_stack, step_new_stack_after
step_new_stack:                         ; void step_new_stack(uint32_t esp)
    push ebp
    mov ebp, esp
    mov ecx, [esp + 8]
    SET_TF
    mov esp, ecx
step_new_stack_after:
    mov esp, ebp
    pop ebp
    ret

; The same at CPL 3 (probe_user; EAX holds its argument: for the store, the address).
global user_step_cpuid, user_step_cpuid_after, user_step_store, user_step_store_after
user_step_cpuid:
    xor eax, eax
    xor ecx, ecx
    SET_TF
    cpuid
user_step_cpuid_after:
    nop
    hlt

user_step_store:
    mov edx, [eax]
    SET_TF
    mov [eax], edx
user_step_store_after:
    nop
    hlt
