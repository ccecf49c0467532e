/*
 * tvdma: what root in the Linux guest can make a device do to thinvisor's memory
 * (tests/linux/). Runs from /init as root, where QEMU's `edu` PCI device is present (its
 * docs/specs/edu.txt: a DMA engine with a 4 KiB buffer at device address 0x40000).
 *
 * Through sysfs it turns on the device's memory decoding and bus mastering and maps its
 * registers, then has the device
 *   1. copy one of its own pages there and back (DMA works at all);
 *   2. read the first half page of thinvisor's status area (CPUID 0x40000002: it lies in the
 *      hypervisor region; the CPU may read it, read-only, a device may not) and copy that
 *      here, to compare with what the CPU reads through /dev/mem;
 *   3. write half a page of 0x5A over the status area, which the CPU then reads again.
 * One "linux-guest: tvdma: ..." line for each, then a verdict: "out of the device's reach",
 * or "REACHABLE" with what got through. Exit status 0 when the region is out of reach, 1 when
 * it is not, 2 when the test could not run (no device, no thinvisor, no root).
 *
 * Built by tests/linux/build-image.sh with gcc -static -O2.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "abi/hypercall.h"
#include "abi/status.h"
#include "tests/edu_regs.h"

#define PAGE              4096u
/* Bytes a transfer moves: QEMU 7.2's edu aborts on one that fills its whole 4 KiB buffer. */
#define XFER              2048u

static volatile uint8_t *edu;
static char dev[300];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("linux-guest: tvdma: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    /*
     * Wait until the console has sent it: the next CPUID 0x40000002 may have thinvisor log a
     * blocked access to the same serial port, which would land inside a half-sent line.
     */
    tcdrain(STDOUT_FILENO);
    va_end(ap);
}

static long sysfs_number(const char *dir, const char *file)
{
    char path[600], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    return strtol(buf, NULL, 0);
}

/* The edu device's sysfs directory into dev; 0 when there is none. */
static int find_edu(void)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;
    int found = 0;
    while (d && !found && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(dev, sizeof dev, "/sys/bus/pci/devices/%s", e->d_name);
        found = sysfs_number(dev, "vendor") == EDU_VENDOR &&
                sysfs_number(dev, "device") == EDU_DEVICE;
    }
    if (d)
        closedir(d);
    return found;
}

/* Memory decoding on (sysfs "enable"), bus mastering on (config space), BAR 0 mapped. */
static int open_edu(void)
{
    char path[600];
    snprintf(path, sizeof path, "%s/enable", dev);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, "1", 1) != 1)
        return -1;
    close(fd);
    snprintf(path, sizeof path, "%s/config", dev);
    uint16_t command;
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, &command, 2, 4) != 2)
        return -1;
    command |= 1u << 2;                               /* bus master */
    if (pwrite(fd, &command, 2, 4) != 2)
        return -1;
    close(fd);
    snprintf(path, sizeof path, "%s/resource0", dev);
    fd = open(path, O_RDWR | O_SYNC);
    if (fd < 0)
        return -1;
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    edu = p;
    return *(volatile uint32_t *)(edu + EDU_IDENT) == EDU_IDENT_VALUE ? 0 : -1;
}

/* One transfer of n bytes between physical addr and the device's buffer; 0 once done. */
static int edu_dma(uint64_t addr, uint32_t n, int to_ram)
{
    *(volatile uint64_t *)(edu + EDU_DMA_SRC) = to_ram ? EDU_BUFFER : addr;
    *(volatile uint64_t *)(edu + EDU_DMA_DST) = to_ram ? addr : EDU_BUFFER;
    *(volatile uint64_t *)(edu + EDU_DMA_COUNT) = n;
    *(volatile uint64_t *)(edu + EDU_DMA_CMD) = EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0);
    /* Its DMA takes 100 ms of QEMU's virtual clock; give up after 20 s of the guest's. */
    for (int i = 0; i < 20000; i++) {
        if (!(*(volatile uint64_t *)(edu + EDU_DMA_CMD) & EDU_CMD_START))
            return 0;
        usleep(1000);
    }
    return -1;
}

/* A locked page of ours and its physical address (/proc/self/pagemap: root sees PFNs). */
static uint8_t *own_page(uint64_t *phys)
{
    uint8_t *p = aligned_alloc(PAGE, PAGE);
    uint64_t entry = 0;
    if (!p || mlock(p, PAGE) != 0)
        return NULL;
    memset(p, 1, PAGE);
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0 || pread(fd, &entry, 8, (off_t)((uintptr_t)p / PAGE * 8)) != 8)
        return NULL;
    close(fd);
    if (!(entry >> 63) || !(entry & ((1ull << 55) - 1)))
        return NULL;
    *phys = (entry & ((1ull << 55) - 1)) * PAGE;
    return p;
}

/* The status area's first page as the CPU reads it (/dev/mem; published read-only). */
static int read_status_page(uint64_t phys, uint8_t *out)
{
    int fd = open("/dev/mem", O_RDONLY | O_SYNC);
    if (fd < 0)
        return -1;
    void *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, (off_t)phys);
    close(fd);
    if (p == MAP_FAILED)
        return -1;
    memcpy(out, p, PAGE);
    munmap(p, PAGE);
    return 0;
}

int main(void)
{
    if (!find_edu()) {
        say("no edu PCI device: nothing to test");
        return 2;
    }
    unsigned a, b, c, d;
    __cpuid(TV_CPUID_STATUS_LEAF, a, b, c, d);
    uint64_t status = (uint64_t)b << 32 | a;
    if (d != TV_STATUS_ABI_VERSION || c < PAGE) {
        say("no thinvisor status area (CPUID 0x40000002): nothing to aim at");
        return 2;
    }
    uint64_t src_phys, dst_phys;
    uint8_t *src = own_page(&src_phys), *dst = own_page(&dst_phys);
    static uint8_t seen[PAGE], before[PAGE];
    if (open_edu() != 0 || !src || !dst || read_status_page(status, before) != 0) {
        say("cannot set the device up (%s): run as root", strrchr(dev, '/') + 1);
        return 2;
    }
    say("edu device %s, own pages at %#llx and %#llx, status area at %#llx", strrchr(dev, '/') + 1,
        (unsigned long long)src_phys, (unsigned long long)dst_phys, (unsigned long long)status);

    for (unsigned i = 0; i < PAGE; i++)
        src[i] = (uint8_t)(i * 7 + 3);
    memset(dst, 0, PAGE);
    if (edu_dma(src_phys, XFER, 0) || edu_dma(dst_phys, XFER, 1) || memcmp(src, dst, XFER)) {
        say("a page of ours through the device and back: FAILED");
        return 2;
    }
    say("a page of ours through the device and back: ok");

    memset(dst, 0, PAGE);
    if (edu_dma(status, XFER, 0) || edu_dma(dst_phys, XFER, 1)) {
        say("the device's DMA did not finish");
        return 2;
    }
    unsigned nonzero = 0;
    for (unsigned i = 0; i < XFER; i++)
        nonzero += dst[i] != 0;
    int read_through = memcmp(dst, before, 16) == 0;     /* the magic and the ABI version */
    say("the device read the status area: %u non-zero bytes, %s what the CPU reads", nonzero,
        read_through ? "the same as" : "not");

    /*
     * CPUID 0x40000002 (as thinctl asks it) has thinvisor take the unit's fault records: a
     * unit may fold a requester's next faults into the one it holds (QEMU's does).
     */
    __cpuid(TV_CPUID_STATUS_LEAF, a, b, c, d);
    memset(src, 0x5A, PAGE);
    if (edu_dma(src_phys, XFER, 0) || edu_dma(status, XFER, 1) ||
        read_status_page(status, seen) != 0) {
        say("the device's DMA did not finish");
        return 2;
    }
    int written = seen[0] == 0x5A && seen[XFER - 1] == 0x5A;
    say("the device wrote over the status area: %s",
        written ? "the CPU now reads its bytes there" : "the area is as it was");
    if (read_through || written) {
        say("the hypervisor region is REACHABLE by devices");
        return 1;
    }
    say("the hypervisor region is out of the device's reach");
    return 0;
}
