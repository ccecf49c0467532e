/*
 * The "thinvisor has run" marker. Before the guest starts (under VMX or
 * natively) thinvisor writes a signature into the BIOS Data Area's
 * inter-application communication area (0x4F0-0x4FF, 16 bytes that IBM
 * reserved for programs to pass data along a boot). The disk's own GRUB runs
 * again as the guest; the menu entry from /etc/grub.d/42_thinvisor reads the
 * dword there (`read_dword -v VAR 0x4F0`, VAR = "52535654") and hides itself,
 * so the guest never chainloads thinvisor a second time. A BIOS clears
 * conventional memory at power-on, so the marker means "thinvisor has run
 * since this boot began".
 */
#ifndef THINVISOR_BOOT_MARKER_H
#define THINVISOR_BOOT_MARKER_H

#include <stdint.h>

#define BOOT_MARKER_ADDR  0x4F0u        /* physical; the first dword of the area */
#define BOOT_MARKER_VALUE 0x52535654u   /* the bytes "TVSR" in memory order */

/*
 * Writes the marker (the other 12 bytes of the area are left alone). Warns when
 * it was already there: then a boot chain without the GRUB check loops
 * through thinvisor.
 */
void boot_marker_set(void);

#endif
