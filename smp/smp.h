/* Bringing up every logical processor (ACPI MADT + INIT-SIPI-SIPI). */
#ifndef THINVISOR_SMP_H
#define THINVISOR_SMP_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/multiboot2.h"
#include "smp/percpu.h"

/* The ACPI parsers' view of memory (kernel/acpi.h): the identity map, below 4 GiB. */
const void *acpi_map_identity(void *ctx, uint64_t phys, size_t len);

/*
 * Finds the MADT (the RSDP from the boot loader, else the BIOS areas) and
 * fills `out`. Returns 0, or -1 after logging why (then only the BSP runs).
 */
int smp_read_madt(const struct mb2_info *mbi, struct acpi_madt_info *out);

/* How many processors the region budget must provision for: the MADT's, capped by cpus=. */
uint32_t smp_planned_cpus(const struct acpi_madt_info *madt, int madt_ok, uint32_t max_cpus);

/*
 * Sets up the BSP's per-CPU block, then starts each enabled AP of the MADT
 * (at most max_cpus processors in all; 0 = all) and waits for it to check in.
 * A processor that does not answer is named and left out.
 */
void smp_start(const struct mb2_info *mbi, const struct acpi_madt_info *madt, int madt_ok,
               uint32_t max_cpus, bool want_x2apic);

/*
 * Calls fn on every online processor, the BSP included, and waits for all.
 * results[i] receives CPU i's return value (-1 for a CPU that did not finish
 * in time). Returns the number of CPUs whose result is not 0.
 */
int smp_run_on_all(cpu_work_fn fn, void *arg, int *results);

/*
 * Starts fn on every AP without waiting for it to return (for work that
 * never returns, such as entering a guest); waits only until each AP has
 * taken it. Returns the number of APs that did not.
 */
int smp_start_on_aps(cpu_work_fn fn, void *arg);

/*
 * Parks every AP in a halt loop with interrupts off, for a boot that goes on
 * without thinvisor: the OS's INIT takes each one out.
 */
void smp_halt_aps(void);

/*
 * The lowest page in [4 KiB, 640 KiB) that the boot loader's map calls usable
 * and that holds no part of the hypervisor region; 0 when there is none. The
 * firmware or the OS may own it: a caller keeps its bytes while it uses it.
 */
uint64_t smp_usable_low_page(const struct mb2_info *mbi);

/*
 * The AP trampoline (ap_trampoline.asm), smp_trampoline_size() bytes, at tr,
 * the 16-byte-aligned tr_phys below 1 MiB: real mode at tr_phys >> 4 : 0 to
 * long mode on the hypervisor's page tables, then entry(c) on c's stack for
 * the c smp_trampoline_aim last named. A SIPI needs it page-aligned; an ACPI
 * S3 waking vector, real mode too, takes it as it is (guest/s3.c).
 */
size_t smp_trampoline_size(void);
void smp_trampoline_install(uint8_t *tr, uint64_t tr_phys, void (*entry)(struct percpu *));
void smp_trampoline_aim(uint8_t *tr, struct percpu *c);

/*
 * After an ACPI S3 resume, which reset every processor: the BSP's GDT, TSS,
 * IDT and local APIC as before the sleep (on the BSP, from its wake code);
 * then each AP started again through the trampoline copied to tr (as at boot:
 * into ap_entry, serving run-on-all). Returns how many did not check in.
 */
void smp_resume_bsp(struct percpu *bsp);
uint32_t smp_restart_aps(uint8_t *tr, uint64_t tr_phys);

#endif
