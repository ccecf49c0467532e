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

/* Whether an access of size bytes at port touches a watched register. */
bool guest_sleep_port(uint16_t port, unsigned size);

/*
 * Performs the guest's IN (returning what it read, size bytes) or OUT of
 * value at port on CPU cpu_index, logging an OUT that enters a sleep state.
 */
uint32_t guest_sleep_port_io(unsigned cpu_index, uint16_t port, unsigned size, bool in,
                             uint32_t value);

/*
 * An IN's value into the guest's RAX as the CPU puts it there: AL or AX
 * alone, or EAX with the upper half of RAX cleared. An OUT changes nothing.
 */
static inline void guest_io_result(uint64_t *rax, unsigned size, uint32_t value, bool in)
{
    if (!in)
        return;
    if (size == 4)
        *rax = value;
    else {
        uint64_t mask = size == 1 ? 0xFFull : 0xFFFFull;
        *rax = (*rax & ~mask) | (value & mask);
    }
}

/*
 * INS or OUTS at an intercepted port: not performed (no guest does it to
 * these registers), stepped over, said once.
 */
void guest_io_string_dropped(unsigned cpu_index, uint16_t port, bool in);

#endif
