/*
 * The fallback that keeps a machine usable where VMX cannot run: the same
 * boot chain, natively. Nothing of thinvisor's survives it except the halted
 * APs, which wait for the guest's INIT.
 */
#include "hv/native_boot.h"

#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"

#define NATIVE_BOOT_ADDR 0x7000

extern const uint8_t native_boot_start[], native_boot_end[], native_boot_drive[],
    native_boot_target[];

void native_boot(const struct guest_start *start)
{
    size_t len = (size_t)(native_boot_end - native_boot_start);
    smp_halt_aps();
    log_info("booting the guest natively (no virtualization): boot sector from %s, drive %#x, "
             "at %04x:%04x\n", start->source, start->drive, start->cs, start->ip);
    uint8_t *stub = phys_to_virt(NATIVE_BOOT_ADDR);
    memcpy(stub, native_boot_start, len);
    stub[native_boot_drive - native_boot_start] = start->drive;
    uint16_t *target = (uint16_t *)(stub + (native_boot_target - native_boot_start));
    target[0] = start->ip;
    target[1] = start->cs;
    void (*go)(void) = (void (*)(void))(uintptr_t)NATIVE_BOOT_ADDR;
    go();
    __builtin_unreachable();
}
