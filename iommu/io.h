/*
 * What the IOMMU drivers (vtd.c, amd_vi.c) share: register access through
 * hooks, so that host unit tests drive a model of a unit with the same
 * code, and the one shape of a blocked DMA they report.
 */
#ifndef THINVISOR_IOMMU_IO_H
#define THINVISOR_IOMMU_IO_H

#include <stdbool.h>
#include <stdint.h>

struct iommu_io {
    uint32_t (*read32)(void *ctx, unsigned offset);
    uint64_t (*read64)(void *ctx, unsigned offset);
    void (*write32)(void *ctx, unsigned offset, uint32_t value);
    void (*write64)(void *ctx, unsigned offset, uint64_t value);
    void *ctx;
};

/* The io for a unit whose registers are mapped at `regs` (volatile loads and stores). */
struct iommu_io iommu_mmio_io(volatile void *regs);

/* How many register reads a wait on a unit may take before it counts as dead. */
#define IOMMU_WAIT_READS  1000000u

/* One DMA a unit blocked, as it recorded it. */
struct iommu_fault {
    uint16_t source;          /* requester: bus << 8 | device << 3 | function */
    bool read;                /* a read (else a write) */
    uint64_t address;         /* the page it was for */
    const char *why;          /* the unit's reason, in words */
};

#endif
