/*
 * How the guest starts its processors. With the wait-for-SIPI activity state
 * (the normal case) an AP parked in the guest gets INIT and SIPI as VM exits
 * and the hardware does the waiting. Without it (some nested setups, or the
 * `emulate_sipi` option) the AP waits in VMX root instead and the guest's ICR
 * writes are intercepted (x2APIC: the MSR bitmap; xAPIC: the EPT, see
 * vmx/apic_page.c): INITs and SIPIs become messages and never reach a CPU. A
 * running AP takes its INIT message at the end of its next exit, which the
 * sender forces with a kick (an NMI, vmx/kick.c) and waits for, as a real
 * INIT is taken at once; without NMI exiting, a real INIT drives it out of
 * the guest. SDM Vol. 3A, 9.4.4 and Vol. 3C, 26.x.
 */
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/x86.h"
#include "smp/lapic.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

/*
 * Emulated SIPI: one word per AP, changed only by compare-and-swap, so that
 * an INIT or SIPI racing with the AP's own transitions is either applied or
 * dropped as hardware would, never left behind to fire later:
 *   WAITING -(guest SIPI)-> SIPI | vector << 8 -(the AP starts)-> RUNNING
 *   RUNNING -(guest INIT)-> INIT_PENDING -(the AP's next exit)-> WAITING
 * INITs and SIPIs that find any other state are dropped (an AP that waits
 * for a SIPI is already in the INIT state; a running one ignores SIPIs).
 */
enum { AP_WAITING, AP_SIPI, AP_RUNNING, AP_INIT_PENDING };
#define INIT_TIMEOUT_US 100000   /* a kicked AP takes its INIT in microseconds */
#define AP_STATE(s)   ((s) & 0xFF)
#define AP_VECTOR(s)  ((uint8_t)((s) >> 8))

static bool ap_transition(struct vmx_cpu *v, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&v->ap_state, &from, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/*
 * CR0 after power-up is 60000010H; INIT keeps CD and NW as they were and
 * sets ET (SDM Vol. 3A, Table 10-1). Here: what the guest believes it holds.
 */
#define POWER_UP_CR0 (CR0_CD | CR0_NW | CR0_ET)

static uint64_t cr0_after_init(void)
{
    return (vmread(VMCS_CR0_READ_SHADOW) & (CR0_CD | CR0_NW)) | CR0_ET;
}

/*
 * The INIT state with CR0 `cr0`, waiting for a SIPI (by hardware, or in root
 * when emulating). Whether the vCPU waits is tracked here, not read back from
 * the VMCS: a SIPI exit saves the activity state as it likes (Bochs saves
 * "active", and blocking by SMI and NMI in the interruptibility state). An
 * NMI still owed to the guest dies with the INIT (as KVM does at INIT), so
 * that it is not injected into the start-up code the SIPI runs.
 */
static void enter_init_state(struct vmx_cpu *v, struct guest_regs *r, uint64_t cr0)
{
    v->nmi_pending = false;
    vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_NMI_WINDOW_EXITING);
    vmx_guest_real_mode(0xF000, 0xFFFF0000, 0xFFF0, cr0,
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
    vmx_guest_real_mode((uint16_t)(vector << 8), (uint64_t)vector << 12, 0,
                        vmread(VMCS_CR0_READ_SHADOW), ACTIVITY_ACTIVE);
    v->waiting_for_sipi = false;
}

/*
 * Emulated SIPI: spin in root until the guest's SIPI for this AP arrives.
 * Entered from RUNNING or INIT_PENDING (an INIT) or from the zero state
 * WAITING (the first launch).
 */
static uint8_t wait_for_emulated_sipi(struct vmx_cpu *v)
{
    __atomic_store_n(&v->ap_state, AP_WAITING, __ATOMIC_RELEASE);
    uint32_t s;
    while (AP_STATE(s = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE)) != AP_SIPI)
        cpu_relax();
    __atomic_store_n(&v->ap_state, AP_RUNNING, __ATOMIC_RELEASE);
    return AP_VECTOR(s);
}

/*
 * INIT: the vCPU takes its INIT state at once, before anything slow, so that
 * a SIPI right behind it is not lost. INIT aimed at the BSP resets the platform.
 */
void vmx_handle_init(struct guest_regs *r, struct percpu *cpu)
{
    enter_init_state(cpu->vmx, r, cr0_after_init());
    if (cpu->index == 0) {
        log_info("CPU 0: INIT to the boot processor: resetting the platform\n");
        machine_reset();
    }
    if (vmx.emulate_sipi)
        start_at_vector(cpu->vmx, wait_for_emulated_sipi(cpu->vmx));
}

/*
 * At the end of every exit: an AP takes an emulated INIT sent to it, whatever
 * made it exit (a kick, or an exit of its own that came first). An event the
 * exit queued for the guest dies with the INIT, as on hardware.
 */
void vmx_take_pending_init(struct guest_regs *r, struct percpu *cpu)
{
    if (AP_STATE(__atomic_load_n(&cpu->vmx->ap_state, __ATOMIC_ACQUIRE)) != AP_INIT_PENDING)
        return;
    vmwrite(VMCS_ENTRY_INTR_INFO, 0);
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

/* Whether the INIT sent to c was taken, or the sender has one of its own to take first. */
static bool init_taken(struct percpu *sender, struct percpu *c, uint64_t unused)
{
    (void)unused;
    return AP_STATE(__atomic_load_n(&c->vmx->ap_state, __ATOMIC_ACQUIRE)) != AP_INIT_PENDING ||
           AP_STATE(__atomic_load_n(&sender->vmx->ap_state, __ATOMIC_ACQUIRE)) == AP_INIT_PENDING;
}

bool vmx_emulate_init_sipi(struct percpu *sender, uint64_t icr)
{
    uint32_t mode = ICR_DELIVERY_MODE(icr);
    if (mode != ICR_DELIVERY_MODE(ICR_INIT) && mode != ICR_DELIVERY_MODE(ICR_STARTUP))
        return false;
    /* INIT level de-assert (the 82489DX "INIT" that only resyncs arbitration IDs) does nothing. */
    if (mode == ICR_DELIVERY_MODE(ICR_INIT) && !(icr & ICR_LEVEL_ASSERT) &&
        (icr & ICR_LEVEL_TRIGGER))
        return true;
    bool kicked[SMP_MAX_CPUS] = { false };
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
        if (mode == ICR_DELIVERY_MODE(ICR_STARTUP))
            ap_transition(v, AP_WAITING, AP_SIPI | (uint32_t)(uint8_t)icr << 8);
        else if (!vmx_can_kick()) {
            if (AP_STATE(__atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE)) == AP_RUNNING)
                lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);  /* it exits and waits */
        } else if (ap_transition(v, AP_RUNNING, AP_INIT_PENDING) && c != sender) {
            vmx_kick(c);                         /* INIT to itself: taken at the end of this exit */
            kicked[i] = true;
        }
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        if (kicked[i])
            vmx_kick_wait(sender, cpus[i], init_taken, 0, INIT_TIMEOUT_US, "take its INIT");
    return true;
}

/* run-on-APs work: enter the guest, parked in wait-for-SIPI (or wait in root for it). */
int vmx_launch_ap(struct percpu *cpu, void *arg)
{
    (void)arg;
    struct guest_regs regs;
    enter_init_state(cpu->vmx, &regs, POWER_UP_CR0);
    if (vmx.emulate_sipi)
        start_at_vector(cpu->vmx, wait_for_emulated_sipi(cpu->vmx));
    return vmx_launch_cpu(cpu, &regs);
}
