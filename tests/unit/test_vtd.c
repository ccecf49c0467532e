/*
 * iommu/vtd.c against a model of a VT-d unit: registers that answer as the
 * spec says (GSTS follows GCMD, invalidations complete, fault records free
 * on a write of F), a unit that never answers, one that ignores commands.
 * The model's capabilities are those of QEMU's intel-iommu.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "iommu/vtd.h"
#include "iommu/vtd_regs.h"

/* QEMU 7.2's unit: 39-bit, 3-level, 2M and 1G pages, one fault record at 0x220, IOTLB at 0xf0. */
#define QEMU_CAP   ((0x220ull / 16) << 24 | 38ull << 16 | 2ull << 8 | VTD_CAP_SLLPS_2M | \
                    VTD_CAP_SLLPS_1G | 2ull)
#define QEMU_ECAP  ((0xF0ull / 16) << 8)

struct model {
    uint8_t regs[4096];
    enum { ANSWERS, DEAD, DEAF } kind;    /* DEAF: commands change nothing */
    uint32_t gcmd_writes;
    uint64_t ccmd, iotlb;                 /* the last invalidation commands */
    uint32_t order[8], steps;             /* which register each write went to */
};

static struct model m;
static struct vtd_unit u;
static char err[160];

static uint32_t get32(unsigned off) { uint32_t v; memcpy(&v, m.regs + off, 4); return v; }
static uint64_t get64(unsigned off) { uint64_t v; memcpy(&v, m.regs + off, 8); return v; }
static void put32(unsigned off, uint32_t v) { memcpy(m.regs + off, &v, 4); }
static void put64(unsigned off, uint64_t v) { memcpy(m.regs + off, &v, 8); }

static uint32_t model_read32(void *ctx, unsigned off)
{
    (void)ctx;
    return m.kind == DEAD ? 0xFFFFFFFFu : get32(off);
}

static uint64_t model_read64(void *ctx, unsigned off)
{
    (void)ctx;
    return m.kind == DEAD ? ~0ull : get64(off);
}

static void note(unsigned off)
{
    if (m.steps < 8)
        m.order[m.steps++] = off;
}

/* GCMD: the persistent bits become GSTS; SRTP sets RTPS; WBF completes at once. */
static void model_write32(void *ctx, unsigned off, uint32_t v)
{
    (void)ctx;
    note(off);
    if (m.kind != ANSWERS)
        return;
    if (off == VTD_REG_GCMD) {
        m.gcmd_writes++;
        uint32_t gsts = (get32(VTD_REG_GSTS) & ~VTD_GSTS_PERSISTENT) | (v & VTD_GSTS_PERSISTENT);
        if (v & VTD_GCMD_SRTP)
            gsts |= VTD_GCMD_SRTP;
        put32(VTD_REG_GSTS, gsts);
    } else if (off == VTD_REG_FSTS) {
        put32(off, get32(off) & ~(v & VTD_FSTS_PFO));
    } else if (off >= 0x220 && (off - 0x220) % 16 == 12) {
        if (v & (1u << 31))
            put32(off, get32(off) & ~(1u << 31));
    } else if (off == VTD_REG_PMEN) {
        put32(off, v & VTD_PMEN_EPM ? VTD_PMEN_EPM | VTD_PMEN_PRS : 0);
    } else {
        put32(off, v);
    }
}

/* Invalidations complete at once (ICC and IVT read back clear). */
static void model_write64(void *ctx, unsigned off, uint64_t v)
{
    (void)ctx;
    note(off);
    if (m.kind != ANSWERS)
        return;
    if (off == VTD_REG_CCMD) {
        m.ccmd = v;
        v &= ~VTD_CCMD_ICC;
    } else if (off == VTD_IOTLB_REG(QEMU_ECAP)) {
        m.iotlb = v;
        v &= ~VTD_IOTLB_IVT;
    }
    put64(off, v);
}

static int setup(void **state)
{
    (void)state;
    memset(&m, 0, sizeof m);
    put32(VTD_REG_VER, 0x10);
    put64(VTD_REG_CAP, QEMU_CAP);
    put64(VTD_REG_ECAP, QEMU_ECAP);
    u = (struct vtd_unit){ .io = { model_read32, model_read64, model_write32, model_write64,
                                   NULL } };
    err[0] = '\0';
    return 0;
}

static void probe_reads_qemus_unit(void **state)
{
    (void)state;
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    assert_int_equal(u.version, 0x10);
    assert_int_equal(VTD_CAP_MGAW(u.cap), 39);
    assert_int_equal(VTD_CAP_NFR(u.cap), 1);
    assert_int_equal(VTD_CAP_FRO(u.cap), 0x220);
    assert_int_equal(vtd_register_bytes(&u), 4096);
    assert_int_equal(vtd_levels(&u, 4ull << 30), 3);
    assert_int_equal(vtd_levels(&u, 1ull << 40), 0);     /* 3 levels reach 512 GiB */
    put64(VTD_REG_CAP, QEMU_CAP | 4ull << 8);
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    assert_int_equal(vtd_levels(&u, 1ull << 40), 4);
}

static void probe_refuses_a_dead_unit(void **state)
{
    (void)state;
    m.kind = DEAD;
    assert_int_equal(vtd_probe(&u, err, sizeof err), -1);
    assert_non_null(strstr(err, "do not answer"));
    m.kind = ANSWERS;
    memset(m.regs, 0, sizeof m.regs);                         /* nothing there: zeros */
    assert_int_equal(vtd_probe(&u, err, sizeof err), -1);
    assert_non_null(strstr(err, "do not answer"));
    put32(VTD_REG_VER, 0x10);
    put64(VTD_REG_ECAP, QEMU_ECAP);
    put64(VTD_REG_CAP, QEMU_CAP & ~(0x1Full << 8));          /* no table depth it takes */
    assert_int_equal(vtd_probe(&u, err, sizeof err), -1);
    assert_non_null(strstr(err, "neither 3- nor 4-level"));
}

/* Every bus points at the one context table; every devfn at the tables, domain and depth. */
static void root_and_context_entries(void **state)
{
    (void)state;
    static uint64_t root[512], ctx[512];
    vtd_fill_root_and_context(root, ctx, 0x5000, 0x7000, 3, 1);
    for (int i = 0; i < 256; i++) {
        assert_int_equal(root[2 * i], 0x5000 | VTD_ROOT_PRESENT);
        assert_int_equal(root[2 * i + 1], 0);
        assert_int_equal(ctx[2 * i], 0x7000 | VTD_CTX_PRESENT);
        assert_int_equal(ctx[2 * i + 1], VTD_CTX_AW_3LEVEL | 1 << VTD_CTX_DID_SHIFT);
    }
    vtd_fill_root_and_context(root, ctx, 0x5000, 0x7000, 4, 9);
    assert_int_equal(ctx[511], VTD_CTX_AW_4LEVEL | 9 << VTD_CTX_DID_SHIFT);
}

/*
 * The sequence: faults masked, the firmware's queued invalidation and
 * interrupt remapping off (compatibility-format interrupts kept), root
 * table set, then global context and IOTLB invalidations, then TE.
 */
static void enable_sequence(void **state)
{
    (void)state;
    put32(VTD_REG_GSTS, VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    assert_int_equal(vtd_enable(&u, 0x123000, err, sizeof err), 0);
    assert_int_equal(u.firmware_gsts, VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);
    assert_int_equal(get32(VTD_REG_FECTL), VTD_FECTL_IM);
    assert_int_equal(get64(VTD_REG_RTADDR), 0x123000);
    assert_int_equal(get32(VTD_REG_GSTS) & VTD_GSTS_PERSISTENT, VTD_GCMD_TE | VTD_GCMD_CFI);
    assert_int_equal(m.ccmd, VTD_CCMD_ICC | VTD_CCMD_GLOBAL);
    assert_int_equal(m.iotlb, VTD_IOTLB_IVT | VTD_IOTLB_GLOBAL | VTD_IOTLB_DR | VTD_IOTLB_DW);
    static const uint32_t want[] = { VTD_REG_FECTL, VTD_REG_GCMD, VTD_REG_GCMD, VTD_REG_RTADDR,
                                     VTD_REG_GCMD, VTD_REG_CCMD, VTD_IOTLB_REG(QEMU_ECAP),
                                     VTD_REG_GCMD };
    assert_int_equal(m.steps, 8);
    assert_memory_equal(m.order, want, sizeof want);
}

/* The protected memory regions the firmware turned on are turned off after TE. */
static void enable_turns_protected_regions_off(void **state)
{
    (void)state;
    put64(VTD_REG_CAP, QEMU_CAP | VTD_CAP_PLMR);
    put32(VTD_REG_PMEN, VTD_PMEN_EPM | VTD_PMEN_PRS);
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    assert_int_equal(vtd_enable(&u, 0x123000, err, sizeof err), 0);
    assert_int_equal(get32(VTD_REG_PMEN), 0);
}

/* A unit that takes no command: an error naming the step, after a bounded wait. */
static void enable_fails_on_a_deaf_unit(void **state)
{
    (void)state;
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    m.kind = DEAF;
    assert_int_equal(vtd_enable(&u, 0x123000, err, sizeof err), -1);
    assert_string_equal(err, "the unit did not take the root table");
}

/* Records are taken from FRI on, each freed; an overflow is reported once and cleared. */
static void faults_are_taken_and_freed(void **state)
{
    (void)state;
    put64(VTD_REG_CAP, (QEMU_CAP & ~(0xFFull << 40)) | 1ull << 40);   /* two records */
    assert_int_equal(vtd_probe(&u, err, sizeof err), 0);
    put64(0x220, 0xFEE5000);
    put64(0x228, VTD_FRCD_F | VTD_FRCD_READ | 6ull << 32 | 0x0010);    /* 00:02.0 read */
    put64(0x230, 0xFEE5000);
    put64(0x238, VTD_FRCD_F | 5ull << 32 | 0x0010);                    /* and a write */
    put32(VTD_REG_FSTS, 1u << 8 | VTD_FSTS_PPF | VTD_FSTS_PFO);        /* FRI 1 */
    struct iommu_fault f;
    bool lost;
    assert_int_equal(vtd_take_fault(&u, &f, &lost), 1);
    assert_true(lost);
    assert_int_equal(f.source, 0x10);
    assert_string_equal(f.why, "write not allowed");
    assert_false(f.read);
    assert_int_equal(f.address, 0xFEE5000);
    assert_int_equal(vtd_take_fault(&u, &f, &lost), 1);
    assert_false(lost);
    assert_true(f.read);
    assert_string_equal(f.why, "read not allowed");
    assert_int_equal(vtd_take_fault(&u, &f, &lost), 0);
    assert_int_equal(get64(0x228) & VTD_FRCD_F, 0);
    assert_int_equal(get64(0x238) & VTD_FRCD_F, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(probe_reads_qemus_unit, setup),
        cmocka_unit_test_setup(probe_refuses_a_dead_unit, setup),
        cmocka_unit_test_setup(root_and_context_entries, setup),
        cmocka_unit_test_setup(enable_sequence, setup),
        cmocka_unit_test_setup(enable_turns_protected_regions_off, setup),
        cmocka_unit_test_setup(enable_fails_on_a_deaf_unit, setup),
        cmocka_unit_test_setup(faults_are_taken_and_freed, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
