/*
 * Local APIC access for AP start-up. The hypervisor uses the APIC only to
 * send IPIs; it never enables interrupts or programs the APIC timer.
 */
#include "smp/lapic.h"

#include "kernel/log.h"
#include "kernel/phys.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16 (SDM Vol. 3A, 11.12.1.2). */
#define XAPIC_ID       0x020
#define APIC_VERSION   0x030
#define APIC_TPR       0x080
#define APIC_EOI       0x0B0
#define APIC_LDR       0x0D0
#define APIC_DFR       0x0E0
#define APIC_SVR       0x0F0
#define APIC_ISR       0x100           /* 8 registers, 0x10 apart */
#define APIC_ESR       0x280
#define APIC_LVT_CMCI  0x2F0
#define XAPIC_ICR_LOW  0x300
#define XAPIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF  0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_DIVIDE  0x3E0
#define APIC_LVT_MASKED (1u << 16)
#define X2APIC_MSR_ID  0x802

static bool x2apic;
static volatile uint32_t *mmio;

static uint32_t xapic_read(uint32_t reg) { return mmio[reg / 4]; }
static void xapic_write(uint32_t reg, uint32_t v) { mmio[reg / 4] = v; }

static bool cpu_has_x2apic(void)
{
    return cpuid(1, 0).ecx & (1u << 21);
}

bool lapic_init_bsp(uint64_t mmio_phys, uint32_t max_apic_id, bool want_x2apic)
{
    if (!(cpuid(1, 0).edx & (1u << 9))) {
        log_error("CPU has no local APIC; application processors cannot be started\n");
        return false;
    }
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) {
        log_warn("local APIC was disabled by firmware; enabling it\n");
        base |= APIC_BASE_ENABLE;
        wrmsr(MSR_IA32_APIC_BASE, base);
    }
    if (base & APIC_BASE_EXTD) {
        x2apic = true;
    } else if (max_apic_id > 254 && !cpu_has_x2apic()) {
        log_error("APIC IDs up to %u need x2APIC, which this CPU lacks\n", max_apic_id);
        return false;
    } else if (max_apic_id > 254 || (want_x2apic && cpu_has_x2apic())) {
        /* SDM Vol. 3A, 11.12.5: xAPIC -> x2APIC by setting EXTD with EN already set. */
        x2apic = true;
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
    } else if (want_x2apic) {
        log_warn("x2apic: this CPU has no x2APIC; staying in xAPIC mode\n");
    }
    uint64_t msr_base = base & APIC_BASE_ADDR_MASK;
    if (!x2apic && mmio_phys && mmio_phys != msr_base)
        log_warn("MADT gives local APIC at %#llx, IA32_APIC_BASE at %#llx; using the MSR's\n",
                 (unsigned long long)mmio_phys, (unsigned long long)msr_base);
    mmio = (volatile uint32_t *)(uintptr_t)msr_base;
    log_info("local APIC: %s mode%s, BSP APIC ID %u\n", x2apic ? "x2APIC" : "xAPIC",
             x2apic && !(base & APIC_BASE_EXTD) ? " (enabled by thinvisor)" : "", lapic_id());
    return true;
}

void lapic_init_ap(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_ENABLE;
    if (x2apic)
        base |= APIC_BASE_EXTD;
    wrmsr(MSR_IA32_APIC_BASE, base);
}

bool lapic_is_x2apic(void)
{
    return x2apic;
}

uint32_t lapic_id(void)
{
    return x2apic ? (uint32_t)rdmsr(X2APIC_MSR_ID) : xapic_read(XAPIC_ID) >> 24;
}

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    /* Asked each time: once the guest runs, it may have switched this CPU's APIC to x2APIC. */
    if (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EXTD) {
        /* WRMSR to x2APIC registers does not wait for earlier stores (SDM Vol. 3A,
         * 11.12.3): the target must see what this CPU wrote before the IPI. */
        wrmsr_fence();
        wrmsr(X2APIC_MSR_ICR, (uint64_t)apic_id << 32 | icr_low);
        return true;
    }
    xapic_write(XAPIC_ICR_HIGH, apic_id << 24);
    xapic_write(XAPIC_ICR_LOW, icr_low);
    uint64_t deadline = tsc_deadline(10000);
    while (xapic_read(XAPIC_ICR_LOW) & ICR_DELIVERY_PENDING) {
        if (rdtsc() > deadline)
            return false;
        cpu_relax();
    }
    return true;
}

/* This CPU's APIC register at xAPIC offset `reg`, in whichever mode the guest left it. */
static uint32_t own_read(bool x2, uint64_t page, uint32_t reg)
{
    return x2 ? (uint32_t)rdmsr(0x800 + reg / 16)
              : *(volatile uint32_t *)phys_to_virt(page + reg);
}

static void own_write(bool x2, uint64_t page, uint32_t reg, uint32_t v)
{
    if (x2)
        wrmsr(0x800 + reg / 16, v);
    else
        *(volatile uint32_t *)phys_to_virt(page + reg) = v;
}

/*
 * An INIT resets the local APIC as power-up does, but for its ID and mode
 * (SDM Vol. 3A, 11.4.7.3; 11.12.5.1 keeps x2APIC mode): every LVT masked, the
 * timer stopped, TPR 0, no interrupt in service, software-disabled with
 * spurious vector 0xFF, the logical destination cleared. An INIT that
 * thinvisor takes for the guest (a VM exit, or one it emulates) never
 * reaches the APIC, so the AP does it here. The LVTs that exist are the
 * version register's count (4: timer, LINT0/1, error; then performance,
 * thermal, CMCI): in x2APIC mode a write to a missing one would fault. IRR
 * cannot be cleared by software: an interrupt already requested stays, to
 * be taken when the guest enables the APIC again (a masked LVT raises none).
 */
void lapic_init_reset(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE))
        return;                               /* hardware-disabled: nothing to reset */
    bool x2 = base & APIC_BASE_EXTD;
    uint64_t page = base & APIC_BASE_ADDR_MASK;
    uint32_t max_lvt = (own_read(x2, page, APIC_VERSION) >> 16) & 0xFF;
    static const uint32_t always[] = { APIC_LVT_TIMER, APIC_LVT_LINT0, APIC_LVT_LINT1,
                                       APIC_LVT_ERROR };
    for (unsigned i = 0; i < sizeof always / sizeof always[0]; i++)
        own_write(x2, page, always[i], APIC_LVT_MASKED);
    if (max_lvt >= 4)
        own_write(x2, page, APIC_LVT_PERF, APIC_LVT_MASKED);
    if (max_lvt >= 5)
        own_write(x2, page, APIC_LVT_THERMAL, APIC_LVT_MASKED);
    if (max_lvt >= 6)
        own_write(x2, page, APIC_LVT_CMCI, APIC_LVT_MASKED);
    own_write(x2, page, APIC_TIMER_INITIAL, 0);
    own_write(x2, page, APIC_TIMER_DIVIDE, 0);
    for (unsigned eois = 0; eois < 256; eois++) {   /* each EOI ends the highest in service */
        bool in_service = false;
        for (uint32_t r = 0; r < 8 && !in_service; r++)
            in_service = own_read(x2, page, APIC_ISR + r * 0x10) != 0;
        if (!in_service)
            break;
        own_write(x2, page, APIC_EOI, 0);
    }
    own_write(x2, page, APIC_TPR, 0);
    own_write(x2, page, APIC_ESR, 0);
    own_write(x2, page, APIC_ESR, 0);         /* the first write latches, the second clears */
    if (!x2) {                                /* x2APIC's LDR is read-only, it has no DFR */
        own_write(x2, page, APIC_LDR, 0);
        own_write(x2, page, APIC_DFR, 0xFFFFFFFFu);
    }
    own_write(x2, page, APIC_SVR, 0xFF);
}
