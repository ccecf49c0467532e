/*
 * SMP stress and NMI delivery (issue 7), when the disk image asks for them
 * (guest_config.stress_cycles, nmis_per_ap):
 *
 *  - INIT-SIPI cycles spread over the APs in turn, while every other AP loops
 *    on CPUID (an exit each time): every cycle's AP checks in once, and every
 *    looping AP keeps looping: no hang, no CPU lost.
 *  - NMI IPIs to each AP while it loops on CPUID, so that many arrive while
 *    the CPU is in VMX root handling an exit: thinvisor must re-inject them
 *    (vmx/exit.c, handle_nmi). The next NMI goes out only after the previous
 *    one was counted, so none can merge with a pending one: sent == taken.
 */
#include "tests/guest/guest.h"

#define MAX_CPUS   GUEST_MAX_CPUS
#define CHECKIN_MS 2000
#define NMI_WAIT_US 1000000

static volatile uint32_t spins[MAX_CPUS];       /* CPUID loop iterations, by CPU index */
static volatile uint32_t nmis[256];             /* NMIs taken, by APIC ID (xAPIC: 8 bits) */

/* Counts an NMI on the CPU that took it; CPUID.1:EBX[31:24] is its initial APIC ID. */
void nmi_taken(void)
{
    __atomic_add_fetch(&nmis[cpuid(1).ebx >> 24], 1, __ATOMIC_SEQ_CST);
}

uint32_t nmis_taken_total(void)
{
    uint32_t n = 0;
    for (uint32_t id = 0; id < 256; id++)
        n += nmis[id];
    return n;
}

/* An AP's loop after its check-in: CPUID exits back to back, until the next INIT. */
static void cpuid_loop(uint32_t cpu)
{
    for (;;) {
        (void)cpuid(0);
        __atomic_add_fetch(&spins[cpu], 1, __ATOMIC_RELAXED);
    }
}

/* True when every AP but `except` (0-based; nap for none) moved its loop counter within 200 ms. */
static int all_looping(uint32_t nap, uint32_t except, uint32_t *stuck)
{
    uint32_t before[MAX_CPUS];
    for (uint32_t i = 0; i < nap; i++)
        before[i] = spins[i + 1];
    uint64_t end = tsc_after_us(200000);
    for (uint32_t i = 0; i < nap; i++) {
        if (i == except)
            continue;
        while (spins[i + 1] == before[i] && rdtsc() < end)
            pause();
        if (spins[i + 1] == before[i]) {
            *stuck = i;
            return 0;
        }
    }
    return 1;
}

/* INIT-SIPI cycles must never lose the AP restarted nor stop the ones looping beside it. */
static void check_init_sipi_stress(uint32_t nap, uint32_t cycles)
{
    char name[80];
    ksnprintf(name, sizeof name, "%u INIT-SIPI cycles over the APs while the others loop on CPUID",
              cycles);
    for (uint32_t i = 0; i < nap; i++)
        if (smp_start_ap_then(i, cpuid_loop, CHECKIN_MS) != 0) {
            fail(name, "AP %u did not start its CPUID loop", smp_ap_apic_id(i));
            return;
        }
    uint64_t t0 = rdtsc();
    for (uint32_t k = 0; k < cycles; k++) {
        uint32_t i = k % nap, stuck;
        if (smp_start_ap_then(i, cpuid_loop, CHECKIN_MS) != 0) {
            fail(name, "cycle %u: AP %u did not check in within %u ms", k, smp_ap_apic_id(i),
                 CHECKIN_MS);
            return;
        }
        if ((k % 100 == 99 || k + 1 == cycles) && !all_looping(nap, nap, &stuck)) {
            fail(name, "after cycle %u: AP %u stopped looping", k, smp_ap_apic_id(stuck));
            return;
        }
    }
    kprintf("stress: %u INIT-SIPI cycles over %u APs in %u ms; CPUID loops:", cycles, nap,
            tsc_us_since(t0) / 1000);
    for (uint32_t i = 0; i < nap; i++)
        kprintf(" %u", spins[i + 1]);
    kprintf("\n");
    pass(name);
}

/* An NMI that lands while the AP is in VMX root must still reach the guest. */
static void check_nmi_delivery(uint32_t nap, uint32_t per_ap)
{
    char name[80];
    ksnprintf(name, sizeof name, "%u NMIs to each AP in a CPUID loop, every one taken", per_ap);
    for (uint32_t i = 0; i < nap; i++)
        if (smp_start_ap_then(i, cpuid_loop, CHECKIN_MS) != 0) {
            fail(name, "AP %u did not start its CPUID loop", smp_ap_apic_id(i));
            return;
        }
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < nap; i++) {
        uint32_t id = smp_ap_apic_id(i), base = nmis[id];
        for (uint32_t n = 0; n < per_ap; n++) {
            smp_send_nmi(id);
            uint64_t end = tsc_after_us(NMI_WAIT_US);
            while (nmis[id] == base + n && rdtsc() < end)
                pause();
            if (nmis[id] != base + n + 1) {
                fail(name, "AP %u: NMI %u of %u %s (taken %u)", id, n + 1, per_ap,
                     nmis[id] == base + n ? "never arrived" : "arrived more than once",
                     nmis[id] - base);
                return;
            }
        }
    }
    udelay(10000);                      /* room for a late duplicate to show */
    uint32_t taken = 0;
    for (uint32_t i = 0; i < nap; i++)
        taken += nmis[smp_ap_apic_id(i)];
    if (taken != nap * per_ap) {
        fail(name, "%u NMIs sent, %u taken", nap * per_ap, taken);
        return;
    }
    kprintf("stress: %u NMIs sent, %u taken, in %u ms\n", nap * per_ap, taken,
            tsc_us_since(t0) / 1000);
    pass(name);
}

/* Runs the stress checks the disk image asks for (none by default: they take a while). */
void stress_checks(void)
{
    uint32_t nap = smp_ap_count(), cycles = guest_config.stress_cycles;
    uint32_t per_ap = guest_config.nmis_per_ap;
    if (guest_config.magic != GUEST_CONFIG_MAGIC || (!cycles && !per_ap))
        return;
    if (nap == 0) {
        kprintf("stress: no APs\n");
        return;
    }
    if (nap > MAX_CPUS - 1)
        nap = MAX_CPUS - 1;
    if (cycles)
        check_init_sipi_stress(nap, cycles);
    if (per_ap)
        check_nmi_delivery(nap, per_ap);
}
