/* DMA protection with the machine's IOMMU (see dma_protect.h). */
#include "iommu/dma_protect.h"

#include "abi/hypercall.h"
#include "iommu/amd_vi.h"
#include "iommu/amd_vi_regs.h"
#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/ept.h"
#include "mm/hv_memory.h"

#define DOMAIN_ID      1          /* any but 0, which caching-mode units reserve (VT-d 3.x, 6.2.2) */
#define SEEN_SOURCES   64         /* distinct (requester, page) pairs logged */

static struct {
    const struct iommu_tables *tables;
    struct vtd_unit vtd[IOMMU_MAX_UNITS];   /* IOMMU_VTD */
    struct amdvi_unit amd[IOMMU_MAX_UNITS]; /* IOMMU_AMD_VI */
    bool usable[IOMMU_MAX_UNITS];         /* probed fine: gets the DMA map */
    bool firmware_owns;                   /* a unit translated already: all are left alone */
    bool translating[IOMMU_MAX_UNITS];
    uint64_t vtd_root[IOMMU_MAX_UNITS];   /* each VT-d unit's root table */
    uint64_t amd_device_table;            /* the AMD-Vi units' shared device table */
    struct phys_range hidden[IOMMU_MAX_UNITS];
    uint32_t hidden_count;
    bool has_2m, has_1g;                  /* every usable unit takes the size */
    struct ept map;
    struct dma_protect_state state;
    struct { uint16_t source; uint64_t page; } seen[SEEN_SOURCES];
    uint32_t seen_count;
    volatile int poll_lock;
} dp;

/* "unit N at 0x...": how the log names a unit. */
static void unit_name(uint32_t i, char *buf, size_t len)
{
    fmt_snprintf(buf, len, "IOMMU: unit %u at %#llx", i,
                 (unsigned long long)dp.tables->units[i].reg_base);
}

/* A VT-d unit's capabilities; its register pages, to hide. false: not usable. */
static bool plan_vtd(uint32_t i, const char *name, uint64_t base)
{
    char err[160];
    struct vtd_unit *u = &dp.vtd[i];
    u->io = iommu_mmio_io(phys_to_virt(base));
    if (vtd_probe(u, err, sizeof err) != 0) {
        log_warn("%s: %s; not used\n", name, err);
        return false;
    }
    dp.has_2m &= (u->cap & VTD_CAP_SLLPS_2M) != 0;
    dp.has_1g &= (u->cap & VTD_CAP_SLLPS_1G) != 0;
    dp.hidden[dp.hidden_count++] = (struct phys_range){ base, base + vtd_register_bytes(u) };
    log_info("%s: version %u.%u, %u-bit addresses, %s-level tables, pages 4K%s%s, "
             "%u fault record(s)%s\n", name, (u->version >> 4) & 0xF, u->version & 0xF,
             (unsigned)VTD_CAP_MGAW(u->cap), VTD_CAP_SAGAW(u->cap) & 4 ? "4" : "3",
             u->cap & VTD_CAP_SLLPS_2M ? " 2M" : "", u->cap & VTD_CAP_SLLPS_1G ? " 1G" : "",
             (unsigned)VTD_CAP_NFR(u->cap), u->ecap & VTD_ECAP_C ? "" : ", walks do not snoop");
    return true;
}

/* An AMD-Vi unit: its features; its register pages, to hide. false: not usable. */
static bool plan_amd_vi(uint32_t i, const char *name, uint64_t base)
{
    char err[160];
    struct amdvi_unit *u = &dp.amd[i];
    u->io = iommu_mmio_io(phys_to_virt(base));
    if (amdvi_probe(u, err, sizeof err) != 0) {
        log_warn("%s: %s; not used\n", name, err);
        return false;
    }
    dp.hidden[dp.hidden_count++] = (struct phys_range){ base, base + amdvi_register_bytes(u) };
    log_info("%s: extended features %#llx, %llu KiB of registers\n", name,
             (unsigned long long)u->efr, (unsigned long long)(amdvi_register_bytes(u) >> 10));
    return true;
}

/*
 * Whether the unit translates already: on UEFI, firmware that protects DMA
 * before boot (Intel's IntelVTdDxe, AMD's equivalent) still drives it, and
 * turns it off itself when the OS takes over; hidden registers would leave
 * that driver polling a dummy page.
 */
static bool translating_now(const struct iommu_tables *t, uint64_t base)
{
    struct iommu_io io = iommu_mmio_io(phys_to_virt(base));
    if (t->kind == IOMMU_VTD) {
        uint32_t gsts = io.read32(io.ctx, VTD_REG_GSTS);
        return gsts != 0xFFFFFFFFu && (gsts & VTD_GCMD_TE);
    }
    uint64_t control = io.read64(io.ctx, AMDVI_REG_CONTROL);
    return control != ~0ull && (control & AMDVI_CTL_IOMMU_EN);
}

void dma_protect_plan(const struct iommu_tables *t, bool firmware_runs)
{
    dp.tables = t;
    if (t->kind == IOMMU_NONE)
        return;
    /*
     * A unit that translates already is someone else's: on UEFI the firmware's; an AMD-Vi
     * one anywhere, as thinvisor cannot flush its caches. Then every unit is left alone and
     * the table visible: with some units hidden, the OS would drive a page of zeros.
     */
    for (uint32_t i = 0; i < t->unit_count; i++) {
        char name[64];
        uint64_t base = t->units[i].reg_base;
        if (base > REGION_LIMIT - AMDVI_MMIO_BYTES_PC ||
            !(firmware_runs || t->kind == IOMMU_AMD_VI) || !translating_now(t, base))
            continue;
        unit_name(i, name, sizeof name);
        log_warn("%s: translates already (%s); thinvisor leaves every unit to it\n", name,
                 firmware_runs ? "the firmware's DMA protection before boot"
                               : "thinvisor cannot flush an AMD-Vi unit's caches");
        dp.firmware_owns = true;
    }
    if (dp.firmware_owns)
        return;
    /* AMD-Vi takes 2 MiB and 1 GiB pages at levels 2 and 3 (48882, 2.2.3); VT-d says. */
    dp.has_2m = dp.has_1g = true;
    for (uint32_t i = 0; i < t->unit_count; i++) {
        char name[64];
        uint64_t base = t->units[i].reg_base;
        unit_name(i, name, sizeof name);
        if (base > REGION_LIMIT - AMDVI_MMIO_BYTES_PC) {   /* the low 4 GiB are mapped from the start */
            log_warn("%s: registers above what thinvisor maps; not used\n", name);
            continue;
        }
        dp.usable[i] = t->kind == IOMMU_VTD ? plan_vtd(i, name, base)
                                            : plan_amd_vi(i, name, base);
        /* A unit that cannot be used stays hidden all the same: the guest is not to take it over. */
        if (!dp.usable[i])
            dp.hidden[dp.hidden_count++] = (struct phys_range){ base, base + 0x1000 };
    }
}

uint32_t dma_protect_hidden(const struct phys_range **out)
{
    *out = dp.hidden;
    return dp.hidden_count;
}

/*
 * The DMA map: a table per 512 GiB and the PML4; where 1 GiB pages are
 * missing a PD per GiB, where 2 MiB pages are missing a PT per 2 MiB;
 * around each hole (the region, each unit's registers) a PD and a PT at
 * either edge. Each VT-d unit: its root and context table; AMD-Vi: one
 * device table (2 MiB) for every unit, and each its event log page.
 */
uint64_t dma_protect_budget(uint64_t top)
{
    if (!dp.tables || dp.tables->kind == IOMMU_NONE)
        return 0;
    uint64_t gib = (top + (1ull << 30) - 1) >> 30;
    /* + 2: a PD and a PT where [0, top) ends inside a GiB */
    uint64_t pages = 1 + (gib + 511) / 512 + 4 * (1 + dp.hidden_count) + 2;
    if (!dp.has_1g)
        pages += gib;
    if (!dp.has_2m)
        pages += gib * 512;
    if (dp.tables->kind == IOMMU_VTD)
        pages += 2 * dp.tables->unit_count;
    else                                /* one device table for all; an event log each */
        pages += AMDVI_DEVICE_IDS * AMDVI_DTE_BYTES / 4096 + dp.tables->unit_count;
    return pages * 4096;
}

/*
 * The DMAR or IVRS renamed in place (XMHF replaces the DMAR, BitVisor
 * zeroes its signature): an OS finds no IOMMU to take over. The checksum is
 * fixed so that the table stays valid ACPI under its new name.
 */
static void hide_table(void)
{
    uint8_t *table = phys_to_virt(dp.tables->table_phys);
    static const char dmar[4] = TV_HIDDEN_DMAR_SIGNATURE, ivrs[4] = TV_HIDDEN_IVRS_SIGNATURE;
    const char *hidden = dp.tables->kind == IOMMU_VTD ? dmar : ivrs;
    char was[5] = { 0 };
    memcpy(was, table, 4);
    uint8_t sum = table[9];
    for (int i = 0; i < 4; i++) {
        sum = (uint8_t)(sum + table[i] - (uint8_t)hidden[i]);
        table[i] = (uint8_t)hidden[i];
    }
    table[9] = sum;
    log_info("IOMMU: the %s at %#llx is hidden from the guest (signature now \"%.4s\")\n", was,
             (unsigned long long)dp.tables->table_phys, hidden);
}

/* The DMA map, [0, top) but the region and the registers, in the units' format. */
static int build_map(uint64_t top)
{
    static struct phys_range holes[IOMMU_MAX_UNITS + 1];
    holes[0] = (struct phys_range){ hv_memory.base, hv_memory.base + hv_memory.size };
    memcpy(&holes[1], dp.hidden, dp.hidden_count * sizeof holes[0]);
    dp.map = (struct ept){
        .alloc = &hv_memory.alloc, .phys_to_virt = hv_identity,
        .format = dp.tables->kind == IOMMU_VTD ? EPT_FORMAT_VTD : EPT_FORMAT_AMD_VI,
        .has_2m = dp.has_2m, .has_1g = dp.has_1g, .holes = holes,
        .hole_count = 1 + dp.hidden_count,
    };
    struct ept_stats st;
    if (ept_build_identity(&dp.map, top, NULL, &st) != 0)
        return -1;
    log_info("IOMMU: DMA map 0-%#llx, %llu table page(s), %llu x 1G, %llu x 2M, %llu x 4K; "
             "the hypervisor region and the units' registers not mapped\n",
             (unsigned long long)(top - 1), (unsigned long long)st.tables,
             (unsigned long long)st.pages[2][MT_WB], (unsigned long long)st.pages[1][MT_WB],
             (unsigned long long)st.pages[0][MT_WB]);
    return 0;
}

/* VT-d unit i translating through the DMA map: its own root and context table (its levels). */
static int start_vtd(uint32_t i, uint64_t top, char *err, size_t errlen)
{
    struct vtd_unit *u = &dp.vtd[i];
    int levels = vtd_levels(u, top);
    if (levels == 0) {
        fmt_snprintf(err, errlen, "its tables do not reach the top of memory %#llx",
                     (unsigned long long)top);
        return -1;
    }
    uint64_t slpt = dp.map.pml4;
    if (levels == 3)
        slpt = ((uint64_t *)hv_identity(dp.map.pml4))[0] & EPT_ADDR_MASK;
    uint64_t *root = hv_alloc_pages(2, "IOMMU root and context tables");
    uint64_t root_phys = virt_to_phys_identity(root);
    vtd_fill_root_and_context(root, root + 512, root_phys + 4096, slpt, levels, DOMAIN_ID);
    if (!(u->ecap & VTD_ECAP_C))
        wbinvd();                  /* its table walks do not snoop: the tables must be in RAM */
    if (vtd_enable(u, root_phys, err, errlen) != 0)
        return -1;
    dp.vtd_root[i] = root_phys;
    char name[64];
    unit_name(i, name, sizeof name);
    log_info("%s: translating, %d-level tables%s\n", name, levels,
             u->firmware_gsts & VTD_GCMD_TE ? " (the firmware had it translating; replaced)" : "");
    return 0;
}

/*
 * AMD-Vi unit i translating through the DMA map (4 levels): the one device
 * table every unit shares, made at the first, and an event log of its own.
 */
static int start_amd_vi(uint32_t i, char *err, size_t errlen)
{
    struct amdvi_unit *u = &dp.amd[i];
    if (!dp.amd_device_table) {
        uint64_t *t = hv_alloc_pages(AMDVI_DEVICE_IDS * AMDVI_DTE_BYTES / 4096,
                                     "AMD-Vi device table");
        amdvi_fill_device_table(t, dp.map.pml4, DOMAIN_ID);
        dp.amd_device_table = virt_to_phys_identity(t);
    }
    u->event_log = hv_alloc_pages(1, "AMD-Vi event logs");
    if (amdvi_enable(u, dp.amd_device_table, virt_to_phys_identity(u->event_log), err,
                     errlen) != 0)
        return -1;
    char name[64];
    unit_name(i, name, sizeof name);
    log_info("%s: translating, 4-level tables%s\n", name,
             u->firmware_control & AMDVI_CTL_IOMMU_EN ? " (the firmware had it translating; replaced)"
                                                      : "");
    return 0;
}

int dma_protect_start(uint64_t top, char *why, size_t whylen)
{
    if (!dp.tables || dp.tables->kind == IOMMU_NONE) {
        fmt_snprintf(why, whylen, "no usable DMAR or IVRS in the ACPI tables");
        return -1;
    }
    if (dp.firmware_owns) {
        fmt_snprintf(why, whylen, "the IOMMU translates already, for the firmware (or an OS "
                     "before): thinvisor leaves it, and its table visible");
        return -1;
    }
    hide_table();
    uint32_t usable = 0;
    for (uint32_t i = 0; i < dp.tables->unit_count; i++)
        usable += dp.usable[i];
    if (usable == 0) {
        fmt_snprintf(why, whylen, "no remapping unit can be used");
        return -1;
    }
    if (build_map(top) != 0) {
        fmt_snprintf(why, whylen, "the DMA map does not fit the hypervisor region");
        return -1;
    }
    for (uint32_t i = 0; i < dp.tables->unit_count; i++) {
        char err[160], name[64];
        if (!dp.usable[i])
            continue;
        int rc = dp.tables->kind == IOMMU_VTD ? start_vtd(i, top, err, sizeof err)
                                              : start_amd_vi(i, err, sizeof err);
        if (rc != 0) {
            unit_name(i, name, sizeof name);
            log_warn("%s: %s; devices behind it can reach the hypervisor region\n", name, err);
            continue;
        }
        dp.translating[i] = true;
        dp.state.units++;
    }
    if (dp.state.units == 0) {
        fmt_snprintf(why, whylen, "no remapping unit could be started");
        return -1;
    }
    dp.state.kind = dp.tables->kind;
    if (dp.state.units < dp.tables->unit_count + dp.tables->units_dropped) {
        fmt_snprintf(why, whylen, "%u of %u remapping unit(s) translate", dp.state.units,
                     dp.tables->unit_count + dp.tables->units_dropped);
        return -1;
    }
    return 0;
}

int dma_protect_resume(char *why, size_t whylen)
{
    uint32_t before = dp.state.units;
    for (uint32_t i = 0; i < IOMMU_MAX_UNITS && dp.tables; i++) {
        char err[160], name[64];
        if (!dp.translating[i])
            continue;
        if (dp.tables->kind == IOMMU_AMD_VI)
            memset(dp.amd[i].event_log, 0, 4096);    /* amdvi_enable wants it zeroed */
        int rc = dp.tables->kind == IOMMU_VTD
                     ? vtd_enable(&dp.vtd[i], dp.vtd_root[i], err, sizeof err)
                     : amdvi_enable(&dp.amd[i], dp.amd_device_table,
                                    virt_to_phys_identity(dp.amd[i].event_log), err, sizeof err);
        unit_name(i, name, sizeof name);
        if (rc != 0) {
            log_warn("%s: %s; devices behind it can reach the hypervisor region\n", name, err);
            dp.translating[i] = false;
            dp.state.units--;
            continue;
        }
        log_info("%s: translating again\n", name);
    }
    if (dp.state.units < before) {
        fmt_snprintf(why, whylen, "%u of the %u remapping unit(s) that translated before the "
                     "sleep translate again", dp.state.units, before);
        return -1;
    }
    return 0;
}

/* Logs a blocked DMA the first time its requester touches that page. */
static void note_fault(uint32_t unit, const struct iommu_fault *f)
{
    dp.state.faults++;
    dp.state.unit_faults[unit]++;
    for (uint32_t i = 0; i < dp.seen_count && i < SEEN_SOURCES; i++)
        if (dp.seen[i].source == f->source && dp.seen[i].page == f->address)
            return;
    if (dp.seen_count == SEEN_SOURCES) {
        if (dp.seen_count++ == SEEN_SOURCES)
            log_warn("IOMMU: more than %u blocked sources; the next are counted, not logged\n",
                     SEEN_SOURCES);
        return;
    }
    if (dp.seen_count > SEEN_SOURCES)
        return;
    dp.seen[dp.seen_count].source = f->source;
    dp.seen[dp.seen_count++].page = f->address;
    log_warn("IOMMU: unit %u blocked a DMA %s by %02x:%02x.%u at %#llx (%s)\n", unit,
             f->read ? "read" : "write", f->source >> 8, (f->source >> 3) & 0x1F,
             f->source & 7, (unsigned long long)f->address, f->why);
}

/*
 * One record (VT-d) or event (AMD-Vi) of unit i: 1 a fault, 2 something
 * else (AMD-Vi: logged once), 0 none left.
 */
static int take_one(uint32_t i, struct iommu_fault *f, bool *lost)
{
    if (dp.tables->kind == IOMMU_VTD)
        return vtd_take_fault(&dp.vtd[i], f, lost);
    return amdvi_take_event(&dp.amd[i], f, lost);
}

void dma_protect_poll(void)
{
    if (dp.state.units == 0 || __atomic_exchange_n(&dp.poll_lock, 1, __ATOMIC_ACQUIRE))
        return;
    for (uint32_t i = 0; i < dp.tables->unit_count; i++) {
        if (!dp.translating[i])
            continue;
        /*
         * A VT-d unit holds at most NFR records, an AMD-Vi log 256 events; a few more may
         * arrive while they are taken.
         */
        unsigned most = dp.tables->kind == IOMMU_VTD ? 2 * VTD_CAP_NFR(dp.vtd[i].cap)
                                                     : AMDVI_EVENT_LOG_ENTRIES + 16;
        for (unsigned n = 0; n < most; n++) {
            struct iommu_fault f;
            bool lost;
            int got = take_one(i, &f, &lost);
            if (lost && dp.state.lost++ == 0)
                log_warn("IOMMU: unit %u dropped faults: its records were full (reported "
                         "once; thinctl status counts them)\n", i);
            if (!got)
                break;
            if (got == 1) {
                note_fault(i, &f);
            } else {
                static bool logged;
                if (!logged)
                    log_warn("IOMMU: unit %u logged an event other than a page fault "
                             "(device %#x, %#llx); others are not logged\n", i, f.source,
                             (unsigned long long)f.address);
                logged = true;
            }
        }
    }
    __atomic_store_n(&dp.poll_lock, 0, __ATOMIC_RELEASE);
}

const struct dma_protect_state *dma_protect_state(void)
{
    return &dp.state;
}
