/*
 * Capacities fixed at open (docs/LEDGER.md "Capacities"): accounts_full, transfers_full,
 * pending_transfers_full and an exhausted failed-id memory are clean results, ranked last;
 * bad batch sizes and bad options are COR_ERR_INVALID.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"

Test(ledger_capacity, transfers_full_is_last_and_not_remembered)
{
    cor_ledger *ledger = lt_open_with(8, 3, 2, 0);
    lt_accounts(ledger, 3, 0);
    cor_account limited = lt_account(4, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_transfer p = lt_transfer(1, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    cor_transfer a = lt_transfer(2, 1, 2, 5, 1, 0);
    cor_transfer b = lt_transfer(3, 1, 2, 5, 1, 0);
    lt_ok(ledger, &p);
    lt_ok(ledger, &a);
    lt_ok(ledger, &b);
    cor_transfer c = lt_transfer(4, 1, 2, 5, 1, 0);
    LT_T(lt_create_transfer(ledger, &c), COR_TRANSFER_TRANSFERS_FULL);
    LT_T(lt_create_transfer(ledger, &c), COR_TRANSFER_TRANSFERS_FULL);
    /* Every other result outranks it. */
    LT_T(lt_create_transfer(ledger, &a), COR_TRANSFER_EXISTS);
    cor_transfer exceeds = lt_transfer(5, 4, 2, 5, 1, 0);
    LT_T(lt_create_transfer(ledger, &exceeds), COR_TRANSFER_EXCEEDS_CREDITS);
    cor_transfer bad = lt_transfer(6, 1, 2, 5, 0, 0);
    LT_T(lt_create_transfer(ledger, &bad), COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
    /* Posts and voids need a record too. */
    cor_transfer v = lt_resolve(7, 1, 0, true);
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_TRANSFERS_FULL);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_PENDING);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.transfers_count, 3);
    cr_assert_eq(stats.failed_ids_count, 1, "only exceeds_credits was remembered");
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, transfers_full_outranks_pending_transfers_full)
{
    cor_ledger *ledger = lt_open_with(8, 2, 1, 0);
    lt_accounts(ledger, 2, 0);
    cor_transfer p = lt_transfer(1, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    cor_transfer a = lt_transfer(2, 1, 2, 5, 1, 0);
    lt_ok(ledger, &p);
    cor_transfer q = lt_transfer(3, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &q), COR_TRANSFER_PENDING_TRANSFERS_FULL);
    lt_ok(ledger, &a);
    LT_T(lt_create_transfer(ledger, &q), COR_TRANSFER_TRANSFERS_FULL);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, failed_ids_exhausted_gives_transfers_full)
{
    cor_ledger *ledger = lt_open_with(8, 16, 4, 2);
    lt_accounts(ledger, 2, 0);
    cor_account limited = lt_account(3, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_transfer f1 = lt_transfer(1, 3, 2, 5, 1, 0);
    cor_transfer f2 = lt_transfer(2, 3, 2, 5, 1, 0);
    cor_transfer f3 = lt_transfer(3, 3, 2, 5, 1, 0);
    LT_T(lt_create_transfer(ledger, &f1), COR_TRANSFER_EXCEEDS_CREDITS);
    LT_T(lt_create_transfer(ledger, &f2), COR_TRANSFER_EXCEEDS_CREDITS);
    /* No room to remember a third failure: it is refused for capacity instead. */
    LT_T(lt_create_transfer(ledger, &f3), COR_TRANSFER_TRANSFERS_FULL);
    cor_transfer missing = lt_transfer(4, 1, 99, 5, 1, 0);
    LT_T(lt_create_transfer(ledger, &missing), COR_TRANSFER_TRANSFERS_FULL);
    /* Non-transient failures are unaffected. */
    cor_transfer bad = lt_transfer(5, 1, 2, 5, 0, 0);
    LT_T(lt_create_transfer(ledger, &bad), COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
    /* Once funds arrive the unremembered id succeeds; the remembered ones never do. */
    lt_fund(ledger, 3, 10);
    lt_ok(ledger, &f3);
    LT_T(lt_create_transfer(ledger, &f1), COR_TRANSFER_ID_ALREADY_FAILED);
    LT_T(lt_create_transfer(ledger, &f2), COR_TRANSFER_ID_ALREADY_FAILED);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.failed_ids_count, 2);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, failed_ids_default_is_transfers_max)
{
    cor_ledger *ledger = lt_open_with(8, 4, 2, 0);
    lt_accounts(ledger, 2, 0);
    for (cor_u128 id = 1; id <= 6; id++) {
        cor_transfer t = lt_transfer(id, 1, 99, 1, 1, 0);
        LT_T(lt_create_transfer(ledger, &t),
             id <= 4 ? COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND : COR_TRANSFER_TRANSFERS_FULL);
    }
    cor_ledger_close(ledger);
}

Test(ledger_capacity, accounts_full_in_a_batch)
{
    cor_ledger *ledger = lt_open_with(2, 4, 1, 0);
    cor_account events[4] = {lt_account(1, 1, 0), lt_account(2, 1, 0), lt_account(3, 1, 0),
                             lt_account(1, 1, 0)};
    cor_create_result results[4];
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, events, 4, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    LT_A(results[1].status, COR_ACCOUNT_CREATED);
    LT_A(results[2].status, COR_ACCOUNT_ACCOUNTS_FULL);
    LT_A(results[3].status, COR_ACCOUNT_EXISTS);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, invalid_batches_change_nothing)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    uint64_t before = cor_ledger_timestamp(ledger);
    static cor_transfer transfers[COR_LEDGER_BATCH_EVENTS_MAX + 1];
    static cor_create_result results[COR_LEDGER_BATCH_EVENTS_MAX + 1];
    static cor_account accounts[COR_LEDGER_BATCH_EVENTS_MAX + 1];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, transfers, 0, results), COR_ERR_INVALID);
    cr_assert_eq(
        cor_ledger_create_transfers(ledger, 0, transfers, COR_LEDGER_BATCH_EVENTS_MAX + 1, results),
        COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, NULL, 1, results), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, transfers, 1, NULL), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, accounts, 0, results), COR_ERR_INVALID);
    cr_assert_eq(
        cor_ledger_create_accounts(ledger, 0, accounts, COR_LEDGER_BATCH_EVENTS_MAX + 1, results),
        COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, NULL, 1, results), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, accounts, 1, NULL), COR_ERR_INVALID);
    /* A batch that would run past the largest timestamp. */
    cr_assert_eq(cor_ledger_create_transfers(ledger, 1ull << 63, transfers, 1, results),
                 COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_create_accounts(ledger, UINT64_MAX, accounts, 1, results),
                 COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_timestamp(ledger), before);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.transfers_count, 0);
    cr_assert_eq(stats.accounts_count, 2);
    cr_assert_eq(stats.failed_ids_count, 0);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, a_full_size_batch)
{
    cor_ledger *ledger = lt_open_with(8, COR_LEDGER_BATCH_EVENTS_MAX, 1, 0);
    lt_accounts(ledger, 2, 0);
    static cor_transfer transfers[COR_LEDGER_BATCH_EVENTS_MAX];
    static cor_create_result results[COR_LEDGER_BATCH_EVENTS_MAX];
    for (uint32_t i = 0; i < COR_LEDGER_BATCH_EVENTS_MAX; i++) {
        transfers[i] = lt_transfer(i + 1, 1 + i % 2, 2 - i % 2, 1, 1, 0);
    }
    cr_assert_eq(
        cor_ledger_create_transfers(ledger, 100, transfers, COR_LEDGER_BATCH_EVENTS_MAX, results),
        COR_OK);
    for (uint32_t i = 0; i < COR_LEDGER_BATCH_EVENTS_MAX; i++) {
        LT_T(results[i].status, COR_TRANSFER_CREATED);
        cr_assert_eq(results[i].timestamp, 100u + i);
    }
    cr_assert(lt_get_account(ledger, 1).debits_posted == (COR_LEDGER_BATCH_EVENTS_MAX + 1) / 2);
    cr_assert_eq(cor_ledger_timestamp(ledger), 100u + COR_LEDGER_BATCH_EVENTS_MAX - 1);
    /* The ledger is full now. */
    cor_transfer more = lt_transfer(COR_LEDGER_BATCH_EVENTS_MAX + 1, 1, 2, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &more), COR_TRANSFER_TRANSFERS_FULL);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_capacity, open_rejects_bad_options)
{
    const cor_ledger_options good = {
        .accounts_max = 4,
        .transfers_max = 4,
        .pending_transfers_max = 4,
        .failed_ids_max = 0,
    };
    cor_ledger_options bad[6];
    for (int i = 0; i < 6; i++)
        bad[i] = good;
    bad[0].accounts_max = 0;
    bad[1].accounts_max = COR_LEDGER_ACCOUNTS_MAX + 1;
    bad[2].transfers_max = 0;
    bad[3].transfers_max = COR_LEDGER_TRANSFERS_MAX + 1;
    bad[4].pending_transfers_max = 5; /* more than transfers_max */
    bad[5].failed_ids_max = COR_LEDGER_TRANSFERS_MAX + 1;
    for (int i = 0; i < 6; i++) {
        cor_ledger *ledger = (cor_ledger *)&bad[i]; /* must be reset to NULL */
        cr_assert_eq(cor_ledger_open(&bad[i], &ledger), COR_ERR_INVALID, "case %d", i);
        cr_assert_null(ledger);
    }
    cor_ledger_options zero_pending = good;
    zero_pending.pending_transfers_max = 0;
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&zero_pending, &ledger), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_open(NULL, &ledger), COR_ERR_INVALID);
    cr_assert_null(ledger);
    cr_assert_eq(cor_ledger_open(&good, &ledger), COR_OK);
    cor_ledger_close(ledger);
    cor_ledger_close(NULL);
}
