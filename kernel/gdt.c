/*
 * GDT and TSS setup. The boot stub's and the AP trampoline's GDTs live in
 * low memory that the guest will own; these live in the hypervisor region.
 */
#include "kernel/gdt.h"

#include "kernel/x86.h"

void gdt_load(struct cpu_segments *seg)
{
    uint64_t base = (uint64_t)&seg->tss;
    uint64_t limit = sizeof seg->tss - 1;
    seg->gdt[0] = 0;
    seg->gdt[1] = 0x00AF9A000000FFFFull;            /* 64-bit code, DPL 0 */
    seg->gdt[2] = 0x00CF92000000FFFFull;            /* data, DPL 0 */
    /* 64-bit TSS descriptor (SDM Vol. 3A, 8.2.3): type 9 (available), present. */
    seg->gdt[3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
                  ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
    seg->gdt[4] = base >> 32;
    seg->tss.iomap_base = sizeof seg->tss;          /* no I/O permission bitmap */

    struct descriptor_ptr p = { sizeof seg->gdt - 1, (uint64_t)seg->gdt };
    lgdt(&p);
    __asm__ volatile(
        "pushq %[cs]\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w[ds], %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        :
        : [cs] "i"(GDT_KERNEL_CODE), [ds] "i"(GDT_KERNEL_DATA)
        : "rax", "memory");
    ltr(GDT_TSS);
}
