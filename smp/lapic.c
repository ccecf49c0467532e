/*
 * Local APIC access for AP start-up. The hypervisor uses the APIC only to
 * send IPIs; it never enables interrupts or programs the APIC timer.
 */
#include "smp/lapic.h"

#include "kernel/log.h"
#include "kernel/tsc.h"
#include "kernel/x86.h"

#define XAPIC_ID       0x020
#define XAPIC_ICR_LOW  0x300
#define XAPIC_ICR_HIGH 0x310
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
