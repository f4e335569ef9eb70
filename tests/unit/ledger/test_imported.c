/*
 * Imported events (docs/LEDGER.md "Time"): they carry their own timestamp, which must be in
 * (0, 2^63), before the batch's base, and after every stored account and transfer; a batch
 * is imported or not as its first event is. Every imported_* code, for accounts and
 * transfers, and their precedence.
 */
#include <criterion/criterion.h>

#include "../../support/ledger_support.h"

#define IA   COR_ACCOUNT_IMPORTED
#define IT   COR_TRANSFER_IMPORTED
#define BASE 1000000u

static cor_account imported_account(cor_u128 id, uint64_t timestamp)
{
    cor_account a = lt_account(id, 1, IA);
    a.timestamp = timestamp;
    return a;
}

static uint32_t import_account(cor_ledger *ledger, uint64_t batch, cor_account a)
{
    cor_create_result result;
    cr_assert_eq(cor_ledger_create_accounts(ledger, batch, &a, 1, &result), COR_OK);
    if (result.status == COR_ACCOUNT_CREATED) cr_assert_eq(result.timestamp, a.timestamp);
    return result.status;
}

static uint32_t import_transfer(cor_ledger *ledger, uint64_t batch, cor_transfer t)
{
    cor_create_result result;
    cr_assert_eq(cor_ledger_create_transfers(ledger, batch, &t, 1, &result), COR_OK);
    if (result.status == COR_TRANSFER_CREATED) cr_assert_eq(result.timestamp, t.timestamp);
    return result.status;
}

Test(ledger_imported, accounts_keep_their_timestamps)
{
    cor_ledger *ledger = lt_open();
    cor_account events[2] = {imported_account(1, 10), imported_account(2, 20)};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_accounts(ledger, BASE, events, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    cr_assert_eq(results[0].timestamp, 10);
    cr_assert_eq(results[1].timestamp, 20);
    cr_assert_eq(lt_get_account(ledger, 2).timestamp, 20);
    cr_assert(lt_get_account(ledger, 2).flags & IA);
    /* The ledger's time still advances by the batch. */
    cr_assert_eq(cor_ledger_timestamp(ledger), BASE + 1);
    /* A retry is "exists" with the imported timestamp. */
    cr_assert_eq(cor_ledger_create_accounts(ledger, BASE, events, 1, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_EXISTS);
    cr_assert_eq(results[0].timestamp, 10);
    cor_ledger_close(ledger);
}

Test(ledger_imported, account_codes_and_precedence)
{
    cor_ledger *ledger = lt_open();
    LT_A(import_account(ledger, BASE, imported_account(1, 100)), COR_ACCOUNT_CREATED);
    /* Mixed batches: the first event decides. */
    cor_account mixed[2] = {imported_account(2, 200), lt_account(3, 1, 0)};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_accounts(ledger, BASE, mixed, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    LT_A(results[1].status, COR_ACCOUNT_IMPORTED_EVENT_EXPECTED);
    cor_account mixed2[2] = {lt_account(4, 1, 0), imported_account(5, 300)};
    cr_assert_eq(cor_ledger_create_accounts(ledger, BASE, mixed2, 2, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    LT_A(results[1].status, COR_ACCOUNT_IMPORTED_EVENT_NOT_EXPECTED);
    uint64_t now = cor_ledger_timestamp(ledger);
    uint64_t batch = now + 1000;

    /* Ladder: each step fixes the highest-ranking fault. */
    cor_account a = imported_account(0, 0);
    a.reserved = 1;
    a.ledger = 0;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE);
    a.timestamp = 1ull << 63;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE);
    a.timestamp = (1ull << 63) - 1; /* in range, but not before the batch's base */
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE);
    a.timestamp = 150; /* before account 4 (now) and even before account 2 */
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_RESERVED_FIELD);
    a.reserved = 0;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    a.id = 6;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO);
    a.ledger = 1;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    a.timestamp = lt_get_account(ledger, 4).timestamp; /* equal is a regression too */
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    a.timestamp += 1;
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_CREATED);
    /* exists outranks the regression check. */
    LT_A(import_account(ledger, batch, a), COR_ACCOUNT_EXISTS);
    /* An imported batch moves time on like any other; the base still applies. */
    cor_account late = imported_account(7, cor_ledger_timestamp(ledger) + 1);
    LT_A(import_account(ledger, 0, late), COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE);
    /* timestamp_must_be_zero is for non-imported events only. */
    cor_account plain = lt_account(8, 1, 0);
    plain.timestamp = 5;
    LT_A(lt_create_account(ledger, &plain), COR_ACCOUNT_TIMESTAMP_MUST_BE_ZERO);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

/* Accounts 1 and 2 (ledger 1) imported at 10 and 20; ledger time BASE + 1. */
static cor_ledger *imported_ledger(void)
{
    cor_ledger *ledger = lt_open();
    cor_account events[2] = {imported_account(1, 10), imported_account(2, 20)};
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_accounts(ledger, BASE, events, 2, results), COR_OK);
    LT_A(results[1].status, COR_ACCOUNT_CREATED);
    return ledger;
}

static cor_transfer imported_transfer(cor_u128 id, uint64_t timestamp, uint16_t flags)
{
    cor_transfer t = lt_transfer(id, 1, 2, 5, 1, (uint16_t)(IT | flags));
    t.timestamp = timestamp;
    return t;
}

Test(ledger_imported, transfer_codes_and_precedence)
{
    cor_ledger *ledger = imported_ledger();
    uint64_t batch = BASE + 1000;
    cor_transfer t = imported_transfer(0, 0, 0);
    t.flags |= (uint16_t)(1u << 11);
    t.ledger = 0;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE);
    t.timestamp = UINT64_MAX;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE);
    t.timestamp = batch + 5;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE);
    t.timestamp = 15; /* between the two accounts */
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_RESERVED_FLAG);
    t.flags &= (uint16_t) ~(1u << 11);
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_ID_MUST_NOT_BE_ZERO);
    t.id = 1;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO);
    t.ledger = 1;
    t.flags |= COR_TRANSFER_PENDING;
    t.timeout = 7;
    /* 15 is after account 1 but not after account 2. With "after every stored record"
     * checked first, the per-account codes can never be the first to apply. */
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    t.timestamp = 20;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    t.timestamp = 21;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_IMPORTED_EVENT_TIMEOUT_MUST_BE_ZERO);
    t.timeout = 0;
    LT_T(import_transfer(ledger, batch, t), COR_TRANSFER_CREATED);
    cr_assert_eq(lt_get_transfer(ledger, 1).timestamp, 21);
    /* A second transfer at the same instant regresses. */
    cor_transfer u = imported_transfer(2, 21, 0);
    LT_T(import_transfer(ledger, batch, u), COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    /* An imported post of the imported pending transfer. */
    cor_transfer post = lt_resolve(3, 1, COR_AMOUNT_MAX, false);
    post.flags |= IT;
    post.timestamp = 21;
    LT_T(import_transfer(ledger, batch, post),
         COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    post.timestamp = 22;
    LT_T(import_transfer(ledger, batch, post), COR_TRANSFER_CREATED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_POSTED);
    cr_assert(lt_get_account(ledger, 1).debits_posted == 5);
    /* Post/void rules outrank the imported timestamp rules (step 12 before 13). */
    cor_transfer again = lt_resolve(4, 1, 0, true);
    again.flags |= IT;
    again.timestamp = 5;
    LT_T(import_transfer(ledger, batch, again), COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_imported, mixed_transfer_batches)
{
    cor_ledger *ledger = imported_ledger();
    cor_transfer events[3] = {
        imported_transfer(1, 30, 0),
        lt_transfer(2, 1, 2, 1, 1, 0),
        imported_transfer(3, 40, 0),
    };
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_transfers(ledger, BASE + 100, events, 3, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_CREATED);
    LT_T(results[1].status, COR_TRANSFER_IMPORTED_EVENT_EXPECTED);
    LT_T(results[2].status, COR_TRANSFER_CREATED);
    cor_transfer events2[2] = {lt_transfer(4, 1, 2, 1, 1, 0), imported_transfer(5, 50, 0)};
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events2, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_CREATED);
    LT_T(results[1].status, COR_TRANSFER_IMPORTED_EVENT_NOT_EXPECTED);
    /* The expected/not_expected check outranks timestamp_must_be_zero. */
    cor_transfer events3[2] = {lt_transfer(6, 1, 2, 1, 1, 0), imported_transfer(7, 0, 0)};
    events3[1].flags &= (uint16_t)~IT;
    events3[1].timestamp = 9;
    events3[0].flags |= IT;
    events3[0].timestamp = 60;
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, events3, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS);
    LT_T(results[1].status, COR_TRANSFER_IMPORTED_EVENT_EXPECTED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_imported, pending_transfer_expiry_uses_the_post_timestamp)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 2, 0);
    const uint64_t ns = 1000000000ull;
    cor_transfer p = lt_transfer(1, 1, 2, 5, 1, COR_TRANSFER_PENDING);
    p.timeout = 1;
    uint64_t at = 0;
    LT_T(lt_create_transfer_at(ledger, 10 * ns, &p, &at), COR_TRANSFER_CREATED);
    /* An imported post dated before the expiry works even though the batch is later. */
    cor_transfer post = lt_resolve(2, 1, COR_AMOUNT_MAX, false);
    post.flags |= IT;
    post.timestamp = 10 * ns + 5;
    LT_T(import_transfer(ledger, 20 * ns, post), COR_TRANSFER_CREATED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_POSTED);
    /* Dated at or after the expiry: expired. */
    cor_transfer q = p;
    q.id = 3;
    LT_T(lt_create_transfer_at(ledger, 30 * ns, &q, NULL), COR_TRANSFER_CREATED);
    cor_transfer post_q = lt_resolve(4, 3, COR_AMOUNT_MAX, false);
    post_q.flags |= IT;
    post_q.timestamp = 31 * ns;
    LT_T(import_transfer(ledger, 40 * ns, post_q), COR_TRANSFER_PENDING_TRANSFER_EXPIRED);
    cor_ledger_close(ledger);
}
