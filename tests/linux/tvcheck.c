/*
 * tvcheck: the Linux guest's probe (tests/linux/). Runs from /init as root.
 *
 * For every online CPU it pins itself there and reports what CPUID says about a hypervisor:
 *   linux-guest: cpu N: hypervisor signature "thinvisor..." (CPUID.1:ECX[31]=1, max leaf 0x40000001, ran on cpu N)
 * The signature is CPUID 0x40000000 EBX:ECX:EDX as 12 bytes, non-printable bytes shown as '.'.
 * On a CPU without a hypervisor that leaf is not defined (Intel returns the highest basic
 * leaf's data), so the line is printed as read and CPUID.1:ECX[31] tells which case it is.
 *
 * Then it prints "linux-guest: done" and, unless told "--no-exit", ends the emulator:
 * "Shutdown" to port 0x8900 (Bochs), 0 to port 0xF4 (QEMU isa-debug-exit). Each is ignored
 * by the other emulator. If it is still running after both, it returns 3 and /init falls back
 * to `poweroff -f`.
 *
 * "tvcheck --forge-off" instead makes thinvisor's TV_HC_OFF call from CPL 3 with a token that
 * cannot be right (0), as any user could, and prints what came of it:
 *   linux-guest: forged off call: #UD      (refused as any hypercall from CPL 3; the right answer)
 *   linux-guest: forged off call: returned N
 *
 * "tvcheck --drain" only waits until the console has sent what was written to it: before the
 * kernel prints on its own (a suspend), so that its messages do not cut into a line of /init's.
 *
 * Built by tests/linux/build-image.sh with gcc -static -O2 (glibc's libc.a).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <ctype.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

#define MAX_CPUS 1024

/* Parses a Linux CPU list ("0-1,3,5-7") into set; returns how many CPUs it names, -1 if bad. */
static int parse_cpu_list(const char *s, cpu_set_t *set)
{
    int count = 0;

    CPU_ZERO(set);
    while (*s && *s != '\n') {
        char *end;
        long lo = strtol(s, &end, 10), hi = lo;

        if (end == s || lo < 0)
            return -1;
        s = end;
        if (*s == '-') {
            hi = strtol(s + 1, &end, 10);
            if (end == s + 1 || hi < lo)
                return -1;
            s = end;
        }
        if (hi >= MAX_CPUS)
            return -1;
        for (long c = lo; c <= hi; c++) {
            if (!CPU_ISSET((int)c, set))
                count++;
            CPU_SET((int)c, set);
        }
        if (*s == ',')
            s++;
    }
    return count;
}

/* The online CPUs from sysfs; when that is unreadable, the CPUs this process may run on. */
static int online_cpus(cpu_set_t *set)
{
    char buf[4096];
    FILE *f = fopen("/sys/devices/system/cpu/online", "r");

    if (f) {
        int n = -1;

        if (fgets(buf, sizeof buf, f))
            n = parse_cpu_list(buf, set);
        fclose(f);
        if (n > 0)
            return n;
    }
    if (sched_getaffinity(0, sizeof *set, set) == 0)
        return CPU_COUNT(set);
    return -1;
}

static void report_cpu(int cpu)
{
    unsigned int a, b, c, d, ecx1;
    char sig[13];
    cpu_set_t one;

    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    /* sched_setaffinity migrates the calling thread before it returns. */
    if (sched_setaffinity(0, sizeof one, &one) != 0) {
        printf("linux-guest: cpu %d: sched_setaffinity failed: %s\n", cpu, strerror(errno));
        return;
    }
    __cpuid(1, a, b, ecx1, d);
    __cpuid(0x40000000u, a, b, c, d);
    memcpy(sig + 0, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    for (int i = 0; i < 12; i++)
        if (!isprint((unsigned char)sig[i]) || sig[i] == '"')
            sig[i] = '.';
    sig[12] = '\0';
    printf("linux-guest: cpu %d: hypervisor signature \"%s\" (CPUID.1:ECX[31]=%u, max leaf 0x%08x, ran on cpu %d)\n",
           cpu, sig, ecx1 >> 31, a, sched_getcpu());
}

/* Waits until the console has sent everything, so nothing is lost when the emulator quits. */
static void drain_output(void)
{
    fflush(stdout);
    fflush(stderr);
    if (isatty(STDOUT_FILENO))
        tcdrain(STDOUT_FILENO);
    if (isatty(STDERR_FILENO))
        tcdrain(STDERR_FILENO);
}

static void exit_emulator(void)
{
    static const char bochs_msg[] = "Shutdown";

    /* ioperm needs CAP_SYS_RAWIO; /init runs as root. */
    if (ioperm(0x8900, 1, 1) == 0) {
        for (const char *p = bochs_msg; *p; p++)
            outb((unsigned char)*p, 0x8900);
    } else {
        printf("linux-guest: ioperm(0x8900): %s\n", strerror(errno));
    }
    if (ioperm(0xf4, 1, 1) == 0)
        outb(0, 0xf4);
    else
        printf("linux-guest: ioperm(0xf4): %s\n", strerror(errno));
}

static sigjmp_buf on_ud;

static void sigill(int sig)
{
    (void)sig;
    siglongjmp(on_ud, 1);
}

/* TV_HC_OFF (7) with token 0: VMMCALL on AMD and Hygon, VMCALL on the others (#UD on the other kind). */
static int forge_off(void)
{
    unsigned a, b, c, d;
    volatile uint64_t rax = 7;
    uint64_t rbx = 0, rdx = 0, r;
    struct sigaction sa = { .sa_handler = sigill };
    __cpuid(0, a, b, c, d);
    sigaction(SIGILL, &sa, NULL);
    if (sigsetjmp(on_ud, 1)) {
        printf("linux-guest: forged off call: #UD\n");
        return 0;
    }
    r = rax;
    if (b != 0x68747541 && b != 0x6F677948)   /* not "Auth"enticAMD or "Hygo"n: VT-x */
        __asm__ volatile("vmcall" : "+a"(r), "+b"(rbx), "+d"(rdx) :: "rcx", "memory");
    else
        __asm__ volatile("vmmcall" : "+a"(r), "+b"(rbx), "+d"(rdx) :: "rcx", "memory");
    printf("linux-guest: forged off call: returned %llu\n", (unsigned long long)r);
    return 1;
}

int main(int argc, char **argv)
{
    int no_exit = argc > 1 && strcmp(argv[1], "--no-exit") == 0;
    if (argc > 1 && strcmp(argv[1], "--forge-off") == 0)
        return forge_off();
    if (argc > 1 && strcmp(argv[1], "--drain") == 0) {
        drain_output();
        return 0;
    }
    cpu_set_t online;
    int n;

    setvbuf(stdout, NULL, _IOLBF, 0);
    n = online_cpus(&online);
    if (n <= 0) {
        printf("linux-guest: cannot tell which CPUs are online\n");
    } else {
        for (int cpu = 0; cpu < MAX_CPUS; cpu++)
            if (CPU_ISSET(cpu, &online))
                report_cpu(cpu);
    }
    printf("linux-guest: done\n");
    if (no_exit)
        return 0;
    drain_output();
    exit_emulator();
    /* Still here: not an emulator we know (or a hypervisor that ignores these ports). */
    drain_output();
    return 3;
}
