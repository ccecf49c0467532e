/*
 * The guest's physical memory, as every backend gives it: one identity map
 * of all memory but the hypervisor region and the IOMMU's registers
 * (mm/ept.c, in the EPT's format
 * for VT-x, the NPT's for SVM) that every CPU shares, the MMIO above it
 * mapped on first touch, a dummy page for probes of the hidden region, the
 * status area published read-only, and, where the guest's INIT and SIPI are
 * emulated, its xAPIC page made read-only so that its ICR writes exit.
 */
#ifndef THINVISOR_GUEST_MEMORY_H
#define THINVISOR_GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/multiboot2.h"
#include "mm/ept.h"
#include "mm/mtrr.h"

struct guest_memory {
    struct ept tree;              /* the EPT or NPT; tree.pml4 is its root */
    uint64_t mapped_top;          /* identity-mapped up front; above it, MMIO on demand */
    struct mtrr_state mtrr;       /* the guest's MTRRs (VT-x: the EPT's types follow them) */
    uint64_t dummy_page;          /* what a probed page of the hidden region shows */
    uint64_t apic_page;           /* the xAPIC page while read-only (emulated SIPIs), else 0 */
    volatile int lock;            /* exits that change the tree or its allocator take it */
};

extern struct guest_memory guest_memory;

/*
 * What the region must hold for the tree and the status area, for `ncpus`
 * processors on a machine whose memory map ends at `top`: a table per
 * 512 GiB, and below that at most a PD and a PT at each place the memory
 * type or the mapping changes (two per variable MTRR, the fixed ranges, the
 * region's two edges, the top of RAM, the two published ranges), plus room
 * for splits when the guest rewrites its MTRRs. Bytes.
 */
uint64_t guest_memory_budget(uint64_t top, uint32_t ncpus);

/*
 * Builds the tree (AMD's format with `npt`; has_2m and has_1g: the page
 * sizes it may use) identity-mapping [0, top) but the hypervisor region,
 * logs its summary ("EPT:" or "NPT:" lines), allocates the dummy page and
 * publishes the status area in it. 0, or -1 (logged) when the region has
 * no room.
 */
int guest_memory_setup(uint64_t top, bool npt, bool has_2m, bool has_1g);

/* "EPT" or "NPT", for messages. */
const char *guest_memory_tree_name(void);

/*
 * Makes the xAPIC page (where IA32_APIC_BASE puts it now) read-only in the
 * tree, mapping it first when it lies above mapped_top, so that every guest
 * write to it exits (guest/gpa_fault.c then does the write). 0, or -1 when
 * the tree has no room. A guest that moves its APIC later is not followed.
 */
int guest_memory_protect_apic_page(void);

/*
 * Whether gpa lies in what the guest must not reach: the hypervisor region
 * or an IOMMU unit's registers (iommu/dma_protect.h).
 */
bool guest_memory_is_hidden(uint64_t gpa);

/*
 * The hidden pages (the region's, the IOMMU registers') the tree lets the
 * guest reach, for TV_HC_STATE_CHECK: none, or something gave one away. The dummy page a
 * probed hidden page shows does not count (it holds nothing of ours), nor do
 * the status area and the log ring, published read-only on purpose.
 */
uint32_t guest_memory_hidden_pages_reachable(void);

#endif
