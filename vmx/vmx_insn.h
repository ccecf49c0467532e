/*
 * VMX instructions. Each reports failure the SDM way (Vol. 3C, 31.2): CF=1
 * VMfailInvalid, ZF=1 VMfailValid (then the VMCS holds an error number).
 * Returns 0 on success, 1 for VMfailInvalid, 2 for VMfailValid.
 */
#ifndef THINVISOR_VMX_INSN_H
#define THINVISOR_VMX_INSN_H

#include <stdint.h>

#define VMX_STATUS(cf, zf) ((cf) ? 1 : (zf) ? 2 : 0)

static inline int vmxon(uint64_t phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmxoff(void)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxoff" : "=@ccc"(cf), "=@ccz"(zf) :: "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmclear(uint64_t phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmptrld(uint64_t phys)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(phys) : "memory");
    return VMX_STATUS(cf, zf);
}

static inline int vmwrite(uint64_t field, uint64_t value)
{
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %3, %2" : "=@ccc"(cf), "=@ccz"(zf) : "r"(field), "rm"(value)
                     : "memory");
    return VMX_STATUS(cf, zf);
}

static inline uint64_t vmread(uint64_t field)
{
    uint64_t value = 0;
    __asm__ volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
    return value;
}

struct invept_desc {
    uint64_t eptp;
    uint64_t reserved;
};

/* type 1: single context, 2: all contexts (SDM Vol. 3C, 31.3, INVEPT) */
static inline int invept(uint64_t type, uint64_t eptp)
{
    struct invept_desc d = { eptp, 0 };
    uint8_t cf, zf;
    __asm__ volatile("invept %2, %3" : "=@ccc"(cf), "=@ccz"(zf) : "m"(d), "r"(type) : "memory");
    return VMX_STATUS(cf, zf);
}

#endif
