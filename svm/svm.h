/*
 * The AMD SVM backend (AMD64 APM Vol. 2, chapter 15), beside vmx/: the same
 * guest (guest/ decides what it sees) on a CPU with AMD-V and nested paging.
 * SVM has no wait-for-SIPI state, so the guest's APs wait in the host and
 * its INITs and SIPIs are intercepted at the ICR (svm/ap_start.c), kicks and
 * guest NMIs share the NMI intercept (svm/nmi.c).
 */
#ifndef THINVISOR_SVM_H
#define THINVISOR_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/long_mode.h"
#include "kernel/guest_regs.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "smp/percpu.h"
#include "vmx/mmio_decode.h"
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
    /* svm/nmi.c: the guest's own NMIs, given to it as hardware would. */
    bool nmi_masked;              /* it runs the handler of an NMI given to it, until its IRET */
    bool nmi_stepping;            /* one guest instruction single-stepped, to give an NMI after */
    uint64_t rflags_before_step;  /* the guest's own TF and RF, while stepping */
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
    bool smp;                     /* guest APs: ICR writes intercepted, NMIs too (kicks) */
    uint64_t apic_page;           /* with smp, the xAPIC page, read-only in the NPT; else 0 */
};

extern struct svm_global svm;

/* Pages per CPU for SVM: state, VMCB, host save area, host VMCB. */
#define SVM_PER_CPU_PAGES 4

/*
 * Can this CPU run the SVM backend: SVM (CPUID 8000_0001 ECX[2]), nested
 * paging (8000_000A EDX[0]), not disabled in VM_CR. 0, or -1 with why.
 */
int svm_probe(char *why, size_t whylen);

/*
 * Builds the nested page tables, the I/O and MSR permission maps; with `smp`
 * (the guest has APs) intercepts its ICR writes. 0, or -1.
 */
int svm_setup_shared(uint64_t npt_top, bool intercept_exit_ports, bool smp);

/* Allocates a CPU's SVM pages (before svm_enable_cpu runs on it). */
void svm_prepare_cpu(struct percpu *cpu);

/* On each CPU: EFER.SVME, VM_HSAVE_PA, the VMCB's controls. For smp_run_on_all. */
int svm_enable_cpu(struct percpu *cpu, void *arg);

/* The boot processor's guest: real mode at cs:ip, DL = drive; does not return. */
void svm_launch_bsp(uint16_t cs, uint16_t ip, uint8_t drive) __attribute__((noreturn));

/* The boot processor's guest on UEFI: the firmware's 64-bit context; does not return. */
void svm_launch_bsp_long_mode(const struct guest_long_mode *g) __attribute__((noreturn));

/*
 * The guest state of real mode at cs_sel:rip (CS base cs_sel * 16) with CR0
 * `cr0`, everything else as after INIT (APM Vol. 2, 14.1.3): for the BIOS
 * hand-over and for a SIPI.
 */
void svm_guest_real_mode(void *vmcb, uint16_t cs_sel, uint64_t rip, uint64_t cr0);

/* svm/ap_start.c: run-on-APs work; the AP waits for the guest's SIPI, then runs it. */
int svm_launch_ap(struct percpu *cpu, void *arg);

/* At the end of every exit on an AP: takes an INIT the guest sent it (waits for a SIPI). */
void svm_take_pending_init(struct guest_regs *r, struct percpu *cpu);

/* The guest's ICR writes: x2APIC (WRMSR 0x830) and the read-only xAPIC page. */
void svm_x2apic_icr_write(struct guest_regs *r, void *vmcb, struct percpu *cpu);
void svm_apic_page_write(struct guest_regs *r, void *vmcb, struct percpu *cpu, uint64_t gpa);

/* svm/nmi.c: the NMI, IRET and #DB exits, and the guest NMI owed before each VMRUN. */
void svm_nmi_exit(struct percpu *cpu);
void svm_iret_exit(struct svm_cpu *s, void *vmcb);
void svm_db_exit(struct svm_cpu *s, void *vmcb);
void svm_inject_pending_nmi(struct percpu *cpu, struct svm_cpu *s, void *vmcb);
void svm_nmi_reset(struct percpu *cpu, struct svm_cpu *s, void *vmcb);

/*
 * svm/exit.c, for the files above: a hardware exception for the next VMRUN
 * (APM 15.20); the guest's RIP past an instruction done for it; the store
 * instruction at the guest's CS:RIP, decoded (0, or -1); and a stop, with
 * the guest's state logged, when it cannot go on.
 */
void svm_inject_exception(void *vmcb, unsigned vector, bool has_error, uint32_t error);
void svm_resume_at(void *vmcb, uint64_t rip);
int svm_decode_guest_store(void *vmcb, struct mmio_store *st);
void svm_stop_guest(struct percpu *cpu, void *vmcb, const char *what) __attribute__((noreturn));

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
