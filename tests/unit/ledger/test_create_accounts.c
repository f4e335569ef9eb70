/*
 * create_accounts: every account result code, and their precedence (docs/LEDGER.md,
 * "Accounts"). Each ladder starts from an event that breaks every rule of its group and
 * repairs one rule per step, so each step proves that the code it gets outranks all the
 * codes the event still deserves.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"

Test(ledger_create_accounts, created_stores_the_record_with_its_timestamp)
{
    cor_ledger *ledger = lt_open();
    cor_account a =
        lt_account(7, 3, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS | COR_ACCOUNT_HISTORY);
    a.user_data_128 = 11;
    a.user_data_64 = 12;
    a.user_data_32 = 13;
    a.code = 14;
    cor_create_result result;
    cr_assert_eq(cor_ledger_create_accounts(ledger, 5000, &a, 1, &result), COR_OK);
    LT_A(result.status, COR_ACCOUNT_CREATED);
    cr_assert_eq(result.timestamp, 5000);
    cor_account stored = lt_get_account(ledger, 7);
    a.timestamp = 5000;
    cr_assert(memcmp(&stored, &a, sizeof(a)) == 0, "stored record differs from the event");
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.accounts_count, 1);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, precedence_ladder_for_a_new_id)
{
    cor_ledger *ledger = lt_open();
    cor_account a = {
        .id = 0,
        .debits_pending = 1,
        .debits_posted = 1,
        .credits_pending = 1,
        .credits_posted = 1,
        .reserved = 1,
        .ledger = 0,
        .code = 0,
        .flags = (uint16_t)(1u << 6) | COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS |
                 COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS,
        .timestamp = 99,
    };
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_TIMESTAMP_MUST_BE_ZERO);
    a.timestamp = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_RESERVED_FIELD);
    a.reserved = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_RESERVED_FLAG);
    a.flags &= (uint16_t) ~(1u << 6);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_ID_MUST_NOT_BE_ZERO);
    a.id = COR_U128_MAX;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_ID_MUST_NOT_BE_INT_MAX);
    a.id = 1;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE);
    a.flags &= (uint16_t)~COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_DEBITS_PENDING_MUST_BE_ZERO);
    a.debits_pending = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_DEBITS_POSTED_MUST_BE_ZERO);
    a.debits_posted = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREDITS_PENDING_MUST_BE_ZERO);
    a.credits_pending = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREDITS_POSTED_MUST_BE_ZERO);
    a.credits_posted = 0;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO);
    a.ledger = 1;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CODE_MUST_NOT_BE_ZERO);
    a.code = 1;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
    /* No failed event left a trace. */
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.accounts_count, 1);
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, credits_must_not_exceed_debits_alone_is_fine)
{
    cor_ledger *ledger = lt_open();
    cor_account a = lt_account(1, 1, COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, exists_ladder_checks_fields_in_order)
{
    cor_ledger *ledger = lt_open();
    cor_account original = lt_account(5, 2, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    original.user_data_128 = 1;
    original.user_data_64 = 2;
    original.user_data_32 = 3;
    original.code = 4;
    uint64_t created_at = 0;
    cor_create_result result;
    cr_assert_eq(cor_ledger_create_accounts(ledger, 777, &original, 1, &result), COR_OK);
    LT_A(result.status, COR_ACCOUNT_CREATED);
    created_at = result.timestamp;

    /* Every field differs, and the event would also fail the checks that come after. */
    cor_account a = original;
    a.flags =
        COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS | COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    a.user_data_128 = 9;
    a.user_data_64 = 9;
    a.user_data_32 = 9;
    a.ledger = 9;
    a.code = 9;
    a.debits_posted = 5;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS);
    a.flags = original.flags;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128);
    a.user_data_128 = original.user_data_128;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64);
    a.user_data_64 = original.user_data_64;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_32);
    a.user_data_32 = original.user_data_32;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER);
    a.ledger = original.ledger;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE);
    a.code = original.code;
    /* Balances are not compared (they are state), so this is already "exists". */
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, &a, 1, &result), COR_OK);
    LT_A(result.status, COR_ACCOUNT_EXISTS);
    cr_assert_eq(result.timestamp, created_at, "exists returns the existing timestamp");
    a.debits_posted = 0;
    cr_assert_eq(cor_ledger_create_accounts(ledger, 0, &a, 1, &result), COR_OK);
    LT_A(result.status, COR_ACCOUNT_EXISTS);
    cr_assert_eq(result.timestamp, created_at);
    /* The history flag is part of identity. */
    a.flags |= COR_ACCOUNT_HISTORY;
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, exists_ignores_the_closed_bit)
{
    cor_ledger *ledger = lt_open();
    cor_account a = lt_account(1, 1, 0);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_CREATED);
    cor_account b = lt_account(2, 1, 0);
    LT_A(lt_create_account(ledger, &b), COR_ACCOUNT_CREATED);
    /* Close account 1 with a closing pending transfer; its retry is still "exists". */
    cor_transfer close =
        lt_transfer(10, 1, 2, 0, 1, COR_TRANSFER_PENDING | COR_TRANSFER_CLOSING_DEBIT);
    lt_ok(ledger, &close);
    cr_assert(lt_get_account(ledger, 1).flags & COR_ACCOUNT_CLOSED);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS);
    /* And an account created closed matches a retry without the bit. */
    cor_account c = lt_account(3, 1, COR_ACCOUNT_CLOSED);
    LT_A(lt_create_account(ledger, &c), COR_ACCOUNT_CREATED);
    c.flags = 0;
    LT_A(lt_create_account(ledger, &c), COR_ACCOUNT_EXISTS);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, exists_outranks_accounts_full_and_full_is_last)
{
    cor_ledger *ledger = lt_open_with(2, 16, 4, 0);
    lt_accounts(ledger, 2, 0);
    cor_account a = lt_account(1, 1, 0);
    LT_A(lt_create_account(ledger, &a), COR_ACCOUNT_EXISTS);
    cor_account b = lt_account(3, 1, 0);
    b.code = 0;
    LT_A(lt_create_account(ledger, &b), COR_ACCOUNT_CODE_MUST_NOT_BE_ZERO);
    b.code = 1;
    LT_A(lt_create_account(ledger, &b), COR_ACCOUNT_ACCOUNTS_FULL);
    /* Nothing was created, and a retry still gets the capacity result. */
    LT_A(lt_create_account(ledger, &b), COR_ACCOUNT_ACCOUNTS_FULL);
    cr_assert(!cor_ledger_lookup_account(ledger, 3, &a));
    lt_check(ledger);
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, duplicate_in_one_batch_gets_exists)
{
    cor_ledger *ledger = lt_open();
    cor_account events[3] = {lt_account(1, 1, 0), lt_account(1, 1, 0), lt_account(1, 2, 0)};
    cor_create_result results[3];
    cr_assert_eq(cor_ledger_create_accounts(ledger, 100, events, 3, results), COR_OK);
    LT_A(results[0].status, COR_ACCOUNT_CREATED);
    LT_A(results[1].status, COR_ACCOUNT_EXISTS);
    cr_assert_eq(results[1].timestamp, 100);
    LT_A(results[2].status, COR_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER);
    cr_assert_eq(results[2].timestamp, 0, "failures carry no timestamp");
    cor_ledger_close(ledger);
}

Test(ledger_create_accounts, status_names)
{
    cr_assert_str_eq(cor_create_account_status_name(COR_ACCOUNT_CREATED), "created");
    cr_assert_str_eq(cor_create_account_status_name(COR_ACCOUNT_ACCOUNTS_FULL), "accounts_full");
    cr_assert_str_eq(cor_create_account_status_name(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE),
                     "exists_with_different_code");
    cr_assert_str_eq(cor_create_account_status_name(27), "unknown");
    cr_assert_str_eq(cor_create_account_status_name(UINT32_MAX), "unknown");
}
