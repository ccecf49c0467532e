/* Register access for the IOMMU drivers (see io.h). */
#include "iommu/io.h"

static uint32_t mmio_read32(void *ctx, unsigned off)
{
    return *(volatile uint32_t *)((volatile char *)ctx + off);
}

/* 64-bit registers are read and written whole (both IOMMUs allow 64-bit accesses). */
static uint64_t mmio_read64(void *ctx, unsigned off)
{
    return *(volatile uint64_t *)((volatile char *)ctx + off);
}

static void mmio_write32(void *ctx, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)((volatile char *)ctx + off) = v;
}

static void mmio_write64(void *ctx, unsigned off, uint64_t v)
{
    *(volatile uint64_t *)((volatile char *)ctx + off) = v;
}

struct iommu_io iommu_mmio_io(volatile void *regs)
{
    return (struct iommu_io){ mmio_read32, mmio_read64, mmio_write32, mmio_write64,
                              (void *)(uintptr_t)regs };
}
