/*
 * Device DMA under thinvisor (issue 26): QEMU's `edu` PCI device (its
 * docs/specs/edu.txt: a DMA engine with a 4 KiB buffer at device address
 * 0x40000) copies between memory and its buffer. Through the IOMMU
 * thinvisor owns, a usable page is reachable and the hypervisor region is
 * not, whatever the guest did to the unit's registers; the DMAR the unit
 * came from is hidden. Without an edu device the DMA checks say SKIP.
 */
#include "tests/guest/guest.h"
#include "tests/edu_regs.h"

#define EDU_WAIT_READS      200000000u      /* its DMA takes 100 ms of QEMU's virtual clock */

#define PCI_CONFIG_ADDRESS  0xCF8
#define PCI_CONFIG_DATA     0xCFC
#define PCI_COMMAND_MEMORY  (1u << 1)
#define PCI_COMMAND_MASTER  (1u << 2)

/*
 * The registers a guest would write to turn translation off: VT-d's global command
 * (VT-d 3.x, 11.4.4), AMD-Vi's control (AMD IOMMU spec 48882, 3.4.5).
 */
#define VTD_REG_GCMD        0x18
#define AMDVI_REG_CONTROL   0x18

static uint32_t pci_read(uint32_t devfn, uint32_t off)
{
    outl(PCI_CONFIG_ADDRESS, 0x80000000u | devfn << 8 | (off & 0xFC));
    return inl(PCI_CONFIG_DATA);
}

static void pci_write(uint32_t devfn, uint32_t off, uint32_t v)
{
    outl(PCI_CONFIG_ADDRESS, 0x80000000u | devfn << 8 | (off & 0xFC));
    outl(PCI_CONFIG_DATA, v);
}

static volatile uint32_t *edu;             /* its BAR 0 */
static uint32_t edu_devfn;

/* The edu device on bus 0, memory decoding and bus mastering on; 0 when there is none. */
static int find_edu(void)
{
    for (uint32_t devfn = 0; devfn < 256; devfn++) {
        if (pci_read(devfn, 0) != ((uint32_t)EDU_DEVICE << 16 | EDU_VENDOR))
            continue;
        uint32_t bar = pci_read(devfn, 0x10) & ~0xFu;
        if (!bar)
            return 0;
        pci_write(devfn, 0x04, pci_read(devfn, 0x04) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        edu = phys_at(bar);
        edu_devfn = devfn;
        return edu[EDU_IDENT / 4] == EDU_IDENT_VALUE;
    }
    return 0;
}

/* One transfer of n bytes between memory at addr and the buffer; 0 once it finished. */
static int edu_dma(uint32_t addr, uint32_t n, int to_ram)
{
    edu[EDU_DMA_SRC / 4] = to_ram ? EDU_BUFFER : addr;
    edu[EDU_DMA_DST / 4] = to_ram ? addr : EDU_BUFFER;
    edu[EDU_DMA_COUNT / 4] = n;
    edu[EDU_DMA_CMD / 4] = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
    for (uint32_t i = 0; i < EDU_WAIT_READS; i++)
        if (!(edu[EDU_DMA_CMD / 4] & EDU_CMD_START))
            return 0;
    return -1;
}

/* The status area's header (CPUID 0x40000002 first: it takes the IOMMU's fault records). */
static const volatile struct tv_status *status(void)
{
    struct cpuid_regs c = cpuid(TV_CPUID_STATUS_LEAF);
    if (c.edx != TV_STATUS_ABI_VERSION || c.ecx < sizeof(struct tv_status))
        return NULL;
    return phys_at(c.eax);
}

/*
 * The IOMMU's ACPI table (DMAR, IVRS) is not there for an OS to find: only under
 * thinvisor's signature, checksum valid. *vtd: which kind the machine has.
 */
static const uint8_t *check_table_hidden(int *vtd)
{
    const char *name = "the IOMMU's ACPI table is hidden from the guest";
    const uint8_t *dmar = acpi_find("DMAR", NULL), *ivrs = acpi_find("IVRS", NULL);
    const uint8_t *tvdr = acpi_find(TV_HIDDEN_DMAR_SIGNATURE, NULL);
    const uint8_t *tvir = acpi_find(TV_HIDDEN_IVRS_SIGNATURE, NULL);
    *vtd = tvdr || dmar;
    if (dmar || ivrs)
        fail(name, "an OS finds the %s at 0x%08x", dmar ? "DMAR" : "IVRS",
             (uint32_t)(dmar ? dmar : ivrs));
    else if (!tvdr && !tvir)
        skip(name, "no DMAR or IVRS on this machine");
    else
        pass(name);
    return tvdr ? tvdr : tvir;
}

/*
 * What a guest that wants the IOMMU back would do: the first unit's register that turns
 * translation off, from the (hidden) table, written with 0. The page shows a dummy; the
 * write changes nothing. The DMAR's DRHD and the IVRS's IVHD both hold the base at +8.
 */
static void try_turning_translation_off(const uint8_t *table, int vtd)
{
    /* Both tables: a 36-byte header and 12 bytes of their own, then the structures. */
    for (uint32_t off = 48; table && off + 16 <= get32(table + 4);) {
        uint8_t type = table[off];
        uint16_t len = (uint16_t)(table[off + 2] | table[off + 3] << 8);
        if (len < 4)
            return;
        if (vtd ? type == 0 : (type == 0x10 || type == 0x11 || type == 0x40)) {
            uint32_t base = (uint32_t)get64(table + off + 8);
            uint32_t first_reg = 0;
            int v = probe_read(&first_reg, base, 4);
            int w = probe_store(base + (vtd ? VTD_REG_GCMD : AMDVI_REG_CONTROL), 0);
            kprintf("guest: IOMMU registers at 0x%08x: the first reads 0x%x (%s), writing "
                    "translation off: %s\n", base, first_reg,
                    v >= 0 ? exception_name(v) : "no fault", w >= 0 ? exception_name(w) : "no fault");
            return;
        }
        off += len;
    }
}

static uint8_t usable_src[64] __attribute__((aligned(64)));
static uint8_t usable_dst[64] __attribute__((aligned(64)));

/* A usable page goes to the device and back unchanged. */
static int check_usable_page(void)
{
    const char *name = "device DMA to and from a usable page works";
    for (unsigned i = 0; i < sizeof usable_src; i++)
        usable_src[i] = (uint8_t)(0xA5 ^ i);
    memset(usable_dst, 0, sizeof usable_dst);
    if (edu_dma((uint32_t)usable_src, sizeof usable_src, 0) != 0 ||
        edu_dma((uint32_t)usable_dst, sizeof usable_dst, 1) != 0) {
        fail(name, "the edu device's DMA did not finish");
        return 0;
    }
    if (memcmp(usable_src, usable_dst, sizeof usable_src) != 0) {
        fail(name, "the copy through the device differs (first byte 0x%02x, want 0x%02x)",
             usable_dst[0], usable_src[0]);
        return 0;
    }
    pass(name);
    return 1;
}

#define COUNTED "the IOMMU's blocked accesses are counted"

/*
 * The region's first bytes (the image's magic) read by the device, then
 * written by it: the read brings something else, the write leaves the
 * image's checksum as it was; then, a check of its own, the IOMMU counted
 * both as blocked.
 */
static void check_region_unreachable(uint32_t region_base, const uint8_t *table, int vtd)
{
    const char *name = "device DMA cannot reach the hypervisor region";
    const volatile struct tv_status *st = status();
    if (!st) {
        fail(name, "no status area (CPUID 0x40000002)");
        return;
    }
    uint64_t faults = st->dma_faults;
    try_turning_translation_off(table, vtd);
    if (edu_dma(region_base, 16, 0) != 0 || edu_dma((uint32_t)usable_dst, 16, 1) != 0) {
        fail(name, "the edu device's DMA did not finish");
        return;
    }
    if (memcmp(usable_dst, TV_IMAGE_MAGIC, 16) == 0) {
        fail(name, "the device read the hypervisor image's magic at 0x%08x", region_base);
        return;
    }
    /*
     * CPUID 0x40000002 takes the fault records now: a unit may keep one record per
     * requester and fold its next faults into it (QEMU's has one record and does).
     */
    uint64_t after_read = status()->dma_faults;
    memset(usable_src, 0x5A, 16);
    if (edu_dma((uint32_t)usable_src, 16, 0) != 0 || edu_dma(region_base, 16, 1) != 0) {
        fail(name, "the edu device's DMA did not finish");
        return;
    }
    struct hc r = { TV_HC_SELF_CHECK, 0, 0, 0 };
    int v = vmcall(&r);
    if (v >= 0 || r.eax != TV_STATUS_OK || r.ebx != r.ecx) {
        fail(name, "after the device's write SELF_CHECK gives image checksum 0x%08x, 0x%08x at "
             "boot", r.ebx, r.ecx);
        return;
    }
    st = status();
    if (st->dma_protection == TV_DMA_NONE) {
        fail(name, "blocked, but the status area says there is no DMA protection");
        return;
    }
    kprintf("guest: DMA protection %u, %u unit(s), %u fault(s) blocked, %u lost\n",
            st->dma_protection, st->dma_units, (uint32_t)st->dma_faults,
            (uint32_t)st->dma_faults_lost);
    pass(name);
    if (after_read != faults && st->dma_faults != after_read)
        pass(COUNTED);
    else if (st->dma_protection == TV_DMA_AMD_VI && st->dma_faults == faults)
        /* The edu device exists only in QEMU: this is QEMU's AMD-Vi. */
        skip(COUNTED, "QEMU 7.2's AMD-Vi logs no event when a page-table entry is all zeros "
             "(amdvi_page_walk returns before its fault path), so nothing reaches the log");
    else
        fail(COUNTED, "thinvisor counted %u fault(s) for the read, %u for the write",
             (uint32_t)(after_read - faults), (uint32_t)(st->dma_faults - after_read));
}

void dma_checks(int hv, uint32_t region_base)
{
    const char *usable = "device DMA to and from a usable page works";
    const char *region = "device DMA cannot reach the hypervisor region";
    if (!hv) {
        skip("the IOMMU's ACPI table is hidden from the guest", "no hypervisor");
        skip(usable, "no hypervisor");
        skip(region, "no hypervisor");
        skip(COUNTED, "no hypervisor");
        return;
    }
    int vtd;
    const uint8_t *table = check_table_hidden(&vtd);
    if (!find_edu()) {
        skip(usable, "no edu PCI device");
        skip(region, "no edu PCI device");
        skip(COUNTED, "no edu PCI device");
        return;
    }
    kprintf("guest: edu device at 00:%02x.%u, registers at 0x%08x\n", edu_devfn >> 3,
            edu_devfn & 7, (uint32_t)edu);
    if (check_usable_page() && region_base)
        check_region_unreachable(region_base, table, vtd);
    else if (!region_base)
        skip(region, "the hypervisor region is not known");
    if (!region_base)
        skip(COUNTED, "the hypervisor region is not known");
}
