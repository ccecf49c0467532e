/* The hypercall dispatcher: one case per function of abi/hypercall.h (see hypercall.h). */
#include "guest/hypercall.h"

#include "abi/hypercall.h"

static bool touches_region(const struct hypercall_env *env, uint64_t gpa, uint64_t len)
{
    uint64_t end = gpa + len;
    return end < gpa || (gpa < env->region_base + env->region_size && end > env->region_base);
}

static void log_read(const struct hypercall_env *env, struct hypercall_regs *r)
{
    uint64_t buf = (uint32_t)r->rbx, len = (uint32_t)r->rcx, offset = (uint32_t)r->rdx;
    if (len > HYPERCALL_LOG_READ_MAX || touches_region(env, buf, len)) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = env->log_copy(offset, buf, (uint32_t)len);
    r->rcx = (uint32_t)env->log_total();
    r->rax = TV_STATUS_OK;
}

static void exit_count(const struct hypercall_env *env, struct hypercall_regs *r)
{
    uint64_t n = env->exit_count((uint32_t)r->rbx, (uint32_t)r->rcx);
    if (n == ~0ull) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = n >> 32;
    r->rcx = (uint32_t)n;
    r->rax = TV_STATUS_OK;
}

static void ept_generation(const struct hypercall_env *env, struct hypercall_regs *r)
{
    uint64_t flushed, current;
    bool in_guest;
    if (!env->ept_generation) {
        r->rax = TV_STATUS_UNKNOWN_CALL;     /* SVM: no shared EPT, nothing to shoot down */
        return;
    }
    if (!env->ept_generation((uint32_t)r->rbx, &flushed, &current, &in_guest)) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = (uint32_t)flushed;
    r->rcx = (uint32_t)current;
    r->rdx = in_guest;
    r->rax = TV_STATUS_OK;
}

static void memory_map(const struct hypercall_env *env, struct hypercall_regs *r)
{
    uint64_t base = env->region_base, size = env->region_size;
    uint32_t kind = TV_MEM_HYPERVISOR;
    if ((uint32_t)r->rbx != 0 && !env->published_range((uint32_t)r->rbx, &base, &size, &kind)) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = base;
    r->rcx = (uint32_t)size;
    r->rdx = kind;
    r->rax = TV_STATUS_OK;
}

static void state_check(const struct hypercall_env *env, struct hypercall_regs *r, uint32_t cpu)
{
    uint64_t now, boot;
    uint32_t exposed;
    if (!env->state_check || !env->state_check(cpu, &now, &boot, &exposed)) {
        r->rax = TV_STATUS_BAD_ARGUMENT;
        return;
    }
    r->rbx = (uint32_t)now;
    r->rcx = (uint32_t)boot;
    r->rdx = exposed;
    r->rax = TV_STATUS_OK;
}

void hypercall_dispatch(const struct hypercall_env *env, struct hypercall_regs *r, uint32_t cpu)
{
    switch ((uint32_t)r->rax) {
    case TV_HC_VERSION:
        r->rbx = TV_ABI_VERSION;
        r->rcx = env->version_word;
        r->rax = TV_STATUS_OK;
        break;
    case TV_HC_EXIT_COUNT:
        exit_count(env, r);
        break;
    case TV_HC_LOG_READ:
        log_read(env, r);
        break;
    case TV_HC_MEMORY_MAP:
        memory_map(env, r);
        break;
    case TV_HC_SELF_CHECK:
        r->rbx = (uint32_t)env->image_checksum();
        r->rcx = (uint32_t)env->boot_checksum;
        r->rax = TV_STATUS_OK;
        break;
    case TV_HC_EPT_GENERATION:
        ept_generation(env, r);
        break;
    case TV_HC_STATE_CHECK:
        state_check(env, r, cpu);
        break;
    default:
        r->rax = TV_STATUS_UNKNOWN_CALL;
        break;
    }
}
