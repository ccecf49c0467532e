/*
 * libFuzzer target for the ACPI parsers (kernel/acpi.c, iommu_tables.c,
 * acpi_sleep.c): the input is physical memory from address 0, with an RSDP
 * at 0. Whatever it holds, parsing ends with results within bounds (the
 * processors, the IOMMU units, the sleep registers) or a message, and reads
 * nothing outside it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi.h"
#include "kernel/acpi_sleep.h"
#include "kernel/iommu_tables.h"

struct blob {
    const uint8_t *p;
    size_t n;
};

static const void *blob_map(void *ctx, uint64_t phys, size_t len)
{
    struct blob *b = ctx;
    if (phys > b->n || len > b->n - phys)
        return NULL;
    return b->p + phys;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);     /* exact size, so ASan sees overreads */
    memcpy(copy, data, size);
    struct blob b = { copy, size };
    static struct acpi_madt_info info;
    char err[200];
    if (acpi_read_madt(blob_map, &b, 0, &info, err, sizeof err) == 0) {
        assert(info.cpu_count <= ACPI_MAX_CPUS);
        assert(info.madt_phys < size);
    } else {
        assert(err[0] != '\0');
    }
    static struct iommu_tables iommu;
    int rc = iommu_read_tables(blob_map, &b, 0, &iommu, err, sizeof err);
    if (rc == 1)
        assert(iommu.unit_count >= 1 && iommu.unit_count <= IOMMU_MAX_UNITS &&
               iommu.range_count <= IOMMU_MAX_RANGES && iommu.table_phys < size);
    else if (rc < 0)
        assert(err[0] != '\0');
    static struct acpi_sleep sleep;
    rc = acpi_read_sleep(blob_map, &b, 0, &sleep, err, sizeof err);
    if (rc == 1)
        assert(sleep.fadt_phys < size && sleep.dsdt_phys < size);
    else if (rc < 0)
        assert(err[0] != '\0');
    uint8_t typ_a, typ_b;
    (void)acpi_aml_find_sleep_type(copy, size, 3, &typ_a, &typ_b);
    acpi_rsdp_check(copy, size, err, sizeof err);
    (void)acpi_scan_rsdp(blob_map, &b);
    free(copy);
    return 0;
}
