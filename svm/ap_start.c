/*
 * The guest's application processors under SVM. SVM has no wait-for-SIPI
 * state (its INIT intercept only says that an INIT came, and the INIT stays
 * pending), so each AP waits in the host for the guest's SIPI (halted; the
 * sender wakes it with an NMI, guest/ap_start.c), and the
 * guest's INITs and SIPIs are caught at the ICR and become messages
 * (guest/init_sipi.c): x2APIC writes through the MSR permission map, xAPIC
 * writes through the APIC page, read-only in the NPT (svm/svm.c, and
 * guest/gpa_fault.c, which performs them). A running
 * AP that is sent an INIT is kicked with an NMI, which the NMI intercept
 * turns into an exit, and takes the INIT at the end of that exit.
 */
#include "guest/ap_start.h"
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/x86.h"
#include "smp/lapic.h"
#include "svm/svm.h"
#include "svm/vmcb.h"

/*
 * The SIPI: real mode at vector * 4 KiB (SDM Vol. 3A, 9.4.4), the registers
 * as INIT leaves them (RDX: the processor signature).
 */
static void start_at_vector(struct percpu *cpu, struct guest_regs *r, uint8_t vector,
                            uint64_t cr0)
{
    void *v = svm_cpu(cpu)->vmcb;
    svm_guest_real_mode(v, (uint16_t)(vector << 8), 0, cr0);
    *r = (struct guest_regs){ .rdx = cpuid(1, 0).eax };
    vmcb_set_u8(v, VMCB_TLB_CONTROL, TLB_CONTROL_FLUSH_ASID);
    cpu->vcpu.waiting_for_sipi = false;
}

/*
 * The INIT state: nothing owed to the guest survives it (an NMI dies with the
 * INIT, as on VMX). The AP waits for its SIPI with GIF set, which a guest may
 * leave it in for good (an OS parks APs with INIT): SMIs must not be held off
 * meanwhile, and the NMI that wakes it must arrive. Other NMIs sent meanwhile
 * arrive here too (nmi_in_root) and are dropped.
 */
static uint8_t wait_for_sipi(struct percpu *cpu)
{
    cpu->vcpu.waiting_for_sipi = true;
    svm_nmi_reset(cpu, svm_cpu(cpu), svm_cpu(cpu)->vmcb);
    __asm__ volatile("stgi" ::: "memory");
    uint8_t vector = ap_wait_for_sipi(cpu, true);
    __asm__ volatile("clgi" ::: "memory");
    cpu->vcpu.nmi_pending = false;
    return vector;
}

/*
 * An INIT can come right behind the SIPI, and its kick then lands while GIF
 * is still set in wait_for_sipi, where it is spent: so after every wait the
 * AP looks again before it enters the guest. From that look on GIF stays
 * clear, and a later kick makes the VMRUN exit at once.
 */
int svm_launch_ap(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct guest_regs regs;                 /* this frame lives on: svm_run does not return */
    do
        start_at_vector(cpu, &regs, wait_for_sipi(cpu), POWER_UP_CR0);  /* no guest code yet */
    while (ap_init_pending(cpu));
    svm_park_if_asked(cpu);                 /* started while the machine goes to sleep */
    cpu->vcpu.launched = true;
    svm_record_state_sum(svm_cpu(cpu));
    svm_run(&regs, svm_cpu(cpu)->vmcb_phys, svm_cpu(cpu)->host_vmcb_phys);
}

/* An INIT the guest sent: the INIT state, the local APIC reset as the INIT would have. */
void svm_take_pending_init(struct guest_regs *r, struct percpu *cpu)
{
    if (!ap_init_sent(cpu))
        return;
    while (ap_init_pending(cpu)) {
        lapic_init_reset();
        uint64_t cr0 = cr0_after_init(vmcb_u64(svm_cpu(cpu)->vmcb, VMCB_CR0));
        start_at_vector(cpu, r, wait_for_sipi(cpu), cr0);
    }
}
