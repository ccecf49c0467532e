/* kernel/multiboot2.c: well-formed information parses; every malformation is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/multiboot2.h"
#include "tests/unit/mb2_builder.h"

static struct mb2_builder b;
static struct mb2_info info;
static char err[200];

static const struct mb2b_mmap qemu_map[] = {
    { 0x0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xF0000, 0x10000, 2 },
    { 0x100000, 0xFEE0000, 1 }, { 0xFFE0000, 0x20000, 2 }, { 0xFFFC0000, 0x40000, 2 },
};

static int parse(void)
{
    err[0] = '\0';
    return mb2_parse(b.buf, b.len, &info, err, sizeof err);
}

static void full_info(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_string(&b, MB2_TAG_CMDLINE, "console=com1 cpus=2");
    mb2b_string(&b, MB2_TAG_LOADER_NAME, "GRUB 2.06");
    mb2b_module(&b, 0x400000, 0x400200, "bootsector");
    mb2b_mmap(&b, qemu_map, 6);
    uint8_t rsdp1[20] = "RSD PTR ";
    uint8_t rsdp2[36] = "RSD PTR ";
    rsdp2[15] = 2;
    mb2b_tag(&b, MB2_TAG_ACPI_NEW, rsdp2, sizeof rsdp2);
    mb2b_tag(&b, MB2_TAG_ACPI_OLD, rsdp1, sizeof rsdp1);   /* the 2.0 one is kept */
    mb2b_tag(&b, 99, "ignored", 7);                        /* unknown tags are skipped */
    mb2b_end(&b);

    assert_int_equal(parse(), 0);
    assert_string_equal(info.cmdline, "console=com1 cpus=2");
    assert_string_equal(info.loader_name, "GRUB 2.06");
    assert_int_equal(info.module_count, 1);
    assert_int_equal(info.modules[0].start, 0x400000);
    assert_int_equal(info.modules[0].end, 0x400200);
    assert_string_equal(info.modules[0].string, "bootsector");
    assert_true(info.has_mmap);
    assert_int_equal(info.mmap_count, 6);
    assert_int_equal(info.mmap[3].base, 0x100000);
    assert_int_equal(info.mmap[3].length, 0xFEE0000);
    assert_int_equal(info.mmap[3].type, MB2_MEMORY_AVAILABLE);
    assert_int_equal(info.rsdp_version, 2);
    assert_int_equal(info.rsdp_len, 36);
    assert_int_equal(info.total_size, b.len);
}

static void minimal_info(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_end(&b);
    assert_int_equal(parse(), 0);
    assert_null(info.cmdline);
    assert_false(info.has_mmap);
    assert_null(info.rsdp);
}

static void expect_error(const char *fragment)
{
    assert_int_equal(parse(), -1);
    if (!strstr(err, fragment))
        fail_msg("error '%s' does not mention '%s'", err, fragment);
}

static void total_size_errors(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_end(&b);
    mb2b_put32(&b, 0, 8);
    expect_error("too small");
    mb2b_put32(&b, 0, b.len + 8);
    expect_error("exceeds");
    assert_int_equal(mb2_parse(b.buf, 4, &info, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
}

static void missing_end_tag(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_string(&b, MB2_TAG_CMDLINE, "x");
    mb2b_put32(&b, 0, b.len);
    expect_error("no end tag");
}

static void tag_size_errors(void **state)
{
    (void)state;
    mb2b_begin(&b);
    uint32_t off = mb2b_string(&b, MB2_TAG_CMDLINE, "abc");
    mb2b_end(&b);
    mb2b_put32(&b, off + 4, 4);
    expect_error("tag #0 (type 1, command line) at offset 0x8: size 4 is smaller");
    mb2b_put32(&b, off + 4, 0x1000);
    expect_error("runs past the end");
    mb2b_put32(&b, off + 4, 0xFFFFFFFF);
    expect_error("runs past the end");
}

static void unterminated_strings(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_CMDLINE, "abc", 3);
    mb2b_end(&b);
    expect_error("command line) at offset 0x8: string is not NUL-terminated");

    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_LOADER_NAME, "GRUB", 4);
    mb2b_end(&b);
    expect_error("boot loader name");

    mb2b_begin(&b);
    uint8_t mod[12] = { 0 };
    memset(mod + 8, 'x', 4);
    mb2b_tag(&b, MB2_TAG_MODULE, mod, sizeof mod);
    mb2b_end(&b);
    expect_error("module string is not NUL-terminated");
}

static void module_errors(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_module(&b, 0x5000, 0x4000, "backwards");
    mb2b_end(&b);
    expect_error("ends (0x4000) before it starts (0x5000)");

    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_MODULE, "\0\0\0\0\0\0\0", 8);
    mb2b_end(&b);
    expect_error("too small for a module");
}

static void mmap_errors(void **state)
{
    (void)state;
    mb2b_begin(&b);
    uint32_t off = mb2b_mmap(&b, qemu_map, 2);
    mb2b_end(&b);
    assert_int_equal(parse(), 0);

    mb2b_put32(&b, off + 8, 20);
    expect_error("entry size 20");
    mb2b_put32(&b, off + 8, 24);
    mb2b_put32(&b, off + 12, 1);
    expect_error("entry version 1");
    mb2b_put32(&b, off + 12, 0);
    mb2b_put32(&b, off + 4, 16 + 24 + 8);     /* not a whole number of entries */
    expect_error("whole number");
    mb2b_put32(&b, off + 4, 12);
    expect_error("smaller than the 16-byte header");
}

static void mmap_overflow_is_counted(void **state)
{
    (void)state;
    static struct mb2b_mmap many[MB2_MAX_MMAP + 5];
    for (int i = 0; i < MB2_MAX_MMAP + 5; i++)
        many[i] = (struct mb2b_mmap){ (uint64_t)i << 20, 1 << 20, 1 };
    /* Too many entries for the builder buffer: laid out by hand in a larger one. */
    uint8_t *buf = calloc(1, 16 + 16 + 24 * (MB2_MAX_MMAP + 5) + 8);
    uint32_t n = MB2_MAX_MMAP + 5, tag_size = 16 + 24 * n, total = 8 + tag_size + 8;
    uint32_t w[4] = { total, 0, MB2_TAG_MMAP, tag_size };
    memcpy(buf, w, 16);
    uint32_t hdr[2] = { 24, 0 };
    memcpy(buf + 16, hdr, 8);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(buf + 24 + 24 * i, &many[i].base, 8);
        memcpy(buf + 24 + 24 * i + 8, &many[i].length, 8);
        memcpy(buf + 24 + 24 * i + 16, &many[i].type, 4);
    }
    uint32_t end[2] = { 0, 8 };
    memcpy(buf + 8 + tag_size, end, 8);
    assert_int_equal(mb2_parse(buf, total, &info, err, sizeof err), 0);
    assert_int_equal(info.mmap_count, MB2_MAX_MMAP);
    assert_int_equal(info.mmap_dropped, 5);
    free(buf);
}

static void acpi_errors(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_ACPI_NEW, "RSD PTR 0123456789", 19);
    mb2b_end(&b);
    expect_error("ACPI 2.0 RSDP) at offset 0x8: holds 19 bytes, an RSDP needs 36");
}

/* GRUB's x86_64-efi multiboot2 with the EFI boot services header tag. */
static void efi_tags(void **state)
{
    (void)state;
    uint64_t systab = 0x7FBEE018, handle = 0x7E5A4B18;
    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_EFI64_SYSTAB, &systab, 8);
    mb2b_tag(&b, MB2_TAG_EFI_BS, NULL, 0);
    mb2b_tag(&b, MB2_TAG_EFI64_IH, &handle, 8);
    mb2b_end(&b);
    assert_int_equal(parse(), 0);
    assert_int_equal(info.efi_system_table, systab);
    assert_int_equal(info.efi_image_handle, handle);
    assert_true(info.efi_boot_services);

    mb2b_begin(&b);
    mb2b_end(&b);
    assert_int_equal(parse(), 0);
    assert_int_equal(info.efi_system_table, 0);
    assert_false(info.efi_boot_services);
}

static void efi_tag_errors(void **state)
{
    (void)state;
    uint64_t zero = 0;
    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_EFI64_SYSTAB, "1234", 4);
    mb2b_end(&b);
    expect_error("EFI 64-bit system table) at offset 0x8: size 12 is too small for a 64-bit pointer");
    mb2b_begin(&b);
    mb2b_tag(&b, MB2_TAG_EFI64_IH, &zero, 8);
    mb2b_end(&b);
    expect_error("EFI 64-bit image handle) at offset 0x8: the pointer is 0");
}

static void end_tag_size(void **state)
{
    (void)state;
    mb2b_begin(&b);
    mb2b_end(&b);
    mb2b_put32(&b, 12, 16);
    mb2b_put32(&b, 0, 24);
    b.len = 24;
    expect_error("end tag has size 16");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_info),
        cmocka_unit_test(minimal_info),
        cmocka_unit_test(total_size_errors),
        cmocka_unit_test(missing_end_tag),
        cmocka_unit_test(tag_size_errors),
        cmocka_unit_test(unterminated_strings),
        cmocka_unit_test(module_errors),
        cmocka_unit_test(mmap_errors),
        cmocka_unit_test(mmap_overflow_is_counted),
        cmocka_unit_test(acpi_errors),
        cmocka_unit_test(efi_tags),
        cmocka_unit_test(efi_tag_errors),
        cmocka_unit_test(end_tag_size),
    };
    return cmocka_run_group_tests_name("multiboot2", tests, NULL, NULL);
}
