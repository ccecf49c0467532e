/*
 * The test guest's bench mode (make bench, tests/bench/): built into a separate disk image,
 * build/guest/bench-disk.img, with GUEST_BENCH defined. Instead of the checks it measures,
 * with the TSC, what a guest pays for the hypervisor, and prints one machine-readable line
 * per figure ("bench: NAME=VALUE"), then ends the run. The same image is booted with and
 * without thinvisor; tests/bench/bench.sh compares the two.
 *
 * In Bochs with clock: sync=none the TSC advances with the instruction count, so each
 * figure repeats run to run; "loop_insns" times a loop of known length, which says
 * how many TSC ticks one guest instruction costs.
 */
#include "tests/guest/guest.h"

#define BENCH_LOOPS      10000u     /* iterations of the calibration loop */
#define BENCH_CPUIDS     2000u      /* CPUIDs timed */
#define BENCH_VMCALLS    2000u      /* VMCALLs timed */
#define BENCH_CPUID_LEAF 0u         /* a leaf thinvisor passes through unchanged */
#define BENCH_APIC_STORES 2000u     /* local APIC stores timed */

/* TSC ticks of a loop of 2 * n + 1 instructions (DEC, JNZ per turn, one MOV). */
static uint64_t time_loop(uint32_t n)
{
    uint64_t t0 = rdtsc();
    __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) :: "cc");
    return rdtsc() - t0;
}

/* TSC ticks of n CPUIDs of BENCH_CPUID_LEAF, one after the other. */
static uint64_t time_cpuid(uint32_t n)
{
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        (void)cpuid(BENCH_CPUID_LEAF);
    return rdtsc() - t0;
}

/*
 * TSC ticks of n VMCALLs (TV_HC_VERSION) through lib.c's probe. Without a hypervisor
 * each is a #UD taken and resumed by the guest's handler: *ud counts them.
 */
static uint64_t time_vmcall(uint32_t n, uint32_t *ud)
{
    *ud = 0;
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++) {
        struct hc r = { TV_HC_VERSION, 0, 0, 0 };
        if (vmcall(&r) == 6)
            (*ud)++;
    }
    return rdtsc() - t0;
}

/*
 * TSC ticks of n stores of the TPR's own value to the local APIC (xAPIC mode), 0 if it
 * has no MMIO page. Natively a store; with emulate_sipi, which write-protects the APIC page
 * through the EPT, each is a VM exit that thinvisor decodes and performs: the price of the
 * guest's APIC traffic (EOIs, timer writes) on that path and on SVM's guest SMP.
 */
static uint64_t time_apic_store(uint32_t n)
{
    uint32_t at = apic_tpr_address();
    if (!at)
        return 0;
    volatile uint32_t *tpr = (volatile uint32_t *)at;
    uint32_t value = *tpr;
    uint64_t t0 = rdtsc();
    for (uint32_t i = 0; i < n; i++)
        *tpr = value;
    return rdtsc() - t0;
}

/*
 * "bench: NAME_ticks=0xT" and "bench: NAME_count=N": the script divides (the guest has no
 * 64-bit division, and lib.c's kprintf prints 64-bit values in hex only).
 */
static void print_total(const char *name, uint64_t ticks, uint32_t count)
{
    kprintf("bench: %s_ticks=0x%llx\n", name, (unsigned long long)ticks);
    kprintf("bench: %s_count=%u\n", name, count);
}

/* The bench run: measures, prints the "bench:" lines and ends the emulator. */
__attribute__((noreturn)) void bench_main(void)
{
    uint64_t start_tsc = *(volatile uint64_t *)BOOT_START_TSC;
    uint32_t ud;

    struct cpuid_regs sig = cpuid(TV_CPUID_BASE);
    int hv = sig.ebx == TV_SIGNATURE_EBX && sig.ecx == TV_SIGNATURE_ECX &&
             sig.edx == TV_SIGNATURE_EDX;
    kprintf("bench: hypervisor=%s\n", hv ? "thinvisor" : "none");
    kprintf("bench: first_insn_tsc=0x%llx\n", (unsigned long long)start_tsc);

    uint64_t loop = time_loop(BENCH_LOOPS);
    print_total("loop_insns", loop, 2 * BENCH_LOOPS + 1);

    (void)time_cpuid(16);                       /* warm up: caches, TLB */
    uint64_t c = time_cpuid(BENCH_CPUIDS);
    kprintf("bench: cpuid_leaf=0x%x\n", BENCH_CPUID_LEAF);
    print_total("cpuid", c, BENCH_CPUIDS);

    (void)time_vmcall(16, &ud);
    uint64_t v = time_vmcall(BENCH_VMCALLS, &ud);
    kprintf("bench: vmcall_ud=%u\n", ud);
    print_total("vmcall", v, BENCH_VMCALLS);

    (void)time_apic_store(16);
    uint64_t a = time_apic_store(BENCH_APIC_STORES);
    if (a)
        print_total("apic_store", a, BENCH_APIC_STORES);
    kprintf("bench: done\n");
    finish();
}
