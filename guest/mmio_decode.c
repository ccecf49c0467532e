/*
 * The store decoder (see guest/mmio_decode.h). Instruction format: SDM Vol. 2,
 * chapter 2: prefixes, REX (64-bit mode only, right before the opcode),
 * opcode, ModR/M, SIB, displacement, immediate (Tables 2-1 to 2-3).
 */
#include "guest/mmio_decode.h"

#include <stdbool.h>

static bool is_legacy_prefix(uint8_t b)
{
    switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:   /* segment */
    case 0x66: case 0x67:                                               /* sizes */
    case 0xF0: case 0xF2: case 0xF3:                                    /* lock, rep */
        return true;
    default:
        return false;
    }
}

/*
 * Bytes after the opcode taken by ModR/M, SIB and displacement for a memory
 * operand, at address size `asize`; 0 for a register operand (mod = 3).
 */
static unsigned modrm_bytes(const uint8_t *p, unsigned avail, unsigned asize)
{
    if (avail < 1)
        return 0;
    uint8_t modrm = p[0];
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return 0;
    if (asize == 2) {                         /* 16-bit addressing: no SIB (Table 2-1) */
        if (mod == 0)
            return rm == 6 ? 3 : 1;
        return mod == 1 ? 2 : 3;
    }
    unsigned n = 1;                           /* 32/64-bit addressing (Table 2-2) */
    if (rm == 4) {
        if (avail < 2)
            return 0;
        n++;
        if (mod == 0 && (p[1] & 7) == 5)
            return n + 4;                     /* SIB base 5 with mod 0: disp32, no base */
    }
    if (mod == 0)
        return rm == 5 ? n + 4 : n;           /* rm 5, mod 0: disp32 (RIP-relative in 64-bit) */
    return n + (mod == 1 ? 1 : 4);
}

int insn_length_of(const uint8_t *bytes, unsigned avail, unsigned mode, const uint8_t *opcode,
                   unsigned opcode_len)
{
    if (avail > INSN_MAX_LEN)
        avail = INSN_MAX_LEN;
    unsigned i = 0;
    while (i < avail && (is_legacy_prefix(bytes[i]) || (mode == 8 && (bytes[i] & 0xF0) == 0x40)))
        i++;
    if (i + opcode_len > avail)
        return -1;
    for (unsigned k = 0; k < opcode_len; k++)
        if (bytes[i + k] != opcode[k])
            return -1;
    return (int)(i + opcode_len);
}

int mmio_decode_store(const uint8_t *bytes, unsigned avail, unsigned mode, struct mmio_store *out)
{
    if (mode != 2 && mode != 4 && mode != 8)
        return -1;
    if (avail > INSN_MAX_LEN)
        avail = INSN_MAX_LEN;
    unsigned i = 0, rex = 0;
    bool opsize = false, addrsize = false;
    for (; i < avail; i++) {
        uint8_t b = bytes[i];
        if (is_legacy_prefix(b)) {
            opsize |= b == 0x66;
            addrsize |= b == 0x67;
            rex = 0;                          /* a REX not right before the opcode is ignored */
        } else if (mode == 8 && (b & 0xF0) == 0x40) {
            rex = b;
        } else {
            break;
        }
    }
    if (i >= avail)
        return -1;
    uint8_t op = bytes[i++];
    enum mmio_store_kind kind;
    switch (op) {
    case 0x88: case 0x89: kind = MMIO_MOV_REG; break;
    case 0x86: case 0x87: kind = MMIO_XCHG_REG; break;
    case 0xC6: case 0xC7: kind = MMIO_MOV_IMM; break;
    default: return -1;
    }
    if (i >= avail)
        return -1;
    uint8_t modrm = bytes[i];
    if (kind == MMIO_MOV_IMM && ((modrm >> 3) & 7) != 0)
        return -1;                            /* C6/C7 with reg != 0 is not MOV */

    unsigned size;
    if (!(op & 1))
        size = 1;
    else if (rex & 0x08)
        size = 8;                             /* REX.W wins over 66 */
    else if (mode == 2)
        size = opsize ? 4 : 2;
    else
        size = opsize ? 2 : 4;
    unsigned asize = mode == 8 ? (addrsize ? 4 : 8) : mode == 4 ? (addrsize ? 2 : 4)
                                                                : (addrsize ? 4 : 2);
    unsigned m = modrm_bytes(bytes + i, avail - i, asize);
    if (m == 0)
        return -1;
    i += m;
    unsigned imm_len = kind != MMIO_MOV_IMM ? 0 : size == 1 ? 1 : size == 2 ? 2 : 4;
    if (i + imm_len > avail)
        return -1;

    *out = (struct mmio_store){ .kind = kind, .length = i + imm_len, .size = size };
    if (kind == MMIO_MOV_IMM) {
        uint64_t v = 0;
        for (unsigned k = 0; k < imm_len; k++)
            v |= (uint64_t)bytes[i + k] << (8 * k);
        if (imm_len == 4 && size == 8 && (v & 0x80000000u))
            v |= 0xFFFFFFFF00000000ull;       /* imm32 is sign-extended to 64 bits */
        out->imm = v;
    } else {
        out->reg = ((modrm >> 3) & 7) | (rex & 0x04 ? 8 : 0);
        if (size == 1 && !rex && out->reg >= 4) {
            out->high_byte = 1;
            out->reg -= 4;
        }
    }
    return 0;
}
