/*
 * VMX capabilities: what the capability MSRs allow, and the controls
 * thinvisor asks for, adjusted to them (Intel SDM Vol. 3C, Appendix A).
 * Portable C: the kernel reads the MSRs, this decides.
 */
#ifndef THINVISOR_VMX_CAPS_H
#define THINVISOR_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b)     ((uint32_t)(b) & 0x7FFFFFFF)
#define VMX_BASIC_REGION_SIZE(b)  ((uint32_t)((b) >> 32) & 0x1FFF)
#define VMX_BASIC_32BIT_ADDR      (1ull << 48)
#define VMX_BASIC_MEMTYPE(b)      ((uint32_t)((b) >> 50) & 0xF)
#define VMX_BASIC_TRUE_CTLS       (1ull << 55)

/* IA32_VMX_MISC (A.6) */
#define VMX_MISC_ACTIVITY_HLT     (1ull << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN (1ull << 7)
#define VMX_MISC_ACTIVITY_SIPI    (1ull << 8)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_WALK4             (1ull << 6)
#define EPT_CAP_UC                (1ull << 8)
#define EPT_CAP_WB                (1ull << 14)
#define EPT_CAP_2M                (1ull << 16)
#define EPT_CAP_1G                (1ull << 17)
#define EPT_CAP_INVEPT            (1ull << 20)
#define EPT_CAP_INVEPT_SINGLE     (1ull << 25)
#define EPT_CAP_INVEPT_ALL        (1ull << 26)
#define VPID_CAP_INVVPID          (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE   (1ull << 41)
#define VPID_CAP_INVVPID_ALL      (1ull << 42)

/* The raw capability MSRs; the control fields hold the TRUE_* MSRs where BASIC[55] says so. */
struct vmx_caps {
    uint64_t basic;
    uint64_t pin, proc, proc2, exit, entry;
    uint64_t misc;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t ept_vpid;
};

/* The controls thinvisor will run with, and the optional features it got. */
struct vmx_controls {
    uint32_t pin, proc, proc2, exit, entry;
    bool vpid;
    bool wait_for_sipi;       /* activity state usable for parked APs */
    bool nmi_window;          /* NMI-window exiting can be turned on (with virtual NMIs) */
    bool ept_2m, ept_1g;
    bool invept_single;       /* else all-context */
    uint32_t revision;
};

/*
 * Adjusts `want` to a control MSR: bits its low half requires are set, bits
 * its high half forbids are cleared (SDM Vol. 3C, A.3.1). `*forbidden` gets
 * the wanted bits that could not be set.
 */
uint32_t vmx_adjust_controls(uint32_t want, uint64_t cap_msr, uint32_t *forbidden);

/*
 * Decides whether thinvisor can run on these capabilities and with which
 * controls. Returns 0, or -1 with a list of what is missing in `why`.
 */
int vmx_caps_evaluate(const struct vmx_caps *c, struct vmx_controls *out, char *why,
                      size_t whylen);

/* A CR0/CR4 value made legal for VMX operation (fixed-0 bits set, fixed-1 bits kept). */
uint64_t vmx_fix_cr(uint64_t value, uint64_t fixed0, uint64_t fixed1);

/* The same for a guest CR0 under unrestricted guest, where PE and PG may be 0 (26.3.1.1). */
uint64_t vmx_fix_guest_cr0(uint64_t value, const struct vmx_caps *c);

#endif
