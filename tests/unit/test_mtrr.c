/* mm/mtrr.c: memory types as the SDM's precedence rules give them, exact over whole blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "mm/mtrr.h"

#define KIB  (1ull << 10)
#define MIB  (1ull << 20)
#define GIB  (1ull << 30)

#include "tests/unit/mtrr_fixtures.h"


/* A state with fixed ranges off, default type `def` and up to 8 variable ranges. */
struct var_spec { uint64_t base; uint8_t type; uint64_t size; };
static void fx_vars(struct mtrr_state *s, uint8_t def, const struct var_spec *v, unsigned n)
{
    uint64_t base[8] = { 0 }, mask[8] = { 0 };
    for (unsigned i = 0; i < n; i++) {
        base[i] = v[i].base | v[i].type;
        mask[i] = fx_mask(v[i].size, 36);
    }
    mtrr_state_from_msrs(s, 8 | MTRRCAP_FIX, MTRR_DEF_TYPE_E | def, NULL, base, mask, 36);
}

/* ---- state from MSRs, MSR writes ---------------------------------------------------- */

static void bochs_state_from_msrs(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_bochs(&s);
    assert_true(s.enabled);
    assert_true(s.fixed_enabled);
    assert_true(s.fixed_supported);
    assert_int_equal(s.default_type, MT_WB);
    assert_int_equal(s.var_count, 8);
    assert_int_equal(s.phys_mask, (1ull << 40) - 1);
    assert_int_equal(s.fixed[0], MT_WB);
    assert_int_equal(s.fixed[15], MT_WB);          /* last 16K range of FIX16K_80000: 0x9C000 */
    assert_int_equal(s.fixed[16], MT_UC);          /* first of FIX16K_A0000 */
    assert_int_equal(s.var[0].mask, 0xC0000800ull);
}

static void bochs_types(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_bochs(&s);
    assert_int_equal(mtrr_type_of(&s, 0), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0x7C00), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0x9FFFF), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0xA0000), MT_UC);     /* VGA */
    assert_int_equal(mtrr_type_of(&s, 0xF0000), MT_UC);     /* BIOS ROM: Bochs leaves it UC */
    assert_int_equal(mtrr_type_of(&s, 0x100000), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0xBFFFFFFF), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0xC0000000), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0xFEE00000), MT_UC);  /* local APIC */
    assert_int_equal(mtrr_type_of(&s, 4 * GIB), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 7 * GIB), MT_UC);     /* the 32-bit mask repeats */
    assert_int_equal(mtrr_type_of_range(&s, 0, 640 * KIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 0xA0000, 0x60000), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * MIB), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 2 * MIB, GIB - 2 * MIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 1 * MIB, 3 * GIB - 1 * MIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 3 * GIB, GIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 3 * GIB - 4 * KIB, 8 * KIB), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 4 * GIB, 3 * GIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 4 * GIB, 4 * GIB), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 7 * GIB, GIB), MT_UC);
}

static void desktop_types(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_desktop(&s);
    assert_int_equal(s.var_count, 10);
    assert_int_equal(mtrr_type_of(&s, 0x9F000), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0xB8000), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0xC0000), MT_WP);
    assert_int_equal(mtrr_type_of(&s, 0xCFFFF), MT_WP);
    assert_int_equal(mtrr_type_of(&s, 0xD0000), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0xE0000), MT_WP);
    assert_int_equal(mtrr_type_of(&s, 0xFFFF0), MT_WP);
    assert_int_equal(mtrr_type_of_range(&s, 0xC0000, 64 * KIB), MT_WP);
    assert_int_equal(mtrr_type_of_range(&s, 0xC0000, 64 * KIB + 1), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * GIB), MT_MIXED);     /* the fixed ranges */
    assert_int_equal(mtrr_type_of_range(&s, 1 * MIB, 3 * GIB - 1 * MIB), MT_WB);
    /* The framebuffer's WC range lies inside the UC range: UC wins over the whole GiB. */
    assert_int_equal(mtrr_type_of(&s, 0xC0000000), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0xCFFFFFFF), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 3 * GIB, GIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 4 * GIB, 13 * GIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 4 * GIB, 13 * GIB + 4 * KIB), MT_MIXED);
    assert_int_equal(mtrr_type_of(&s, 17 * GIB), MT_UC);                /* default */
    assert_int_equal(mtrr_type_of_range(&s, 17 * GIB, 15 * GIB), MT_UC);
}

static void disabled_means_uc(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_bochs(&s);
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_DEF_TYPE, MTRR_DEF_TYPE_FE | MT_WB));
    assert_false(s.enabled);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 16 * MIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 0, 4 * GIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 0x100000, 0x1000), MT_UC);
}

static void fixed_disabled_uses_variable_ranges(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_desktop(&s);
    /* FE=0: below 1 MiB the variable ranges and the default apply (var0: WB). */
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MT_UC));
    assert_false(s.fixed_enabled);
    assert_int_equal(mtrr_type_of(&s, 0xA0000), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 0xF0000), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * GIB), MT_WB);
    /* A CPU without fixed ranges never enables them, whatever FE says. */
    uint64_t base[1] = { MT_UC }, mask[1] = { fx_mask(GIB, 36) };
    uint64_t fixed[MTRR_FIXED_MSRS] = { fx_fixed8(MT_WB) };
    mtrr_state_from_msrs(&s, 1, 0xC00 | MT_WB, fixed, base, mask, 36);
    assert_false(s.fixed_supported);
    assert_false(s.fixed_enabled);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);
    assert_false(mtrr_state_write(&s, MSR_IA32_MTRR_FIX64K_00000, fx_fixed8(MT_WB)));
}

/* Every fixed range maps to its own byte: 88 ranges, addresses at both ends of each. */
static void fixed_range_layout(void **state)
{
    (void)state;
    static const uint8_t cycle[5] = { MT_UC, MT_WC, MT_WT, MT_WP, MT_WB };
    uint64_t fixed[MTRR_FIXED_MSRS] = { 0 };
    for (unsigned i = 0; i < MTRR_FIXED_TYPES; i++)
        fixed[i / 8] |= (uint64_t)cycle[i % 5] << (8 * (i % 8));
    struct mtrr_state s;
    mtrr_state_from_msrs(&s, MTRRCAP_FIX, 0xC00 | MT_WB, fixed, NULL, NULL, 36);
    uint64_t addr = 0;
    for (unsigned i = 0; i < MTRR_FIXED_TYPES; i++) {
        uint64_t unit = i < 8 ? 64 * KIB : i < 24 ? 16 * KIB : 4 * KIB;
        assert_int_equal(mtrr_type_of(&s, addr), cycle[i % 5]);
        assert_int_equal(mtrr_type_of(&s, addr + unit - 1), cycle[i % 5]);
        assert_int_equal(mtrr_type_of_range(&s, addr, unit), cycle[i % 5]);
        assert_int_equal(mtrr_type_of_range(&s, addr, unit + 1), MT_MIXED);
        addr += unit;
    }
    assert_int_equal(addr, MTRR_FIXED_END);
    assert_int_equal(mtrr_type_of(&s, addr), MT_WB);
    /* The same layout through MSR writes: FIX4K_F8000 is the last 8 bytes. */
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_FIX4K_F8000, fx_fixed8(MT_WT)));
    assert_int_equal(mtrr_type_of_range(&s, 0xF8000, 0x8000), MT_WT);
    assert_int_equal(mtrr_type_of(&s, 0xF7FFF), cycle[79 % 5]);
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_FIX16K_A0000, 0x0606060606060600ull));
    assert_int_equal(mtrr_type_of(&s, 0xA0000), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0xA4000), MT_WB);
}

static void precedence(void **state)
{
    (void)state;
    struct mtrr_state s;
    struct var_spec v[3];

    v[0] = (struct var_spec){ 0, MT_WB, GIB };
    v[1] = (struct var_spec){ 0, MT_UC, 2 * MIB };
    fx_vars(&s, MT_WB, v, 2);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);                        /* UC + WB = UC */

    v[1].type = MT_WT;
    fx_vars(&s, MT_UC, v, 2);
    assert_int_equal(mtrr_type_of(&s, 0), MT_WT);                        /* WT + WB = WT */
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * MIB), MT_WT);
    assert_int_equal(mtrr_type_of(&s, 2 * MIB), MT_WB);

    v[1].type = MT_WC;
    fx_vars(&s, MT_WB, v, 2);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);                        /* WC + WB: undefined */

    v[1].type = MT_WP;
    fx_vars(&s, MT_WB, v, 2);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);                        /* WP + WB: undefined */

    v[1].type = MT_WB;
    fx_vars(&s, MT_UC, v, 2);
    assert_int_equal(mtrr_type_of(&s, 0), MT_WB);                        /* equal types */

    v[1] = (struct var_spec){ 0, MT_WT, 4 * MIB };
    v[2] = (struct var_spec){ 0, MT_WT, 2 * MIB };
    fx_vars(&s, MT_UC, v, 3);
    assert_int_equal(mtrr_type_of(&s, 0), MT_WT);                        /* WT, WT, WB */
    v[2].type = MT_UC;
    fx_vars(&s, MT_WB, v, 3);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);                        /* WT, UC, WB */
    assert_int_equal(mtrr_type_of(&s, 2 * MIB), MT_WT);
    assert_int_equal(mtrr_type_of(&s, 4 * MIB), MT_WB);

    /* A range whose valid bit is clear does not count; neither does one past VCNT. */
    fx_vars(&s, MT_WB, v, 1);
    s.var[0].mask &= ~MTRR_PHYSMASK_VALID;
    assert_int_equal(mtrr_type_of(&s, 0), MT_WB);
    uint64_t base[2] = { MT_WB, MT_UC }, mask[2] = { fx_mask(GIB, 36), fx_mask(GIB, 36) };
    mtrr_state_from_msrs(&s, 1, MTRR_DEF_TYPE_E | MT_UC, NULL, base, mask, 36);
    assert_int_equal(s.var_count, 1);
    assert_int_equal(mtrr_type_of(&s, 0), MT_WB);
    /* Reserved type encodings (2, 3, 7+) are read as UC. */
    v[0].type = 2;
    fx_vars(&s, MT_WB, v, 1);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 0, GIB), MT_UC);
}

/* Partial coverage reports MIXED only when it changes the type. */
static void partial_coverage(void **state)
{
    (void)state;
    struct mtrr_state s;
    struct var_spec v[2] = { { 5 * GIB, MT_WB, 512 * MIB }, { 0, 0, 0 } };
    fx_vars(&s, MT_WB, v, 1);
    assert_int_equal(mtrr_type_of_range(&s, 5 * GIB, GIB), MT_WB);
    fx_vars(&s, MT_UC, v, 1);
    assert_int_equal(mtrr_type_of_range(&s, 5 * GIB, GIB), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 5 * GIB, 512 * MIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 5 * GIB + 512 * MIB, 512 * MIB), MT_UC);
    /* A UC range inside a WC range: UC wins where both match, nothing changes outside. */
    v[0] = (struct var_spec){ 2 * GIB, MT_WC, GIB };
    v[1] = (struct var_spec){ 2 * GIB + 4 * MIB, MT_UC, 2 * MIB };
    fx_vars(&s, MT_WB, v, 2);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB, 4 * MIB), MT_WC);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB + 4 * MIB, 2 * MIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB + 6 * MIB, GIB - 6 * MIB), MT_WC);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB, GIB), MT_MIXED);
    /* Unaligned start and length: whole pages count. */
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB + 4 * MIB - 1, 1), MT_WC);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB + 4 * MIB - 1, 2), MT_MIXED);
    /* Ranges that run to the end of the address space do not wrap. */
    assert_int_equal(mtrr_type_of_range(&s, 3 * GIB, (1ull << 36) - 3 * GIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 0, UINT64_MAX), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, UINT64_MAX - 10, 100), MT_WB);
}

/* A non-contiguous mask: the answer may be conservatively MIXED, never wrong. */
static void noncontiguous_mask(void **state)
{
    (void)state;
    struct mtrr_state s;
    struct var_spec v[1] = { { 0, MT_UC, 4 * KIB } };
    fx_vars(&s, MT_WB, v, 1);
    s.var[0].mask &= ~(1ull << 30);             /* matches page 0 and page 1 GiB */
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);
    assert_int_equal(mtrr_type_of(&s, GIB), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 4 * KIB), MT_WB);
    assert_int_equal(mtrr_type_of(&s, 2 * GIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 0, 4 * KIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, GIB, 4 * KIB), MT_UC);
    assert_int_equal(mtrr_type_of_range(&s, GIB + 4 * KIB, GIB - 4 * KIB), MT_WB);
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * GIB), MT_MIXED);
    assert_int_equal(mtrr_type_of_range(&s, 2 * GIB, 2 * GIB), MT_WB);
    /* When its type cannot change the answer, even a non-contiguous range does not split. */
    v[0].type = MT_WB;
    fx_vars(&s, MT_WB, v, 1);
    s.var[0].mask &= ~(1ull << 30);
    assert_int_equal(mtrr_type_of_range(&s, 0, 2 * GIB), MT_WB);
}

/* The per-page answer, the slow way: what mtrr_type_of_range must agree with. */
static uint8_t brute_range(const struct mtrr_state *s, uint64_t start, uint64_t len)
{
    uint8_t t = mtrr_type_of(s, start);
    for (uint64_t a = start + 4096; a < start + len; a += 4096)
        if (mtrr_type_of(s, a) != t)
            return MT_MIXED;
    return t;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/*
 * Random contiguous ranges over the first 64 MiB (sizes 4 KiB .. 32 MiB, all
 * types, fixed ranges on or off): every aligned block's answer is exactly the
 * page-by-page answer. With random non-contiguous masks it is never wrong
 * (MIXED is allowed where the truth is uniform).
 */
static void random_states_match_brute_force(void **state)
{
    (void)state;
    /* WB-heavy, as firmware sets them, so that overlaps often agree (or give WT). */
    static const uint8_t types[8] = { MT_UC, MT_WC, MT_WT, MT_WP, MT_WB, MT_WB, MT_WB, MT_WT };
    unsigned checked = 0, uniform = 0;
    for (int round = 0; round < 300; round++) {
        bool noncontig = round >= 200;
        uint64_t fixed[MTRR_FIXED_MSRS], base[8], mask[8];
        for (int i = 0; i < MTRR_FIXED_MSRS; i++)
            fixed[i] = fx_fixed8(types[rnd() % 8]);
        unsigned n = 2 + rnd() % 7;
        for (unsigned i = 0; i < 8; i++) {
            uint64_t size = 4096ull << (4 + rnd() % 10);       /* 64 KiB .. 32 MiB */
            base[i] = ((rnd() % (64 * MIB)) & ~(size - 1)) | types[rnd() % 8];
            mask[i] = fx_mask(size, 36);
            if (noncontig)
                mask[i] &= ~(4096ull << (rnd() % 14));
        }
        uint64_t def = (rnd() % 2 ? MTRR_DEF_TYPE_FE : 0) | MTRR_DEF_TYPE_E | types[rnd() % 8];
        struct mtrr_state s;
        mtrr_state_from_msrs(&s, 0x500 | n, def, fixed, base, mask, 36);
        for (int q = 0; q < 40; q++) {
            uint64_t size = 4096ull << (4 + rnd() % 9);        /* 64 KiB .. 16 MiB */
            uint64_t start = (rnd() % (64 * MIB)) & ~(size - 1);
            if (q % 5 == 0) {                                    /* and unaligned ones */
                start = rnd() % (64 * MIB);
                size = 1 + rnd() % (8 * MIB);
            }
            uint8_t fast = mtrr_type_of_range(&s, start, size);
            uint8_t slow = brute_range(&s, start & ~0xFFFull,
                                       ((start + size + 0xFFF) & ~0xFFFull) - (start & ~0xFFFull));
            if (noncontig && fast == MT_MIXED)
                continue;
            assert_int_equal(fast, slow);
            checked++;
            uniform += slow != MT_MIXED;
        }
    }
    /* The fixture generator must produce both outcomes, or this test proves little. */
    assert_true(checked > 10000);
    assert_true(uniform > 1000 && checked - uniform > 500);
}

/* Whole-address-space questions stay fast: reasoning is per boundary, not per page. */
static void big_ranges_are_fast(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_desktop(&s);
    clock_t t0 = clock();
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(mtrr_type_of_range(&s, 1 * MIB, 3 * GIB - 1 * MIB), MT_WB);
        assert_int_equal(mtrr_type_of_range(&s, 17 * GIB, (1ull << 39) - 17 * GIB), MT_UC);
        assert_int_equal(mtrr_type_of_range(&s, 0, 1ull << 48), MT_MIXED);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 2.0);      /* a per-page walk would take hours */
}

static void msr_classification(void **state)
{
    (void)state;
    assert_true(mtrr_is_mtrr_msr(MSR_IA32_MTRR_DEF_TYPE));
    assert_false(mtrr_is_mtrr_msr(MSR_IA32_MTRRCAP));
    assert_true(mtrr_is_mtrr_msr(0x250));
    assert_false(mtrr_is_mtrr_msr(0x251));
    assert_true(mtrr_is_mtrr_msr(0x258));
    assert_true(mtrr_is_mtrr_msr(0x259));
    assert_false(mtrr_is_mtrr_msr(0x25A));
    for (uint32_t msr = 0x268; msr <= 0x26F; msr++)
        assert_true(mtrr_is_mtrr_msr(msr));
    assert_false(mtrr_is_mtrr_msr(0x267));
    assert_false(mtrr_is_mtrr_msr(0x270));
    assert_true(mtrr_is_mtrr_msr(0x200));
    assert_true(mtrr_is_mtrr_msr(0x201));
    assert_true(mtrr_is_mtrr_msr(0x200 + 2 * MTRR_MAX_VAR - 1));
    assert_false(mtrr_is_mtrr_msr(0x200 + 2 * MTRR_MAX_VAR));
    assert_false(mtrr_is_mtrr_msr(0x1FF));
    assert_false(mtrr_is_mtrr_msr(0x277));            /* IA32_PAT */
}

static void msr_writes(void **state)
{
    (void)state;
    struct mtrr_state s;
    fx_bochs(&s);
    /* Guest (like Linux's mtrr code) turns 3-4 GiB into WC through var1. */
    assert_true(mtrr_state_write(&s, 0x202, 0xC0000000ull | MT_WC));
    assert_true(mtrr_state_write(&s, 0x203, fx_mask(GIB, 40)));
    assert_int_equal(s.var[1].base, 0xC0000000ull | MT_WC);
    assert_int_equal(mtrr_type_of(&s, 0xC0000000), MT_UC);             /* var0 UC still wins */
    assert_true(mtrr_state_write(&s, 0x201, 0));                       /* var0 invalid */
    assert_int_equal(mtrr_type_of(&s, 0xC0000000), MT_WC);
    assert_int_equal(mtrr_type_of(&s, 7 * GIB), MT_WB);
    /* Bochs has 8 pairs: 0x20E/0x20F is the last, 0x210 is not there. */
    assert_true(mtrr_state_write(&s, 0x20F, 0));
    assert_false(mtrr_state_write(&s, 0x210, 0));
    assert_false(mtrr_state_write(&s, MSR_IA32_MTRRCAP, 0));
    assert_false(mtrr_state_write(&s, 0x277, 0));
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_DEF_TYPE, MTRR_DEF_TYPE_E | MT_UC));
    assert_int_equal(s.default_type, MT_UC);
    assert_int_equal(mtrr_type_of(&s, 1 * MIB), MT_UC);
    assert_int_equal(mtrr_type_of(&s, 0), MT_UC);                      /* FE=0 now */
    assert_true(mtrr_state_write(&s, MSR_IA32_MTRR_DEF_TYPE, 0xC00 | MT_UC));
    assert_int_equal(mtrr_type_of(&s, 0), MT_WB);                      /* fixed again */
    /* MAXPHYADDR 0 means 36; more than 52 is cut to 52. */
    mtrr_state_from_msrs(&s, 0, 0, NULL, NULL, NULL, 0);
    assert_int_equal(s.phys_mask, (1ull << 36) - 1);
    mtrr_state_from_msrs(&s, 0, 0, NULL, NULL, NULL, 60);
    assert_int_equal(s.phys_mask, (1ull << 52) - 1);
    /* More variable ranges than MTRR_MAX_VAR: the extra ones are ignored. */
    uint64_t base[MTRR_MAX_VAR] = { 0 }, mask[MTRR_MAX_VAR] = { 0 };
    mtrr_state_from_msrs(&s, 0xFF, 0x800, NULL, base, mask, 36);
    assert_int_equal(s.var_count, MTRR_MAX_VAR);
}

static void type_names(void **state)
{
    (void)state;
    assert_string_equal(mem_type_name(MT_UC), "UC");
    assert_string_equal(mem_type_name(MT_WC), "WC");
    assert_string_equal(mem_type_name(MT_WT), "WT");
    assert_string_equal(mem_type_name(MT_WP), "WP");
    assert_string_equal(mem_type_name(MT_WB), "WB");
    assert_string_equal(mem_type_name(MT_MIXED), "mixed");
    assert_string_equal(mem_type_name(2), "invalid");
    assert_string_equal(mem_type_name(7), "invalid");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bochs_state_from_msrs),
        cmocka_unit_test(bochs_types),
        cmocka_unit_test(desktop_types),
        cmocka_unit_test(disabled_means_uc),
        cmocka_unit_test(fixed_disabled_uses_variable_ranges),
        cmocka_unit_test(fixed_range_layout),
        cmocka_unit_test(precedence),
        cmocka_unit_test(partial_coverage),
        cmocka_unit_test(noncontiguous_mask),
        cmocka_unit_test(random_states_match_brute_force),
        cmocka_unit_test(big_ranges_are_fast),
        cmocka_unit_test(msr_classification),
        cmocka_unit_test(msr_writes),
        cmocka_unit_test(type_names),
    };
    return cmocka_run_group_tests_name("mtrr", tests, NULL, NULL);
}
