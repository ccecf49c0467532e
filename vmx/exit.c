/*
 * VM-exit dispatch: one flat switch over the basic exit reason, in the order
 * of the SDM's list (Vol. 3C, Appendix C). Each handler answers as the
 * hardware would answer a guest without a hypervisor; what the guest sees
 * (CPUID, hypercalls) is decided in guest/, not here.
 */
#include "abi/hypercall.h"
#include "guest/ap_start.h"
#include "guest/gpa_fault.h"
#include "guest/leave.h"
#include "guest/guest.h"
#include "guest/memory.h"
#include "guest/s3.h"
#include "guest/sleep.h"
#include "guest/status.h"
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/segment.h"
#include "kernel/spinlock.h"
#include "kernel/vectors.h"
#include "kernel/x86.h"
#include "mm/mtrr_msr.h"
#include "smp/kick.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

/*
 * Handlers of exits a guest makes rarely stay out of line, so that
 * handle_exit's frame, which most exits pay, holds only what the common
 * paths need.
 */
#define RARE_EXIT __attribute__((noinline))

/*
 * The guest's TF or RF was set under an instruction done for it: RF clears as
 * after any instruction that completes, and TF asks for a single-step #DB
 * right after it, which the pending debug exceptions field (BS, SDM Vol. 3C,
 * 25.4.2) has the CPU deliver after the VM entry (26.6.3) with DR6.BS set,
 * as the trap would have come on bare metal; with DEBUGCTL.BTF the step is
 * by branch, and a done instruction is none.
 */
RARE_EXIT static void done_with_trap_flags(uint64_t rflags)
{
    if (rflags & RFLAGS_RF)
        vmwrite(VMCS_GUEST_RFLAGS, rflags & ~RFLAGS_RF);
    if ((rflags & RFLAGS_TF) && !(vmread(VMCS_GUEST_DEBUGCTL) & DEBUGCTL_BTF))
        vmwrite(VMCS_GUEST_PENDING_DBG, vmread(VMCS_GUEST_PENDING_DBG) | DR6_BS);
}

/* An STI or MOV SS shadow that covered an instruction done for the guest ends with it. */
static inline __attribute__((always_inline)) void end_interrupt_shadow(void)
{
    uint32_t intr = (uint32_t)vmread(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                intr & ~(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/*
 * What completing an instruction does on bare metal, for one the hypervisor
 * did for the guest: the shadow ends, and the trap flags take effect.
 */
static inline __attribute__((always_inline)) void instruction_done(void)
{
    end_interrupt_shadow();
    uint64_t rflags = vmread(VMCS_GUEST_RFLAGS);
    if (rflags & (RFLAGS_TF | RFLAGS_RF))
        done_with_trap_flags(rflags);
}

/* The guest goes on past the instruction that exited, done for it. */
static inline __attribute__((always_inline)) void advance_rip(void)
{
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN));
    instruction_done();
}

/*
 * Queues a hardware exception for the next VM entry (25.8.3). An error code
 * is delivered only in protected mode, as the CPU itself would.
 */
static void inject_exception(unsigned vector, bool has_error, uint32_t error)
{
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
    if (has_error && (vmread(VMCS_GUEST_CR0) & CR0_PE)) {
        info |= INTR_INFO_DELIVER_ERROR;
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, error);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static void inject_ud(void) { inject_exception(VEC_UD, false, 0); }
static void inject_gp(void) { inject_exception(VEC_GP, true, 0); }

/* CPL: SS.DPL in protected mode, 3 in virtual-8086 mode, 0 in real mode (SDM Vol. 3A, 5.5). */
static unsigned guest_cpl(void)
{
    if (!(vmread(VMCS_GUEST_CR0) & CR0_PE))
        return 0;
    if (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_VM)
        return 3;
    return (vmread(VMCS_GUEST_SS_AR) >> 5) & 3;
}

/*
 * A leaf the guest policy may change (guest/cpuid.c): the CPU's answer,
 * filtered. It reads the leaf from r itself, so the common path moves no
 * arguments for a call it does not make.
 */
RARE_EXIT static void filtered_cpuid(struct guest_regs *r)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    struct cpuid_regs c = cpuid(leaf, subleaf);
    uint32_t regs[4] = { c.eax, c.ebx, c.ecx, c.edx };
    /* OSXSAVE and PKE are not guest/host-masked: the VMCS's guest CR4 holds the guest's. */
    guest_cpuid_regs(r, leaf, subleaf, vmread(VMCS_GUEST_CR4), regs);
}

/*
 * Every CPUID exits (SDM Vol. 3C, 26.1.2). Those that vmx_exit_dispatch's
 * quick path leaves (a leaf the guest policy may change, a trap flag) come
 * here: the CPU's answer, filtered where the policy says, then the step with
 * its trap flags.
 */
static void handle_cpuid(struct guest_regs *r)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    if (guest_cpuid_may_change(leaf))
        filtered_cpuid(r);
    else
        cpuid_into(leaf, subleaf, &r->rax, &r->rbx, &r->rcx, &r->rdx);
    advance_rip();
}

RARE_EXIT static void handle_vmcall(struct guest_regs *r, struct percpu *cpu)
{
    if ((uint32_t)r->rax == TV_HC_OFF) {         /* the one call CPL 3 may make (with the token) */
        unsigned cpl = guest_cpl();
        uint32_t status = vmx_leave_check(r, cpu, cpl);
        if (status == LEAVE_UD) {
            inject_ud();
            return;
        }
        advance_rip();
        if (status == TV_STATUS_OK)
            status = vmx_leave(r, cpu, cpl);     /* returns only when it could not leave */
        r->rax = status;
        return;
    }
    if (guest_cpl() != 0) {
        inject_ud();
        return;
    }
    guest_hypercall_regs(r, cpu->index);
    advance_rip();
}

/* XSETBV: values the CPU supports, x87 state on, AVX only with SSE (SDM Vol. 1, 13.3). */
RARE_EXIT static void handle_xsetbv(struct guest_regs *r)
{
    uint64_t value = (uint32_t)r->rax | r->rdx << 32;
    struct cpuid_regs x = cpuid(0xD, 0);
    uint64_t supported = x.eax | (uint64_t)x.edx << 32;
    if ((uint32_t)r->rcx != 0 || guest_cpl() != 0 || !(value & 1) || (value & ~supported) ||
        ((value & 4) && !(value & 2))) {
        inject_gp();
        return;
    }
    __asm__ volatile("xsetbv" :: "a"((uint32_t)value), "d"((uint32_t)(value >> 32)), "c"(0));
    advance_rip();
}

/*
 * MOV to CR0 with CR0.PG changing, while EFER.LME is set, switches long mode
 * on or off: EFER.LMA and the "IA-32e mode guest" entry control follow (SDM
 * Vol. 3A, 10.8.5; Vol. 3C, 26.3.1.1).
 */
static void write_guest_cr0(uint64_t value)
{
    uint64_t old = vmread(VMCS_CR0_READ_SHADOW);
    uint64_t efer = vmread(VMCS_GUEST_EFER);
    /*
     * What MOV to CR0 refuses with #GP on bare metal (SDM Vol. 2B, "MOV—Move to/from
     * Control Registers"; Vol. 3A, 2.5): bits 63:32 set, PG without PE, NW without
     * CD. Outside 64-bit mode only the low 32 bits of the register count. Letting
     * PG without PE through made the next VM entry fail (found by the hostile guest).
     */
    if (!(efer & EFER_LMA))
        value = (uint32_t)value;
    if ((value >> 32) || ((value & CR0_PG) && !(value & CR0_PE)) ||
        ((value & CR0_NW) && !(value & CR0_CD))) {
        inject_gp();
        return;
    }
    if ((value ^ old) & CR0_PG && (efer & EFER_LME)) {
        uint32_t entry = (uint32_t)vmread(VMCS_ENTRY_CONTROLS);
        if (value & CR0_PG) {
            if (!(vmread(VMCS_GUEST_CR4) & CR4_PAE)) {
                inject_gp();
                return;
            }
            efer |= EFER_LMA;
            entry |= ENTRY_IA32E_MODE_GUEST;
        } else {
            efer &= ~EFER_LMA;
            entry &= ~ENTRY_IA32E_MODE_GUEST;
        }
        vmwrite(VMCS_GUEST_EFER, efer);
        vmwrite(VMCS_ENTRY_CONTROLS, entry);
    }
    vmx_set_guest_cr0(value);
    advance_rip();
}

/* CR4: VMXE stays clear for the guest (VMX is hidden); unsupported bits #GP, as on bare metal. */
static void write_guest_cr4(uint64_t value)
{
    if ((value & CR4_VMXE) || (value & ~vmx.caps.cr4_fixed1 & 0xFFFFFFFFull & ~CR4_VMXE)) {
        inject_gp();
        return;
    }
    vmx_set_guest_cr4(value);
    advance_rip();
}

RARE_EXIT static void handle_cr_access(struct guest_regs *r, struct percpu *cpu)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    unsigned cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
    uint64_t rsp = vmread(VMCS_GUEST_RSP);
    if (type == 0 && cr == 0) {
        write_guest_cr0(*guest_gpr(r, reg, &rsp));
    } else if (type == 0 && cr == 4) {
        write_guest_cr4(*guest_gpr(r, reg, &rsp));
    } else if (type == 3) {
        /* LMSW touches CR0 bits 0-3 only; none of them are masked, but be exact anyway. */
        uint64_t shadow = vmread(VMCS_CR0_READ_SHADOW);
        uint64_t value = (shadow & ~0xEull) | ((q >> 16) & 0xF) | (shadow & CR0_PE);
        write_guest_cr0(value);
    } else {
        log_error("CPU %u: unexpected CR access exit (qualification %#llx)\n", cpu->index,
                  (unsigned long long)q);
        inject_ud();
    }
}

/* MSRs we intercept: reads of the VMX capability MSRs (#GP: VMX is hidden) and MTRR writes. */
static void handle_rdmsr(struct guest_regs *r)
{
    (void)r;
    inject_gp();
}

RARE_EXIT static void handle_wrmsr(struct guest_regs *r, struct percpu *cpu)
{
    uint32_t msr = (uint32_t)r->rcx;
    uint64_t value = (uint32_t)r->rax | r->rdx << 32;
    if (msr == X2APIC_MSR_ICR && vmx.emulate_sipi) {
        if (guest_x2apic_icr_write(cpu, value, vmx_can_kick()))
            advance_rip();
        else
            inject_gp();
        return;
    }
    struct guest_memory *m = &guest_memory;
    if (!mtrr_is_mtrr_msr(msr) || !mtrr_write_allowed(&m->mtrr, msr, value)) {
        inject_gp();
        return;
    }
    /* The EPT types follow before the write completes; the hardware MTRR too, for the host. */
    spin_lock(&m->lock);
    mtrr_state_write(&m->mtrr, msr, value);
    wrmsr(msr, value);
    int rc = ept_retype(&m->tree, &m->mtrr);
    spin_unlock(&m->lock);
    if (rc != 0)
        log_error("CPU %u: EPT re-typing after an MTRR write ran out of memory\n", cpu->index);
    vmx_ept_shootdown(cpu);
    advance_rip();
}

/* Where the guest's code is, its RSP and RFLAGS, for guest/gpa_fault.c when it must look. */
static void read_state(struct guest_code_at *at, uint64_t *rsp, uint64_t *rflags, void *ctx)
{
    (void)ctx;
    uint32_t ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
    /* Field by field: a compound literal would clear the whole struct first. */
    at->paging.cr0 = vmread(VMCS_GUEST_CR0);
    at->paging.cr3 = vmread(VMCS_GUEST_CR3);
    at->paging.cr4 = vmread(VMCS_GUEST_CR4);
    at->paging.efer = vmread(VMCS_GUEST_EFER);
    at->rip = vmread(VMCS_GUEST_RIP);
    at->cs_base = vmread(VMCS_GUEST_CS_BASE);
    at->mode = guest_code_mode(at->paging.efer, ar & SEG_AR_L, ar & SEG_AR_DB);
    *rsp = vmread(VMCS_GUEST_RSP);
    *rflags = vmread(VMCS_GUEST_RFLAGS);
}

/*
 * An access the EPT refused (SDM Vol. 3C, 29.3.3.2): the policy is the
 * backends' shared one (guest/gpa_fault.c); here it is carried out.
 */
RARE_EXIT static void handle_ept_violation(struct guest_regs *r, struct percpu *cpu)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    struct gpa_fault f;
    gpa_fault_init(&f, vmread(VMCS_GUEST_PHYS_ADDR), q & 2, q & 4,
                   vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, read_state, NULL);
    enum gpa_fault_outcome o = guest_gpa_fault(cpu, r, &f, vmx_can_kick());
    switch (o) {
    case GPA_RETRY:
        vmx_invept();
        break;
    case GPA_STEP:                       /* the EPT did not change: no INVEPT */
    case GPA_AGAIN:
        if (f.rsp_written)
            vmwrite(VMCS_GUEST_RSP, f.rsp);
        if (f.rflags_written)
            vmwrite(VMCS_GUEST_RFLAGS, f.rflags);
        if (o == GPA_STEP)
            vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + f.length);
        instruction_done();
        break;
    case GPA_INJECT_UD:
        inject_ud();
        break;
    case GPA_STOP:
        vmx_stop_cpu(cpu, EXIT_EPT_VIOLATION);
    }
}

/*
 * The intercepted ports (SDM Vol. 3C, 28.1.3, exit qualification): the PM1
 * control registers, where the guest enters a sleep state (guest/sleep.c),
 * and in test runs the emulator's exit port (the exits are reported first).
 */
RARE_EXIT static void handle_io(struct guest_regs *r, struct percpu *cpu)
{
    uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
    unsigned size = (q & 7) + 1;
    bool in = (q >> 3) & 1, string = (q >> 4) & 1;
    uint16_t port = (uint16_t)(q >> 16);
    guest_io_exit(cpu, &r->rax, port, size, in, string, vmx_can_kick());
    advance_rip();
}

/*
 * NMI exiting is on so that a kick (smp/kick.c: an EPT shootdown, an emulated
 * INIT) reaches a CPU in the guest. Any other NMI (the guest's watchdog, its
 * NMI IPIs) is the guest's: it is given back at a VM entry (SDM Vol. 3C,
 * 33.2). If the exit left NMIs blocked in root, as NMI delivery would, the
 * IRET here ends that (KVM runs its NMI handler for the same reason); an NMI
 * already pending then arrives in root, where nmi_in_root sorts it like this
 * one.
 *
 * Without virtual NMIs, bit 3 of the interruptibility state is real NMI
 * blocking, which with NMI exiting lasts as long as the guest runs (26.6.1):
 * Bochs 2.7 saves it set at this exit, so every later kick would wait
 * forever. The guest was not blocking NMIs, or this one would not have
 * reached it: clear the bit.
 */
static void handle_nmi(struct percpu *cpu)
{
    uint32_t info = (uint32_t)vmread(VMCS_EXIT_INTR_INFO);
    if ((info & INTR_INFO_TYPE_MASK) != INTR_TYPE_NMI)
        return;                          /* no exception is intercepted: cannot happen */
    iret_to_self();
    if (!(vmx.ctl.pin & PIN_VIRTUAL_NMIS))
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~INTERRUPTIBILITY_NMI);
    if (!kick_taken(cpu))
        cpu->vcpu.nmi_pending = true;
}

static void set_nmi_window_exiting(bool on)
{
    uint32_t proc = (uint32_t)vmread(VMCS_PROC_CONTROLS);
    vmwrite(VMCS_PROC_CONTROLS, on ? proc | PROC_NMI_WINDOW_EXITING
                                   : proc & ~PROC_NMI_WINDOW_EXITING);
}

/*
 * An exit that interrupted the delivery of an event (an EPT violation on the
 * guest's stack or IDT, an NMI as it began) leaves that event only in the
 * IDT-vectoring information (SDM Vol. 3C, 28.2.4): an external interrupt is
 * already taken from the local APIC, and an NMI or a trap such as a
 * single-step #DB exists nowhere else. So it goes back in at the next VM
 * entry, unless the exit's handler injects something of its own. A software
 * interrupt or exception (INT n, INT3, INTO, INT1) is left out: RIP still
 * points at its instruction, which raises it again (27.2.4 lets either be).
 */
static void redeliver_interrupted_event(void)
{
    uint32_t info = (uint32_t)vmread(VMCS_IDT_VECTORING_INFO);
    uint32_t type = info & INTR_INFO_TYPE_MASK;
    if (!(info & INTR_INFO_VALID) || (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID))
        return;
    if (type != INTR_TYPE_EXTERNAL && type != INTR_TYPE_NMI && type != INTR_TYPE_HW_EXCEPTION)
        return;
    if (info & INTR_INFO_DELIVER_ERROR)
        vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, vmread(VMCS_IDT_VECTORING_ERROR));
    if (type == INTR_TYPE_NMI) {
        /*
         * The NMI's delivery had begun, so the exit saved blocking by NMI;
         * an entry that injects an NMI must not have it (26.3.1.5), and the
         * NMI's own delivery sets it again.
         */
        vmwrite(VMCS_GUEST_INTERRUPTIBILITY,
                vmread(VMCS_GUEST_INTERRUPTIBILITY) & ~(uint64_t)INTERRUPTIBILITY_NMI);
    }
    vmwrite(VMCS_ENTRY_INTR_INFO, info & (INTR_INFO_VALID | INTR_INFO_DELIVER_ERROR |
                                          INTR_INFO_TYPE_MASK | 0xFF));
}

/*
 * Gives the guest an NMI that was its own, when nothing else is being
 * injected and the guest can take one now: not right after STI or MOV SS,
 * not inside its own NMI handler (virtual-NMI blocking; 25.3, 26.3.1.5).
 * Otherwise an NMI-window exit says when it can (26.7.6), or, without
 * virtual NMIs, a later exit tries again.
 */
static void inject_pending_nmi(struct percpu *cpu)
{
    if (!cpu->vcpu.nmi_pending)
        return;
    if (cpu->vcpu.waiting_for_sipi) {
        cpu->vcpu.nmi_pending = false;   /* nothing to take it in wait-for-SIPI; no injection there */
        return;
    }
    if ((vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
        (vmread(VMCS_GUEST_INTERRUPTIBILITY) &
         (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI))) {
        if (vmx.ctl.nmi_window)
            set_nmi_window_exiting(true);
        return;
    }
    cpu->vcpu.nmi_pending = false;
    vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
}

/*
 * The end of an exit whose vcpu.exit_work is not clear (smp/percpu.h): an
 * emulated INIT to take, a sleep to park for (guest/s3.c), an NMI owed to
 * the guest, an EPT flush a shootdown asked for, or a CPU in wait-for-SIPI,
 * which runs no guest code after the entry and so takes no part in EPT
 * shootdowns meanwhile. Out of the guest again first: it may wait here.
 */
RARE_EXIT __attribute__((noreturn)) static void do_exit_work(struct guest_regs *r,
                                                              struct percpu *cpu)
{
    vmx_ept_left_guest(cpu);
    vmx_take_pending_init(r, cpu);
    if (cpu->vcpu.park)
        guest_s3_take_park(cpu);
    inject_pending_nmi(cpu);
    vmx_ept_sync_before_entry(cpu, !cpu->vcpu.waiting_for_sipi);
    vmx_resume_guest(r);
}

/*
 * Every exit ends here: into the guest, the long way when there is work.
 * Nothing returns from here, so no caller keeps a value across it.
 */
static inline __attribute__((always_inline, noreturn)) void resume(struct guest_regs *r,
                                                                   struct percpu *cpu)
{
    if (vmx_ept_enter_guest(cpu))
        do_exit_work(r, cpu);
    vmx_resume_guest(r);
}

void vmx_stop_cpu(struct percpu *cpu, uint32_t reason)
{
    log_error("CPU %u: VM exit %u (%s) it cannot go on from, qualification %#llx\n",
              cpu->index, reason, exit_reason_name(reason),
              (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
    vmx_dump_guest_state();
    guest_stop_cpu(cpu);
}

/* A failed VM entry, or an exit reason past the counters: this CPU cannot go on. */
static RARE_EXIT __attribute__((noreturn)) void stop_on_exit_reason(struct percpu *cpu, uint32_t full)
{
    uint32_t reason = full & 0xFFFF;
    if (full & EXIT_REASON_ENTRY_FAILURE) {
        log_error("CPU %u: VM entry failed: %s (exit qualification %#llx)\n", cpu->index,
                  exit_reason_name(reason), (unsigned long long)vmread(VMCS_EXIT_QUALIFICATION));
        vmx_dump_guest_state();
    }
    vmx_stop_cpu(cpu, reason);
}

static RARE_EXIT __attribute__((noreturn)) void handle_triple_fault(struct percpu *cpu)
{
    log_error("CPU %u: guest triple fault\n", cpu->index);
    vmx_dump_guest_state();
    machine_reset();
}

/*
 * Every exit but a passed-through CPUID (below): counted, then one flat
 * switch over the basic reason in the order of the SDM's list. Out of line,
 * so that its frame is not vmx_exit_dispatch's.
 */
static __attribute__((noinline, noreturn)) void handle_exit(struct guest_regs *r,
                                                            struct percpu *cpu, uint32_t full)
{
    /*
     * Bit 31 is a failed VM entry; bits 30:16 are flags about the exit (enclave mode,
     * a pending MTF exit) or reserved, not part of the reason (SDM Vol. 3C, 25.9.1):
     * one compare finds both a failed entry and a basic reason past the counters.
     */
    uint32_t reason = full & (EXIT_REASON_ENTRY_FAILURE | 0xFFFF);
    if (reason >= EXIT_REASON_COUNT)
        stop_on_exit_reason(cpu, full);
    cpu->vcpu.stats->exits[reason]++;

    switch (reason) {
    case EXIT_EXCEPTION_NMI:
        handle_nmi(cpu);
        break;
    case EXIT_TRIPLE_FAULT:
        handle_triple_fault(cpu);                 /* resets the platform: no return */
    case EXIT_INIT:
        vmx_handle_init(r, cpu);
        break;
    case EXIT_SIPI:
        vmx_handle_sipi(cpu);
        break;
    case EXIT_NMI_WINDOW:
        set_nmi_window_exiting(false);   /* do_exit_work's inject_pending_nmi delivers it */
        break;
    case EXIT_CPUID:
        handle_cpuid(r);
        break;
    case EXIT_GETSEC:
        inject_ud();
        break;
    case EXIT_INVD:
        wbinvd();  /* never drop dirty lines the host may own */
        advance_rip();
        break;
    case EXIT_VMCALL:
        handle_vmcall(r, cpu);
        break;
    case EXIT_VMCLEAR:
    case EXIT_VMLAUNCH:
    case EXIT_VMPTRLD:
    case EXIT_VMPTRST:
    case EXIT_VMREAD:
    case EXIT_VMRESUME:
    case EXIT_VMWRITE:
    case EXIT_VMXOFF:
    case EXIT_VMXON:
    case EXIT_INVEPT:
    case EXIT_INVVPID:
    case EXIT_VMFUNC:
        inject_ud();                              /* VMX is hidden from the guest */
        break;
    case EXIT_CR_ACCESS:
        handle_cr_access(r, cpu);
        break;
    case EXIT_IO_INSTRUCTION:
        handle_io(r, cpu);
        break;
    case EXIT_RDMSR:
        handle_rdmsr(r);
        break;
    case EXIT_WRMSR:
        handle_wrmsr(r, cpu);
        break;
    case EXIT_EPT_VIOLATION:
        handle_ept_violation(r, cpu);
        break;
    case EXIT_EPT_MISCONFIG:
        log_error("CPU %u: EPT misconfiguration at %#llx\n", cpu->index,
                  (unsigned long long)vmread(VMCS_GUEST_PHYS_ADDR));
        vmx_dump_guest_state();
        panic("EPT misconfiguration: the EPT builder wrote an invalid entry");
    case EXIT_XSETBV:
        handle_xsetbv(r);
        break;
    default:
        vmx_stop_cpu(cpu, reason);
    }
    if (reason == EXIT_EPT_VIOLATION || reason == EXIT_EXCEPTION_NMI)
        redeliver_interrupted_event();        /* the exits that can come amid a delivery */
    resume(r, cpu);
}

/*
 * A CPUID whose leaf the guest policy leaves alone (guest/cpuid.c), with no
 * trap flag to honour: the CPU's answer, the instruction done. The exit a
 * guest makes most often in a loop (a timing loop, a driver's feature probe),
 * done without a call: vmx_exit_dispatch then needs no frame of its own.
 * Any other CPUID goes to handle_exit's handle_cpuid (false).
 */
static inline __attribute__((always_inline)) bool cpuid_passed_through(struct guest_regs *r)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    if (guest_cpuid_may_change(leaf) || (vmread(VMCS_GUEST_RFLAGS) & (RFLAGS_TF | RFLAGS_RF)))
        return false;
    cpuid_into(leaf, subleaf, &r->rax, &r->rbx, &r->rcx, &r->rdx);
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + vmread(VMCS_EXIT_INSTR_LEN));
    end_interrupt_shadow();                       /* the trap flags are clear: nothing more */
    return true;
}

/*
 * Called by vmx/vmexit.asm on every VM exit, the guest's GPRs in r on this
 * CPU's stack. It does not return: it ends by resuming the guest through
 * vmx_resume_guest, which takes the stack back to r, so no C frame's saved
 * registers are ever restored (the stub restores every GPR from r anyway),
 * and every call here is one that does not return either, so that no value
 * lives across a call and the common path pushes next to nothing.
 */
__attribute__((noreturn)) void vmx_exit_dispatch(struct guest_regs *r)
{
    struct percpu *cpu = this_cpu();
    vmx_ept_left_guest(cpu);
    uint32_t full = (uint32_t)vmread(VMCS_EXIT_REASON);
    cpu->vcpu.stats->exits_total++;
    if (full != EXIT_CPUID || !cpuid_passed_through(r))
        handle_exit(r, cpu, full);
    cpu->vcpu.stats->exits[EXIT_CPUID]++;
    resume(r, cpu);
}

void vmx_resume_failed(struct guest_regs *r)
{
    (void)r;
    struct percpu *cpu = this_cpu();
    uint32_t err = (uint32_t)vmread(VMCS_INSTR_ERROR);
    log_error("CPU %u: VMRESUME failed: VM-instruction error %u (%s)\n", cpu->index, err,
              vmx_instruction_error_name(err));
    vmx_dump_guest_state();
    vmx_stop_cpu(cpu, 0);
}
