/*
 * DMAR and IVRS parsing (see iommu_tables.h). Like kernel/acpi.c: firmware
 * input, so every structure's length is checked against its table before
 * anything in it is read, and whatever thinvisor would later program into a
 * unit (register bases, reserved ranges) is checked for the alignment the
 * hardware needs; a table that breaks either is refused whole, with the
 * offset of the structure at fault.
 */
#include "kernel/iommu_tables.h"

#include "kernel/parse.h"

#define PAGE_MASK 0xFFFull
/* Both tables: the 36-byte header, 12 bytes of their own, then the structures. */
#define FIRST_STRUCTURE 48

const char *iommu_kind_name(enum iommu_kind kind)
{
    return kind == IOMMU_VTD ? "VT-d (DMAR)" : kind == IOMMU_AMD_VI ? "AMD-Vi (IVRS)" : "none";
}

static int add_unit(struct iommu_tables *out, const struct iommu_unit *u, const char *table,
                    uint32_t off, char *err, size_t errlen)
{
    if (u->reg_base == 0 || (u->reg_base & PAGE_MASK))
        FAIL("ACPI: %s: the IOMMU at offset %u has register base %#llx (not a page)", table,
             off, (unsigned long long)u->reg_base);
    /* AMD firmware lists one IOMMU once per IVHD type it describes it in. */
    for (uint32_t i = 0; i < out->unit_count; i++)
        if (out->units[i].reg_base == u->reg_base && out->units[i].segment == u->segment)
            return 0;
    if (out->unit_count == IOMMU_MAX_UNITS)
        out->units_dropped++;
    else
        out->units[out->unit_count++] = *u;
    return 0;
}

/* [base, limit], both ends inclusive and on page boundaries. */
static int add_range(struct iommu_tables *out, uint64_t base, uint64_t limit, uint16_t segment,
                     const char *what, uint32_t off, char *err, size_t errlen)
{
    if (limit < base || (base & PAGE_MASK) || ((limit + 1) & PAGE_MASK))
        FAIL("ACPI: %s at offset %u covers %#llx-%#llx (not whole pages)", what, off,
             (unsigned long long)base, (unsigned long long)limit);
    if (out->range_count == IOMMU_MAX_RANGES)
        out->ranges_dropped++;
    else
        out->ranges[out->range_count++] = (struct iommu_range){ base, limit, segment };
    return 0;
}

/* VT-d 4.1, 8.1 to 8.4: the DMAR header, then DRHD, RMRR and others, each type and length. */
static int parse_dmar(const uint8_t *t, struct iommu_tables *out, char *err, size_t errlen)
{
    uint32_t len = rd32(t + 4);
    if (len < FIRST_STRUCTURE)
        FAIL("ACPI: DMAR length %u is too small", len);
    out->address_bits = t[36] + 1u;
    for (uint32_t off = FIRST_STRUCTURE; off < len;) {
        if (len - off < 4)
            FAIL("ACPI: DMAR structure at offset %u is truncated", off);
        const uint8_t *s = t + off;
        uint16_t type = rd16(s), slen = rd16(s + 2);
        if (slen < 4 || slen > len - off)
            FAIL("ACPI: DMAR structure at offset %u (type %u) has invalid length %u", off,
                 type, slen);
        if (type == DMAR_DRHD) {
            if (slen < 16)
                FAIL("ACPI: DMAR remapping unit at offset %u is too short (%u)", off, slen);
            struct iommu_unit u = { .reg_base = rd64(s + 8), .segment = rd16(s + 6),
                                    .all_devices = s[4] & DMAR_DRHD_INCLUDE_ALL };
            if (add_unit(out, &u, "DMAR", off, err, errlen))
                return -1;
        } else if (type == DMAR_RMRR) {
            if (slen < 24)
                FAIL("ACPI: DMAR reserved memory region at offset %u is too short (%u)", off,
                     slen);
            if (add_range(out, rd64(s + 8), rd64(s + 16), rd16(s + 6),
                          "DMAR: reserved memory region", off, err, errlen))
                return -1;
        }
        off += slen;
    }
    if (out->unit_count == 0)
        FAIL("ACPI: DMAR lists no remapping unit");
    return 0;
}

/* AMD IOMMU spec 3.x, 5.2: the IVRS header, then IVHD and IVMD blocks, each type and length. */
static int parse_ivrs(const uint8_t *t, struct iommu_tables *out, char *err, size_t errlen)
{
    uint32_t len = rd32(t + 4);
    if (len < FIRST_STRUCTURE)
        FAIL("ACPI: IVRS length %u is too small", len);
    out->address_bits = (rd32(t + 36) >> 8) & 0x7F;     /* IVinfo PASize */
    for (uint32_t off = FIRST_STRUCTURE; off < len;) {
        if (len - off < 4)
            FAIL("ACPI: IVRS block at offset %u is truncated", off);
        const uint8_t *b = t + off;
        uint8_t type = b[0], flags = b[1];
        uint16_t blen = rd16(b + 2);
        if (blen < 4 || blen > len - off)
            FAIL("ACPI: IVRS block at offset %u (type %#x) has invalid length %u", off, type,
                 blen);
        if (type == IVRS_IVHD_10 || type == IVRS_IVHD_11 || type == IVRS_IVHD_40) {
            if (blen < 24)
                FAIL("ACPI: IVRS IOMMU block at offset %u is too short (%u)", off, blen);
            struct iommu_unit u = { .reg_base = rd64(b + 8), .segment = rd16(b + 16),
                                    .device_id = rd16(b + 4) };
            if (add_unit(out, &u, "IVRS", off, err, errlen))
                return -1;
        } else if (type >= IVRS_IVMD_ALL && type <= IVRS_IVMD_RANGE) {
            if (blen < 32)
                FAIL("ACPI: IVRS memory block at offset %u is too short (%u)", off, blen);
            uint64_t start = rd64(b + 16), size = rd64(b + 24);
            if (flags & IVMD_FLAG_UNITY) {
                if (size == 0 || start + size - 1 < start)
                    FAIL("ACPI: IVRS: unity-mapped block at offset %u has size %#llx at "
                         "%#llx", off, (unsigned long long)size, (unsigned long long)start);
                if (add_range(out, start, start + size - 1, 0, "IVRS: unity-mapped block",
                              off, err, errlen))
                    return -1;
            }
        }
        off += blen;
    }
    if (out->unit_count == 0)
        FAIL("ACPI: IVRS lists no IOMMU");
    return 0;
}

int iommu_read_tables(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, struct iommu_tables *out,
                      char *err, size_t errlen)
{
    static const struct {
        const char *sig;
        enum iommu_kind kind;
        int (*parse)(const uint8_t *, struct iommu_tables *, char *, size_t);
    } kinds[] = { { "DMAR", IOMMU_VTD, parse_dmar }, { "IVRS", IOMMU_AMD_VI, parse_ivrs } };
    *out = (struct iommu_tables){ .kind = IOMMU_NONE };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const uint8_t *t;
        uint64_t phys;
        int rc = acpi_find_table(map, ctx, rsdp_phys, kinds[i].sig, &t, &phys, err, errlen);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        out->kind = kinds[i].kind;
        out->table_phys = phys;
        return kinds[i].parse(t, out, err, errlen) ? -1 : 1;
    }
    return 0;
}
