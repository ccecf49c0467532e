/*
 * libFuzzer target for kernel/multiboot2.c: any bytes either parse into
 * information whose every pointer lies inside the input, or are rejected
 * with a message. ASan catches any read outside the input.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/multiboot2.h"

static int inside(const void *p, const uint8_t *buf, size_t size)
{
    const uint8_t *q = p;
    return q >= buf && q < buf + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The loader hands over 8-byte-aligned information; keep that, and an exact-size buffer. */
    uint8_t *buf = aligned_alloc(8, size ? (size + 7) & ~7ul : 8);
    memcpy(buf, data, size);
    static struct mb2_info info;
    char err[160];
    if (mb2_parse(buf, size, &info, err, sizeof err) == 0) {
        assert(info.total_size <= size);
        if (info.cmdline)
            assert(inside(info.cmdline + strlen(info.cmdline), buf, info.total_size));
        if (info.loader_name)
            assert(inside(info.loader_name + strlen(info.loader_name), buf, info.total_size));
        assert(info.mmap_count <= MB2_MAX_MMAP);
        assert(info.module_count <= MB2_MAX_MODULES);
        for (uint32_t i = 0; i < info.module_count; i++) {
            assert(info.modules[i].start <= info.modules[i].end);
            assert(inside(info.modules[i].string + strlen(info.modules[i].string), buf,
                          info.total_size));
        }
        if (info.rsdp)
            assert(inside(info.rsdp + info.rsdp_len - 1, buf, info.total_size));
    } else {
        assert(err[0] != '\0');
        assert(strlen(err) < sizeof err);
    }
    free(buf);
    return 0;
}
