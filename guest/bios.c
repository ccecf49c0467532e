/*
 * Installing the guest's BIOS hooks (guest/bios_hooks.asm): the edited memory
 * map behind INT 15h, and the INT 13h boot-sector loader. They live in whole
 * KiB taken from the top of conventional memory, announced to the guest by
 * lowering the BDA's memory size word (0x413), the classic way.
 */
#include "guest/boot.h"
#include "guest/e820.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"

extern const uint8_t bios_hooks_start[], bios_hooks_end[], bh_int15[], bh_loader[];
extern const uint8_t bh_old_int15[], bh_e820_count[], bh_e801_ax[], bh_e801_bx[], bh_kib_88[];
extern const uint8_t bh_drive[], bh_com_port[], bh_test_exit[], bh_e820_table[];

#define BDA_BASE_MEMORY_KIB 0x413
#define IVT_INT15           (0x15 * 4)

#define FIELD(area, sym) ((area) + ((sym) - bios_hooks_start))

static struct e820_entry map[E820_MAX_ENTRIES];
static int map_count;
static uint64_t hooks_base;

int guest_install_bios_hooks(const struct mb2_info *mbi, const struct options *opt,
                             uint8_t drive, struct guest_start *loader)
{
    volatile uint16_t *bda_kib = phys_to_virt(BDA_BASE_MEMORY_KIB);
    uint16_t old_kib = *bda_kib;
    if (old_kib < 64 || old_kib > 640) {
        log_error("BIOS data area reports %u KiB of base memory; cannot place the BIOS hooks\n",
                  old_kib);
        return -1;
    }
    size_t code = (size_t)(bios_hooks_end - bios_hooks_start);
    /* Size first with the most entries the map can take, then edit with the real size. */
    uint32_t kib = (uint32_t)((code + E820_MAX_ENTRIES * sizeof(struct e820_entry) + 1023) / 1024);
    hooks_base = (uint64_t)(old_kib - kib) * 1024;
    struct phys_range hide[2] = {
        { hv_memory.base, hv_memory.base + hv_memory.size },
        { hooks_base, (uint64_t)old_kib * 1024 },
    };
    map_count = e820_hide(mbi->mmap, mbi->mmap_count, hide, 2, map, E820_MAX_ENTRIES);
    if (map_count < 0) {
        log_error("the guest memory map needs more than %u entries\n", E820_MAX_ENTRIES);
        return -1;
    }

    uint8_t *area = phys_to_virt(hooks_base);
    uint16_t seg = (uint16_t)(hooks_base >> 4);
    memcpy(area, bios_hooks_start, code);
    memcpy(FIELD(area, bh_e820_table), map, (size_t)map_count * sizeof map[0]);
    *(uint32_t *)FIELD(area, bh_e820_count) = (uint32_t)map_count;
    e820_legacy_sizes(map, map_count, (uint16_t *)FIELD(area, bh_e801_ax),
                      (uint16_t *)FIELD(area, bh_e801_bx), (uint16_t *)FIELD(area, bh_kib_88));
    *(uint16_t *)FIELD(area, bh_com_port) = opt->console_port;
    *FIELD(area, bh_drive) = drive;
    *FIELD(area, bh_test_exit) = opt->test_exit;

    volatile uint16_t *ivt15 = phys_to_virt(IVT_INT15);
    memcpy(FIELD(area, bh_old_int15), (const void *)ivt15, 4);
    ivt15[0] = (uint16_t)(bh_int15 - bios_hooks_start);
    ivt15[1] = seg;
    *bda_kib = (uint16_t)(old_kib - kib);

    *loader = (struct guest_start){ .cs = seg, .ip = (uint16_t)(bh_loader - bios_hooks_start),
                                    .drive = drive, .source = "INT 13h" };
    log_info("guest BIOS hooks at %#llx (%u KiB below %u KiB): INT 15h memory map with %d "
             "entries\n", (unsigned long long)hooks_base, kib, old_kib, map_count);
    for (int i = 0; i < map_count; i++)
        log_info("  guest E820 %016llx-%016llx %s\n", (unsigned long long)map[i].base,
                 (unsigned long long)(map[i].base + map[i].length - 1),
                 mb2_memory_type_name(map[i].type));
    return 0;
}
