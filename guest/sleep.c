/* The guest's sleep-state entries, watched at the PM1 control ports (see sleep.h). */
#include "guest/sleep.h"

#include "guest/status.h"
#include "kernel/log.h"
#include "kernel/x86.h"

static struct {
    uint16_t pm1a, pm1b;              /* control block I/O ports; 0: none watched */
    bool has_s3, has_s5;
    uint8_t s3_typ_a, s3_typ_b, s5_typ_a, s5_typ_b;
} watch;

/* A PM1 control block in I/O space, the only kind an IN or OUT reaches. */
static uint16_t io_port(const struct acpi_gas *g)
{
    return g->space == ACPI_GAS_IO && g->address && g->address <= 0xFFFE ? (uint16_t)g->address
                                                                          : 0;
}

void guest_sleep_watch(const struct acpi_sleep *s)
{
    watch.pm1a = io_port(&s->pm1a_cnt);
    watch.pm1b = io_port(&s->pm1b_cnt);
    watch.has_s3 = s->has_s3;
    watch.has_s5 = s->has_s5;
    watch.s3_typ_a = s->s3_typ_a, watch.s3_typ_b = s->s3_typ_b;
    watch.s5_typ_a = s->s5_typ_a, watch.s5_typ_b = s->s5_typ_b;
}

unsigned guest_sleep_ports(uint16_t ports[GUEST_SLEEP_MAX_PORTS])
{
    unsigned n = 0;
    if (watch.pm1a)
        ports[n++] = watch.pm1a, ports[n++] = watch.pm1a + 1;
    if (watch.pm1b)
        ports[n++] = watch.pm1b, ports[n++] = watch.pm1b + 1;
    return n;
}

/* Whether [port, port + size) meets the 2-byte register at reg. */
static bool touches(uint16_t reg, uint16_t port, unsigned size)
{
    return reg && port < reg + 2u && reg < port + size;
}

/* Whether an access of size bytes at port touches a watched register. */
static bool watched(uint16_t port, unsigned size)
{
    return touches(watch.pm1a, port, size) || touches(watch.pm1b, port, size);
}

/*
 * An OUT that sets SLP_EN (ACPI 6.5, 4.8.3.2.1): says which state it enters.
 * Only a write of the register's low byte and high byte together (16 or 32
 * bits at its port) carries both SLP_TYP and SLP_EN; ACPICA and Linux write
 * it that way.
 */
static void say_sleep(unsigned cpu_index, uint16_t port, unsigned size, uint32_t value)
{
    bool a = port == watch.pm1a, b = port == watch.pm1b && watch.pm1b;
    if ((!a && !b) || size < 2 || !(value & PM1_SLP_EN))
        return;
    unsigned typ = (value & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;
    const char *reg = a ? "PM1a" : "PM1b";
    if (watch.has_s3 && typ == (a ? watch.s3_typ_a : watch.s3_typ_b))
        log_warn("CPU %u: the guest enters ACPI S3 (suspend to RAM) through %s: thinvisor does "
                 "not survive it yet; after the resume the OS runs without it\n", cpu_index,
                 reg);
    else if (watch.has_s5 && typ == (a ? watch.s5_typ_a : watch.s5_typ_b))
        log_info("CPU %u: the guest powers the machine off (ACPI S5) through %s\n", cpu_index,
                 reg);
    else
        log_info("CPU %u: the guest enters sleep type %u through %s\n", cpu_index, typ, reg);
}

/* The guest's IN (what it read, size bytes) or OUT of value at a watched port. */
static uint32_t sleep_port_io(unsigned cpu_index, uint16_t port, unsigned size, bool in,
                              uint32_t value)
{
    if (in)
        return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
    say_sleep(cpu_index, port, size, value);
    if (size == 1)
        outb(port, (uint8_t)value);
    else if (size == 2)
        outw(port, (uint16_t)value);
    else
        outl(port, value);
    return 0;
}

/*
 * An IN's value into the guest's RAX as the CPU puts it there: AL or AX
 * alone, or EAX with the upper half of RAX cleared.
 */
static void in_result(uint64_t *rax, unsigned size, uint32_t value)
{
    if (size == 4) {
        *rax = value;
    } else {
        uint64_t mask = size == 1 ? 0xFFull : 0xFFFFull;
        *rax = (*rax & ~mask) | (value & mask);
    }
}

/* INS or OUTS at an intercepted port: no guest does it to these registers; said once. */
static void string_dropped(unsigned cpu_index, uint16_t port, bool in)
{
    static bool said;
    if (!said) {
        said = true;
        log_warn("CPU %u: the guest's %s at I/O port %#x is not performed (string I/O to an "
                 "intercepted port; reported once)\n", cpu_index, in ? "INS" : "OUTS", port);
    }
}

void guest_io_exit(unsigned cpu_index, uint64_t *rax, uint16_t port, unsigned size, bool in,
                   bool string)
{
    if (string) {
        string_dropped(cpu_index, port, in);
    } else if (watched(port, size)) {
        uint32_t value = sleep_port_io(cpu_index, port, size, in, (uint32_t)*rax);
        if (in)
            in_result(rax, size, value);
    } else if (!in) {
        status_exit_port_write(port, size, (uint32_t)*rax);
    } else {
        *rax = 0xFFFFFFFFu;            /* never happens: only OUT to the exit ports */
    }
}
