/*
 * SVM setup (AMD64 APM Vol. 2, chapter 15): capability probe, the pieces
 * every processor shares (nested page tables, I/O and MSR permission maps),
 * on each processor EFER.SVME, the host save area and one VMCB; the boot
 * processor's guest launch. The guest state written here is what a
 * processor has when the BIOS hands over.
 */
#include "svm/svm.h"

#include "guest/backend.h"
#include "guest/memory.h"
#include "guest/sleep.h"
#include "kernel/cr_bits.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/string.h"
#include "kernel/vectors.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "mm/mtrr_msr.h"
#include "smp/lapic.h"
#include "svm/vmcb.h"

struct svm_global svm;

#define CPUID_SVM         (1u << 2)                /* 8000_0001 ECX */
#define CPUID_PAGE1GB     (1u << 26)               /* 8000_0001 EDX */
#define CPUID_NP          (1u << 0)                /* 8000_000A EDX: nested paging */
#define CPUID_NRIPS       (1u << 3)                /* 8000_000A EDX: next RIP saved on exits */
#define CPUID_DECODE      (1u << 7)                /* 8000_000A EDX: decode assists */

static int svm_probe(char *why, size_t whylen)
{
    if (cpuid(0x80000000, 0).eax < 0x8000000A || !(cpuid(0x80000001, 0).ecx & CPUID_SVM)) {
        fmt_snprintf(why, whylen, "this CPU has no SVM (CPUID 8000_0001:ECX.SVM = 0)");
        return -1;
    }
    uint64_t vm_cr = rdmsr(MSR_VM_CR);
    if (vm_cr & VM_CR_SVMDIS) {
        fmt_snprintf(why, whylen, "SVM is disabled by the firmware (VM_CR = %#llx%s); enable "
                     "SVM (AMD-V) in the firmware setup", (unsigned long long)vm_cr,
                     vm_cr & VM_CR_LOCK ? ", locked" : "");
        return -1;
    }
    struct cpuid_regs a = cpuid(0x8000000A, 0);
    if (!(a.edx & CPUID_NP)) {
        fmt_snprintf(why, whylen, "SVM lacks nested paging (CPUID 8000_000A:EDX.NP = 0)");
        return -1;
    }
    svm.nrip_save = a.edx & CPUID_NRIPS;
    svm.decode_assists = a.edx & CPUID_DECODE;
    /* SCE and LME (every x86-64 CPU), NXE and FFXSR where CPUID 8000_0001:EDX has them. */
    uint32_t ext = cpuid(0x80000001, 0).edx;
    svm.efer_writable = (1ull << 0) | EFER_LME | (ext & (1u << 20) ? EFER_NXE : 0) |
                        (ext & (1u << 25) ? 1ull << 14 : 0);
    log_info("SVM: revision %u, %u ASIDs, nested paging, NRIP save %s, decode assists %s\n",
             a.eax & 0xFF, a.ebx, svm.nrip_save ? "yes" : "no (instruction lengths are decoded)",
             svm.decode_assists ? "yes" : "no (a store to emulate is fetched through the guest's "
                                         "page tables)");
    return 0;
}

/*
 * Two bits per MSR in three 2 KiB ranges (APM 15.11): read at bit 2n, write
 * at 2n + 1. `bits` says which: 1 reads, 2 writes, 3 both.
 */
static void msrpm_intercept(uint8_t *pm, uint32_t msr, unsigned bits)
{
    uint32_t base;
    if (msr < 0x2000)
        base = 0;
    else if (msr - 0xC0000000u < 0x2000)
        base = 0x800, msr -= 0xC0000000u;
    else
        base = 0x1000, msr -= 0xC0010000u;
    pm[base + msr / 4] |= (uint8_t)(bits << (2 * (msr % 4)));
}

static void iopm_intercept(uint8_t *pm, uint16_t port)
{
    pm[port / 8] |= (uint8_t)(1u << (port % 8));
}

/*
 * What every CPU shares (guest/backend.h): the NPT (guest/memory.c builds it
 * in AMD's format), the I/O and MSR permission maps.
 *
 * MSRs: EFER, whose SVME bit VMRUN needs set in the guest and the guest must
 * not see (SVM is hidden, as VMX is on Intel), and the SVM MSRs, which #GP.
 * The MTRRs are not intercepted: under SVM they still apply to the nested
 * translations, so the guest's writes do what they do on bare metal.
 *
 * With guest APs, the guest's INIT and SIPI must not reach a CPU: SVM has no
 * wait-for-SIPI state to park an AP in (svm/ap_start.c). x2APIC sends them
 * with WRMSR to the ICR, intercepted in the permission map; xAPIC by a write
 * to its MMIO page, which becomes read-only in the NPT.
 */
static int svm_setup_shared(const struct backend_options *o)
{
    uint8_t *msrpm = hv_alloc_pages(2, "MSR permission map");
    msrpm_intercept(msrpm, MSR_IA32_EFER, 3);
    msrpm_intercept(msrpm, MSR_VM_CR, 3);
    msrpm_intercept(msrpm, MSR_VM_HSAVE_PA, 3);
    svm.msrpm_phys = virt_to_phys_identity(msrpm);
    uint8_t *iopm = hv_alloc_pages(3, "I/O permission map");
    if (o->test_exit) {
        iopm_intercept(iopm, 0xF4);               /* QEMU isa-debug-exit */
        iopm_intercept(iopm, 0x8900);             /* Bochs shutdown port */
    }
    uint16_t ports[GUEST_SLEEP_MAX_PORTS];
    for (unsigned i = 0, n = guest_sleep_ports(ports); i < n; i++)
        iopm_intercept(iopm, ports[i]);           /* PM1 control: sleep entries (guest/sleep.c) */
    svm.iopm_phys = virt_to_phys_identity(iopm);
    if (guest_memory_setup(o->mapped_top, true, true, cpuid(0x80000001, 0).edx & CPUID_PAGE1GB))
        return -1;
    svm.smp = cpu_count > 1;
    if (svm.smp) {
        msrpm_intercept(msrpm, X2APIC_MSR_ICR, 2);
        if (guest_memory_protect_apic_page() != 0)
            return -1;
    }
    return 0;
}

static void svm_prepare_cpu(struct percpu *cpu)
{
    struct svm_cpu *s = hv_alloc_pages(1, "SVM per-CPU state");
    s->vmcb = hv_alloc_pages(1, "VMCB");
    s->vmcb_phys = virt_to_phys_identity(s->vmcb);
    s->host_save_phys = virt_to_phys_identity(hv_alloc_pages(1, "SVM host save area"));
    s->host_vmcb_phys = virt_to_phys_identity(hv_alloc_pages(1, "SVM host VMCB"));
    cpu->backend = s;
}

/* What thinvisor intercepts: the VMCB's control area (APM 15.9 to 15.13, 15.25). */
static void write_controls(struct svm_cpu *s)
{
    void *v = s->vmcb;
    /* NMIs with guest APs: a kick (smp/kick.c) must make an AP leave the guest. */
    vmcb_set_u32(v, VMCB_INTERCEPT_MISC1, INTERCEPT_CPUID | INTERCEPT_INVD |
                 INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT | INTERCEPT_MSR_PROT |
                 INTERCEPT_SHUTDOWN | (svm.smp ? INTERCEPT_NMI : 0));
    /* VMRUN must be intercepted (15.5.1); the others are SVM, which the guest does not have. */
    /* #GP: an SVM instruction must raise #UD instead (svm/exit.c, handle_gp). */
    vmcb_set_u32(v, VMCB_INTERCEPT_EXC, 1u << VEC_GP);
    vmcb_set_u32(v, VMCB_INTERCEPT_MISC2, INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL |
                 INTERCEPT2_VMLOAD | INTERCEPT2_VMSAVE | INTERCEPT2_STGI | INTERCEPT2_CLGI |
                 INTERCEPT2_SKINIT);
    vmcb_set_u64(v, VMCB_IOPM_BASE, svm.iopm_phys);
    vmcb_set_u64(v, VMCB_MSRPM_BASE, svm.msrpm_phys);
    vmcb_set_u32(v, VMCB_ASID, 1);
    vmcb_set_u8(v, VMCB_TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
    vmcb_set_u64(v, VMCB_NP_ENABLE, 1);
    vmcb_set_u64(v, VMCB_N_CR3, guest_memory.tree.pml4);
    vmcb_set_u32(v, VMCB_CLEAN, 0);
}

/* On each CPU: EFER.SVME, VM_HSAVE_PA, the VMCB's controls. */
static int svm_enable_cpu(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct svm_cpu *s = svm_cpu(cpu);
    if (!(cpuid(0x80000001, 0).ecx & CPUID_SVM) || (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)) {
        log_error("CPU %u: no usable SVM\n", cpu->index);
        return -1;
    }
    /*
     * EFER.NXE too: nested walks take it from the host (APM 15.25.5), and without it
     * the NX bit of the non-executable dummy and status pages is a reserved bit.
     */
    s->efer_before = rdmsr(MSR_IA32_EFER);
    wrmsr(MSR_IA32_EFER, s->efer_before | EFER_SVME | EFER_NXE);
    s->svme_on = true;
    wrmsr(MSR_VM_HSAVE_PA, s->host_save_phys);
    /*
     * Again after an S3 resume: a zeroed VMCB as at boot (the guest's syscall
     * and SYSENTER MSRs, which VMLOAD loads, would survive the sleep in it
     * otherwise), and no NMI bookkeeping of the guest before the sleep.
     */
    memset(s->vmcb, 0, 4096);
    s->nmi_masked = s->nmi_stepping = s->nmi_kicked_self = s->gp_intercept_paused = false;
    write_controls(s);
    return 0;
}

/*
 * SVM off again on a CPU no guest runs on (guest/backend.h): GIF set first
 * (STGI needs SVME, and a CPU left with GIF clear would hold off its NMIs and
 * SMIs for good), then no host save area and EFER as enable_cpu found it.
 */
int svm_leave_cpu(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct svm_cpu *s = svm_cpu(cpu);
    if (!s || !s->svme_on)
        return 0;
    __asm__ volatile("stgi" ::: "memory");
    wrmsr(MSR_VM_HSAVE_PA, 0);
    wrmsr(MSR_IA32_EFER, s->efer_before & ~EFER_SVME);
    s->svme_on = false;
    return 0;
}

/* One segment as INIT or the BIOS leaves it in real mode: base = selector * 16, 64 KiB. */
static void real_mode_segment(void *v, unsigned seg, uint16_t sel, uint16_t attrib)
{
    vmcb_set_segment(v, seg, sel, attrib, 0xFFFF, (uint64_t)sel << 4);
}

void svm_guest_real_mode(void *v, uint16_t cs_sel, uint64_t rip, uint64_t cr0)
{
    static const unsigned data_segs[] = { VMCB_ES, VMCB_SS, VMCB_DS, VMCB_FS, VMCB_GS };
    for (unsigned i = 0; i < sizeof data_segs / sizeof data_segs[0]; i++)
        real_mode_segment(v, data_segs[i], 0, 0x93);  /* read/write data, accessed */
    real_mode_segment(v, VMCB_CS, cs_sel, 0x9B);      /* execute/read code, accessed */
    vmcb_set_segment(v, VMCB_LDTR, 0, 0x82, 0xFFFF, 0);
    vmcb_set_segment(v, VMCB_TR, 0, 0x8B, 0xFFFF, 0);
    vmcb_set_segment(v, VMCB_GDTR, 0, 0, 0xFFFF, 0);
    vmcb_set_segment(v, VMCB_IDTR, 0, 0, 0x3FF, 0);
    vmcb_set_u8(v, VMCB_CPL, 0);
    vmcb_set_u64(v, VMCB_CR0, cr0);
    vmcb_set_u64(v, VMCB_CR2, 0);
    vmcb_set_u64(v, VMCB_CR3, 0);
    vmcb_set_u64(v, VMCB_CR4, 0);
    /* VMRUN insists on EFER.SVME in the guest (15.5.1); the EFER intercepts hide it. */
    vmcb_set_u64(v, VMCB_EFER, EFER_SVME);
    vmcb_set_u64(v, VMCB_DR6, 0xFFFF0FF0);
    vmcb_set_u64(v, VMCB_DR7, 0x400);
    vmcb_set_u64(v, VMCB_RFLAGS, 0x2);
    vmcb_set_u64(v, VMCB_RIP, rip);
    vmcb_set_u64(v, VMCB_RSP, 0);
    vmcb_set_u64(v, VMCB_RAX, 0);
    vmcb_set_u64(v, VMCB_G_PAT, PAT_POWER_ON);
    vmcb_set_u64(v, VMCB_INTERRUPT_SHADOW, 0);
    vmcb_set_u64(v, VMCB_EVENTINJ, 0);
}

/* The VMCB's fields for a 64-bit guest state (guest/long_mode.h); the VMCS's are vmx.c's. */
static void guest_long_mode(void *v, const struct guest_long_mode *g)
{
    static const unsigned vmcb_seg[SEG_COUNT] = {
        [SEG_ES] = VMCB_ES, [SEG_CS] = VMCB_CS, [SEG_SS] = VMCB_SS, [SEG_DS] = VMCB_DS,
        [SEG_FS] = VMCB_FS, [SEG_GS] = VMCB_GS, [SEG_LDTR] = VMCB_LDTR, [SEG_TR] = VMCB_TR,
    };
    for (unsigned r = 0; r < SEG_COUNT; r++)
        vmcb_set_segment(v, vmcb_seg[r], g->seg[r].sel, vmcb_attrib(g->seg[r].ar),
                         g->seg[r].limit, g->seg[r].base);
    vmcb_set_segment(v, VMCB_GDTR, 0, 0, g->gdtr_limit, g->gdtr_base);
    vmcb_set_segment(v, VMCB_IDTR, 0, 0, g->idtr_limit, g->idtr_base);
    vmcb_set_u8(v, VMCB_CPL, (uint8_t)((g->seg[SEG_SS].ar >> 5) & 3));   /* SS.DPL (15.5.1) */
    vmcb_set_u64(v, VMCB_CR0, g->cr0);
    vmcb_set_u64(v, VMCB_CR2, 0);
    vmcb_set_u64(v, VMCB_CR3, g->cr3);
    vmcb_set_u64(v, VMCB_CR4, g->cr4);
    vmcb_set_u64(v, VMCB_EFER, g->efer | EFER_SVME);
    vmcb_set_u64(v, VMCB_DR6, 0xFFFF0FF0);
    vmcb_set_u64(v, VMCB_DR7, 0x400);
    vmcb_set_u64(v, VMCB_RFLAGS, g->rflags);
    vmcb_set_u64(v, VMCB_RIP, g->rip);
    vmcb_set_u64(v, VMCB_RSP, g->rsp);
    vmcb_set_u64(v, VMCB_RAX, 0);
    vmcb_set_u64(v, VMCB_KERNEL_GS_BASE, g->kernel_gs_base);
    vmcb_set_u64(v, VMCB_G_PAT, g->pat);
    vmcb_set_u64(v, VMCB_INTERRUPT_SHADOW, 0);
    vmcb_set_u64(v, VMCB_EVENTINJ, 0);
}

/* The BSP's first VMRUN, its VMCB's guest state written, with the guest's GPRs `first`. */
static void run_bsp(struct percpu *cpu, struct guest_regs first) __attribute__((noreturn));
static void run_bsp(struct percpu *cpu, struct guest_regs first)
{
    static struct guest_regs regs;     /* svm_run keeps using them: not on this stack */
    regs = first;
    cpu->vcpu.launched = true;
    svm_record_state_sum(svm_cpu(cpu));
    svm_run(&regs, svm_cpu(cpu)->vmcb_phys, svm_cpu(cpu)->host_vmcb_phys);
}

/* UEFI: the firmware's own 64-bit context, continued (guest/backend.h). */
static void svm_launch_bsp_long_mode(const struct guest_long_mode *g)
{
    struct percpu *cpu = this_cpu();
    guest_long_mode(svm_cpu(cpu)->vmcb, g);
    run_bsp(cpu, (struct guest_regs){ 0 });
}

/* The boot sector (or a waking vector) in real mode, as a BIOS starts it (guest/backend.h). */
static void svm_launch_bsp_real_mode(const struct guest_start *start)
{
    struct percpu *cpu = this_cpu();
    void *vmcb = svm_cpu(cpu)->vmcb;
    svm_guest_real_mode(vmcb, start->cs, start->ip, CR0_ET);   /* PE and PG clear: real mode */
    vmcb_set_u64(vmcb, VMCB_RFLAGS, start->interrupts_off ? 0x2 : 0x202);
    vmcb_set_u64(vmcb, VMCB_RSP, start->ip);
    run_bsp(cpu, (struct guest_regs){ .rdx = start->drive });
}

const struct backend svm_backend = {
    .name = "SVM", .launch_note = " under SVM",
    .per_cpu_pages = 4,                           /* state, VMCB, host save area, host VMCB */
    .shared_pages = 5,                            /* MSR (2) and I/O (3) permission maps */
    .probe = svm_probe, .setup_shared = svm_setup_shared, .prepare_cpu = svm_prepare_cpu,
    .enable_cpu = svm_enable_cpu, .leave_cpu = svm_leave_cpu, .launch_ap = svm_launch_ap,
    .launch_bsp_real_mode = svm_launch_bsp_real_mode,
    .launch_bsp_long_mode = svm_launch_bsp_long_mode,
    /* No shared EPT to shoot down: each CPU's MTRRs type its own nested walks. */
    .ept_generation = NULL, .state_check = svm_state_check,
};
