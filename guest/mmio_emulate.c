/*
 * The store emulation (see mmio_emulate.h). What each instruction does is
 * the SDM's (Vol. 2, its page of the instruction): the value it stores, the
 * registers it updates, the status flags it sets and those it leaves
 * undefined (here: unchanged, and reported so that a comparison skips them).
 */
#include "guest/mmio_emulate.h"

#include <stdbool.h>
#include <stddef.h>

#include "guest/insn.h"

#define STATUS_FLAGS (MMIO_FLAG_CF | MMIO_FLAG_PF | MMIO_FLAG_AF | MMIO_FLAG_ZF | \
                      MMIO_FLAG_SF | MMIO_FLAG_OF)

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* A register, immediate or (its value given) memory operand's value, `size` bytes wide. */
static bool operand_value(const ZydisDecodedOperand *o, struct mmio_regs *r, unsigned size,
                          uint64_t *v)
{
    unsigned index, width;
    bool high;
    if (o->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        *v = (o->imm.is_signed ? (uint64_t)o->imm.value.s : o->imm.value.u) & mask_of(size);
        return true;
    }
    if (o->type != ZYDIS_OPERAND_TYPE_REGISTER || !insn_gpr(o->reg.value, &index, &width, &high))
        return false;
    *v = (*mmio_gpr(r, index) >> (high ? 8 : 0)) & mask_of(width);
    return true;
}

/*
 * A write to a general register: a 32-bit destination zero-extends into the
 * 64-bit register, 8- and 16-bit ones leave the rest as it was (SDM Vol. 1,
 * 3.4.1.1).
 */
static void write_gpr(struct mmio_regs *r, ZydisRegister reg, uint64_t v)
{
    unsigned index, width;
    bool high;
    if (!insn_gpr(reg, &index, &width, &high))
        return;
    uint64_t *g = mmio_gpr(r, index);
    if (high)
        *g = (*g & ~0xFF00ull) | (v & 0xFF) << 8;
    else if (width >= 4)
        *g = v & mask_of(width);
    else
        *g = (*g & ~mask_of(width)) | (v & mask_of(width));
}

/* SF, ZF and PF of a result (PF: even parity of its low byte). */
static uint32_t szp(uint64_t result, unsigned size)
{
    uint64_t v = result & mask_of(size);
    uint8_t low = (uint8_t)v;
    low ^= low >> 4;
    low ^= low >> 2;
    low ^= low >> 1;
    return (v >> (8 * size - 1) & 1 ? MMIO_FLAG_SF : 0) | (v == 0 ? MMIO_FLAG_ZF : 0) |
           (low & 1 ? 0 : MMIO_FLAG_PF);
}

/* a + b + carry, or a - b - borrow: the result and every status flag. */
static uint64_t add_sub(uint64_t a, uint64_t b, unsigned carry, bool sub, unsigned size,
                        uint32_t *flags)
{
    uint64_t m = mask_of(size), sign = 1ull << (8 * size - 1);
    a &= m;
    b &= m;
    uint64_t r = (sub ? a - b - carry : a + b + carry) & m;
    bool cf = sub ? (b > a || (carry && b == a)) : (r < a || (carry && r == a));
    bool of = sub ? ((a ^ b) & (a ^ r) & sign) != 0 : ((a ^ r) & (b ^ r) & sign) != 0;
    *flags = szp(r, size) | (cf ? MMIO_FLAG_CF : 0) | (of ? MMIO_FLAG_OF : 0) |
             ((a ^ b ^ r) & 0x10 ? MMIO_FLAG_AF : 0);
    return r;
}

/* The flags an instruction sets: `written` take `value`, the rest stay. */
static void set_flags(struct mmio_regs *r, uint32_t written, uint32_t value)
{
    r->rflags = (r->rflags & ~(uint64_t)written) | (value & written);
}

/*
 * One STOS: the accumulator to the page, then (E/R)DI on by the size, down
 * with DF; with REP one iteration, (E/R)CX down by one, and the instruction
 * again until it is 0 (SDM Vol. 2B, STOS; REP). The address size picks DI,
 * EDI or RDI and CX, ECX or RCX.
 */
static enum mmio_outcome stos(const struct insn *x, unsigned offset, unsigned size,
                              const struct mmio_target *t, struct mmio_regs *r)
{
    unsigned asize = x->i.address_width / 8;
    bool rep = x->i.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPNE);
    uint64_t am = mask_of(asize);
    uint64_t *ax = mmio_gpr(r, 0), *cx = mmio_gpr(r, 1), *di = mmio_gpr(r, 7);
    if (rep && (*cx & am) == 0)
        return MMIO_DONE;                          /* no iteration: nothing stored */
    t->write(t->ctx, offset, size, *ax & mask_of(size));
    uint64_t next_di = (*di + (r->rflags & MMIO_FLAG_DF ? -(uint64_t)size : size)) & am;
    *di = asize == 2 ? (*di & ~am) | next_di : next_di;
    if (!rep)
        return MMIO_DONE;
    uint64_t left = (*cx - 1) & am;
    *cx = asize == 2 ? (*cx & ~am) | left : left;
    return left ? MMIO_AGAIN : MMIO_DONE;
}

/* BTS, BTR, BTC on the page: CF the bit as it was; OF, SF, AF, PF undefined; ZF kept. */
static enum mmio_outcome bit_op(ZydisMnemonic op, uint64_t old, uint64_t bit, unsigned offset,
                                unsigned size, const struct mmio_target *t, struct mmio_regs *r,
                                struct mmio_result *res)
{
    uint64_t b = 1ull << bit;
    uint64_t v = op == ZYDIS_MNEMONIC_BTS ? old | b : op == ZYDIS_MNEMONIC_BTR ? old & ~b : old ^ b;
    t->write(t->ctx, offset, size, v);
    set_flags(r, MMIO_FLAG_CF, old & b ? MMIO_FLAG_CF : 0);
    res->undefined_flags = MMIO_FLAG_OF | MMIO_FLAG_SF | MMIO_FLAG_AF | MMIO_FLAG_PF;
    return MMIO_DONE;
}

/* ADD OR ADC SBB AND SUB XOR INC DEC NOT NEG on the page: the new value and its flags. */
static void arithmetic(ZydisMnemonic op, uint64_t old, uint64_t src, unsigned size,
                       struct mmio_regs *r, struct mmio_result *res, uint64_t *v)
{
    uint32_t f = 0, cf = r->rflags & MMIO_FLAG_CF;
    switch (op) {
    case ZYDIS_MNEMONIC_ADD: *v = add_sub(old, src, 0, false, size, &f); break;
    case ZYDIS_MNEMONIC_ADC: *v = add_sub(old, src, cf, false, size, &f); break;
    case ZYDIS_MNEMONIC_SUB: *v = add_sub(old, src, 0, true, size, &f); break;
    case ZYDIS_MNEMONIC_SBB: *v = add_sub(old, src, cf, true, size, &f); break;
    case ZYDIS_MNEMONIC_NEG: *v = add_sub(0, old, 0, true, size, &f); break;
    case ZYDIS_MNEMONIC_INC:
    case ZYDIS_MNEMONIC_DEC:                       /* CF is left as it was */
        *v = add_sub(old, 1, 0, op == ZYDIS_MNEMONIC_DEC, size, &f);
        set_flags(r, STATUS_FLAGS & ~MMIO_FLAG_CF, f);
        return;
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR:
    case ZYDIS_MNEMONIC_XOR:                       /* CF, OF clear; AF undefined */
        *v = op == ZYDIS_MNEMONIC_AND ? old & src : op == ZYDIS_MNEMONIC_OR ? old | src
                                                                            : old ^ src;
        set_flags(r, STATUS_FLAGS & ~MMIO_FLAG_AF, szp(*v, size));
        res->undefined_flags = MMIO_FLAG_AF;
        return;
    default:                                       /* NOT: no flag changes */
        *v = ~old & mask_of(size);
        return;
    }
    set_flags(r, STATUS_FLAGS, f);
}

enum mmio_outcome mmio_emulate(const uint8_t *bytes, unsigned avail, unsigned mode,
                               unsigned offset, const struct mmio_target *t,
                               struct mmio_regs *r, struct mmio_result *res)
{
    struct insn x;
    if (insn_decode(bytes, avail, mode, &x) != 0)
        return MMIO_UNDECODABLE;
    return mmio_emulate_insn(&x, offset, t, r, res);
}

enum mmio_outcome mmio_emulate_insn(const struct insn *x, unsigned offset,
                                    const struct mmio_target *t, struct mmio_regs *r,
                                    struct mmio_result *res)
{
    *res = (struct mmio_result){ .length = x->i.length };

    /* The memory operand the instruction writes, and (for two-operand forms) its source. */
    const ZydisDecodedOperand *mem = x->written_mem >= 0 ? &x->op[x->written_mem] : NULL;
    const ZydisDecodedOperand *src = x->source >= 0 ? &x->op[x->source] : NULL;
    unsigned size = mem ? mem->size / 8 : 0;
    if (!mem || size < 1 || size > 8 || offset + size > 4096)
        return MMIO_UNSUPPORTED;

    ZydisMnemonic op = x->i.mnemonic;
    uint64_t value, old;
    switch (op) {
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_MOVNTI:
        if (!src || !operand_value(src, r, size, &value))
            return MMIO_UNSUPPORTED;
        t->write(t->ctx, offset, size, value);
        return MMIO_DONE;
    case ZYDIS_MNEMONIC_XCHG:
        if (!src || src->type != ZYDIS_OPERAND_TYPE_REGISTER ||
            !operand_value(src, r, size, &value))
            return MMIO_UNSUPPORTED;
        old = t->read(t->ctx, offset, size) & mask_of(size);
        t->write(t->ctx, offset, size, value);
        write_gpr(r, src->reg.value, old);
        return MMIO_DONE;
    case ZYDIS_MNEMONIC_STOSB:
    case ZYDIS_MNEMONIC_STOSW:
    case ZYDIS_MNEMONIC_STOSD:
    case ZYDIS_MNEMONIC_STOSQ:
        return stos(x, offset, size, t, r);
    case ZYDIS_MNEMONIC_BTS:
    case ZYDIS_MNEMONIC_BTR:
    case ZYDIS_MNEMONIC_BTC: {
        uint64_t bit;
        if (!src || !operand_value(src, r, src->size / 8, &bit))
            return MMIO_UNSUPPORTED;
        if (src->type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
            bit &= 8 * size - 1;                   /* an immediate picks a bit of the operand */
        else if (bit >= 8 * size)
            return MMIO_UNSUPPORTED;               /* a register may reach past it: not here */
        old = t->read(t->ctx, offset, size) & mask_of(size);
        return bit_op(op, old, bit, offset, size, t, r, res);
    }
    default:
        break;
    }
    /* The read-modify-write arithmetic: one operand (INC DEC NOT NEG) or two. */
    bool unary = op == ZYDIS_MNEMONIC_INC || op == ZYDIS_MNEMONIC_DEC ||
                 op == ZYDIS_MNEMONIC_NOT || op == ZYDIS_MNEMONIC_NEG;
    bool binary = op == ZYDIS_MNEMONIC_ADD || op == ZYDIS_MNEMONIC_OR ||
                  op == ZYDIS_MNEMONIC_ADC || op == ZYDIS_MNEMONIC_SBB ||
                  op == ZYDIS_MNEMONIC_AND || op == ZYDIS_MNEMONIC_SUB || op == ZYDIS_MNEMONIC_XOR;
    value = 0;
    if (!unary && !(binary && src && operand_value(src, r, size, &value)))
        return MMIO_UNSUPPORTED;                   /* nothing read: a read may have effects */
    old = t->read(t->ctx, offset, size) & mask_of(size);
    uint64_t result;
    arithmetic(op, old, value, size, r, res, &result);
    t->write(t->ctx, offset, size, result);
    return MMIO_DONE;
}
