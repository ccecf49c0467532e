/*
 * What the ACPI tables say about suspend to RAM (S3), as far as thinvisor
 * must know it to see a sleep coming and to come back from one (issue 25):
 * the FADT's PM1 control registers or, on hardware-reduced ACPI, its sleep
 * control register (ACPI 6.5, 4.8.3 and 5.2.9), the FACS with the waking
 * vector (5.2.10), and the SLP_TYP values of \_S3 and \_S5 in the DSDT
 * (7.4.2).
 * Portable: tests parse fixtures with it.
 */
#ifndef THINVISOR_ACPI_SLEEP_H
#define THINVISOR_ACPI_SLEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi.h"

/* Generic Address Structure (ACPI 6.5, 5.2.3.2); address 0: not there. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1
struct acpi_gas {
    uint8_t space;
    uint8_t bit_width;
    uint64_t address;
};

/* PM1 control register bits (ACPI 6.5, Table 4.16). */
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK  (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN        (1u << 13)

/* FACS fields (ACPI 6.5, Table 5.14): where the firmware's resume path jumps. */
#define FACS_WAKING_VECTOR   12      /* 32 bits: real mode, CS = vector >> 4, IP = vector & 0xF */
#define FACS_X_WAKING_VECTOR 24      /* 64 bits, FACS version 1+: protected or long mode wake */
#define FACS_VERSION         32

struct acpi_sleep {
    uint64_t fadt_phys, facs_phys, dsdt_phys;   /* facs 0: none (hardware-reduced may omit) */
    bool hw_reduced;                            /* FADT flag HW_REDUCED_ACPI */
    struct acpi_gas pm1a_cnt, pm1b_cnt;         /* where a sleep is entered */
    struct acpi_gas sleep_control;              /* hardware-reduced ACPI's instead */
    uint32_t facs_length;
    bool has_s3;                                /* the DSDT names \_S3 */
    uint8_t s3_typ_a, s3_typ_b;                 /* its SLP_TYP for PM1a and PM1b */
    bool has_s5;                                /* \_S5, soft off: what a power-off writes */
    uint8_t s5_typ_a, s5_typ_b;
};

/*
 * Reads the FADT (through the RSDP at rsdp_phys), its FACS and DSDT. Returns
 * 1 with `out` filled, 0 when the root lists no FADT, or -1 with the reason
 * in err: a table that is unreadable, fails its checksum or is malformed.
 */
int acpi_read_sleep(acpi_map_fn map, void *ctx, uint64_t rsdp_phys, struct acpi_sleep *out,
                    char *err, size_t errlen);

/*
 * The real-mode waking vector an OS wrote into the FACS at facs[0..facs_length)
 * (ACPI 6.5, 5.2.10), as the firmware's resume path will use it, when a wake
 * code of `code_bytes` bytes can take its place (guest/s3.c): 0 with it in
 * *vector; -1 with why when the OS asked for a 32- or 64-bit wake
 * (X_Firmware_Waking_Vector, FACS version 1 and up), or when the vector is 0,
 * not 16-byte aligned (the code addresses its data from CS) or leaves no room
 * below 640 KiB.
 */
int acpi_facs_waking_vector(const uint8_t *facs, uint32_t facs_length, size_t code_bytes,
                            uint32_t *vector, char *why, size_t whylen);

/*
 * The two SLP_TYP values of the first Name(_Sn_, Package(){...}) in the AML
 * at aml[0..len), n the sleep state (0 to 5): true with them, false when
 * there is none it can read.
 */
bool acpi_aml_find_sleep_type(const uint8_t *aml, size_t len, unsigned state, uint8_t *typ_a,
                              uint8_t *typ_b);

#endif
