/* mm/page_alloc.c: pages come from the region only, once each, and can be returned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm/page_alloc.h"

static struct page_alloc a;

static void allocates_every_page_once(void **state)
{
    (void)state;
    page_alloc_init(&a, 0x7FF00000, 16 * 4096 + 100);    /* the partial page is not used */
    assert_int_equal(a.npages, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(page_alloc_one(&a), 0x7FF00000 + i * 4096);
    assert_int_equal(page_alloc_one(&a), 0);
    assert_int_equal(a.used, 16);
}

static void contiguous_runs(void **state)
{
    (void)state;
    page_alloc_init(&a, 0x100000, 8 * 4096);
    uint64_t p0 = page_alloc_one(&a);
    uint64_t run = page_alloc_pages(&a, 4);
    assert_int_equal(run, p0 + 4096);
    page_free_pages(&a, p0, 1);
    /* The hole at page 0 is too small for a run of 2: it comes from the end. */
    assert_int_equal(page_alloc_pages(&a, 2), 0x100000 + 5 * 4096);
    assert_int_equal(page_alloc_one(&a), 0x100000);
    assert_int_equal(page_alloc_pages(&a, 2), 0);
    assert_int_equal(page_alloc_pages(&a, 0), 0);
    assert_int_equal(page_alloc_pages(&a, 100), 0);
}

static void free_and_high_water(void **state)
{
    (void)state;
    page_alloc_init(&a, 0x200000, 4 * 4096);
    uint64_t p = page_alloc_pages(&a, 3);
    assert_int_equal(a.high_water, 3);
    page_free_pages(&a, p, 3);
    assert_int_equal(a.used, 0);
    assert_int_equal(a.high_water, 3);
    page_free_pages(&a, p, 3);                 /* double free: ignored */
    assert_int_equal(a.used, 0);
    page_free_pages(&a, 0x1000, 1);            /* not ours: ignored */
    page_free_pages(&a, p + 12, 1);            /* not page-aligned: ignored */
    assert_int_equal(page_alloc_pages(&a, 4), 0x200000);
}

static void capped_size(void **state)
{
    (void)state;
    page_alloc_init(&a, 0, (uint64_t)PAGE_ALLOC_MAX_PAGES * 4096 * 2);
    assert_int_equal(a.npages, PAGE_ALLOC_MAX_PAGES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocates_every_page_once),
        cmocka_unit_test(contiguous_runs),
        cmocka_unit_test(free_and_high_water),
        cmocka_unit_test(capped_size),
    };
    return cmocka_run_group_tests_name("page_alloc", tests, NULL, NULL);
}
