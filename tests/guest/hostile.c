/*
 * The hostile-guest program (issue 7): on every processor at once, operations
 * drawn from a seeded PRNG that a careless or malicious OS might run, each
 * checked against what the hardware would do with VMX absent:
 *
 *  CPUID    random leaves and subleaves: the same answer twice; VMX hidden and
 *           the hypervisor bit set in leaf 1; thinvisor's leaves right
 *  RDMSR    random MSR numbers: only #GP, the same outcome twice; the VMX
 *           capability MSRs and MSRs outside the two architectural ranges #GP
 *  WRMSR    the value just read, back to a readable MSR (a write the hardware
 *           accepted from itself, so nothing changes), or 0 to an MSR outside
 *           the architectural ranges (#GP); never the MSRs listed in
 *           never_write (time, microcode, APIC, speculation controls)
 *  CR       CR0 with NW set and CD clear, CR0 with PG set and PE clear, CR4 with
 *           a reserved bit or VMXE: #GP (SDM Vol. 3A, 2.5; MOV to CR, Vol. 2B)
 *  VMX      the VMX instructions (on AMD: SVM's) at CPL 0 and (boot processor) CPL 3:
 *           #UD
 *  VMCALL   random function numbers (>= 0x100: TV_STATUS_UNKNOWN_CALL), the
 *           known ones with random arguments (a status, never a crash), and at
 *           CPL 3 (boot processor): #UD
 *  XSETBV   with CR4.OSXSAVE set: XCR other than 0, x87 bit clear, bits the CPU
 *           lacks, AVX without SSE: #GP (SDM Vol. 1, 13.3)
 *  hidden   reads and writes at random places of the hypervisor region (every
 *           page of it once first): no exception, never the image's bytes
 *
 * Afterwards the image checksum (VMCALL SELF_CHECK) is what it was at boot,
 * every processor still starts and answers CPUID, and on each the checksum of
 * the hypervisor's fixed state (VMCALL STATE_CHECK: MSR bitmap, VMCS host state,
 * EPT pointer) is what it was at launch with no hypervisor page reachable. The seed and the operation
 * count come from the disk image (guest_config, patched in by the harness); the same seed gives the
 * same operations and the same outcome digest.
 */
#include <stdbool.h>

#include "tests/guest/guest.h"

enum cat { C_CPUID, C_RDMSR, C_WRMSR, C_CR, C_VMX, C_VMCALL, C_XSETBV, C_HIDDEN, C_COUNT };
static const char *const cat_names[C_COUNT] = {
    "CPUID", "RDMSR", "WRMSR", "CR0/CR4", "VMX insn", "VMCALL", "XSETBV", "hidden page",
};

#define MAX_CPUS GUEST_MAX_CPUS
#define VEC_UD 6
#define VEC_GP 13
#define CR0_PE (1u << 0)
#define CR0_NW (1u << 29)
#define CR0_CD (1u << 30)
#define CR0_PG (1u << 31)
#define CR4_VMXE (1u << 13)
#define CR4_OSXSAVE (1u << 18)
#define CPUID1_ECX_XSAVE (1u << 26)

struct result {
    uint32_t ops[C_COUNT], faults[C_COUNT];
    uint32_t skipped[C_COUNT];       /* drawn but not run: an MSR never written, or absent */
    uint32_t failures;
    uint32_t digest;                 /* FNV-1a over every operation's category and outcome */
    char why[160];                   /* the first failure */
};

/* In .data, so that it is in the image for the harness to patch (never in .bss). */
__attribute__((section(".data.guest_config")))
volatile const struct guest_config guest_config = { 0, 0, 0, 0, 0, 0 };

static struct result results[MAX_CPUS];
static uint32_t share[MAX_CPUS];     /* operations per CPU */
static uint32_t seed;
static struct hc region;             /* VMCALL MEMORY_MAP 0: the hidden range */
static struct hc published[2];       /* MEMORY_MAP 1 and 2: status area and log ring, readable */
static uint32_t hv_version;
static uint64_t xcr0_supported;

/* xorshift32: small and enough to spread operations; never 0 from a nonzero start. */
static uint32_t next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Counts an operation and folds its outcome into the digest that shows reproducibility. */
static void note(struct result *r, enum cat c, int vector)
{
    r->ops[c]++;
    if (vector == -2)
        r->skipped[c]++;
    if (vector >= 0)
        r->faults[c]++;
    r->digest = (r->digest ^ (uint32_t)(c << 8 | (uint8_t)vector)) * 16777619u;
}

/* Records the first failure's text (ksnprintf takes no va_list: one call per site). */
#define FAILED(r, ...) do { if ((r)->failures++ == 0) ksnprintf((r)->why, sizeof (r)->why, __VA_ARGS__); } while (0)

/* guest.h's cpuid() always asks subleaf 0; the program wants random subleaves too. */
static struct cpuid_regs cpuid_sub(uint32_t leaf, uint32_t sub)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(sub));
    return r;
}

/* The CR values to restore should a bad write get through. */

/* ---- one operation per category ------------------------------------------------- */

/* Each op_* draws one operation of its category from the PRNG, runs it and checks it. */
static void op_cpuid(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t x = next(s), sub = next(s), leaf;
    switch (x % 4) {
    case 0: leaf = x / 4 % (cpuid(0).eax + 4); break;
    case 1: leaf = 0x80000000u + x / 4 % (cpuid(0x80000000u).eax - 0x80000000u + 4); break;
    case 2: leaf = TV_CPUID_BASE + x / 4 % 0x100; break;
    default: leaf = next(s); break;
    }
    struct cpuid_regs a = cpuid_sub(leaf, sub), b = cpuid_sub(leaf, sub);
    note(r, C_CPUID, -1);
    /* thinvisor's leaves past its own (0x40000002.., a status area elsewhere) may change. */
    bool stable = leaf <= TV_CPUID_VERSION_LEAF || leaf > 0x4FFFFFFFu;
    if (stable && (a.eax != b.eax || a.ebx != b.ebx || a.ecx != b.ecx || a.edx != b.edx))
        FAILED(r, "CPU %u: CPUID 0x%x.%x answered twice differently", cpu, leaf, sub);
    if (leaf == 1 && ((a.ecx & TV_CPUID1_ECX_VMX) || !(a.ecx & TV_CPUID1_ECX_HYPERVISOR)))
        FAILED(r, "CPU %u: CPUID 1.%x ECX 0x%08x: VMX shown or hypervisor bit clear", cpu, sub, a.ecx);
    if (leaf == TV_CPUID_BASE && (a.ebx != TV_SIGNATURE_EBX || a.ecx != TV_SIGNATURE_ECX ||
                                  a.edx != TV_SIGNATURE_EDX || a.eax < TV_CPUID_MAX_LEAF))
        FAILED(r, "CPU %u: CPUID 0x40000000.%x: wrong signature or max leaf 0x%x", cpu, sub, a.eax);
    if (leaf == TV_CPUID_VERSION_LEAF && (a.eax != hv_version || !(a.ebx & TV_FEATURE_VMCALL)))
        FAILED(r, "CPU %u: CPUID 0x40000001.%x: EAX 0x%x EBX 0x%x", cpu, sub, a.eax, a.ebx);
}

#define MSR_VM_CR       0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u

/*
 * A random MSR number: mostly the architectural ranges, some of the hidden
 * virtualization's MSRs (msr_hidden), some anything.
 */
static uint32_t random_msr(uint32_t *s)
{
    uint32_t x = next(s);
    switch (x % 8) {
    case 0: return cpu_is_amd() ? (x & 8 ? MSR_VM_CR : MSR_VM_HSAVE_PA)
                                : 0x480 + x / 8 % 0x14;  /* IA32_VMX_BASIC .. VMX_VMFUNC */
    case 1: return next(s);
    case 2: case 3: return 0xC0000000u + x / 8 % 0x2000;
    default: return x / 8 % 0x2000;
    }
}

/*
 * Outside 0-0x1FFF and 0xC0000000-0xC0001FFF Intel defines no MSR, and AMD adds
 * only 0xC0010000-0xC0011FFF: thinvisor #GPs every MSR outside (VT-x: its MSR
 * bitmap's ranges; SVM: its permission map's).
 */
static bool msr_outside(uint32_t msr)
{
    bool amd_range = cpu_is_amd() && msr >= 0xC0010000u && msr < 0xC0012000u;
    return msr >= 0x2000 && (msr < 0xC0000000u || msr >= 0xC0002000u) && !amd_range;
}

/*
 * The MSRs of the virtualization thinvisor hides, which #GP as on a CPU
 * without it: VMX's capability MSRs up to IA32_VMX_EXIT_CTLS2, or SVM's VM_CR
 * and VM_HSAVE_PA. (Other MSRs a real CPU lacks the CPU #GPs itself under
 * SVM, which QEMU's TCG does not: it reads them as 0.)
 */
static bool msr_hidden(uint32_t msr)
{
    if (cpu_is_amd())
        return msr == MSR_VM_CR || msr == MSR_VM_HSAVE_PA;
    return msr >= 0x480 && msr < 0x494;
}

/*
 * MSRs never written, even with their own value: the TSC (time would step back), the
 * microcode trigger and signature, IA32_FEATURE_CONTROL, the APIC base and x2APIC
 * registers (an ICR write sends an IPI), TSC_DEADLINE, and write-only command MSRs.
 */
static bool never_write(uint32_t msr)
{
    return msr == 0x10 || msr == 0x1B || msr == 0x3A || msr == 0x48 || msr == 0x49 ||
           msr == 0x79 || msr == 0x7A || msr == 0x8B || msr == 0x10B || msr == 0x6E0 ||
           (msr >= 0x800 && msr < 0x900);
}

static void op_rdmsr(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t msr = random_msr(s);
    uint64_t v;
    int a = probe_rdmsr(msr, &v), b = probe_rdmsr(msr, &v);
    note(r, C_RDMSR, a);
    if ((a >= 0 && a != VEC_GP) || a != b)
        FAILED(r, "CPU %u: RDMSR 0x%x raised %d, then %d", cpu, msr, a, b);
    else if ((msr_hidden(msr) || msr_outside(msr)) && a != VEC_GP)
        FAILED(r, "CPU %u: RDMSR 0x%x did not raise #GP (hidden virtualization / no such MSR)", cpu, msr);
}

static void op_wrmsr(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t msr = random_msr(s);
    uint64_t v;
    if (never_write(msr)) {
        note(r, C_WRMSR, -2);       /* counted as skipped: same PRNG steps either way */
        return;
    }
    if (msr_outside(msr) || msr_hidden(msr)) {
        int a = probe_wrmsr(msr, 0);
        note(r, C_WRMSR, a);
        if (a != VEC_GP)
            FAILED(r, "CPU %u: WRMSR 0x%x raised %d, want #GP", cpu, msr, a);
        return;
    }
    if (probe_rdmsr(msr, &v) >= 0) {
        note(r, C_WRMSR, -2);       /* no such MSR here: nothing to write back */
        return;
    }
    int a = probe_wrmsr(msr, v), b = probe_wrmsr(msr, v);
    note(r, C_WRMSR, a);
    if ((a >= 0 && a != VEC_GP) || a != b)
        FAILED(r, "CPU %u: WRMSR 0x%x of its own value 0x%llx raised %d, then %d", cpu, msr, v, a, b);
}

/*
 * Under SVM thinvisor intercepts no CR write: the CPU raises these #GPs itself
 * (APM Vol. 3, MOV CRn), so on an AMD CPU they test the CPU, not thinvisor,
 * and the emulators get them wrong (docs/testing.md): QEMU's TCG lets CR0.NW
 * without CD and PG without PE through (natively too; Bochs 3.0 in SVM guest
 * mode lets PG without PE through), and answers a reserved CR4 bit with
 * #VMEXIT(VMEXIT_INVALID) instead of #GP. On AMD the draws are skipped.
 */
static void op_cr(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t x = next(s), cr0 = read_cr0(), cr4 = read_cr4();
    int v;
    const char *what;
    if (cpu_is_amd()) {
        note(r, C_CR, -2);
        return;
    }
    switch (x % 4) {
    case 0: what = "CR0 with NW and not CD"; v = probe_write_cr0((cr0 & ~CR0_CD) | CR0_NW); break;
    case 1: what = "CR0 with PG and not PE"; v = probe_write_cr0((cr0 & ~CR0_PE) | CR0_PG); break;
    case 2: what = "CR4 with VMXE"; v = probe_write_cr4(cr4 | CR4_VMXE); break;
    default: what = "CR4 with a reserved bit"; v = probe_write_cr4(cr4 | 1u << (26 + x / 4 % 6)); break;
    }
    note(r, C_CR, v);
    if (v != VEC_GP) {
        FAILED(r, "CPU %u: MOV %s raised %d, want #GP", cpu, what, v);
        if (read_cr0() != cr0)
            probe_write_cr0(cr0);
        if (read_cr4() != cr4)
            probe_write_cr4(cr4);
    }
}

/* The virtualization instructions of this CPU's vendor: VMX on Intel, SVM on AMD. */
static void op_vmx(struct result *r, uint32_t *s, uint32_t cpu)
{
    static char *const user[] = { user_vmxon, user_vmread, user_vmlaunch };
    static char *const user_svm[] = { user_vmrun, user_stgi, user_vmload };
    uint32_t x = next(s);
    int v;
    if (cpu == 0 && x % 4 == 0)
        v = probe_user((cpu_is_amd() ? user_svm : user)[x / 4 % 3], 0);
    else if (cpu_is_amd())
        v = probe_svm_insn(x / 4 % SVM_INSNS);
    else
        v = probe_vmx_insn(x / 4 % VMX_INSNS);
    note(r, C_VMX, v);
    if (v != VEC_UD)
        FAILED(r, "CPU %u: %s instruction %u (%s) raised %d, want #UD", cpu,
               cpu_is_amd() ? "SVM" : "VMX", x / 4 % (cpu_is_amd() ? SVM_INSNS : VMX_INSNS),
               cpu == 0 && x % 4 == 0 ? "CPL 3" : "CPL 0", v);
}

static uint8_t log_buf[256];

static void op_vmcall(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t x = next(s);
    struct hc h = { 0, next(s), next(s), next(s) };
    if (cpu == 0 && x % 8 == 0) {
        int v = probe_user(user_vmcall_eax, next(s));
        note(r, C_VMCALL, v);
        if (v != VEC_UD)
            FAILED(r, "CPU 0: VMCALL at CPL 3 raised %d, want #UD", v);
        return;
    }
    if (x % 2) {
        h.eax = 0x100 + next(s) % 0xFFFFFF00u;              /* no such function */
    } else {
        h.eax = x / 2 % (TV_HC_STATE_CHECK + 1);            /* the known ones, random arguments */
        if (h.eax == TV_HC_LOG_READ) {                      /* our buffer, or the hidden region */
            h.ebx = x & 4 ? region.ebx + h.ebx % region.ecx : (uint32_t)log_buf;
            h.ecx = 1 + h.ecx % sizeof log_buf;             /* 0 bytes touch nothing, anywhere */
        }
    }
    uint32_t fn = h.eax;
    int v = vmcall(&h);
    note(r, C_VMCALL, v);
    if (v >= 0)
        FAILED(r, "CPU %u: VMCALL 0x%x raised %d", cpu, fn, v);
    else if (fn >= 0x100 && h.eax != TV_STATUS_UNKNOWN_CALL)
        FAILED(r, "CPU %u: VMCALL 0x%x returned %u, want TV_STATUS_UNKNOWN_CALL", cpu, fn, h.eax);
    else if (h.eax > TV_STATUS_BAD_ARGUMENT)
        FAILED(r, "CPU %u: VMCALL 0x%x returned status %u", cpu, fn, h.eax);
    else if (fn == TV_HC_LOG_READ && (x & 4) && h.eax != TV_STATUS_BAD_ARGUMENT)
        FAILED(r, "CPU %u: VMCALL LOG_READ into the hidden region returned %u", cpu, h.eax);
}

static void op_xsetbv(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t x = next(s), xcr = 0;
    uint64_t value = 1 | 2;
    switch (x % 4) {
    case 0: xcr = 1 + x / 4 % 16; break;                     /* no such XCR */
    case 1: value = 2; break;                                /* x87 state off */
    case 2: value = 1 | (uint64_t)1 << (x / 4 % 64);         /* maybe a bit the CPU lacks */
            if (!(value & ~xcr0_supported))
                value = 1 | 4;                               /* else AVX without SSE */
            break;
    default: value = 1 | 4; break;
    }
    int v = probe_xsetbv(xcr, value);
    note(r, C_XSETBV, v);
    if (v != VEC_GP)
        FAILED(r, "CPU %u: XSETBV XCR%u = 0x%llx raised %d, want #GP", cpu, xcr, value, v);
    if (v < 0)
        probe_xsetbv(0, 3);
}

/* Whether addr lies in a range thinvisor publishes read-only (the status area, the log ring). */
static int is_published(uint32_t addr)
{
    for (unsigned i = 0; i < 2; i++)
        if (published[i].eax == TV_STATUS_OK && addr - published[i].ebx < published[i].ecx)
            return 1;
    return 0;
}

/*
 * One read, then one write, of a hidden address: both must go through without a
 * fault. In the published ranges only the read: a write there is dropped when it is
 * a plain MOV and gets #GP when thinvisor cannot decode it (probe_fill is REP STOS).
 */
static void hidden_access(struct result *r, uint32_t cpu, uint32_t addr, uint32_t value)
{
    uint32_t got = 0;
    int v = probe_read(&got, addr & ~3u, 4);
    if (v < 0 && !is_published(addr))
        v = probe_fill(addr & ~3u, value, 4);
    note(r, C_HIDDEN, v);
    if (v >= 0)
        FAILED(r, "CPU %u: access to hidden 0x%08x raised %d", cpu, addr, v);
}

static void op_hidden(struct result *r, uint32_t *s, uint32_t cpu)
{
    uint32_t x = next(s);
    hidden_access(r, cpu, region.ebx + x % region.ecx, next(s));
}

static void (*const ops[C_COUNT])(struct result *, uint32_t *, uint32_t) = {
    op_cpuid, op_rdmsr, op_wrmsr, op_cr, op_vmx, op_vmcall, op_xsetbv, op_hidden,
};

static uint64_t began[MAX_CPUS], ended[MAX_CPUS];   /* TSC at each share's ends */

/* One CPU's share; on the APs it runs from smp.c's ap_main, on their small stacks. */
static void run_cpu(uint32_t cpu)
{
    struct result *r = &results[cpu];
    uint32_t s = seed ^ (0x9E3779B9u * (cpu + 1));
    if (!s)
        s = 1;
    r->digest = 2166136261u;
    began[cpu] = rdtsc();
    uint32_t cr4 = read_cr4();
    if (xcr0_supported)
        probe_write_cr4(cr4 | CR4_OSXSAVE);      /* XSETBV is #UD without it */
    if (cpu == 0) {                               /* every hidden page once */
        for (uint32_t off = 0; off < region.ecx; off += 4096)
            hidden_access(r, cpu, region.ebx + off, 0x484F5354u);   /* "TSOH" */
        uint8_t head[16];
        if (probe_read(head, region.ebx, sizeof head) < 0 &&
            memcmp(head, TV_IMAGE_MAGIC, sizeof head) == 0)
            FAILED(r, "CPU 0: the hidden region shows the hypervisor image");
    }
    for (uint32_t i = 0; i < share[cpu]; i++) {
        enum cat c = (enum cat)(next(&s) % C_COUNT);
        if (c == C_XSETBV && !xcr0_supported)
            c = C_CPUID;
        ops[c](r, &s, cpu);
    }
    probe_write_cr4(cr4);
    ended[cpu] = rdtsc();
}

static volatile uint32_t done[MAX_CPUS];

/* An AP's share, then it says so and halts (smp.c's trampoline: cli; hlt). */
static void run_ap(uint32_t cpu)
{
    run_cpu(cpu);
    __atomic_store_n(&done[cpu], 1, __ATOMIC_RELEASE);
}

static volatile uint32_t answered[MAX_CPUS];
static struct hc state[MAX_CPUS];    /* VMCALL STATE_CHECK on each CPU afterwards */
static volatile int state_vector[MAX_CPUS];

/* Run on each CPU after the program: it still answers CPUID, and its hypervisor state holds. */
static void answer(uint32_t cpu)
{
    struct cpuid_regs c = cpuid(TV_CPUID_BASE);
    answered[cpu] = c.ebx == TV_SIGNATURE_EBX;
    state[cpu] = (struct hc){ TV_HC_STATE_CHECK, 0, 0, 0 };
    state_vector[cpu] = vmcall(&state[cpu]);
}

/* Runs the program when the disk image asks for it, then the checks that it broke nothing. */
void hostile_checks(void)
{
    const char *name = "hostile guest: every operation answered as the hardware would";
    const char *name_image = "hostile guest: hypervisor image unchanged afterwards";
    const char *name_cpus = "hostile guest: every CPU answers afterwards";
    const char *name_state = "hostile guest: hypervisor state unchanged on every CPU afterwards";
    const char *name_overlap = "hostile guest: the CPUs ran their shares at the same time";
    const char *name_nmi = "hostile guest: no NMI reached the guest that it did not send";
    const volatile struct guest_config *cfg = &guest_config;
    if (cfg->magic != GUEST_CONFIG_MAGIC || cfg->hostile_ops == 0) {
        kprintf("guest: hostile-guest program not asked for (no seed in the boot sector)\n");
        return;
    }
    seed = cfg->hostile_seed;
    uint32_t total = cfg->hostile_ops, ncpu = smp_ap_count() + 1;
    if (ncpu > MAX_CPUS)
        ncpu = MAX_CPUS;
    kprintf("hostile: seed %u, %u operations over %u CPU(s)\n", seed, total, ncpu);
    if (cpuid(TV_CPUID_BASE).ebx != TV_SIGNATURE_EBX) {
        skip(name, "no hypervisor");
        return;
    }
    hv_version = cpuid(TV_CPUID_VERSION_LEAF).eax;
    region = (struct hc){ TV_HC_MEMORY_MAP, 0, 0, 0 };
    if (vmcall(&region) >= 0 || region.eax != TV_STATUS_OK || region.ecx == 0) {
        fail(name, "VMCALL MEMORY_MAP gave no hidden range");
        return;
    }
    for (uint32_t i = 0; i < 2; i++) {
        published[i] = (struct hc){ TV_HC_MEMORY_MAP, i + 1, 0, 0 };
        if (vmcall(&published[i]) >= 0)
            published[i].eax = TV_STATUS_UNKNOWN_CALL;
    }
    if (cpuid(1).ecx & CPUID1_ECX_XSAVE) {
        struct cpuid_regs d = cpuid_sub(0xD, 0);
        xcr0_supported = d.eax | (uint64_t)d.edx << 32;
    }
    for (uint32_t c = 0; c < ncpu; c++)
        share[c] = total / ncpu + (c == 0 ? total % ncpu : 0);

    /* Every CPU at once: the APs start on their shares as they check in, then this one. */
    uint64_t t0 = rdtsc();
    uint32_t lost = 0, nmis_before = nmis_taken_total();
    for (uint32_t c = 1; c < ncpu; c++)
        if (smp_start_ap_then(c - 1, run_ap, 5000) != 0) {
            lost++;
            FAILED(&results[c], "CPU %u did not start its share", c);
            done[c] = 1;
        }
    run_cpu(0);
    uint64_t end = tsc_after_us(600000000u);
    for (uint32_t c = 1; c < ncpu; c++) {
        while (!__atomic_load_n(&done[c], __ATOMIC_ACQUIRE) && rdtsc() < end)
            pause();
        if (!done[c]) {
            lost++;
            FAILED(&results[c], "CPU %u did not finish its share within 600 s", c);
        }
    }
    uint32_t ms = tsc_us_since(t0) / 1000;

    /* thinvisor kicks CPUs with NMIs (shootdowns after MTRR writes): none is the guest's. */
    uint32_t nmis = nmis_taken_total() - nmis_before;
    if (nmis == 0)
        pass(name_nmi);
    else
        fail(name_nmi, "%u NMI(s) taken during the run", nmis);

    /* At the same time: some moment lies inside every share (the latest start before the
     * earliest end): thinvisor handled the CPUs' exits side by side. */
    uint64_t last_start = 0, first_end = ~0ull;
    for (uint32_t c = 0; c < ncpu; c++) {
        if (began[c] > last_start)
            last_start = began[c];
        if (ended[c] < first_end)
            first_end = ended[c];
    }
    if (ncpu < 2)
        skip(name_overlap, "one CPU");
    else if (lost)
        fail(name_overlap, "%u CPU(s) did not run their share", lost);
    else if (last_start < first_end)
        pass(name_overlap);
    else                                /* two readings "since": no 64-bit division here */
        fail(name_overlap, "the last share began %u us after the first ended",
             tsc_us_since(first_end) - tsc_us_since(last_start));

    uint32_t sum_ops = 0, sum_fail = 0;
    for (int k = 0; k < C_COUNT; k++) {
        uint32_t n = 0, f = 0, sk = 0;
        for (uint32_t c = 0; c < ncpu; c++)
            n += results[c].ops[k], f += results[c].faults[k], sk += results[c].skipped[k];
        sum_ops += n;
        kprintf("hostile: %s: %u operations (%u drawn but skipped), %u raised an exception "
                "(as they must)\n", cat_names[k], n, sk, f);
    }
    for (uint32_t c = 0; c < ncpu; c++) {
        kprintf("hostile: CPU %u: %u operations, outcome digest %08x, %u failure(s)\n", c,
                share[c], results[c].digest, results[c].failures);
        sum_fail += results[c].failures;
    }
    kprintf("hostile: %u operations in %u ms\n", sum_ops, ms);
    if (sum_fail) {
        for (uint32_t c = 0; c < ncpu; c++)
            if (results[c].failures) {
                fail(name, "%u failure(s); first on CPU %u: %s", sum_fail, c, results[c].why);
                break;
            }
    } else {
        pass(name);
    }

    struct hc h = { TV_HC_SELF_CHECK, 0, 0, 0 };
    int v = vmcall(&h);
    if (v >= 0 || h.eax != TV_STATUS_OK || h.ebx != h.ecx)
        fail(name_image, "SELF_CHECK: vector %d EAX %u, checksum 0x%08x now, 0x%08x at boot",
             v, h.eax, h.ebx, h.ecx);
    else
        pass(name_image);

    uint32_t silent = 0;
    answer(0);
    for (uint32_t c = 1; c < ncpu; c++)
        if (smp_run_on_ap(c - 1, answer, 5000) != 0 || !answered[c])
            silent++;
    if (silent || lost || !answered[0])
        fail(name_cpus, "%u CPU(s) lost during the run, %u silent afterwards", lost, silent);
    else
        pass(name_cpus);

    uint32_t c;
    for (c = 0; c < ncpu; c++) {
        const struct hc *st = &state[c];
        if (state_vector[c] >= 0 || st->eax != TV_STATUS_OK || st->ebx != st->ecx || st->edx) {
            fail(name_state, "CPU %u: STATE_CHECK vector %d EAX %u: sum 0x%08x now, 0x%08x at "
                 "launch; %u hidden page(s) reachable", c, state_vector[c], st->eax, st->ebx,
                 st->ecx, st->edx);
            break;
        }
    }
    if (c == ncpu)
        pass(name_state);
}
