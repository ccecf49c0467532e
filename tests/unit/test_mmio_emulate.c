/*
 * guest/mmio_emulate.c and guest/insn.c: the stores a guest aims at a page
 * thinvisor write-protects, as compilers and hand-written drivers encode
 * them, done on a plain 4 KiB "page" with the effect the CPU would have (the
 * fuzzer, tests/fuzz/fuzz_mmio.c, checks that against the CPU itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/insn.h"
#include "guest/mmio_emulate.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

static uint8_t page[4096];
static unsigned reads, writes;
static struct guest_regs frame;                 /* the exit frame the emulation works in */
static struct mmio_regs regs = { .gpr = &frame };
static struct mmio_result res;

/* General register n (SDM order), wherever struct mmio_regs keeps it. */
#define GPR(n) (*mmio_gpr(&regs, (n)))

static uint64_t page_read(void *ctx, unsigned offset, unsigned size)
{
    (void)ctx;
    uint64_t v = 0;
    memcpy(&v, page + offset, size);
    reads++;
    return v;
}

static void page_write(void *ctx, unsigned offset, unsigned size, uint64_t value)
{
    (void)ctx;
    memcpy(page + offset, &value, size);
    writes++;
}

static const struct mmio_target target = { page_read, page_write, NULL };

static int setup(void **state)
{
    (void)state;
    memset(page, 0xEE, sizeof page);
    memset(&frame, 0, sizeof frame);
    regs = (struct mmio_regs){ .gpr = &frame };
    for (unsigned i = 0; i < 16; i++)
        GPR(i) = 0x1111111111111111ull * i;
    regs.rflags = 0x2;
    reads = writes = 0;
    return 0;
}

#define EMULATE(mode, offset, ...)                                                            \
    mmio_emulate((const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }), \
                 mode, offset, &target, &regs, &res)

static uint32_t u32_at(unsigned offset)
{
    uint32_t v;
    memcpy(&v, page + offset, 4);
    return v;
}

/* The store that stopped CPU 0 before (issue 24): `mov %eax, 0xfee00310`, opcode A3, moffs. */
static void moffs(void **state)
{
    (void)state;
    GPR(RAX) = 0x000C4500;
    assert_int_equal(EMULATE(4, 0x310, 0xA3, 0x10, 0x03, 0xE0, 0xFE), MMIO_DONE);
    assert_int_equal(res.length, 5);
    assert_int_equal(u32_at(0x310), 0x000C4500);
    assert_int_equal(reads, 0);                    /* a plain store reads nothing */
    GPR(RAX) = 0x1234567890ABCDEFull;         /* 64-bit: movabs %rax, moffs64 */
    assert_int_equal(EMULATE(8, 0x300, 0x48, 0xA3, 0, 3, 0xE0, 0xFE, 0, 0, 0, 0), MMIO_DONE);
    assert_int_equal(res.length, 10);
    assert_int_equal(u32_at(0x300), 0x90ABCDEF);
    assert_int_equal(EMULATE(2, 0x80, 0xA2, 0x80, 0x00), MMIO_DONE);   /* mov %al, [0x80] */
    assert_int_equal(page[0x80], 0xEF);
    assert_int_equal(page[0x81], 0xEE);
}

static void mov_forms(void **state)
{
    (void)state;
    GPR(RCX) = 0xAABBCCDD;
    assert_int_equal(EMULATE(8, 0x300, 0x89, 0x0A), MMIO_DONE);          /* mov %ecx,(%rdx) */
    assert_int_equal(res.length, 2);
    assert_int_equal(u32_at(0x300), 0xAABBCCDD);
    GPR(R8) = 0x5;
    assert_int_equal(EMULATE(8, 0xB0, 0x44, 0x89, 0x00), MMIO_DONE);    /* mov %r8d,(%rax) */
    assert_int_equal(u32_at(0xB0), 5);
    /* movl $0x4500, 0x12345678(%rip) */
    assert_int_equal(EMULATE(8, 0x300, 0xC7, 0x05, 0x78, 0x56, 0x34, 0x12, 0x00, 0x45, 0x00, 0x00),
                     MMIO_DONE);
    assert_int_equal(res.length, 10);
    assert_int_equal(u32_at(0x300), 0x4500);
    /* movq $-1, (%rax): imm32 sign-extended to 64 bits */
    assert_int_equal(EMULATE(8, 0x10, 0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF), MMIO_DONE);
    assert_int_equal(u32_at(0x10), 0xFFFFFFFF);
    assert_int_equal(u32_at(0x14), 0xFFFFFFFF);
    GPR(RAX) = 0x0000AB00;                                         /* mov %ah,(%rax) */
    assert_int_equal(EMULATE(8, 0x20, 0x88, 0x20), MMIO_DONE);
    assert_int_equal(page[0x20], 0xAB);
    GPR(RSP) = 0x77;                                               /* mov %spl,(%rax) */
    assert_int_equal(EMULATE(8, 0x21, 0x40, 0x88, 0x20), MMIO_DONE);
    assert_int_equal(page[0x21], 0x77);
    GPR(RDX) = 0xC0DE;                                             /* movnti %edx,(%rax) */
    assert_int_equal(EMULATE(8, 0x40, 0x0F, 0xC3, 0x10), MMIO_DONE);
    assert_int_equal(u32_at(0x40), 0xC0DE);
}

/* 16- and 32-bit code: operand and address sizes, and their prefixes. */
static void real_and_protected_mode(void **state)
{
    (void)state;
    GPR(RDX) = 0x11223344;
    assert_int_equal(EMULATE(4, 0x310, 0x89, 0x15, 0x10, 0x03, 0xE0, 0xFE), MMIO_DONE);
    assert_int_equal(u32_at(0x310), 0x11223344);
    GPR(RBX) = 0x9876;
    assert_int_equal(EMULATE(4, 0x300, 0x66, 0x89, 0x18), MMIO_DONE);   /* mov %bx,(%eax) */
    assert_int_equal(u32_at(0x300) & 0xFFFF, 0x9876);
    assert_int_equal(page[0x302], 0xEE);
    GPR(RAX) = 0xCAFEBABE;
    assert_int_equal(EMULATE(2, 0x80, 0x66, 0x89, 0x07), MMIO_DONE);    /* mov %eax,(%bx) */
    assert_int_equal(u32_at(0x80), 0xCAFEBABE);
    assert_int_equal(EMULATE(2, 0x300, 0xC7, 0x06, 0x00, 0x03, 0x34, 0x12), MMIO_DONE);
    assert_int_equal(res.length, 6);                                    /* movw $0x1234,[0x300] */
    assert_int_equal(u32_at(0x300) & 0xFFFF, 0x1234);
    /* In 32-bit code 0x48 is DEC, not REX: one byte, no store. */
    assert_int_equal(EMULATE(4, 0, 0x48, 0x89, 0x02), MMIO_UNSUPPORTED);
    assert_int_equal(res.length, 1);
}

/* XCHG reads the old value into the register: a 32-bit one zero-extends, a byte one merges. */
static void xchg(void **state)
{
    (void)state;
    memcpy(page + 0x300, "\x78\x56\x34\x12", 4);
    GPR(RAX) = 0xFFFFFFFF00000001ull;
    assert_int_equal(EMULATE(8, 0x300, 0x87, 0x02), MMIO_DONE);          /* xchg %eax,(%rdx) */
    assert_int_equal(u32_at(0x300), 1);
    assert_int_equal(GPR(RAX), 0x12345678);
    GPR(R15) = 9;
    assert_int_equal(EMULATE(8, 0x300, 0xF0, 0x45, 0x87, 0x3C, 0x24), MMIO_DONE);  /* lock */
    assert_int_equal(GPR(R15), 1);
    GPR(RBX) = 0x1111111111110000ull | 0xAA << 8;                 /* xchg %bh,(%eax) */
    page[0x10] = 0x55;
    assert_int_equal(EMULATE(4, 0x10, 0x86, 0x38), MMIO_DONE);
    assert_int_equal(page[0x10], 0xAA);
    assert_int_equal(GPR(RBX), 0x1111111111115500ull);
    GPR(RSP) = 0x1000;                                             /* xchg %esp,(%eax) */
    assert_int_equal(EMULATE(4, 0x300, 0x87, 0x20), MMIO_DONE);
    assert_int_equal(u32_at(0x300), 0x1000);
    assert_int_equal(GPR(RSP), 9);
}

/* STOS: one iteration per call with REP, (E/R)DI up or down with DF, (E/R)CX down. */
static void stos(void **state)
{
    (void)state;
    GPR(RAX) = 0x0B;
    GPR(RDI) = 0x10300;
    assert_int_equal(EMULATE(8, 0x300, 0xAB), MMIO_DONE);                /* stosl */
    assert_int_equal(u32_at(0x300), 0x0B);
    assert_int_equal(GPR(RDI), 0x10304);
    regs.rflags |= MMIO_FLAG_DF;
    assert_int_equal(EMULATE(8, 0x304, 0x48, 0xAB), MMIO_DONE);          /* stosq, DF: down */
    assert_int_equal(GPR(RDI), 0x102FC);
    regs.rflags &= ~(uint64_t)MMIO_FLAG_DF;
    GPR(RCX) = 2;
    GPR(RDI) = 0x300;
    assert_int_equal(EMULATE(8, 0x300, 0xF3, 0xAB), MMIO_AGAIN);         /* rep stosl */
    assert_int_equal(GPR(RCX), 1);
    assert_int_equal(EMULATE(8, 0x304, 0xF3, 0xAB), MMIO_DONE);
    assert_int_equal(GPR(RCX), 0);
    assert_int_equal(GPR(RDI), 0x308);
    assert_int_equal(writes, 4);
    assert_int_equal(EMULATE(8, 0x308, 0xF3, 0xAB), MMIO_DONE);          /* RCX 0: no iteration */
    assert_int_equal(writes, 4);
    /* 16-bit addressing: DI and CX wrap inside 16 bits, the rest stays. */
    GPR(RDI) = 0xABCDFFFE;
    GPR(RCX) = 0x10000;                                            /* CX = 0: nothing */
    assert_int_equal(EMULATE(2, 0xFFE, 0xF3, 0xAA), MMIO_DONE);
    assert_int_equal(writes, 4);
    GPR(RCX) = 0x50001;
    assert_int_equal(EMULATE(2, 0xFFE, 0xF3, 0xAB), MMIO_DONE);          /* rep stosw */
    assert_int_equal(GPR(RDI), 0xABCD0000);
    assert_int_equal(GPR(RCX), 0x50000);
}

/* The read-modify-write forms and the flags they set. */
static void read_modify_write(void **state)
{
    (void)state;
    memcpy(page + 0x80, "\x10\x00\x00\x00", 4);
    assert_int_equal(EMULATE(4, 0x80, 0x83, 0x08, 0x20), MMIO_DONE);     /* orl $0x20,(%eax) */
    assert_int_equal(u32_at(0x80), 0x30);
    assert_int_equal(reads, 1);
    assert_true(regs.rflags & MMIO_FLAG_PF);                           /* 0x30: two bits, even */
    assert_false(regs.rflags & (MMIO_FLAG_CF | MMIO_FLAG_OF | MMIO_FLAG_ZF | MMIO_FLAG_SF));
    assert_int_equal(res.undefined_flags, MMIO_FLAG_AF);
    assert_int_equal(EMULATE(8, 0x80, 0x81, 0x20, 0x00, 0x00, 0xFF, 0xFF), MMIO_DONE);  /* and */
    assert_int_equal(u32_at(0x80), 0);
    assert_true(regs.rflags & MMIO_FLAG_ZF);
    memcpy(page + 0x80, "\xFF\xFF\xFF\xFF", 4);
    assert_int_equal(EMULATE(8, 0x80, 0x83, 0x00, 0x01), MMIO_DONE);     /* addl $1,(%rax) */
    assert_int_equal(u32_at(0x80), 0);
    assert_true(regs.rflags & MMIO_FLAG_CF);
    assert_true(regs.rflags & MMIO_FLAG_ZF);
    assert_true(regs.rflags & MMIO_FLAG_AF);
    assert_false(regs.rflags & MMIO_FLAG_OF);
    assert_int_equal(EMULATE(8, 0x80, 0xFF, 0x00), MMIO_DONE);           /* incl: CF kept */
    assert_int_equal(u32_at(0x80), 1);
    assert_true(regs.rflags & MMIO_FLAG_CF);
    assert_false(regs.rflags & MMIO_FLAG_ZF);
    memcpy(page + 0x80, "\xFF\xFF\xFF\x7F", 4);
    assert_int_equal(EMULATE(8, 0x80, 0xFF, 0x00), MMIO_DONE);           /* 0x7FFFFFFF + 1: OF */
    assert_true(regs.rflags & MMIO_FLAG_OF);
    assert_true(regs.rflags & MMIO_FLAG_SF);
    GPR(RCX) = 1;
    regs.rflags |= MMIO_FLAG_CF;
    assert_int_equal(EMULATE(8, 0x80, 0x19, 0x08), MMIO_DONE);           /* sbb %ecx,(%rax) */
    assert_int_equal(u32_at(0x80), 0x7FFFFFFE);
    assert_int_equal(EMULATE(8, 0x80, 0xF7, 0x18), MMIO_DONE);           /* negl */
    assert_int_equal(u32_at(0x80), 0x80000002);
    assert_true(regs.rflags & MMIO_FLAG_CF);
    uint64_t flags = regs.rflags;
    assert_int_equal(EMULATE(8, 0x80, 0xF7, 0x10), MMIO_DONE);           /* notl: no flags */
    assert_int_equal(u32_at(0x80), 0x7FFFFFFD);
    assert_int_equal(regs.rflags, flags);
    assert_int_equal(EMULATE(8, 0x80, 0xF0, 0x0F, 0xBA, 0x28, 0x1F), MMIO_DONE); /* lock bts $31 */
    assert_int_equal(u32_at(0x80), 0xFFFFFFFD);
    assert_false(regs.rflags & MMIO_FLAG_CF);
    GPR(RDX) = 1;
    assert_int_equal(EMULATE(8, 0x80, 0x0F, 0xB3, 0x10), MMIO_DONE);     /* btr %edx,(%rax) */
    assert_int_equal(u32_at(0x80), 0xFFFFFFFD);
    assert_false(regs.rflags & MMIO_FLAG_CF);
    GPR(RDX) = 40;                                                 /* past the operand */
    assert_int_equal(EMULATE(8, 0x80, 0x0F, 0xBB, 0x10), MMIO_UNSUPPORTED);
}

/* What is not emulated is said, with the length to step over; nothing is read or written. */
static void refusals(void **state)
{
    (void)state;
    struct guest_regs before = frame;
    struct mmio_regs before_m = regs;
    assert_int_equal(EMULATE(8, 0x80, 0x8B, 0x02), MMIO_UNSUPPORTED);    /* a load */
    assert_int_equal(res.length, 2);
    assert_int_equal(EMULATE(8, 0x80, 0x89, 0xC2), MMIO_UNSUPPORTED);    /* register to register */
    assert_int_equal(EMULATE(8, 0x80, 0xD1, 0x20), MMIO_UNSUPPORTED);    /* shll (%rax) */
    assert_int_equal(EMULATE(8, 0x80, 0xA5), MMIO_UNSUPPORTED);          /* movsl */
    assert_int_equal(reads + writes, 0);
    assert_int_equal(EMULATE(8, 0x80, 0x89, 0x04), MMIO_UNDECODABLE);    /* SIB missing */
    assert_int_equal(EMULATE(4, 0x80, 0xC7, 0x00, 0x00, 0x46), MMIO_UNDECODABLE);
    assert_int_equal(EMULATE(8, 0x80, 0xC7, 0x08, 0, 0, 0, 0), MMIO_UNDECODABLE);  /* C7 /1 */
    assert_int_equal(EMULATE(8, 0x80, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                             0x66, 0x66, 0x66, 0x66, 0x66, 0x89, 0x02), MMIO_UNDECODABLE);
    assert_int_equal(EMULATE(3, 0x80, 0x89, 0x02), MMIO_UNDECODABLE);    /* no such mode */
    assert_int_equal(EMULATE(8, 0xFFE, 0x89, 0x02), MMIO_UNSUPPORTED);   /* leaves the page */
    assert_int_equal(EMULATE(8, 0x80, 0x87, 0xC8), MMIO_UNSUPPORTED);    /* xchg of two registers */
    assert_int_equal(EMULATE(8, 0x80, 0xF3, 0x48, 0xA5), MMIO_UNSUPPORTED);  /* rep movsq */
    assert_int_equal(reads + writes, 0);
    /* Refused: not a register changed (they are the exit frame's own, written in place). */
    assert_memory_equal(&frame, &before, sizeof frame);
    assert_int_equal(regs.rsp, before_m.rsp);
    assert_int_equal(regs.rflags, before_m.rflags);
}

/* The lengths SVM exits need, of known instructions only. */
static void length_if(void **state)
{
    (void)state;
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\xa2", 2, 2, INSN_CPUID), 2);
    assert_int_equal(insn_length_if((const uint8_t *)"\x66\x2e\x0f\xa2", 4, 4, INSN_CPUID), 4);
    assert_int_equal(insn_length_if((const uint8_t *)"\x48\x0f\xa2", 3, 8, INSN_CPUID), 3);
    assert_int_equal(insn_length_if((const uint8_t *)"\x48\x0f\xa2", 3, 4, INSN_CPUID), -1);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\x01\xd9", 15, 8, INSN_VMMCALL), 3);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\x01\xc1", 3, 8, INSN_VMMCALL), -1);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\x30", 2, 4, INSN_WRMSR), 2);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\x32", 2, 4, INSN_RDMSR), 2);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f\x08", 2, 8, INSN_INVD), 2);
    assert_int_equal(insn_length_if((const uint8_t *)"\x0f", 1, 2, INSN_CPUID), -1);
    uint8_t prefixes[15];
    memset(prefixes, 0x66, sizeof prefixes);
    assert_int_equal(insn_length_if(prefixes, sizeof prefixes, 4, INSN_CPUID), -1);
}

/* The SVM instructions handle_gp turns into #UD, with prefixes; their neighbours are not. */
static void svm_instructions(void **state)
{
    (void)state;
    static const char *const svm[] = {
        "\x0f\x01\xd8", "\x0f\x01\xda", "\x0f\x01\xdb", "\x0f\x01\xdc", "\x0f\x01\xdd",
        "\x0f\x01\xde", "\x0f\x01\xdf", "\x67\x0f\x01\xd8",
    };
    for (unsigned i = 0; i < sizeof svm / sizeof svm[0]; i++) {
        assert_true(insn_is_svm((const uint8_t *)svm[i], 4, 8));
        assert_true(insn_is_svm((const uint8_t *)svm[i], 4, 4));
    }
    assert_false(insn_is_svm((const uint8_t *)"\x0f\x01\xd9", 3, 8));   /* VMMCALL: exits */
    assert_false(insn_is_svm((const uint8_t *)"\x0f\x01\xc1", 3, 8));   /* VMCALL */
    assert_false(insn_is_svm((const uint8_t *)"\xf4", 1, 4));             /* HLT: #GP at CPL 3 */
    assert_false(insn_is_svm((const uint8_t *)"\x0f\x01", 2, 8));        /* cut short */
}

/*
 * The per-CPU decode cache: a hit is the same decoding as a fresh one, keyed by
 * the instruction's own bytes and the code size; bytes after the instruction do
 * not matter, a byte inside it does; two sites alternate without evicting
 * each other; undecodable bytes are not cached.
 */
static void decode_cache(void **state)
{
    (void)state;
    static struct insn_cache c;         /* zeroed: empty, as in the per-CPU block */
    struct insn fresh;
    const uint8_t eoi[] = { 0x89, 0x82, 0xB0, 0x00, 0x00, 0x00, 0x90, 0x90 };   /* mov [rdx+0xb0], eax */
    const uint8_t eoi_other_tail[] = { 0x89, 0x82, 0xB0, 0x00, 0x00, 0x00, 0xCC, 0x0F };
    const uint8_t timer[] = { 0x89, 0x0C, 0x25, 0x80, 0x03, 0xE0, 0xFE, 0x90 };  /* mov [0xfee00380], ecx */
    const uint8_t eoi_rcx[] = { 0x89, 0x8A, 0xB0, 0x00, 0x00, 0x00, 0x90, 0x90 }; /* mov [rdx+0xb0], ecx */

    const struct insn *a = insn_decode_cached(&c, eoi, sizeof eoi, 8);
    assert_non_null(a);
    assert_int_equal(insn_decode(eoi, sizeof eoi, 8, &fresh), 0);
    assert_int_equal(a->i.length, 6);
    assert_int_equal(a->i.mnemonic, fresh.i.mnemonic);
    assert_int_equal(a->op[1].reg.value, ZYDIS_REGISTER_EAX);

    assert_ptr_equal(insn_decode_cached(&c, eoi_other_tail, sizeof eoi_other_tail, 8), a);
    const struct insn *t = insn_decode_cached(&c, timer, sizeof timer, 8);
    assert_non_null(t);
    assert_ptr_not_equal(t, a);
    assert_int_equal(t->i.length, 7);
    assert_ptr_equal(insn_decode_cached(&c, eoi, sizeof eoi, 8), a);     /* both kept */
    assert_ptr_equal(insn_decode_cached(&c, timer, sizeof timer, 8), t);

    /* A byte inside the instruction: another instruction. */
    const struct insn *b = insn_decode_cached(&c, eoi_rcx, sizeof eoi_rcx, 8);
    assert_non_null(b);
    assert_int_equal(b->op[1].reg.value, ZYDIS_REGISTER_ECX);

    /*
     * Past 8 bytes the key's second word: movl $imm32, disp32(%rip) is 10 bytes; its
     * last byte counts, the one after it does not.
     */
    const uint8_t imm_a[] = { 0xC7, 0x05, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x11, 0x90 };
    const uint8_t imm_b[] = { 0xC7, 0x05, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x22, 0x90 };
    const uint8_t imm_a_tail[] = { 0xC7, 0x05, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x11,
                                   0xCC, 0x0F, 0x0B, 0x90, 0x90 };
    const struct insn *ia = insn_decode_cached(&c, imm_a, sizeof imm_a, 8);
    assert_non_null(ia);
    assert_int_equal(ia->i.length, 10);
    assert_int_equal(ia->op[1].imm.value.u, 0x11000001);
    const struct insn *ib = insn_decode_cached(&c, imm_b, sizeof imm_b, 8);
    assert_non_null(ib);
    assert_ptr_not_equal(ib, ia);
    assert_int_equal(ib->op[1].imm.value.u, 0x22000001);
    assert_ptr_equal(insn_decode_cached(&c, imm_a, sizeof imm_a, 8), ia);
    assert_ptr_equal(insn_decode_cached(&c, imm_a_tail, sizeof imm_a_tail, 8), ia);
    assert_null(insn_decode_cached(&c, imm_a, 9, 8));                   /* its last byte missing */

    /* The same bytes in 32-bit code: 0x48 is DEC EAX there, a REX prefix in 64-bit mode. */
    const uint8_t rex[] = { 0x48, 0x89, 0x08, 0x90 };
    const struct insn *l = insn_decode_cached(&c, rex, sizeof rex, 8);
    assert_non_null(l);
    assert_int_equal(l->i.length, 3);
    const struct insn *p = insn_decode_cached(&c, rex, sizeof rex, 4);
    assert_non_null(p);
    assert_int_equal(p->i.length, 1);
    assert_int_equal(p->i.mnemonic, ZYDIS_MNEMONIC_DEC);

    /* Cut short or invalid: NULL, and the entries stay usable. */
    assert_null(insn_decode_cached(&c, eoi, 3, 8));
    const uint8_t ud[] = { 0x0F, 0xFF, 0x90, 0x90 };
    assert_null(insn_decode_cached(&c, ud, sizeof ud, 8));
    const struct insn *again = insn_decode_cached(&c, rex, sizeof rex, 4);
    assert_non_null(again);
    assert_int_equal(again->i.mnemonic, ZYDIS_MNEMONIC_DEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(moffs, setup),
        cmocka_unit_test_setup(mov_forms, setup),
        cmocka_unit_test_setup(real_and_protected_mode, setup),
        cmocka_unit_test_setup(xchg, setup),
        cmocka_unit_test_setup(stos, setup),
        cmocka_unit_test_setup(read_modify_write, setup),
        cmocka_unit_test_setup(refusals, setup),
        cmocka_unit_test_setup(length_if, setup),
        cmocka_unit_test_setup(svm_instructions, setup),
        cmocka_unit_test_setup(decode_cache, setup),
    };
    return cmocka_run_group_tests_name("mmio_emulate", tests, NULL, NULL);
}
