/*
 * thinvisor's C entry: from the multiboot2 handoff to a machine whose
 * processors the hypervisor owns. Each step below is one line here and a
 * file of its own elsewhere; the order is the one of ../README.md, "Boot".
 */
#include <stdint.h>

#include "kernel/boot_marker.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/efi.h"
#include "kernel/efi_boot.h"
#include "kernel/exceptions.h"
#include "kernel/format.h"
#include "kernel/gdt.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/multiboot2.h"
#include "kernel/string.h"
#include "kernel/version.h"
#include "vmx/hypercall_abi.h"
#include "kernel/tsc.h"
#include "mm/hv_memory.h"
#include "smp/smp.h"
#include "guest/boot.h"
#include "kernel/native_boot.h"
#include "guest/guest.h"
#include "kernel/x86.h"
#include "mm/mtrr_msr.h"
#include "svm/svm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_insn.h"

/* Stack for the BSP until per-CPU stacks exist. */
__attribute__((aligned(16))) static uint8_t boot_stack[16384];
uint8_t *const boot_stack_top_ptr = boot_stack + sizeof boot_stack;

static struct mb2_info boot_info;
static struct options options;
static struct acpi_madt_info madt;
static struct cpu_segments boot_segments;   /* until the BSP has its per-CPU block */


static void cmdline_warning(void *ctx, const char *message)
{
    (void)ctx;
    log_warn("command line: %s\n", message);
}

static void print_boot_info(const struct mb2_info *mbi)
{
    log_info("boot loader: %s\n", mbi->loader_name ? mbi->loader_name : "(not named)");
    log_info("command line: %s\n", mbi->cmdline && mbi->cmdline[0] ? mbi->cmdline : "(empty)");
    char boot[8] = "default", cpus[8] = "all";
    if (options.boot_drive >= 0)
        fmt_snprintf(boot, sizeof boot, "%#x", options.boot_drive);
    if (options.cpus)
        fmt_snprintf(cpus, sizeof cpus, "%u", options.cpus);
    log_info("options: console=%#x,%u loglevel=%d cpus=%s boot=%s%s%s\n",
             options.console_port, options.console_baud, options.loglevel, cpus, boot,
             options.strict ? " strict" : "", options.test_exit ? " test_exit" : "");
    if (options.x2apic)
        log_info("options: x2apic\n");
    log_info("modules: %u\n", mbi->module_count);
    for (uint32_t i = 0; i < mbi->module_count; i++)
        log_info("  module %u: %#x-%#x (%u bytes) '%s'\n", i, mbi->modules[i].start,
                 mbi->modules[i].end, mbi->modules[i].end - mbi->modules[i].start,
                 mbi->modules[i].string);
    if (mbi->modules_dropped)
        log_warn("%u more modules ignored (at most %u)\n", mbi->modules_dropped,
                 MB2_MAX_MODULES);
    log_info("memory map: %u entries\n", mbi->mmap_count);
    uint64_t usable = 0;
    for (uint32_t i = 0; i < mbi->mmap_count; i++) {
        const struct mb2_mmap_entry *e = &mbi->mmap[i];
        log_info("  %016llx-%016llx %s\n", (unsigned long long)e->base,
                 (unsigned long long)(e->base + e->length - 1), mb2_memory_type_name(e->type));
        if (e->type == MB2_MEMORY_AVAILABLE)
            usable += e->length;
    }
    if (mbi->mmap_dropped)
        log_warn("%u more memory map entries ignored (at most %u)\n", mbi->mmap_dropped,
                 MB2_MAX_MMAP);
    log_info("usable RAM: %llu MiB\n", (unsigned long long)(usable >> 20));
    if (mbi->rsdp)
        log_info("ACPI: RSDP (ACPI %s) from the boot loader\n",
                 mbi->rsdp_version == 2 ? "2.0+" : "1.0");
}

/*
 * GRUB on UEFI kept the firmware's boot services for thinvisor. Without a
 * usable system table (neither GRUB's nor the firmware's own pointer to it,
 * kernel/efi.c) nothing can be asked of the firmware, not even to start the
 * OS: the boot marker is set (GRUB then hides thinvisor's entry, where the
 * firmware keeps the first page across a reset) and the machine resets.
 */
static void efi_start(struct mb2_info *mbi)
{
    char why[256];
    if (options.test_no_efi_system_table) {
        log_info("test_no_efi_system_table: leaving out the EFI system table GRUB gave\n");
        mbi->efi_system_table = 0;
    }
    if (efi_init(mbi, why, sizeof why) != 0) {
        log_error("UEFI: %s\n", why);
        if (options.strict)
            panic("strict: UEFI boot services unusable");
        boot_marker_set();
        log_error("UEFI: resetting in 5 s; GRUB then boots the OS without the thinvisor "
                  "entry\n");
        tsc_calibrate();
        udelay(5000000);
        machine_reset();
    }
    const struct efi_system_table *st = efi_system_table();
    char vendor[48] = "";
    const uint16_t *v = st->firmware_vendor ? phys_to_virt(st->firmware_vendor) : NULL;
    for (size_t i = 0; v && v[i] && i + 1 < sizeof vendor; i++)
        vendor[i] = v[i] >= 0x20 && v[i] < 0x7F ? (char)v[i] : '?';
    log_info("UEFI: firmware '%s' revision %#x, UEFI %u.%u; boot services kept\n", vendor,
             st->firmware_revision, st->hdr.revision >> 16, (st->hdr.revision & 0xFFFF) / 10);
    efi_status mst = efi_read_memory_map(mbi);
    if (mst != EFI_SUCCESS)
        log_error("UEFI: GetMemoryMap failed: %s\n", efi_status_name(mst));
    else if (mbi->mmap_dropped)
        log_warn("UEFI: the firmware's memory map has more ranges than thinvisor keeps\n");
}

/* Each CPU reports who it is; proves run-on-all reaches every online processor. */
static int report_cpu(struct percpu *cpu, void *arg)
{
    (void)arg;
    return this_cpu() == cpu && cpu->online ? 0 : 1;
}

static void check_all_cpus(void)
{
    static int results[SMP_MAX_CPUS];
    int failures = smp_run_on_all(report_cpu, NULL, results);
    for (uint32_t i = 0; i < cpu_count; i++)
        log_info("run-on-all: CPU %u (APIC ID %u) returned %d\n", i, cpus[i]->apic_id,
                 results[i]);
    if (failures)
        log_error("run-on-all: %d processor(s) failed\n", failures);
}

/*
 * What all processors share in the region: the MSR bitmap, the I/O bitmaps
 * and the dummy page (VMX: 1 + 2 + 1 pages; SVM: its 2-page MSR and 3-page
 * I/O permission maps, and the dummy page), the status area (vmx/status.c)
 * and the EPT or NPT. The EPT needs
 * a table per 512 GiB, and below that at most a PD and a PT at each place
 * the memory type or the mapping changes: two per variable MTRR, the fixed
 * ranges, the region's two edges, the top of RAM, the two published ranges
 * inside the region (status area, log ring); plus room for splits when the
 * guest rewrites its MTRRs.
 */
static uint64_t shared_budget(uint32_t ncpus)
{
    uint64_t vcnt = 0;
    if (cpuid(1, 0).edx & (1u << 12))                 /* MTRR */
        vcnt = rdmsr(MSR_IA32_MTRRCAP) & MTRRCAP_VCNT_MASK;
    uint64_t top = region_phys_top(boot_info.mmap, boot_info.mmap_count);
    uint64_t ept_tables = 1 + (top + (512ull << 30) - 1) / (512ull << 30) +
                          2 * (2 * vcnt + 6) + 16;
    return (6 + ept_tables + vmx_status_pages(ncpus)) * 4096;
}

enum backend { BACKEND_VMX, BACKEND_SVM };

/*
 * The SVM backend where VMX cannot run (an AMD CPU): SVM on every processor.
 * 0, or -1 with the reason appended to why's VMX reason.
 */
static int virtualize_svm(char *why, size_t whylen)
{
    static int results[SMP_MAX_CPUS];
    char svm_why[160];
    size_t used = strlen(why);
    if (svm_probe(svm_why, sizeof svm_why) != 0) {
        fmt_snprintf(why + used, whylen - used, "; %s", svm_why);
        return -1;
    }
    uint64_t top = region_phys_top(boot_info.mmap, boot_info.mmap_count);
    if (svm_setup_shared(top, options.test_exit, cpu_count > 1) != 0) {
        fmt_snprintf(why, whylen, "the NPT does not fit the hypervisor region");
        return -1;
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        svm_prepare_cpu(cpus[i]);
    int failures = smp_run_on_all(svm_enable_cpu, NULL, results);
    if (failures) {
        fmt_snprintf(why, whylen, "%d processor(s) could not enable SVM", failures);
        return -1;
    }
    log_info("SVM on all %u processor(s)\n", cpu_count);
    return 0;
}

/*
 * Virtualizes every CPU with the backend the CPU has: VMX root where CPUID and
 * the capability MSRs allow it (Intel), else SVM (AMD). Returns 0 with the
 * backend in *backend, or -1 with the reasons in why.
 */
static int virtualize_all(char *why, size_t whylen, enum backend *backend)
{
    static int results[SMP_MAX_CPUS];
    *backend = BACKEND_VMX;
    if (vmx_probe(why, whylen) != 0) {
        *backend = BACKEND_SVM;
        return virtualize_svm(why, whylen);
    }
    uint64_t ept_top = region_phys_top(boot_info.mmap, boot_info.mmap_count);
    if (vmx_setup_shared(ept_top, options.test_exit, options.emulate_sipi) != 0) {
        fmt_snprintf(why, whylen, "the EPT does not fit the hypervisor region");
        return -1;
    }
    for (uint32_t i = 0; i < cpu_count; i++)
        vmx_prepare_cpu(cpus[i]);
    int failures = smp_run_on_all(vmx_enable_cpu, NULL, results);
    if (failures) {
        fmt_snprintf(why, whylen, "%d processor(s) could not enter VMX root", failures);
        return -1;
    }
    log_info("VMX root on all %u processor(s)\n", cpu_count);
    return 0;
}

/*
 * What both backends do right before the guest's first instruction: the
 * region's use and the launch time in the log (and, one reading, in the
 * status area); from here the console is the guest's, but for errors.
 */
static void note_guest_launch(void)
{
    hv_memory_log_use();
    uint64_t launch_tsc = rdtsc();
    log_info("timing: guest launch at TSC %llu\n", (unsigned long long)launch_tsc);
    vmx_status_guest_launched(launch_tsc);
    if (!options.test_exit)
        log_console_for_errors_only(true);
}

/* The APs of a virtualized machine go to their guest state: waiting for the guest's SIPI. */
static void start_aps_in_guest(enum backend backend)
{
    guest_set_backend(backend == BACKEND_SVM ? &svm_backend_ops : &vmx_backend_ops);
    if (smp_start_on_aps(backend == BACKEND_SVM ? svm_launch_ap : vmx_launch_ap, NULL) != 0)
        panic("application processors did not enter their guest state");
}

/*
 * On UEFI the guest is the firmware itself: the BSP continues in the
 * firmware's context at efi_start_next, which starts the next boot stage as
 * a native start would (kernel/efi_boot.h), but now under VMX or SVM; the
 * APs wait for the INIT-SIPI-SIPI of the firmware or of the OS. Where that
 * cannot be, says why and (unless strict) starts the next stage natively.
 */
static void start_guest_efi(void)
{
    static struct guest_long_mode g;
    char why[256];
    enum backend backend;
    if (efi_guest_state(&g, why, sizeof why) != 0) {
        log_warn("UEFI: cannot continue the firmware as the guest: %s\n", why);
        if (options.strict)
            panic("strict: not booting natively");
        efi_boot_natively("no guest state");
    }
    boot_marker_set();                 /* both paths below start the next stage */
    if (virtualize_all(why, sizeof why, &backend) != 0) {
        log_warn("virtualization unavailable: %s\n", why);
        if (options.strict)
            panic("strict: not booting the guest without virtualization");
        efi_boot_natively("no virtualization");
    }
    start_aps_in_guest(backend);
    log_info("launching the guest%s: the UEFI firmware's context, CS %#x at %#llx; "
             "%u application processor(s) wait for SIPI\n",
             backend == BACKEND_SVM ? " under SVM" : "", g.seg[SEG_CS].sel,
             (unsigned long long)g.rip, cpu_count - 1);
    note_guest_launch();
    if (backend == BACKEND_SVM)
        svm_launch_bsp_long_mode(&g);
    vmx_guest_long_mode(&g);
    static struct guest_regs regs;
    vmx_launch_cpu(cpus[0], &regs);
    log_console_for_errors_only(false);
    panic("the guest could not be launched");
}

/*
 * Starts the guest: the boot chain of the chosen drive, on the BSP, under
 * VMX or SVM; the APs wait for the guest's own INIT-SIPI-SIPI. Where neither
 * can run, says why and (unless strict) boots the same chain natively.
 */
static void start_guest(void)
{
    static struct guest_start start;
    char why[256];
    if (efi_active())
        start_guest_efi();
    if (guest_prepare_boot(&boot_info, &options, &start) != 0)
        panic("cannot start the guest: no usable boot sector");
    boot_marker_set();                 /* both paths below start the guest */
    enum backend backend;
    if (virtualize_all(why, sizeof why, &backend) != 0) {
        log_warn("virtualization unavailable: %s\n", why);
        if (options.strict)
            panic("strict: not booting the guest without virtualization");
        native_boot(&start);
    }
    start_aps_in_guest(backend);
    log_info("launching the guest%s: boot sector from %s, drive %#x, at %04x:%04x; "
             "%u application processor(s) wait for SIPI\n",
             backend == BACKEND_SVM ? " under SVM" : "", start.source, start.drive, start.cs,
             start.ip, cpu_count - 1);
    note_guest_launch();
    if (backend == BACKEND_SVM)
        svm_launch_bsp(start.cs, start.ip, (uint8_t)start.drive);
    vmx_guest_real_mode(start.cs, (uint64_t)start.cs << 4, start.ip, 0x10, ACTIVITY_ACTIVE);
    vmwrite(VMCS_GUEST_RSP, start.ip);
    vmwrite(VMCS_GUEST_RFLAGS, 0x202);                 /* a BIOS starts boot sectors with IF=1 */
    struct guest_regs regs = { .rdx = start.drive };
    vmx_launch_cpu(cpus[0], &regs);
    log_console_for_errors_only(false);
    panic("the guest could not be launched");
}

/* test_fault=: makes the hypervisor fault on purpose, to test the exception report. */
static void run_test_fault(enum test_fault f)
{
    volatile uint64_t *bad = (volatile uint64_t *)0x0000800000000000ull;  /* non-canonical */
    volatile uint64_t *unmapped = (volatile uint64_t *)0xFFFF800000000000ull;
    volatile int zero = 0;
    switch (f) {
    case TEST_FAULT_NONE: return;
    case TEST_FAULT_UD: log_info("test_fault: executing ud2\n"); __asm__ volatile("ud2"); break;
    case TEST_FAULT_GP: log_info("test_fault: non-canonical read\n"); (void)*bad; break;
    case TEST_FAULT_PF: log_info("test_fault: unmapped read\n"); (void)*unmapped; break;
    case TEST_FAULT_DE: log_info("test_fault: divide by zero\n"); (void)(1 / zero); break;
    }
    panic("test_fault: the fault did not happen");
}

void kernel_main(uint32_t magic, uint32_t info_phys, uint64_t entry_tsc)
{
    tsc_mark_boot(entry_tsc);
    idt_init();
    gdt_load(&boot_segments);

    log_info("\nthinvisor %s (multiboot2 handoff, boot info at %#x)\n", THINVISOR_VERSION,
             info_phys);
    log_info("timing: multiboot2 entry at TSC %llu\n", (unsigned long long)entry_tsc);
    char err[160] = "";
    int parsed = -1;
    if (magic == MB2_BOOTLOADER_MAGIC && info_phys)
        parsed = mb2_parse(phys_to_virt(info_phys), MB2_MAX_INFO_SIZE, &boot_info, err,
                           sizeof err);
    cmdline_defaults(&options);
    if (parsed == 0)
        cmdline_parse(boot_info.cmdline, &options, cmdline_warning, NULL);
    log_set_level(options.loglevel);
    machine_set_test_exit(options.test_exit);
    log_open_console(options.console_port, options.console_baud);

    if (options.console_port && !console_serial_ok())
        log_warn("no UART answers at I/O port %#x; serial console off\n",
                 options.console_port);
    if (parsed != 0)
        panic("%s", err[0] ? err : "no multiboot2 boot information");
    if (boot_info.efi_boot_services)
        efi_start(&boot_info);
    print_boot_info(&boot_info);
    if (efi_active() && efi_prepare_next(&options) != 0)
        log_error("UEFI: nothing to start next\n");
    if (!boot_info.has_mmap || boot_info.mmap_count == 0)
        panic("the boot loader gave no memory map; thinvisor cannot choose its region safely");

    tsc_calibrate();
    log_info("TSC: %llu MHz\n", (unsigned long long)(tsc_khz() / 1000));
    int madt_ok = smp_read_madt(&boot_info, &madt) == 0;
    if (madt_ok && options.test_extra_apic >= 0 && madt.cpu_count < ACPI_MAX_CPUS) {
        log_info("test_extra_apic: listing APIC ID %d, which has no processor\n",
                 options.test_extra_apic);
        madt.cpus[madt.cpu_count++] =
            (struct acpi_cpu){ .apic_id = (uint32_t)options.test_extra_apic, .enabled = true };
    }
    uint32_t planned = smp_planned_cpus(&madt, madt_ok, options.cpus);
    uint64_t backend_pages = VMX_PER_CPU_PAGES > SVM_PER_CPU_PAGES ? VMX_PER_CPU_PAGES
                                                                   : SVM_PER_CPU_PAGES;
    hv_memory_setup(&boot_info, info_phys, planned, PERCPU_BYTES + backend_pages * 4096,
                    shared_budget(planned),
                    options.test_region_below_1m ? 0xFFFFF : 0xFFFFFFFF);
    smp_start(&boot_info, &madt, madt_ok, options.cpus, options.x2apic);
    check_all_cpus();

    run_test_fault(options.test_fault);
    log_info("thinvisor: boot ok\n");
    start_guest();
}

/* The image begins with this marker; a guest that can read it sees through the EPT. */
__attribute__((section(".text.magic"), used))
static const char image_magic[16] = TV_IMAGE_MAGIC;
