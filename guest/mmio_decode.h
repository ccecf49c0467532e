/*
 * Decoding the one guest instruction that just wrote to an MMIO page we
 * write-protect (the xAPIC page, when SIPIs are emulated): which value it
 * stores, how wide, and how long the instruction is, so the exit handler
 * can do the store itself and step over it. Only stores that compilers
 * emit for MMIO registers: MOV r/m,reg (88/89), MOV r/m,imm (C6/C7 /0) and
 * XCHG r/m,reg (86/87), with legacy prefixes and REX (SDM Vol. 2, 2.1-2.2).
 * Plain C on a byte buffer.
 */
#ifndef THINVISOR_MMIO_DECODE_H
#define THINVISOR_MMIO_DECODE_H

#include <stdint.h>

#include "mm/guest_walk.h"     /* INSN_MAX_LEN */

enum mmio_store_kind {
    MMIO_MOV_REG,    /* the value is in general register `reg` */
    MMIO_MOV_IMM,    /* the value is `imm` */
    MMIO_XCHG_REG,   /* the value is in `reg`, which then gets the old memory value */
};

struct mmio_store {
    enum mmio_store_kind kind;
    unsigned length;           /* bytes, prefixes included */
    unsigned size;             /* operand size in bytes: 1, 2, 4 or 8 */
    unsigned reg;              /* 0-15 in the SDM's order: RAX RCX RDX RBX RSP RBP RSI RDI R8... */
    int high_byte;             /* size 1 without REX, reg 4-7: AH CH DH BH (bits 15:8 of reg - 4) */
    uint64_t imm;              /* MMIO_MOV_IMM: sign-extended to the operand size */
};

/*
 * Decodes bytes[0..avail) for code whose default operand and address size is
 * `mode` bytes: 2 (real mode, 16-bit segments), 4 (32-bit segments) or 8
 * (64-bit mode). Returns 0, or -1 for anything else: another opcode, a
 * register operand (not a store), or an instruction longer than `avail` or
 * than 15 bytes.
 */
int mmio_decode_store(const uint8_t *bytes, unsigned avail, unsigned mode, struct mmio_store *out);

/*
 * The length of the instruction at bytes[0..avail) when it is `opcode`
 * (opcode_len bytes, no operands: CPUID 0F A2, VMMCALL 0F 01 D9, ...) after
 * any legacy prefixes and, in 64-bit mode (`mode` 8), REX prefixes. For exits
 * that report no instruction length (SVM without NRIP save). -1 when the
 * bytes are another instruction or run out.
 */
int insn_length_of(const uint8_t *bytes, unsigned avail, unsigned mode, const uint8_t *opcode,
                   unsigned opcode_len);

#endif
