/* UEFI device paths (efi/path.c): what LoadImage gets for the next loader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "efi/path.h"

/* PciRoot(0)/Pci(1,1)/Sata(0,0,0)/HD(1,GPT,...) shortened: ACPI, PCI, messaging, media HD. */
static const uint8_t disk[] = {
    0x02, 0x01, 12, 0, 0xD0, 0x41, 0x03, 0x0A, 0, 0, 0, 0,
    0x01, 0x01, 6, 0, 1, 1,
    0x03, 0x12, 10, 0, 0, 0, 0xFF, 0xFF, 0, 0,
    0x04, 0x01, 8, 0, 1, 0, 0, 0,
    0x7F, 0xFF, 4, 0,
};

static void size_of_paths(void **state)
{
    (void)state;
    assert_int_equal(efi_path_size(disk, sizeof disk), sizeof disk);
    assert_int_equal(efi_path_size(disk, sizeof disk - 1), 0);      /* end node cut */
    uint8_t bad[sizeof disk];
    memcpy(bad, disk, sizeof disk);
    bad[14] = 3;                                                     /* node shorter than 4 */
    assert_int_equal(efi_path_size(bad, sizeof bad), 0);
    bad[14] = 200;                                                   /* runs past the end */
    assert_int_equal(efi_path_size(bad, sizeof bad), 0);
    static const uint8_t no_end[] = { 0x01, 0x01, 6, 0, 1, 1 };
    assert_int_equal(efi_path_size(no_end, sizeof no_end), 0);
    static const uint8_t instance_end[] = { 0x7F, 0x01, 4, 0, 0x7F, 0xFF, 4, 0 };
    assert_int_equal(efi_path_size(instance_end, sizeof instance_end), 8);
}

static void file_node(void **state)
{
    (void)state;
    uint8_t out[600];
    size_t n = efi_path_file(out, sizeof out, "/EFI/debian/grubx64.efi");
    assert_int_equal(n, 4 + 2 * 24 + 4);
    assert_int_equal(out[0], EFI_DP_TYPE_MEDIA);
    assert_int_equal(out[1], EFI_DP_MEDIA_FILE_PATH);
    assert_int_equal(out[2] | out[3] << 8, 4 + 2 * 24);
    assert_int_equal(out[4], '\\');
    assert_int_equal(out[4 + 2 * 4], '\\');                          /* the '/' after EFI */
    assert_int_equal(out[4 + 2 * 23], 0);                            /* UCS-2 NUL */
    assert_int_equal(efi_path_size(out, n), n);
    char text[80];
    efi_path_describe(out, n, text, sizeof text);
    assert_string_equal(text, "\\EFI\\debian\\grubx64.efi");

    /* No leading separator: one is added. Backslashes are kept. */
    n = efi_path_file(out, sizeof out, "EFI\\BOOT\\BOOTX64.EFI");
    efi_path_describe(out, n, text, sizeof text);
    assert_string_equal(text, "\\EFI\\BOOT\\BOOTX64.EFI");
}

static void file_node_refuses(void **state)
{
    (void)state;
    uint8_t out[600];
    char longer[EFI_PATH_MAX_CHARS + 2];
    memset(longer, 'a', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    assert_int_equal(efi_path_file(out, sizeof out, ""), 0);
    assert_int_equal(efi_path_file(out, sizeof out, longer), 0);
    assert_int_equal(efi_path_file(out, sizeof out, "/a b"), 0);      /* blank */
    assert_int_equal(efi_path_file(out, sizeof out, "/caf\xc3\xa9"), 0); /* not ASCII */
    assert_int_equal(efi_path_file(out, 20, "/EFI/BOOT/BOOTX64.EFI"), 0);  /* no room */
}

static void join_device_and_file(void **state)
{
    (void)state;
    uint8_t file[100], out[200];
    size_t fn = efi_path_file(file, sizeof file, "/x.efi");
    size_t n = efi_path_join(out, sizeof out, disk, sizeof disk, file, fn);
    assert_int_equal(n, sizeof disk - 4 + fn);
    assert_memory_equal(out, disk, sizeof disk - 4);
    assert_memory_equal(out + sizeof disk - 4, file, fn);
    char text[80];
    efi_path_describe(out, n, text, sizeof text);
    assert_string_equal(text, "(2,1)(1,1)(3,18)(4,1)\\x.efi");

    assert_int_equal(efi_path_join(out, sizeof disk, disk, sizeof disk, file, fn), 0);
    assert_int_equal(efi_path_join(out, sizeof out, disk, sizeof disk - 1, file, fn), 0);
    assert_int_equal(efi_path_join(out, sizeof out, disk, sizeof disk, file, fn - 1), 0);
}

static void describe_malformed_and_short_buffers(void **state)
{
    (void)state;
    char text[8];
    efi_path_describe(disk, 3, text, sizeof text);
    assert_string_equal(text, "(malfor");                           /* cut, still terminated */
    efi_path_describe(disk, sizeof disk, text, sizeof text);
    assert_int_equal(strlen(text), sizeof text - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_of_paths),
        cmocka_unit_test(file_node),
        cmocka_unit_test(file_node_refuses),
        cmocka_unit_test(join_device_and_file),
        cmocka_unit_test(describe_malformed_and_short_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
