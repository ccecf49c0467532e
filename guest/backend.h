/*
 * The one interface between the launch (hv/launch.c) and a virtualization
 * backend: VT-x (vmx/) and AMD SVM (svm/) each fill one struct backend, and
 * the launch drives whichever the CPU has, step by step, without knowing
 * which: probe, shared setup, each CPU prepared and enabled, the APs parked
 * in their guest state, the BSP launched. It lives in guest/, the layer both
 * backends sit on, in the spirit of SimpleVisor's one OS interface with two
 * implementations.
 */
#ifndef THINVISOR_GUEST_BACKEND_H
#define THINVISOR_GUEST_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/boot.h"
#include "guest/long_mode.h"
#include "smp/percpu.h"

/* What the launch asks of the shared setup, from the command line and the machine. */
struct backend_options {
    uint64_t mapped_top;          /* identity-map [0, mapped_top) up front; above it, on demand */
    bool test_exit;               /* intercept the emulators' exit ports (test runs) */
    bool emulate_sipi;            /* the emulate_sipi option: APs wait in the host */
};

struct backend {
    const char *name;             /* what every CPU enters, for the log: "VMX root", "SVM" */
    const char *launch_note;      /* added to the launch line: "" or " under SVM" */
    uint32_t per_cpu_pages;       /* region budget: the backend's pages per processor */
    uint32_t shared_pages;        /* region budget: its bitmaps and permission maps */

    /* Whether this CPU can run the backend: 0, or -1 with the reason in why. */
    int (*probe)(char *why, size_t whylen);
    /*
     * On the BSP: the guest's memory (guest/memory.h) in the backend's
     * format and what every CPU shares besides. 0, or -1 (logged).
     */
    int (*setup_shared)(const struct backend_options *o);
    /* On the BSP, for each CPU before enable_cpu: its pages from the region. */
    void (*prepare_cpu)(struct percpu *cpu);
    /*
     * smp_run_on_all work: virtualization on for this CPU; also again after an
     * ACPI S3 resume reset the CPU, where nothing of the last guest's state
     * may survive. 0, or -1 (logged).
     */
    int (*enable_cpu)(struct percpu *cpu, void *arg);
    /*
     * smp_run_on_all work, the way back, on a CPU where no guest runs: off
     * again whatever enable_cpu got done there (VMXOFF; EFER.SVME clear), and
     * the control registers as it found them; a CPU it never reached stays
     * as it is. enable_cpu may run again afterwards (to re-enter). 0, or -1.
     */
    int (*leave_cpu)(struct percpu *cpu, void *arg);
    /*
     * smp_start_on_aps work, which does not return while the guest runs: the
     * AP enters its guest state, waiting for the guest's SIPI.
     */
    int (*launch_ap)(struct percpu *cpu, void *arg);
    /*
     * The BSP's guest: the boot sector in real mode (a BIOS boot) or the OS's
     * waking vector after an ACPI S3 resume (guest/s3.h), or the firmware's
     * 64-bit context (UEFI). Return only when the guest could not be
     * launched (logged).
     */
    void (*launch_bsp_real_mode)(const struct guest_start *start);
    void (*launch_bsp_long_mode)(const struct guest_long_mode *g);

    /*
     * Hypercall answers that only some backends have state for (NULL: the
     * hypercall says so): TV_HC_EPT_GENERATION, one CPU's EPT shootdown
     * state, false when cpu is out of range; TV_HC_STATE_CHECK, the calling
     * CPU's fixed-state sums now and at launch and the hypervisor-region
     * pages the guest can reach.
     */
    bool (*ept_generation)(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest);
    bool (*state_check)(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);
};

/* The implementations: vmx/vmx.c and svm/svm.c. hv/launch.c picks one by CPUID. */
extern const struct backend vmx_backend, svm_backend;

#endif
