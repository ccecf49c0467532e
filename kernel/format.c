/*
 * printf-style formatting. The kernel has no libc, and every message a user
 * reads goes through here, so it follows C99 closely enough that host unit
 * tests can compare it with the host's snprintf.
 */
#include "kernel/format.h"

#include <stdbool.h>
#include <stdint.h>

struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left, zero, plus, space, alt;
    int width;
    int prec;        /* -1: none */
};

/* Emits one converted field with the sign/prefix, zeros and padding of C99 7.19.6.1. */
static void emit_field(struct out *o, const struct spec *s, const char *prefix,
                       const char *digits, int ndigits)
{
    int plen = 0;
    while (prefix[plen])
        plen++;
    int zeros = s->prec > ndigits ? s->prec - ndigits : 0;
    int total = plen + zeros + ndigits;
    int fill = s->width > total ? s->width - total : 0;
    if (!s->left && !(s->zero && s->prec < 0))
        pad(o, ' ', fill);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (!s->left && s->zero && s->prec < 0)
        pad(o, '0', fill);
    pad(o, '0', zeros);
    for (int i = 0; i < ndigits; i++)
        put(o, digits[i]);
    if (s->left)
        pad(o, ' ', fill);
}

static void emit_unsigned(struct out *o, const struct spec *s, uint64_t v,
                          unsigned base, bool upper, const char *prefix)
{
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    char rev[24];
    if (v == 0 && s->prec == 0) {
        n = 0;
    } else {
        do {
            rev[n++] = dig[v % base];
            v /= base;
        } while (v);
    }
    for (int i = 0; i < n; i++)
        tmp[i] = rev[n - 1 - i];
    emit_field(o, s, prefix, tmp, n);
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    while (*fmt) {
        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        struct spec s = { .prec = -1 };
        for (;; fmt++) {
            if (*fmt == '-') s.left = true;
            else if (*fmt == '0') s.zero = true;
            else if (*fmt == '+') s.plus = true;
            else if (*fmt == ' ') s.space = true;
            else if (*fmt == '#') s.alt = true;
            else break;
        }
        if (*fmt == '*') {
            s.width = va_arg(ap, int);
            if (s.width < 0) {
                s.left = true;
                s.width = -s.width;
            }
            fmt++;
        } else {
            while (*fmt >= '0' && *fmt <= '9')
                s.width = s.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == '.') {
            fmt++;
            s.prec = 0;
            if (*fmt == '*') {
                s.prec = va_arg(ap, int);
                if (s.prec < 0)
                    s.prec = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    s.prec = s.prec * 10 + (*fmt++ - '0');
            }
        }
        int lng = 0;    /* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t */
        for (;; fmt++) {
            if (*fmt == 'l') lng++;
            else if (*fmt == 'h') lng--;
            else if (*fmt == 'z') lng = 2;
            else break;
        }
        char conv = *fmt;
        if (conv == '\0')
            break;
        fmt++;

        switch (conv) {
        case 'd':
        case 'i': {
            int64_t v;
            if (lng >= 2) v = va_arg(ap, long long);
            else if (lng == 1) v = va_arg(ap, long);
            else v = va_arg(ap, int);
            if (lng == -1) v = (short)v;
            if (lng <= -2) v = (signed char)v;
            uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
            const char *prefix = v < 0 ? "-" : s.plus ? "+" : s.space ? " " : "";
            emit_unsigned(&o, &s, mag, 10, false, prefix);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t v;
            if (lng >= 2) v = va_arg(ap, unsigned long long);
            else if (lng == 1) v = va_arg(ap, unsigned long);
            else v = va_arg(ap, unsigned int);
            if (lng == -1) v = (unsigned short)v;
            if (lng <= -2) v = (unsigned char)v;
            unsigned base = conv == 'u' ? 10 : conv == 'o' ? 8 : 16;
            const char *prefix = "";
            if (s.alt && v != 0 && conv == 'x') prefix = "0x";
            if (s.alt && v != 0 && conv == 'X') prefix = "0X";
            if (s.alt && conv == 'o' && s.prec <= 0 && v != 0) prefix = "0";
            emit_unsigned(&o, &s, v, base, conv == 'X', prefix);
            break;
        }
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            struct spec ps = s;
            ps.zero = false;
            emit_unsigned(&o, &ps, v, 16, false, "0x");
            break;
        }
        case 's': {
            const char *str = va_arg(ap, const char *);
            if (!str)
                str = "(null)";
            int n = 0;
            while (str[n] && (s.prec < 0 || n < s.prec))
                n++;
            struct spec ss = s;
            ss.prec = -1;
            ss.zero = false;
            emit_field(&o, &ss, "", str, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            struct spec cs = s;
            cs.prec = -1;
            cs.zero = false;
            emit_field(&o, &cs, "", &c, 1);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unknown conversion: show it literally so the mistake is visible. */
            put(&o, '%');
            put(&o, conv);
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
