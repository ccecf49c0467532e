/* guest/mmio_decode.c: the stores a guest uses for MMIO registers, as compilers encode them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/mmio_decode.h"

static struct mmio_store st;

#define DECODE(mode, ...) \
    decode((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), mode)

static int decode(const uint8_t *b, unsigned n, unsigned mode)
{
    st = (struct mmio_store){ 0 };
    return mmio_decode_store(b, n, mode, &st);
}

static void expect(enum mmio_store_kind kind, unsigned length, unsigned size, unsigned reg)
{
    assert_int_equal(st.kind, kind);
    assert_int_equal(st.length, length);
    assert_int_equal(st.size, size);
    if (kind != MMIO_MOV_IMM)
        assert_int_equal(st.reg, reg);
}

static void long_mode_mov_reg(void **state)
{
    (void)state;
    assert_int_equal(DECODE(8, 0x89, 0x04, 0x25, 0x00, 0x03, 0xE0, 0xFE), 0);  /* mov %eax,abs */
    expect(MMIO_MOV_REG, 7, 4, 0);
    assert_int_equal(DECODE(8, 0x89, 0x82, 0x00, 0x03, 0x00, 0x00), 0);  /* mov %eax,0x300(%rdx) */
    expect(MMIO_MOV_REG, 6, 4, 0);
    assert_int_equal(DECODE(8, 0x89, 0x0A), 0);                          /* mov %ecx,(%rdx) */
    expect(MMIO_MOV_REG, 2, 4, 1);
    assert_int_equal(DECODE(8, 0x44, 0x89, 0x00), 0);                    /* mov %r8d,(%rax) */
    expect(MMIO_MOV_REG, 3, 4, 8);
    assert_int_equal(DECODE(8, 0x48, 0x89, 0x10), 0);                    /* mov %rdx,(%rax) */
    expect(MMIO_MOV_REG, 3, 8, 2);
    assert_int_equal(DECODE(8, 0x89, 0x44, 0x24, 0x08), 0);              /* mov %eax,8(%rsp) */
    expect(MMIO_MOV_REG, 4, 4, 0);
    assert_int_equal(DECODE(8, 0x67, 0x89, 0x02), 0);                    /* mov %eax,(%edx) */
    expect(MMIO_MOV_REG, 3, 4, 0);
}

static void long_mode_imm_and_xchg(void **state)
{
    (void)state;
    /* movl $0x4500, 0x12345678(%rip) */
    assert_int_equal(DECODE(8, 0xC7, 0x05, 0x78, 0x56, 0x34, 0x12, 0x00, 0x45, 0x00, 0x00), 0);
    expect(MMIO_MOV_IMM, 10, 4, 0);
    assert_int_equal(st.imm, 0x4500);
    /* movq $-1, (%rax): imm32 sign-extended */
    assert_int_equal(DECODE(8, 0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF), 0);
    expect(MMIO_MOV_IMM, 7, 8, 0);
    assert_int_equal(st.imm, 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(DECODE(8, 0x87, 0x02), 0);                          /* xchg %eax,(%rdx) */
    expect(MMIO_XCHG_REG, 2, 4, 0);
    assert_int_equal(DECODE(8, 0xF0, 0x45, 0x87, 0x3C, 0x24), 0);        /* lock xchg %r15d,(%r12) */
    expect(MMIO_XCHG_REG, 5, 4, 15);
}

static void protected_and_real_mode(void **state)
{
    (void)state;
    /* movl $0x4600, 0x300(%eax) */
    assert_int_equal(DECODE(4, 0xC7, 0x80, 0x00, 0x03, 0x00, 0x00, 0x00, 0x46, 0x00, 0x00), 0);
    expect(MMIO_MOV_IMM, 10, 4, 0);
    assert_int_equal(st.imm, 0x4600);
    assert_int_equal(DECODE(4, 0x89, 0x15, 0x10, 0x03, 0xE0, 0xFE), 0);  /* mov %edx,0xfee00310 */
    expect(MMIO_MOV_REG, 6, 4, 2);
    assert_int_equal(DECODE(4, 0x66, 0x89, 0x18), 0);                    /* mov %bx,(%eax) */
    expect(MMIO_MOV_REG, 3, 2, 3);
    assert_int_equal(DECODE(2, 0x66, 0x89, 0x07), 0);                    /* mov %eax,(%bx) */
    expect(MMIO_MOV_REG, 3, 4, 0);
    assert_int_equal(DECODE(2, 0x89, 0x46, 0x08), 0);                    /* mov %ax,8(%bp) */
    expect(MMIO_MOV_REG, 3, 2, 0);
    assert_int_equal(DECODE(2, 0xC7, 0x06, 0x00, 0x03, 0x34, 0x12), 0);  /* movw $0x1234,[0x300] */
    expect(MMIO_MOV_IMM, 6, 2, 0);
    assert_int_equal(st.imm, 0x1234);
    assert_int_equal(DECODE(2, 0x67, 0x66, 0x89, 0x04, 0x24), 0);        /* mov %eax,(%esp) */
    expect(MMIO_MOV_REG, 5, 4, 0);
}

static void byte_registers(void **state)
{
    (void)state;
    assert_int_equal(DECODE(8, 0x88, 0x20), 0);                          /* mov %ah,(%rax) */
    expect(MMIO_MOV_REG, 2, 1, 0);
    assert_true(st.high_byte);
    assert_int_equal(DECODE(8, 0x40, 0x88, 0x20), 0);                    /* mov %spl,(%rax) */
    expect(MMIO_MOV_REG, 3, 1, 4);
    assert_false(st.high_byte);
    assert_int_equal(DECODE(4, 0xC6, 0x00, 0x7F), 0);                    /* movb $0x7f,(%eax) */
    expect(MMIO_MOV_IMM, 3, 1, 0);
    assert_int_equal(st.imm, 0x7F);
}

static void rex_before_a_prefix_is_ignored(void **state)
{
    (void)state;
    assert_int_equal(DECODE(8, 0x48, 0x66, 0x89, 0x02), 0);              /* REX.W dropped */
    expect(MMIO_MOV_REG, 4, 2, 0);
    /* In 32-bit code 0x48 is DEC, not REX: not a store. */
    assert_int_equal(DECODE(4, 0x48, 0x89, 0x02), -1);
}

static void rejects_what_it_cannot_do(void **state)
{
    (void)state;
    assert_int_equal(DECODE(8, 0x8B, 0x02), -1);                         /* a load */
    assert_int_equal(DECODE(8, 0x89, 0xC2), -1);                         /* register to register */
    assert_int_equal(DECODE(8, 0xC7, 0x08, 0, 0, 0, 0), -1);             /* C7 /1 is not MOV */
    assert_int_equal(DECODE(8, 0x89, 0x04), -1);                         /* SIB missing */
    assert_int_equal(DECODE(8, 0x89, 0x82, 0x00, 0x03), -1);             /* disp32 cut short */
    assert_int_equal(DECODE(4, 0xC7, 0x00, 0x00, 0x46), -1);             /* imm32 cut short */
    assert_int_equal(DECODE(8, 0x89), -1);
    assert_int_equal(DECODE(8, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                            0x66, 0x66, 0x66, 0x89, 0x02), -1);         /* longer than 15 bytes */
    assert_int_equal(DECODE(3, 0x89, 0x02), -1);                         /* no such mode */
}

/* The lengths SVM exits need: known opcodes behind prefixes, REX only in 64-bit mode. */
static void length_of_known_opcodes(void **state)
{
    (void)state;
    static const uint8_t cpuid_op[] = { 0x0F, 0xA2 }, vmmcall_op[] = { 0x0F, 0x01, 0xD9 };
    assert_int_equal(insn_length_of((const uint8_t *)"\x0f\xa2", 2, 2, cpuid_op, 2), 2);
    assert_int_equal(insn_length_of((const uint8_t *)"\x66\x2e\x0f\xa2", 4, 4, cpuid_op, 2), 4);
    assert_int_equal(insn_length_of((const uint8_t *)"\x48\x0f\xa2", 3, 8, cpuid_op, 2), 3);
    assert_int_equal(insn_length_of((const uint8_t *)"\x48\x0f\xa2", 3, 4, cpuid_op, 2), -1);
    assert_int_equal(insn_length_of((const uint8_t *)"\x0f\x01\xd9", 15, 8, vmmcall_op, 3), 3);
    assert_int_equal(insn_length_of((const uint8_t *)"\x0f\x01\xc1", 3, 8, vmmcall_op, 3), -1);
    assert_int_equal(insn_length_of((const uint8_t *)"\x0f", 1, 2, cpuid_op, 2), -1);
    uint8_t prefixes[15];
    memset(prefixes, 0x66, sizeof prefixes);
    assert_int_equal(insn_length_of(prefixes, sizeof prefixes, 4, cpuid_op, 2), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_mode_mov_reg),
        cmocka_unit_test(long_mode_imm_and_xchg),
        cmocka_unit_test(protected_and_real_mode),
        cmocka_unit_test(byte_registers),
        cmocka_unit_test(rex_before_a_prefix_is_ignored),
        cmocka_unit_test(rejects_what_it_cannot_do),
        cmocka_unit_test(length_of_known_opcodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
