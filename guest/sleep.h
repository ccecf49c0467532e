/*
 * The guest's entry into a sleep state, seen by thinvisor (issue 25): the
 * PM1 control registers a sleep is entered through (kernel/acpi_sleep.h) are
 * I/O ports both backends intercept, and an OUT that sets SLP_EN is logged
 * with the state it enters before thinvisor performs it. thinvisor does not
 * survive S3 yet; the log says so at the moment it happens. Every other
 * access to those ports is performed as the guest asked.
 */
#ifndef THINVISOR_GUEST_SLEEP_H
#define THINVISOR_GUEST_SLEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi_sleep.h"

#define GUEST_SLEEP_MAX_PORTS 4       /* PM1a and PM1b control, two bytes each */

/* At boot, before the backends build their I/O permission maps. */
void guest_sleep_watch(const struct acpi_sleep *s);

/* The ports to intercept (at most GUEST_SLEEP_MAX_PORTS); returns how many. */
unsigned guest_sleep_ports(uint16_t ports[GUEST_SLEEP_MAX_PORTS]);

/*
 * What every backend does with an intercepted I/O instruction (port, size
 * bytes, IN or OUT, string or not; rax the guest's RAX): at a PM1 control
 * port the IN or OUT is performed for the guest, an OUT that enters a sleep
 * state logged first; in test runs an OUT to an emulator's exit port
 * reports the exits first (guest/status.h); INS/OUTS are not performed and
 * said once. The backend then steps over the instruction.
 */
void guest_io_exit(unsigned cpu_index, uint64_t *rax, uint16_t port, unsigned size, bool in,
                   bool string);

#endif
