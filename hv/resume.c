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

/*
 * SeaBIOS's resume starts the APs at 0x10000, its AP boot address, and puts
 * the OS's bytes back there before they all ran; QEMU's TCG then keeps the
 * SIPI they were started with across the INIT below (smp/smp.c,
 * RESTART_TIMEOUT_US), so such an AP starts at 0x10000 again, on the OS's
 * bytes, until thinvisor's next INIT. While the APs restart, those first
 * bytes hold a halt loop instead: an AP sent there marks its coming (the
 * log says so) and waits, touching nothing else, for the INIT that starts
 * it properly. In real mode, CS = 0x1000:
 *   mov byte [cs:STRAY_MARK], 0xAA; cli; hlt; jmp back to the hlt
 */
#define STRAY_AP_START 0x10000
#define STRAY_MARK     15
static const uint8_t halt_loop[STRAY_MARK + 1] = {
    0x2E, 0xC6, 0x06, STRAY_MARK, 0x00, 0xAA, 0xFA, 0xF4, 0xEB, 0xFD,
};

static const struct backend *backend;
static uint64_t ap_page;               /* where the APs start after a wake */
static uint8_t ap_page_saved[4096], low_area_saved[LOW_AREA_BYTES], stray_saved[sizeof halt_loop];

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
        uint8_t *stray = low + STRAY_AP_START;
        /* Not over the trampoline, nor over thinvisor's own memory (test_region_below_1m). */
        bool park_stray = ap_page != STRAY_AP_START &&
                          !hv_region_overlaps(STRAY_AP_START, sizeof halt_loop);
        memcpy(ap_page_saved, tr, sizeof ap_page_saved);
        memcpy(low_area_saved, low, sizeof low_area_saved);
        if (park_stray) {
            memcpy(stray_saved, stray, sizeof stray_saved);
            memcpy(stray, halt_loop, sizeof halt_loop);
        }
        uint32_t lost = smp_restart_aps(tr, ap_page);
        memcpy(tr, ap_page_saved, sizeof ap_page_saved);
        memcpy(low, low_area_saved, sizeof low_area_saved);
        if (park_stray) {
            if (stray[STRAY_MARK] == 0xAA)
                log_info("ACPI S3: an AP started at %#x (the firmware's start, its SIPI kept "
                         "across thinvisor's INIT) and waited there\n", STRAY_AP_START);
            memcpy(stray, stray_saved, sizeof stray_saved);
        }
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
