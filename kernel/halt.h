/*
 * Halting a CPU that waits in the host for another to change a word, instead
 * of spinning: a spinning CPU takes a host core from an emulator's other
 * virtual CPUs, and on SMT hardware slows the thread beside it. The writer
 * wakes it with an NMI (a kick, smp/kick.c) after the store.
 */
#ifndef THINVISOR_HALT_H
#define THINVISOR_HALT_H

#include <stdint.h>

/*
 * Returns when *word != value, or after the CPU was woken (an NMI, an SMI):
 * the caller looks again. An NMI that comes between the compare and the HLT
 * is not lost (kernel/halt.asm). Maskable interrupts stay off (IF clear).
 */
void halt_while_equal(const volatile uint32_t *word, uint32_t value);

/* The window nmi_in_root moves an interrupted return point out of. */
extern const char halt_window_start[], halt_window_end[];

#endif
