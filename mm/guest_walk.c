/*
 * The guest's page walk (see mm/guest_walk.h). Entry formats: SDM Vol. 3A,
 * Tables 5-2 to 5-5 (32-bit), 5-7 to 5-11 (PAE), 5-15 to 5-20 (4/5-level).
 */
#include "mm/guest_walk.h"

#include "kernel/cr_bits.h"

unsigned guest_code_mode(uint64_t efer, bool cs_l, bool cs_db)
{
    if ((efer & EFER_LMA) && cs_l)
        return 8;
    return cs_db ? 4 : 2;
}

unsigned guest_fetch_code(const struct guest_code_at *at, guest_read_fn read, void *ctx,
                          uint8_t buf[INSN_MAX_LEN])
{
    /* Outside 64-bit mode the linear address is CS.base + EIP, wrapping at 4 GiB. */
    uint64_t linear = at->rip;
    if (at->mode != 8)
        linear = (uint32_t)(linear + at->cs_base);
    unsigned got = 0;
    while (got < INSN_MAX_LEN) {
        uint64_t la = linear + got, gpa;
        unsigned chunk = 4096 - (unsigned)(la & 0xFFF);
        if (chunk > INSN_MAX_LEN - got)
            chunk = INSN_MAX_LEN - got;
        if (!guest_linear_to_phys(&at->paging, la, read, ctx, &gpa) ||
            !read(gpa, buf + got, chunk, ctx))
            break;
        got += chunk;
    }
    return got;
}

#define PTE_P        (1ull << 0)
#define PTE_PS       (1ull << 7)
#define PTE_XD       (1ull << 63)
#define ADDR_MASK    0x000FFFFFFFFFF000ull   /* bits 51:12 of a 64-bit entry */

static bool read_entry(guest_read_fn read, void *ctx, uint64_t gpa, unsigned size, uint64_t *e)
{
    *e = 0;
    return read(gpa, e, size, ctx) && (*e & PTE_P);
}

/* 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE (PSE-36 high bits in 20:13). */
static bool walk_32bit(const struct guest_paging *p, uint32_t la, guest_read_fn read, void *ctx,
                       uint64_t *gpa)
{
    uint64_t pde, pte;
    if (!read_entry(read, ctx, (p->cr3 & 0xFFFFF000u) + ((la >> 22) & 0x3FF) * 4, 4, &pde))
        return false;
    if ((pde & PTE_PS) && (p->cr4 & CR4_PSE)) {
        uint64_t base = (pde & 0xFFC00000u) | ((pde >> 13) & 0xFF) << 32;
        *gpa = base | (la & 0x3FFFFF);
        return true;
    }
    if (!read_entry(read, ctx, (pde & 0xFFFFF000u) + ((la >> 12) & 0x3FF) * 4, 4, &pte))
        return false;
    *gpa = (pte & 0xFFFFF000u) | (la & 0xFFF);
    return true;
}

/*
 * PAE, 4-level and 5-level paging: 8-byte entries, 9 index bits per level.
 * `levels` counts from the top table down to the page table (3, 4 or 5);
 * under PAE the top table is the 4-entry PDPT at CR3 bits 31:5.
 */
static inline __attribute__((always_inline)) bool
walk_64bit(const struct guest_paging *p, uint64_t la, int levels, guest_read_fn read, void *ctx,
           uint64_t *gpa)
{
    uint64_t table = levels == 3 ? (p->cr3 & 0xFFFFFFE0u) : (p->cr3 & ADDR_MASK);
    for (int level = levels - 1; level >= 0; level--) {
        unsigned shift = 12 + 9 * (unsigned)level;
        unsigned index = (unsigned)(la >> shift) & (levels == 3 && level == 2 ? 3 : 511);
        uint64_t e;
        if (!read_entry(read, ctx, table + index * 8ull, 8, &e))
            return false;
        /* Large pages: 1 GiB in a PDPTE (not under PAE), 2 MiB in a PDE. */
        bool large = (e & PTE_PS) && (level == 1 || (level == 2 && levels > 3));
        if (large || level == 0) {
            uint64_t page = 1ull << shift;
            *gpa = (e & ADDR_MASK & ~(page - 1)) | (la & (page - 1));
            return true;
        }
        table = e & ADDR_MASK;
    }
    return false;   /* not reached */
}

bool guest_pte_address(const struct guest_paging *p, uint64_t linear, guest_read_fn read,
                       void *ctx, uint64_t *pte_gpa)
{
    if (!(p->cr0 & CR0_PG) || !(p->cr4 & CR4_PAE) || !(p->efer & EFER_LMA))
        return false;
    uint64_t table = p->cr3 & ADDR_MASK;
    for (int level = p->cr4 & CR4_LA57 ? 4 : 3; level >= 0; level--) {
        uint64_t at = table + ((linear >> (12 + 9 * level)) & 511) * 8, e;
        if (level == 0) {
            *pte_gpa = at;
            return read_entry(read, ctx, at, 8, &e);
        }
        if (!read_entry(read, ctx, at, 8, &e) || (e & PTE_PS) || (e & PTE_XD))
            return false;
        table = e & ADDR_MASK;
    }
    return false;   /* not reached */
}

bool guest_linear_to_phys(const struct guest_paging *p, uint64_t linear, guest_read_fn read,
                          void *ctx, uint64_t *gpa)
{
    if (!(p->cr0 & CR0_PG)) {
        /* No paging: linear is physical (32 bits; EFER.LMA needs paging). */
        *gpa = (uint32_t)linear;
        return true;
    }
    if (!(p->cr4 & CR4_PAE))
        return walk_32bit(p, (uint32_t)linear, read, ctx, gpa);
    if (!(p->efer & EFER_LMA))
        return walk_64bit(p, (uint32_t)linear, 3, read, ctx, gpa);
    return walk_64bit(p, linear, p->cr4 & CR4_LA57 ? 5 : 4, read, ctx, gpa);
}
