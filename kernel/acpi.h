/*
 * ACPI tables, as far as thinvisor needs them: the RSDP, the RSDT/XSDT,
 * the MADT's list of processors, and any other table found by signature.
 * ACPI 6.5 spec, sections 5.2.5 to 5.2.12.
 */
#ifndef THINVISOR_ACPI_H
#define THINVISOR_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACPI_MAX_CPUS 256

/* MADT interrupt controller structure types (ACPI 6.5, Table 5.44). */
#define MADT_LOCAL_APIC          0
#define MADT_IO_APIC             1
#define MADT_LAPIC_ADDR_OVERRIDE 5
#define MADT_LOCAL_X2APIC        9

/* Flags of the Local APIC and x2APIC structures (Table 5.46). */
#define MADT_CPU_ENABLED         (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE  (1u << 1)

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;              /* ACPI processor UID */
    bool enabled;              /* usable now */
    bool online_capable;       /* disabled, but may be brought online (hot-add) */
    bool from_x2apic_entry;
};

struct acpi_madt_info {
    uint64_t rsdp_phys;
    int revision;              /* RSDP revision: 0 = ACPI 1.0 (RSDT), 2+ = XSDT */
    char oem_id[7];
    uint64_t madt_phys;
    uint64_t lapic_phys;       /* after any type 5 override */
    uint32_t cpu_count;        /* entries in cpus[] (enabled or online-capable) */
    uint32_t cpus_dropped;     /* beyond ACPI_MAX_CPUS */
    uint32_t cpus_disabled;    /* neither enabled nor online-capable: ignored */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
};

/*
 * How the parser reaches physical memory: a pointer to `len` readable bytes
 * at `phys`, or NULL when that range cannot be read. The kernel uses its
 * identity map; tests use fixtures.
 */
typedef const void *(*acpi_map_fn)(void *ctx, uint64_t phys, size_t len);

/*
 * Checks an RSDP held at `rsdp` (len bytes readable): signature, the ACPI 1.0
 * checksum and, for revision 2+, the length and extended checksum.
 * Returns 0, or -1 with the reason in err.
 */
int acpi_rsdp_check(const uint8_t *rsdp, size_t len, char *err, size_t errlen);

/*
 * Finds the RSDP the legacy way (ACPI 6.5, 5.2.5.1): the first KiB of the
 * EBDA (segment at 0x40E), then 0xE0000-0xFFFFF, on 16-byte boundaries.
 * Returns its physical address, or 0.
 */
uint64_t acpi_scan_rsdp(acpi_map_fn map, void *ctx);

/*
 * From a checked RSDP, walks the XSDT (or RSDT) to the MADT, checks both
 * checksums and lists the processors. Returns 0, or -1 with a message naming
 * the table at fault in err.
 */
int acpi_read_madt(acpi_map_fn map, void *ctx, uint64_t rsdp_phys,
                   struct acpi_madt_info *out, char *err, size_t errlen);

/*
 * Maps the whole table at phys and checks its signature (when sig is not
 * NULL), length and checksum: the table, or NULL with the reason in err.
 */
const uint8_t *acpi_map_table(acpi_map_fn map, void *ctx, uint64_t phys, const char *sig,
                              char *err, size_t errlen);

/*
 * Finds the table with signature sig (4 characters) through the RSDP's
 * XSDT or RSDT and checks its length and checksum. Returns 1 with the table
 * (mapped) and its address, 0 when the root lists none, or -1 with the
 * reason in err (a bad RSDP, root or table).
 */
int acpi_find_table(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, const char *sig,
                    const uint8_t **table, uint64_t *phys, char *err, size_t errlen);

#endif
