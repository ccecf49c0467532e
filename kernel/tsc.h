/* Time without interrupts: the TSC, calibrated once against the PIT. */
#ifndef THINVISOR_TSC_H
#define THINVISOR_TSC_H

#include <stdint.h>

/* Measures the TSC rate with PIT channel 2, polled. Returns the rate in kHz. */
uint64_t tsc_calibrate(void);

uint64_t tsc_khz(void);

/* The TSC when thinvisor got control (the multiboot2 entry), for uptimes. */
void tsc_mark_boot(uint64_t tsc);
uint64_t tsc_boot(void);

/* Busy-waits at least `us` microseconds. */
void udelay(uint64_t us);

/* TSC value `us` microseconds from now, for bounded waits. */
uint64_t tsc_deadline(uint64_t us);

#endif
