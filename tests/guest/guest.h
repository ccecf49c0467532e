/*
 * The test guest: a 32-bit flat protected-mode program that boot.asm loads
 * and calls. lib.c is its tiny runtime (serial output, result lines,
 * exceptions, fault-tolerant probes); guest.c holds the checks.
 */
#ifndef THINVISOR_TEST_GUEST_H
#define THINVISOR_TEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "vmx/hypercall_abi.h"
#include "vmx/status_abi.h"

#define E820_MAX 64

/* boot.asm leaves the TSC it read at its first instructions here (its START_TSC). */
#define BOOT_START_TSC 0x0FF8u

/* One INT 15h E820h entry as the BIOS wrote it (ACPI 3.0 layout, 24 bytes). */
struct e820_entry {
    uint64_t base;
    uint64_t len;
    uint32_t type;                  /* 1 = usable RAM */
    uint32_t attr;
} __attribute__((packed));

/* What boot.asm saw in real mode. Its BI_* offsets must match. */
struct bootinfo {
    uint16_t start_cs, start_ip;    /* where the boot sector was entered */
    uint8_t  drive;                 /* DL at entry */
    uint8_t  method;                /* INT 13h function that loaded the guest: 0x42 or 0x02 */
    uint8_t  e801_ok, mem88_ok;     /* the BIOS answered E801h / AH=88h */
    uint16_t e801_ax, e801_bx, e801_cx, e801_dx;
    uint16_t mem88;
    uint16_t e820_count;
    uint8_t  reserved[12];
    struct e820_entry e820[E820_MAX];
} __attribute__((packed));

_Static_assert(offsetof(struct bootinfo, drive) == 4, "boot.asm BI_DRIVE");
_Static_assert(offsetof(struct bootinfo, method) == 5, "boot.asm BI_METHOD");
_Static_assert(offsetof(struct bootinfo, e801_ok) == 6, "boot.asm BI_E801_OK");
_Static_assert(offsetof(struct bootinfo, mem88_ok) == 7, "boot.asm BI_MEM88_OK");
_Static_assert(offsetof(struct bootinfo, e801_ax) == 8, "boot.asm BI_E801");
_Static_assert(offsetof(struct bootinfo, mem88) == 16, "boot.asm BI_MEM88");
_Static_assert(offsetof(struct bootinfo, e820_count) == 18, "boot.asm BI_E820_COUNT");
_Static_assert(offsetof(struct bootinfo, e820) == 32, "boot.asm BI_E820");

/* Registers pushed by isr.asm: pushal, then vector and error code, then the CPU's frame. */
struct trapframe {
    uint32_t edi, esi, ebp, esp_pushal, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss;     /* only when the exception came from CPL 3 */
};

/* VMCALL registers: in, EAX = function and EBX/ECX/EDX = arguments; out, the results. */
struct hc {
    uint32_t eax, ebx, ecx, edx;
};

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

/* lib.c: output and results */
void serial_init(void);
void kprintf(const char *fmt, ...);
char *ksnprintf(char *buf, size_t n, const char *fmt, ...);
void pass(const char *name);
void fail(const char *name, const char *fmt, ...);
void skip(const char *name, const char *why);
__attribute__((noreturn)) void finish(void);

/* lib.c: descriptor tables and exceptions */
void cpu_init(void);
void trap(struct trapframe *tf);

/*
 * lib.c: probes. Each runs one instruction that may fault and returns -1 when
 * it did not, else the exception vector (execution resumes after it).
 */
int vmcall(struct hc *r);
int probe_vmxon(uint32_t *eflags);
int probe_read(void *dst, uint32_t src_addr, uint32_t n);
int probe_fill(uint32_t dst_addr, uint32_t value, uint32_t n);
int probe_store(uint32_t dst_addr, uint32_t value);
int probe_user_vmcall(uint32_t *eip, uint32_t *eax);
const char *exception_name(int vector);

/* isr.asm: the code probe_user_vmcall runs at CPL 3, and its VMCALL instruction */
extern char user_vmcall[], user_vmcall_insn[];

/* lib.c: time, from the TSC calibrated against PIT channel 2 (polled: the guest takes no interrupts) */
void timer_init(void);
uint32_t tsc_khz(void);
uint64_t tsc_after_us(uint32_t us);     /* the TSC value us microseconds from now */
uint32_t tsc_us_since(uint64_t start);  /* microseconds since TSC value start */
void udelay(uint32_t us);

/* lib.c: an AP loads the BSP's IDT, so its exceptions are reported instead of triple-faulting */
void cpu_init_ap(void);

/* smp.c: the multiprocessor checks (MADT, INIT-SIPI-SIPI, restarts, bad input, x2APIC) */
void smp_checks(const struct bootinfo *bi);

/* bench.c: the bench variant's run (GUEST_BENCH), instead of the checks */
__attribute__((noreturn)) void bench_main(void);

/* lib.c: the C library bits the compiler may call on its own */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(0));
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline void pause(void) { __asm__ volatile("pause" ::: "memory"); }

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
