/*
 * The guest instruction behind an exit that has no instruction information
 * (an EPT violation on a page whose writes thinvisor performs or drops):
 * fetched through the guest's own page tables from CS:RIP (mm/guest_walk.c),
 * then decoded as a store (vmx/mmio_decode.c).
 */
#include "mm/guest_walk.h"
#include "mm/hv_memory.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

#define AR_L           (1u << 13)   /* CS: 64-bit code segment */
#define AR_DB          (1u << 14)   /* CS: 32-bit default operand size */

int vmx_decode_guest_store(struct mmio_store *st, uint8_t insn[INSN_MAX_LEN], unsigned *got)
{
    uint32_t ar = (uint32_t)vmread(VMCS_GUEST_CS_AR);
    struct guest_code_at at = {
        .paging = { .cr0 = vmread(VMCS_GUEST_CR0), .cr3 = vmread(VMCS_GUEST_CR3),
                    .cr4 = vmread(VMCS_GUEST_CR4), .efer = vmread(VMCS_GUEST_EFER) },
        .rip = vmread(VMCS_GUEST_RIP), .cs_base = vmread(VMCS_GUEST_CS_BASE),
    };
    at.mode = guest_code_mode(at.paging.efer, ar & AR_L, ar & AR_DB);
    *got = guest_fetch_code(&at, hv_read_guest_phys, NULL, insn);
    return mmio_decode_store(insn, *got, at.mode, st);
}
