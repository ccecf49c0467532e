/* The hypervisor region once chosen: where it is, what it holds, its allocator. */
#ifndef THINVISOR_HV_MEMORY_H
#define THINVISOR_HV_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/multiboot2.h"
#include "kernel/phys.h"
#include "mm/page_alloc.h"
#include "mm/pagetable.h"
#include "mm/region.h"

#define KERNEL_LOAD 0x200000ull     /* where GRUB loads the image (linker.ld) */

/*
 * Memory asked of the firmware rather than taken from the boot loader's map,
 * where the firmware still owns the map (UEFI with its boot services kept:
 * efi/efi.c fills this in). NULL on a BIOS boot. Each returns 0, or -1 after
 * logging why.
 */
struct firmware_memory {
    /* The region: `pages` pages below `below` that the OS will leave alone. */
    int (*alloc_region)(uint64_t pages, uint64_t below, uint64_t *base);
    /* A page below `below`, borrowed for a while (the AP trampoline), and its return. */
    int (*borrow_page)(uint64_t below, uint64_t *page);
    void (*return_page)(uint64_t page);
};

struct hv_memory {
    uint64_t base;                  /* physical start of the region */
    uint64_t size;
    struct region_budget budget;
    struct page_alloc alloc;        /* the region's pages after the image */
    struct pt_ctx pt;
    uint64_t pml4;                  /* the hypervisor's CR3 */
    uint64_t identity_top;          /* physical [0, identity_top) is mapped at the same address */
    const struct firmware_memory *firmware;   /* NULL: the boot loader's map is the truth */
};

extern struct hv_memory hv_memory;

/*
 * Chooses the region (mm/region.c) for `ncpus` processors, builds the
 * hypervisor's page tables in it, copies the image there and switches to
 * them. Halts with a message saying how much memory is needed when the
 * memory map has no room. With `fw` (UEFI) the firmware allocates the region
 * instead, below fw_below, as memory the OS keeps away from; when it refuses,
 * returns -1 (logged) and nothing has changed. 0 once running from the region.
 */
int hv_memory_setup(const struct mb2_info *mbi, uint64_t info_phys, uint32_t ncpus,
                    uint64_t per_cpu_bytes, uint64_t shared_bytes,
                    const struct firmware_memory *fw, uint64_t fw_below);

/* Whether [phys, phys + len) meets the hypervisor region. */
static inline bool hv_region_overlaps(uint64_t phys, uint64_t len)
{
    return phys < hv_memory.base + hv_memory.size && phys + len > hv_memory.base;
}

/* A zeroed page (or run of pages) from the region; panics when the budget is exhausted. */
void *hv_alloc_pages(uint32_t count, const char *purpose);

/* Logs the region's use by purpose ("region use:" lines), for make bench. */
void hv_memory_log_use(void);

/*
 * Copies guest physical memory the hypervisor may read for the guest (its
 * page tables, the instruction at its RIP): identity-mapped, and no byte of
 * the hypervisor region. False otherwise. A guest_read_fn (mm/guest_walk.h).
 */
bool hv_read_guest_phys(uint64_t gpa, void *buf, unsigned len, void *ctx);

/* phys_to_virt as a function, for the builders that take a phys_to_virt hook. */
void *hv_identity(uint64_t phys);

/* Physical address of something in the image (code, data, bss), mapped at KERNEL_VBASE. */
static inline uint64_t image_virt_to_phys(const void *p)
{
    return hv_memory.base + ((uint64_t)(uintptr_t)p - KERNEL_VBASE);
}

#endif
