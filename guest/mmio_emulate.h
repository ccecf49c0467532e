/*
 * A guest store to a page thinvisor write-protects (the xAPIC page while it
 * emulates INIT and SIPI; the read-only status area), done as the CPU would
 * have done it, so that the guest cannot tell: the instruction at its RIP is
 * decoded (guest/insn.c, Zydis), the value computed, the write handed to the
 * page's owner, and the registers and flags the instruction changes updated.
 *
 * Emulated: every store form a compiler or a hand-written driver uses on a
 * device register: MOV (88/89, C6/C7, A2/A3 moffs), MOVNTI, XCHG, STOS with
 * or without REP (one iteration at a time, as the CPU may be interrupted
 * between them), the read-modify-write ALU forms ADD, OR, ADC, SBB, AND,
 * SUB, XOR, INC, DEC, NOT, NEG, and BTS, BTR, BTC; with any prefix, operand
 * and address size, in 16-, 32- and 64-bit code. Plain C: the page is reached
 * through struct mmio_target, so the host tests and the fuzzer (which checks
 * the effect against the CPU running the same bytes) drive it on plain memory.
 */
#ifndef THINVISOR_MMIO_EMULATE_H
#define THINVISOR_MMIO_EMULATE_H

#include <stdint.h>

#include "guest/insn.h"
#include "guest/regs.h"

/*
 * The guest's registers as the emulation reads and writes them: the exit
 * frame's GPRs in place (no copy in and out on every store) and RSP and
 * RFLAGS, which the backend keeps in its VMCS or VMCB. They change only
 * when the outcome is MMIO_DONE or MMIO_AGAIN.
 */
struct mmio_regs {
    struct guest_regs *gpr;       /* every GPR but RSP (guest/regs.h) */
    uint64_t rsp, rflags;
};

/* General register n in the SDM's encoding order (0 RAX ... 4 RSP ... 15 R15). */
static inline uint64_t *mmio_gpr(struct mmio_regs *r, unsigned n)
{
    return guest_gpr(r->gpr, n, &r->rsp);
}

/* The page behind the store: `size` bytes (1, 2, 4, 8) at `offset`, little-endian. */
struct mmio_target {
    uint64_t (*read)(void *ctx, unsigned offset, unsigned size);   /* XCHG, read-modify-write */
    void (*write)(void *ctx, unsigned offset, unsigned size, uint64_t value);
    void *ctx;
};

enum mmio_outcome {
    MMIO_DONE,          /* done: the guest goes on after the instruction */
    MMIO_AGAIN,         /* one iteration of a REP STOS done: the guest runs it again (RIP stays) */
    MMIO_UNSUPPORTED,   /* a valid instruction that is not an emulated store: nothing done */
    MMIO_UNDECODABLE,   /* no valid instruction (the CPU would #UD) */
};

/* RFLAGS bits the arithmetic sets. */
#define MMIO_FLAG_CF (1u << 0)
#define MMIO_FLAG_PF (1u << 2)
#define MMIO_FLAG_AF (1u << 4)
#define MMIO_FLAG_ZF (1u << 6)
#define MMIO_FLAG_SF (1u << 7)
#define MMIO_FLAG_DF (1u << 10)
#define MMIO_FLAG_OF (1u << 11)

struct mmio_result {
    unsigned length;            /* the instruction's bytes (all but MMIO_UNDECODABLE) */
    uint32_t undefined_flags;   /* flags the SDM leaves undefined after it (kept as they were) */
};

/*
 * Emulates the instruction at bytes[0..avail), code of default operand size
 * `mode` bytes (2, 4, 8), whose store faulted at `offset` in the target's
 * page. A store that would leave the page is not emulated.
 */
enum mmio_outcome mmio_emulate(const uint8_t *bytes, unsigned avail, unsigned mode,
                               unsigned offset, const struct mmio_target *t,
                               struct mmio_regs *regs, struct mmio_result *res);

/* The same for an instruction already decoded (insn_decode, insn_decode_cached). */
enum mmio_outcome mmio_emulate_insn(const struct insn *x, unsigned offset,
                                    const struct mmio_target *t, struct mmio_regs *regs,
                                    struct mmio_result *res);

#endif
