/*
 * One VT-d remapping unit, driven through its registers (iommu/vtd_regs.h):
 * read what it can do, give it a root table, turn translation on, take its
 * fault records. The policy (which tables, what to log) is the caller's
 * (iommu/dma_protect.c). Plain C: register accesses go through a struct
 * iommu_io, so host unit tests drive a model of the unit with the same code.
 * Every wait on the unit is a bounded count of register reads: a unit that
 * never answers gives an error, not a hang.
 */
#ifndef THINVISOR_VTD_H
#define THINVISOR_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/io.h"

struct vtd_unit {
    struct iommu_io io;
    uint32_t version;
    uint64_t cap, ecap;
    uint32_t firmware_gsts;   /* GSTS as vtd_enable found it: what the firmware had on */
};

/*
 * Reads the version and capabilities. -1 with the reason in err when the
 * unit does not answer (all-ones, or nothing but zeros), offers neither 3- nor 4-level tables, or
 * places its registers beyond a sane size.
 */
int vtd_probe(struct vtd_unit *u, char *err, size_t errlen);

/* Bytes of register space the unit decodes (fault records and IOTLB registers included). */
uint64_t vtd_register_bytes(const struct vtd_unit *u);

/*
 * Levels of second-level table to give the unit for an identity map of
 * [0, top): 4 if it takes them, else 3 (the 4-level tree's first PDPT then
 * serves as the root), 0 when neither reaches top.
 */
int vtd_levels(const struct vtd_unit *u, uint64_t top);

/*
 * Fills a root table and one context table (4 KiB each, zeroed by the
 * caller) so that every device of every bus translates through the
 * second-level tables at slpt_phys (`levels` deep) in domain `domain`:
 * the 256 root entries all point at the one context table.
 */
void vtd_fill_root_and_context(uint64_t *root, uint64_t *context, uint64_t context_phys,
                               uint64_t slpt_phys, int levels, uint16_t domain);

/*
 * Turns translation on with the root table at root_phys (VT-d 3.x, 6.5 and
 * 10.4): fault interrupts masked (thinvisor polls the records), a write
 * buffer flush where the unit wants one, queued invalidation and interrupt
 * remapping the firmware left on turned off (their tables are the
 * firmware's; register invalidation needs QI off), the root pointer set,
 * context cache and IOTLB invalidated globally, translation enabled, the
 * protected memory regions turned off. The caller flushes the CPU caches
 * first when the unit's walks do not snoop (ECAP.C clear). 0, or -1 with
 * the step that did not complete in err.
 */
int vtd_enable(struct vtd_unit *u, uint64_t root_phys, char *err, size_t errlen);

/*
 * Takes the next fault record the unit holds and frees it: 1 with *f
 * filled, or 0 when no record holds one. *lost is set when the unit also
 * says faults were dropped because the records were full (then cleared).
 */
int vtd_take_fault(struct vtd_unit *u, struct iommu_fault *f, bool *lost);

/* The fault reason's meaning, for the log ("unknown" for the rest). */
const char *vtd_fault_reason_name(uint8_t reason);

#endif
