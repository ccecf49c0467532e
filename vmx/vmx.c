/*
 * VMX setup: capability probe, the pieces all processors share (EPT, MSR
 * bitmap), and on each processor VMXON and one VMCS (SDM Vol. 3C, chapters
 * 24 to 27). The guest state written here is the architectural state a
 * processor has when the BIOS hands over (BSP) or after INIT (APs).
 */
#include "vmx/vmx.h"

#include "guest/backend.h"
#include "guest/memory.h"
#include "guest/sleep.h"
#include "kernel/cr_bits.h"
#include "kernel/exceptions.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/segment.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "mm/mtrr_msr.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_insn.h"

struct vmx_global vmx;

extern char vmx_exit_stub[];



static bool cpu_has_vmx(void)
{
    return cpuid(1, 0).ecx & (1u << 5);
}

static void read_caps(struct vmx_caps *c)
{
    c->basic = rdmsr(MSR_IA32_VMX_BASIC);
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED : MSR_IA32_VMX_PINBASED_CTLS);
    c->proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED : MSR_IA32_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT : MSR_IA32_VMX_EXIT_CTLS);
    c->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY : MSR_IA32_VMX_ENTRY_CTLS);
    c->misc = rdmsr(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    /* These two MSRs exist only when the controls that need them can be set (A.3.3, A.10). */
    c->proc2 = (c->proc >> 32) & PROC_ACTIVATE_SECONDARY ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) : 0;
    c->ept_vpid = (c->proc2 >> 32) & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)
                      ? rdmsr(MSR_IA32_VMX_EPT_VPID_CAP) : 0;
}

static int vmx_probe(char *why, size_t whylen)
{
    if (!cpu_has_vmx()) {
        fmt_snprintf(why, whylen, "this CPU has no VMX (CPUID.1:ECX.VMX = 0)");
        return -1;
    }
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE)) {
        fmt_snprintf(why, whylen, "VMX is disabled by the firmware (IA32_FEATURE_CONTROL = %#llx "
                     "is locked without 'VMX outside SMX'); enable VT-x in the firmware setup",
                     (unsigned long long)fc);
        return -1;
    }
    read_caps(&vmx.caps);
    char missing[256];
    if (vmx_caps_evaluate(&vmx.caps, &vmx.ctl, missing, sizeof missing) != 0) {
        fmt_snprintf(why, whylen, "VMX lacks what thinvisor needs: %s", missing);
        return -1;
    }
    const struct vmx_controls *k = &vmx.ctl;
    log_info("VMX: revision %#x, %s controls, EPT (4-level, WB%s%s, INVEPT %s), unrestricted "
             "guest, VPID %s, wait-for-SIPI %s, RDTSCP %s, INVPCID %s, XSAVES %s\n",
             k->revision, vmx.caps.basic & VMX_BASIC_TRUE_CTLS ? "TRUE" : "default",
             k->ept_2m ? ", 2M" : "", k->ept_1g ? ", 1G" : "",
             k->invept_single ? "single-context" : "all-context", k->vpid ? "on" : "off",
             k->wait_for_sipi ? "yes" : "no", k->proc2 & PROC2_ENABLE_RDTSCP ? "on" : "off",
             k->proc2 & PROC2_ENABLE_INVPCID ? "on" : "off",
             k->proc2 & PROC2_ENABLE_XSAVES ? "on" : "off");
    log_info("VMX: controls pin %#x proc %#x proc2 %#x exit %#x entry %#x\n", k->pin, k->proc,
             k->proc2, k->exit, k->entry);
    return 0;
}

static void bitmap_set(uint8_t *bitmap, uint32_t bit)
{
    bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/*
 * MSR bitmap (SDM Vol. 3C, 25.6.9): read bitmaps for low (0-0x1FFF) and high
 * (0xC0000000-0xC0001FFF) MSRs at 0 and 1 KiB, write bitmaps at 2 and 3 KiB.
 * Everything passes through except MTRR writes (the EPT must follow them) and
 * the VMX capability MSRs, read or written (VMX is hidden: they #GP as on a CPU
 * without it; a write went through to Bochs, found by the hostile guest).
 */
static void build_msr_bitmap(uint8_t *b)
{
    for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_LAST; msr++) {
        bitmap_set(b, msr);                       /* read-low */
        bitmap_set(b + 2048, msr);                /* write-low: #GP, as where VMX is absent */
    }
    for (uint32_t msr = 0; msr < 0x2000; msr++)
        if (mtrr_is_mtrr_msr(msr))
            bitmap_set(b + 2048, msr);            /* write-low */
}

/*
 * What every CPU shares (guest/backend.h): the EPT (guest/memory.c builds it
 * in the EPT's format, with the page sizes this CPU's EPT has), the MSR
 * bitmap, with test_exit I/O bitmaps that catch the emulators' exit ports,
 * and where the guest's INIT and SIPI are emulated the interception of its
 * ICR writes.
 */
static int vmx_setup_shared(const struct backend_options *o)
{
    uint8_t *msr_bitmap = hv_alloc_pages(1, "MSR bitmap");
    build_msr_bitmap(msr_bitmap);
    vmx.emulate_sipi = o->emulate_sipi || !vmx.ctl.wait_for_sipi;
    if (vmx.emulate_sipi)
        bitmap_set(msr_bitmap + 2048, X2APIC_MSR_ICR);   /* write-low */
    vmx.msr_bitmap_phys = virt_to_phys_identity(msr_bitmap);

    uint16_t ports[GUEST_SLEEP_MAX_PORTS];
    unsigned sleep_ports = guest_sleep_ports(ports);
    if (o->test_exit || sleep_ports) {
        uint8_t *io = hv_alloc_pages(2, "I/O bitmaps");   /* A: ports 0-7FFF, B: 8000-FFFF */
        if (o->test_exit) {
            bitmap_set(io, 0xF4);                     /* QEMU isa-debug-exit */
            bitmap_set(io, 0x8900);                   /* Bochs shutdown port */
        }
        for (unsigned i = 0; i < sleep_ports; i++)
            bitmap_set(io, ports[i]);                 /* PM1 control: sleep entries */
        vmx.io_bitmap_phys[0] = virt_to_phys_identity(io);
        vmx.io_bitmap_phys[1] = vmx.io_bitmap_phys[0] + 4096;
        vmx.ctl.proc |= PROC_USE_IO_BITMAPS;
    }

    if (guest_memory_setup(o->mapped_top, false, vmx.ctl.ept_2m, vmx.ctl.ept_1g) != 0)
        return -1;
    /* EPTP (25.6.11): WB paging structures, 4-level walk. */
    vmx.eptp = guest_memory.tree.pml4 | (3u << 3) | 6u;
    if (vmx.emulate_sipi) {
        /* In xAPIC mode the ICR is MMIO: its page becomes read-only (guest/gpa_fault.c). */
        if (!lapic_is_x2apic() && guest_memory_protect_apic_page() != 0)
            return -1;
        log_info("VMX: SIPI emulated (%s): APs wait in VMX root; ICR writes intercepted "
                 "(x2APIC MSR%s)\n", o->emulate_sipi ? "emulate_sipi" : "no wait-for-SIPI state",
                 guest_memory.apic_page ? ", xAPIC page through the EPT" : "");
    }
    return 0;
}

/* Writes one guest segment register's four VMCS fields. */
static void guest_segment(unsigned i, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vmwrite(VMCS_GUEST_ES_SEL + 2 * i, sel);
    vmwrite(VMCS_GUEST_ES_BASE + 2 * i, base);
    vmwrite(VMCS_GUEST_ES_LIMIT + 2 * i, limit);
    vmwrite(VMCS_GUEST_ES_AR + 2 * i, ar);
}

void vmx_set_guest_cr0(uint64_t cr0)
{
    vmwrite(VMCS_CR0_READ_SHADOW, cr0);
    vmwrite(VMCS_GUEST_CR0, vmx_fix_guest_cr0(cr0, &vmx.caps));
}

void vmx_set_guest_cr4(uint64_t cr4)
{
    vmwrite(VMCS_CR4_READ_SHADOW, cr4);
    vmwrite(VMCS_GUEST_CR4, vmx_fix_cr(cr4, vmx.caps.cr4_fixed0, vmx.caps.cr4_fixed1));
}

/*
 * What neither a boot sector's start nor the firmware's context carries over:
 * no breakpoints, no SYSENTER target, no blocking by STI or MOV SS, no
 * pending debug exception; and the activity state the guest starts in.
 */
static void quiet_guest_state(uint32_t activity)
{
    vmwrite(VMCS_GUEST_DR7, 0x400);
    vmwrite(VMCS_GUEST_DEBUGCTL, 0);
    vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
    vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
    vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
    vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmwrite(VMCS_GUEST_PENDING_DBG, 0);
    vmwrite(VMCS_GUEST_ACTIVITY_STATE, activity);
}

/*
 * Real-mode state with CS = cs_sel:cs_base and IP = rip: what a processor has
 * after INIT (SDM Vol. 3A, 10.1.1, Table 10-1) or when a BIOS jumps to a boot
 * sector. `cr0` is what the guest believes CR0 holds.
 */
void vmx_guest_real_mode(uint16_t cs_sel, uint64_t cs_base, uint64_t rip, uint64_t cr0,
                         uint32_t activity)
{
    vmx_set_guest_cr0(cr0);
    vmx_set_guest_cr4(0);
    vmwrite(VMCS_GUEST_CR3, 0);
    vmwrite(VMCS_GUEST_RFLAGS, 0x2);
    vmwrite(VMCS_GUEST_RIP, rip);
    vmwrite(VMCS_GUEST_RSP, 0);
    for (unsigned s = SEG_ES; s <= SEG_GS; s++)
        guest_segment(s, 0, 0, 0xFFFF, 0x93);          /* read/write data, accessed */
    guest_segment(SEG_CS, cs_sel, cs_base, 0xFFFF, 0x9B); /* execute/read code, accessed */
    guest_segment(SEG_LDTR, 0, 0, 0xFFFF, 0x82);
    guest_segment(SEG_TR, 0, 0, 0xFFFF, 0x8B);            /* busy 32-bit TSS (26.3.1.2) */
    vmwrite(VMCS_GUEST_GDTR_BASE, 0);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
    vmwrite(VMCS_GUEST_IDTR_BASE, 0);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, 0x3FF);
    vmwrite(VMCS_GUEST_EFER, 0);
    vmwrite(VMCS_GUEST_PAT, PAT_POWER_ON);
    quiet_guest_state(activity);
    vmwrite(VMCS_ENTRY_CONTROLS, vmx.ctl.entry & ~ENTRY_IA32E_MODE_GUEST);
}

/*
 * A 64-bit guest state (guest/long_mode.h): the UEFI firmware's context,
 * continued. The entry control "IA-32e mode guest" follows EFER.LMA (SDM
 * Vol. 3C, 26.3.1.1); the unusable bit and accessed types are the
 * decoder's (kernel/segment.c).
 */
void vmx_guest_long_mode(const struct guest_long_mode *g)
{
    vmx_set_guest_cr0(g->cr0);
    vmx_set_guest_cr4(g->cr4);
    vmwrite(VMCS_GUEST_CR3, g->cr3);
    vmwrite(VMCS_GUEST_RFLAGS, g->rflags);
    vmwrite(VMCS_GUEST_RIP, g->rip);
    vmwrite(VMCS_GUEST_RSP, g->rsp);
    for (unsigned s = SEG_ES; s <= SEG_TR; s++)
        guest_segment(s, g->seg[s].sel, g->seg[s].base, g->seg[s].limit, g->seg[s].ar);
    vmwrite(VMCS_GUEST_GDTR_BASE, g->gdtr_base);
    vmwrite(VMCS_GUEST_GDTR_LIMIT, g->gdtr_limit);
    vmwrite(VMCS_GUEST_IDTR_BASE, g->idtr_base);
    vmwrite(VMCS_GUEST_IDTR_LIMIT, g->idtr_limit);
    vmwrite(VMCS_GUEST_EFER, g->efer);
    vmwrite(VMCS_GUEST_PAT, g->pat);
    quiet_guest_state(ACTIVITY_ACTIVE);
    vmwrite(VMCS_ENTRY_CONTROLS, g->efer & EFER_LMA ? vmx.ctl.entry | ENTRY_IA32E_MODE_GUEST
                                                    : vmx.ctl.entry & ~ENTRY_IA32E_MODE_GUEST);
}

static void write_host_state(struct percpu *cpu)
{
    vmwrite(VMCS_HOST_CR0, read_cr0());
    vmwrite(VMCS_HOST_CR3, read_cr3());
    vmwrite(VMCS_HOST_CR4, read_cr4());
    vmwrite(VMCS_HOST_CS_SEL, GDT_KERNEL_CODE);
    vmwrite(VMCS_HOST_SS_SEL, GDT_KERNEL_DATA);
    vmwrite(VMCS_HOST_DS_SEL, GDT_KERNEL_DATA);
    vmwrite(VMCS_HOST_ES_SEL, GDT_KERNEL_DATA);
    vmwrite(VMCS_HOST_FS_SEL, 0);
    vmwrite(VMCS_HOST_GS_SEL, 0);
    vmwrite(VMCS_HOST_TR_SEL, GDT_TSS);
    vmwrite(VMCS_HOST_FS_BASE, 0);
    vmwrite(VMCS_HOST_GS_BASE, (uint64_t)cpu);
    vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&cpu->segments.tss);
    vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)cpu->segments.gdt);
    vmwrite(VMCS_HOST_IDTR_BASE, idt_base());
    vmwrite(VMCS_HOST_SYSENTER_CS, 0);
    vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
    vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
    vmwrite(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
    vmwrite(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
    /*
     * The exit stub pushes the 15 guest GPRs and calls the dispatcher, whose entry the
     * ABI wants at RSP = 8 mod 16: start 8 bytes below the 16-aligned top, so that no
     * padding push is needed at every exit.
     */
    vmwrite(VMCS_HOST_RSP, cpu->stack_top - 8);
    vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
}

static void write_controls(struct percpu *cpu)
{
    const struct vmx_controls *k = &vmx.ctl;
    vmwrite(VMCS_PIN_CONTROLS, k->pin);
    vmwrite(VMCS_PROC_CONTROLS, k->proc);
    vmwrite(VMCS_PROC_CONTROLS2, k->proc2);
    vmwrite(VMCS_EXIT_CONTROLS, k->exit);
    vmwrite(VMCS_ENTRY_CONTROLS, k->entry);
    vmwrite(VMCS_EXCEPTION_BITMAP, 0);
    vmwrite(VMCS_CR3_TARGET_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmwrite(VMCS_MSR_BITMAP, vmx.msr_bitmap_phys);
    if (k->proc & PROC_USE_IO_BITMAPS) {
        vmwrite(VMCS_IO_BITMAP_A, vmx.io_bitmap_phys[0]);
        vmwrite(VMCS_IO_BITMAP_B, vmx.io_bitmap_phys[1]);
    }
    vmwrite(VMCS_EPT_POINTER, vmx.eptp);
    if (k->vpid)
        vmwrite(VMCS_VPID, cpu->index + 1);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
    /*
     * CR0/CR4 bits the guest may not set as it likes (25.6.6): those VMX fixes
     * (NE, VMXE, and bits the CPU does not support), plus CR0.PG, whose changes
     * switch EFER.LMA and so the "IA-32e mode guest" entry control.
     */
    uint64_t cr0_mask = (vmx.caps.cr0_fixed0 & ~(CR0_PE | CR0_PG)) |
                        (~vmx.caps.cr0_fixed1 & 0xFFFFFFFFull) | CR0_PG;
    uint64_t cr4_mask = vmx.caps.cr4_fixed0 | (~vmx.caps.cr4_fixed1 & 0xFFFFFFFFull);
    vmwrite(VMCS_CR0_GUEST_HOST_MASK, cr0_mask);
    vmwrite(VMCS_CR4_GUEST_HOST_MASK, cr4_mask);
}

static void vmx_prepare_cpu(struct percpu *cpu)
{
    struct vmx_cpu *v = hv_alloc_pages(1, "VMX per-CPU state");
    v->vmxon_phys = virt_to_phys_identity(hv_alloc_pages(1, "VMXON region"));
    v->vmcs_phys = virt_to_phys_identity(hv_alloc_pages(1, "VMCS"));
    cpu->backend = v;
}

/* On each CPU: IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, VMXON, one VMCS with its host state. */
static int vmx_enable_cpu(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct vmx_cpu *v = vmx_cpu(cpu);
    struct vmx_caps mine;
    if (!cpu_has_vmx()) {
        log_error("CPU %u: no VMX\n", cpu->index);
        return -1;
    }
    read_caps(&mine);
    if (memcmp(&mine, &vmx.caps, sizeof mine) != 0)
        log_warn("CPU %u: VMX capabilities differ from the boot processor's; using the "
                 "boot processor's controls\n", cpu->index);

    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_IA32_FEATURE_CONTROL,
              fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE);
    else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE)) {
        log_error("CPU %u: VMX locked off in IA32_FEATURE_CONTROL\n", cpu->index);
        return -1;
    }
    /* SDM Vol. 3C, 24.8: CR0 and CR4 must respect the fixed bits, CR4.VMXE set. */
    v->cr0_before = read_cr0();
    v->cr4_before = read_cr4();
    write_cr0(vmx_fix_cr(v->cr0_before, vmx.caps.cr0_fixed0, vmx.caps.cr0_fixed1));
    /*
     * CR4.OSXSAVE too, where the CPU has XSAVE: the XSETBV exit handler runs
     * XSETBV for the guest, which is #UD in the host without it (SDM Vol. 1,
     * 13.3). The host itself uses no extended state.
     */
    uint64_t cr4 = v->cr4_before | CR4_VMXE;
    if (cpuid(1, 0).ecx & (1u << 26))
        cr4 |= CR4_OSXSAVE;
    write_cr4(vmx_fix_cr(cr4, vmx.caps.cr4_fixed0, vmx.caps.cr4_fixed1));
    /*
     * A zeroed VMCS, as at boot: after an S3 wake the page holds whatever the
     * VMCS was when the power went, undefined (SDM Vol. 3C, 25.11.1), and
     * the fields thinvisor never writes must read 0.
     */
    memset(phys_to_virt(v->vmcs_phys), 0, 4096);
    *(uint32_t *)phys_to_virt(v->vmxon_phys) = vmx.ctl.revision;
    *(uint32_t *)phys_to_virt(v->vmcs_phys) = vmx.ctl.revision;
    if (vmxon(v->vmxon_phys) != 0) {
        log_error("CPU %u: VMXON failed\n", cpu->index);
        write_cr4(v->cr4_before);
        write_cr0(v->cr0_before);
        return -1;
    }
    v->in_root = true;
    if (vmclear(v->vmcs_phys) != 0 || vmptrld(v->vmcs_phys) != 0) {
        log_error("CPU %u: VMCLEAR/VMPTRLD failed (error %u)\n", cpu->index,
                  (uint32_t)vmread(VMCS_INSTR_ERROR));
        return -1;
    }
    write_controls(cpu);
    write_host_state(cpu);
    /* The guest state is written at launch: vmx_launch_ap, or the BSP's boot sector. */
    vmx_invept();
    return 0;
}

/*
 * Out of VMX operation again, on a CPU no guest runs on (guest/backend.h):
 * the VMCS cleared (its data written back, SDM Vol. 3C, 24.11.3), VMXOFF,
 * then CR4 and CR0 as enable_cpu found them (CR4.VMXE may only be cleared
 * outside VMX operation, 24.7).
 */
int vmx_leave_cpu(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct vmx_cpu *v = vmx_cpu(cpu);
    if (!v || !v->in_root)
        return 0;
    vmclear(v->vmcs_phys);
    if (vmxoff() != 0) {
        log_error("CPU %u: VMXOFF failed\n", cpu->index);
        return -1;
    }
    v->in_root = false;
    write_cr4(v->cr4_before);
    write_cr0(v->cr0_before);
    return 0;
}

static const char *const instruction_errors[] = {
    [1] = "VMCALL executed in VMX root operation",
    [2] = "VMCLEAR with invalid physical address",
    [3] = "VMCLEAR with VMXON pointer",
    [4] = "VMLAUNCH with non-clear VMCS",
    [5] = "VMRESUME with non-launched VMCS",
    [6] = "VMRESUME after VMXOFF",
    [7] = "VM entry with invalid control field(s)",
    [8] = "VM entry with invalid host-state field(s)",
    [9] = "VMPTRLD with invalid physical address",
    [10] = "VMPTRLD with VMXON pointer",
    [11] = "VMPTRLD with incorrect VMCS revision identifier",
    [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [13] = "VMWRITE to read-only VMCS component",
    [15] = "VMXON executed in VMX root operation",
    [16] = "VM entry with invalid executive-VMCS pointer",
    [17] = "VM entry with non-launched executive VMCS",
    [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
    [19] = "VMCALL with non-clear VMCS",
    [20] = "VMCALL with invalid VM-exit control fields",
    [22] = "VMCALL with incorrect MSEG revision identifier",
    [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [24] = "VMCALL with invalid SMM-monitor features",
    [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
    [26] = "VM entry with events blocked by MOV SS",
    [28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t error)
{
    if (error < sizeof instruction_errors / sizeof instruction_errors[0] &&
        instruction_errors[error])
        return instruction_errors[error];
    return "unknown VM-instruction error";
}

void vmx_dump_guest_state(void)
{
    log_error("guest state: RIP %#llx RSP %#llx RFLAGS %#llx activity %llu "
              "interruptibility %#llx\n",
              (unsigned long long)vmread(VMCS_GUEST_RIP),
              (unsigned long long)vmread(VMCS_GUEST_RSP),
              (unsigned long long)vmread(VMCS_GUEST_RFLAGS),
              (unsigned long long)vmread(VMCS_GUEST_ACTIVITY_STATE),
              (unsigned long long)vmread(VMCS_GUEST_INTERRUPTIBILITY));
    log_error("  CR0 %#llx (shadow %#llx) CR3 %#llx CR4 %#llx (shadow %#llx) EFER %#llx\n",
              (unsigned long long)vmread(VMCS_GUEST_CR0),
              (unsigned long long)vmread(VMCS_CR0_READ_SHADOW),
              (unsigned long long)vmread(VMCS_GUEST_CR3),
              (unsigned long long)vmread(VMCS_GUEST_CR4),
              (unsigned long long)vmread(VMCS_CR4_READ_SHADOW),
              (unsigned long long)vmread(VMCS_GUEST_EFER));
    for (unsigned s = SEG_ES; s <= SEG_TR; s++)
        log_error("  %-4s sel %04llx base %#llx limit %#llx ar %#llx\n", segment_reg_name(s),
                  (unsigned long long)vmread(VMCS_GUEST_ES_SEL + 2 * s),
                  (unsigned long long)vmread(VMCS_GUEST_ES_BASE + 2 * s),
                  (unsigned long long)vmread(VMCS_GUEST_ES_LIMIT + 2 * s),
                  (unsigned long long)vmread(VMCS_GUEST_ES_AR + 2 * s));
    log_error("  GDTR %#llx/%#llx IDTR %#llx/%#llx entry controls %#llx\n",
              (unsigned long long)vmread(VMCS_GUEST_GDTR_BASE),
              (unsigned long long)vmread(VMCS_GUEST_GDTR_LIMIT),
              (unsigned long long)vmread(VMCS_GUEST_IDTR_BASE),
              (unsigned long long)vmread(VMCS_GUEST_IDTR_LIMIT),
              (unsigned long long)vmread(VMCS_ENTRY_CONTROLS));
}

bool vmx_can_kick(void)
{
    return vmx.ctl.pin & PIN_NMI_EXITING;
}

int vmx_launch_cpu(struct percpu *cpu, const struct guest_regs *regs)
{
    struct vmx_cpu *v = vmx_cpu(cpu);
    cpu->vcpu.launched = true;
    vmx_record_state_sum(v);
    vmx_ept_sync_before_entry(cpu, !cpu->vcpu.waiting_for_sipi);
    int rc = vmx_launch(regs);
    cpu->vcpu.launched = false;
    if (rc == 1) {
        log_error("CPU %u: VMLAUNCH failed: VMfailInvalid (no current VMCS)\n", cpu->index);
    } else {
        uint32_t err = (uint32_t)vmread(VMCS_INSTR_ERROR);
        log_error("CPU %u: VMLAUNCH failed: VM-instruction error %u (%s)\n", cpu->index, err,
                  vmx_instruction_error_name(err));
        vmx_dump_guest_state();
    }
    return -1;
}

/* The boot sector (or a waking vector) in real mode, as a BIOS starts it (guest/backend.h). */
void vmx_launch_bsp_real_mode(const struct guest_start *start)
{
    vmx_guest_real_mode(start->cs, (uint64_t)start->cs << 4, start->ip, 0x10, ACTIVITY_ACTIVE);
    vmwrite(VMCS_GUEST_RSP, start->ip);
    vmwrite(VMCS_GUEST_RFLAGS, start->interrupts_off ? 0x2 : 0x202);
    struct guest_regs regs = { .rdx = start->drive };
    vmx_launch_cpu(this_cpu(), &regs);
}

/* UEFI: the firmware's own 64-bit context, continued (guest/backend.h). */
void vmx_launch_bsp_long_mode(const struct guest_long_mode *g)
{
    static struct guest_regs regs;
    vmx_guest_long_mode(g);
    vmx_launch_cpu(this_cpu(), &regs);
}

const struct backend vmx_backend = {
    .name = "VMX root", .launch_note = "",
    .per_cpu_pages = 3,                           /* state, VMXON region, VMCS */
    .shared_pages = 3,                            /* MSR bitmap; with test_exit 2 I/O bitmaps */
    .probe = vmx_probe, .setup_shared = vmx_setup_shared, .prepare_cpu = vmx_prepare_cpu,
    .enable_cpu = vmx_enable_cpu, .leave_cpu = vmx_leave_cpu, .launch_ap = vmx_launch_ap,
    .launch_bsp_real_mode = vmx_launch_bsp_real_mode,
    .launch_bsp_long_mode = vmx_launch_bsp_long_mode,
    .ept_generation = vmx_ept_generation, .state_check = vmx_state_check,
};
