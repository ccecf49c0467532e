/*
 * The guest's first instruction. A BIOS starts a boot sector at 0000:7C00
 * with DL = its drive; thinvisor does the same, with the boot sector GRUB
 * loaded as a multiboot2 module (`module2 --nounzip (hd0)+1 bootsector`).
 */
#include "guest/boot.h"

#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"

/* The module named "bootsector", or the only module when there is one. */
static const struct mb2_module *find_boot_module(const struct mb2_info *mbi)
{
    for (uint32_t i = 0; i < mbi->module_count; i++)
        if (strlen(mbi->modules[i].string) == 10 &&
            memcmp(mbi->modules[i].string, "bootsector", 10) == 0)
            return &mbi->modules[i];
    return mbi->module_count == 1 ? &mbi->modules[0] : NULL;
}

int guest_prepare_boot(const struct mb2_info *mbi, const struct options *opt,
                       struct guest_start *start)
{
    const struct mb2_module *m = find_boot_module(mbi);
    uint8_t drive = opt->boot_drive >= 0 ? (uint8_t)opt->boot_drive : 0x80;
    if (guest_install_bios_hooks(mbi, opt, drive, start) != 0)
        return -1;
    if (!m) {
        if (mbi->module_count)
            log_warn("%u module(s), none named 'bootsector': reading the boot sector of drive "
                     "%#x through INT 13h\n", mbi->module_count, drive);
        return 0;                 /* *start is the INT 13h loader */
    }
    char why[160];
    const uint8_t *data = phys_to_virt(m->start);
    if (boot_sector_check(data, m->end - m->start, why, sizeof why) != 0) {
        log_error("%s\n", why);
        return -1;
    }
    memcpy(phys_to_virt(BOOT_SECTOR_ADDR), data, BOOT_SECTOR_SIZE);
    *start = (struct guest_start){ .cs = 0, .ip = BOOT_SECTOR_ADDR, .drive = drive,
                                   .source = "module 'bootsector'" };
    return 0;
}
