/* The guest's sleep-state entries, watched at the PM1 control ports (see sleep.h). */
#include "guest/sleep.h"

#include "guest/s3.h"
#include "guest/status.h"
#include "kernel/log.h"
#include "kernel/x86.h"

static struct {
    uint16_t pm1a, pm1b;              /* control block I/O ports; 0: none watched */
    bool has_s3, has_s5;
    uint8_t s3_typ_a, s3_typ_b, s5_typ_a, s5_typ_b;
    uint64_t facs_phys;               /* where the OS writes its waking vector */
    uint32_t facs_length;
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
    watch.facs_phys = s->facs_phys;
    watch.facs_length = s->facs_length;
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
 * An OUT that sets SLP_EN (ACPI 6.5, 4.8.3.2.1): says which state it enters,
 * and for S3 arms thinvisor's wake (guest/s3.h); true when it did. Only a
 * write of the register's low byte and high byte together (16 or 32 bits at
 * its port) carries both SLP_TYP and SLP_EN; ACPICA and Linux write it that
 * way.
 */
static bool enter_sleep(struct percpu *cpu, uint16_t port, unsigned size, uint32_t value,
                        bool can_kick)
{
    bool a = port == watch.pm1a, b = port == watch.pm1b && watch.pm1b;
    if (size == 1 && (value & (PM1_SLP_EN >> 8)) &&
        ((watch.pm1a && port == watch.pm1a + 1) || (watch.pm1b && port == watch.pm1b + 1))) {
        log_warn("CPU %u: the guest enters a sleep state with a byte write to a PM1 control "
                 "register's high byte, which thinvisor does not take: after a suspend to RAM "
                 "the OS runs without it\n", cpu->index);
        return false;
    }
    if ((!a && !b) || size < 2 || !(value & PM1_SLP_EN))
        return false;
    unsigned typ = (value & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;
    const char *reg = a ? "PM1a" : "PM1b";
    if (watch.has_s3 && typ == (a ? watch.s3_typ_a : watch.s3_typ_b))
        return guest_s3_arm(cpu, watch.facs_phys, watch.facs_length, can_kick);
    if (watch.has_s5 && typ == (a ? watch.s5_typ_a : watch.s5_typ_b))
        log_info("CPU %u: the guest powers the machine off (ACPI S5) through %s\n", cpu->index,
                 reg);
    else
        log_info("CPU %u: the guest enters sleep type %u through %s\n", cpu->index, typ, reg);
    return false;
}

/*
 * The guest's IN (what it read, size bytes) or OUT of value at a watched
 * port. After an OUT that armed the wake the machine should be asleep; on a
 * machine with PM1b that is after the second of the two writes.
 */
static uint32_t sleep_port_io(struct percpu *cpu, uint16_t port, unsigned size, bool in,
                              uint32_t value, bool can_kick)
{
    if (in)
        return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
    bool s3 = enter_sleep(cpu, port, size, value, can_kick);
    if (size == 1)
        outb(port, (uint8_t)value);
    else if (size == 2)
        outw(port, (uint16_t)value);
    else
        outl(port, value);
    if (s3 && (port == watch.pm1b || !watch.pm1b))
        guest_s3_wait_for_sleep(cpu);
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

void guest_io_exit(struct percpu *cpu, uint64_t *rax, uint16_t port, unsigned size, bool in,
                   bool string, bool can_kick)
{
    if (string) {
        string_dropped(cpu->index, port, in);
    } else if (watched(port, size)) {
        uint32_t value = sleep_port_io(cpu, port, size, in, (uint32_t)*rax, can_kick);
        if (in)
            in_result(rax, size, value);
    } else if (!in) {
        status_exit_port_write(port, size, (uint32_t)*rax);
    } else {
        *rax = 0xFFFFFFFFu;            /* never happens: only OUT to the exit ports */
    }
}
