/*
 * The fallback that keeps a machine usable where VMX cannot run: the same
 * boot chain, natively. Nothing of thinvisor's survives it except the halted
 * APs, which wait for the guest's INIT.
 */
#include "kernel/native_boot.h"

#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"

#define NATIVE_BOOT_ADDR 0x7000

extern const uint8_t native_boot_start[], native_boot_end[], native_boot_drive[],
    native_boot_target[];

static int halt_cpu(struct percpu *cpu, void *arg) __attribute__((noreturn));
static int halt_cpu(struct percpu *cpu, void *arg)
{
    (void)cpu;
    (void)arg;
    for (;;)
        __asm__ volatile("cli; hlt");
}

void native_halt_aps(void)
{
    if (smp_start_on_aps(halt_cpu, NULL) != 0)
        log_warn("some application processors did not halt\n");
}

void native_boot(const struct guest_start *start)
{
    size_t len = (size_t)(native_boot_end - native_boot_start);
    native_halt_aps();
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
