/* Segment registers from GDT descriptors (see segment.h). */
#include "kernel/segment.h"

#include <stdbool.h>

#include "kernel/format.h"

static const char *const names[SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR",
                                              "TR" };

const char *segment_reg_name(enum segment_reg reg)
{
    return reg < SEG_COUNT ? names[reg] : "?";
}

static uint64_t read_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Rejects with a message naming the register and the selector. */
static int refuse(enum segment_reg reg, uint16_t sel, const char *what, char *why,
                  size_t whylen)
{
    fmt_snprintf(why, whylen, "%s selector %#x: %s", names[reg], sel, what);
    return -1;
}

int segment_from_gdt(uint64_t gdt_base, uint32_t gdt_limit, enum segment_reg reg, uint16_t sel,
                     segment_read_fn read, void *ctx, struct segment *out, char *why,
                     size_t whylen)
{
    bool system = reg == SEG_LDTR || reg == SEG_TR;
    *out = (struct segment){ .sel = sel };
    if ((sel & ~3u) == 0) {
        if (reg == SEG_CS || (reg == SEG_SS && (sel & 3)))
            return refuse(reg, sel, "null", why, whylen);
        if (reg == SEG_TR) {
            out->limit = 0xFFFF;
            out->ar = SEG_AR_TSS64_BUSY;
        } else {
            out->ar = SEG_AR_UNUSABLE;   /* SS may be null at CPL 0 in IA-32e mode */
        }
        return 0;
    }
    if (sel & 4)
        return refuse(reg, sel, "in an LDT (thinvisor reads only the GDT)", why, whylen);
    uint32_t index = sel & ~7u, size = system ? 16 : 8;
    if (index + size - 1 > gdt_limit)
        return refuse(reg, sel, "past the end of the GDT", why, whylen);
    uint8_t desc[16];
    if (!read(gdt_base + index, desc, size, ctx))
        return refuse(reg, sel, "its descriptor cannot be read", why, whylen);
    uint64_t d = read_u64(desc);
    uint32_t ar = (uint32_t)(d >> 40) & 0xF0FF;
    uint32_t type = ar & 0xF;
    if (!(ar & SEG_AR_P))
        return refuse(reg, sel, "descriptor not present", why, whylen);
    if (system) {
        bool ok = ar & SEG_AR_S ? false : reg == SEG_LDTR ? type == 2 : (type == 9 || type == 11);
        if (!ok)
            return refuse(reg, sel, reg == SEG_LDTR ? "not an LDT descriptor"
                                                    : "not a 64-bit TSS descriptor", why, whylen);
        if (reg == SEG_TR)
            ar = (ar & ~0xFu) | 11;      /* loaded: busy (8.2.3) */
    } else {
        bool code = type & 8;
        bool ok = (ar & SEG_AR_S) && (reg == SEG_CS ? code
                                      : reg == SEG_SS ? !code && (type & 2)
                                                      : !code || (type & 2));
        if (!ok)
            return refuse(reg, sel, reg == SEG_CS ? "not a code descriptor"
                                    : reg == SEG_SS ? "not a writable data descriptor"
                                                    : "not a readable segment", why, whylen);
        ar |= SEG_AR_TYPE_ACCESSED;
    }
    uint32_t limit = (uint32_t)(d & 0xFFFF) | ((uint32_t)(d >> 32) & 0xF0000);
    if (ar & SEG_AR_G)
        limit = limit << 12 | 0xFFF;
    uint64_t base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
    if (system)
        base |= (read_u64(desc + 8) & 0xFFFFFFFFull) << 32;
    out->base = base;
    out->limit = limit;
    out->ar = ar;
    return 0;
}
