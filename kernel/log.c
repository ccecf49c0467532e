/*
 * The log. Messages are formatted once, appended to the ring (so a guest can
 * read them later through a hypercall, and nothing printed before the console
 * opens is lost) and written to the console if their level is enabled.
 */
#include "kernel/log.h"

#include <stdarg.h>
#include <stdbool.h>

#include "kernel/console.h"
#include "kernel/format.h"
#include "kernel/x86.h"
#include "abi/status.h"

/*
 * The ring, in the layout of abi/status.h: thinvisor publishes its pages
 * read-only to the guest (guest/status.c). The type is page-aligned, so its
 * size is whole pages too and no other variable shares its last page (which
 * the guest would then read).
 */
static struct __attribute__((aligned(4096))) {
    struct tv_log_ring head;         /* head.total: bytes ever appended */
    char data[LOG_RING_SIZE];
} ring;                              /* in .bss: head.size is set when published */
_Static_assert(sizeof ring % 4096 == 0, "the published ring ends on a page boundary");
#define ring_total ring.head.total
static enum log_level current_level = LOG_INFO;
static bool console_open;
static bool console_quiet;           /* the guest owns the serial port: warnings and errors only */
static char early[4096];             /* console output held back until the console opens */
static size_t early_len;

void log_set_level(enum log_level level)
{
    current_level = level;
}

static void ring_append(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ring.data[(ring_total + i) % LOG_RING_SIZE] = s[i];
    ring_total += n;
}

uint64_t log_ring_total(void)
{
    return ring_total;
}

const void *log_ring_pages(size_t *bytes)
{
    ring.head.size = LOG_RING_SIZE;
    *bytes = sizeof ring;
    return &ring;
}

size_t log_ring_read(uint64_t offset, char *buf, size_t len)
{
    uint64_t oldest = ring_total > LOG_RING_SIZE ? ring_total - LOG_RING_SIZE : 0;
    if (offset < oldest)
        offset = oldest;
    size_t n = 0;
    while (n < len && offset + n < ring_total) {
        buf[n] = ring.data[(offset + n) % LOG_RING_SIZE];
        n++;
    }
    return n;
}

/*
 * Processors log concurrently. The lock gives up after a bounded wait: a CPU
 * that faulted while holding it must not silence every other CPU's report.
 */
static volatile int log_lock;
static uint32_t (*cpu_index_fn)(void);   /* smp/: which CPU this is; none yet: CPU 0 */

static void lock(void)
{
    for (long spins = 0; spins < 50000000; spins++) {
        if (!__atomic_exchange_n(&log_lock, 1, __ATOMIC_ACQUIRE))
            return;
        __asm__ volatile("pause");
    }
}

static void unlock(void)
{
    __atomic_store_n(&log_lock, 0, __ATOMIC_RELEASE);
}

void log_printf(enum log_level level, const char *fmt, ...)
{
    static const char *const prefix[] = { "ERROR: ", "WARNING: ", "", "" };
    char line[512];
    size_t p = 0;
    for (const char *s = prefix[level]; *s; s++)
        line[p++] = *s;
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(line + p, sizeof line - p, fmt, ap);
    va_end(ap);
    size_t len = p + (n < 0 ? 0 : (size_t)n);
    if (len > sizeof line - 1)
        len = sizeof line - 1;
    /* The ring keeps when and where: TSC and CPU number before each line. */
    char stamp[40];
    int slen = fmt_snprintf(stamp, sizeof stamp, "[%llu cpu%u] ", (unsigned long long)rdtsc(),
                            cpu_index_fn ? cpu_index_fn() : 0);
    lock();
    if (ring_total == 0 || ring.data[(ring_total - 1) % LOG_RING_SIZE] == '\n')
        ring_append(stamp, (size_t)slen);
    ring_append(line, len);
    if (level <= current_level && (!console_quiet || level <= LOG_WARN)) {
        if (console_open) {
            console_write(line, len);
        } else {
            for (size_t i = 0; i < len && early_len < sizeof early; i++)
                early[early_len++] = line[i];
        }
    }
    unlock();
}

void log_set_cpu_index(uint32_t (*fn)(void))
{
    cpu_index_fn = fn;
}

void log_dump_ring_to_console(size_t bytes)
{
    char buf[256];
    uint64_t from = ring_total > bytes ? ring_total - bytes : 0;
    console_write("--- log ring ---\n", 17);
    for (;;) {
        size_t n = log_ring_read(from, buf, sizeof buf);
        if (n == 0)
            break;
        console_write(buf, n);
        from += n;
    }
    console_write("--- end of log ring ---\n", 24);
}

void log_console_for_errors_only(bool on)
{
    console_quiet = on;
}

bool log_console_is_quiet(void)
{
    return console_quiet;
}

void log_open_default_console(void)
{
    if (!console_open)
        log_open_console(0x3F8, 115200);
}

void log_open_console(uint16_t port, uint32_t baud)
{
    console_init(port, baud);
    console_open = true;
    console_write(early, early_len);
    if (early_len == sizeof early)
        log_warn("early log output was cut at %zu bytes; the log ring has all of it\n",
                 sizeof early);
    early_len = 0;
}
