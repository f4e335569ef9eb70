/*
 * Linked chains (docs/LEDGER.md "Linked chains"): a chain applies in order and commits or
 * rolls back as a unit; the failing event keeps its result, the others get
 * linked_event_failed; an open chain at the end of a batch fails with
 * linked_event_chain_open; a transient failure inside a chain is still remembered.
 */
#include <criterion/criterion.h>

#include "../../support/ledger_support.h"

#define L  COR_TRANSFER_LINKED
#define NS 1000000000ull

static cor_ledger *linked_ledger(void)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 4, 0);
    cor_account limited = lt_account(5, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    return ledger;
}

Test(ledger_linked, chain_commits_and_later_events_see_earlier_ones)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer events[3] = {
        lt_transfer(1, 1, 5, 10, 1, L), /* funds 5 */
        lt_transfer(2, 5, 2, 10, 1, L), /* spends it: needs event 1 */
        lt_transfer(3, 2, 3, 4, 1, 0),
    };
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 100, events, 3, results), COR_OK);
    for (int i = 0; i < 3; i++) {
        LT_T(results[i].status, COR_TRANSFER_CREATED);
        cr_assert_eq(results[i].timestamp, 100u + (uint64_t)i);
    }
    cr_assert(lt_get_account(ledger, 5).debits_posted == 10);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, failure_midway_rolls_everything_back)
{
    cor_ledger *ledger = linked_ledger();
    lt_fund(ledger, 1, 100);
    cor_transfer pending = lt_transfer(50, 1, 2, 10, 1, COR_TRANSFER_PENDING);
    pending.timeout = 5;
    lt_ok(ledger, &pending);
    cor_ledger_stats before;
    cor_ledger_stats_get(ledger, &before);
    uint64_t next_before = 0;
    cr_assert(cor_ledger_next_expiry(ledger, &next_before));

    cor_transfer events[6] = {
        lt_transfer(7, 3, 4, 1, 1, 0),                     /* alone: created */
        lt_transfer(8, 1, 3, 20, 1, L),                    /* chain start */
        lt_resolve(9, 50, 0, true),                        /* voids 50 */
        lt_transfer(10, 1, 3, 5, 1, COR_TRANSFER_PENDING), /* new pending */
        lt_transfer(11, 5, 3, 1, 1, 0),                    /* exceeds_credits: fails */
        lt_transfer(12, 2, 3, 1, 1, 0),                    /* after the chain: created */
    };
    events[2].flags |= L;
    events[3].flags |= L;
    events[3].timeout = 1;
    cor_create_result results[6];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 6, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_CREATED);
    LT_T(results[1].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[2].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[3].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[4].status, COR_TRANSFER_EXCEEDS_CREDITS);
    LT_T(results[5].status, COR_TRANSFER_CREATED);
    for (int i = 1; i <= 4; i++)
        cr_assert_eq(results[i].timestamp, 0);
    cr_assert_eq(results[5].timestamp, results[0].timestamp + 5, "timestamps count every event");

    cor_transfer t;
    cr_assert(!cor_ledger_lookup_transfer(ledger, 8, &t));
    cr_assert(!cor_ledger_lookup_transfer(ledger, 9, &t));
    cr_assert(!cor_ledger_lookup_transfer(ledger, 10, &t));
    cr_assert_eq(cor_ledger_pending_status(ledger, 50), COR_PENDING_STATUS_PENDING);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 10);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 0);
    cr_assert(lt_get_account(ledger, 3).credits_posted == 1);
    cr_assert(lt_get_account(ledger, 3).debits_posted == 1);
    uint64_t next_after = 0;
    cr_assert(cor_ledger_next_expiry(ledger, &next_after));
    cr_assert_eq(next_after, next_before);
    cor_ledger_stats after;
    cor_ledger_stats_get(ledger, &after);
    cr_assert_eq(after.transfers_count, before.transfers_count + 2);
    cr_assert_eq(after.pending_transfers_count, before.pending_transfers_count);
    cr_assert_eq(after.history_count, before.history_count + 4);
    /* The failing id is remembered; the others may be used again. */
    cr_assert_eq(after.failed_ids_count, 1);
    LT_T(lt_create_transfer(ledger, &events[4]), COR_TRANSFER_ID_ALREADY_FAILED);
    cor_transfer again = lt_transfer(8, 1, 3, 20, 1, 0);
    lt_ok(ledger, &again);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, chain_open_at_the_end_of_the_batch)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer events[3] = {
        lt_transfer(1, 1, 2, 1, 1, 0),
        lt_transfer(2, 1, 2, 1, 1, L),
        lt_transfer(3, 1, 2, 1, 1, L),
    };
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 3, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_CREATED);
    LT_T(results[1].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[2].status, COR_TRANSFER_LINKED_EVENT_CHAIN_OPEN);
    cor_transfer t;
    cr_assert(!cor_ledger_lookup_transfer(ledger, 2, &t));
    /* A single linked event alone in the batch. */
    cor_transfer single = lt_transfer(4, 1, 2, 1, 1, L);
    LT_T(lt_create_transfer(ledger, &single), COR_TRANSFER_LINKED_EVENT_CHAIN_OPEN);
    /* Not remembered: the same id goes through unlinked. */
    single.flags = 0;
    lt_ok(ledger, &single);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, earlier_failure_in_an_open_chain_keeps_its_code)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer events[3] = {
        lt_transfer(1, 1, 2, 1, 1, L),
        lt_transfer(2, 1, 2, 1, 0, L), /* ledger_must_not_be_zero */
        lt_transfer(3, 1, 2, 1, 1, L),
    };
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 3, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[1].status, COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
    LT_T(results[2].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    cor_ledger_close(ledger);
}

Test(ledger_linked, duplicate_id_inside_a_chain_fails_it)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer events[2] = {
        lt_transfer(1, 1, 2, 1, 1, L),
        lt_transfer(1, 1, 2, 1, 1, 0),
    };
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[1].status, COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS);
    cor_transfer t;
    cr_assert(!cor_ledger_lookup_transfer(ledger, 1, &t));
    /* An exact duplicate: "exists" is a failure inside a chain too. */
    events[1].flags = L;
    cor_transfer third = lt_transfer(3, 1, 2, 1, 1, 0);
    cor_transfer chain[3] = {events[0], events[1], third};
    cor_create_result results3[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, chain, 3, results3), COR_OK);
    LT_T(results3[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results3[1].status, COR_TRANSFER_EXISTS);
    LT_T(results3[2].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    cr_assert(!cor_ledger_lookup_transfer(ledger, 1, &t));
    cr_assert(!cor_ledger_lookup_transfer(ledger, 3, &t));
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, several_chains_in_one_batch)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer events[6] = {
        lt_transfer(1, 1, 2, 1, 1, L), lt_transfer(2, 1, 2, 1, 1, 0), /* ok */
        lt_transfer(3, 1, 2, 1, 1, L), lt_transfer(4, 1, 9, 1, 1, 0), /* fails */
        lt_transfer(5, 1, 2, 1, 1, L), lt_transfer(6, 1, 2, 1, 1, 0), /* ok */
    };
    cor_create_result results[6];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 6, results), COR_OK);
    const uint32_t want[6] = {
        COR_TRANSFER_CREATED,
        COR_TRANSFER_CREATED,
        COR_TRANSFER_LINKED_EVENT_FAILED,
        COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND,
        COR_TRANSFER_CREATED,
        COR_TRANSFER_CREATED,
    };
    for (int i = 0; i < 6; i++)
        LT_T(results[i].status, want[i]);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 4);
    cor_ledger_close(ledger);
}

Test(ledger_linked, transient_failure_in_chain_with_failed_ids_full)
{
    cor_ledger *ledger = lt_open_with(8, 32, 4, 1);
    lt_accounts(ledger, 2, 0);
    cor_transfer first = lt_transfer(1, 1, 9, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &first), COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
    cor_transfer events[2] = {lt_transfer(2, 1, 2, 1, 1, L), lt_transfer(3, 1, 9, 1, 1, 0)};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[1].status, COR_TRANSFER_TRANSFERS_FULL);
    /* Not remembered: with the account in place the same id goes through. */
    cor_account nine = lt_account(9, 1, 0);
    LT_A(lt_create_account(ledger, &nine), COR_ACCOUNT_CREATED);
    lt_ok(ledger, &events[1]);
    cor_ledger_close(ledger);
}

Test(ledger_linked, account_chains_roll_back)
{
    cor_ledger *ledger = lt_open();
    cor_account events[4] = {
        lt_account(1, 1, COR_ACCOUNT_LINKED),
        lt_account(2, 1, COR_ACCOUNT_LINKED),
        lt_account(3, 0, 0), /* ledger_must_not_be_zero */
        lt_account(4, 1, 0),
    };
    cor_create_result results[4];
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, events, 4, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_LINKED_EVENT_FAILED);
    LT_A(results[1].status, COR_ACCOUNT_LINKED_EVENT_FAILED);
    LT_A(results[2].status, COR_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO);
    LT_A(results[3].status, COR_ACCOUNT_CREATED);
    cor_account a;
    cr_assert(!cor_ledger_lookup_account(ledger, 1, &a));
    cr_assert(!cor_ledger_lookup_account(ledger, 2, &a));
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.accounts_count, 1);
    /* The rolled-back ids are free; an open account chain fails as a unit. */
    cor_account open[2] = {lt_account(1, 1, COR_ACCOUNT_LINKED),
                           lt_account(2, 1, COR_ACCOUNT_LINKED)};
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, open, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_LINKED_EVENT_FAILED);
    LT_A(results[1].status, COR_ACCOUNT_LINKED_EVENT_CHAIN_OPEN);
    open[1].flags = 0;
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, open, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    LT_A(results[1].status, COR_ACCOUNT_CREATED);
    /* Stored accounts keep the linked flag they were created with; a retry matches. */
    open[0].flags = COR_ACCOUNT_LINKED;
    open[1].flags = 0;
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, open, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_EXISTS); /* "exists" fails a chain */
    LT_A(results[1].status, COR_ACCOUNT_LINKED_EVENT_FAILED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, rollback_restores_a_post_and_the_expiry_queue)
{
    cor_ledger *ledger = linked_ledger();
    cor_transfer p = lt_transfer(1, 1, 2, 10, 1, COR_TRANSFER_PENDING);
    p.timeout = 3;
    LT_T(lt_create_transfer_at(ledger, 10 * NS, &p, NULL), COR_TRANSFER_CREATED);
    cor_transfer q = p;
    q.id = 2;
    q.timeout = 2;
    LT_T(lt_create_transfer_at(ledger, 11 * NS, &q, NULL), COR_TRANSFER_CREATED);
    cor_transfer events[3] = {
        lt_resolve(3, 1, 4, false), lt_resolve(4, 2, 0, true),
        lt_transfer(5, 5, 1, 1, 1, 0), /* exceeds_credits */
    };
    events[0].flags |= L;
    events[1].flags |= L;
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, 3, results), COR_OK);
    LT_T(results[2].status, COR_TRANSFER_EXCEEDS_CREDITS);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_PENDING);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_PENDING);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 20);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 0);
    /* Both still expire, in order. */
    cr_assert_eq(cor_ledger_expire_pending(ledger, 13 * NS, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_EXPIRED);
    cr_assert_eq(cor_ledger_expire_pending(ledger, 13 * NS, 1), 1);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_EXPIRED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_linked, a_full_batch_chain_rolls_back)
{
    enum { N = COR_LEDGER_BATCH_EVENTS_MAX };
    cor_ledger *ledger = lt_open_with(8, 3 * N, 2 * N, 0);
    lt_accounts(ledger, 4, 0);
    static cor_transfer events[N];
    static cor_create_result results[N];
    /* A committed batch first, so the chain's inserts land among occupied slots. */
    for (uint32_t i = 0; i < N; i++) {
        events[i] = lt_transfer(1 + i, 1 + i % 3, 4, 1, 1, i % 2 ? COR_TRANSFER_PENDING : 0);
        events[i].timeout = i % 4 == 1 ? 60 : 0;
    }
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, N, results), COR_OK);
    for (uint32_t i = 0; i < N; i++) LT_T(results[i].status, COR_TRANSFER_CREATED);
    cor_ledger_stats before;
    cor_ledger_stats_get(ledger, &before);
    /* One chain of N events: new transfers and posts of the pending ones; the last fails. */
    for (uint32_t i = 0; i < N; i++) {
        cor_u128 id = 100000 + i;
        bool void_ = i % 4 == 3;
        events[i] = i % 2 ? lt_resolve(id, 1 + i, void_ ? 0 : COR_AMOUNT_MAX, void_)
                          : lt_transfer(id, 4, 1 + i % 3, 1, 1, 0);
        events[i].flags |= COR_TRANSFER_LINKED;
    }
    events[N - 1] = lt_transfer(100000 + N - 1, 1, 99, 1, 1, 0);
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, N, results), COR_OK);
    LT_T(results[N - 1].status, COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    cor_ledger_stats after;
    cor_ledger_stats_get(ledger, &after);
    cr_assert_eq(after.transfers_count, before.transfers_count);
    cr_assert_eq(after.pending_transfers_count, before.pending_transfers_count);
    cr_assert_eq(after.history_count, before.history_count);
    lt_check(ledger);
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_PENDING);
    /* Every rolled-back id is free again, every committed one still found. */
    for (uint32_t i = 0; i < N - 1; i++) events[i].flags &= (uint16_t)~COR_TRANSFER_LINKED;
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events, N - 1, results), COR_OK);
    for (uint32_t i = 0; i < N - 1; i++) LT_T(results[i].status, COR_TRANSFER_CREATED);
    for (cor_u128 id = 1; id <= N; id++) {
        cor_transfer t;
        cr_assert(cor_ledger_lookup_transfer(ledger, id, &t));
    }
    lt_check(ledger);
    cor_ledger_close(ledger);
}
