/*
 * thinvisor's C entry: from the multiboot2 handoff to a guest running on
 * every processor. kernel_main is one line per step, each a file of its own
 * elsewhere, in the order of docs/design.md, "How it boots": the boot
 * information, the firmware, the processors, the region, SMP, then the
 * launch (hv/launch.c), which virtualizes every CPU and starts the guest.
 */
#include <stdint.h>

#include "abi/hypercall.h"
#include "efi/efi.h"
#include "efi/next_stage.h"
#include "guest/sleep.h"
#include "hv/launch.h"
#include "kernel/acpi_sleep.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/exceptions.h"
#include "kernel/format.h"
#include "kernel/gdt.h"
#include "iommu/dma_protect.h"
#include "kernel/iommu_tables.h"
#include "kernel/log.h"
#include "kernel/machine.h"
#include "kernel/multiboot2.h"
#include "kernel/phys.h"
#include "kernel/tsc.h"
#include "kernel/version.h"
#include "mm/hv_memory.h"
#include "mm/region.h"
#include "smp/smp.h"

/* Stack for the BSP until per-CPU stacks exist. */
__attribute__((aligned(16))) static uint8_t boot_stack[16384];
uint8_t *const boot_stack_top_ptr = boot_stack + sizeof boot_stack;

static struct mb2_info boot_info;
static struct options options;
static struct acpi_madt_info madt;
static int madt_ok;
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

/*
 * The multiboot2 information and the command line, then the console they
 * choose: every message before it waits in the log ring.
 */
static void read_boot_info(uint32_t magic, uint32_t info_phys)
{
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
}

/* UEFI: the firmware's services, its memory map and the next boot stage; BIOS: nothing. */
static void take_firmware(void)
{
    if (boot_info.efi_boot_services)
        efi_take_over(&boot_info, &options);
    print_boot_info(&boot_info);
    if (efi_active() && efi_prepare_next(&options) != 0)
        log_error("UEFI: nothing to start next\n");
    if (!boot_info.has_mmap || boot_info.mmap_count == 0)
        panic("the boot loader gave no memory map; thinvisor cannot choose its region safely");
}

/* The MADT's processors (test_extra_apic adds one that is not there). */
static void read_processors(void)
{
    madt_ok = smp_read_madt(&boot_info, &madt) == 0;
    if (madt_ok && options.test_extra_apic >= 0 && madt.cpu_count < ACPI_MAX_CPUS) {
        log_info("test_extra_apic: listing APIC ID %d, which has no processor\n",
                 options.test_extra_apic);
        madt.cpus[madt.cpu_count++] =
            (struct acpi_cpu){ .apic_id = (uint32_t)options.test_extra_apic, .enabled = true };
    }
}

/*
 * The machine's IOMMUs, from the ACPI DMAR or IVRS (kernel/iommu_tables.h):
 * logged, and handed to DMA protection (iommu/dma_protect.h), which probes
 * the units now and programs them at launch. A table that is malformed is
 * named and set aside, never fatal: the launch then warns that devices can
 * reach the region.
 */
static void read_iommus(void)
{
    static struct iommu_tables iommu;
    char err[200];
    if (!madt_ok)
        return;                        /* no usable RSDP: said already */
    int rc = iommu_read_tables(acpi_map_identity, NULL, madt.rsdp_phys, &iommu, err, sizeof err);
    if (rc < 0) {
        log_warn("%s; IOMMU tables ignored\n", err);
        return;
    }
    if (rc == 0) {
        log_info("IOMMU: none in the ACPI tables\n");
        return;
    }
    log_info("IOMMU: %s at %#llx, %u unit(s), %u-bit addresses, %u range(s) devices keep\n",
             iommu_kind_name(iommu.kind), (unsigned long long)iommu.table_phys,
             iommu.unit_count, iommu.address_bits, iommu.range_count);
    for (uint32_t i = 0; i < iommu.unit_count; i++)
        log_info("IOMMU: unit %u: registers at %#llx, PCI segment %u%s\n", i,
                 (unsigned long long)iommu.units[i].reg_base, iommu.units[i].segment,
                 iommu.units[i].all_devices ? ", every device not listed elsewhere" : "");
    for (uint32_t i = 0; i < iommu.range_count; i++)
        log_info("IOMMU: devices keep %#llx-%#llx\n",
                 (unsigned long long)iommu.ranges[i].base,
                 (unsigned long long)iommu.ranges[i].limit);
    if (iommu.units_dropped || iommu.ranges_dropped)
        log_warn("IOMMU: %u unit(s) beyond the first %u and %u range(s) beyond the first %u "
                 "are ignored\n", iommu.units_dropped, IOMMU_MAX_UNITS, iommu.ranges_dropped,
                 IOMMU_MAX_RANGES);
    dma_protect_plan(&iommu, efi_active());
}

/* Where a register of a GAS lives, for the log: "I/O 0x604" or "memory 0xfed80000". */
static void gas_name(const struct acpi_gas *g, char *buf, size_t len)
{
    fmt_snprintf(buf, len, "%s %#llx", g->space == ACPI_GAS_IO ? "I/O" : "memory",
                 (unsigned long long)g->address);
}

/*
 * Whether the machine offers suspend to RAM, from the FADT, FACS and \_S3
 * (kernel/acpi_sleep.h); with a FADT the backends intercept its PM1 control
 * ports (guest/sleep.c), where guest/s3.c takes each sleep. Where thinvisor
 * cannot watch the sleeps (unreadable tables, hardware-reduced ACPI) the log
 * says so at boot, so that a lost hypervisor after a resume is no surprise.
 */
static void read_sleep_states(void)
{
    static struct acpi_sleep sleep;
    char err[200], where[48], typ[24];
    if (!madt_ok)
        return;                        /* no usable RSDP: said already */
    int rc = acpi_read_sleep(acpi_map_identity, NULL, madt.rsdp_phys, &sleep, err, sizeof err);
    if (rc < 0) {
        log_warn("%s; sleeps are not watched: after a suspend to RAM (S3) the OS would run "
                 "without thinvisor\n", err);
        return;
    }
    if (rc == 1)
        guest_sleep_watch(&sleep);     /* the backends intercept the PM1 control ports */
    if (rc == 0 || !sleep.has_s3) {
        log_info("ACPI S3: not offered (%s)\n", rc == 0 ? "no FADT" : "no \\_S3 in the DSDT");
        return;
    }
    gas_name(sleep.hw_reduced ? &sleep.sleep_control : &sleep.pm1a_cnt, where, sizeof where);
    if (sleep.pm1b_cnt.address)
        fmt_snprintf(typ, sizeof typ, "%u (PM1b: %u)", sleep.s3_typ_a, sleep.s3_typ_b);
    else
        fmt_snprintf(typ, sizeof typ, "%u", sleep.s3_typ_a);
    log_info("ACPI S3: offered: SLP_TYP %s into the %s at %s; FACS at %#llx\n", typ,
             sleep.hw_reduced ? "sleep control register" : "PM1a control block", where,
             (unsigned long long)sleep.facs_phys);
    if (sleep.hw_reduced)
        log_warn("ACPI S3: hardware-reduced ACPI: its sleep control register is not watched: "
                 "after a suspend to RAM the OS would run without thinvisor\n");
}

/*
 * The hypervisor region, sized for the processors and the backend, and the
 * move into it. On UEFI the firmware allocates it; where it refuses, the
 * next stage starts natively.
 */
static void take_region(const struct backend *b, uint32_t info_phys)
{
    uint32_t planned = smp_planned_cpus(&madt, madt_ok, options.cpus);
    uint64_t top = region_phys_top(boot_info.mmap, boot_info.mmap_count);
    if (hv_memory_setup(&boot_info, info_phys, planned, launch_per_cpu_bytes(b),
                        launch_shared_bytes(b, top, planned),
                        efi_active() ? &efi_firmware_memory : NULL,
                        options.test_region_below_1m ? 0xFFFFF : 0xFFFFFFFF) != 0)
        efi_boot_natively("no hypervisor region");
}

void kernel_main(uint32_t magic, uint32_t info_phys, uint64_t entry_tsc)
{
    static char why[256];
    tsc_mark_boot(entry_tsc);
    idt_init();
    gdt_load(&boot_segments);
    log_info("\nthinvisor %s (multiboot2 handoff, boot info at %#x)\n", THINVISOR_VERSION,
             info_phys);
    log_info("timing: multiboot2 entry at TSC %llu\n", (unsigned long long)entry_tsc);

    read_boot_info(magic, info_phys);
    take_firmware();
    tsc_calibrate();
    log_info("TSC: %llu MHz\n", (unsigned long long)(tsc_khz() / 1000));
    read_processors();
    read_iommus();
    read_sleep_states();
    const struct backend *backend = launch_pick_backend(why, sizeof why);
    take_region(backend, info_phys);
    smp_start(&boot_info, &madt, madt_ok, options.cpus, options.x2apic);
    check_all_cpus();
    run_test_fault(options.test_fault);
    log_info("thinvisor: boot ok\n");
    launch_guest(backend, why, &boot_info, &options);
}

/* The image begins with this marker; a guest that can read it sees through the EPT. */
__attribute__((section(".text.magic"), used))
static const char image_magic[16] = TV_IMAGE_MAGIC;
