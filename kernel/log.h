/*
 * Logging: every message goes into the in-memory log ring, and to the console
 * (serial + Bochs port 0xE9) when its level is enabled by loglevel=.
 */
#ifndef THINVISOR_LOG_H
#define THINVISOR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cmdline.h"

#define LOG_RING_SIZE (64 * 1024)

__attribute__((format(printf, 2, 3)))
void log_printf(enum log_level level, const char *fmt, ...);

#define log_error(...) log_printf(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_printf(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_printf(LOG_DEBUG, __VA_ARGS__)

void log_set_level(enum log_level level);

/* Where the CPU number in each ring line comes from, once there are CPUs (smp/smp.c). */
void log_set_cpu_index(uint32_t (*fn)(void));

/*
 * Opens the console (kernel/console.h) and writes out what was logged before,
 * so no early message is lost.
 */
void log_open_console(uint16_t port, uint32_t baud);

/*
 * Once the guest runs, the serial port is the guest's: from then on only
 * warnings and errors reach the console; everything still goes to the ring.
 */
void log_console_for_errors_only(bool on);

/* Whether the console shows only warnings and errors (the guest runs). */
bool log_console_is_quiet(void);

/* Writes the last `bytes` of the ring (with timestamps) to the console: panics use it. */
void log_dump_ring_to_console(size_t bytes);

/* For reports that can happen before the command line chose a console: COM1, 115200. */
void log_open_default_console(void);

/* Copies up to `len` bytes of the ring starting at byte `offset` of all output ever logged. */
size_t log_ring_read(uint64_t offset, char *buf, size_t len);
uint64_t log_ring_total(void);

/* The ring's pages (struct tv_log_ring, then the text; page-aligned) and their size in bytes. */
const void *log_ring_pages(size_t *bytes);

#endif
