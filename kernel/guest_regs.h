/*
 * A guest's general registers as the backends' exit paths save them:
 * boot/vmexit.asm (VMX: RSP and RIP live in the VMCS) and boot/svm_run.asm
 * (SVM: RSP and RIP live in the VMCB, and so does RAX, which the dispatcher
 * copies in and out). The offsets are the assembly's: keep them in step.
 */
#ifndef THINVISOR_GUEST_REGS_H
#define THINVISOR_GUEST_REGS_H

#include <stdint.h>

struct guest_regs {
    uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

#endif
