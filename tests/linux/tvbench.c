/*
 * tvbench: the Linux guest's bench (make bench, tests/bench/). /init runs it first thing when
 * "tv.bench" is on the kernel command line (the linux-bench-disk.img variant). It prints the
 * TSC as it starts (the boot-to-init figure), then times a small CPU, memory and syscall
 * workload on CPU 0 with the TSC, one line each:
 *   linux-guest: bench: init_tsc=N
 *   linux-guest: bench: cpu_ticks=N  (mem_ticks, syscall_ticks)
 * In Bochs with clock: sync=none the TSC follows the instruction count, so the figures repeat
 * run to run; make bench compares them with and without thinvisor.
 *
 * Built by tests/linux/build-image.sh with gcc -static -O2 (glibc's libc.a).
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#define CPU_ROUNDS    2000000u          /* xorshift steps */
#define MEM_BYTES     (16u << 20)       /* touched page by page, then written whole */
#define SYSCALLS      20000u            /* getppid, through syscall() so glibc cannot cache it */

/* Integer work that the compiler cannot fold away: a xorshift generator. */
static uint64_t cpu_work(void)
{
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < CPU_ROUNDS; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

/* Page faults and stores: a fresh anonymous mapping, one write per page, then memset. */
static int mem_work(void)
{
    volatile uint8_t *p = mmap(NULL, MEM_BYTES, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    for (uint32_t off = 0; off < MEM_BYTES; off += 4096)
        p[off] = 1;
    memset((void *)p, 2, MEM_BYTES);
    return munmap((void *)p, MEM_BYTES);
}

/* Kernel entries and exits, nothing else. */
static void syscall_work(void)
{
    for (uint32_t i = 0; i < SYSCALLS; i++)
        syscall(SYS_getppid);
}

int main(void)
{
    uint64_t init_tsc = __rdtsc();
    printf("linux-guest: bench: init_tsc=%llu\n", (unsigned long long)init_tsc);

    /* One CPU for every part, so every TSC read comes from the same processor. */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0)
        perror("linux-guest: bench: sched_setaffinity");

    uint64_t t0 = __rdtsc();
    volatile uint64_t sink = cpu_work();
    uint64_t t1 = __rdtsc();
    int mem_rc = mem_work();
    uint64_t t2 = __rdtsc();
    syscall_work();
    uint64_t t3 = __rdtsc();
    (void)sink;

    if (mem_rc != 0)
        perror("linux-guest: bench: mmap");
    printf("linux-guest: bench: cpu_ticks=%llu cpu_rounds=%u\n", (unsigned long long)(t1 - t0),
           CPU_ROUNDS);
    printf("linux-guest: bench: mem_ticks=%llu mem_bytes=%u\n", (unsigned long long)(t2 - t1),
           MEM_BYTES);
    printf("linux-guest: bench: syscall_ticks=%llu syscalls=%u\n", (unsigned long long)(t3 - t2),
           SYSCALLS);
    fflush(stdout);
    return mem_rc != 0;
}
