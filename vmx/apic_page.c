/*
 * The guest's xAPIC page when SIPIs are emulated (vmx/ap_start.c). A guest in
 * xAPIC mode sends INIT and SIPI by writing the ICR in the APIC's MMIO page,
 * which no VM-execution control catches by itself. So the page is read-only
 * in the EPT: every guest write to it is an EPT violation, and this file
 * decodes the writing instruction, does the write on the guest's behalf
 * (INIT and SIPI become messages, anything else goes to the real APIC) and
 * steps over it. Reads go straight to the APIC.
 *
 * The cost is one exit per APIC write (EOIs included), paid only on this
 * path. The page is the one IA32_APIC_BASE names at boot; a guest that moves
 * its APIC elsewhere is not followed.
 */
#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/lapic.h"
#include "vmx/mmio_decode.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

#define XAPIC_ICR_LOW  0x300
#define XAPIC_ICR_HIGH 0x310

int vmx_apic_page_protect(void)
{
    uint64_t page = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
    if (page >= vmx.ept_top && ept_map_on_demand(&vmx.ept, page, &vmx.mtrr) != 0)
        return -1;
    if (ept_set_page_access(&vmx.ept, page, EPT_READ | EPT_EXEC) != 0)
        return -1;
    vmx.apic_page = page;
    return 0;
}

static volatile uint32_t *apic_reg(unsigned offset)
{
    return (volatile uint32_t *)phys_to_virt(vmx.apic_page + offset);
}

/*
 * One 32-bit register write, as the guest meant it. ICR high is kept per CPU
 * (the destination of the next ICR low write); ICR low with INIT or SIPI is
 * emulated, any other IPI goes out with the guest's destination.
 */
static void write_register(struct percpu *cpu, unsigned offset, uint32_t value)
{
    if (offset == XAPIC_ICR_HIGH)
        cpu->vmx->xapic_icr_high = value;
    if (offset == XAPIC_ICR_LOW) {
        uint32_t dest = cpu->vmx->xapic_icr_high >> 24;
        uint64_t icr = (uint64_t)(dest == 0xFF ? 0xFFFFFFFFu : dest) << 32 | value;
        if (vmx_emulate_init_sipi(cpu, icr))
            return;
        *apic_reg(XAPIC_ICR_HIGH) = cpu->vmx->xapic_icr_high;
    }
    *apic_reg(offset) = value;
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
    uint64_t *reg = st.kind == MMIO_MOV_IMM ? NULL : vmx_guest_gpr(r, st.reg, &rsp);
    uint64_t value = reg ? *reg >> (st.high_byte ? 8 : 0) : st.imm;
    unsigned offset = (unsigned)(gpa & 0xFFF);
    if (st.size < 4 || (offset & 0xF)) {
        /* The SDM leaves such accesses undefined (Vol. 3A, 11.4.1): dropped, as most APICs do. */
        static bool warned;
        if (!warned) {
            warned = true;
            log_warn("CPU %u: guest wrote %u byte(s) at APIC offset %#x; ignored (reported once)\n",
                     cpu->index, st.size, offset);
        }
    } else {
        /* Only XCHG reads: a read of a write-only register (EOI) may set an ESR bit. */
        uint32_t old = st.kind == MMIO_XCHG_REG ? *apic_reg(offset) : 0;
        write_register(cpu, offset, (uint32_t)value);
        if (st.kind == MMIO_XCHG_REG) {
            *reg = old;                  /* a 32- or 64-bit destination: zero-extended */
            if (st.reg == 4)
                vmwrite(VMCS_GUEST_RSP, rsp);
        }
    }
    vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + st.length);
}
