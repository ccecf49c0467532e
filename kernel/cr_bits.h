/*
 * Control-register, EFER and RFLAGS bits thinvisor reads or sets (SDM Vol.
 * 3A, 2.5, 2.2.1 and 2.3), and the CR0 that power-up and INIT leave. Plain
 * constants, so portable code can use them too.
 */
#ifndef THINVISOR_CR_BITS_H
#define THINVISOR_CR_BITS_H

#define CR0_PE      (1ull << 0)
#define CR0_ET      (1ull << 4)
#define CR0_NW      (1ull << 29)
#define CR0_CD      (1ull << 30)
#define CR0_PG      (1ull << 31)
#define CR4_PSE     (1ull << 4)
#define CR4_PAE     (1ull << 5)
#define CR4_PGE     (1ull << 7)
#define CR4_LA57    (1ull << 12)
#define CR4_VMXE    (1ull << 13)
#define CR4_PCIDE   (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE     (1ull << 22)
#define EFER_LME    (1ull << 8)
#define EFER_LMA    (1ull << 10)
#define EFER_NXE    (1ull << 11)
#define RFLAGS_TF   (1ull << 8)    /* trap flag: a #DB after the next instruction */
#define RFLAGS_RF   (1ull << 16)   /* resume flag: no instruction breakpoint on the next one */
#define RFLAGS_VM   (1ull << 17)   /* virtual-8086 mode */

/*
 * CR0 at power-up is 60000010H; INIT keeps CD and NW as they were and sets
 * ET (SDM Vol. 3A, 10.1.1, Table 10-1).
 */
#define POWER_UP_CR0 (CR0_CD | CR0_NW | CR0_ET)

static inline unsigned long long cr0_after_init(unsigned long long cr0)
{
    return (cr0 & (CR0_CD | CR0_NW)) | CR0_ET;
}

#endif
