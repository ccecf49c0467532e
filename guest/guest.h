/*
 * Guest policy: what the guest sees of thinvisor, whatever the backend:
 * CPUID answers (guest/cpuid.c), hypercalls (guest/hypercall.c, bound to
 * the running hypervisor in guest/guest.c), the image checksum it may ask
 * for, and how a guest CPU that cannot go on is stopped.
 */
#ifndef THINVISOR_GUEST_H
#define THINVISOR_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/regs.h"
#include "smp/percpu.h"

struct backend;

/*
 * Turns the processor's CPUID answer into the guest's: VMX and SVM hidden,
 * the hypervisor bit set, thinvisor's leaves at 0x40000000, and the bits
 * that mirror a control register (OSXSAVE, OSPKE) taken from the guest's
 * CR4, `guest_cr4`, not from the one the hypervisor ran CPUID under.
 * Portable C. regs = { eax, ebx, ecx, edx } as the CPU returned them for
 * leaf/subleaf. Only the leaves guest_cpuid_may_change names are changed
 * (the unit test sweeps the others); every other answer passes through as the
 * CPU gave it, so the exit handlers skip the call for them.
 */
void guest_cpuid_filter(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint32_t regs[4]);

/*
 * Whether guest_cpuid_filter may change `leaf`: 1, 7, 0x80000001, 0x8000000A
 * and thinvisor's 0x4xxxxxxx. Every CPUID exit asks, so the test is one mask
 * over the low 32 leaves of both ranges; it also names 0xA and 0x80000007,
 * which the filter passes through (a call for nothing on rare leaves).
 */
static inline bool guest_cpuid_may_change(uint32_t leaf)
{
    if ((leaf & 0x7FFFFFE0u) == 0)                 /* 0-0x1F, 0x80000000-0x8000001F */
        return (1u << 1 | 1u << 7 | 1u << 0xA) >> (leaf & 0x1F) & 1;
    return leaf >> 28 == 4;
}

/* The version as CPUID 0x40000001 and TV_HC_VERSION report it. */
uint32_t guest_version_word(void);

/*
 * Where the status area and log ring are published (abi/status.h): CPUID
 * 0x40000002 reports the area, VMCALL 3 both. Until then: none.
 */
void guest_set_status_area(uint64_t base, uint64_t size, uint64_t log_base, uint64_t log_size);

/*
 * What makes the area current before CPUID 0x40000002 answers (thinctl asks
 * it before each read): counters kept elsewhere, such as the IOMMU's
 * faults, are copied in. NULL: nothing to do.
 */
void guest_set_status_refresh(void (*refresh)(void));

/* VMCALL 3's ranges: 1 the status area, 2 the log ring. */
bool guest_published_range(uint32_t index, uint64_t *base, uint64_t *size, uint32_t *kind);

/*
 * Once the backend's shared setup is done, before any guest code runs:
 * the hypercalls answer with this backend's state from now on, and the
 * image checksum TV_HC_SELF_CHECK compares with is taken.
 */
void guest_policy_start(const struct backend *b);

/* The backends' exit handlers: a hypercall (CPL already checked) on the guest's registers. */
void guest_hypercall_regs(struct guest_regs *r, uint32_t cpu);

/* The backends' exit handlers: the guest's CPUID answer, from the CPU's c[4], into EAX..EDX. */
static inline void guest_cpuid_regs(struct guest_regs *r, uint32_t leaf, uint32_t subleaf,
                                    uint64_t guest_cr4, uint32_t c[4])
{
    guest_cpuid_filter(leaf, subleaf, guest_cr4, c);
    r->rax = c[0];
    r->rbx = c[1];
    r->rcx = c[2];
    r->rdx = c[3];
}

/* Checksum of the hypervisor's code and read-only data, for TV_HC_SELF_CHECK. */
uint64_t guest_image_checksum(void);

/*
 * A guest CPU that cannot go on (the backend logged why and dumped its
 * state): this processor stops for good, the others go on; a test run ends.
 */
void guest_stop_cpu(struct percpu *cpu) __attribute__((noreturn));

#endif
