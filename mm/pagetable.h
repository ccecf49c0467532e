/*
 * The hypervisor's own 4-level page tables (not the guest's EPT): an identity
 * map of physical memory plus the image at KERNEL_VBASE.
 */
#ifndef THINVISOR_PAGETABLE_H
#define THINVISOR_PAGETABLE_H

#include <stdint.h>

#include "mm/page_alloc.h"

/* Page-table entry bits (SDM Vol. 3A, 4.5, Tables 4-14 to 4-20). */
#define PTE_PRESENT   (1ull << 0)
#define PTE_WRITABLE  (1ull << 1)
#define PTE_PCD       (1ull << 4)
#define PTE_LARGE     (1ull << 7)            /* PS: 2 MiB in a PD, 1 GiB in a PDPT */
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

#define KERNEL_VBASE  0xFFFFFFFF80000000ull

struct pt_ctx {
    struct page_alloc *alloc;
    void *(*phys_to_virt)(uint64_t phys);    /* how this environment reaches a table page */
};

/* A zeroed page for a new table, or 0 when the allocator is empty. */
uint64_t pt_new_table(struct pt_ctx *c);

/*
 * Maps [va, va + size) to [pa, pa + size) in the hierarchy under `pml4`,
 * using pages of `page_size` (4 KiB, 2 MiB or 1 GiB); va, pa and size must be
 * multiples of it. Returns 0, or -1 when a table page cannot be allocated or
 * the range collides with a mapping of another size.
 */
int pt_map(struct pt_ctx *c, uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size,
           uint64_t page_size, uint64_t flags);

/* Walks the hierarchy: the physical address `va` maps to, or -1 when unmapped. */
int64_t pt_translate(struct pt_ctx *c, uint64_t pml4, uint64_t va);

#endif
