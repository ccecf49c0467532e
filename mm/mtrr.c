/*
 * MTRR memory-type resolution (Intel SDM Vol. 3A, 12.11). The EPT builder
 * asks for the type of whole 1 GiB and 2 MiB blocks, so ranges are resolved
 * by reasoning about variable-range boundaries on aligned power-of-two
 * blocks, never by walking 4 KiB pages.
 */
#include "mm/mtrr.h"

#define PAGE_MASK_4K  0xFFFull

/* A set of memory types, one bit per type value (only 0..6 are ever set). */
typedef uint8_t type_set;

/*
 * Reserved encodings (2, 3, 7..0xFF) cannot be written on real hardware
 * (WRMSR #GP), but a state built by hand could hold one; UC is the safe
 * reading of "unknown" because it never lets the CPU cache or combine.
 */
static uint8_t valid_type(uint64_t t)
{
    t &= 0xFF;
    return (t == MT_UC || t == MT_WC || t == MT_WT || t == MT_WP || t == MT_WB) ? (uint8_t)t
                                                                                 : MT_UC;
}

/* The set holding only t's (validated) type. */
static type_set type_bit(uint64_t t)
{
    return (type_set)(1u << valid_type(t));
}

/*
 * The precedence rules of SDM 12.11.4.1 for the set of types of every
 * variable range that matches: none -> the default type; UC anywhere -> UC;
 * one distinct type -> it; exactly WT and WB -> WT; anything else is
 * undefined by the SDM, and UC is the only choice that cannot corrupt data.
 */
static uint8_t combine(const struct mtrr_state *s, type_set set)
{
    if (set == 0)
        return valid_type(s->default_type);
    if (set & (1u << MT_UC))
        return MT_UC;
    if ((set & (set - 1)) == 0) {
        uint8_t t = 0;
        while (!(set & (1u << t)))
            t++;
        return t;
    }
    if (set == ((1u << MT_WT) | (1u << MT_WB)))
        return MT_WT;
    return MT_UC;
}

/*
 * The mask bits range n compares: bits 11:0 are not part of the address,
 * bits above MAXPHYADDR do not exist (SDM 12.11.2.3).
 */
static uint64_t var_mask(const struct mtrr_state *s, uint32_t n)
{
    return s->var[n].mask & s->phys_mask & ~PAGE_MASK_4K;
}

/* PHYSMASKn.V: a range that is not valid matches nothing. */
static bool var_valid(const struct mtrr_state *s, uint32_t n)
{
    return (s->var[n].mask & MTRR_PHYSMASK_VALID) != 0;
}

/* Index into fixed[] of the fixed range holding addr (< 1 MiB), and that range's size. */
static unsigned fixed_index(uint64_t addr, uint64_t *unit)
{
    if (addr < 0x80000) {                        /* FIX64K_00000: 8 x 64 KiB */
        *unit = 0x10000;
        return (unsigned)(addr >> 16);
    }
    if (addr < 0xC0000) {                        /* FIX16K_80000, FIX16K_A0000: 16 x 16 KiB */
        *unit = 0x4000;
        return 8 + (unsigned)((addr - 0x80000) >> 14);
    }
    *unit = 0x1000;                              /* FIX4K_C0000 .. FIX4K_F8000: 64 x 4 KiB */
    return 24 + (unsigned)((addr - 0xC0000) >> 12);
}

void mtrr_state_from_msrs(struct mtrr_state *s, uint64_t mtrrcap, uint64_t def_type,
                          const uint64_t fixed_msrs[MTRR_FIXED_MSRS],
                          const uint64_t *physbase, const uint64_t *physmask,
                          unsigned maxphyaddr)
{
    /* Start from all-zero so that fields the CPU lacks read as "UC, invalid". */
    *s = (struct mtrr_state){ 0 };

    s->fixed_supported = (mtrrcap & MTRRCAP_FIX) && fixed_msrs;
    s->enabled = (def_type & MTRR_DEF_TYPE_E) != 0;
    s->fixed_enabled = s->fixed_supported && (def_type & MTRR_DEF_TYPE_FE);
    s->default_type = (uint8_t)(def_type & MTRR_DEF_TYPE_TYPE);
    if (s->fixed_supported)
        for (unsigned i = 0; i < MTRR_FIXED_TYPES; i++)
            s->fixed[i] = (uint8_t)(fixed_msrs[i / 8] >> (8 * (i % 8)));

    uint32_t vcnt = (uint32_t)(mtrrcap & MTRRCAP_VCNT_MASK);
    if (!physbase || !physmask)
        vcnt = 0;
    s->var_count = vcnt > MTRR_MAX_VAR ? MTRR_MAX_VAR : vcnt;
    for (uint32_t i = 0; i < s->var_count; i++) {
        s->var[i].base = physbase[i];
        s->var[i].mask = physmask[i];
    }

    /* SDM 12.11.2.3: MAXPHYADDR is 36 without CPUID 0x80000008; 52 is the architectural limit. */
    if (maxphyaddr == 0)
        maxphyaddr = 36;
    if (maxphyaddr > 52)
        maxphyaddr = 52;
    s->phys_mask = (1ull << maxphyaddr) - 1;
}

/* Which of the 11 fixed-range MSRs `msr` is (0..10), or -1. */
static int fixed_msr_slot(uint32_t msr)
{
    if (msr == MSR_IA32_MTRR_FIX64K_00000)
        return 0;
    if (msr == MSR_IA32_MTRR_FIX16K_80000)
        return 1;
    if (msr == MSR_IA32_MTRR_FIX16K_A0000)
        return 2;
    if (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)
        return 3 + (int)(msr - MSR_IA32_MTRR_FIX4K_C0000);
    return -1;
}

bool mtrr_is_mtrr_msr(uint32_t msr)
{
    /*
     * One answer for every CPU, since the MSR bitmap is built once; pairs this
     * CPU lacks are sorted out by mtrr_state_write.
     */
    return msr == MSR_IA32_MTRR_DEF_TYPE || fixed_msr_slot(msr) >= 0 ||
           (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_MAX_VAR);
}

bool mtrr_state_write(struct mtrr_state *s, uint32_t msr, uint64_t value)
{
    /* The state must follow every write, or the EPT types drift from what the guest set up. */
    if (msr == MSR_IA32_MTRR_DEF_TYPE) {
        s->enabled = (value & MTRR_DEF_TYPE_E) != 0;
        s->fixed_enabled = s->fixed_supported && (value & MTRR_DEF_TYPE_FE);
        s->default_type = (uint8_t)(value & MTRR_DEF_TYPE_TYPE);
        return true;
    }
    int slot = fixed_msr_slot(msr);
    if (slot >= 0) {
        if (!s->fixed_supported)
            return false;
        for (unsigned i = 0; i < 8; i++)
            s->fixed[(unsigned)slot * 8 + i] = (uint8_t)(value >> (8 * i));
        return true;
    }
    if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_MAX_VAR) {
        uint32_t n = (msr - MSR_IA32_MTRR_PHYSBASE0) / 2;
        if (n >= s->var_count)
            return false;
        if ((msr - MSR_IA32_MTRR_PHYSBASE0) % 2)
            s->var[n].mask = value;
        else
            s->var[n].base = value;
        return true;
    }
    return false;
}

uint8_t mtrr_type_of(const struct mtrr_state *s, uint64_t addr)
{
    /* SDM 12.11.4.1: disabled MTRRs make everything UC; fixed ranges win below 1 MiB. */
    if (!s->enabled)
        return MT_UC;
    if (s->fixed_enabled && addr < MTRR_FIXED_END) {
        uint64_t unit;
        return valid_type(s->fixed[fixed_index(addr, &unit)]);
    }
    type_set set = 0;
    for (uint32_t n = 0; n < s->var_count; n++) {
        uint64_t m = var_mask(s, n);
        if (var_valid(s, n) && (addr & m) == (s->var[n].base & m))
            set |= type_bit(s->var[n].base);
    }
    return combine(s, set);
}

/*
 * Type of the aligned block [a, a + 2^k), k in 12..63, from the variable
 * ranges alone. For each valid range the block splits its mask into the
 * bits above the block (constant inside it) and the bits inside it:
 *   - high bits differ from the base: no byte of the block matches;
 *   - high bits equal, no mask bit inside: every byte matches (full);
 *   - high bits equal, mask bits inside: some bytes match, some do not
 *     (partial). This three-way split is exact for any mask.
 * When no choice of the partial ranges' types can change the result (for
 * example default WB plus a WB range over half the block) the block is
 * uniform without looking further. Otherwise a partial range with a
 * contiguous mask is an aligned sub-block lying wholly in one half, so the
 * block is split in halves and each half resolved: only halves that hold a
 * range boundary are split again, at most depth x ranges blocks in all.
 * A non-contiguous mask (legal but unused in practice: the SDM recommends
 * contiguous ones) makes this answer MT_MIXED conservatively, so the caller
 * splits to smaller pages; at 4 KiB nothing is partial and the answer is exact.
 */
static uint8_t var_type_of_block(const struct mtrr_state *s, uint64_t a, unsigned k)
{
    uint64_t inside = (1ull << k) - 1;
    type_set full = 0, partial = 0;
    bool noncontiguous = false;
    for (uint32_t n = 0; n < s->var_count; n++) {
        uint64_t m = var_mask(s, n);
        if (!var_valid(s, n) || (a & m & ~inside) != (s->var[n].base & m & ~inside))
            continue;
        uint64_t in = m & inside;
        if (in == 0) {
            full |= type_bit(s->var[n].base);
        } else {
            partial |= type_bit(s->var[n].base);
            if (in + (in & -in) != inside + 1)   /* not a run of ones up to bit k-1 */
                noncontiguous = true;
        }
    }
    uint8_t t = combine(s, full);
    if (!partial)
        return t;
    bool ambiguous = false;
    for (type_set sub = partial; ; sub = (type_set)((sub - 1) & partial)) {
        if (combine(s, full | sub) != t)
            ambiguous = true;
        if (sub == 0)
            break;
    }
    if (!ambiguous)
        return t;
    if (noncontiguous || k <= 12)     /* k <= 12 cannot be partial: bits 11:0 are masked off */
        return MT_MIXED;
    uint8_t lo = var_type_of_block(s, a, k - 1);
    if (lo == MT_MIXED)
        return MT_MIXED;
    uint8_t hi = var_type_of_block(s, a + (1ull << (k - 1)), k - 1);
    return hi == lo ? lo : MT_MIXED;
}

/* Folds one more block's type into a running result (0x100 = nothing yet). */
static unsigned merge(unsigned acc, uint8_t t)
{
    if (acc == 0x100)
        return t;
    return acc == t ? acc : MT_MIXED;
}

/*
 * Splits the range at the fixed/variable border and into aligned blocks so
 * that each piece can be judged by its boundaries (var_type_of_block), and
 * stops at the first disagreement.
 */
uint8_t mtrr_type_of_range(const struct mtrr_state *s, uint64_t start, uint64_t len)
{
    if (!s->enabled)
        return MT_UC;
    /* Every rule below works on whole 4 KiB pages; `last` is inclusive so that 2^64 fits. */
    uint64_t last = start + (len ? len - 1 : 0);
    if (last < start)
        last = UINT64_MAX;
    uint64_t cur = start & ~PAGE_MASK_4K;
    last |= PAGE_MASK_4K;
    unsigned acc = 0x100;

    /* The fixed ranges below 1 MiB: at most 88 of them, visited one by one. */
    if (s->fixed_enabled) {
        while (cur < MTRR_FIXED_END && cur <= last) {
            uint64_t unit;
            acc = merge(acc, valid_type(s->fixed[fixed_index(cur, &unit)]));
            if (acc == MT_MIXED)
                return MT_MIXED;
            cur = (cur & ~(unit - 1)) + unit;
        }
        if (cur > last)
            return (uint8_t)acc;
    }

    /* The rest as maximal aligned power-of-two blocks: at most two per address bit. */
    for (;;) {
        unsigned k = 12;
        while (k < 63 && !(cur & (1ull << k)) &&
               (last - cur) >= (1ull << (k + 1)) - 1)
            k++;
        acc = merge(acc, var_type_of_block(s, cur, k));
        if (acc == MT_MIXED)
            return MT_MIXED;
        uint64_t next = cur + (1ull << k);
        if (next - 1 >= last || next == 0)
            return (uint8_t)acc;
        cur = next;
    }
}

/* For the boot log and the bench: one short name per type. */
const char *mem_type_name(uint8_t t)
{
    switch (t) {
    case MT_UC: return "UC";
    case MT_WC: return "WC";
    case MT_WT: return "WT";
    case MT_WP: return "WP";
    case MT_WB: return "WB";
    case MT_MIXED: return "mixed";
    default: return "invalid";
    }
}
