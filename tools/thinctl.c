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
 *
 * Exit status: 0 done, 1 not running under thinvisor, 2 usage, 3 the status
 * area cannot be read (not root, /dev/mem refused, bad area).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
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

enum { EXIT_OK, EXIT_NO_THINVISOR, EXIT_USAGE, EXIT_NO_ACCESS };

static const struct tv_status *st;
static const struct tv_log_ring *ring;

static void usage(FILE *f)
{
    fprintf(f, "usage: thinctl status\n"
               "       thinctl stats [--watch [SECONDS]] [--count N]\n"
               "       thinctl log\n"
               "Reads thinvisor's status area (CPUID 0x40000002) through /dev/mem: run as root.\n");
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
        if (sig[i] && (sig[i] < 32 || sig[i] > 126))
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

/* Finds and maps the status area and the log ring; returns an exit status. */
static int open_status(void)
{
    char sig[13];
    if (!under_thinvisor(sig)) {
        fprintf(stderr, "thinctl: not running under thinvisor (CPUID 0x40000000 says \"%s\")\n",
                sig);
        return EXIT_NO_THINVISOR;
    }
    unsigned a, b, c, d;
    __cpuid(TV_CPUID_STATUS_LEAF, a, b, c, d);
    uint64_t phys = (uint64_t)b << 32 | a;
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
    if (st->cpu_offset < offsetof(struct tv_status, dma_unit_faults) + sizeof st->dma_unit_faults) {
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
    printf("CPUs virtualized: %u (APIC IDs", st->cpu_count);
    for (uint32_t i = 0; i < st->cpu_count; i++) {
        printf(" %u", cpu_stats(i)->apic_id);
        exits += cpu_stats(i)->exits_total;
    }
    printf(")\n");
    printf("uptime: %.1f s since thinvisor started, %.1f s since it launched the guest\n",
           seconds_since(st->boot_tsc), seconds_since(st->launch_tsc));
    if (st->cpu_offset >= offsetof(struct tv_status, s3_resumes) + sizeof st->s3_resumes)
        printf("suspend to RAM: resumed %llu time(s) under thinvisor (the uptime leaves the "
               "sleeps out)\n", (unsigned long long)st->s3_resumes);
    printf("VM exits: %llu (thinctl stats)\n", (unsigned long long)exits);
    print_dma_protection();
    printf("log: %llu bytes logged (thinctl log)\n",
           ring ? (unsigned long long)ring->total : 0ull);
    return EXIT_OK;
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

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "status") && strcmp(cmd, "stats") && strcmp(cmd, "log")) {
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
    return cmd_log();
}
