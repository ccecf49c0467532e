/*
 * guest/hypercall.c: the dispatcher of abi/hypercall.h, driven through its
 * environment with fakes (a region, a log ring, counters, a backend with and
 * without EPT state), as the kernel drives it with the real ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "abi/hypercall.h"
#include "guest/hypercall.h"

#define REGION_BASE 0x7F000000ull
#define REGION_SIZE 0x90000ull

static const char log_text[] = "thinvisor 0.1.0\nboot ok\n";
static uint8_t guest_ram[4096];           /* guest-physical 0x1000..0x1FFF, for LOG_READ */
static uint64_t copies;                   /* log_copy calls */

static uint64_t fake_log_copy(uint64_t offset, uint64_t gpa, uint32_t len)
{
    copies++;
    uint64_t n = 0;
    while (n < len && offset + n < sizeof log_text - 1 && gpa + n >= 0x1000 &&
           gpa + n < 0x1000 + sizeof guest_ram) {
        guest_ram[gpa + n - 0x1000] = (uint8_t)log_text[offset + n];
        n++;
    }
    return n;
}

static uint64_t fake_log_total(void) { return sizeof log_text - 1; }

static uint64_t fake_exit_count(uint32_t cpu, uint32_t reason)
{
    if (cpu >= 2 || reason >= 80)
        return ~0ull;
    return (uint64_t)cpu << 40 | (reason * 1000u + 7);
}

static bool fake_published(uint32_t index, uint64_t *base, uint64_t *size, uint32_t *kind)
{
    if (index < 1 || index > 2)
        return false;
    *base = REGION_BASE + index * 0x10000;
    *size = 0x1000 * index;
    *kind = index == 1 ? TV_MEM_STATUS : TV_MEM_LOG;
    return true;
}

static uint64_t fake_checksum(void) { return 0x1122334455667788ull; }

static bool fake_ept_generation(uint32_t cpu, uint64_t *flushed, uint64_t *current,
                                bool *in_guest)
{
    if (cpu >= 2)
        return false;
    *flushed = 5 + cpu;
    *current = 6;
    *in_guest = cpu == 1;
    return true;
}

static bool fake_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed)
{
    *now = 0xAAAA0000u + cpu;
    *boot = 0xAAAA0000u + cpu;
    *exposed = 0;
    return true;
}

/* The environment of the VT-x backend; SVM's has no EPT generation and no state check. */
static struct hypercall_env vmx_env(void)
{
    return (struct hypercall_env){
        .region_base = REGION_BASE, .region_size = REGION_SIZE, .version_word = 0x000100,
        .boot_checksum = 0x1122334455667788ull, .image_checksum = fake_checksum,
        .published_range = fake_published, .log_copy = fake_log_copy,
        .log_total = fake_log_total, .exit_count = fake_exit_count,
        .ept_generation = fake_ept_generation, .state_check = fake_state_check,
    };
}

static struct hypercall_regs call(const struct hypercall_env *env, uint64_t fn, uint64_t b,
                                  uint64_t c, uint64_t d, uint32_t cpu)
{
    struct hypercall_regs r = { fn, b, c, d };
    hypercall_dispatch(env, &r, cpu);
    return r;
}

static void version(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    struct hypercall_regs r = call(&env, TV_HC_VERSION, 0, 0, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, TV_ABI_VERSION);
    assert_int_equal(r.rcx, 0x000100);
}

static void exit_counts(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    struct hypercall_regs r = call(&env, TV_HC_EXIT_COUNT, 1, 10, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx << 32 | r.rcx, (1ull << 40) | 10007);  /* high:low */
    assert_int_equal(call(&env, TV_HC_EXIT_COUNT, 2, 10, 0, 0).rax, TV_STATUS_BAD_ARGUMENT);
    assert_int_equal(call(&env, TV_HC_EXIT_COUNT, 0, 80, 0, 0).rax, TV_STATUS_BAD_ARGUMENT);
}

/* LOG_READ copies into guest memory; a buffer that touches the region is refused unwritten. */
static void log_read(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    memset(guest_ram, 0, sizeof guest_ram);
    struct hypercall_regs r = call(&env, TV_HC_LOG_READ, 0x1000, 100, 10, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, sizeof log_text - 1 - 10);
    assert_int_equal(r.rcx, sizeof log_text - 1);
    assert_memory_equal(guest_ram, log_text + 10, sizeof log_text - 1 - 10);

    copies = 0;
    uint64_t bad[][2] = {
        { REGION_BASE, 16 },                       /* inside */
        { REGION_BASE - 8, 16 },                   /* across its start */
        { REGION_BASE + REGION_SIZE - 1, 1 },      /* its last byte */
        { 0x1000, HYPERCALL_LOG_READ_MAX + 1 },    /* more than the ring */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(call(&env, TV_HC_LOG_READ, bad[i][0], bad[i][1], 0, 0).rax,
                         TV_STATUS_BAD_ARGUMENT);
    assert_int_equal(copies, 0);
    /* Right below and right above the region are the guest's. */
    assert_int_equal(call(&env, TV_HC_LOG_READ, REGION_BASE - 16, 16, 0, 0).rax, TV_STATUS_OK);
    assert_int_equal(call(&env, TV_HC_LOG_READ, REGION_BASE + REGION_SIZE, 16, 0, 0).rax,
                     TV_STATUS_OK);
}

/* Arguments are 32-bit: a buffer address that wraps past 4 GiB is not a way around the check. */
static void log_read_wraps(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    env.region_base = 0xFFFF0000ull;
    env.region_size = 0x10000;
    copies = 0;
    assert_int_equal(call(&env, TV_HC_LOG_READ, 0xFFFFFFF0ull, 0x100, 0, 0).rax,
                     TV_STATUS_BAD_ARGUMENT);
    assert_int_equal(copies, 0);
}

static void memory_map(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    struct hypercall_regs r = call(&env, TV_HC_MEMORY_MAP, 0, 0, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, REGION_BASE);
    assert_int_equal(r.rcx, REGION_SIZE);
    assert_int_equal(r.rdx, TV_MEM_HYPERVISOR);
    r = call(&env, TV_HC_MEMORY_MAP, 2, 0, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, REGION_BASE + 0x20000);
    assert_int_equal(r.rdx, TV_MEM_LOG);
    assert_int_equal(call(&env, TV_HC_MEMORY_MAP, 3, 0, 0, 0).rax, TV_STATUS_BAD_ARGUMENT);
}

static void self_check(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    struct hypercall_regs r = call(&env, TV_HC_SELF_CHECK, 0, 0, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, 0x55667788u);
    assert_int_equal(r.rcx, 0x55667788u);
}

/* The backend's own answers: VT-x has them, SVM says the call is unknown or bad. */
static void backend_state(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    struct hypercall_regs r = call(&env, TV_HC_EPT_GENERATION, 1, 0, 0, 0);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, 6);
    assert_int_equal(r.rcx, 6);
    assert_int_equal(r.rdx, 1);
    assert_int_equal(call(&env, TV_HC_EPT_GENERATION, 7, 0, 0, 0).rax, TV_STATUS_BAD_ARGUMENT);
    r = call(&env, TV_HC_STATE_CHECK, 0, 0, 0, 1);
    assert_int_equal(r.rax, TV_STATUS_OK);
    assert_int_equal(r.rbx, 0xAAAA0001u);
    assert_int_equal(r.rbx, r.rcx);

    env.ept_generation = NULL;
    env.state_check = NULL;
    assert_int_equal(call(&env, TV_HC_EPT_GENERATION, 0, 0, 0, 0).rax, TV_STATUS_UNKNOWN_CALL);
    assert_int_equal(call(&env, TV_HC_STATE_CHECK, 0, 0, 0, 0).rax, TV_STATUS_BAD_ARGUMENT);
}

/* Unknown functions: a status, never a fault; the registers not named as results stay. */
static void unknown(void **state)
{
    (void)state;
    struct hypercall_env env = vmx_env();
    uint32_t fns[] = { 7, 0x100, 0xFFFFFFFFu };
    for (unsigned i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        struct hypercall_regs r = call(&env, fns[i], 0x11, 0x22, 0x33, 0);
        assert_int_equal(r.rax, TV_STATUS_UNKNOWN_CALL);
        assert_int_equal(r.rbx, 0x11);
        assert_int_equal(r.rcx, 0x22);
        assert_int_equal(r.rdx, 0x33);
    }
    /* Only EAX selects the function: garbage in RAX's upper half does not matter. */
    assert_int_equal(call(&env, 0xDEAD00000000ull | TV_HC_VERSION, 0, 0, 0, 0).rax, TV_STATUS_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version),
        cmocka_unit_test(exit_counts),
        cmocka_unit_test(log_read),
        cmocka_unit_test(log_read_wraps),
        cmocka_unit_test(memory_map),
        cmocka_unit_test(self_check),
        cmocka_unit_test(backend_state),
        cmocka_unit_test(unknown),
    };
    return cmocka_run_group_tests_name("hypercall", tests, NULL, NULL);
}
