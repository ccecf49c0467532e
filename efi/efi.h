/*
 * The firmware's boot services, for the UEFI boot path: thinvisor's region
 * and the AP trampoline come from AllocatePages, the next boot stage from
 * LoadImage or from BootOrder (GetVariable). Every call goes through
 * boot/efi_entry.asm's efi_call6 (the firmware's GDT, IDT and interrupt flag)
 * and happens on the BSP before any guest runs. On a BIOS boot efi_active() is false and nothing here is used.
 */
#ifndef THINVISOR_EFI_H
#define THINVISOR_EFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "efi/abi.h"
#include "kernel/cmdline.h"
#include "kernel/multiboot2.h"
#include "mm/hv_memory.h"

/*
 * Checks the system table and boot services the boot loader handed over
 * (signatures, sizes, the services used here); without the loader's system
 * table, takes the one the firmware's EFI_SYSTEM_TABLE_POINTER names, with a
 * warning. Returns 0, or -1 with why.
 */
int efi_init(const struct mb2_info *mbi, char *why, size_t whylen);

/*
 * GRUB on UEFI kept the firmware's boot services for thinvisor: efi_init,
 * the firmware named in the log, and its memory map read into mbi (GRUB
 * gives none while it keeps the boot services). Without a usable system
 * table, nothing can be asked of the firmware: the boot marker is set and
 * the machine resets (strict: halts).
 */
void efi_take_over(struct mb2_info *mbi, const struct options *opt);

/* True after efi_init succeeded: the firmware's boot services are there to call. */
bool efi_active(void);

/* The UEFI spec's name of a status code ("EFI_NOT_FOUND"), or "EFI status 0x..." . */
const char *efi_status_name(efi_status status);

/*
 * AllocatePages with AllocateMaxAddress: `pages` 4 KiB pages of `type`, as
 * high as the firmware places them below max_addr (EDK2 allocates top-down).
 */
efi_status efi_allocate_pages(uint32_t type, uint64_t max_addr, uint64_t pages,
                              uint64_t *addr);

/* GetMemoryMap, converted into mbi's (E820-style) map: see efi/mmap.h. */
efi_status efi_read_memory_map(struct mb2_info *mbi);

efi_status efi_free_pages(uint64_t addr, uint64_t pages);

efi_status efi_handle_protocol(efi_handle handle, const struct efi_guid *guid, void **iface);

/* LoadImage(FALSE, the boot loader's image, path, NULL, 0, image). */
efi_status efi_load_image(const uint8_t *path, efi_handle *image);

/*
 * GetVariable of a variable under EFI_GLOBAL_VARIABLE_GUID (BootOrder,
 * Boot0001): *size in, the value's size out. EFI_UNSUPPORTED when the system
 * table has no usable runtime services.
 */
efi_status efi_get_variable(const uint16_t *name, void *buf, uint64_t *size);

/* The boot loader's (GRUB's) image handle, the parent of the next boot stage. */
efi_handle efi_loader_image(void);

const struct efi_system_table *efi_system_table(void);
const struct efi_boot_services *efi_boot_services(void);

/* The region and the AP trampoline's page, asked of the firmware (mm/hv_memory.h). */
extern const struct firmware_memory efi_firmware_memory;

#endif
