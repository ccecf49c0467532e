/*
 * 16550 UART driver, polled. The hypervisor never takes interrupts, and a
 * machine without the UART the user named must still boot, so every wait
 * here is bounded.
 */
#include "kernel/uart.h"

#include "kernel/x86.h"

/* Register offsets (PC16550D data sheet). */
#define UART_DATA 0
#define UART_IER  1
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define UART_SCR  7

#define LSR_THR_EMPTY 0x20
#define LCR_DLAB      0x80
#define TX_SPIN_LIMIT 200000

/*
 * A missing UART reads back 0xFF from every register, so a value written to
 * the scratch register that comes back unchanged means one is there.
 */
static bool uart_present(uint16_t port)
{
    outb(port + UART_SCR, 0x5A);
    if (inb(port + UART_SCR) != 0x5A)
        return false;
    outb(port + UART_SCR, 0xA5);
    return inb(port + UART_SCR) == 0xA5;
}

bool uart_init(uint16_t port, uint32_t baud)
{
    if (!uart_present(port))
        return false;
    uint16_t divisor = (uint16_t)(115200 / baud);
    outb(port + UART_IER, 0x00);
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DATA, divisor & 0xFF);
    outb(port + UART_IER, divisor >> 8);
    outb(port + UART_LCR, 0x03);           /* 8 data bits, no parity, 1 stop bit */
    outb(port + UART_FCR, 0xC7);           /* enable and clear FIFOs */
    outb(port + UART_MCR, 0x03);           /* DTR, RTS; OUT2 off: no interrupts */
    return true;
}

bool uart_putc(uint16_t port, char c)
{
    for (int i = 0; i < TX_SPIN_LIMIT; i++) {
        if (inb(port + UART_LSR) & LSR_THR_EMPTY) {
            outb(port + UART_DATA, (uint8_t)c);
            return true;
        }
        cpu_relax();
    }
    return false;
}
