/*
 * NMIs under SVM with guest APs. The NMI intercept is on so that a kick
 * (smp/kick.c) makes a CPU leave the guest, halted or not. After #VMEXIT(NMI)
 * the NMI is still pending, held by the clear GIF (APM Vol. 2, 15.13.2 and
 * 15.17): a brief STGI lets it arrive in the host, where nmi_in_root sorts
 * it; every NMI that was not a kick is the guest's and goes back to it
 * through EVENTINJ, as KVM does.
 *
 * An NMI given that way does not block the next one in the CPU the way a
 * delivered NMI would, so this file keeps the guest's NMI blocking: from the
 * injection until the guest's IRET, which is intercepted. The intercept
 * comes before the IRET runs, so the IRET is then single-stepped (TF, with
 * #DB intercepted) and the next NMI goes in right after it, as on hardware.
 * An interrupt shadow (after STI or MOV SS) is stepped over the same way.
 * An NMI owed behind an event that must be delivered first goes in right
 * after that delivery: this CPU kicks itself, and the kick's NMI, held by
 * the clear GIF, makes the VMRUN exit at the handler's first instruction.
 */
#include "kernel/cr_bits.h"
#include "kernel/vectors.h"
#include "smp/kick.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

void svm_nmi_exit(struct percpu *cpu)
{
    (void)cpu;
    __asm__ volatile("stgi; clgi" ::: "memory");   /* nmi_in_root runs in between */
}

static void set_intercept(void *v, unsigned field, uint32_t bit, bool on)
{
    uint32_t x = vmcb_u32(v, field);
    vmcb_set_u32(v, field, on ? x | bit : x & ~bit);
}

static void step_intercepts(void *v, bool on)
{
    set_intercept(v, VMCB_INTERCEPT_EXC, NMI_INTERCEPTS_EXC, on);
    set_intercept(v, VMCB_INTERCEPT_MISC1, INTERCEPT_HLT, on);
    set_intercept(v, VMCB_INTERCEPT_MISC2, NMI_INTERCEPTS_MISC2, on);
}

/*
 * One guest instruction, then a #DB exit. The guest's own TF and RF are kept
 * aside. HLT and MWAIT are intercepted meanwhile: stepped, they would end
 * only at the next interrupt, while the NMI the step is for wakes them at once
 * on hardware (`sti; hlt`, the idle loop); svm/exit.c completes them instead.
 */
static void step_one_instruction(struct svm_cpu *s, void *v)
{
    if (s->nmi_stepping)
        return;
    uint64_t rflags = vmcb_u64(v, VMCB_RFLAGS);
    s->rflags_before_step = rflags & (RFLAGS_TF | RFLAGS_RF);
    s->bs_before_step = vmcb_u64(v, VMCB_DR6) & DR6_BS;
    s->nmi_stepping = true;
    vmcb_set_u64(v, VMCB_RFLAGS, rflags | RFLAGS_TF | RFLAGS_RF);
    step_intercepts(v, true);
}

void svm_iret_exit(struct svm_cpu *s, void *v)
{
    set_intercept(v, VMCB_INTERCEPT_MISC1, INTERCEPT_IRET, false);
    step_one_instruction(s, v);               /* still masked until the IRET has run */
}

/*
 * The step is done: NMIs are unblocked. TF and RF go back to what the guest
 * had (after an IRET, to what it popped, unless that set them; as KVM does).
 * The guest gets a #DB when it stepped itself, or when `guests_db`: the trap
 * came with a cause of its own. DR6.BS is set when the guest stepped, and
 * otherwise goes back to what it was: a #DB of the guest's that it has not
 * read yet (a handler the step's NMI interrupted) keeps its BS.
 */
static void step_done(struct svm_cpu *s, void *v, bool guests_db)
{
    s->nmi_stepping = false;
    s->nmi_masked = false;
    step_intercepts(v, false);
    uint64_t ours = (RFLAGS_TF | RFLAGS_RF) & ~s->rflags_before_step;
    vmcb_set_u64(v, VMCB_RFLAGS, vmcb_u64(v, VMCB_RFLAGS) & ~ours);
    bool guest_stepped = s->rflags_before_step & RFLAGS_TF;
    uint64_t dr6 = vmcb_u64(v, VMCB_DR6) & ~DR6_BS;
    vmcb_set_u64(v, VMCB_DR6, dr6 | (guest_stepped || s->bs_before_step ? DR6_BS : 0));
    if (guest_stepped || guests_db)
        svm_inject_exception(v, VEC_DB, false, 0);
}

/*
 * A #DB exit, intercepted only while a step of ours runs. DR6 (the VMCB's,
 * where the #DB put its cause before the intercept) says whose: BS is our
 * step; any other cause (a data breakpoint the stepped instruction hit,
 * which traps with the step in one #DB; a debug-register access under GD; a
 * task switch's T bit) is the guest's, and the guest gets it, with that
 * cause and without BS (SDM Vol. 3B, 18.2.3). (ICEBP's #DB never comes
 * here: it has an intercept of its own, APM Vol. 2, 15.12.) The step ends
 * either way: RF was set for it, so the instruction ran (no instruction
 * breakpoint could fault first) unless it faulted itself.
 */
void svm_db_exit(struct svm_cpu *s, void *v)
{
    if (!s->nmi_stepping) {
        svm_inject_exception(v, VEC_DB, false, 0);   /* not intercepted otherwise */
        return;
    }
    step_done(s, v, vmcb_u64(v, VMCB_DR6) & (DR6_B0_3 | DR6_BD | DR6_BT));
}

/*
 * An instruction done for the guest, with its trap flags (svm/exit.c): it is
 * the one a step of ours was waiting for, if one was; RF clears, as after any
 * instruction that completes; the guest's TF asks for a single-step #DB right
 * after it, with DR6.BS, as on bare metal (SDM Vol. 3B, 18.3.1.4).
 */
void svm_instruction_stepped(struct svm_cpu *s, void *v)
{
    bool guest_tf = s->nmi_stepping ? s->rflags_before_step & RFLAGS_TF
                                    : vmcb_u64(v, VMCB_RFLAGS) & RFLAGS_TF;
    if (guest_tf)
        vmcb_set_u64(v, VMCB_DR6, vmcb_u64(v, VMCB_DR6) | DR6_BS);
    if (s->nmi_stepping)
        step_done(s, v, false);                /* gives the guest's trap, if it asked */
    else if (guest_tf)
        svm_inject_exception(v, VEC_DB, false, 0);
    vmcb_set_u64(v, VMCB_RFLAGS, vmcb_u64(v, VMCB_RFLAGS) & ~RFLAGS_RF);
}

/*
 * Before VMRUN, when a guest NMI is owed: it goes in unless the guest blocks
 * NMIs (then its IRET exit says when) or is in an interrupt shadow (then one
 * step). An exception this exit injected, or gives back after an interrupted
 * delivery, is a fault of an instruction that has not run: the NMI comes
 * first, as at any instruction boundary, and the instruction faults again
 * when the guest returns to it. What would not come again goes first: a #DB
 * trap (svm_db_exit; traps outrank NMIs, SDM Vol. 3A, 6.9), an interrupt or
 * NMI whose delivery an exit interrupted (svm/exit.c). The NMI then follows
 * at the first instruction of that event's handler, as on hardware: this CPU
 * kicks itself, and the kick, held by the clear GIF until VMRUN, is taken
 * once the injected event is delivered (APM Vol. 2, 15.20), an NMI exit at
 * that instruction. One kick per owed NMI: should a CPU take the kick before
 * the delivery, the NMI waits for a later exit rather than kick forever.
 */
void svm_inject_pending_nmi(struct percpu *cpu, struct svm_cpu *s, void *v)
{
    if (s->nmi_masked || s->nmi_stepping)
        return;                               /* the IRET or #DB exit comes first */
    uint64_t inj = vmcb_u64(v, VMCB_EVENTINJ);
    if ((inj & EVENTINJ_VALID) &&
        ((inj & EVENTINJ_TYPE_MASK) != EVENTINJ_TYPE_EXCEPTION || (inj & 0xFF) == VEC_DB)) {
        if (!s->nmi_kicked_self) {
            s->nmi_kicked_self = true;
            kick_cpu(cpu);
        }
        return;
    }
    if (vmcb_u64(v, VMCB_INTERRUPT_SHADOW) & INTERRUPT_SHADOW) {
        step_one_instruction(s, v);
        return;
    }
    cpu->vcpu.nmi_pending = false;
    s->nmi_kicked_self = false;
    s->nmi_masked = true;
    vmcb_set_u64(v, VMCB_EVENTINJ, EVENTINJ_VALID | EVENTINJ_TYPE_NMI | 2);
    set_intercept(v, VMCB_INTERCEPT_MISC1, INTERCEPT_IRET, true);
}

/* INIT: no NMI owed, none blocked, no step under way. */
void svm_nmi_reset(struct percpu *cpu, struct svm_cpu *s, void *v)
{
    cpu->vcpu.nmi_pending = false;
    s->nmi_masked = false;
    s->nmi_stepping = false;
    s->nmi_kicked_self = false;
    set_intercept(v, VMCB_INTERCEPT_MISC1, INTERCEPT_IRET, false);
    step_intercepts(v, false);
}
