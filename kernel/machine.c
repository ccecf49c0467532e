/*
 * How thinvisor stops. On a real machine a stop is a halt with the reason on
 * the console, never a silent reboot. In test runs (test_exit) it also ends
 * the emulator, so a test never has to wait for its timeout.
 */
#include "kernel/machine.h"

#include <stdarg.h>

#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/x86.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4
#define BOCHS_SHUTDOWN_PORT  0x8900

static bool test_exit;

void machine_set_test_exit(bool on)
{
    test_exit = on;
}

void machine_stop(bool success)
{
    if (test_exit) {
        log_info("thinvisor: test run ends (%s)\n", success ? "success" : "failure");
        outl(QEMU_DEBUG_EXIT_PORT, success ? 0 : 1);
        for (const char *s = "Shutdown"; *s; s++)
            outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

void machine_reset(void)
{
    log_error("thinvisor: resetting the platform\n");
    if (test_exit)
        machine_stop(false);
    outb(0xCF9, 0x02);
    outb(0xCF9, 0x06);                 /* hard reset */
    for (int i = 0; i < 100000; i++)
        cpu_relax();
    outb(0x64, 0xFE);                  /* 8042 pulse reset line */
    machine_stop(false);
}

void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_open_default_console();
    log_error("PANIC: %s\n", msg);
    /* Once the guest runs, the console showed only errors: give the context now. */
    if (log_console_is_quiet())
        log_dump_ring_to_console(4096);
    log_error("thinvisor halted\n");
    machine_stop(false);
}
