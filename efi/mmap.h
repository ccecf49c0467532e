/*
 * The firmware's memory map (UEFI spec 2.10, 7.2, GetMemoryMap) in the form
 * the rest of thinvisor reads: the multiboot2/E820 one. GRUB gives no memory
 * map while it keeps the boot services for thinvisor (the map still changes
 * then), so thinvisor asks the firmware. Plain C for the host unit tests.
 */
#ifndef THINVISOR_EFI_MMAP_H
#define THINVISOR_EFI_MMAP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/multiboot2.h"

/* 7.2, EFI_MEMORY_DESCRIPTOR: the part every version has. */
struct efi_memory_descriptor {
    uint32_t type;
    uint32_t pad;
    uint64_t physical_start;
    uint64_t virtual_start;
    uint64_t number_of_pages;
    uint64_t attribute;
};

/*
 * The E820 type of an EFI memory type: what the OS may use once boot
 * services end (loader and boot-services memory, conventional) is usable,
 * ACPI tables and NVS keep their kinds, anything else is reserved.
 */
uint32_t efi_memory_type_to_e820(uint32_t efi_type);

/*
 * Converts `size` bytes of descriptors, `desc_size` apart (the firmware's
 * stride, at least the struct above), into out->mmap: adjacent ranges of one
 * type merged, entries beyond MB2_MAX_MMAP counted in out->mmap_dropped.
 * Sets out->has_mmap. Returns the entries written, or -1 when desc_size is
 * too small.
 */
int efi_mmap_to_mb2(const uint8_t *map, size_t size, size_t desc_size, struct mb2_info *out);

#endif
