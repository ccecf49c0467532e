/*
 * Whether a boot sector image can be started: portable C, so host tests and
 * fuzzers can check every bad input the GRUB entry may hand over.
 */
#include "guest/boot.h"

#include "kernel/format.h"

int boot_sector_check(const uint8_t *data, uint64_t size, char *why, unsigned whylen)
{
    if (size == 0) {
        fmt_snprintf(why, whylen, "the boot sector module is empty");
        return -1;
    }
    if (size != BOOT_SECTOR_SIZE) {
        fmt_snprintf(why, whylen, "the boot sector module is %llu bytes; a boot sector is %u "
                     "(use 'module2 --nounzip (hd0)+1 bootsector')", (unsigned long long)size,
                     BOOT_SECTOR_SIZE);
        return -1;
    }
    if (data[510] != 0x55 || data[511] != 0xAA) {
        fmt_snprintf(why, whylen, "the boot sector has no 0x55AA signature (ends in %02x %02x): "
                     "the disk is not bootable", data[510], data[511]);
        return -1;
    }
    return 0;
}
