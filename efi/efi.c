/* Calls into the firmware's boot services (see efi.h). */
#include "efi/efi.h"

#include "efi/mmap.h"
#include "kernel/boot_marker.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/guest_walk.h"
#include "mm/mtrr_msr.h"
#include "mm/hv_memory.h"

uint64_t efi_call6(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                   uint64_t a5, uint64_t a6);

static const struct efi_system_table *systab;
static const struct efi_boot_services *bs;
static const struct efi_runtime_services *rt;       /* NULL when unusable */
static efi_handle loader_image;

#define BS_NEEDS (offsetof(struct efi_boot_services, locate_protocol) + 8)

/* A guest_read_fn over the firmware's identity map, for walking its page tables. */
static bool read_identity(uint64_t pa, void *buf, unsigned len, void *ctx)
{
    (void)ctx;
    const uint8_t *src = phys_to_virt(pa);
    uint8_t *dst = buf;
    for (unsigned i = 0; i < len; i++)
        dst[i] = src[i];
    return true;
}

#define SYSTEM_TABLE_POINTER_ALIGN (4ull << 20)

/* Mapped by the firmware at its own address, and RAM by the MTRRs. */
static bool readable_ram(const struct mtrr_state *m, const struct guest_paging *p, uint64_t a)
{
    uint64_t pa;
    return mtrr_type_of(m, a) == MT_WB && guest_linear_to_phys(p, a, read_identity, NULL, &pa) &&
           pa == a;
}

/*
 * When the boot loader gave no system table: the firmware may keep an
 * EFI_SYSTEM_TABLE_POINTER for debuggers on a 4 MiB boundary as high as it
 * can (UEFI spec 2.10, 18.4.2; EDK2's DXE core always does): "IBI SYST", the
 * table's physical address. Looked for below 4 GiB, from the top, only where
 * the firmware's page tables map the address to itself and the MTRRs say
 * write-back, so that no device register is read. The table's address, or 0.
 */

static uint64_t find_system_table_pointer(void)
{
    if (!(cpuid(1, 0).edx & (1u << 12)))
        return 0;                        /* no MTRRs: nothing tells RAM from devices */
    struct mtrr_state m;
    mtrr_read_current(&m);
    struct guest_paging p = { read_cr0(), read_cr3(), read_cr4(), rdmsr(MSR_IA32_EFER) };
    for (uint64_t a = (4ull << 30) - SYSTEM_TABLE_POINTER_ALIGN; a > 0;
         a -= SYSTEM_TABLE_POINTER_ALIGN) {
        if (!readable_ram(&m, &p, a))
            continue;
        const uint64_t *q = phys_to_virt(a);
        uint64_t table = q[1];
        if (q[0] != EFI_SYSTEM_TABLE_SIGNATURE || !table || table >= (4ull << 30) ||
            (table & 7) || !readable_ram(&m, &p, table))
            continue;
        if (((const struct efi_table_header *)phys_to_virt(table))->signature ==
            EFI_SYSTEM_TABLE_SIGNATURE)
            return table;
    }
    return 0;
}

int efi_init(const struct mb2_info *mbi, char *why, size_t whylen)
{
    uint64_t systab_phys = mbi->efi_system_table;
    if (!systab_phys) {
        systab_phys = find_system_table_pointer();
        if (!systab_phys) {
            fmt_snprintf(why, whylen, "the boot loader kept the firmware's boot services but "
                         "gave no EFI system table (multiboot2 tag 12), and the firmware keeps "
                         "no EFI_SYSTEM_TABLE_POINTER below 4 GiB");
            return -1;
        }
        log_warn("UEFI: the boot loader gave no EFI system table (multiboot2 tag 12); using "
                 "the one at %#llx, from the firmware's EFI_SYSTEM_TABLE_POINTER\n",
                 (unsigned long long)systab_phys);
    }
    if (!mbi->efi_image_handle) {
        fmt_snprintf(why, whylen, "the boot loader gave no EFI image handle (multiboot2 tag "
                     "20), which the next boot stage needs as its parent");
        return -1;
    }
    const struct efi_system_table *st = phys_to_virt(systab_phys);
    if (st->hdr.signature != EFI_SYSTEM_TABLE_SIGNATURE ||
        st->hdr.header_size < sizeof *st) {
        fmt_snprintf(why, whylen, "no EFI system table at %#llx (signature %#llx, size %u)",
                     (unsigned long long)systab_phys,
                     (unsigned long long)st->hdr.signature, st->hdr.header_size);
        return -1;
    }
    const struct efi_boot_services *b = st->boot_services ? phys_to_virt(st->boot_services)
                                                          : NULL;
    if (!b || b->hdr.signature != EFI_BOOT_SERVICES_SIGNATURE ||
        b->hdr.header_size < BS_NEEDS) {
        fmt_snprintf(why, whylen, "the EFI system table at %#llx has no usable boot services "
                     "table (at %#llx)", (unsigned long long)systab_phys,
                     (unsigned long long)st->boot_services);
        return -1;
    }
    systab = st;
    bs = b;
    const struct efi_runtime_services *r = st->runtime_services
                                               ? phys_to_virt(st->runtime_services) : NULL;
    if (r && r->hdr.signature == EFI_RUNTIME_SERVICES_SIGNATURE &&
        r->hdr.header_size >= offsetof(struct efi_runtime_services, set_variable) + 8)
        rt = r;
    loader_image = mbi->efi_image_handle;
    return 0;
}

bool efi_active(void)
{
    return bs != NULL;
}

const char *efi_status_name(efi_status status)
{
    static const char *const names[] = {
        [1] = "EFI_LOAD_ERROR", [2] = "EFI_INVALID_PARAMETER", [3] = "EFI_UNSUPPORTED",
        [4] = "EFI_BAD_BUFFER_SIZE", [5] = "EFI_BUFFER_TOO_SMALL", [6] = "EFI_NOT_READY",
        [7] = "EFI_DEVICE_ERROR", [8] = "EFI_WRITE_PROTECTED", [9] = "EFI_OUT_OF_RESOURCES",
        [10] = "EFI_VOLUME_CORRUPTED", [11] = "EFI_VOLUME_FULL", [12] = "EFI_NO_MEDIA",
        [13] = "EFI_MEDIA_CHANGED", [14] = "EFI_NOT_FOUND", [15] = "EFI_ACCESS_DENIED",
        [16] = "EFI_NO_RESPONSE", [17] = "EFI_NO_MAPPING", [18] = "EFI_TIMEOUT",
        [19] = "EFI_NOT_STARTED", [20] = "EFI_ALREADY_STARTED", [21] = "EFI_ABORTED",
        [26] = "EFI_SECURITY_VIOLATION", [27] = "EFI_CRC_ERROR",
    };
    static char other[40];
    if (status == EFI_SUCCESS)
        return "EFI_SUCCESS";
    uint64_t code = status & ~EFI_ERROR_BIT;
    if ((status & EFI_ERROR_BIT) && code < sizeof names / sizeof names[0] && names[code])
        return names[code];
    fmt_snprintf(other, sizeof other, "EFI status %#llx", (unsigned long long)status);
    return other;
}

efi_status efi_allocate_pages(uint32_t type, uint64_t max_addr, uint64_t pages,
                              uint64_t *addr)
{
    *addr = max_addr;
    return efi_call6(bs->allocate_pages, EFI_ALLOCATE_MAX_ADDRESS, type, pages,
                     (uint64_t)(uintptr_t)addr, 0, 0);
}

efi_status efi_free_pages(uint64_t addr, uint64_t pages)
{
    return efi_call6(bs->free_pages, addr, pages, 0, 0, 0, 0);
}

efi_status efi_read_memory_map(struct mb2_info *mbi)
{
    static uint8_t map[32768];
    uint64_t size = sizeof map, key = 0, desc_size = 0;
    uint32_t version = 0;
    efi_status st = efi_call6(bs->get_memory_map, (uint64_t)(uintptr_t)&size,
                              (uint64_t)(uintptr_t)map, (uint64_t)(uintptr_t)&key,
                              (uint64_t)(uintptr_t)&desc_size, (uint64_t)(uintptr_t)&version, 0);
    if (st != EFI_SUCCESS)
        return st;
    if (efi_mmap_to_mb2(map, size, desc_size, mbi) < 0)
        return EFI_INVALID_PARAMETER;
    return EFI_SUCCESS;
}

efi_status efi_handle_protocol(efi_handle handle, const struct efi_guid *guid, void **iface)
{
    return efi_call6(bs->handle_protocol, handle, (uint64_t)(uintptr_t)guid,
                     (uint64_t)(uintptr_t)iface, 0, 0, 0);
}

efi_status efi_load_image(const uint8_t *path, efi_handle *image)
{
    *image = 0;
    return efi_call6(bs->load_image, 0, loader_image, (uint64_t)(uintptr_t)path, 0, 0,
                     (uint64_t)(uintptr_t)image);
}

efi_status efi_get_variable(const uint16_t *name, void *buf, uint64_t *size)
{
    static const struct efi_guid global = EFI_GLOBAL_VARIABLE_GUID;
    if (!rt)
        return EFI_UNSUPPORTED;
    return efi_call6(rt->get_variable, (uint64_t)(uintptr_t)name, (uint64_t)(uintptr_t)&global,
                     0, (uint64_t)(uintptr_t)size, (uint64_t)(uintptr_t)buf, 0);
}

efi_handle efi_loader_image(void)
{
    return loader_image;
}

/*
 * GRUB on UEFI kept the firmware's boot services for thinvisor. Without a
 * usable system table (neither GRUB's nor the firmware's own pointer to it,
 * efi/efi.c) nothing can be asked of the firmware, not even to start the
 * OS: the boot marker is set (GRUB then hides thinvisor's entry, where the
 * firmware keeps the first page across a reset) and the machine resets.
 */
void efi_take_over(struct mb2_info *mbi, const struct options *opt)
{
    char why[256];
    if (opt->test_no_efi_system_table) {
        log_info("test_no_efi_system_table: leaving out the EFI system table GRUB gave\n");
        mbi->efi_system_table = 0;
    }
    if (efi_init(mbi, why, sizeof why) != 0) {
        log_error("UEFI: %s\n", why);
        if (opt->strict)
            panic("strict: UEFI boot services unusable");
        boot_marker_set();
        log_error("UEFI: resetting in 5 s; GRUB then boots the OS without the thinvisor "
                  "entry\n");
        tsc_calibrate();
        udelay(5000000);
        machine_reset();
    }
    const struct efi_system_table *st = efi_system_table();
    char vendor[48] = "";
    const uint16_t *v = st->firmware_vendor ? phys_to_virt(st->firmware_vendor) : NULL;
    for (size_t i = 0; v && v[i] && i + 1 < sizeof vendor; i++)
        vendor[i] = v[i] >= 0x20 && v[i] < 0x7F ? (char)v[i] : '?';
    log_info("UEFI: firmware '%s' revision %#x, UEFI %u.%u; boot services kept\n", vendor,
             st->firmware_revision, st->hdr.revision >> 16, (st->hdr.revision & 0xFFFF) / 10);
    efi_status mst = efi_read_memory_map(mbi);
    if (mst != EFI_SUCCESS)
        log_error("UEFI: GetMemoryMap failed: %s\n", efi_status_name(mst));
    else if (mbi->mmap_dropped)
        log_warn("UEFI: the firmware's memory map has more ranges than thinvisor keeps\n");
}

const struct efi_system_table *efi_system_table(void)
{
    return systab;
}

const struct efi_boot_services *efi_boot_services(void)
{
    return bs;
}

/* mm/hv_memory.h's firmware hooks: the region and the trampoline page come from the firmware. */
static int alloc_region(uint64_t pages, uint64_t below, uint64_t *base)
{
    /* A reserved allocation is one the OS keeps: the firmware's map, the OS's, shows it so. */
    efi_status st = efi_allocate_pages(EFI_RESERVED_MEMORY_TYPE, below, pages, base);
    if (st == EFI_SUCCESS)
        return 0;
    log_error("UEFI: the firmware refused the hypervisor region: %llu KiB below %#llx (%s)\n",
              (unsigned long long)(pages * 4), (unsigned long long)below + 1,
              efi_status_name(st));
    return -1;
}

/* Boot-services data: the page stays the firmware's, and the OS reclaims it. */
static int borrow_page(uint64_t below, uint64_t *page)
{
    efi_status st = efi_allocate_pages(EFI_BOOT_SERVICES_DATA, below, 1, page);
    if (st == EFI_SUCCESS)
        return 0;
    log_warn("UEFI: the firmware has no page below %#llx for the AP trampoline (%s)\n",
             (unsigned long long)below + 1, efi_status_name(st));
    return -1;
}

static void return_page(uint64_t page)
{
    efi_free_pages(page, 1);
}

const struct firmware_memory efi_firmware_memory = {
    .alloc_region = alloc_region, .borrow_page = borrow_page, .return_page = return_page,
};
