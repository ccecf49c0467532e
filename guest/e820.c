/*
 * Editing the guest's memory map. The guest must see the hypervisor region
 * (and the few KiB of BIOS hooks) as reserved, or its OS would hand that
 * memory out and crash into the EPT. Built once at boot from the map GRUB
 * got from the same BIOS, then served by the INT 15h hook.
 */
#include "guest/e820.h"

#include <stdbool.h>

#define MAX_POINTS (2 * (MB2_MAX_MMAP + 8))

static uint64_t end_of(uint64_t base, uint64_t len)
{
    uint64_t e = base + len;
    return e < base ? UINT64_MAX : e;
}

/* The type of the memory at [s, e): 0 for a hole, reserved inside a hidden range. */
static uint32_t type_at(const struct mb2_mmap_entry *in, uint32_t n, const struct phys_range *hide,
                        uint32_t nhide, uint64_t s)
{
    uint32_t t = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* Type 0 is undefined: such an entry says nothing, wherever it sits in the list. */
        if (in[i].length == 0 || in[i].type == 0 || s < in[i].base ||
            s >= end_of(in[i].base, in[i].length))
            continue;
        uint32_t ti = in[i].type;
        /* Overlaps: any non-usable type beats usable; among those the higher number. */
        if (t == 0 || (t == MB2_MEMORY_AVAILABLE && ti != MB2_MEMORY_AVAILABLE) ||
            (ti != MB2_MEMORY_AVAILABLE && ti > t))
            t = ti;
    }
    for (uint32_t i = 0; t && i < nhide; i++)
        if (s >= hide[i].start && s < hide[i].end)
            return MB2_MEMORY_RESERVED;
    return t;
}

static void sort(uint64_t *p, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && p[j - 1] > p[j]; j--) {
            uint64_t t = p[j];
            p[j] = p[j - 1];
            p[j - 1] = t;
        }
}

int e820_hide(const struct mb2_mmap_entry *in, uint32_t n, const struct phys_range *hide,
              uint32_t nhide, struct e820_entry *out, uint32_t max)
{
    uint64_t pts[MAX_POINTS];
    uint32_t np = 0;
    if (n > MB2_MAX_MMAP || nhide > 8)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        if (in[i].length == 0)
            continue;
        pts[np++] = in[i].base;
        pts[np++] = end_of(in[i].base, in[i].length);
    }
    for (uint32_t i = 0; i < nhide; i++) {
        pts[np++] = hide[i].start;
        pts[np++] = hide[i].end;
    }
    sort(pts, np);
    int count = 0;
    for (uint32_t i = 0; i + 1 < np; i++) {
        uint64_t s = pts[i], e = pts[i + 1];
        if (s == e)
            continue;
        uint32_t t = type_at(in, n, hide, nhide, s);
        if (t == 0)
            continue;
        if (count > 0 && out[count - 1].type == t &&
            out[count - 1].base + out[count - 1].length == s) {
            out[count - 1].length += e - s;
            continue;
        }
        if ((uint32_t)count == max)
            return -1;
        out[count++] = (struct e820_entry){ s, e - s, t };
    }
    return count;
}

void e820_legacy_sizes(const struct e820_entry *map, int n, uint16_t *e801_ax,
                       uint16_t *e801_bx, uint16_t *kib_88)
{
    const uint64_t mib = 1ull << 20;
    uint64_t end = mib;
    bool grew = true;
    while (grew) {                       /* follow usable entries that continue the run */
        grew = false;
        for (int i = 0; i < n; i++) {
            if (map[i].type == MB2_MEMORY_AVAILABLE && map[i].base <= end &&
                map[i].base + map[i].length > end) {
                end = map[i].base + map[i].length;
                grew = true;
            }
        }
    }
    uint64_t below16 = (end < 16 * mib ? end : 16 * mib) - mib;
    uint64_t above16 = end > 16 * mib ? (end < (4096 * mib) ? end : 4096 * mib) - 16 * mib : 0;
    uint64_t ext_kib = (end - mib) >> 10;
    *e801_ax = (uint16_t)(below16 >> 10);
    *e801_bx = (uint16_t)(above16 >> 16 > 0xFFFF ? 0xFFFF : above16 >> 16);
    *kib_88 = (uint16_t)(ext_kib > 0xFFFF ? 0xFFFF : ext_kib);
}
