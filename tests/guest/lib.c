/*
 * The test guest's runtime: COM1 output, result lines, the end of the run,
 * descriptor tables, exceptions, and probes that survive the exception they
 * may raise.
 */
#include "tests/guest/guest.h"

#define COM1          0x3F8
#define LSR_THR_EMPTY 0x20          /* line status: room for the next byte */
#define LSR_TX_IDLE   0x40          /* line status: the last byte has left */
#define SPIN_LIMIT    1000000

#define KERNEL_CS 0x08              /* the same selectors as boot.asm's GDT */
#define KERNEL_DS 0x10
#define TSS_SEL   0x28

static int npass, nfail;

/* ---- serial output ----------------------------------------------------- */

void serial_init(void)
{
    outb(COM1 + 1, 0x00);           /* no interrupts */
    outb(COM1 + 3, 0x80);           /* divisor latch */
    outb(COM1 + 0, 1);              /* 115200 / 1 */
    outb(COM1 + 1, 0);
    outb(COM1 + 3, 0x03);           /* 8N1 */
    outb(COM1 + 2, 0xC7);           /* FIFOs on and cleared */
    outb(COM1 + 4, 0x03);           /* DTR, RTS */
}

/* Every wait is bounded: a missing or stuck UART must not hang the run. */
static void wait_lsr(uint8_t bit)
{
    for (int i = 0; i < SPIN_LIMIT && !(inb(COM1 + 5) & bit); i++)
        __asm__ volatile("pause");
}

/*
 * ksnprintf's buffer while it formats, per CPU (hostile.c formats on every CPU
 * at once); NULL: output goes to COM1, where only one CPU at a time may print.
 */
static char *sbuf[GUEST_MAX_CPUS], *sbuf_end[GUEST_MAX_CPUS];

static void putc(char c)
{
    uint32_t me = smp_cpu_index();
    if (sbuf[me]) {
        if (sbuf[me] < sbuf_end[me])
            *sbuf[me]++ = c;
        return;
    }
    if (c == '\n')
        putc('\r');
    wait_lsr(LSR_THR_EMPTY);
    outb(COM1, (uint8_t)c);
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

/* Decimal is only ever asked of 32-bit values, so no 64-bit division (libgcc) is needed. */
static void putnum(uint64_t v, int base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d;
        if (base == 16) {
            d = v & 15;
            v >>= 4;
        } else {
            d = (uint32_t)v % 10;
            v = (uint32_t)v / 10;
        }
        buf[n++] = "0123456789abcdef"[d];
    } while (v);
    while (n < width && n < (int)sizeof buf)
        buf[n++] = pad;
    while (n)
        putc(buf[--n]);
}

/* printf-lite: %s %c %d %u %x, an optional 0 flag and width, l/ll for 64-bit %x. */
static void vkprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0, longs = 0;
        if (*++fmt == '0')
            pad = *fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            if (v < 0)
                putc('-');
            putnum(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad);
            break;
        }
        case 'u':
            putnum(va_arg(ap, uint32_t), 10, width, pad);
            break;
        case 'x':
            putnum(longs >= 2 ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 16, width, pad);
            break;
        case 's':
            puts(va_arg(ap, const char *));
            break;
        case 'c':
            putc((char)va_arg(ap, int));
            break;
        case '\0':
            return;
        default:
            putc(*fmt);
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

/* kprintf into buf (truncated to n - 1 characters, always terminated); returns buf. */
char *ksnprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    uint32_t me = smp_cpu_index();
    sbuf[me] = buf;
    sbuf_end[me] = buf + n - 1;
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
    *sbuf[me] = 0;
    sbuf[me] = NULL;
    return buf;
}

/* ---- results and the end of the run -------------------------------------- */

void pass(const char *name)
{
    npass++;
    kprintf("PASS %s\n", name);
}

void fail(const char *name, const char *fmt, ...)
{
    va_list ap;
    nfail++;
    kprintf("FAIL %s: ", name);
    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
    putc('\n');
}

/* A check that cannot run here; counts as neither passed nor failed. */
void skip(const char *name, const char *why)
{
    kprintf("SKIP %s: %s\n", name, why);
}

/*
 * Ends the emulator: QEMU's isa-debug-exit at port 0xF4 (exit status
 * (value << 1) | 1), then Bochs' shutdown port 0x8900. Each ignores the other's port.
 */
static __attribute__((noreturn)) void exit_emulator(int failed)
{
    wait_lsr(LSR_TX_IDLE);          /* Bochs transmits at the emulated baud rate */
    outb(0xF4, failed ? 1 : 0);
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    for (;;)
        __asm__ volatile("cli; hlt");
}

void finish(void)
{
    static bool ended_once;         /* after an S3 wake the run ends here again: just exit */
    kprintf("guest: %d passed, %d failed\n", npass, nfail);
    uint32_t end = guest_config.magic == GUEST_CONFIG_MAGIC ? guest_config.power_off : 0;
    if (end && nfail == 0 && !ended_once) {
        ended_once = true;
        if (end == GUEST_END_S5)
            power_off_s5();         /* the way an OS ends; returns only if it cannot */
        else
            suspend_s3(end == GUEST_END_S3_X_VECTOR);
    }
    exit_emulator(nfail > 0);
}

/* ---- descriptor tables --------------------------------------------------- */

/* A 32-bit TSS: only the CPL 0 stack matters, for exceptions raised at CPL 3. */
struct tss {
    uint32_t link, esp0, ss0, unused[22];
    uint16_t trap, iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "32-bit TSS is 104 bytes");

struct gate {
    uint16_t offset_lo, selector;
    uint8_t zero, type;
    uint16_t offset_hi;
} __attribute__((packed));

struct table_reg {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed));

static uint64_t gdt[6];
static struct tss tss;
static struct gate idt[SELF_IPI_VECTOR + 1];
static uint8_t trap_stack[4096] __attribute__((aligned(16)));
extern const uint32_t isr_table[32];
extern char isr_self_ipi[];

/* Segment descriptor layout: SDM Vol. 3A, 3.4.5, Figure 3-8. */
static uint64_t descriptor(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    return (uint64_t)(limit & 0xFFFF) | (uint64_t)(base & 0xFFFFFF) << 16 |
           (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xF) << 48 |
           (uint64_t)(flags & 0xF) << 52 | (uint64_t)(base >> 24) << 56;
}

/*
 * boot.asm's GDT has no CPL 3 segments and no TSS, which the CPL 3 probe
 * needs: build a full one with the same kernel selectors, plus an IDT whose
 * 32 exception gates and one interrupt gate (SELF_IPI_VECTOR) lead to trap().
 */
void cpu_init(void)
{
    gdt[1] = descriptor(0, 0xFFFFF, 0x9A, 0xC);         /* 0x08 code, DPL 0, 4 GiB, 32-bit */
    gdt[2] = descriptor(0, 0xFFFFF, 0x92, 0xC);         /* 0x10 data, DPL 0 */
    gdt[3] = descriptor(0, 0xFFFFF, 0xFA, 0xC);         /* 0x18 code, DPL 3 */
    gdt[4] = descriptor(0, 0xFFFFF, 0xF2, 0xC);         /* 0x20 data, DPL 3 */
    gdt[5] = descriptor((uint32_t)&tss, sizeof tss - 1, 0x89, 0);  /* 0x28 32-bit TSS, available */
    tss.esp0 = (uint32_t)(trap_stack + sizeof trap_stack);
    tss.ss0 = KERNEL_DS;
    tss.iomap_base = sizeof tss;    /* no I/O bitmap: port I/O at CPL 3 faults */

    struct table_reg gdtr = { sizeof gdt - 1, (uint32_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "ljmp %1, $1f\n"               /* reload CS from the new table */
                     "1:\n\t"
                     "movw %2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%fs\n\t"
                     "movw %%ax, %%gs\n\t"
                     "movw %%ax, %%ss\n\t"
                     "ltr %w3"
                     :: "m"(gdtr), "i"(KERNEL_CS), "i"(KERNEL_DS), "r"(TSS_SEL)
                     : "eax", "memory");

    for (int i = 0; i < 32; i++)
        idt[i] = (struct gate){ isr_table[i] & 0xFFFF, KERNEL_CS, 0, 0x8E, isr_table[i] >> 16 };
    uint32_t self_ipi = (uint32_t)isr_self_ipi;
    idt[SELF_IPI_VECTOR] = (struct gate){ self_ipi & 0xFFFF, KERNEL_CS, 0, 0x8E, self_ipi >> 16 };
    cpu_init_ap();
}

/*
 * The IDT, for the BSP and every AP. The AP trampoline's GDT has the same
 * 0x08/0x10 selectors as ours, so its gates work there too; APs never load
 * the TSS (it is busy: the BSP's).
 */
void cpu_init_ap(void)
{
    struct table_reg idtr = { sizeof idt - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr) : "memory");
}

/* ---- time ----------------------------------------------------------------- */

#define PIT_HZ        1193182u
#define PIT_CH2_DATA  0x42
#define PIT_COMMAND   0x43
#define PORT_61       0x61          /* bit 0: channel 2 gate, bit 1: speaker, bit 5: channel 2 output */
#define CALIBRATE_MS  10

static uint32_t khz;

/* n / d for a 64-bit n without libgcc's __udivdi3: two 32-bit DIVs (long division). */
static uint64_t div64(uint64_t n, uint32_t d)
{
    uint32_t hi = (uint32_t)(n >> 32) / d, rem = (uint32_t)(n >> 32) % d, lo;
    __asm__("divl %2" : "=a"(lo), "+d"(rem) : "rm"(d), "a"((uint32_t)n));
    return (uint64_t)hi << 32 | lo;
}

/*
 * Counts TSC ticks over 10 ms of PIT channel 2 in one-shot mode (mode 0),
 * polling its output in port 0x61 bit 5: no interrupts, speaker gated off.
 */
void timer_init(void)
{
    uint32_t count = PIT_HZ / 1000 * CALIBRATE_MS, spins = 0;
    uint8_t saved = inb(PORT_61);
    outb(PORT_61, (saved & ~0x02) | 0x01);
    outb(PIT_COMMAND, 0xB0);        /* channel 2, lo/hi byte, mode 0, binary */
    outb(PIT_CH2_DATA, count & 0xFF);
    outb(PIT_CH2_DATA, count >> 8);
    uint64_t start = rdtsc();
    while (!(inb(PORT_61) & 0x20) && ++spins < 100000000)
        ;
    uint64_t ticks = rdtsc() - start;
    outb(PORT_61, saved);
    if (spins >= 100000000 || ticks < CALIBRATE_MS) {
        khz = 1000000;
        kprintf("guest: PIT channel 2 did not count down; assuming a 1 GHz TSC\n");
    } else {
        khz = (uint32_t)div64(ticks, CALIBRATE_MS);
    }
}

uint32_t tsc_khz(void)
{
    return khz ? khz : 1000000;
}

uint64_t tsc_after_us(uint32_t us)
{
    return rdtsc() + div64((uint64_t)us * tsc_khz(), 1000);
}

uint32_t tsc_us_since(uint64_t start)
{
    return (uint32_t)div64((rdtsc() - start) * 1000, tsc_khz());
}

void udelay(uint32_t us)
{
    uint64_t end = tsc_after_us(us);
    while (rdtsc() < end)
        pause();
}

/* ---- exceptions and probes ------------------------------------------------ */

/*
 * A probe's instruction that may fault has an entry here: its address and
 * where to go on instead (the same idea as Linux's exception tables).
 */
struct fixup {
    uint32_t insn, resume;
};
extern const struct fixup __fixup_start[], __fixup_end[];

#define FIXUP(insn, resume) \
    ".pushsection .fixup, \"a\"\n\t.long " insn ", " resume "\n\t.popsection\n\t"

/* Set by trap() for a probe that faulted; per CPU, as probes run on every CPU at once. */
static volatile int fault_vectors[GUEST_MAX_CPUS];

static volatile int *fault_slot(void)
{
    return &fault_vectors[smp_cpu_index()];
}
static volatile int user_active;    /* a CPL 3 probe is running */
static uint32_t user_eip, user_eax;

/* step_probe: #DBs at CPL 0 while it runs, the first one's EIP, DR6 at the last #DB. */
static volatile int step_armed;
static volatile uint32_t step_hits, step_eip, last_dr6;

/*
 * nmi_watch_iret: the next NMI on this CPU arms breakpoint 0 on the stack slot
 * its IRET pops EIP from (or, with `step`, has isr.asm set TF for its IRET),
 * and runs the caller's in_nmi; the #DBs that follow are counted, with the
 * causes in their DR6 (ORed), whether one came at the NMI's EIP and the NMIs
 * taken by the first one's handler, and the breakpoint is disarmed at the
 * first. (The #DB's own delivery writes that slot and may hit the breakpoint
 * again: a second #DB at the handler's first instruction, handled before the
 * first one, which then finds DR6 cleared.)
 */
enum { WATCH_OFF, WATCH_ARMED, WATCH_SET };
static volatile int watch_state;
static volatile uint32_t watch_hits, watch_at_nmi_eip, watch_dr6, watch_nmi_eip,
    watch_first_eip, watch_nmis_at_db;
static void (*volatile watch_in_nmi)(void);
static volatile bool watch_step;
extern volatile uint32_t iret_step;      /* isr.asm */
#define DR7_L0_RW_4BYTES (1u << 0 | 3u << 16 | 3u << 18)  /* L0, R/W0 read/write, LEN0 4 */
#define DR7_OFF          0x400u                           /* bit 10 reads as 1 */

extern int user_enter(uint32_t eip, uint32_t esp);
extern __attribute__((noreturn)) void user_return(int vector);
static uint8_t user_stack[1024] __attribute__((aligned(16)));

void trap(struct trapframe *tf)
{
    static int dying;

    if (tf->vector == 1) {              /* #DB: DR6 says why; cleared for the next one */
        uint32_t dr6;
        __asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
        last_dr6 = dr6;
        __asm__ volatile("mov %0, %%dr6" :: "r"(0xFFFF0FF0u));
        if (watch_state == WATCH_SET) {
            __asm__ volatile("mov %0, %%dr7" :: "r"(DR7_OFF));
            if (watch_hits++ == 0) {
                watch_first_eip = tf->eip;
                watch_nmis_at_db = nmis_taken_total();
            }
            watch_dr6 |= dr6;
            watch_at_nmi_eip |= tf->eip == watch_nmi_eip;
            return;
        }
        if (step_armed && (tf->cs & 3) == 0) {
            if (step_hits++ == 0)
                step_eip = tf->eip;
            tf->eflags &= ~0x100u;      /* TF off: one step only */
            return;
        }
    }
    if ((tf->cs & 3) == 3 && user_active) {
        user_active = 0;
        user_eip = tf->eip;
        user_eax = tf->eax;
        user_return((int)tf->vector);
    }
    if (tf->vector == SELF_IPI_VECTOR) {  /* guest.c's interrupt-shadow check */
        self_ipis_taken++;
        apic_write(APIC_EOI, 0);
        return;
    }
    if (tf->vector == 2) {              /* an NMI: stress.c counts it; then IRET */
        nmi_taken();
        if (watch_state == WATCH_ARMED) {
            watch_state = WATCH_SET;
            watch_nmi_eip = tf->eip;
            if (watch_step)
                iret_step = 1;
            else
                __asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr7"
                                 :: "r"(&tf->eip), "r"(DR7_L0_RW_4BYTES) : "memory");
            if (watch_in_nmi)
                watch_in_nmi();
        }
        return;
    }
    for (const struct fixup *f = __fixup_start; f < __fixup_end; f++) {
        if (f->insn == tf->eip) {
            *fault_slot() = (int)tf->vector;
            tf->eip = f->resume;
            return;
        }
    }
    if (dying++)                    /* faulted again while reporting: just stop */
        exit_emulator(1);
    nfail++;
    kprintf("FAIL unexpected exception %u at 0x%08x: error code 0x%x, EAX 0x%x\n",
            tf->vector, tf->eip, tf->error, tf->eax);
    /* Where it came from: the CPU, and the stack the exception interrupted. */
    const uint32_t *sp = (const uint32_t *)((uint32_t)&tf->user_esp);
    kprintf("guest: on CPU %u, ESP 0x%08x, EBP 0x%08x; stack:", smp_cpu_index(),
            (uint32_t)sp, tf->ebp);
    for (int i = -4; i < 8; i++)
        kprintf(" %08x", sp[i]);
    kprintf("\n");
    finish();
}

volatile uint32_t self_ipis_taken;

/* An xAPIC register's address; through asm so that the compiler keeps every access. */
static volatile uint32_t *xapic_register(uint32_t reg)
{
    uint32_t addr = (uint32_t)(rdmsr(0x1B) & 0xFFFFF000u) + reg;
    __asm__("" : "+r"(addr));
    return (volatile uint32_t *)addr;
}

uint32_t apic_read(uint32_t reg)
{
    if (rdmsr(0x1B) & (1u << 10))
        return (uint32_t)rdmsr(0x800 + reg / 16);
    return *xapic_register(reg);
}

void apic_write(uint32_t reg, uint32_t v)
{
    if (rdmsr(0x1B) & (1u << 10))
        wrmsr(0x800 + reg / 16, v);
    else
        *xapic_register(reg) = v;
}

/* True on an AMD CPU, whose hypercall instruction is VMMCALL (VMCALL is #UD there). */
uint32_t apic_tpr_address(void)
{
    uint64_t base = rdmsr(0x1B);
    if (!(base & (1u << 11)) || (base & (1u << 10)))
        return 0;                       /* disabled, or x2APIC mode: no MMIO page */
    return (uint32_t)(base & 0xFFFFF000u) + 0x80;
}

int cpu_is_amd(void)
{
    static int amd = -1;
    if (amd < 0) {
        struct cpuid_regs v = cpuid(0);
        amd = v.ebx == 0x68747541 && v.edx == 0x69746E65 && v.ecx == 0x444D4163;  /* AuthenticAMD */
    }
    return amd;
}

/* The hypercall with the ABI's registers (abi/hypercall.h): VMCALL, or VMMCALL on AMD. */
int vmcall(struct hc *r)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    if (cpu_is_amd())
        __asm__ volatile("1: vmmcall\n"
                         "2:\n\t" FIXUP("1b", "2b")
                         : "+a"(r->eax), "+b"(r->ebx), "+c"(r->ecx), "+d"(r->edx)
                         :: "memory", "cc");
    else
        __asm__ volatile("1: vmcall\n"
                         "2:\n\t" FIXUP("1b", "2b")
                         : "+a"(r->eax), "+b"(r->ebx), "+c"(r->ecx), "+d"(r->edx)
                         :: "memory", "cc");
    return *fv;
}

/*
 * VMXON with CR4.VMXE = 0 raises #UD (SDM Vol. 3C, 31.3, VMXON). The operand
 * points at a zeroed page, so even a VMXON that got through would only fail.
 */
int probe_vmxon(uint32_t *eflags)
{
    static uint8_t page[4096] __attribute__((aligned(4096)));
    static uint64_t page_pa;
    uint32_t fl;

    page_pa = (uint32_t)page;
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: vmxon %1\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     "pushfl\n\t"
                     "popl %0"
                     : "=r"(fl) : "m"(page_pa) : "memory", "cc");
    *eflags = fl;
    return *fv;
}

/* Copies n bytes from a physical address (flat segments, no paging). */
int probe_read(void *dst, uint32_t src_addr, uint32_t n)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: rep movsb\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     : "+D"(dst), "+S"(src_addr), "+c"(n) :: "memory");
    return *fv;
}

/* Fills n bytes (a multiple of 4) at a physical address with a 32-bit value. */
int probe_fill(uint32_t dst_addr, uint32_t value, uint32_t n)
{
    uint32_t count = n / 4;
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: rep stosl\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     : "+D"(dst_addr), "+c"(count) : "a"(value) : "memory");
    return *fv;
}

/* One 32-bit MOV to a physical address (not a string instruction). */
int probe_store(uint32_t dst_addr, uint32_t value)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: movl %1, (%0)\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     :: "r"(dst_addr), "r"(value) : "memory");
    return *fv;
}

uint32_t step_probe(void (*run)(uint32_t), uint32_t arg, uint32_t *eip, uint32_t *dr6)
{
    step_hits = 0;
    step_eip = 0;
    last_dr6 = 0;
    step_armed = 1;
    run(arg);
    step_armed = 0;
    *eip = step_eip;
    *dr6 = last_dr6;
    return step_hits;
}

void nmi_watch_iret(void (*in_nmi)(void), bool step)
{
    watch_hits = watch_dr6 = watch_at_nmi_eip = watch_nmis_at_db = 0;
    watch_in_nmi = in_nmi;
    watch_step = step;
    watch_state = WATCH_ARMED;
}

uint32_t nmi_watch_result(uint32_t *nmi_eip, bool *at_nmi_eip, uint32_t *first_eip,
                          uint32_t *dr6, uint32_t *nmis_at_db)
{
    *first_eip = watch_first_eip;
    *nmis_at_db = watch_nmis_at_db;
    uint32_t hits = watch_hits;
    if (watch_state == WATCH_SET && !hits)
        __asm__ volatile("mov %0, %%dr7" :: "r"(DR7_OFF));
    watch_state = WATCH_OFF;
    *nmi_eip = watch_nmi_eip;
    *at_nmi_eip = watch_at_nmi_eip;
    *dr6 = watch_dr6;
    return hits;
}

int probe_user_at(const char *code, uint32_t eax, uint32_t *eip, uint32_t *dr6)
{
    last_dr6 = 0;
    int vector = probe_user(code, eax);
    *eip = user_eip;
    *dr6 = last_dr6;
    return vector;
}

/*
 * Runs isr.asm's user_vmcall at CPL 3 and returns the vector of the first
 * exception it raises, with the EIP and EAX it was raised at.
 */
int probe_user_vmcall(uint32_t *eip, uint32_t *eax)
{
    user_active = 1;
    uint32_t code = (uint32_t)(cpu_is_amd() ? user_vmmcall : user_vmcall);
    int vector = user_enter(code, (uint32_t)(user_stack + sizeof user_stack));
    *eip = user_eip;
    *eax = user_eax;
    return vector;
}

/* RDMSR of any number: absent MSRs #GP (SDM Vol. 2B, RDMSR). */
int probe_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: rdmsr\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *value = (uint64_t)hi << 32 | lo;
    return *fv;
}

/* WRMSR of any number and value; the caller keeps the dangerous ones away. */
int probe_wrmsr(uint32_t msr, uint64_t value)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: wrmsr\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return *fv;
}

/* MOV to CR0/CR4 with values that must #GP; a write that gets through stays (the caller restores). */
int probe_write_cr0(uint32_t value)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: mov %0, %%cr0\n"
                     "2:\n\t" FIXUP("1b", "2b") :: "r"(value) : "memory");
    return *fv;
}

/* See probe_write_cr0. */
int probe_write_cr4(uint32_t value)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: mov %0, %%cr4\n"
                     "2:\n\t" FIXUP("1b", "2b") :: "r"(value) : "memory");
    return *fv;
}

/* XSETBV with invalid values: #GP (SDM Vol. 2C, XSETBV); #UD while CR4.OSXSAVE = 0. */
int probe_xsetbv(uint32_t xcr, uint64_t value)
{
    volatile int *fv = fault_slot();
    *fv = -1;
    __asm__ volatile("1: xsetbv\n"
                     "2:\n\t" FIXUP("1b", "2b")
                     :: "c"(xcr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return *fv;
}

/*
 * One VMX instruction at CPL 0, with harmless operands (a zeroed page, field 0):
 * natively there is no VMX operation (#UD, CR4.VMXE = 0); under thinvisor each
 * exits and must come back as #UD (SDM Vol. 3C, 31.3 for each instruction).
 */
/*
 * AMD's SVM instructions, which a guest whose EFER.SVME reads 0 (CPUID
 * hides SVM) must see raise #UD (APM Vol. 3: VMRUN, VMLOAD, VMSAVE, STGI,
 * CLGI, SKINIT, INVLPGA). RAX points at a page of ours, ECX is 0.
 */
int probe_svm_insn(unsigned which)
{
    static uint8_t page[4096] __attribute__((aligned(4096)));
    uint32_t pa = (uint32_t)page;
    volatile int *fv = fault_slot();
    *fv = -1;
    switch (which) {
    case 0: __asm__ volatile("1: vmrun\n2:\n\t" FIXUP("1b", "2b") :: "a"(pa) : "memory", "cc"); break;
    case 1: __asm__ volatile("1: vmload\n2:\n\t" FIXUP("1b", "2b") :: "a"(pa) : "memory"); break;
    case 2: __asm__ volatile("1: vmsave\n2:\n\t" FIXUP("1b", "2b") :: "a"(pa) : "memory"); break;
    case 3: __asm__ volatile("1: stgi\n2:\n\t" FIXUP("1b", "2b") ::: "memory"); break;
    case 4: __asm__ volatile("1: clgi\n2:\n\t" FIXUP("1b", "2b") ::: "memory"); break;
    case 5: __asm__ volatile("1: skinit\n2:\n\t" FIXUP("1b", "2b") :: "a"(pa) : "memory"); break;
    default: __asm__ volatile("1: invlpga\n2:\n\t" FIXUP("1b", "2b") :: "a"(pa), "c"(0) : "memory"); break;
    }
    return *fv;
}

int probe_vmx_insn(unsigned which)
{
    static uint8_t page[4096] __attribute__((aligned(4096)));
    static uint64_t page_pa;
    static uint64_t desc[2];
    uint32_t field = 0, value = 0;
    page_pa = (uint32_t)page;
    volatile int *fv = fault_slot();
    *fv = -1;
    switch (which) {
    case 0: __asm__ volatile("1: vmxon %0\n2:\n\t" FIXUP("1b", "2b") :: "m"(page_pa) : "memory"); break;
    case 1: __asm__ volatile("1: vmclear %0\n2:\n\t" FIXUP("1b", "2b") :: "m"(page_pa) : "memory"); break;
    case 2: __asm__ volatile("1: vmptrld %0\n2:\n\t" FIXUP("1b", "2b") :: "m"(page_pa) : "memory"); break;
    case 3: __asm__ volatile("1: vmptrst %0\n2:\n\t" FIXUP("1b", "2b") : "=m"(page_pa) :: "memory"); break;
    case 4: __asm__ volatile("1: vmread %1, %0\n2:\n\t" FIXUP("1b", "2b") : "+r"(value) : "r"(field) : "memory", "cc"); break;
    case 5: __asm__ volatile("1: vmwrite %1, %0\n2:\n\t" FIXUP("1b", "2b") :: "r"(field), "r"(value) : "memory", "cc"); break;
    case 6: __asm__ volatile("1: vmlaunch\n2:\n\t" FIXUP("1b", "2b") ::: "memory", "cc"); break;
    case 7: __asm__ volatile("1: vmresume\n2:\n\t" FIXUP("1b", "2b") ::: "memory", "cc"); break;
    case 8: __asm__ volatile("1: vmxoff\n2:\n\t" FIXUP("1b", "2b") ::: "memory", "cc"); break;
    case 9: __asm__ volatile("1: invept %0, %1\n2:\n\t" FIXUP("1b", "2b") :: "m"(desc), "r"(1u) : "memory", "cc"); break;
    default: __asm__ volatile("1: invvpid %0, %1\n2:\n\t" FIXUP("1b", "2b") :: "m"(desc), "r"(1u) : "memory", "cc"); break;
    }
    return *fv;
}

/* Like probe_user_vmcall, for any of isr.asm's CPL 3 snippets, with EAX = eax. */
int probe_user(const char *code, uint32_t eax)
{
    extern int user_enter_eax(uint32_t eip, uint32_t esp, uint32_t eax);
    user_active = 1;
    return user_enter_eax((uint32_t)code, (uint32_t)(user_stack + sizeof user_stack), eax);
}

const char *exception_name(int vector)
{
    static const char *const names[] = {
        [0] = "#DE", [1] = "#DB", [3] = "#BP", [6] = "#UD", [8] = "#DF",
        [12] = "#SS", [13] = "#GP", [14] = "#PF", [17] = "#AC", [18] = "#MC",
    };
    if (vector >= 0 && vector < (int)(sizeof names / sizeof names[0]) && names[vector])
        return names[vector];
    return "an exception";
}

/* ---- what the compiler may call ------------------------------------------ */

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}
