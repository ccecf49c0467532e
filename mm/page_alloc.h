/* Page allocator over the hypervisor region (the only memory thinvisor takes). */
#ifndef THINVISOR_PAGE_ALLOC_H
#define THINVISOR_PAGE_ALLOC_H

#include <stdint.h>

#define PAGE_ALLOC_MAX_PAGES 8192          /* 32 MiB: far more than any budget */

struct page_alloc {
    uint64_t base;                         /* physical address of page 0 */
    uint32_t npages;
    uint32_t used;
    uint32_t high_water;                   /* most pages ever in use at once */
    uint64_t bitmap[PAGE_ALLOC_MAX_PAGES / 64];
};

/* Manages the whole pages of [base, base + size); base must be page-aligned. */
void page_alloc_init(struct page_alloc *a, uint64_t base, uint64_t size);

/* Physical address of `count` contiguous free pages, or 0 when there is no such run. */
uint64_t page_alloc_pages(struct page_alloc *a, uint32_t count);

static inline uint64_t page_alloc_one(struct page_alloc *a) { return page_alloc_pages(a, 1); }

/* Returns pages from page_alloc_pages(); freeing what is not allocated is ignored. */
void page_free_pages(struct page_alloc *a, uint64_t phys, uint32_t count);

#endif
