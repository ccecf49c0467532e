/*
 * libFuzzer target for MTRR-to-EPT typing (mm/mtrr.c, mm/ept.c): random MTRR
 * MSR values (what firmware or a guest may write) and a random hidden range go
 * through mtrr_state_from_msrs and ept_build_identity, then through a guest's
 * MTRR writes and ept_retype. After each step every page below the top is
 * either in the hole and unmapped, or identity-mapped R/W/X by a leaf whose
 * type is the MTRR type of its first and last byte and of every variable-range
 * edge inside it; nothing in the hole is mapped. Running out of table pages is
 * allowed, but must give every page back. One flag bit builds the tree in the
 * NPT format instead (the SVM backend's), whose leaves are all WB.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mm/ept.h"

#define ARENA_BASE  0x100000000000ull   /* table pages live far from guest memory */
#define ARENA_PAGES 8           /* small: bounds each input's work; running out is a tested path */
#define PAGE        4096ull

static uint8_t *arena;
static struct page_alloc alloc;

/* Table pages live in a host buffer; a wild table address fails here, not in ASan. */
static void *arena_virt(uint64_t phys)
{
    assert(phys >= ARENA_BASE && phys < ARENA_BASE + ARENA_PAGES * PAGE);
    return arena + (phys - ARENA_BASE);
}

/* The fuzz input read as a stream; past its end it reads as zeros. */
struct input {
    const uint8_t *p;
    size_t n;
};

/* Short inputs still decode: missing bytes are zeros. */
static uint64_t take(struct input *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

/* Only the five defined types: the CPU refuses (#GP) the others, so no MTRR holds them. */
static uint8_t valid_type(uint64_t b)
{
    static const uint8_t types[] = { MT_UC, MT_WC, MT_WT, MT_WP, MT_WB };
    return types[b % 5];
}

/* A fixed-range MSR value with eight valid type bytes. */
static uint64_t fixed_value(uint64_t raw)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)valid_type(raw >> (8 * i)) << (8 * i);
    return v;
}

/* Why: a leaf is wrong when any byte in it has another MTRR type; its edges and the ranges' edges are where that shows. */
__attribute__((no_sanitize("coverage")))
static void check_leaf_type(const struct mtrr_state *m, uint64_t base, uint64_t size, uint8_t type)
{
    assert(type == mtrr_type_of(m, base));
    assert(type == mtrr_type_of(m, base + size - 1));
    for (uint32_t n = 0; n < m->var_count; n++) {
        uint64_t mask = m->var[n].mask & m->phys_mask & ~0xFFFull;
        if (!(m->var[n].mask & MTRR_PHYSMASK_VALID) || mask == 0)
            continue;
        uint64_t start = m->var[n].base & mask, len = mask & -mask;
        uint64_t edges[2] = { start, start + len };
        for (int k = 0; k < 2; k++)
            if (edges[k] > base && edges[k] < base + size) {
                assert(type == mtrr_type_of(m, edges[k]));
                assert(type == mtrr_type_of(m, edges[k] - 1));
            }
    }
}

/*
 * Why: the one place that states what a correct identity EPT is, checked after build
 * and retype. Walking every leaf costs milliseconds, so it checks the leaves holding 64
 * addresses drawn from the input's own bytes (xorshift), the hole's edges, every variable
 * range's edges and the top page.
 */
__attribute__((no_sanitize("coverage")))
static void check_map(const struct ept *e, const struct mtrr_state *m, uint64_t top,
                      const struct phys_range *hole, uint64_t seed)
{
    uint64_t hs = hole->start & ~(PAGE - 1), he = (hole->end + PAGE - 1) & ~(PAGE - 1);
    uint64_t probes[64 + 4 + 2 * MTRR_MAX_VAR];
    unsigned n = 0;
    for (int i = 0; i < 64; i++) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        probes[n++] = seed % top;
    }
    probes[n++] = hs, probes[n++] = he - PAGE, probes[n++] = he, probes[n++] = top - 1;
    for (uint32_t v = 0; v < m->var_count; v++) {
        uint64_t mask = m->var[v].mask & m->phys_mask & ~0xFFFull;
        probes[n++] = m->var[v].base & mask;
        probes[n++] = (m->var[v].base & mask) + (mask & -mask);
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa = probes[i] & ~(PAGE - 1), hpa, size;
        uint8_t type, rwx;
        if (gpa >= top)
            continue;
        bool in_hole = gpa >= hs && gpa < he;
        if (!ept_lookup(e, gpa, &hpa, &size, &type, &rwx)) {
            assert(in_hole);            /* no other hole is ever left in guest memory */
            continue;
        }
        uint64_t base = gpa & ~(size - 1);
        assert(!in_hole);
        assert(!(hs < he && hs < base + size && base < he));   /* no hidden byte reachable */
        /* IOMMU leaves say read and write only: devices do not fetch */
        bool iommu = e->format == EPT_FORMAT_VTD || e->format == EPT_FORMAT_AMD_VI;
        assert(hpa == gpa && rwx == (iommu ? EPT_READ | EPT_WRITE : EPT_RWX));
        if (e->format != EPT_FORMAT_EPT)
            assert(type == MT_WB);      /* SVM: the MTRRs apply on top; VT-d: no type */
        else
            check_leaf_type(m, base, size, type);
    }
}

/* Decodes MTRRs and a hole, builds, checks, lets the guest rewrite MTRRs, re-types, checks. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    uint64_t seed = 0x9E3779B97F4A7C15ull;             /* FNV-style hash of the input: the probe addresses */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 0x100000001B3ull;
    if (!arena)
        arena = aligned_alloc(PAGE, ARENA_PAGES * PAGE);

    unsigned maxphy = 36 + take(&in, 1) % 17;           /* 36..52 bits */
    uint64_t flags = take(&in, 1);
    uint64_t mtrrcap = (flags & 0x0F) % 11 | (flags & 0x10 ? MTRRCAP_FIX : 0) | MTRRCAP_WC;
    uint64_t def = take(&in, 2);
    def = valid_type(def) | (def & 0x0C00);            /* E and FE, nothing reserved */
    /* Guest memory up to 64 GiB with 1 GiB pages, 1 GiB with 2 MiB, 2 MiB with 4 KiB only:
     * a few thousand leaves at most, so that each input takes microseconds. */
    uint64_t top = (take(&in, 4) + 1) * PAGE;
    top &= (flags & 0x80) ? (1ull << 36) - 1 : (flags & 0x40) ? (1ull << 30) - 1 : (1ull << 21) - 1;
    if (top == 0)
        top = PAGE;
    struct phys_range hole;
    hole.start = take(&in, 4) * PAGE / 16;
    hole.end = hole.start + take(&in, 2) * PAGE;
    uint64_t fixed[MTRR_FIXED_MSRS], base[10], mask[10];
    for (int i = 0; i < MTRR_FIXED_MSRS; i++)
        fixed[i] = fixed_value(take(&in, 8));
    unsigned vcnt = mtrrcap & MTRRCAP_VCNT_MASK;
    uint64_t pmask = (1ull << maxphy) - 1;
    for (unsigned i = 0; i < vcnt; i++) {
        uint64_t b = take(&in, 8), k = take(&in, 8);
        base[i] = (b & pmask & ~0xFFFull) | valid_type(b);
        mask[i] = (k & pmask & ~0xFFFull) | (k & MTRR_PHYSMASK_VALID);
    }

    struct mtrr_state m;
    mtrr_state_from_msrs(&m, mtrrcap, def, mtrrcap & MTRRCAP_FIX ? fixed : NULL,
                         vcnt ? base : NULL, vcnt ? mask : NULL, maxphy);
    page_alloc_init(&alloc, ARENA_BASE, ARENA_PAGES * PAGE);
    struct ept e = { .alloc = &alloc, .phys_to_virt = arena_virt, .format = !(flags & 0x20) ? EPT_FORMAT_EPT
                                         : flags & 0x01 ? EPT_FORMAT_VTD
                                         : flags & 0x02 ? EPT_FORMAT_AMD_VI : EPT_FORMAT_NPT,
                     .has_2m = flags & 0x40, .has_1g = flags & 0x80, .holes = &hole,
                     .hole_count = 1 };
    if (ept_build_identity(&e, top, &m, NULL) != 0) {
        assert(e.pml4 == 0 && alloc.used == 0);         /* a failed build keeps nothing */
        return 0;
    }
    check_map(&e, &m, top, &hole, seed);

    /* The guest rewrites some MTRRs (valid values only, as WRMSR enforces), then re-typing. */
    for (unsigned w = take(&in, 1) % 8; w > 0; w--) {
        static const uint32_t msrs[] = { MSR_IA32_MTRR_DEF_TYPE, MSR_IA32_MTRR_FIX64K_00000,
                                         MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_PHYSBASE0,
                                         MSR_IA32_MTRR_PHYSMASK0 };
        uint64_t sel = take(&in, 1), v = take(&in, 8);
        uint32_t msr = msrs[sel % 5];
        if (msr == MSR_IA32_MTRR_DEF_TYPE)
            v = valid_type(v) | (v & 0x0C00);
        else if (msr == MSR_IA32_MTRR_PHYSBASE0)
            msr += 2 * (sel / 5 % 10), v = (v & pmask & ~0xFFFull) | valid_type(v);
        else if (msr == MSR_IA32_MTRR_PHYSMASK0)
            msr += 2 * (sel / 5 % 10), v = (v & pmask & ~0xFFFull) | (v & MTRR_PHYSMASK_VALID);
        else
            v = fixed_value(v);
        mtrr_state_write(&m, msr, v);
    }
    if (ept_retype(&e, &m) == 0)
        check_map(&e, &m, top, &hole, seed);
    return 0;
}
