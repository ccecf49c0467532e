/*
 * The test guest: a 32-bit flat protected-mode program that boot.asm loads
 * and calls. lib.c is its tiny runtime (serial output, result lines,
 * exceptions, fault-tolerant probes); guest.c holds the checks.
 */
#ifndef THINVISOR_TEST_GUEST_H
#define THINVISOR_TEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/hypercall.h"
#include "abi/status.h"

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

/*
 * Settings the test harness patches into the disk image (tests/boot/guest-config.sh
 * finds guest_config in guest.elf): "TVHS", then the values. Zeros: not set.
 */
#define GUEST_CONFIG_MAGIC 0x53485654u  /* "TVHS" */
struct guest_config {
    uint32_t magic;
    uint32_t hostile_seed;          /* the hostile-guest program's PRNG seed */
    uint32_t hostile_ops;           /* operations in all, over every CPU */
    uint32_t stress_cycles;         /* stress.c: INIT-SIPI cycles over the APs */
    uint32_t nmis_per_ap;           /* stress.c: NMIs sent to each AP */
    uint32_t power_off;             /* power.c: how the run ends, GUEST_END_* */
};
extern volatile const struct guest_config guest_config;

/* guest_config.power_off: after the checks (0: the emulator's exit port at once). */
#define GUEST_END_S5          1     /* power off by ACPI S5 */
#define GUEST_END_S3          2     /* suspend to RAM, then check the resume and exit */
#define GUEST_END_S3_X_VECTOR 3     /* the same, asking for a 32-bit wake thinvisor does not take */

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
extern char user_vmcall[], user_vmcall_insn[], user_vmmcall[], user_vmmcall_insn[];
/* The hypercall instruction of this CPU's vendor: VMCALL, or VMMCALL on AMD (lib.c). */
int cpu_is_amd(void);
/*
 * The address of the local APIC's TPR in xAPIC mode, or 0 (disabled, or in x2APIC mode):
 * storing the value it holds changes nothing, so it is the harmless APIC store (lib.c).
 */
uint32_t apic_tpr_address(void);

/*
 * This CPU's local APIC register at xAPIC offset `reg`, in the mode the APIC is in:
 * MMIO in xAPIC mode, MSR 0x800 + reg / 16 in x2APIC mode (SDM Vol. 3A, 11.12.1.2).
 */
#define APIC_TPR        0x080
#define APIC_EOI        0x0B0
#define APIC_SVR        0x0F0
#define APIC_IRR        0x200         /* + 0x10 per 32 vectors */
#define APIC_ICR_LO     0x300
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);

/* The interrupt guest.c's STI-shadow check sends itself; trap() counts it and sends the EOI. */
#define SELF_IPI_VECTOR 0x40
extern volatile uint32_t self_ipis_taken;

/*
 * lib.c: more probes for the hostile-guest program (hostile.c), same contract
 * (-1: no exception, else its vector). probe_user runs code at CPL 3 (the BSP
 * only: the APs have no TSS) with EAX = eax until its first exception.
 */
int probe_rdmsr(uint32_t msr, uint64_t *value);
int probe_wrmsr(uint32_t msr, uint64_t value);
int probe_write_cr0(uint32_t value);
int probe_write_cr4(uint32_t value);
int probe_xsetbv(uint32_t xcr, uint64_t value);
int probe_vmx_insn(unsigned which);     /* 0..VMX_INSNS-1: VMXON, VMCLEAR, ... */
#define VMX_INSNS 11
int probe_svm_insn(unsigned which);     /* 0..SVM_INSNS-1: VMRUN, VMLOAD, ... */
#define SVM_INSNS 7
int probe_user(const char *code, uint32_t eax);
/* probe_user, with the EIP of that first exception and DR6 if it was a #DB. */
int probe_user_at(const char *code, uint32_t eax, uint32_t *eip, uint32_t *dr6);

/*
 * lib.c: runs run(arg) at CPL 0 with trap() catching its single-step #DBs
 * (each clears TF); returns how many came, with the first one's EIP and DR6.
 */
uint32_t step_probe(void (*run)(uint32_t), uint32_t arg, uint32_t *eip, uint32_t *dr6);
/*
 * lib.c: the next NMI this CPU takes sets a read/write breakpoint on the stack
 * slot its IRET pops EIP from (with `step`: single-steps its IRET instead),
 * then runs in_nmi (if not NULL) in its handler.
 * nmi_watch_result disarms it and returns the #DBs that came, the NMI's EIP,
 * whether a #DB came there, the first #DB's EIP, their DR6s ORed, and
 * nmis_taken_total() when the first #DB's handler ran.
 */
void nmi_watch_iret(void (*in_nmi)(void), bool step);
uint32_t nmi_watch_result(uint32_t *nmi_eip, bool *at_nmi_eip, uint32_t *first_eip,
                          uint32_t *dr6, uint32_t *nmis_at_db);
/* isr.asm: the instructions under step_probe and probe_user, and where their trap lands */
extern char step_cpuid[], step_cpuid_after[], step_vmcall[], step_vmcall_after[];
extern char step_vmmcall[], step_vmmcall_after[], step_store[], step_store_after[];
extern char step_new_stack[], step_new_stack_after[];
extern char user_step_cpuid[], user_step_cpuid_after[], user_step_store[],
    user_step_store_after[];
/* isr.asm: CPL 3 code for probe_user: VMCALL with EAX as given, and VMX instructions */
extern char user_vmcall_eax[], user_vmxon[], user_vmread[], user_vmlaunch[];
/* isr.asm: CPL 3 code for probe_user: SVM instructions */
extern char user_vmrun[], user_stgi[], user_vmload[];

/* The most CPUs the test guest drives, the boot processor included. */
#define GUEST_MAX_CPUS 32

/* smp.c: this CPU's index, known from the stack it runs on: 0 the boot processor, i + 1 AP i
   (a stray start, which runs nothing, counts as 0). Probes and ksnprintf keep per-CPU state. */
uint32_t smp_cpu_index(void);

/* smp.c: runs fn(cpu) on AP i (0-based; cpu = i + 1) through INIT-SIPI-SIPI and waits up to
   timeout_ms for it to return; 0 when it did. smp_ap_count: the APs smp_checks found. */
int smp_run_on_ap(uint32_t i, void (*fn)(uint32_t cpu), uint32_t timeout_ms);
uint32_t smp_ap_count(void);
/* smp.c: starts AP i (0-based) so that once checked in it runs fn(cpu) until the next INIT;
   0 when it checked in within timeout_ms. The AP's APIC ID; an NMI IPI to an APIC ID. */
int smp_start_ap_then(uint32_t i, void (*fn)(uint32_t cpu), uint32_t timeout_ms);
uint32_t smp_ap_apic_id(uint32_t i);
void smp_send_nmi(uint32_t apic_id);

/* stress.c: INIT-SIPI cycles while the other APs loop on CPUID; NMIs to APs in exit-heavy
   loops, each counted by nmi_taken (which trap() calls for vector 2). */
void stress_checks(void);
void nmi_taken(void);
uint32_t nmis_taken_total(void);        /* every NMI the guest took so far, on any CPU */

/* hostile.c: the hostile-guest program (issue 7), when the boot sector holds a seed */
void hostile_checks(void);

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

/* Record i (thinvisor's CPU index) of the status area, or NULL if there is none. */
const volatile struct tv_status_cpu *status_cpu(uint32_t i);

/* bench.c: the bench variant's run (GUEST_BENCH), instead of the checks */
__attribute__((noreturn)) void bench_main(void);

/* acpi.c: the ACPI table with signature sig that the RSDT or XSDT (*via, may be NULL) lists,
 * checksum verified, or NULL */
const uint8_t *acpi_find(const char *sig, const char **via);

/* power.c: the ACPI power registers thinvisor intercepts */
void check_pm1_control(void);
/* power.c: powers the machine off through \_S5 and PM1a/PM1b control; returns if it cannot */
void power_off_s5(void);
/*
 * Suspends to RAM (ACPI S3) with s3_wake.asm as the waking vector, asking for
 * a 32-bit wake too when x_vector; the wake goes on in s3_resumed, which ends
 * the run. Returns only when the machine could not sleep.
 */
void suspend_s3(bool x_vector);

/* dma.c: device DMA through the IOMMU (the edu PCI device) */
void dma_checks(int hv, uint32_t region_base);

/* lib.c: the C library bits the compiler may call on its own */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* A pointer to a physical address; through asm so that address 0 is not "NULL" to clang. */
static inline void *phys_at(uint32_t addr)
{
    __asm__("" : "+r"(addr));
    return (void *)addr;
}

/* Little-endian fields of firmware tables, at any alignment. */
static inline uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(0));
    return r;
}

static inline uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

static inline uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
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
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#endif
