/*
 * The AMD SVM backend (AMD64 APM Vol. 2, chapter 15), beside vmx/: the same
 * guest (guest/ decides what it sees) on a CPU with AMD-V and nested paging.
 * This first version runs the guest on the boot processor only; guest SMP
 * (SVM has no wait-for-SIPI, so the guest's INIT and SIPI writes to its ICR
 * must be intercepted) is the next step (issue 15).
 */
#ifndef THINVISOR_SVM_H
#define THINVISOR_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/guest_regs.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "smp/percpu.h"
#include "vmx/status_abi.h"

struct guest_backend_ops;

/* Per-CPU SVM state, in the CPU's per-CPU block. */
struct svm_cpu {
    uint64_t vmcb_phys;           /* the guest's VMCB */
    uint64_t host_save_phys;      /* VM_HSAVE_PA: where VMRUN keeps the host state */
    uint64_t host_vmcb_phys;      /* VMSAVE/VMLOAD of the host's FS, GS, TR, syscall MSRs */
    void *vmcb;                   /* vmcb_phys, mapped */
    struct tv_status_cpu *stats;  /* exit counters, in the published status area */
    uint64_t hidden_accesses;     /* NPFs on the hypervisor region */
};

/* What every processor shares. */
struct svm_global {
    struct ept npt;               /* mm/ept.c in its NPT format */
    uint64_t npt_top;             /* identity-mapped up front; above it, on demand */
    struct mtrr_state mtrr;       /* for on-demand mapping's bounds (phys_mask) */
    uint64_t iopm_phys, msrpm_phys;
    uint64_t dummy_page_phys;     /* what hidden pages show a guest that probes them */
    bool nrip_save;               /* the CPU reports the next RIP on exits (8000_000A EDX[3]) */
    uint64_t efer_writable;       /* EFER bits a guest may set: what this CPU has, SVME not */
};

extern struct svm_global svm;

/* Pages per CPU for SVM: state, VMCB, host save area, host VMCB. */
#define SVM_PER_CPU_PAGES 4

/*
 * Can this CPU run the SVM backend: SVM (CPUID 8000_0001 ECX[2]), nested
 * paging (8000_000A EDX[0]), not disabled in VM_CR. 0, or -1 with why.
 */
int svm_probe(char *why, size_t whylen);

/* Builds the nested page tables, the I/O and MSR permission maps. 0, or -1. */
int svm_setup_shared(uint64_t npt_top, bool intercept_exit_ports);

/* Allocates a CPU's SVM pages (before svm_enable_cpu runs on it). */
void svm_prepare_cpu(struct percpu *cpu);

/* On each CPU: EFER.SVME, VM_HSAVE_PA, the VMCB's controls. For smp_run_on_all. */
int svm_enable_cpu(struct percpu *cpu, void *arg);

/* The boot processor's guest: real mode at cs:ip, DL = drive; does not return. */
void svm_launch_bsp(uint16_t cs, uint16_t ip, uint8_t drive) __attribute__((noreturn));

/* Called by boot/svm_run.asm after every #VMEXIT, guest GPRs (but RAX, RSP) saved in r. */
void svm_exit_dispatch(struct guest_regs *r);

/* The VMRUN loop (boot/svm_run.asm): runs the guest with regs; never returns. */
void svm_run(struct guest_regs *regs, uint64_t vmcb_phys, uint64_t host_vmcb_phys)
    __attribute__((noreturn));

/* For guest/'s backend hooks: exit counts, published under the VMX basic reasons. */
extern const struct guest_backend_ops svm_backend_ops;

/* The status area is vmx/status.c's, which both backends publish. */
#include "vmx/vmx.h"

#endif
