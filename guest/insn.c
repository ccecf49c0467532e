/* A guest instruction through Zydis (see insn.h). */
#include "guest/insn.h"

#include "kernel/string.h"

/*
 * The instruction alone (no operands): its length and mnemonic. d and ctx
 * keep what decoding its operands afterwards needs. 0, or -1 (no valid
 * instruction in this mode, or the bytes ran out).
 */
static int decode_instruction(const uint8_t *bytes, unsigned avail, unsigned mode,
                              ZydisDecoder *d, ZydisDecoderContext *ctx,
                              ZydisDecodedInstruction *i)
{
    ZydisMachineMode m = mode == 8 ? ZYDIS_MACHINE_MODE_LONG_64
                       : mode == 4 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
    ZydisStackWidth w = mode == 8 ? ZYDIS_STACK_WIDTH_64
                      : mode == 4 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
    if ((mode != 2 && mode != 4 && mode != 8) || !ZYAN_SUCCESS(ZydisDecoderInit(d, m, w)))
        return -1;
    if (avail > INSN_MAX_LEN)
        avail = INSN_MAX_LEN;
    return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(d, ctx, bytes, avail, i)) ? 0 : -1;
}

/*
 * Only the operands the instruction has: ZydisDecoderDecodeFull also clears
 * the unused ones, some 640 bytes, which was a third of a decode's cost on
 * every emulated APIC store.
 */
int insn_decode(const uint8_t *bytes, unsigned avail, unsigned mode, struct insn *out)
{
    ZydisDecoderContext ctx;
    ZydisDecoder d;
    if (decode_instruction(bytes, avail, mode, &d, &ctx, &out->i) != 0)
        return -1;
    out->mode = mode;
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeOperands(&d, &ctx, &out->i, out->op,
                                                 out->i.operand_count)))
        return -1;
    out->written_mem = out->source = -1;
    for (int k = 0; k < out->i.operand_count; k++) {
        const ZydisDecodedOperand *o = &out->op[k];
        if (o->type == ZYDIS_OPERAND_TYPE_MEMORY && o->mem.type == ZYDIS_MEMOP_TYPE_MEM &&
            (o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            out->written_mem = (int8_t)k;
    }
    for (int k = 0; k < out->i.operand_count_visible; k++)
        if (k != out->written_mem)
            out->source = (int8_t)k;
    return 0;
}

/* The mask of an instruction's first `length` bytes within word `w` (0 or 1) of its key. */
static uint64_t key_mask(unsigned length, unsigned w)
{
    unsigned bytes = length > 8 * w ? length - 8 * w : 0;
    return bytes >= 8 ? ~0ull : (1ull << (8 * bytes)) - 1;
}

/*
 * A miss: decoded into the entry the cache replaces next. Apart, so that a
 * hit saves no registers for it.
 */
static __attribute__((noinline)) const struct insn *
decode_into_cache(struct insn_cache *c, const uint64_t key[2], const uint8_t *bytes,
                  unsigned avail, unsigned mode)
{
    struct insn_cache_entry *e = &c->entry[c->next];
    e->length = 0;
    if (insn_decode(bytes, avail, mode, &e->x) != 0)
        return NULL;                      /* not cached: undecodable bytes are rare */
    e->length = e->x.i.length;
    e->mode = (uint8_t)mode;
    for (unsigned i = 0; i < 2; i++) {
        e->key_mask[i] = key_mask(e->length, i);
        e->key[i] = key[i] & e->key_mask[i];
    }
    c->next = (c->next + 1) % INSN_CACHE_ENTRIES;
    return &e->x;
}

const struct insn *insn_decode_cached(struct insn_cache *c, const uint8_t *bytes,
                                      unsigned avail, unsigned mode)
{
    uint64_t w[2] = { 0, 0 };
    memcpy(w, bytes, avail < INSN_MAX_LEN ? avail : INSN_MAX_LEN);
    for (unsigned k = 0; k < INSN_CACHE_ENTRIES; k++) {
        const struct insn_cache_entry *e = &c->entry[k];
        if (e->length && e->mode == mode && e->length <= avail &&
            (((w[0] ^ e->key[0]) & e->key_mask[0]) | ((w[1] ^ e->key[1]) & e->key_mask[1])) == 0)
            return &e->x;
    }
    return decode_into_cache(c, w, bytes, avail, mode);
}

int insn_length_if(const uint8_t *bytes, unsigned avail, unsigned mode, enum insn_kind kind)
{
    static const ZydisMnemonic mnemonic[] = {
        [INSN_CPUID] = ZYDIS_MNEMONIC_CPUID, [INSN_VMMCALL] = ZYDIS_MNEMONIC_VMMCALL,
        [INSN_RDMSR] = ZYDIS_MNEMONIC_RDMSR, [INSN_WRMSR] = ZYDIS_MNEMONIC_WRMSR,
        [INSN_INVD] = ZYDIS_MNEMONIC_INVD, [INSN_HLT] = ZYDIS_MNEMONIC_HLT,
        [INSN_MWAIT] = ZYDIS_MNEMONIC_MWAIT,
    };
    ZydisDecoder d;
    ZydisDecoderContext ctx;
    ZydisDecodedInstruction i;
    if (decode_instruction(bytes, avail, mode, &d, &ctx, &i) != 0 || i.mnemonic != mnemonic[kind])
        return -1;
    return i.length;
}

bool insn_is_svm(const uint8_t *bytes, unsigned avail, unsigned mode)
{
    ZydisDecoder d;
    ZydisDecoderContext ctx;
    ZydisDecodedInstruction i;
    if (decode_instruction(bytes, avail, mode, &d, &ctx, &i) != 0)
        return false;
    switch (i.mnemonic) {
    case ZYDIS_MNEMONIC_VMRUN: case ZYDIS_MNEMONIC_VMLOAD: case ZYDIS_MNEMONIC_VMSAVE:
    case ZYDIS_MNEMONIC_STGI: case ZYDIS_MNEMONIC_CLGI: case ZYDIS_MNEMONIC_SKINIT:
    case ZYDIS_MNEMONIC_INVLPGA:
        return true;
    default:
        return false;
    }
}
