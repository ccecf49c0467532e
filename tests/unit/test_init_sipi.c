/*
 * guest/init_sipi.c: the emulated INIT/SIPI state machine, through its hooks
 * (kicks, the wait for a taken INIT, a real INIT, the platform reset) as
 * fakes that record what delivery asked for; then an AP thread and a sender
 * thread race through thousands of INIT-SIPI cycles as a guest OS and an AP
 * in the host would.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/init_sipi.h"
#include "smp/lapic.h"

#define NCPUS 4
static struct percpu cpu_blocks[NCPUS];
static struct percpu *cpu_list[NCPUS];

static struct {
    int kicks[NCPUS], waits[NCPUS], real_inits[NCPUS], resets, wakes[NCPUS];
    bool ap_takes_init;          /* wait_taken: the AP takes its INIT meanwhile (else it is slow) */
} seen;

static void fake_kick(struct percpu *c) { seen.kicks[c->index]++; }

static void fake_wait_taken(struct percpu *sender, struct percpu *c)
{
    (void)sender;
    seen.waits[c->index]++;
    if (seen.ap_takes_init)
        init_sipi_begin_wait(&c->vcpu);
}

static void fake_send_init(struct percpu *c) { seen.real_inits[c->index]++; }
static void fake_reset(struct percpu *sender) { (void)sender; seen.resets++; }
static void fake_wake(struct percpu *c) { seen.wakes[c->index]++; }

static const struct init_sipi_ops fakes = {
    .kick = fake_kick, .wait_taken = fake_wait_taken, .send_init = fake_send_init,
    .reset = fake_reset, .wake = fake_wake,
};

/* Four CPUs, APIC IDs 0, 2, 4, 6 (not their indexes); every AP in the state given. */
static int setup(void **state)
{
    (void)state;
    memset(cpu_blocks, 0, sizeof cpu_blocks);
    memset(&seen, 0, sizeof seen);
    seen.ap_takes_init = true;
    for (uint32_t i = 0; i < NCPUS; i++) {
        cpu_blocks[i].index = i;
        cpu_blocks[i].apic_id = 2 * i;
        cpu_blocks[i].vcpu.ap_state = AP_RUNNING;
        cpu_list[i] = &cpu_blocks[i];
    }
    return 0;
}

static uint32_t state_of(uint32_t i) { return cpu_blocks[i].vcpu.ap_state; }

static bool send(uint32_t from, uint64_t icr, bool can_kick)
{
    return init_sipi_deliver(cpu_list, NCPUS, &cpu_blocks[from], icr, can_kick, &fakes);
}

/* INIT (assert) and SIPI to one APIC ID, in x2APIC ICR layout. */
static uint64_t init_to(uint32_t apic_id) { return (uint64_t)apic_id << 32 | ICR_INIT | ICR_LEVEL_ASSERT; }
static uint64_t sipi_to(uint32_t apic_id, uint8_t v) { return (uint64_t)apic_id << 32 | ICR_STARTUP | v; }

static void sipi_starts_a_waiting_ap(void **state)
{
    (void)state;
    uint8_t vector = 0;
    cpu_blocks[1].vcpu.ap_state = AP_WAITING;
    assert_false(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    assert_true(send(0, sipi_to(2, 0x0C), true));
    assert_int_equal(state_of(1), AP_SIPI | 0x0C00);
    assert_true(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    assert_int_equal(vector, 0x0C);
    assert_int_equal(state_of(1), AP_RUNNING);
    /* A second SIPI to the running AP is ignored, as on hardware. */
    assert_true(send(0, sipi_to(2, 0x0D), true));
    assert_int_equal(state_of(1), AP_RUNNING);
    assert_int_equal(state_of(2), AP_RUNNING);   /* the others were not addressed */
}

/*
 * The waiting AP halts (guest/ap_start.c): the SIPI that starts it wakes it,
 * after its state word changed; a SIPI that starts nobody wakes nobody, and
 * without kicks the AP spins and is not woken.
 */
static void sipi_wakes_the_ap_it_starts(void **state)
{
    (void)state;
    uint8_t vector;
    cpu_blocks[1].vcpu.ap_state = AP_WAITING;
    cpu_blocks[3].vcpu.ap_state = AP_WAITING;
    assert_true(send(0, sipi_to(2, 0x0C), true));
    assert_int_equal(seen.wakes[1], 1);
    assert_true(send(0, sipi_to(2, 0x0C), true));         /* started already: no second wake */
    assert_int_equal(seen.wakes[1], 1);
    assert_int_equal(seen.wakes[2], 0);                   /* running: not addressed anyway */
    seen.ap_takes_init = false;
    send(0, init_to(4), true);
    send(0, sipi_to(4, 0x20), true);                      /* latched behind the INIT: no wait yet */
    assert_int_equal(seen.wakes[2], 0);
    init_sipi_begin_wait(&cpu_blocks[2].vcpu);
    assert_true(init_sipi_take_start(&cpu_blocks[2].vcpu, &vector));
    assert_true(send(0, sipi_to(6, 0x30), false));        /* without kicks: it spins */
    assert_int_equal(state_of(3), AP_SIPI | 0x3000);
    assert_int_equal(seen.wakes[3], 0);
}

/* INIT to a running AP: kicked, waited for; it takes the INIT and waits for its SIPI. */
static void init_kicks_and_waits(void **state)
{
    (void)state;
    uint8_t vector;
    assert_true(send(0, init_to(4), true));
    assert_int_equal(seen.kicks[2], 1);
    assert_int_equal(seen.waits[2], 1);
    assert_int_equal(seen.kicks[1] + seen.kicks[3], 0);
    assert_int_equal(state_of(2), AP_WAITING);
    assert_true(send(0, sipi_to(4, 0x9F), true));
    assert_true(init_sipi_take_start(&cpu_blocks[2].vcpu, &vector));
    assert_int_equal(vector, 0x9F);
}

/* A SIPI that finds the INIT not taken yet (a slow AP) is kept and starts it afterwards. */
static void sipi_latched_behind_a_slow_init(void **state)
{
    (void)state;
    uint8_t vector;
    seen.ap_takes_init = false;
    assert_true(send(0, init_to(2), true));
    assert_true(init_sipi_init_pending(&cpu_blocks[1].vcpu));
    assert_true(send(0, sipi_to(2, 0x20), true));
    assert_true(init_sipi_init_pending(&cpu_blocks[1].vcpu));
    assert_int_equal(state_of(1), AP_INIT_PENDING | AP_SIPI_LATCHED | 0x2000);
    init_sipi_begin_wait(&cpu_blocks[1].vcpu);               /* the AP takes the INIT now */
    assert_true(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    assert_int_equal(vector, 0x20);
}

/* INIT, SIPI, INIT: the latched SIPI is dropped again; the AP waits for the next one. */
static void second_init_drops_the_latch(void **state)
{
    (void)state;
    uint8_t vector;
    seen.ap_takes_init = false;
    send(0, init_to(2), true);
    send(0, sipi_to(2, 0x20), true);
    send(0, init_to(2), true);
    assert_int_equal(state_of(1), AP_INIT_PENDING);
    init_sipi_begin_wait(&cpu_blocks[1].vcpu);
    assert_false(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    assert_int_equal(state_of(1), AP_WAITING);
}

/*
 * An INIT to an AP that has a SIPI but has not started on it yet undoes the
 * SIPI, as it resets a real AP: back to waiting, no kick needed.
 */
static void init_undoes_an_unstarted_sipi(void **state)
{
    (void)state;
    uint8_t vector;
    cpu_blocks[1].vcpu.ap_state = AP_WAITING;
    send(0, sipi_to(2, 0x44), true);
    assert_int_equal(state_of(1), AP_SIPI | 0x4400);
    send(0, init_to(2), true);
    assert_int_equal(state_of(1), AP_WAITING);
    assert_int_equal(seen.kicks[1], 0);
    assert_false(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    send(0, sipi_to(2, 0x45), true);
    assert_true(init_sipi_take_start(&cpu_blocks[1].vcpu, &vector));
    assert_int_equal(vector, 0x45);
}

/* An AP already waiting is in the INIT state: another INIT changes nothing, kicks nobody. */
static void init_to_a_waiting_ap(void **state)
{
    (void)state;
    cpu_blocks[3].vcpu.ap_state = AP_WAITING;
    assert_true(send(0, init_to(6), true));
    assert_int_equal(state_of(3), AP_WAITING);
    assert_int_equal(seen.kicks[3], 0);
    assert_int_equal(seen.waits[3], 0);
}

/*
 * Every INIT that leaves one to take also sets init_sent, the byte the AP's
 * exits test with the rest of exit_work (smp/percpu.h); init_sipi_init_sent
 * clears it, then reads the state. An INIT with nothing to take sets none.
 */
static void init_sent_marks_every_init_to_take(void **state)
{
    (void)state;
    struct vcpu_state *v = &cpu_blocks[1].vcpu;
    seen.ap_takes_init = false;
    assert_false(v->init_sent);
    send(0, init_to(2), true);
    assert_true(v->init_sent);
    assert_true(init_sipi_init_sent(v));
    assert_false(v->init_sent);
    assert_false(init_sipi_init_sent(v));         /* seen once; the state still says pending */
    assert_true(init_sipi_init_pending(v));
    send(0, sipi_to(2, 0x20), true);              /* latched behind the INIT */
    send(0, init_to(2), true);                    /* drops it: an INIT to take again */
    assert_true(init_sipi_init_sent(v));
    init_sipi_begin_wait(v);                      /* the AP takes it */
    assert_false(init_sipi_init_sent(v));
    cpu_blocks[3].vcpu.ap_state = AP_WAITING;
    send(0, init_to(6), true);                    /* already in the INIT state */
    assert_false(cpu_blocks[3].vcpu.init_sent);
    send(0, init_to(4), false);                   /* without kicks: a real INIT, no message */
    assert_false(cpu_blocks[2].vcpu.init_sent);
    assert_int_equal(seen.real_inits[2], 1);
}

/* INIT to the boot processor resets the platform; a SIPI to it is ignored. */
static void bsp(void **state)
{
    (void)state;
    assert_true(send(1, sipi_to(0, 0x10), true));
    assert_int_equal(seen.resets, 0);
    assert_true(send(1, init_to(0), true));
    assert_int_equal(seen.resets, 1);
}

static void shorthands(void **state)
{
    (void)state;
    /* All but self, from the BSP: every AP, and no reset. */
    assert_true(send(0, ICR_INIT | ICR_LEVEL_ASSERT | 3u << 18, true));
    for (uint32_t i = 1; i < NCPUS; i++)
        assert_int_equal(seen.kicks[i], 1);
    assert_int_equal(seen.resets, 0);
    /* A broadcast SIPI (destination 0xFFFFFFFF) starts every waiting AP. */
    assert_true(send(0, sipi_to(0xFFFFFFFFu, 0x30), true));
    for (uint32_t i = 1; i < NCPUS; i++)
        assert_int_equal(state_of(i), AP_SIPI | 0x3000);
    /* Self: an AP's INIT to itself is taken at the end of its own exit: no kick, no wait. */
    memset(&seen, 0, sizeof seen);
    cpu_blocks[2].vcpu.ap_state = AP_RUNNING;
    assert_true(send(2, ICR_INIT | ICR_LEVEL_ASSERT | 1u << 18, true));
    assert_int_equal(state_of(2), AP_INIT_PENDING);
    assert_int_equal(seen.kicks[2] + seen.waits[2], 0);
    /* All including self, from an AP: the BSP is among them, the platform resets. */
    assert_true(send(1, ICR_INIT | ICR_LEVEL_ASSERT | 2u << 18, true));
    assert_int_equal(seen.resets, 1);
}

/* INIT level de-assert does nothing; other delivery modes go to the real APIC. */
static void other_icr_writes(void **state)
{
    (void)state;
    assert_true(send(0, (uint64_t)2 << 32 | ICR_INIT | ICR_LEVEL_TRIGGER, true));
    assert_int_equal(state_of(1), AP_RUNNING);
    assert_int_equal(seen.kicks[1], 0);
    assert_false(send(0, (uint64_t)2 << 32 | 0x41, true));               /* fixed, vector 0x41 */
    assert_false(send(0, (uint64_t)2 << 32 | ICR_NMI, true));
    assert_int_equal(state_of(1), AP_RUNNING);
}

/* Without kicks a real INIT drives a running AP out; its INIT exit then takes it. */
static void without_kicks(void **state)
{
    (void)state;
    cpu_blocks[3].vcpu.ap_state = AP_WAITING;
    assert_true(send(0, ICR_INIT | ICR_LEVEL_ASSERT | 3u << 18, false));
    assert_int_equal(seen.real_inits[1], 1);
    assert_int_equal(seen.real_inits[2], 1);
    assert_int_equal(seen.real_inits[3], 0);      /* waiting already */
    assert_int_equal(seen.kicks[1] + seen.kicks[2], 0);
    assert_int_equal(state_of(1), AP_RUNNING);     /* until it exits and begins to wait */
}

/*
 * The race: an AP thread that, like svm_launch_ap, waits for its SIPI, runs
 * until its exits' look (init_sipi_init_sent) finds an INIT and waits again,
 * against a sender thread that, like a guest OS restarting it, sends INIT
 * then SIPI with a new vector each cycle, and (as after a timed-out wait)
 * sometimes does not wait for the INIT to be taken. Every cycle must start
 * the AP once, at its own vector: no SIPI lost, none taken twice, no INIT
 * left untaken.
 */
#define CYCLES 5000
#define LOST_AFTER_SPINS 1000000   /* the AP looked this often for what was sent: lost */
static volatile uint32_t starts, last_vector, stop, ap_spins, untaken_inits;

static void *ap_thread(void *arg)
{
    struct vcpu_state *v = arg;
    uint8_t vector;
    for (;;) {
        init_sipi_begin_wait(v);
        while (!init_sipi_take_start(v, &vector)) {
            if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
                return NULL;
            __atomic_add_fetch(&ap_spins, 1, __ATOMIC_RELEASE);
            sched_yield();                        /* two busy threads may share one core */
        }
        __atomic_store_n(&last_vector, vector, __ATOMIC_RELEASE);
        __atomic_add_fetch(&starts, 1, __ATOMIC_ACQ_REL);
        while (!init_sipi_init_sent(v)) {         /* guest code, until a kick brings an INIT */
            if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
                return NULL;
            __atomic_add_fetch(&ap_spins, 1, __ATOMIC_RELEASE);
            sched_yield();
        }
    }
}

static void no_op_kick(struct percpu *c) { (void)c; }
static void wait_until_taken(struct percpu *sender, struct percpu *c)
{
    (void)sender;
    uint32_t spins = __atomic_load_n(&ap_spins, __ATOMIC_ACQUIRE);
    while (init_sipi_init_pending(&c->vcpu)) {
        if (__atomic_load_n(&ap_spins, __ATOMIC_ACQUIRE) - spins > LOST_AFTER_SPINS) {
            __atomic_add_fetch(&untaken_inits, 1, __ATOMIC_ACQ_REL);  /* looked, never saw it */
            return;
        }
        sched_yield();
    }
}
static void dont_wait(struct percpu *sender, struct percpu *c) { (void)sender; (void)c; }

static void race(void **state)
{
    (void)state;
    struct init_sipi_ops waits = { no_op_kick, wait_until_taken, fake_send_init, fake_reset,
                                   no_op_kick };
    struct init_sipi_ops hurries = { no_op_kick, dont_wait, fake_send_init, fake_reset,
                                     no_op_kick };
    cpu_blocks[1].vcpu.ap_state = AP_WAITING;
    starts = 0;
    stop = 0;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ap_thread, &cpu_blocks[1].vcpu), 0);
    uint32_t bad = 0, lost = 0;
    for (uint32_t k = 1; k <= CYCLES && !lost; k++) {
        uint8_t vector = (uint8_t)(k % 0x9F + 1);
        const struct init_sipi_ops *ops = k % 3 ? &waits : &hurries;
        if (k > 1)
            init_sipi_deliver(cpu_list, NCPUS, &cpu_blocks[0], init_to(2), true, ops);
        uint32_t spins = __atomic_load_n(&ap_spins, __ATOMIC_ACQUIRE);
        init_sipi_deliver(cpu_list, NCPUS, &cpu_blocks[0], sipi_to(2, vector), true, ops);
        while (__atomic_load_n(&starts, __ATOMIC_ACQUIRE) < k && !lost) {
            lost = __atomic_load_n(&ap_spins, __ATOMIC_ACQUIRE) - spins > LOST_AFTER_SPINS ? k : 0;
            sched_yield();
        }
        if (__atomic_load_n(&starts, __ATOMIC_ACQUIRE) != k ||
            __atomic_load_n(&last_vector, __ATOMIC_ACQUIRE) != vector)
            bad++;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    assert_int_equal(untaken_inits, 0);
    assert_int_equal(lost, 0);                    /* the cycle whose SIPI never started the AP */
    assert_int_equal(bad, 0);
    assert_int_equal(starts, CYCLES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(sipi_starts_a_waiting_ap, setup),
        cmocka_unit_test_setup(sipi_wakes_the_ap_it_starts, setup),
        cmocka_unit_test_setup(init_kicks_and_waits, setup),
        cmocka_unit_test_setup(sipi_latched_behind_a_slow_init, setup),
        cmocka_unit_test_setup(second_init_drops_the_latch, setup),
        cmocka_unit_test_setup(init_undoes_an_unstarted_sipi, setup),
        cmocka_unit_test_setup(init_to_a_waiting_ap, setup),
        cmocka_unit_test_setup(init_sent_marks_every_init_to_take, setup),
        cmocka_unit_test_setup(bsp, setup),
        cmocka_unit_test_setup(shorthands, setup),
        cmocka_unit_test_setup(other_icr_writes, setup),
        cmocka_unit_test_setup(without_kicks, setup),
        cmocka_unit_test_setup(race, setup),
    };
    return cmocka_run_group_tests_name("init_sipi", tests, NULL, NULL);
}
