/*
 * The guest's INIT and SIPI as messages, for a backend whose APs wait in the
 * host for their SIPI (SVM, which has no wait-for-SIPI state; VT-x without
 * it, or with `emulate_sipi`): the per-AP state machine and the delivery of
 * one ICR write to its targets. Plain C: what it needs of the machine (kicks,
 * a real INIT, a platform reset) comes through struct init_sipi_ops, so the
 * host unit tests drive it with fakes (tests/unit/test_init_sipi.c) and
 * guest/ap_start.c binds it to the real one.
 *
 * One word per AP (vcpu.ap_state), changed only by compare-and-swap, so that
 * an INIT or SIPI racing with the AP's own transitions is either applied or
 * dropped as hardware would, never left behind to fire later:
 *   WAITING -(guest SIPI)-> SIPI | vector << 8 -(the AP starts)-> RUNNING
 *   RUNNING -(guest INIT)-> INIT_PENDING -(the AP's next exit)-> WAITING
 * To the guest an INIT takes effect when it is sent, so a SIPI that finds
 * the INIT not taken yet (a slow AP, after the sender's wait timed out) is
 * kept with it, INIT_PENDING | SIPI_LATCHED | vector << 8, and starts the AP
 * as soon as it has taken the INIT; another INIT drops it again. INITs and
 * SIPIs that find any other state are dropped (an AP that waits for a SIPI
 * is already in the INIT state; a running one ignores SIPIs). SDM Vol. 3A,
 * 9.4.4 (the start-up protocol).
 */
#ifndef THINVISOR_INIT_SIPI_H
#define THINVISOR_INIT_SIPI_H

#include <stdbool.h>
#include <stdint.h>

#include "smp/percpu.h"

enum { AP_WAITING, AP_SIPI, AP_RUNNING, AP_INIT_PENDING };
#define AP_SIPI_LATCHED (1u << 16)
#define AP_STATE(s)     ((s) & 0xFF)
#define AP_VECTOR(s)    ((uint8_t)((s) >> 8))

/* What delivery asks of the machine around it. */
struct init_sipi_ops {
    /* c runs guest code and was sent an INIT: make it leave the guest soon to take it. */
    void (*kick)(struct percpu *c);
    /* After the kicks: wait until c has taken its INIT (or give up, saying so). */
    void (*wait_taken)(struct percpu *sender, struct percpu *c);
    /* Without kicks: a real INIT, which drives a running c out of the guest. */
    void (*send_init)(struct percpu *c);
    /* INIT to the boot processor: the platform resets; does not return. */
    void (*reset)(struct percpu *sender);
    /* With kicks: c, halted waiting for its SIPI, has one now: wake it to take it. */
    void (*wake)(struct percpu *c);
};

/*
 * A guest ICR write from `sender`, in x2APIC layout (the destination in bits
 * 63:32, 0xFFFFFFFF for broadcast), to the `count` CPUs of `cpus` (index 0
 * the BSP). Returns true when it was an INIT or SIPI and has been handled;
 * false when the caller must send it to the real APIC. A running AP is
 * kicked to take its INIT when `can_kick`; otherwise send_init drives it out.
 */
bool init_sipi_deliver(struct percpu *const *cpus, uint32_t count, struct percpu *sender,
                       uint64_t icr, bool can_kick, const struct init_sipi_ops *ops);

/*
 * The AP's side. It took its INIT (or was just launched): from now on it
 * waits for a SIPI, one latched meanwhile included.
 */
void init_sipi_begin_wait(struct vcpu_state *v);

/*
 * Back to the zero state, WAITING, as at the first launch: after an ACPI S3
 * wake reset every CPU (guest/s3.c), with no other CPU running.
 */
void init_sipi_reset(struct vcpu_state *v);

/* Whether a SIPI came; then the AP runs from here, at *vector * 4 KiB. */
bool init_sipi_take_start(struct vcpu_state *v, uint8_t *vector);

/* Whether the guest sent this AP an INIT that it has not taken yet. */
bool init_sipi_init_pending(struct vcpu_state *v);

/*
 * The same, asked at the end of the AP's exits: every INIT that makes one
 * pending also sets v->init_sent, in the word those exits test together
 * (smp/percpu.h), so an exit that finds it clear has no INIT to take. This
 * clears it, then reads the state.
 */
bool init_sipi_init_sent(struct vcpu_state *v);

#endif
