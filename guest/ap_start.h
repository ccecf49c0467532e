/*
 * The guest's INIT and SIPI, emulated on this machine (guest/init_sipi.h is
 * the state machine; this binds it to kicks, the local APIC and the
 * platform reset), and the guest's ICR writes that bring them: the x2APIC
 * MSR and the xAPIC page, which the backend intercepts.
 */
#ifndef THINVISOR_AP_START_H
#define THINVISOR_AP_START_H

#include <stdbool.h>
#include <stdint.h>

#include "smp/percpu.h"

/*
 * Waits in the host until the guest's SIPI for this AP arrives; returns its
 * vector. From here the AP counts as running. It halts meanwhile, woken by
 * the SIPI's sender, when the machine can kick (`can_kick`, as for
 * guest_emulate_init_sipi); else it spins.
 */
uint8_t ap_wait_for_sipi(struct percpu *cpu, bool can_kick);

/* Whether the guest sent this AP an INIT that it has not taken yet. */
bool ap_init_pending(struct percpu *cpu);

/*
 * The same at the end of an exit whose vcpu.exit_work was not clear: the
 * backend's cue to take the INIT (init_sipi_init_sent).
 */
bool ap_init_sent(struct percpu *cpu);

/*
 * A guest ICR write from `sender`, in x2APIC layout: init_sipi_deliver on
 * every CPU. True when it was an INIT or SIPI and has been handled; false
 * when the caller must send it to the real APIC. INIT to the boot processor
 * resets the platform. A running AP is kicked to take its INIT when
 * `can_kick`; otherwise a real INIT drives it out.
 */
bool guest_emulate_init_sipi(struct percpu *sender, uint64_t icr, bool can_kick);

/*
 * A guest WRMSR of `value` to the x2APIC ICR, done for it: INIT and SIPI
 * emulated, any other IPI sent. False when it must #GP instead, as the CPU
 * would: the APIC is not in x2APIC mode, or a reserved bit is set.
 */
bool guest_x2apic_icr_write(struct percpu *cpu, uint64_t value, bool can_kick);

/*
 * The write-protected xAPIC page as the target of an emulated store
 * (guest/mmio_emulate.h, with a struct xapic_store as its ctx): a write of
 * an ICR register goes through guest_emulate_init_sipi, any other register
 * to the APIC; reads come from the APIC. The xAPIC's registers are 32 bits
 * at 16-byte boundaries (SDM Vol. 3A, 11.4.1): a narrower or misaligned
 * access is undefined there; it is dropped (reads 0), as most APICs do.
 */
struct xapic_store {
    struct percpu *cpu;           /* the writer */
    uint64_t page;                /* the page, IA32_APIC_BASE's */
    bool can_kick;
};

uint64_t guest_xapic_read(void *ctx, unsigned offset, unsigned size);
void guest_xapic_write(void *ctx, unsigned offset, unsigned size, uint64_t value);

#endif
