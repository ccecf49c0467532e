/*
 * The guest instruction behind an exit that has no instruction information
 * (an EPT violation on a page whose writes thinvisor performs or drops):
 * fetched through the guest's own page tables from CS:RIP, then decoded as a
 * store (vmx/mmio_decode.c).
 */
#include "kernel/cr_bits.h"
#include "mm/guest_walk.h"
#include "mm/hv_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

#define AR_L           (1u << 13)   /* CS: 64-bit code segment */
#define AR_DB          (1u << 14)   /* CS: 32-bit default operand size */

/* Guest physical memory the hypervisor may read for the guest: identity-mapped, not ours. */
static bool read_guest_phys(uint64_t gpa, void *buf, unsigned len, void *ctx)
{
    (void)ctx;
    if (gpa + len < gpa || gpa + len > hv_memory.identity_top ||
        (gpa < hv_memory.base + hv_memory.size && gpa + len > hv_memory.base))
        return false;
    const uint8_t *src = phys_to_virt(gpa);
    uint8_t *dst = buf;
    for (unsigned i = 0; i < len; i++)
        dst[i] = src[i];
    return true;
}

/* Default operand size of the guest's code: 8 in 64-bit mode, else CS.D/B says 4 or 2. */
static unsigned guest_code_mode(void)
{
    uint32_t ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
    if ((vmread(VMCS_GUEST_EFER) & EFER_LMA) && (ar & AR_L))
        return 8;
    return ar & AR_DB ? 4 : 2;
}

/* Up to 15 bytes at the guest's CS:RIP, through its page tables; how many could be read. */
static unsigned fetch_guest_code(uint8_t *buf, unsigned mode)
{
    struct guest_paging p = {
        .cr0 = vmread(VMCS_GUEST_CR0), .cr3 = vmread(VMCS_GUEST_CR3),
        .cr4 = vmread(VMCS_GUEST_CR4), .efer = vmread(VMCS_GUEST_EFER),
    };
    uint64_t linear = vmread(VMCS_GUEST_RIP);
    if (mode != 8)
        linear = (uint32_t)(linear + vmread(VMCS_GUEST_CS_BASE));
    unsigned got = 0;
    while (got < INSN_MAX_LEN) {
        uint64_t la = linear + got, gpa;
        unsigned chunk = 4096 - (unsigned)(la & 0xFFF);
        if (chunk > INSN_MAX_LEN - got)
            chunk = INSN_MAX_LEN - got;
        if (!guest_linear_to_phys(&p, la, read_guest_phys, NULL, &gpa) ||
            !read_guest_phys(gpa, buf + got, chunk, NULL))
            break;
        got += chunk;
    }
    return got;
}

int vmx_decode_guest_store(struct mmio_store *st, uint8_t insn[INSN_MAX_LEN], unsigned *got)
{
    unsigned mode = guest_code_mode();
    *got = fetch_guest_code(insn, mode);
    return mmio_decode_store(insn, *got, mode, st);
}
