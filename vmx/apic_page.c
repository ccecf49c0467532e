/*
 * The guest's xAPIC page when SIPIs are emulated (vmx/ap_start.c). A guest in
 * xAPIC mode sends INIT and SIPI by writing the ICR in the APIC's MMIO page,
 * which no VM-execution control catches by itself. So the page is read-only
 * in the EPT: every guest write to it is an EPT violation, and this file
 * decodes the writing instruction, has it done on the guest's behalf
 * (guest/ap_start.c: INIT and SIPI become messages, anything else goes to
 * the real APIC) and steps over it. Reads go straight to the APIC.
 *
 * The cost is one exit per APIC write (EOIs included), paid only on this
 * path. The page is the one IA32_APIC_BASE names at boot; a guest that moves
 * its APIC elsewhere is not followed.
 */
#include "guest/ap_start.h"
#include "kernel/log.h"
#include "vmx/mmio_decode.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

int vmx_apic_page_protect(void)
{
    vmx.apic_page = guest_xapic_page_protect(&vmx.ept, vmx.ept_top, &vmx.mtrr);
    return vmx.apic_page ? 0 : -1;
}

void vmx_handle_apic_page_write(struct guest_regs *r, struct percpu *cpu, uint64_t gpa)
{
    uint8_t insn[INSN_MAX_LEN];
    unsigned got;
    struct mmio_store st;
    if (vmx_decode_guest_store(&st, insn, &got) != 0) {
        log_error("CPU %u: cannot emulate the guest's write to its local APIC at %#llx: RIP %#llx, "
                  "%u byte(s) readable, first %02x %02x %02x %02x\n", cpu->index,
                  (unsigned long long)gpa, (unsigned long long)vmread(VMCS_GUEST_RIP), got,
                  got > 0 ? insn[0] : 0, got > 1 ? insn[1] : 0, got > 2 ? insn[2] : 0,
                  got > 3 ? insn[3] : 0);
        vmx_stop_cpu(cpu, EXIT_EPT_VIOLATION);
    }
    uint64_t rsp = vmread(VMCS_GUEST_RSP);
    uint64_t *reg = st.kind == MMIO_MOV_IMM ? NULL : guest_gpr(r, st.reg, &rsp);
    guest_xapic_store(cpu, vmx.apic_page, (unsigned)(gpa & 0xFFF), &st, reg, vmx_can_kick());
    if (st.kind == MMIO_XCHG_REG && st.reg == 4)
        vmwrite(VMCS_GUEST_RSP, rsp);
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + st.length);
}
