/* printf-style formatting for the console and the log, usable on the host. */
#ifndef THINVISOR_FORMAT_H
#define THINVISOR_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/*
 * C99 vsnprintf semantics for the subset the hypervisor uses: flags '-', '0',
 * ' ', '+', '#'; width and precision (also '*'); length modifiers hh h l ll z;
 * conversions d i u x X o p s c %. Always NUL-terminates when size > 0 and
 * returns the length the full output would have had.
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
