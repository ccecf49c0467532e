/*
 * The guest's ACPI power registers as thinvisor intercepts them (issue 25;
 * guest/sleep.c): IN and OUT at the PM1a control block (the FADT's
 * PM1a_CNT_BLK) must behave as on bare metal.
 */
#include "tests/guest/guest.h"

#define PM1_GBL_RLS     (1u << 2)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN      (1u << 13)

/* IN of size 1 or 2 at port, with EAX = eax before: what EAX holds after. */
static uint32_t in_keeping(uint16_t port, unsigned size, uint32_t eax)
{
    if (size == 1)
        __asm__ volatile("inb %w1, %b0" : "+a"(eax) : "Nd"(port));
    else
        __asm__ volatile("inw %w1, %w0" : "+a"(eax) : "Nd"(port));
    return eax;
}

/*
 * A byte IN changes AL alone and a word IN AX alone (SDM Vol. 2A, IN), the
 * low byte agrees with the word, and writing the word back (SLP_EN and
 * GBL_RLS, which act, left clear) leaves it as it was; the register is
 * written as a word, its access width, as ACPICA writes it.
 */
void check_pm1_control(void)
{
    const char *name = "PM1a control: IN and OUT of each width";
    const uint8_t *fadt = acpi_find("FACP", NULL);
    uint16_t port = fadt && get32(fadt + 4) >= 116 ? (uint16_t)get32(fadt + 64) : 0;
    if (!port) {
        skip(name, fadt ? "the FADT has no PM1a control block" : "no FADT");
        return;
    }
    uint32_t word = in_keeping(port, 2, 0xAAAA5555u);
    uint32_t lo = in_keeping(port, 1, 0x12345600u), hi = in_keeping(port + 1, 1, 0x65432100u);
    if ((word >> 16) != 0xAAAA || (lo >> 8) != 0x123456 || (hi >> 8) != 0x654321) {
        fail(name, "IN at I/O 0x%x changed more than its width: word 0x%08x, bytes 0x%08x "
             "0x%08x", port, word, lo, hi);
        return;
    }
    uint16_t value = (uint16_t)word;
    if ((uint8_t)lo != (value & 0xFF)) {       /* (Bochs answers a byte IN at port + 1 0xFF) */
        fail(name, "the byte at I/O 0x%x reads 0x%02x, the word 0x%04x", port, (uint8_t)lo,
             value);
        return;
    }
    uint16_t back = value & (uint16_t)~(PM1_SLP_EN | PM1_GBL_RLS);
    __asm__ volatile("outw %w0, %w1" :: "a"(back), "Nd"(port));
    uint16_t after = (uint16_t)in_keeping(port, 2, 0);
    if (after != value) {
        fail(name, "I/O 0x%x read 0x%04x, then 0x%04x after writing 0x%04x back", port, value,
             after, back);
        return;
    }
    kprintf("guest: PM1a control at I/O 0x%x reads 0x%04x\n", port, value);
    pass(name);
}

/*
 * One of \_S5's SLP_TYP values, an AML data object (ACPI 6.5, 20.2.3): ZeroOp,
 * OneOp or a BytePrefix constant. -1 for anything else.
 */
static int aml_small_int(const uint8_t **p, const uint8_t *end)
{
    if (*p >= end)
        return -1;
    uint8_t op = *(*p)++;
    if (op == 0x00 || op == 0x01)
        return op;
    if (op == 0x0A && *p < end)
        return *(*p)++;
    return -1;
}

/*
 * \_Sn in the DSDT (name "_S3_", "_S5_"): NameOp name PackageOp PkgLength
 * NumElements, then the PM1a and PM1b SLP_TYP values. The DSDT is the FADT's
 * X_DSDT, else DSDT.
 */
static int find_sleep_type(const uint8_t *fadt, const char *name, int *typ_a, int *typ_b)
{
    uint32_t flen = get32(fadt + 4);
    uint64_t dsdt_addr = flen >= 148 && get64(fadt + 140) ? get64(fadt + 140) : get32(fadt + 40);
    if (!dsdt_addr || dsdt_addr >= 0x100000000ull)
        return -1;
    const uint8_t *dsdt = phys_at((uint32_t)dsdt_addr), *end = dsdt + get32(dsdt + 4);
    for (const uint8_t *p = dsdt + 36; p + 8 < end; p++) {
        if (memcmp(p, name, 4) != 0 || p[4] != 0x12)
            continue;
        const uint8_t *q = p + 5;
        q += 1 + (*q >> 6);             /* PkgLength: its lead byte says how many follow */
        q++;                            /* NumElements */
        *typ_a = aml_small_int(&q, end);
        *typ_b = aml_small_int(&q, end);
        return *typ_a < 0 ? -1 : 0;
    }
    return -1;
}

/*
 * The sleep write (ACPI 6.5, 4.8.3.2.1), caches written back first: SLP_TYP
 * with SLP_EN into PM1a control, then into PM1b where there is one, in
 * ACPICA's order. Returns only when the machine still runs a second later,
 * and says so (`what`: the state).
 */
static void write_sleep(uint16_t pm1a, uint16_t pm1b, int typ_a, int typ_b, const char *what)
{
    for (volatile int i = 0; i < 1000000; i++)
        ;                               /* let the line leave the UART first */
    __asm__ volatile("wbinvd" ::: "memory");
    __asm__ volatile("outw %w0, %w1" :: "a"((uint16_t)(typ_a << PM1_SLP_TYP_SHIFT | PM1_SLP_EN)),
                     "Nd"(pm1a));
    if (pm1b && typ_b >= 0)
        __asm__ volatile("outw %w0, %w1" :: "a"((uint16_t)(typ_b << PM1_SLP_TYP_SHIFT | PM1_SLP_EN)),
                         "Nd"(pm1b));
    for (int i = 0; i < 1000; i++)
        udelay(1000);
    kprintf("guest: still running after the %s write\n", what);
}

void power_off_s5(void)
{
    const uint8_t *fadt = acpi_find("FACP", NULL);
    int typ_a, typ_b;
    if (!fadt || get32(fadt + 4) < 116 || find_sleep_type(fadt, "_S5_", &typ_a, &typ_b) != 0) {
        kprintf("guest: no FADT or \\_S5: cannot power off through ACPI\n");
        return;
    }
    uint16_t pm1a = (uint16_t)get32(fadt + 64), pm1b = (uint16_t)get32(fadt + 68);
    kprintf("guest: powering off through ACPI S5 (SLP_TYP %d at I/O 0x%x)\n", typ_a, pm1a);
    write_sleep(pm1a, pm1b, typ_a, typ_b, "S5");
}

/* ---- suspend to RAM ------------------------------------------------------ */

#define FACS_WAKING_VECTOR   12
#define FACS_X_WAKING_VECTOR 24
#define FACS_VERSION         32

extern char s3_wake[];                  /* s3_wake.asm: the waking vector */
uint32_t s3_wake_esp;                   /* its stack, read by s3_wake.asm */
static uint8_t s3_stack[4096] __attribute__((aligned(16)));
static bool s3_x_vector;                /* the sleep asked for a 32-bit wake */

/* The FACS: the FADT's X_FIRMWARE_CTRL where it has one below 4 GiB, else FIRMWARE_CTRL. */
static uint8_t *find_facs(const uint8_t *fadt)
{
    uint64_t x = get32(fadt + 4) >= 140 ? get64(fadt + 132) : 0;
    uint32_t addr = x && x < 0x100000000ull ? (uint32_t)x : get32(fadt + 36);
    uint8_t *facs = addr ? phys_at(addr) : NULL;
    return facs && memcmp(facs, "FACS", 4) == 0 ? facs : NULL;
}

/*
 * Where the run goes on after the wake (s3_wake.asm, on s3_stack): under
 * thinvisor, it must have come back (the CPUID signature); after a sleep that
 * asked for a 32-bit wake, which thinvisor does not take over, the guest runs
 * natively. Then the run ends as any other.
 */
void s3_resumed(void)
{
    struct cpuid_regs one = cpuid(1), sig = cpuid(0x40000000);
    bool under = (one.ecx >> 31) && sig.ebx == 0x6e696874u;     /* "thin" */
    kprintf("guest: woke from ACPI S3 at its waking vector, %s\n",
            under ? "under thinvisor" : "without thinvisor");
    if (s3_x_vector) {
        const char *name = "after a sleep thinvisor cannot come back from, the guest runs on natively";
        if (under)
            fail(name, "CPUID still shows thinvisor after the 32-bit-wake sleep");
        else
            pass(name);
    } else {
        const char *name = "the guest resumes from ACPI S3 under thinvisor";
        if (under)
            pass(name);
        else
            fail(name, "CPUID 1 ECX 0x%08x, leaf 0x40000000 EBX 0x%08x", one.ecx, sig.ebx);
    }
    finish();
}

void suspend_s3(bool x_vector)
{
    const uint8_t *fadt = acpi_find("FACP", NULL);
    uint8_t *facs = fadt && get32(fadt + 4) >= 116 ? find_facs(fadt) : NULL;
    int typ_a, typ_b;
    if (!facs || find_sleep_type(fadt, "_S3_", &typ_a, &typ_b) != 0) {
        kprintf("guest: no FACS or \\_S3: cannot suspend to RAM\n");
        return;
    }
    uint16_t pm1a = (uint16_t)get32(fadt + 64), pm1b = (uint16_t)get32(fadt + 68);
    uint32_t vector = (uint32_t)s3_wake;
    s3_wake_esp = (uint32_t)(s3_stack + sizeof s3_stack);
    s3_x_vector = x_vector;
    memcpy(facs + FACS_WAKING_VECTOR, &vector, 4);
    if (x_vector) {
        /* An OS that wants a 32-bit wake writes X_Firmware_Waking_Vector (FACS version 1+). */
        uint64_t x = vector;
        memcpy(facs + FACS_X_WAKING_VECTOR, &x, 8);
        if (facs[FACS_VERSION] < 1)
            facs[FACS_VERSION] = 1;
    }
    kprintf("guest: suspending to RAM through ACPI S3 (SLP_TYP %d at I/O 0x%x), waking vector "
            "0x%x%s\n", typ_a, pm1a, vector, x_vector ? ", X_Firmware_Waking_Vector too" : "");
    write_sleep(pm1a, pm1b, typ_a, typ_b, "S3");
}
