/* Model-specific register numbers (Intel SDM Vol. 4). MTRR MSRs are in mm/mtrr.h. */
#ifndef THINVISOR_MSR_H
#define THINVISOR_MSR_H

#define MSR_IA32_FEATURE_CONTROL     0x03A
#define   FEATURE_CONTROL_LOCK        (1ull << 0)
#define   FEATURE_CONTROL_VMX_IN_SMX  (1ull << 1)
#define   FEATURE_CONTROL_VMX_OUTSIDE (1ull << 2)
#define MSR_IA32_APIC_BASE           0x01B
#define MSR_IA32_SYSENTER_CS         0x174
#define MSR_IA32_SYSENTER_ESP        0x175
#define MSR_IA32_SYSENTER_EIP        0x176
#define MSR_IA32_DEBUGCTL            0x1D9
#define   DEBUGCTL_BTF                (1ull << 1)    /* single-step on branches (SDM Vol. 3B, 18.4.1) */
#define MSR_IA32_PAT                 0x277
#define   PAT_POWER_ON                0x0007040600070406ull   /* SDM Vol. 3A, 13.12.4 */
#define MSR_IA32_VMX_BASIC           0x480
#define MSR_IA32_VMX_PINBASED_CTLS   0x481
#define MSR_IA32_VMX_PROCBASED_CTLS  0x482
#define MSR_IA32_VMX_EXIT_CTLS       0x483
#define MSR_IA32_VMX_ENTRY_CTLS      0x484
#define MSR_IA32_VMX_MISC            0x485
#define MSR_IA32_VMX_CR0_FIXED0      0x486
#define MSR_IA32_VMX_CR0_FIXED1      0x487
#define MSR_IA32_VMX_CR4_FIXED0      0x488
#define MSR_IA32_VMX_CR4_FIXED1      0x489
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP    0x48C
#define MSR_IA32_VMX_TRUE_PINBASED   0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED  0x48E
#define MSR_IA32_VMX_TRUE_EXIT       0x48F
#define MSR_IA32_VMX_TRUE_ENTRY      0x490
#define MSR_IA32_VMX_LAST            0x493   /* ..VMFUNC 0x491, PROCBASED_CTLS3, EXIT_CTLS2 */
#define MSR_IA32_EFER                0xC0000080
#define MSR_FS_BASE                  0xC0000100
#define MSR_GS_BASE                  0xC0000101

#endif
