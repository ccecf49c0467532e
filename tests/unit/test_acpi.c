/* kernel/acpi.c: finding the RSDP, walking RSDT/XSDT to the MADT, checksums, processor lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/acpi.h"
#include "tests/unit/acpi_fixture.h"

#define RSDP_AT 0xF5A30
#define RSDT_AT 0x10000
#define XSDT_AT 0x11000
#define FACP_AT 0x12000
#define MADT_AT 0x13000

static struct acpi_madt_info info;
static char err[200];

/* A machine like QEMU's with `n` processors: RSDP rev 0 -> RSDT -> FACP, MADT. */
static void build_machine(int revision, int n)
{
    fx_header(mem->bytes + FACP_AT, "FACP", 116);
    fx_checksum(mem->bytes + FACP_AT);
    struct fx_madt t = fx_madt_begin(mem, MADT_AT, 0xFEE00000);
    for (int i = 0; i < n; i++)
        fx_madt_lapic(&t, (uint8_t)i, (uint8_t)i, MADT_CPU_ENABLED);
    fx_madt_ioapic(&t, 0, 0xFEC00000);
    fx_madt_end(&t);
    uint64_t tables[] = { FACP_AT, MADT_AT };
    fx_root(mem, RSDT_AT, 0, tables, 2);
    fx_root(mem, XSDT_AT, 1, tables, 2);
    fx_rsdp(mem, RSDP_AT, revision, RSDT_AT, XSDT_AT);
}

static int read_madt(uint64_t rsdp)
{
    err[0] = '\0';
    return acpi_read_madt(fake_map, mem, rsdp, &info, err, sizeof err);
}

static void expect_error(const char *fragment)
{
    assert_int_equal(read_madt(RSDP_AT), -1);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not mention '%s'", err, fragment);
}

static void rsdt_machine(void **state)
{
    (void)state;
    build_machine(0, 4);
    assert_int_equal(read_madt(RSDP_AT), 0);
    assert_int_equal(info.revision, 0);
    assert_string_equal(info.oem_id, "THINVS");
    assert_int_equal(info.madt_phys, MADT_AT);
    assert_int_equal(info.lapic_phys, 0xFEE00000);
    assert_int_equal(info.cpu_count, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(info.cpus[i].apic_id, i);
        assert_true(info.cpus[i].enabled);
        assert_false(info.cpus[i].from_x2apic_entry);
    }
}

static void xsdt_preferred(void **state)
{
    (void)state;
    build_machine(2, 2);
    /* Break the RSDT: with an XSDT present it must not be read at all. */
    mem->bytes[RSDT_AT + 9] ^= 0xFF;
    assert_int_equal(read_madt(RSDP_AT), 0);
    assert_int_equal(info.revision, 2);
    assert_int_equal(info.cpu_count, 2);
}

static void scan_finds_rsdp(void **state)
{
    (void)state;
    build_machine(0, 1);
    assert_int_equal(acpi_scan_rsdp(fake_map, mem), RSDP_AT);
    /* In the EBDA first: segment 0x9FC0 at 0x40E. */
    put16(mem->bytes + 0x40E, 0x9FC0);
    fx_rsdp(mem, 0x9FC00 + 0x40, 2, RSDT_AT, XSDT_AT);
    assert_int_equal(acpi_scan_rsdp(fake_map, mem), 0x9FC40);
    /* A signature with a bad checksum is passed over. */
    mem->bytes[0x9FC40 + 8] ^= 1;
    assert_int_equal(acpi_scan_rsdp(fake_map, mem), RSDP_AT);
    memset(mem->bytes + RSDP_AT, 0, 36);
    assert_int_equal(acpi_scan_rsdp(fake_map, mem), 0);
}

static void rsdp_checks(void **state)
{
    (void)state;
    build_machine(2, 1);
    uint8_t *r = mem->bytes + RSDP_AT;
    assert_int_equal(acpi_rsdp_check(r, 36, err, sizeof err), 0);
    assert_int_equal(acpi_rsdp_check(r, 20, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    r[32] ^= 1;
    assert_int_equal(acpi_rsdp_check(r, 36, err, sizeof err), -1);
    assert_non_null(strstr(err, "extended checksum"));
    r[32] ^= 1;
    r[8] ^= 1;
    assert_int_equal(acpi_rsdp_check(r, 36, err, sizeof err), -1);
    assert_non_null(strstr(err, "RSDP checksum"));
    r[0] = 'X';
    assert_int_equal(acpi_rsdp_check(r, 36, err, sizeof err), -1);
    assert_non_null(strstr(err, "signature"));
}

static void corrupt_tables_named(void **state)
{
    (void)state;
    build_machine(0, 2);
    mem->bytes[MADT_AT + 20] ^= 0x55;
    expect_error("APIC at 0x13000 has a bad checksum");

    build_machine(0, 2);
    mem->bytes[RSDT_AT + 20] ^= 0x55;
    expect_error("RSDT at 0x10000 has a bad checksum");

    build_machine(2, 2);
    mem->bytes[XSDT_AT + 20] ^= 0x55;
    expect_error("XSDT at 0x11000 has a bad checksum");

    build_machine(0, 2);
    mem->bytes[RSDP_AT + 8] ^= 1;
    expect_error("RSDP checksum");

    build_machine(0, 2);
    memcpy(mem->bytes + RSDT_AT, "XXXX", 4);
    expect_error("signature 'XXXX', expected RSDT");
}

static void lengths_checked(void **state)
{
    (void)state;
    build_machine(0, 2);
    put32(mem->bytes + MADT_AT + 4, 0xFFFFFF);           /* claims 16 MiB */
    fx_checksum(mem->bytes + RSDT_AT);
    expect_error("invalid length");

    build_machine(0, 2);
    put32(mem->bytes + RSDT_AT, 0);
    memcpy(mem->bytes + RSDT_AT, "RSDT", 4);
    put32(mem->bytes + RSDT_AT + 4, 36);                 /* no entries */
    fx_checksum(mem->bytes + RSDT_AT);
    expect_error("no MADT");

    /* A table placed where it runs off the end of memory. */
    build_machine(0, 2);
    uint64_t tables[] = { FAKE_MEM_SIZE - 8 };
    fx_root(mem, RSDT_AT, 0, tables, 1);
    memcpy(mem->bytes + FAKE_MEM_SIZE - 8, "APIC", 4);
    expect_error("cannot be read");
}

static void madt_entries_checked(void **state)
{
    (void)state;
    build_machine(0, 2);
    mem->bytes[MADT_AT + 44 + 1] = 0;                     /* first entry length 0 */
    fx_checksum(mem->bytes + MADT_AT);
    expect_error("invalid length 0");

    build_machine(0, 2);
    mem->bytes[MADT_AT + 44 + 1] = 200;                   /* runs past the table */
    fx_checksum(mem->bytes + MADT_AT);
    expect_error("invalid length 200");

    build_machine(0, 2);
    mem->bytes[MADT_AT + 44 + 1] = 6;                     /* too short for a LAPIC entry */
    fx_checksum(mem->bytes + MADT_AT);
    expect_error("too short");
}

static void flags_and_x2apic(void **state)
{
    (void)state;
    struct fx_madt t = fx_madt_begin(mem, MADT_AT, 0xFEE00000);
    fx_madt_lapic(&t, 0, 0, MADT_CPU_ENABLED);
    fx_madt_lapic(&t, 1, 2, 0);                            /* disabled: ignored */
    fx_madt_lapic(&t, 2, 4, MADT_CPU_ONLINE_CAPABLE);      /* hot-pluggable: listed */
    fx_madt_x2apic(&t, 3, 300, MADT_CPU_ENABLED);          /* APIC ID beyond 255 */
    fx_madt_x2apic(&t, 0, 0, MADT_CPU_ENABLED);            /* duplicate of the first */
    fx_madt_override(&t, 0xFED00000);
    fx_madt_end(&t);
    uint64_t tables[] = { MADT_AT };
    fx_root(mem, RSDT_AT, 0, tables, 1);
    fx_rsdp(mem, RSDP_AT, 0, RSDT_AT, 0);
    assert_int_equal(read_madt(RSDP_AT), 0);
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.cpus_disabled, 1);
    assert_false(info.cpus[1].enabled);
    assert_true(info.cpus[1].online_capable);
    assert_int_equal(info.cpus[2].apic_id, 300);
    assert_true(info.cpus[2].from_x2apic_entry);
    assert_int_equal(info.lapic_phys, 0xFED00000);
}

static void too_many_cpus_counted(void **state)
{
    (void)state;
    struct fx_madt t = fx_madt_begin(mem, MADT_AT, 0xFEE00000);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 3; i++)
        fx_madt_x2apic(&t, i, i, MADT_CPU_ENABLED);
    fx_madt_end(&t);
    uint64_t tables[] = { MADT_AT };
    fx_root(mem, RSDT_AT, 0, tables, 1);
    fx_rsdp(mem, RSDP_AT, 0, RSDT_AT, 0);
    assert_int_equal(read_madt(RSDP_AT), 0);
    assert_int_equal(info.cpu_count, ACPI_MAX_CPUS);
    assert_int_equal(info.cpus_dropped, 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_mem_setup, fx_mem_teardown)
    const struct CMUnitTest tests[] = {
        T(rsdt_machine), T(xsdt_preferred), T(scan_finds_rsdp), T(rsdp_checks),
        T(corrupt_tables_named), T(lengths_checked), T(madt_entries_checked),
        T(flags_and_x2apic), T(too_many_cpus_counted),
    };
    return cmocka_run_group_tests_name("acpi", tests, NULL, NULL);
}
