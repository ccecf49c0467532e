/* The processor's MTRRs (kernel side of mm/mtrr.h). */
#ifndef THINVISOR_MTRR_MSR_H
#define THINVISOR_MTRR_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/mtrr.h"

/* Reads this processor's MTRR MSRs (all WB when the CPU has no MTRRs). */
void mtrr_read_current(struct mtrr_state *s);

/* Whether WRMSR(msr, value) to an MTRR MSR is legal; an illegal one gets #GP. */
bool mtrr_write_allowed(const struct mtrr_state *s, uint32_t msr, uint64_t value);

#endif
