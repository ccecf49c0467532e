/* The guest-physical fault policy of every backend (see gpa_fault.h). */
#include "guest/gpa_fault.h"

#include "guest/ap_start.h"
#include "guest/memory.h"
#include "guest/mmio_emulate.h"
#include "guest/status.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/spinlock.h"
#include "mm/hv_memory.h"

/* This CPU's decoded-instruction cache, in its per-CPU block (smp/percpu.h). */
_Static_assert(sizeof(struct insn_cache) <= PERCPU_GUEST_BYTES,
               "the decode cache outgrew struct percpu's guest_area");
static struct insn_cache *decode_cache(struct percpu *cpu)
{
    return (struct insn_cache *)cpu->guest_area;
}

/*
 * A store to a page thinvisor write-protects, emulated against `t`: the
 * instruction at the guest's CS:RIP, as the exit gave its bytes (SVM's decode
 * assists) or fetched through the guest's page tables, then
 * guest/mmio_emulate.c on the guest's registers, which go back where the
 * instruction changed them. `what` names the page in the log. An instruction
 * it does not emulate is stepped over, its write dropped, and said once; no
 * instruction at all is #UD, as on the CPU.
 */
static enum gpa_fault_outcome emulate_store(struct percpu *cpu, struct guest_regs *r,
                                            struct gpa_fault *f, const struct mmio_target *t,
                                            const char *what)
{
    static bool said_unsupported, said_undecodable;
    struct guest_code_at at;
    uint8_t fetched[INSN_MAX_LEN];
    const uint8_t *insn = f->insn;
    unsigned got = f->insn_len;
    struct mmio_result res;
    f->read_state(&at, &f->rsp, &f->rflags, f->ctx);
    struct mmio_regs m = { .gpr = r, .rsp = f->rsp, .rflags = f->rflags };
    const struct insn *x = got ? insn_decode_cached(decode_cache(cpu), insn, got, at.mode) : NULL;
    if (x) {
        cpu->vcpu.stores_from_exit_bytes++;
    } else {
        /* None given, or too few for the instruction (the APM promises "up to 15"): fetched. */
        got = guest_fetch_code(&at, hv_read_guest_phys, NULL, fetched);
        insn = fetched;
        x = insn_decode_cached(decode_cache(cpu), insn, got, at.mode);
    }
    enum mmio_outcome o = x ? mmio_emulate_insn(x, (unsigned)(f->gpa & 0xFFF), t, &m, &res)
                            : MMIO_UNDECODABLE;
    if (o == MMIO_UNDECODABLE || o == MMIO_UNSUPPORTED) {
        bool *said = o == MMIO_UNDECODABLE ? &said_undecodable : &said_unsupported;
        if (!*said) {
            *said = true;
            log_warn("CPU %u: the guest's write to %s at %#llx (RIP %#llx, %u byte(s) readable, "
                     "first %02x %02x %02x %02x) is %s (reported once)\n", cpu->index, what,
                     (unsigned long long)f->gpa, (unsigned long long)at.rip, got,
                     got > 0 ? insn[0] : 0, got > 1 ? insn[1] : 0, got > 2 ? insn[2] : 0,
                     got > 3 ? insn[3] : 0,
                     o == MMIO_UNDECODABLE ? "no instruction: #UD"
                                           : "no store thinvisor emulates: dropped, stepped over");
        }
        if (o == MMIO_UNDECODABLE)
            return GPA_INJECT_UD;
        f->length = res.length;
        return GPA_STEP;
    }
    f->rsp_written = m.rsp != f->rsp;
    f->rsp = m.rsp;
    f->rflags_written = m.rflags != f->rflags;
    f->rflags = m.rflags;
    f->length = res.length;
    return o == MMIO_AGAIN ? GPA_AGAIN : GPA_STEP;
}

/* The read-only status area as a store's target: reads see it, writes are dropped. */
static uint64_t status_read(void *ctx, unsigned offset, unsigned size)
{
    const uint8_t *page = ctx;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)page[offset + i] << (8 * i);
    return v;
}

static void status_write(void *ctx, unsigned offset, unsigned size, uint64_t value)
{
    (void)ctx, (void)offset, (void)size, (void)value;
}

/* A write to the write-protected xAPIC page: done for the guest (guest/ap_start.c). */
static enum gpa_fault_outcome apic_page_write(struct percpu *cpu, struct guest_regs *r,
                                              struct gpa_fault *f, bool can_kick)
{
    struct xapic_store x = { cpu, guest_memory.apic_page, can_kick };
    struct mmio_target t = { guest_xapic_read, guest_xapic_write, &x };
    return emulate_store(cpu, r, f, &t, "its local APIC");
}

/* A write to the read-only status area or log ring: dropped, as a ROM drops it. */
static enum gpa_fault_outcome status_area_write(struct percpu *cpu, struct guest_regs *r,
                                                struct gpa_fault *f)
{
    static bool logged;
    cpu->vcpu.hidden_accesses++;
    if (!logged) {
        logged = true;
        log_warn("CPU %u: guest wrote to the read-only status area at %#llx; dropped (reported "
                 "once)\n", cpu->index, (unsigned long long)f->gpa);
    }
    struct mmio_target t = { status_read, status_write, phys_to_virt(f->gpa & ~0xFFFull) };
    return emulate_store(cpu, r, f, &t, "the status area");
}

/*
 * A read or write of the hidden region or of an IOMMU unit's registers:
 * from now on that page shows the guest a dummy page.
 */
static void show_dummy_page(struct percpu *cpu, struct gpa_fault *f, bool in_region)
{
    static bool logged[2];        /* [1]: the region, [0]: the IOMMU's registers */
    cpu->vcpu.hidden_accesses++;
    if (!logged[in_region]) {
        struct guest_code_at at;
        uint64_t rsp, rflags;
        logged[in_region] = true;
        f->read_state(&at, &rsp, &rflags, f->ctx);
        log_warn("CPU %u: guest %s %s at %#llx (RIP %#llx); it sees a dummy page "
                 "(reported once)\n", cpu->index, f->write ? "wrote" : "read",
                 in_region ? "hypervisor memory" : "the IOMMU's registers",
                 (unsigned long long)f->gpa, (unsigned long long)at.rip);
    }
    spin_lock(&guest_memory.lock);
    int rc = ept_map_page(&guest_memory.tree, f->gpa & ~0xFFFull, guest_memory.dummy_page, MT_WB);
    spin_unlock(&guest_memory.lock);
    if (rc != 0)
        panic("%s: cannot map the dummy page (region exhausted)",
              guest_memory_tree_name());
}

/*
 * An event's delivery that writes its frame to a page whose stores thinvisor
 * emulates (the guest's stack on its APIC page or the status area): the
 * store is not the instruction at RIP's, and the delivery cannot be done by
 * hand. Only a broken or hostile guest does this; its CPU stops, loudly,
 * rather than have an unrelated instruction emulated and stepped over.
 */
static enum gpa_fault_outcome delivery_write(struct percpu *cpu, struct gpa_fault *f)
{
    log_error("CPU %u: the guest's event delivery wrote to %#llx, a page whose stores "
              "thinvisor emulates\n", cpu->index, (unsigned long long)f->gpa);
    return GPA_STOP;
}

enum gpa_fault_outcome guest_gpa_fault(struct percpu *cpu, struct guest_regs *r,
                                       struct gpa_fault *f, bool can_kick)
{
    struct guest_memory *m = &guest_memory;
    /* The APIC page first: its stores (every EOI) are by far the most frequent fault. */
    if (f->write && m->apic_page && (f->gpa & ~0xFFFull) == m->apic_page)
        return f->in_delivery ? delivery_write(cpu, f) : apic_page_write(cpu, r, f, can_kick);
    if (f->write && status_contains(f->gpa))
        return f->in_delivery ? delivery_write(cpu, f) : status_area_write(cpu, r, f);
    bool in_region = hv_region_overlaps(f->gpa, 1);
    bool hidden = in_region || guest_memory_is_hidden(f->gpa);
    if (hidden && f->fetch) {
        /* Executing from hidden memory has no harmless answer: stop this CPU, loudly. */
        log_error("CPU %u: guest executes %s at %#llx\n", cpu->index,
                  in_region ? "hypervisor memory" : "the IOMMU's registers",
                  (unsigned long long)f->gpa);
        return GPA_STOP;
    }
    if (hidden) {
        show_dummy_page(cpu, f, in_region);
        return GPA_RETRY;
    }
    if (f->gpa >= m->mapped_top) {
        spin_lock(&m->lock);
        int rc = ept_map_on_demand(&m->tree, f->gpa, &m->mtrr);
        spin_unlock(&m->lock);
        if (rc != 0)
            panic("%s: cannot map %#llx on demand (region exhausted or beyond MAXPHYADDR)",
                  guest_memory_tree_name(), (unsigned long long)f->gpa);
        return GPA_RETRY;
    }
    log_error("CPU %u: %s violation at %#llx inside the identity map (%s)\n", cpu->index,
              guest_memory_tree_name(), (unsigned long long)f->gpa,
              f->fetch ? "fetch" : f->write ? "write" : "read");
    return GPA_STOP;
}
