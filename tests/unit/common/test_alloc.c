/* Tests of src/common/alloc.c and error.c: fault injection, checked sizes, error names. */
#include <criterion/criterion.h>

#include "common/alloc.h"
#include "corridor/error.h"
#include "corridor/ledger.h"

Test(common_alloc, fails_exactly_the_nth_allocation)
{
    cor_alloc_fail_after(2);
    void *first = cor_alloc(16);
    void *second = cor_alloc(16);
    void *third = cor_alloc(16);
    cr_assert_not_null(first);
    cr_assert_null(second);
    cr_assert_not_null(third);
    cor_free(first);
    cor_free(third);
    cor_alloc_fail_after(0);
}

Test(common_alloc, checked_size_arithmetic)
{
    size_t out = 5;
    cr_assert_not(cor_size_mul(SIZE_MAX / 2 + 1, 2, &out));
    cr_assert_eq(out, 5);
    cr_assert(cor_size_mul(0, SIZE_MAX, &out));
    cr_assert_eq(out, 0);
    cr_assert_not(cor_size_add(SIZE_MAX, 1, &out));
    cr_assert(cor_size_add(2, 3, &out));
    cr_assert_eq(out, 5);
    cr_assert_null(cor_calloc(SIZE_MAX / 2, 4));
}

Test(common_alloc, ledger_open_fails_cleanly_at_every_allocation)
{
    /* Fail each allocation of cor_ledger_open in turn: always COR_ERR_NOMEM, never a leak or
     * a crash (ASan checks the former in the sanitizer build). */
    cor_ledger_options options = {.accounts_max = 8, .transfers_max = 8,
                                  .pending_transfers_max = 4};
    for (uint64_t n = 1; n < 64; n++) {
        cor_ledger *ledger = (cor_ledger *)0x1;
        cor_alloc_fail_after(n);
        cor_error rc = cor_ledger_open(&options, &ledger);
        cor_alloc_fail_after(0);
        if (rc == COR_OK) {
            cr_assert_not_null(ledger);
            cor_ledger_close(ledger);
            cr_assert_gt(n, 3, "open made at least a few allocations");
            return;
        }
        cr_assert_eq(rc, COR_ERR_NOMEM);
        cr_assert_null(ledger);
    }
    cr_assert_fail("cor_ledger_open never succeeded");
}

Test(common_error, names_and_texts)
{
    cr_assert_str_eq(cor_error_name(COR_OK), "COR_OK");
    cr_assert_str_eq(cor_error_name(COR_ERR_IO), "COR_ERR_IO");
    cr_assert_str_eq(cor_strerror(COR_ERR_NOMEM), "memory exhausted");
    cr_assert_str_eq(cor_strerror((cor_error)9999), "unknown error");
    cr_assert_str_eq(cor_error_name((cor_error)-1), "COR_ERR_UNKNOWN");
}
