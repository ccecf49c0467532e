/*
 * A guest's general registers as the backends' exit paths save them:
 * vmx/vmexit.asm (VMX: RSP and RIP live in the VMCS) and svm/svm_run.asm
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

/*
 * General register n in the SDM's encoding order (0 RAX, 1 RCX, ... 4 RSP,
 * ... 15 R15), as ModRM and REX name it. RSP is not saved here (the VMCS or
 * VMCB holds it): the caller passes a slot with its value and writes it back.
 */
static inline uint64_t *guest_gpr(struct guest_regs *r, unsigned n, uint64_t *rsp_slot)
{
    uint64_t *regs[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, rsp_slot, &r->rbp, &r->rsi,
                           &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
                           &r->r14, &r->r15 };
    return regs[n & 15];
}

#endif
