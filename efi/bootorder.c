/* Boot options (see efi_bootorder.h). */
#include "efi/bootorder.h"

#include "efi/abi.h"
#include "efi/path.h"

#define LOAD_OPTION_HEADER 6             /* Attributes (4), FilePathListLength (2) */

int efi_boot_option_parse(const uint8_t *v, size_t len, struct efi_boot_option *out)
{
    *out = (struct efi_boot_option){ 0 };
    if (len < LOAD_OPTION_HEADER + 2)
        return -1;
    out->attributes = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 |
                      (uint32_t)v[3] << 24;
    size_t path_len = (size_t)v[4] | (size_t)v[5] << 8;
    size_t at = LOAD_OPTION_HEADER, chars = 0;
    for (;; at += 2) {
        if (at + 2 > len)
            return -1;                   /* no NUL before the end */
        uint16_t c = (uint16_t)(v[at] | v[at + 1] << 8);
        if (c == 0)
            break;
        if (chars + 1 < sizeof out->description)
            out->description[chars++] = c >= 0x20 && c < 0x7F ? (char)c : '?';
    }
    out->description[chars] = 0;
    at += 2;
    if (path_len > len - at)
        return -1;
    size_t first = efi_path_size(v + at, path_len);
    if (first == 0)
        return -1;
    out->file_path = v + at;
    out->file_path_size = first;
    return 0;
}

bool efi_boot_option_boots(uint32_t attributes)
{
    return (attributes & EFI_LOAD_OPTION_ACTIVE) &&
           (attributes & EFI_LOAD_OPTION_CATEGORY_MASK) == EFI_LOAD_OPTION_CATEGORY_BOOT;
}

int efi_boot_order_after(const uint16_t *order, size_t count, uint16_t current)
{
    for (size_t i = 0; i < count; i++)
        if (order[i] == current)
            return (int)(i + 1);
    return -1;
}

void efi_boot_option_name(uint16_t number, uint16_t name[9])
{
    static const char hex[] = "0123456789ABCDEF";
    static const char prefix[] = "Boot";
    for (int i = 0; i < 4; i++)
        name[i] = (uint16_t)prefix[i];
    for (int i = 0; i < 4; i++)
        name[4 + i] = (uint16_t)hex[(number >> (12 - 4 * i)) & 0xF];
    name[8] = 0;
}
