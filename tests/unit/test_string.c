/*
 * kernel/string.c against the host's libc: every length up to past two
 * words, every alignment of source and destination, overlapping moves both
 * ways, and nothing written outside the bytes asked for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* The kernel's versions under their own names, beside libc's. */
#define memcpy tv_memcpy
#define memmove tv_memmove
#define memset tv_memset
#define memcmp tv_memcmp
#define strlen tv_strlen
#include "kernel/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen

#define SPAN 64                       /* a buffer: room for every offset and length below */

/* A recognizable pattern, different for each buffer. */
static void fill(uint8_t *b, unsigned seed)
{
    for (unsigned i = 0; i < SPAN; i++)
        b[i] = (uint8_t)(i * 7 + seed * 13 + 1);
}

static void memset_every_length_and_alignment(void **state)
{
    (void)state;
    uint8_t ours[SPAN], libc[SPAN];
    for (unsigned at = 0; at < 8; at++)
        for (unsigned n = 0; n <= 40; n++) {
            fill(ours, 1), fill(libc, 1);
            assert_ptr_equal(tv_memset(ours + at, 0xA5, n), ours + at);
            memset(libc + at, 0xA5, n);
            assert_memory_equal(ours, libc, SPAN);
        }
}

static void memcpy_every_length_and_alignment(void **state)
{
    (void)state;
    uint8_t src[SPAN], ours[SPAN], libc[SPAN];
    fill(src, 2);
    for (unsigned from = 0; from < 8; from++)
        for (unsigned to = 0; to < 8; to++)
            for (unsigned n = 0; n <= 40; n++) {
                fill(ours, 3), fill(libc, 3);
                assert_ptr_equal(tv_memcpy(ours + to, src + from, n), ours + to);
                memcpy(libc + to, src + from, n);
                assert_memory_equal(ours, libc, SPAN);
            }
}

/* Source and destination in one buffer, overlapping or not, in either order. */
static void memmove_overlapping_both_ways(void **state)
{
    (void)state;
    uint8_t ours[SPAN], libc[SPAN];
    for (unsigned from = 0; from < 20; from++)
        for (unsigned to = 0; to < 20; to++)
            for (unsigned n = 0; n <= 40; n++) {
                fill(ours, 4), fill(libc, 4);
                assert_ptr_equal(tv_memmove(ours + to, ours + from, n), ours + to);
                memmove(libc + to, libc + from, n);
                assert_memory_equal(ours, libc, SPAN);
            }
}

static void memcmp_and_strlen(void **state)
{
    (void)state;
    uint8_t a[SPAN], b[SPAN];
    fill(a, 5), fill(b, 5);
    assert_int_equal(tv_memcmp(a, b, SPAN), 0);
    b[33] = (uint8_t)(a[33] + 1);
    assert_true(tv_memcmp(a, b, SPAN) < 0);
    assert_true(tv_memcmp(b, a, SPAN) > 0);
    assert_int_equal(tv_memcmp(a, b, 33), 0);
    assert_int_equal(tv_strlen(""), 0);
    assert_int_equal(tv_strlen("thinvisor"), 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memset_every_length_and_alignment),
        cmocka_unit_test(memcpy_every_length_and_alignment),
        cmocka_unit_test(memmove_overlapping_both_ways),
        cmocka_unit_test(memcmp_and_strlen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
