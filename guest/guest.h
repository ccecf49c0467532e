/*
 * Guest policy: what the guest sees of thinvisor, whatever the backend (VT-x
 * today, SVM later): CPUID answers, the hypercall ABI (vmx/hypercall_abi.h),
 * the boot sector it starts from and the memory map it is shown.
 */
#ifndef THINVISOR_GUEST_H
#define THINVISOR_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/guest_regs.h"

/*
 * Turns the processor's CPUID answer into the guest's: VMX and SVM hidden,
 * the hypervisor bit set, thinvisor's leaves at 0x40000000. Portable C.
 * regs = { eax, ebx, ecx, edx } as the CPU returned them for leaf/subleaf.
 * Only the leaves guest_cpuid_changes names are changed; every other answer
 * passes through as the CPU gave it, so the exit handler skips the call.
 */
void guest_cpuid_filter(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);

static inline bool guest_cpuid_changes(uint32_t leaf)
{
    return leaf == 1 || (leaf & 0xF0000000u) == 0x40000000u || leaf == 0x80000001u ||
           leaf == 0x8000000Au;
}

/* The version as CPUID 0x40000001 and TV_HC_VERSION report it. */
uint32_t guest_version_word(void);

/*
 * Where the backend published its status area and log ring (vmx/status_abi.h):
 * CPUID 0x40000002 reports the area, VMCALL 3 both. Until then: none.
 */
void guest_set_status_area(uint64_t base, uint64_t size, uint64_t log_base, uint64_t log_size);

/* VMCALL 3's ranges: 0 the hypervisor region, 1 the status area, 2 the log ring. */
bool guest_published_range(uint32_t index, uint64_t *base, uint64_t *size, uint32_t *kind);

/* The registers a hypercall reads and writes. */
struct hypercall_regs {
    uint64_t rax, rbx, rcx, rdx;
};

/* What the backend tells the policy about processors (filled by the backend). */
struct guest_backend_ops {
    uint64_t (*exit_count)(uint32_t cpu, uint32_t reason);   /* ~0 when out of range */
    /* EPT shootdown state of one CPU; false when cpu is out of range. */
    bool (*ept_generation)(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest);
    /* TV_HC_STATE_CHECK on the calling CPU: fixed-state sums now and at launch, and the
       hypervisor-region pages the guest can reach; false when there is no such state. */
    bool (*state_check)(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);
};

void guest_set_backend(const struct guest_backend_ops *ops);

/* Runs one hypercall from a CPL-0 guest on CPU `cpu` (the backend checked CPL). */
void guest_hypercall(struct hypercall_regs *r, uint32_t cpu);

/* The backends' exit handlers: a hypercall on the guest's saved registers. */
static inline void guest_hypercall_regs(struct guest_regs *r, uint32_t cpu)
{
    struct hypercall_regs h = { r->rax, r->rbx, r->rcx, r->rdx };
    guest_hypercall(&h, cpu);
    r->rax = h.rax;
    r->rbx = h.rbx;
    r->rcx = h.rcx;
    r->rdx = h.rdx;
}

/* The backends' exit handlers: the guest's CPUID answer, from the CPU's c[4], into EAX..EDX. */
static inline void guest_cpuid_regs(struct guest_regs *r, uint32_t leaf, uint32_t subleaf,
                                    uint32_t c[4])
{
    guest_cpuid_filter(leaf, subleaf, c);
    r->rax = c[0];
    r->rbx = c[1];
    r->rcx = c[2];
    r->rdx = c[3];
}

/* Checksum of the hypervisor's code and read-only data, for TV_HC_SELF_CHECK. */
uint64_t guest_image_checksum(void);
void guest_record_boot_checksum(void);

#endif
