/* mm/region.c: where the hypervisor region goes, and what it must hold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "mm/region.h"

#define KIB 1024ull

/* QEMU -m 2048: RAM up to 0x7FFE0000, reserved tail. */
static const struct mb2_mmap_entry qemu_2g[] = {
    { 0x0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xF0000, 0x10000, 2 },
    { 0x100000, 0x7FEE0000, 1 }, { 0x7FFE0000, 0x20000, 2 }, { 0xFFFC0000, 0x40000, 2 },
    { 0xFD00000000ull, 0x300000000ull, 2 },
};

/* A real machine with 16 GiB: RAM below the PCI hole and remapped above 4 GiB. */
static const struct mb2_mmap_entry desktop_16g[] = {
    { 0x0, 0x9D000, 1 }, { 0x9D000, 0x3000, 2 }, { 0xE0000, 0x20000, 2 },
    { 0x100000, 0x7FF00000, 1 }, { 0x80000000, 0x10000000, 2 },
    { 0x90000000, 0x4A000000, 1 }, { 0xDA000000, 0x1000000, 3 },
    { 0xDB000000, 0x1000000, 4 }, { 0xDC000000, 0x24000000, 2 },
    { 0x100000000ull, 0x320000000ull, 1 },
};

static uint64_t choose(const struct mb2_mmap_entry *m, uint32_t n, const struct phys_range *x,
                       uint32_t nx, uint64_t size, int expect_ok, uint64_t *largest)
{
    struct region_request r = { m, n, x, nx, size, 4096 };
    uint64_t base = 0, big = 0;
    assert_int_equal(region_choose(&r, &base, &big), expect_ok ? 0 : -1);
    if (largest)
        *largest = big;
    return base;
}

static void top_of_ram_below_4g(void **state)
{
    (void)state;
    uint64_t base = choose(qemu_2g, 7, NULL, 0, 200 * KIB, 1, NULL);
    assert_int_equal(base + 200 * KIB, 0x7FFE0000);
    base = choose(desktop_16g, 10, NULL, 0, 1 * MIB, 1, NULL);
    assert_int_equal(base, 0xDA000000 - MIB);       /* below the ACPI tables, under 4 GiB */
}

static void alignment(void **state)
{
    (void)state;
    struct region_request r = { qemu_2g, 7, NULL, 0, 100 * KIB, 2 * MIB };
    uint64_t base, big;
    assert_int_equal(region_choose(&r, &base, &big), 0);
    assert_int_equal(base % (2 * MIB), 0);
    assert_true(base + 100 * KIB <= 0x7FFE0000);
    assert_true(base + 2 * MIB > 0x7FFE0000 - 100 * KIB);
}

static void avoids_exclusions(void **state)
{
    (void)state;
    /* Modules near the top of RAM: the region goes above or below them, never across. */
    struct phys_range x[] = { { 0x7FF00000, 0x7FF10000 }, { 0x7FE00000, 0x7FE00001 } };
    uint64_t base = choose(qemu_2g, 7, x, 2, 64 * KIB, 1, NULL);
    assert_int_equal(base, 0x7FFE0000 - 64 * KIB);
    /* Too big for either gap above the modules: goes below the lower one. */
    base = choose(qemu_2g, 7, x, 2, 1 * MIB, 1, NULL);
    assert_int_equal(base + MIB, 0x7FE00000);
}

static void never_low_megabyte_or_reserved(void **state)
{
    (void)state;
    /* Only the low 1 MiB and a reserved-overlapped block are usable. */
    static const struct mb2_mmap_entry m[] = {
        { 0x0, 0x9FC00, 1 }, { 0x100000, 0x100000, 1 }, { 0x180000, 0x1000, 2 },
    };
    uint64_t largest;
    choose(m, 3, NULL, 0, 0x80000 + 4096, 0, &largest);
    assert_int_equal(largest, 0x80000);                /* 0x100000..0x180000 */
    uint64_t base = choose(m, 3, NULL, 0, 0x7F000, 1, NULL);
    assert_int_equal(base, 0x181000);
}

static void overlapping_reserved_wins(void **state)
{
    (void)state;
    /* Firmware maps that overlap: reserved inside usable is never handed out. */
    static const struct mb2_mmap_entry m[] = {
        { 0x100000, 0x3FF00000, 1 }, { 0x3FF00000, 0x100000, 2 },
    };
    uint64_t base = choose(m, 2, NULL, 0, 256 * KIB, 1, NULL);
    assert_int_equal(base + 256 * KIB, 0x3FF00000);
}

static void adjacent_usable_entries_merge(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0x100000, 0x100000, 1 }, { 0x200000, 0x100000, 1 },
    };
    uint64_t base = choose(m, 2, NULL, 0, 0x180000, 1, NULL);
    assert_int_equal(base, 0x180000);
}

static void not_enough_memory(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = { { 0x0, 0x9FC00, 1 }, { 0x100000, 0x40000, 1 } };
    uint64_t largest;
    choose(m, 2, NULL, 0, 1 * MIB, 0, &largest);
    assert_int_equal(largest, 0x40000);
    choose(m, 2, NULL, 0, 0, 0, NULL);           /* a zero-sized request is refused */
    choose(NULL, 0, NULL, 0, 4096, 0, NULL);     /* an empty map has no room */
}

static void ignores_ram_above_4g(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = { { 0x100000000ull, 0x100000000ull, 1 } };
    choose(m, 1, NULL, 0, 4096, 0, NULL);
}

static void wrapping_length(void **state)
{
    (void)state;
    static const struct mb2_mmap_entry m[] = {
        { 0x100000, 0x1000000, 1 }, { 0x800000, UINT64_MAX, 2 },
    };
    uint64_t base = choose(m, 2, NULL, 0, 4096, 1, NULL);
    assert_int_equal(base, 0x7FF000);
}

static void phys_top(void **state)
{
    (void)state;
    assert_int_equal(region_phys_top(qemu_2g, 7), 4 * GIB);   /* QEMU's reserved hole ignored */
    assert_int_equal(region_phys_top(desktop_16g, 10), 0x420000000ull);
}

static void budget(void **state)
{
    (void)state;
    struct region_budget b;
    region_budget(&b, 120 * KIB + 1, 4 * GIB, 1, 4, 20 * KIB, 8 * KIB + 1);
    assert_int_equal(b.image, 124 * KIB);
    assert_int_equal(b.per_cpu, 80 * KIB);
    /* PML4, one PDPT, image PDPT + PD + one PT */
    assert_int_equal(b.page_tables, 5 * 4096);
    assert_int_equal(b.shared, 12 * KIB);
    assert_int_equal(b.total, b.image + b.page_tables + b.per_cpu + b.shared);
    region_budget(&b, 120 * KIB, 4 * GIB, 0, 1, 20 * KIB, 0);
    assert_int_equal(b.page_tables, (5 + 4) * 4096);          /* four PDs of 2 MiB pages */
    region_budget(&b, 3 * MIB, 16 * GIB + 1, 0, 1, 4096, 0);
    assert_int_equal(b.page_tables, (1 + 1 + 17 + 2 + 2) * 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(top_of_ram_below_4g),
        cmocka_unit_test(alignment),
        cmocka_unit_test(avoids_exclusions),
        cmocka_unit_test(never_low_megabyte_or_reserved),
        cmocka_unit_test(overlapping_reserved_wins),
        cmocka_unit_test(adjacent_usable_entries_merge),
        cmocka_unit_test(not_enough_memory),
        cmocka_unit_test(ignores_ram_above_4g),
        cmocka_unit_test(wrapping_length),
        cmocka_unit_test(phys_top),
        cmocka_unit_test(budget),
    };
    return cmocka_run_group_tests_name("region", tests, NULL, NULL);
}
