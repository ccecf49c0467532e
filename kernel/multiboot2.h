/*
 * The multiboot2 boot information, as the rest of the kernel sees it after
 * kernel/multiboot2.c has checked every size and offset in it.
 * Layout reference: Multiboot2 specification, section 3.6 "Boot information".
 */
#ifndef THINVISOR_MULTIBOOT2_H
#define THINVISOR_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB2_BOOTLOADER_MAGIC 0x36D76289u

/* Tag types (Multiboot2 spec, 3.6.x). */
#define MB2_TAG_END          0
#define MB2_TAG_CMDLINE      1
#define MB2_TAG_LOADER_NAME  2
#define MB2_TAG_MODULE       3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV      5
#define MB2_TAG_MMAP         6
#define MB2_TAG_ACPI_OLD     14
#define MB2_TAG_ACPI_NEW     15
#define MB2_TAG_EFI64_SYSTAB 12   /* 3.6.13: the EFI system table, a 64-bit address */
#define MB2_TAG_EFI_BS       18   /* 3.6.16: boot services were not exited */
#define MB2_TAG_EFI64_IH     20   /* 3.6.18: the EFI image handle of the loader (GRUB) */
#define MB2_TAG_LOAD_BASE    21

/* Memory map entry types (same numbering as the BIOS E820 call). */
#define MB2_MEMORY_AVAILABLE 1
#define MB2_MEMORY_RESERVED  2
#define MB2_MEMORY_ACPI      3
#define MB2_MEMORY_NVS       4
#define MB2_MEMORY_BADRAM    5

#define MB2_MAX_MMAP     128
#define MB2_MAX_MODULES  16
#define MB2_MAX_INFO_SIZE (1u << 20)   /* larger than any real loader writes */

struct mb2_mmap_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
};

struct mb2_module {
    uint32_t start;          /* physical, inclusive */
    uint32_t end;            /* physical, exclusive */
    const char *string;      /* NUL-terminated, inside the info */
};

struct mb2_info {
    uint32_t total_size;
    const char *cmdline;     /* NULL when the loader gave none */
    const char *loader_name;
    bool has_mmap;
    uint32_t mmap_count;
    uint32_t mmap_dropped;   /* entries beyond MB2_MAX_MMAP */
    struct mb2_mmap_entry mmap[MB2_MAX_MMAP];
    uint32_t module_count;
    uint32_t modules_dropped;
    struct mb2_module modules[MB2_MAX_MODULES];
    const uint8_t *rsdp;     /* copy of the RSDP the loader found, or NULL */
    uint32_t rsdp_len;
    int rsdp_version;        /* 1: ACPI 1.0 (tag 14), 2: ACPI 2.0+ (tag 15) */
    uint64_t efi_system_table;   /* physical address; 0 when the loader gave none */
    uint64_t efi_image_handle;   /* the loader's own image handle; 0 when not given */
    bool efi_boot_services;      /* the firmware's boot services still run (tag 18) */
};

/*
 * Parses the boot information at `info`, of which at most `avail` bytes may
 * be read. Returns 0 on success; otherwise -1 with a message naming the bad
 * tag in `err`. Never reads outside [info, info + avail).
 */
int mb2_parse(const void *info, size_t avail, struct mb2_info *out,
              char *err, size_t errlen);

const char *mb2_memory_type_name(uint32_t type);

#endif
