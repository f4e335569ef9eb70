/*
 * create_transfers for plain and pending transfers: every result code of the plain path and
 * its precedence (docs/LEDGER.md, "Transfers", steps 1-17), the exists_with_different_*
 * ladder, overflows, and id_already_failed after each transient failure.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"

#define HALF ((cor_u128)1 << 127)

/* Accounts: 1, 2, 5, 6 on ledger 1 (no flags); 3 on ledger 2; 4 and 7 created closed;
 * 8 debits_must_not_exceed_credits; 9 credits_must_not_exceed_debits (both ledger 1). */
static cor_ledger *ladder_ledger(uint32_t transfers_max)
{
    cor_ledger *ledger = lt_open_with(64, transfers_max, 8, 0);
    cor_account accounts[] = {
        lt_account(1, 1, 0),
        lt_account(2, 1, 0),
        lt_account(3, 2, 0),
        lt_account(4, 1, COR_ACCOUNT_CLOSED),
        lt_account(5, 1, 0),
        lt_account(6, 1, 0),
        lt_account(7, 1, COR_ACCOUNT_CLOSED),
        lt_account(8, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS),
        lt_account(9, 1, COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS),
    };
    for (size_t i = 0; i < sizeof(accounts) / sizeof(accounts[0]); i++) {
        LT_A(lt_create_account(ledger, &accounts[i]), COR_ACCOUNT_CREATED);
    }
    return ledger;
}

Test(ledger_create_transfers, created_moves_posted_balances)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer t = lt_transfer(100, 1, 2, 250, 1, 0);
    t.user_data_128 = 7;
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 123456, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, 123456);
    cor_transfer stored = lt_get_transfer(ledger, 100);
    t.timestamp = 123456;
    cr_assert(memcmp(&stored, &t, sizeof(t)) == 0);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 250);
    cr_assert(lt_get_account(ledger, 2).credits_posted == 250);
    cr_assert(lt_get_account(ledger, 1).credits_posted == 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 100), COR_PENDING_STATUS_NONE);
    /* A zero amount is a valid transfer. */
    cor_transfer zero = lt_transfer(101, 1, 2, 0, 1, 0);
    lt_ok(ledger, &zero);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, precedence_ladder_plain)
{
    cor_ledger *ledger = ladder_ledger(64);
    cor_u128 next_id = 500;
    cor_transfer t = {
        .id = 0,
        .debit_account_id = 0,
        .credit_account_id = 0,
        .amount = 10,
        .pending_id = 77,
        .timeout = 5,
        .ledger = 0,
        .code = 0,
        .flags =
            (uint16_t)(1u << 12) | COR_TRANSFER_POST_PENDING_TRANSFER | COR_TRANSFER_CLOSING_DEBIT,
        .timestamp = 3,
    };
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO);
    t.timestamp = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_RESERVED_FLAG);
    t.flags &= (uint16_t) ~(1u << 12);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ID_MUST_NOT_BE_ZERO);
    t.id = COR_U128_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ID_MUST_NOT_BE_INT_MAX);
    t.id = next_id++;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    t.flags &= (uint16_t)~COR_TRANSFER_POST_PENDING_TRANSFER;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    t.debit_account_id = COR_U128_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
    t.debit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    t.credit_account_id = COR_U128_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
    t.credit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT);
    t.credit_account_id = 2;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_ID_MUST_BE_ZERO);
    t.pending_id = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER);
    t.timeout = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING);
    t.flags = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
    t.ledger = 2; /* wrong, but that is checked after the accounts are found */
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CODE_MUST_NOT_BE_ZERO);
    t.code = 1;
    /* From here on failures may be transient (remembered), so each step uses a new id. */
    t.debit_account_id = 90;
    t.credit_account_id = 91;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND);
    t.id = next_id++;
    t.debit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
    t.id = next_id++;
    t.credit_account_id = 3;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER);
    t.credit_account_id = 2;
    LT_T(lt_create_transfer(ledger, &t),
         COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS);
    t.ledger = 1;
    t.debit_account_id = 4;
    t.credit_account_id = 7;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    t.id = next_id++;
    t.debit_account_id = 8;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    t.id = next_id++;
    t.credit_account_id = 9; /* 8 has no credits, 9 has no debits */
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXCEEDS_CREDITS);
    t.id = next_id++;
    t.debit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXCEEDS_DEBITS);
    t.id = next_id++;
    t.credit_account_id = 2;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREATED);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.transfers_count, 1, "only the last event was recorded");
    cr_assert_eq(stats.failed_ids_count, 6, "the six transient failures were remembered");
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, accounts_checks_outrank_ledger_mismatch)
{
    cor_ledger *ledger = ladder_ledger(16);
    /* Debit missing and the transfer's ledger wrong: not_found comes first. */
    cor_transfer t = lt_transfer(1, 90, 2, 1, 9, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND);
    /* A closed account and a ledger mismatch: the ledger mismatch comes first. */
    t = lt_transfer(2, 4, 3, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, closing_must_be_pending_for_either_closing_flag)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, COR_TRANSFER_CLOSING_CREDIT);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING);
    t.flags = COR_TRANSFER_CLOSING_DEBIT | COR_TRANSFER_BALANCING_DEBIT;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, flags_mutually_exclusive_combinations)
{
    cor_ledger *ledger = ladder_ledger(16);
    const uint16_t bad[] = {
        COR_TRANSFER_PENDING | COR_TRANSFER_POST_PENDING_TRANSFER,
        COR_TRANSFER_PENDING | COR_TRANSFER_VOID_PENDING_TRANSFER,
        COR_TRANSFER_POST_PENDING_TRANSFER | COR_TRANSFER_VOID_PENDING_TRANSFER,
        COR_TRANSFER_POST_PENDING_TRANSFER | COR_TRANSFER_BALANCING_DEBIT,
        COR_TRANSFER_POST_PENDING_TRANSFER | COR_TRANSFER_BALANCING_CREDIT,
        COR_TRANSFER_VOID_PENDING_TRANSFER | COR_TRANSFER_CLOSING_DEBIT,
        COR_TRANSFER_VOID_PENDING_TRANSFER | COR_TRANSFER_CLOSING_CREDIT,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cor_transfer t = lt_transfer(10 + i, 1, 2, 1, 1, bad[i]);
        t.pending_id = 1;
        LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    }
    /* Allowed together: pending with balancing and closing; both balancing flags. */
    lt_fund(ledger, 1, 100);
    cor_transfer ok = lt_transfer(30, 1, 2, 5, 1,
                                  COR_TRANSFER_PENDING | COR_TRANSFER_BALANCING_DEBIT |
                                      COR_TRANSFER_CLOSING_CREDIT);
    lt_ok(ledger, &ok);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, exists_ladder_checks_fields_in_order)
{
    cor_ledger *ledger = ladder_ledger(32);
    cor_transfer original = lt_transfer(40, 1, 2, 10, 1, COR_TRANSFER_PENDING);
    original.timeout = 60;
    original.user_data_128 = 1;
    original.user_data_64 = 2;
    original.user_data_32 = 3;
    original.code = 4;
    uint64_t created_at = 0;
    LT_T(lt_create_transfer_at(ledger, 9000, &original, &created_at), COR_TRANSFER_CREATED);

    cor_transfer t = original;
    t.flags = COR_TRANSFER_PENDING | COR_TRANSFER_BALANCING_DEBIT;
    t.pending_id = 3;
    t.timeout = 61;
    t.debit_account_id = 5;
    t.credit_account_id = 6;
    t.amount = 11;
    t.user_data_128 = 9;
    t.user_data_64 = 9;
    t.user_data_32 = 9;
    t.ledger = 0; /* would be ledger_must_not_be_zero for a new id */
    t.code = 9;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS);
    t.flags = original.flags;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID);
    t.pending_id = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT);
    t.timeout = original.timeout;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID);
    t.debit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID);
    t.credit_account_id = 2;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    t.amount = 10;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128);
    t.user_data_128 = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64);
    t.user_data_64 = 2;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_32);
    t.user_data_32 = 3;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER);
    t.ledger = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE);
    t.code = 4;
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 0, &t, &at), COR_TRANSFER_EXISTS);
    cr_assert_eq(at, created_at, "exists returns the original timestamp");
    /* Retries never touched the balances. */
    cr_assert(lt_get_account(ledger, 1).debits_pending == 10);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.transfers_count, 1);
    cr_assert_eq(stats.failed_ids_count, 0);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, exists_for_plain_transfer_needs_exact_amount)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer t = lt_transfer(41, 1, 2, 10, 1, 0);
    lt_ok(ledger, &t);
    t.amount = COR_AMOUNT_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    t.amount = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    /* Zero fields do not inherit for a plain transfer. */
    t.amount = 10;
    t.code = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE);
    t.code = 1;
    t.ledger = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, exists_outranks_failed_and_flags_checks)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer t = lt_transfer(42, 1, 2, 10, 1, 0);
    lt_ok(ledger, &t);
    cor_transfer retry = t;
    retry.flags = COR_TRANSFER_PENDING | COR_TRANSFER_POST_PENDING_TRANSFER;
    LT_T(lt_create_transfer(ledger, &retry), COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS);
    /* But header checks outrank exists. */
    retry = t;
    retry.timestamp = 1;
    LT_T(lt_create_transfer(ledger, &retry), COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO);
    retry = t;
    retry.flags |= (uint16_t)(1u << 15);
    LT_T(lt_create_transfer(ledger, &retry), COR_TRANSFER_RESERVED_FLAG);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, overflows_posted_and_totals)
{
    cor_ledger *ledger = ladder_ledger(32);
    /* 1 -> 2 moves 2^127: 1 has debits_posted 2^127, 2 credits_posted 2^127. */
    cor_transfer t = lt_transfer(1, 1, 2, HALF, 1, 0);
    lt_ok(ledger, &t);
    t = lt_transfer(2, 1, 2, HALF, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_DEBITS_POSTED);
    /* Only the credit side overflows, and the overflow outranks exceeds_credits on 8. */
    t = lt_transfer(3, 8, 2, HALF, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_CREDITS_POSTED);
    /* Pending: each pending side alone fits, but pending + posted + amount does not. */
    t = lt_transfer(4, 1, 5, HALF, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_DEBITS);
    t = lt_transfer(5, 8, 2, HALF, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_CREDITS);
    /* Pending sides: reserve 2^127 on 5 -> 6, then another 2^127 from 5 (to 1). */
    t = lt_transfer(6, 5, 6, HALF, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &t);
    t = lt_transfer(7, 5, 1, HALF, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_DEBITS_PENDING);
    t = lt_transfer(8, 9, 6, HALF, 1, COR_TRANSFER_PENDING); /* 9 would exceed_debits too */
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_CREDITS_PENDING);
    /* Posted total overflow with a plain transfer: 5 has debits_pending 2^127. */
    t = lt_transfer(9, 5, 2, HALF, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_CREDITS_POSTED);
    t = lt_transfer(10, 5, 1, HALF, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_OVERFLOWS_DEBITS);
    /* Overflows are not transient: the ids may be used again. */
    t = lt_transfer(10, 5, 1, 1, 1, 0);
    lt_ok(ledger, &t);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, timeout_at_the_largest_timestamp_does_not_overflow)
{
    /* Batch timestamps stop below 2^63, and the longest timeout is under 2^32 s (< 2^62 ns),
     * so expires_at always fits u64 and overflows_timeout cannot occur. */
    cor_ledger *ledger = ladder_ledger(16);
    uint64_t last_ok = (1ull << 63) - 2;
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    t.timeout = UINT32_MAX;
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, last_ok, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, last_ok);
    uint64_t expires_at = 0;
    cr_assert(cor_ledger_next_expiry(ledger, &expires_at));
    cr_assert_eq(expires_at, last_ok + (uint64_t)UINT32_MAX * 1000000000ull);
    /* The ledger refuses to go further. */
    cor_create_result result;
    cor_transfer u = lt_transfer(2, 1, 2, 1, 1, 0);
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, &u, 1, &result), COR_ERR_INVALID);
    cor_ledger_close(ledger);
}

/* A transfer id that failed transiently stays failed, even when the cause is gone. */
static void expect_failed_then_fix(cor_ledger *ledger, cor_transfer t, uint32_t status,
                                   void (*fix)(cor_ledger *ledger))
{
    LT_T(lt_create_transfer(ledger, &t), status);
    cr_assert(cor_create_transfer_status_transient(status));
    fix(ledger);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ID_ALREADY_FAILED);
    /* Only exists-style checks come before id_already_failed: */
    cor_transfer odd = t;
    odd.flags = COR_TRANSFER_PENDING | COR_TRANSFER_VOID_PENDING_TRANSFER;
    odd.ledger = 0;
    LT_T(lt_create_transfer(ledger, &odd), COR_TRANSFER_ID_ALREADY_FAILED);
    odd.timestamp = 1;
    LT_T(lt_create_transfer(ledger, &odd), COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO);
    /* The same transfer with a new id succeeds now. */
    t.id += 1000;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREATED);
}

static void fix_create_90(cor_ledger *ledger)
{
    cor_account a = lt_account(90, 1, 0);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
}

static void fix_create_91(cor_ledger *ledger)
{
    cor_account a = lt_account(91, 1, 0);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
}

static void fix_fund_8(cor_ledger *ledger)
{
    lt_fund(ledger, 8, 50);
}

static void fix_debit_9(cor_ledger *ledger)
{
    cor_transfer t = lt_transfer(777, 9, 1, 50, 1, 0);
    lt_ok(ledger, &t);
}

static void fix_create_pending_92(cor_ledger *ledger)
{
    cor_transfer t = lt_transfer(92, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &t);
}

static void fix_reopen(cor_ledger *ledger)
{
    cor_transfer v = lt_resolve(888, 60, 0, true);
    lt_ok(ledger, &v);
}

static void fix_reopen_61(cor_ledger *ledger)
{
    cor_transfer v = lt_resolve(889, 61, 0, true);
    lt_ok(ledger, &v);
}

static void close_5_and_6(cor_ledger *ledger)
{
    cor_transfer c = lt_transfer(60, 5, 6, 0, 1,
                                 COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT |
                                     COR_TRANSFER_CLOSING_CREDIT);
    lt_ok(ledger, &c);
}

Test(ledger_create_transfers, id_already_failed_after_each_transient_failure)
{
    cor_ledger *ledger = ladder_ledger(64);
    expect_failed_then_fix(ledger, lt_transfer(200, 90, 2, 1, 1, 0),
                           COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND, fix_create_90);
    expect_failed_then_fix(ledger, lt_transfer(201, 1, 91, 1, 1, 0),
                           COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND, fix_create_91);
    expect_failed_then_fix(ledger, lt_transfer(202, 8, 2, 50, 1, 0), COR_TRANSFER_EXCEEDS_CREDITS,
                           fix_fund_8);
    expect_failed_then_fix(ledger, lt_transfer(203, 1, 9, 50, 1, 0), COR_TRANSFER_EXCEEDS_DEBITS,
                           fix_debit_9);
    expect_failed_then_fix(ledger, lt_resolve(204, 92, COR_AMOUNT_MAX, false),
                           COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND, fix_create_pending_92);
    close_5_and_6(ledger);
    expect_failed_then_fix(ledger, lt_transfer(205, 5, 2, 1, 1, 0),
                           COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED, fix_reopen);
    cor_transfer c =
        lt_transfer(61, 5, 6, 0, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_CREDIT);
    lt_ok(ledger, &c);
    expect_failed_then_fix(ledger, lt_transfer(206, 1, 6, 1, 1, 0),
                           COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED, fix_reopen_61);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, non_transient_failures_are_not_remembered)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer t = lt_transfer(300, 1, 3, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER);
    cr_assert(
        !cor_create_transfer_status_transient(COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER));
    t.credit_account_id = 2;
    lt_ok(ledger, &t);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.failed_ids_count, 0);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, failed_then_retried_in_the_same_batch)
{
    cor_ledger *ledger = ladder_ledger(16);
    cor_transfer events[2] = {lt_transfer(400, 8, 2, 5, 1, 0), lt_transfer(400, 8, 2, 5, 1, 0)};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_EXCEEDS_CREDITS);
    LT_T(results[1].status, COR_TRANSFER_ID_ALREADY_FAILED);
    cr_assert_eq(results[1].timestamp, 0);
    cor_ledger_close(ledger);
}

Test(ledger_create_transfers, status_names_parse_and_transient_set)
{
    uint32_t status = 0;
    cr_assert(cor_create_transfer_status_parse("exceeds_credits", &status));
    cr_assert_eq(status, COR_TRANSFER_EXCEEDS_CREDITS);
    cr_assert(cor_create_transfer_status_parse("pending_transfers_full", &status));
    cr_assert_eq(status, COR_TRANSFER_PENDING_TRANSFERS_FULL);
    cr_assert(!cor_create_transfer_status_parse("no_such_status", &status));
    cr_assert(!cor_create_transfer_status_parse("", &status));
    cr_assert_str_eq(cor_create_transfer_status_name(18), "unknown");
    cr_assert_str_eq(cor_create_transfer_status_name(999), "unknown");
    cr_assert_str_eq(cor_create_transfer_status_name(COR_TRANSFER_ID_ALREADY_FAILED),
                     "id_already_failed");
    uint32_t transient = 0;
    for (uint32_t s = 0; s < 128; s++) {
        if (cor_create_transfer_status_transient(s)) transient++;
    }
    cr_assert_eq(transient, 7);
    cr_assert(!cor_create_transfer_status_transient(COR_TRANSFER_TRANSFERS_FULL));
    cr_assert(!cor_create_transfer_status_transient(COR_TRANSFER_PENDING_TRANSFERS_FULL));
}
