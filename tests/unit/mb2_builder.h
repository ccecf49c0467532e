/* Builds multiboot2 boot information in a buffer, the way GRUB lays it out, for tests. */
#ifndef THINVISOR_TEST_MB2_BUILDER_H
#define THINVISOR_TEST_MB2_BUILDER_H

#include <stdint.h>
#include <string.h>

struct mb2_builder {
    _Alignas(8) uint8_t buf[4096];
    uint32_t len;
};

static inline void mb2b_put32(struct mb2_builder *b, uint32_t off, uint32_t v)
{
    memcpy(b->buf + off, &v, 4);
}

static inline void mb2b_begin(struct mb2_builder *b)
{
    memset(b->buf, 0, sizeof b->buf);
    b->len = 8;
}

/* Appends a tag with `size` payload bytes copied from `payload`; returns its offset. */
static inline uint32_t mb2b_tag(struct mb2_builder *b, uint32_t type, const void *payload,
                                uint32_t size)
{
    uint32_t off = b->len;
    mb2b_put32(b, off, type);
    mb2b_put32(b, off + 4, 8 + size);
    if (size)
        memcpy(b->buf + off + 8, payload, size);
    b->len = (off + 8 + size + 7) & ~7u;
    return off;
}

static inline uint32_t mb2b_string(struct mb2_builder *b, uint32_t type, const char *s)
{
    return mb2b_tag(b, type, s, (uint32_t)strlen(s) + 1);
}

static inline uint32_t mb2b_module(struct mb2_builder *b, uint32_t start, uint32_t end,
                                   const char *s)
{
    uint8_t p[64] = { 0 };
    memcpy(p, &start, 4);
    memcpy(p + 4, &end, 4);
    strcpy((char *)p + 8, s);
    return mb2b_tag(b, 3, p, 8 + (uint32_t)strlen(s) + 1);
}

struct mb2b_mmap { uint64_t base, length; uint32_t type; };

static inline uint32_t mb2b_mmap(struct mb2_builder *b, const struct mb2b_mmap *e, int n)
{
    uint8_t p[8 + 24 * 64] = { 0 };
    uint32_t entry_size = 24, version = 0;
    memcpy(p, &entry_size, 4);
    memcpy(p + 4, &version, 4);
    for (int i = 0; i < n; i++) {
        memcpy(p + 8 + 24 * i, &e[i].base, 8);
        memcpy(p + 8 + 24 * i + 8, &e[i].length, 8);
        memcpy(p + 8 + 24 * i + 16, &e[i].type, 4);
    }
    return mb2b_tag(b, 6, p, 8 + 24 * (uint32_t)n);
}

/* Appends the end tag and writes the total size; returns it. */
static inline uint32_t mb2b_end(struct mb2_builder *b)
{
    mb2b_tag(b, 0, NULL, 0);
    mb2b_put32(b, 0, b->len);
    mb2b_put32(b, 4, 0);
    return b->len;
}

#endif
