/*
 * Exit statistics: names for the exit reasons, the per-CPU counts in the
 * log, and the backend's answers to the policy layer (guest/hypercall.c).
 */
#include "guest/guest.h"
#include "kernel/log.h"
#include "vmx/vmx.h"

static const char *const reason_names[EXIT_REASON_COUNT] = {
    [EXIT_EXCEPTION_NMI] = "exception or NMI", [EXIT_EXTERNAL_INTERRUPT] = "external interrupt",
    [EXIT_TRIPLE_FAULT] = "triple fault", [EXIT_INIT] = "INIT", [EXIT_SIPI] = "SIPI",
    [EXIT_IO_SMI] = "I/O SMI", [EXIT_OTHER_SMI] = "other SMI",
    [EXIT_INTERRUPT_WINDOW] = "interrupt window", [EXIT_NMI_WINDOW] = "NMI window",
    [EXIT_TASK_SWITCH] = "task switch", [EXIT_CPUID] = "CPUID", [EXIT_GETSEC] = "GETSEC",
    [EXIT_HLT] = "HLT", [EXIT_INVD] = "INVD", [EXIT_INVLPG] = "INVLPG", [EXIT_RDPMC] = "RDPMC",
    [EXIT_RDTSC] = "RDTSC", [EXIT_RSM] = "RSM", [EXIT_VMCALL] = "VMCALL",
    [EXIT_VMCLEAR] = "VMCLEAR", [EXIT_VMLAUNCH] = "VMLAUNCH", [EXIT_VMPTRLD] = "VMPTRLD",
    [EXIT_VMPTRST] = "VMPTRST", [EXIT_VMREAD] = "VMREAD", [EXIT_VMRESUME] = "VMRESUME",
    [EXIT_VMWRITE] = "VMWRITE", [EXIT_VMXOFF] = "VMXOFF", [EXIT_VMXON] = "VMXON",
    [EXIT_CR_ACCESS] = "CR access", [EXIT_DR_ACCESS] = "DR access",
    [EXIT_IO_INSTRUCTION] = "I/O instruction", [EXIT_RDMSR] = "RDMSR", [EXIT_WRMSR] = "WRMSR",
    [EXIT_INVALID_GUEST_STATE] = "invalid guest state", [EXIT_MSR_LOADING] = "MSR loading",
    [EXIT_MWAIT] = "MWAIT", [EXIT_MONITOR_TRAP_FLAG] = "monitor trap flag",
    [EXIT_MONITOR] = "MONITOR", [EXIT_PAUSE] = "PAUSE", [EXIT_MACHINE_CHECK] = "machine check",
    [EXIT_TPR_BELOW_THRESHOLD] = "TPR below threshold", [EXIT_APIC_ACCESS] = "APIC access",
    [EXIT_VIRTUALIZED_EOI] = "virtualized EOI", [EXIT_GDTR_IDTR_ACCESS] = "GDTR/IDTR access",
    [EXIT_LDTR_TR_ACCESS] = "LDTR/TR access", [EXIT_EPT_VIOLATION] = "EPT violation",
    [EXIT_EPT_MISCONFIG] = "EPT misconfiguration", [EXIT_INVEPT] = "INVEPT",
    [EXIT_RDTSCP] = "RDTSCP", [EXIT_PREEMPTION_TIMER] = "preemption timer",
    [EXIT_INVVPID] = "INVVPID", [EXIT_WBINVD] = "WBINVD", [EXIT_XSETBV] = "XSETBV",
    [EXIT_APIC_WRITE] = "APIC write", [EXIT_RDRAND] = "RDRAND", [EXIT_INVPCID] = "INVPCID",
    [EXIT_VMFUNC] = "VMFUNC", [EXIT_ENCLS] = "ENCLS", [EXIT_RDSEED] = "RDSEED",
    [EXIT_PML_FULL] = "page-modification log full", [EXIT_XSAVES] = "XSAVES",
    [EXIT_XRSTORS] = "XRSTORS",
};

const char *exit_reason_name(unsigned reason)
{
    if (reason < EXIT_REASON_COUNT && reason_names[reason])
        return reason_names[reason];
    return "unknown";
}

void vmx_log_exit_counts(void)
{
    for (uint32_t i = 0; i < cpu_count; i++) {
        const struct vmx_cpu *v = cpus[i]->vmx;
        if (!v)
            continue;
        log_info("exits: CPU %u: %llu in all\n", i, (unsigned long long)v->exits_total);
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            if (v->exits[r])
                log_info("exits: CPU %u: %-22s %llu\n", i, exit_reason_name(r),
                         (unsigned long long)v->exits[r]);
        if (v->hidden_accesses)
            log_info("exits: CPU %u: hidden-memory accesses %llu\n", i,
                     (unsigned long long)v->hidden_accesses);
        if (v->ept_kicks)
            log_info("exits: CPU %u: EPT shootdown kicks %llu\n", i,
                     (unsigned long long)v->ept_kicks);
    }
}

static uint64_t backend_exit_count(uint32_t cpu, uint32_t reason)
{
    if (cpu >= cpu_count || reason >= EXIT_REASON_COUNT || !cpus[cpu]->vmx)
        return ~0ull;
    return cpus[cpu]->vmx->exits[reason];
}

const struct guest_backend_ops vmx_backend_ops = {
    .exit_count = backend_exit_count,
    .ept_generation = vmx_ept_generation,
    .state_check = vmx_state_check,
};
