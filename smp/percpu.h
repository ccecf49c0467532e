/*
 * Per-processor data. Each logical processor has one block in the region,
 * reachable through GS base without searching (gs:0 holds its address).
 */
#ifndef THINVISOR_PERCPU_H
#define THINVISOR_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "abi/status.h"
#include "kernel/acpi.h"
#include "kernel/gdt.h"

#define SMP_MAX_CPUS     ACPI_MAX_CPUS
#define CPU_STACK_SIZE   (16 * 1024)
#define PERCPU_PAGES     1
/* Bytes of struct percpu's guest_area. */
#define PERCPU_GUEST_BYTES 2560
/* What the region budget reserves per processor: the block and its stack. */
#define PERCPU_BYTES     (PERCPU_PAGES * 4096 + CPU_STACK_SIZE)

struct percpu;
typedef int (*cpu_work_fn)(struct percpu *cpu, void *arg);

/*
 * What either backend keeps about the guest CPU that runs on this processor:
 * whether it runs yet, a guest NMI that arrived outside it, kicks (smp/kick.c),
 * the emulated INIT/SIPI state (guest/ap_start.c), parking for a sleep
 * (guest/s3.c) and its exit counters.
 */
struct vcpu_state {
    struct tv_status_cpu *stats;  /* exit counters, in the published status area (guest/status.c) */
    uint64_t hidden_accesses;     /* guest accesses to the hypervisor region (guest/gpa_fault.c) */
    bool launched;                /* the guest runs here: NMIs from now on are its own */
    /*
     * What the end of a VM exit must look at before the guest goes on, one
     * byte each, read together as exit_work: an exit with none of it to do
     * (nearly every exit) tests them all with one compare. Most bytes are the
     * state itself; init_sent and flush_tlb are requests that their setters
     * raise after the state they point to (guest/init_sipi.c, ept_shootdown.c).
     */
    union {
        struct {
            volatile bool nmi_pending;    /* a guest NMI that arrived outside the guest: inject it */
            volatile bool waiting_for_sipi; /* INIT state, not started by a SIPI: no guest code runs */
            volatile bool park;           /* stop in the host at the end of this exit: s3.c, leave.c */
            volatile bool init_sent;      /* an emulated INIT may wait in ap_state (init_sipi.h) */
            volatile bool flush_tlb;      /* the shared EPT changed (vmx/ept_shootdown.c) */
        };
        uint64_t exit_work;
    };
    volatile bool in_guest;       /* between VM entry and exit, running guest code */
    volatile bool kick;           /* an NMI sent to make it leave the guest: not the guest's */
    volatile bool stopped;        /* guest_stop_cpu: no exit will come from it any more */
    volatile bool parked;         /* it has: its caches are written back, it waits there */
    volatile bool left;           /* guest/leave.c: virtualization is off here for good */
    uint64_t kicks;               /* kicks sent to this CPU */
    uint64_t stores_from_exit_bytes; /* emulated stores whose bytes the exit gave (gpa_fault.h) */
    volatile uint32_t ap_state;   /* emulated SIPI: AP_* state, the SIPI vector in bits 15:8 */
    uint32_t xapic_icr_high;      /* the guest's last xAPIC ICR high write */
};

struct percpu {
    struct percpu *self;          /* must stay first: this_cpu() reads gs:0 */
    uint32_t index;               /* 0 = BSP, in bring-up order */
    uint32_t apic_id;
    uint64_t stack_top;
    volatile bool online;

    /* Run-on-all (smp_run_on_all in smp/smp.c): the BSP posts work, the CPU runs it once. */
    volatile uint64_t work_posted;
    volatile uint64_t work_started;
    volatile uint64_t work_done;
    cpu_work_fn volatile work_fn;
    void *volatile work_arg;
    volatile int work_result;

    struct cpu_segments segments;
    struct vcpu_state vcpu;
    void *backend;                /* the backend's own per-CPU state (struct vmx_cpu, svm_cpu) */

    /*
     * Room for per-CPU data of the guest layer whose types this layer does
     * not see (guest/gpa_fault.c: its decoded-instruction cache), in the
     * block's page that would otherwise go unused; the user checks that its
     * type fits PERCPU_GUEST_BYTES.
     */
    uint64_t guest_area[PERCPU_GUEST_BYTES / 8];
};

_Static_assert(sizeof(struct percpu) <= PERCPU_PAGES * 4096, "struct percpu outgrew its pages");

extern struct percpu *cpus[SMP_MAX_CPUS];
extern uint32_t cpu_count;        /* processors online, BSP included */

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(p));
    return p;
}

#endif
