/*
 * Emulated INIT and SIPI on this machine. When the guest's APs cannot wait
 * for a SIPI in the guest (SVM has no wait-for-SIPI state; some VMX machines
 * lack it), each AP waits in the host instead and the guest's ICR writes are
 * intercepted by the backend and brought here: INITs and SIPIs become
 * messages (guest/init_sipi.c) and never reach a CPU. A running AP takes its
 * INIT message at the end of its next exit, which the sender forces with a
 * kick (smp/kick.c) and waits for, as a real INIT is taken at once.
 */
#include "guest/ap_start.h"

#include "guest/init_sipi.h"
#include "guest/leave.h"
#include "kernel/halt.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/phys.h"
#include "kernel/x86.h"
#include "smp/kick.h"
#include "smp/lapic.h"

/*
 * A kicked AP takes its INIT in microseconds on hardware; in QEMU's TCG with
 * more vCPUs than host cores it waits for a host core first (up to 25 ms
 * measured alone, about 150 ms beside other tests), so the wait counts the
 * AP's exits, not time (smp/kick.c). If the AP never takes it, the sender
 * goes on and says so: the AP still runs guest code after its INIT, which a
 * guest may not survive; a SIPI sent meanwhile is latched (guest/init_sipi.h).
 */

/*
 * The AP halts between looks: the sender wakes it (wake_waiting) once the
 * SIPI is in its state word. Only a machine whose kicks cannot reach a CPU
 * in the guest spins instead: its wake-up NMI could land in the guest the AP
 * has just entered, where it would be the guest's.
 */
uint8_t ap_wait_for_sipi(struct percpu *cpu, bool can_kick)
{
    uint8_t vector;
    init_sipi_begin_wait(&cpu->vcpu);
    while (!init_sipi_take_start(&cpu->vcpu, &vector)) {
        if (leave_waiting_cpus_asked())
            leave_waiting_cpu(cpu);          /* thinvisor leaves the machine: no return */
        if (can_kick)
            halt_while_equal(&cpu->vcpu.ap_state, AP_WAITING);
        else
            cpu_relax();
        if (cpu->vcpu.stats)
            cpu->vcpu.stats->sipi_wait_wakeups++;
    }
    return vector;
}

bool ap_init_pending(struct percpu *cpu)
{
    return init_sipi_init_pending(&cpu->vcpu);
}

bool ap_init_sent(struct percpu *cpu)
{
    return init_sipi_init_sent(&cpu->vcpu);
}

/*
 * Whether the INIT sent to c was taken, or the sender has one of its own to
 * take first, or c stopped for a sleep (guest/s3.c), which resets it anyway.
 */
static bool init_taken(struct percpu *sender, struct percpu *c, uint64_t unused)
{
    (void)unused;
    return !ap_init_pending(c) || ap_init_pending(sender) || c->vcpu.park;
}

static void wait_taken(struct percpu *sender, struct percpu *c)
{
    kick_wait(sender, c, init_taken, 0, "take its INIT");
}

static void send_init(struct percpu *c)
{
    lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

static void reset(struct percpu *sender)
{
    log_info("CPU %u: guest sent INIT to the boot processor: resetting\n", sender->index);
    machine_reset();
}

static const struct init_sipi_ops machine_ops = {
    .kick = kick_cpu, .wait_taken = wait_taken, .send_init = send_init, .reset = reset,
    .wake = kick_cpu,
};

bool guest_emulate_init_sipi(struct percpu *sender, uint64_t icr, bool can_kick)
{
    return init_sipi_deliver(cpus, cpu_count, sender, icr, can_kick, &machine_ops);
}

#define XAPIC_ICR_LOW  0x300
#define XAPIC_ICR_HIGH 0x310

/* x2APIC ICR bits 12, 13, 16, 17 and 20-31 are reserved (SDM Vol. 3A, 11.12.9). */
#define X2APIC_ICR_RESERVED 0xFFF33000ull

bool guest_x2apic_icr_write(struct percpu *cpu, uint64_t value, bool can_kick)
{
    if (!(rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) || (value & X2APIC_ICR_RESERVED))
        return false;
    if (!guest_emulate_init_sipi(cpu, value, can_kick))
        wrmsr(X2APIC_MSR_ICR, value);
    return true;
}

static volatile uint32_t *apic_reg(uint64_t page, unsigned offset)
{
    return (volatile uint32_t *)phys_to_virt(page + offset);
}

/*
 * One 32-bit register write, as the guest meant it. ICR high is kept per CPU
 * (the destination of the next ICR low write); ICR low with INIT or SIPI is
 * emulated, any other IPI goes out with the guest's destination.
 */
static void write_register(struct percpu *cpu, uint64_t page, unsigned offset, uint32_t value,
                           bool can_kick)
{
    if (offset == XAPIC_ICR_HIGH)
        cpu->vcpu.xapic_icr_high = value;
    if (offset == XAPIC_ICR_LOW) {
        uint32_t dest = cpu->vcpu.xapic_icr_high >> 24;
        uint64_t icr = (uint64_t)(dest == 0xFF ? 0xFFFFFFFFu : dest) << 32 | value;
        if (guest_emulate_init_sipi(cpu, icr, can_kick))
            return;
        *apic_reg(page, XAPIC_ICR_HIGH) = cpu->vcpu.xapic_icr_high;
    }
    *apic_reg(page, offset) = value;
}

/* An access the APIC leaves undefined: said once. */
static bool undefined_access(struct percpu *cpu, unsigned offset, unsigned size, const char *what)
{
    if (size >= 4 && !(offset & 0xF))
        return false;
    static bool warned;
    if (!warned) {
        warned = true;
        log_warn("CPU %u: guest %s %u byte(s) at APIC offset %#x; ignored (reported once)\n",
                 cpu->index, what, size, offset);
    }
    return true;
}

uint64_t guest_xapic_read(void *ctx, unsigned offset, unsigned size)
{
    const struct xapic_store *x = ctx;
    return undefined_access(x->cpu, offset, size, "read") ? 0 : *apic_reg(x->page, offset);
}

void guest_xapic_write(void *ctx, unsigned offset, unsigned size, uint64_t value)
{
    const struct xapic_store *x = ctx;
    if (!undefined_access(x->cpu, offset, size, "wrote"))
        write_register(x->cpu, x->page, offset, (uint32_t)value, x->can_kick);
}
