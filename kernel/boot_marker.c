/* The "thinvisor has run" marker in the BIOS Data Area (see boot_marker.h). */
#include "kernel/boot_marker.h"

#include "kernel/log.h"
#include "kernel/phys.h"

void boot_marker_set(void)
{
    /* Low memory is identity-mapped (mm/hv_memory.h); volatile: the guest reads it, we never do. */
    volatile uint32_t *marker = phys_to_virt(BOOT_MARKER_ADDR);
    if (*marker == BOOT_MARKER_VALUE)
        log_warn("boot marker already set at %#x: thinvisor ran before since power-on, so this "
                 "boot chain loaded it twice; its GRUB entry should come from "
                 "/etc/grub.d/42_thinvisor, which hides itself (docs/install.md, \"No "
                 "chainload loops: the marker\")\n", BOOT_MARKER_ADDR);
    *marker = BOOT_MARKER_VALUE;
    log_info("boot marker: \"TVSR\" at %#x (the guest's GRUB hides the thinvisor entry)\n",
             BOOT_MARKER_ADDR);
}
