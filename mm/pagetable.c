/*
 * Building the hypervisor's page tables. Plain C over a phys_to_virt hook,
 * so the same code runs in the kernel (identity-mapped tables) and in host
 * unit tests (tables in a malloc'd arena).
 */
#include "mm/pagetable.h"

#include <stddef.h>

uint64_t pt_new_table(struct pt_ctx *c)
{
    uint64_t phys = page_alloc_one(c->alloc);
    if (!phys)
        return 0;
    uint64_t *t = c->phys_to_virt(phys);
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return phys;
}

static unsigned index_at(uint64_t va, int level)
{
    return (va >> (12 + 9 * level)) & 511;       /* level 3: PML4 ... level 0: PT */
}

static uint64_t level_size(int level)
{
    return 1ull << (12 + 9 * level);
}

int pt_map(struct pt_ctx *c, uint64_t pml4, uint64_t va, uint64_t pa, uint64_t size,
           uint64_t page_size, uint64_t flags)
{
    int leaf = page_size == level_size(2) ? 2 : page_size == level_size(1) ? 1 : 0;
    if (page_size != level_size(leaf) || (va | pa | size) & (page_size - 1))
        return -1;
    for (uint64_t off = 0; off < size; off += page_size) {
        uint64_t table = pml4;
        for (int level = 3; level > leaf; level--) {
            uint64_t *e = (uint64_t *)c->phys_to_virt(table) + index_at(va + off, level);
            if (!(*e & PTE_PRESENT)) {
                uint64_t t = pt_new_table(c);
                if (!t)
                    return -1;
                *e = t | PTE_PRESENT | PTE_WRITABLE;
            } else if (*e & PTE_LARGE) {
                return -1;
            }
            table = *e & PTE_ADDR_MASK;
        }
        uint64_t *e = (uint64_t *)c->phys_to_virt(table) + index_at(va + off, leaf);
        *e = (pa + off) | flags | PTE_PRESENT | (leaf ? PTE_LARGE : 0);
    }
    return 0;
}

int64_t pt_translate(struct pt_ctx *c, uint64_t pml4, uint64_t va)
{
    uint64_t table = pml4;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = ((uint64_t *)c->phys_to_virt(table))[index_at(va, level)];
        if (!(e & PTE_PRESENT))
            return -1;
        if (level == 0 || (level < 3 && (e & PTE_LARGE)))
            return (int64_t)((e & PTE_ADDR_MASK & ~(level_size(level) - 1)) |
                             (va & (level_size(level) - 1)));
        table = e & PTE_ADDR_MASK;
    }
    return -1;
}
