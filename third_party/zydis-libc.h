/*
 * Included before every Zydis source file (third_party/zydis.mk). Built with
 * ZYAN_NO_LIBC, Zycore's LibC.h gives Zydis its own memset and memcpy:
 * volatile byte loops, which no compiler may shorten. Zydis clears its
 * decoded instruction and operands with them on every decode, and that was
 * 90% of a decode's cost: some 7,400 instructions for `mov [rax], ecx`.
 * After LibC.h, these names call the memset and memcpy of the program Zydis
 * is linked into instead: kernel/string.c's in thinvisor, libc's in the host
 * tests and fuzzers.
 */
#ifndef THINVISOR_ZYDIS_LIBC_H
#define THINVISOR_ZYDIS_LIBC_H

#include <Zycore/LibC.h>

void *memset(void *dst, int c, __SIZE_TYPE__ n);
void *memcpy(void *dst, const void *src, __SIZE_TYPE__ n);

#define ZYAN_MEMSET memset
#define ZYAN_MEMCPY memcpy

#endif
