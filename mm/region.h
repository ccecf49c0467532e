/*
 * The hypervisor region: the one contiguous block of RAM that holds
 * everything thinvisor owns after boot (docs/design.md, "Memory layout").
 */
#ifndef THINVISOR_REGION_H
#define THINVISOR_REGION_H

#include <stdint.h>

#include "kernel/multiboot2.h"

#define PAGE_SIZE  4096ull
#define MIB        (1ull << 20)
#define GIB        (1ull << 30)

#define REGION_MIN_BASE       (1 * MIB)    /* the low 1 MiB belongs to the BIOS and the guest */
#define REGION_PREFERRED_BASE (64 * MIB)   /* loaders and kernels live below this */
#define REGION_LIMIT          (4 * GIB)    /* AP start-up loads CR3 in 32-bit mode */
#define REGION_MAX_EXCLUDE    (MB2_MAX_MODULES + 4)

struct phys_range {
    uint64_t start;    /* inclusive */
    uint64_t end;      /* exclusive */
};

struct region_request {
    const struct mb2_mmap_entry *mmap;
    uint32_t mmap_count;
    const struct phys_range *exclude;   /* memory still in use: modules, the boot info, ... */
    uint32_t exclude_count;
    uint64_t size;
    uint64_t align;                     /* power of two, at least PAGE_SIZE */
};

/*
 * Chooses the highest `size` bytes, aligned to `align`, that lie in usable
 * RAM between REGION_MIN_BASE and REGION_LIMIT and overlap no reserved range
 * of the map and no excluded range. Returns 0 with *base set, or -1 when no
 * such block exists (then *largest holds the largest free block found).
 */
int region_choose(const struct region_request *req, uint64_t *base, uint64_t *largest);

/* What the region must hold, by purpose (bytes, each a whole number of pages). */
struct region_budget {
    uint64_t image;          /* code, data, bss (log ring included) */
    uint64_t page_tables;    /* the hypervisor's own page tables */
    uint64_t per_cpu;        /* all processors' per-CPU blocks, stacks, VMX pages */
    uint64_t shared;         /* what all processors share: EPT, bitmaps */
    uint64_t total;
};

/*
 * Sums the budget: `phys_top` is the highest physical address to identity-map,
 * `huge_pages` says whether 1 GiB pages are available for that map.
 */
void region_budget(struct region_budget *b, uint64_t image_bytes, uint64_t phys_top,
                   int huge_pages, uint32_t ncpus, uint64_t per_cpu_bytes,
                   uint64_t shared_bytes);

/*
 * Highest address + 1 of the RAM in the map (usable, ACPI, NVS, bad RAM), at
 * least 4 GiB so that the MMIO below 4 GiB is covered. Reserved ranges above
 * RAM (such as QEMU's at 1012 GiB) do not count: nothing of ours lives there.
 */
uint64_t region_phys_top(const struct mb2_mmap_entry *mmap, uint32_t count);

#endif
