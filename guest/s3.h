/*
 * Suspend to RAM (ACPI S3) under the guest (issue 25). The guest's OUT that
 * puts the machine to sleep (guest/sleep.c sees it at the PM1 control port)
 * goes through only once thinvisor can come back from it: at the FACS
 * waking vector (ACPI 6.5, 5.2.10) the OS wrote, over the OS's own wake code,
 * whose bytes are kept, lies thinvisor's wake code (the AP trampoline, which
 * starts in real mode as a waking vector does); every other CPU that runs
 * guest code has stopped in the host, its caches written back; then this
 * CPU's caches too. The firmware's resume path jumps there, and the wake code
 * (hv/resume.c) enters virtualization again on every CPU, puts the OS's bytes
 * back and continues the guest at its vector, as the firmware would have.
 * The FACS itself is never written: the firmware keeps the OS's wake code
 * intact across the sleep (SeaBIOS, for one, rewrites low pages of its own
 * choosing at resume), and the OS reads back what it wrote. A sleep thinvisor
 * cannot come back from (no FACS, a 32- or 64-bit waking vector, a vector
 * that is not 16-byte aligned) goes through as before, with a warning: the
 * OS then resumes without thinvisor.
 */
#ifndef THINVISOR_GUEST_S3_H
#define THINVISOR_GUEST_S3_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/boot.h"
#include "smp/percpu.h"

/*
 * At launch, from the top: where the wake code goes in long mode
 * (hv/resume.c), on the BSP's stack. Without it every S3 goes through with
 * the warning.
 */
void guest_s3_setup(void (*wake_entry)(struct percpu *bsp));

/*
 * On the CPU whose OUT enters S3, before the OUT: the wake armed through the
 * FACS at facs_phys (facs_length bytes) and the other CPUs parked (can_kick:
 * the backend turns a kick NMI into an exit). False, with a warning, when
 * thinvisor cannot come back from this sleep.
 */
bool guest_s3_arm(struct percpu *cpu, uint64_t facs_phys, uint32_t facs_length, bool can_kick);

/*
 * After the OUT that should have put the machine to sleep: waits for the
 * power to go. If the machine is still running long after, the sleep did
 * not happen: the FACS and the page get their bytes back, the parked CPUs go
 * on, the guest continues, and the log says so.
 */
void guest_s3_wait_for_sleep(struct percpu *cpu);

/*
 * At the end of an exit, both backends, when cpu->vcpu.park is set (the
 * backend's check, part of the vcpu.exit_work compare every exit makes):
 * the CPU stops here, its caches written back, until released.
 */
void guest_s3_take_park(struct percpu *cpu);

/*
 * On the BSP after the wake, with every CPU back in the host: the OS's wake
 * code as it wrote it, each CPU's guest-facing state as
 * at its first launch, and where the guest goes on: real mode at its waking
 * vector, interrupts off (ACPI 6.5, 16.3.2).
 */
void guest_s3_resume(struct guest_start *start);

#endif
