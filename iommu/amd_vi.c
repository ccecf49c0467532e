/* An AMD-Vi IOMMU (see amd_vi.h). Section numbers are the AMD IOMMU spec 48882 rev 3.x's. */
#include "iommu/amd_vi.h"

#include "iommu/amd_vi_regs.h"
#include "kernel/format.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
#define LOG_BYTES (AMDVI_EVENT_LOG_ENTRIES * AMDVI_EVENT_BYTES)

static uint64_t rd64(struct amdvi_unit *u, unsigned off) { return u->io.read64(u->io.ctx, off); }
static void wr64(struct amdvi_unit *u, unsigned off, uint64_t v) { u->io.write64(u->io.ctx, off, v); }

int amdvi_probe(struct amdvi_unit *u, char *err, size_t errlen)
{
    uint64_t control = rd64(u, AMDVI_REG_CONTROL);
    u->efr = rd64(u, AMDVI_REG_EFR);
    if (control == ~0ull || u->efr == ~0ull)
        FAIL("its registers do not answer (control %#llx)", (unsigned long long)control);
    return 0;
}

uint64_t amdvi_register_bytes(const struct amdvi_unit *u)
{
    return u->efr & AMDVI_EFR_PC ? AMDVI_MMIO_BYTES_PC : AMDVI_MMIO_BYTES;
}

void amdvi_fill_device_table(uint64_t *table, uint64_t root_phys, uint16_t domain)
{
    for (uint32_t id = 0; id < AMDVI_DEVICE_IDS; id++) {
        uint64_t *dte = table + id * (AMDVI_DTE_BYTES / 8);
        dte[0] = AMDVI_DTE_VALID | AMDVI_DTE_TV | 4ull << AMDVI_DTE_MODE_SHIFT | root_phys |
                 AMDVI_DTE_IR | AMDVI_DTE_IW;
        dte[1] = domain;
        dte[2] = dte[3] = 0;
    }
}

int amdvi_enable(struct amdvi_unit *u, uint64_t device_table_phys, uint64_t event_log_phys,
                 char *err, size_t errlen)
{
    u->firmware_control = rd64(u, AMDVI_REG_CONTROL);
    /*
     * Without a command buffer thinvisor cannot flush the unit's caches, so one that
     * translated already could keep the old tables' answers (dma_protect.c leaves such a
     * unit alone; this is the last guard).
     */
    if (u->firmware_control & AMDVI_CTL_IOMMU_EN)
        FAIL("it translates already, and thinvisor cannot flush its caches");
    wr64(u, AMDVI_REG_CONTROL, 0);              /* 3.4.5: base registers change only while off */
    wr64(u, AMDVI_REG_EXCL_BASE, 0);            /* no range that skips translation */
    wr64(u, AMDVI_REG_EXCL_LIMIT, 0);
    /* 3.4.1: bits 8:0 are the table's size in 4 KiB pages, less one. */
    wr64(u, AMDVI_REG_DEVTAB,
         device_table_phys | (AMDVI_DEVICE_IDS * AMDVI_DTE_BYTES / 4096 - 1));
    /* 3.4.3: bits 59:56 hold log2 of the entries (8: 256, the smallest log). */
    wr64(u, AMDVI_REG_EVENT_BASE, event_log_phys | 8ull << 56);
    wr64(u, AMDVI_REG_EVENT_HEAD, 0);
    wr64(u, AMDVI_REG_EVENT_TAIL, 0);
    wr64(u, AMDVI_REG_STATUS, AMDVI_STATUS_EVENT_OVF);   /* RW1C */
    if ((rd64(u, AMDVI_REG_DEVTAB) & ~0xFFFull) != device_table_phys)
        FAIL("the unit did not take the device table");
    wr64(u, AMDVI_REG_CONTROL, AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN | AMDVI_CTL_COHERENT);
    if (!(rd64(u, AMDVI_REG_CONTROL) & AMDVI_CTL_IOMMU_EN))
        FAIL("translation did not turn on");
    return 0;
}

int amdvi_take_event(struct amdvi_unit *u, struct iommu_fault *f, bool *lost)
{
    *lost = rd64(u, AMDVI_REG_STATUS) & AMDVI_STATUS_EVENT_OVF;
    if (*lost) {
        /* 3.4.14: logging stays stopped after an overflow until EventLogEn goes 0, then 1. */
        uint64_t control = rd64(u, AMDVI_REG_CONTROL);
        wr64(u, AMDVI_REG_CONTROL, control & ~AMDVI_CTL_EVENT_LOG_EN);
        wr64(u, AMDVI_REG_STATUS, AMDVI_STATUS_EVENT_OVF);
        wr64(u, AMDVI_REG_EVENT_HEAD, 0);
        wr64(u, AMDVI_REG_EVENT_TAIL, 0);
        wr64(u, AMDVI_REG_CONTROL, control | AMDVI_CTL_EVENT_LOG_EN);
        return 0;                               /* what the log held is gone with it */
    }
    uint64_t head = rd64(u, AMDVI_REG_EVENT_HEAD) % LOG_BYTES;
    if (head == rd64(u, AMDVI_REG_EVENT_TAIL) % LOG_BYTES)
        return 0;
    const volatile uint64_t *e = u->event_log + head / 8;
    uint64_t q0 = e[0], address = e[1];
    uint32_t dw1 = (uint32_t)(q0 >> 32);
    wr64(u, AMDVI_REG_EVENT_HEAD, (head + AMDVI_EVENT_BYTES) % LOG_BYTES);
    bool fault = AMDVI_EVENT_CODE(dw1) == AMDVI_EVENT_IO_PAGE_FAULT;
    *f = (struct iommu_fault){ (uint16_t)q0, !(dw1 & AMDVI_EVENT_FLAG_RW), address & ~0xFFFull,
                               fault ? "no access allowed" : "another event" };
    return fault ? 1 : 2;
}
