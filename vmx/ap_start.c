/*
 * How the guest starts its processors. With the wait-for-SIPI activity state
 * (the normal case) an AP parked in the guest gets INIT and SIPI as VM exits
 * and the hardware does the waiting. Without it (some nested setups, or the
 * `emulate_sipi` option) the AP waits in VMX root instead, the guest's APIC
 * is in x2APIC mode, and its ICR writes are intercepted: INITs and SIPIs
 * become messages. A running AP takes its INIT message at its next
 * VMX-preemption-timer exit (about every millisecond), or, on a CPU without
 * the timer, through a real INIT that drives it out of the guest.
 * SDM Vol. 3A, 9.4.4 and Vol. 3C, 26.x.
 */
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/x86.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

enum { AP_WAITING, AP_RUNNING };

#define INIT_CR0 (CR0_CD | CR0_NW | CR0_ET)   /* CR0 after INIT (SDM Vol. 3A, Table 10-1) */

/*
 * The INIT state, waiting for a SIPI (by hardware, or in root when
 * emulating). Whether the vCPU waits is tracked here, not read back from the
 * VMCS: a SIPI exit saves the activity state as it likes (Bochs saves
 * "active", and blocking by SMI and NMI in the interruptibility state).
 */
static void enter_init_state(struct vmx_cpu *v, struct guest_regs *r)
{
    vmx_guest_real_mode(0xF000, 0xFFFF0000, 0xFFF0, INIT_CR0,
                        vmx.emulate_sipi ? ACTIVITY_ACTIVE : ACTIVITY_WAIT_FOR_SIPI);
    *r = (struct guest_regs){ .rdx = cpuid(1, 0).eax };   /* RDX after INIT: the signature */
    v->waiting_for_sipi = true;
}

/*
 * SIPI: real mode at vector * 4 KiB (SDM Vol. 3A, 9.4.4), written whole so
 * that nothing the exit saved (interruptibility, activity) survives.
 */
static void start_at_vector(struct vmx_cpu *v, uint8_t vector)
{
    vmx_guest_real_mode((uint16_t)(vector << 8), (uint64_t)vector << 12, 0, INIT_CR0,
                        ACTIVITY_ACTIVE);
    v->waiting_for_sipi = false;
}

/* Emulated SIPI: spin in root until the guest's SIPI for this AP arrives. */
static uint8_t wait_for_emulated_sipi(struct vmx_cpu *v)
{
    __atomic_store_n(&v->ap_state, AP_WAITING, __ATOMIC_RELEASE);
    while (!__atomic_exchange_n(&v->sipi_pending, false, __ATOMIC_ACQ_REL))
        cpu_relax();
    __atomic_store_n(&v->ap_state, AP_RUNNING, __ATOMIC_RELEASE);
    return v->sipi_vector;
}

/*
 * INIT: the vCPU takes its INIT state at once, before anything slow, so that
 * a SIPI right behind it is not lost. INIT aimed at the BSP resets the platform.
 */
void vmx_handle_init(struct guest_regs *r, struct percpu *cpu)
{
    enter_init_state(cpu->vmx, r);
    if (cpu->index == 0) {
        log_info("CPU 0: INIT to the boot processor: resetting the platform\n");
        machine_reset();
    }
    if (vmx.emulate_sipi)
        start_at_vector(cpu->vmx, wait_for_emulated_sipi(cpu->vmx));
}

/* Preemption-timer exit: an AP looks for an emulated INIT. */
void vmx_handle_preemption_timer(struct guest_regs *r, struct percpu *cpu)
{
    if (__atomic_exchange_n(&cpu->vmx->init_pending, false, __ATOMIC_ACQ_REL))
        vmx_handle_init(r, cpu);
}

void vmx_handle_sipi(struct percpu *cpu)
{
    if (!cpu->vmx->waiting_for_sipi)
        return;                                  /* a SIPI to a running CPU is ignored */
    start_at_vector(cpu->vmx, (uint8_t)vmread(VMCS_EXIT_QUALIFICATION));
}

static bool is_target(const struct percpu *sender, const struct percpu *c, uint64_t icr)
{
    uint32_t dest = (uint32_t)(icr >> 32);
    switch (ICR_SHORTHAND(icr)) {
    case 0: return dest == 0xFFFFFFFFu || c->apic_id == dest;
    case 1: return c == sender;
    case 2: return true;
    default: return c != sender;
    }
}

/* The guest wrote the x2APIC ICR (MSR 0x830): INIT and SIPI are ours, the rest goes out. */
void vmx_guest_icr_write(struct percpu *sender, uint64_t icr)
{
    uint32_t mode = ICR_DELIVERY_MODE(icr);
    if (mode != ICR_DELIVERY_MODE(ICR_INIT) && mode != ICR_DELIVERY_MODE(ICR_STARTUP)) {
        wrmsr(X2APIC_MSR_ICR, icr);
        return;
    }
    /* INIT level de-assert (the 82489DX "INIT" that only resyncs arbitration IDs) does nothing. */
    if (mode == ICR_DELIVERY_MODE(ICR_INIT) && !(icr & ICR_LEVEL_ASSERT) &&
        (icr & ICR_LEVEL_TRIGGER))
        return;
    for (uint32_t i = 0; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        if (!is_target(sender, c, icr))
            continue;
        if (i == 0) {
            if (mode == ICR_DELIVERY_MODE(ICR_INIT)) {
                log_info("CPU %u: guest sent INIT to the boot processor: resetting\n",
                         sender->index);
                machine_reset();
            }
            continue;                            /* SIPI to a running BSP: ignored */
        }
        struct vmx_cpu *v = c->vmx;
        bool running = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE) == AP_RUNNING;
        if (mode == ICR_DELIVERY_MODE(ICR_INIT)) {
            if (running && vmx.ctl.preemption_timer)
                __atomic_store_n(&v->init_pending, true, __ATOMIC_RELEASE);
            else if (running)                    /* a real INIT makes it exit and wait */
                wrmsr(X2APIC_MSR_ICR, (uint64_t)c->apic_id << 32 | ICR_INIT | ICR_LEVEL_ASSERT);
        } else if (!running) {
            v->sipi_vector = (uint8_t)icr;
            __atomic_store_n(&v->sipi_pending, true, __ATOMIC_RELEASE);
        }
    }
}

/* run-on-APs work: enter the guest, parked in wait-for-SIPI (or wait in root for it). */
int vmx_launch_ap(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct guest_regs regs;
    enter_init_state(cpu->vmx, &regs);
    if (vmx.emulate_sipi)
        start_at_vector(cpu->vmx, wait_for_emulated_sipi(cpu->vmx));
    return vmx_launch_cpu(cpu, &regs);
}
