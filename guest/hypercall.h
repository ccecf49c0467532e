/*
 * The hypercall dispatcher (ABI: abi/hypercall.h). Plain C: what it reads
 * of the hypervisor (the region, the log ring, the exit counters, the
 * backend's state) comes through struct hypercall_env, which guest/guest.c
 * fills for the running hypervisor and tests/unit/test_hypercall.c with
 * fakes. Arguments come from the guest, so every index and every
 * guest-physical buffer is checked: a buffer that touches the hypervisor
 * region is refused, never written.
 */
#ifndef THINVISOR_HYPERCALL_H
#define THINVISOR_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

/* The registers a hypercall reads and writes. */
struct hypercall_regs {
    uint64_t rax, rbx, rcx, rdx;
};

struct hypercall_env {
    uint64_t region_base, region_size;   /* TV_HC_MEMORY_MAP 0; no buffer may touch it */
    uint32_t version_word;               /* as CPUID 0x40000001.EAX */
    uint64_t boot_checksum;              /* TV_HC_SELF_CHECK's reference */
    uint64_t (*image_checksum)(void);    /* ... and its value now */
    /* TV_HC_MEMORY_MAP 1 and 2: the published ranges; false when there is none. */
    bool (*published_range)(uint32_t index, uint64_t *base, uint64_t *size, uint32_t *kind);
    /* TV_HC_LOG_READ: copies up to len bytes of the log from `offset` to guest-physical gpa. */
    uint64_t (*log_copy)(uint64_t offset, uint64_t gpa, uint32_t len);
    uint64_t (*log_total)(void);
    uint64_t (*exit_count)(uint32_t cpu, uint32_t reason);   /* ~0 when out of range */
    /* The backend's (guest/backend.h); NULL where it has no such state. */
    bool (*ept_generation)(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest);
    bool (*state_check)(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);
};

/* The largest TV_HC_LOG_READ: the whole ring. */
#define HYPERCALL_LOG_READ_MAX 65536

/* Runs one hypercall from a CPL-0 guest on CPU `cpu` (the backend checked CPL). */
void hypercall_dispatch(const struct hypercall_env *env, struct hypercall_regs *r, uint32_t cpu);

#endif
