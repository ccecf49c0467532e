/* Builds ACPI tables (RSDP, RSDT/XSDT, MADT) in a fake physical memory, for tests. */
#ifndef THINVISOR_TEST_ACPI_FIXTURE_H
#define THINVISOR_TEST_ACPI_FIXTURE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MEM_SIZE (1u << 20)      /* fake physical memory: addresses 0 .. 1 MiB */

struct fake_mem {
    uint8_t bytes[FAKE_MEM_SIZE];
};

/* Each test file's fake memory, fresh for every test (cmocka setup and teardown). */
static struct fake_mem *mem;

static inline int fx_mem_setup(void **state)
{
    (void)state;
    mem = calloc(1, sizeof *mem);
    return mem ? 0 : -1;
}

static inline int fx_mem_teardown(void **state)
{
    (void)state;
    free(mem);
    return 0;
}

static inline const void *fake_map(void *ctx, uint64_t phys, size_t len)
{
    struct fake_mem *m = ctx;
    if (phys > FAKE_MEM_SIZE || len > FAKE_MEM_SIZE - phys)
        return NULL;
    return m->bytes + phys;
}

static inline void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static inline void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static inline void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static inline uint8_t fix_sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return (uint8_t)-s;
}

/* Writes an RSDP at `at`; revision 0 points at an RSDT, 2 at an XSDT (and the RSDT). */
static inline void fx_rsdp(struct fake_mem *m, uint32_t at, int revision, uint32_t rsdt,
                           uint64_t xsdt)
{
    uint8_t *p = m->bytes + at;
    memset(p, 0, 36);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "THINVS", 6);
    p[15] = (uint8_t)revision;
    put32(p + 16, rsdt);
    if (revision >= 2) {
        put32(p + 20, 36);
        put64(p + 24, xsdt);
    }
    p[8] = fix_sum(p, 20);
    if (revision >= 2)
        p[32] = fix_sum(p, 36);
}

static inline void fx_header(uint8_t *p, const char *sig, uint32_t len)
{
    memset(p, 0, 36);
    memcpy(p, sig, 4);
    put32(p + 4, len);
    p[8] = 1;
    memcpy(p + 10, "THINVS", 6);
}

static inline void fx_checksum(uint8_t *p)
{
    uint32_t len;
    memcpy(&len, p + 4, 4);
    p[9] = 0;
    p[9] = fix_sum(p, len);
}

/* An RSDT (entry size 4) or XSDT (8) at `at` listing `n` tables. */
static inline void fx_root(struct fake_mem *m, uint32_t at, int xsdt, const uint64_t *tables,
                           int n)
{
    uint8_t *p = m->bytes + at;
    unsigned es = xsdt ? 8 : 4;
    fx_header(p, xsdt ? "XSDT" : "RSDT", 36 + es * n);
    for (int i = 0; i < n; i++) {
        if (xsdt)
            put64(p + 36 + 8 * i, tables[i]);
        else
            put32(p + 36 + 4 * i, (uint32_t)tables[i]);
    }
    fx_checksum(p);
}

struct fx_madt {
    uint8_t *p;
    uint32_t len;
};

static inline struct fx_madt fx_madt_begin(struct fake_mem *m, uint32_t at, uint32_t lapic)
{
    struct fx_madt t = { m->bytes + at, 44 };
    fx_header(t.p, "APIC", 44);
    put32(t.p + 36, lapic);
    put32(t.p + 40, 1);                      /* PCAT_COMPAT */
    return t;
}

static inline void fx_madt_lapic(struct fx_madt *t, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    uint8_t *e = t->p + t->len;
    e[0] = 0; e[1] = 8; e[2] = uid; e[3] = apic_id;
    put32(e + 4, flags);
    t->len += 8;
}

static inline void fx_madt_x2apic(struct fx_madt *t, uint32_t uid, uint32_t apic_id, uint32_t flags)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 16);
    e[0] = 9; e[1] = 16;
    put32(e + 4, apic_id);
    put32(e + 8, flags);
    put32(e + 12, uid);
    t->len += 16;
}

static inline void fx_madt_ioapic(struct fx_madt *t, uint8_t id, uint32_t addr)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 12);
    e[0] = 1; e[1] = 12; e[2] = id;
    put32(e + 4, addr);
    t->len += 12;
}

static inline void fx_madt_override(struct fx_madt *t, uint64_t addr)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 12);
    e[0] = 5; e[1] = 12;
    put64(e + 4, addr);
    t->len += 12;
}

static inline void fx_madt_end(struct fx_madt *t)
{
    put32(t->p + 4, t->len);
    fx_checksum(t->p);
}

/*
 * A DMAR (VT-d) or IVRS (AMD-Vi) being built at `at`: the 48-byte header
 * (host address width / IVinfo), then structures appended by the helpers.
 */
struct fx_iommu {
    uint8_t *p;
    uint32_t len;
};

static inline struct fx_iommu fx_iommu_begin(struct fake_mem *m, uint32_t at, const char *sig,
                                             uint32_t info)
{
    struct fx_iommu t = { m->bytes + at, 48 };
    fx_header(t.p, sig, 48);
    memset(t.p + 36, 0, 12);
    if (sig[0] == 'D')
        t.p[36] = (uint8_t)info;             /* DMAR: host address width - 1 */
    else
        put32(t.p + 36, info);               /* IVRS: IVinfo */
    return t;
}

/* A DRHD: a remapping unit's registers, its segment and flags (INCLUDE_PCI_ALL). */
static inline void fx_dmar_drhd(struct fx_iommu *t, uint8_t flags, uint16_t segment,
                                uint64_t base)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 16);
    put16(e, 0); put16(e + 2, 16);
    e[4] = flags;
    put16(e + 6, segment);
    put64(e + 8, base);
    t->len += 16;
}

/* An RMRR of [base, limit] with one device scope (00:1d.0), as firmware writes for USB. */
static inline void fx_dmar_rmrr(struct fx_iommu *t, uint16_t segment, uint64_t base,
                                uint64_t limit)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 32);
    put16(e, 1); put16(e + 2, 32);
    put16(e + 6, segment);
    put64(e + 8, base);
    put64(e + 16, limit);
    e[24] = 1; e[25] = 8; e[29] = 0; e[30] = 0x1d; e[31] = 0;   /* endpoint, bus 0, 1d.0 */
    t->len += 32;
}

/* An IVHD of type 10h (24 bytes) or 11h/40h (40 bytes), with no device entries. */
static inline void fx_ivrs_ivhd(struct fx_iommu *t, uint8_t type, uint16_t device_id,
                                uint64_t base, uint16_t segment)
{
    uint8_t *e = t->p + t->len;
    uint16_t len = type == 0x10 ? 24 : 40;
    memset(e, 0, len);
    e[0] = type;
    put16(e + 2, len);
    put16(e + 4, device_id);
    put64(e + 8, base);
    put16(e + 16, segment);
    t->len += len;
}

/* An IVMD of type 20h (every device) with the given flags, start and size. */
static inline void fx_ivrs_ivmd(struct fx_iommu *t, uint8_t flags, uint64_t start, uint64_t size)
{
    uint8_t *e = t->p + t->len;
    memset(e, 0, 32);
    e[0] = 0x20; e[1] = flags;
    put16(e + 2, 32);
    put64(e + 16, start);
    put64(e + 24, size);
    t->len += 32;
}

static inline void fx_iommu_end(struct fx_iommu *t)
{
    put32(t->p + 4, t->len);
    fx_checksum(t->p);
}

#endif
