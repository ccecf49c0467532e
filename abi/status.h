/*
 * The status area: what thinvisor publishes read-only to its guest, for
 * tools that cannot use VMCALL (it needs CPL 0): `thinctl` reads it from a
 * Linux guest through /dev/mem. CPUID leaf 0x40000002 says where it is. It
 * lies in memory the guest's E820 map calls reserved, so a Linux kernel with
 * STRICT_DEVMEM still lets root map it. Guest writes to it are dropped.
 * Shared with guest tools: fixed-width fields, little-endian, no pointers.
 */
#ifndef THINVISOR_STATUS_ABI_H
#define THINVISOR_STATUS_ABI_H

#include <stdint.h>

/* CPUID 0x40000002: EAX = physical address bits 31:0, EBX = bits 63:32, ECX = size in
 * bytes, EDX = TV_STATUS_ABI_VERSION; all 0 when there is no status area. */
#define TV_CPUID_STATUS_LEAF     0x40000002u

#define TV_STATUS_MAGIC          0x5355544154535654ull   /* "TVSTATUS" */
#define TV_STATUS_ABI_VERSION    1u
#define TV_STATUS_EXIT_REASONS   80u       /* exit counters per CPU: basic reasons 0..79 */

/*
 * One CPU's counters: exits[r] counts VM exits with basic exit reason r;
 * sipi_wait_wakeups, the times the CPU woke while it waited in thinvisor
 * for the guest's SIPI (SVM, or VT-x emulating SIPIs: it halts there, woken
 * by the SIPI, so a handful; 0 where the CPU waits in the guest instead).
 * Records may grow at the end: step through them by cpu_stride.
 */
struct tv_status_cpu {
    uint32_t apic_id;
    uint32_t reserved;
    uint64_t exits_total;
    uint64_t exits[TV_STATUS_EXIT_REASONS];
    uint64_t sipi_wait_wakeups;
};

/* DMA protection, in the area's header below. */
#define TV_DMA_UNITS             16u       /* units counted apart; the rest only in the sum */
#define TV_DMA_NONE              0u
#define TV_DMA_VTD               1u
#define TV_DMA_AMD_VI            2u

/*
 * The area: this header, then cpu_count tv_status_cpu records at cpu_offset.
 * The header grows only at its end; a reader checks that cpu_offset covers a
 * field before it reads it (the DMA and S3 fields came after the first release).
 * The log ring is published apart (it lives in the hypervisor's image): at
 * log_phys a struct tv_log_ring, then log_size bytes of text.
 */
struct tv_status {
    uint64_t magic;                 /* TV_STATUS_MAGIC */
    uint32_t abi_version;           /* TV_STATUS_ABI_VERSION */
    uint32_t version;               /* thinvisor's version, as CPUID 0x40000001.EAX */
    uint32_t cpu_count;             /* processors thinvisor virtualizes */
    uint32_t exit_reasons;          /* TV_STATUS_EXIT_REASONS */
    uint32_t cpu_offset;            /* bytes from the start of the area to the first record */
    uint32_t cpu_stride;            /* bytes from one record to the next */
    uint64_t tsc_khz;               /* TSC ticks per millisecond */
    uint64_t boot_tsc;              /* TSC when thinvisor started (the multiboot2 handoff) */
    uint64_t launch_tsc;            /* TSC when the guest was launched */
    uint64_t log_phys;              /* physical address of the log ring */
    uint64_t log_bytes;             /* its size in bytes, header included */
    /*
     * DMA protection: whether the IOMMU keeps devices out of the hypervisor
     * region, and what it blocked, as of the last CPUID 0x40000002 (which
     * takes the units' fault records first).
     */
    uint32_t dma_protection;        /* TV_DMA_NONE (processors only), TV_DMA_VTD, TV_DMA_AMD_VI */
    uint32_t dma_units;             /* IOMMU units translating */
    uint64_t dma_faults;            /* device accesses they blocked */
    uint64_t dma_faults_lost;       /* times a unit dropped faults because its records were full */
    uint64_t dma_unit_faults[TV_DMA_UNITS];   /* dma_faults by unit, in the ACPI table's order */
    /*
     * Suspends to RAM (ACPI S3) thinvisor came back from. The TSC restarts at
     * a wake: boot_tsc and launch_tsc are moved by what it lost, so that the
     * time since them counts the time the machine ran, as a monotonic clock.
     */
    uint64_t s3_resumes;
    /*
     * Leaving (TV_HC_OFF, `thinctl off`): the token the call needs, which
     * only this area holds (root reads it through /dev/mem), the CPUs that
     * left, and the TSC when the last one did (0 while thinvisor runs).
     */
    uint64_t off_token;
    uint32_t cpus_left;
    uint32_t reserved2;
    uint64_t off_tsc;
};


/*
 * The log ring: every message thinvisor logged, with TSC and CPU number; the
 * last min(total, size) bytes are kept, byte i of the log at data[i % size].
 * A reader copies, then checks that total moved less than size meanwhile.
 */
struct tv_log_ring {
    volatile uint64_t total;        /* bytes ever logged */
    uint32_t size;                  /* bytes of text after this header */
    uint32_t reserved;
};

#endif
