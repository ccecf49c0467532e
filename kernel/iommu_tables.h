/*
 * The ACPI tables that describe a machine's IOMMUs, as far as thinvisor needs
 * them to keep devices out of its memory: Intel's DMAR (VT-d spec 4.1,
 * chapter 8) with its remapping units (DRHD) and the memory the firmware
 * needs devices to keep reaching (RMRR); AMD's IVRS (AMD I/O Virtualization
 * Technology spec 3.x, 5.2) with its IOMMUs (IVHD) and unity-mapped ranges
 * (IVMD). Portable: tests parse fixtures with it.
 */
#ifndef THINVISOR_IOMMU_TABLES_H
#define THINVISOR_IOMMU_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi.h"

#define IOMMU_MAX_UNITS    16
#define IOMMU_MAX_RANGES   16

enum iommu_kind { IOMMU_NONE, IOMMU_VTD, IOMMU_AMD_VI };

/* DMAR remapping structure types (VT-d 4.1, Table 8-3) and the DRHD flag. */
#define DMAR_DRHD               0
#define DMAR_RMRR               1
#define DMAR_DRHD_INCLUDE_ALL   (1u << 0)

/* IVRS block types (AMD IOMMU spec 3.x, 5.2.2): IVHD types 10h, 11h, 40h; IVMD 20h-22h. */
#define IVRS_IVHD_10            0x10
#define IVRS_IVHD_11            0x11
#define IVRS_IVHD_40            0x40
#define IVRS_IVMD_ALL           0x20
#define IVRS_IVMD_ONE           0x21
#define IVRS_IVMD_RANGE         0x22
#define IVMD_FLAG_UNITY         (1u << 0)

/* One remapping unit: its registers and the devices it translates for. */
struct iommu_unit {
    uint64_t reg_base;          /* its register page(s), physical */
    uint16_t segment;           /* PCI segment */
    bool all_devices;           /* VT-d INCLUDE_PCI_ALL: every device not named elsewhere */
    uint16_t device_id;         /* AMD-Vi: the IOMMU's own bus/device/function */
};

/* Memory devices must keep reaching: an RMRR (VT-d) or a unity-mapped IVMD (AMD-Vi). */
struct iommu_range {
    uint64_t base, limit;       /* inclusive */
    uint16_t segment;
};

struct iommu_tables {
    enum iommu_kind kind;
    uint64_t table_phys;        /* the DMAR or IVRS */
    unsigned address_bits;      /* DMAR: the host address width; IVRS: from IVinfo (0: unsaid) */
    uint32_t unit_count, units_dropped;
    struct iommu_unit units[IOMMU_MAX_UNITS];
    uint32_t range_count, ranges_dropped;
    struct iommu_range ranges[IOMMU_MAX_RANGES];
};

/*
 * Finds the DMAR, else the IVRS, through the RSDP at rsdp_phys and lists its
 * units and reserved ranges. Returns 1 when one was found and parsed, 0 when
 * the root lists neither (out->kind IOMMU_NONE), or -1 with the reason in
 * err: a table that is unreadable, fails its checksum or is malformed.
 */
int iommu_read_tables(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, struct iommu_tables *out,
                      char *err, size_t errlen);

/* "VT-d (DMAR)", "AMD-Vi (IVRS)" or "none". */
const char *iommu_kind_name(enum iommu_kind kind);

#endif
