/* kernel/acpi_sleep.c: the FADT's sleep registers, the FACS, and \_S3 found in the DSDT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/acpi_sleep.h"
#include "tests/unit/acpi_fixture.h"

#define RSDP_AT 0xF5A30
#define RSDT_AT 0x10000
#define FADT_AT 0x12000
#define FACS_AT 0x13000
#define DSDT_AT 0x14000

static struct acpi_sleep info;
static char err[200];

/* QEMU's DSDT has Name (_S3, Package (0x04) {One, One, Zero, Zero}). */
static const uint8_t qemu_s3[] = { 0x08, '_', 'S', '3', '_', 0x12, 0x06, 0x04, 0x01, 0x01,
                                   0x00, 0x00 };
/* Firmware elsewhere: Name (\_S3, Package () {0x05, 0x05, 0, 0}), BytePrefix values. */
static const uint8_t rooted_s3[] = { 0x08, '\\', '_', 'S', '3', '_', 0x12, 0x0A, 0x04, 0x0A,
                                     0x05, 0x0A, 0x05, 0x00, 0x00 };

/* A DSDT holding `aml` after some unrelated AML (a Scope's first bytes). */
static void build_dsdt(const uint8_t *aml, size_t n)
{
    uint8_t *p = mem->bytes + DSDT_AT;
    static const uint8_t before[] = { 0x10, 0x05, '_', 'S', 'B', '_', 0x5B, 0x82 };
    fx_header(p, "DSDT", (uint32_t)(36 + sizeof before + n));
    memcpy(p + 36, before, sizeof before);
    memcpy(p + 36 + sizeof before, aml, n);
    fx_checksum(p);
}

/* An ACPI 1.0 FADT (116 bytes, like QEMU's PC) with PM1a control at I/O 0x604. */
static void build_machine(uint32_t fadt_len)
{
    uint8_t *f = mem->bytes + FADT_AT;
    fx_header(f, "FACP", fadt_len);
    put32(f + 36, FACS_AT);
    put32(f + 40, DSDT_AT);
    put32(f + 64, 0x604);
    f[89] = 2;
    fx_checksum(f);
    uint8_t *facs = mem->bytes + FACS_AT;
    memcpy(facs, "FACS", 4);
    put32(facs + 4, 64);
    uint64_t tables[] = { FADT_AT };
    fx_root(mem, RSDT_AT, 0, tables, 1);
    fx_rsdp(mem, RSDP_AT, 0, RSDT_AT, 0);
}

static int read_sleep(void)
{
    err[0] = '\0';
    return acpi_read_sleep(fake_map, mem, RSDP_AT, &info, err, sizeof err);
}

static void expect_error(const char *fragment)
{
    assert_int_equal(read_sleep(), -1);
    if (!strstr(err, fragment))
        fail_msg("error \"%s\" does not mention \"%s\"", err, fragment);
}

static void qemu_pc(void **state)
{
    (void)state;
    build_dsdt(qemu_s3, sizeof qemu_s3);
    build_machine(116);
    assert_int_equal(read_sleep(), 1);
    assert_int_equal(info.fadt_phys, FADT_AT);
    assert_int_equal(info.facs_phys, FACS_AT);
    assert_int_equal(info.facs_length, 64);
    assert_int_equal(info.dsdt_phys, DSDT_AT);
    assert_false(info.hw_reduced);
    assert_int_equal(info.pm1a_cnt.space, ACPI_GAS_IO);
    assert_int_equal(info.pm1a_cnt.address, 0x604);
    assert_int_equal(info.pm1a_cnt.bit_width, 16);
    assert_int_equal(info.pm1b_cnt.address, 0);
    assert_true(info.has_s3);
    assert_int_equal(info.s3_typ_a, 1);
    assert_int_equal(info.s3_typ_b, 1);
}

/* ACPI 2.0+: the X_ fields win where they are set, and a rooted \_S3 with byte values. */
static void acpi2_fields_preferred(void **state)
{
    (void)state;
    build_dsdt(rooted_s3, sizeof rooted_s3);
    build_machine(268);
    uint8_t *f = mem->bytes + FADT_AT;
    put64(f + 132, FACS_AT);                  /* X_FIRMWARE_CTRL */
    put32(f + 36, 0);
    f[172] = ACPI_GAS_IO; f[173] = 16;        /* X_PM1a_CNT_BLK */
    put64(f + 176, 0x1804);
    fx_checksum(f);
    assert_int_equal(read_sleep(), 1);
    assert_int_equal(info.facs_phys, FACS_AT);
    assert_int_equal(info.pm1a_cnt.address, 0x1804);
    assert_true(info.has_s3);
    assert_int_equal(info.s3_typ_a, 5);
    assert_int_equal(info.s3_typ_b, 5);
}

/* \_S5 beside \_S3, each found by its own digit; a DSDT with \_S5 alone offers no S3. */
static void s5_and_no_s3(void **state)
{
    (void)state;
    static const uint8_t s5_only[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00,
                                       0x00, 0x00 };
    build_dsdt(s5_only, sizeof s5_only);
    build_machine(116);
    assert_int_equal(read_sleep(), 1);
    assert_false(info.has_s3);
    assert_true(info.has_s5);
    assert_int_equal(info.s5_typ_a, 0);

    uint8_t both[sizeof qemu_s3 + sizeof s5_only];
    memcpy(both, s5_only, sizeof s5_only);
    memcpy(both + sizeof s5_only, qemu_s3, sizeof qemu_s3);
    build_dsdt(both, sizeof both);
    build_machine(116);
    assert_int_equal(read_sleep(), 1);
    assert_true(info.has_s3 && info.has_s5);
    assert_int_equal(info.s3_typ_a, 1);
}

/* A name _S3_ that is not a Name(...) of a Package, or one cut short, is not \_S3. */
static void aml_search_is_bounded(void **state)
{
    (void)state;
    uint8_t a, b;
    static const uint8_t method_call[] = { 0x70, '_', 'S', '3', '_', 0x60 };
    assert_false(acpi_aml_find_sleep_type(method_call, sizeof method_call, 3, &a, &b));
    for (size_t cut = 0; cut < 10; cut++)     /* short of the second SLP_TYP */
        assert_false(acpi_aml_find_sleep_type(qemu_s3, cut, 3, &a, &b));
    assert_true(acpi_aml_find_sleep_type(qemu_s3, 10, 3, &a, &b));
    assert_false(acpi_aml_find_sleep_type(qemu_s3, sizeof qemu_s3, 5, &a, &b));
}

static void bad_tables_named(void **state)
{
    (void)state;
    build_dsdt(qemu_s3, sizeof qemu_s3);
    build_machine(100);
    expect_error("FADT length 100 is too small");

    build_machine(116);
    memcpy(mem->bytes + FACS_AT, "FACX", 4);
    expect_error("the FACS at 0x13000 has signature 'FACX'");

    build_machine(116);
    put32(mem->bytes + FADT_AT + 64, 0);
    fx_checksum(mem->bytes + FADT_AT);
    expect_error("has no PM1a control block");

    build_machine(116);
    put32(mem->bytes + FADT_AT + 36, 0);
    fx_checksum(mem->bytes + FADT_AT);
    expect_error("names no FACS");

    build_machine(116);
    mem->bytes[DSDT_AT + 40] ^= 0xFF;
    expect_error("DSDT at 0x14000 has a bad checksum");
}

static void none_without_fadt(void **state)
{
    (void)state;
    uint64_t tables[] = { 0 };
    fx_root(mem, RSDT_AT, 0, tables, 0);
    fx_rsdp(mem, RSDP_AT, 0, RSDT_AT, 0);
    assert_int_equal(read_sleep(), 0);
}

/* A FACS (64 bytes) with the given version, waking vector and X vector. */
static void facs_with(uint8_t *f, uint8_t version, uint32_t vector, uint64_t x)
{
    memset(f, 0, 64);
    memcpy(f, "FACS", 4);
    f[4] = 64;
    memcpy(f + FACS_WAKING_VECTOR, &vector, 4);
    memcpy(f + FACS_X_WAKING_VECTOR, &x, 8);
    f[FACS_VERSION] = version;
}

/* Linux's case: a 16-byte-aligned real-mode vector, no X vector: taken. */
static void waking_vector_real_mode(void **state)
{
    (void)state;
    uint8_t f[64];
    uint32_t v = 0;
    facs_with(f, 2, 0x991f0, 0);
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), 0);
    assert_int_equal(v, 0x991f0);
    /* ACPI 1.0's FACS (version 0) has no X vector: whatever is there is not one. */
    facs_with(f, 0, 0x8000, 0x12345678);
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), 0);
    assert_int_equal(v, 0x8000);
    /* Nor has a FACS too short to hold it. */
    facs_with(f, 1, 0x8000, 0x12345678);
    assert_int_equal(acpi_facs_waking_vector(f, 24, 160, &v, err, sizeof err), 0);
}

/* What thinvisor cannot resume at: each refused with the reason. */
static void waking_vector_refused(void **state)
{
    (void)state;
    uint8_t f[64];
    uint32_t v;
    facs_with(f, 1, 0x991f0, 0x991f0);
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "X_Firmware_Waking_Vector 0x991f0"));
    facs_with(f, 2, 0, 0);
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "waking vector 0 "));
    facs_with(f, 2, 0x991f8, 0);               /* IP 8: data from CS would be off by 8 */
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "16-byte-aligned"));
    facs_with(f, 2, 0x9FFA0, 0);               /* the code would run into the EBDA */
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), -1);
    facs_with(f, 2, 0x9FF60, 0);               /* it just fits */
    assert_int_equal(acpi_facs_waking_vector(f, 64, 160, &v, err, sizeof err), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_mem_setup, fx_mem_teardown)
    const struct CMUnitTest tests[] = {
        T(qemu_pc), T(acpi2_fields_preferred), T(s5_and_no_s3), T(aml_search_is_bounded),
        T(bad_tables_named), T(none_without_fadt), T(waking_vector_real_mode),
        T(waking_vector_refused),
    };
    return cmocka_run_group_tests_name("acpi_sleep", tests, NULL, NULL);
}
