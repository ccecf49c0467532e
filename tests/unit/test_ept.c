/*
 * mm/ept.c: the guest's identity map, page sizes by MTRR uniformity, holes, re-typing; and
 * the same tree in the NPT format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/ept.h"

#define KIB  (1ull << 10)
#define MIB  (1ull << 20)
#define GIB  (1ull << 30)

#define ARENA_BASE  0x100000000000ull      /* 16 TiB: table pages live apart from guest memory */
#define ARENA_PAGES 1024

static uint8_t *arena;
static struct page_alloc alloc;
static struct ept ept;
static struct mtrr_state mtrr;

static void *arena_virt(uint64_t phys)
{
    assert_true(phys >= ARENA_BASE && phys < ARENA_BASE + ARENA_PAGES * 4096ull);
    assert_int_equal(phys & 0xFFF, 0);
    return arena + (phys - ARENA_BASE);
}

#include "tests/unit/mtrr_fixtures.h"

#define DESKTOP_TOP (17 * GIB)      /* the desktop fixture's RAM ends at 17 GiB */

/* ---- helpers ----------------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    arena = aligned_alloc(4096, ARENA_PAGES * 4096);
    page_alloc_init(&alloc, ARENA_BASE, ARENA_PAGES * 4096);
    ept = (struct ept){ .alloc = &alloc, .phys_to_virt = arena_virt, .has_2m = true,
                        .has_1g = true };
    fx_desktop(&mtrr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(arena);
    return 0;
}

/* What ept_lookup says about gpa, packed for one-line asserts. */
struct leaf { bool mapped; uint64_t hpa, size; uint8_t type, rwx; };
static struct leaf look(uint64_t gpa)
{
    struct leaf l = { 0 };
    l.mapped = ept_lookup(&ept, gpa, &l.hpa, &l.size, &l.type, &l.rwx);
    return l;
}

/* gpa is identity-mapped R/W/X with a leaf of `size` and type `type`. */
static void assert_identity(uint64_t gpa, uint64_t size, uint8_t type)
{
    struct leaf l = look(gpa);
    if (!l.mapped || l.hpa != gpa || l.size != size || l.type != type || l.rwx != 7)
        fail_msg("gpa %#llx: mapped %d hpa %#llx size %#llx type %u rwx %u; "
                 "want size %#llx type %u",
                 (unsigned long long)gpa, l.mapped, (unsigned long long)l.hpa,
                 (unsigned long long)l.size, l.type, l.rwx, (unsigned long long)size, type);
}

static void assert_unmapped(uint64_t gpa)
{
    if (look(gpa).mapped)
        fail_msg("gpa %#llx is mapped", (unsigned long long)gpa);
}

/*
 * Every entry of the hierarchy is well formed (SDM 29.3.2): tables R/W/X with
 * bits 7:3 clear; leaves with bit 6 (ignore PAT) clear, a valid memory type, an
 * address aligned to their size and, unless remapped, equal to the guest
 * address and R/W/X (R/X for write_protected); no empty table. Returns the number of table pages.
 */
static uint64_t write_protected = ~0ull;   /* the one page a test made read-only */

static uint64_t check_table(uint64_t table, int level, uint64_t base)
{
    const uint64_t *t = arena_virt(table);
    uint64_t size = 1ull << (12 + 9 * level), tables = 1;
    bool any = false;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t ent = t[i], a = base + i * size;
        if (!(ent & EPT_RWX)) {
            assert_int_equal(ent, 0);
            continue;
        }
        any = true;
        if (level > 0 && (level == 3 || !(ent & EPT_LARGE))) {
            assert_int_equal(ent & 0xFFF, EPT_RWX);
            tables += check_table(ent & EPT_ADDR_MASK, level - 1, a);
            continue;
        }
        assert_int_equal(ent & EPT_IGNORE_PAT, 0);
        uint8_t type = (ent & EPT_TYPE_MASK) >> EPT_TYPE_SHIFT;
        assert_true(type == MT_UC || type == MT_WC || type == MT_WT || type == MT_WP ||
                    type == MT_WB);
        assert_int_equal(ent & EPT_ADDR_MASK & (size - 1), 0);
        if (!(ent & EPT_REMAPPED)) {
            assert_int_equal(ent & EPT_ADDR_MASK, a);
            assert_int_equal(ent & EPT_RWX, a == write_protected ? EPT_READ | EPT_EXEC : EPT_RWX);
        }
    }
    assert_true(any);
    return tables;
}

static void check_tree(void)
{
    struct ept_stats st;
    ept_count(&ept, &st);
    assert_int_equal(check_table(ept.pml4, 3, 0), st.tables);
}

/* ---- identity builds ------------------------------------------------------------------ */

/*
 * The desktop with 1 GiB pages: the first 2 MiB in 4 KiB pages (fixed
 * ranges), the rest of the first GiB in 2 MiB pages, every other GiB one
 * page, and 3-4 GiB one UC page although a WC range lies in it (UC wins).
 */
static void desktop_with_1g_pages(void **state)
{
    (void)state;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, &st), 0);
    assert_int_equal(st.pages[0][MT_WB], 160 + 256);  /* 0-0x9FFFF and 1-2 MiB */
    assert_int_equal(st.pages[0][MT_UC], 32 + 16);    /* 0xA0000-0xBFFFF, 0xD0000-0xDFFFF */
    assert_int_equal(st.pages[0][MT_WP], 16 + 32);
    assert_int_equal(st.pages[1][MT_WB], 511);
    assert_int_equal(st.pages[2][MT_WB], 2 + 13);     /* 1-3 GiB and 4-17 GiB */
    assert_int_equal(st.pages[2][MT_UC], 1);
    assert_int_equal(st.pages[2][MT_WC], 0);
    assert_int_equal(st.tables, 4);                   /* PML4, PDPT, one PD, one PT */
    assert_int_equal(alloc.used, 4);
    check_tree();

    assert_identity(0x7000, 4 * KIB, MT_WB);
    assert_identity(0xB8000, 4 * KIB, MT_UC);
    assert_identity(0xC0000, 4 * KIB, MT_WP);
    assert_identity(0xD8000, 4 * KIB, MT_UC);
    assert_identity(0xFFFFF, 4 * KIB, MT_WP);
    assert_identity(0x100000, 4 * KIB, MT_WB);
    assert_identity(0x200000, 2 * MIB, MT_WB);
    assert_identity(0x3FFFFFFF, 2 * MIB, MT_WB);
    assert_identity(0x40000000, GIB, MT_WB);
    assert_identity(0xBFFFFFFF, GIB, MT_WB);
    assert_identity(0xC0000000, GIB, MT_UC);
    assert_identity(0xFEE00000, GIB, MT_UC);
    assert_identity(16 * GIB + 5, GIB, MT_WB);
    assert_unmapped(DESKTOP_TOP);
    assert_unmapped(64 * GIB);
}

static void desktop_without_1g_pages(void **state)
{
    (void)state;
    struct ept_stats st;
    ept.has_1g = false;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, &st), 0);
    assert_int_equal(st.pages[2][MT_WB] + st.pages[2][MT_UC], 0);
    assert_int_equal(st.pages[1][MT_WB], 511 + 2 * 512 + 13 * 512);
    assert_int_equal(st.pages[1][MT_UC], 512);
    assert_int_equal(st.pages[0][MT_WB], 416);
    assert_int_equal(st.tables, 1 + 1 + 17 + 1);
    check_tree();
    assert_identity(0x40000000, 2 * MIB, MT_WB);
    assert_identity(0xC0000000, 2 * MIB, MT_UC);
    assert_identity(0xD0000000, 2 * MIB, MT_UC);      /* past the WC framebuffer range */
    assert_identity(DESKTOP_TOP - 1, 2 * MIB, MT_WB);
    assert_identity(0xA0000, 4 * KIB, MT_UC);
}

static void only_4k_pages(void **state)
{
    (void)state;
    struct ept_stats st;
    ept.has_1g = ept.has_2m = false;
    fx_bochs(&mtrr);
    assert_int_equal(ept_build_identity(&ept, 64 * MIB, &mtrr, &st), 0);
    assert_int_equal(st.pages[0][MT_WB], 64 * 256 - 96);
    assert_int_equal(st.pages[0][MT_UC], 96);         /* Bochs: 0xA0000-0xFFFFF UC */
    assert_int_equal(st.pages[1][MT_WB] + st.pages[2][MT_WB], 0);
    assert_int_equal(st.tables, 1 + 1 + 1 + 32);
    check_tree();
    assert_identity(0x200000, 4 * KIB, MT_WB);
    assert_identity(64 * MIB - 1, 4 * KIB, MT_WB);
    assert_unmapped(64 * MIB);
}

/* The hypervisor region as a hole: not present; 4 KiB pages around it, 2 MiB pages beyond. */
static void hole_is_not_mapped(void **state)
{
    (void)state;
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.holes = &hole;
    ept.hole_count = 1;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, &st), 0);
    check_tree();
    for (uint64_t a = hole.start; a < hole.end; a += 4 * KIB)
        assert_unmapped(a);
    assert_unmapped(hole.end - 1);
    assert_identity(hole.start - 1, 4 * KIB, MT_WB);
    assert_identity(0x7FE00000, 4 * KIB, MT_WB);
    assert_identity(hole.end, 4 * KIB, MT_WB);
    assert_identity(0x7FFFF000, 4 * KIB, MT_WB);
    assert_identity(0x7FDFFFFF, 2 * MIB, MT_WB);
    assert_identity(0x40000000, 2 * MIB, MT_WB);
    assert_identity(0x80000000, GIB, MT_WB);
    assert_int_equal(st.pages[0][MT_WB], 416 + 0x1A5 + 0x20);   /* 0x7FE00000.. and ..0x7FFFFFFF */
    assert_int_equal(st.pages[1][MT_WB], 511 + 511);
    assert_int_equal(st.pages[2][MT_WB], 14);
    assert_int_equal(st.tables, 6);
}

/*
 * Holes in awkward places: across a 1 GiB boundary, not page-aligned (the
 * pages holding its bytes are hidden), and covering whole 2 MiB blocks (no
 * table is spent on them).
 */
static void awkward_holes(void **state)
{
    (void)state;
    static const struct phys_range holes[3] = {
        { GIB - 12 * KIB, GIB + 20 * KIB },
        { 0x12345678, 0x12346001 },
        { 0x20000000, 0x20600000 },
    };
    fx_bochs(&mtrr);
    ept.holes = holes;
    ept.hole_count = 3;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, 2 * GIB, &mtrr, &st), 0);
    check_tree();
    assert_identity(GIB - 16 * KIB, 4 * KIB, MT_WB);
    assert_unmapped(GIB - 12 * KIB);
    assert_unmapped(GIB - 1);
    assert_unmapped(GIB);
    assert_unmapped(GIB + 16 * KIB);
    assert_identity(GIB + 20 * KIB, 4 * KIB, MT_WB);
    assert_identity(GIB + 2 * MIB, 2 * MIB, MT_WB);
    assert_identity(GIB - 2 * MIB - 1, 2 * MIB, MT_WB);
    assert_identity(0x12344FFF, 4 * KIB, MT_WB);
    assert_unmapped(0x12345000);
    assert_unmapped(0x12346000);
    assert_identity(0x12347000, 4 * KIB, MT_WB);
    assert_identity(0x1FFFFFFF, 2 * MIB, MT_WB);
    assert_unmapped(0x20000000);
    assert_unmapped(0x205FFFFF);
    assert_identity(0x20600000, 2 * MIB, MT_WB);
    /* PML4, PDPT, 2 PDs, PTs for 0-2M, 1G-2M, 1G, 0x12200000 — none for the 6 MiB hole. */
    assert_int_equal(st.tables, 8);
    assert_int_equal(st.pages[2][MT_WB], 0);
}

/* Bochs-sized RAM: the top is neither 1 GiB- nor 2 MiB-aligned. */
static void unaligned_top(void **state)
{
    (void)state;
    uint64_t top = 255 * MIB + 896 * KIB;
    fx_bochs(&mtrr);
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, top, &mtrr, &st), 0);
    check_tree();
    assert_int_equal(st.pages[0][MT_WB], 160 + 256 + 256 + 224);
    assert_int_equal(st.pages[0][MT_UC], 96);
    assert_int_equal(st.pages[1][MT_WB], 126);        /* 2 MiB .. 254 MiB */
    assert_int_equal(st.tables, 5);
    assert_identity(top - 1, 4 * KIB, MT_WB);
    assert_identity(254 * MIB - 1, 2 * MIB, MT_WB);
    assert_unmapped(top);
    /* A top that is not even page-aligned still maps its last partial page. */
    page_alloc_init(&alloc, ARENA_BASE, ARENA_PAGES * 4096);
    assert_int_equal(ept_build_identity(&ept, top + 1, &mtrr, NULL), 0);
    assert_identity(top, 4 * KIB, MT_WB);
    assert_unmapped(top + 4 * KIB);
    assert_int_equal(ept_build_identity(&ept, EPT_MAX_GPA + 4096, &mtrr, NULL), -1);
}

static void mtrrs_disabled_map_uc(void **state)
{
    (void)state;
    struct ept_stats st;
    assert_true(mtrr_state_write(&mtrr, MSR_IA32_MTRR_DEF_TYPE, MT_WB));   /* E = 0 */
    assert_int_equal(ept_build_identity(&ept, 4 * GIB, &mtrr, &st), 0);
    assert_int_equal(st.pages[2][MT_UC], 4);          /* uniform: the fixed ranges are off too */
    assert_int_equal(st.tables, 2);
    assert_identity(0, GIB, MT_UC);
}

/* ---- on demand, remapping, re-typing --------------------------------------------------- */

static void on_demand_above_top(void **state)
{
    (void)state;
    uint64_t top = 255 * MIB + 896 * KIB;
    fx_bochs(&mtrr);
    assert_int_equal(ept_build_identity(&ept, top, &mtrr, NULL), 0);
    uint32_t used = alloc.used;
    /* The local APIC: its whole GiB, UC under Bochs's var0, one page, no new table. */
    assert_unmapped(0xFEE00000);
    assert_int_equal(ept_map_on_demand(&ept, 0xFEE00000, &mtrr), 0);
    assert_identity(0xFEE00000, GIB, MT_UC);
    assert_identity(0xC0000000, GIB, MT_UC);
    assert_int_equal(alloc.used, used);
    /* Above top in the first GiB: fills what is missing, keeps what is there. */
    assert_int_equal(ept_map_on_demand(&ept, top, &mtrr), 0);
    assert_identity(top, 4 * KIB, MT_WB);
    assert_identity(256 * MIB, 2 * MIB, MT_WB);
    assert_identity(GIB - 1, 2 * MIB, MT_WB);
    assert_identity(0, 4 * KIB, MT_WB);
    assert_identity(0xA0000, 4 * KIB, MT_UC);
    assert_int_equal(ept_map_on_demand(&ept, 5 * GIB, &mtrr), 0);
    assert_identity(5 * GIB, GIB, MT_WB);
    assert_int_equal(ept_map_on_demand(&ept, 7 * GIB + 123, &mtrr), 0);
    assert_identity(7 * GIB, GIB, MT_UC);             /* Bochs's 32-bit mask repeats */
    assert_int_equal(ept_map_on_demand(&ept, 5 * GIB + 4096, &mtrr), 0);   /* already there */
    check_tree();
    /* Beyond MAXPHYADDR (40) and beyond a 4-level walk. */
    assert_int_equal(ept_map_on_demand(&ept, 1ull << 40, &mtrr), -1);
    assert_int_equal(ept_map_on_demand(&ept, EPT_MAX_GPA, &mtrr), -1);
    /* Without 1 GiB pages the block is 2 MiB. */
    ept.has_1g = false;
    assert_int_equal(ept_map_on_demand(&ept, 9 * GIB + 3 * MIB, &mtrr), 0);
    assert_identity(9 * GIB + 2 * MIB, 2 * MIB, MT_WB);
    assert_unmapped(9 * GIB + 4 * MIB);
    assert_unmapped(9 * GIB);
}

static void on_demand_respects_holes(void **state)
{
    (void)state;
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.holes = &hole;
    ept.hole_count = 1;
    assert_int_equal(ept_build_identity(&ept, GIB, &mtrr, NULL), 0);
    assert_int_equal(ept_map_on_demand(&ept, 0x7FFA5000, &mtrr), -1);
    assert_int_equal(ept_map_on_demand(&ept, 0x7FFDFFFF, &mtrr), -1);
    assert_unmapped(0x7FFA5000);
    assert_int_equal(ept_map_on_demand(&ept, 0x7F000000, &mtrr), 0);
    assert_unmapped(0x7FFA5000);
    assert_unmapped(0x7FFDF000);
    assert_identity(0x7FFA4000, 4 * KIB, MT_WB);
    assert_identity(0x7FFE0000, 4 * KIB, MT_WB);
    assert_identity(0x40000000, 2 * MIB, MT_WB);
    check_tree();
}

/* A hidden page pointed at a dummy page, and a page inside a 1 GiB page remapped. */
static void map_page_remaps(void **state)
{
    (void)state;
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.holes = &hole;
    ept.hole_count = 1;
    struct ept_stats before, after;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, &before), 0);

    assert_int_equal(ept_map_page(&ept, 0x7FFA6000, 0x7FFD0000, MT_WB), 0);
    struct leaf l = look(0x7FFA6123);
    assert_true(l.mapped);
    assert_int_equal(l.hpa, 0x7FFD0123);
    assert_int_equal(l.size, 4 * KIB);
    assert_int_equal(l.rwx, EPT_READ | EPT_WRITE);
    assert_unmapped(0x7FFA5000);

    /* Inside the 1 GiB WB page at 4 GiB: split to 2 MiB, then 4 KiB; neighbours unchanged. */
    assert_int_equal(ept_map_page(&ept, 4 * GIB + 4096, 0x9000, MT_UC), 0);
    l = look(4 * GIB + 4096);
    assert_int_equal(l.hpa, 0x9000);
    assert_int_equal(l.type, MT_UC);
    assert_identity(4 * GIB, 4 * KIB, MT_WB);
    assert_identity(4 * GIB + 8192, 4 * KIB, MT_WB);
    assert_identity(4 * GIB + 2 * MIB, 2 * MIB, MT_WB);
    assert_identity(5 * GIB - 1, 2 * MIB, MT_WB);
    assert_identity(5 * GIB, GIB, MT_WB);
    ept_count(&ept, &after);
    assert_int_equal(after.pages[2][MT_WB], before.pages[2][MT_WB] - 1);
    assert_int_equal(after.pages[1][MT_WB], before.pages[1][MT_WB] + 511);
    assert_int_equal(after.pages[0][MT_WB], before.pages[0][MT_WB] + 511 + 1);
    assert_int_equal(after.pages[0][MT_UC], before.pages[0][MT_UC] + 1);
    assert_int_equal(after.tables, before.tables + 2);   /* the hole's page had a PT already */
    check_tree();

    /* Mapping the same page again replaces it; a page far above top needs new tables. */
    assert_int_equal(ept_map_page(&ept, 4 * GIB + 4096, 0xA000, MT_WB), 0);
    assert_int_equal(look(4 * GIB + 4096).hpa, 0xA000);
    assert_int_equal(ept_map_page(&ept, 300 * GIB, 0xB000, MT_WB), 0);
    assert_int_equal(look(300 * GIB).hpa, 0xB000);
    assert_unmapped(300 * GIB + 4096);

    assert_int_equal(ept_map_page(&ept, 0x1001, 0x2000, MT_WB), -1);
    assert_int_equal(ept_map_page(&ept, 0x1000, 0x2800, MT_WB), -1);
    assert_int_equal(ept_map_page(&ept, 0x1000, 0x2000, 2), -1);
    assert_int_equal(ept_map_page(&ept, 0x1000, 1ull << 52, MT_WB), -1);
    assert_int_equal(ept_map_page(&ept, EPT_MAX_GPA, 0x2000, MT_WB), -1);
}

/*
 * The xAPIC page made read-only (what emulated SIPIs need): the UC page at
 * 3 GiB splits down to one 4 KiB R/X leaf, its neighbours and type stay,
 * re-typing keeps the permission, and it can be made writable again.
 */
static void set_page_access(void **state)
{
    (void)state;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), 0);
    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, EPT_READ | EPT_EXEC), 0);
    write_protected = 0xFEE00000;
    struct leaf l = look(0xFEE00300);
    assert_true(l.mapped);
    assert_int_equal(l.hpa, 0xFEE00300);
    assert_int_equal(l.size, 4 * KIB);
    assert_int_equal(l.type, MT_UC);
    assert_int_equal(l.rwx, EPT_READ | EPT_EXEC);
    assert_identity(0xFEE01000, 4 * KIB, MT_UC);
    assert_identity(0xFEFFF000, 4 * KIB, MT_UC);
    assert_identity(0xC0000000, 2 * MIB, MT_UC);
    assert_identity(0xFEC00000, 2 * MIB, MT_UC);
    check_tree();

    assert_int_equal(ept_retype(&ept, &mtrr), 0);
    assert_int_equal(look(0xFEE00000).rwx, EPT_READ | EPT_EXEC);
    check_tree();

    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, EPT_RWX), 0);
    write_protected = ~0ull;
    assert_identity(0xFEE00000, 4 * KIB, MT_UC);
    check_tree();

    assert_int_equal(ept_set_page_access(&ept, 0xFEE00800, EPT_READ), -1);   /* unaligned */
    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, EPT_WRITE), -1);  /* W without R */
    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, 8), -1);          /* not a permission */
    assert_int_equal(ept_set_page_access(&ept, 300 * GIB, EPT_READ), -1);    /* not mapped */
    assert_int_equal(ept_set_page_access(&ept, EPT_MAX_GPA, EPT_READ), -1);
}

/*
 * The guest writes its MTRRs: a UC range inside a WB 1 GiB page splits it
 * (down to 4 KiB around the 1 MiB range), then var0 (0-2 GiB WB) turns UC and
 * every leaf there changes type; identity and the remapped page survive.
 */
static void retype_after_mtrr_writes(void **state)
{
    (void)state;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), 0);
    assert_int_equal(ept_map_page(&ept, 0x300000, 0x9000, MT_WB), 0);

    assert_true(mtrr_state_write(&mtrr, 0x20E, 0x50000000 | MT_UC));
    assert_true(mtrr_state_write(&mtrr, 0x20F, fx_mask(MIB, 39)));
    assert_int_equal(ept_retype(&ept, &mtrr), 0);
    check_tree();
    assert_identity(0x50000000, 4 * KIB, MT_UC);
    assert_identity(0x500FF000, 4 * KIB, MT_UC);
    assert_identity(0x50100000, 4 * KIB, MT_WB);
    assert_identity(0x501FF000, 4 * KIB, MT_WB);
    assert_identity(0x50200000, 2 * MIB, MT_WB);
    assert_identity(0x4FFFFFFF, 2 * MIB, MT_WB);
    assert_identity(0x40000000, 2 * MIB, MT_WB);
    assert_identity(0x80000000, GIB, MT_WB);
    assert_identity(0xC0000000, GIB, MT_UC);
    ept_count(&ept, &st);
    assert_int_equal(st.pages[2][MT_WB], 14);
    assert_int_equal(st.pages[0][MT_UC], 48 + 256);

    assert_true(mtrr_state_write(&mtrr, 0x200, 0 | MT_UC));
    assert_int_equal(ept_retype(&ept, &mtrr), 0);
    check_tree();
    assert_identity(0x9F000, 4 * KIB, MT_WB);          /* the fixed ranges still rule */
    assert_identity(0xC0000, 4 * KIB, MT_WP);
    assert_identity(0x100000, 4 * KIB, MT_UC);
    assert_identity(0x200000, 4 * KIB, MT_UC);          /* split by the ept_map_page above */
    assert_identity(0x400000, 2 * MIB, MT_UC);
    assert_identity(0x40000000, 2 * MIB, MT_UC);
    assert_identity(0x50100000, 4 * KIB, MT_UC);
    assert_identity(0x7FFFFFFF, 2 * MIB, MT_UC);
    assert_identity(0x80000000, GIB, MT_WB);
    struct leaf l = look(0x300000);
    assert_int_equal(l.hpa, 0x9000);
    assert_int_equal(l.type, MT_WB);
    assert_identity(0x301000, 4 * KIB, MT_UC);
    ept_count(&ept, &st);
    assert_int_equal(st.pages[1][MT_WB], 0);
    assert_int_equal(st.pages[0][MT_WB], 160 + 1);     /* fixed WB pages and the remapped one */

    /* MTRRs off: everything identity is UC, nothing splits (UC is uniform). */
    uint32_t used = alloc.used;
    assert_true(mtrr_state_write(&mtrr, MSR_IA32_MTRR_DEF_TYPE, 0));
    assert_int_equal(ept_retype(&ept, &mtrr), 0);
    assert_identity(0x9F000, 4 * KIB, MT_UC);
    assert_identity(16 * GIB, GIB, MT_UC);
    assert_int_equal(alloc.used, used);
}

/* A leaf that was uniform only thanks to 1 GiB granularity splits recursively to 4 KiB. */
static void retype_splits_recursively(void **state)
{
    (void)state;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), 0);
    assert_identity(8 * GIB, GIB, MT_WB);
    /* A WT page at 8 GiB + 6 MiB + 4 KiB (4 KiB range): WT + WB = WT there only. */
    assert_true(mtrr_state_write(&mtrr, 0x20E, (8 * GIB + 6 * MIB + 4 * KIB) | MT_WT));
    assert_true(mtrr_state_write(&mtrr, 0x20F, fx_mask(4 * KIB, 39)));
    assert_int_equal(ept_retype(&ept, &mtrr), 0);
    check_tree();
    assert_identity(8 * GIB + 6 * MIB + 4 * KIB, 4 * KIB, MT_WT);
    assert_identity(8 * GIB + 6 * MIB, 4 * KIB, MT_WB);
    assert_identity(8 * GIB + 6 * MIB + 8 * KIB, 4 * KIB, MT_WB);
    assert_identity(8 * GIB + 4 * MIB, 2 * MIB, MT_WB);
    assert_identity(9 * GIB - 1, 2 * MIB, MT_WB);
    ept_count(&ept, &st);
    assert_int_equal(st.pages[0][MT_WT], 1);
    assert_int_equal(st.tables, 4 + 2);
}

/* ---- running out of memory ---------------------------------------------------------- */

static void out_of_memory(void **state)
{
    (void)state;
    /* The desktop needs 4 tables; with 3 the build fails and gives every page back. */
    page_alloc_init(&alloc, ARENA_BASE, 3 * 4096);
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), -1);
    assert_int_equal(alloc.used, 0);
    assert_int_equal(ept.pml4, 0);
    assert_false(ept_lookup(&ept, 0, NULL, NULL, NULL, NULL));
    assert_int_equal(ept_map_page(&ept, 0, 0, MT_WB), -1);
    assert_int_equal(ept_map_on_demand(&ept, 0, &mtrr), -1);
    assert_int_equal(ept_retype(&ept, &mtrr), -1);

    /* With exactly 5: built; splitting a 1 GiB page down to 4 KiB needs 2 more. */
    page_alloc_init(&alloc, ARENA_BASE, 5 * 4096);
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), 0);
    assert_int_equal(alloc.used, 4);
    assert_int_equal(ept_map_page(&ept, GIB + 4096, 0x9000, MT_WB), -1);
    assert_identity(GIB + 4096, 2 * MIB, MT_WB);      /* half done, still a valid map */
    assert_identity(GIB + 2 * MIB, 2 * MIB, MT_WB);
    assert_int_equal(alloc.used, 5);
    check_tree();

    /* Re-typing that needs a table fails the same way and leaves a valid map. */
    assert_true(mtrr_state_write(&mtrr, 0x20E, (4 * GIB + 2 * MIB) | MT_UC));
    assert_true(mtrr_state_write(&mtrr, 0x20F, fx_mask(2 * MIB, 39)));
    assert_int_equal(ept_retype(&ept, &mtrr), -1);
    assert_identity(4 * GIB + 2 * MIB, GIB, MT_WB);
    check_tree();

    /* On demand inside the existing PDPT needs no table... */
    assert_int_equal(ept_map_on_demand(&ept, 100 * GIB, &mtrr), 0);
    assert_identity(100 * GIB, GIB, MT_UC);
    /* ... above 512 GiB it needs a PDPT (Bochs's MAXPHYADDR 40 allows it): fails, leaks nothing. */
    struct mtrr_state bochs;
    fx_bochs(&bochs);
    assert_int_equal(ept_map_on_demand(&ept, 513 * GIB, &bochs), -1);
    assert_int_equal(alloc.used, 5);
    assert_unmapped(513 * GIB);
    alloc.npages++;                                   /* one more page, and it works */
    assert_int_equal(ept_map_on_demand(&ept, 513 * GIB, &bochs), 0);
    assert_identity(513 * GIB, GIB, MT_WB);

    /* A failed build with holes gives everything back too. */
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.holes = &hole;
    ept.hole_count = 1;
    page_alloc_init(&alloc, ARENA_BASE, 5 * 4096);
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), -1);
    assert_int_equal(alloc.used, 0);
}

/* ---- NPT: the same tree in AMD's nested page table format (APM Vol. 2, 15.25) ---------- */


/*
 * Every NPT entry is well formed: tables P, R/W, U/S and nothing else in bits
 * 11:0 or 63; leaves P, U/S, PAT index 0 (WB) unless remapped, PS on large
 * leaves, an address aligned to their size, identity unless remapped, and
 * executable unless remapped or write_protected. Returns the table pages.
 */
static uint64_t check_npt_table(uint64_t table, int level, uint64_t base)
{
    const uint64_t *t = arena_virt(table);
    uint64_t size = 1ull << (12 + 9 * level), tables = 1;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t ent = t[i], a = base + i * size;
        if (!(ent & NPT_PRESENT)) {
            assert_int_equal(ent, 0);
            continue;
        }
        assert_true(ent & NPT_USER);
        if (level > 0 && (level == 3 || !(ent & NPT_LARGE))) {
            assert_int_equal(ent & (0xFFF | NPT_NX), NPT_PRESENT | NPT_WRITE | NPT_USER);
            tables += check_npt_table(ent & EPT_ADDR_MASK, level - 1, a);
            continue;
        }
        uint64_t addr = ent & EPT_ADDR_MASK & ~(size - 1);
        assert_int_equal(!!(ent & NPT_LARGE), level > 0);
        if (ent & EPT_REMAPPED) {
            assert_true(ent & NPT_NX);
            continue;
        }
        assert_int_equal(ent & (NPT_PWT | NPT_PCD), 0);
        assert_int_equal(addr, a);
        assert_int_equal(!!(ent & NPT_WRITE), a != write_protected);
        assert_int_equal(ent & NPT_NX, 0);
    }
    return tables;
}

static void check_npt_tree(void)
{
    struct ept_stats st;
    ept_count(&ept, &st);
    assert_int_equal(check_npt_table(ept.pml4, 3, 0), st.tables);
}

/*
 * The desktop's 17 GiB with the hypervisor region as a hole, its MTRRs as they
 * are: 1 GiB and 2 MiB pages wherever no hole is (under NPT the MTRRs still
 * apply, so the leaves are all WB and need not follow them), 4 KiB pages only
 * around the hole, which stays unmapped.
 */
static void npt_identity_around_hole(void **state)
{
    (void)state;
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.format = EPT_FORMAT_NPT;
    ept.holes = &hole;
    ept.hole_count = 1;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, &st), 0);
    check_npt_tree();
    for (uint64_t a = hole.start; a < hole.end; a += 4 * KIB)
        assert_unmapped(a);
    assert_identity(0, GIB, MT_WB);                   /* no fixed-range split under NPT */
    assert_identity(0xFEE00000, GIB, MT_WB);          /* MMIO too: the MTRRs make it UC */
    assert_identity(hole.start - 1, 4 * KIB, MT_WB);
    assert_identity(hole.end, 4 * KIB, MT_WB);
    assert_identity(0x7FDFFFFF, 2 * MIB, MT_WB);
    assert_identity(DESKTOP_TOP - 1, GIB, MT_WB);
    assert_int_equal(st.pages[2][MT_WB], 16);
    assert_int_equal(st.pages[1][MT_WB], 511);
    assert_int_equal(st.pages[0][MT_WB], 512 - (hole.end - hole.start) / (4 * KIB));
    assert_int_equal(st.tables, 4);
}

/* A probed hidden page points at a dummy page: R/W, not executable, the WB or UC it asks. */
static void npt_map_page_and_access(void **state)
{
    (void)state;
    static const struct phys_range hole = { 0x7FFA5000, 0x7FFE0000 };
    ept.format = EPT_FORMAT_NPT;
    ept.holes = &hole;
    ept.hole_count = 1;
    assert_int_equal(ept_build_identity(&ept, DESKTOP_TOP, &mtrr, NULL), 0);
    assert_int_equal(ept_map_page(&ept, 0x7FFA6000, 0x9000, MT_WB), 0);
    struct leaf l = look(0x7FFA6010);
    assert_true(l.mapped);
    assert_int_equal(l.hpa, 0x9010);
    assert_int_equal(l.type, MT_WB);
    assert_int_equal(l.rwx, EPT_READ | EPT_WRITE);
    assert_int_equal(ept_map_page(&ept, 4 * GIB, 0xA000, MT_UC), 0);   /* splits a 1 GiB leaf */
    assert_int_equal(look(4 * GIB).type, MT_UC);
    assert_identity(4 * GIB + 4096, 4 * KIB, MT_WB);
    assert_identity(4 * GIB + 2 * MIB, 2 * MIB, MT_WB);
    assert_identity(5 * GIB, GIB, MT_WB);
    assert_int_equal(ept_map_page(&ept, 0x1000, 0x2000, MT_WC), -1);   /* no PAT index for it */

    /* Read-only (the xAPIC page for intercepted SIPIs), then writable again. */
    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, EPT_READ | EPT_EXEC), 0);
    write_protected = 0xFEE00000;
    l = look(0xFEE00300);
    assert_int_equal(l.size, 4 * KIB);
    assert_int_equal(l.rwx, EPT_READ | EPT_EXEC);
    assert_identity(0xFEE01000, 4 * KIB, MT_WB);
    check_npt_tree();
    assert_int_equal(ept_set_page_access(&ept, 0xFEE00000, EPT_RWX), 0);
    write_protected = ~0ull;
    assert_identity(0xFEE00000, 4 * KIB, MT_WB);
    check_npt_tree();
}

/*
 * Every VT-d second-level entry is well formed as a remapping unit checks it
 * (VT-d 3.x, 9.8; QEMU's intel-iommu faults on any reserved bit): tables R/W
 * and nothing else in bits 11:0; leaves R/W, bit 7 on large ones and only
 * there, no memory type, no execute, nothing above the address. Returns the
 * table pages.
 */
static uint64_t check_vtd_table(uint64_t table, int level, uint64_t base)
{
    const uint64_t *t = arena_virt(table);
    uint64_t size = 1ull << (12 + 9 * level), tables = 1;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t ent = t[i], a = base + i * size;
        if (ent == 0)
            continue;
        assert_int_equal(ent & ~EPT_ADDR_MASK & ~EPT_LARGE, VTD_SL_READ | VTD_SL_WRITE);
        if (level > 0 && (level == 3 || !(ent & EPT_LARGE))) {
            tables += check_vtd_table(ent & EPT_ADDR_MASK, level - 1, a);
            continue;
        }
        assert_int_equal(!!(ent & EPT_LARGE), level > 0);
        assert_int_equal(ent & EPT_ADDR_MASK, a);
    }
    return tables;
}

/*
 * The DMA map of a 4 GiB machine: the hypervisor region and two remapping
 * units' register pages are holes; everything else is read/write for
 * devices, in the largest pages the unit takes, and lookups report WB (no
 * type) without execute. No MTRR state is needed.
 */
static void vtd_dma_map_around_holes(void **state)
{
    (void)state;
    static const struct phys_range holes[3] = {
        { 0x0FE00000, 0x10000000 }, { 0xFED90000, 0xFED91000 }, { 0xFED91000, 0xFED92000 },
    };
    ept.format = EPT_FORMAT_VTD;
    ept.holes = holes;
    ept.hole_count = 3;
    struct ept_stats st;
    assert_int_equal(ept_build_identity(&ept, 4 * GIB, NULL, &st), 0);
    struct ept_stats counted;
    ept_count(&ept, &counted);
    assert_int_equal(check_vtd_table(ept.pml4, 3, 0), counted.tables);
    for (unsigned h = 0; h < 3; h++)
        for (uint64_t a = holes[h].start; a < holes[h].end; a += 4 * KIB)
            assert_unmapped(a);
    struct leaf l = look(0x0FDFF000);
    assert_true(l.mapped);
    assert_int_equal(l.hpa, 0x0FDFF000);
    assert_int_equal(l.size, 2 * MIB);
    assert_int_equal(l.type, MT_WB);
    assert_int_equal(l.rwx, EPT_READ | EPT_WRITE);
    assert_int_equal(look(0xFED8F000).size, 4 * KIB);
    assert_int_equal(look(0xFED92000).size, 4 * KIB);
    assert_int_equal(look(GIB).size, GIB);
    assert_int_equal(st.pages[2][MT_WB], 2);           /* 1-2 GiB and 2-3 GiB */
    assert_unmapped(4 * GIB);
}

/*
 * The same DMA map in AMD-Vi's format (AMD IOMMU spec 48882, 2.2.3): a table
 * entry says present, read, write and the level of the table it points at
 * (our level, as the PML4 is AMD-Vi's level 4); a leaf says next level 0 and
 * bit 7 on large ones (ignored by the IOMMU); nothing else is set.
 */
static uint64_t check_amdvi_table(uint64_t table, int level, uint64_t base)
{
    const uint64_t *t = arena_virt(table);
    uint64_t size = 1ull << (12 + 9 * level), tables = 1;
    const uint64_t rw = AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t ent = t[i], a = base + i * size;
        if (ent == 0)
            continue;
        if (level > 0 && (level == 3 || !(ent & EPT_LARGE))) {
            assert_int_equal(ent & ~EPT_ADDR_MASK, rw | (uint64_t)level << AMDVI_PTE_NEXT_SHIFT);
            tables += check_amdvi_table(ent & EPT_ADDR_MASK, level - 1, a);
            continue;
        }
        assert_int_equal(ent & ~EPT_ADDR_MASK, rw | (level ? EPT_LARGE : 0));
        assert_int_equal(ent & EPT_ADDR_MASK, a);
    }
    return tables;
}

static void amdvi_dma_map_around_holes(void **state)
{
    (void)state;
    static const struct phys_range holes[2] = {
        { 0x0FE00000, 0x10000000 }, { 0xFED80000, 0xFED84000 },
    };
    ept.format = EPT_FORMAT_AMD_VI;
    ept.holes = holes;
    ept.hole_count = 2;
    assert_int_equal(ept_build_identity(&ept, 4 * GIB, NULL, NULL), 0);
    struct ept_stats counted;
    ept_count(&ept, &counted);
    assert_int_equal(check_amdvi_table(ept.pml4, 3, 0), counted.tables);
    for (unsigned h = 0; h < 2; h++)
        for (uint64_t a = holes[h].start; a < holes[h].end; a += 4 * KIB)
            assert_unmapped(a);
    struct leaf l = look(0xFED84000);
    assert_true(l.mapped);
    assert_int_equal(l.size, 4 * KIB);
    assert_int_equal(l.rwx, EPT_READ | EPT_WRITE);
    assert_int_equal(look(2 * GIB).size, GIB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(desktop_with_1g_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(desktop_without_1g_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(only_4k_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(hole_is_not_mapped, setup, teardown),
        cmocka_unit_test_setup_teardown(awkward_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(unaligned_top, setup, teardown),
        cmocka_unit_test_setup_teardown(mtrrs_disabled_map_uc, setup, teardown),
        cmocka_unit_test_setup_teardown(on_demand_above_top, setup, teardown),
        cmocka_unit_test_setup_teardown(on_demand_respects_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(map_page_remaps, setup, teardown),
        cmocka_unit_test_setup_teardown(set_page_access, setup, teardown),
        cmocka_unit_test_setup_teardown(retype_after_mtrr_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(retype_splits_recursively, setup, teardown),
        cmocka_unit_test_setup_teardown(out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(npt_identity_around_hole, setup, teardown),
        cmocka_unit_test_setup_teardown(npt_map_page_and_access, setup, teardown),
        cmocka_unit_test_setup_teardown(vtd_dma_map_around_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(amdvi_dma_map_around_holes, setup, teardown),
    };
    return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
