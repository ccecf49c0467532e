/*
 * The status area (vmx/status_abi.h): exit counters per CPU, times, and the
 * log ring, published read-only to the guest so that `thinctl` in a Linux
 * guest can read them through /dev/mem without VMCALL (which needs CPL 0).
 * The counters are not copies: vmx_exit_dispatch counts straight into the
 * records here. The pages stay inside the hypervisor region, which the
 * guest's E820 map shows reserved; the EPT maps just these pages read-only
 * (every other page of the region stays unreachable).
 */
#include "guest/guest.h"
#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "vmx/status_abi.h"
#include "vmx/vmx.h"

_Static_assert(TV_STATUS_EXIT_REASONS == EXIT_REASON_COUNT,
               "the published counters are the dispatcher's counters");

static struct tv_status *status;
static uint64_t status_phys, status_bytes, log_phys, log_bytes;

uint64_t vmx_status_pages(uint32_t ncpus)
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

int vmx_status_setup(struct ept *tree)
{
    uint64_t pages = vmx_status_pages(cpu_count);
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
    for (uint32_t i = 0; i < cpu_count; i++)
        vmx_status_cpu(i)->apic_id = cpus[i]->apic_id;
    if (publish(tree, status_phys, status_bytes) != 0 || publish(tree, log_phys, log_bytes) != 0)
        return -1;
    guest_set_status_area(status_phys, status_bytes, log_phys, log_bytes);
    log_info("status area: %#llx (%llu KiB) and log ring %#llx (%llu KiB), read-only for the "
             "guest (CPUID 0x40000002)\n", (unsigned long long)status_phys,
             (unsigned long long)(status_bytes >> 10), (unsigned long long)log_phys,
             (unsigned long long)(log_bytes >> 10));
    return 0;
}

struct tv_status_cpu *vmx_status_cpu(uint32_t index)
{
    return (struct tv_status_cpu *)((char *)status + status->cpu_offset +
                                    (uint64_t)index * status->cpu_stride);
}

uint64_t vmx_status_exit_count(uint32_t cpu, uint32_t reason)
{
    if (!status || cpu >= status->cpu_count || reason >= EXIT_REASON_COUNT)
        return ~0ull;
    return vmx_status_cpu(cpu)->exits[reason];
}

void vmx_status_guest_launched(uint64_t tsc)
{
    status->launch_tsc = tsc;
}

bool vmx_status_contains(uint64_t gpa)
{
    return (gpa >= status_phys && gpa < status_phys + status_bytes) ||
           (gpa >= (log_phys & ~0xFFFull) && gpa < log_phys + log_bytes);
}
