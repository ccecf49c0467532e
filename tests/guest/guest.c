/*
 * thinvisor's test guest: checks from inside what only the inside can see,
 * one line per check on COM1 ("PASS name", "FAIL name: detail", or
 * "SKIP name: why"), then "guest: N passed, M failed", then ends the run.
 * Check names are stable: the boot tests match on them.
 *
 * Booted directly by a BIOS (no hypervisor), the checks that need thinvisor
 * say "SKIP ...: no hypervisor"; the others still run.
 */
#include "tests/guest/guest.h"

#include "abi/exit_reason.h"

#define MiB (1024ull * 1024)

static const struct bootinfo *bi;
static int hv;                      /* thinvisor's signature is at CPUID 0x40000000 */
static uint32_t hv_version;         /* CPUID 0x40000001.EAX */

/* The hypervisor region, from VMCALL TV_HC_MEMORY_MAP index 0. */
static int region_vector;
static struct hc region;
static int region_ok;

/* Skips a check that only means something under thinvisor; returns 0 then. */
static int need_hv(const char *name)
{
    if (!hv)
        skip(name, "no hypervisor");
    return hv;
}

/* Like need_hv, and fails the check when the region is not known. */
static int need_region(const char *name)
{
    if (!need_hv(name))
        return 0;
    if (region_vector >= 0)
        fail(name, "VMCALL MEMORY_MAP raised %s (vector %d)", exception_name(region_vector),
             region_vector);
    else if (!region_ok)
        fail(name, "VMCALL MEMORY_MAP 0 returned EAX %u EBX 0x%x ECX 0x%x EDX %u, want a "
             "TV_MEM_HYPERVISOR range", region.eax, region.ebx, region.ecx, region.edx);
    return region_vector < 0 && region_ok;
}

/* ---- how we were booted ---------------------------------------------------- */

static void check_start(void)
{
    const char *name = "started at 0000:7C00";
    if (bi->start_cs == 0 && bi->start_ip == 0x7C00)
        pass(name);
    else
        fail(name, "entered at %04x:%04x", bi->start_cs, bi->start_ip);
}

static void check_drive(void)
{
    const char *name = "boot drive is 0x80";
    if (bi->drive == 0x80)
        pass(name);
    else
        fail(name, "DL was 0x%02x", bi->drive);
}

/* ---- CPUID ---------------------------------------------------------------- */

static void detect_hypervisor(void)
{
    struct cpuid_regs r = cpuid(TV_CPUID_BASE);
    uint32_t words[3] = { r.ebx, r.ecx, r.edx };
    char sig[13];

    memcpy(sig, words, 12);
    for (int i = 0; i < 12; i++)
        if (sig[i] < ' ' || sig[i] > '~')
            sig[i] = '.';
    sig[12] = 0;
    hv = r.ebx == TV_SIGNATURE_EBX && r.ecx == TV_SIGNATURE_ECX && r.edx == TV_SIGNATURE_EDX;
    kprintf("cpuid 0x40000000: EAX 0x%08x signature \"%s\": %s\n", r.eax, sig,
            hv ? "thinvisor" : "no hypervisor");
}

/* Without a hypervisor there is nothing to hide: a CPU with VMX shows it. */
static void check_cpuid_vmx(void)
{
    const char *name = "CPUID.1 hides VMX";
    uint32_t ecx = cpuid(1).ecx;
    if (!(ecx & TV_CPUID1_ECX_VMX))
        pass(name);
    else if (hv)
        fail(name, "CPUID.1:ECX = 0x%08x has bit 5 set", ecx);
    else
        skip(name, "no hypervisor (this CPU has VMX)");
}

/* AMD's SVM too: CPUID 8000_0001:ECX bit 2, under the SVM backend and any other. */
static void check_cpuid_svm(void)
{
    const char *name = "CPUID 8000_0001 hides SVM";
    uint32_t ecx = cpuid(0x80000000).eax >= 0x80000001 ? cpuid(0x80000001).ecx : 0;
    if (!(ecx & (1u << 2)))
        pass(name);
    else if (hv)
        fail(name, "CPUID 8000_0001:ECX = 0x%08x has bit 2 set", ecx);
    else
        skip(name, "no hypervisor (this CPU has SVM)");
}

static void check_cpuid_hv_bit(void)
{
    const char *name = "CPUID.1 hypervisor bit";
    if (!need_hv(name))
        return;
    uint32_t ecx = cpuid(1).ecx;
    if (ecx & TV_CPUID1_ECX_HYPERVISOR)
        pass(name);
    else
        fail(name, "CPUID.1:ECX = 0x%08x has bit 31 clear", ecx);
}

static void check_cpuid_signature(void)
{
    const char *name = "CPUID 0x40000000 signature";
    if (!need_hv(name))
        return;
    uint32_t max = cpuid(TV_CPUID_BASE).eax;
    if (max >= TV_CPUID_MAX_LEAF)
        pass(name);
    else
        fail(name, "highest hypervisor leaf is 0x%08x, want at least 0x%08x", max,
             TV_CPUID_MAX_LEAF);
}

static void check_cpuid_version(void)
{
    const char *name = "CPUID 0x40000001 version";
    if (!need_hv(name))
        return;
    struct cpuid_regs r = cpuid(TV_CPUID_VERSION_LEAF);
    hv_version = r.eax;
    if (r.eax != 0 && (r.ebx & TV_FEATURE_VMCALL))
        pass(name);
    else
        fail(name, "EAX 0x%08x (want nonzero), EBX 0x%08x (want bit 0, VMCALL)", r.eax, r.ebx);
}

/*
 * CPUID.1:ECX.OSXSAVE and CPUID.(7,0):ECX.OSPKE are copies of CR4.OSXSAVE and
 * CR4.PKE (SDM Vol. 2A, CPUID): flipped here, CPUID read after each flip. The
 * hypervisor runs CPUID under its own CR4, so it must take these from the
 * guest's. Natively too, as the reference.
 */
#define CPUID1_XSAVE    (1u << 26)
#define CPUID1_OSXSAVE  (1u << 27)
#define CPUID7_PKU      (1u << 3)
#define CPUID7_OSPKE    (1u << 4)
#define CR4_OSXSAVE     (1u << 18)
#define CR4_PKE         (1u << 22)

static void check_cpuid_cr4_mirrors(void)
{
    const char *name = "CPUID OSXSAVE and OSPKE follow CR4";
    int xsave = (cpuid(1).ecx & CPUID1_XSAVE) != 0;
    int pku = cpuid(0).eax >= 7 && (cpuid(7).ecx & CPUID7_PKU);
    if (!xsave && !pku) {
        skip(name, "the CPU has neither XSAVE nor PKU");
        return;
    }
    uint32_t cr4 = read_cr4(), bits = (xsave ? CR4_OSXSAVE : 0) | (pku ? CR4_PKE : 0);
    for (int round = 0; round < 4; round++) {
        int on = round & 1;
        int v = probe_write_cr4(on ? cr4 | bits : cr4 & ~bits);
        uint32_t ecx1 = cpuid(1).ecx, ecx7 = pku ? cpuid(7).ecx : 0;
        probe_write_cr4(cr4);
        if (v >= 0) {
            fail(name, "setting CR4 to 0x%08x raised %s", on ? cr4 | bits : cr4 & ~bits,
                 exception_name(v));
            return;
        }
        if (xsave && !!(ecx1 & CPUID1_OSXSAVE) != on) {
            fail(name, "CR4.OSXSAVE = %d, CPUID.1:ECX = 0x%08x", on, ecx1);
            return;
        }
        if (pku && !!(ecx7 & CPUID7_OSPKE) != on) {
            fail(name, "CR4.PKE = %d, CPUID.7:ECX = 0x%08x", on, ecx7);
            return;
        }
    }
    kprintf("guest: CR4 mirrors checked:%s%s\n", xsave ? " OSXSAVE" : "", pku ? " OSPKE" : "");
    pass(name);
}

/* ---- VMCALL and VMX instructions ---------------------------------------------- */

static void check_vmcall_version(void)
{
    const char *name = "VMCALL version";
    if (!need_hv(name))
        return;
    struct hc r = { TV_HC_VERSION, 0, 0, 0 };
    int v = vmcall(&r);
    if (v >= 0)
        fail(name, "VMCALL raised %s (vector %d)", exception_name(v), v);
    else if (r.eax != TV_STATUS_OK || r.ebx != TV_ABI_VERSION || r.ecx != hv_version)
        fail(name, "EAX %u EBX %u ECX 0x%08x, want %u %u 0x%08x", r.eax, r.ebx, r.ecx,
             TV_STATUS_OK, TV_ABI_VERSION, hv_version);
    else
        pass(name);
}

static void check_vmcall_unknown(void)
{
    const char *name = "VMCALL unknown function";
    if (!need_hv(name))
        return;
    struct hc r = { 0x7777, 0, 0, 0 };
    int v = vmcall(&r);
    if (v >= 0)
        fail(name, "VMCALL raised %s (vector %d)", exception_name(v), v);
    else if (r.eax != TV_STATUS_UNKNOWN_CALL)
        fail(name, "EAX %u, want %u (TV_STATUS_UNKNOWN_CALL)", r.eax, TV_STATUS_UNKNOWN_CALL);
    else
        pass(name);
}

/*
 * TV_HC_OFF without the status area's token (0 is never one): refused with
 * TV_STATUS_BAD_ARGUMENT at CPL 0, and thinvisor stays (CPUID still says so).
 */
static void check_vmcall_off_refused(void)
{
    const char *name = "VMCALL off without the token is refused";
    if (!need_hv(name))
        return;
    struct hc r = { TV_HC_OFF, 0, 0, 0 };
    int v = vmcall(&r);
    uint32_t b = cpuid(TV_CPUID_BASE).ebx;
    if (v >= 0)
        fail(name, "VMCALL raised %s (vector %d)", exception_name(v), v);
    else if (r.eax != TV_STATUS_BAD_ARGUMENT)
        fail(name, "EAX %u, want %u (TV_STATUS_BAD_ARGUMENT)", r.eax, TV_STATUS_BAD_ARGUMENT);
    else if (b != TV_SIGNATURE_EBX)
        fail(name, "CPUID 0x40000000 no longer shows thinvisor (EBX 0x%08x)", b);
    else
        pass(name);
}

/*
 * Runs with or without thinvisor: a bare CPU with CR4.VMXE = 0 (we never set
 * it) raises #UD too (SDM Vol. 3C, 31.3, VMXON). Under thinvisor VMXON exits
 * unconditionally and the hypervisor must inject that #UD itself.
 */
static void check_vmxon(void)
{
    const char *name = "VMXON raises #UD";
    uint32_t eflags;
    int v = probe_vmxon(&eflags);
    if (v == 6)
        pass(name);
    else if (v >= 0)
        fail(name, "raised %s (vector %d) instead", exception_name(v), v);
    else
        fail(name, "no exception; RFLAGS 0x%08x after it", eflags);
}

/* Also runs without thinvisor: outside VMX operation VMCALL is #UD at any CPL. */
static void check_vmcall_cpl3(void)
{
    const char *name = "VMCALL from CPL 3 raises #UD";
    uint32_t eip, eax;
    int v = probe_user_vmcall(&eip, &eax);
    uint32_t insn = (uint32_t)(cpu_is_amd() ? user_vmmcall_insn : user_vmcall_insn);
    if (v == 6 && eip == insn)
        pass(name);
    else
        fail(name, "%s (vector %d) at 0x%08x (the VMCALL is at 0x%08x), EAX 0x%x",
             exception_name(v), v, eip, insn, eax);
}

/* ---- single step -------------------------------------------------------------- */

/*
 * A single-step trap over an instruction thinvisor does for the guest comes
 * right after it, with DR6.BS, as on bare metal (SDM Vol. 3A, 17.3.1.4): a
 * debugger stepping through CPUID, a hypercall or a store to the local APIC
 * (whose page is write-protected where thinvisor emulates INIT and SIPI) must
 * not skip a step. At CPL 0 (step_probe) and CPL 3 (probe_user); natively too.
 */
#define DR6_BS (1u << 14)

static void expect_step(const char *name, uint32_t hits, uint32_t eip, uint32_t dr6,
                        const char *after)
{
    if (hits == 1 && eip == (uint32_t)after && (dr6 & DR6_BS))
        pass(name);
    else
        fail(name, "%u #DB(s), the first at 0x%08x (want one at 0x%08x), DR6 0x%08x",
             hits, eip, (uint32_t)after, dr6);
}

static void check_single_step(void)
{
    uint32_t eip, dr6, hits, tpr = apic_tpr_address();
    hits = step_probe((void (*)(uint32_t))(void *)step_cpuid, 0, &eip, &dr6);
    expect_step("single step over CPUID", hits, eip, dr6, step_cpuid_after);

    if (need_hv("single step over VMCALL")) {
        int amd = cpu_is_amd();
        hits = step_probe((void (*)(uint32_t))(void *)(amd ? step_vmmcall : step_vmcall), 0,
                          &eip, &dr6);
        expect_step("single step over VMCALL", hits, eip, dr6,
                    amd ? step_vmmcall_after : step_vmcall_after);
    }

    if (tpr) {
        hits = step_probe((void (*)(uint32_t))(void *)step_store, tpr, &eip, &dr6);
        expect_step("single step over a local APIC store", hits, eip, dr6, step_store_after);
    } else {
        skip("single step over a local APIC store", "no xAPIC page");
    }

    int v = probe_user_at(user_step_cpuid, 0, &eip, &dr6);
    expect_step("single step over CPUID at CPL 3", v == 1, eip, dr6, user_step_cpuid_after);
    if (tpr) {
        v = probe_user_at(user_step_store, tpr, &eip, &dr6);
        expect_step("single step over a local APIC store at CPL 3", v == 1, eip, dr6,
                    user_step_store_after);
    } else {
        skip("single step over a local APIC store at CPL 3", "no xAPIC page");
    }
}

/* ---- interrupt shadow ----------------------------------------------------------- */

#define PIC1_DATA     0x21
#define PIC2_DATA     0xA1
#define ICR_SELF      (1u << 18)          /* destination shorthand: self (SDM Vol. 3A, 11.6.1) */
#define IRR_LOOKS     100000              /* reads of IRR before the self-IPI counts as lost */

/*
 * STI's shadow covers the one instruction after it (SDM Vol. 3A, 6.8.3): with
 * an interrupt pending, `sti; cpuid; cli` takes it between the CPUID and the
 * CLI. Where thinvisor does the CPUID for the guest, the shadow must end with
 * it (VMX's blocking by STI, SVM's interrupt shadow): left on, it would cover
 * the CLI too, and the interrupt would wait for the next STI. The interrupt is
 * a self-IPI, held in IRR while IF is clear; the PICs are masked meanwhile
 * (the BIOS put their IRQs on vectors this guest uses for exceptions). Bochs
 * fails it with either backend's clearing of the shadow removed; QEMU's TCG
 * under SVM passes it all the same.
 */
static void check_sti_shadow_over_cpuid(void)
{
    const char *name = "an interrupt held by STI's shadow comes right after CPUID";
    if (!(cpuid(1).edx & (1u << 9))) {
        skip(name, "no local APIC");
        return;
    }
    uint8_t pic1 = inb(PIC1_DATA), pic2 = inb(PIC2_DATA);
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
    uint32_t svr = apic_read(APIC_SVR), tpr = apic_read(APIC_TPR);
    uint32_t taken = self_ipis_taken, looks = 0;
    apic_write(APIC_SVR, svr | 0x100);                      /* software-enabled */
    apic_write(APIC_TPR, 0);                                /* no priority holds it back */
    apic_write(APIC_ICR_LO, ICR_SELF | SELF_IPI_VECTOR);
    uint32_t irr = APIC_IRR + SELF_IPI_VECTOR / 32 * 0x10, bit = 1u << SELF_IPI_VECTOR % 32;
    while (!(apic_read(irr) & bit) && ++looks < IRR_LOOKS)
        ;
    uint32_t leaf = 0, ebx, ecx = 0, edx;
    __asm__ volatile("sti\n\tcpuid\n\tcli"
                     : "+a"(leaf), "=b"(ebx), "+c"(ecx), "=d"(edx) :: "memory");
    uint32_t in_time = self_ipis_taken - taken;
    __asm__ volatile("sti\n\tnop\n\tcli" ::: "memory");  /* one the shadow held too long */
    uint32_t late = self_ipis_taken - taken - in_time;
    apic_write(APIC_TPR, tpr);
    apic_write(APIC_SVR, svr);
    outb(PIC1_DATA, pic1);
    outb(PIC2_DATA, pic2);
    if (looks == IRR_LOOKS)
        fail(name, "the self-IPI never showed in IRR");
    else if (in_time == 1 && late == 0)
        pass(name);
    else
        fail(name, "%u interrupt(s) between CPUID and CLI, %u after the next STI (want 1, 0)",
             in_time, late);
}

/*
 * A debugger's hardware breakpoints outlive the VM exits it never sees: DR7
 * and DR0 set, then CPUID (an exit under thinvisor, on either backend), then
 * read back. Under VT-x every VM exit sets DR7 to 400H (SDM Vol. 3C, 28.5.1),
 * so the guest's survives only when the exit saves it and the entry loads it
 * back (the "save debug controls" and "load debug controls" VM controls).
 */
static volatile uint32_t dr_watched;

static void check_debug_registers_survive_exit(void)
{
    const char *name = "debug registers survive a VM exit";
    uint32_t want7 = 0x400u | 1u << 0 | 1u << 16 | 3u << 18;   /* L0, write, 4 bytes */
    uint32_t dr0 = (uint32_t)&dr_watched, got7, got0;
    __asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr7" :: "r"(dr0), "r"(want7) : "memory");
    (void)cpuid(0);
    __asm__ volatile("mov %%dr7, %0\n\tmov %%dr0, %1" : "=r"(got7), "=r"(got0));
    __asm__ volatile("mov %0, %%dr7" :: "r"(0x400u));
    if (got7 != want7 || got0 != dr0)
        fail(name, "after CPUID DR7 reads 0x%08x and DR0 0x%08x, set to 0x%08x and 0x%08x",
             got7, got0, want7, dr0);
    else
        pass(name);
}

/*
 * Stores to the local APIC in every form a compiler or a driver writer
 * uses, each one's effect read back from the TPR (all 8 bits writable,
 * harmless: this guest takes no interrupts). Where thinvisor write-protects
 * the APIC page (SVM with guest APs, emulate_sipi) each is decoded and done
 * by thinvisor; elsewhere the CPU does it: the same results either way. The
 * forms that stopped a CPU before: MOV moffs (A3), MOVNTI, STOS, the
 * read-modify-write ALU forms.
 */
static void check_apic_store_forms(void)
{
    const char *name = "local APIC stores in every form";
    uint32_t a = apic_tpr_address();
    if (a != 0xFEE00080) {
        skip(name, a ? "the APIC is not at 0xFEE00000" : "no xAPIC page");
        return;
    }
    volatile uint32_t *tpr = (volatile uint32_t *)a;
    uint32_t saved = *tpr, v, cf = 0;
    char bad[120] = "";
#define EXPECT(what, want)                                                                     \
    do {                                                                                       \
        if (!bad[0] && (*tpr & 0xFF) != ((want) & 0xFF))                                       \
            ksnprintf(bad, sizeof bad, "%s: TPR 0x%02x, want 0x%02x", what, *tpr & 0xFF,      \
                      (want) & 0xFF);                                                          \
    } while (0)
    __asm__ volatile("movl %%eax, 0xFEE00080" :: "a"(0x10) : "memory");          /* A3 */
    EXPECT("mov moffs", 0x10);
    __asm__ volatile("movl %0, (%1)" :: "r"(0x20), "r"(a) : "memory");           /* 89 */
    EXPECT("mov", 0x20);
    __asm__ volatile("movl $0x30, (%0)" :: "r"(a) : "memory");                   /* C7 */
    EXPECT("mov imm", 0x30);
    __asm__ volatile("movnti %0, (%1)" :: "r"(0x40), "r"(a) : "memory");         /* 0F C3 */
    EXPECT("movnti", 0x40);
    v = 0x50;
    __asm__ volatile("xchgl %0, (%1)" : "+r"(v) : "r"(a) : "memory");            /* 87 */
    EXPECT("xchg", 0x50);
    if (!bad[0] && v != 0x40)
        ksnprintf(bad, sizeof bad, "xchg: read 0x%x, want 0x40", v);
    __asm__ volatile("cld; rep stosl" : "+D"(a), "+c"((uint32_t){ 1 }) : "a"(0x60) : "memory");
    a = 0xFEE00080;
    EXPECT("rep stos", 0x60);
    __asm__ volatile("lock orl $0x0F, (%0)" :: "r"(a) : "memory", "cc");         /* 83 /1 */
    EXPECT("lock or", 0x6F);
    __asm__ volatile("andl $0xF3, (%0)" :: "r"(a) : "memory", "cc");             /* 81 /4 */
    EXPECT("and", 0x63);
    __asm__ volatile("addl $0x10, (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("add", 0x73);
    __asm__ volatile("subl $0x80, (%1); setc %b0" : "=q"(cf) : "r"(a) : "memory", "cc");
    EXPECT("sub", 0xF3);
    if (!bad[0] && !(cf & 1))
        ksnprintf(bad, sizeof bad, "sub: CF clear, want set (0x73 - 0x80 borrows)");
    __asm__ volatile("incl (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("inc", 0xF4);
    __asm__ volatile("decl (%0); decl (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("dec", 0xF2);
    __asm__ volatile("notl (%0)" :: "r"(a) : "memory");
    EXPECT("not", 0x0D);
    __asm__ volatile("negl (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("neg", 0xF3);
    __asm__ volatile("btrl $7, (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("btr", 0x73);
    __asm__ volatile("btsl $3, (%0)" :: "r"(a) : "memory", "cc");
    EXPECT("bts", 0x7B);
#undef EXPECT
    *tpr = saved;
    if (bad[0])
        fail(name, "%s", bad);
    else
        pass(name);
}

/* ---- the hypervisor region ----------------------------------------------------- */

static const char *e820_type_name(uint32_t type)
{
    switch (type) {
    case 1: return "usable";
    case 2: return "reserved";
    case 3: return "ACPI data";
    case 4: return "ACPI NVS";
    case 5: return "unusable";
    case 7: return "persistent";
    default: return "other";
    }
}

static void print_memory_map(void)
{
    kprintf("e820: %u entries\n", bi->e820_count);
    for (int i = 0; i < bi->e820_count; i++) {
        const struct e820_entry *e = &bi->e820[i];
        kprintf("e820: [mem 0x%016llx-0x%016llx] %s (type %u)\n", e->base,
                e->base + e->len - 1, e820_type_name(e->type), e->type);
    }
    if (bi->e801_ok)
        kprintf("e801: AX 0x%04x BX 0x%04x CX 0x%04x DX 0x%04x\n", bi->e801_ax, bi->e801_bx,
                bi->e801_cx, bi->e801_dx);
    else
        kprintf("e801: not supported\n");
    if (bi->mem88_ok)
        kprintf("int 15h ah=88h: %u KiB above 1 MiB\n", bi->mem88);
    else
        kprintf("int 15h ah=88h: not supported\n");
}

static void query_region(void)
{
    region_vector = -1;
    if (!hv)
        return;
    region = (struct hc){ TV_HC_MEMORY_MAP, 0, 0, 0 };
    region_vector = vmcall(&region);
    region_ok = region_vector < 0 && region.eax == TV_STATUS_OK &&
                region.edx == TV_MEM_HYPERVISOR && region.ecx != 0;
    if (region_ok)
        kprintf("hypervisor region: 0x%08x-0x%08x (%u KiB)\n", region.ebx,
                region.ebx + region.ecx - 1, region.ecx / 1024);
}

static void check_e820(void)
{
    const char *name = "E820 hides the hypervisor region";
    if (!need_region(name))
        return;
    uint64_t base = region.ebx, end = base + region.ecx;
    int covered = 0;

    if (bi->e820_count == 0) {
        fail(name, "the BIOS gave no E820 map");
        return;
    }
    for (int i = 0; i < bi->e820_count; i++) {
        const struct e820_entry *e = &bi->e820[i];
        uint64_t e_end = e->base + e->len;
        if (e->len == 0)
            continue;
        if (e->type == 1 && e->base < end && base < e_end) {
            fail(name, "usable entry %d [0x%llx-0x%llx) overlaps the region [0x%llx-0x%llx)", i,
                 e->base, e_end, base, end);
            return;
        }
        if (e->type != 1 && e->base <= base && end <= e_end)
            covered = 1;
    }
    if (covered)
        pass(name);
    else
        fail(name, "no reserved entry covers the region [0x%llx-0x%llx)", base, end);
}

/* End of the memory E801h describes: KiB from 1 MiB, then 64 KiB blocks from 16 MiB. */
static uint64_t e801_end(uint16_t kib, uint16_t blocks)
{
    return blocks ? 16 * MiB + (uint64_t)blocks * 65536 : 1 * MiB + (uint64_t)kib * 1024;
}

/* E801h (both register pairs) and AH=88h must stop below the region too. */
static void check_e801(void)
{
    const char *name = "E801 agrees";
    if (!need_region(name))
        return;
    uint64_t base = region.ebx;
    if (!bi->e801_ok && !bi->mem88_ok) {
        skip(name, "the BIOS answers neither E801h nor AH=88h");
        return;
    }
    if (bi->e801_ok) {
        uint64_t end_ab = e801_end(bi->e801_ax, bi->e801_bx);
        uint64_t end_cd = e801_end(bi->e801_cx, bi->e801_dx);
        uint64_t end = end_ab > end_cd ? end_ab : end_cd;
        if (end > base) {
            fail(name, "E801h reports memory up to 0x%llx (AX 0x%x BX 0x%x CX 0x%x DX 0x%x), "
                 "the region starts at 0x%llx", end, bi->e801_ax, bi->e801_bx, bi->e801_cx,
                 bi->e801_dx, base);
            return;
        }
    }
    if (bi->mem88_ok && 1 * MiB + (uint64_t)bi->mem88 * 1024 > base) {
        fail(name, "AH=88h reports %u KiB above 1 MiB, the region starts at 0x%llx", bi->mem88,
             base);
        return;
    }
    pass(name);
}

static void check_hidden_read(void)
{
    const char *name = "hidden page reads";
    if (!need_region(name))
        return;
    uint8_t buf[16];
    memset(buf, 0, sizeof buf);
    int v = probe_read(buf, region.ebx, sizeof buf);
    if (v >= 0) {
        fail(name, "reading 0x%08x raised %s (vector %d)", region.ebx, exception_name(v), v);
        return;
    }
    kprintf("region: first bytes");
    for (unsigned i = 0; i < sizeof buf; i++)
        kprintf(" %02x", buf[i]);
    kprintf("\n");
    if (memcmp(buf, TV_IMAGE_MAGIC, sizeof buf) == 0)
        fail(name, "the guest reads the hypervisor image magic at 0x%08x", region.ebx);
    else
        pass(name);
}

/* The status area's published range from VMCALL 3 (index 1 or 2); 0 when the call fails. */
static uint32_t published_base(uint32_t index, uint32_t kind)
{
    struct hc r = { TV_HC_MEMORY_MAP, index, 0, 0 };
    if (vmcall(&r) >= 0 || r.eax != TV_STATUS_OK || r.edx != kind)
        return 0;
    return r.ebx;
}

/*
 * The status area (abi/status.h), which thinctl reads from Linux: CPUID
 * 0x40000002 finds it, its header is right, CPU 0's CPUID counter moves
 * with a CPUID, a write to it is dropped, the log ring holds the boot log,
 * and VMCALL 3 lists both ranges.
 */
/* Record i in the status area (CPUID 0x40000002), or NULL if there is none or no such CPU. */
const volatile struct tv_status_cpu *status_cpu(uint32_t i)
{
    struct cpuid_regs c = cpuid(TV_CPUID_STATUS_LEAF);
    if (c.edx != TV_STATUS_ABI_VERSION || c.ecx < 4096 || (c.eax & 0xFFF))
        return NULL;
    const volatile struct tv_status *st = (const volatile struct tv_status *)c.eax;
    if (st->magic != TV_STATUS_MAGIC || i >= st->cpu_count ||
        st->cpu_offset + (i + 1) * st->cpu_stride > c.ecx)
        return NULL;
    return (const volatile struct tv_status_cpu *)(c.eax + st->cpu_offset + i * st->cpu_stride);
}

static void check_status_area(void)
{
    const char *name = "status area";
    if (!need_hv(name))
        return;
    struct cpuid_regs c = cpuid(TV_CPUID_STATUS_LEAF);
    if (c.edx != TV_STATUS_ABI_VERSION || c.ebx != 0 || c.ecx < 4096 || (c.eax & 0xFFF)) {
        fail(name, "CPUID 0x40000002: EAX 0x%08x EBX 0x%08x ECX 0x%08x EDX %u", c.eax, c.ebx,
             c.ecx, c.edx);
        return;
    }
    const volatile struct tv_status *st = (const volatile struct tv_status *)c.eax;
    if (st->magic != TV_STATUS_MAGIC || st->abi_version != TV_STATUS_ABI_VERSION ||
        st->version != hv_version || st->cpu_count == 0 ||
        st->exit_reasons != TV_STATUS_EXIT_REASONS || st->tsc_khz == 0 ||
        st->launch_tsc <= st->boot_tsc || st->cpu_offset + st->cpu_count * st->cpu_stride > c.ecx) {
        fail(name, "bad header at 0x%08x (magic 0x%llx, %u CPUs)", c.eax,
             (unsigned long long)st->magic, st->cpu_count);
        return;
    }
    const volatile struct tv_status_cpu *cpu0 =
        (const volatile struct tv_status_cpu *)(c.eax + st->cpu_offset);
    uint64_t before = cpu0->exits[10];                  /* basic exit reason 10: CPUID */
    cpuid(0);
    if (cpu0->exits[10] != before + 1) {
        fail(name, "CPU 0's CPUID counter went from %llu to %llu over one CPUID",
             (unsigned long long)before, (unsigned long long)cpu0->exits[10]);
        return;
    }
    int v = probe_store(c.eax, 0x12345678);
    if (v >= 0 || st->magic != TV_STATUS_MAGIC) {
        fail(name, "a write to it %s", v >= 0 ? exception_name(v) : "changed it");
        return;
    }
    const volatile struct tv_log_ring *log = (const volatile struct tv_log_ring *)(uint32_t)st->log_phys;
    const volatile char *text = (const volatile char *)(log + 1);
    int banner = 0;
    for (uint32_t i = 0; i + 9 <= log->total && i + 9 <= log->size && !banner; i++)
        banner = memcmp((const char *)&text[i], "thinvisor", 9) == 0;
    if (log->total == 0 || log->size != 65536 || (log->total <= log->size && !banner)) {
        fail(name, "log ring at 0x%08x: %llu bytes logged, size %u, banner %s",
             (uint32_t)st->log_phys, (unsigned long long)log->total, log->size,
             banner ? "found" : "missing");
        return;
    }
    if (published_base(1, TV_MEM_STATUS) != c.eax ||
        published_base(2, TV_MEM_LOG) != (uint32_t)st->log_phys) {
        fail(name, "VMCALL 3 does not list the status area and the log ring");
        return;
    }
    kprintf("status area at 0x%08x: %u CPUs, %u exits on CPU 0, log ring %u bytes\n",
            c.eax, st->cpu_count, (uint32_t)cpu0->exits_total, (uint32_t)log->total);
    pass(name);
}

/* Writes must not reach the hypervisor: its image checksum stays, and it still answers. */
/*
 * An event whose delivery an exit interrupts is delivered all the same (SDM Vol. 3C,
 * 28.2.4; APM Vol. 2, 15.7.2). The single-step #DB after a MOV to ESP pushes its frame
 * onto the new stack, an untouched page of the hidden region (the second: the checks
 * above touch only the first), so the delivery exits and thinvisor maps its dummy page
 * there. The #DB, a trap whose instruction is done, then exists only in the exit's record
 * of the delivery: dropped, the guest would take a #DB one instruction late.
 */
static void check_event_redelivered(void)
{
    const char *name = "an event whose delivery exits is delivered";
    if (!need_region(name))
        return;
    const volatile struct tv_status_cpu *cpu0 = status_cpu(0);
    if (!cpu0) {
        fail(name, "no status area to count the exit in (CPUID 0x40000002)");
        return;
    }
    uint64_t faults = cpu0->exits[EXIT_EPT_VIOLATION];      /* SVM: nested page faults too */
    uint32_t eip, dr6;
    uint32_t hits = step_probe((void (*)(uint32_t))(void *)step_new_stack,
                               region.ebx + 0x1000 + 0x800, &eip, &dr6);
    if (cpu0->exits[EXIT_EPT_VIOLATION] == faults)
        fail(name, "the #DB's delivery made no exit: the page was mapped already");
    else
        expect_step(name, hits, eip, dr6, step_new_stack_after);
}

static void check_hidden_write(void)
{
    const char *name = "hidden page writes";
    if (!need_region(name))
        return;
    int v = probe_fill(region.ebx, 0x54534554, 4096);     /* "TEST" */
    if (v >= 0) {
        fail(name, "writing 0x%08x raised %s (vector %d)", region.ebx, exception_name(v), v);
        return;
    }
    struct hc r = { TV_HC_SELF_CHECK, 0, 0, 0 };
    v = vmcall(&r);
    if (v >= 0) {
        fail(name, "VMCALL SELF_CHECK raised %s (vector %d)", exception_name(v), v);
        return;
    }
    if (r.eax != TV_STATUS_OK || r.ebx != r.ecx) {
        fail(name, "SELF_CHECK: EAX %u, image checksum 0x%08x now, 0x%08x at boot", r.eax, r.ebx,
             r.ecx);
        return;
    }
    r = (struct hc){ TV_HC_VERSION, 0, 0, 0 };
    v = vmcall(&r);
    if (v >= 0 || r.eax != TV_STATUS_OK || r.ebx != TV_ABI_VERSION) {
        fail(name, "VMCALL version no longer answers (vector %d, EAX %u EBX %u)", v, r.eax, r.ebx);
        return;
    }
    pass(name);
}

/* ---- entry ------------------------------------------------------------------------ */

extern char __bss_start[], __bss_end[];
__attribute__((noreturn)) void guest_main(const struct bootinfo *info);

/* boot.asm calls this at the first byte of the image (guest.ld asserts it is there). */
__attribute__((section(".text.entry"), noreturn)) void guest_main(const struct bootinfo *info)
{
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    bi = info;
    serial_init();
    cpu_init();
    kprintf("guest: thinvisor test guest, loaded with INT 13h AH=%02xh\n", bi->method);
#ifdef GUEST_BENCH
    bench_main();                   /* the bench image measures instead (bench.c) */
#endif

    check_start();
    check_drive();
    detect_hypervisor();
    check_cpuid_vmx();
    check_cpuid_svm();
    check_cpuid_hv_bit();
    check_cpuid_signature();
    check_cpuid_version();
    check_cpuid_cr4_mirrors();
    check_vmcall_version();
    check_vmcall_unknown();
    check_vmcall_off_refused();
    check_vmxon();
    check_vmcall_cpl3();
    check_single_step();
    check_sti_shadow_over_cpuid();
    check_debug_registers_survive_exit();
    check_apic_store_forms();

    print_memory_map();
    query_region();
    check_e820();
    check_e801();
    check_hidden_read();
    check_hidden_write();
    check_event_redelivered();
    check_status_area();
    dma_checks(hv, region_vector < 0 && region_ok ? region.ebx : 0);
    check_pm1_control();

    smp_checks(bi);
    hostile_checks();
    stress_checks();
    finish();
}
