/*
 * Segment registers as a processor holds them (selector, base, limit,
 * attributes), taken from the descriptor a selector names. The guest on
 * UEFI starts in the firmware's long-mode context, whose segments are
 * known only as selectors into the firmware's GDT; VMX and SVM both want
 * them written out. Portable C: the descriptors come in as bytes.
 */
#ifndef THINVISOR_SEGMENT_H
#define THINVISOR_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Attributes in the VMCS access-rights layout (SDM Vol. 3C, 25.4.1): bits
 * 0-7 type, S, DPL, P; bits 12-15 AVL, L, D/B, G; bit 16 "unusable".
 * vmcb_attrib() (svm/vmcb.h) packs the same bits into the VMCB's 12.
 */
#define SEG_AR_TYPE_ACCESSED (1u << 0)
#define SEG_AR_S             (1u << 4)    /* code or data (not a system descriptor) */
#define SEG_AR_P             (1u << 7)
#define SEG_AR_L             (1u << 13)   /* 64-bit code */
#define SEG_AR_DB            (1u << 14)   /* 32-bit default operand size */
#define SEG_AR_G             (1u << 15)   /* limit in 4-KiB units */
#define SEG_AR_UNUSABLE      (1u << 16)
#define SEG_AR_TSS64_BUSY    0x8Bu        /* present, system, type 11 */

/* The order of the VMCS's guest segment fields (ES first, Appendix B). */
enum segment_reg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR,
                   SEG_COUNT };

struct segment {
    uint16_t sel;
    uint64_t base;
    uint32_t limit;                       /* in bytes - 1, granularity applied */
    uint32_t ar;
};

/* Reads len bytes at addr (in the GDT's address space) into buf; false if it cannot. */
typedef bool (*segment_read_fn)(uint64_t addr, void *buf, unsigned len, void *ctx);

/*
 * The segment `reg` holds after loading `sel` from the GDT at gdt_base, of
 * limit gdt_limit (SDM Vol. 3A, 3.4.5; LDTR and TR take 16-byte descriptors
 * in IA-32e mode, 8.2.3), its one descriptor read through `read` (the GDT
 * can be 64 KiB: no copy of it). A null selector leaves data segments and
 * LDTR unusable; a null TR (the firmware never loaded one) is a busy 64-bit
 * TSS at 0, as VM entry wants TR usable (26.3.1.2). The accessed bit is set,
 * as loading the register would. 0, or -1 with the reason in why: a selector
 * in the LDT or past the GDT, a descriptor of the wrong kind, not present or
 * unreadable.
 */
int segment_from_gdt(uint64_t gdt_base, uint32_t gdt_limit, enum segment_reg reg, uint16_t sel,
                     segment_read_fn read, void *ctx, struct segment *out, char *why,
                     size_t whylen);

/* Its name in messages: "ES" ... "TR". */
const char *segment_reg_name(enum segment_reg reg);

#endif
