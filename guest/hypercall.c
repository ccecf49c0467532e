/*
 * The VMCALL interface (ABI in vmx/hypercall_abi.h). Arguments come from the
 * guest, so every index and every guest-physical buffer is checked: a buffer
 * that touches the hypervisor region is refused, never written.
 */
#include "guest/guest.h"

#include "kernel/log.h"
#include "kernel/string.h"
#include "mm/hv_memory.h"
#include "vmx/hypercall_abi.h"

extern const char kernel_image_start[], kernel_rodata_end[];

static const struct guest_backend_ops *backend;
static uint64_t boot_checksum;

void guest_set_backend(const struct guest_backend_ops *ops)
{
    backend = ops;
}

/* FNV-1a over code and read-only data: what a guest must never be able to change. */
uint64_t guest_image_checksum(void)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (const char *p = kernel_image_start; p < kernel_rodata_end; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001B3ull;
    return h;
}

void guest_record_boot_checksum(void)
{
    boot_checksum = guest_image_checksum();
}

static bool touches_region(uint64_t gpa, uint64_t len)
{
    uint64_t end = gpa + len;
    return end < gpa || (gpa < hv_memory.base + hv_memory.size && end > hv_memory.base);
}

static void hc_log_read(struct hypercall_regs *r)
{
    uint64_t buf = (uint32_t)r->rbx, len = (uint32_t)r->rcx, offset = (uint32_t)r->rdx;
    if (len > 65536 || touches_region(buf, len)) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = log_ring_read(offset, phys_to_virt(buf), len);
    r->rcx = (uint32_t)log_ring_total();
    r->rax = TV_STATUS_OK;
}

void guest_hypercall(struct hypercall_regs *r, uint32_t cpu)
{
    switch ((uint32_t)r->rax) {
    case TV_HC_VERSION:
        r->rbx = TV_ABI_VERSION;
        r->rcx = guest_version_word();
        r->rax = TV_STATUS_OK;
        break;
    case TV_HC_EXIT_COUNT: {
        uint64_t n = backend ? backend->exit_count((uint32_t)r->rbx, (uint32_t)r->rcx) : ~0ull;
        if (n == ~0ull) {
            r->rax = TV_STATUS_BAD_ARGUMENT;
            break;
        }
        r->rbx = n >> 32;
        r->rcx = (uint32_t)n;
        r->rax = TV_STATUS_OK;
        break;
    }
    case TV_HC_LOG_READ:
        hc_log_read(r);
        break;
    case TV_HC_EPT_GENERATION: {
        uint64_t flushed, current;
        bool in_guest;
        if (!backend || !backend->ept_generation) {
            r->rax = TV_STATUS_UNKNOWN_CALL;     /* SVM: no shared EPT, nothing to shoot down */
            break;
        }
        if (!backend->ept_generation((uint32_t)r->rbx, &flushed, &current, &in_guest)) {
            r->rax = TV_STATUS_BAD_ARGUMENT;
            break;
        }
        r->rbx = (uint32_t)flushed;
        r->rcx = (uint32_t)current;
        r->rdx = in_guest;
        r->rax = TV_STATUS_OK;
        break;
    }
    case TV_HC_MEMORY_MAP: {
        uint64_t base = hv_memory.base, size = hv_memory.size;
        uint32_t kind = TV_MEM_HYPERVISOR;
        if ((uint32_t)r->rbx != 0 && !guest_published_range((uint32_t)r->rbx, &base, &size, &kind)) {
            r->rax = TV_STATUS_BAD_ARGUMENT;
            break;
        }
        r->rbx = base;
        r->rcx = (uint32_t)size;
        r->rdx = kind;
        r->rax = TV_STATUS_OK;
        break;
    }
    case TV_HC_STATE_CHECK: {
        uint64_t now, boot;
        uint32_t exposed;
        if (!backend || !backend->state_check || !backend->state_check(cpu, &now, &boot, &exposed)) {
            r->rax = TV_STATUS_BAD_ARGUMENT;
            break;
        }
        r->rbx = (uint32_t)now;
        r->rcx = (uint32_t)boot;
        r->rdx = exposed;
        r->rax = TV_STATUS_OK;
        break;
    }
    case TV_HC_SELF_CHECK:
        r->rbx = (uint32_t)guest_image_checksum();
        r->rcx = (uint32_t)boot_checksum;
        r->rax = TV_STATUS_OK;
        break;
    default:
        r->rax = TV_STATUS_UNKNOWN_CALL;
        break;
    }
}
