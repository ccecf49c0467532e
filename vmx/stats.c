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

void status_log_exit_counts(uint32_t cpu, uint64_t hidden_accesses, uint64_t kicks)
{
    const struct tv_status_cpu *c = vmx_status_cpu(cpu);
    log_info("exits: CPU %u: %llu in all\n", cpu, (unsigned long long)c->exits_total);
    for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
        if (c->exits[r])
            log_info("exits: CPU %u: %-22s %llu\n", cpu, exit_reason_name(r),
                     (unsigned long long)c->exits[r]);
    if (hidden_accesses)
        log_info("exits: CPU %u: hidden-memory accesses %llu\n", cpu,
                 (unsigned long long)hidden_accesses);
    if (kicks)
        log_info("exits: CPU %u: NMI kicks %llu\n", cpu, (unsigned long long)kicks);
}

void vmx_log_exit_counts(void)
{
    for (uint32_t i = 0; i < cpu_count; i++)
        if (cpus[i]->vmx)
            status_log_exit_counts(i, cpus[i]->vmx->hidden_accesses, cpus[i]->vcpu.kicks);
}

const struct guest_backend_ops vmx_backend_ops = {
    .exit_count = vmx_status_exit_count,
    .ept_generation = vmx_ept_generation,
    .state_check = vmx_state_check,
};
