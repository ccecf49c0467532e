/*
 * Thin wrappers over x86 instructions C cannot express. Only kernel code
 * includes this; the portable parts (parsers, builders) never do, so host
 * unit tests can compile them unchanged.
 */
#ifndef THINVISOR_X86_H
#define THINVISOR_X86_H

#include <stdbool.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

struct cpuid_regs { uint32_t eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    __asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

/*
 * CPUID into four 64-bit slots (a guest's saved registers): in 64-bit mode the
 * 32-bit results zero the upper halves (SDM Vol. 1, 3.4.1.1), so each is one store.
 */
static inline void cpuid_into(uint32_t leaf, uint32_t subleaf, uint64_t *a, uint64_t *b,
                              uint64_t *c, uint64_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(subleaf));
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

/* A random value from RDRAND (CPUID.1:ECX[30]); false when the CPU has none or gave none. */
static inline bool rdrand64(uint64_t *v)
{
    if (!(cpuid(1, 0).ecx & (1u << 30)))
        return false;
    for (int tries = 0; tries < 10; tries++) {      /* the SDM's advice (Vol. 1, 7.3.17.1) */
        unsigned char ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) :: "cc");
        if (ok)
            return true;
    }
    return false;
}

/* Halts with interrupts off until an INIT (or a reset) takes the CPU; NMIs return to the HLT. */
static inline __attribute__((noreturn)) void halt_until_init(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* Before a WRMSR that does not serialize (x2APIC registers): earlier stores visible first. */
static inline void wrmsr_fence(void) { __asm__ volatile("mfence; lfence" ::: "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* Writes back and invalidates every cache line: for a device that reads memory without snooping. */
static inline void wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }

/*
 * An IRET to the next instruction, same privilege: the one way to end NMI
 * blocking without taking an NMI (blocking lasts until the next IRET, SDM
 * Vol. 3A, 7.7.1).
 */
static inline void iret_to_self(void)
{
    __asm__ volatile("mov %%rsp, %%rax\n\t"
                     "mov %%ss, %%ecx\n\t"
                     "push %%rcx\n\t"
                     "push %%rax\n\t"
                     "pushfq\n\t"
                     "mov %%cs, %%ecx\n\t"
                     "push %%rcx\n\t"
                     "lea 1f(%%rip), %%rcx\n\t"
                     "push %%rcx\n\t"
                     "iretq\n"
                     "1:" ::: "rax", "rcx", "memory", "cc");
}

struct __attribute__((packed)) descriptor_ptr {
    uint16_t limit;
    uint64_t base;
};

static inline void lgdt(const struct descriptor_ptr *p) { __asm__ volatile("lgdt %0" :: "m"(*p)); }
static inline void lidt(const struct descriptor_ptr *p) { __asm__ volatile("lidt %0" :: "m"(*p)); }
static inline void ltr(uint16_t sel) { __asm__ volatile("ltr %0" :: "r"(sel)); }

#endif
