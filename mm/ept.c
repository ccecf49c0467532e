/*
 * The guest's EPT hierarchy (Intel SDM Vol. 3C, 29.3), or its nested page
 * tables under AMD SVM (APM Vol. 2, 15.25): the same tree in another entry
 * format. Identity map with the largest pages whose MTRR type is uniform (a
 * large page must not straddle a memory-type boundary) and that hold no part
 * of a hole (the hypervisor region must stay unreachable). Levels count as in
 * mm/pagetable.c: 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT. Only the functions
 * under "entry formats" know the bits; everything else speaks of
 * permissions (EPT_READ/WRITE/EXEC) and memory types.
 */
#include "mm/ept.h"

#include <stddef.h>

#define PAGE_4K 4096ull

/* Bytes one entry maps at `level` (4 KiB, 2 MiB, 1 GiB, 512 GiB). */
static uint64_t level_size(int level)
{
    return 1ull << (12 + 9 * level);
}

/* The entry of a `level` table that gpa goes through (SDM 29.3.2: 9 bits per level). */
static unsigned index_at(uint64_t gpa, int level)
{
    return (gpa >> (12 + 9 * level)) & 511;
}

/* Tables are named by physical address; this environment decides how to reach them. */
static uint64_t *table_at(const struct ept *e, uint64_t phys)
{
    return e->phys_to_virt(phys);
}

/* ---- entry formats ---------------------------------------------------------------- */

/*
 * SDM 29.3.2: an EPT entry whose bits 2:0 are all clear is not present; NPT: bit 0 (P);
 * VT-d: read and write (bits 1:0) both clear (VT-d 3.x, 9.8); AMD-Vi: bit 0 (PR).
 */
static bool present(const struct ept *e, uint64_t ent)
{
    switch (e->format) {
    case EPT_FORMAT_NPT: return (ent & NPT_PRESENT) != 0;
    case EPT_FORMAT_VTD: return (ent & (VTD_SL_READ | VTD_SL_WRITE)) != 0;
    case EPT_FORMAT_AMD_VI: return (ent & AMDVI_PTE_PR) != 0;
    default: return (ent & EPT_RWX) != 0;
    }
}

/*
 * An entry that points at a table: every access allowed, the leaf decides. A nested
 * walk counts as a user access (APM 15.25.5), so NPT tables and leaves set U/S.
 */
static uint64_t table_entry(const struct ept *e, uint64_t phys, int level)
{
    switch (e->format) {
    case EPT_FORMAT_NPT: return phys | NPT_PRESENT | NPT_WRITE | NPT_USER;
    case EPT_FORMAT_VTD: return phys | VTD_SL_READ | VTD_SL_WRITE;
    case EPT_FORMAT_AMD_VI:
        /* AMD-Vi names the level of the table pointed at: ours (3 = PML4) plus one, less one. */
        return phys | AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW |
               (uint64_t)level << AMDVI_PTE_NEXT_SHIFT;
    default: return phys | EPT_RWX;
    }
}

/*
 * The PAT index an NPT leaf carries for a memory type, with the power-on PAT in the
 * host (0 WB, 1 WT, 3 UC; SDM Vol. 3A, 13.12.4): PWT is bit 0 of the index, PCD bit 1.
 * -1 for a type this cannot say (valid_type keeps those out).
 */
static int npt_pat_bits(uint8_t type)
{
    switch (type) {
    case MT_WB: return 0;
    case MT_WT: return (int)NPT_PWT;
    case MT_UC: return (int)(NPT_PWT | NPT_PCD);
    default: return -1;
    }
}

/*
 * A leaf at `level` mapping host address addr with permissions perms (EPT_RWX bits).
 * A VT-d leaf says read and write only: no memory type (its EMT field is for nested
 * translation only) and no execute (devices do not fetch). An AMD-Vi leaf has next level
 * 0, its size that of its level; bit 7, which AMD-Vi ignores, marks large ones as here.
 */
static uint64_t leaf_entry(const struct ept *e, uint64_t addr, int level, uint8_t type,
                           uint64_t perms)
{
    if (e->format == EPT_FORMAT_EPT)
        return addr | perms | ((uint64_t)type << EPT_TYPE_SHIFT) | (level ? EPT_LARGE : 0);
    if (e->format == EPT_FORMAT_VTD)
        return addr | (perms & EPT_READ ? VTD_SL_READ : 0) |
               (perms & EPT_WRITE ? VTD_SL_WRITE : 0) | (level ? EPT_LARGE : 0);
    if (e->format == EPT_FORMAT_AMD_VI)
        return !(perms & (EPT_READ | EPT_WRITE)) ? 0 :
               addr | AMDVI_PTE_PR | (perms & EPT_READ ? AMDVI_PTE_IR : 0) |
               (perms & EPT_WRITE ? AMDVI_PTE_IW : 0) | (level ? EPT_LARGE : 0);
    int pat = npt_pat_bits(type);
    uint64_t ent = addr | NPT_USER | (uint64_t)(pat < 0 ? NPT_PWT | NPT_PCD : (uint64_t)pat) |
                   (level ? NPT_LARGE : 0);
    if (perms & EPT_READ)
        ent |= NPT_PRESENT;
    if (perms & EPT_WRITE)
        ent |= NPT_WRITE;
    if (!(perms & EPT_EXEC))
        ent |= NPT_NX;
    return ent;
}

/* A leaf's memory type (the inverse of leaf_entry). */
static uint8_t leaf_type(const struct ept *e, uint64_t ent)
{
    if (e->format == EPT_FORMAT_VTD || e->format == EPT_FORMAT_AMD_VI)
        return MT_WB;
    if (e->format == EPT_FORMAT_EPT)
        return (uint8_t)((ent & EPT_TYPE_MASK) >> EPT_TYPE_SHIFT);
    uint64_t pat = ent & (NPT_PWT | NPT_PCD);
    return pat == 0 ? MT_WB : pat == NPT_PWT ? MT_WT : MT_UC;
}

/* A leaf's permissions, as EPT_READ/WRITE/EXEC bits. */
static uint64_t leaf_perms(const struct ept *e, uint64_t ent)
{
    if (e->format == EPT_FORMAT_EPT)
        return ent & EPT_RWX;
    if (e->format == EPT_FORMAT_VTD)
        return (ent & VTD_SL_READ ? EPT_READ : 0) | (ent & VTD_SL_WRITE ? EPT_WRITE : 0);
    if (e->format == EPT_FORMAT_AMD_VI)
        return !(ent & AMDVI_PTE_PR) ? 0 :
               (ent & AMDVI_PTE_IR ? EPT_READ : 0) | (ent & AMDVI_PTE_IW ? EPT_WRITE : 0);
    if (!(ent & NPT_PRESENT))
        return 0;
    return EPT_READ | (ent & NPT_WRITE ? EPT_WRITE : 0) | (ent & NPT_NX ? 0 : EPT_EXEC);
}

/*
 * The type a block's leaf gets. Under SVM the MTRRs still apply to nested
 * translations (APM 15.25.8), so NPT leaves are all WB and the MTRRs decide;
 * the guest's MTRR writes reach them directly. EPT replaces the MTRRs for the
 * guest (SDM 29.3.7), so its leaves carry their MTRR type. IOMMU leaves carry
 * none (m may be NULL there).
 */
static uint8_t range_type(const struct ept *e, const struct mtrr_state *m, uint64_t a,
                          uint64_t size)
{
    return e->format == EPT_FORMAT_EPT ? mtrr_type_of_range(m, a, size) : MT_WB;
}

/* ---- the tree --------------------------------------------------------------------- */

/* A PTE is always a leaf; a PDPTE or PDE is one when bit 7 is set (a PML4E never is). */
static bool is_leaf(uint64_t ent, int level)
{
    return level == 0 || (level < 3 && (ent & EPT_LARGE));
}

/* The first host byte a leaf maps. */
static uint64_t leaf_addr(uint64_t ent, int level)
{
    return ent & EPT_ADDR_MASK & ~(level_size(level) - 1);
}

/* Which page sizes this CPU can use as leaves (IA32_VMX_EPT_VPID_CAP, SDM Vol. 3D, A.10). */
static bool leaf_allowed(const struct ept *e, int level)
{
    return level == 0 || (level == 1 && e->has_2m) || (level == 2 && e->has_1g);
}

/*
 * The EPT memory types (SDM 29.3.7; 2, 3 and 7 are reserved and cause EPT
 * misconfigurations), or those an NPT leaf can say (npt_pat_bits).
 */
static bool valid_type(const struct ept *e, uint8_t t)
{
    if (e->format == EPT_FORMAT_VTD || e->format == EPT_FORMAT_AMD_VI)
        return t == MT_WB;
    if (e->format == EPT_FORMAT_NPT)
        return npt_pat_bits(t) >= 0;
    return t == MT_UC || t == MT_WC || t == MT_WT || t == MT_WP || t == MT_WB;
}

/*
 * Other processors may walk the hierarchy while it changes (on-demand
 * mapping, re-typing), so a new table must be complete before the entry
 * pointing at it is stored: a release store keeps the compiler from sinking
 * the table's stores below it (x86 keeps stores in order).
 */
static void set_entry(uint64_t *ent, uint64_t val)
{
    __atomic_store_n(ent, val, __ATOMIC_RELEASE);
}

/* A zeroed table page, or 0 when the allocator is empty. */
static uint64_t new_table(struct ept *e)
{
    uint64_t phys = page_alloc_one(e->alloc);
    if (!phys)
        return 0;
    uint64_t *t = table_at(e, phys);
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return phys;
}

/* Gives back a table and every table below it (leaves point at guest memory, not ours). */
static void free_tree(struct ept *e, uint64_t phys, int level)
{
    uint64_t *t = table_at(e, phys);
    for (int i = 0; level > 0 && i < 512; i++)
        if (present(e, t[i]) && !is_leaf(t[i], level))
            free_tree(e, t[i] & EPT_ADDR_MASK, level - 1);
    page_free_pages(e->alloc, phys, 1);
}

/* A table with no entry is dead weight in the region: callers give it back. */
static bool table_empty(const struct ept *e, uint64_t phys)
{
    const uint64_t *t = table_at(e, phys);
    for (int i = 0; i < 512; i++)
        if (t[i])
            return false;
    return true;
}

/*
 * Holes are widened to whole 4 KiB pages: a page holding any byte of the
 * hypervisor region must not be mapped, since EPT protects pages, not bytes.
 */
static void hole_pages(const struct phys_range *h, uint64_t *start, uint64_t *end)
{
    *start = h->start & ~(PAGE_4K - 1);
    *end = h->end > UINT64_MAX - (PAGE_4K - 1) ? UINT64_MAX & ~(PAGE_4K - 1)
                                               : (h->end + PAGE_4K - 1) & ~(PAGE_4K - 1);
}

/* True when some hole page lies in [s, end): such a block cannot be one leaf. */
static bool hole_overlaps(const struct ept *e, uint64_t s, uint64_t end)
{
    for (uint32_t i = 0; i < e->hole_count; i++) {
        uint64_t hs, he;
        hole_pages(&e->holes[i], &hs, &he);
        if (hs < he && hs < end && s < he)
            return true;
    }
    return false;
}

/* True when holes (together) cover all of [s, end): nothing there to map, so no table is needed. */
static bool hole_covers(const struct ept *e, uint64_t s, uint64_t end)
{
    uint64_t cur = s;
    while (cur < end) {
        bool advanced = false;
        for (uint32_t i = 0; i < e->hole_count; i++) {
            uint64_t hs, he;
            hole_pages(&e->holes[i], &hs, &he);
            if (hs <= cur && cur < he) {
                cur = he;
                advanced = true;
            }
        }
        if (!advanced)
            return false;
    }
    return true;
}

/*
 * Maps [s, end) identically under the table at `level` whose first entry
 * covers `base`, filling only entries that are not present yet (existing
 * leaves stay as they are, existing tables are descended into). A slot is one
 * leaf when it lies wholly in the range, the CPU allows that page size, no
 * hole touches it and its MTRR type is uniform; otherwise it gets a table.
 * A table created here that ends up empty (everything in it was a hole or
 * the allocator ran out) is given back.
 */
static int map_fill(struct ept *e, uint64_t table, int level, uint64_t base, uint64_t s,
                    uint64_t end, const struct mtrr_state *m)
{
    uint64_t size = level_size(level);
    uint64_t *t = table_at(e, table);
    unsigned first = s > base ? index_at(s, level) : 0;
    for (unsigned i = first; i < 512; i++) {
        uint64_t a = base + i * size, a_end = a + size;
        if (a >= end)
            break;
        if (present(e, t[i]) && is_leaf(t[i], level))
            continue;
        uint64_t lo = a > s ? a : s, hi = a_end < end ? a_end : end;
        if (hole_covers(e, lo, hi))
            continue;
        bool created = false;
        if (!present(e, t[i])) {
            if (lo == a && hi == a_end && leaf_allowed(e, level) && !hole_overlaps(e, a, a_end)) {
                uint8_t type = range_type(e, m, a, size);
                if (type != MT_MIXED) {
                    set_entry(&t[i], leaf_entry(e, a, level, type, EPT_RWX));
                    continue;
                }
            }
            if (level == 0)            /* a whole page outside holes always has one type */
                continue;
            uint64_t child = new_table(e);
            if (!child)
                return -1;
            set_entry(&t[i], table_entry(e, child, level));
            created = true;
        }
        uint64_t child = t[i] & EPT_ADDR_MASK;
        int rc = map_fill(e, child, level - 1, a, lo, hi, m);
        if (created && table_empty(e, child)) {
            set_entry(&t[i], 0);
            page_free_pages(e->alloc, child, 1);
        }
        if (rc)
            return -1;
    }
    return 0;
}

int ept_build_identity(struct ept *e, uint64_t top, const struct mtrr_state *m,
                       struct ept_stats *st)
{
    /* A partial page at the top still holds guest memory, so round up, never down. */
    if (top > EPT_MAX_GPA)
        return -1;
    top = (top + PAGE_4K - 1) & ~(PAGE_4K - 1);
    e->pml4 = new_table(e);
    if (!e->pml4)
        return -1;
    if (map_fill(e, e->pml4, 3, 0, 0, top, m)) {
        free_tree(e, e->pml4, 3);
        e->pml4 = 0;
        return -1;
    }
    if (st)
        ept_count(e, st);
    return 0;
}

/* True when the page holding gpa is (partly) in a hole. */
static bool in_hole(const struct ept *e, uint64_t gpa)
{
    uint64_t page = gpa & ~(PAGE_4K - 1);
    return hole_overlaps(e, page, page + PAGE_4K);
}

int ept_map_on_demand(struct ept *e, uint64_t gpa, const struct mtrr_state *m)
{
    /* MMIO above the built top gets the mapping the build would have given it. */
    if (!e->pml4 || gpa >= EPT_MAX_GPA || gpa > m->phys_mask || in_hole(e, gpa))
        return -1;
    uint64_t size = e->has_1g ? level_size(2) : e->has_2m ? level_size(1) : PAGE_4K;
    uint64_t base = gpa & ~(size - 1);
    return map_fill(e, e->pml4, 3, 0, base, base + size, m);
}

/*
 * A table of 512 leaves one level down that together map exactly what the
 * large leaf `ent` mapped (same target, permissions, type, marks), so a page
 * inside it can change without touching its neighbours. 0 when out of memory.
 */
static uint64_t split_leaf(struct ept *e, uint64_t ent, int level)
{
    uint64_t child = new_table(e);
    if (!child)
        return 0;
    uint64_t *t = table_at(e, child);
    uint64_t marks = ent & EPT_REMAPPED;
    uint8_t type = leaf_type(e, ent);
    uint64_t perms = leaf_perms(e, ent), addr = leaf_addr(ent, level);
    for (unsigned i = 0; i < 512; i++)
        t[i] = leaf_entry(e, addr + i * level_size(level - 1), level - 1, type, perms) | marks;
    return child;
}

int ept_map_page(struct ept *e, uint64_t gpa, uint64_t hpa, uint8_t type)
{
    /* R/W but not X: the target is a data page (a dummy for a probed hidden page). */
    if (!e->pml4 || ((gpa | hpa) & (PAGE_4K - 1)) || gpa >= EPT_MAX_GPA ||
        (hpa & ~EPT_ADDR_MASK) || !valid_type(e, type))
        return -1;
    uint64_t table = e->pml4;
    for (int level = 3; level > 0; level--) {
        uint64_t *ent = table_at(e, table) + index_at(gpa, level);
        if (!present(e, *ent) || is_leaf(*ent, level)) {
            uint64_t child = present(e, *ent) ? split_leaf(e, *ent, level) : new_table(e);
            if (!child)
                return -1;
            set_entry(ent, table_entry(e, child, level));
        }
        table = *ent & EPT_ADDR_MASK;
    }
    uint64_t *ent = table_at(e, table) + index_at(gpa, 0);
    set_entry(ent, leaf_entry(e, hpa, 0, type, EPT_READ | EPT_WRITE) | EPT_REMAPPED);
    return 0;
}

int ept_set_page_access(struct ept *e, uint64_t gpa, uint64_t rwx)
{
    /* Write without read is a misconfiguration (SDM Vol. 3C, 29.3.3.1). */
    if (!e->pml4 || (gpa & (PAGE_4K - 1)) || gpa >= EPT_MAX_GPA || (rwx & ~EPT_RWX) ||
        ((rwx & EPT_WRITE) && !(rwx & EPT_READ)))
        return -1;
    uint64_t table = e->pml4;
    for (int level = 3; level > 0; level--) {
        uint64_t *ent = table_at(e, table) + index_at(gpa, level);
        if (!present(e, *ent))
            return -1;
        if (is_leaf(*ent, level)) {
            uint64_t child = split_leaf(e, *ent, level);
            if (!child)
                return -1;
            set_entry(ent, table_entry(e, child, level));
        }
        table = *ent & EPT_ADDR_MASK;
    }
    uint64_t *ent = table_at(e, table) + index_at(gpa, 0);
    if (!present(e, *ent))
        return -1;
    set_entry(ent, leaf_entry(e, leaf_addr(*ent, 0), 0, leaf_type(e, *ent), rwx) |
                   (*ent & EPT_REMAPPED));
    return 0;
}

/*
 * A complete table one level below a leaf that is no longer uniform:
 * identity leaves for [base, base + 512 * level_size(level)) with their own
 * types and the parent's permissions, tables again where a child is mixed
 * too. Built fully before anyone links it. 0 when out of memory (then
 * nothing is left allocated).
 */
static uint64_t build_typed(struct ept *e, uint64_t base, int level, uint64_t perms,
                            const struct mtrr_state *m)
{
    uint64_t table = new_table(e);
    if (!table)
        return 0;
    uint64_t *t = table_at(e, table);
    uint64_t size = level_size(level);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t a = base + i * size;
        uint8_t type = leaf_allowed(e, level) ? range_type(e, m, a, size) : MT_MIXED;
        if (type == MT_MIXED && level == 0)
            type = MT_UC;              /* cannot happen: one page has one type */
        if (type != MT_MIXED) {
            t[i] = leaf_entry(e, a, level, type, perms);
            continue;
        }
        uint64_t child = build_typed(e, a, level - 1, perms, m);
        if (!child) {
            free_tree(e, table, level);
            return 0;
        }
        t[i] = table_entry(e, child, level);
    }
    return table;
}

/* Re-types every identity leaf under one table (see ept_retype). */
static int retype_table(struct ept *e, uint64_t table, int level, uint64_t base,
                        const struct mtrr_state *m)
{
    uint64_t *t = table_at(e, table);
    uint64_t size = level_size(level);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t ent = t[i], a = base + i * size;
        if (!present(e, ent))
            continue;
        if (!is_leaf(ent, level)) {
            if (retype_table(e, ent & EPT_ADDR_MASK, level - 1, a, m))
                return -1;
            continue;
        }
        if ((ent & EPT_REMAPPED) || leaf_addr(ent, level) != a)
            continue;
        uint8_t type = range_type(e, m, a, size);
        if (type == MT_MIXED && level == 0)
            type = MT_UC;              /* cannot happen: one page has one type */
        if (type != MT_MIXED) {
            set_entry(&t[i], leaf_entry(e, a, level, type, leaf_perms(e, ent)));
            continue;
        }
        uint64_t child = build_typed(e, a, level - 1, leaf_perms(e, ent), m);
        if (!child)
            return -1;
        set_entry(&t[i], table_entry(e, child, level));
    }
    return 0;
}

int ept_retype(struct ept *e, const struct mtrr_state *m)
{
    /* With EPT on, guest MTRR writes take effect only through the EPT types (SDM 3C, 29.3.7). */
    if (!e->pml4)
        return -1;
    return retype_table(e, e->pml4, 3, 0, m);
}

bool ept_lookup(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *page_size,
                uint8_t *type, uint8_t *rwx)
{
    /* The same walk the CPU does (SDM 29.3.2), so tests check what the guest would get. */
    if (!e->pml4 || gpa >= EPT_MAX_GPA)
        return false;
    uint64_t table = e->pml4;
    for (int level = 3; level >= 0; level--) {
        uint64_t ent = table_at(e, table)[index_at(gpa, level)];
        if (!present(e, ent))
            return false;
        if (is_leaf(ent, level)) {
            uint64_t size = level_size(level);
            if (hpa)
                *hpa = leaf_addr(ent, level) | (gpa & (size - 1));
            if (page_size)
                *page_size = size;
            if (type)
                *type = leaf_type(e, ent);
            if (rwx)
                *rwx = (uint8_t)leaf_perms(e, ent);
            return true;
        }
        table = ent & EPT_ADDR_MASK;
    }
    return false;
}

/* ept_count's walk of one table and everything below it. */
static void count_table(const struct ept *e, uint64_t table, int level, struct ept_stats *st)
{
    const uint64_t *t = table_at(e, table);
    st->tables++;
    for (unsigned i = 0; i < 512; i++) {
        if (!present(e, t[i]))
            continue;
        if (is_leaf(t[i], level))
            st->pages[level][leaf_type(e, t[i])]++;
        else
            count_table(e, t[i] & EPT_ADDR_MASK, level - 1, st);
    }
}

void ept_count(const struct ept *e, struct ept_stats *st)
{
    /* One pass over the tree, so the numbers always describe what the CPU walks. */
    *st = (struct ept_stats){ 0 };
    if (e->pml4)
        count_table(e, e->pml4, 3, st);
}
