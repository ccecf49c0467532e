/* Leaving virtualization at run time (see leave.h). */
#include "guest/leave.h"

#include "abi/hypercall.h"
#include "guest/backend.h"
#include "guest/status.h"
#include "kernel/cr_bits.h"
#include "kernel/log.h"
#include "kernel/spinlock.h"
#include "kernel/string.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/kick.h"
#include "smp/lapic.h"

/*
 * The stubs' pages get mapped in thinvisor's tables, which map nothing at
 * their addresses: a PDPT, a PD and a PT cover them while they lie in one
 * 2 MiB (thinctl's do); taken at launch, so that leaving never allocates.
 */
#define LEAVE_TABLE_PAGES 3
/* Wrong tokens from CPL 3 before a guessable token's call stops answering to CPL 3 at all. */
#define LEAVE_MAX_WRONG_TOKENS 16
/* How long the last CPU gives another to leave before its INIT anyway, waking it this often. */
#define LEAVE_WAITING_TIMEOUT_US 10000000
#define LEAVE_WAKE_AGAIN_US      10000

#define PTE_USER (1ull << 2)
#define PTE_XD   (1ull << 63)
#define TSS_BUSY (1u << 1)      /* in the type field, byte 5 of a TSS descriptor */

static struct page_alloc table_pages;
static struct pt_ctx tables = { .alloc = &table_pages, .phys_to_virt = hv_identity };
static uint64_t token;
static bool token_guessable;     /* no RDRAND: wrong tries from CPL 3 are counted, and end it */
static uint32_t wrong_tokens;
static volatile int lock;
static volatile bool waiting_asked;
static const struct backend *backend;
static bool la57_ready;         /* a guest with 5-level paging can leave */

/* guest/leave_stub.asm: the way through 5-level paging, and what it reads. */
extern const uint8_t leave_la57_entry[], leave_la57_long[], leave_la57_gdt[];
extern uint64_t leave_la57_pml5, leave_la57_gdtr_base;
extern struct __attribute__((packed)) { uint32_t offset; uint16_t selector; } leave_la57_far;

uint64_t leave_budget(void)
{
    return (LEAVE_TABLE_PAGES + 1) * 4096ull;      /* and a PML5 */
}

/*
 * Where the CPU supports 5-level paging, so that an OS may use it: a PML5
 * over thinvisor's PML4 (entry 0 for the identity map and the stubs' pages,
 * 511 for the image at KERNEL_VBASE), and the switch code's words filled.
 * It runs with paging off, so the code, its GDT and the PML5 must lie below
 * 4 GiB: the region does on every machine tested, else leaving such an OS is
 * refused (TV_STATUS_UNSUPPORTED), with a warning now.
 */
static void la57_setup(void)
{
    if (!(cpuid(7, 0).ecx & (1u << 16)))
        return;
    uint64_t *pml5 = hv_alloc_pages(1, "leaving: a PML5 for an OS with 5-level paging");
    uint64_t pml5_phys = virt_to_phys_identity(pml5);
    if (pml5_phys >= 1ull << 32 || image_virt_to_phys(leave_la57_long) >= 1ull << 32 ||
        image_virt_to_phys(&leave_la57_gdtr_base) >= 1ull << 32) {
        log_warn("leaving: thinvisor lies above 4 GiB: an OS with 5-level paging cannot be "
                 "left at run time\n");
        return;
    }
    pml5[0] = pml5[511] = hv_memory.pml4 | PTE_PRESENT | PTE_WRITABLE;
    leave_la57_pml5 = pml5_phys;
    leave_la57_far.offset = (uint32_t)image_virt_to_phys(leave_la57_long);
    leave_la57_gdtr_base = image_virt_to_phys(leave_la57_gdt);
    la57_ready = true;
}

uint64_t leave_via(const struct leave_request *q)
{
    return q->paging.cr4 & CR4_LA57 ? image_virt_to_phys(leave_la57_entry) : 0;
}

/* A token only the status area holds: RDRAND where the CPU has it, else the TSC mixed. */
void leave_setup(const struct backend *b)
{
    backend = b;
    void *pages = hv_alloc_pages(LEAVE_TABLE_PAGES, "leaving: page tables for the stubs");
    page_alloc_init(&table_pages, virt_to_phys_identity(pages), LEAVE_TABLE_PAGES * 4096ull);
    la57_setup();
    if (!rdrand64(&token)) {
        token = rdtsc() * 0x9E3779B97F4A7C15ull;
        token ^= token >> 29;
        token_guessable = true;
        log_warn("leaving: no RDRAND: the off token comes from the TSC (%u wrong tries from "
                 "CPL 3 disable the call)\n", LEAVE_MAX_WRONG_TOKENS);
    }
    token |= 1;                                  /* never 0, which a careless caller passes */
    status_set_off_token(token);
}

/* Where the guest's entry for the page is, and the page; false when it is not usable. */
static bool find_page(const struct leave_request *q, uint64_t *pte_gpa, uint64_t *page_pa)
{
    uint64_t pte;
    if (!guest_pte_address(&q->paging, q->page, hv_read_guest_phys, NULL, pte_gpa) ||
        !hv_read_guest_phys(*pte_gpa, &pte, sizeof pte, NULL))
        return false;
    *page_pa = pte & PTE_ADDR_MASK;
    return !hv_region_overlaps(*page_pa, 4096) && *page_pa + 4096 <= hv_memory.identity_top;
}

uint32_t leave_check(struct percpu *cpu, const struct leave_request *q)
{
    /*
     * A guessable token (no RDRAND) must not be guessed: after a few wrong
     * ones CPL 3 is refused for good. A random one is never worth a lockout,
     * which would let any user take `thinctl off` away from root.
     */
    spin_lock(&lock);
    bool refused = q->cpl != 0 && wrong_tokens >= LEAVE_MAX_WRONG_TOKENS;
    if (!refused && q->token != token && q->cpl != 0 && token_guessable &&
        ++wrong_tokens == LEAVE_MAX_WRONG_TOKENS)
        log_warn("leaving: %u wrong tokens from CPL 3: TV_HC_OFF answers only CPL 0 from now "
                 "on\n", LEAVE_MAX_WRONG_TOKENS);
    spin_unlock(&lock);
    if (refused || q->token != token)
        return q->cpl != 0 ? LEAVE_UD : TV_STATUS_BAD_ARGUMENT;

    /* 64-bit mode; 5-level paging where la57_setup could prepare the switch to it. */
    const struct guest_paging *p = &q->paging;
    if (!(p->efer & EFER_LMA) || !(p->cr0 & CR0_PG) || ((p->cr4 & CR4_LA57) && !la57_ready))
        return TV_STATUS_UNSUPPORTED;
    uint64_t pte_gpa, page_pa;
    if ((q->page & 0xFFF) || q->page >= 1ull << 47 ||
        pt_translate(&hv_memory.pt, hv_memory.pml4, q->page) != -1 ||
        !find_page(q, &pte_gpa, &page_pa))
        return TV_STATUS_BAD_ARGUMENT;
    if (q->event_due || cpu->vcpu.park)
        return TV_STATUS_AGAIN;
    return TV_STATUS_OK;
}

/* The guest's TSS descriptor made available again, so that the stub's LTR can load it. */
static bool clear_tss_busy(const struct leave_request *q, const struct leave_frame *f)
{
    uint64_t gpa;
    uint8_t type;
    if (!guest_linear_to_phys(&q->paging, f->gdtr.base + (f->tr & ~7u) + 5, hv_read_guest_phys,
                              NULL, &gpa) ||
        !hv_read_guest_phys(gpa, &type, 1, NULL))
        return false;
    *(volatile uint8_t *)hv_identity(gpa) = type & ~TSS_BUSY;
    return true;
}

/*
 * On the last CPU to leave, before its own way out: every other CPU leaves in
 * the host and halts there, one waiting for a SIPI woken by `wake`, one in
 * the guest's code kicked out to the park check at the end of its exit (which
 * also catches one that waits but is in the host just now, where a SIPI would
 * be lost). A wake can go unheard (a kick taken in the host, a SIPI outside
 * wait-for-SIPI), so it goes again until the CPU has left. Then an INIT puts
 * it in wait-for-SIPI, natively, where the OS's next INIT-SIPI-SIPI finds it.
 */
static void take_other_cpus_out(struct percpu *self, void (*wake)(struct percpu *c))
{
    __atomic_store_n(&waiting_asked, true, __ATOMIC_SEQ_CST);
    for (uint32_t i = 0; i < cpu_count; i++) {
        struct percpu *c = cpus[i];
        if (c == self || c->vcpu.left)
            continue;
        __atomic_store_n(&c->vcpu.park, true, __ATOMIC_SEQ_CST);
        uint64_t give_up = tsc_deadline(LEAVE_WAITING_TIMEOUT_US);
        while (!__atomic_load_n(&c->vcpu.left, __ATOMIC_ACQUIRE) && rdtsc() < give_up) {
            if (c->vcpu.waiting_for_sipi)
                wake(c);
            else
                kick_cpu(c);
            uint64_t again = tsc_deadline(LEAVE_WAKE_AGAIN_US);
            while (!__atomic_load_n(&c->vcpu.left, __ATOMIC_ACQUIRE) && rdtsc() < again)
                cpu_relax();
        }
        if (!c->vcpu.left)
            log_warn("leaving: CPU %u did not leave: sending its INIT anyway\n", c->index);
        lapic_send_ipi(c->apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
    }
}

static bool runs_guest_code(const struct percpu *c)
{
    return !c->vcpu.left && !c->vcpu.waiting_for_sipi;
}

static uint32_t cpus_that_left(void)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < cpu_count; i++)
        n += cpus[i]->vcpu.left;
    return n;
}

uint32_t leave_commit(struct percpu *cpu, const struct leave_request *q, struct leave_frame *f)
{
    uint64_t pte_gpa, page_pa;
    spin_lock(&lock);
    bool last = true;                /* the caller says so, or no other CPU runs guest code */
    for (uint32_t i = 0; i < cpu_count && !q->last; i++)
        if (cpus[i] != cpu && runs_guest_code(cpus[i]))
            last = false;
    if (last) {
        /* First, so that the page is checked and written right before this CPU runs it. */
        take_other_cpus_out(cpu, q->wake_waiting);
        if (cpu->vcpu.nmi_pending) {             /* came meanwhile: delivered, then again */
            spin_unlock(&lock);
            return TV_STATUS_AGAIN;
        }
    }
    if (!find_page(q, &pte_gpa, &page_pa) ||
        pt_map(&tables, hv_memory.pml4, q->page, page_pa, 4096, 4096,
               PTE_PRESENT | PTE_WRITABLE) != 0) {
        spin_unlock(&lock);
        log_warn("leaving: CPU %u: no room to map the page at %#llx (one page per CPU, all in "
                 "one 2 MiB)\n", cpu->index, (unsigned long long)q->page);
        return TV_STATUS_UNSUPPORTED;
    }
    if ((f->flags & LEAVE_LOAD_SEGMENTS) && f->tr && !clear_tss_busy(q, f)) {
        spin_unlock(&lock);
        return TV_STATUS_UNSUPPORTED;
    }
    /* From here on the guest's page is the stub's: a supervisor page it may execute. */
    __atomic_fetch_and((uint64_t *)hv_identity(pte_gpa), ~(PTE_USER | PTE_XD), __ATOMIC_SEQ_CST);
    uint8_t *page = hv_identity(page_pa);
    memcpy(page, leave_stub, (size_t)(leave_stub_end - leave_stub));
    f->gprs.rax = TV_STATUS_OK;
    memcpy(page + leave_frame_offset, f, sizeof *f);

    __atomic_store_n(&cpu->vcpu.stopped, true, __ATOMIC_RELEASE);   /* kick_wait gives up on it */
    __atomic_store_n(&cpu->vcpu.left, true, __ATOMIC_RELEASE);
    status_cpu_left();
    log_info("leaving: CPU %u runs natively from its next instruction (%#llx, CPL %u%s)\n",
             cpu->index, (unsigned long long)f->rip, q->cpl,
             q->paging.cr4 & CR4_LA57 ? ", 5-level paging" : "");
    if (last) {
        status_all_left(rdtsc());
        status_log_exit_counts();
        log_info("leaving: thinvisor is off: %u of %u CPU(s) run natively; its region "
                 "%#llx-%#llx stays reserved\n", cpus_that_left(), cpu_count,
                 (unsigned long long)hv_memory.base,
                 (unsigned long long)(hv_memory.base + hv_memory.size - 1));
    }
    spin_unlock(&lock);
    return TV_STATUS_OK;
}

bool leave_waiting_cpus_asked(void)
{
    return __atomic_load_n(&waiting_asked, __ATOMIC_ACQUIRE);
}

void leave_waiting_cpu(struct percpu *cpu)
{
    if (backend->leave_cpu(cpu, NULL) != 0)
        log_error("leaving: CPU %u: could not turn virtualization off\n", cpu->index);
    __atomic_store_n(&cpu->vcpu.stopped, true, __ATOMIC_RELEASE);
    __atomic_store_n(&cpu->vcpu.left, true, __ATOMIC_RELEASE);
    status_cpu_left();
    halt_until_init();
}
