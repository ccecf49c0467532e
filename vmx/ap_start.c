/*
 * How the guest starts its processors. With the wait-for-SIPI activity state
 * (the normal case) an AP parked in the guest gets INIT and SIPI as VM exits
 * and the hardware does the waiting. Without it (some nested setups, or the
 * `emulate_sipi` option) the AP waits in VMX root instead and the guest's ICR
 * writes are intercepted (x2APIC: the MSR bitmap; xAPIC: the EPT, see
 * guest/gpa_fault.c) and become messages (guest/init_sipi.c). A running AP takes
 * its INIT message at the end of its next exit, forced by a kick; without NMI
 * exiting, a real INIT drives it out of the guest. SDM Vol. 3A, 9.4.4 and
 * Vol. 3C, 26.x.
 */
#include "guest/ap_start.h"
#include "guest/leave.h"
#include "guest/s3.h"
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/x86.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"


/*
 * The INIT state with CR0 `cr0`, waiting for a SIPI (by hardware, or in root
 * when emulating). Whether the vCPU waits is tracked here, not read back from
 * the VMCS: a SIPI exit saves the activity state as it likes (Bochs saves
 * "active", and blocking by SMI and NMI in the interruptibility state). An
 * NMI still owed to the guest dies with the INIT (as KVM does at INIT), so
 * that it is not injected into the start-up code the SIPI runs.
 */
static void enter_init_state(struct percpu *cpu, struct guest_regs *r, uint64_t cr0)
{
    cpu->vcpu.nmi_pending = false;
    vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_NMI_WINDOW_EXITING);
    vmx_guest_real_mode(0xF000, 0xFFFF0000, 0xFFF0, cr0,
                        vmx.emulate_sipi ? ACTIVITY_ACTIVE : ACTIVITY_WAIT_FOR_SIPI);
    *r = (struct guest_regs){ .rdx = cpuid(1, 0).eax };   /* RDX after INIT: the signature */
    cpu->vcpu.waiting_for_sipi = true;
}

/*
 * SIPI: real mode at vector * 4 KiB (SDM Vol. 3A, 9.4.4), written whole so
 * that nothing the exit saved (interruptibility, activity) survives.
 */
static void start_at_vector(struct percpu *cpu, uint8_t vector)
{
    vmx_guest_real_mode((uint16_t)(vector << 8), (uint64_t)vector << 12, 0,
                        vmread(VMCS_CR0_READ_SHADOW), ACTIVITY_ACTIVE);
    cpu->vcpu.waiting_for_sipi = false;
}

/*
 * INIT: the vCPU takes its INIT state at once, before anything slow, so that
 * a SIPI right behind it is not lost; then its local APIC is reset, which the
 * INIT, taken as a VM exit (or emulated), did not do. INIT aimed at the BSP
 * resets the platform.
 */
void vmx_handle_init(struct guest_regs *r, struct percpu *cpu)
{
    enter_init_state(cpu, r, cr0_after_init(vmread(VMCS_CR0_READ_SHADOW)));
    if (cpu->index == 0) {
        log_info("CPU 0: INIT to the boot processor: resetting the platform\n");
        machine_reset();
    }
    lapic_init_reset();
    if (vmx.emulate_sipi)
        start_at_vector(cpu, ap_wait_for_sipi(cpu, vmx_can_kick()));
}

/*
 * At the end of an exit with vcpu.exit_work set: an AP takes an emulated INIT
 * sent to it, whatever made it exit (a kick, or an exit of its own that came
 * first). An event the exit queued for the guest dies with the INIT, as on
 * hardware.
 */
void vmx_take_pending_init(struct guest_regs *r, struct percpu *cpu)
{
    if (!ap_init_sent(cpu))
        return;
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
    vmx_handle_init(r, cpu);
}

void vmx_handle_sipi(struct percpu *cpu)
{
    if (leave_waiting_cpus_asked())
        leave_waiting_cpu(cpu);                  /* thinvisor leaves the machine: no return */
    if (!cpu->vcpu.waiting_for_sipi)
        return;                                  /* a SIPI to a running CPU is ignored */
    start_at_vector(cpu, (uint8_t)vmread(VMCS_EXIT_QUALIFICATION));
}

/* run-on-APs work: enter the guest, parked in wait-for-SIPI (or wait in root for it). */
int vmx_launch_ap(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct guest_regs regs;
    enter_init_state(cpu, &regs, POWER_UP_CR0);
    if (vmx.emulate_sipi)
        start_at_vector(cpu, ap_wait_for_sipi(cpu, vmx_can_kick()));
    if (cpu->vcpu.park)
        guest_s3_take_park(cpu);            /* started while the machine goes to sleep */
    return vmx_launch_cpu(cpu, &regs);
}
