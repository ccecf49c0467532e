/*
 * FNV-1a, 64-bit: the one checksum thinvisor takes of its own memory (the
 * image self-check, the backends' fixed-state sums, a borrowed page's bytes).
 * Cheap, and any changed byte shows; not meant to resist a forger. Plain C.
 */
#ifndef THINVISOR_CHECKSUM_H
#define THINVISOR_CHECKSUM_H

#include <stdint.h>

#define FNV1A64_INIT 0xCBF29CE484222325ull

/* The sum h so far, continued over n bytes at p. */
static inline uint64_t fnv1a64(uint64_t h, const void *p, uint64_t n)
{
    for (const uint8_t *b = p; n--; b++)
        h = (h ^ *b) * 0x100000001B3ull;
    return h;
}

#endif
