/*
 * One guest instruction, decoded by Zydis (third_party/zydis.mk), the
 * maintained x86 decoder every part of thinvisor that must look at a
 * guest's instruction goes through: the store emulation behind the pages it
 * write-protects (guest/mmio_emulate.c) and the instruction lengths SVM
 * does not report without NRIP save. Plain C over a byte buffer.
 */
#ifndef THINVISOR_INSN_H
#define THINVISOR_INSN_H

#include <stdbool.h>
#include <stdint.h>

#include <Zydis/Decoder.h>

#include "mm/guest_walk.h"     /* INSN_MAX_LEN */

struct insn {
    ZydisDecodedInstruction i;
    ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
    unsigned mode;             /* the code size it was decoded for: 2, 4 or 8 bytes */
    /*
     * The index in op of the memory operand the instruction writes (the last
     * one, if it had more), and of its last other visible operand (a store's
     * source); -1 when it has none. Found once per decode, not per use.
     */
    int8_t written_mem, source;
};

/*
 * Decodes bytes[0..avail) as code whose default operand size is `mode`
 * bytes (guest_code_mode: 2 real mode or a 16-bit segment, 4 a 32-bit one,
 * 8 64-bit mode). 0, or -1 when the bytes are no valid instruction there
 * (or run out). Only op[0..i.operand_count) are filled in.
 */
int insn_decode(const uint8_t *bytes, unsigned avail, unsigned mode, struct insn *out);

/*
 * A CPU's last decoded instructions, keyed by their bytes: a guest's stores
 * to the page thinvisor write-protects come from a handful of places in its
 * code (Linux: its APIC write and EOI helpers), and a decode costs some 1,500
 * instructions where a hit costs a compare (of two words, masked to the
 * instruction's length). An instruction's decoding
 * depends only on its bytes and the code size, so an entry never goes stale.
 * Zeroed: empty. One per CPU, used only by it: no lock.
 */
#define INSN_CACHE_ENTRIES 2
struct insn_cache {
    struct insn_cache_entry {
        uint64_t key[2];              /* its bytes, little-endian, zero past its length */
        uint64_t key_mask[2];         /* the bits of key that are its bytes */
        uint8_t length;               /* of the instruction; 0: an empty entry */
        uint8_t mode;
        struct insn x;
    } entry[INSN_CACHE_ENTRIES];
    unsigned next;                    /* the entry the next miss replaces */
};

/*
 * insn_decode through the cache: the decoded instruction (valid until the
 * next call on this cache), or NULL as insn_decode's -1.
 */
const struct insn *insn_decode_cached(struct insn_cache *c, const uint8_t *bytes,
                                      unsigned avail, unsigned mode);

/* The instructions an SVM exit can be for without saying where the next one starts. */
enum insn_kind { INSN_CPUID, INSN_VMMCALL, INSN_RDMSR, INSN_WRMSR, INSN_INVD, INSN_HLT,
                 INSN_MWAIT };

/*
 * The length of the instruction at bytes[0..avail) when it is `kind`, else
 * -1 (another instruction: the guest changed it meanwhile).
 */
int insn_length_if(const uint8_t *bytes, unsigned avail, unsigned mode, enum insn_kind kind);

/*
 * Whether bytes[0..avail) start with one of AMD's SVM instructions (VMRUN,
 * VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA), which a CPU without SVM
 * answers with #UD at any CPL (APM Vol. 3).
 */
bool insn_is_svm(const uint8_t *bytes, unsigned avail, unsigned mode);

/*
 * A general register operand's place in the guest's registers: its index in
 * the SDM's encoding order (0 RAX .. 15 R15), its width in bytes, and
 * whether it is AH, CH, DH or BH (bits 15:8). False for any other register.
 * Inline: every emulated store asks it for its source register.
 */
static inline bool insn_gpr(ZydisRegister reg, unsigned *index, unsigned *width, bool *high_byte)
{
    *high_byte = false;
    if (reg >= ZYDIS_REGISTER_RAX && reg <= ZYDIS_REGISTER_R15) {
        *index = reg - ZYDIS_REGISTER_RAX;
        *width = 8;
    } else if (reg >= ZYDIS_REGISTER_EAX && reg <= ZYDIS_REGISTER_R15D) {
        *index = reg - ZYDIS_REGISTER_EAX;
        *width = 4;
    } else if (reg >= ZYDIS_REGISTER_AX && reg <= ZYDIS_REGISTER_R15W) {
        *index = reg - ZYDIS_REGISTER_AX;
        *width = 2;
    } else if (reg >= ZYDIS_REGISTER_AH && reg <= ZYDIS_REGISTER_BH) {
        *index = reg - ZYDIS_REGISTER_AH;           /* AH CH DH BH: RAX..RBX, bits 15:8 */
        *width = 1;
        *high_byte = true;
    } else if (reg >= ZYDIS_REGISTER_AL && reg <= ZYDIS_REGISTER_BL) {
        *index = reg - ZYDIS_REGISTER_AL;
        *width = 1;
    } else if (reg >= ZYDIS_REGISTER_SPL && reg <= ZYDIS_REGISTER_R15B) {
        *index = 4 + (reg - ZYDIS_REGISTER_SPL);    /* SPL BPL SIL DIL R8B..R15B */
        *width = 1;
    } else {
        return false;
    }
    return true;
}

#endif
