/*
 * The launch (see launch.h): the one place that knows there are two
 * backends and two firmware paths, and drives them through their
 * interfaces (guest/backend.h; efi/next_stage.h, hv/native_boot.h).
 */
#include "hv/launch.h"

#include "efi/efi.h"
#include "efi/next_stage.h"
#include "guest/guest.h"
#include "guest/leave.h"
#include "guest/memory.h"
#include "guest/status.h"
#include "hv/native_boot.h"
#include "hv/resume.h"
#include "iommu/dma_protect.h"
#include "kernel/boot_marker.h"
#include "kernel/format.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/string.h"
#include "kernel/x86.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"

const struct backend *launch_pick_backend(char *why, size_t whylen)
{
    if (vmx_backend.probe(why, whylen) == 0)
        return &vmx_backend;
    char svm_why[160];
    if (svm_backend.probe(svm_why, sizeof svm_why) == 0)
        return &svm_backend;
    size_t used = strlen(why);
    fmt_snprintf(why + used, whylen - used, "; %s", svm_why);
    return NULL;
}

uint64_t launch_per_cpu_bytes(const struct backend *b)
{
    return PERCPU_BYTES + (b ? b->per_cpu_pages * 4096ull : 0);
}

uint64_t launch_shared_bytes(const struct backend *b, uint64_t top, uint32_t ncpus)
{
    return b ? b->shared_pages * 4096ull + guest_memory_budget(top, ncpus) +
               dma_protect_budget(top) + leave_budget() : 0;
}

/*
 * smp_run_on_all work: one CPU virtualized with the backend (arg); a CPU
 * test_fail_cpu names refuses, to exercise the way back below.
 */
static int test_fail_cpu = -1;

static int enable_one(struct percpu *cpu, void *arg)
{
    const struct backend *b = arg;
    if ((int)cpu->index == test_fail_cpu) {
        log_info("test_fail_cpu: CPU %u refuses to enter %s\n", cpu->index, b->name);
        return -1;
    }
    return b->enable_cpu(cpu, NULL);
}

static int leave_one(struct percpu *cpu, void *arg)
{
    const struct backend *b = arg;
    return b->leave_cpu(cpu, NULL);
}

/*
 * With every CPU virtualized, the devices too are kept out of the region
 * (iommu/dma_protect.h); where they cannot be, one warning says so, and
 * strict halts rather than run a guest whose devices can reach thinvisor.
 */
static void protect_from_devices(uint64_t top, const struct options *opt)
{
    char why[160];
    if (dma_protect_start(top, why, sizeof why) == 0) {
        log_info("DMA protection: on: the IOMMU keeps devices out of the hypervisor region\n");
        return;
    }
    log_warn("DMA protection: %s: devices the guest programs can reach the hypervisor "
             "region, which is protected from processors only\n", why);
    if (opt->strict)
        panic("strict: not booting the guest without DMA protection");
}

/*
 * Every CPU virtualized with b: the shared setup, each CPU's pages, then
 * virtualization on, on all of them at once. Where a CPU fails, every CPU
 * leaves again, so that the guest then boots natively on processors that
 * take its INITs (a CPU left in VMX root blocks them). 0, or -1 with why.
 */
static int virtualize_all(const struct backend *b, const struct mb2_info *mbi,
                          const struct options *opt, char *why, size_t whylen)
{
    static int results[SMP_MAX_CPUS];
    struct backend_options o = {
        .mapped_top = region_phys_top(mbi->mmap, mbi->mmap_count),
        .test_exit = opt->test_exit, .emulate_sipi = opt->emulate_sipi,
    };
    if (b->setup_shared(&o) != 0) {
        fmt_snprintf(why, whylen, "the guest's identity map does not fit the hypervisor "
                     "region");
        return -1;
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        b->prepare_cpu(cpus[i]);
    test_fail_cpu = opt->test_fail_cpu;
    int failures = smp_run_on_all(enable_one, (void *)b, results);
    if (failures) {
        fmt_snprintf(why, whylen, "%d processor(s) could not enter %s", failures, b->name);
        int stuck = smp_run_on_all(leave_one, (void *)b, results);
        if (stuck)
            log_error("%d processor(s) could not leave %s again\n", stuck, b->name);
        else
            log_info("every processor left %s again\n", b->name);
        return -1;
    }
    log_info("%s on all %u processor(s)\n", b->name, cpu_count);
    protect_from_devices(o.mapped_top, opt);
    guest_policy_start(b);
    leave_setup(b);
    resume_prepare(b, mbi);
    return 0;
}

/* Where virtualization cannot be: says why; strict halts, else the caller boots natively. */
static void unavailable(const char *why, const struct options *opt)
{
    log_warn("virtualization unavailable: %s\n", why);
    if (opt->strict)
        panic("strict: not booting the guest without virtualization");
}

/* The APs go to their guest state, waiting for the guest's SIPI. */
static void start_aps_in_guest(const struct backend *b)
{
    if (smp_start_on_aps(b->launch_ap, NULL) != 0)
        panic("application processors did not enter their guest state");
}

/*
 * Right before the BSP's first guest instruction: the region's use and the
 * launch time go to the log (and the time to the status area); from here
 * the console is the guest's, but for errors.
 */
static void note_guest_launch(const struct options *opt)
{
    hv_memory_log_use();
    uint64_t launch_tsc = rdtsc();
    log_info("timing: guest launch at TSC %llu\n", (unsigned long long)launch_tsc);
    status_guest_launched(launch_tsc);
    if (!opt->test_exit)
        log_console_for_errors_only(true);
}

static void launch_failed(void) __attribute__((noreturn));
static void launch_failed(void)
{
    log_console_for_errors_only(false);
    panic("the guest could not be launched");
}

/*
 * UEFI: the guest is the firmware itself. The BSP continues in the
 * firmware's context at efi_start_next, which starts the next boot stage as
 * a native start would (efi/next_stage.h), but now under the backend.
 */
static void launch_efi(const struct backend *b, const char *no_backend,
                       const struct mb2_info *mbi, const struct options *opt)
    __attribute__((noreturn));
static void launch_efi(const struct backend *b, const char *no_backend,
                       const struct mb2_info *mbi, const struct options *opt)
{
    static struct guest_long_mode g;
    char why[256];
    if (efi_guest_state(&g, why, sizeof why) != 0) {
        log_warn("UEFI: cannot continue the firmware as the guest: %s\n", why);
        if (opt->strict)
            panic("strict: not booting natively");
        efi_boot_natively("no guest state");
    }
    boot_marker_set();                 /* both paths below start the next stage */
    if (!b || virtualize_all(b, mbi, opt, why, sizeof why) != 0) {
        unavailable(b ? why : no_backend, opt);
        efi_boot_natively("no virtualization");
    }
    start_aps_in_guest(b);
    log_info("launching the guest%s: the UEFI firmware's context, CS %#x at %#llx; "
             "%u application processor(s) wait for SIPI\n", b->launch_note, g.seg[SEG_CS].sel,
             (unsigned long long)g.rip, cpu_count - 1);
    note_guest_launch(opt);
    b->launch_bsp_long_mode(&g);
    launch_failed();
}

/* A BIOS boot: the boot sector of the chosen drive, at 0000:7C00 with DL = the drive. */
static void launch_bios(const struct backend *b, const char *no_backend,
                        const struct mb2_info *mbi, const struct options *opt)
    __attribute__((noreturn));
static void launch_bios(const struct backend *b, const char *no_backend,
                        const struct mb2_info *mbi, const struct options *opt)
{
    static struct guest_start start;
    char why[256];
    if (guest_prepare_boot(mbi, opt, &start) != 0)
        panic("cannot start the guest: no usable boot sector");
    boot_marker_set();                 /* both paths below start the guest */
    if (!b || virtualize_all(b, mbi, opt, why, sizeof why) != 0) {
        unavailable(b ? why : no_backend, opt);
        native_boot(&start);
    }
    start_aps_in_guest(b);
    log_info("launching the guest%s: boot sector from %s, drive %#x, at %04x:%04x; "
             "%u application processor(s) wait for SIPI\n", b->launch_note, start.source,
             start.drive, start.cs, start.ip, cpu_count - 1);
    note_guest_launch(opt);
    b->launch_bsp_real_mode(&start);
    launch_failed();
}

void launch_guest(const struct backend *b, const char *why, const struct mb2_info *mbi,
                  const struct options *opt)
{
    if (efi_active())
        launch_efi(b, why, mbi, opt);
    launch_bios(b, why, mbi, opt);
}
