/* The guest-physical fault policy of every backend (see gpa_fault.h). */
#include "guest/gpa_fault.h"

#include "guest/ap_start.h"
#include "guest/memory.h"
#include "guest/mmio_decode.h"
#include "guest/status.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/spinlock.h"
#include "mm/hv_memory.h"

/* The store instruction at the guest's CS:RIP, fetched through its page tables and decoded. */
static int decode_store(struct gpa_fault *f, struct guest_code_at *at, struct mmio_store *st,
                        uint8_t insn[INSN_MAX_LEN], unsigned *got)
{
    f->read_code(at, &f->rsp, f->ctx);
    *got = guest_fetch_code(at, hv_read_guest_phys, NULL, insn);
    return mmio_decode_store(insn, *got, at->mode, st);
}

/*
 * A write to the write-protected xAPIC page: done for the guest. One that
 * cannot be decoded stops this CPU, with the bytes it could read.
 */
static enum gpa_fault_outcome apic_page_write(struct percpu *cpu, struct guest_regs *r,
                                              struct gpa_fault *f, bool can_kick)
{
    uint8_t insn[INSN_MAX_LEN];
    unsigned got;
    struct mmio_store st;
    struct guest_code_at at;
    if (decode_store(f, &at, &st, insn, &got) != 0) {
        log_error("CPU %u: cannot emulate the guest's write to its local APIC at %#llx: RIP "
                  "%#llx, %u byte(s) readable, first %02x %02x %02x %02x\n", cpu->index,
                  (unsigned long long)f->gpa, (unsigned long long)at.rip, got, got > 0 ? insn[0] : 0,
                  got > 1 ? insn[1] : 0, got > 2 ? insn[2] : 0, got > 3 ? insn[3] : 0);
        return GPA_STOP;
    }
    uint64_t rsp = f->rsp;
    uint64_t *reg = st.kind == MMIO_MOV_IMM ? NULL : guest_gpr(r, st.reg, &f->rsp);
    guest_xapic_store(cpu, guest_memory.apic_page, (unsigned)(f->gpa & 0xFFF), &st, reg,
                      can_kick);
    f->rsp_written = f->rsp != rsp;
    f->length = st.length;
    return GPA_STEP;
}

/* A write to the read-only status area or log ring: dropped, the guest steps over it. */
static enum gpa_fault_outcome status_write(struct percpu *cpu, struct gpa_fault *f)
{
    static bool logged;
    uint8_t insn[INSN_MAX_LEN];
    unsigned got;
    struct mmio_store st;
    struct guest_code_at at;
    cpu->vcpu.hidden_accesses++;
    if (!logged) {
        logged = true;
        log_warn("CPU %u: guest wrote to the read-only status area at %#llx; dropped (reported "
                 "once)\n", cpu->index, (unsigned long long)f->gpa);
    }
    if (decode_store(f, &at, &st, insn, &got) != 0)
        return GPA_INJECT_GP;
    f->length = st.length;
    return GPA_STEP;
}

/* A read or write of the hidden region: from now on that page shows the guest a dummy page. */
static void show_dummy_page(struct percpu *cpu, struct gpa_fault *f)
{
    static bool logged;
    cpu->vcpu.hidden_accesses++;
    if (!logged) {
        struct guest_code_at at;
        uint64_t rsp;
        logged = true;
        f->read_code(&at, &rsp, f->ctx);
        log_warn("CPU %u: guest %s hypervisor memory at %#llx (RIP %#llx); it sees a dummy page "
                 "(reported once)\n", cpu->index, f->write ? "wrote" : "read",
                 (unsigned long long)f->gpa, (unsigned long long)at.rip);
    }
    spin_lock(&guest_memory.lock);
    int rc = ept_map_page(&guest_memory.tree, f->gpa & ~0xFFFull, guest_memory.dummy_page, MT_WB);
    spin_unlock(&guest_memory.lock);
    if (rc != 0)
        panic("%s: cannot map the dummy page (region exhausted)",
              guest_memory.tree.npt ? "NPT" : "EPT");
}

enum gpa_fault_outcome guest_gpa_fault(struct percpu *cpu, struct guest_regs *r,
                                       struct gpa_fault *f, bool can_kick)
{
    struct guest_memory *m = &guest_memory;
    bool in_region = f->gpa >= hv_memory.base && f->gpa < hv_memory.base + hv_memory.size;
    if (m->apic_page && (f->gpa & ~0xFFFull) == m->apic_page && f->write)
        return apic_page_write(cpu, r, f, can_kick);
    if (status_contains(f->gpa) && f->write)
        return status_write(cpu, f);
    if (in_region && f->fetch) {
        /* Executing from hidden memory has no harmless answer: stop this CPU, loudly. */
        log_error("CPU %u: guest executes hypervisor memory at %#llx\n", cpu->index,
                  (unsigned long long)f->gpa);
        return GPA_STOP;
    }
    if (in_region) {
        show_dummy_page(cpu, f);
        return GPA_RETRY;
    }
    if (f->gpa >= m->mapped_top) {
        spin_lock(&m->lock);
        int rc = ept_map_on_demand(&m->tree, f->gpa, &m->mtrr);
        spin_unlock(&m->lock);
        if (rc != 0)
            panic("%s: cannot map %#llx on demand (region exhausted or beyond MAXPHYADDR)",
                  m->tree.npt ? "NPT" : "EPT", (unsigned long long)f->gpa);
        return GPA_RETRY;
    }
    log_error("CPU %u: %s violation at %#llx inside the identity map (%s)\n", cpu->index,
              m->tree.npt ? "NPT" : "EPT", (unsigned long long)f->gpa,
              f->fetch ? "fetch" : f->write ? "write" : "read");
    return GPA_STOP;
}
