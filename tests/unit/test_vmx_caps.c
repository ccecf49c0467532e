/* vmx/caps.c: controls adjusted to the capability MSRs; what is missing is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmx/caps.h"
#include "vmx/vmcs.h"

/*
 * Bochs 2.7, corei7_haswell_4770 (../shared/emulators/NOTES.md gives BASIC,
 * MISC, PROCBASED_CTLS2, EPT_VPID_CAP and the fixed bits; the TRUE control
 * MSRs below follow the SDM's default1 classes with Haswell's allowed-1 bits).
 */
static struct vmx_caps bochs(void)
{
    return (struct vmx_caps){
        .basic = 0x00D810000000002Bull,
        .pin = 0x0000007F00000016ull,
        .proc = 0xFFF9FFFE04006172ull,
        .proc2 = 0x00047FFF00000000ull,
        .exit = 0x003FFFFF00036DFBull,
        .entry = 0x0000F3FF000011FBull,
        .misc = 0x200401E0ull,
        .cr0_fixed0 = 0x80000021ull, .cr0_fixed1 = 0xFFFFFFFFull,
        .cr4_fixed0 = 0x2000ull, .cr4_fixed1 = 0x1727FFull,
        .ept_vpid = 0x00000F0106334141ull,
    };
}

static void adjust(void **state)
{
    (void)state;
    uint32_t forbidden;
    /* must-be-1 bits are added, may-not-be-1 bits removed and reported */
    assert_int_equal(vmx_adjust_controls(0x1, 0x0000000F00000006ull, &forbidden), 0x7);
    assert_int_equal(forbidden, 0);
    assert_int_equal(vmx_adjust_controls(0x30, 0x0000001F00000000ull, &forbidden), 0x10);
    assert_int_equal(forbidden, 0x20);
}

static void bochs_haswell(void **state)
{
    (void)state;
    struct vmx_caps c = bochs();
    struct vmx_controls k;
    char why[256];
    assert_int_equal(vmx_caps_evaluate(&c, &k, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_int_equal(k.revision, 0x2B);
    assert_true(k.proc2 & PROC2_ENABLE_EPT);
    assert_true(k.proc2 & PROC2_UNRESTRICTED_GUEST);
    assert_true(k.proc2 & PROC2_ENABLE_RDTSCP);
    assert_true(k.proc2 & PROC2_ENABLE_INVPCID);
    assert_false(k.proc2 & PROC2_ENABLE_XSAVES);      /* not in Haswell's allowed-1 */
    assert_true(k.vpid);
    assert_true(k.wait_for_sipi);
    assert_true(k.ept_2m && k.ept_1g && k.invept_single);
    assert_true(k.proc & PROC_USE_MSR_BITMAPS);
    assert_true(k.proc & (1u << 26));                 /* default1 bits kept */
    /* For EPT shootdowns; no timer by default. */
    assert_int_equal(k.pin, 0x16 | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
    assert_true(k.nmi_window);
    assert_false(k.proc & PROC_NMI_WINDOW_EXITING);   /* only while an NMI waits */
    assert_true(k.exit & EXIT_LOAD_EFER);
    assert_true(k.entry & ENTRY_LOAD_PAT);
    assert_true(k.exit & EXIT_SAVE_DEBUG_CONTROLS);      /* the guest's DR7 and DEBUGCTL */
    assert_true(k.entry & ENTRY_LOAD_DEBUG_CONTROLS);
    assert_false(k.entry & ENTRY_IA32E_MODE_GUEST);
}

static void missing_features_named(void **state)
{
    (void)state;
    struct vmx_caps c = bochs();
    struct vmx_controls k;
    char why[256];
    c.proc2 &= ~((uint64_t)PROC2_UNRESTRICTED_GUEST << 32);
    assert_int_equal(vmx_caps_evaluate(&c, &k, why, sizeof why), -1);
    assert_non_null(strstr(why, "secondary unrestricted guest"));

    c = bochs();
    c.proc &= ~((uint64_t)PROC_ACTIVATE_SECONDARY << 32);
    assert_int_equal(vmx_caps_evaluate(&c, &k, why, sizeof why), -1);
    assert_non_null(strstr(why, "secondary controls"));
    assert_non_null(strstr(why, "EPT"));

    c = bochs();
    c.ept_vpid &= ~(1ull << 14);
    assert_int_equal(vmx_caps_evaluate(&c, &k, why, sizeof why), -1);
    assert_non_null(strstr(why, "EPT write-back"));

    c = bochs();
    c.exit &= ~((uint64_t)EXIT_LOAD_EFER << 32);
    assert_int_equal(vmx_caps_evaluate(&c, &k, why, sizeof why), -1);
    assert_non_null(strstr(why, "VM-exit load EFER"));
}

static void optional_features(void **state)
{
    (void)state;
    struct vmx_caps c = bochs();
    struct vmx_controls k;
    c.ept_vpid &= ~(1ull << 32);                      /* no INVVPID: no VPID */
    c.misc &= ~(1ull << 8);                           /* no wait-for-SIPI */
    c.proc2 |= (uint64_t)PROC2_ENABLE_XSAVES << 32;   /* XSAVES allowed: used */
    assert_int_equal(vmx_caps_evaluate(&c, &k, NULL, 0), 0);
    assert_false(k.vpid);
    assert_false(k.proc2 & PROC2_ENABLE_VPID);
    assert_false(k.wait_for_sipi);
    assert_true(k.proc2 & PROC2_ENABLE_XSAVES);
}

static void fixed_bits(void **state)
{
    (void)state;
    struct vmx_caps c = bochs();
    assert_int_equal(vmx_fix_cr(0x10, c.cr0_fixed0, c.cr0_fixed1), 0x80000031);
    /* unrestricted guest: real mode keeps PE and PG clear, NE forced */
    assert_int_equal(vmx_fix_guest_cr0(0x10, &c), 0x30);
    assert_int_equal(vmx_fix_guest_cr0(0x60000010, &c), 0x60000030);
    assert_int_equal(vmx_fix_cr(0x20, c.cr4_fixed0, c.cr4_fixed1), 0x2020);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adjust),
        cmocka_unit_test(bochs_haswell),
        cmocka_unit_test(missing_features_named),
        cmocka_unit_test(optional_features),
        cmocka_unit_test(fixed_bits),
    };
    return cmocka_run_group_tests_name("vmx_caps", tests, NULL, NULL);
}
