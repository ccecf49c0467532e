/*
 * Choosing the hypervisor region. Everything outside it is the guest's, so
 * it goes where the guest's boot chain is least likely to look: the top of
 * usable RAM below 4 GiB, far above where loaders and kernels are placed.
 */
#include "mm/region.h"

#include <stdbool.h>

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

static bool overlaps(uint64_t s1, uint64_t e1, uint64_t s2, uint64_t e2)
{
    return s1 < e2 && s2 < e1;
}

static uint64_t entry_end(const struct mb2_mmap_entry *m)
{
    uint64_t end = m->base + m->length;
    return end < m->base ? UINT64_MAX : end;    /* a length that wraps runs to the top */
}

/*
 * Of the blockers (non-usable map entries and excluded ranges) that overlap
 * [s, e), finds the one that reaches highest. Everything between its end and
 * e is then free. Returns false when nothing overlaps.
 */
static bool top_blocker(const struct region_request *r, uint64_t s, uint64_t e,
                        struct phys_range *out)
{
    bool found = false;
    for (uint32_t i = 0; i < r->mmap_count + r->exclude_count; i++) {
        struct phys_range b = { 0, 0 };
        if (i < r->mmap_count) {
            const struct mb2_mmap_entry *m = &r->mmap[i];
            if (m->type == MB2_MEMORY_AVAILABLE || m->length == 0)
                continue;
            b = (struct phys_range){ m->base, entry_end(m) };
        } else {
            b = r->exclude[i - r->mmap_count];
            if (b.end <= b.start)
                continue;
        }
        if (overlaps(s, e, b.start, b.end) && (!found || b.end > out->end)) {
            *out = b;
            found = true;
        }
    }
    return found;
}

/* Extends [s, e) over usable entries that touch or overlap it, so one block may span them. */
static void merge_usable(const struct region_request *r, uint64_t *s, uint64_t *e)
{
    bool grew = true;
    while (grew) {
        grew = false;
        for (uint32_t i = 0; i < r->mmap_count; i++) {
            const struct mb2_mmap_entry *m = &r->mmap[i];
            if (m->type != MB2_MEMORY_AVAILABLE || m->length == 0)
                continue;
            uint64_t ms = m->base, me = entry_end(m);
            if (ms <= *e && me >= *s && (ms < *s || me > *e)) {
                *s = min64(*s, ms);
                *e = max64(*e, me);
                grew = true;
            }
        }
    }
}

struct choice {
    const struct region_request *r;
    bool found;
    uint64_t best;
    uint64_t largest;
};

/* Takes note of one free block [s, e): its size, and the highest fit inside it. */
static void consider(struct choice *c, uint64_t s, uint64_t e)
{
    if (e <= s)
        return;
    if (e - s > c->largest)
        c->largest = e - s;
    if (e - s < c->r->size)
        return;
    uint64_t cand = align_down(e - c->r->size, c->r->align);
    if (cand >= s && (!c->found || cand > c->best)) {
        c->best = cand;
        c->found = true;
    }
}

int region_choose(const struct region_request *r, uint64_t *base, uint64_t *largest)
{
    struct choice c = { r, false, 0, 0 };
    for (uint32_t i = 0; r->size && i < r->mmap_count; i++) {
        const struct mb2_mmap_entry *m = &r->mmap[i];
        if (m->type != MB2_MEMORY_AVAILABLE || m->length == 0)
            continue;
        uint64_t s = m->base, e = entry_end(m);
        merge_usable(r, &s, &e);
        s = align_up(max64(s, REGION_MIN_BASE), r->align);
        e = min64(e, REGION_LIMIT);
        /* Walk down from the top, one free block between blockers at a time. */
        struct phys_range b = { 0, 0 };
        while (e > s && top_blocker(r, s, e, &b)) {
            consider(&c, max64(b.end, s), e);
            e = b.start;
        }
        consider(&c, s, e);
    }
    *largest = c.largest;
    if (c.found)
        *base = c.best;
    return c.found ? 0 : -1;
}

uint64_t region_phys_top(const struct mb2_mmap_entry *mmap, uint32_t count)
{
    uint64_t top = REGION_LIMIT;
    for (uint32_t i = 0; i < count; i++)
        if (mmap[i].length && mmap[i].type != MB2_MEMORY_RESERVED && entry_end(&mmap[i]) > top)
            top = entry_end(&mmap[i]);
    return top;
}

void region_budget(struct region_budget *b, uint64_t image_bytes, uint64_t phys_top,
                   int huge_pages, uint32_t ncpus, uint64_t per_cpu_bytes,
                   uint64_t shared_bytes)
{
    uint64_t top = align_up(phys_top, GIB);
    uint64_t pdpts = align_up(top, 512 * GIB) / (512 * GIB);
    uint64_t pds = huge_pages ? 0 : top / GIB;
    uint64_t image = align_up(image_bytes, PAGE_SIZE);
    /* PML4 + identity PDPTs (+ PDs) + the image's PDPT, PD and one PT per 2 MiB. */
    uint64_t tables = 1 + pdpts + pds + 2 + align_up(image, 2 * MIB) / (2 * MIB);
    b->image = image;
    b->page_tables = tables * PAGE_SIZE;
    b->per_cpu = (uint64_t)ncpus * align_up(per_cpu_bytes, PAGE_SIZE);
    b->shared = align_up(shared_bytes, PAGE_SIZE);
    b->total = b->image + b->page_tables + b->per_cpu + b->shared;
}
