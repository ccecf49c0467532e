/* The firmware's memory map as an E820-style one (see efi_mmap.h). */
#include "efi/mmap.h"

uint32_t efi_memory_type_to_e820(uint32_t efi_type)
{
    switch (efi_type) {
    case 1: case 2:          /* loader code and data */
    case 3: case 4:          /* boot services code and data */
    case 7:                  /* conventional */
        return MB2_MEMORY_AVAILABLE;
    case 8: return MB2_MEMORY_BADRAM;       /* unusable */
    case 9: return MB2_MEMORY_ACPI;         /* ACPI reclaim */
    case 10: return MB2_MEMORY_NVS;         /* ACPI NVS */
    default: return MB2_MEMORY_RESERVED;    /* reserved, runtime, MMIO, PAL, persistent */
    }
}

int efi_mmap_to_mb2(const uint8_t *map, size_t size, size_t desc_size, struct mb2_info *out)
{
    if (desc_size < sizeof(struct efi_memory_descriptor))
        return -1;
    out->has_mmap = true;
    out->mmap_count = 0;
    out->mmap_dropped = 0;
    for (size_t off = 0; off + desc_size <= size; off += desc_size) {
        const struct efi_memory_descriptor *d = (const void *)(map + off);
        if (d->number_of_pages == 0 || d->number_of_pages > (UINT64_MAX >> 12))
            continue;
        uint64_t base = d->physical_start, len = d->number_of_pages << 12;
        uint32_t type = efi_memory_type_to_e820(d->type);
        struct mb2_mmap_entry *last = out->mmap_count ? &out->mmap[out->mmap_count - 1] : 0;
        if (last && last->type == type && last->base + last->length == base) {
            last->length += len;
            continue;
        }
        if (out->mmap_count == MB2_MAX_MMAP) {
            out->mmap_dropped++;
            continue;
        }
        out->mmap[out->mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
    }
    return (int)out->mmap_count;
}
