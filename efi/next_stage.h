/*
 * The UEFI boot path's two ends: the next boot stage (the OS's EFI loader),
 * loaded while thinvisor still borrows the firmware, and started in the
 * firmware's own context when thinvisor is done: natively, or as the guest.
 */
#ifndef THINVISOR_EFI_BOOT_H
#define THINVISOR_EFI_BOOT_H

#include <stddef.h>

#include "guest/long_mode.h"
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

/*
 * The guest's first state on UEFI: the firmware's context as thinvisor found
 * it (CR0, CR3, CR4, EFER, PAT, its GDT's segments, IDT), at efi_start_next
 * on its stack outside the hypervisor region; and efi_start_next's data
 * filled, so that the guest starts what efi_prepare_next loaded. 0, or -1
 * with why (a firmware GDT thinvisor cannot read or decode, not 64-bit).
 */
int efi_guest_state(struct guest_long_mode *g, char *why, size_t whylen);

#endif
