/* A guest instruction through Zydis (see insn.h). */
#include "guest/insn.h"

int insn_decode(const uint8_t *bytes, unsigned avail, unsigned mode, struct insn *out)
{
    ZydisDecoder d;
    ZydisMachineMode m = mode == 8 ? ZYDIS_MACHINE_MODE_LONG_64
                       : mode == 4 ? ZYDIS_MACHINE_MODE_LEGACY_32 : ZYDIS_MACHINE_MODE_LEGACY_16;
    ZydisStackWidth w = mode == 8 ? ZYDIS_STACK_WIDTH_64
                      : mode == 4 ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
    if ((mode != 2 && mode != 4 && mode != 8) || !ZYAN_SUCCESS(ZydisDecoderInit(&d, m, w)))
        return -1;
    if (avail > INSN_MAX_LEN)
        avail = INSN_MAX_LEN;
    out->mode = mode;
    return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, bytes, avail, &out->i, out->op)) ? 0 : -1;
}

int insn_length_if(const uint8_t *bytes, unsigned avail, unsigned mode, enum insn_kind kind)
{
    static const ZydisMnemonic mnemonic[] = {
        [INSN_CPUID] = ZYDIS_MNEMONIC_CPUID, [INSN_VMMCALL] = ZYDIS_MNEMONIC_VMMCALL,
        [INSN_RDMSR] = ZYDIS_MNEMONIC_RDMSR, [INSN_WRMSR] = ZYDIS_MNEMONIC_WRMSR,
        [INSN_INVD] = ZYDIS_MNEMONIC_INVD,
    };
    struct insn x;
    if (insn_decode(bytes, avail, mode, &x) != 0 || x.i.mnemonic != mnemonic[kind])
        return -1;
    return x.i.length;
}

bool insn_gpr(ZydisRegister reg, unsigned *index, unsigned *width, bool *high_byte)
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
