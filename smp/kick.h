/*
 * Kicks (smp/kick.c): an NMI that makes a CPU leave the guest soon, so that it
 * looks at something the kicker changed (a newer EPT, an emulated INIT). The
 * backend turns the NMI into an exit: NMI exiting on VMX, the NMI intercept
 * on SVM.
 */
#ifndef THINVISOR_KICK_H
#define THINVISOR_KICK_H

#include <stdbool.h>
#include <stdint.h>

#include "smp/percpu.h"

/* Sends c a kick, unless one is already on its way. */
void kick_cpu(struct percpu *c);

/* Whether an NMI this CPU got was a kick; says so once per kick. */
bool kick_taken(struct percpu *cpu);

/*
 * Waits until done(self, c, arg) holds, kicking c again when a kick was taken
 * without the work getting done. Gives up, logs that c did not `what` and
 * returns false when c made many exits without doing it, or none for so long
 * that no busy host explains it (smp/kick.c): never on the clock alone.
 */
bool kick_wait(struct percpu *self, struct percpu *c,
               bool (*done)(struct percpu *self, struct percpu *c, uint64_t arg), uint64_t arg,
               const char *what);

/*
 * The host's NMI handler (installed by smp_start): a kick is taken, any other
 * NMI is the guest's and becomes vcpu.nmi_pending once the guest runs here.
 */
void kick_nmi_in_root(void);

#endif
