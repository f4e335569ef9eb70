/*
 * Balancing transfers (docs/LEDGER.md step 14): the amount shrinks to what keeps the account
 * within debits <= credits (balancing_debit) or credits <= debits (balancing_credit),
 * pending amounts included, whatever the account's flags; nothing available is refused.
 */
#include <criterion/criterion.h>

#include "../../support/ledger_support.h"

/* Accounts 1..4 on ledger 1 without flags; 1 holds 100 credits posted. */
static cor_ledger *balancing_ledger(void)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 4, 0);
    lt_fund(ledger, 1, 100);
    return ledger;
}

Test(ledger_balancing, debit_moves_at_most_the_available_credit)
{
    cor_ledger *ledger = balancing_ledger();
    cor_transfer spent = lt_transfer(1, 1, 2, 30, 1, 0);
    lt_ok(ledger, &spent);
    cor_transfer t = lt_transfer(2, 1, 2, 1000, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 70, "partial amount recorded");
    cor_account a = lt_get_account(ledger, 1);
    cr_assert(a.debits_posted == 100 && a.credits_posted == 100);
    /* Now nothing is available: a non-zero request is refused (ours: no zero transfer). */
    cor_transfer none = lt_transfer(3, 1, 2, 5, 1, COR_TRANSFER_BALANCING_DEBIT);
    LT_T(lt_create_transfer(ledger, &none), COR_TRANSFER_EXCEEDS_CREDITS);
    cr_assert(cor_create_transfer_status_transient(COR_TRANSFER_EXCEEDS_CREDITS));
    /* A zero request is a zero transfer. */
    cor_transfer zero = lt_transfer(4, 1, 2, 0, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &zero);
    cr_assert(lt_get_transfer(ledger, 4).amount == 0);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, a_smaller_request_moves_what_it_asks)
{
    cor_ledger *ledger = balancing_ledger();
    cor_transfer t = lt_transfer(1, 1, 2, 40, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 1).amount == 40);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, pending_debits_count_against_the_room)
{
    cor_ledger *ledger = balancing_ledger();
    cor_transfer hold = lt_transfer(1, 1, 3, 60, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &hold);
    cor_transfer t = lt_transfer(2, 1, 2, COR_AMOUNT_MAX, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 40);
    /* A pending balancing transfer reserves its shrunk amount. */
    cor_transfer v = lt_resolve(3, 1, 0, true);
    lt_ok(ledger, &v);
    cor_transfer p =
        lt_transfer(4, 1, 2, 500, 1, COR_TRANSFER_PENDING | COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &p);
    cr_assert(lt_get_transfer(ledger, 4).amount == 60);
    cr_assert(lt_get_account(ledger, 1).debits_pending == 60);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, credit_moves_at_most_the_available_debit)
{
    cor_ledger *ledger = balancing_ledger();
    /* Account 3 has debits 25 (it paid 2). */
    cor_transfer pay = lt_transfer(1, 3, 2, 25, 1, 0);
    lt_ok(ledger, &pay);
    cor_transfer t = lt_transfer(2, 1, 3, 80, 1, COR_TRANSFER_BALANCING_CREDIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 25);
    cor_transfer none = lt_transfer(3, 1, 3, 1, 1, COR_TRANSFER_BALANCING_CREDIT);
    LT_T(lt_create_transfer(ledger, &none), COR_TRANSFER_EXCEEDS_DEBITS);
    /* Account 4 has no debits at all. */
    cor_transfer empty = lt_transfer(4, 1, 4, 1, 1, COR_TRANSFER_BALANCING_CREDIT);
    LT_T(lt_create_transfer(ledger, &empty), COR_TRANSFER_EXCEEDS_DEBITS);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, both_flags_take_the_smaller_room)
{
    cor_ledger *ledger = balancing_ledger();
    cor_transfer pay = lt_transfer(1, 3, 2, 25, 1, 0);
    lt_ok(ledger, &pay);
    cor_transfer t =
        lt_transfer(2, 1, 3, 1000, 1, COR_TRANSFER_BALANCING_DEBIT | COR_TRANSFER_BALANCING_CREDIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 25);
    /* Debit room left (75) but no credit room: exceeds_debits. */
    cor_transfer u =
        lt_transfer(3, 1, 3, 10, 1, COR_TRANSFER_BALANCING_DEBIT | COR_TRANSFER_BALANCING_CREDIT);
    LT_T(lt_create_transfer(ledger, &u), COR_TRANSFER_EXCEEDS_DEBITS);
    /* No debit room: exceeds_credits comes first. */
    cor_transfer w =
        lt_transfer(4, 4, 3, 10, 1, COR_TRANSFER_BALANCING_DEBIT | COR_TRANSFER_BALANCING_CREDIT);
    LT_T(lt_create_transfer(ledger, &w), COR_TRANSFER_EXCEEDS_CREDITS);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, with_limit_flags_it_fits_the_limit)
{
    cor_ledger *ledger = lt_open();
    cor_account limited = lt_account(1, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_account sink = lt_account(2, 1, 0);
    LT_A(lt_create_account(ledger, &sink), COR_ACCOUNT_CREATED);
    lt_fund(ledger, 1, 10);
    cor_transfer plain = lt_transfer(1, 1, 2, 11, 1, 0);
    LT_T(lt_create_transfer(ledger, &plain), COR_TRANSFER_EXCEEDS_CREDITS);
    cor_transfer t = lt_transfer(2, 1, 2, 11, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 10);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, balancing_failure_outranks_overflow)
{
    cor_ledger *ledger = balancing_ledger();
    /* Account 2 has no credits; an AMOUNT_MAX balancing debit is exceeds_credits. */
    cor_transfer t = lt_transfer(1, 2, 3, COR_AMOUNT_MAX, 1, COR_TRANSFER_BALANCING_DEBIT);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXCEEDS_CREDITS);
    /* Closed accounts outrank the balancing refusal. */
    cor_transfer close =
        lt_transfer(2, 2, 4, 0, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT);
    lt_ok(ledger, &close);
    cor_transfer u = lt_transfer(3, 2, 3, 5, 1, COR_TRANSFER_BALANCING_DEBIT);
    LT_T(lt_create_transfer(ledger, &u), COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED);
    cor_ledger_close(ledger);
}

Test(ledger_balancing, exists_when_the_retry_covers_the_moved_amount)
{
    cor_ledger *ledger = balancing_ledger();
    cor_transfer spent = lt_transfer(1, 1, 2, 70, 1, 0);
    lt_ok(ledger, &spent);
    cor_transfer t = lt_transfer(2, 1, 2, 100, 1, COR_TRANSFER_BALANCING_DEBIT);
    lt_ok(ledger, &t);
    cr_assert(lt_get_transfer(ledger, 2).amount == 30);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS);
    t.amount = 30;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS);
    t.amount = COR_AMOUNT_MAX;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS);
    t.amount = 29;
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT);
    cor_ledger_close(ledger);
}
