/*
 * TV_HC_OFF under VT-x (guest/leave.h): the guest's state out of the VMCS
 * into the stub's frame, then VMXOFF and the jump to the stub. What a VM exit
 * replaced in the CPU and the stub does not load comes back here: PAT,
 * DEBUGCTL and the SYSENTER MSRs, which the exit set to the host's (SDM Vol.
 * 3C, 28.5.1). KERNEL_GS_BASE, STAR, LSTAR, SFMASK, XCR0, CR2, DR0-DR3 and
 * DR6 were never the host's: the CPU still holds the guest's.
 */
#include "vmx/vmx.h"

#include "abi/hypercall.h"
#include "guest/ap_start.h"
#include "guest/leave.h"
#include "kernel/cr_bits.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/x86.h"
#include "smp/kick.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx_insn.h"

/* The guest's CR0 or CR4 as it wrote it: the bits the host owns come from the read shadow. */
static uint64_t guest_view(uint32_t field, uint32_t mask_field, uint32_t shadow_field)
{
    uint64_t mask = vmread(mask_field);
    return (vmread(field) & ~mask) | (vmread(shadow_field) & mask);
}

static struct guest_paging guest_paging(void)
{
    return (struct guest_paging){
        .cr0 = guest_view(VMCS_GUEST_CR0, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW),
        .cr3 = vmread(VMCS_GUEST_CR3),
        .cr4 = guest_view(VMCS_GUEST_CR4, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_READ_SHADOW) &
               ~CR4_VMXE,
        .efer = vmread(VMCS_GUEST_EFER),
    };
}

/*
 * A CPU in the guest's wait-for-SIPI state takes only a SIPI (SDM Vol. 3C,
 * 26.4.1): one from here brings it to vmx_handle_sipi, which sees why. One
 * that waits in the host (emulate_sipi) wakes at a kick.
 */
static void wake_waiting(struct percpu *c)
{
    if (vmx.emulate_sipi)
        kick_cpu(c);
    else
        lapic_send_ipi(c->apic_id, ICR_STARTUP);
}

uint32_t vmx_leave_check(struct guest_regs *r, struct percpu *cpu, unsigned cpl)
{
    struct leave_request q = {
        .token = r->rbx, .page = r->rdx, .cpl = cpl, .paging = guest_paging(),
        .event_due = (vmread(VMCS_GUEST_INTERRUPTIBILITY) & 0xF) ||
                     vmread(VMCS_GUEST_PENDING_DBG) ||
                     (vmread(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) ||
                     (vmread(VMCS_GUEST_RFLAGS) & RFLAGS_TF) || cpu->vcpu.nmi_pending ||
                     cpu->vcpu.kick || ap_init_pending(cpu),
    };
    return leave_check(cpu, &q);
}

uint32_t vmx_leave(struct guest_regs *r, struct percpu *cpu, unsigned cpl)
{
    struct leave_request q = {
        .token = r->rbx, .page = r->rdx, .cpl = cpl, .paging = guest_paging(),
        .last = r->rcx & 1, .wake_waiting = wake_waiting,
    };
    struct leave_frame f = {
        .cr0 = q.paging.cr0, .cr3 = q.paging.cr3, .cr4 = q.paging.cr4, .efer = q.paging.efer,
        .dr7 = vmread(VMCS_GUEST_DR7),
        .fs_base = vmread(VMCS_GUEST_FS_BASE), .gs_base = vmread(VMCS_GUEST_GS_BASE),
        .gdtr = { .limit = (uint16_t)vmread(VMCS_GUEST_GDTR_LIMIT),
                  .base = vmread(VMCS_GUEST_GDTR_BASE) },
        .idtr = { .limit = (uint16_t)vmread(VMCS_GUEST_IDTR_LIMIT),
                  .base = vmread(VMCS_GUEST_IDTR_BASE) },
        .ds = (uint16_t)vmread(VMCS_GUEST_DS_SEL), .es = (uint16_t)vmread(VMCS_GUEST_ES_SEL),
        .fs = (uint16_t)vmread(VMCS_GUEST_FS_SEL), .gs = (uint16_t)vmread(VMCS_GUEST_GS_SEL),
        .ldtr = (uint16_t)vmread(VMCS_GUEST_LDTR_SEL), .tr = (uint16_t)vmread(VMCS_GUEST_TR_SEL),
        .flags = LEAVE_LOAD_SEGMENTS,
        .gprs = *r,
        .rip = vmread(VMCS_GUEST_RIP), .cs = vmread(VMCS_GUEST_CS_SEL),
        .rflags = vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_RF, .rsp = vmread(VMCS_GUEST_RSP),
        .ss = vmread(VMCS_GUEST_SS_SEL),
    };
    uint64_t pat = vmread(VMCS_GUEST_PAT), debugctl = vmread(VMCS_GUEST_DEBUGCTL);
    uint64_t sysenter_cs = vmread(VMCS_GUEST_SYSENTER_CS);
    uint64_t sysenter_esp = vmread(VMCS_GUEST_SYSENTER_ESP);
    uint64_t sysenter_eip = vmread(VMCS_GUEST_SYSENTER_EIP);
    uint32_t status = leave_commit(cpu, &q, &f);
    if (status != TV_STATUS_OK)
        return status;
    /*
     * No way back from here. The guest's TLB entries keep its VPID's tag;
     * running natively the CPU uses VPID 0, which the stub's CR3 loads flush.
     */
    if (vmx_leave_cpu(cpu, NULL) != 0)
        panic("leaving: VMXOFF failed on CPU %u", cpu->index);
    wrmsr(MSR_IA32_EFER, f.efer);               /* NXE before the guest's tables are in use */
    wrmsr(MSR_IA32_PAT, pat);
    if (debugctl)                               /* the exit cleared it (28.3.1): 0 is there */
        wrmsr(MSR_IA32_DEBUGCTL, debugctl);
    wrmsr(MSR_IA32_SYSENTER_CS, sysenter_cs);
    wrmsr(MSR_IA32_SYSENTER_ESP, sysenter_esp);
    wrmsr(MSR_IA32_SYSENTER_EIP, sysenter_eip);
    leave_jump(q.page, leave_via(&q));
}
