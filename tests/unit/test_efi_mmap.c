/* efi/mmap.c: the firmware's memory map as the E820-style map thinvisor reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "efi/mmap.h"

static struct mb2_info info;

/* Descriptors 48 bytes apart, as OVMF lays them out (UEFI 2.x adds no fields but pads). */
#define STRIDE 48
static uint8_t map[STRIDE * 200];

static size_t put(size_t i, uint32_t type, uint64_t base, uint64_t pages)
{
    struct efi_memory_descriptor d = { .type = type, .physical_start = base,
                                       .number_of_pages = pages };
    memcpy(map + i * STRIDE, &d, sizeof d);
    return (i + 1) * STRIDE;
}

static void types(void **state)
{
    (void)state;
    assert_int_equal(efi_memory_type_to_e820(7), MB2_MEMORY_AVAILABLE);
    assert_int_equal(efi_memory_type_to_e820(4), MB2_MEMORY_AVAILABLE);
    assert_int_equal(efi_memory_type_to_e820(1), MB2_MEMORY_AVAILABLE);
    assert_int_equal(efi_memory_type_to_e820(0), MB2_MEMORY_RESERVED);
    assert_int_equal(efi_memory_type_to_e820(6), MB2_MEMORY_RESERVED);   /* runtime data */
    assert_int_equal(efi_memory_type_to_e820(11), MB2_MEMORY_RESERVED);  /* MMIO */
    assert_int_equal(efi_memory_type_to_e820(9), MB2_MEMORY_ACPI);
    assert_int_equal(efi_memory_type_to_e820(10), MB2_MEMORY_NVS);
    assert_int_equal(efi_memory_type_to_e820(8), MB2_MEMORY_BADRAM);
    assert_int_equal(efi_memory_type_to_e820(0x80000000u), MB2_MEMORY_RESERVED);  /* OEM */
}

static void merges_adjacent_ranges_of_one_kind(void **state)
{
    (void)state;
    size_t n = put(0, 3, 0x0, 0xA0);              /* boot services code */
    n = put(1, 7, 0xA0000 - 0x0, 0);              /* empty: skipped */
    n = put(2, 0, 0xA0000, 0x60);                 /* reserved: legacy hole */
    n = put(3, 7, 0x100000, 0x700);               /* conventional */
    n = put(4, 2, 0x800000, 0x100);               /* loader data: merges */
    n = put(5, 6, 0x900000, 0x10);                /* runtime data */
    n = put(6, 10, 0x910000, 0x10);               /* ACPI NVS */
    n = put(7, 7, 0x1000000, 0x1000);             /* not adjacent: new entry */
    assert_int_equal(efi_mmap_to_mb2(map, n, STRIDE, &info), 6);
    assert_true(info.has_mmap);
    assert_int_equal(info.mmap[0].base, 0);
    assert_int_equal(info.mmap[0].length, 0xA0000);
    assert_int_equal(info.mmap[1].type, MB2_MEMORY_RESERVED);
    assert_int_equal(info.mmap[2].base, 0x100000);
    assert_int_equal(info.mmap[2].length, 0x800000);
    assert_int_equal(info.mmap[2].type, MB2_MEMORY_AVAILABLE);
    assert_int_equal(info.mmap[4].type, MB2_MEMORY_NVS);
    assert_int_equal(info.mmap[5].base, 0x1000000);
    assert_int_equal(info.mmap_dropped, 0);
}

static void refuses_short_stride_and_counts_overflow(void **state)
{
    (void)state;
    assert_int_equal(efi_mmap_to_mb2(map, STRIDE, 39, &info), -1);
    size_t n = 0;
    for (size_t i = 0; i < MB2_MAX_MMAP + 5; i++)        /* alternating kinds: no merging */
        n = put(i, i % 2 ? 0 : 7, i * 0x1000, 1);
    assert_int_equal(efi_mmap_to_mb2(map, n, STRIDE, &info), MB2_MAX_MMAP);
    assert_int_equal(info.mmap_dropped, 5);
    /* A page count whose size overflows is skipped, a partial trailing descriptor ignored. */
    n = put(0, 7, 0, UINT64_MAX);
    assert_int_equal(efi_mmap_to_mb2(map, n + 20, STRIDE, &info), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types),
        cmocka_unit_test(merges_adjacent_ranges_of_one_kind),
        cmocka_unit_test(refuses_short_stride_and_counts_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
