/* Where the guest starts: the boot sector of the chosen drive at 0000:7C00. */
#ifndef THINVISOR_GUEST_BOOT_H
#define THINVISOR_GUEST_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cmdline.h"
#include "kernel/multiboot2.h"

#define BOOT_SECTOR_ADDR 0x7C00
#define BOOT_SECTOR_SIZE 512

struct guest_start {
    uint16_t cs;              /* real-mode CS:IP of the guest's first instruction */
    uint16_t ip;
    uint8_t drive;            /* DL for the boot sector */
    const char *source;       /* for the log: "module 'bootsector'", "INT 13h" */
    bool interrupts_off;      /* IF clear: an ACPI waking vector; a BIOS starts boot sectors with IF set */
};

/*
 * Checks a boot sector image: 512 bytes ending in 0x55 0xAA. Returns 0, or
 * -1 with the reason in `why`. Portable C.
 */
int boot_sector_check(const uint8_t *data, uint64_t size, char *why, unsigned whylen);

/*
 * Installs the BIOS hooks (guest/bios.c): INT 15h answers from a memory map
 * with the hypervisor region reserved; *loader is set to the INT 13h
 * boot-sector loader. Returns 0, or -1 after logging why.
 */
int guest_install_bios_hooks(const struct mb2_info *mbi, const struct options *opt,
                             uint8_t drive, struct guest_start *loader);

/*
 * Puts the guest's first code in place: the BIOS hooks, then the boot sector
 * module copied to 0x7C00, or else the INT 13h loader for the chosen drive.
 * Returns 0, or -1 after logging why.
 */
int guest_prepare_boot(const struct mb2_info *mbi, const struct options *opt,
                       struct guest_start *start);

#endif
