/*
 * TV_HC_STATE_CHECK under SVM (abi/hypercall.h; vmx/state_check.c is VT-x's):
 * a checksum of what stays fixed after launch, taken at launch and again on
 * request — the MSR and I/O permission maps and their addresses, the shared
 * settings, VM_HSAVE_PA, and this CPU's VMCB controls that nothing changes
 * after launch (the intercepts, but those svm/nmi.c turns on and off for the
 * guest's NMIs; the ASID, nested paging and its root) — and
 * the hypervisor-region pages the NPT lets the guest reach (guest/memory.h).
 * The VMCB's guest state, EVENTINJ and TLB control change legitimately.
 */
#include "guest/memory.h"
#include "kernel/checksum.h"
#include "kernel/msr.h"
#include "kernel/vectors.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

/* Why: one definition of "fixed state" for the launch-time and the on-request sums. */
static uint64_t state_sum(const struct svm_cpu *s)
{
    const void *v = s->vmcb;
    uint64_t h = fnv1a64(FNV1A64_INIT, phys_to_virt(svm.msrpm_phys), 2 * 4096);
    h = fnv1a64(h, phys_to_virt(svm.iopm_phys), 3 * 4096);
    uint64_t fixed[] = {
        svm.msrpm_phys, svm.iopm_phys, guest_memory.dummy_page, hv_memory.base, hv_memory.size,
        rdmsr(MSR_VM_HSAVE_PA), s->host_save_phys, s->vmcb_phys,
        vmcb_u32(v, VMCB_INTERCEPT_CR), vmcb_u32(v, VMCB_INTERCEPT_DR),
        vmcb_u32(v, VMCB_INTERCEPT_EXC) & ~NMI_INTERCEPTS_EXC,
        vmcb_u32(v, VMCB_INTERCEPT_MISC1) & ~NMI_INTERCEPTS_MISC1,
        vmcb_u32(v, VMCB_INTERCEPT_MISC2) & ~NMI_INTERCEPTS_MISC2,
        vmcb_u64(v, VMCB_IOPM_BASE), vmcb_u64(v, VMCB_MSRPM_BASE), vmcb_u32(v, VMCB_ASID),
        vmcb_u64(v, VMCB_NP_ENABLE), vmcb_u64(v, VMCB_N_CR3),
    };
    return fnv1a64(h, fixed, sizeof fixed);
}

void svm_record_state_sum(struct svm_cpu *s)
{
    s->state_sum_boot = state_sum(s);
}

bool svm_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed)
{
    (void)cpu;                            /* the calling CPU's VMCB: the one that exited */
    const struct svm_cpu *s = svm_cpu(this_cpu());
    *now = state_sum(s);
    *boot = s->state_sum_boot;
    *exposed = guest_memory_hidden_pages_reachable();
    return true;
}
