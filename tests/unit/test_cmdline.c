/* kernel/cmdline.c: each option, its defaults, and a warning for every bad word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/cmdline.h"

static char warnings[16][160];
static int nwarn;

static void collect(void *ctx, const char *msg)
{
    (void)ctx;
    if (nwarn < 16)
        strncpy(warnings[nwarn], msg, sizeof warnings[0] - 1);
    nwarn++;
}

static struct options parse(const char *cmdline)
{
    struct options o;
    memset(warnings, 0, sizeof warnings);
    nwarn = 0;
    cmdline_defaults(&o);
    int n = cmdline_parse(cmdline, &o, collect, NULL);
    assert_int_equal(n, nwarn);
    return o;
}

static void expect_warning(int i, const char *fragment)
{
    assert_true(i < nwarn);
    if (!strstr(warnings[i], fragment))
        fail_msg("warning '%s' does not mention '%s'", warnings[i], fragment);
}

static void defaults(void **state)
{
    (void)state;
    struct options o = parse(NULL);
    assert_int_equal(o.console_port, 0x3F8);
    assert_int_equal(o.console_baud, 115200);
    assert_int_equal(o.loglevel, LOG_INFO);
    assert_int_equal(o.cpus, 0);
    assert_int_equal(o.boot_drive, -1);
    assert_false(o.strict);
    assert_false(o.test_exit);
    assert_int_equal(o.test_fail_cpu, -1);
    o = parse("");
    assert_int_equal(nwarn, 0);
    o = parse("   \t  ");
    assert_int_equal(nwarn, 0);
}

static void all_options(void **state)
{
    (void)state;
    struct options o =
        parse("console=com2,9600 loglevel=debug cpus=4 boot=hd1 strict test_exit test_fault=pf");
    assert_int_equal(nwarn, 0);
    assert_int_equal(o.console_port, 0x2F8);
    assert_int_equal(o.console_baud, 9600);
    assert_int_equal(o.loglevel, LOG_DEBUG);
    assert_int_equal(o.cpus, 4);
    assert_int_equal(o.boot_drive, 0x81);
    assert_true(o.strict);
    assert_true(o.test_exit);
    assert_int_equal(o.test_fault, TEST_FAULT_PF);
}

static void efi_next_paths(void **state)
{
    (void)state;
    assert_string_equal(parse(NULL).efi_next, "");
    struct options o = parse("efi_next=/EFI/debian/grubx64.efi");
    assert_int_equal(nwarn, 0);
    assert_string_equal(o.efi_next, "/EFI/debian/grubx64.efi");
    o = parse("efi_next=\\EFI\\Microsoft\\Boot\\bootmgfw.efi");
    assert_int_equal(nwarn, 0);
    assert_string_equal(o.efi_next, "\\EFI\\Microsoft\\Boot\\bootmgfw.efi");

    o = parse("efi_next=EFI/relative.efi");
    assert_string_equal(o.efi_next, "");
    expect_warning(0, "efi_next=EFI/relative.efi: expected `bootorder` or a path from the root");
    o = parse("efi_next=/caf\xc3\xa9.efi");
    assert_string_equal(o.efi_next, "");
    expect_warning(0, "efi_next=: character 5 is not printable ASCII");
    char longer[300] = "efi_next=/";
    memset(longer + 10, 'a', 260);
    o = parse(longer);
    assert_string_equal(o.efi_next, "");
    expect_warning(0, "at most 255 characters");
    o = parse("efi_next=");
    expect_warning(0, "efi_next=: expected `bootorder` or a path");

    o = parse("efi_next=bootorder");
    assert_int_equal(nwarn, 0);
    assert_true(o.efi_next_bootorder);
    assert_string_equal(o.efi_next, "");
    o = parse("efi_next=/EFI/a.efi efi_next=bootorder");        /* the last one counts */
    assert_true(o.efi_next_bootorder);
    assert_string_equal(o.efi_next, "");
    o = parse("efi_next=bootorder efi_next=/EFI/a.efi");
    assert_false(o.efi_next_bootorder);
    assert_string_equal(o.efi_next, "/EFI/a.efi");
    o = parse("efi_next=BootOrder");                             /* a relative path, refused */
    assert_false(o.efi_next_bootorder);
    expect_warning(0, "efi_next=BootOrder: expected `bootorder`");
}

static void console_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("console=0x3e8").console_port, 0x3E8);
    assert_int_equal(parse("console=com4").console_port, 0x2E8);
    assert_int_equal(parse("console=none").console_port, 0);
    struct options o = parse("console=com1,38400");
    assert_int_equal(o.console_baud, 38400);
    assert_int_equal(nwarn, 0);

    o = parse("console=com9");
    assert_int_equal(o.console_port, 0x3F8);
    expect_warning(0, "console=com9");
    o = parse("console=com1,12345");
    assert_int_equal(o.console_baud, 115200);
    expect_warning(0, "baud rate");
    o = parse("console=0x10");
    assert_int_equal(o.console_port, 0x3F8);
    assert_int_equal(nwarn, 1);
}

static void loglevel_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("loglevel=0").loglevel, LOG_ERROR);
    assert_int_equal(parse("loglevel=warn").loglevel, LOG_WARN);
    assert_int_equal(parse("loglevel=3").loglevel, LOG_DEBUG);
    assert_int_equal(parse("loglevel=loud").loglevel, LOG_INFO);
    expect_warning(0, "loglevel=loud");
    assert_int_equal(parse("loglevel=4").loglevel, LOG_INFO);
    assert_int_equal(nwarn, 1);
}

static void cpus_bounds(void **state)
{
    (void)state;
    assert_int_equal(parse("cpus=1").cpus, 1);
    assert_int_equal(parse("cpus=0x10").cpus, 16);
    assert_int_equal(parse("cpus=256").cpus, 256);
    assert_int_equal(parse("cpus=0").cpus, 0);
    expect_warning(0, "from 1 to 256");
    assert_int_equal(parse("cpus=257").cpus, 0);
    assert_int_equal(nwarn, 1);
    assert_int_equal(parse("cpus=99999999999999999999999").cpus, 0);
    assert_int_equal(nwarn, 1);
    assert_int_equal(parse("cpus=-1").cpus, 0);
    assert_int_equal(parse("cpus=2x").cpus, 0);
    assert_int_equal(nwarn, 1);
}

static void boot_forms(void **state)
{
    (void)state;
    assert_int_equal(parse("boot=hd0").boot_drive, 0x80);
    assert_int_equal(parse("boot=hd7").boot_drive, 0x87);
    assert_int_equal(parse("boot=fd1").boot_drive, 0x01);
    assert_int_equal(parse("boot=0x82").boot_drive, 0x82);
    assert_int_equal(parse("boot=hd8").boot_drive, -1);
    expect_warning(0, "boot=hd8");
    assert_int_equal(parse("boot=0x100").boot_drive, -1);
    assert_int_equal(nwarn, 1);
}

static void bad_words(void **state)
{
    (void)state;
    struct options o = parse("foo=bar strict=yes cpus loglevel= =x verbose");
    assert_false(o.strict);
    assert_int_equal(nwarn, 6);
    expect_warning(0, "unknown option 'foo=bar'");
    expect_warning(1, "strict is a flag");
    expect_warning(2, "cpus needs a value");
    expect_warning(3, "loglevel=");
    expect_warning(4, "unknown option '=x'");
    expect_warning(5, "unknown option 'verbose'");
}

/* test_fail_cpu=N: a CPU index; anything else is ignored with a warning. */
static void test_fail_cpu(void **state)
{
    (void)state;
    assert_int_equal(parse("test_fail_cpu=2").test_fail_cpu, 2);
    assert_int_equal(parse("test_fail_cpu=0").test_fail_cpu, 0);
    assert_int_equal(parse("test_fail_cpu=256").test_fail_cpu, -1);
    expect_warning(0, "test_fail_cpu=256: expected a CPU index from 0 to 255");
    assert_int_equal(parse("test_fail_cpu=x").test_fail_cpu, -1);
    assert_int_equal(nwarn, 1);
}

static void repeated_option(void **state)
{
    (void)state;
    struct options o = parse("cpus=2 cpus=3");
    assert_int_equal(o.cpus, 3);
    expect_warning(0, "more than once");
}

static void image_path_skipped(void **state)
{
    (void)state;
    struct options o = parse("/boot/thinvisor.elf cpus=2");
    assert_int_equal(nwarn, 0);
    assert_int_equal(o.cpus, 2);
    parse("(hd0,1)/boot/thinvisor.elf");
    assert_int_equal(nwarn, 0);
    parse("cpus=2 /boot/thinvisor.elf");    /* only the first word can be the path */
    assert_int_equal(nwarn, 1);
}

static void overlong(void **state)
{
    (void)state;
    static char line[CMDLINE_MAX_LEN + 100];
    memset(line, ' ', sizeof line - 1);
    memcpy(line + CMDLINE_MAX_LEN + 10, "cpus=3", 6);
    struct options o = parse(line);
    assert_int_equal(o.cpus, 0);       /* beyond the limit: not read */
    expect_warning(0, "longer than 1024");
    /* a long unknown word is quoted shortened */
    memset(line, 'a', CMDLINE_MAX_LEN - 1);
    line[CMDLINE_MAX_LEN - 1] = '\0';
    parse(line);
    assert_int_equal(nwarn, 1);
    assert_true(strlen(warnings[0]) < 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(all_options),
        cmocka_unit_test(console_forms),
        cmocka_unit_test(efi_next_paths),
        cmocka_unit_test(loglevel_forms),
        cmocka_unit_test(cpus_bounds),
        cmocka_unit_test(boot_forms),
        cmocka_unit_test(bad_words),
        cmocka_unit_test(test_fail_cpu),
        cmocka_unit_test(repeated_option),
        cmocka_unit_test(image_path_skipped),
        cmocka_unit_test(overlong),
    };
    return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
