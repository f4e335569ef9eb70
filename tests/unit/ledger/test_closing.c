/*
 * Closing transfers (docs/LEDGER.md "Closing"): a pending transfer with closing_debit /
 * closing_credit closes its account; a closed account refuses every new transfer except
 * voids of pending transfers; voiding or expiring the closing transfer reopens it, posting it
 * does not (a post is refused on a closed account).
 */
#include <criterion/criterion.h>

#include "../../support/ledger_support.h"

#define NS 1000000000ull

static cor_ledger *closing_ledger(void)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 4, 0);
    lt_fund(ledger, 1, 100);
    return ledger;
}

static bool is_closed(const cor_ledger *ledger, cor_u128 id)
{
    return (lt_get_account(ledger, id).flags & COR_ACCOUNT_CLOSED) != 0;
}

Test(ledger_closing, closing_debit_closes_and_refuses_new_transfers)
{
    cor_ledger *ledger = closing_ledger();
    /* A pending transfer taken before the close: it may be voided, not posted. */
    cor_transfer before = lt_transfer(1, 1, 3, 10, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &before);
    cor_transfer close =
        lt_transfer(2, 1, 2, 0, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT);
    lt_ok(ledger, &close);
    cr_assert(is_closed(ledger, 1));
    cr_assert(!is_closed(ledger, 2));

    cor_transfer out = lt_transfer(3, 1, 2, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &out), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer in = lt_transfer(4, 2, 1, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &in), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer pending_in = lt_transfer(5, 2, 1, 1, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &pending_in), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer close_again =
        lt_transfer(6, 1, 2, 0, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT);
    LT_T(lt_create_transfer(ledger, &close_again), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer post_before = lt_resolve(7, 1, COR_AMOUNT_MAX, false);
    LT_T(lt_create_transfer(ledger, &post_before), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer void_before = lt_resolve(8, 1, 0, true);
    lt_ok(ledger, &void_before);
    cr_assert(is_closed(ledger, 1), "voiding another pending transfer does not reopen");

    /* Posting the closing transfer is refused and keeps the account closed. */
    cor_transfer post_close = lt_resolve(9, 2, COR_AMOUNT_MAX, false);
    LT_T(lt_create_transfer(ledger, &post_close), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cr_assert(is_closed(ledger, 1));
    cr_assert_eq(cor_ledger_pending_status(ledger, 2), COR_PENDING_STATUS_PENDING);

    /* Voiding the closing transfer reopens the account. */
    cor_transfer reopen = lt_resolve(10, 2, 0, true);
    lt_ok(ledger, &reopen);
    cr_assert(!is_closed(ledger, 1));
    cor_transfer after = lt_transfer(11, 1, 2, 1, 1, 0);
    lt_ok(ledger, &after);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_closing, closing_credit_closes_the_credit_account)
{
    cor_ledger *ledger = closing_ledger();
    cor_transfer close =
        lt_transfer(1, 1, 2, 5, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_CREDIT);
    lt_ok(ledger, &close);
    cr_assert(is_closed(ledger, 2));
    cr_assert(!is_closed(ledger, 1));
    cor_transfer in = lt_transfer(2, 1, 2, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &in), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer out = lt_transfer(3, 2, 1, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &out), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer post = lt_resolve(4, 1, 5, false);
    LT_T(lt_create_transfer(ledger, &post), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer v = lt_resolve(5, 1, 5, true);
    lt_ok(ledger, &v);
    cr_assert(!is_closed(ledger, 2));
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_closing, closing_both_sides_and_expiry_reopens)
{
    cor_ledger *ledger = closing_ledger();
    cor_transfer close = lt_transfer(1, 1, 2, 0, 1,
                                     COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT |
                                         COR_TRANSFER_CLOSING_CREDIT);
    close.timeout = 1;
    LT_T(lt_create_transfer_at(ledger, 10 * NS, &close, NULL), COR_TRANSFER_CREATED);
    cr_assert(is_closed(ledger, 1) && is_closed(ledger, 2));
    cr_assert_eq(cor_ledger_expire_pending(ledger, 11 * NS, 1), 1);
    cr_assert(!is_closed(ledger, 1) && !is_closed(ledger, 2));
    cr_assert_eq(cor_ledger_pending_status(ledger, 1), COR_PENDING_STATUS_EXPIRED);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_closing, account_created_closed_refuses_everything)
{
    cor_ledger *ledger = closing_ledger();
    cor_account closed = lt_account(9, 1, COR_ACCOUNT_CLOSED);
    LT_A(lt_create_account(ledger, &closed), COR_ACCOUNT_CREATED);
    cor_transfer in = lt_transfer(1, 1, 9, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &in), COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED);
    cor_transfer out = lt_transfer(2, 9, 1, 0, 1, COR_TRANSFER_PENDING);
    LT_T(lt_create_transfer(ledger, &out), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    /* Both closed: the debit side is reported. */
    cor_account closed2 = lt_account(10, 1, COR_ACCOUNT_CLOSED);
    LT_A(lt_create_account(ledger, &closed2), COR_ACCOUNT_CREATED);
    cor_transfer both = lt_transfer(3, 9, 10, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &both), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_ledger_close(ledger);
}

Test(ledger_closing, failed_chain_undoes_a_close)
{
    cor_ledger *ledger = closing_ledger();
    cor_transfer chain[2] = {
        lt_transfer(1, 1, 2, 0, 1,
                    COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT | COR_TRANSFER_LINKED),
        lt_transfer(2, 3, 4, 1, 2, 0), /* wrong ledger */
    };
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, chain, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[1].status, COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS);
    cr_assert(!is_closed(ledger, 1));
    /* A chain that closes and then uses the account fails on the closed account. */
    cor_transfer chain2[2] = {
        lt_transfer(3, 1, 2, 0, 1,
                    COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT | COR_TRANSFER_LINKED),
        lt_transfer(4, 1, 2, 1, 1, 0),
    };
    cr_assert_eq(cor_ledger_create_transfers(ledger, 0, chain2, 2, results), COR_OK);
    LT_T(results[0].status, COR_TRANSFER_LINKED_EVENT_FAILED);
    LT_T(results[1].status, COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cr_assert(!is_closed(ledger, 1));
    lt_check(ledger);
    cor_ledger_close(ledger);
}
