/* The next boot stage on UEFI: found, loaded and started (see efi_boot.h). */
#include "kernel/efi_boot.h"

#include "kernel/boot_marker.h"
#include "kernel/efi.h"
#include "kernel/efi_path.h"
#include "kernel/log.h"
#include "kernel/native_boot.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"

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

#define DEVICE_PATH_READ_MAX 4096      /* a firmware's device path is far shorter */

static efi_handle next_image;

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

void efi_boot_natively(const char *why)
{
    const struct efi_system_table *st = efi_system_table();
    native_halt_aps();
    boot_marker_set();
    log_warn("UEFI: %s: starting the next boot stage natively (no hypervisor)\n", why);
    if (!next_image)
        log_error("UEFI: no next boot stage was loaded; handing the machine back to the "
                  "firmware's boot manager\n");
    struct efi_next_stage *next = efi_next_stage_ptr;
    next->image = next_image;
    next->start_image = efi_boot_services()->start_image;
    next->exit = efi_boot_services()->exit;
    next->parent = efi_loader_image();
    next->conout = st->con_out;
    next->output_string =
        st->con_out ? ((const struct efi_text_output *)phys_to_virt(st->con_out))->output_string
                    : 0;
    efi_start_next_ptr();
}
