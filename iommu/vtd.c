/* A VT-d remapping unit (see vtd.h). Section numbers are the VT-d spec 3.x's. */
#include "iommu/vtd.h"

#include "iommu/vtd_regs.h"
#include "kernel/format.h"

#define FAIL(...) do { fmt_snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* ---- register access ---------------------------------------------------------------- */

static uint32_t rd32(struct vtd_unit *u, unsigned off) { return u->io.read32(u->io.ctx, off); }
static uint64_t rd64(struct vtd_unit *u, unsigned off) { return u->io.read64(u->io.ctx, off); }
static void wr32(struct vtd_unit *u, unsigned off, uint32_t v) { u->io.write32(u->io.ctx, off, v); }
static void wr64(struct vtd_unit *u, unsigned off, uint64_t v) { u->io.write64(u->io.ctx, off, v); }

/* ---- capabilities ------------------------------------------------------------------- */

int vtd_probe(struct vtd_unit *u, char *err, size_t errlen)
{
    u->version = rd32(u, VTD_REG_VER);
    u->cap = rd64(u, VTD_REG_CAP);
    u->ecap = rd64(u, VTD_REG_ECAP);
    /* Nothing decoding there reads as all-ones on real buses, as zeros in QEMU. */
    if (u->version == 0xFFFFFFFFu || u->cap == ~0ull || u->ecap == ~0ull ||
        (u->version == 0 && u->cap == 0 && u->ecap == 0))
        FAIL("its registers do not answer (version %#x, CAP %#llx)", u->version,
             (unsigned long long)u->cap);
    if (!(VTD_CAP_SAGAW(u->cap) & 6))
        FAIL("it takes neither 3- nor 4-level tables (CAP %#llx)", (unsigned long long)u->cap);
    if (vtd_register_bytes(u) > 0x10000)
        FAIL("its fault records or IOTLB registers lie beyond 64 KiB (CAP %#llx, ECAP %#llx)",
             (unsigned long long)u->cap, (unsigned long long)u->ecap);
    return 0;
}

uint64_t vtd_register_bytes(const struct vtd_unit *u)
{
    uint64_t end = VTD_CAP_FRO(u->cap) + 16ull * VTD_CAP_NFR(u->cap);
    uint64_t iotlb_end = VTD_IOTLB_REG(u->ecap) + 8;
    if (iotlb_end > end)
        end = iotlb_end;
    return (end + 0xFFF) & ~0xFFFull;
}

/*
 * 3.6: a 4-level walk covers 48 bits, a 3-level one 39; the unit's SAGAW says
 * which it takes. A 3-level root is the 4-level tree's PDPT for [0, 512 GiB).
 */
int vtd_levels(const struct vtd_unit *u, uint64_t top)
{
    unsigned sagaw = VTD_CAP_SAGAW(u->cap);
    if ((sagaw & 4) && top <= (1ull << 48))
        return 4;
    if ((sagaw & 2) && top <= (1ull << 39))
        return 3;
    return 0;
}

void vtd_fill_root_and_context(uint64_t *root, uint64_t *context, uint64_t context_phys,
                               uint64_t slpt_phys, int levels, uint16_t domain)
{
    for (unsigned bus = 0; bus < 256; bus++)
        root[2 * bus] = context_phys | VTD_ROOT_PRESENT;
    uint64_t aw = levels == 4 ? VTD_CTX_AW_4LEVEL : VTD_CTX_AW_3LEVEL;
    for (unsigned devfn = 0; devfn < 256; devfn++) {
        context[2 * devfn] = slpt_phys | VTD_CTX_PRESENT;
        context[2 * devfn + 1] = aw | (uint64_t)domain << VTD_CTX_DID_SHIFT;
    }
}

/* ---- commands ----------------------------------------------------------------------- */

/* Waits until (GSTS & mask) == want. */
static bool wait_gsts(struct vtd_unit *u, uint32_t mask, uint32_t want)
{
    for (uint32_t i = 0; i < IOMMU_WAIT_READS; i++)
        if ((rd32(u, VTD_REG_GSTS) & mask) == want)
            return true;
    return false;
}

/*
 * 11.4.4: one GCMD write changes one thing, and repeats the persistent
 * states (TE, QIE, IRE, CFI) as GSTS shows them; set or clear `bit`, then
 * wait for its status (a one-shot command's status bit clears when done).
 */
static bool command(struct vtd_unit *u, uint32_t bit, bool on, bool one_shot)
{
    uint32_t keep = rd32(u, VTD_REG_GSTS) & VTD_GSTS_PERSISTENT;
    wr32(u, VTD_REG_GCMD, on ? keep | bit : keep & ~bit);
    return wait_gsts(u, bit, one_shot ? 0 : on ? bit : 0);
}

static bool wait_clear64(struct vtd_unit *u, unsigned off, uint64_t bit)
{
    for (uint32_t i = 0; i < IOMMU_WAIT_READS; i++)
        if (!(rd64(u, off) & bit))
            return true;
    return false;
}

int vtd_enable(struct vtd_unit *u, uint64_t root_phys, char *err, size_t errlen)
{
    u->firmware_gsts = rd32(u, VTD_REG_GSTS);
    wr32(u, VTD_REG_FECTL, VTD_FECTL_IM);
    if ((u->cap & VTD_CAP_RWBF) && !command(u, VTD_GCMD_WBF, true, true))
        FAIL("the write buffer flush did not complete");
    if ((u->firmware_gsts & VTD_GCMD_IRE) && !command(u, VTD_GCMD_IRE, false, false))
        FAIL("interrupt remapping, left on by the firmware, did not turn off");
    if (u->firmware_gsts & VTD_GCMD_QIE) {
        /* 10.4.4: QIE may be cleared only once the queue is empty (head reached tail). */
        uint32_t i = 0;
        while (rd64(u, VTD_REG_IQH) != rd64(u, VTD_REG_IQT) && ++i < IOMMU_WAIT_READS)
            ;
        if (i == IOMMU_WAIT_READS || !command(u, VTD_GCMD_QIE, false, false))
            FAIL("queued invalidation, left on by the firmware, did not turn off");
    }
    wr64(u, VTD_REG_RTADDR, root_phys);           /* TTM 00: legacy root and context tables */
    if (!command(u, VTD_GCMD_SRTP, true, false))
        FAIL("the unit did not take the root table");
    /* 6.5: context entries changed from not-present, translations too: invalidate all. */
    wr64(u, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
    if (!wait_clear64(u, VTD_REG_CCMD, VTD_CCMD_ICC))
        FAIL("the context-cache invalidation did not complete");
    unsigned iotlb = VTD_IOTLB_REG(u->ecap);
    wr64(u, iotlb, VTD_IOTLB_IVT | VTD_IOTLB_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
    if (!wait_clear64(u, iotlb, VTD_IOTLB_IVT))
        FAIL("the IOTLB invalidation did not complete");
    if (!(u->firmware_gsts & VTD_GCMD_TE) && !command(u, VTD_GCMD_TE, true, false))
        FAIL("translation did not turn on");
    /* 10.4.16: the protected memory regions would still block DMA the tables allow. */
    if ((u->cap & (VTD_CAP_PLMR | VTD_CAP_PHMR)) && (rd32(u, VTD_REG_PMEN) & VTD_PMEN_EPM)) {
        wr32(u, VTD_REG_PMEN, 0);
        uint32_t i = 0;
        while ((rd32(u, VTD_REG_PMEN) & VTD_PMEN_PRS) && ++i < IOMMU_WAIT_READS)
            ;
        if (i == IOMMU_WAIT_READS)
            FAIL("the protected memory regions did not turn off");
    }
    return 0;
}

/* ---- faults ------------------------------------------------------------------------- */

int vtd_take_fault(struct vtd_unit *u, struct iommu_fault *f, bool *lost)
{
    uint32_t fsts = rd32(u, VTD_REG_FSTS);
    *lost = fsts & VTD_FSTS_PFO;
    if (!(fsts & (VTD_FSTS_PPF | VTD_FSTS_PFO)))
        return 0;                                  /* nothing recorded: one read, not NFR */
    if (*lost)
        wr32(u, VTD_REG_FSTS, VTD_FSTS_PFO);       /* RW1C */
    /* 7.2.1: records are filled round-robin from FRI; look at each once. */
    unsigned n = VTD_CAP_NFR(u->cap), first = VTD_FSTS_FRI(fsts) % n;
    for (unsigned k = 0; k < n; k++) {
        unsigned off = VTD_CAP_FRO(u->cap) + 16 * ((first + k) % n);
        uint64_t hi = rd64(u, off + 8);
        if (!(hi & VTD_FRCD_F))
            continue;
        uint64_t lo = rd64(u, off);
        *f = (struct iommu_fault){ VTD_FRCD_SID(hi), (hi & VTD_FRCD_READ) != 0,
                                   lo & VTD_FRCD_ADDR_MASK,
                                   vtd_fault_reason_name(VTD_FRCD_REASON(hi)) };
        wr32(u, off + 12, (uint32_t)(VTD_FRCD_F >> 32));   /* F is RW1C */
        return 1;
    }
    return 0;
}

const char *vtd_fault_reason_name(uint8_t reason)
{
    switch (reason) {
    case 0x1: return "root entry not present";
    case 0x2: return "context entry not present";
    case 0x3: return "bad context entry";
    case 0x4: return "address beyond the guest address width";
    case 0x5: return "write not allowed";
    case 0x6: return "read not allowed";
    case 0x7: return "bad paging entry";
    case 0x8: return "root table unreachable";
    case 0x9: return "context table unreachable";
    case 0xA: return "reserved bit in a root entry";
    case 0xB: return "reserved bit in a context entry";
    case 0xC: return "reserved bit in a paging entry";
    case 0xD: return "translation blocked by the context entry";
    default: return "unknown";
    }
}
