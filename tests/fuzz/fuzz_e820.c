/*
 * libFuzzer target for guest/e820.c: whatever memory map the firmware and
 * whatever hidden ranges, e820_hide ends, respects `max`, and its output is
 * sorted, non-overlapping, never shows a hidden byte as usable, and keeps every
 * byte the firmware called usable (outside the hidden ranges) usable.
 * Input: byte 0 = number of hidden ranges (0..3), then 16-byte ranges
 * (start, end), then 20-byte firmware entries (base, length, type).
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "guest/e820.h"

#define MAX_IN 80

/* The type the map gives addr (0: not listed), from e820_hide's output. */
/* The reference answer to compare e820_hide with, by plain lookup. */
static uint32_t out_type(const struct e820_entry *m, int n, uint64_t addr)
{
    for (int i = 0; i < n; i++)
        if (addr >= m[i].base && addr - m[i].base < m[i].length)
            return m[i].type;
    return 0;
}

/* Why: the interesting addresses are the edges of every input range. */
static void check_point(const struct mb2_mmap_entry *in, uint32_t nin,
                        const struct phys_range *hide, uint32_t nhide,
                        const struct e820_entry *out, int nout, uint64_t a)
{
    bool hidden = false, fw_usable = false, fw_other = false;
    for (uint32_t i = 0; i < nhide; i++)
        if (a >= hide[i].start && a < hide[i].end)
            hidden = true;
    for (uint32_t i = 0; i < nin; i++) {
        /* type 0 is no type at all: e820_hide treats it as a hole */
        /* a map ends at 2^64 - 1 exclusive: a range that wraps stops there (e820.c's end_of) */
        uint64_t end = in[i].base + in[i].length < in[i].base ? UINT64_MAX
                                                             : in[i].base + in[i].length;
        if (in[i].length == 0 || in[i].type == 0 || a < in[i].base || a >= end)
            continue;
        if (in[i].type == 1)
            fw_usable = true;
        else
            fw_other = true;
    }
    uint32_t t = out_type(out, nout, a);
    if (hidden)
        assert(t != 1);
    if (fw_usable && !fw_other && !hidden)
        assert(t == 1);
    if (fw_other)
        assert(t != 1);
}

/* Decodes the input into a firmware map and hidden ranges, then checks the edited map. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mb2_mmap_entry in[MAX_IN];
    struct phys_range hide[3];
    struct e820_entry out[E820_MAX_ENTRIES];
    if (size < 1)
        return 0;
    uint32_t nhide = data[0] % 4, max = 1 + data[0] / 4 % E820_MAX_ENTRIES;
    data++, size--;
    if (size < nhide * 16)
        return 0;
    for (uint32_t i = 0; i < nhide; i++) {
        memcpy(&hide[i].start, data, 8);
        memcpy(&hide[i].end, data + 8, 8);
        /* the caller's ranges are page-aligned regions below 4 GiB */
        hide[i].start &= 0xFFFFF000ull;
        hide[i].end &= 0xFFFFF000ull;
        if (hide[i].end < hide[i].start) {
            uint64_t t = hide[i].end;
            hide[i].end = hide[i].start;
            hide[i].start = t;
        }
        data += 16, size -= 16;
    }
    uint32_t nin = 0;
    for (; size >= 20 && nin < MAX_IN; data += 20, size -= 20, nin++) {
        memcpy(&in[nin].base, data, 8);
        memcpy(&in[nin].length, data + 8, 8);
        memcpy(&in[nin].type, data + 16, 4);
        in[nin].type %= 8;
    }

    int n = e820_hide(in, nin, hide, nhide, out, max);
    if (n < 0)
        return 0;
    assert((uint32_t)n <= max);
    for (int i = 0; i < n; i++) {
        assert(out[i].length > 0);
        assert(out[i].base + out[i].length > out[i].base || out[i].base + out[i].length == 0);
        if (i > 0)
            assert(out[i - 1].base + out[i - 1].length <= out[i].base);
    }
    for (uint32_t i = 0; i < nin; i++) {
        if (in[i].length == 0)
            continue;
        uint64_t end = in[i].base + in[i].length;
        check_point(in, nin, hide, nhide, out, n, in[i].base);
        if (end > in[i].base)
            check_point(in, nin, hide, nhide, out, n, end - 1);
    }
    for (uint32_t i = 0; i < nhide; i++) {
        if (hide[i].end > hide[i].start) {
            check_point(in, nin, hide, nhide, out, n, hide[i].start);
            check_point(in, nin, hide, nhide, out, n, hide[i].end - 1);
        }
    }
    uint16_t ax, bx, k88;
    e820_legacy_sizes(out, n, &ax, &bx, &k88);
    assert(ax <= 15 * 1024);
    return 0;
}
