/* The ledger store: durable commands give the ledger's own results, bad input journals
 * nothing, and a failed append poisons the store. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../support/journal_support.h"
#include "journal/journal_internal.h"

static const cor_ledger_options store_ledger = {
    .accounts_max = 8, .transfers_max = 256, .pending_transfers_max = 8, .hash_seed = 11};

static cor_ledger_store *store_open(const char *dir, uint32_t flags, char *detail)
{
    cor_test_log_lines log = {0};
    cor_ledger_store_options options = {.dir = dir,
                                        .flags = flags,
                                        .ledger = store_ledger,
                                        .log = cor_test_log,
                                        .log_context = &log,
                                        .error_detail = detail,
                                        .error_detail_size = 512};
    cor_ledger_store *store = NULL;
    cr_assert_eq(cor_ledger_store_open(&options, &store), COR_OK, "%s", detail);
    return store;
}

static void store_accounts(cor_ledger_store *store)
{
    cor_account accounts[3];
    cor_create_result results[3];
    for (uint32_t i = 0; i < 3; i++)
        accounts[i] = (cor_account){.id = i + 1, .ledger = 1, .code = 1};
    accounts[1].flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    cr_assert_eq(cor_ledger_store_create_accounts(store, 10, accounts, 3, results), COR_OK);
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(results[i].status, COR_ACCOUNT_CREATED);
}

Test(journal_ledger_store, results_match_and_survive_reopen)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    store_accounts(store);
    cor_transfer transfers[2] = {
        {.id = 100,
         .debit_account_id = 1,
         .credit_account_id = 2,
         .amount = 5,
         .ledger = 1,
         .code = 1},
        {.id = 101,
         .debit_account_id = 2,
         .credit_account_id = 3,
         .amount = 9,
         .ledger = 1,
         .code = 1},
    };
    cor_create_result results[2];
    cr_assert_eq(cor_ledger_store_create_transfers(store, 20, transfers, 2, results), COR_OK);
    cr_assert_eq(results[0].status, COR_TRANSFER_CREATED);
    cr_assert_eq(results[1].status, COR_TRANSFER_EXCEEDS_CREDITS);
    uint32_t expired = 99;
    cr_assert_eq(cor_ledger_store_expire_pending(store, 30, 10, &expired), COR_OK);
    cr_assert_eq(expired, 0);
    uint8_t before[32];
    cor_test_ledger_hash(cor_ledger_store_ledger(store), before);
    cor_ledger_store_close(store);

    store = store_open(dir, 0, detail);
    uint8_t after[32];
    cor_test_ledger_hash(cor_ledger_store_ledger(store), after);
    cr_assert_eq(memcmp(before, after, 32), 0);
    cor_account account;
    cr_assert(cor_ledger_lookup_account(cor_ledger_store_ledger(store), 2, &account));
    cr_assert(account.credits_posted == 5);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    cr_assert_eq(stats.op_number, 4); /* configure, accounts, transfers, expire */
    cr_assert_eq(stats.records_replayed, 4);
    cor_ledger_store_close(store);
    cor_test_dir_remove(dir);
}

Test(journal_ledger_store, bad_arguments_journal_nothing)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    cor_transfer transfer = {0};
    cor_create_result result;
    cr_assert_eq(cor_ledger_store_create_transfers(store, 1, &transfer, 0, &result),
                 COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_store_create_transfers(store, 1, NULL, 1, &result), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_store_create_accounts(store, 1, NULL, 1, &result), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_store_create_transfers(store, 1, &transfer,
                                                   COR_LEDGER_BATCH_EVENTS_MAX + 1, &result),
                 COR_ERR_INVALID);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    cr_assert_eq(stats.op_number, 1, "only the configure record");
    cor_ledger_store_close(store);
    cor_test_dir_remove(dir);
}

static int store_fdatasync_fails(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

Test(journal_ledger_store, failed_append_poisons_the_store)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    store_accounts(store);
    cor_transfer transfer = {.id = 7,
                             .debit_account_id = 1,
                             .credit_account_id = 3,
                             .amount = 1,
                             .ledger = 1,
                             .code = 1};
    cor_create_result result;
    cor__journal_io_hooks.fdatasync = store_fdatasync_fails;
    cr_assert_eq(cor_ledger_store_create_transfers(store, 50, &transfer, 1, &result), COR_ERR_IO);
    cor__journal_io_reset();
    transfer.id = 8;
    cr_assert_eq(cor_ledger_store_create_transfers(store, 60, &transfer, 1, &result),
                 COR_ERR_POISONED);
    cr_assert_eq(cor_ledger_store_snapshot(store, false), COR_ERR_POISONED);
    cor_ledger_store_close(store);
    store = store_open(dir, 0, detail);
    cor_transfer found;
    cr_assert_not(cor_ledger_lookup_transfer(cor_ledger_store_ledger(store), 8, &found));
    cor_ledger_store_close(store);
    cor_test_dir_remove(dir);
}

Test(journal_ledger_store, read_only_store_refuses_commands)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    cor_ledger_store_close(store);
    store = store_open(dir, COR_JOURNAL_READ_ONLY, detail);
    cor_account account = {.id = 1, .ledger = 1, .code = 1};
    cor_create_result result;
    cr_assert_eq(cor_ledger_store_create_accounts(store, 1, &account, 1, &result), COR_ERR_INVALID);
    cr_assert_eq(cor_ledger_store_snapshot(store, false), COR_ERR_INVALID);
    cor_ledger_store_close(store);
    cor_test_dir_remove(dir);
}

static cor_error store_replay_any(void *context, const cor_journal_batch *batch)
{
    (void)context;
    (void)batch;
    return COR_OK;
}

Test(journal_ledger_store, unknown_operation_in_the_journal_is_refused)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    cor_ledger_store_close(store);
    /* Another state machine's record in a ledger store's journal. */
    cor_test_log_lines log = {0};
    cor_journal_options options = {
        .dir = dir, .replay = store_replay_any, .log = cor_test_log, .log_context = &log};
    cor_journal *journal = NULL;
    cr_assert_eq(cor_journal_open(&options, &journal), COR_OK);
    cor_journal_batch batch = {.operation = 99, .event_count = 1};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_OK);
    cor_journal_close(journal);
    cor_ledger_store_options store_options = {.dir = dir,
                                              .ledger = store_ledger,
                                              .log = cor_test_log,
                                              .log_context = &log,
                                              .error_detail = detail,
                                              .error_detail_size = sizeof(detail)};
    cr_assert_eq(cor_ledger_store_open(&store_options, &store), COR_ERR_CORRUPT);
    cr_assert_null(store);
    cr_assert(strstr(detail, "replay of op 2") != NULL, "%s", detail);
    cor_test_dir_remove(dir);
}

Test(journal_ledger_store, missing_store_read_only_is_not_found)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_test_log_lines log = {0};
    cor_ledger_store_options options = {.dir = dir,
                                        .flags = COR_JOURNAL_READ_ONLY,
                                        .ledger = store_ledger,
                                        .log = cor_test_log,
                                        .log_context = &log,
                                        .error_detail = detail,
                                        .error_detail_size = sizeof(detail)};
    cor_ledger_store *store = NULL;
    cr_assert_eq(cor_ledger_store_open(&options, &store), COR_ERR_NOT_FOUND);
    cr_assert_null(store);
    cor_test_dir_remove(dir);
}

Test(journal_ledger_store, malformed_ledger_payload_is_refused)
{
    char dir[256];
    char detail[512] = "";
    cor_test_dir_make(dir, sizeof(dir));
    cor_ledger_store *store = store_open(dir, COR_JOURNAL_CREATE, detail);
    cor_ledger_store_close(store);
    cor_test_log_lines log = {0};
    cor_journal_options options = {
        .dir = dir, .replay = store_replay_any, .log = cor_test_log, .log_context = &log};
    cor_journal *journal = NULL;
    cr_assert_eq(cor_journal_open(&options, &journal), COR_OK);
    cor_transfer transfer = {.id = 1};
    /* Two events claimed, one transfer's bytes given. */
    cor_journal_batch batch = {.operation = COR_LEDGER_OP_CREATE_TRANSFERS,
                               .event_count = 2,
                               .payload = &transfer,
                               .payload_size_bytes = sizeof(transfer)};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_OK);
    cor_journal_close(journal);
    cor_ledger_store_options store_options = {.dir = dir,
                                              .ledger = store_ledger,
                                              .log = cor_test_log,
                                              .log_context = &log,
                                              .error_detail = detail,
                                              .error_detail_size = sizeof(detail)};
    cr_assert_eq(cor_ledger_store_open(&store_options, &store), COR_ERR_CORRUPT);
    cr_assert(strstr(detail, "replay of op 2") != NULL, "%s", detail);
    cor_test_dir_remove(dir);
}
