/*
 * The hypervisor's state that a guest must never be able to change, for
 * TV_HC_STATE_CHECK (abi/hypercall.h): a checksum of what stays fixed after
 * launch (the MSR bitmap, the shared VMX settings, and this CPU's VMCS host state
 * and EPT/MSR-bitmap pointers), taken at launch and again on request, and the
 * number of hypervisor-region pages the EPT lets the guest reach
 * (guest/memory.h). Counters, the EPT's leaves and the VMCS guest state change
 * legitimately and are left out. svm/state_check.c is SVM's.
 */
#include "guest/memory.h"
#include "kernel/checksum.h"
#include "mm/hv_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

/* Why: one definition of "fixed state" for the launch-time and the on-request sums. */
static uint64_t state_sum(void)
{
    static const uint32_t fields[] = {
        VMCS_EPT_POINTER, VMCS_MSR_BITMAP, VMCS_HOST_CR3, VMCS_HOST_RIP, VMCS_HOST_RSP,
        VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE, VMCS_HOST_TR_BASE,
    };
    uint64_t h = fnv1a64(FNV1A64_INIT, phys_to_virt(vmx.msr_bitmap_phys), 4096);
    uint64_t fixed[] = { vmx.eptp, vmx.msr_bitmap_phys, guest_memory.dummy_page, hv_memory.base,
                         hv_memory.size };
    h = fnv1a64(h, fixed, sizeof fixed);
    for (unsigned i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        uint64_t v = vmread(fields[i]);
        h = fnv1a64(h, &v, sizeof v);
    }
    return h;
}

/* At launch, once this CPU's VMCS is complete: the reference for every later check. */
void vmx_record_state_sum(struct vmx_cpu *v)
{
    v->state_sum_boot = state_sum();
}

/* The backend's answer to TV_HC_STATE_CHECK, on the calling CPU. */
bool vmx_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed)
{
    (void)cpu;                            /* only the calling CPU's VMCS is current */
    struct vmx_cpu *v = vmx_cpu(this_cpu());
    *now = state_sum();
    *boot = v->state_sum_boot;
    *exposed = guest_memory_hidden_pages_reachable();
    return true;
}
