/*
 * Back from suspend to RAM (see resume.h). The firmware's resume path has
 * reset every processor and jumped to the FACS waking vector, where
 * guest/s3.c put the AP trampoline over the OS's wake code: so the boot
 * processor arrives here in long mode, on the hypervisor's page tables and
 * its own stack, with the rest of its state as the reset left it. Memory,
 * the region included, is as it was at the sleep. What the boot did is done
 * again, from the per-CPU state up: the APs through a trampoline in a
 * borrowed page, virtualization on every CPU, the IOMMU; then the guest goes
 * on where its firmware would have sent it.
 */
#include "hv/resume.h"

#include "guest/s3.h"
#include "iommu/dma_protect.h"
#include "kernel/console.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/phys.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"

/*
 * The real-mode interrupt vector table and the BIOS data area, kept across
 * the APs' restart with the borrowed page: an AP the firmware left astray
 * (smp/smp.c, RESTART_TIMEOUT_US) writes there until thinvisor's INIT stops
 * it.
 */
#define LOW_AREA_BYTES 0x500

static const struct backend *backend;
static uint64_t ap_page;               /* where the APs start after a wake */
static uint8_t ap_page_saved[4096], low_area_saved[LOW_AREA_BYTES];

static int enable_again(struct percpu *cpu, void *arg)
{
    (void)arg;
    return backend->enable_cpu(cpu, NULL);
}

static void resume_from_s3(struct percpu *bsp) __attribute__((noreturn));
static void resume_from_s3(struct percpu *bsp)
{
    static int results[SMP_MAX_CPUS];
    console_reinit();
    smp_resume_bsp(bsp);
    log_info("ACPI S3: woke up: the boot processor is back in thinvisor\n");
    char why[160];
    if (dma_protect_resume(why, sizeof why) != 0)     /* first: devices run already */
        log_warn("DMA protection after the resume: %s\n", why);
    if (cpu_count > 1) {
        uint8_t *tr = phys_to_virt(ap_page), *low;
        /* Physical 0 is mapped: the compiler must not treat the pointer as null. */
        __asm__("" : "=r"(low) : "0"(phys_to_virt(0)));
        memcpy(ap_page_saved, tr, sizeof ap_page_saved);
        memcpy(low_area_saved, low, sizeof low_area_saved);
        uint32_t lost = smp_restart_aps(tr, ap_page);
        memcpy(tr, ap_page_saved, sizeof ap_page_saved);
        memcpy(low, low_area_saved, sizeof low_area_saved);
        if (lost)
            log_error("ACPI S3: %u application processor(s) did not come back\n", lost);
    }
    int failures = smp_run_on_all(enable_again, NULL, results);
    if (failures)
        panic("ACPI S3: %d processor(s) could not enter %s again", failures, backend->name);
    static struct guest_start start;
    guest_s3_resume(&start);
    if (smp_start_on_aps(backend->launch_ap, NULL) != 0)
        panic("ACPI S3: application processors did not enter their guest state");
    log_info("ACPI S3: resuming the guest%s at its waking vector %04x:%04x on %u processor(s)\n",
             backend->launch_note, start.cs, start.ip, cpu_count);
    backend->launch_bsp_real_mode(&start);
    panic("ACPI S3: the guest could not be resumed");
}

void resume_prepare(const struct backend *b, const struct mb2_info *mbi)
{
    backend = b;
    ap_page = smp_usable_low_page(mbi);
    if (cpu_count > 1 && !ap_page) {
        log_warn("ACPI S3: no usable page below 640 KiB to start the processors through at "
                 "a wake: after a suspend to RAM the OS will run without thinvisor\n");
        return;
    }
    guest_s3_setup(resume_from_s3);
}
