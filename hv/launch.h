/*
 * The launch: picks the backend this CPU can run (VT-x, else SVM) and drives
 * it through guest/backend.h's steps until the guest runs on every CPU, or
 * says why it cannot and starts the same boot chain natively.
 */
#ifndef THINVISOR_LAUNCH_H
#define THINVISOR_LAUNCH_H

#include <stddef.h>
#include <stdint.h>

#include "guest/backend.h"
#include "kernel/cmdline.h"
#include "kernel/multiboot2.h"

/* VT-x where CPUID and the capability MSRs allow it, else SVM; NULL with both reasons in why. */
const struct backend *launch_pick_backend(char *why, size_t whylen);

/*
 * What the region must hold beyond the image and the page tables, for `b`
 * (NULL: none, the boot goes on natively) on `ncpus` processors on a machine
 * whose memory ends at `top`: per processor, and shared by all. Bytes.
 */
uint64_t launch_per_cpu_bytes(const struct backend *b);
uint64_t launch_shared_bytes(const struct backend *b, uint64_t top, uint32_t ncpus);

/*
 * Virtualizes every CPU with `b` and starts the guest: on a BIOS boot the
 * boot sector of the chosen drive in real mode, on UEFI the firmware's own
 * context; the APs wait for the guest's INIT-SIPI-SIPI. Where that cannot
 * be (b is NULL, with the reason in why, or a step fails), says why and,
 * unless `strict`, starts the same chain natively.
 */
void launch_guest(const struct backend *b, const char *why, const struct mb2_info *mbi,
                  const struct options *opt) __attribute__((noreturn));

#endif
