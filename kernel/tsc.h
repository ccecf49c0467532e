/* Time without interrupts: the TSC, calibrated once against the PIT. */
#ifndef THINVISOR_TSC_H
#define THINVISOR_TSC_H

#include <stdint.h>

/* Measures the TSC rate with PIT channel 2, polled. Returns the rate in kHz. */
uint64_t tsc_calibrate(void);

uint64_t tsc_khz(void);

/* The TSC when thinvisor got control (kernel_main's first step), for uptimes. */
void tsc_mark_boot(void);
uint64_t tsc_boot(void);

/* Busy-waits at least `us` microseconds. */
void udelay(uint64_t us);

/* TSC value `us` microseconds from now, for bounded waits. */
uint64_t tsc_deadline(uint64_t us);

#endif
