/* Stopping the machine: halt, or (in test runs) end the emulator. */
#ifndef THINVISOR_MACHINE_H
#define THINVISOR_MACHINE_H

#include <stdbool.h>

/*
 * Ends thinvisor's work on this CPU. With test_exit on the command line the
 * emulator is told to exit (QEMU isa-debug-exit at 0xF4 with 0 for success,
 * Bochs's shutdown port 0x8900); otherwise, or if that fails, the CPU halts.
 */
void machine_stop(bool success) __attribute__((noreturn));

/*
 * Resets the platform (a guest triple fault, INIT to the boot processor), the
 * way a PC does it: reset control register 0xCF9, then the keyboard
 * controller. In test runs it ends the emulator instead (failure).
 */
void machine_reset(void) __attribute__((noreturn));

__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);

/* Set once the command line is known; machine_stop obeys it. */
void machine_set_test_exit(bool on);

#endif
