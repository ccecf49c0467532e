/*
 * Setting up the hypervisor region. GRUB loaded the image at 2 MiB, in memory
 * the guest's boot chain will reuse; this moves it into the region chosen at
 * the top of RAM, where it stays out of the guest's way (copy and jump: see
 * docs/design.md, "Memory layout", for why not the multiboot2 relocatable tag).
 */
#include "mm/hv_memory.h"

#include <stdbool.h>

#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/string.h"
#include "kernel/x86.h"

extern char kernel_image_start[], kernel_image_end[];
extern char boot_end_phys[];
void relocate_image(uint64_t dst, uint64_t src, uint64_t len, uint64_t cr3);

struct hv_memory hv_memory;

/*
 * Pages handed out by hv_alloc_pages, by purpose, so that the region's use can be
 * logged by what it is for (make bench reads the "region use:" lines). Callers pass
 * string literals, so a purpose is known by its pointer.
 */
#define HV_PURPOSE_MAX 16
static struct { const char *purpose; uint32_t pages; } purpose_pages[HV_PURPOSE_MAX];
static uint32_t tallied_pages;      /* pages counted in purpose_pages */
static uint32_t page_table_pages;   /* the hypervisor's own page tables, built at setup */

void *hv_identity(uint64_t phys)
{
    return phys_to_virt(phys);
}

static bool cpu_has_1g_pages(void)
{
    if (cpuid(0x80000000, 0).eax < 0x80000001)
        return false;
    return cpuid(0x80000001, 0).edx & (1u << 26);     /* Page1GB */
}

void *hv_alloc_pages(uint32_t count, const char *purpose)
{
    uint64_t phys = page_alloc_pages(&hv_memory.alloc, count);
    if (!phys)
        panic("hypervisor region exhausted allocating %u page(s) for %s (%u of %u pages used)",
              count, purpose, hv_memory.alloc.used, hv_memory.alloc.npages);
    for (uint32_t i = 0; i < HV_PURPOSE_MAX; i++) {
        if (purpose_pages[i].purpose && purpose_pages[i].purpose != purpose)
            continue;
        purpose_pages[i].purpose = purpose;
        purpose_pages[i].pages += count;
        tallied_pages += count;
        break;
    }
    return memset(phys_to_virt(phys), 0, (size_t)count * PAGE_SIZE);
}

int hv_memory_setup(const struct mb2_info *mbi, uint64_t info_phys, uint32_t ncpus,
                    uint64_t per_cpu_bytes, uint64_t shared_bytes,
                    const struct firmware_memory *fw, uint64_t fw_below)
{
    struct hv_memory *m = &hv_memory;
    uint64_t image = (uint64_t)(kernel_image_end - kernel_image_start);
    bool huge = cpu_has_1g_pages();
    uint64_t top = region_phys_top(mbi->mmap, mbi->mmap_count);
    region_budget(&m->budget, image, top, huge, ncpus, per_cpu_bytes, shared_bytes);

    /* Memory still in use until the move: the boot info, the modules, the image itself. */
    struct phys_range exclude[REGION_MAX_EXCLUDE];
    uint32_t n = 0;
    exclude[n++] = (struct phys_range){ info_phys, info_phys + mbi->total_size };
    exclude[n++] = (struct phys_range){ KERNEL_LOAD, KERNEL_LOAD + image };
    exclude[n++] = (struct phys_range){ 1 * MIB, (uint64_t)(uintptr_t)boot_end_phys };
    for (uint32_t i = 0; i < mbi->module_count; i++)
        exclude[n++] = (struct phys_range){ mbi->modules[i].start, mbi->modules[i].end };

    struct region_request req = {
        .mmap = mbi->mmap, .mmap_count = mbi->mmap_count,
        .exclude = exclude, .exclude_count = n,
        .size = m->budget.total, .align = PAGE_SIZE,
    };
    uint64_t largest;
    m->firmware = fw;
    if (fw) {
        if (fw->alloc_region(m->budget.total / PAGE_SIZE, fw_below, &m->base) != 0)
            return -1;
    } else if (region_choose(&req, &m->base, &largest) != 0) {
        panic("not enough usable RAM for the hypervisor region: it needs %llu KiB in one "
              "block between 1 MiB and 4 GiB; the largest free block is %llu KiB",
              (unsigned long long)(m->budget.total >> 10), (unsigned long long)(largest >> 10));
    }
    m->size = m->budget.total;
    log_info("region: %#llx-%#llx (%llu KiB): image %llu KiB, page tables %llu KiB, "
             "per-CPU %llu KiB (CPUs: %u), shared %llu KiB\n",
             (unsigned long long)m->base, (unsigned long long)(m->base + m->size - 1),
             (unsigned long long)(m->size >> 10), (unsigned long long)(m->budget.image >> 10),
             (unsigned long long)(m->budget.page_tables >> 10),
             (unsigned long long)(m->budget.per_cpu >> 10), ncpus,
             (unsigned long long)(m->budget.shared >> 10));
    if (m->base < REGION_PREFERRED_BASE)
        log_warn("region lies below 64 MiB, where boot loaders and kernels may want to load\n");

    page_alloc_init(&m->alloc, m->base + m->budget.image, m->size - m->budget.image);
    m->pt = (struct pt_ctx){ &m->alloc, hv_identity };
    m->pml4 = pt_new_table(&m->pt);
    uint64_t id_page = huge ? GIB : 2 * MIB;
    m->identity_top = (top + GIB - 1) & ~(GIB - 1);
    if (!m->pml4 ||
        pt_map(&m->pt, m->pml4, 0, 0, m->identity_top, id_page, PTE_WRITABLE) ||
        pt_map(&m->pt, m->pml4, KERNEL_VBASE, m->base, m->budget.image, PAGE_SIZE,
               PTE_WRITABLE))
        panic("page tables do not fit the region budget (%llu KiB)",
              (unsigned long long)(m->budget.page_tables >> 10));
    page_table_pages = m->alloc.used;
    log_info("page tables: identity map 0-%#llx with %s pages, image at %#llx\n",
             (unsigned long long)(m->identity_top - 1), huge ? "1 GiB" : "2 MiB",
             (unsigned long long)KERNEL_VBASE);

    /* Nothing may be written to memory between this copy and the CR3 load: see mm/relocate.asm. */
    relocate_image(m->base, KERNEL_LOAD, image, m->pml4);
    log_info("running from the hypervisor region\n");
    return 0;
}

/*
 * Logs what the region holds, one "region use:" line per purpose, in KiB: the
 * image (with the log ring in its bss), the hypervisor's page tables, each
 * hv_alloc_pages purpose, the EPT (every other page taken from the allocator:
 * the EPT builder and its splits allocate directly) and what is still free.
 */
void hv_memory_log_use(void)
{
    const struct hv_memory *m = &hv_memory;
    uint32_t ept = m->alloc.used - tallied_pages - page_table_pages;
    log_info("region use: %-20s %6llu KiB (log ring %u KiB)\n", "image",
             (unsigned long long)(m->budget.image >> 10), LOG_RING_SIZE / 1024);
    log_info("region use: %-20s %6u KiB\n", "page tables", page_table_pages * 4);
    for (uint32_t i = 0; i < HV_PURPOSE_MAX && purpose_pages[i].purpose; i++)
        log_info("region use: %-20s %6u KiB\n", purpose_pages[i].purpose,
                 purpose_pages[i].pages * 4);
    log_info("region use: %-20s %6u KiB\n", "EPT", ept * 4);
    log_info("region use: %-20s %6u KiB\n", "free", (m->alloc.npages - m->alloc.used) * 4);
    log_info("region use: %-20s %6llu KiB\n", "total", (unsigned long long)(m->size >> 10));
}

bool hv_read_guest_phys(uint64_t gpa, void *buf, unsigned len, void *ctx)
{
    (void)ctx;
    if (gpa + len < gpa || gpa + len > hv_memory.identity_top || hv_region_overlaps(gpa, len))
        return false;
    if (len == sizeof(uint64_t))
        __builtin_memcpy(buf, phys_to_virt(gpa), sizeof(uint64_t));   /* a paging entry: one move */
    else
        memcpy(buf, phys_to_virt(gpa), len);
    return true;
}
