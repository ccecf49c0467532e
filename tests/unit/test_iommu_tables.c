/* kernel/iommu_tables.c: the DMAR and IVRS found through the RSDP, their units and ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/iommu_tables.h"
#include "tests/unit/acpi_fixture.h"

#define RSDP_AT  0xF5A30
#define RSDT_AT  0x10000
#define FACP_AT  0x12000
#define TABLE_AT 0x14000

static struct iommu_tables info;
static char err[200];

/* Fresh memory with a FACP for the RSDT to list beside the table under test. */
static int setup(void **state)
{
    if (fx_mem_setup(state))
        return -1;
    fx_header(mem->bytes + FACP_AT, "FACP", 116);
    fx_checksum(mem->bytes + FACP_AT);
    return 0;
}

/* The RSDT lists the FACP and, when `with_table`, the table at TABLE_AT. */
static int read_tables(int with_table)
{
    uint64_t tables[] = { FACP_AT, TABLE_AT };
    fx_root(mem, RSDT_AT, 0, tables, with_table ? 2 : 1);
    fx_rsdp(mem, RSDP_AT, 0, RSDT_AT, 0);
    err[0] = '\0';
    return iommu_read_tables(fake_map, mem, RSDP_AT, &info, err, sizeof err);
}

static void expect_error(const char *fragment)
{
    assert_int_equal(read_tables(1), -1);
    if (!strstr(err, fragment))
        fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
}

static void none_without_tables(void **state)
{
    (void)state;
    assert_int_equal(read_tables(0), 0);
    assert_int_equal(info.kind, IOMMU_NONE);
    assert_string_equal(iommu_kind_name(info.kind), "none");
}

/* A DMAR as QEMU's q35 with intel-iommu writes it, plus a second unit and an RMRR. */
static void dmar_units_and_rmrr(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, 0, 0, 0xFED91000);
    fx_dmar_rmrr(&t, 0, 0x7F000000, 0x7F0FFFFF);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90000);
    fx_iommu_end(&t);
    assert_int_equal(read_tables(1), 1);
    assert_int_equal(info.kind, IOMMU_VTD);
    assert_int_equal(info.table_phys, TABLE_AT);
    assert_int_equal(info.address_bits, 39);
    assert_int_equal(info.unit_count, 2);
    assert_int_equal(info.units[0].reg_base, 0xFED91000);
    assert_false(info.units[0].all_devices);
    assert_int_equal(info.units[1].reg_base, 0xFED90000);
    assert_true(info.units[1].all_devices);
    assert_int_equal(info.range_count, 1);
    assert_int_equal(info.ranges[0].base, 0x7F000000);
    assert_int_equal(info.ranges[0].limit, 0x7F0FFFFF);
    assert_string_equal(iommu_kind_name(info.kind), "VT-d (DMAR)");
}

/* One IOMMU listed as IVHD 10h and 11h (as QEMU's amd-iommu does) counts once. */
static void ivrs_units_deduplicated(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "IVRS", 0x2800);
    fx_ivrs_ivhd(&t, IVRS_IVHD_10, 0x0010, 0xFED80000, 0);
    fx_ivrs_ivhd(&t, IVRS_IVHD_11, 0x0010, 0xFED80000, 0);
    fx_ivrs_ivmd(&t, IVMD_FLAG_UNITY | 6, 0x7E000000, 0x10000);
    fx_ivrs_ivmd(&t, 0, 0x7D000000, 0x1000);          /* not unity-mapped: not a range */
    fx_iommu_end(&t);
    assert_int_equal(read_tables(1), 1);
    assert_int_equal(info.kind, IOMMU_AMD_VI);
    assert_int_equal(info.address_bits, 40);
    assert_int_equal(info.unit_count, 1);
    assert_int_equal(info.units[0].reg_base, 0xFED80000);
    assert_int_equal(info.units[0].device_id, 0x0010);
    assert_int_equal(info.range_count, 1);
    assert_int_equal(info.ranges[0].base, 0x7E000000);
    assert_int_equal(info.ranges[0].limit, 0x7E00FFFF);
}

static void bad_checksum_named(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90000);
    fx_iommu_end(&t);
    mem->bytes[TABLE_AT + 9]++;
    expect_error("DMAR at 0x14000 has a bad checksum");
}

static void structure_lengths_checked(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90000);
    put16(t.p + 48 + 2, 200);                    /* longer than the table */
    fx_iommu_end(&t);
    expect_error("DMAR structure at offset 48 (type 0) has invalid length 200");

    t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90000);
    put16(t.p + 48 + 2, 8);                      /* too short to hold a register base */
    fx_iommu_end(&t);
    expect_error("remapping unit at offset 48 is too short (8)");

    t = fx_iommu_begin(mem, TABLE_AT, "IVRS", 0);
    fx_ivrs_ivhd(&t, IVRS_IVHD_10, 0x10, 0xFED80000, 0);
    put16(t.p + 48 + 2, 2);                      /* shorter than a block header */
    fx_iommu_end(&t);
    expect_error("IVRS block at offset 48 (type 0x10) has invalid length 2");

    t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    t.p[t.len] = 0;                              /* 2 bytes left: no room for a header */
    t.len += 2;
    fx_iommu_end(&t);
    expect_error("DMAR structure at offset 48 is truncated");
}

/* What thinvisor would program must be whole pages; a table without units is no table. */
static void addresses_and_contents_checked(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90800);
    fx_iommu_end(&t);
    expect_error("register base 0xfed90800 (not a page)");

    t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_drhd(&t, DMAR_DRHD_INCLUDE_ALL, 0, 0xFED90000);
    fx_dmar_rmrr(&t, 0, 0x7F000000, 0x7F000FFE);
    fx_iommu_end(&t);
    expect_error("reserved memory region at offset 64 covers 0x7f000000-0x7f000ffe");

    t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    fx_dmar_rmrr(&t, 0, 0x7F000000, 0x7F000FFF);
    fx_iommu_end(&t);
    expect_error("DMAR lists no remapping unit");

    t = fx_iommu_begin(mem, TABLE_AT, "IVRS", 0);
    fx_ivrs_ivhd(&t, IVRS_IVHD_10, 0x10, 0xFED80000, 0);
    fx_ivrs_ivmd(&t, IVMD_FLAG_UNITY, 0xFFFFFFFFFFFFF000ull, 0x2000);
    fx_iommu_end(&t);
    expect_error("unity-mapped block at offset 72 has size 0x2000 at 0xfffffffffffff000");
}

static void too_many_units_counted(void **state)
{
    (void)state;
    struct fx_iommu t = fx_iommu_begin(mem, TABLE_AT, "DMAR", 38);
    for (uint32_t i = 0; i < IOMMU_MAX_UNITS + 2; i++)
        fx_dmar_drhd(&t, 0, 0, 0xFE000000 + 0x1000ull * i);
    fx_iommu_end(&t);
    assert_int_equal(read_tables(1), 1);
    assert_int_equal(info.unit_count, IOMMU_MAX_UNITS);
    assert_int_equal(info.units_dropped, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, fx_mem_teardown)
    const struct CMUnitTest tests[] = {
        T(none_without_tables), T(dmar_units_and_rmrr), T(ivrs_units_deduplicated),
        T(bad_checksum_named), T(structure_lengths_checked), T(addresses_and_contents_checked),
        T(too_many_units_counted),
    };
    return cmocka_run_group_tests_name("iommu_tables", tests, NULL, NULL);
}
