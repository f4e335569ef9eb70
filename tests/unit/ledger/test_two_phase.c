/*
 * Two-phase transfers: pending, post (partial, full, COR_AMOUNT_MAX), void, the post/void
 * result codes and their precedence (docs/LEDGER.md steps 8-15 for a post or void), the
 * stored record's inherited fields, and timeouts with cor_ledger_expire_pending.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"

#define NS 1000000000ull

/* Accounts 1..6 on ledger 1, 7 on ledger 2; pending transfer 10: 1 -> 2, 100, code 5. */
static cor_ledger *pending_ledger(void)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 6, 0);
    cor_account other = lt_account(7, 2, 0);
    LT_A(lt_create_account(ledger, &other), COR_ACCOUNT_CREATED);
    cor_transfer p = lt_transfer(10, 1, 2, 100, 1, COR_TRANSFER_PENDING);
    p.code = 5;
    p.user_data_128 = 11;
    p.user_data_64 = 12;
    p.user_data_32 = 13;
    lt_ok(ledger, &p);
    return ledger;
}

Test(ledger_two_phase, pending_reserves_without_posting)
{
    cor_ledger *ledger = pending_ledger();
    cor_account dr = lt_get_account(ledger, 1);
    cor_account cr = lt_get_account(ledger, 2);
    cr_assert(dr.debits_pending == 100 && dr.debits_posted == 0);
    cr_assert(cr.credits_pending == 100 && cr.credits_posted == 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_PENDING);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.pending_transfers_count, 1);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, post_full_with_amount_max_inherits_fields)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer post = lt_resolve(20, 10, COR_AMOUNT_MAX, false);
    post.user_data_64 = 99; /* given fields are kept, zero ones inherited */
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 0, &post, &at), COR_TRANSFER_CREATED);
    cor_transfer stored = lt_get_transfer(ledger, 20);
    cr_assert(stored.amount == 100);
    cr_assert(stored.debit_account_id == 1 && stored.credit_account_id == 2);
    cr_assert_eq(stored.ledger, 1);
    cr_assert_eq(stored.code, 5);
    cr_assert(stored.user_data_128 == 11);
    cr_assert_eq(stored.user_data_64, 99);
    cr_assert_eq(stored.user_data_32, 13);
    cr_assert(stored.pending_id == 10);
    cr_assert_eq(stored.flags, COR_TRANSFER_POST_PENDING_TRANSFER);
    cr_assert_eq(stored.timestamp, at);
    cor_account dr = lt_get_account(ledger, 1);
    cr_assert(dr.debits_pending == 0 && dr.debits_posted == 100);
    cr_assert(lt_get_account(ledger, 2).credits_posted == 100);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_POSTED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 20), COR_PENDING_STATUS_NONE);
    /* The pending transfer itself is never modified. */
    cr_assert(lt_get_transfer(ledger, 10).amount == 100);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.pending_transfers_count, 0);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, post_partial_releases_the_rest)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer post = lt_resolve(20, 10, 30, false);
    lt_ok(ledger, &post);
    cor_account dr = lt_get_account(ledger, 1);
    cr_assert(dr.debits_pending == 0 && dr.debits_posted == 30);
    cor_account cr = lt_get_account(ledger, 2);
    cr_assert(cr.credits_pending == 0 && cr.credits_posted == 30);
    cr_assert(lt_get_transfer(ledger, 20).amount == 30);
    /* Posting again: already posted. */
    cor_transfer again = lt_resolve(21, 10, 10, false);
    LT_T(lt_create_transfer(ledger, &again), COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
    cor_transfer void_ = lt_resolve(22, 10, 0, true);
    LT_T(lt_create_transfer(ledger, &void_), COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, post_exact_and_zero_amounts)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer post = lt_resolve(20, 10, 100, false);
    lt_ok(ledger, &post);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 100);
    cor_transfer p = lt_transfer(11, 3, 4, 40, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &p);
    cor_transfer zero = lt_resolve(21, 11, 0, false);
    lt_ok(ledger, &zero);
    cr_assert(lt_get_account(ledger, 3).debits_posted == 0);
    cr_assert(lt_get_account(ledger, 3).debits_pending == 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 11), COR_PENDING_STATUS_POSTED);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, void_releases_everything)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer v = lt_resolve(20, 10, 0, true);
    lt_ok(ledger, &v);
    cor_transfer stored = lt_get_transfer(ledger, 20);
    cr_assert(stored.amount == 100, "a void stores the pending amount");
    cr_assert(stored.debit_account_id == 1);
    cr_assert_eq(stored.code, 5);
    cor_account dr = lt_get_account(ledger, 1);
    cr_assert(dr.debits_pending == 0 && dr.debits_posted == 0);
    cr_assert(lt_get_account(ledger, 2).credits_pending == 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_VOIDED);
    cor_transfer again = lt_resolve(21, 10, 0, true);
    LT_T(lt_create_transfer(ledger, &again), COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED);
    cor_transfer post = lt_resolve(22, 10, COR_AMOUNT_MAX, false);
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED);
    /* A void with the exact amount is accepted too. */
    cor_transfer p = lt_transfer(11, 3, 4, 40, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &p);
    cor_transfer exact = lt_resolve(23, 11, 40, true);
    lt_ok(ledger, &exact);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, precedence_ladder_post)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer plain = lt_transfer(12, 3, 4, 5, 1, 0);
    lt_ok(ledger, &plain);
    cor_u128 next_id = 300;
    cor_transfer t = lt_resolve(next_id, 0, 101, false);
    t.timeout = 1;
    t.debit_account_id = 3;
    t.credit_account_id = 4;
    t.ledger = 2;
    t.code = 6;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO);
    t.pending_id = COR_U128_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX);
    t.pending_id = t.id;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT);
    t.pending_id = 999;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER);
    t.timeout = 0;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND);
    t.id = ++next_id; /* not_found is transient: the old id is spent */
    t.pending_id = 12;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_TRANSFER_NOT_PENDING);
    t.pending_id = 10;
    LT_T(lt_create_transfer(ledger, &t),
         COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID);
    t.debit_account_id = 1;
    LT_T(lt_create_transfer(ledger, &t),
         COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID);
    t.credit_account_id = 2;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER);
    t.ledger = 1;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE);
    t.code = 5;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    t.amount = 100;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_CREATED);
    /* Now the amount rule outranks already_posted. */
    cor_transfer again = lt_resolve(++next_id, 10, 101, false);
    LT_T(lt_create_transfer(ledger, &again), COR_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT);
    again.amount = 1;
    LT_T(lt_create_transfer(ledger, &again), COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, precedence_void_amount_and_fields)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer v = lt_resolve(30, 10, 99, true);
    v.code = 6;
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE);
    v.code = 0;
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT);
    v.amount = COR_AMOUNT_MAX; /* only a post reads AMOUNT_MAX as "all" */
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT);
    v.amount = 0;
    v.debit_account_id = 1;
    v.credit_account_id = 2;
    v.ledger = 1;
    v.code = 5;
    lt_ok(ledger, &v);
    cor_transfer late = lt_resolve(31, 10, 55, true);
    LT_T(lt_create_transfer(ledger, &late), COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT);
    late.amount = 0;
    LT_T(lt_create_transfer(ledger, &late), COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, exists_rules_for_post_and_void)
{
    cor_ledger *ledger = pending_ledger();
    cor_transfer post = lt_resolve(20, 10, COR_AMOUNT_MAX, false);
    uint64_t created_at = 0;
    LT_T(lt_create_transfer_at(ledger, 0, &post, &created_at), COR_TRANSFER_CREATED);
    uint64_t at = 0;
    /* Zero fields inherited, AMOUNT_MAX matches, the actual amount matches. */
    LT_T(lt_create_transfer_at(ledger, 0, &post, &at), COR_TRANSFER_EXISTS);
    cr_assert_eq(at, created_at);
    post.amount = 100;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS);
    post.amount = 99;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    post.amount = 100;
    post.debit_account_id = 1;
    post.credit_account_id = 2;
    post.user_data_128 = 11;
    post.user_data_64 = 12;
    post.user_data_32 = 13;
    post.ledger = 1;
    post.code = 5;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS);
    post.debit_account_id = 3;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID);
    post.debit_account_id = 0;
    post.credit_account_id = 3;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID);
    post.credit_account_id = 0;
    post.user_data_128 = 1;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128);
    post.user_data_128 = 0;
    post.user_data_64 = 1;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64);
    post.user_data_64 = 0;
    post.user_data_32 = 1;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_32);
    post.user_data_32 = 0;
    post.ledger = 2;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER);
    post.ledger = 0;
    post.code = 6;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE);
    post.code = 0;
    post.pending_id = 11;
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID);

    /* A void: amount 0 and the pending amount match, anything else differs. */
    cor_transfer p = lt_transfer(11, 3, 4, 40, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &p);
    cor_transfer v = lt_resolve(21, 11, 0, true);
    lt_ok(ledger, &v);
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_EXISTS);
    v.amount = 40;
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_EXISTS);
    v.amount = 41;
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    v.amount = COR_AMOUNT_MAX;
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    /* A partial post: only its own amount (or AMOUNT_MAX) matches. */
    cor_transfer q = lt_transfer(12, 3, 4, 40, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &q);
    cor_transfer partial = lt_resolve(22, 12, 15, false);
    lt_ok(ledger, &partial);
    LT_T(lt_create_transfer(ledger, &partial), COR_TRANSFER_EXISTS);
    partial.amount = 40;
    LT_T(lt_create_transfer(ledger, &partial), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, pending_transfers_full_and_release)
{
    cor_ledger *ledger = lt_open_with(8, 32, 2, 0);
    lt_accounts(ledger, 3, 0);
    cor_transfer a = lt_transfer(1, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    cor_transfer b = lt_transfer(2, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    cor_transfer c = lt_transfer(3, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &a);
    lt_ok(ledger, &b);
    LT_T(lt_create_transfer(ledger, &c), COR_TRANSFER_PENDING_TRANSFERS_FULL);
    /* Plain transfers still go through; the capacity result is not remembered. */
    cor_transfer plain = lt_transfer(4, 1, 2, 1, 1, 0);
    lt_ok(ledger, &plain);
    /* Other failures outrank the capacity result. */
    cor_transfer bad = lt_transfer(5, 1, 99, 1, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &bad), COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
    cor_transfer v = lt_resolve(6, 1, 0, true);
    lt_ok(ledger, &v);
    lt_ok(ledger, &c);
    cor_transfer post = lt_resolve(7, 2, COR_AMOUNT_MAX, false);
    lt_ok(ledger, &post);
    cor_transfer d = lt_transfer(8, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &d);
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.pending_transfers_count, 2);
    cr_assert_eq(stats.failed_ids_count, 1);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

/* ---------------------------------------------------------------------------------------- */
/* Timeouts and expiry                                                                      */
/* ---------------------------------------------------------------------------------------- */

Test(ledger_two_phase, expired_before_and_after_expire_pending)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 4, 0);
    const uint64_t t0 = 1000 * NS;
    cor_transfer p = lt_transfer(10, 1, 2, 50, 1, COR_TRANSFER_PENDING);
    p.timeout = 2;
    uint64_t created = 0;
    LT_T(lt_create_transfer_at(ledger, t0, &p, &created), COR_TRANSFER_CREATED);
    cr_assert_eq(created, t0);
    uint64_t expires_at = 0;
    cr_assert(cor_ledger_next_expiry(ledger, &expires_at));
    cr_assert_eq(expires_at, t0 + 2 * NS);

    /* One nanosecond before the expiry a post still works (on a twin transfer). */
    cor_transfer twin = p;
    twin.id = 11;
    LT_T(lt_create_transfer_at(ledger, t0 + 1, &twin, NULL), COR_TRANSFER_CREATED);
    cor_transfer early = lt_resolve(20, 11, COR_AMOUNT_MAX, false);
    LT_T(lt_create_transfer_at(ledger, t0 + 2 * NS - 1, &early, NULL), COR_TRANSFER_CREATED);

    /* At exactly the expiry instant, before expire_pending ran: expired, reservation kept. */
    cor_transfer post = lt_resolve(21, 10, COR_AMOUNT_MAX, false);
    uint64_t at = 1;
    LT_T(lt_create_transfer_at(ledger, t0 + 2 * NS, &post, &at),
         COR_TRANSFER_PENDING_TRANSFER_EXPIRED);
    cr_assert_eq(at, 0);
    cr_assert_eq(cor_ledger_timestamp(ledger), t0 + 2 * NS, "the event had the expiry instant");
    cor_transfer v = lt_resolve(22, 10, 0, true);
    LT_T(lt_create_transfer(ledger, &v), COR_TRANSFER_PENDING_TRANSFER_EXPIRED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_PENDING);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 50);

    /* expire_pending releases it. */
    cr_assert_eq(cor_ledger_expire_pending(ledger, t0 + 2 * NS, 10), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_EXPIRED);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 0);
    cr_assert(lt_get_account(ledger, 2).credits_pending == 0);
    cr_assert(!cor_ledger_next_expiry(ledger, &expires_at));
    cor_transfer late = lt_resolve(23, 10, 0, true);
    LT_T(lt_create_transfer(ledger, &late), COR_TRANSFER_PENDING_TRANSFER_EXPIRED);
    /* Expired is not transient: ids 21..23 are not remembered. */
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.failed_ids_count, 0);
    cr_assert_eq(stats.pending_transfers_count, 0);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, expiry_order_limit_and_ties)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 4, 0);
    /* One batch: ids 1..5 get timestamps T..T+4 and expire at T+2s, T+1+3s, T+2+1s,
     * T+3+3s and never: the expiry order is 3, 1, 2, 4. */
    const uint64_t t0 = 50 * NS;
    cor_transfer events[5];
    const uint32_t timeouts[5] = {2, 3, 1, 3, 0};
    for (uint32_t i = 0; i < 5; i++) {
        events[i] = lt_transfer(i + 1, 1, 2, 10, 1, COR_TRANSFER_PENDING);
        events[i].timeout = timeouts[i];
    }
    cor_create_result results[5];
    cr_assert_eq(cor_ledger_create_transfers(ledger, t0, events, 5, results), COR_OK);
    for (uint32_t i = 0; i < 5; i++)
        LT_T(results[i].status, COR_TRANSFER_CREATED);

    uint64_t next = 0;
    cr_assert(cor_ledger_next_expiry(ledger, &next));
    cr_assert_eq(next, t0 + 2 + 1 * NS); /* id 3 */
    /* Nothing has expired yet one nanosecond before. */
    cr_assert_eq(cor_ledger_expire_pending(ledger, next - 1, 10), 0);
    cr_assert_eq(cor_ledger_expire_pending(ledger, next, 10), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 3), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_PENDING);
    /* Far in the future, limit 1 at a time: 1, then 2, then 4. */
    const uint64_t later = t0 + 100 * NS;
    cr_assert_eq(cor_ledger_expire_pending(ledger, later, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_PENDING);
    cr_assert_eq(cor_ledger_expire_pending(ledger, later, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 4), COR_PENDING_STATUS_PENDING);
    cr_assert_eq(cor_ledger_expire_pending(ledger, later, 0), 0, "limit 0 expires nothing");
    cr_assert_eq(cor_ledger_expire_pending(ledger, later, 5), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 4), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_expire_pending(ledger, later, 5), 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 5), COR_PENDING_STATUS_PENDING);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 10);
    cr_assert_eq(cor_ledger_timestamp(ledger), later);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, expiry_ties_go_in_creation_order)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    /* Two batches arranged so that both expire at the same instant. */
    cor_transfer a = lt_transfer(1, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    a.timeout = 2;
    cor_transfer b = lt_transfer(2, 1, 2, 1, 1, COR_TRANSFER_PENDING);
    b.timeout = 1;
    LT_T(lt_create_transfer_at(ledger, 5 * NS, &a, NULL), COR_TRANSFER_CREATED);
    LT_T(lt_create_transfer_at(ledger, 6 * NS, &b, NULL), COR_TRANSFER_CREATED);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 7 * NS, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_PENDING);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 7 * NS, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_EXPIRED);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, expiry_advances_time_but_never_back)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 500, 10), 0);
    cr_assert_eq(cor_ledger_timestamp(ledger), 500);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 100, 10), 0);
    cr_assert_eq(cor_ledger_timestamp(ledger), 500);
    cor_transfer t = lt_transfer(1, 1, 2, 1, 1, 0);
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 0, &t, &at), COR_TRANSFER_CREATED);
    cr_assert_eq(at, 501);
    cor_ledger_close(ledger);
}

Test(ledger_two_phase, expiry_writes_no_history_and_posted_voided_leave_the_queue)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    cor_transfer p = lt_transfer(1, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    p.timeout = 1;
    cor_transfer q = p;
    q.id = 2;
    cor_transfer r = p;
    r.id = 3;
    lt_ok(ledger, &p);
    lt_ok(ledger, &q);
    lt_ok(ledger, &r);
    cor_transfer post = lt_resolve(4, 1, 2, false);
    cor_transfer void_ = lt_resolve(5, 2, 0, true);
    lt_ok(ledger, &post);
    lt_ok(ledger, &void_);
    cor_ledger_stats before;
    cor_ledger_stats_get(ledger, &before);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 10 * NS, 100), 1, "only 3 was left");
    cor_ledger_stats after;
    cor_ledger_stats_get(ledger, &after);
    cr_assert_eq(after.history_count, before.history_count);
    cr_assert_eq(cor_ledger_pending_status(ledger, 3), COR_PENDING_STATUS_EXPIRED);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 0);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 2);
    lt_check(ledger);
    cor_ledger_close(ledger);
}
