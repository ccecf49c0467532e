/*
 * What thinvisor does when the EPT or NPT refuses a guest access, whatever
 * the backend: the one policy for the hidden region, the status area, the
 * read-only xAPIC page and MMIO above the identity map. The backend reads
 * the fault out of its exit information, calls guest_gpa_fault, and carries
 * out the outcome in its own terms (a flush, a step over the instruction,
 * an injected #UD, a stopped CPU).
 */
#ifndef THINVISOR_GPA_FAULT_H
#define THINVISOR_GPA_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/regs.h"
#include "mm/guest_walk.h"
#include "smp/percpu.h"

struct gpa_fault {
    uint64_t gpa;                 /* the guest-physical address accessed */
    bool write, fetch;            /* a write; an instruction fetch (else a read) */
    bool in_delivery;             /* by an event's delivery (its frame, IDT), not by the instruction at RIP */
    /*
     * Where the guest's code is, its RSP and RFLAGS, read out of the VMCS or
     * VMCB only when the instruction must be looked at (a store to emulate,
     * a report): the exit itself says at most what its bytes were (insn).
     */
    void (*read_state)(struct guest_code_at *at, uint64_t *rsp, uint64_t *rflags, void *ctx);
    void *ctx;
    /*
     * The instruction's bytes where the exit gave them (SVM's decode assists,
     * on a data nested page fault); insn_len 0 where it did not: a store to
     * emulate then fetches them through the guest's page tables.
     */
    const uint8_t *insn;
    unsigned insn_len;
    /*
     * Out, with GPA_STEP and GPA_AGAIN: the instruction's length, and RSP and
     * RFLAGS where the instruction changed them (the other GPRs are updated
     * in the guest_regs given).
     */
    unsigned length;
    bool rsp_written, rflags_written;
    uint64_t rsp, rflags;
};

/*
 * A fault as the exit describes it, the rest empty (no instruction bytes, no
 * outputs). Field by field: a compound literal would clear all of the struct
 * first, on every fault, the xAPIC page's stores above all.
 */
static inline void gpa_fault_init(struct gpa_fault *f, uint64_t gpa, bool write, bool fetch,
                                  bool in_delivery,
                                  void (*read_state)(struct guest_code_at *, uint64_t *,
                                                     uint64_t *, void *),
                                  void *ctx)
{
    f->gpa = gpa;
    f->write = write;
    f->fetch = fetch;
    f->in_delivery = in_delivery;
    f->read_state = read_state;
    f->ctx = ctx;
    f->insn = NULL;
    f->insn_len = 0;
    f->length = 0;
    f->rsp_written = f->rflags_written = false;
}

enum gpa_fault_outcome {
    GPA_RETRY,        /* the tree changed (a dummy page, MMIO mapped): flush, the guest retries */
    GPA_STEP,         /* the store was done or dropped for the guest: step over f->length */
    GPA_AGAIN,        /* one iteration of a REP STOS done: RIP stays, the guest runs it again */
    GPA_INJECT_UD,    /* the bytes at RIP are no instruction: #UD, as the CPU would give */
    GPA_STOP,         /* no harmless answer (logged): this CPU stops */
};

/*
 * Decides and does what the access needs: a write to the read-only xAPIC
 * page is emulated (guest/mmio_emulate.c) and its register write performed
 * (guest/ap_start.c); a write to the status area is emulated with the write
 * dropped, as a ROM drops it; any other access to the hypervisor region
 * (or to the IOMMU's registers, hidden likewise) is
 * counted, logged once and shown a dummy page, so the guest goes on without
 * seeing or changing anything of ours (a fetch from it stops the CPU); an
 * access above the identity map is MMIO and gets mapped. `r` are the guest's
 * GPRs; can_kick as guest_emulate_init_sipi's.
 */
enum gpa_fault_outcome guest_gpa_fault(struct percpu *cpu, struct guest_regs *r,
                                       struct gpa_fault *f, bool can_kick);

#endif
