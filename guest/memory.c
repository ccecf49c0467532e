/* The guest's identity map, shared by every CPU and every backend (see memory.h). */
#include "guest/memory.h"

#include "guest/status.h"
#include "iommu/dma_protect.h"
#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "mm/mtrr_msr.h"
#include "smp/lapic.h"

struct guest_memory guest_memory;

uint64_t guest_memory_budget(uint64_t top, uint32_t ncpus)
{
    uint64_t vcnt = 0;
    if (cpuid(1, 0).edx & (1u << 12))                 /* MTRR */
        vcnt = rdmsr(MSR_IA32_MTRRCAP) & MTRRCAP_VCNT_MASK;
    const struct phys_range *iommu_regs;
    uint64_t holes = dma_protect_hidden(&iommu_regs);
    uint64_t tables = 1 + (top + (512ull << 30) - 1) / (512ull << 30) + 2 * (2 * vcnt + 6) + 16 +
                      4 * holes;
    return (tables + 1 + status_pages(ncpus)) * 4096;     /* + 1: the dummy page */
}

/* The summary the boot log and make bench read: table pages, then leaves by size and type. */
static void log_summary(const char *name, const struct ept_stats *st, uint64_t top)
{
    static const char *const sizes[3] = { "4K", "2M", "1G" };
    log_info("%s: identity map 0-%#llx, %llu table page(s); hypervisor region %#llx-%#llx "
             "not mapped\n", name, (unsigned long long)(top - 1),
             (unsigned long long)st->tables, (unsigned long long)hv_memory.base,
             (unsigned long long)(hv_memory.base + hv_memory.size - 1));
    for (int s = 2; s >= 0; s--)
        for (int t = 0; t < 8; t++)
            if (st->pages[s][t])
                log_info("%s: %6llu x %s %s\n", name, (unsigned long long)st->pages[s][t],
                         sizes[s], mem_type_name((uint8_t)t));
}

const char *guest_memory_tree_name(void)
{
    return guest_memory.tree.format == EPT_FORMAT_NPT ? "NPT" : "EPT";
}

int guest_memory_setup(uint64_t top, bool npt, bool has_2m, bool has_1g)
{
    struct guest_memory *m = &guest_memory;
    const char *name = npt ? "NPT" : "EPT";
    /* The region, and the IOMMU's registers: the guest must not reprogram the units. */
    static struct phys_range holes[1 + IOMMU_MAX_UNITS];
    const struct phys_range *iommu_regs;
    uint32_t n = dma_protect_hidden(&iommu_regs);
    holes[0] = (struct phys_range){ hv_memory.base, hv_memory.base + hv_memory.size };
    for (uint32_t i = 0; i < n; i++)
        holes[1 + i] = iommu_regs[i];
    m->dummy_page = virt_to_phys_identity(hv_alloc_pages(1, "dummy page"));
    mtrr_read_current(&m->mtrr);
    m->tree = (struct ept){
        .alloc = &hv_memory.alloc, .phys_to_virt = hv_identity, .format = npt ? EPT_FORMAT_NPT : EPT_FORMAT_EPT,
        .has_2m = has_2m, .has_1g = has_1g, .holes = holes, .hole_count = 1 + n,
    };
    struct ept_stats st;
    if (ept_build_identity(&m->tree, top, &m->mtrr, &st) != 0) {
        log_error("%s: out of memory in the hypervisor region\n", name);
        return -1;
    }
    m->mapped_top = top;
    log_summary(name, &st, top);
    if (status_setup(&m->tree) != 0) {
        log_error("%s: no room to publish the status area\n", name);
        return -1;
    }
    return 0;
}

int guest_memory_protect_apic_page(void)
{
    struct guest_memory *m = &guest_memory;
    uint64_t page = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
    if ((page >= m->mapped_top && ept_map_on_demand(&m->tree, page, &m->mtrr) != 0) ||
        ept_set_page_access(&m->tree, page, EPT_READ | EPT_EXEC) != 0) {
        log_error("%s: no room to write-protect the local APIC page\n",
                  guest_memory_tree_name());
        return -1;
    }
    m->apic_page = page;
    return 0;
}

bool guest_memory_is_hidden(uint64_t gpa)
{
    const struct ept *t = &guest_memory.tree;
    for (uint32_t i = 0; i < t->hole_count; i++)
        if (gpa >= t->holes[i].start && gpa < t->holes[i].end)
            return true;
    return false;
}

uint32_t guest_memory_hidden_pages_reachable(void)
{
    const struct ept *t = &guest_memory.tree;
    uint32_t n = 0;
    for (uint32_t i = 0; i < t->hole_count; i++)
        for (uint64_t gpa = t->holes[i].start; gpa < t->holes[i].end; gpa += 4096) {
            uint64_t hpa;
            if (ept_lookup(t, gpa, &hpa, NULL, NULL, NULL) &&
                hpa != guest_memory.dummy_page && !status_contains(gpa))
                n++;
        }
    return n;
}
