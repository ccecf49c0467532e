; The SVM backend's guest loop (AMD64 APM Vol. 2, 15.5). VMRUN loads and saves
; only RAX, RSP and RIP of the guest (in its VMCB) and takes the host's back
; from the host save area at #VMEXIT; the other guest GPRs are this loop's to
; swap, in a struct guest_regs (guest/regs.h). FS, GS, TR, LDTR and
; the syscall MSRs are not switched by VMRUN either: VMLOAD and VMSAVE move
; them, the guest's through its VMCB and the host's (its GS base is the
; per-CPU pointer) through a second page. After #VMEXIT the global interrupt
; flag is clear, so an NMI waits until the next VMRUN, where the guest takes it.
; svm_exit_dispatch (svm/exit.c) does not return: it ends in svm_resume_guest,
; which takes RSP back to this loop's frame (its own frame, below, is dropped
; with the registers it saved) and runs the guest again.

%include "guest/regs.inc"

extern svm_exit_dispatch

section .text
bits 64

; void svm_run(struct guest_regs *regs, uint64_t vmcb_phys, uint64_t host_vmcb_phys)
; Does not return. Frame: [rsp] regs, [rsp + 8] VMCB, [rsp + 16] host VMCB (three
; pushes after the call leave RSP 16-byte aligned for the dispatcher's call).
global svm_run
svm_run:
    push rdx
    push rsi
    push rdi
    mov rax, rdx
    vmsave                             ; the host's FS/GS/TR/LDTR/syscall MSRs, as they are now
.enter:
    mov rax, [rsp + 8]
    vmload                             ; the guest's
    mov rdi, [rsp]
    LOAD_GUEST_GPRS_BUT_RAX
    vmrun                          ; rAX: the VMCB
    ; #VMEXIT: RSP and RAX (the VMCB's address) are the host's again; the rest is the guest's.
    push rdi
    mov rdi, [rsp + 8]
    pop qword [rdi + 48]               ; the guest's RDI
    SAVE_GUEST_GPRS_BUT_RAX_RDI
    mov rax, [rsp + 8]
    vmsave                             ; the guest's
    mov rax, [rsp + 16]
    vmload                             ; the host's: this_cpu() works again
    mov rsi, rsp                   ; the frame, for svm_resume_guest
    call svm_exit_dispatch         ; rdi = regs; does not return

; void svm_resume_guest(void *loop): loop is svm_run's frame, as svm_exit_dispatch got it.
global svm_resume_guest
svm_resume_guest:
    mov rsp, rdi
    jmp svm_run.enter
