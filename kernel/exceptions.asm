; Exception entry stubs: one per vector 0..31. Each pushes a uniform frame
; (vector, error code or 0, all GPRs) and calls exception_report() in
; kernel/exceptions.c, which prints it and halts. The layout must match
; struct exception_frame in kernel/exceptions.h. Two vectors are the
; exceptions to that: an NMI (vector 2) is the guest's, so nmi_in_root()
; notes it for re-injection, and a #DB (vector 1) can only be a guest's
; single-step trap an emulator let through a #VMEXIT (debug_in_root()); the
; interrupted code goes on after both.

extern exception_report
extern nmi_in_root
extern debug_in_root

section .text
bits 64

; SDM Vol. 3A, 6.13: vectors 8, 10-14, 17, 21, 29, 30 push an error code.
%macro STUB 1
exception_stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
%else
    push 0
%endif
    push %1
    jmp exception_common
%endmacro

; CALL_AND_RETURN fn: calls fn(the saved registers; the CPU's frame right above them)
; with the caller-saved registers saved, then returns to the interrupted code.
%macro CALL_AND_RETURN 1
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov rdi, rsp
    and rsp, -16
    push rdi
    sub rsp, 8
    call %1
    add rsp, 8
    pop rsp
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq
%endmacro

%assign v 0
%rep 32
%if v = 1
exception_stub_1:
    CALL_AND_RETURN debug_in_root
%elif v = 2
exception_stub_2:
    CALL_AND_RETURN nmi_in_root
%else
STUB v
%endif
%assign v v + 1
%endrep

exception_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    and rsp, -16
    call exception_report                 ; does not return
.hang:
    cli
    hlt
    jmp .hang

section .rodata
global exception_stubs
exception_stubs:
%assign v 0
%rep 32
    dq exception_stub_ %+ v
%assign v v + 1
%endrep
