/*
 * MTRR fixtures shared by test_mtrr.c and test_ept.c: Bochs's MTRRs and a
 * typical desktop's, as the raw MSR values their firmware writes.
 */
#ifndef THINVISOR_TEST_MTRR_FIXTURES_H
#define THINVISOR_TEST_MTRR_FIXTURES_H

#include <stdint.h>

#include "mm/mtrr.h"

/* PHYSMASK for an aligned power-of-two range of `size` bytes, valid bit set. */
static inline uint64_t fx_mask(uint64_t size, unsigned maxphyaddr)
{
    return (~(size - 1) & ((1ull << maxphyaddr) - 1) & ~0xFFFull) | MTRR_PHYSMASK_VALID;
}

/* One fixed-range MSR whose eight ranges all have type t. */
static inline uint64_t fx_fixed8(uint8_t t)
{
    return 0x0101010101010101ull * t;
}

/*
 * Bochs 2.7 with its BIOS (bochs/bios/rombios32.c, setup_mtrr(), in the
 * bochs-emu/Bochs repository; BIOS-bochs-latest is built from it), RAM >= 640 KiB:
 *   MTRRCAP = 0x508 (cpu/msr.cc: 0x500 | BX_NUM_VARIABLE_RANGE_MTRRS, which is 8:
 *             fixed ranges and WC supported, 8 variable ranges)
 *   FIX64K_00000, FIX16K_80000 = all WB (6): "ram_size >= 65536 * (i + 1)" ...
 *   FIX16K_A0000, FIX4K_C0000 .. FIX4K_F8000 = 0 (UC)
 *   PHYSBASE0 = 0xC0000000 | UC
 *   PHYSMASK0 = (uint32_t)(~(0x40000000 - 1)) | 0x800 = 0xC0000800
 *               ("Mark 3-4GB as UC, anything not specified defaults to WB")
 *   DEF_TYPE  = 0xC00 | WB (E and FE set, default WB)
 * MAXPHYADDR is 40 (BX_PHY_ADDRESS_WIDTH for a 64-bit CPU). The mask was cut
 * to 32 bits, so its bits 39:32 are 0: a non-contiguous mask under which
 * 7-8 GiB, 11-12 GiB, ... are UC too (Bochs's own lookup uses the same formula).
 */
static inline void fx_bochs(struct mtrr_state *s)
{
    uint64_t fixed[MTRR_FIXED_MSRS] = { fx_fixed8(MT_WB), fx_fixed8(MT_WB) };
    uint64_t base[8] = { 0xC0000000ull | MT_UC };
    uint64_t mask[8] = { 0xC0000800ull };
    mtrr_state_from_msrs(s, 0x508, 0xC00 | MT_WB, fixed, base, mask, 40);
}

/*
 * A typical desktop with 16 GiB of RAM as its firmware sets the MTRRs (the
 * pattern of many Linux /proc/mtrr dumps; composed for these tests, not
 * copied from one machine). 1 GiB of PCI MMIO below 4 GiB, so RAM is
 * remapped up to 17 GiB.
 *   MTRRCAP = 0xD0A (10 variable ranges, FIX, WC, SMRR), MAXPHYADDR 39
 *   DEF_TYPE = E | FE | UC
 *   fixed: 0-0x9FFFF WB, 0xA0000-0xBFFFF UC (VGA), 0xC0000-0xCFFFF WP (video
 *          BIOS), 0xD0000-0xDFFFF UC, 0xE0000-0xFFFFF WP (system BIOS)
 *   var0 0            2 GiB   WB
 *   var1 0x80000000   1 GiB   WB
 *   var2 0xC0000000   1 GiB   UC   (the PCI hole, also the default)
 *   var3 0xC0000000   256 MiB WC   (framebuffer; overlaps var2: UC wins)
 *   var4 4 GiB        4 GiB   WB
 *   var5 8 GiB        8 GiB   WB
 *   var6 16 GiB       1 GiB   WB   (the remapped RAM)
 *   var7..9 not valid
 */
#define DESKTOP_MAXPHY 39
static inline void fx_desktop(struct mtrr_state *s)
{
    uint64_t fixed[MTRR_FIXED_MSRS] = {
        fx_fixed8(MT_WB), fx_fixed8(MT_WB), fx_fixed8(MT_UC),
        fx_fixed8(MT_WP), fx_fixed8(MT_WP), fx_fixed8(MT_UC), fx_fixed8(MT_UC),
        fx_fixed8(MT_WP), fx_fixed8(MT_WP), fx_fixed8(MT_WP), fx_fixed8(MT_WP),
    };
    unsigned p = DESKTOP_MAXPHY;
    uint64_t base[10] = { 0 | MT_WB, 0x80000000ull | MT_WB, 0xC0000000ull | MT_UC,
                          0xC0000000ull | MT_WC, 4 * GIB | MT_WB, 8 * GIB | MT_WB,
                          16 * GIB | MT_WB };
    uint64_t mask[10] = { fx_mask(2 * GIB, p), fx_mask(GIB, p), fx_mask(GIB, p),
                          fx_mask(256 * MIB, p), fx_mask(4 * GIB, p), fx_mask(8 * GIB, p),
                          fx_mask(GIB, p) };
    mtrr_state_from_msrs(s, 0xD0A, 0xC00 | MT_UC, fixed, base, mask, p);
}

#endif
