/*
 * EPT shootdown: one EPT serves every processor, but INVEPT flushes only the
 * processor that runs it (SDM Vol. 3C, 30.4.3.1). When a change must be seen
 * everywhere before the guest goes on (a guest MTRR write re-types memory
 * "before the write completes"), the changing CPU bumps a generation number
 * and kicks every CPU that is running guest code with an NMI: NMI exiting
 * makes it leave the guest, and every CPU runs INVEPT before any VM entry
 * when its generation is behind. The changing CPU waits until each one is
 * current or out of the guest. The scheme is the TLB shootdown of OS kernels.
 *
 * Every other CPU's vcpu.flush_tlb is set too: a VM entry looks at the
 * generation only when its exit_work is not clear (smp/percpu.h), which
 * spares every other entry the compare.
 *
 * Ordering: a CPU publishes in_guest before it reads its exit_work (and,
 * on the long way in, the generation), and the changer sets flush_tlb after
 * the generation and before it reads in_guest (all sequentially
 * consistent), so a CPU either sees the request on its way in or is seen in
 * the guest and kicked (smp/kick.c; again if the kick finds it still in
 * root, past that point). The long way clears flush_tlb before it reads the
 * generation: a request it misses stays set for the next entry.
 */
#include "kernel/log.h"
#include "smp/kick.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"


volatile uint64_t vmx_ept_current_generation;

/* Flushes this CPU's guest translations from the EPT (single-context where the CPU has it). */
void vmx_invept(void)
{
    invept(vmx.ctl.invept_single ? 1 : 2, vmx.eptp);
}

/* vmx_ept_sync_before_entry (vmx/vmx.h) found this CPU behind: flush, then say so. */
void vmx_ept_flush_for(struct vmx_cpu *v, uint64_t gen)
{
    vmx_invept();
    __atomic_store_n(&v->ept_generation, gen, __ATOMIC_RELEASE);
}

bool vmx_ept_generation(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest)
{
    if (cpu >= cpu_count || !vmx_cpu(cpus[cpu]))
        return false;
    *flushed = __atomic_load_n(&vmx_cpu(cpus[cpu])->ept_generation, __ATOMIC_ACQUIRE);
    *current = __atomic_load_n(&vmx_ept_current_generation, __ATOMIC_SEQ_CST);
    *in_guest = __atomic_load_n(&cpus[cpu]->vcpu.in_guest, __ATOMIC_SEQ_CST);
    return true;
}

static bool behind_in_guest(struct percpu *c, uint64_t gen)
{
    return __atomic_load_n(&c->vcpu.in_guest, __ATOMIC_SEQ_CST) &&
           __atomic_load_n(&vmx_cpu(c)->ept_generation, __ATOMIC_ACQUIRE) < gen;
}

static bool flushed_or_out(struct percpu *self, struct percpu *c, uint64_t gen)
{
    (void)self;
    return !behind_in_guest(c, gen);
}

void vmx_ept_shootdown(struct percpu *self)
{
    uint64_t gen = __atomic_add_fetch(&vmx_ept_current_generation, 1, __ATOMIC_SEQ_CST);
    vmx_invept();
    __atomic_store_n(&vmx_cpu(self)->ept_generation, gen, __ATOMIC_RELEASE);
    for (uint32_t i = 0; i < cpu_count; i++)
        if (cpus[i] != self)
            __atomic_store_n(&cpus[i]->vcpu.flush_tlb, true, __ATOMIC_SEQ_CST);
    if (!vmx_can_kick()) {
        static bool said;
        if (!said) {
            said = true;
            log_warn("EPT: no NMI exiting; other CPUs flush at their next VM exit\n");
        }
        return;
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        if (cpus[i] != self && behind_in_guest(cpus[i], gen))
            kick_cpu(cpus[i]);
    for (uint32_t i = 0; i < cpu_count; i++)
        if (cpus[i] != self)
            kick_wait(self, cpus[i], flushed_or_out, gen, "flush its EPT");
}
