/* The emulated INIT/SIPI state machine (see init_sipi.h). Plain C. */
#include "guest/init_sipi.h"

#include "smp/lapic.h"          /* the ICR's fields */

static uint32_t state_of(struct vcpu_state *v)
{
    return AP_STATE(__atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE));
}

static bool transition(struct vcpu_state *v, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&v->ap_state, &from, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/*
 * Entered from INIT_PENDING (an emulated INIT, perhaps with a SIPI latched),
 * RUNNING (a real INIT, without kicks) or the zero state WAITING (the first
 * launch). At the first launch the guest's SIPI may already be there (the AP
 * took its time to get here): it is kept, not overwritten with WAITING
 * (tests/unit/test_init_sipi.c's race found that).
 */
void init_sipi_begin_wait(struct vcpu_state *v)
{
    uint32_t s = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE), next;
    do {
        if (AP_STATE(s) == AP_SIPI)
            return;
        next = s & AP_SIPI_LATCHED ? AP_SIPI | (s & 0xFF00) : AP_WAITING;
    } while (!__atomic_compare_exchange_n(&v->ap_state, &s, next, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
}

void init_sipi_reset(struct vcpu_state *v)
{
    __atomic_store_n(&v->ap_state, AP_WAITING, __ATOMIC_RELEASE);
    v->init_sent = false;
}

bool init_sipi_take_start(struct vcpu_state *v, uint8_t *vector)
{
    uint32_t s = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE);
    if (AP_STATE(s) != AP_SIPI || !transition(v, s, AP_RUNNING))
        return false;
    *vector = AP_VECTOR(s);
    return true;
}

bool init_sipi_init_pending(struct vcpu_state *v)
{
    return state_of(v) == AP_INIT_PENDING;
}

/*
 * The flag goes first, in a full barrier, and the state is read after: an
 * INIT whose compare-and-swap this read misses sets the flag again after it
 * (deliver_init), so the next exit looks once more.
 */
bool init_sipi_init_sent(struct vcpu_state *v)
{
    return __atomic_exchange_n(&v->init_sent, false, __ATOMIC_SEQ_CST) &&
           init_sipi_init_pending(v);
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

/*
 * A SIPI, applied in one compare-and-swap to whatever state it finds, retried
 * when the AP moved meanwhile: an AP that waits starts (true: it must be
 * woken, it may be halted); one that has an INIT
 * to take keeps the SIPI for after it (only the first: a second SIPI finds it
 * latched and is dropped, as a started AP ignores it); else it is dropped.
 * (Two separate attempts lost a SIPI that came while the AP went from
 * INIT_PENDING to WAITING between them: tests/unit/test_init_sipi.c, race.)
 */
static bool deliver_sipi(struct vcpu_state *v, uint32_t vector)
{
    uint32_t s = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE), next;
    do {
        if (s == AP_WAITING)
            next = AP_SIPI | vector;
        else if (s == AP_INIT_PENDING)
            next = AP_INIT_PENDING | AP_SIPI_LATCHED | vector;
        else
            return false;
    } while (!__atomic_compare_exchange_n(&v->ap_state, &s, next, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    return s == AP_WAITING;
}

/*
 * An INIT, the same way. It takes effect when it is sent: a running AP gets
 * one to take (true: it must be made to leave the guest, by a kick, or
 * without kicks by a real INIT, which leaves the state to the AP's INIT
 * exit); a SIPI latched behind an earlier INIT, or one the AP has not
 * started on yet, is undone (back to the INIT state); an AP already in the
 * INIT state stays there.
 */
static bool deliver_init(struct vcpu_state *v, bool can_kick)
{
    uint32_t s = __atomic_load_n(&v->ap_state, __ATOMIC_ACQUIRE), next;
    do {
        if (s & AP_SIPI_LATCHED)
            next = AP_INIT_PENDING;
        else if (AP_STATE(s) == AP_SIPI)
            next = AP_WAITING;
        else if (s == AP_RUNNING && can_kick)
            next = AP_INIT_PENDING;
        else
            return s == AP_RUNNING;
    } while (!__atomic_compare_exchange_n(&v->ap_state, &s, next, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    if (next == AP_INIT_PENDING)
        __atomic_store_n(&v->init_sent, true, __ATOMIC_SEQ_CST);   /* after the state: see above */
    return next == AP_INIT_PENDING && !(s & AP_SIPI_LATCHED);
}

bool init_sipi_deliver(struct percpu *const *cpus, uint32_t count, struct percpu *sender,
                       uint64_t icr, bool can_kick, const struct init_sipi_ops *ops)
{
    uint32_t mode = ICR_DELIVERY_MODE(icr);
    if (mode != ICR_DELIVERY_MODE(ICR_INIT) && mode != ICR_DELIVERY_MODE(ICR_STARTUP))
        return false;
    /* INIT level de-assert (the 82489DX "INIT" that only resyncs arbitration IDs) does nothing. */
    if (mode == ICR_DELIVERY_MODE(ICR_INIT) && !(icr & ICR_LEVEL_ASSERT) &&
        (icr & ICR_LEVEL_TRIGGER))
        return true;
    bool kicked[SMP_MAX_CPUS] = { false };
    for (uint32_t i = 0; i < count; i++) {
        struct percpu *c = cpus[i];
        struct vcpu_state *v = &c->vcpu;
        if (!is_target(sender, c, icr))
            continue;
        if (i == 0) {
            if (mode == ICR_DELIVERY_MODE(ICR_INIT))
                ops->reset(sender);
            continue;                            /* SIPI to a running BSP: ignored */
        }
        uint32_t vector = (uint32_t)(uint8_t)icr << 8;
        if (mode == ICR_DELIVERY_MODE(ICR_STARTUP)) {
            if (deliver_sipi(v, vector) && can_kick)
                ops->wake(c);                /* it halts in ap_wait_for_sipi */
        } else if (deliver_init(v, can_kick)) {
            if (!can_kick) {
                ops->send_init(c);           /* it exits and takes its INIT there */
            } else if (c != sender) {        /* INIT to itself: taken at the end of this exit */
                ops->kick(c);
                kicked[i] = true;
            }
        }
    }
    for (uint32_t i = 0; i < count; i++)
        if (kicked[i])
            ops->wait_taken(sender, cpus[i]);
    return true;
}
