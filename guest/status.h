/*
 * The status area (abi/status.h), which every backend publishes: exit
 * counters per CPU, times and the log ring, read-only to the guest, so that
 * thinctl can read them without VMCALL (guest/status.c).
 */
#ifndef THINVISOR_GUEST_STATUS_H
#define THINVISOR_GUEST_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/exit_reason.h"
#include "abi/status.h"
#include "mm/ept.h"

/* Pages the area needs for ncpus processors (for the region budget). */
uint64_t status_pages(uint32_t ncpus);

/*
 * On the BSP once the guest's EPT or NPT exists: allocates the area, points
 * each CPU's vcpu.stats at its record and maps the area and the log ring
 * read-only into `tree`. 0, or -1 when the tree has no room.
 */
int status_setup(struct ept *tree);

/* CPU i's exit count for one reason, for TV_HC_EXIT_COUNT; ~0 when out of range. */
uint64_t status_exit_count(uint32_t cpu, uint32_t reason);

/* Leaving (guest/leave.c): the token TV_HC_OFF needs, a CPU that left, the last one gone. */
void status_set_off_token(uint64_t token);
void status_cpu_left(void);
void status_all_left(uint64_t tsc);

/* The TSC of the guest's first instruction, for the area's readers. */
void status_guest_launched(uint64_t tsc);

/*
 * Back from a suspend to RAM: one more in s3_resumes, and the area's TSC
 * marks moved by what the TSC lost between tsc_at_sleep and tsc_now.
 */
void status_s3_resumed(uint64_t tsc_at_sleep, uint64_t tsc_now);

/* Whether gpa lies in a page the guest may read but not write (the area, the log ring). */
bool status_contains(uint64_t gpa);

/* The name of a counter (abi/exit_reason_names.h), "unknown" past the table. */
const char *exit_reason_name(unsigned reason);

/*
 * Logs every CPU's exit counts by reason ("exits:" lines, which test runs
 * end with and make bench reads), with the hidden-memory accesses and kicks.
 */
void status_log_exit_counts(void);

/*
 * Test runs (test_exit): the guest writes an emulator's exit port (a byte or
 * a dword): the exit counts are logged first, once, then the write is done.
 */
void status_exit_port_write(uint16_t port, unsigned size, uint32_t value);

#endif
