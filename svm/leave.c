/*
 * TV_HC_OFF under SVM (guest/leave.h): the guest's state out of the VMCB
 * into the stub's frame; the guest's FS, GS, TR, LDTR, KernelGsBase, STAR,
 * LSTAR, CSTAR, SFMASK and SYSENTER MSRs by a VMLOAD of its VMCB at the very
 * end (svm_run's VMSAVE put them there at the exit); its PAT from g_PAT; its
 * CR2 and DR6, which the VMCB holds. DEBUGCTL, XCR0, the TPR (no V_INTR
 * masking) and DR0-DR3 were never switched. The stub sets GIF, which the
 * host keeps clear, before EFER loses SVME (APM Vol. 2, 15.17: STGI needs it).
 */
#include "svm/svm.h"

#include "abi/hypercall.h"
#include "guest/ap_start.h"
#include "guest/leave.h"
#include "kernel/cr_bits.h"
#include "kernel/msr.h"
#include "kernel/x86.h"
#include "smp/kick.h"
#include "svm/vmcb.h"

/* An AP that waits for the guest's SIPI waits in the host, halted: a kick wakes it. */
static void wake_waiting(struct percpu *c)
{
    kick_cpu(c);
}

static uint16_t selector(const void *v, unsigned seg)
{
    return (uint16_t)vmcb_u32(v, seg + VMCB_SEG_SELECTOR);
}

static struct leave_request request(struct guest_regs *r, const void *v, unsigned cpl)
{
    return (struct leave_request){
        .token = r->rbx, .page = r->rdx, .cpl = cpl,
        .paging = { .cr0 = vmcb_u64(v, VMCB_CR0), .cr3 = vmcb_u64(v, VMCB_CR3),
                    .cr4 = vmcb_u64(v, VMCB_CR4), .efer = vmcb_u64(v, VMCB_EFER) & ~EFER_SVME },
        .last = r->rcx & 1, .wake_waiting = wake_waiting,
    };
}

uint32_t svm_leave_check(struct guest_regs *r, struct percpu *cpu)
{
    struct svm_cpu *s = svm_cpu(cpu);
    void *v = s->vmcb;
    /* A kick or a guest NMI held by the clear GIF comes in now, in the host, and is seen below. */
    __asm__ volatile("stgi; clgi" ::: "memory");
    struct leave_request q = request(r, v, vmcb_u8(v, VMCB_CPL));
    q.event_due = (vmcb_u64(v, VMCB_INTERRUPT_SHADOW) & 1) ||
                  (vmcb_u64(v, VMCB_EVENTINJ) & EVENTINJ_VALID) ||
                  (vmcb_u64(v, VMCB_RFLAGS) & RFLAGS_TF) || s->nmi_masked || s->nmi_stepping ||
                  s->nmi_kicked_self || cpu->vcpu.nmi_pending || cpu->vcpu.kick ||
                  ap_init_pending(cpu);
    return leave_check(cpu, &q);
}

uint32_t svm_leave(struct guest_regs *r, struct percpu *cpu)
{
    struct svm_cpu *s = svm_cpu(cpu);
    void *v = s->vmcb;
    struct leave_request q = request(r, v, vmcb_u8(v, VMCB_CPL));
    struct leave_frame f = {
        .cr0 = q.paging.cr0, .cr3 = q.paging.cr3, .cr4 = q.paging.cr4, .efer = q.paging.efer,
        .dr7 = vmcb_u64(v, VMCB_DR7),
        .gdtr = { .limit = (uint16_t)vmcb_u32(v, VMCB_GDTR + VMCB_SEG_LIMIT),
                  .base = vmcb_u64(v, VMCB_GDTR + VMCB_SEG_BASE) },
        .idtr = { .limit = (uint16_t)vmcb_u32(v, VMCB_IDTR + VMCB_SEG_LIMIT),
                  .base = vmcb_u64(v, VMCB_IDTR + VMCB_SEG_BASE) },
        .ds = selector(v, VMCB_DS), .es = selector(v, VMCB_ES),
        .flags = LEAVE_STGI,
        .gprs = *r,
        .rip = vmcb_u64(v, VMCB_RIP), .cs = selector(v, VMCB_CS),
        .rflags = vmcb_u64(v, VMCB_RFLAGS) & ~RFLAGS_RF, .rsp = vmcb_u64(v, VMCB_RSP),
        .ss = selector(v, VMCB_SS),
    };
    uint32_t status = leave_commit(cpu, &q, &f);
    if (status != TV_STATUS_OK)
        return status;
    /* No way back from here. */
    uint64_t cr2 = vmcb_u64(v, VMCB_CR2), dr6 = vmcb_u64(v, VMCB_DR6);
    wrmsr(MSR_IA32_EFER, f.efer | EFER_SVME);   /* NXE before the guest's tables are in use */
    wrmsr(MSR_IA32_PAT, vmcb_u64(v, VMCB_G_PAT));
    wrmsr(MSR_VM_HSAVE_PA, 0);
    __asm__ volatile("mov %0, %%cr2; mov %1, %%dr6" :: "r"(cr2), "r"(dr6) : "memory");
    s->svme_on = false;
    leave_jump_svm(q.page, s->vmcb_phys, leave_via(&q));
}
