/*
 * thinvisor's side of an ACPI S3 resume (issue 25): the wake code that
 * guest/s3.c makes the firmware jump to, which brings every processor back
 * into the backend and continues the guest at its own waking vector.
 */
#ifndef THINVISOR_RESUME_H
#define THINVISOR_RESUME_H

#include "guest/backend.h"
#include "kernel/multiboot2.h"

/*
 * At launch, with every CPU in backend b: chooses the low page the APs start
 * through at each wake (from the boot loader's memory map) and tells
 * guest/s3.c where to wake. Without such a page it warns: the OS would then
 * resume without thinvisor.
 */
void resume_prepare(const struct backend *b, const struct mb2_info *mbi);

#endif
