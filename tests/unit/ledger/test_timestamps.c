/*
 * Ledger time (docs/LEDGER.md "Time"): event i of a batch gets base + i with
 * base = max(timestamp, last + 1), whether or not it succeeds; accounts, transfers and
 * expiry share one clock.
 */
#include <criterion/criterion.h>

#include "../../support/ledger_support.h"

Test(ledger_timestamps, base_is_the_later_of_batch_time_and_last_plus_one)
{
    cor_ledger *ledger = lt_open();
    cr_assert_eq(cor_ledger_timestamp(ledger), 0);
    cor_account accounts[3] = {lt_account(1, 1, 0), lt_account(0, 1, 0), lt_account(2, 1, 0)};
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_accounts(ledger, 1000, accounts, 3, results), COR_OK);
    cr_assert_eq(results[0].timestamp, 1000);
    LT_A(results[1].status, COR_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    cr_assert_eq(results[1].timestamp, 0);
    cr_assert_eq(results[2].timestamp, 1002, "a failed event still uses its instant");
    cr_assert_eq(cor_ledger_timestamp(ledger), 1002);

    /* A batch time in the past: base = last + 1. */
    cor_transfer transfers[2] = {lt_transfer(1, 1, 2, 1, 1, 0), lt_transfer(2, 1, 2, 1, 1, 0)};
    cr_assert_eq(cor_ledger_create_transfers(ledger, 5, transfers, 2, results), COR_OK);
    cr_assert_eq(results[0].timestamp, 1003);
    cr_assert_eq(results[1].timestamp, 1004);
    /* Equal to last: also last + 1. */
    cor_transfer t = lt_transfer(3, 1, 2, 1, 1, 0);
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 1004, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, 1005);
    /* A later batch time is used as is. */
    t.id = 4;
    LT_T(lt_create_transfer_at(ledger, 9000, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, 9000);
    /* A batch of failures moves time too. */
    t.id = 0;
    LT_T(lt_create_transfer_at(ledger, 0, &t, &at), COR_TRANSFER_ID_MUST_NOT_BE_ZERO);
    cr_assert_eq(cor_ledger_timestamp(ledger), 9001);
    /* expire_pending moves it to its own timestamp. */
    cor_ledger_expire_pending(ledger, 20000, 1);
    t.id = 5;
    LT_T(lt_create_transfer_at(ledger, 0, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, 20001);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.timestamp, 20001);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_timestamps, records_are_strictly_increasing)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 3, 0);
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, 0);
    for (cor_u128 id = 1; id <= 20; id++) {
        t.id = id;
        LT_T(lt_create_transfer_at(ledger, 7, &t, NULL), COR_TRANSFER_CREATED);
    }
    uint64_t previous = lt_get_account(ledger, 3).timestamp;
    for (cor_u128 id = 1; id <= 20; id++) {
        uint64_t ts = lt_get_transfer(ledger, id).timestamp;
        cr_assert_gt(ts, previous);
        previous = ts;
    }
    cor_ledger_close(ledger);
}

Test(ledger_timestamps, the_last_event_stays_below_2_pow_63_minus_1)
{
    cor_ledger *ledger = lt_open();
    cor_account accounts[2] = {lt_account(1, 1, 0), lt_account(2, 1, 0)};
    cor_create_result results[2];
    const uint64_t limit = (1ull << 63) - 1;
    /* Two events from limit - 1: the last one would get limit = 2^63 - 1. */
    cr_assert_eq(cor_ledger_create_accounts(ledger, limit - 1, accounts, 2, results),
                 COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_timestamp(ledger), 0);
    cr_assert_eq(cor_ledger_create_accounts(ledger, limit - 2, accounts, 2, results), COR_OK);
    cr_assert_eq(results[1].timestamp, limit - 1);
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, 0);
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, &t, 1, results), COR_ERR_INVALID);
    cor_ledger_close(ledger);
}

Test(ledger_timestamps, expiry_far_in_the_future_stops_the_ledger)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    cr_assert_eq(cor_ledger_expire_pending(ledger, UINT64_MAX, 1), 0);
    cr_assert_eq(cor_ledger_timestamp(ledger), UINT64_MAX);
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, 0);
    cor_create_result result;
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, &t, 1, &result), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_transfers(ledger, UINT64_MAX, &t, 1, &result),
                 COR_ERR_INVALID);
    lt_check(ledger);
    cor_ledger_close(ledger);
}
