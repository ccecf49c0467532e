/*
 * The guest's entry into a sleep state, seen by thinvisor (issue 25): the
 * PM1 control registers a sleep is entered through (kernel/acpi_sleep.h) are
 * I/O ports both backends intercept. An OUT that sets SLP_EN with S3's type
 * arms thinvisor's wake first (guest/s3.h); other sleep states are logged
 * and go through. Every other access to those ports is performed as the
 * guest asked.
 */
#ifndef THINVISOR_GUEST_SLEEP_H
#define THINVISOR_GUEST_SLEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi_sleep.h"
#include "smp/percpu.h"

#define GUEST_SLEEP_MAX_PORTS 4       /* PM1a and PM1b control, two bytes each */

/* At boot, before the backends build their I/O permission maps. */
void guest_sleep_watch(const struct acpi_sleep *s);

/* The ports to intercept (at most GUEST_SLEEP_MAX_PORTS); returns how many. */
unsigned guest_sleep_ports(uint16_t ports[GUEST_SLEEP_MAX_PORTS]);

/*
 * What every backend does with an intercepted I/O instruction (port, size
 * bytes, IN or OUT, string or not; rax the guest's RAX) on cpu: at a PM1
 * control port the IN or OUT is performed for the guest, an OUT that enters
 * a sleep state logged first, and for S3 the wake armed (can_kick: the
 * backend turns a kick NMI into an exit); in test runs an OUT to an
 * emulator's exit port reports the exits first (guest/status.h); INS/OUTS
 * are not performed and said once. The backend then steps over the
 * instruction.
 */
void guest_io_exit(struct percpu *cpu, uint64_t *rax, uint16_t port, unsigned size, bool in,
                   bool string, bool can_kick);

#endif
