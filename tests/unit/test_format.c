/* kernel/format.c against the host's snprintf, which implements the same C99 rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/format.h"

/* Formats with both implementations and checks text and return value agree. */
#define SAME(fmt, ...)                                                     \
    do {                                                                   \
        char ours[256], libc[256];                                         \
        int a = fmt_snprintf(ours, sizeof ours, fmt, __VA_ARGS__);         \
        int b = snprintf(libc, sizeof libc, fmt, __VA_ARGS__);             \
        assert_string_equal(ours, libc);                                   \
        assert_int_equal(a, b);                                            \
    } while (0)

static void integers(void **state)
{
    (void)state;
    SAME("%d %i %u", 0, -1, 42u);
    SAME("%d", INT32_MIN);
    SAME("%lld", (long long)INT64_MIN);
    SAME("%llu", (unsigned long long)UINT64_MAX);
    SAME("%ld %lu", -123456789L, 123456789UL);
    SAME("%zu", (size_t)77);
    SAME("%hhu %hd", 300, 70000);
    SAME("%+d % d %+d", 5, 5, -5);
}

static void hex_and_octal(void **state)
{
    (void)state;
    SAME("%x %X %o", 0xdeadbeefu, 0xdeadbeefu, 8u);
    SAME("%#x %#X %#o", 255u, 255u, 8u);
    SAME("%#x %#o", 0u, 0u);
    SAME("%016llx", 0x1234ull);
    SAME("%#018llx", 0x1234ull);
    SAME("%llx", 0xFFFFFFFF80000000ull);
}

static void width_precision(void **state)
{
    (void)state;
    SAME("[%5d] [%-5d] [%05d]", 42, 42, 42);
    SAME("[%.3d] [%8.3d] [%-8.3d]", 7, 7, -7);
    SAME("[%.0d] [%.0x]", 0, 0u);
    SAME("[%*d] [%-*d]", 6, 1, 6, 1);
    SAME("[%.*s]", 3, "abcdef");
    SAME("[%10s] [%-10s]", "hi", "hi");
    SAME("[%c] [%3c] [%-3c]", 'x', 'y', 'z');
    SAME("%05d", -42);
    SAME("%s %s", "", "text");
    SAME("100%% %d", 1);
}

static void truncation(void **state)
{
    (void)state;
    char buf[8];
    int n = fmt_snprintf(buf, sizeof buf, "%s", "0123456789");
    assert_int_equal(n, 10);
    assert_string_equal(buf, "0123456");
    n = fmt_snprintf(buf, 1, "%d", 12345);
    assert_int_equal(n, 5);
    assert_string_equal(buf, "");
    assert_int_equal(fmt_snprintf(NULL, 0, "%d", 123), 3);
}

/* Calls through a pointer so the compiler's format checks do not reject the bad formats. */
static int (*const fmt_unchecked)(char *, size_t, const char *, ...) = fmt_snprintf;

static void odd_input(void **state)
{
    (void)state;
    char buf[32];
    const char *volatile null_str = NULL;
    fmt_unchecked(buf, sizeof buf, "%s", null_str);
    assert_string_equal(buf, "(null)");
    fmt_unchecked(buf, sizeof buf, "a%qb");      /* unknown conversion shown as is */
    assert_string_equal(buf, "a%qb");
    fmt_unchecked(buf, sizeof buf, "end%");      /* a lone % at the end is dropped */
    assert_string_equal(buf, "end");
    fmt_snprintf(buf, sizeof buf, "%p", (void *)0x1000);
    assert_string_equal(buf, "0x1000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers),
        cmocka_unit_test(hex_and_octal),
        cmocka_unit_test(width_precision),
        cmocka_unit_test(truncation),
        cmocka_unit_test(odd_input),
    };
    return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
