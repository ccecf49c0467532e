/*
 * Processor bring-up. The BSP reads the MADT, then wakes each AP with
 * INIT-SIPI-SIPI through a real-mode trampoline in a borrowed page below
 * 1 MiB, one AP at a time, and restores the page's bytes afterwards. A
 * processor that never checks in is reported and skipped, never waited on
 * forever. SDM Vol. 3A, 9.4.4 (MP initialization) gives the sequence.
 */
#include "smp/smp.h"

#include "kernel/checksum.h"
#include "kernel/exceptions.h"
#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/machine.h"
#include "kernel/string.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/kick.h"
#include "smp/lapic.h"

struct percpu *cpus[SMP_MAX_CPUS];
uint32_t cpu_count;

extern const uint8_t ap_trampoline_start[], ap_trampoline_end[];
extern const uint8_t ap_tr_gdt[], ap_tr_gdt_base[], ap_tr_long[], ap_tr_ljmp_target[],
    ap_tr_cr3[], ap_tr_stack[], ap_tr_entry[], ap_tr_percpu[];

#define INIT_DELAY_US      10000    /* INIT, then 10 ms before the first SIPI */
#define SIPI_DELAY_US      200      /* 200 us between the SIPIs */
#define CHECKIN_TIMEOUT_US 200000   /* an AP that is silent this long is left out */
/*
 * After an S3 wake the AP answered before, and the guest will count on it:
 * it gets far longer, enough for a virtual CPU on a busy host to be given
 * its turn (QEMU's TCG with 4 vCPUs on 2 host cores took over 200 ms), and
 * up to RESTART_TRIES INIT-SIPI-SIPI sequences. Firmware can leave an AP
 * astray at a wake: SeaBIOS 1.16's resume starts the APs through 0x10000
 * but does not wait for them (its counter and lock lie in the F segment,
 * read-only by then) and puts the OS's bytes back there at once, so a late
 * AP runs them; and QEMU's TCG merges INIT and SIPI bits, so SeaBIOS's SIPI,
 * still pending, is taken after thinvisor's INIT and thinvisor's SIPIs are
 * ignored. Every AP gets an INIT first; the retry starts one that still
 * took the stale SIPI.
 */
#define RESTART_TIMEOUT_US 2000000
#define RESTART_TRIES      3
#define LOW_MEMORY_END     0xA0000

static uint8_t trampoline_saved[4096];

const void *acpi_map_identity(void *ctx, uint64_t phys, size_t len)
{
    (void)ctx;
    if (phys >= REGION_LIMIT || len > REGION_LIMIT - phys)
        return NULL;
    return phys_to_virt(phys);
}

int smp_read_madt(const struct mb2_info *mbi, struct acpi_madt_info *out)
{
    char err[200];
    uint64_t rsdp = 0;
    const char *source = "the boot loader";
    if (mbi->rsdp) {
        if (acpi_rsdp_check(mbi->rsdp, mbi->rsdp_len, err, sizeof err) == 0)
            rsdp = virt_to_phys_identity(mbi->rsdp);
        else
            log_warn("%s (RSDP from the boot loader); scanning the BIOS areas\n", err);
    }
    if (!rsdp) {
        rsdp = acpi_scan_rsdp(acpi_map_identity, NULL);
        source = "the BIOS area scan";
    }
    if (!rsdp) {
        log_warn("ACPI: no RSDP found; running on the boot processor only\n");
        return -1;
    }
    if (acpi_read_madt(acpi_map_identity, NULL, rsdp, out, err, sizeof err) != 0) {
        log_warn("%s; running on the boot processor only\n", err);
        return -1;
    }
    log_info("ACPI: RSDP at %#llx (from %s, revision %d, OEM '%s'), MADT at %#llx\n",
             (unsigned long long)rsdp, source, out->revision, out->oem_id,
             (unsigned long long)out->madt_phys);
    uint32_t enabled = 0;
    for (uint32_t i = 0; i < out->cpu_count; i++)
        enabled += out->cpus[i].enabled;
    log_info("ACPI: %u processors enabled, %u online-capable, %u disabled; local APIC at %#llx\n",
             enabled, out->cpu_count - enabled, out->cpus_disabled,
             (unsigned long long)out->lapic_phys);
    if (out->cpus_dropped)
        log_warn("ACPI: %u processors beyond the first %u are ignored\n", out->cpus_dropped,
                 ACPI_MAX_CPUS);
    return 0;
}

uint32_t smp_planned_cpus(const struct acpi_madt_info *madt, int madt_ok, uint32_t max_cpus)
{
    uint32_t n = 1;
    if (madt_ok) {
        n = 0;
        for (uint32_t i = 0; i < madt->cpu_count; i++)
            n += madt->cpus[i].enabled;
        if (n == 0)
            n = 1;
    }
    if (max_cpus > n)
        log_warn("cpus=%u: only %u processor(s) present; using them all\n", max_cpus, n);
    return max_cpus && max_cpus < n ? max_cpus : n;
}

uint64_t smp_usable_low_page(const struct mb2_info *mbi)
{
    for (uint64_t page = 0x1000; page < LOW_MEMORY_END; page += 0x1000) {
        bool usable = false, reserved = false;
        for (uint32_t i = 0; i < mbi->mmap_count; i++) {
            const struct mb2_mmap_entry *e = &mbi->mmap[i];
            bool covers = e->base <= page && e->base + e->length >= page + 0x1000;
            bool touches = e->base < page + 0x1000 && e->base + e->length > page;
            if (e->type == MB2_MEMORY_AVAILABLE && covers)
                usable = true;
            else if (e->type != MB2_MEMORY_AVAILABLE && touches)
                reserved = true;
        }
        if (usable && !reserved && !hv_region_overlaps(page, 0x1000))
            return page;
    }
    return 0;
}

/*
 * The trampoline's home for a while at boot: smp_usable_low_page. Where the
 * firmware still owns memory (UEFI: the boot loader's map calls the
 * firmware's own boot-services memory usable) the page is borrowed from the
 * firmware instead (mm/hv_memory.h, struct firmware_memory).
 */
static uint64_t find_trampoline_page(const struct mb2_info *mbi)
{
    const struct firmware_memory *fw = hv_memory.firmware;
    if (fw) {
        uint64_t page;
        return fw->borrow_page(LOW_MEMORY_END - 1, &page) == 0 && page >= 0x1000 ? page : 0;
    }
    return smp_usable_low_page(mbi);
}

/* Tells whether the borrowed page got its bytes back. */
static uint64_t page_checksum(const uint8_t *p)
{
    return fnv1a64(FNV1A64_INIT, p, 4096);
}

static struct percpu *percpu_alloc(uint32_t index, uint32_t apic_id)
{
    struct percpu *c = hv_alloc_pages(PERCPU_PAGES, "per-CPU block");
    uint8_t *stack = hv_alloc_pages(CPU_STACK_SIZE / 4096, "per-CPU stack");
    c->self = c;
    c->index = index;
    c->apic_id = apic_id;
    c->stack_top = (uint64_t)(stack + CPU_STACK_SIZE);
    return c;
}

/* Gives this processor its own GDT/TSS and points GS base at its block. */
static void percpu_activate(struct percpu *c)
{
    gdt_load(&c->segments);
    wrmsr(MSR_GS_BASE, (uint64_t)c);
}

void ap_entry(struct percpu *c) __attribute__((noreturn));

/* Where each AP lands from the trampoline: check in, then serve run-on-all forever. */
void ap_entry(struct percpu *c)
{
    percpu_activate(c);
    idt_load_current();
    lapic_init_ap();
    c->apic_id = lapic_id();
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    for (;;) {
        while (__atomic_load_n(&c->work_posted, __ATOMIC_ACQUIRE) == c->work_done)
            cpu_relax();
        __atomic_store_n(&c->work_started, c->work_posted, __ATOMIC_RELEASE);
        c->work_result = c->work_fn(c, c->work_arg);
        __atomic_store_n(&c->work_done, c->work_posted, __ATOMIC_RELEASE);
    }
}

#define TR_FIELD(tr, sym) ((tr) + (ap_##sym - ap_trampoline_start))

size_t smp_trampoline_size(void)
{
    return (size_t)(ap_trampoline_end - ap_trampoline_start);
}

void smp_trampoline_install(uint8_t *tr, uint64_t tr_phys, void (*entry)(struct percpu *))
{
    memcpy(tr, ap_trampoline_start, smp_trampoline_size());
    /* The two linear addresses real mode cannot compute itself. */
    *(uint32_t *)TR_FIELD(tr, tr_gdt_base) = (uint32_t)(tr_phys + (ap_tr_gdt - ap_trampoline_start));
    *(uint32_t *)TR_FIELD(tr, tr_ljmp_target) =
        (uint32_t)(tr_phys + (ap_tr_long - ap_trampoline_start));
    *(uint64_t *)TR_FIELD(tr, tr_cr3) = hv_memory.pml4;
    *(uint64_t *)TR_FIELD(tr, tr_entry) = (uint64_t)entry;
}

void smp_trampoline_aim(uint8_t *tr, struct percpu *c)
{
    *(uint64_t *)TR_FIELD(tr, tr_stack) = c->stack_top;
    *(uint64_t *)TR_FIELD(tr, tr_percpu) = (uint64_t)c;
}

static bool wait_checkin(struct percpu *c, uint64_t us)
{
    uint64_t deadline = tsc_deadline(us);
    while (!__atomic_load_n(&c->online, __ATOMIC_ACQUIRE)) {
        if (rdtsc() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

/*
 * INIT, 10 ms, SIPI, 200 us, SIPI unless it already checked in (SDM Vol. 3A,
 * 9.4.4.1); then up to timeout_us for its check-in. Only a check-in after
 * this INIT counts, so the flag is cleared before it, not after the 10 ms:
 * QEMU's TCG keeps a SIPI that reached a running CPU pending, and an INIT
 * keeps it too (do_cpu_init), so such an AP starts at the INIT itself, with
 * the last SIPI's vector (the trampoline's, from an earlier try), and may
 * check in within the 10 ms; clearing the flag after them lost that
 * check-in on every try, and the AP for good (seen at S3 wakes under load).
 * A SIPI to an AP that checked in already is not sent: it would only be
 * kept pending again.
 */
static bool start_ap(uint8_t *tr, uint64_t tr_phys, struct percpu *c, uint64_t timeout_us)
{
    smp_trampoline_aim(tr, c);
    uint32_t vector = (uint32_t)(tr_phys >> 12);
    __atomic_store_n(&c->online, false, __ATOMIC_SEQ_CST);
    if (!lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT))
        return false;
    udelay(INIT_DELAY_US);
    for (int sipi = 0; sipi < 2; sipi++) {
        if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
            return true;
        if (!lapic_send_ipi(c->apic_id, ICR_STARTUP | vector))
            return false;
        if (wait_checkin(c, SIPI_DELAY_US))
            return true;
    }
    return wait_checkin(c, timeout_us);
}

static uint32_t start_aps(const struct mb2_info *mbi, const struct acpi_madt_info *madt,
                          uint32_t max_cpus, struct percpu *bsp);

/* The log's CPU number: this CPU's index once its per-CPU block is active. */
static uint32_t current_cpu_index(void)
{
    return rdmsr(MSR_GS_BASE) ? this_cpu()->index : 0;
}

void smp_start(const struct mb2_info *mbi, const struct acpi_madt_info *madt, int madt_ok,
               uint32_t max_cpus, bool want_x2apic)
{
    uint32_t max_id = 0;
    for (uint32_t i = 0; madt_ok && i < madt->cpu_count; i++)
        if (madt->cpus[i].apic_id > max_id)
            max_id = madt->cpus[i].apic_id;
    bool have_apic = lapic_init_bsp(madt_ok ? madt->lapic_phys : 0, max_id, want_x2apic);

    struct percpu *bsp = percpu_alloc(0, have_apic ? lapic_id() : 0);
    percpu_activate(bsp);
    log_set_cpu_index(current_cpu_index);
    idt_set_nmi_handler(kick_nmi_in_root);
    bsp->online = true;
    cpus[0] = bsp;
    cpu_count = 1;
    log_info("CPU 0: APIC ID %u online (boot processor)\n", bsp->apic_id);
    uint32_t wanted = 0;
    if (madt_ok && have_apic)
        wanted = start_aps(mbi, madt, max_cpus, bsp);
    log_info("SMP: %u of %u processor(s) online\n", cpu_count, wanted + 1);
}

/* Starts the MADT's enabled APs, up to max_cpus processors in all; returns how many it wanted. */
static uint32_t start_aps(const struct mb2_info *mbi, const struct acpi_madt_info *madt,
                          uint32_t max_cpus, struct percpu *bsp)
{

    uint32_t limit = max_cpus ? max_cpus : SMP_MAX_CPUS;
    uint32_t wanted = 0, skipped_by_limit = 0;
    for (uint32_t i = 0; i < madt->cpu_count; i++)
        if (madt->cpus[i].enabled && madt->cpus[i].apic_id != bsp->apic_id)
            wanted++;
    if (wanted == 0)
        return 0;

    uint64_t tr_phys = find_trampoline_page(mbi);
    if (!tr_phys) {
        log_error("no usable page below 640 KiB for the AP trampoline; "
                  "running on the boot processor only\n");
        return wanted;
    }
    uint8_t *tr = phys_to_virt(tr_phys);
    uint64_t sum_before = page_checksum(tr);
    memcpy(trampoline_saved, tr, 4096);
    smp_trampoline_install(tr, tr_phys, ap_entry);
    log_info("starting %u application processor(s) through the trampoline at %#llx\n",
             wanted < limit - 1 ? wanted : limit - 1, (unsigned long long)tr_phys);

    for (uint32_t i = 0; i < madt->cpu_count; i++) {
        const struct acpi_cpu *m = &madt->cpus[i];
        if (!m->enabled || m->apic_id == bsp->apic_id)
            continue;
        if (cpu_count >= limit) {
            skipped_by_limit++;
            continue;
        }
        struct percpu *c = percpu_alloc(cpu_count, m->apic_id);
        if (!start_ap(tr, tr_phys, c, CHECKIN_TIMEOUT_US)) {
            log_warn("CPU with APIC ID %u did not start (no check-in within %u ms); left out\n",
                     m->apic_id, CHECKIN_TIMEOUT_US / 1000);
            /* Its pages stay allocated: a late AP may still be running on that stack. */
            continue;
        }
        cpus[cpu_count++] = c;
        log_info("CPU %u: APIC ID %u online\n", c->index, c->apic_id);
    }
    memcpy(tr, trampoline_saved, 4096);
    uint64_t sum_after = page_checksum(tr);
    log_info("trampoline page %#llx restored (checksum %016llx before, %016llx after)\n",
             (unsigned long long)tr_phys, (unsigned long long)sum_before,
             (unsigned long long)sum_after);
    if (sum_after != sum_before)
        log_error("the trampoline page changed after it was restored\n");
    /* A borrowed page goes back, unless an AP that never checked in may still run there. */
    if (hv_memory.firmware && cpu_count == 1 + wanted - skipped_by_limit)
        hv_memory.firmware->return_page(tr_phys);
    if (skipped_by_limit)
        log_info("cpus=%u: %u more processor(s) left idle\n", limit, skipped_by_limit);
    return wanted;
}

void smp_resume_bsp(struct percpu *bsp)
{
    percpu_activate(bsp);
    idt_load_current();
    lapic_init_ap();
    if (lapic_id() != bsp->apic_id)
        log_error("CPU 0: woke with APIC ID %u, not %u as at boot\n", lapic_id(), bsp->apic_id);
}

uint32_t smp_restart_aps(uint8_t *tr, uint64_t tr_phys)
{
    uint32_t failed = 0;
    smp_trampoline_install(tr, tr_phys, ap_entry);
    /* Every AP stopped at once, wherever the firmware left it (RESTART_TIMEOUT_US). */
    lapic_send_ipi(0, ICR_INIT | ICR_LEVEL_ASSERT | ICR_ALL_BUT_SELF);
    for (uint32_t i = 1; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        c->online = false;             /* still set from before the sleep, should no INIT go out */
        c->work_started = c->work_done = c->work_posted;   /* its last work never returned */
        int tries = 1;
        while (!start_ap(tr, tr_phys, c, RESTART_TIMEOUT_US) && tries < RESTART_TRIES)
            tries++;
        if (!c->online) {
            log_error("CPU %u (APIC ID %u) did not start again (no check-in after %d "
                      "INIT-SIPI-SIPI, %u ms each)\n", i, c->apic_id, tries,
                      RESTART_TIMEOUT_US / 1000);
            failed++;
        } else if (tries > 1) {
            log_warn("CPU %u (APIC ID %u) started again only at INIT-SIPI-SIPI number %d\n",
                     i, c->apic_id, tries);
        }
    }
    return failed;
}

static void post_to_aps(cpu_work_fn fn, void *arg)
{
    for (uint32_t i = 1; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        c->work_fn = fn;
        c->work_arg = arg;
        __atomic_store_n(&c->work_posted, c->work_posted + 1, __ATOMIC_RELEASE);
    }
}

int smp_start_on_aps(cpu_work_fn fn, void *arg)
{
    post_to_aps(fn, arg);
    int silent = 0;
    for (uint32_t i = 1; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        uint64_t deadline = tsc_deadline(1000000);
        while (__atomic_load_n(&c->work_started, __ATOMIC_ACQUIRE) != c->work_posted) {
            if (rdtsc() > deadline) {
                log_error("CPU %u (APIC ID %u) did not take its work within 1 s\n", i,
                          c->apic_id);
                silent++;
                break;
            }
            cpu_relax();
        }
    }
    return silent;
}

int smp_run_on_all(cpu_work_fn fn, void *arg, int *results)
{
    post_to_aps(fn, arg);
    int failures = 0;
    results[0] = fn(cpus[0], arg);
    failures += results[0] != 0;
    for (uint32_t i = 1; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        uint64_t deadline = tsc_deadline(1000000);
        bool done = true;
        while (__atomic_load_n(&c->work_done, __ATOMIC_ACQUIRE) != c->work_posted) {
            if (rdtsc() > deadline) {
                done = false;
                break;
            }
            cpu_relax();
        }
        if (!done)
            log_error("CPU %u (APIC ID %u) did not finish its work within 1 s\n", i, c->apic_id);
        results[i] = done ? c->work_result : -1;
        failures += results[i] != 0;
    }
    return failures;
}

static int halt_cpu(struct percpu *cpu, void *arg) __attribute__((noreturn));
static int halt_cpu(struct percpu *cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    for (;;)
        __asm__ volatile("cli; hlt");
}

void smp_halt_aps(void)
{
    if (smp_start_on_aps(halt_cpu, NULL) != 0)
        log_warn("some application processors did not halt\n");
}
