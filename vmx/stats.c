/*
 * Exit statistics: names for the exit reasons, the per-CPU counts in the
 * log, and the backend's answers to the policy layer (guest/hypercall.c).
 */
#include "guest/guest.h"
#include "kernel/log.h"
#include "vmx/exit_reason_names.h"
#include "vmx/vmx.h"


const char *exit_reason_name(unsigned reason)
{
    if (reason < EXIT_REASON_COUNT && exit_reason_names[reason])
        return exit_reason_names[reason];
    return "unknown";
}

void vmx_log_exit_counts(void)
{
    for (uint32_t i = 0; i < cpu_count; i++) {
        const struct vmx_cpu *v = cpus[i]->vmx;
        if (!v)
            continue;
        log_info("exits: CPU %u: %llu in all\n", i, (unsigned long long)v->stats->exits_total);
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            if (v->stats->exits[r])
                log_info("exits: CPU %u: %-22s %llu\n", i, exit_reason_name(r),
                         (unsigned long long)v->stats->exits[r]);
        if (v->hidden_accesses)
            log_info("exits: CPU %u: hidden-memory accesses %llu\n", i,
                     (unsigned long long)v->hidden_accesses);
        if (v->kicks)
            log_info("exits: CPU %u: NMI kicks %llu\n", i, (unsigned long long)v->kicks);
    }
}

static uint64_t backend_exit_count(uint32_t cpu, uint32_t reason)
{
    if (cpu >= cpu_count || reason >= EXIT_REASON_COUNT || !cpus[cpu]->vmx)
        return ~0ull;
    return cpus[cpu]->vmx->stats->exits[reason];
}

const struct guest_backend_ops vmx_backend_ops = {
    .exit_count = backend_exit_count,
    .ept_generation = vmx_ept_generation,
    .state_check = vmx_state_check,
};
