/*
 * Leaving virtualization at run time (TV_HC_OFF, `thinctl off`; issue 25).
 * Each CPU that makes the call leaves on its own: the backend reads the
 * guest's state into a struct leave_frame, turns virtualization off and
 * jumps to guest/leave_stub.asm, which loads the guest's control registers,
 * descriptor tables and registers and returns to the guest's next
 * instruction with IRETQ, natively. The stub runs from a page the caller gave
 * up: thinvisor's own code is not mapped in the guest's tables, so the page
 * is mapped at the same linear address in both, and the guest's entry for it
 * made a supervisor one (SMEP and SMAP then allow it at CPL 0; the caller's
 * CPL 3 can no longer use it). The last CPU to leave (the caller says which:
 * the OS knows which CPUs it keeps offline, thinvisor does not) takes every
 * other CPU out too: one that waits for a SIPI, and one the OS parked in its
 * own code (Linux halts an offline CPU with interrupts off), kicked out of it;
 * each leaves in the host and an INIT puts it in wait-for-SIPI natively,
 * where the OS's INIT-SIPI-SIPI, which would discard its state anyway,
 * finds it.
 *
 * What stays: the hypervisor region (reserved in the memory map), the IOMMU
 * units' translation (devices still kept out of the region), the ACPI tables
 * as thinvisor left them; and the status area, which then says it is off.
 */
#ifndef THINVISOR_GUEST_LEAVE_H
#define THINVISOR_GUEST_LEAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest/regs.h"
#include "mm/guest_walk.h"
#include "smp/percpu.h"

/* A GDTR or IDTR as LGDT and LIDT read it (at &limit), its base aligned. */
struct leave_table_register {
    uint16_t pad[3];
    uint16_t limit;
    uint64_t base;
};

#define LEAVE_LOAD_SEGMENTS 1u     /* VT-x: LDTR, TR, FS, GS from the frame (SVM: VMLOAD) */
#define LEAVE_STGI          2u     /* SVM: STGI before EFER (without SVME) is written */

/* What the stub loads; offsets fixed by guest/leave_stub.asm. */
struct leave_frame {
    uint64_t cr0, cr3, cr4, efer, dr7, fs_base, gs_base;
    struct leave_table_register gdtr, idtr;
    uint16_t ds, es, fs, gs, ldtr, tr;
    uint32_t flags;                   /* LEAVE_* */
    struct guest_regs gprs;
    uint64_t rip, cs, rflags, rsp, ss;   /* the IRETQ frame */
};
_Static_assert(offsetof(struct leave_frame, gdtr) == 56 && offsetof(struct leave_frame, idtr) == 72 &&
               offsetof(struct leave_frame, ds) == 88 && offsetof(struct leave_frame, tr) == 98 &&
               offsetof(struct leave_frame, flags) == 100 && offsetof(struct leave_frame, gprs) == 104 &&
               offsetof(struct leave_frame, rip) == 224 && sizeof(struct leave_frame) == 264,
               "guest/leave_stub.asm reads the frame at these offsets");

/* What a backend reads out of its VMCS or VMCB for the checks. */
struct leave_request {
    uint64_t token;            /* RBX */
    uint64_t page;             /* RDX: the page's linear address */
    unsigned cpl;
    struct guest_paging paging;
    bool last;                 /* RCX bit 0: the caller's last CPU; the others are offline */
    bool event_due;            /* interrupt shadow, an NMI owed, a pending #DB or injection */
    void (*wake_waiting)(struct percpu *c);   /* makes a CPU waiting for a SIPI look */
};

#define LEAVE_UD 0xFFFFFFFFu   /* leave_check: refuse as an unknown call from CPL 3 is (#UD) */

struct backend;

/*
 * At launch, on the BSP: the token in the status area, the page tables the
 * stubs need, and the backend whose leave_cpu the waiting CPUs use.
 */
void leave_setup(const struct backend *b);

/* Region budget for leave_setup's page tables, bytes. */
uint64_t leave_budget(void);

/*
 * Whether this call may leave: TV_STATUS_OK, another TV_STATUS_* for the
 * caller's EAX, or LEAVE_UD (a wrong token from CPL 3, or from anyone once
 * too many were wrong). No state changes but the count of wrong tokens.
 */
uint32_t leave_check(struct percpu *cpu, const struct leave_request *q);

/*
 * After leave_check said OK and the backend filled `f` (but RAX): the page
 * made the stub's (its entry a supervisor one, mapped in thinvisor's tables
 * too, the stub and frame in it), the CPU counted out, and, on the last CPU
 * to leave, the waiting CPUs taken out and the exit counts logged. The
 * guest's TSS descriptor loses its busy bit when the stub loads TR
 * (LEAVE_LOAD_SEGMENTS). TV_STATUS_OK, or a TV_STATUS_* with nothing changed.
 * The backend then turns virtualization off and jumps to the page.
 */
uint32_t leave_commit(struct percpu *cpu, const struct leave_request *q, struct leave_frame *f);

/*
 * Once the last CPU left, every other one is asked to: a CPU that waits for
 * a SIPI checks this where it waits (VT-x: the SIPI exit its wake_waiting
 * sends; in the host: its wait loop), one in the guest's code at the park
 * check that ends each exit (guest_s3_take_park), after a kick.
 */
bool leave_waiting_cpus_asked(void);

/*
 * On a waiting CPU, in the host, once leave_waiting_cpus_asked(): the
 * backend's leave_cpu turns virtualization off, the CPU is counted out and
 * halts until the INIT that the last CPU sends puts it in wait-for-SIPI.
 */
void leave_waiting_cpu(struct percpu *cpu) __attribute__((noreturn));

/*
 * Where the backend jumps, once virtualization is off, to reach the stub: 0
 * for the stub itself, else the way through a switch to 5-level paging (the
 * guest's CR4.LA57, which thinvisor's own tables lack).
 */
uint64_t leave_via(const struct leave_request *q);

/* guest/leave_stub.asm */
extern const uint8_t leave_stub[], leave_stub_end[];
extern const uint32_t leave_frame_offset;   /* the frame's place in the page, after the code */
void leave_jump(uint64_t page, uint64_t via) __attribute__((noreturn));
void leave_jump_svm(uint64_t page, uint64_t guest_vmcb, uint64_t via) __attribute__((noreturn));

#endif
