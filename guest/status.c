/*
 * The status area (abi/status.h): exit counters per CPU, times, and the
 * log ring, published read-only to the guest so that `thinctl` in a Linux
 * guest can read them through /dev/mem without VMCALL (which needs CPL 0).
 * The counters are not copies: the backends' exit dispatchers count straight
 * into the records here (vcpu.stats). The pages stay inside the hypervisor region, which the
 * guest's E820 map shows reserved; the EPT maps just these pages read-only
 * (every other page of the region stays unreachable).
 */
#include "guest/status.h"

#include "abi/exit_reason_names.h"
#include "guest/guest.h"
#include "iommu/dma_protect.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/percpu.h"

_Static_assert(TV_STATUS_EXIT_REASONS == EXIT_REASON_COUNT,
               "the published counters are the dispatcher's counters");

static struct tv_status *status;
static uint64_t status_phys, status_bytes, log_phys, log_bytes;

static struct tv_status_cpu *status_cpu(uint32_t index);

/* Before CPUID 0x40000002 answers: the IOMMU's fault records taken and its counters copied. */
static void status_refresh(void)
{
    dma_protect_poll();
    const struct dma_protect_state *d = dma_protect_state();
    status->dma_protection = d->kind == IOMMU_VTD ? TV_DMA_VTD :
                             d->kind == IOMMU_AMD_VI ? TV_DMA_AMD_VI : TV_DMA_NONE;
    status->dma_units = d->units;
    status->dma_faults = d->faults;
    status->dma_faults_lost = d->lost;
    for (uint32_t i = 0; i < TV_DMA_UNITS && i < IOMMU_MAX_UNITS; i++)
        status->dma_unit_faults[i] = d->unit_faults[i];
}

uint64_t status_pages(uint32_t ncpus)
{
    uint64_t bytes = sizeof(struct tv_status) + (uint64_t)ncpus * sizeof(struct tv_status_cpu);
    return (bytes + 4095) / 4096;
}

/* Maps [phys, phys + bytes) read-only and identically into the guest's EPT or NPT. */
static int publish(struct ept *tree, uint64_t phys, uint64_t bytes)
{
    for (uint64_t a = phys & ~0xFFFull; a < phys + bytes; a += 4096)
        if (ept_map_page(tree, a, a, MT_WB) != 0 ||
            ept_set_page_access(tree, a, EPT_READ) != 0)
            return -1;
    return 0;
}

int status_setup(struct ept *tree)
{
    uint64_t pages = status_pages(cpu_count);
    status = hv_alloc_pages((uint32_t)pages, "status area");
    status_phys = virt_to_phys_identity(status);
    status_bytes = pages * 4096;
    const void *ring = log_ring_pages(&log_bytes);
    log_phys = image_virt_to_phys(ring);
    *status = (struct tv_status){
        .magic = TV_STATUS_MAGIC, .abi_version = TV_STATUS_ABI_VERSION,
        .version = guest_version_word(), .cpu_count = cpu_count,
        .exit_reasons = TV_STATUS_EXIT_REASONS, .cpu_offset = sizeof(struct tv_status),
        .cpu_stride = sizeof(struct tv_status_cpu), .tsc_khz = tsc_khz(),
        .boot_tsc = tsc_boot(), .log_phys = log_phys, .log_bytes = log_bytes,
    };
    for (uint32_t i = 0; i < cpu_count; i++) {
        cpus[i]->vcpu.stats = status_cpu(i);
        cpus[i]->vcpu.stats->apic_id = cpus[i]->apic_id;
    }
    if (publish(tree, status_phys, status_bytes) != 0 || publish(tree, log_phys, log_bytes) != 0)
        return -1;
    guest_set_status_area(status_phys, status_bytes, log_phys, log_bytes);
    guest_set_status_refresh(status_refresh);
    log_info("status area: %#llx (%llu KiB) and log ring %#llx (%llu KiB), read-only for the "
             "guest (CPUID 0x40000002)\n", (unsigned long long)status_phys,
             (unsigned long long)(status_bytes >> 10), (unsigned long long)log_phys,
             (unsigned long long)(log_bytes >> 10));
    return 0;
}

static struct tv_status_cpu *status_cpu(uint32_t index)
{
    return (struct tv_status_cpu *)((char *)status + status->cpu_offset +
                                    (uint64_t)index * status->cpu_stride);
}

uint64_t status_exit_count(uint32_t cpu, uint32_t reason)
{
    if (!status || cpu >= status->cpu_count || reason >= EXIT_REASON_COUNT)
        return ~0ull;
    return status_cpu(cpu)->exits[reason];
}

void status_guest_launched(uint64_t tsc)
{
    status->launch_tsc = tsc;
}

void status_s3_resumed(uint64_t tsc_at_sleep, uint64_t tsc_now)
{
    uint64_t shift = tsc_now - tsc_at_sleep;          /* modulo 2^64: the TSC may have restarted */
    status->boot_tsc += shift;
    status->launch_tsc += shift;
    status->s3_resumes++;
}

void status_set_off_token(uint64_t token)
{
    status->off_token = token;
}

void status_cpu_left(void)
{
    __atomic_fetch_add(&status->cpus_left, 1, __ATOMIC_RELAXED);
}

void status_all_left(uint64_t tsc)
{
    status->off_tsc = tsc;
}

bool status_contains(uint64_t gpa)
{
    return (gpa >= status_phys && gpa < status_phys + status_bytes) ||
           (gpa >= (log_phys & ~0xFFFull) && gpa < log_phys + log_bytes);
}

const char *exit_reason_name(unsigned reason)
{
    if (reason < EXIT_REASON_COUNT && exit_reason_names[reason])
        return exit_reason_names[reason];
    return "unknown";
}

void status_log_exit_counts(void)
{
    for (uint32_t i = 0; i < cpu_count; i++) {
        const struct vcpu_state *v = &cpus[i]->vcpu;
        if (!v->stats)
            continue;
        log_info("exits: CPU %u: %llu in all\n", i, (unsigned long long)v->stats->exits_total);
        for (unsigned r = 0; r < EXIT_REASON_COUNT; r++)
            if (v->stats->exits[r])
                log_info("exits: CPU %u: %-22s %llu\n", i, exit_reason_name(r),
                         (unsigned long long)v->stats->exits[r]);
        if (v->hidden_accesses)
            log_info("exits: CPU %u: hidden-memory accesses %llu\n", i,
                     (unsigned long long)v->hidden_accesses);
        if (v->kicks)
            log_info("exits: CPU %u: NMI kicks %llu\n", i, (unsigned long long)v->kicks);
        if (v->stores_from_exit_bytes)
            log_info("exits: CPU %u: stores decoded from the exit's bytes %llu\n", i,
                     (unsigned long long)v->stores_from_exit_bytes);
    }
}

void status_exit_port_write(uint16_t port, unsigned size, uint32_t value)
{
    static bool reported;
    if (!reported) {
        reported = true;
        status_log_exit_counts();
    }
    if (size == 1)
        outb(port, (uint8_t)value);
    else
        outl(port, value);
}
