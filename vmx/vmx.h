/* The VT-x backend: VMX root on every processor, one VMCS each, the guest launch. */
#ifndef THINVISOR_VMX_H
#define THINVISOR_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/long_mode.h"
#include "kernel/guest_regs.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "smp/percpu.h"
#include "vmx/caps.h"
#include "vmx/exit_reason.h"
#include "vmx/mmio_decode.h"
#include "vmx/status_abi.h"

struct guest_backend_ops;

/* Per-CPU VMX state, in the CPU's per-CPU block. */
struct vmx_cpu {
    uint64_t vmxon_phys;
    uint64_t vmcs_phys;
    struct tv_status_cpu *stats;  /* exit counters, in the published status area */
    uint64_t hidden_accesses;     /* EPT violations on the hypervisor region */
    bool waiting_for_sipi;        /* INIT state, not yet started by a SIPI */
    volatile uint64_t ept_generation;  /* vmx/ept_shootdown.c: the generation last flushed for */
    uint64_t state_sum_boot;      /* vmx/state_check.c: the fixed state at launch */
};

/* What every processor shares. */
struct vmx_global {
    struct vmx_caps caps;
    struct vmx_controls ctl;
    struct ept ept;
    uint64_t ept_top;             /* identity-mapped up front; above it, on demand */
    struct mtrr_state mtrr;       /* the guest's MTRRs: the EPT's memory types follow them */
    uint64_t eptp;
    uint64_t msr_bitmap_phys;
    uint64_t io_bitmap_phys[2];   /* only with test_exit: the emulator exit ports */
    uint64_t dummy_page_phys;     /* what hidden pages show a guest that probes them */
    bool emulate_sipi;            /* no wait-for-SIPI: APs wait in root, SIPIs are intercepted */
    uint64_t apic_page;           /* emulated SIPIs, xAPIC: the APIC page, read-only in the EPT */
};

extern struct vmx_global vmx;

/* Pages per CPU for VMX (state, VMXON region, VMCS), for the region budget. */
#define VMX_PER_CPU_PAGES 3

/*
 * Reads the capability MSRs on this CPU and decides whether VMX can run.
 * Returns 0, or -1 with the reason in `why`.
 */
int vmx_probe(char *why, size_t whylen);

/*
 * Shared setup on the BSP: MSR bitmap, EPT identity map of [0, ept_top),
 * dummy page; with intercept_exit_ports, I/O bitmaps that catch the
 * emulators' exit ports (test runs). Returns 0 or -1 (logged).
 */
int vmx_setup_shared(uint64_t ept_top, bool intercept_exit_ports, bool emulate_sipi);

/* On the BSP, before run-on-all: this CPU's VMXON region, VMCS and state. */
void vmx_prepare_cpu(struct percpu *cpu);

/* run-on-all work: VMXON and a VMCS for this CPU, its guest in wait-for-SIPI. */
int vmx_enable_cpu(struct percpu *cpu, void *arg);

/* Guest state helpers for the exit handlers (INIT, SIPI, CR writes). */
void vmx_guest_real_mode(uint16_t cs_sel, uint64_t cs_base, uint64_t rip, uint64_t cr0,
                         uint32_t activity);

/* The BSP's first state on UEFI: the firmware's 64-bit context (kernel/efi_boot.h). */
void vmx_guest_long_mode(const struct guest_long_mode *g);
void vmx_set_guest_cr0(uint64_t cr0);
void vmx_set_guest_cr4(uint64_t cr4);

/* Launches this CPU's guest; returns only on failure (after logging why). */
int vmx_launch_cpu(struct percpu *cpu, const struct guest_regs *regs);

/* Names of the VM-instruction errors (SDM Vol. 3C, 31.4). */
const char *vmx_instruction_error_name(uint32_t error);

void vmx_dump_guest_state(void);

/* INIT and SIPI, as exits or emulated (vmx/ap_start.c). */
void vmx_handle_init(struct guest_regs *r, struct percpu *cpu);
void vmx_handle_sipi(struct percpu *cpu);
void vmx_take_pending_init(struct guest_regs *r, struct percpu *cpu);

/* vmx/state_check.c: TV_HC_STATE_CHECK's sums (the launch-time one taken before VMLAUNCH). */
void vmx_record_state_sum(struct vmx_cpu *v);
bool vmx_state_check(uint32_t cpu, uint64_t *now, uint64_t *boot, uint32_t *exposed);
int vmx_launch_ap(struct percpu *cpu, void *arg);

/*
 * The xAPIC page when SIPIs are emulated (vmx/apic_page.c): made read-only in
 * the EPT (0, or -1 when the EPT has no room), and each guest write to it
 * decoded and done on the guest's behalf.
 */
int vmx_apic_page_protect(void);
void vmx_handle_apic_page_write(struct guest_regs *r, struct percpu *cpu, uint64_t gpa);

/*
 * EPT shootdown (vmx/ept_shootdown.c). After a change to the shared EPT that
 * every CPU must see before the guest goes on, vmx_ept_shootdown flushes this
 * CPU and waits until every other one has flushed or is out of the guest.
 * Every VM exit calls vmx_ept_left_guest first; every VM entry is preceded by
 * vmx_ept_sync_before_entry. Those two run at every exit, so they are inline
 * here; the ordering they keep is explained in ept_shootdown.c.
 */
void vmx_ept_shootdown(struct percpu *self);
bool vmx_ept_generation(uint32_t cpu, uint64_t *flushed, uint64_t *current, bool *in_guest);
extern volatile uint64_t vmx_ept_current_generation;
void vmx_ept_flush_for(struct vmx_cpu *v, uint64_t gen);

/*
 * At every VM exit: this CPU runs no guest code until its next entry. A plain
 * release store: nothing this CPU does before its next entry depends on
 * others seeing it at once (the entry's store is the one that must be seq_cst).
 */
static inline void vmx_ept_left_guest(struct percpu *cpu)
{
    __atomic_store_n(&cpu->vcpu.in_guest, false, __ATOMIC_RELEASE);
}

/* Before every VM entry: from here on this CPU may run guest code with the current EPT. */
static inline void vmx_ept_sync_before_entry(struct percpu *cpu, bool runs_guest_code)
{
    struct vmx_cpu *v = cpu->vmx;
    __atomic_store_n(&cpu->vcpu.in_guest, runs_guest_code, __ATOMIC_SEQ_CST);
    uint64_t gen = __atomic_load_n(&vmx_ept_current_generation, __ATOMIC_SEQ_CST);
    if (v->ept_generation != gen)
        vmx_ept_flush_for(v, gen);
}

/* Whether NMI exiting is on, so that a kick (smp/kick.c) makes a CPU leave the guest. */
bool vmx_can_kick(void);

/*
 * The store instruction at the guest's CS:RIP, fetched through its page
 * tables and decoded (vmx/guest_insn.c); `insn` gets the bytes read, *got
 * their number. 0, or -1 when it is no store thinvisor can decode.
 */
int vmx_decode_guest_store(struct mmio_store *st, uint8_t insn[INSN_MAX_LEN], unsigned *got);

/* Dumps the guest state and stops this CPU for good; the others go on. */
void vmx_stop_cpu(struct percpu *cpu, uint32_t reason) __attribute__((noreturn));

/*
 * The status area (vmx/status.c), which both backends publish: pages it
 * needs for ncpus (for the region budget); setup on the BSP once the guest's
 * EPT or NPT exists, mapping the area read-only into that tree (0, or -1: no
 * room); CPU i's counters, and one of them for the hypercall (~0 when out
 * of range: the backends' guest_backend_ops.exit_count); the launch time;
 * whether gpa is one of its read-only pages.
 */
uint64_t vmx_status_pages(uint32_t ncpus);
int vmx_status_setup(struct ept *tree);
struct tv_status_cpu *vmx_status_cpu(uint32_t index);
uint64_t vmx_status_exit_count(uint32_t cpu, uint32_t reason);
void vmx_status_guest_launched(uint64_t tsc);
bool vmx_status_contains(uint64_t gpa);

/*
 * Logs CPU i's exit counts by reason, from its status-area record (the
 * "exits:" lines test_exit runs end with; vmx/stats.c), then the tallies
 * the backend keeps beside them.
 */
void status_log_exit_counts(uint32_t cpu, uint64_t hidden_accesses, uint64_t kicks);
void vmx_log_exit_counts(void);

extern const struct guest_backend_ops vmx_backend_ops;

int vmx_launch(const struct guest_regs *regs);

#endif
