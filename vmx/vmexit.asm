; VM-exit entry and VM launch. On a VM exit the CPU loads the host state from
; the VMCS (SDM Vol. 3C, 28.5): RIP = vmx_exit_stub, RSP = 8 bytes below the
; top of this CPU's stack (vmx/vmx.c), so that 15 pushes leave it 16-byte
; aligned for the call. The stub saves every guest GPR in a struct guest_regs
; (guest/regs.h) on that stack and calls vmx_exit_dispatch (vmx/exit.c),
; which handles the exit and does not return: it ends in vmx_resume_guest,
; which takes RSP back to the saved GPRs, restores them and resumes the guest.
; The dispatcher's own frame, below them, is dropped, its saved registers
; with it: every GPR comes back from the struct.

%include "guest/regs.inc"

extern vmx_exit_dispatch
extern vmx_resume_failed

section .text
bits 64

%macro PUSH_GUEST_GPRS 0
    push r15
    push r14
    push r13
    push r12
    push r11
    push r10
    push r9
    push r8
    push rdi
    push rsi
    push rbp
    push rbx
    push rdx
    push rcx
    push rax
%endmacro

%macro POP_GUEST_GPRS 0
    pop rax
    pop rcx
    pop rdx
    pop rbx
    pop rbp
    pop rsi
    pop rdi
    pop r8
    pop r9
    pop r10
    pop r11
    pop r12
    pop r13
    pop r14
    pop r15
%endmacro

global vmx_exit_stub
vmx_exit_stub:
    PUSH_GUEST_GPRS
    mov rdi, rsp
    call vmx_exit_dispatch                ; does not return

; void vmx_resume_guest(struct guest_regs *regs): regs is the frame vmx_exit_stub pushed.
global vmx_resume_guest
vmx_resume_guest:
    mov rsp, rdi
    POP_GUEST_GPRS
    vmresume
    ; Only reached when VMRESUME fails (SDM Vol. 3C, 31.3: VMfailInvalid/VMfailValid).
    PUSH_GUEST_GPRS
    mov rdi, rsp
    call vmx_resume_failed                ; does not return

; int vmx_launch(const struct guest_regs *regs)
; Loads the guest GPRs and executes VMLAUNCH. Returns only on failure:
; 1 = VMfailInvalid, 2 = VMfailValid (the VMCS holds the error number).
; On success the guest runs and later exits land in vmx_exit_stub.
global vmx_launch
vmx_launch:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov rax, [rdi + 0]
    LOAD_GUEST_GPRS_BUT_RAX
    vmlaunch
    mov eax, 1
    jc .out
    mov eax, 2
.out:
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
