/* guest/e820.c: the guest's memory map hides the hypervisor region and stays a valid map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "guest/e820.h"

static struct e820_entry out[E820_MAX_ENTRIES];

static const struct mb2_mmap_entry bochs[] = {
    { 0x0, 0x9F000, 1 }, { 0x9F000, 0x1000, 2 }, { 0xE8000, 0x18000, 2 },
    { 0x100000, 0xFEF0000, 1 }, { 0xFFF0000, 0x10000, 3 }, { 0xFFFC0000, 0x40000, 2 },
};

static void expect_entry(int i, uint64_t base, uint64_t end, uint32_t type)
{
    assert_int_equal(out[i].base, base);
    assert_int_equal(out[i].base + out[i].length, end);
    assert_int_equal(out[i].type, type);
}

static void hides_region_and_hooks(void **state)
{
    (void)state;
    struct phys_range hide[2] = { { 0xFF73000, 0xFFF0000 }, { 0x9E800, 0x9F000 } };
    int n = e820_hide(bochs, 6, hide, 2, out, E820_MAX_ENTRIES);
    assert_int_equal(n, 7);
    expect_entry(0, 0x0, 0x9E800, 1);
    expect_entry(1, 0x9E800, 0xA0000, 2);       /* hook area merged with the EBDA */
    expect_entry(2, 0xE8000, 0x100000, 2);
    expect_entry(3, 0x100000, 0xFF73000, 1);
    expect_entry(4, 0xFF73000, 0xFFF0000, 2);
    expect_entry(5, 0xFFF0000, 0x10000000, 3);
    expect_entry(6, 0xFFFC0000, 0x100000000ull, 2);
}

static void region_inside_ram_splits_entry(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = { { 0x100000, 0x7FF00000, 1 } };
    struct phys_range hide = { 0x7F000000, 0x7F080000 };
    int n = e820_hide(m, 1, &hide, 1, out, E820_MAX_ENTRIES);
    assert_int_equal(n, 3);
    expect_entry(0, 0x100000, 0x7F000000, 1);
    expect_entry(1, 0x7F000000, 0x7F080000, 2);
    expect_entry(2, 0x7F080000, 0x80000000, 1);
}

static void unsorted_overlapping_input(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0x100000, 0x1000000, 1 }, { 0x0, 0x9FC00, 1 }, { 0x800000, 0x100000, 2 },
        { 0x0, 0x0, 1 },
    };
    int n = e820_hide(m, 4, NULL, 0, out, E820_MAX_ENTRIES);
    assert_int_equal(n, 4);
    expect_entry(0, 0x0, 0x9FC00, 1);
    expect_entry(1, 0x100000, 0x800000, 1);
    expect_entry(2, 0x800000, 0x900000, 2);      /* reserved wins over usable */
    expect_entry(3, 0x900000, 0x1100000, 1);
}

static void hide_outside_memory_adds_nothing(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = { { 0x100000, 0x100000, 1 } };
    struct phys_range hide = { 0x400000, 0x500000 };
    int n = e820_hide(m, 1, &hide, 1, out, E820_MAX_ENTRIES);
    assert_int_equal(n, 1);
    expect_entry(0, 0x100000, 0x200000, 1);
}

static void too_many_entries(void **state)
{
    (void)state;
    static struct mb2_mmap_entry m[40];
    for (int i = 0; i < 40; i++)
        m[i] = (struct mb2_mmap_entry){ (uint64_t)i << 21, 1 << 20, (uint32_t)(1 + i % 2) };
    assert_int_equal(e820_hide(m, 40, NULL, 0, out, 10), -1);
    assert_int_equal(e820_hide(m, 40, NULL, 0, out, 40), 40);
}

static void legacy_sizes(void **state)
{
    (void)state;
    struct phys_range hide = { 0xFF73000, 0xFFF0000 };
    int n = e820_hide(bochs, 6, &hide, 1, out, E820_MAX_ENTRIES);
    uint16_t ax, bx, k88;
    e820_legacy_sizes(out, n, &ax, &bx, &k88);
    assert_int_equal(ax, 15 * 1024);                              /* 1..16 MiB */
    assert_int_equal(bx, (0xFF73000 - 0x1000000) >> 16);          /* 64 KiB blocks to the region */
    assert_true(0x1000000 + ((uint64_t)bx << 16) <= 0xFF73000);
    assert_int_equal(k88, 0xFFFF);
    /* Small machine: 8 MiB of RAM. */
    static const struct mb2_mmap_entry small[] = { { 0, 0x9F000, 1 }, { 0x100000, 0x700000, 1 } };
    n = e820_hide(small, 2, NULL, 0, out, E820_MAX_ENTRIES);
    e820_legacy_sizes(out, n, &ax, &bx, &k88);
    assert_int_equal(ax, 7 * 1024);
    assert_int_equal(bx, 0);
    assert_int_equal(k88, 7 * 1024);
}

/*
 * Found by tests/fuzz/fuzz_e820.c: an entry of the undefined type 0 over usable RAM
 * erased that RAM from the map when it came after the usable entry, and did nothing
 * when it came before. It must do nothing in either order.
 */
static void type0_entry_ignored_in_any_order(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry after[] = { { 0x100000, 0x100000, 1 }, { 0x0, 0x400000, 0 } };
    static const struct mb2_mmap_entry before[] = { { 0x0, 0x400000, 0 }, { 0x100000, 0x100000, 1 } };
    assert_int_equal(e820_hide(after, 2, NULL, 0, out, E820_MAX_ENTRIES), 1);
    expect_entry(0, 0x100000, 0x200000, 1);
    assert_int_equal(e820_hide(before, 2, NULL, 0, out, E820_MAX_ENTRIES), 1);
    expect_entry(0, 0x100000, 0x200000, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hides_region_and_hooks),
        cmocka_unit_test(region_inside_ram_splits_entry),
        cmocka_unit_test(unsorted_overlapping_input),
        cmocka_unit_test(hide_outside_memory_adds_nothing),
        cmocka_unit_test(too_many_entries),
        cmocka_unit_test(legacy_sizes),
        cmocka_unit_test(type0_entry_ignored_in_any_order),
    };
    return cmocka_run_group_tests_name("e820", tests, NULL, NULL);
}
