/* Segment registers from GDT descriptors (kernel/segment.c): the UEFI guest's first state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/segment.h"
#include "svm/vmcb.h"

/* A GDT as OVMF's CPU driver builds it, plus a 64-bit TSS and an LDT at the end. */
static uint8_t gdt[0x70];

static void put(unsigned offset, uint64_t d)
{
    for (int i = 0; i < 8; i++)
        gdt[offset + i] = (uint8_t)(d >> (8 * i));
}

/* The GDT as segment_from_gdt reads it: at GDT_BASE, through read_gdt. */
#define GDT_BASE 0xFEED0000ull
static unsigned reads;

static bool read_gdt(uint64_t addr, void *buf, unsigned len, void *ctx)
{
    (void)ctx;
    reads++;
    if (addr < GDT_BASE || addr - GDT_BASE + len > sizeof gdt)
        return false;
    memcpy(buf, gdt + (addr - GDT_BASE), len);
    return true;
}

static int from_gdt(uint32_t limit, enum segment_reg reg, uint16_t sel, struct segment *s,
                    char *why, size_t whylen)
{
    return segment_from_gdt(GDT_BASE, limit, reg, sel, read_gdt, NULL, s, why, whylen);
}

static int setup(void **state)
{
    (void)state;
    memset(gdt, 0, sizeof gdt);
    put(0x08, 0x00CF92000000FFFFull);          /* flat 32-bit data */
    put(0x10, 0x00CF9A000000FFFFull);          /* flat 32-bit code */
    put(0x30, 0x00CF93000000FFFFull);          /* flat data, accessed */
    put(0x38, 0x00AF9A000000FFFFull);          /* 64-bit code */
    put(0x40, 0x0000F2000000FFFFull);          /* DPL 3 data, byte granular, 64 KiB */
    put(0x48, 0x00CF1A000000FFFFull);          /* code, not present */
    /* 64-bit available TSS at 0x123456789ABCDEF0, limit 0x67 (SDM Vol. 3A, 8.2.3). */
    put(0x50, 0x9A0089BCDEF00067ull);
    put(0x58, 0x0000000012345678ull);
    /* LDT at 0x1000, limit 0xFFF. */
    put(0x60, 0x0000820010000FFFull);
    put(0x68, 0);
    return 0;
}

static void code_and_data(void **state)
{
    (void)state;
    struct segment s;
    char why[100];
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_CS, 0x38, &s, why, sizeof why), 0);
    assert_int_equal(s.sel, 0x38);
    assert_int_equal(s.base, 0);
    assert_int_equal(s.limit, 0xFFFFFFFFu);
    assert_int_equal(s.ar, 0xA09B);            /* G, L, present, code, accessed */
    assert_int_equal(vmcb_attrib(s.ar), 0xA9B);   /* the VMCB's packing */
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_SS, 0x08, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, 0xC093);            /* the accessed bit, as a load sets it */
    assert_int_equal(s.limit, 0xFFFFFFFFu);
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_DS, 0x33, &s, why, sizeof why), 0);
    assert_int_equal(s.sel, 0x33);             /* RPL kept */
    assert_int_equal(s.ar, 0xC093);
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_FS, 0x43, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, 0xF3);              /* DPL 3, byte granular */
    assert_int_equal(s.limit, 0xFFFF);
    /* A readable code segment may sit in a data register. */
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_ES, 0x10, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, 0xC09B);
}

static void null_selectors(void **state)
{
    (void)state;
    struct segment s;
    char why[100];
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_DS, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, SEG_AR_UNUSABLE);
    assert_int_equal(vmcb_attrib(s.ar), 0);        /* not present, to SVM */
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_SS, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, SEG_AR_UNUSABLE);
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_LDTR, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, SEG_AR_UNUSABLE);
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_TR, 0, &s, why, sizeof why), 0);
    assert_int_equal(s.ar, SEG_AR_TSS64_BUSY);
    assert_int_equal(s.limit, 0xFFFF);
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_CS, 0, &s, why, sizeof why), -1);
    assert_string_equal(why, "CS selector 0: null");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_SS, 3, &s, why, sizeof why), -1);
}

static void system_descriptors(void **state)
{
    (void)state;
    struct segment s;
    char why[100];
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_TR, 0x50, &s, why, sizeof why), 0);
    assert_int_equal(s.base, 0x123456789ABCDEF0ull);
    assert_int_equal(s.limit, 0x67);
    assert_int_equal(s.ar, 0x8B);              /* available became busy */
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_LDTR, 0x60, &s, why, sizeof why), 0);
    assert_int_equal(s.base, 0x1000);
    assert_int_equal(s.limit, 0xFFF);
    assert_int_equal(s.ar, 0x82);
    /* The 16-byte TSS descriptor must fit whole. */
    assert_int_equal(from_gdt(0x5F - 1, SEG_TR, 0x50, &s, why, sizeof why), -1);
    assert_string_equal(why, "TR selector 0x50: past the end of the GDT");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_TR, 0x38, &s, why, sizeof why), -1);
    assert_string_equal(why, "TR selector 0x38: not a 64-bit TSS descriptor");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_LDTR, 0x50, &s, why, sizeof why), -1);
}

static void refused(void **state)
{
    (void)state;
    struct segment s;
    char why[100];
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_CS, 0x30, &s, why, sizeof why), -1);
    assert_string_equal(why, "CS selector 0x30: not a code descriptor");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_SS, 0x38, &s, why, sizeof why), -1);
    assert_string_equal(why, "SS selector 0x38: not a writable data descriptor");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_CS, 0x48, &s, why, sizeof why), -1);
    assert_string_equal(why, "CS selector 0x48: descriptor not present");
    assert_int_equal(from_gdt(sizeof gdt - 1, SEG_DS, 0x3C, &s, why, sizeof why), -1);
    assert_string_equal(why, "DS selector 0x3c: in an LDT (thinvisor reads only the GDT)");
    assert_int_equal(from_gdt(0x37, SEG_CS, 0x38, &s, why, sizeof why), -1);
    assert_string_equal(why, "CS selector 0x38: past the end of the GDT");
    /* Within the limit but unreadable (read_gdt says so): refused; one read, no more. */
    reads = 0;
    assert_int_equal(from_gdt(0xFFFF, SEG_DS, 0x100, &s, why, sizeof why), -1);
    assert_string_equal(why, "DS selector 0x100: its descriptor cannot be read");
    assert_int_equal(reads, 1);
    assert_string_equal(segment_reg_name(SEG_LDTR), "LDTR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(code_and_data, setup),
        cmocka_unit_test_setup(null_selectors, setup),
        cmocka_unit_test_setup(system_descriptors, setup),
        cmocka_unit_test_setup(refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
