/*
 * CPUID as the guest sees it. Everything passes through except what a
 * hypervisor must change: VMX and AMD's SVM are hidden (the guest cannot use
 * them: their instructions get #UD), the "hypervisor present" bit is set
 * (Linux then skips microcode loading, which loops under hypervisors),
 * leaves 0x40000000.. identify thinvisor, and the bits the SDM defines as
 * copies of a CR4 bit come from the guest's CR4: CPUID runs in the host,
 * whose CR4 is not the guest's (DESIGN.md, "Power states and devices").
 */
#include "guest/guest.h"

#include "kernel/version.h"
#include "abi/hypercall.h"
#include "abi/status.h"

#include "kernel/cr_bits.h"

#define CPUID1_ECX_SMX (1u << 6)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_OSXSAVE (1u << 27)    /* CR4.OSXSAVE (SDM Vol. 2A, CPUID, Table 3-10) */
#define CPUID7_ECX_PKU (1u << 3)
#define CPUID7_ECX_OSPKE (1u << 4)       /* CR4.PKE (SDM Vol. 2A, CPUID, Table 3-8) */
#define CPUID_80000001_ECX_SVM (1u << 2)

static struct { uint64_t base, size; } published[2];   /* status area, log ring */
static void (*status_refresh)(void);

void guest_set_status_refresh(void (*refresh)(void))
{
    status_refresh = refresh;
}

void guest_set_status_area(uint64_t base, uint64_t size, uint64_t log_base, uint64_t log_size)
{
    published[0].base = base;
    published[0].size = size;
    published[1].base = log_base;
    published[1].size = log_size;
}

bool guest_published_range(uint32_t index, uint64_t *base, uint64_t *size, uint32_t *kind)
{
    if (index < 1 || index > 2 || !published[index - 1].size)
        return false;
    *base = published[index - 1].base;
    *size = published[index - 1].size;
    *kind = index == 1 ? TV_MEM_STATUS : TV_MEM_LOG;
    return true;
}

uint32_t guest_version_word(void)
{
    return THINVISOR_VERSION_MAJOR << 16 | THINVISOR_VERSION_MINOR << 8 |
           THINVISOR_VERSION_PATCH;
}

/* A CPUID bit that reads as a CR4 bit, where the CPU has the feature behind it. */
static uint32_t mirror_cr4(uint32_t reg, uint32_t feature, uint32_t bit, uint64_t cr4,
                           uint64_t cr4_bit)
{
    reg &= ~bit;
    return (reg & feature) && (cr4 & cr4_bit) ? reg | bit : reg;
}

void guest_cpuid_filter(uint32_t leaf, uint32_t subleaf, uint64_t guest_cr4, uint32_t regs[4])
{
    if (leaf == 1) {
        /* SMX too: GETSEC always exits and gets #UD. */
        regs[2] &= ~(TV_CPUID1_ECX_VMX | CPUID1_ECX_SMX);
        regs[2] |= TV_CPUID1_ECX_HYPERVISOR;
        regs[2] = mirror_cr4(regs[2], CPUID1_ECX_XSAVE, CPUID1_ECX_OSXSAVE, guest_cr4,
                             CR4_OSXSAVE);
    } else if (leaf == 7) {
        if (subleaf == 0)
            regs[2] = mirror_cr4(regs[2], CPUID7_ECX_PKU, CPUID7_ECX_OSPKE, guest_cr4, CR4_PKE);
    } else if (leaf == TV_CPUID_BASE) {
        regs[0] = TV_CPUID_MAX_LEAF;
        regs[1] = TV_SIGNATURE_EBX;
        regs[2] = TV_SIGNATURE_ECX;
        regs[3] = TV_SIGNATURE_EDX;
    } else if (leaf == TV_CPUID_VERSION_LEAF) {
        regs[0] = guest_version_word();
        regs[1] = TV_FEATURE_VMCALL | (published[0].size ? TV_FEATURE_STATUS_AREA : 0);
        regs[2] = 0;
        regs[3] = 0;
    } else if (leaf == TV_CPUID_STATUS_LEAF) {
        if (status_refresh)
            status_refresh();
        regs[0] = (uint32_t)published[0].base;
        regs[1] = (uint32_t)(published[0].base >> 32);
        regs[2] = (uint32_t)published[0].size;
        regs[3] = published[0].size ? TV_STATUS_ABI_VERSION : 0;
    } else if (leaf > TV_CPUID_MAX_LEAF && leaf <= 0x4FFFFFFFu) {
        /* The rest of the hypervisor range is ours and empty. */
        regs[0] = regs[1] = regs[2] = regs[3] = 0;
    } else if (leaf == 0x80000001u) {
        regs[2] &= ~CPUID_80000001_ECX_SVM;
    } else if (leaf == 0x8000000Au) {
        /* SVM's revision and features: reserved (zero) where there is no SVM. */
        regs[0] = regs[1] = regs[2] = regs[3] = 0;
    }
}
