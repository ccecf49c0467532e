/* The hypervisor region once chosen: where it is, what it holds, its allocator. */
#ifndef THINVISOR_HV_MEMORY_H
#define THINVISOR_HV_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/multiboot2.h"
#include "mm/page_alloc.h"
#include "mm/pagetable.h"
#include "mm/region.h"

#define KERNEL_LOAD 0x200000ull     /* where GRUB loads the image (linker.ld) */

struct hv_memory {
    uint64_t base;                  /* physical start of the region */
    uint64_t size;
    struct region_budget budget;
    struct page_alloc alloc;        /* the region's pages after the image */
    struct pt_ctx pt;
    uint64_t pml4;                  /* the hypervisor's CR3 */
    uint64_t identity_top;          /* physical [0, identity_top) is mapped at the same address */
};

extern struct hv_memory hv_memory;

/*
 * Chooses the region (mm/region.c) for `ncpus` processors, builds the
 * hypervisor's page tables in it, copies the image there and switches to
 * them. Halts with a message saying how much memory is needed when the
 * memory map has no room. On UEFI the firmware allocates the region (below
 * efi_max_address, as a reserved type the OS keeps); when it refuses, the
 * next boot stage starts natively (kernel/efi_boot.h).
 */
void hv_memory_setup(const struct mb2_info *mbi, uint64_t info_phys, uint32_t ncpus,
                     uint64_t per_cpu_bytes, uint64_t shared_bytes, uint64_t efi_max_address);

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

static inline void *phys_to_virt(uint64_t phys) { return (void *)(uintptr_t)phys; }
static inline uint64_t virt_to_phys_identity(const void *p) { return (uint64_t)(uintptr_t)p; }

/* Physical address of something in the image (code, data, bss), mapped at KERNEL_VBASE. */
static inline uint64_t image_virt_to_phys(const void *p)
{
    return hv_memory.base + ((uint64_t)(uintptr_t)p - KERNEL_VBASE);
}

#endif
