/*
 * libFuzzer target for guest/mmio_emulate.c: any 15 bytes, in 16-, 32- and
 * 64-bit code, either emulate as a store confined to the one page it faulted
 * in, or are refused; and every store it emulates in 64-bit code has the
 * effect the CPU running the same bytes has (tests/fuzz/native_run.S): the
 * same bytes in the page, the same registers, the same status flags (those
 * the SDM defines). The CPU is the reference model: the emulation is checked
 * against hardware, not against a second copy of itself.
 *
 * Input: byte 0 a seed for the flags (and DF), bytes 1-2 the fault's offset
 * in the page, 3-17 the instruction, then the registers' values (16 x 8
 * bytes, what is there), and the page's contents repeat the whole input.
 */
#include <assert.h>
#include <setjmp.h>
#include <stdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "guest/insn.h"
#include "guest/mmio_emulate.h"

struct native_state {
    uint64_t gpr[16];
    uint64_t rflags;
};
void native_run(struct native_state *s, const void *code);
extern char native_return[];

#define STATUS_FLAGS (MMIO_FLAG_CF | MMIO_FLAG_PF | MMIO_FLAG_AF | MMIO_FLAG_ZF | MMIO_FLAG_SF | \
                      MMIO_FLAG_OF)

/* The plain-memory target: a 4 KiB page; an access outside it is the emulation's bug. */
struct plain_page {
    uint8_t *bytes;
};

static uint64_t page_read(void *ctx, unsigned offset, unsigned size)
{
    struct plain_page *p = ctx;
    assert(size == 1 || size == 2 || size == 4 || size == 8);
    assert(offset + size <= 4096);
    uint64_t v = 0;
    memcpy(&v, p->bytes + offset, size);
    return v;
}

static void page_write(void *ctx, unsigned offset, unsigned size, uint64_t value)
{
    struct plain_page *p = ctx;
    assert(size == 1 || size == 2 || size == 4 || size == 8);
    assert(offset + size <= 4096);
    memcpy(p->bytes + offset, &value, size);
}

/*
 * mmio_emulate on registers kept as the CPU's snapshot keeps them (an array
 * in SDM order), which change only when the store was done.
 */
static enum mmio_outcome emulate_once(const uint8_t *insn, unsigned mode, unsigned offset,
                                      const struct mmio_target *t, struct native_state *r,
                                      struct mmio_result *res)
{
    struct guest_regs frame;
    struct mmio_regs m = { .gpr = &frame, .rsp = r->gpr[4], .rflags = r->rflags };
    for (unsigned n = 0; n < 16; n++)
        *mmio_gpr(&m, n) = r->gpr[n];
    enum mmio_outcome o = mmio_emulate(insn, 15, mode, offset, t, &m, res);
    bool done = o == MMIO_DONE || o == MMIO_AGAIN;
    for (unsigned n = 0; n < 16; n++) {
        assert(done || *mmio_gpr(&m, n) == r->gpr[n]);    /* registers change only when done */
        r->gpr[n] = *mmio_gpr(&m, n);
    }
    assert(done || m.rflags == r->rflags);
    r->rflags = m.rflags;
    return o;
}

/*
 * Emulates until the instruction is done (one call per REP iteration, as the
 * exits would come), or once where page_addr is 0 (no real page behind).
 */
static enum mmio_outcome emulate(const uint8_t *insn, unsigned mode, unsigned offset,
                                 uint8_t *bytes, uint64_t page_addr, struct native_state *r,
                                 struct mmio_result *res)
{
    struct plain_page p = { bytes };
    struct mmio_target t = { page_read, page_write, &p };
    enum mmio_outcome o;
    for (int iterations = 0;; iterations++) {
        o = emulate_once(insn, mode, offset, &t, r, res);
        if (o != MMIO_AGAIN || !page_addr)
            return o;
        assert(iterations < 64);
        uint64_t next = r->gpr[7] - page_addr;            /* the next iteration's fault */
        if (next >= 4096)
            return MMIO_DONE;                             /* it leaves the page: not ours */
        offset = (unsigned)next;
    }
}

static sigjmp_buf native_fault;
static volatile sig_atomic_t native_signal;

static void on_fault(int sig)
{
    native_signal = sig;
    siglongjmp(native_fault, 1);
}

/* Runs the instruction on this CPU with r's registers; the signal it raised, or 0. */
static int run_natively(const uint8_t *insn, unsigned length, uint8_t *code,
                        struct native_state *s)
{
    static const uint8_t jump[] = { 0xFF, 0x25, 0, 0, 0, 0 };    /* jmp *0(%rip) */
    uint64_t back = (uint64_t)(uintptr_t)native_return;
    memcpy(code, insn, length);
    memcpy(code + length, jump, sizeof jump);
    memcpy(code + length + sizeof jump, &back, 8);
    struct sigaction sa = { .sa_handler = on_fault, .sa_flags = SA_ONSTACK | SA_NODEFER }, old[3];
    static const int sigs[3] = { SIGSEGV, SIGBUS, SIGILL };
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    native_signal = 0;
    if (sigsetjmp(native_fault, 1) == 0)
        native_run(s, code);
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    return native_signal;
}

/* A page at exactly `addr` (page-aligned), read-write-execute, or NULL where that cannot be. */
static uint8_t *page_at(uint64_t addr, unsigned pages)
{
    if (addr < 0x100000 || addr >= (1ull << 46))
        return NULL;
    void *p = mmap((void *)(uintptr_t)addr, pages * 4096ul, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (p != (void *)(uintptr_t)addr) {
        munmap(p, pages * 4096ul);
        return NULL;
    }
    return p;
}

static uint8_t *low_page, *code_page;

static void setup_once(void)
{
    if (low_page)
        return;
    /* Low enough that 32-bit address arithmetic (the 67 prefix) reaches it. */
    low_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
                    -1, 0);
    code_page = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert(low_page != MAP_FAILED && code_page != MAP_FAILED);
    static uint8_t alt_stack[65536];
    stack_t ss = { .ss_sp = alt_stack, .ss_size = sizeof alt_stack };
    sigaltstack(&ss, NULL);
}

/* The register a memory operand's address uses, as an index into native_state.gpr, or -1. */
static int gpr_of(ZydisRegister reg)
{
    unsigned index, width;
    bool high;
    return reg != ZYDIS_REGISTER_NONE && insn_gpr(reg, &index, &width, &high) ? (int)index : -1;
}

/*
 * Points the instruction's memory operand at the page by choosing the
 * registers it is computed from (or, for an absolute or RIP-relative
 * address, by mapping the page or the code where the address says). Returns
 * the page and sets *code and *offset; NULL where it cannot.
 */
static uint8_t *aim(const struct insn *x, struct native_state *r, unsigned *offset,
                    uint8_t **code, uint8_t **extra)
{
    const ZydisDecodedOperand *mem = x->written_mem >= 0 ? &x->op[x->written_mem] : NULL;
    if (!mem || mem->mem.segment == ZYDIS_REGISTER_FS || mem->mem.segment == ZYDIS_REGISTER_GS)
        return NULL;
    uint64_t amask = x->i.address_width == 32 ? 0xFFFFFFFFull : ~0ull;
    int base = gpr_of(mem->mem.base), index = gpr_of(mem->mem.index);
    uint64_t disp = (uint64_t)mem->mem.disp.value;
    *code = code_page;
    if (mem->mem.base == ZYDIS_REGISTER_RIP || mem->mem.base == ZYDIS_REGISTER_EIP) {
        /* The code goes where the address lands in the page. */
        uint64_t want = (uint64_t)(uintptr_t)low_page + *offset;
        uint64_t at = (want - disp - x->i.length) & amask;
        *extra = page_at(at & ~0xFFFull, 2);
        if (!*extra)
            return NULL;
        *code = *extra + (at & 0xFFF);
        return low_page;
    }
    if (base < 0 && index < 0) {                 /* an absolute address: the page goes there */
        uint64_t ea = disp & amask;
        *extra = page_at(ea & ~0xFFFull, 1);
        *offset = ea & 0xFFF;
        return *extra;
    }
    if (base == index)
        return NULL;
    uint64_t target = (uint64_t)(uintptr_t)low_page + *offset;
    if (base < 0) {                              /* index * scale + disp: the index does it */
        unsigned scale = mem->mem.scale ? mem->mem.scale : 1;
        uint64_t t = (target - disp) & amask, miss = t % scale;
        if (miss > *offset)
            return NULL;
        *offset -= (unsigned)miss;               /* a fault where the index can reach */
        r->gpr[index] = (r->gpr[index] & ~amask) | (t - miss) / scale;
        return low_page;
    }
    if (index >= 0)
        r->gpr[index] = 0;
    r->gpr[base] = (r->gpr[base] & ~amask) | ((target - disp) & amask);
    return low_page;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 18)
        return 0;
    setup_once();
    uint8_t insn[15];
    memcpy(insn, data + 3, 15);
    unsigned offset = (data[1] | data[2] << 8) & 0xFFF;
    struct native_state r0 = { .rflags = 0x2 | (data[0] & STATUS_FLAGS) |
                                      (data[0] & 0x20 ? MMIO_FLAG_DF : 0) };
    for (unsigned i = 0; i < 16 && 18 + 8 * i + 8 <= size; i++)
        memcpy(&r0.gpr[i], data + 18 + 8 * i, 8);
    static uint8_t pattern[4096], emu_bytes[4096];
    for (unsigned i = 0; i < sizeof pattern; i++)
        pattern[i] = data[i % size] ^ (uint8_t)i;

    /* Every mode: an emulated store stays in its page, whatever the bytes (the target asserts). */
    for (unsigned mode = 2; mode <= 8; mode *= 2) {
        struct native_state r = r0;
        struct mmio_result res;
        memcpy(emu_bytes, pattern, sizeof emu_bytes);
        enum mmio_outcome o = emulate(insn, mode, offset, emu_bytes, 0, &r, &res);
        if (o != MMIO_UNDECODABLE)
            assert(res.length >= 1 && res.length <= 15);
    }

    /* 64-bit code: against the CPU. */
    struct insn x;
    struct native_state r = r0;
    struct mmio_result res;
    memcpy(emu_bytes, pattern, sizeof emu_bytes);
    if (insn_decode(insn, 15, 8, &x) != 0 ||
        emulate(insn, 8, offset, emu_bytes, 0, &r, &res) == MMIO_UNSUPPORTED)
        return 0;
    r = r0;
    if (x.i.mnemonic >= ZYDIS_MNEMONIC_STOSB && x.i.mnemonic <= ZYDIS_MNEMONIC_STOSW) {
        unsigned sz = x.i.operand_width / 8;
        offset &= ~(sz - 1);
        r.gpr[1] &= 7;                                    /* a few iterations, in the page */
        unsigned n = x.i.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPNE)
                         ? (unsigned)r.gpr[1] : 1;
        bool down = r.rflags & MMIO_FLAG_DF;
        if (n == 0 || (down ? offset < (n - 1) * sz : offset + n * sz > 4096))
            return 0;
        uint64_t amask = x.i.address_width == 32 ? 0xFFFFFFFFull : ~0ull;
        r.gpr[7] = (r.gpr[7] & ~amask) | ((uint64_t)(uintptr_t)low_page + offset);
    }
    uint8_t *code = code_page, *extra = NULL, *page = low_page;
    if (!(x.i.mnemonic >= ZYDIS_MNEMONIC_STOSB && x.i.mnemonic <= ZYDIS_MNEMONIC_STOSW))
        page = aim(&x, &r, &offset, &code, &extra);
    if (!page)
        return 0;
    uint64_t page_addr = (uint64_t)(uintptr_t)page;
    struct native_state emu_r = r;
    memcpy(emu_bytes, pattern, sizeof emu_bytes);
    enum mmio_outcome o = emulate(insn, 8, offset, emu_bytes, page_addr, &emu_r, &res);
    if (o != MMIO_DONE)
        goto out;                        /* aiming changed a register it reads (BT's offset) */
    memcpy(page, pattern, 4096);
    struct native_state s = r;
    int sig = run_natively(insn, x.i.length, code, &s);
    /* A store the CPU refuses as an instruction must not be emulated. */
    assert(sig != SIGILL);
    if (sig == 0 && memcmp(page, emu_bytes, 4096) != 0) {
        for (unsigned i = 0; i < 4096; i++)          /* what differs, for the crash report */
            if (page[i] != emu_bytes[i])
                fprintf(stderr, "fuzz_mmio: byte %#x: CPU %02x, emulation %02x (fault offset %#x,"
                        " page %p)\n", i, page[i], emu_bytes[i], offset, (void *)page);
    }
    if (sig == 0) {
        assert(memcmp(page, emu_bytes, 4096) == 0);
        for (unsigned i = 0; i < 16; i++)
            assert(s.gpr[i] == emu_r.gpr[i]);
        uint64_t defined = (STATUS_FLAGS | MMIO_FLAG_DF) & ~res.undefined_flags;
        assert((s.rflags & defined) == (emu_r.rflags & defined));
    }
out:
    if (extra)
        munmap(extra, code == code_page ? 4096 : 8192);
    return 0;
}
