/* guest/cpuid.c and boot_sector_check: what the guest is shown and started from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/boot.h"
#include "guest/guest.h"
#include "abi/hypercall.h"
#include "abi/status.h"

static void leaf1(void **state)
{
    (void)state;
    uint32_t r[4] = { 0x306C3, 0x00010800, 0x7FFAFBFF, 0xBFEBFBFF };
    guest_cpuid_filter(1, 0, 1u << 18, r);            /* CR4.OSXSAVE, as ECX bit 27 says */
    assert_int_equal(r[0], 0x306C3);
    assert_false(r[2] & TV_CPUID1_ECX_VMX);
    assert_false(r[2] & (1u << 6));                   /* SMX */
    assert_true(r[2] & TV_CPUID1_ECX_HYPERVISOR);
    assert_int_equal(r[2] & ~(TV_CPUID1_ECX_VMX | (1u << 6) | TV_CPUID1_ECX_HYPERVISOR),
                     0x7FFAFBFF & ~(TV_CPUID1_ECX_VMX | (1u << 6)));
    assert_int_equal(r[3], 0xBFEBFBFF);
}

static void hypervisor_leaves(void **state)
{
    (void)state;
    uint32_t r[4] = { 7, 1, 2, 3 };
    guest_cpuid_filter(TV_CPUID_BASE, 0, 0, r);
    assert_int_equal(r[0], TV_CPUID_MAX_LEAF);
    char sig[13] = { 0 };
    memcpy(sig, &r[1], 4);
    memcpy(sig + 4, &r[2], 4);
    memcpy(sig + 8, &r[3], 4);
    assert_string_equal(sig, "thinvisor");
    uint32_t v[4] = { 0 };
    guest_cpuid_filter(TV_CPUID_VERSION_LEAF, 0, 0, v);
    assert_int_equal(v[0], guest_version_word());
    assert_true(v[0] != 0);
    assert_int_equal(v[1], TV_FEATURE_VMCALL);
    uint32_t e[4] = { 9, 9, 9, 9 };
    guest_cpuid_filter(0x40000005, 0, 0, e);
    assert_int_equal(e[0] | e[1] | e[2] | e[3], 0);
}

/* CPUID 0x40000002 and VMCALL 3's ranges: nothing before the backend publishes, then both. */
static int refreshes;
static void count_refresh(void) { refreshes++; }

static void status_area(void **state)
{
    (void)state;
    uint32_t r[4] = { 9, 9, 9, 9 };
    uint64_t base, size;
    uint32_t kind;
    guest_cpuid_filter(TV_CPUID_STATUS_LEAF, 0, 0, r);
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
    assert_false(guest_published_range(1, &base, &size, &kind));

    guest_set_status_area(0x12345000ull | 1ull << 32, 0x2000, 0x1FF6F000, 65552);
    uint32_t s[4] = { 0 };
    guest_cpuid_filter(TV_CPUID_STATUS_LEAF, 0, 0, s);
    assert_int_equal(s[0], 0x12345000);
    assert_int_equal(s[1], 1);
    assert_int_equal(s[2], 0x2000);
    assert_int_equal(s[3], TV_STATUS_ABI_VERSION);
    uint32_t v[4] = { 0 };
    guest_cpuid_filter(TV_CPUID_VERSION_LEAF, 0, 0, v);
    assert_int_equal(v[1], TV_FEATURE_VMCALL | TV_FEATURE_STATUS_AREA);
    assert_true(guest_published_range(1, &base, &size, &kind));
    assert_int_equal(base, 0x112345000ull);
    assert_int_equal(kind, TV_MEM_STATUS);
    assert_true(guest_published_range(2, &base, &size, &kind));
    assert_int_equal(base, 0x1FF6F000);
    assert_int_equal(size, 65552);
    assert_int_equal(kind, TV_MEM_LOG);
    assert_false(guest_published_range(0, &base, &size, &kind));   /* index 0: the region */
    assert_false(guest_published_range(3, &base, &size, &kind));

    /* The area is made current (the IOMMU's faults copied in) before 0x40000002 answers. */
    guest_set_status_refresh(count_refresh);
    guest_cpuid_filter(TV_CPUID_STATUS_LEAF, 0, 0, s);
    guest_cpuid_filter(TV_CPUID_VERSION_LEAF, 0, 0, v);
    assert_int_equal(refreshes, 1);
    guest_set_status_refresh(NULL);
    guest_set_status_area(0, 0, 0, 0);
}

static void pass_through(void **state)
{
    (void)state;
    uint32_t r[4] = { 0xD, 0x12345678, 0x9ABCDEF0, 0x0F0F0F0F };
    guest_cpuid_filter(0, 0, 0, r);
    assert_int_equal(r[1], 0x12345678);
    uint32_t x[4] = { 1, 2, 3, 4 };
    guest_cpuid_filter(0x80000001, 0, 0, x);
    assert_int_equal(x[2], 3);
}

/* AMD's SVM is hidden as VMX is: its CPUID bit clear, its feature leaf empty. */
static void svm_hidden(void **state)
{
    (void)state;
    uint32_t x[4] = { 0x00A50F00, 0, 0x000003F7, 0x2FD3FBFF };
    guest_cpuid_filter(0x80000001, 0, 0, x);
    assert_int_equal(x[2], 0x000003F7 & ~(1u << 2));
    assert_int_equal(x[3], 0x2FD3FBFF);
    uint32_t a[4] = { 1, 16, 0, 0x10010001 };
    guest_cpuid_filter(0x8000000A, 0, 0, a);
    assert_int_equal(a[0] | a[1] | a[2] | a[3], 0);
    /*
     * The exit handlers skip the filter for every leaf guest_cpuid_may_change
     * does not name: there it must change nothing, whatever the CPU answered
     * and whatever the guest's CR4 (OSXSAVE and PKE set).
     */
    static const uint32_t ranges[][2] = {
        { 0, 0x40 }, { 0x3FFFFFF0, 0x40000010 }, { 0x4FFFFFF0, 0x50000010 },
        { 0x7FFFFFF0, 0x80000040 }, { 0xC0000000, 0xC0000010 }, { 0xFFFFFFF0, 0xFFFFFFFF },
    };
    unsigned passed_through = 0;
    for (unsigned i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        for (uint32_t leaf = ranges[i][0];; leaf++) {
            if (!guest_cpuid_may_change(leaf)) {
                uint32_t r[4] = { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF };
                guest_cpuid_filter(leaf, 0, 1u << 18 | 1u << 22, r);
                assert_true((r[0] & r[1] & r[2] & r[3]) == 0xFFFFFFFF);
                uint32_t z[4] = { 0 };
                guest_cpuid_filter(leaf, 0, 0, z);
                assert_true((z[0] | z[1] | z[2] | z[3]) == 0);
                passed_through++;
            }
            if (leaf == ranges[i][1])
                break;
        }
    }
    assert_true(passed_through > 100);
    static const uint32_t plain[] = { 0, 0xD, 0x80000000, 0x80000008, 0x8000000B, 0x50000000 };
    for (unsigned i = 0; i < sizeof plain / sizeof plain[0]; i++)
        assert_false(guest_cpuid_may_change(plain[i]));
    /* Every leaf the filter changes, the ends of thinvisor's range too. */
    static const uint32_t changed[] = { 1, 7, 0x40000000, 0x40000001, 0x40000002, 0x40000003,
                                        0x40000005, 0x4FFFFFFF, 0x80000001, 0x8000000A };
    for (unsigned i = 0; i < sizeof changed / sizeof changed[0]; i++)
        assert_true(guest_cpuid_may_change(changed[i]));
}

/*
 * OSXSAVE (CPUID.1:ECX[27]) and OSPKE (CPUID.7.0:ECX[4]) copy CR4.OSXSAVE and
 * CR4.PKE (SDM Vol. 2A, CPUID): the guest's CR4, whatever the host's was when
 * it ran CPUID; and only where the CPU has XSAVE and PKU at all.
 */
static void cr4_mirrors(void **state)
{
    (void)state;
    const uint64_t osxsave = 1u << 18, pke = 1u << 22;
    uint32_t xsave = 1u << 26, os = 1u << 27;
    uint32_t r[4] = { 0, 0, xsave | os, 0 };                /* the host had OSXSAVE on */
    guest_cpuid_filter(1, 0, 0, r);
    assert_int_equal(r[2] & (xsave | os), xsave);
    r[2] = xsave;                                           /* the host had it off */
    guest_cpuid_filter(1, 0, osxsave, r);
    assert_int_equal(r[2] & (xsave | os), xsave | os);
    r[2] = 0;                                               /* no XSAVE: no OSXSAVE either */
    guest_cpuid_filter(1, 0, osxsave, r);
    assert_int_equal(r[2] & os, 0);

    uint32_t pku = 1u << 3, ospke = 1u << 4;
    uint32_t l7[4] = { 0, 0x12, pku | ospke | 0x100, 0 };
    guest_cpuid_filter(7, 0, osxsave, l7);
    assert_int_equal(l7[2], pku | 0x100);
    assert_int_equal(l7[1], 0x12);
    l7[2] = pku;
    guest_cpuid_filter(7, 0, pke, l7);
    assert_int_equal(l7[2], pku | ospke);
    l7[2] = ospke;                                          /* no PKU: no OSPKE */
    guest_cpuid_filter(7, 0, pke, l7);
    assert_int_equal(l7[2], 0);
    uint32_t l7s1[4] = { 1, 2, ospke, 4 };                  /* subleaf 1: not CR4's */
    guest_cpuid_filter(7, 1, 0, l7s1);
    assert_int_equal(l7s1[2], ospke);
}

static void boot_sectors(void **state)
{
    (void)state;
    uint8_t s[512] = { 0 };
    char why[200];
    assert_int_equal(boot_sector_check(s, 0, why, sizeof why), -1);
    assert_non_null(strstr(why, "empty"));
    assert_int_equal(boot_sector_check(s, 512, why, sizeof why), -1);
    assert_non_null(strstr(why, "no 0x55AA signature (ends in 00 00)"));
    s[510] = 0x55;
    s[511] = 0xAA;
    assert_int_equal(boot_sector_check(s, 512, why, sizeof why), 0);
    assert_int_equal(boot_sector_check(s, 1024, why, sizeof why), -1);
    assert_non_null(strstr(why, "1024 bytes; a boot sector is 512"));
    assert_int_equal(boot_sector_check(s, 100, why, sizeof why), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaf1),
        cmocka_unit_test(hypervisor_leaves),
        cmocka_unit_test(status_area),
        cmocka_unit_test(pass_through),
        cmocka_unit_test(svm_hidden),
        cmocka_unit_test(cr4_mirrors),
        cmocka_unit_test(boot_sectors),
    };
    return cmocka_run_group_tests_name("guest_policy", tests, NULL, NULL);
}
