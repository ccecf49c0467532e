/*
 * DMA protection: the machine's IOMMU keeps every device out of the
 * hypervisor region, as the EPT/NPT keeps the guest's processors out.
 * thinvisor owns the remapping units: each gets one DMA map, an identity
 * map of all memory but the region and the units' own registers (mm/ept.c
 * in VT-d's format), every device translating through it; the guest sees
 * neither the ACPI table that describes the units (its signature is changed
 * in place) nor their registers (holes in its EPT/NPT), so it cannot
 * reprogram them. Blocked DMA is recorded by the unit; thinvisor takes the
 * records when asked (CPUID 0x40000002, as thinctl reads the status area),
 * counts them and logs each source once.
 *
 * VT-d (DMAR: iommu/vtd.c) and AMD-Vi (IVRS: iommu/amd_vi.c), with the
 * same DMA map in each one's page-table format.
 */
#ifndef THINVISOR_DMA_PROTECT_H
#define THINVISOR_DMA_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/iommu_tables.h"
#include "mm/region.h"

struct dma_protect_state {
    enum iommu_kind kind;     /* IOMMU_NONE until a unit translates */
    uint32_t units;           /* units translating with the DMA map */
    uint64_t faults;          /* DMA requests a unit blocked and recorded */
    uint64_t unit_faults[IOMMU_MAX_UNITS];   /* the same, by unit (the table's order) */
    uint64_t lost;            /* times a unit dropped faults: its records were full */
};

/*
 * At boot, from the parsed DMAR (or IVRS): reads each unit's
 * capabilities (logging a unit that does not answer or cannot be used) and
 * notes the register pages to hide. With firmware_runs (UEFI boot
 * services) a unit that translates already is the firmware's, and so is an
 * AMD-Vi one anywhere (its caches cannot be flushed): then every unit is
 * left alone and the table stays visible. Before the region is chosen, so
 * that its budget can count the tables.
 */
void dma_protect_plan(const struct iommu_tables *t, bool firmware_runs);

/* The register pages to keep out of the guest's EPT/NPT: *out, count returned. */
uint32_t dma_protect_hidden(const struct phys_range **out);

/* Bytes of the hypervisor region the DMA map and each unit's tables need, for [0, top). */
uint64_t dma_protect_budget(uint64_t top);

/*
 * Once every CPU is virtualized, before the guest runs: builds the DMA map
 * of [0, top) but the holes (the region, the registers), gives it to every
 * usable unit and turns translation on, and hides the DMAR from the guest.
 * 0 when every unit translates; -1 with why (the log says which devices may
 * reach the region) when there is no IOMMU or some unit could not be used.
 */
int dma_protect_start(uint64_t top, char *why, size_t whylen);

/*
 * After an ACPI S3 resume, which reset the units: every unit that translated
 * before the sleep translates again, through the same tables. 0, or -1 with
 * why (the log names the unit) when one does not; with no unit translating
 * before, 0 and nothing done.
 */
int dma_protect_resume(char *why, size_t whylen);

/*
 * Takes the units' fault records: each counted, each new source (requester
 * and page) logged once. Any CPU; one at a time (others return at once).
 */
void dma_protect_poll(void);

/* The counters as of the last poll. */
const struct dma_protect_state *dma_protect_state(void);

#endif
