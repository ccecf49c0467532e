/* The local APIC, in xAPIC (MMIO) or x2APIC (MSR) mode: IDs and IPIs. */
#ifndef THINVISOR_LAPIC_H
#define THINVISOR_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/msr.h"

#define APIC_BASE_BSP        (1ull << 8)
#define APIC_BASE_EXTD       (1ull << 10)   /* x2APIC mode */
#define APIC_BASE_ENABLE     (1ull << 11)
#define APIC_BASE_ADDR_MASK  0x000FFFFFFFFFF000ull

#define X2APIC_MSR_ICR       0x830

/* ICR delivery modes and flags (SDM Vol. 3A, 11.6.1, Figure 11-12). */
#define ICR_INIT             (5u << 8)
#define ICR_STARTUP          (6u << 8)
#define ICR_NMI              (4u << 8)
#define ICR_LEVEL_ASSERT     (1u << 14)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_DELIVERY_MODE(v) (((v) >> 8) & 7)
#define ICR_LEVEL_TRIGGER    (1u << 15)
#define ICR_SHORTHAND(v)     (((v) >> 18) & 3)   /* 0 none, 1 self, 2 all, 3 all but self */
#define ICR_ALL_BUT_SELF     (3u << 18)

/*
 * Chooses the mode: x2APIC when the firmware already enabled it, when an
 * APIC ID above 254 needs it or when `want_x2apic` asks for it (and the CPU
 * has it), else xAPIC at `mmio_phys`. Returns false (with a message) when no
 * usable APIC exists.
 */
bool lapic_init_bsp(uint64_t mmio_phys, uint32_t max_apic_id, bool want_x2apic);

/* Puts an AP's local APIC in the mode the BSP chose. */
void lapic_init_ap(void);

bool lapic_is_x2apic(void);
uint32_t lapic_id(void);

/*
 * Resets this CPU's local APIC as an INIT would (keeping its ID and mode):
 * for an INIT the hypervisor took instead of the APIC.
 */
void lapic_init_reset(void);

/* Sends an IPI; returns false when an xAPIC never accepted it. */
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);

#endif
