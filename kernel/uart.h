/* 16550-compatible UART (the PC's COM ports). */
#ifndef THINVISOR_UART_H
#define THINVISOR_UART_H

#include <stdbool.h>
#include <stdint.h>

/* Programs the UART at `port` for `baud` 8N1, no interrupts. Returns false when no UART answers. */
bool uart_init(uint16_t port, uint32_t baud);

/* Sends one byte; gives up (and returns false) when the transmitter never becomes ready. */
bool uart_putc(uint16_t port, char c);

#endif
