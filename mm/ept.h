/*
 * The guest's EPT (Intel SDM Vol. 3C, 29.3): one hierarchy shared by every
 * processor, an identity map of guest-visible physical memory with the
 * largest pages the MTRR types and the hidden hypervisor region allow.
 * Plain C over a phys_to_virt hook, like mm/pagetable.c. The same tree is
 * built in the format of AMD's nested page tables (APM Vol. 2, 15.25) for
 * the SVM backend, or of VT-d's second-level tables (VT-d spec 3.x, 9.8) or
 * AMD-Vi's page tables for the DMA map the IOMMU applies to devices
 * (iommu/dma_protect.h);
 * permissions and types are given the same way.
 *
 * Every function here changes tables in place; after a change to a live
 * hierarchy the caller flushes every processor (INVEPT; under SVM a TLB
 * flush of the guest's ASID).
 */
#ifndef THINVISOR_EPT_H
#define THINVISOR_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/mtrr.h"
#include "mm/page_alloc.h"   /* struct page_alloc, page_alloc_one, page_free_pages */
#include "mm/region.h"       /* struct phys_range */

/* EPT entry bits (SDM Vol. 3C, 29.3.2, Tables 29-1 to 29-6). */
#define EPT_READ        (1ull << 0)
#define EPT_WRITE       (1ull << 1)
#define EPT_EXEC        (1ull << 2)   /* supervisor-mode execute */
#define EPT_RWX         (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_TYPE_SHIFT  3             /* bits 5:3, leaves only: the memory type */
#define EPT_TYPE_MASK   (7ull << EPT_TYPE_SHIFT)
#define EPT_IGNORE_PAT  (1ull << 6)   /* left 0: the guest's PAT still applies */
#define EPT_LARGE       (1ull << 7)   /* a 1 GiB leaf in a PDPTE, 2 MiB in a PDE */
#define EPT_REMAPPED    (1ull << 11)  /* ignored by the CPU: a leaf set by ept_map_page */
#define EPT_ADDR_MASK   0x000FFFFFFFFFF000ull

/* Nested page table entry bits: long-mode page-table entries (SDM Vol. 3A, 4.5; APM 15.25). */
#define NPT_PRESENT     (1ull << 0)
#define NPT_WRITE       (1ull << 1)
#define NPT_USER        (1ull << 2)   /* nested walks are user accesses: always set */
#define NPT_PWT         (1ull << 3)
#define NPT_PCD         (1ull << 4)
#define NPT_LARGE       (1ull << 7)   /* PS: a 1 GiB leaf in a PDPTE, 2 MiB in a PDE */
#define NPT_NX          (1ull << 63)

/*
 * VT-d second-level entry bits (VT-d 3.x, 9.8): read, write; bit 7 (EPT_LARGE) marks a
 * 2 MiB or 1 GiB leaf as in the EPT, and the address field is the EPT's.
 */
#define VTD_SL_READ     (1ull << 0)
#define VTD_SL_WRITE    (1ull << 1)

/*
 * AMD-Vi page table entry bits (AMD IOMMU spec 48882, 2.2.3): present, the level of the
 * table pointed at (0 in a leaf: a page the size of its level), read, write.
 */
#define AMDVI_PTE_PR         (1ull << 0)
#define AMDVI_PTE_NEXT_SHIFT 9
#define AMDVI_PTE_IR         (1ull << 61)
#define AMDVI_PTE_IW         (1ull << 62)

#define EPT_LEVELS      4             /* PML4, PDPT, PD, PT: page-walk length 4 */
#define EPT_MAX_GPA     (1ull << 48)  /* what a 4-level walk reaches */

struct ept_stats {
    uint64_t pages[3][8];             /* leaves: [0] 4 KiB, [1] 2 MiB, [2] 1 GiB, by type 0..7 */
    uint64_t tables;                  /* table pages, the root included */
};

enum ept_format {
    EPT_FORMAT_EPT,                   /* Intel's EPT */
    EPT_FORMAT_NPT,                   /* AMD's nested page tables */
    EPT_FORMAT_VTD,                   /* VT-d second-level tables: a device's DMA map */
    EPT_FORMAT_AMD_VI,                /* AMD-Vi page tables: the same for AMD's IOMMU */
};

struct ept {
    struct page_alloc *alloc;
    void *(*phys_to_virt)(uint64_t phys);
    enum ept_format format;
    bool has_2m, has_1g;              /* IA32_VMX_EPT_VPID_CAP bits 16 and 17; NPT: CPUID;
                                       * VT-d: CAP.SLLPS; AMD-Vi: always */
    uint64_t pml4;                    /* physical address of the root table, 0 before a build */
    const struct phys_range *holes;   /* what the guest must never reach (the hypervisor region) */
    uint32_t hole_count;
};

/*
 * Builds a new hierarchy (e->pml4) mapping [0, top) identically (top is
 * rounded up to 4 KiB), every page R/W/X with its MTRR type (NPT: WB, as the
 * MTRRs apply on top of nested translations; VT-d, AMD-Vi: R/W, no type, and m
 * may be NULL), each block with
 * the largest page size allowed (has_1g/has_2m) whose type is uniform and
 * which holds no part of a hole; hole pages stay not-present. Returns 0, or
 * -1 when top is above EPT_MAX_GPA or the allocator runs out (then every page
 * taken is given back and e->pml4 is 0). Fills st (may be NULL) as ept_count.
 * An earlier hierarchy in e->pml4 is not freed.
 */
int ept_build_identity(struct ept *e, uint64_t top, const struct mtrr_state *m,
                       struct ept_stats *st);

/*
 * Maps the aligned block around gpa (1 GiB if has_1g, else 2 MiB if has_2m,
 * else 4 KiB) identically, by the rules above, where nothing is mapped yet:
 * existing leaves are kept. For MMIO above the built top, on an EPT
 * violation. Returns 0, or -1 (no memory, gpa inside a hole or beyond
 * EPT_MAX_GPA / MAXPHYADDR).
 */
int ept_map_on_demand(struct ept *e, uint64_t gpa, const struct mtrr_state *m);

/*
 * Maps the 4 KiB guest page gpa to host page hpa, read/write (not
 * executable), memory type `type`, splitting a large page on the way (its
 * other pages keep their mapping). For pointing a probed hidden page at a
 * dummy page, so it may be used inside a hole. The leaf is marked
 * EPT_REMAPPED and ept_retype leaves it alone. Returns 0, or -1 (unaligned
 * address, invalid type, no memory).
 */
int ept_map_page(struct ept *e, uint64_t gpa, uint64_t hpa, uint8_t type);

/*
 * Sets the permissions (EPT_READ/WRITE/EXEC) of the mapped 4 KiB page at gpa,
 * splitting a large page on the way; target, type and marks stay. For a page
 * whose writes the hypervisor must see (the xAPIC page when SIPIs are
 * emulated). Returns 0, or -1 (unaligned, not mapped, bad bits, no memory).
 */
int ept_set_page_access(struct ept *e, uint64_t gpa, uint64_t rwx);

/*
 * After the guest changed its MTRRs: every present identity leaf gets its new
 * type; a leaf whose block is no longer uniform is replaced by a table of
 * smaller leaves (recursively), built completely before it is linked in.
 * Blocks that became uniform are not merged back. Remapped leaves keep their
 * target and type. Returns 0, or -1 when a table cannot be allocated (the
 * hierarchy stays valid; leaves not yet visited keep their old type).
 * Note: splitting an executable large page under a running guest is what the
 * "iTLB multihit" erratum is about; the caller decides when it is safe.
 */
int ept_retype(struct ept *e, const struct mtrr_state *m);

/*
 * Walk helper for tests and debugging: for gpa, the host address it maps to
 * (identity or not), the leaf's size (4 KiB, 2 MiB, 1 GiB), memory type and
 * R/W/X bits; any output may be NULL. False when gpa is not mapped.
 */
bool ept_lookup(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *page_size,
                uint8_t *type, uint8_t *rwx);

/* Counts leaves by size and type, and table pages (the bench and the boot log print this). */
void ept_count(const struct ept *e, struct ept_stats *st);

#endif
