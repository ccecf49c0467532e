/* mm/guest_walk.c: guest linear to physical in every paging mode, on a fake guest memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kernel/cr_bits.h"
#include "mm/guest_walk.h"

#define MEM_SIZE 0x20000
static uint8_t mem[MEM_SIZE];
static unsigned reads;

static bool read_mem(uint64_t gpa, void *buf, unsigned len, void *ctx)
{
    (void)ctx;
    reads++;
    if (gpa + len > MEM_SIZE)
        return false;
    memcpy(buf, mem + gpa, len);
    return true;
}

static void put32(uint64_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(uint64_t at, uint64_t v) { memcpy(mem + at, &v, 8); }

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof mem);
    reads = 0;
    return 0;
}

static bool walk(const struct guest_paging *p, uint64_t la, uint64_t *gpa)
{
    return guest_linear_to_phys(p, la, read_mem, NULL, gpa);
}

static void no_paging_is_identity(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE };
    uint64_t gpa;
    assert_true(walk(&p, 0xFEE00300, &gpa));
    assert_int_equal(gpa, 0xFEE00300);
    assert_int_equal(reads, 0);
}

static void paging_32bit_4k_and_4m(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PSE };
    put32(0x1000 + 1 * 4, 0x2000 | 1);                    /* PDE 1 -> page table */
    put32(0x2000 + 5 * 4, 0x7000 | 1);                    /* PTE 5 -> 0x7000 */
    put32(0x1000 + 2 * 4, 0x12800000 | 0x80 | 1 | (3u << 13));  /* 4 MiB, PSE-36 bits = 3 */
    uint64_t gpa;
    assert_true(walk(&p, 0x00405123, &gpa));
    assert_int_equal(gpa, 0x7123);
    assert_true(walk(&p, 0x00812345, &gpa));
    assert_int_equal(gpa, 0x312812345ull);
    /* Without CR4.PSE the PS bit means nothing: the PDE points at a "page table" at
     * 0x12800000, beyond this guest's memory, so the walk fails. */
    p.cr4 = 0;
    assert_false(walk(&p, 0x00812345, &gpa));
}

static void paging_pae_2m_and_4k(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x3020, .cr4 = CR4_PAE };
    put64(0x3020 + 1 * 8, 0x4000 | 1);                    /* PDPTE 1 (32-byte aligned PDPT) */
    put64(0x4000 + 3 * 8, 0x40000000 | 0x80 | 1);         /* PDE 3: 2 MiB page */
    put64(0x4000 + 4 * 8, 0x5000 | 1);                    /* PDE 4 -> page table */
    put64(0x5000 + 7 * 8, 0x9000 | 1);
    uint64_t gpa;
    assert_true(walk(&p, 0x40601234, &gpa));
    assert_int_equal(gpa, 0x40001234);
    assert_true(walk(&p, 0x40807056, &gpa));
    assert_int_equal(gpa, 0x9056);
    assert_false(walk(&p, 0x00001000, &gpa));             /* PDPTE 0 not present */
}

static void paging_4level_1g_and_4k(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x6000, .cr4 = CR4_PAE,
                              .efer = EFER_LME | EFER_LMA };
    put64(0x6000 + 511 * 8, 0x7000 | 3);                  /* PML4 511 */
    put64(0x7000 + 510 * 8, 0x8000 | 3);                  /* PDPT 510 -> PD */
    put64(0x8000 + 0 * 8, 0x9000 | 3);                    /* PD 0 -> PT */
    put64(0x9000 + 1 * 8, 0xA000 | 3 | (1ull << 63));     /* PT 1, XD set: still translates */
    put64(0x7000 + 509 * 8, 0x40000000 | 0x80 | 3);       /* PDPT 509: 1 GiB page */
    uint64_t gpa;
    assert_true(walk(&p, 0xFFFFFFFF80001234ull, &gpa));
    assert_int_equal(gpa, 0xA234);
    assert_true(walk(&p, 0xFFFFFFFF40005678ull, &gpa));
    assert_int_equal(gpa, 0x40005678);
    assert_false(walk(&p, 0x0000000000401000ull, &gpa)); /* PML4 0 not present */
}

/* The leaf entry of a 4 KiB page (guest/leave.c edits it); none for a large page or under XD. */
static void pte_address_4level(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x6000 | 0x803, .cr4 = CR4_PAE,
                              .efer = EFER_LME | EFER_LMA };
    put64(0x6000 + 255 * 8, 0x7000 | 7);                  /* PML4 255: user */
    put64(0x7000 + 3 * 8, 0x8000 | 7);                    /* PDPT 3 -> PD */
    put64(0x8000 + 4 * 8, 0x9000 | 7);                    /* PD 4 -> PT */
    put64(0x9000 + 5 * 8, 0xA000 | 7 | (1ull << 63));     /* PT 5: the page, XD set */
    put64(0x8000 + 6 * 8, 0x200000 | 0x80 | 7);           /* PD 6: a 2 MiB page */
    put64(0x7000 + 7 * 8, (0xB000 | 7) | (1ull << 63));   /* PDPT 7: XD above the leaf */
    put64(0xB000, 0xC000 | 7);
    put64(0xC000, 0xD000 | 7);
    uint64_t va = 255ull << 39 | 3ull << 30 | 4ull << 21 | 5ull << 12, pte;
    assert_true(guest_pte_address(&p, va + 0x123, read_mem, NULL, &pte));
    assert_int_equal(pte, 0x9000 + 5 * 8);
    assert_false(guest_pte_address(&p, va - (4ull << 21) + (6ull << 21), read_mem, NULL, &pte));
    assert_false(guest_pte_address(&p, 255ull << 39 | 7ull << 30, read_mem, NULL, &pte));
    assert_false(guest_pte_address(&p, va + 4096, read_mem, NULL, &pte));   /* PT 6 absent */
    p.efer = 0;                                           /* no long mode: no such entry */
    assert_false(guest_pte_address(&p, va, read_mem, NULL, &pte));
}

static void paging_5level(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE | CR4_LA57,
                              .efer = EFER_LME | EFER_LMA };
    put64(0x1000 + 1 * 8, 0x2000 | 1);                    /* PML5 1 */
    put64(0x2000, 0x3000 | 1);
    put64(0x3000, 0x4000 | 1);
    put64(0x4000 + 1 * 8, 0x200000 | 0x80 | 1);           /* PD 1: 2 MiB page */
    uint64_t gpa;
    assert_true(walk(&p, (1ull << 48) | 0x201234, &gpa));
    assert_int_equal(gpa, 0x201234);
}

static void unreadable_table_fails(void **state)
{
    (void)state;
    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE,
                              .efer = EFER_LMA };
    put64(0x1000, 0x10000000 | 1);                        /* PML4 0 -> beyond guest memory */
    uint64_t gpa;
    assert_false(walk(&p, 0x1000, &gpa));
}

/*
 * The instruction at CS:RIP: real mode adds CS.base and wraps at 4 GiB; a 32-bit
 * paged guest's instruction crossing into the next page is read from both
 * pages; fewer bytes come back where the next page is not mapped.
 */
static void fetch_code(void **state)
{
    (void)state;
    uint8_t buf[INSN_MAX_LEN];
    struct guest_code_at real = { .paging = { .cr0 = 0 }, .rip = 0x0123, .cs_base = 0x7C00,
                                  .mode = guest_code_mode(0, false, false) };
    assert_int_equal(real.mode, 2);
    memcpy(mem + 0x7D23, "\x0f\xa2", 2);
    assert_int_equal(guest_fetch_code(&real, read_mem, NULL, buf), INSN_MAX_LEN);
    assert_memory_equal(buf, "\x0f\xa2", 2);

    struct guest_paging p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000 };
    put32(0x1000, 0x2000 | 1);                            /* PDE 0 -> page table */
    put32(0x2000 + 3 * 4, 0x9000 | 1);                    /* 0x3000 -> 0x9000 */
    put32(0x2000 + 4 * 4, 0x5000 | 1);                    /* 0x4000 -> 0x5000 */
    memcpy(mem + 0x9FFE, "\x66\x0f", 2);
    memcpy(mem + 0x5000, "\xa2", 1);
    struct guest_code_at paged = { .paging = p, .rip = 0x3FFE, .cs_base = 0,
                                   .mode = guest_code_mode(0, false, true) };
    assert_int_equal(paged.mode, 4);
    assert_int_equal(guest_fetch_code(&paged, read_mem, NULL, buf), INSN_MAX_LEN);
    assert_memory_equal(buf, "\x66\x0f\xa2", 3);

    paged.rip = 0x4FFE;                                   /* 0x5000 is not mapped */
    put32(0x2000 + 4 * 4, 0x9000 | 1);
    assert_int_equal(guest_fetch_code(&paged, read_mem, NULL, buf), 2);
    assert_int_equal(guest_code_mode(EFER_LMA, true, false), 8);
    assert_int_equal(guest_code_mode(EFER_LMA, false, true), 4);   /* compatibility mode */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(no_paging_is_identity, setup),
        cmocka_unit_test_setup(paging_32bit_4k_and_4m, setup),
        cmocka_unit_test_setup(paging_pae_2m_and_4k, setup),
        cmocka_unit_test_setup(paging_4level_1g_and_4k, setup),
        cmocka_unit_test_setup(paging_5level, setup),
        cmocka_unit_test_setup(pte_address_4level, setup),
        cmocka_unit_test_setup(unreadable_table_fails, setup),
        cmocka_unit_test_setup(fetch_code, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
