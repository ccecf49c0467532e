/*
 * Multiboot2 boot information parser. The information comes from whatever
 * loaded us, so every size and offset is checked before it is used: a bad
 * tag yields a message that names it, never a read outside the buffer.
 */
#include "kernel/multiboot2.h"

#include "kernel/parse.h"

static const char *tag_name(uint32_t type)
{
    switch (type) {
    case MB2_TAG_END: return "end";
    case MB2_TAG_CMDLINE: return "command line";
    case MB2_TAG_LOADER_NAME: return "boot loader name";
    case MB2_TAG_MODULE: return "module";
    case MB2_TAG_BASIC_MEMINFO: return "basic memory info";
    case MB2_TAG_BOOTDEV: return "boot device";
    case MB2_TAG_MMAP: return "memory map";
    case MB2_TAG_ACPI_OLD: return "ACPI 1.0 RSDP";
    case MB2_TAG_ACPI_NEW: return "ACPI 2.0 RSDP";
    case MB2_TAG_LOAD_BASE: return "load base address";
    case MB2_TAG_EFI64_SYSTAB: return "EFI 64-bit system table";
    case MB2_TAG_EFI_BS: return "EFI boot services";
    case MB2_TAG_EFI64_IH: return "EFI 64-bit image handle";
    default: return "unknown";
    }
}

const char *mb2_memory_type_name(uint32_t type)
{
    switch (type) {
    case MB2_MEMORY_AVAILABLE: return "usable";
    case MB2_MEMORY_RESERVED: return "reserved";
    case MB2_MEMORY_ACPI: return "ACPI reclaimable";
    case MB2_MEMORY_NVS: return "ACPI NVS";
    case MB2_MEMORY_BADRAM: return "bad RAM";
    default: return "unknown";
    }
}

/* Returns the string if it is NUL-terminated within [s, s + len), else NULL. */
static const char *checked_string(const uint8_t *s, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (s[i] == '\0')
            return (const char *)s;
    return NULL;
}

#define TAG_FAIL(why, ...)                                                  \
    FAIL("multiboot2: tag #%u (type %u, %s) at offset 0x%x: " why, index,  \
         type, tag_name(type), off, ##__VA_ARGS__)

static int parse_mmap(const uint8_t *tag, uint32_t size, struct mb2_info *out,
                      char *err, size_t errlen, unsigned index, uint32_t off)
{
    uint32_t type = MB2_TAG_MMAP;
    if (size < 16)
        TAG_FAIL("size %u is smaller than the 16-byte header", size);
    uint32_t entry_size = rd32(tag + 8);
    uint32_t entry_version = rd32(tag + 12);
    if (entry_size < 24 || entry_size % 8 != 0)
        TAG_FAIL("entry size %u (must be a multiple of 8, at least 24)", entry_size);
    if (entry_version != 0)
        TAG_FAIL("entry version %u (only version 0 is defined)", entry_version);
    if ((size - 16) % entry_size != 0)
        TAG_FAIL("size %u is not 16 plus a whole number of %u-byte entries", size,
                 entry_size);
    out->has_mmap = true;
    out->mmap_count = 0;
    out->mmap_dropped = 0;
    for (uint32_t e = 16; e < size; e += entry_size) {
        if (out->mmap_count == MB2_MAX_MMAP) {
            out->mmap_dropped++;
            continue;
        }
        struct mb2_mmap_entry *m = &out->mmap[out->mmap_count++];
        m->base = rd64(tag + e);
        m->length = rd64(tag + e + 8);
        m->type = rd32(tag + e + 16);
    }
    return 0;
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out,
              char *err, size_t errlen)
{
    const uint8_t *p = info;
    *out = (struct mb2_info){ 0 };

    if (avail < 8)
        FAIL("multiboot2: boot information truncated (%zu bytes)", avail);
    uint32_t total = rd32(p);
    if (total < 16)
        FAIL("multiboot2: total size %u is too small to hold an end tag", total);
    if (total > avail)
        FAIL("multiboot2: total size %u exceeds the %zu bytes available", total, avail);
    out->total_size = total;

    uint32_t off = 8;
    for (unsigned index = 0;; index++) {
        uint32_t type = 0;
        if (off + 8 > total || off + 8 < off)
            FAIL("multiboot2: no end tag within the total size %u (tag #%u at offset 0x%x)",
                 total, index, off);
        type = rd32(p + off);
        uint32_t size = rd32(p + off + 4);
        const uint8_t *tag = p + off;
        if (size < 8)
            TAG_FAIL("size %u is smaller than a tag header", size);
        if (size > total - off)
            TAG_FAIL("size %u runs past the end of the information (%u bytes)", size,
                     total);

        switch (type) {
        case MB2_TAG_END:
            if (size != 8)
                TAG_FAIL("end tag has size %u, not 8", size);
            return 0;
        case MB2_TAG_CMDLINE:
            out->cmdline = checked_string(tag + 8, size - 8);
            if (!out->cmdline)
                TAG_FAIL("string is not NUL-terminated");
            break;
        case MB2_TAG_LOADER_NAME:
            out->loader_name = checked_string(tag + 8, size - 8);
            if (!out->loader_name)
                TAG_FAIL("string is not NUL-terminated");
            break;
        case MB2_TAG_MODULE: {
            if (size < 17)
                TAG_FAIL("size %u is too small for a module", size);
            uint32_t start = rd32(tag + 8), end = rd32(tag + 12);
            const char *s = checked_string(tag + 16, size - 16);
            if (!s)
                TAG_FAIL("module string is not NUL-terminated");
            if (end < start)
                TAG_FAIL("module ends (0x%x) before it starts (0x%x)", end, start);
            if (out->module_count == MB2_MAX_MODULES) {
                out->modules_dropped++;
                break;
            }
            out->modules[out->module_count++] = (struct mb2_module){ start, end, s };
            break;
        }
        case MB2_TAG_MMAP:
            if (parse_mmap(tag, size, out, err, errlen, index, off))
                return -1;
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            uint32_t need = type == MB2_TAG_ACPI_OLD ? 20 : 36;
            if (size - 8 < need)
                TAG_FAIL("holds %u bytes, an RSDP needs %u", size - 8, need);
            /* Prefer the ACPI 2.0 RSDP (it leads to the XSDT) when both are given. */
            if (type == MB2_TAG_ACPI_NEW || out->rsdp_version < 2) {
                out->rsdp = tag + 8;
                out->rsdp_len = size - 8;
                out->rsdp_version = type == MB2_TAG_ACPI_NEW ? 2 : 1;
            }
            break;
        }
        case MB2_TAG_EFI64_SYSTAB:
        case MB2_TAG_EFI64_IH: {
            if (size < 16)
                TAG_FAIL("size %u is too small for a 64-bit pointer", size);
            uint64_t ptr = rd64(tag + 8);
            if (!ptr)
                TAG_FAIL("the pointer is 0");
            if (type == MB2_TAG_EFI64_SYSTAB)
                out->efi_system_table = ptr;
            else
                out->efi_image_handle = ptr;
            break;
        }
        case MB2_TAG_EFI_BS:
            out->efi_boot_services = true;
            break;
        default:
            break;    /* tags we do not use are skipped, as the spec asks */
        }

        uint32_t next = off + ((size + 7) & ~7u);
        if (next <= off)
            TAG_FAIL("size %u wraps the offset", size);
        off = next;
    }
}
