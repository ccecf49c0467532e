/* The console: a serial port chosen by console=, mirrored to Bochs's port 0xE9. */
#ifndef THINVISOR_CONSOLE_H
#define THINVISOR_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Opens the console; port 0 means no serial console. Called through
 * log_open_console(), which holds back early messages until then.
 */
void console_init(uint16_t port, uint32_t baud);

/* The same port set up again, after a reset that lost its settings (an ACPI S3 wake). */
void console_reinit(void);

void console_write(const char *s, size_t n);

/* What console_init found, for the boot log. */
bool console_serial_ok(void);
bool console_e9_ok(void);

#endif
