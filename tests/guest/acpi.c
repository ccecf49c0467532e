/*
 * The ACPI tables as the guest finds them (ACPI 6.5: 5.2.5 RSDP, 5.2.7 RSDT,
 * 5.2.8 XSDT), every checksum verified: what an OS would believe is there.
 *
 * smp.c keeps its own copy of this lookup for the MADT, deliberately: moving
 * it here changed how clang lays out smp_checks' frame, and with that frame
 * Bochs (natively too) left an NMI's 12-byte frame on the stack when a data
 * breakpoint hit the NMI handler's IRET (check_iret_breakpoint), which
 * smp_checks' epilogue then popped as its return address. Until that check
 * is made immune to it, smp.c is left as it was.
 */
#include "tests/guest/guest.h"

static int checksum_ok(const uint8_t *p, uint32_t len)
{
    uint8_t sum = 0;
    while (len--)
        sum += *p++;
    return sum == 0;
}

static const uint8_t *scan_rsdp(uint32_t start, uint32_t len)
{
    for (uint32_t a = start; a + 20 <= start + len; a += 16) {
        const uint8_t *p = phys_at(a);
        if (memcmp(p, "RSD PTR ", 8) == 0 && checksum_ok(p, 20))
            return p;
    }
    return NULL;
}

/* On PCs the RSDP is in the first KiB of the EBDA or in 0xE0000-0xFFFFF, on 16-byte boundaries. */
static const uint8_t *find_rsdp(void)
{
    uint32_t ebda = (uint32_t)*(volatile uint16_t *)phys_at(0x40E) << 4;
    const uint8_t *r = NULL;
    if (ebda >= 0x80000 && ebda < 0xA0000)
        r = scan_rsdp(ebda, 1024);
    return r ? r : scan_rsdp(0xE0000, 0x20000);
}

/* The ACPI table at addr if its signature and checksum hold (below 4 GiB: no paging here). */
static const uint8_t *acpi_table(uint64_t addr, const char *sig)
{
    if (addr == 0 || addr >= 0x100000000ull - 36)
        return NULL;
    const uint8_t *t = phys_at((uint32_t)addr);
    uint32_t len = get32(t + 4);
    if (memcmp(t, sig, 4) != 0 || len < 36 || len > 0x100000 || addr + len > 0x100000000ull ||
        !checksum_ok(t, len))
        return NULL;
    return t;
}

const uint8_t *acpi_find(const char *sig, const char **via)
{
    const uint8_t *rsdp = find_rsdp(), *root = NULL;
    unsigned entry_size = 4;
    if (!rsdp)
        return NULL;
    /* ACPI 2.0+: the XSDT (64-bit entries) when the extended RSDP checks out. */
    if (rsdp[15] >= 2 && get32(rsdp + 20) >= 36 && get32(rsdp + 20) <= 64 &&
        checksum_ok(rsdp, get32(rsdp + 20)) && (root = acpi_table(get64(rsdp + 24), "XSDT")))
        entry_size = 8;
    else
        root = acpi_table(get32(rsdp + 16), "RSDT");
    if (!root)
        return NULL;
    if (via)
        *via = entry_size == 8 ? "XSDT" : "RSDT";
    for (uint32_t off = 36; off + entry_size <= get32(root + 4); off += entry_size) {
        uint64_t a = entry_size == 8 ? get64(root + off) : get32(root + off);
        const uint8_t *t = acpi_table(a, sig);
        if (t)
            return t;
    }
    return NULL;
}
