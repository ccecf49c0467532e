/* The kernel command line (the words after the image in the GRUB entry). */
#ifndef THINVISOR_CMDLINE_H
#define THINVISOR_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#define CMDLINE_MAX_LEN   1024      /* longer command lines are cut, with a warning */
#define CMDLINE_MAX_CPUS  256
#define CMDLINE_MAX_EFI_PATH 255    /* efi_next=: as efi/path.h's EFI_PATH_MAX_CHARS */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

enum test_fault { TEST_FAULT_NONE, TEST_FAULT_UD, TEST_FAULT_GP, TEST_FAULT_PF, TEST_FAULT_DE };

struct options {
    uint16_t console_port;    /* I/O port of the 16550 UART; 0: no serial console */
    uint32_t console_baud;
    enum log_level loglevel;
    uint32_t cpus;            /* upper bound on processors to bring up; 0: all */
    int boot_drive;           /* BIOS drive number to chainload; -1: default */
    bool strict;              /* halt, not boot natively, when neither VMX nor SVM starts */
    bool x2apic;              /* use x2APIC mode even where xAPIC would do */
    bool emulate_sipi;        /* start guest APs without the wait-for-SIPI state */
    bool test_exit;           /* end the emulator when done (test runs only) */
    bool test_region_below_1m; /* test runs only: UEFI: ask the firmware for the region below
                                  1 MiB, where it has no room, to see the refusal handled */
    bool test_no_efi_system_table; /* test runs only: UEFI: as if GRUB gave no system table */
    enum test_fault test_fault;
    int test_extra_apic;      /* test runs only: an APIC ID with no CPU behind it; -1: none */
    int test_fail_cpu;        /* test runs only: this CPU index refuses virtualization; -1: none */
    char efi_next[CMDLINE_MAX_EFI_PATH + 1];  /* UEFI: the next loader's file; "": default */
    bool efi_next_bootorder;  /* UEFI: efi_next=bootorder, the boot manager's next option */
};

/* The values a missing option takes: see docs/command-line.md. */
void cmdline_defaults(struct options *opt);

/* Receives each warning (unknown key, invalid value, ...) as one line. */
typedef void (*cmdline_warn_fn)(void *ctx, const char *message);

/*
 * Parses `cmdline` (may be NULL) over the defaults already in *opt. Every
 * problem is reported through `warn` and leaves the option at its default;
 * parsing never stops early. Returns the number of warnings.
 */
int cmdline_parse(const char *cmdline, struct options *opt, cmdline_warn_fn warn,
                  void *ctx);

#endif
