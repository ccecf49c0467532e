/*
 * MTRR memory-type resolution (Intel SDM Vol. 3A, 12.11 "Memory Type Range
 * Registers"). With EPT the guest's accesses take their memory type from the
 * EPT leaf (combined with the guest's PAT), not from the MTRRs, so the EPT
 * builder asks this file which type the firmware/guest MTRRs give each block.
 * Plain C, no MSR access: the caller reads the MSRs and hands over the values.
 */
#ifndef THINVISOR_MTRR_H
#define THINVISOR_MTRR_H

#include <stdbool.h>
#include <stdint.h>

/* Memory types (SDM Vol. 3A, 12.11.1, Table 12-8); also the EPT leaf encoding. */
enum mem_type { MT_UC = 0, MT_WC = 1, MT_WT = 4, MT_WP = 5, MT_WB = 6, MT_MIXED = 0xFF };

/* MTRR MSRs (SDM Vol. 4, Table 2-2; Vol. 3A, 12.11.2). Other MSRs are in kernel/msr.h. */
#define MSR_IA32_MTRRCAP             0x0FE
#define MSR_IA32_MTRR_PHYSBASE0      0x200   /* PHYSBASEn = 0x200 + 2n */
#define MSR_IA32_MTRR_PHYSMASK0      0x201   /* PHYSMASKn = 0x201 + 2n */
#define MSR_IA32_MTRR_FIX64K_00000   0x250
#define MSR_IA32_MTRR_FIX16K_80000   0x258
#define MSR_IA32_MTRR_FIX16K_A0000   0x259
#define MSR_IA32_MTRR_FIX4K_C0000    0x268   /* ... FIX4K_F8000 = 0x26F, one per 32 KiB */
#define MSR_IA32_MTRR_FIX4K_F8000    0x26F
#define MSR_IA32_MTRR_DEF_TYPE       0x2FF

#define MTRRCAP_VCNT_MASK     0xFFull       /* number of variable ranges */
#define MTRRCAP_FIX           (1ull << 8)   /* fixed ranges supported */
#define MTRRCAP_WC            (1ull << 10)  /* WC type supported */
#define MTRR_DEF_TYPE_TYPE    0xFFull
#define MTRR_DEF_TYPE_FE      (1ull << 10)  /* fixed ranges enabled */
#define MTRR_DEF_TYPE_E       (1ull << 11)  /* MTRRs enabled */
#define MTRR_PHYSMASK_VALID   (1ull << 11)

#define MTRR_MAX_VAR          32            /* enough for every CPU seen; more are ignored */
#define MTRR_FIXED_MSRS       11
#define MTRR_FIXED_TYPES      88            /* 8 type bytes per fixed-range MSR */
#define MTRR_FIXED_END        0x100000ull   /* the fixed ranges cover the first 1 MiB */

struct mtrr_state {
    bool enabled;          /* IA32_MTRR_DEF_TYPE.E (bit 11) */
    bool fixed_enabled;    /* DEF_TYPE.FE (bit 10) and MTRRCAP.FIX (bit 8) */
    bool fixed_supported;  /* MTRRCAP.FIX: whether a later FE=1 write can enable them */
    uint8_t default_type;  /* DEF_TYPE[7:0] */
    uint8_t fixed[MTRR_FIXED_TYPES];  /* the 88 type bytes of the 11 fixed MSRs, address order */
    uint32_t var_count;    /* MTRRCAP.VCNT, at most MTRR_MAX_VAR */
    struct { uint64_t base, mask; } var[MTRR_MAX_VAR];  /* raw PHYSBASEn / PHYSMASKn */
    uint64_t phys_mask;    /* (1 << MAXPHYADDR) - 1: the address bits the masks use */
};

/*
 * Fills `s` from raw MSR values: IA32_MTRRCAP, IA32_MTRR_DEF_TYPE, the 11
 * fixed-range MSRs in address order (0x250, 0x258, 0x259, 0x268..0x26F; NULL
 * when MTRRCAP.FIX is clear), the VCNT PHYSBASEn/PHYSMASKn values (NULL when
 * VCNT is 0) and MAXPHYADDR (CPUID 0x80000008 EAX[7:0]; 0 means 36).
 */
void mtrr_state_from_msrs(struct mtrr_state *s, uint64_t mtrrcap, uint64_t def_type,
                          const uint64_t fixed_msrs[MTRR_FIXED_MSRS],
                          const uint64_t *physbase, const uint64_t *physmask,
                          unsigned maxphyaddr);

/*
 * True for the MTRR MSRs a guest may write (IA32_MTRRCAP, read-only, is
 * excluded): DEF_TYPE, the fixed ranges and PHYSBASE/PHYSMASK 0..MTRR_MAX_VAR-1.
 * The hypervisor intercepts writes to these to re-type the EPT.
 */
bool mtrr_is_mtrr_msr(uint32_t msr);

/*
 * Applies a guest's WRMSR to the state. Returns false when `msr` is not an
 * MTRR of this CPU (not an MTRR MSR, a variable pair at or above var_count,
 * or a fixed-range MSR when MTRRCAP.FIX is clear): the caller then treats
 * it as it treats any absent MSR. Values are stored as written; checking
 * reserved bits is the caller's (the real WRMSR's) job.
 */
bool mtrr_state_write(struct mtrr_state *s, uint32_t msr, uint64_t value);

/* The memory type of one byte (SDM 12.11.4.1, "MTRR Precedences"). */
uint8_t mtrr_type_of(const struct mtrr_state *s, uint64_t addr);

/*
 * The single type of every byte of [start, start + len), or MT_MIXED; len > 0
 * (len == 0 is treated as 1). Exact whenever the variable ranges have
 * contiguous masks; see mtrr.c for the non-contiguous case.
 */
uint8_t mtrr_type_of_range(const struct mtrr_state *s, uint64_t start, uint64_t len);

/* "UC", "WC", "WT", "WP", "WB", "mixed" or "invalid". */
const char *mem_type_name(uint8_t t);

#endif
