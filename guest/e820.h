/* The memory map the guest's BIOS calls return (INT 15h E820, E801, AH=88h). */
#ifndef THINVISOR_E820_H
#define THINVISOR_E820_H

#include <stdint.h>

#include "kernel/multiboot2.h"
#include "mm/region.h"

/* One entry as INT 15h E820 returns it (ACPI 6.5, 15.1). */
struct __attribute__((packed)) e820_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

#define E820_MAX_ENTRIES 64

/*
 * The firmware's map with every `hide` range turned reserved: entries split
 * where needed, sorted, adjacent entries of one type merged, overlaps
 * resolved in favour of the non-usable type. Returns the entry count, or -1
 * when more than `max` entries would be needed. Portable C.
 */
int e820_hide(const struct mb2_mmap_entry *in, uint32_t n, const struct phys_range *hide,
              uint32_t nhide, struct e820_entry *out, uint32_t max);

/*
 * What the older calls report from such a map: E801 AX = KiB of usable
 * memory from 1 MiB up to 16 MiB, BX = 64 KiB blocks from 16 MiB up to 4 GiB,
 * AH=88h = KiB from 1 MiB (at most 0xFFFF); each counts only the usable run
 * that starts at 1 MiB.
 */
void e820_legacy_sizes(const struct e820_entry *map, int n, uint16_t *e801_ax,
                       uint16_t *e801_bx, uint16_t *kib_88);

#endif
