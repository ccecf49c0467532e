/*
 * The FADT, FACS, \_S3 and \_S5 (see acpi_sleep.h). Firmware input, checked like
 * kernel/acpi.c's: the FADT and DSDT by their checksums, the FACS (which has
 * none) by its signature and length; the FADT's ACPI 2.0 fields are believed
 * only where its length covers them, and preferred there when not zero.
 */
#include "kernel/acpi_sleep.h"

#include "kernel/parse.h"

/* FADT field offsets (ACPI 6.5, Table 5.9). */
#define FADT_FIRMWARE_CTRL   36
#define FADT_DSDT            40
#define FADT_PM1A_CNT_BLK    64
#define FADT_PM1B_CNT_BLK    68
#define FADT_PM1_CNT_LEN     89
#define FADT_FLAGS           112
#define FADT_V1_LEN          116
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT          140
#define FADT_X_PM1A_CNT_BLK  172
#define FADT_X_PM1B_CNT_BLK  184
#define FADT_SLEEP_CONTROL   244
#define FADT_FLAG_HW_REDUCED (1u << 20)
#define GAS_LEN              12
#define FACS_MIN_LEN         64

/* AML opcodes (ACPI 6.5, 20.2): what Name(_S3_, Package(){...}) is made of. */
#define AML_NAME_OP     0x08
#define AML_PACKAGE_OP  0x12
#define AML_ZERO_OP     0x00
#define AML_ONE_OP      0x01
#define AML_BYTE_PREFIX 0x0A

/* A GAS at t[off], if the table's length covers it; else one that says "not there". */
static struct acpi_gas gas_at(const uint8_t *t, uint32_t len, uint32_t off)
{
    if (off + GAS_LEN > len)
        return (struct acpi_gas){ 0 };
    return (struct acpi_gas){ .space = t[off], .bit_width = t[off + 1],
                              .address = rd64(t + off + 4) };
}

/* The 64-bit field at off when the length covers it and it is set, else the 32-bit one. */
static uint64_t wide_or_narrow(const uint8_t *t, uint32_t len, uint32_t off64, uint32_t off32)
{
    if (off64 + 8 <= len && rd64(t + off64))
        return rd64(t + off64);
    return rd32(t + off32);
}

/* A PM1 control block: the ACPI 2.0 GAS when there is one, else the I/O port of ACPI 1.0. */
static struct acpi_gas pm1_cnt(const uint8_t *t, uint32_t len, uint32_t x_off, uint32_t off)
{
    struct acpi_gas g = gas_at(t, len, x_off);
    if (g.address)
        return g;
    uint32_t port = rd32(t + off);
    return (struct acpi_gas){ .space = ACPI_GAS_IO, .bit_width = (uint8_t)(t[FADT_PM1_CNT_LEN] * 8),
                              .address = port };
}

/* One package element that is a byte: Zero, One, or BytePrefix and its byte. */
static bool aml_byte(const uint8_t *p, const uint8_t *end, uint8_t *v, const uint8_t **next)
{
    if (p >= end)
        return false;
    if (*p == AML_ZERO_OP || *p == AML_ONE_OP) {
        *v = *p;
        *next = p + 1;
        return true;
    }
    if (*p == AML_BYTE_PREFIX && p + 1 < end) {
        *v = p[1];
        *next = p + 2;
        return true;
    }
    return false;
}

bool acpi_aml_find_sleep_type(const uint8_t *aml, size_t len, unsigned state, uint8_t *typ_a,
                              uint8_t *typ_b)
{
    const uint8_t *end = aml + len;
    for (size_t i = 1; i + 4 < len; i++) {
        const uint8_t *n = aml + i;
        if (n[0] != '_' || n[1] != 'S' || n[2] != '0' + state || n[3] != '_')
            continue;
        /* NameOp, with or without the root prefix '\' before the name. */
        if (!(n[-1] == AML_NAME_OP || (n[-1] == '\\' && i >= 2 && n[-2] == AML_NAME_OP)))
            continue;
        const uint8_t *p = n + 4;
        if (p >= end || *p++ != AML_PACKAGE_OP || p >= end)
            continue;
        p += 1 + (*p >> 6);                   /* PkgLength: its bytes 7:6 count the rest */
        if (p >= end)
            continue;
        p++;                                  /* NumElements */
        if (aml_byte(p, end, typ_a, &p) && aml_byte(p, end, typ_b, &p))
            return true;
    }
    return false;
}

int acpi_read_sleep(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, struct acpi_sleep *out,
                    char *err, size_t errlen)
{
    *out = (struct acpi_sleep){ 0 };
    const uint8_t *t;
    int rc = acpi_find_table(map, ctx, rsdp_phys, "FACP", &t, &out->fadt_phys, err, errlen);
    if (rc <= 0)
        return rc;
    uint32_t len = rd32(t + 4);
    if (len < FADT_V1_LEN)
        FAIL("ACPI: FADT length %u is too small", len);
    out->hw_reduced = rd32(t + FADT_FLAGS) & FADT_FLAG_HW_REDUCED;
    out->pm1a_cnt = pm1_cnt(t, len, FADT_X_PM1A_CNT_BLK, FADT_PM1A_CNT_BLK);
    out->pm1b_cnt = pm1_cnt(t, len, FADT_X_PM1B_CNT_BLK, FADT_PM1B_CNT_BLK);
    out->sleep_control = gas_at(t, len, FADT_SLEEP_CONTROL);
    if (!out->hw_reduced && !out->pm1a_cnt.address)
        FAIL("ACPI: FADT at %#llx has no PM1a control block", (unsigned long long)out->fadt_phys);

    out->facs_phys = wide_or_narrow(t, len, FADT_X_FIRMWARE_CTRL, FADT_FIRMWARE_CTRL);
    if (out->facs_phys) {
        const uint8_t *f = map(ctx, out->facs_phys, FACS_MIN_LEN);
        if (!f)
            FAIL("ACPI: FACS at %#llx cannot be read", (unsigned long long)out->facs_phys);
        if (f[0] != 'F' || f[1] != 'A' || f[2] != 'C' || f[3] != 'S')
            FAIL("ACPI: the FACS at %#llx has signature '%.4s'",
                 (unsigned long long)out->facs_phys, (const char *)f);
        out->facs_length = rd32(f + 4);
        if (out->facs_length < FACS_MIN_LEN)
            FAIL("ACPI: FACS at %#llx has invalid length %u", (unsigned long long)out->facs_phys,
                 out->facs_length);
    } else if (!out->hw_reduced) {
        FAIL("ACPI: FADT at %#llx names no FACS", (unsigned long long)out->fadt_phys);
    }

    out->dsdt_phys = wide_or_narrow(t, len, FADT_X_DSDT, FADT_DSDT);
    const uint8_t *dsdt = acpi_map_table(map, ctx, out->dsdt_phys, "DSDT", err, errlen);
    if (!dsdt)
        return -1;
    const uint8_t *aml = dsdt + 36;
    size_t aml_len = rd32(dsdt + 4) - 36;
    out->has_s3 = acpi_aml_find_sleep_type(aml, aml_len, 3, &out->s3_typ_a, &out->s3_typ_b);
    out->has_s5 = acpi_aml_find_sleep_type(aml, aml_len, 5, &out->s5_typ_a, &out->s5_typ_b);
    return 1;
}

int acpi_facs_waking_vector(const uint8_t *facs, uint32_t facs_length, size_t code_bytes,
                            uint32_t *vector, char *why, size_t whylen)
{
    uint64_t x = facs_length >= FACS_X_WAKING_VECTOR + 8 && facs[FACS_VERSION] >= 1
                     ? rd64(facs + FACS_X_WAKING_VECTOR) : 0;
    *vector = rd32(facs + FACS_WAKING_VECTOR);
    if (x) {
        fmt_snprintf(why, whylen, "the OS asks for a protected- or long-mode wake "
                     "(X_Firmware_Waking_Vector %#llx), which thinvisor does not take over",
                     (unsigned long long)x);
        return -1;
    }
    if (*vector == 0 || (*vector & 0xF) || *vector > 0xA0000 - code_bytes) {
        fmt_snprintf(why, whylen, "the FACS waking vector %#x is not a 16-byte-aligned address "
                     "below 640 KiB", *vector);
        return -1;
    }
    return 0;
}
