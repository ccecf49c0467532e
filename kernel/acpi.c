/*
 * ACPI table parsing. Firmware tables are input we did not write: every
 * length is checked against what the table claims and what can be mapped,
 * and every checksum is verified before anything inside is believed.
 */
#include "kernel/acpi.h"

#include "kernel/parse.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

static bool sig_is(const uint8_t *p, const char *sig)
{
    for (int i = 0; sig[i]; i++)
        if (p[i] != (uint8_t)sig[i])
            return false;
    return true;
}

#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define SDT_HEADER_LEN 36

int acpi_rsdp_check(const uint8_t *p, size_t len, char *err, size_t errlen)
{
    if (len < RSDP_V1_LEN)
        FAIL("ACPI: RSDP truncated (%zu bytes)", len);
    if (!sig_is(p, "RSD PTR "))
        FAIL("ACPI: RSDP signature is not 'RSD PTR '");
    if (sum(p, RSDP_V1_LEN) != 0)
        FAIL("ACPI: RSDP checksum 0x%02x is wrong (bytes 0-19 sum to 0x%02x, not 0)", p[8],
             sum(p, RSDP_V1_LEN));
    if (p[15] >= 2) {
        if (len < RSDP_V2_LEN)
            FAIL("ACPI: RSDP revision %u truncated (%zu bytes)", p[15], len);
        uint32_t xlen = rd32(p + 20);
        if (xlen < RSDP_V2_LEN || xlen > len)
            FAIL("ACPI: RSDP length %u is invalid", xlen);
        if (sum(p, xlen) != 0)
            FAIL("ACPI: RSDP extended checksum 0x%02x is wrong", p[32]);
    }
    return 0;
}

/* A valid RSDP within the `len` bytes at phys, found on a 16-byte boundary. */
static uint64_t scan_area(acpi_map_fn map, void *ctx, uint64_t phys, size_t len)
{
    const uint8_t *p = map(ctx, phys, len);
    if (!p)
        return 0;
    for (size_t off = 0; off + RSDP_V1_LEN <= len; off += 16) {
        size_t avail = len - off;
        if (sig_is(p + off, "RSD PTR ") && acpi_rsdp_check(p + off, avail, NULL, 0) == 0)
            return phys + off;
    }
    return 0;
}

uint64_t acpi_scan_rsdp(acpi_map_fn map, void *ctx)
{
    const uint8_t *bda = map(ctx, 0x40E, 2);
    if (bda) {
        uint64_t ebda = (uint64_t)rd16(bda) << 4;
        if (ebda >= 0x80000 && ebda < 0xA0000) {
            uint64_t found = scan_area(map, ctx, ebda, 1024);
            if (found)
                return found;
        }
    }
    return scan_area(map, ctx, 0xE0000, 0x20000);
}

const uint8_t *acpi_map_table(acpi_map_fn map, void *ctx, uint64_t phys, const char *sig,
                              char *err, size_t errlen)
{
    const uint8_t *h = map(ctx, phys, SDT_HEADER_LEN);
    if (!h) {
        if (errlen)
            fmt_snprintf(err, errlen, "ACPI: %s at %#llx cannot be read", sig,
                         (unsigned long long)phys);
        return NULL;
    }
    if (sig && !sig_is(h, sig)) {
        if (errlen)
            fmt_snprintf(err, errlen, "ACPI: table at %#llx has signature '%.4s', expected %s",
                         (unsigned long long)phys, (const char *)h, sig);
        return NULL;
    }
    uint32_t len = rd32(h + 4);
    if (len < SDT_HEADER_LEN || len > (1u << 20)) {
        if (errlen)
            fmt_snprintf(err, errlen, "ACPI: %.4s at %#llx has invalid length %u",
                         (const char *)h, (unsigned long long)phys, len);
        return NULL;
    }
    const uint8_t *t = map(ctx, phys, len);
    if (!t) {
        if (errlen)
            fmt_snprintf(err, errlen, "ACPI: %.4s at %#llx (%u bytes) cannot be read",
                         (const char *)h, (unsigned long long)phys, len);
        return NULL;
    }
    if (sum(t, len) != 0) {
        if (errlen)
            fmt_snprintf(err, errlen,
                         "ACPI: %.4s at %#llx has a bad checksum (0x%02x; the table sums to "
                         "0x%02x, not 0)", (const char *)t, (unsigned long long)phys, t[9],
                         sum(t, len));
        return NULL;
    }
    return t;
}

static void add_cpu(struct acpi_madt_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
                    bool x2)
{
    bool enabled = flags & MADT_CPU_ENABLED;
    bool online_capable = !enabled && (flags & MADT_CPU_ONLINE_CAPABLE);
    if (!enabled && !online_capable) {
        out->cpus_disabled++;
        return;
    }
    /* Firmware may list a processor in both forms; keep the first. */
    for (uint32_t i = 0; i < out->cpu_count; i++)
        if (out->cpus[i].apic_id == apic_id)
            return;
    if (out->cpu_count == ACPI_MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    out->cpus[out->cpu_count++] = (struct acpi_cpu){ apic_id, uid, enabled, online_capable, x2 };
}

static int parse_madt(const uint8_t *madt, struct acpi_madt_info *out, char *err, size_t errlen)
{
    uint32_t len = rd32(madt + 4);
    if (len < SDT_HEADER_LEN + 8)
        FAIL("ACPI: MADT length %u is too small", len);
    out->lapic_phys = rd32(madt + 36);
    for (uint32_t off = SDT_HEADER_LEN + 8; off < len;) {
        if (len - off < 2)
            FAIL("ACPI: MADT entry at offset %u is truncated", off);
        uint8_t type = madt[off], elen = madt[off + 1];
        if (elen < 2 || elen > len - off)
            FAIL("ACPI: MADT entry at offset %u (type %u) has invalid length %u", off, type,
                 elen);
        const uint8_t *e = madt + off;
        switch (type) {
        case MADT_LOCAL_APIC:
            if (elen < 8)
                FAIL("ACPI: MADT local APIC entry at offset %u is too short (%u)", off, elen);
            add_cpu(out, e[3], e[2], rd32(e + 4), false);
            break;
        case MADT_LOCAL_X2APIC:
            if (elen < 16)
                FAIL("ACPI: MADT x2APIC entry at offset %u is too short (%u)", off, elen);
            add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
            break;
        case MADT_LAPIC_ADDR_OVERRIDE:
            if (elen < 12)
                FAIL("ACPI: MADT APIC address override at offset %u is too short (%u)", off,
                     elen);
            out->lapic_phys = rd64(e + 4);
            break;
        default:
            break;
        }
        off += elen;
    }
    return 0;
}

/*
 * The checked RSDP at rsdp_phys, and its root table (the XSDT when ACPI 2.0+
 * gives one, else the RSDT), checked: the RSDP's bytes and the root's.
 */
static int open_root(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, const uint8_t **rsdp_out,
                     const uint8_t **root_out, bool *xsdt_out, char *err, size_t errlen)
{
    const uint8_t *rsdp = map(ctx, rsdp_phys, RSDP_V1_LEN);
    if (!rsdp)
        FAIL("ACPI: RSDP at %#llx cannot be read", (unsigned long long)rsdp_phys);
    if (rsdp[15] >= 2) {
        const uint8_t *r2 = map(ctx, rsdp_phys, RSDP_V2_LEN);
        if (!r2)
            FAIL("ACPI: RSDP at %#llx cannot be read", (unsigned long long)rsdp_phys);
        rsdp = r2;
    }
    if (acpi_rsdp_check(rsdp, rsdp[15] >= 2 ? RSDP_V2_LEN : RSDP_V1_LEN, err, errlen))
        return -1;
    /* ACPI 2.0+: the XSDT (64-bit entries) when it is there, else the RSDT. */
    bool use_xsdt = rsdp[15] >= 2 && rd64(rsdp + 24) != 0;
    uint64_t root_phys = use_xsdt ? rd64(rsdp + 24) : rd32(rsdp + 16);
    const uint8_t *root = acpi_map_table(map, ctx, root_phys, use_xsdt ? "XSDT" : "RSDT", err,
                                    errlen);
    if (!root)
        return -1;
    *rsdp_out = rsdp;
    *root_out = root;
    *xsdt_out = use_xsdt;
    return 0;
}

/* The first table the root lists with signature sig: 1 with its address, or 0. */
static int find_in_root(acpi_map_fn map, void *ctx, const uint8_t *root, bool xsdt,
                        const char *sig, uint64_t *phys_out, uint32_t *entries)
{
    unsigned esize = xsdt ? 8 : 4;
    uint32_t n = (rd32(root + 4) - SDT_HEADER_LEN) / esize;
    *entries = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *ep = root + SDT_HEADER_LEN + i * esize;
        uint64_t phys = xsdt ? rd64(ep) : rd32(ep);
        const uint8_t *h = map(ctx, phys, 4);
        if (h && sig_is(h, sig)) {
            *phys_out = phys;
            return 1;
        }
    }
    return 0;
}

int acpi_find_table(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, const char *sig,
                    const uint8_t **table, uint64_t *phys, char *err, size_t errlen)
{
    const uint8_t *rsdp, *root;
    bool xsdt;
    uint32_t entries;
    if (open_root(map, ctx, rsdp_phys, &rsdp, &root, &xsdt, err, errlen))
        return -1;
    if (!find_in_root(map, ctx, root, xsdt, sig, phys, &entries))
        return 0;
    *table = acpi_map_table(map, ctx, *phys, sig, err, errlen);
    return *table ? 1 : -1;
}

int acpi_read_madt(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, struct acpi_madt_info *out,
                   char *err, size_t errlen)
{
    *out = (struct acpi_madt_info){ .rsdp_phys = rsdp_phys };
    const uint8_t *rsdp, *root;
    bool xsdt;
    uint32_t entries;
    if (open_root(map, ctx, rsdp_phys, &rsdp, &root, &xsdt, err, errlen))
        return -1;
    out->revision = rsdp[15];
    for (int i = 0; i < 6; i++)
        out->oem_id[i] = (char)rsdp[9 + i];
    if (!find_in_root(map, ctx, root, xsdt, "APIC", &out->madt_phys, &entries))
        FAIL("ACPI: no MADT (APIC table) among the %u tables of the %s", entries,
             xsdt ? "XSDT" : "RSDT");
    const uint8_t *madt = acpi_map_table(map, ctx, out->madt_phys, "APIC", err, errlen);
    if (!madt)
        return -1;
    return parse_madt(madt, out, err, errlen);
}
