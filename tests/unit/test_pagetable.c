/* mm/pagetable.c: the hypervisor's mappings translate as built, with the page sizes asked for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "mm/pagetable.h"

#define ARENA_BASE  0x40000000ull
#define ARENA_PAGES 64

static uint8_t *arena;
static struct page_alloc alloc;
static struct pt_ctx ctx;

static void *arena_virt(uint64_t phys)
{
    assert_true(phys >= ARENA_BASE && phys < ARENA_BASE + ARENA_PAGES * 4096ull);
    return arena + (phys - ARENA_BASE);
}

static int setup(void **state)
{
    (void)state;
    arena = aligned_alloc(4096, ARENA_PAGES * 4096);
    page_alloc_init(&alloc, ARENA_BASE, ARENA_PAGES * 4096);
    ctx = (struct pt_ctx){ &alloc, arena_virt };
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(arena);
    return 0;
}

static void identity_with_1g_pages(void **state)
{
    (void)state;
    uint64_t pml4 = pt_new_table(&ctx);
    assert_int_equal(pt_map(&ctx, pml4, 0, 0, 4ull << 30, 1ull << 30, PTE_WRITABLE), 0);
    assert_int_equal(alloc.used, 2);                      /* PML4 + one PDPT */
    assert_int_equal(pt_translate(&ctx, pml4, 0x12345678), 0x12345678);
    assert_int_equal(pt_translate(&ctx, pml4, 0xFEE00000), 0xFEE00000);
    assert_int_equal(pt_translate(&ctx, pml4, 4ull << 30), -1);
    uint64_t *pdpt = arena_virt(((uint64_t *)arena_virt(pml4))[0] & PTE_ADDR_MASK);
    assert_true(pdpt[3] & PTE_LARGE);
    assert_true(pdpt[3] & PTE_WRITABLE);
}

static void identity_with_2m_pages(void **state)
{
    (void)state;
    uint64_t pml4 = pt_new_table(&ctx);
    assert_int_equal(pt_map(&ctx, pml4, 0, 0, 2ull << 30, 2ull << 20, PTE_WRITABLE), 0);
    assert_int_equal(alloc.used, 1 + 1 + 2);              /* PML4, PDPT, two PDs */
    assert_int_equal(pt_translate(&ctx, pml4, 0x7FFFFFFF), 0x7FFFFFFF);
    assert_int_equal(pt_translate(&ctx, pml4, 0x80000000), -1);
}

static void image_at_kernel_vbase(void **state)
{
    (void)state;
    uint64_t pml4 = pt_new_table(&ctx);
    assert_int_equal(pt_map(&ctx, pml4, KERNEL_VBASE, 0x7FFB4000, 5 * 4096, 4096,
                            PTE_WRITABLE), 0);
    assert_int_equal(pt_translate(&ctx, pml4, KERNEL_VBASE), 0x7FFB4000);
    assert_int_equal(pt_translate(&ctx, pml4, KERNEL_VBASE + 4 * 4096 + 7), 0x7FFB8007);
    assert_int_equal(pt_translate(&ctx, pml4, KERNEL_VBASE + 5 * 4096), -1);
    assert_int_equal(((uint64_t *)arena_virt(pml4))[511] & PTE_PRESENT, PTE_PRESENT);
}

static void rejects_bad_requests(void **state)
{
    (void)state;
    uint64_t pml4 = pt_new_table(&ctx);
    assert_int_equal(pt_map(&ctx, pml4, 0x1000, 0, 2ull << 20, 2ull << 20, 0), -1);
    assert_int_equal(pt_map(&ctx, pml4, 0, 0, 4096, 8192, 0), -1);
    /* A 4 KiB page inside an existing 2 MiB page is a collision, not a silent split. */
    assert_int_equal(pt_map(&ctx, pml4, 0, 0, 2ull << 20, 2ull << 20, 0), 0);
    assert_int_equal(pt_map(&ctx, pml4, 0x1000, 0x1000, 4096, 4096, 0), -1);
}

static void runs_out_of_pages(void **state)
{
    (void)state;
    page_alloc_init(&alloc, ARENA_BASE, 3 * 4096);
    uint64_t pml4 = pt_new_table(&ctx);
    /* Needs PML4 + PDPT + PD + PT = 4 pages; only 3 exist. */
    assert_int_equal(pt_map(&ctx, pml4, 0, 0, 4096, 4096, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(identity_with_1g_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(identity_with_2m_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(image_at_kernel_vbase, setup, teardown),
        cmocka_unit_test_setup_teardown(rejects_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(runs_out_of_pages, setup, teardown),
    };
    return cmocka_run_group_tests_name("pagetable", tests, NULL, NULL);
}
