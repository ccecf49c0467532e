/* The next boot stage on UEFI: found, loaded and started (see efi_boot.h). */
#include "efi/next_stage.h"

#include "kernel/boot_marker.h"
#include "kernel/cr_bits.h"
#include "efi/efi.h"
#include "efi/bootorder.h"
#include "efi/path.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/segment.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"

/* boot/efi_entry.asm: what efi_start_next runs, and the code itself (in .boot, identity-mapped). */
struct efi_next_stage {
    efi_handle image;
    uint64_t start_image;
    efi_handle parent;
    uint64_t exit;
    uint64_t conout;
    uint64_t output_string;
    efi_status status;
};
extern struct efi_next_stage *const efi_next_stage_ptr;
extern void (*const efi_start_next_ptr)(void) __attribute__((noreturn));

/* boot/efi_entry.asm: the firmware's context as efi_entry64 found it (efi_fw_context). */
struct descriptor_table_reg {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

struct efi_firmware_context {
    uint64_t cr3, rflags, cr0, cr4, efer, pat, fs_base, gs_base, kernel_gs_base;
    uint16_t sel[SEG_COUNT];                /* ES CS SS DS FS GS LDTR TR, as read */
    struct descriptor_table_reg gdtr;
    uint8_t pad0[6];
    struct descriptor_table_reg idtr;
    uint8_t pad1[6];
};
_Static_assert(__builtin_offsetof(struct efi_firmware_context, gdtr) == 88 &&
               sizeof(struct efi_firmware_context) == 120, "efi_fw_context's layout");
extern const struct efi_firmware_context *const efi_fw_context_ptr;
extern uint8_t *const efi_next_stack_top_ptr;

#define DEVICE_PATH_READ_MAX 4096      /* a firmware's device path is far shorter */

static efi_handle next_image;
static bool to_boot_manager;           /* efi_next=bootorder found an option after this one */

/* LoadImage of `path`; logs the outcome under `what`. */
static int load(const uint8_t *path, size_t size, const char *what)
{
    char text[160];
    efi_path_describe(path, size, text, sizeof text);
    efi_status st = efi_load_image(path, &next_image);
    if (st != EFI_SUCCESS) {
        log_warn("UEFI: cannot load %s %s: %s\n", what, text, efi_status_name(st));
        next_image = 0;
        return -1;
    }
    log_info("UEFI: next boot stage: %s %s\n", what, text);
    return 0;
}

/*
 * efi_next=bootorder: names the option the firmware's boot manager starts
 * when GRUB's image exits with an error, the first one after BootCurrent in
 * BootOrder that it would boot (UEFI spec 2.10, 3.1.1). 0, or -1 after a
 * warning saying why there is none.
 */
static int find_bootorder_next(void)
{
    static uint16_t order[256];
    static uint8_t value[4096];
    uint16_t current = 0, name[9];
    uint64_t size = sizeof current;
    efi_status st = efi_get_variable(u"BootCurrent", &current, &size);
    if (st != EFI_SUCCESS || size != sizeof current) {
        log_warn("UEFI: efi_next=bootorder: no BootCurrent variable (%s)\n",
                 efi_status_name(st));
        return -1;
    }
    size = sizeof order;
    st = efi_get_variable(u"BootOrder", order, &size);
    if (st != EFI_SUCCESS) {
        log_warn("UEFI: efi_next=bootorder: no BootOrder variable (%s)\n", efi_status_name(st));
        return -1;
    }
    size_t count = size / sizeof order[0];
    int i = efi_boot_order_after(order, count, current);
    if (i < 0) {
        log_warn("UEFI: efi_next=bootorder: the current option Boot%04X is not in BootOrder\n",
                 current);
        return -1;
    }
    for (; (size_t)i < count; i++) {
        struct efi_boot_option o;
        efi_boot_option_name(order[i], name);
        size = sizeof value;
        st = efi_get_variable(name, value, &size);
        if (st == EFI_BUFFER_TOO_SMALL) {
            log_info("UEFI: next boot stage: BootOrder after Boot%04X: Boot%04X (%llu bytes, "
                     "more than thinvisor reads), started by the firmware's boot manager\n",
                     current, order[i], (unsigned long long)size);
            return 0;
        }
        if (st != EFI_SUCCESS || efi_boot_option_parse(value, size, &o) != 0) {
            log_warn("UEFI: Boot%04X in BootOrder is %s; the boot manager skips it\n", order[i],
                     st != EFI_SUCCESS ? efi_status_name(st) : "malformed");
            continue;
        }
        if (!efi_boot_option_boots(o.attributes))
            continue;
        char text[160];
        efi_path_describe(o.file_path, o.file_path_size, text, sizeof text);
        log_info("UEFI: next boot stage: BootOrder after Boot%04X: Boot%04X '%s' %s, started "
                 "by the firmware's boot manager\n", current, order[i], o.description, text);
        return 0;
    }
    log_warn("UEFI: efi_next=bootorder: no boot option the boot manager would start comes "
             "after Boot%04X in BootOrder\n", current);
    return -1;
}

int efi_prepare_next(const struct options *opt)
{
    static const struct efi_guid loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
    static const struct efi_guid device_path_guid = EFI_DEVICE_PATH_PROTOCOL_GUID;
    static uint8_t path[1024], file[600];
    struct efi_loaded_image *li = NULL;
    uint8_t *dev = NULL;
    efi_status st = efi_handle_protocol(efi_loader_image(), &loaded_image_guid, (void **)&li);
    if (st != EFI_SUCCESS || !li) {
        log_error("UEFI: the boot loader's image has no loaded-image protocol (%s)\n",
                  efi_status_name(st));
        return -1;
    }
    st = efi_handle_protocol(li->device_handle, &device_path_guid, (void **)&dev);
    if (st != EFI_SUCCESS || !dev) {
        log_error("UEFI: the device the boot loader came from has no device path (%s)\n",
                  efi_status_name(st));
        return -1;
    }
    if (opt->efi_next_bootorder) {
        if (find_bootorder_next() == 0) {
            to_boot_manager = true;
            return 0;
        }
        log_warn("UEFI: starting the boot loader that started thinvisor again instead: its "
                 "thinvisor entry hides\n");
    }
    if (opt->efi_next[0]) {
        size_t fsize = efi_path_file(file, sizeof file, opt->efi_next);
        size_t size = fsize ? efi_path_join(path, sizeof path, dev, DEVICE_PATH_READ_MAX,
                                            file, fsize) : 0;
        if (size && load(path, size, "efi_next=") == 0)
            return 0;
        if (!size)
            log_warn("UEFI: efi_next=%s: no device path fits it\n", opt->efi_next);
        log_warn("UEFI: efi_next=%s cannot be started; starting the boot loader that started "
                 "thinvisor again instead: its thinvisor entry hides\n", opt->efi_next);
    }
    const uint8_t *own = li->file_path ? phys_to_virt(li->file_path) : NULL;
    size_t size = own ? efi_path_join(path, sizeof path, dev, DEVICE_PATH_READ_MAX, own,
                                      DEVICE_PATH_READ_MAX) : 0;
    if (!size) {
        log_error("UEFI: the boot loader's own file path is missing or malformed\n");
        return -1;
    }
    return load(path, size, "the boot loader again,");
}

/*
 * What efi_start_next needs, from the boot services as they are now. Without
 * an image it exits GRUB's with `status`, an error: the boot manager then goes
 * on with BootOrder (an EFI_SUCCESS would make it show its menu, 3.1.1).
 */
static void fill_next_stage(void)
{
    const struct efi_system_table *st = efi_system_table();
    struct efi_next_stage *next = efi_next_stage_ptr;
    next->image = next_image;
    next->status = to_boot_manager ? EFI_ABORTED : EFI_NOT_FOUND;
    next->start_image = efi_boot_services()->start_image;
    next->exit = efi_boot_services()->exit;
    next->parent = efi_loader_image();
    next->conout = st->con_out;
    next->output_string =
        st->con_out ? ((const struct efi_text_output *)phys_to_virt(st->con_out))->output_string
                    : 0;
}

void efi_boot_natively(const char *why)
{
    smp_halt_aps();
    boot_marker_set();
    log_warn("UEFI: %s: starting the next boot stage natively (no hypervisor)\n", why);
    if (!next_image && !to_boot_manager)
        log_error("UEFI: no next boot stage was loaded; handing the machine back to the "
                  "firmware's boot manager\n");
    fill_next_stage();
    efi_start_next_ptr();
}

int efi_guest_state(struct guest_long_mode *g, char *why, size_t whylen)
{
    const struct efi_firmware_context *fw = efi_fw_context_ptr;
    *g = (struct guest_long_mode){
        .cr0 = fw->cr0, .cr3 = fw->cr3, .cr4 = fw->cr4, .efer = fw->efer, .pat = fw->pat,
        .rflags = 0x2,                       /* efi_start_next restores the firmware's */
        .rip = (uint64_t)(uintptr_t)efi_start_next_ptr,
        .rsp = (uint64_t)(uintptr_t)efi_next_stack_top_ptr,
        .kernel_gs_base = fw->kernel_gs_base,
        .gdtr_base = fw->gdtr.base, .gdtr_limit = fw->gdtr.limit,
        .idtr_base = fw->idtr.base, .idtr_limit = fw->idtr.limit,
    };
    for (unsigned r = 0; r < SEG_COUNT; r++) {
        char what[120];
        if (segment_from_gdt(fw->gdtr.base, fw->gdtr.limit, (enum segment_reg)r, fw->sel[r],
                             hv_read_guest_phys, NULL, &g->seg[r], what, sizeof what) != 0) {
            fmt_snprintf(why, whylen, "the firmware's %s", what);
            return -1;
        }
    }
    g->seg[SEG_FS].base = fw->fs_base;       /* in 64-bit mode the MSRs hold them */
    g->seg[SEG_GS].base = fw->gs_base;
    if (!(fw->efer & EFER_LMA) || !(g->seg[SEG_CS].ar & SEG_AR_L)) {
        fmt_snprintf(why, whylen, "the firmware does not run in 64-bit mode (EFER %#llx, CS "
                     "access rights %#x)", (unsigned long long)fw->efer, g->seg[SEG_CS].ar);
        return -1;
    }
    fill_next_stage();
    return 0;
}
