/*
 * thinctl: thinvisor's status, exit statistics and log, from inside a Linux
 * guest. VMCALL would need CPL 0, so thinctl reads the status area that
 * thinvisor publishes read-only (abi/status.h): CPUID 0x40000002 says
 * where, and /dev/mem maps it, which needs root. The area lies in memory the
 * guest's E820 map calls reserved, which Linux lets root map even with
 * STRICT_DEVMEM.
 *
 *   thinctl status                      signature, version, CPUs, uptime
 *   thinctl stats [--watch [S]] [--count N]   VM exits by reason and CPU
 *   thinctl log                         the hypervisor's log ring
 *   thinctl off                         thinvisor leaves the machine, the OS runs on
 *
 * `off` makes the one hypercall CPL 3 may make (TV_HC_OFF) on every online
 * CPU in turn, with the token that only the status area holds (so only root
 * can), giving up a page per CPU that thinvisor runs its last instructions
 * from (guest/leave.h). It notes where the status area was in OFF_NOTE, so
 * that `thinctl status` can still say what happened.
 *
 * Exit status: 0 done, 1 not running under thinvisor, 2 usage, 3 the status
 * area cannot be read (not root, /dev/mem refused, bad area), 4 `off` failed.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "abi/exit_reason_names.h"
#include "abi/hypercall.h"
#include "abi/status.h"

enum { EXIT_OK, EXIT_NO_THINVISOR, EXIT_USAGE, EXIT_NO_ACCESS, EXIT_OFF_FAILED };

#define OFF_NOTE "/run/thinctl-off"   /* the status area's address, once thinvisor left */

static const struct tv_status *st;
static const struct tv_log_ring *ring;

/* Whether the area has the fields up to `end` (a thinvisor older than thinctl has fewer). */
static int has_field(size_t end)
{
    return st->cpu_offset >= end;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: thinctl status\n"
               "       thinctl stats [--watch [SECONDS]] [--count N]\n"
               "       thinctl log\n"
               "       thinctl off\n"
               "Reads thinvisor's status area (CPUID 0x40000002) through /dev/mem: run as root.\n"
               "off: thinvisor leaves every CPU; the OS goes on without it until the next boot.\n");
}

/* Whether CPUID 0x40000000 carries thinvisor's signature (any user may ask). */
static int under_thinvisor(char sig[13])
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    __cpuid(TV_CPUID_BASE, a, b, c, d);
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = 0;
    for (int i = 0; i < 12; i++)
        if (sig[i] < 32 || sig[i] > 126)  /* NULs too: Bochs answers 0s */
            sig[i] = '.';
    return b == TV_SIGNATURE_EBX && c == TV_SIGNATURE_ECX && d == TV_SIGNATURE_EDX &&
           a >= TV_CPUID_STATUS_LEAF;
}

/* Maps `bytes` of physical memory at `phys` (page-aligned) read-only; NULL with a message. */
static const void *map_phys(int fd, uint64_t phys, uint64_t bytes, const char *what)
{
    void *p = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, (off_t)phys);
    if (p == MAP_FAILED) {
        fprintf(stderr, "thinctl: cannot map the %s at %#llx from /dev/mem: %s%s\n", what,
                (unsigned long long)phys, strerror(errno),
                errno == EPERM ? " (the kernel's STRICT_DEVMEM refused it)" : "");
        return NULL;
    }
    return p;
}

static int off;                   /* thinvisor left (thinctl off): the area found through OFF_NOTE */

/* Where the status area was when thinvisor left, from OFF_NOTE; false when there is no note. */
static int off_note(uint64_t *phys, unsigned *bytes)
{
    FILE *f = fopen(OFF_NOTE, "r");
    unsigned long long p;
    int ok = f && fscanf(f, "%llx %u", &p, bytes) == 2;
    if (f)
        fclose(f);
    *phys = ok ? p : 0;
    return ok;
}

/* Finds and maps the status area and the log ring; returns an exit status. */
static int open_status(void)
{
    char sig[13];
    unsigned a, b, c, d = TV_STATUS_ABI_VERSION;
    uint64_t phys;
    if (under_thinvisor(sig)) {
        __cpuid(TV_CPUID_STATUS_LEAF, a, b, c, d);
        phys = (uint64_t)b << 32 | a;
    } else if (off_note(&phys, &c) && geteuid() == 0) {
        off = 1;                                  /* reported below, if the area says so */
    } else {
        fprintf(stderr, "thinctl: not running under thinvisor (CPUID 0x40000000 says \"%s\")\n",
                sig);
        return EXIT_NO_THINVISOR;
    }
    if (d != TV_STATUS_ABI_VERSION || c < sizeof(struct tv_status) || (phys & 0xFFF)) {
        fprintf(stderr, "thinctl: thinvisor publishes no status area this thinctl reads "
                        "(CPUID 0x40000002: ABI %u, %u bytes at %#llx)\n", d, c,
                (unsigned long long)phys);
        return EXIT_NO_ACCESS;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "thinctl: needs root: it reads thinvisor's status area through /dev/mem "
                        "(try sudo thinctl ...)\n");
        return EXIT_NO_ACCESS;
    }
    int fd = open("/dev/mem", O_RDONLY | O_SYNC | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "thinctl: cannot open /dev/mem: %s\n", strerror(errno));
        return EXIT_NO_ACCESS;
    }
    st = map_phys(fd, phys, c, "status area");
    if (!st)
        return EXIT_NO_ACCESS;
    if (st->magic != TV_STATUS_MAGIC || st->abi_version != TV_STATUS_ABI_VERSION ||
        st->exit_reasons != TV_STATUS_EXIT_REASONS ||
        st->cpu_offset + (uint64_t)st->cpu_count * st->cpu_stride > c) {
        fprintf(stderr, "thinctl: the status area at %#llx is not one this thinctl knows\n",
                (unsigned long long)phys);
        return EXIT_NO_ACCESS;
    }
    if (off && (!has_field(offsetof(struct tv_status, off_tsc) + sizeof st->off_tsc) ||
                !st->off_tsc)) {
        fprintf(stderr, "thinctl: not running under thinvisor, and %s names no thinvisor that "
                        "left\n", OFF_NOTE);
        return EXIT_NO_THINVISOR;
    }
    if (st->log_bytes && !(st->log_phys & 0xFFF))
        ring = map_phys(fd, st->log_phys, st->log_bytes, "log ring");
    close(fd);
    return EXIT_OK;
}

static const struct tv_status_cpu *cpu_stats(uint32_t i)
{
    return (const struct tv_status_cpu *)((const char *)st + st->cpu_offset +
                                          (uint64_t)i * st->cpu_stride);
}

static double seconds_since(uint64_t tsc)
{
    return st->tsc_khz ? (double)(__rdtsc() - tsc) / (double)st->tsc_khz / 1000.0 : 0.0;
}

/* One line: whether the IOMMU keeps devices out, and what it blocked, by unit. */
static void print_dma_protection(void)
{
    if (!has_field(offsetof(struct tv_status, dma_unit_faults) + sizeof st->dma_unit_faults)) {
        printf("DMA protection: not reported (a thinvisor older than this thinctl)\n");
        return;
    }
    if (st->dma_protection == TV_DMA_NONE) {
        printf("DMA protection: none: devices can reach thinvisor's memory (see its log)\n");
        return;
    }
    printf("DMA protection: %s, %u unit(s); %llu device access(es) blocked",
           st->dma_protection == TV_DMA_VTD ? "VT-d" : "AMD-Vi", st->dma_units,
           (unsigned long long)st->dma_faults);
    const char *sep = " (";
    for (uint32_t i = 0; i < TV_DMA_UNITS; i++) {
        if (!st->dma_unit_faults[i])
            continue;
        printf("%sunit %u: %llu", sep, i, (unsigned long long)st->dma_unit_faults[i]);
        sep = ", ";
    }
    printf("%s%s\n", sep[0] == ',' ? ")" : "",
           st->dma_faults_lost ? "; more lost: a unit's fault records were full" : "");
}

static int cmd_status(void)
{
    uint64_t exits = 0;
    printf("hypervisor: thinvisor %u.%u.%u (status ABI %u)\n", st->version >> 16,
           (st->version >> 8) & 0xFF, st->version & 0xFF, st->abi_version);
    if (off)
        printf("state: off: it left the machine %.1f s ago (thinctl off); %u CPU(s) run "
               "natively; its memory stays reserved until the next boot\n",
               seconds_since(st->off_tsc), st->cpus_left);
    printf("CPUs virtualized: %u (APIC IDs", st->cpu_count);
    for (uint32_t i = 0; i < st->cpu_count; i++) {
        printf(" %u", cpu_stats(i)->apic_id);
        exits += cpu_stats(i)->exits_total;
    }
    printf(")\n");
    printf("uptime: %.1f s since thinvisor started, %.1f s since it launched the guest\n",
           seconds_since(st->boot_tsc), seconds_since(st->launch_tsc));
    if (has_field(offsetof(struct tv_status, s3_resumes) + sizeof st->s3_resumes))
        printf("suspend to RAM: resumed %llu time(s) under thinvisor (the uptime leaves the "
               "sleeps out)\n", (unsigned long long)st->s3_resumes);
    printf("VM exits: %llu (thinctl stats)\n", (unsigned long long)exits);
    print_dma_protection();
    printf("log: %llu bytes logged (thinctl log)\n",
           ring ? (unsigned long long)ring->total : 0ull);
    return off ? EXIT_NO_THINVISOR : EXIT_OK;
}

/* The counters now: counts[cpu * reasons + reason], then one total per reason after them. */
static void snapshot(uint64_t *counts)
{
    uint32_t n = st->cpu_count, r = TV_STATUS_EXIT_REASONS;
    memset(counts + (uint64_t)n * r, 0, r * sizeof *counts);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < r; k++) {
            counts[i * r + k] = cpu_stats(i)->exits[k];
            counts[n * r + k] += counts[i * r + k];
        }
}

static const char *reason_name(uint32_t k)
{
    return k < EXIT_REASON_COUNT && exit_reason_names[k] ? exit_reason_names[k] : "unknown";
}

/* One table: a row per reason seen, a column per CPU, the total, and with prev the rate. */
static void print_stats(const uint64_t *now, const uint64_t *prev, double interval)
{
    uint32_t n = st->cpu_count, r = TV_STATUS_EXIT_REASONS;
    printf("%-24s", "exit reason");
    for (uint32_t i = 0; i < n; i++)
        printf(" %11s%-3u", "CPU ", i);
    printf(" %12s%s\n", "total", prev ? "      per s" : "");
    for (uint32_t k = 0; k < r; k++) {
        if (!now[n * r + k])
            continue;
        printf("%-24s", reason_name(k));
        for (uint32_t i = 0; i < n; i++)
            printf(" %14llu", (unsigned long long)now[i * r + k]);
        printf(" %12llu", (unsigned long long)now[n * r + k]);
        if (prev)
            printf(" %10.0f", (double)(now[n * r + k] - prev[n * r + k]) / interval);
        printf("\n");
    }
}

static int cmd_stats(int argc, char **argv)
{
    double interval = 0;
    long count = -1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--watch")) {
            interval = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-' && (interval = atof(argv[++i])) <= 0) {
                fprintf(stderr, "thinctl: --watch takes a positive number of seconds\n");
                return EXIT_USAGE;
            }
        } else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            if ((count = atol(argv[++i])) <= 0) {
                fprintf(stderr, "thinctl: --count takes a positive number\n");
                return EXIT_USAGE;
            }
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    size_t words = ((size_t)st->cpu_count + 1) * TV_STATUS_EXIT_REASONS;
    uint64_t *now = calloc(words, sizeof *now), *prev = calloc(words, sizeof *prev);
    if (!now || !prev) {
        fprintf(stderr, "thinctl: out of memory\n");
        return EXIT_NO_ACCESS;
    }
    snapshot(now);
    if (interval == 0) {
        print_stats(now, NULL, 0);
        return EXIT_OK;
    }
    /* Like kvm_stat: the screen redrawn every interval, with the rate since the last one. */
    for (long shown = 0; count < 0 || shown < count; shown++) {
        memcpy(prev, now, words * sizeof *now);
        struct timespec ts = { (time_t)interval, (long)((interval - (time_t)interval) * 1e9) };
        nanosleep(&ts, NULL);
        snapshot(now);
        if (isatty(STDOUT_FILENO))
            printf("\033[H\033[2J");
        printf("thinvisor VM exits, every %.1f s (Ctrl-C ends)\n", interval);
        print_stats(now, prev, interval);
        fflush(stdout);
    }
    return EXIT_OK;
}

/* The ring's text from the oldest byte kept to the newest, re-read if it wrapped meanwhile. */
static int cmd_log(void)
{
    if (!ring || ring->size == 0 || sizeof *ring + ring->size > st->log_bytes) {
        fprintf(stderr, "thinctl: thinvisor publishes no log ring\n");
        return EXIT_NO_ACCESS;
    }
    const char *text = (const char *)(ring + 1);
    uint32_t size = ring->size;
    char *copy = malloc(size);
    if (!copy)
        return EXIT_NO_ACCESS;
    for (int tries = 0; tries < 5; tries++) {
        uint64_t end = ring->total, start = end > size ? end - size : 0;
        for (uint64_t i = start; i < end; i++)
            copy[i - start] = text[i % size];
        /* In a full ring, bytes logged meanwhile overwrote the oldest ones copied: drop those. */
        uint64_t moved = ring->total - end, kept = end - start;
        uint64_t skip = kept == size ? moved : 0;
        if (skip < kept) {
            fwrite(copy + skip, 1, (size_t)(kept - skip), stdout);
            return EXIT_OK;
        }
    }
    fprintf(stderr, "thinctl: the log moved too fast to copy\n");
    return EXIT_NO_ACCESS;
}

static sigjmp_buf refused;

static void on_sigill(int sig)
{
    (void)sig;
    siglongjmp(refused, 1);
}

/*
 * TV_HC_OFF on this CPU: VMMCALL on AMD and Hygon (thinvisor's SVM backend), VMCALL on the
 * others (VT-x); each is #UD on the other kind.
 */
static uint32_t hypercall_off(uint64_t token, uint64_t page, uint64_t last, int vmcall)
{
    uint64_t rax = TV_HC_OFF;
    if (vmcall)
        __asm__ volatile("vmcall" : "+a"(rax), "+b"(token), "+c"(last), "+d"(page) :: "memory");
    else
        __asm__ volatile("vmmcall" : "+a"(rax), "+b"(token), "+c"(last), "+d"(page) :: "memory");
    return (uint32_t)rax;
}

/* Moves thinctl to CPU i; false when it cannot run there. */
static int run_on(long i)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(i, &set);
    return sched_setaffinity(0, sizeof set, &set) == 0 && sched_getcpu() == i;
}

/* The online CPUs from sysfs ("0-2,5"); false when it cannot be read. */
static int online_cpus(cpu_set_t *set)
{
    FILE *f = fopen("/sys/devices/system/cpu/online", "r");
    char line[4096];
    int ok = f && fgets(line, sizeof line, f);
    if (f)
        fclose(f);
    CPU_ZERO(set);
    for (char *p = line; ok && *p && *p != '\n';) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || lo < 0)
            return 0;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        for (long i = lo; i <= hi && i < CPU_SETSIZE; i++)
            CPU_SET(i, set);
        p = *end == ',' ? end + 1 : end;
    }
    return ok;
}

static const char *off_status_name(uint32_t status)
{
    switch (status) {
    case TV_STATUS_BAD_ARGUMENT: return "it refused the page thinctl gave it";
    case TV_STATUS_AGAIN:        return "an event stayed due on this CPU";
    case TV_STATUS_UNSUPPORTED:  return "it cannot leave from this OS's state (5-level paging?)";
    case TV_STATUS_UNKNOWN_CALL: return "this thinvisor cannot leave at run time";
    default:                     return "unknown status";
    }
}

/*
 * Every online CPU in turn: thinctl moves there and makes the call, giving
 * up one page (all in one 2 MiB, which thinvisor maps with one page table).
 * The last CPU to leave takes the offline ones along.
 */
static int cmd_off(void)
{
    if (!has_field(offsetof(struct tv_status, off_tsc) + sizeof st->off_tsc) || !st->off_token) {
        fprintf(stderr, "thinctl: this thinvisor cannot leave at run time (its status area has "
                        "no off token)\n");
        return EXIT_OFF_FAILED;
    }
    long ncpus = sysconf(_SC_NPROCESSORS_CONF);
    const size_t span = 2u << 20;
    if (ncpus < 1 || ncpus > (long)(span / 4096)) {
        fprintf(stderr, "thinctl: %ld CPUs: off handles 1 to 512\n", ncpus);
        return EXIT_OFF_FAILED;
    }
    uint8_t *area = mmap(NULL, 2 * span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        fprintf(stderr, "thinctl: out of memory\n");
        return EXIT_OFF_FAILED;
    }
    uint8_t *pages = (uint8_t *)(((uintptr_t)area + span - 1) & ~(uintptr_t)(span - 1));
    size_t bytes = (size_t)ncpus * 4096;
    madvise(pages, bytes, MADV_NOHUGEPAGE);       /* thinvisor needs 4 KiB pages */
    if (mlock(pages, bytes) != 0) {
        fprintf(stderr, "thinctl: cannot lock the pages thinvisor leaves from: %s\n",
                strerror(errno));
        return EXIT_OFF_FAILED;
    }
    memset(pages, 0, bytes);
    unsigned a, vendor_b, c, d;
    __cpuid(0, a, vendor_b, c, d);
    int vmcall = vendor_b != 0x68747541 && vendor_b != 0x6F677948;   /* "Auth"enticAMD, "Hygo"n */
    uint64_t token = st->off_token, area_phys = 0;
    unsigned area_bytes = 0;
    __cpuid(TV_CPUID_STATUS_LEAF, a, vendor_b, c, d);
    area_phys = (uint64_t)vendor_b << 32 | a;
    area_bytes = c;
    struct sigaction sa = { .sa_handler = on_sigill };
    sigaction(SIGILL, &sa, NULL);
    /*
     * Every online CPU must make its own call: thinvisor takes any CPU that has not by the
     * last call for one the OS keeps offline. A CPU thinctl cannot run on (a cpuset) stops it
     * before the first call; one that already runs natively (an earlier, interrupted off) is
     * passed over.
     */
    cpu_set_t online;
    if (!online_cpus(&online)) {
        fprintf(stderr, "thinctl: cannot read /sys/devices/system/cpu/online\n");
        return EXIT_OFF_FAILED;
    }
    long left = 0, last = -1;
    char sig[13];
    for (long i = 0; i < ncpus; i++) {
        if (!CPU_ISSET(i, &online))
            continue;                             /* offline: it goes with the last call */
        if (!run_on(i)) {
            fprintf(stderr, "thinctl: cannot run on online CPU %ld (a cpuset?): nothing done\n", i);
            return EXIT_OFF_FAILED;
        }
        if (under_thinvisor(sig))
            last = i;
    }
    if (last < 0) {
        printf("thinvisor is off already on every online CPU\n");
        return EXIT_OK;
    }
    for (long i = 0; i <= last; i++) {
        if (!CPU_ISSET(i, &online) || !run_on(i) || !under_thinvisor(sig))
            continue;
        if (sigsetjmp(refused, 1)) {
            fprintf(stderr, "thinctl: CPU %ld: thinvisor refused the call (#UD)\n", i);
            return EXIT_OFF_FAILED;
        }
        uint32_t status;
        int tries = 0;
        do
            status = hypercall_off(token, (uint64_t)(uintptr_t)(pages + i * 4096), i == last,
                                   vmcall);
        while (status == TV_STATUS_AGAIN && ++tries < 1000);
        if (status != TV_STATUS_OK) {
            fprintf(stderr, "thinctl: CPU %ld: thinvisor could not leave: %s%s\n", i,
                    off_status_name(status), left ? " (the CPUs before it run natively)" : "");
            return EXIT_OFF_FAILED;
        }
        printf("CPU %ld: runs natively (CPUID 0x40000000 says \"%s\")\n", i,
               under_thinvisor(sig) ? "thinvisor" : sig);
        left++;
    }
    FILE *note = fopen(OFF_NOTE, "w");
    if (note) {
        fprintf(note, "%llx %u\n", (unsigned long long)area_phys, area_bytes);
        fclose(note);
    }
    printf("thinvisor is off: %ld online CPU(s) left it, %u CPU(s) in all run natively; its "
           "memory stays reserved until the next boot\n", left, st->cpus_left);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "log") &&
        strcmp(cmd, "off")) {
        fprintf(stderr, "thinctl: unknown command '%s'\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(cmd, "stats") && argc > 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int rc = open_status();
    if (rc != EXIT_OK)
        return rc;
    if (!strcmp(cmd, "status"))
        return cmd_status();
    if (!strcmp(cmd, "stats"))
        return cmd_stats(argc - 2, argv + 2);
    if (!strcmp(cmd, "off"))
        return off ? (printf("thinvisor is off already\n"), EXIT_OK) : cmd_off();
    return cmd_log();
}
