/*
 * The hypervisor's segment descriptors. Long mode needs few; each processor
 * needs its own TSS (loading TR marks the descriptor busy), and VM exits load
 * the host TR from the VMCS, where a null TR is not allowed (SDM Vol. 3C, 28.2.3).
 */
#ifndef THINVISOR_GDT_H
#define THINVISOR_GDT_H

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS         0x18

#ifndef __ASSEMBLER__
#include <stdint.h>

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

/* One processor's GDT and TSS. */
struct cpu_segments {
    uint64_t gdt[5];
    struct tss64 tss;
};

/* Fills `seg`, loads its GDT, reloads every segment register and loads its TSS. */
void gdt_load(struct cpu_segments *seg);
#endif

#endif
