/*
 * A guest's general registers as the backends' exit paths save them:
 * vmx/vmexit.asm (VMX: RSP and RIP live in the VMCS) and svm/svm_run.asm
 * (SVM: RSP and RIP live in the VMCB, and so does RAX, which the dispatcher
 * copies in and out). The offsets are the assembly's: keep them in step.
 */
#ifndef THINVISOR_GUEST_REGS_H
#define THINVISOR_GUEST_REGS_H

#include <stddef.h>
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
    /* The struct is that order without RSP: n below 4 is its slot, above 4 one less. */
    uint64_t *slot = &r->rax;
    n &= 15;
    return n < 4 ? &slot[n] : n == 4 ? rsp_slot : &slot[n - 1];
}
_Static_assert(offsetof(struct guest_regs, rbx) == 3 * 8 &&
               offsetof(struct guest_regs, rbp) == 4 * 8 &&
               offsetof(struct guest_regs, r15) == 14 * 8 && sizeof(struct guest_regs) == 15 * 8,
               "guest_gpr counts on struct guest_regs being the SDM's order without RSP");

#endif
