/*
 * The names of the basic VM-exit reasons (SDM Vol. 3C, Appendix C), shared by
 * the hypervisor's exit statistics (guest/status.c) and the guest tool thinctl
 * (tools/thinctl.c), which prints the counters of the status area. A table
 * in a header, so that both include the one list; unused copies cost nothing.
 */
#ifndef THINVISOR_EXIT_REASON_NAMES_H
#define THINVISOR_EXIT_REASON_NAMES_H

#include "abi/exit_reason.h"

static const char *const exit_reason_names[EXIT_REASON_COUNT] = {
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
    [EXIT_XRSTORS] = "XRSTORS", [EXIT_TV_SVM_INSTRUCTION] = "SVM instruction",
};

#endif
