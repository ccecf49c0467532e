/*
 * Reading the processor's MTRRs into a struct mtrr_state (mm/mtrr.h), and
 * the checks a guest's MTRR write must pass before it reaches the hardware
 * (a bad value written in VMX root would #GP in the hypervisor instead).
 */
#include "kernel/x86.h"
#include "mm/mtrr_msr.h"

static unsigned maxphyaddr(void)
{
    if (cpuid(0x80000000, 0).eax >= 0x80000008)
        return cpuid(0x80000008, 0).eax & 0xFF;
    return 36;
}

void mtrr_read_current(struct mtrr_state *s)
{
    if (!(cpuid(1, 0).edx & (1u << 12))) {                 /* no MTRRs: all WB */
        *s = (struct mtrr_state){ .enabled = true, .default_type = MT_WB,
                                  .phys_mask = (1ull << maxphyaddr()) - 1 };
        return;
    }
    uint64_t cap = rdmsr(MSR_IA32_MTRRCAP);
    uint64_t fixed[MTRR_FIXED_MSRS] = { 0 };
    static const uint32_t fixed_msrs[MTRR_FIXED_MSRS] = {
        0x250, 0x258, 0x259, 0x268, 0x269, 0x26A, 0x26B, 0x26C, 0x26D, 0x26E, 0x26F,
    };
    if (cap & MTRRCAP_FIX)
        for (int i = 0; i < MTRR_FIXED_MSRS; i++)
            fixed[i] = rdmsr(fixed_msrs[i]);
    uint64_t base[MTRR_MAX_VAR] = { 0 }, mask[MTRR_MAX_VAR] = { 0 };
    unsigned n = cap & MTRRCAP_VCNT_MASK;
    for (unsigned i = 0; i < n && i < MTRR_MAX_VAR; i++) {
        base[i] = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
        mask[i] = rdmsr(MSR_IA32_MTRR_PHYSMASK0 + 2 * i);
    }
    mtrr_state_from_msrs(s, cap, rdmsr(MSR_IA32_MTRR_DEF_TYPE), fixed, base, mask, maxphyaddr());
}

static bool valid_type(uint64_t t)
{
    return t == MT_UC || t == MT_WC || t == MT_WT || t == MT_WP || t == MT_WB;
}

/* SDM Vol. 3A, 12.11.2 and 12.11.3: which values each MTRR MSR accepts. */
bool mtrr_write_allowed(const struct mtrr_state *s, uint32_t msr, uint64_t value)
{
    uint64_t above_phys = ~s->phys_mask;
    if (msr == MSR_IA32_MTRR_DEF_TYPE)
        return valid_type(value & 0xFF) && !(value & ~0xCFFull);
    if (msr == MSR_IA32_MTRR_FIX64K_00000 || msr == MSR_IA32_MTRR_FIX16K_80000 ||
        msr == MSR_IA32_MTRR_FIX16K_A0000 ||
        (msr >= MSR_IA32_MTRR_FIX4K_C0000 && msr <= MSR_IA32_MTRR_FIX4K_F8000)) {
        for (int i = 0; i < 8; i++)
            if (!valid_type((value >> (8 * i)) & 0xFF))
                return false;
        return true;
    }
    if (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * s->var_count) {
        if ((msr - MSR_IA32_MTRR_PHYSBASE0) % 2 == 0)
            return valid_type(value & 0xFF) && !(value & 0xF00) && !(value & above_phys);
        return !(value & 0x7FF) && !(value & above_phys);
    }
    return false;
}
