/*
 * One AMD-Vi IOMMU, driven through its registers (iommu/amd_vi_regs.h):
 * read what it can do, give it a device table and an event log, turn
 * translation on, take its IO_PAGE_FAULT events. The policy is the
 * caller's (iommu/dma_protect.c). Plain C over a struct iommu_io, like
 * vtd.c, so host unit tests drive a model of the unit.
 */
#ifndef THINVISOR_AMD_VI_H
#define THINVISOR_AMD_VI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iommu/io.h"

struct amdvi_unit {
    struct iommu_io io;
    uint64_t efr;             /* extended features (0 where the unit has none) */
    uint64_t firmware_control;/* the control register as amdvi_enable found it */
    uint64_t *event_log;      /* AMDVI_EVENT_LOG_ENTRIES entries, as the hypervisor sees them */
};

/* -1 with the reason in err when the unit's registers do not answer (all-ones). */
int amdvi_probe(struct amdvi_unit *u, char *err, size_t errlen);

/* Bytes of register space the unit decodes (16 KiB, or 512 KiB with performance counters). */
uint64_t amdvi_register_bytes(const struct amdvi_unit *u);

/*
 * Fills the device table (AMDVI_DEVICE_IDS entries, 2 MiB) so that every
 * requester translates through the 4-level page tables at root_phys, read
 * and write allowed by the tables, in domain `domain`; interrupts pass
 * unremapped (IV clear).
 */
void amdvi_fill_device_table(uint64_t *table, uint64_t root_phys, uint16_t domain);

/*
 * Turns translation on (AMD IOMMU spec 48882, 3.4): the device table and
 * the event log (4 KiB, zeroed by the caller, event_log_phys) set, their
 * pointers reset, the exclusion range cleared, then translation, event
 * logging and coherent table walks on. 0, or -1 with why: a unit that
 * translates already is refused (its caches cannot be flushed without a
 * command buffer, which thinvisor does not run).
 */
int amdvi_enable(struct amdvi_unit *u, uint64_t device_table_phys, uint64_t event_log_phys,
                 char *err, size_t errlen);

/*
 * Takes the next event from the log: 1 with *f filled for an IO_PAGE_FAULT,
 * 2 for another event (*f's why names it, source and address as logged), 0
 * when the log is empty. *lost is set when the log overflowed: logging is
 * restarted on an empty log (what it held is dropped) and 0 returned.
 */
int amdvi_take_event(struct amdvi_unit *u, struct iommu_fault *f, bool *lost);

#endif
