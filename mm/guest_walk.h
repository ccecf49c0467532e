/*
 * Translating a guest linear address to a guest physical one by walking the
 * guest's own page tables, in whatever paging mode the guest is in (SDM
 * Vol. 3A, 5.2-5.5): none, 32-bit, PAE, 4-level and 5-level. Read-only: no
 * accessed or dirty bit is set. Plain C over a read hook, for the exit
 * handlers that must look at the instruction a guest is executing (and for
 * host unit tests).
 */
#ifndef THINVISOR_GUEST_WALK_H
#define THINVISOR_GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* The guest registers that select the paging mode (what the guest really runs with). */
struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
};

/* Reads `len` bytes of guest physical memory; false when that memory cannot be read. */
typedef bool (*guest_read_fn)(uint64_t gpa, void *buf, unsigned len, void *ctx);

/*
 * The guest physical address of `linear`; false when a paging-structure entry
 * on the way is not present or cannot be read.
 * Permission bits are not checked: the guest already made the access.
 */
bool guest_linear_to_phys(const struct guest_paging *p, uint64_t linear, guest_read_fn read,
                          void *ctx, uint64_t *gpa);

/*
 * Under 4- or 5-level paging: the guest physical address of the entry that
 * maps `linear` with a 4 KiB page; false when it is not mapped so (an entry
 * on the way not present, a larger page, no long mode) or an entry above it
 * forbids execution (XD), which the leaf alone cannot undo.
 */
bool guest_pte_address(const struct guest_paging *p, uint64_t linear, guest_read_fn read,
                       void *ctx, uint64_t *pte_gpa);

#define INSN_MAX_LEN 15        /* the longest x86 instruction (SDM Vol. 2, 2.3.11) */

/* Where a guest's code is, as a backend reads it out of its VMCS or VMCB. */
struct guest_code_at {
    struct guest_paging paging;
    uint64_t rip, cs_base;
    unsigned mode;             /* guest_code_mode */
};

/*
 * The default operand size of the guest's code, in bytes: 8 in 64-bit mode
 * (EFER.LMA and CS.L), else 4 or 2 as CS.D/B says.
 */
unsigned guest_code_mode(uint64_t efer, bool cs_l, bool cs_db);

/*
 * Up to INSN_MAX_LEN bytes at the guest's CS:RIP, through its page tables
 * (a page at a time, so an instruction may cross into the next); how many
 * could be read.
 */
unsigned guest_fetch_code(const struct guest_code_at *at, guest_read_fn read, void *ctx,
                          uint8_t buf[INSN_MAX_LEN]);

#endif
