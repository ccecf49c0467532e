/* Booting the guest chain on bare metal when virtualization cannot start. */
#ifndef THINVISOR_NATIVE_BOOT_H
#define THINVISOR_NATIVE_BOOT_H

#include "guest/boot.h"

/*
 * Halts the APs (the guest's OS will INIT them), returns the BSP to real
 * mode and jumps to the boot sector placed by guest_prepare_boot(). Only the
 * 3 KiB below 0x7C00 are used for the way down.
 */
void native_boot(const struct guest_start *start) __attribute__((noreturn));

#endif
