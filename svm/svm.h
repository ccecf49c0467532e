/*
 * The AMD SVM backend (AMD64 APM Vol. 2, chapter 15; struct backend
 * svm_backend, guest/backend.h): the same guest (guest/ decides what it
 * sees) on a CPU with AMD-V and nested paging. The NPT is guest/memory.h's
 * guest_memory.tree, in AMD's format. SVM has no wait-for-SIPI state, so
 * the guest's APs wait in the host and its INITs and SIPIs are intercepted
 * at the ICR (svm/ap_start.c); kicks and guest NMIs share the NMI intercept
 * (svm/nmi.c).
 */
#ifndef THINVISOR_SVM_H
#define THINVISOR_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/long_mode.h"
#include "guest/regs.h"
#include "guest/s3.h"
#include "kernel/vectors.h"
#include "smp/percpu.h"
#include "svm/vmcb.h"

/* Per-CPU SVM state, reached through the CPU's percpu.backend. */
struct svm_cpu {
    uint64_t vmcb_phys;           /* the guest's VMCB */
    uint64_t host_save_phys;      /* VM_HSAVE_PA: where VMRUN keeps the host state */
    uint64_t host_vmcb_phys;      /* VMSAVE/VMLOAD of the host's FS, GS, TR, syscall MSRs */
    void *vmcb;                   /* vmcb_phys, mapped */
    uint64_t efer_before;         /* EFER as enable_cpu found it (SVME clear), for leave_cpu */
    bool svme_on;                 /* enable_cpu set EFER.SVME: leave_cpu has something to undo */
    /* svm/nmi.c: the guest's own NMIs, given to it as hardware would. */
    bool nmi_masked;              /* it runs the handler of an NMI given to it, until its IRET */
    bool nmi_stepping;            /* one guest instruction single-stepped, to give an NMI after */
    uint64_t rflags_before_step;  /* the guest's own TF and RF, while stepping */
    bool bs_before_step;          /* and its DR6.BS */
    bool nmi_kicked_self;         /* a kick of its own brings the owed NMI's exit */
    uint64_t state_sum_boot;      /* svm/state_check.c: the fixed state at launch */
    bool gp_intercept_paused;     /* svm/exit.c, handle_gp: off for one VMRUN */
};

static inline struct svm_cpu *svm_cpu(const struct percpu *cpu)
{
    return cpu->backend;
}

/*
 * A CPU asked to stop for a sleep (guest/s3.c) does so here, with GIF set:
 * the platform may need an SMI on every CPU to sleep, and an SMI waits while
 * GIF is clear (APM Vol. 2, 15.17). The host runs with GIF clear again after.
 */
static inline void svm_park_if_asked(struct percpu *cpu)
{
    if (cpu->vcpu.park) {
        __asm__ volatile("stgi" ::: "memory");
        guest_s3_take_park(cpu);
        __asm__ volatile("clgi" ::: "memory");
    }
}

/* What every processor shares besides the NPT. */
struct svm_global {
    uint64_t iopm_phys, msrpm_phys;
    bool nrip_save;               /* the CPU reports the next RIP on exits (8000_000A EDX[3]) */
    bool decode_assists;          /* and a nested page fault's instruction bytes (EDX[7]) */
    uint64_t efer_writable;       /* EFER bits a guest may set: what this CPU has, SVME not */
    bool smp;                     /* guest APs: ICR writes intercepted, NMIs too (kicks) */
};

extern struct svm_global svm;

/*
 * The guest state of real mode at cs_sel:rip (CS base cs_sel * 16) with CR0
 * `cr0`, everything else as after INIT (APM Vol. 2, 14.1.3): for the BIOS
 * hand-over and for a SIPI.
 */
void svm_guest_real_mode(void *vmcb, uint16_t cs_sel, uint64_t rip, uint64_t cr0);

/* svm/ap_start.c: run-on-APs work; the AP waits for the guest's SIPI, then runs it. */
int svm_launch_ap(struct percpu *cpu, void *arg);

/* At the end of an exit with vcpu.exit_work set: takes an INIT the guest sent (waits for a SIPI). */
void svm_take_pending_init(struct guest_regs *r, struct percpu *cpu);

/*
 * The intercepts svm/nmi.c turns on and off while the guest runs (so
 * svm/state_check.c leaves them out): the IRET of an NMI handler, and for a
 * step the #DB and the instructions that would wait (HLT, MWAIT).
 */
#define NMI_INTERCEPTS_EXC   (1u << VEC_DB)
#define NMI_INTERCEPTS_MISC1 (INTERCEPT_IRET | INTERCEPT_HLT)
#define NMI_INTERCEPTS_MISC2 (INTERCEPT2_MWAIT | INTERCEPT2_MWAIT_ARMED)

/* svm/nmi.c: the NMI, IRET and #DB exits, and the guest NMI owed before each VMRUN. */
void svm_nmi_exit(struct percpu *cpu);
void svm_iret_exit(struct svm_cpu *s, void *vmcb);
void svm_db_exit(struct svm_cpu *s, void *vmcb);
void svm_inject_pending_nmi(struct percpu *cpu, struct svm_cpu *s, void *vmcb);  /* one is owed */
void svm_nmi_reset(struct percpu *cpu, struct svm_cpu *s, void *vmcb);

/* svm/exit.c, for the files above: a hardware exception for the next VMRUN (APM 15.20). */
void svm_inject_exception(void *vmcb, unsigned vector, bool has_error, uint32_t error);

/*
 * svm/nmi.c: an instruction done for the guest completed under its TF or RF,
 * or under a step of svm/nmi.c's own (which it then ends): the trap the
 * guest's TF asks for, RF cleared.
 */
void svm_instruction_stepped(struct svm_cpu *s, void *vmcb);

/*
 * svm/state_check.c: the fixed state's sum taken at launch, once the VMCB's
 * controls are complete; and the backend's TV_HC_STATE_CHECK answer.
 */
void svm_record_state_sum(struct svm_cpu *s);
bool svm_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);

/*
 * The #VMEXIT path (svm/svm_run.asm, svm/exit.c): after every #VMEXIT the
 * loop saves the guest's GPRs (but RAX, RSP) in r and calls
 * svm_exit_dispatch, which handles the exit and ends in svm_resume_guest:
 * the stack back to the loop's frame `loop`, the next VMRUN. Neither returns.
 */
__attribute__((noreturn)) void svm_exit_dispatch(struct guest_regs *r, void *loop);
__attribute__((noreturn)) void svm_resume_guest(void *loop);

/*
 * TV_HC_OFF (svm/leave.c, guest/leave.h). svm_leave_check: whether this call
 * may leave (a TV_STATUS_* or LEAVE_UD), nothing changed. svm_leave, after
 * the guest's RIP went past the VMMCALL: returns only a TV_STATUS_* when it
 * could not leave; otherwise this CPU runs the guest natively from there.
 */
uint32_t svm_leave_check(struct guest_regs *r, struct percpu *cpu);
uint32_t svm_leave(struct guest_regs *r, struct percpu *cpu);

/* The VMRUN loop (svm/svm_run.asm): runs the guest with regs; never returns. */
void svm_run(struct guest_regs *regs, uint64_t vmcb_phys, uint64_t host_vmcb_phys)
    __attribute__((noreturn));

#endif
