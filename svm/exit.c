/*
 * #VMEXIT dispatch for the SVM backend: one flat switch over the exit code,
 * in the order of the APM's list (Vol. 2, Appendix C). Each handler answers
 * as the hardware would answer a guest without a hypervisor; what the guest
 * sees (CPUID, hypercalls) is decided in guest/, as for VMX.
 */
#include "abi/hypercall.h"
#include "guest/ap_start.h"
#include "guest/gpa_fault.h"
#include "guest/leave.h"
#include "guest/guest.h"
#include "guest/insn.h"
#include "guest/sleep.h"
#include "guest/status.h"
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/vectors.h"
#include "kernel/x86.h"
#include "mm/guest_walk.h"
#include "mm/hv_memory.h"
#include "smp/lapic.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

/*
 * The counter an exit goes into: the status area counts by VMX basic reason
 * (abi/exit_reason.h), so that thinctl reads both backends alike; SVM exits
 * without a VMX counterpart have numbers of their own there.
 */
static unsigned tv_reason(uint64_t code, const void *v)
{
    switch (code) {
    case SVM_EXIT_NMI:
    case SVM_EXIT_EXCP_GP:  return EXIT_EXCEPTION_NMI;
    case SVM_EXIT_IRET:                           /* svm/nmi.c: the NMI window */
    case SVM_EXIT_EXCP_DB:  return EXIT_NMI_WINDOW;
    case SVM_EXIT_INIT:     return EXIT_INIT;
    case SVM_EXIT_CPUID:    return EXIT_CPUID;
    case SVM_EXIT_INVD:     return EXIT_INVD;
    case SVM_EXIT_HLT:      return EXIT_HLT;
    case SVM_EXIT_MWAIT:
    case SVM_EXIT_MWAIT_ARMED: return EXIT_MWAIT;
    case SVM_EXIT_IOIO:     return EXIT_IO_INSTRUCTION;
    case SVM_EXIT_MSR:      return vmcb_u64(v, VMCB_EXITINFO1) ? EXIT_WRMSR : EXIT_RDMSR;
    case SVM_EXIT_SHUTDOWN: return EXIT_TRIPLE_FAULT;
    case SVM_EXIT_VMMCALL:  return EXIT_VMCALL;
    case SVM_EXIT_NPF:      return EXIT_EPT_VIOLATION;
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
        return EXIT_TV_SVM_INSTRUCTION;
    default:
        return EXIT_REASON_COUNT;                 /* counted in the total only */
    }
}

/* Logs why and the guest's state, then stops this CPU (guest_stop_cpu). */
static void stop_guest(struct percpu *cpu, void *v, const char *what) __attribute__((noreturn));
static void stop_guest(struct percpu *cpu, void *v, const char *what)
{
    log_error("CPU %u: %s (exit code %#llx, EXITINFO1 %#llx, EXITINFO2 %#llx)\n", cpu->index,
              what, (unsigned long long)vmcb_u64(v, VMCB_EXITCODE),
              (unsigned long long)vmcb_u64(v, VMCB_EXITINFO1),
              (unsigned long long)vmcb_u64(v, VMCB_EXITINFO2));
    log_error("guest state: RIP %#llx RSP %#llx RFLAGS %#llx CR0 %#llx CR3 %#llx CR4 %#llx "
              "EFER %#llx CS %04x base %#llx\n", (unsigned long long)vmcb_u64(v, VMCB_RIP),
              (unsigned long long)vmcb_u64(v, VMCB_RSP),
              (unsigned long long)vmcb_u64(v, VMCB_RFLAGS),
              (unsigned long long)vmcb_u64(v, VMCB_CR0), (unsigned long long)vmcb_u64(v, VMCB_CR3),
              (unsigned long long)vmcb_u64(v, VMCB_CR4),
              (unsigned long long)vmcb_u64(v, VMCB_EFER),
              *(const volatile uint16_t *)((const uint8_t *)v + VMCB_CS),
              (unsigned long long)vmcb_u64(v, VMCB_CS + VMCB_SEG_BASE));
    guest_stop_cpu(cpu);
}

/* Error codes only in protected mode. */
void svm_inject_exception(void *v, unsigned vector, bool has_error, uint32_t error)
{
    uint64_t e = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | vector;
    if (has_error && (vmcb_u64(v, VMCB_CR0) & CR0_PE))
        e |= EVENTINJ_ERROR_VALID | (uint64_t)error << 32;
    vmcb_set_u64(v, VMCB_EVENTINJ, e);
}

static void inject_ud(void *v) { svm_inject_exception(v, VEC_UD, false, 0); }
static void inject_gp(void *v) { svm_inject_exception(v, VEC_GP, true, 0); }

/*
 * The guest goes on at `rip`, past an instruction done for it, as completing
 * it would leave the guest on bare metal: an STI or MOV SS shadow that
 * covered it ends (APM 15.21.5), as KVM has it; RF clears; and the guest's
 * TF brings a single-step #DB right after it, with DR6.BS (svm/nmi.c, which
 * also ends a step of its own that this instruction was). Inline, as
 * skip_instruction: GCC would call it from there.
 */
static inline __attribute__((always_inline)) void svm_resume_at(struct svm_cpu *s, uint64_t rip)
{
    void *v = s->vmcb;
    vmcb_set_u64(v, VMCB_RIP, rip);
    vmcb_set_u64(v, VMCB_INTERRUPT_SHADOW, 0);
    uint64_t rflags = vmcb_u64(v, VMCB_RFLAGS);
    if (s->nmi_stepping || (rflags & (RFLAGS_TF | RFLAGS_RF)))
        svm_instruction_stepped(s, v);
}

/* Where the guest's code is, from the VMCB. */
static void code_at(const void *v, struct guest_code_at *at)
{
    uint16_t cs_attr = *(const volatile uint16_t *)((const uint8_t *)v + VMCB_CS + VMCB_SEG_ATTRIB);
    /* Field by field: a compound literal would clear the whole struct first. */
    at->paging.cr0 = vmcb_u64(v, VMCB_CR0);
    at->paging.cr3 = vmcb_u64(v, VMCB_CR3);
    at->paging.cr4 = vmcb_u64(v, VMCB_CR4);
    at->paging.efer = vmcb_u64(v, VMCB_EFER);
    at->rip = vmcb_u64(v, VMCB_RIP);
    at->cs_base = vmcb_u64(v, VMCB_CS + VMCB_SEG_BASE);
    at->mode = guest_code_mode(at->paging.efer, cs_attr & VMCB_ATTR_L, cs_attr & VMCB_ATTR_DB);
}

/*
 * Without NRIP save (QEMU's TCG, for one) the bytes at CS:RIP are read and
 * measured. An instruction that is not what the exit says (the guest changed
 * it meanwhile) gets #UD rather than a wrong step. Apart: its buffers would
 * give every exit's frame their size.
 */
static __attribute__((noinline)) void skip_decoded_instruction(struct svm_cpu *s,
                                                               enum insn_kind kind)
{
    void *v = s->vmcb;
    struct guest_code_at at;
    uint8_t bytes[INSN_MAX_LEN];
    code_at(v, &at);
    unsigned got = guest_fetch_code(&at, hv_read_guest_phys, NULL, bytes);
    int len = insn_length_if(bytes, got, at.mode, kind);
    if (len < 0) {
        log_warn("SVM: the instruction at RIP %#llx is not the one that exited; #UD\n",
                 (unsigned long long)at.rip);
        inject_ud(v);
        return;
    }
    uint64_t rip = at.rip + (unsigned)len;
    svm_resume_at(s, at.mode == 8 ? rip : (uint32_t)rip);
}

/*
 * Steps the guest over the instruction that exited, of kind `kind`. With NRIP
 * save the CPU says where the next one starts (APM 15.7.1).
 */
static inline __attribute__((always_inline)) void skip_instruction(struct svm_cpu *s, enum insn_kind kind)
{
    if (svm.nrip_save)
        svm_resume_at(s, vmcb_u64(s->vmcb, VMCB_NRIP));
    else
        skip_decoded_instruction(s, kind);
}

/* A leaf the guest policy may change, as vmx/exit.c's: the leaf read from r, not passed. */
static __attribute__((noinline)) void filtered_cpuid(struct guest_regs *r, void *v)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    struct cpuid_regs c = cpuid(leaf, subleaf);
    uint32_t regs[4] = { c.eax, c.ebx, c.ecx, c.edx };
    guest_cpuid_regs(r, leaf, subleaf, vmcb_u64(v, VMCB_CR4), regs);
}

/*
 * Every CPUID exits (APM 15.10). Those that svm_exit_dispatch's quick path
 * leaves (a leaf the guest policy may change, a trap flag, an NMI step, no
 * NRIP save, a paused #GP intercept) come here: the CPU's answer, filtered
 * where the policy says, then the step.
 */
static void handle_cpuid(struct guest_regs *r, struct svm_cpu *s)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    if (guest_cpuid_may_change(leaf))
        filtered_cpuid(r, s->vmcb);
    else
        cpuid_into(leaf, subleaf, &r->rax, &r->rbx, &r->rcx, &r->rdx);
    skip_instruction(s, INSN_CPUID);
}

/*
 * A #GP the guest raised, intercepted for one case: thinvisor keeps the
 * guest's EFER.SVME set (VMRUN needs it) while the guest sees none, so an SVM
 * instruction at CPL > 0, or with a bad RAX, raises #GP where a CPU without
 * SVM raises #UD (APM Vol. 3: the SVME check comes first). Any other #GP goes
 * back as it came, with its error code (EXITINFO1). A #GP raised while an
 * event was being delivered (EXITINTINFO) must combine with it as the SDM's
 * Table 6-5 says (#DF, or a shutdown): that event goes back in and runs once
 * without the intercept, so the CPU itself raises what follows.
 */
static void handle_gp(struct svm_cpu *s)
{
    void *v = s->vmcb;
    if (vmcb_u64(v, VMCB_EXITINTINFO) & EVENTINJ_VALID) {
        vmcb_set_u32(v, VMCB_INTERCEPT_EXC, vmcb_u32(v, VMCB_INTERCEPT_EXC) & ~(1u << VEC_GP));
        s->gp_intercept_paused = true;    /* redeliver_interrupted_event puts it back in */
        return;
    }
    struct guest_code_at at;
    uint8_t bytes[INSN_MAX_LEN];
    code_at(v, &at);
    unsigned got = guest_fetch_code(&at, hv_read_guest_phys, NULL, bytes);
    if (insn_is_svm(bytes, got, at.mode))
        inject_ud(v);
    else
        svm_inject_exception(v, VEC_GP, true, (uint32_t)vmcb_u64(v, VMCB_EXITINFO1));
}

/* VMMCALL is the AMD hypercall instruction: the same ABI as VMCALL on Intel (CPL 0 only). */
static void handle_vmmcall(struct guest_regs *r, struct svm_cpu *s, struct percpu *cpu)
{
    void *v = s->vmcb;
    if ((uint32_t)r->rax == TV_HC_OFF) {         /* the one call CPL 3 may make (with the token) */
        uint32_t status = svm_leave_check(r, cpu);
        if (status == LEAVE_UD) {
            inject_ud(v);
            return;
        }
        skip_instruction(s, INSN_VMMCALL);
        if (status == TV_STATUS_OK)
            status = svm_leave(r, cpu);          /* returns only when it could not leave */
        r->rax = status;
        return;
    }
    if (vmcb_u8(v, VMCB_CPL) != 0) {
        inject_ud(v);
        return;
    }
    guest_hypercall_regs(r, cpu->index);
    skip_instruction(s, INSN_VMMCALL);
}

/*
 * The MSRs the permission map sends here: EFER, whose SVME bit the guest
 * neither sees nor sets (VMRUN needs it set), the SVM MSRs, which #GP as on
 * a CPU without SVM, and writes to the x2APIC ICR (svm/ap_start.c).
 * EXITINFO1 is 0 for RDMSR, 1 for WRMSR (APM 15.11).
 */
static void handle_msr(struct guest_regs *r, struct svm_cpu *s, struct percpu *cpu)
{
    void *v = s->vmcb;
    uint32_t msr = (uint32_t)r->rcx;
    bool write = vmcb_u64(v, VMCB_EXITINFO1) & 1;
    if (msr == X2APIC_MSR_ICR && write) {    /* intercepted only with guest APs */
        if (guest_x2apic_icr_write(cpu, (uint32_t)r->rax | r->rdx << 32, true))
            skip_instruction(s, INSN_WRMSR);
        else
            inject_gp(v);
        return;
    }
    if (msr != MSR_IA32_EFER) {
        inject_gp(v);
        return;
    }
    uint64_t efer = vmcb_u64(v, VMCB_EFER);
    if (!write) {
        r->rax = (uint32_t)(efer & ~EFER_SVME);
        r->rdx = (efer & ~EFER_SVME) >> 32;
        skip_instruction(s, INSN_RDMSR);
        return;
    }
    uint64_t value = (uint32_t)r->rax | r->rdx << 32;
    if (value & ~(svm.efer_writable | EFER_LMA)) {
        inject_gp(v);
        return;
    }
    /* LMA is the CPU's to set (on CR0.PG with LME): a write leaves it as it is. */
    vmcb_set_u64(v, VMCB_EFER, (value & ~EFER_LMA) | (efer & EFER_LMA) | EFER_SVME);
    skip_instruction(s, INSN_WRMSR);
}

/*
 * An intercepted port (APM 15.10.2): the PM1 control ports, test runs' exit
 * ports. With GIF set: a sleep write may need the platform's SMI to take
 * effect, and an SMI waits while GIF is clear (15.17); host interrupts stay
 * off (RFLAGS.IF), an NMI meanwhile is the guest's (kick_nmi_in_root).
 */
static void handle_io(struct guest_regs *r, struct svm_cpu *s, struct percpu *cpu)
{
    void *v = s->vmcb;
    uint64_t info = vmcb_u64(v, VMCB_EXITINFO1);
    uint16_t port = (uint16_t)(info >> 16);
    unsigned size = info & (1u << 4) ? 1 : info & (1u << 5) ? 2 : 4;
    __asm__ volatile("stgi" ::: "memory");
    guest_io_exit(cpu, &r->rax, port, size, info & IOIO_IN, info & IOIO_STRING, svm.smp);
    __asm__ volatile("clgi" ::: "memory");
    svm_resume_at(s, vmcb_u64(v, VMCB_EXITINFO2));   /* next RIP (15.10.2) */
}

/* Where the guest's code is, its RSP and RFLAGS, for guest/gpa_fault.c when it must look. */
static void read_state(struct guest_code_at *at, uint64_t *rsp, uint64_t *rflags, void *v)
{
    code_at(v, at);
    *rsp = vmcb_u64(v, VMCB_RSP);
    *rflags = vmcb_u64(v, VMCB_RFLAGS);
}

/*
 * A nested page fault (APM 15.25.6; EXITINFO2 the guest physical address,
 * EXITINFO1 the #PF-style error code): the policy is the backends' shared
 * one (guest/gpa_fault.c); here it is carried out.
 */
static void handle_npf(struct guest_regs *r, void *v, struct percpu *cpu)
{
    uint64_t err = vmcb_u64(v, VMCB_EXITINFO1);
    struct gpa_fault f;
    gpa_fault_init(&f, vmcb_u64(v, VMCB_EXITINFO2), err & NPF_WRITE, err & NPF_FETCH,
                   vmcb_u64(v, VMCB_EXITINTINFO) & EVENTINJ_VALID, read_state, v);
    if (svm.decode_assists && !f.fetch) {        /* a data fault: the CPU read the instruction */
        const uint8_t *bytes = (const uint8_t *)v + VMCB_INSN_BYTES;
        f.insn = bytes + 1;
        f.insn_len = bytes[0] <= INSN_MAX_LEN ? bytes[0] : 0;
    }
    enum gpa_fault_outcome o = guest_gpa_fault(cpu, r, &f, true);
    switch (o) {
    case GPA_RETRY:
        vmcb_set_u8(v, VMCB_TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
        break;
    case GPA_STEP:                           /* the NPT did not change: no flush */
    case GPA_AGAIN:
        if (f.rsp_written)
            vmcb_set_u64(v, VMCB_RSP, f.rsp);
        if (f.rflags_written)
            vmcb_set_u64(v, VMCB_RFLAGS, f.rflags);
        svm_resume_at(svm_cpu(cpu), vmcb_u64(v, VMCB_RIP) + (o == GPA_STEP ? f.length : 0));
        break;
    case GPA_INJECT_UD:
        inject_ud(v);
        break;
    case GPA_STOP:
        stop_guest(cpu, v, "a nested page fault it cannot go on from");
    }
}

/*
 * An intercept that interrupted the delivery of an event (a nested page fault
 * on the guest's stack or IDT, an NMI as it began) leaves that event only in
 * EXITINTINFO (APM Vol. 2, 15.7.2): an external interrupt is already taken
 * from the local APIC, and an NMI or a trap such as a single-step #DB exists
 * nowhere else. So it goes back in through EVENTINJ, which has the same
 * layout, unless the exit's handler injects something of its own. A software
 * interrupt (INT n) and the #BP and #OF of INT3 and INTO are left out: RIP
 * still points at their instruction, which raises them again.
 */
static void redeliver_interrupted_event(void *v)
{
    uint64_t info = vmcb_u64(v, VMCB_EXITINTINFO);
    uint64_t type = info & EVENTINJ_TYPE_MASK;
    unsigned vector = info & 0xFF;
    if (!(info & EVENTINJ_VALID) || (vmcb_u64(v, VMCB_EVENTINJ) & EVENTINJ_VALID))
        return;
    if (type == EVENTINJ_TYPE_SOFT_INT ||
        (type == EVENTINJ_TYPE_EXCEPTION && (vector == VEC_BP || vector == VEC_OF)))
        return;
    vmcb_set_u64(v, VMCB_EVENTINJ, info & (0xFFFFFFFF00000000ull | EVENTINJ_VALID |
                                           EVENTINJ_ERROR_VALID | EVENTINJ_TYPE_MASK | 0xFF));
}

/* The guest runs again (svm/svm_run.asm), with RAX, which VMRUN takes from the VMCB. */
static inline __attribute__((always_inline, noreturn)) void run_guest(struct guest_regs *r,
                                                                      void *v, void *loop)
{
    vmcb_set_u64(v, VMCB_RAX, r->rax);
    svm_resume_guest(loop);
}

/*
 * The end of an exit whose vcpu.exit_work is not clear (smp/percpu.h): an
 * emulated INIT to take, a sleep to park for (guest/s3.c), an NMI owed to
 * the guest.
 */
static __attribute__((noinline, noreturn)) void do_exit_work(struct guest_regs *r,
                                                             struct percpu *cpu, void *loop)
{
    struct svm_cpu *s = svm_cpu(cpu);
    svm_take_pending_init(r, cpu);
    svm_park_if_asked(cpu);
    if (cpu->vcpu.nmi_pending)
        svm_inject_pending_nmi(cpu, s, s->vmcb);
    run_guest(r, s->vmcb, loop);
}

/*
 * Every exit ends here: into the guest, the long way when there is work.
 * Nothing returns from here, so no caller keeps a value across it.
 */
static inline __attribute__((always_inline, noreturn)) void resume(struct guest_regs *r,
                                                                   struct percpu *cpu, void *v,
                                                                   void *loop)
{
    if (cpu->vcpu.exit_work)
        do_exit_work(r, cpu, loop);
    run_guest(r, v, loop);
}

/*
 * Every exit but a passed-through CPUID (below): counted, then one flat
 * switch over the exit code.
 */
static __attribute__((noinline, noreturn)) void handle_exit(struct guest_regs *r, void *loop,
                                                            struct percpu *cpu,
                                                            struct svm_cpu *s, void *v,
                                                            uint64_t code)
{
    unsigned reason = tv_reason(code, v);
    if (reason < EXIT_REASON_COUNT)
        cpu->vcpu.stats->exits[reason]++;

    if (s->gp_intercept_paused) {             /* handle_gp's one VMRUN without it is over */
        s->gp_intercept_paused = false;
        vmcb_set_u32(v, VMCB_INTERCEPT_EXC, vmcb_u32(v, VMCB_INTERCEPT_EXC) | 1u << VEC_GP);
    }

    switch (code) {
    /* These four can come amid an event's delivery: after them it goes back in. */
    case SVM_EXIT_EXCP_DB:
        svm_db_exit(s, v);
        redeliver_interrupted_event(v);
        break;
    case SVM_EXIT_EXCP_GP:
        handle_gp(s);
        redeliver_interrupted_event(v);
        break;
    case SVM_EXIT_NMI:
        svm_nmi_exit(cpu);
        redeliver_interrupted_event(v);
        break;
    case SVM_EXIT_CPUID:
        handle_cpuid(r, s);
        break;
    case SVM_EXIT_IRET:
        svm_iret_exit(s, v);
        break;
    case SVM_EXIT_INVD:
        wbinvd();  /* never drop dirty lines the host may own */
        skip_instruction(s, INSN_INVD);
        break;
    case SVM_EXIT_HLT:                           /* only while svm/nmi.c steps for an NMI: */
        skip_instruction(s, INSN_HLT);           /* the NMI would end the halt at once */
        break;
    case SVM_EXIT_MWAIT:
    case SVM_EXIT_MWAIT_ARMED:
        skip_instruction(s, INSN_MWAIT);         /* likewise; MWAIT may end at any time */
        break;
    case SVM_EXIT_INVLPGA:
        inject_ud(v);                            /* SVM is hidden from the guest */
        break;
    case SVM_EXIT_IOIO:
        handle_io(r, s, cpu);
        break;
    case SVM_EXIT_MSR:
        handle_msr(r, s, cpu);
        break;
    case SVM_EXIT_SHUTDOWN:
        log_error("CPU %u: guest triple fault\n", cpu->index);
        log_error("guest state: RIP %#llx CR0 %#llx\n", (unsigned long long)vmcb_u64(v, VMCB_RIP),
                  (unsigned long long)vmcb_u64(v, VMCB_CR0));
        machine_reset();                         /* no return */
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
        inject_ud(v);                            /* SVM is hidden: EFER.SVME reads 0 */
        break;
    case SVM_EXIT_VMMCALL:
        handle_vmmcall(r, s, cpu);
        break;
    case SVM_EXIT_NPF:
        handle_npf(r, v, cpu);
        redeliver_interrupted_event(v);
        break;
    default:
        /* Asked only here: QEMU's TCG stores VMEXIT_INVALID's -1 in 32 bits only. */
        if ((uint32_t)code == (uint32_t)SVM_EXIT_INVALID)
            stop_guest(cpu, v, "VMRUN failed: the VMCB's guest state is invalid");
        stop_guest(cpu, v, "unexpected #VMEXIT");
    }
    resume(r, cpu, v, loop);
}

/*
 * A CPUID whose leaf the guest policy leaves alone (guest/cpuid.c), on a CPU
 * that reports the next RIP, with no trap flag or NMI step to honour: the
 * CPU's answer, the instruction done. The exit a guest makes most often in a
 * loop, done without a call: svm_exit_dispatch then needs no frame of its
 * own. Any other CPUID goes to handle_exit's handle_cpuid (false).
 */
static inline __attribute__((always_inline)) bool cpuid_passed_through(struct guest_regs *r,
                                                                      struct svm_cpu *s, void *v)
{
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    if (guest_cpuid_may_change(leaf) || !svm.nrip_save || s->nmi_stepping ||
        (vmcb_u64(v, VMCB_RFLAGS) & (RFLAGS_TF | RFLAGS_RF)))
        return false;
    cpuid_into(leaf, subleaf, &r->rax, &r->rbx, &r->rcx, &r->rdx);
    vmcb_set_u64(v, VMCB_RIP, vmcb_u64(v, VMCB_NRIP));   /* svm_resume_at, but for the */
    vmcb_set_u64(v, VMCB_INTERRUPT_SHADOW, 0);            /* trap flags, which are clear */
    return true;
}

/*
 * Called by svm/svm_run.asm after every #VMEXIT, the guest's GPRs but RAX in
 * r, loop the guest loop's frame. It does not return: it ends in
 * svm_resume_guest, which takes the stack back to that frame, so no C frame's
 * saved registers are ever restored, and every call here is one that does
 * not return either, so that no value lives across a call and the common
 * path pushes next to nothing.
 */
__attribute__((noreturn)) void svm_exit_dispatch(struct guest_regs *r, void *loop)
{
    struct percpu *cpu = this_cpu();
    struct svm_cpu *s = svm_cpu(cpu);
    void *v = s->vmcb;
    uint64_t code = vmcb_u64(v, VMCB_EXITCODE);
    r->rax = vmcb_u64(v, VMCB_RAX);
    vmcb_set_u8(v, VMCB_TLB_CONTROL, 0);
    vmcb_set_u64(v, VMCB_EVENTINJ, 0);
    cpu->vcpu.stats->exits_total++;
    if (code != SVM_EXIT_CPUID || s->gp_intercept_paused || !cpuid_passed_through(r, s, v))
        handle_exit(r, loop, cpu, s, v, code);
    cpu->vcpu.stats->exits[EXIT_CPUID]++;
    resume(r, cpu, v, loop);
}
