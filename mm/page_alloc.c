/*
 * A bitmap page allocator. The region is small (hundreds of pages) and
 * allocation happens at boot and at rare run-time events (EPT splits), so a
 * first-fit scan is plenty and easy to check.
 */
#include "mm/page_alloc.h"

#include <stdbool.h>

static bool is_used(const struct page_alloc *a, uint32_t i)
{
    return a->bitmap[i / 64] >> (i % 64) & 1;
}

static void set_used(struct page_alloc *a, uint32_t i, bool used)
{
    if (used)
        a->bitmap[i / 64] |= 1ull << (i % 64);
    else
        a->bitmap[i / 64] &= ~(1ull << (i % 64));
}

void page_alloc_init(struct page_alloc *a, uint64_t base, uint64_t size)
{
    uint64_t n = size / 4096;
    a->base = base;
    a->npages = n > PAGE_ALLOC_MAX_PAGES ? PAGE_ALLOC_MAX_PAGES : (uint32_t)n;
    a->used = 0;
    a->high_water = 0;
    for (uint32_t i = 0; i < PAGE_ALLOC_MAX_PAGES / 64; i++)
        a->bitmap[i] = 0;
}

uint64_t page_alloc_pages(struct page_alloc *a, uint32_t count)
{
    if (count == 0 || count > a->npages)
        return 0;
    uint32_t run = 0;
    for (uint32_t i = 0; i < a->npages; i++) {
        run = is_used(a, i) ? 0 : run + 1;
        if (run == count) {
            uint32_t first = i + 1 - count;
            for (uint32_t j = first; j <= i; j++)
                set_used(a, j, true);
            a->used += count;
            if (a->used > a->high_water)
                a->high_water = a->used;
            return a->base + (uint64_t)first * 4096;
        }
    }
    return 0;
}

void page_free_pages(struct page_alloc *a, uint64_t phys, uint32_t count)
{
    if (phys < a->base || (phys - a->base) % 4096)
        return;
    uint64_t first = (phys - a->base) / 4096;
    for (uint64_t j = first; j < first + count && j < a->npages; j++) {
        if (is_used(a, (uint32_t)j)) {
            set_used(a, (uint32_t)j, false);
            a->used--;
        }
    }
}
