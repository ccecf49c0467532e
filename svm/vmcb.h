/*
 * The VMCB: the 4 KiB control block of one SVM guest (AMD64 APM Vol. 2,
 * Appendix B). Offsets of the fields thinvisor uses, the intercept bits, the
 * exit codes (Appendix C) and the SVM MSRs. One place for these facts: the
 * SVM backend (svm/) reads and writes the VMCB only through vmcb_u64 and
 * friends below.
 */
#ifndef THINVISOR_VMCB_H
#define THINVISOR_VMCB_H

#include <stdint.h>

#include "kernel/segment.h"

/* ---- control area (Table B-1) ---- */
#define VMCB_INTERCEPT_CR        0x000   /* u32: bits 0-15 CR reads, 16-31 CR writes */
#define VMCB_INTERCEPT_DR        0x004
#define VMCB_INTERCEPT_EXC       0x008   /* u32: one bit per exception vector */
#define VMCB_INTERCEPT_MISC1     0x00C   /* u32: the INTERCEPT_* bits below */
#define VMCB_INTERCEPT_MISC2     0x010   /* u32: the INTERCEPT2_* bits below */
#define VMCB_IOPM_BASE           0x040   /* u64: I/O permission map, 12 KiB */
#define VMCB_MSRPM_BASE          0x048   /* u64: MSR permission map, 8 KiB */
#define VMCB_TSC_OFFSET          0x050
#define VMCB_ASID                0x058   /* u32: never 0 for a guest */
#define VMCB_TLB_CONTROL         0x05C   /* u8 */
#define VMCB_VINTR               0x060
#define VMCB_INTERRUPT_SHADOW    0x068
#define VMCB_EXITCODE            0x070
#define VMCB_EXITINFO1           0x078
#define VMCB_EXITINFO2           0x080
#define VMCB_EXITINTINFO         0x088
#define VMCB_NP_ENABLE           0x090   /* u64: bit 0 nested paging */
#define VMCB_EVENTINJ            0x0A8
#define VMCB_N_CR3               0x0B0   /* u64: the nested page table root */
#define VMCB_CLEAN               0x0C0   /* u32: clean bits; 0 = reload everything */
#define VMCB_NRIP                0x0C8   /* u64: next RIP, with NRIP save (CPUID 8000_000A EDX[3]) */
/*
 * u8 count, then up to 15 bytes from the guest's CS:RIP, after a data nested
 * page fault, with decode assists (CPUID 8000_000A EDX[7]; APM Vol. 2,
 * chapter 15, "Decode Assists"). A count of 0: the CPU could not read them.
 */
#define VMCB_INSN_BYTES          0x0D0

/* ---- state save area (Table B-2), from offset 0x400 ---- */
#define VMCB_ES                  0x400   /* segments: u16 selector, u16 attrib, u32 limit, u64 base */
#define VMCB_CS                  0x410
#define VMCB_SS                  0x420
#define VMCB_DS                  0x430
#define VMCB_FS                  0x440
#define VMCB_GS                  0x450
#define VMCB_GDTR                0x460
#define VMCB_LDTR                0x470
#define VMCB_IDTR                0x480
#define VMCB_TR                  0x490
#define VMCB_SEG_SELECTOR        0       /* offsets inside one segment field */
#define VMCB_SEG_ATTRIB          2
#define VMCB_SEG_LIMIT           4
#define VMCB_SEG_BASE            8
#define VMCB_CPL                 0x4CB   /* u8 */
#define VMCB_EFER                0x4D0
#define VMCB_CR4                 0x548
#define VMCB_CR3                 0x550
#define VMCB_CR0                 0x558
#define VMCB_DR7                 0x560
#define VMCB_DR6                 0x568
#define VMCB_RFLAGS              0x570
#define VMCB_RIP                 0x578
#define VMCB_RSP                 0x5D8
#define VMCB_RAX                 0x5F8
#define VMCB_KERNEL_GS_BASE      0x620   /* VMLOAD/VMSAVE, with STAR..SYSENTER_EIP */
#define VMCB_CR2                 0x640
#define VMCB_G_PAT               0x668

/* Segment attributes, compressed (APM 15.5.1): descriptor bits 47:40 in 7:0, 55:52 in 11:8. */
#define VMCB_ATTR_L              (1u << 9)    /* 64-bit code segment */
#define VMCB_ATTR_DB             (1u << 10)   /* 32-bit default operand size */

/* The same bits from the VMCS access-rights layout (kernel/segment.h); unusable is P = 0. */
static inline uint16_t vmcb_attrib(uint32_t vmcs_ar)
{
    return (uint16_t)(vmcs_ar & SEG_AR_UNUSABLE ? 0 : (vmcs_ar & 0xFF) | ((vmcs_ar >> 4) & 0xF00));
}

/* INTERCEPT_MISC1 (vector 3) and MISC2 (vector 4) bits. */
#define INTERCEPT_NMI            (1u << 1)
#define INTERCEPT_INIT           (1u << 3)
#define INTERCEPT_CPUID          (1u << 18)
#define INTERCEPT_IRET           (1u << 20)
#define INTERCEPT_INVD           (1u << 22)
#define INTERCEPT_HLT            (1u << 24)
#define INTERCEPT_INVLPGA        (1u << 26)
#define INTERCEPT_IOIO_PROT      (1u << 27)
#define INTERCEPT_MSR_PROT       (1u << 28)
#define INTERCEPT_SHUTDOWN       (1u << 31)
#define INTERCEPT2_VMRUN         (1u << 0)    /* VMRUN refuses a VMCB without it */
#define INTERCEPT2_VMMCALL       (1u << 1)
#define INTERCEPT2_VMLOAD        (1u << 2)
#define INTERCEPT2_VMSAVE        (1u << 3)
#define INTERCEPT2_STGI          (1u << 4)
#define INTERCEPT2_CLGI          (1u << 5)
#define INTERCEPT2_SKINIT        (1u << 6)
#define INTERCEPT2_MWAIT         (1u << 11)   /* MWAIT, armed or not */
#define INTERCEPT2_MWAIT_ARMED   (1u << 12)   /* MWAIT with its monitor armed */

/* VMCB_INTERRUPT_SHADOW bit 0: the guest is right after STI or MOV SS (APM 15.21.5). */
#define INTERRUPT_SHADOW         (1ull << 0)

#define TLB_CONTROL_FLUSH_ASID   3     /* flush this guest's TLB entries at VMRUN */

/* EVENTINJ (APM 15.20), and EXITINTINFO in the same layout: vector 7:0, type 10:8, error
 * code valid 11, valid 31, the error code in 63:32. */
#define EVENTINJ_VALID           (1ull << 31)
#define EVENTINJ_ERROR_VALID     (1ull << 11)
#define EVENTINJ_TYPE_MASK       (7ull << 8)
#define EVENTINJ_TYPE_INTR       (0ull << 8)
#define EVENTINJ_TYPE_NMI        (2ull << 8)
#define EVENTINJ_TYPE_EXCEPTION  (3ull << 8)
#define EVENTINJ_TYPE_SOFT_INT   (4ull << 8)

/* Exit codes (Appendix C). */
#define SVM_EXIT_EXCP_BASE       0x040   /* + the vector: an intercepted exception */
#define SVM_EXIT_EXCP_DB         0x041
#define SVM_EXIT_EXCP_GP         0x04D
#define SVM_EXIT_NMI             0x061
#define SVM_EXIT_INIT            0x063
#define SVM_EXIT_CPUID           0x072
#define SVM_EXIT_IRET            0x074
#define SVM_EXIT_INVD            0x076
#define SVM_EXIT_HLT             0x078
#define SVM_EXIT_INVLPGA         0x07A
#define SVM_EXIT_IOIO            0x07B
#define SVM_EXIT_MSR             0x07C
#define SVM_EXIT_SHUTDOWN        0x07F
#define SVM_EXIT_VMRUN           0x080
#define SVM_EXIT_VMMCALL         0x081
#define SVM_EXIT_VMLOAD          0x082
#define SVM_EXIT_VMSAVE          0x083
#define SVM_EXIT_STGI            0x084
#define SVM_EXIT_CLGI            0x085
#define SVM_EXIT_SKINIT          0x086
#define SVM_EXIT_MWAIT           0x08B
#define SVM_EXIT_MWAIT_ARMED     0x08C
#define SVM_EXIT_NPF             0x400
#define SVM_EXIT_INVALID         (~0ull)  /* VMRUN found the guest state inconsistent */

/* EXITINFO1 of an IOIO exit (APM 15.10.2): bit 0 IN, bit 2 string, bits 6:4 size, 31:16 port. */
#define IOIO_IN                  (1u << 0)
#define IOIO_STRING              (1u << 2)
/* EXITINFO1 of an NPF (APM 15.25.6): the #PF error code: bit 1 write, bit 4 fetch. */
#define NPF_WRITE                (1ull << 1)
#define NPF_FETCH                (1ull << 4)

/* SVM MSRs (APM Vol. 2, 15.30). */
#define MSR_VM_CR                0xC0010114
#define VM_CR_LOCK               (1ull << 3)
#define VM_CR_SVMDIS             (1ull << 4)
#define MSR_VM_HSAVE_PA          0xC0010117
#define EFER_SVME                (1ull << 12)

static inline uint64_t vmcb_u64(const void *vmcb, unsigned off)
{
    return *(const volatile uint64_t *)((const uint8_t *)vmcb + off);
}

static inline void vmcb_set_u64(void *vmcb, unsigned off, uint64_t v)
{
    *(volatile uint64_t *)((uint8_t *)vmcb + off) = v;
}

static inline uint32_t vmcb_u32(const void *vmcb, unsigned off)
{
    return *(const volatile uint32_t *)((const uint8_t *)vmcb + off);
}

static inline void vmcb_set_u32(void *vmcb, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)((uint8_t *)vmcb + off) = v;
}

static inline uint8_t vmcb_u8(const void *vmcb, unsigned off)
{
    return *((const volatile uint8_t *)vmcb + off);
}

static inline void vmcb_set_u8(void *vmcb, unsigned off, uint8_t v)
{
    *((volatile uint8_t *)vmcb + off) = v;
}

/* One segment register of the state save area. */
static inline void vmcb_set_segment(void *vmcb, unsigned seg, uint16_t selector,
                                    uint16_t attrib, uint32_t limit, uint64_t base)
{
    uint8_t *p = (uint8_t *)vmcb + seg;
    *(volatile uint16_t *)(p + VMCB_SEG_SELECTOR) = selector;
    *(volatile uint16_t *)(p + VMCB_SEG_ATTRIB) = attrib;
    *(volatile uint32_t *)(p + VMCB_SEG_LIMIT) = limit;
    *(volatile uint64_t *)(p + VMCB_SEG_BASE) = base;
}

#endif
