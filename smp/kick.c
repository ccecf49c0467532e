/*
 * Kicks: how one CPU makes another leave the guest soon. The kick is an NMI,
 * which the backend makes an exit wherever the guest is, even halted or with
 * interrupts off (VMX: NMI exiting, SDM Vol. 3C, 26.2; SVM: the NMI
 * intercept, APM Vol. 2, 15.13.2), and a flag marks it as thinvisor's, so
 * that it is not given to the guest.
 *
 * A kick can be spent in vain on VMX: an NMI that arrives while the CPU is in
 * VMX root, after it last looked and before its VM entry, is taken there and
 * forces no exit. (On SVM the host runs with GIF clear, so such an NMI waits
 * and makes the next VMRUN exit at once.) So a kicker that must know the work
 * is done waits for it and kicks again when the previous kick has been taken,
 * the CPU is back in the guest (in_guest, set on the way to each entry just
 * before the CPU's last look at vcpu.exit_work, where the requests sit) and
 * the work is still not done. A CPU that took the kick in root before it
 * looked needs no other. Extra kicks cost an exit and do no harm.
 */
#include "smp/kick.h"

#include "kernel/log.h"
#include "kernel/msr.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "smp/lapic.h"

/* A failed kick is retried no sooner than this: a CPU busy in root is not flooded. */
#define KICK_RETRY_US 20

/*
 * When a wait gives up, counted in the target's progress rather than in time:
 * in an emulator on a busy host the TSC runs on while a virtual CPU gets no
 * host time, and a CPU that is only slow must not be reported dead. The
 * target makes an exit at every kick; this many with the work still not done
 * is a fault. Only a target that makes no exit at all is judged by the clock,
 * and generously: no host stalls a thread for that long.
 */
#define KICK_MAX_TARGET_EXITS 256
#define KICK_STALL_US (30 * 1000 * 1000)

/* The target's exits so far (guest/status.c counts them); 0 before the status area. */
static uint64_t exits_of(struct percpu *c)
{
    return c->vcpu.stats ? __atomic_load_n(&c->vcpu.stats->exits_total, __ATOMIC_RELAXED) : 0;
}

/*
 * One kick NMI at most is on its way to a CPU: a second one would find the
 * flag already taken and be handed to the guest as its own NMI. A kicker that
 * finds the flag set relies on the NMI in flight: the CPU takes the flag
 * after this kicker's work is published, so it sees that work when it looks.
 */
void kick_cpu(struct percpu *c)
{
    if (__atomic_exchange_n(&c->vcpu.kick, true, __ATOMIC_SEQ_CST))
        return;
    lapic_send_ipi(c->apic_id, ICR_NMI);
    __atomic_add_fetch(&c->vcpu.kicks, 1, __ATOMIC_RELAXED);
}

bool kick_taken(struct percpu *cpu)
{
    return __atomic_exchange_n(&cpu->vcpu.kick, false, __ATOMIC_ACQ_REL);
}

bool kick_wait(struct percpu *self, struct percpu *c,
               bool (*done)(struct percpu *self, struct percpu *c, uint64_t arg), uint64_t arg,
               const char *what)
{
    uint64_t first_exits = exits_of(c), last_exits = first_exits;
    uint64_t stall = tsc_deadline(KICK_STALL_US), retry = tsc_deadline(KICK_RETRY_US);
    while (!done(self, c, arg)) {
        uint64_t now = rdtsc(), exits = exits_of(c);
        if (exits != last_exits) {
            last_exits = exits;
            stall = tsc_deadline(KICK_STALL_US);          /* it runs: no clock on it */
        }
        if (__atomic_load_n(&c->vcpu.stopped, __ATOMIC_ACQUIRE)) {
            log_error("CPU %u: CPU %u did not %s: it is stopped\n", self->index, c->index, what);
            return false;
        }
        if (exits - first_exits >= KICK_MAX_TARGET_EXITS || now > stall) {
            log_error("CPU %u: CPU %u did not %s: %llu exits since the kick%s\n", self->index,
                      c->index, what, (unsigned long long)(exits - first_exits),
                      now > stall ? ", and none for 30 s" : "");
            return false;
        }
        if (now > retry && !__atomic_load_n(&c->vcpu.kick, __ATOMIC_SEQ_CST) &&
            __atomic_load_n(&c->vcpu.in_guest, __ATOMIC_SEQ_CST) && !done(self, c, arg)) {
            kick_cpu(c);                   /* taken in root, and back in the guest: again */
            retry = tsc_deadline(KICK_RETRY_US);
        }
        cpu_relax();
    }
    return true;
}

/*
 * An NMI while this CPU runs hypervisor code (kernel/exceptions.c hands it
 * here). Unless it was a kick, it belongs to the guest (its watchdog, its
 * IPIs), so the backend re-injects it at the next VM entry instead of losing
 * it (SDM Vol. 3C, 33.2). (One arriving after the backend's last look waits
 * for the next exit.) Before the guest exists there is nobody to give it to;
 * it is counted.
 */
static volatile uint64_t nmis_before_guest;

void kick_nmi_in_root(void)
{
    if (!rdmsr(MSR_GS_BASE)) {
        nmis_before_guest++;          /* this CPU's per-CPU block is not active yet */
        return;
    }
    struct percpu *cpu = this_cpu();
    if (kick_taken(cpu))
        return;                       /* a kick, also one before the first VM entry */
    if (cpu->vcpu.launched)
        cpu->vcpu.nmi_pending = true; /* the backend injects it before it resumes the guest */
    else
        nmis_before_guest++;
}
