/* Boot options (efi/bootorder.c): what efi_next=bootorder reads of BootOrder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "efi/abi.h"
#include "efi/bootorder.h"

/* Boot0002 as OVMF writes it for a disk: "UEFI QEMU HARDDISK", a short path, no data. */
static uint8_t option[] = {
    0x01, 0, 0, 0,                       /* LOAD_OPTION_ACTIVE */
    18, 0,                               /* FilePathListLength */
    'U', 0, 'E', 0, 'F', 0, 'I', 0, ' ', 0, 0xE9, 0, 'Q', 0, 0, 0,   /* "UEFI \u00e9Q" */
    0x01, 0x01, 6, 0, 1, 1,              /* PCI node */
    0x03, 0x01, 8, 0, 0, 0, 0, 0,        /* ATAPI node */
    0x7F, 0xFF, 4, 0,                    /* end */
    0xAA, 0xBB,                          /* optional data */
};

static void parse_option(void **state)
{
    (void)state;
    struct efi_boot_option o;
    assert_int_equal(efi_boot_option_parse(option, sizeof option, &o), 0);
    assert_int_equal(o.attributes, EFI_LOAD_OPTION_ACTIVE);
    assert_string_equal(o.description, "UEFI ?Q");
    assert_ptr_equal(o.file_path, option + 6 + 16);
    assert_int_equal(o.file_path_size, 18);
    assert_true(efi_boot_option_boots(o.attributes));
}

static void malformed_options(void **state)
{
    (void)state;
    struct efi_boot_option o;
    assert_int_equal(efi_boot_option_parse(option, 7, &o), -1);            /* header only */
    assert_int_equal(efi_boot_option_parse(option, 6 + 10, &o), -1);       /* no NUL yet */
    assert_int_equal(efi_boot_option_parse(option, 6 + 16 + 17, &o), -1);  /* list cut */
    uint8_t bad[sizeof option];
    memcpy(bad, option, sizeof bad);
    bad[4] = 40;                                                           /* list too long */
    assert_int_equal(efi_boot_option_parse(bad, sizeof bad, &o), -1);
    memcpy(bad, option, sizeof bad);
    bad[4] = 10;                                                           /* end node cut off */
    assert_int_equal(efi_boot_option_parse(bad, sizeof bad, &o), -1);
    memcpy(bad, option, sizeof bad);
    bad[6 + 16 + 2] = 2;                                                   /* node < its header */
    assert_int_equal(efi_boot_option_parse(bad, sizeof bad, &o), -1);
}

static void long_description_is_cut(void **state)
{
    (void)state;
    uint8_t v[6 + 2 * 101 + 4];
    memset(v, 0, sizeof v);
    v[0] = 1;
    v[4] = 4;
    for (int i = 0; i < 100; i++)
        v[6 + 2 * i] = 'a';
    memcpy(v + 6 + 2 * 101, (uint8_t[]){ 0x7F, 0xFF, 4, 0 }, 4);
    struct efi_boot_option o;
    assert_int_equal(efi_boot_option_parse(v, sizeof v, &o), 0);
    assert_int_equal(strlen(o.description), sizeof o.description - 1);
    assert_int_equal(o.file_path_size, 4);
}

static void which_options_boot(void **state)
{
    (void)state;
    assert_false(efi_boot_option_boots(0));                                /* inactive */
    assert_true(efi_boot_option_boots(EFI_LOAD_OPTION_ACTIVE | 0x8));      /* hidden boots too */
    assert_false(efi_boot_option_boots(EFI_LOAD_OPTION_ACTIVE | 0x100));   /* an application */
}

static void order_after_current(void **state)
{
    (void)state;
    static const uint16_t order[] = { 3, 1, 2 };
    assert_int_equal(efi_boot_order_after(order, 3, 3), 1);
    assert_int_equal(efi_boot_order_after(order, 3, 2), 3);                /* last: none after */
    assert_int_equal(efi_boot_order_after(order, 3, 7), -1);
    assert_int_equal(efi_boot_order_after(order, 0, 3), -1);
}

static void option_names(void **state)
{
    (void)state;
    uint16_t name[9];
    efi_boot_option_name(0x00AF, name);
    static const uint16_t want[9] = { 'B', 'o', 'o', 't', '0', '0', 'A', 'F', 0 };
    assert_memory_equal(name, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_option),
        cmocka_unit_test(malformed_options),
        cmocka_unit_test(long_description_is_cut),
        cmocka_unit_test(which_options_boot),
        cmocka_unit_test(order_after_current),
        cmocka_unit_test(option_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
