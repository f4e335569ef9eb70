/*
 * Queries (docs/LEDGER.md "Queries"): lookups by id, pending statuses, an account's
 * transfers and balance history (debits / credits / both, time range, limit, order, user data
 * and code filters), query_accounts / query_transfers, stats and accounts_each.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"

#define MAXN 64u

/*
 * Accounts 1..3 (ledger 1), 4 (ledger 2, code 2). Transfers at timestamps 1001.. :
 *   id 10: 1 -> 2, 100, user_data_128 7, code 1      ts 1001
 *   id 11: 2 -> 1,  30, user_data_64 8, code 2       ts 1002
 *   id 12: 1 -> 3,  20 pending, user_data_32 9        ts 1003
 *   id 13: post 12 partial 5                          ts 1004
 *   id 14: 3 -> 2,  1, code 3                         ts 1005
 */
static cor_ledger *query_ledger(void)
{
    cor_ledger *ledger = lt_open();
    cor_account accounts[4] = {lt_account(1, 1, 0), lt_account(2, 1, 0), lt_account(3, 1, 0),
                               lt_account(4, 2, 0)};
    accounts[0].user_data_128 = 5;
    accounts[1].user_data_128 = 5;
    accounts[1].user_data_64 = 6;
    accounts[3].code = 2;
    cor_create_result results[5];
    cr_assert_eq(cor_ledger_create_accounts(ledger, 500, accounts, 4, results), COR_OK);
    cor_transfer t[5] = {
        lt_transfer(10, 1, 2, 100, 1, 0),
        lt_transfer(11, 2, 1, 30, 1, 0),
        lt_transfer(12, 1, 3, 20, 1, COR_TRANSFER_PENDING),
        lt_resolve(13, 12, 5, false),
        lt_transfer(14, 3, 2, 1, 1, 0),
    };
    t[0].user_data_128 = 7;
    t[1].user_data_64 = 8;
    t[1].code = 2;
    t[2].user_data_32 = 9;
    t[4].code = 3;
    cr_assert_eq(cor_ledger_create_transfers(ledger, 1001, t, 5, results), COR_OK);
    for (int i = 0; i < 5; i++)
        LT_T(results[i].status, COR_TRANSFER_CREATED);
    return ledger;
}

static uint32_t account_transfer_ids(cor_ledger *ledger, const cor_account_filter *filter,
                                     cor_u128 *ids)
{
    cor_transfer out[MAXN];
    uint32_t count = cor_ledger_get_account_transfers(ledger, filter, out, MAXN);
    for (uint32_t i = 0; i < count; i++)
        ids[i] = out[i].id;
    return count;
}

static void expect_ids(const cor_u128 *ids, uint32_t count, const unsigned *want,
                       uint32_t want_count)
{
    cr_assert_eq(count, want_count, "got %u results, expected %u", count, want_count);
    for (uint32_t i = 0; i < count; i++) {
        cr_assert(ids[i] == want[i], "result %u: got %u, expected %u", i, (unsigned)ids[i],
                  want[i]);
    }
}

Test(ledger_queries, lookups)
{
    cor_ledger *ledger = query_ledger();
    cor_account account;
    cr_assert(cor_ledger_lookup_account(ledger, 2, &account));
    cr_assert_eq(account.user_data_64, 6);
    cr_assert(!cor_ledger_lookup_account(ledger, 99, &account));
    cr_assert(!cor_ledger_lookup_account(ledger, 0, &account));
    cor_u128 ids[5] = {4, 99, 1, 0, 4};
    cor_account accounts[5];
    cr_assert_eq(cor_ledger_lookup_accounts(ledger, ids, 5, accounts), 3);
    cr_assert(accounts[0].id == 4 && accounts[1].id == 1 && accounts[2].id == 4);
    cor_u128 tids[4] = {14, 15, 10, 12};
    cor_transfer transfers[4];
    cr_assert_eq(cor_ledger_lookup_transfers(ledger, tids, 4, transfers), 3);
    cr_assert(transfers[0].id == 14 && transfers[1].id == 10 && transfers[2].id == 12);
    cr_assert_eq(transfers[1].timestamp, 1001);
    cr_assert(!cor_ledger_lookup_transfer(ledger, 15, &transfers[0]));
    cr_assert_eq(cor_ledger_lookup_transfers(ledger, tids, 0, transfers), 0);
    cr_assert_eq(cor_ledger_pending_status(ledger, 12), COR_PENDING_STATUS_POSTED);
    cr_assert_eq(cor_ledger_pending_status(ledger, 10), COR_PENDING_STATUS_NONE);
    cr_assert_eq(cor_ledger_pending_status(ledger, 13), COR_PENDING_STATUS_NONE);
    cr_assert_eq(cor_ledger_pending_status(ledger, 999), COR_PENDING_STATUS_NONE);
    cor_ledger_close(ledger);
}

Test(ledger_queries, account_transfers_directions_and_order)
{
    cor_ledger *ledger = query_ledger();
    cor_u128 ids[MAXN];
    cor_account_filter f = {.account_id = 1, .limit = 100};
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11, 12, 13}, 4);
    f.flags = COR_ACCOUNT_FILTER_DEBITS;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10, 12, 13}, 3);
    f.flags = COR_ACCOUNT_FILTER_CREDITS;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){11}, 1);
    f.flags = COR_ACCOUNT_FILTER_DEBITS | COR_ACCOUNT_FILTER_CREDITS;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11, 12, 13}, 4);
    f.flags = COR_ACCOUNT_FILTER_REVERSED;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){13, 12, 11, 10}, 4);
    f.flags = COR_ACCOUNT_FILTER_REVERSED | COR_ACCOUNT_FILTER_DEBITS;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){13, 12, 10}, 3);
    /* Limits: the oldest or the newest first. */
    f.flags = 0;
    f.limit = 2;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11}, 2);
    f.flags = COR_ACCOUNT_FILTER_REVERSED;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){13, 12}, 2);
    f.limit = 0;
    cr_assert_eq(account_transfer_ids(ledger, &f, ids), 0);
    /* out_max smaller than limit. */
    cor_transfer out[2];
    f.limit = 10;
    f.flags = 0;
    cr_assert_eq(cor_ledger_get_account_transfers(ledger, &f, out, 1), 1);
    cr_assert(out[0].id == 10);
    /* Unknown account. */
    f.account_id = 77;
    cr_assert_eq(account_transfer_ids(ledger, &f, ids), 0);
    /* Account 4 has no transfers. */
    f.account_id = 4;
    cr_assert_eq(account_transfer_ids(ledger, &f, ids), 0);
    cor_ledger_close(ledger);
}

Test(ledger_queries, account_transfers_time_range_and_filters)
{
    cor_ledger *ledger = query_ledger();
    cor_u128 ids[MAXN];
    cor_account_filter f = {.account_id = 2, .limit = 100};
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11, 14}, 3);
    f.timestamp_min = 1002;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){11, 14}, 2);
    f.timestamp_max = 1004;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){11}, 1);
    f.timestamp_min = 1001;
    f.timestamp_max = 1001;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10}, 1);
    f.timestamp_min = 1003;
    f.timestamp_max = 1002; /* empty range */
    cr_assert_eq(account_transfer_ids(ledger, &f, ids), 0);
    f.timestamp_min = 0;
    f.timestamp_max = 0;
    f.user_data_128 = 7;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){10}, 1);
    f.user_data_128 = 0;
    f.user_data_64 = 8;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){11}, 1);
    f.user_data_64 = 0;
    f.code = 3;
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){14}, 1);
    f.code = 3;
    f.flags = COR_ACCOUNT_FILTER_DEBITS;
    cr_assert_eq(account_transfer_ids(ledger, &f, ids), 0);
    /* user_data_32 on account 3: the pending transfer and its post (inherited). */
    f = (cor_account_filter){.account_id = 3, .user_data_32 = 9, .limit = 100};
    expect_ids(ids, account_transfer_ids(ledger, &f, ids), (unsigned[]){12, 13}, 2);
    cor_ledger_close(ledger);
}

Test(ledger_queries, account_balances_after_each_transfer)
{
    cor_ledger *ledger = query_ledger();
    cor_account_balance b[MAXN];
    cor_account_filter f = {.account_id = 1, .limit = 100};
    cr_assert_eq(cor_ledger_get_account_balances(ledger, &f, b, MAXN), 4);
    /* After 10: debits_posted 100. After 11: credits_posted 30. After 12: pending 20.
     * After 13: pending 0, posted 105. */
    cr_assert(b[0].transfer_id == 10 && b[0].debits_posted == 100 && b[0].credits_posted == 0);
    cr_assert_eq(b[0].timestamp, 1001);
    cr_assert(b[1].transfer_id == 11 && b[1].credits_posted == 30);
    cr_assert(b[2].transfer_id == 12 && b[2].debits_pending == 20 && b[2].debits_posted == 100);
    cr_assert(b[3].transfer_id == 13 && b[3].debits_pending == 0 && b[3].debits_posted == 105);
    cr_assert_eq(b[3].timestamp, 1004);
    for (uint32_t i = 0; i < 4; i++) {
        static const uint8_t zero[40];
        cr_assert(memcmp(b[i].reserved, zero, sizeof(zero)) == 0);
    }
    f.flags = COR_ACCOUNT_FILTER_REVERSED;
    f.limit = 1;
    cr_assert_eq(cor_ledger_get_account_balances(ledger, &f, b, MAXN), 1);
    cr_assert(b[0].transfer_id == 13);
    /* The credit side's history. */
    f = (cor_account_filter){.account_id = 3, .limit = 100, .flags = COR_ACCOUNT_FILTER_CREDITS};
    cr_assert_eq(cor_ledger_get_account_balances(ledger, &f, b, MAXN), 2);
    cr_assert(b[0].credits_pending == 20 && b[1].credits_pending == 0 && b[1].credits_posted == 5);
    f.account_id = 55;
    cr_assert_eq(cor_ledger_get_account_balances(ledger, &f, b, MAXN), 0);
    cor_ledger_close(ledger);
}

Test(ledger_queries, history_is_kept_for_accounts_without_the_history_flag)
{
    cor_ledger *ledger = lt_open();
    cor_account with = lt_account(1, 1, COR_ACCOUNT_HISTORY);
    cor_account without = lt_account(2, 1, 0);
    LT_A(lt_create_account(ledger, &with), COR_ACCOUNT_CREATED);
    LT_A(lt_create_account(ledger, &without), COR_ACCOUNT_CREATED);
    cor_transfer t = lt_transfer(1, 1, 2, 3, 1, 0);
    lt_ok(ledger, &t);
    cor_account_balance b[2];
    cor_account_filter f = {.account_id = 2, .limit = 2};
    cr_assert_eq(cor_ledger_get_account_balances(ledger, &f, b, 2), 1);
    cr_assert(b[0].credits_posted == 3);
    cor_ledger_close(ledger);
}

static uint32_t query_transfer_ids(cor_ledger *ledger, const cor_query_filter *filter,
                                   cor_u128 *ids)
{
    cor_transfer out[MAXN];
    uint32_t count = cor_ledger_query_transfers(ledger, filter, out, MAXN);
    for (uint32_t i = 0; i < count; i++)
        ids[i] = out[i].id;
    return count;
}

Test(ledger_queries, query_transfers_by_fields_and_time)
{
    cor_ledger *ledger = query_ledger();
    cor_u128 ids[MAXN];
    cor_query_filter f = {.limit = 100};
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11, 12, 13, 14}, 5);
    f.flags = COR_QUERY_FILTER_REVERSED;
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){14, 13, 12, 11, 10}, 5);
    f.limit = 2;
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){14, 13}, 2);
    f.flags = 0;
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){10, 11}, 2);
    f = (cor_query_filter){.limit = 100, .code = 1};
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){10, 12, 13}, 3);
    f.user_data_32 = 9;
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){12, 13}, 2);
    f = (cor_query_filter){.limit = 100, .user_data_128 = 7};
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){10}, 1);
    f = (cor_query_filter){.limit = 100, .user_data_64 = 8};
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){11}, 1);
    f = (cor_query_filter){.limit = 100, .ledger = 2};
    cr_assert_eq(query_transfer_ids(ledger, &f, ids), 0);
    f = (cor_query_filter){.limit = 100, .ledger = 1, .timestamp_min = 1002, .timestamp_max = 1004};
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){11, 12, 13}, 3);
    f.flags = COR_QUERY_FILTER_REVERSED;
    expect_ids(ids, query_transfer_ids(ledger, &f, ids), (unsigned[]){13, 12, 11}, 3);
    f.timestamp_min = 1005;
    f.timestamp_max = 1004;
    cr_assert_eq(query_transfer_ids(ledger, &f, ids), 0);
    f = (cor_query_filter){.limit = 100, .timestamp_min = 2000};
    cr_assert_eq(query_transfer_ids(ledger, &f, ids), 0);
    f = (cor_query_filter){.limit = 0};
    cr_assert_eq(query_transfer_ids(ledger, &f, ids), 0);
    cor_transfer one[1];
    f.limit = 5;
    cr_assert_eq(cor_ledger_query_transfers(ledger, &f, one, 1), 1);
    cr_assert(one[0].id == 10);
    cor_ledger_close(ledger);
}

Test(ledger_queries, query_accounts_by_fields_and_time)
{
    cor_ledger *ledger = query_ledger();
    cor_account out[MAXN];
    cor_query_filter f = {.limit = 100};
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 4);
    cr_assert(out[0].id == 1 && out[3].id == 4);
    f.user_data_128 = 5;
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 2);
    f.user_data_64 = 6;
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 1);
    cr_assert(out[0].id == 2);
    f = (cor_query_filter){.limit = 100, .ledger = 2, .code = 2};
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 1);
    cr_assert(out[0].id == 4);
    f = (cor_query_filter){.limit = 100, .ledger = 1, .code = 2};
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 0);
    f = (cor_query_filter){.limit = 100,
                           .timestamp_min = 501,
                           .timestamp_max = 502,
                           .flags = COR_QUERY_FILTER_REVERSED};
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 2);
    cr_assert(out[0].id == 3 && out[1].id == 2);
    f = (cor_query_filter){.limit = 100, .user_data_32 = 1};
    cr_assert_eq(cor_ledger_query_accounts(ledger, &f, out, MAXN), 0);
    cor_ledger_close(ledger);
}

static bool count_accounts(void *context, const cor_account *account)
{
    uint32_t *count = context;
    cr_assert(account->id == *count + 1, "creation order");
    (*count)++;
    return *count < 3;
}

Test(ledger_queries, stats_and_accounts_each)
{
    cor_ledger *ledger = query_ledger();
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    cr_assert_eq(stats.accounts_count, 4);
    cr_assert_eq(stats.transfers_count, 5);
    cr_assert_eq(stats.pending_transfers_count, 0);
    cr_assert_eq(stats.failed_ids_count, 0);
    cr_assert_eq(stats.history_count, 10);
    cr_assert_eq(stats.timestamp, 1005);
    uint32_t count = 0;
    cor_ledger_accounts_each(ledger, count_accounts, &count);
    cr_assert_eq(count, 3, "stops when the visitor returns false");
    cor_ledger_close(ledger);
}
