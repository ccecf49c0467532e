/*
 * The UEFI boot path's two ends: the next boot stage (the OS's EFI loader),
 * loaded while thinvisor still borrows the firmware, and started in the
 * firmware's own context when thinvisor is done.
 */
#ifndef THINVISOR_EFI_BOOT_H
#define THINVISOR_EFI_BOOT_H

#include "kernel/cmdline.h"

/*
 * Loads the next boot stage with LoadImage: efi_next= (a file on the device
 * GRUB came from) when given and loadable, else GRUB's own file again, whose
 * thinvisor entry then hides (kernel/boot_marker.h). Returns 0, or -1 after
 * logging why nothing could be loaded.
 */
int efi_prepare_next(const struct options *opt);

/*
 * Halts the APs (they wait for the OS's INIT, as on a BIOS boot), sets the
 * boot marker (the next GRUB hides thinvisor's entry), puts the
 * firmware's page tables, GDT, IDT and flags back and starts what
 * efi_prepare_next loaded (boot/efi_entry.asm, efi_start_next). Without a
 * loaded image, or when it returns, control goes back to the firmware's boot
 * manager. `why` says why this is a native start, for the log.
 */
void efi_boot_natively(const char *why) __attribute__((noreturn));

#endif
