/*
 * Console output. The serial port is what users read on a real machine;
 * Bochs's port 0xE9 is a zero-setup debug console for emulator runs, used
 * only when the port answers as Bochs's does (reads back 0xE9).
 */
#include "kernel/console.h"

#include "kernel/uart.h"
#include "kernel/x86.h"

static uint16_t serial_port;
static uint32_t serial_baud;
static bool serial_ok;
static bool e9_ok;

void console_init(uint16_t port, uint32_t baud)
{
    serial_port = port;
    serial_baud = baud;
    serial_ok = port && uart_init(port, baud);
    e9_ok = inb(0xE9) == 0xE9;
}

void console_reinit(void)
{
    console_init(serial_port, serial_baud);
}

bool console_serial_ok(void) { return serial_ok; }
bool console_e9_ok(void) { return e9_ok; }

void console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (serial_ok) {
            if (s[i] == '\n' && !uart_putc(serial_port, '\r'))
                serial_ok = false;
            if (serial_ok && !uart_putc(serial_port, s[i]))
                serial_ok = false;     /* the UART stopped answering: stop waiting on it */
        }
        if (e9_ok)
            outb(0xE9, (uint8_t)s[i]);
    }
}
