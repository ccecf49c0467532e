/*
 * The guest's first state when it continues a 64-bit context instead of
 * starting a boot sector: on UEFI, the firmware's own (efi/next_stage.h).
 * Both backends write it out (their launch_bsp_long_mode, guest/backend.h).
 */
#ifndef THINVISOR_GUEST_LONG_MODE_H
#define THINVISOR_GUEST_LONG_MODE_H

#include <stdint.h>

#include "kernel/segment.h"

struct guest_long_mode {
    uint64_t cr0, cr3, cr4, efer, pat;
    uint64_t rflags, rip, rsp;
    uint64_t kernel_gs_base;               /* SVM's VMLOAD loads it; VMX leaves the MSR */
    struct segment seg[SEG_COUNT];         /* FS and GS bases as their MSRs hold them */
    uint64_t gdtr_base, idtr_base;
    uint16_t gdtr_limit, idtr_limit;
};

#endif
