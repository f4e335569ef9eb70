/*
 * cor_ledger_check: passes on every state the commands can build (the model test calls it
 * after every batch) and names the first broken invariant when the state is damaged. The
 * damage is done through the private layout (ledger_internal.h), the only way to get a state
 * the public API refuses to produce.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"
#include "ledger/ledger_internal.h"

/* Accounts 1..3; 1 -> 2 posted 10; 1 -> 3 pending 4 with a timeout; 4 limited. */
static cor_ledger *check_ledger(void)
{
    cor_ledger *ledger = lt_open();
    lt_accounts(ledger, 3, 0);
    cor_account limited = lt_account(4, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_transfer t = lt_transfer(1, 1, 2, 10, 1, 0);
    lt_ok(ledger, &t);
    cor_transfer p = lt_transfer(2, 1, 3, 4, 1, COR_TRANSFER_PENDING);
    p.timeout = 5;
    lt_ok(ledger, &p);
    cor_transfer q = lt_transfer(3, 2, 1, 1, 1, COR_TRANSFER_PENDING);
    q.timeout = 9;
    lt_ok(ledger, &q);
    lt_check(ledger);
    return ledger;
}

static void expect_problem(cor_ledger *ledger, const char *fragment)
{
    char problem[200];
    cr_assert(!cor_ledger_check(ledger, problem, sizeof(problem)), "check passed");
    cr_assert(strstr(problem, fragment) != NULL, "problem '%s' lacks '%s'", problem, fragment);
    cr_assert(!cor_ledger_check(ledger, NULL, 0), "works without a problem buffer");
    char tiny[4];
    cr_assert(!cor_ledger_check(ledger, tiny, sizeof(tiny)));
    cr_assert_eq(tiny[3], '\0', "problem text is truncated and terminated");
}

Test(ledger_check, passes_and_clears_the_problem_text)
{
    cor_ledger *ledger = check_ledger();
    char problem[64];
    memset(problem, 'x', sizeof(problem));
    cr_assert(cor_ledger_check(ledger, problem, sizeof(problem)));
    cr_assert_str_eq(problem, "");
    cor_ledger *empty = lt_open();
    cr_assert(cor_ledger_check(empty, NULL, 0));
    cor_ledger_close(empty);
    cor_ledger_close(ledger);
}

Test(ledger_check, posted_sums_differ)
{
    cor_ledger *ledger = check_ledger();
    ledger->balances[0].debits_posted += 1;
    expect_problem(ledger, "posted debits and credits differ");
    cor_ledger_close(ledger);
}

Test(ledger_check, pending_sums_differ)
{
    cor_ledger *ledger = check_ledger();
    ledger->balances[2].credits_pending += 1;
    expect_problem(ledger, "pending debits and credits differ");
    cor_ledger_close(ledger);
}

Test(ledger_check, balance_limit_violated)
{
    cor_ledger *ledger = check_ledger();
    /* Balanced (sums agree) but account 4 now owes what it does not have. */
    ledger->balances[3].debits_pending += 5;
    ledger->balances[2].credits_pending += 5;
    expect_problem(ledger, "debits exceed credits");
    cor_ledger_close(ledger);
}

Test(ledger_check, pending_balance_without_a_pending_transfer)
{
    cor_ledger *ledger = check_ledger();
    ledger->balances[0].debits_pending += 7;
    ledger->balances[1].credits_pending += 7;
    expect_problem(ledger, "disagrees with pending transfers");
    cor_ledger_close(ledger);
}

Test(ledger_check, history_disagrees_with_balance)
{
    cor_ledger *ledger = check_ledger();
    ledger->balances[0].debits_posted += 3;
    ledger->balances[1].credits_posted += 3;
    expect_problem(ledger, "history disagrees with balance");
    cor_ledger_close(ledger);
}

Test(ledger_check, status_disagrees_with_flags)
{
    cor_ledger *ledger = check_ledger();
    ledger->transfers_status[0] = COR_PENDING_STATUS_PENDING;
    expect_problem(ledger, "status disagrees with flags");
    cor_ledger_close(ledger);
}

Test(ledger_check, expiry_heap_broken)
{
    cor_ledger *ledger = check_ledger();
    cr_assert_eq(ledger->expiries_count, 2);
    ledger->expiries[1].expires_at = 0; /* child before its parent */
    expect_problem(ledger, "heap order broken");
    cor_ledger_close(ledger);
}

Test(ledger_check, clock_behind_records)
{
    cor_ledger *ledger = check_ledger();
    ledger->timestamp = 1;
    expect_problem(ledger, "ledger time behind its records");
    cor_ledger_close(ledger);
    ledger = check_ledger();
    ledger->object_timestamp_last -= 1;
    expect_problem(ledger, "newest object timestamp disagrees");
    cor_ledger_close(ledger);
}

Test(ledger_check, records_out_of_time_order)
{
    cor_ledger *ledger = check_ledger();
    uint64_t swap = ledger->transfers[0].timestamp;
    ledger->transfers[0].timestamp = ledger->transfers[1].timestamp;
    ledger->transfers[1].timestamp = swap;
    expect_problem(ledger, "timestamps not increasing");
    cor_ledger_close(ledger);
}

Test(ledger_check, balance_totals_overflow)
{
    /* Every transfer keeps pending + posted from overflowing; a state where they wrap could
     * pass a limit check it should fail (and a void would unwrap it), so the check refuses
     * it. Account 1 (debits_pending 4) gets debits_posted 2^128 - 3, account 2 the matching
     * credits; the history heads follow, so only the overflow is wrong. */
    cor_ledger *ledger = check_ledger();
    const cor_u128 extra = COR_U128_MAX - 2 - 10;
    ledger->balances[0].debits_posted += extra;
    ledger->history[ledger_account_slot_at(ledger, 0)->history_head_next - 1].debits_posted +=
        extra;
    ledger->balances[1].credits_posted += extra;
    ledger->history[ledger_account_slot_at(ledger, 1)->history_head_next - 1].credits_posted +=
        extra;
    expect_problem(ledger, "overflow");
    cor_ledger_close(ledger);
}
