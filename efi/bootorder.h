/*
 * The firmware's boot options (UEFI specification 2.10, 3.1): BootOrder, a
 * list of option numbers, and one Boot#### variable per option. thinvisor
 * reads them for efi_next=bootorder, to name the option the firmware's boot
 * manager starts after the current one. Plain C, no firmware calls
 * (tests/unit/test_efi_bootorder.c).
 */
#ifndef THINVISOR_EFI_BOOTORDER_H
#define THINVISOR_EFI_BOOTORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct efi_boot_option {
    uint32_t attributes;
    char description[64];            /* printable ASCII; '?' for anything else; cut */
    const uint8_t *file_path;        /* the option's first device path, inside the value */
    size_t file_path_size;
};

/*
 * Parses a Boot#### value (EFI_LOAD_OPTION, 3.1.3): attributes, a UCS-2
 * description with its NUL, FilePathListLength bytes of device paths, then
 * optional data. 0, or -1 when the value is too short, the description has no
 * NUL, or the path list runs past the end or does not start with a whole path.
 */
int efi_boot_option_parse(const uint8_t *value, size_t len, struct efi_boot_option *out);

/* The boot manager starts it while it goes through BootOrder: active, boot category (3.1.3). */
bool efi_boot_option_boots(uint32_t attributes);

/* The index in `order` after `current`, or -1 when current is not in it. */
int efi_boot_order_after(const uint16_t *order, size_t count, uint16_t current);

/* The variable's name for option `number`: L"Boot0001", NUL-terminated. */
void efi_boot_option_name(uint16_t number, uint16_t name[9]);

#endif
