/*
 * The VT-x backend (struct backend vmx_backend, guest/backend.h): VMX root on
 * every processor, one VMCS each, the guest launch, and the exit handlers'
 * shared helpers. The EPT is guest/memory.h's guest_memory.tree, in the
 * EPT's format.
 */
#ifndef THINVISOR_VMX_H
#define THINVISOR_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/long_mode.h"
#include "guest/regs.h"
#include "smp/percpu.h"
#include "vmx/caps.h"

/* Per-CPU VMX state, reached through the CPU's percpu.backend. */
struct vmx_cpu {
    uint64_t vmxon_phys;
    uint64_t vmcs_phys;
    bool in_root;                 /* VMXON done: vmx_leave_cpu has something to undo */
    uint64_t cr0_before, cr4_before;   /* as enable_cpu found them, for leave_cpu */
    volatile uint64_t ept_generation;  /* vmx/ept_shootdown.c: the generation last flushed for */
    uint64_t state_sum_boot;      /* vmx/state_check.c: the fixed state at launch */
};

static inline struct vmx_cpu *vmx_cpu(const struct percpu *cpu)
{
    return cpu->backend;
}

/* What every processor shares besides the EPT. */
struct vmx_global {
    struct vmx_caps caps;
    struct vmx_controls ctl;
    uint64_t eptp;                /* the EPT pointer (SDM Vol. 3C, 25.6.11) */
    uint64_t msr_bitmap_phys;
    uint64_t io_bitmap_phys[2];   /* only with test_exit: the emulator exit ports */
    bool emulate_sipi;            /* no wait-for-SIPI: APs wait in root, SIPIs are intercepted */
};

extern struct vmx_global vmx;

/* Guest state helpers for the exit handlers (INIT, SIPI, CR writes). */
void vmx_guest_real_mode(uint16_t cs_sel, uint64_t cs_base, uint64_t rip, uint64_t cr0,
                         uint32_t activity);

/* The BSP's first state on UEFI: the firmware's 64-bit context (efi/next_stage.h). */
void vmx_guest_long_mode(const struct guest_long_mode *g);
void vmx_set_guest_cr0(uint64_t cr0);
void vmx_set_guest_cr4(uint64_t cr4);

/* Launches this CPU's guest; returns only on failure (after logging why). */
int vmx_launch_cpu(struct percpu *cpu, const struct guest_regs *regs);

/*
 * The VM-exit path (vmx/vmexit.asm, vmx/exit.c): the stub saves the guest's
 * GPRs and calls vmx_exit_dispatch, which handles the exit and ends in
 * vmx_resume_guest: GPRs back from r, VMRESUME. None of them returns: a
 * VMRESUME that fails ends in vmx_resume_failed.
 */
__attribute__((noreturn)) void vmx_exit_dispatch(struct guest_regs *r);
__attribute__((noreturn)) void vmx_resume_guest(struct guest_regs *r);
__attribute__((noreturn)) void vmx_resume_failed(struct guest_regs *r);

/* The VMLAUNCH itself (vmx/vmexit.asm): 1 VMfailInvalid, 2 VMfailValid; no return on success. */
int vmx_launch(const struct guest_regs *regs);

/* Names of the VM-instruction errors (SDM Vol. 3C, 31.4). */
const char *vmx_instruction_error_name(uint32_t error);

void vmx_dump_guest_state(void);

/* INIT and SIPI, as exits or emulated (vmx/ap_start.c). */
void vmx_handle_init(struct guest_regs *r, struct percpu *cpu);
void vmx_handle_sipi(struct percpu *cpu);
void vmx_take_pending_init(struct guest_regs *r, struct percpu *cpu);
int vmx_launch_ap(struct percpu *cpu, void *arg);

/* vmx/state_check.c: TV_HC_STATE_CHECK's sums (the launch-time one taken before VMLAUNCH). */
void vmx_record_state_sum(struct vmx_cpu *v);
bool vmx_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);

/*
 * EPT shootdown (vmx/ept_shootdown.c). After a change to the shared EPT that
 * every CPU must see before the guest goes on, vmx_ept_shootdown flushes this
 * CPU and waits until every other one has flushed or is out of the guest.
 * Every VM exit calls vmx_ept_left_guest first; the entry that ends it is
 * preceded by vmx_ept_enter_guest and, when that finds work,
 * vmx_ept_sync_before_entry (which alone precedes a launch). They run at
 * every exit, so they are inline here; the ordering they keep is explained
 * in ept_shootdown.c.
 */
void vmx_ept_shootdown(struct percpu *self);
bool vmx_ept_generation(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest);
extern volatile uint64_t vmx_ept_current_generation;
void vmx_ept_flush_for(struct vmx_cpu *v, uint64_t gen);
void vmx_invept(void);

/*
 * At every VM exit: this CPU runs no guest code until its next entry. A plain
 * release store: nothing this CPU does before its next entry depends on
 * others seeing it at once (the entry's store is the one that must be seq_cst).
 */
static inline void vmx_ept_left_guest(struct percpu *cpu)
{
    __atomic_store_n(&cpu->vcpu.in_guest, false, __ATOMIC_RELEASE);
}

/*
 * Before every VM entry: from here on this CPU runs guest code. Then whether
 * it must take the long way in (vcpu.exit_work, smp/percpu.h): read after the
 * store, so that a shootdown either finds this CPU in the guest and kicks it
 * or has its flush request seen here.
 */
static inline __attribute__((always_inline)) bool vmx_ept_enter_guest(struct percpu *cpu)
{
    __atomic_store_n(&cpu->vcpu.in_guest, true, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&cpu->vcpu.exit_work, __ATOMIC_SEQ_CST) != 0;
}

/*
 * The long way in: from here on this CPU may run guest code (or, waiting for
 * a SIPI, may not) with the current EPT, flushed first when it is behind.
 */
static inline void vmx_ept_sync_before_entry(struct percpu *cpu, bool runs_guest_code)
{
    struct vmx_cpu *v = vmx_cpu(cpu);
    cpu->vcpu.flush_tlb = false;          /* the generation below is read after this */
    __atomic_store_n(&cpu->vcpu.in_guest, runs_guest_code, __ATOMIC_SEQ_CST);
    uint64_t gen = __atomic_load_n(&vmx_ept_current_generation, __ATOMIC_SEQ_CST);
    if (v->ept_generation != gen)
        vmx_ept_flush_for(v, gen);
}

/* The backend's leave_cpu: VMXOFF, and CR0/CR4 as enable_cpu found them. */
int vmx_leave_cpu(struct percpu *cpu, void *arg);

/*
 * TV_HC_OFF (vmx/leave.c, guest/leave.h). vmx_leave_check: whether this call
 * may leave (a TV_STATUS_* or LEAVE_UD), nothing changed. vmx_leave, after
 * the guest's RIP went past the VMCALL: returns only a TV_STATUS_* when it
 * could not leave; otherwise this CPU runs the guest natively from there.
 */
uint32_t vmx_leave_check(struct guest_regs *r, struct percpu *cpu, unsigned cpl);
uint32_t vmx_leave(struct guest_regs *r, struct percpu *cpu, unsigned cpl);

/* Whether NMI exiting is on, so that a kick (smp/kick.c) makes a CPU leave the guest. */
bool vmx_can_kick(void);

/* Dumps the guest state and stops this CPU for good; the others go on. */
void vmx_stop_cpu(struct percpu *cpu, uint32_t reason) __attribute__((noreturn));

#endif
