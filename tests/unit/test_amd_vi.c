/*
 * iommu/amd_vi.c against a model of an AMD-Vi IOMMU: registers kept as
 * written (the event log's head and tail, the overflow flag RW1C), an
 * event log the test fills as the unit would, a unit that never answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/amd_vi.h"
#include "iommu/amd_vi_regs.h"

static uint64_t regs[0x3000 / 8];
static int dead, deaf;                 /* reads all-ones; writes change nothing */
static struct amdvi_unit u;
static char err[160];
static uint64_t log_page[512];

static uint64_t model_read64(void *ctx, unsigned off)
{
    (void)ctx;
    return dead ? ~0ull : regs[off / 8];
}

static uint32_t model_read32(void *ctx, unsigned off)
{
    return (uint32_t)(model_read64(ctx, off & ~7u) >> (off & 4 ? 32 : 0));
}

static void model_write64(void *ctx, unsigned off, uint64_t v)
{
    (void)ctx;
    if (deaf)
        return;
    if (off == AMDVI_REG_STATUS)
        regs[off / 8] &= ~(v & AMDVI_STATUS_EVENT_OVF);
    else
        regs[off / 8] = v;
}

static void model_write32(void *ctx, unsigned off, uint32_t v)
{
    (void)ctx, (void)off, (void)v;
    fail_msg("amd_vi.c writes its registers 64 bits at a time");
}

static int setup(void **state)
{
    (void)state;
    memset(regs, 0, sizeof regs);
    memset(log_page, 0, sizeof log_page);
    dead = deaf = 0;
    regs[AMDVI_REG_EFR / 8] = 0x29d3;                      /* QEMU 7.2's */
    u = (struct amdvi_unit){ .io = { model_read32, model_read64, model_write32, model_write64,
                                     NULL } };
    return 0;
}

static void probe(void **state)
{
    (void)state;
    assert_int_equal(amdvi_probe(&u, err, sizeof err), 0);
    assert_int_equal(u.efr, 0x29d3);
    assert_int_equal(amdvi_register_bytes(&u), 16 * 1024);
    regs[AMDVI_REG_EFR / 8] |= AMDVI_EFR_PC;
    assert_int_equal(amdvi_probe(&u, err, sizeof err), 0);
    assert_int_equal(amdvi_register_bytes(&u), 512 * 1024);
    dead = 1;
    assert_int_equal(amdvi_probe(&u, err, sizeof err), -1);
    assert_non_null(strstr(err, "do not answer"));
}

/* Every device ID: valid, translating 4 levels from the root, read/write, the domain, IV clear. */
static void device_table(void **state)
{
    (void)state;
    uint64_t *t = calloc(AMDVI_DEVICE_IDS, AMDVI_DTE_BYTES);
    assert_non_null(t);
    amdvi_fill_device_table(t, 0x7000, 1);
    for (uint32_t id = 0; id < AMDVI_DEVICE_IDS; id += 4097) {
        const uint64_t *dte = t + id * 4;
        assert_int_equal(dte[0], AMDVI_DTE_VALID | AMDVI_DTE_TV | 4ull << AMDVI_DTE_MODE_SHIFT |
                                 0x7000 | AMDVI_DTE_IR | AMDVI_DTE_IW);
        assert_int_equal(dte[1], 1);
        assert_int_equal(dte[2], 0);
        assert_int_equal(dte[3], 0);
    }
    free(t);
}

/*
 * The tables set with their sizes, the exclusion range gone, the log's pointers and overflow
 * reset; then translation, logging and coherent walks on. A unit that translates already is
 * refused: its caches could not be flushed.
 */
static void enable(void **state)
{
    (void)state;
    regs[AMDVI_REG_CONTROL / 8] = AMDVI_CTL_EVENT_LOG_EN;
    regs[AMDVI_REG_EXCL_BASE / 8] = 0x100000 | 3;          /* enabled, allow all */
    regs[AMDVI_REG_EXCL_LIMIT / 8] = 0x1FF000;
    regs[AMDVI_REG_EVENT_HEAD / 8] = 0x40;
    regs[AMDVI_REG_STATUS / 8] = AMDVI_STATUS_EVENT_OVF;
    assert_int_equal(amdvi_enable(&u, 0x200000, 0x9000, err, sizeof err), 0);
    assert_int_equal(u.firmware_control, AMDVI_CTL_EVENT_LOG_EN);
    assert_int_equal(regs[AMDVI_REG_EXCL_BASE / 8], 0);
    assert_int_equal(regs[AMDVI_REG_EXCL_LIMIT / 8], 0);
    assert_int_equal(regs[AMDVI_REG_DEVTAB / 8], 0x200000 | 0x1FF);      /* 2 MiB */
    assert_int_equal(regs[AMDVI_REG_EVENT_BASE / 8], 0x9000 | 8ull << 56); /* 256 entries */
    assert_int_equal(regs[AMDVI_REG_EVENT_HEAD / 8], 0);
    assert_int_equal(regs[AMDVI_REG_STATUS / 8], 0);
    assert_int_equal(regs[AMDVI_REG_CONTROL / 8],
                     AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN | AMDVI_CTL_COHERENT);
    assert_int_equal(amdvi_enable(&u, 0x200000, 0x9000, err, sizeof err), -1);
    assert_string_equal(err, "it translates already, and thinvisor cannot flush its caches");
    regs[AMDVI_REG_CONTROL / 8] = 0;
    regs[AMDVI_REG_DEVTAB / 8] = 0;
    deaf = 1;                                             /* nothing it is told takes */
    assert_int_equal(amdvi_enable(&u, 0x200000, 0x9000, err, sizeof err), -1);
    assert_string_equal(err, "the unit did not take the device table");
}

/*
 * Events are taken from head to tail, the head moved past each. An overflow is reported and
 * logging restarted on an empty log (EventLogEn off, then on).
 */
static void events(void **state)
{
    (void)state;
    u.event_log = log_page;
    log_page[0] = 0x0010 | (uint64_t)(AMDVI_EVENT_IO_PAGE_FAULT << 28 | AMDVI_EVENT_FLAG_RW) << 32;
    log_page[1] = 0xFEE5123;
    log_page[2] = 0x0018 | (uint64_t)(AMDVI_EVENT_IO_PAGE_FAULT << 28) << 32;
    log_page[3] = 0x1000;
    log_page[4] = 0x00A0 | (uint64_t)(1u << 28) << 32;  /* ILLEGAL_DEV_TABLE_ENTRY */
    regs[AMDVI_REG_EVENT_TAIL / 8] = 3 * AMDVI_EVENT_BYTES;
    struct iommu_fault f;
    bool lost;
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 1);
    assert_false(lost);
    assert_int_equal(f.source, 0x10);
    assert_false(f.read);
    assert_int_equal(f.address, 0xFEE5000);
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 1);
    assert_false(lost);
    assert_true(f.read);
    assert_int_equal(f.source, 0x18);
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 2);
    assert_int_equal(f.source, 0xA0);
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 0);
    assert_int_equal(regs[AMDVI_REG_EVENT_HEAD / 8], 3 * AMDVI_EVENT_BYTES);
    /* The head wraps at the log's end. */
    regs[AMDVI_REG_EVENT_HEAD / 8] = (AMDVI_EVENT_LOG_ENTRIES - 1) * AMDVI_EVENT_BYTES;
    regs[AMDVI_REG_EVENT_TAIL / 8] = 0;
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 2);
    assert_int_equal(regs[AMDVI_REG_EVENT_HEAD / 8], 0);

    regs[AMDVI_REG_CONTROL / 8] = AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN;
    regs[AMDVI_REG_STATUS / 8] = AMDVI_STATUS_EVENT_OVF;
    regs[AMDVI_REG_EVENT_TAIL / 8] = 5 * AMDVI_EVENT_BYTES;
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 0);
    assert_true(lost);
    assert_int_equal(regs[AMDVI_REG_STATUS / 8], 0);
    assert_int_equal(regs[AMDVI_REG_EVENT_HEAD / 8], 0);
    assert_int_equal(regs[AMDVI_REG_EVENT_TAIL / 8], 0);
    assert_int_equal(regs[AMDVI_REG_CONTROL / 8], AMDVI_CTL_IOMMU_EN | AMDVI_CTL_EVENT_LOG_EN);
    assert_int_equal(amdvi_take_event(&u, &f, &lost), 0);
    assert_false(lost);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(probe, setup),
        cmocka_unit_test_setup(device_table, setup),
        cmocka_unit_test_setup(enable, setup),
        cmocka_unit_test_setup(events, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
