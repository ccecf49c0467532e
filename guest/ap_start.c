/*
 * Emulated INIT and SIPI. When the guest's APs cannot wait for a SIPI in the
 * guest (SVM has no wait-for-SIPI state; some VMX machines lack it), each AP
 * waits in the host instead and the guest's ICR writes are intercepted by
 * the backend and brought here: INITs and SIPIs become messages and never
 * reach a CPU. A running AP takes its INIT message at the end of its next
 * exit, which the sender forces with a kick (smp/kick.c) and waits for, as a
 * real INIT is taken at once. SDM Vol. 3A, 9.4.4 (the start-up protocol).
 *
 * One word per AP, changed only by compare-and-swap, so that an INIT or SIPI
 * racing with the AP's own transitions is either applied or dropped as
 * hardware would, never left behind to fire later:
 *   WAITING -(guest SIPI)-> SIPI | vector << 8 -(the AP starts)-> RUNNING
 *   RUNNING -(guest INIT)-> INIT_PENDING -(the AP's next exit)-> WAITING
 * To the guest an INIT takes effect when it is sent, so a SIPI that finds
 * the INIT not taken yet (a slow AP, after the sender's wait timed out) is
 * kept with it, INIT_PENDING | SIPI_LATCHED | vector << 8, and starts the AP
 * as soon as it has taken the INIT; another INIT drops it again. INITs and
 * SIPIs that find any other state are dropped (an AP that waits for a SIPI
 * is already in the INIT state; a running one ignores SIPIs).
 */
#include "guest/ap_start.h"

#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/msr.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/kick.h"
#include "smp/lapic.h"

enum { AP_WAITING, AP_SIPI, AP_RUNNING, AP_INIT_PENDING };
#define AP_SIPI_LATCHED (1u << 16)
/*
 * A kicked AP takes its INIT in microseconds on hardware. In QEMU's TCG with
 * more vCPUs than host cores it waits for a host core: up to 25 ms measured
 * alone, about 150 ms beside other tests. Past this the sender goes on and
 * says so: the AP still runs guest code after its INIT until it takes it,
 * which a guest may not survive; a SIPI sent meanwhile is latched (above).
 */
#define INIT_TIMEOUT_US 1000000
#define AP_STATE(s)   ((s) & 0xFF)
#define AP_VECTOR(s)  ((uint8_t)((s) >> 8))

#define XAPIC_ICR_LOW  0x300
#define XAPIC_ICR_HIGH 0x310

static uint32_t ap_state_of(struct percpu *c)
{
    return AP_STATE(__atomic_load_n(&c->vcpu.ap_state, __ATOMIC_ACQUIRE));
}

static bool ap_transition(struct percpu *c, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&c->vcpu.ap_state, &from, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/*
 * Entered from INIT_PENDING (an emulated INIT, perhaps with a SIPI latched),
 * RUNNING (a real INIT, without kicks) or the zero state WAITING (the first
 * launch).
 */
uint8_t ap_wait_for_sipi(struct percpu *cpu)
{
    uint32_t s = __atomic_load_n(&cpu->vcpu.ap_state, __ATOMIC_ACQUIRE), next;
    do
        next = s & AP_SIPI_LATCHED ? AP_SIPI | (s & 0xFF00) : AP_WAITING;
    while (!__atomic_compare_exchange_n(&cpu->vcpu.ap_state, &s, next, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE));
    while (AP_STATE(s = __atomic_load_n(&cpu->vcpu.ap_state, __ATOMIC_ACQUIRE)) != AP_SIPI)
        cpu_relax();
    __atomic_store_n(&cpu->vcpu.ap_state, AP_RUNNING, __ATOMIC_RELEASE);
    return AP_VECTOR(s);
}

bool ap_init_pending(struct percpu *cpu)
{
    return ap_state_of(cpu) == AP_INIT_PENDING;
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
    return ap_state_of(c) != AP_INIT_PENDING || ap_state_of(sender) == AP_INIT_PENDING;
}

bool guest_emulate_init_sipi(struct percpu *sender, uint64_t icr, bool can_kick)
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
        uint32_t vector = (uint32_t)(uint8_t)icr << 8;
        if (mode == ICR_DELIVERY_MODE(ICR_STARTUP)) {
            if (!ap_transition(c, AP_WAITING, AP_SIPI | vector))
                ap_transition(c, AP_INIT_PENDING, AP_INIT_PENDING | AP_SIPI_LATCHED | vector);
            continue;
        }
        uint32_t s = __atomic_load_n(&c->vcpu.ap_state, __ATOMIC_ACQUIRE);
        if (s & AP_SIPI_LATCHED)
            ap_transition(c, s, AP_INIT_PENDING);  /* INIT, SIPI, INIT: back to the INIT state */
        else if (!can_kick) {
            if (ap_state_of(c) == AP_RUNNING)
                lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);  /* it exits and waits */
        } else if (ap_transition(c, AP_RUNNING, AP_INIT_PENDING) && c != sender) {
            kick_cpu(c);                         /* INIT to itself: taken at the end of this exit */
            kicked[i] = true;
        }
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        if (kicked[i])
            kick_wait(sender, cpus[i], init_taken, 0, INIT_TIMEOUT_US, "take its INIT");
    return true;
}

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

uint64_t guest_xapic_page_protect(struct ept *e, uint64_t mapped_top,
                                  const struct mtrr_state *mtrr)
{
    uint64_t page = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
    if (page >= mapped_top && ept_map_on_demand(e, page, mtrr) != 0)
        return 0;
    if (ept_set_page_access(e, page, EPT_READ | EPT_EXEC) != 0)
        return 0;
    return page;
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

void guest_xapic_store(struct percpu *cpu, uint64_t page, unsigned offset,
                       const struct mmio_store *st, uint64_t *reg, bool can_kick)
{
    uint64_t value = reg ? *reg >> (st->high_byte ? 8 : 0) : st->imm;
    if (st->size < 4 || (offset & 0xF)) {
        /* The SDM leaves such accesses undefined (Vol. 3A, 11.4.1): dropped, as most APICs do. */
        static bool warned;
        if (!warned) {
            warned = true;
            log_warn("CPU %u: guest wrote %u byte(s) at APIC offset %#x; ignored (reported once)\n",
                     cpu->index, st->size, offset);
        }
        return;
    }
    /* Only XCHG reads: a read of a write-only register (EOI) may set an ESR bit. */
    uint32_t old = st->kind == MMIO_XCHG_REG ? *apic_reg(page, offset) : 0;
    write_register(cpu, page, offset, (uint32_t)value, can_kick);
    if (st->kind == MMIO_XCHG_REG)
        *reg = old;                      /* a 32- or 64-bit destination: zero-extended */
}
