/*
 * TSC calibration. The hypervisor never takes interrupts (it must not touch
 * the guest's PIC, PIT or IOAPIC state), so the delays INIT-SIPI-SIPI needs
 * are busy-waits on the TSC, whose rate is measured once against PIT channel
 * 2 in one-shot mode, by polling its output bit. Channel 2 drives only the
 * PC speaker, which stays gated off.
 */
#include "kernel/tsc.h"

#include "kernel/log.h"
#include "kernel/x86.h"

#define PIT_HZ          1193182u
#define PIT_CH2_DATA    0x42
#define PIT_COMMAND     0x43
#define PORT_61         0x61       /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define CALIBRATE_MS    10
#define FALLBACK_KHZ    1000000ull /* assume 1 GHz if the PIT never answers */

static uint64_t khz;

uint64_t tsc_calibrate(void)
{
    uint32_t count = PIT_HZ / 1000 * CALIBRATE_MS;
    uint8_t saved61 = inb(PORT_61);
    outb(PORT_61, (saved61 & ~0x02) | 0x01);      /* gate on, speaker off */
    outb(PIT_COMMAND, 0xB0);                      /* channel 2, lo/hi byte, mode 0, binary */
    outb(PIT_CH2_DATA, count & 0xFF);
    outb(PIT_CH2_DATA, count >> 8);
    uint64_t start = rdtsc();
    uint64_t spins = 0;
    while (!(inb(PORT_61) & 0x20) && ++spins < 100000000ull)
        ;
    uint64_t end = rdtsc();
    outb(PORT_61, saved61);
    if (!(inb(PORT_61) & 0x20) && spins >= 100000000ull) {
        khz = FALLBACK_KHZ;
        log_warn("TSC: PIT channel 2 did not count down; assuming %llu MHz\n",
                 (unsigned long long)(khz / 1000));
    } else {
        khz = (end - start) / CALIBRATE_MS;
        if (khz == 0)
            khz = 1;
    }
    return khz;
}

uint64_t tsc_khz(void)
{
    return khz ? khz : FALLBACK_KHZ;
}

uint64_t tsc_deadline(uint64_t us)
{
    return rdtsc() + us * tsc_khz() / 1000;
}

void udelay(uint64_t us)
{
    uint64_t end = tsc_deadline(us);
    while (rdtsc() < end)
        cpu_relax();
}

static uint64_t boot_tsc;

void tsc_mark_boot(uint64_t tsc)
{
    boot_tsc = tsc;
}

uint64_t tsc_boot(void)
{
    return boot_tsc;
}
