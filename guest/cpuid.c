/*
 * CPUID as the guest sees it. Everything passes through except what a
 * hypervisor must change: VMX is hidden (the guest cannot use it: every VMX
 * instruction gets #UD), the "hypervisor present" bit is set (Linux then
 * skips microcode loading, which loops under hypervisors), and leaves
 * 0x40000000.. identify thinvisor.
 */
#include "guest/guest.h"

#include "kernel/version.h"
#include "vmx/hypercall_abi.h"

#define CPUID1_ECX_SMX (1u << 6)

uint32_t guest_version_word(void)
{
    return THINVISOR_VERSION_MAJOR << 16 | THINVISOR_VERSION_MINOR << 8 |
           THINVISOR_VERSION_PATCH;
}

void guest_cpuid_filter(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    (void)subleaf;
    if (leaf == 1) {
        /* SMX too: GETSEC always exits and gets #UD. */
        regs[2] &= ~(TV_CPUID1_ECX_VMX | CPUID1_ECX_SMX);
        regs[2] |= TV_CPUID1_ECX_HYPERVISOR;
    } else if (leaf == TV_CPUID_BASE) {
        regs[0] = TV_CPUID_MAX_LEAF;
        regs[1] = TV_SIGNATURE_EBX;
        regs[2] = TV_SIGNATURE_ECX;
        regs[3] = TV_SIGNATURE_EDX;
    } else if (leaf == TV_CPUID_VERSION_LEAF) {
        regs[0] = guest_version_word();
        regs[1] = TV_FEATURE_VMCALL;
        regs[2] = 0;
        regs[3] = 0;
    } else if (leaf > TV_CPUID_MAX_LEAF && leaf <= 0x4FFFFFFFu) {
        /* The rest of the hypervisor range is ours and empty. */
        regs[0] = regs[1] = regs[2] = regs[3] = 0;
    }
}
