/*
 * The guest policy's ties to the running hypervisor: the environment the
 * hypercall dispatcher answers from (the region, the log ring, the status
 * area, the backend's state), the image checksum, and the end of a guest
 * CPU that cannot go on.
 */
#include "guest/guest.h"

#include "guest/backend.h"
#include "guest/hypercall.h"
#include "guest/status.h"
#include "kernel/checksum.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "mm/hv_memory.h"

extern const char kernel_image_start[], kernel_rodata_end[];

static struct hypercall_env env;

/* FNV-1a over code and read-only data: what a guest must never be able to change. */
uint64_t guest_image_checksum(void)
{
    return fnv1a64(FNV1A64_INIT, kernel_image_start,
                   (uint64_t)(kernel_rodata_end - kernel_image_start));
}

/* TV_HC_LOG_READ's copy: the dispatcher checked that the buffer avoids the region. */
static uint64_t log_copy(uint64_t offset, uint64_t gpa, uint32_t len)
{
    return log_ring_read(offset, phys_to_virt(gpa), len);
}

void guest_policy_start(const struct backend *b)
{
    env = (struct hypercall_env){
        .region_base = hv_memory.base, .region_size = hv_memory.size,
        .version_word = guest_version_word(), .boot_checksum = guest_image_checksum(),
        .image_checksum = guest_image_checksum, .published_range = guest_published_range,
        .log_copy = log_copy, .log_total = log_ring_total, .exit_count = status_exit_count,
        .ept_generation = b->ept_generation, .state_check = b->state_check,
    };
}

void guest_hypercall_regs(struct guest_regs *r, uint32_t cpu)
{
    struct hypercall_regs h = { r->rax, r->rbx, r->rcx, r->rdx };
    hypercall_dispatch(&env, &h, cpu);
    r->rax = h.rax;
    r->rbx = h.rbx;
    r->rcx = h.rcx;
    r->rdx = h.rdx;
}

void guest_stop_cpu(struct percpu *cpu)
{
    log_error("CPU %u: this processor is stopped; the others go on\n", cpu->index);
    __atomic_store_n(&cpu->vcpu.stopped, true, __ATOMIC_RELEASE);   /* kick_wait gives up on it */
    machine_stop(false);
}
