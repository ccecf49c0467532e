/*
 * The few libc string functions the kernel needs; GCC also emits calls to
 * memcpy and memset for struct copies even in freestanding mode, and Zydis
 * clears its decoded instruction and operands (about 1 KiB) through them on
 * every decode (third_party/zydis-libc.h). So the bulk goes 8 bytes at a
 * time: a byte loop costs some 4 instructions a byte. Plain C, no SSE (the
 * kernel is built -mgeneral-regs-only); x86 allows unaligned 8-byte
 * accesses, so only the tail is done bytewise (memcpy not even that).
 */
#include <stddef.h>
#include <stdint.h>

#include "kernel/string.h"

/* An 8-byte word at any address, which may alias anything. */
typedef uint64_t __attribute__((may_alias, aligned(1))) any_word;
typedef uint32_t __attribute__((may_alias, aligned(1))) any_half;
typedef uint16_t __attribute__((may_alias, aligned(1))) any_quarter;

/*
 * The tail takes no byte loop: the last 8 (or 4, 2) bytes are copied as one
 * word that may overlap the word before it, which memcpy's non-overlapping
 * buffers allow (a copy within one buffer, forwards, is memmove's). A
 * 15-byte instruction fetch, which an emulated APIC store may start with,
 * is two moves this way.
 */
void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n >= 8) {
        size_t last = n - 8;
        for (size_t i = 0; i < last; i += 8)
            *(any_word *)(d + i) = *(const any_word *)(s + i);
        *(any_word *)(d + last) = *(const any_word *)(s + last);
    } else if (n >= 4) {
        *(any_half *)d = *(const any_half *)s;
        *(any_half *)(d + n - 4) = *(const any_half *)(s + n - 4);
    } else if (n >= 2) {
        *(any_quarter *)d = *(const any_quarter *)s;
        *(any_quarter *)(d + n - 2) = *(const any_quarter *)(s + n - 2);
    } else if (n) {
        *d = *s;
    }
    return dst;
}

/* Overlapping copies: forwards when the destination is below, else backwards. */
void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        for (; n >= 8; n -= 8, d += 8, s += 8)
            *(any_word *)d = *(const any_word *)s;
        while (n--)
            *d++ = *s++;
    } else {
        for (; n >= 8; n -= 8)
            *(any_word *)(d + n - 8) = *(const any_word *)(s + n - 8);
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    uint64_t word = 0x0101010101010101ull * (unsigned char)c;
    for (; n >= 8; n -= 8, d += 8)
        *(any_word *)d = word;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
