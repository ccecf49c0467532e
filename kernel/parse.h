/*
 * What the parsers of firmware and boot-loader input share (kernel/acpi.c,
 * kernel/iommu_tables.c, kernel/multiboot2.c): little-endian reads that make
 * no assumption about alignment, and the way they refuse input, a message in
 * the caller's err[errlen] (when it gave room for one) and -1.
 */
#ifndef THINVISOR_PARSE_H
#define THINVISOR_PARSE_H

#include <stdint.h>

#include "kernel/format.h"

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static inline uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* Needs `err` and `errlen` in scope; returns -1 from the function it is in. */
#define FAIL(...)                                              \
    do {                                                       \
        if (errlen)                                            \
            fmt_snprintf(err, errlen, __VA_ARGS__);            \
        return -1;                                             \
    } while (0)

#endif
