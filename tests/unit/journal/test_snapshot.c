/* Snapshots through the ledger store: recovery from the newest valid one, fallback past a
 * damaged one, refusal of a snapshot that contradicts the journal or has an unknown version,
 * and verification of each snapshot against a full replay. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../support/journal_support.h"

static const cor_ledger_options snap_ledger = {
    .accounts_max = 16, .transfers_max = 4096, .pending_transfers_max = 64, .hash_seed = 3};

typedef struct snap_fixture {
    char dir[256];
    char detail[512];
    cor_test_log_lines log;
    cor_ledger_store_options options;
} snap_fixture;

static void snap_init(snap_fixture *f)
{
    memset(f, 0, sizeof(*f));
    cor_test_dir_make(f->dir, sizeof(f->dir));
    f->options = (cor_ledger_store_options){.dir = f->dir,
                                            .flags = COR_JOURNAL_CREATE,
                                            .ledger = snap_ledger,
                                            .log = cor_test_log,
                                            .log_context = &f->log,
                                            .error_detail = f->detail,
                                            .error_detail_size = sizeof(f->detail)};
}

static cor_error snap_open(snap_fixture *f, uint32_t flags, cor_ledger_store **store)
{
    f->options.flags = flags;
    f->log = (cor_test_log_lines){0};
    f->detail[0] = '\0';
    return cor_ledger_store_open(&f->options, store);
}

/* Op n of a small deterministic workload: transfers between 8 accounts. */
static void snap_apply(cor_ledger_store *store, uint64_t n)
{
    cor_create_result results[8];
    if (n == 0) {
        cor_account accounts[8];
        for (uint32_t i = 0; i < 8; i++) {
            accounts[i] = (cor_account){.id = i + 1, .ledger = 1, .code = 1};
        }
        cr_assert_eq(cor_ledger_store_create_accounts(store, 1000, accounts, 8, results), COR_OK);
        return;
    }
    cor_transfer transfers[4];
    for (uint32_t i = 0; i < 4; i++) {
        transfers[i] = (cor_transfer){.id = n * 10 + i,
                                      .debit_account_id = (n + i) % 8 + 1,
                                      .credit_account_id = (n + i + 3) % 8 + 1,
                                      .amount = n + i,
                                      .ledger = 1,
                                      .code = 1};
    }
    cr_assert_eq(cor_ledger_store_create_transfers(store, 1000 + n * 1000, transfers, 4, results),
                 COR_OK);
}

/* Builds ops 0..19 with snapshots after ops 7 and 14 (store ops 9 and 16); returns the
 * final state hash. */
static void snap_build(snap_fixture *f, uint8_t hash[32], bool background)
{
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(f, COR_JOURNAL_CREATE, &store), COR_OK, "%s", f->detail);
    for (uint64_t n = 0; n < 20; n++) {
        snap_apply(store, n);
        if (n == 7 || n == 14) {
            cr_assert_eq(cor_ledger_store_snapshot(store, background), COR_OK);
            if (background) cr_assert_eq(cor_ledger_store_snapshot_wait(store), COR_OK);
        }
    }
    cor_test_ledger_hash(cor_ledger_store_ledger(store), hash);
    cor_ledger_store_close(store);
}

static void snap_path(const snap_fixture *f, uint64_t op, char *out, size_t out_size)
{
    char name[64];
    snprintf(name, sizeof(name), "snapshot-%020llu", (unsigned long long)op);
    cor_test_path(out, out_size, f->dir, name);
}

static void snap_expect(snap_fixture *f, const uint8_t hash[32], uint64_t snapshot_op)
{
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(f, 0, &store), COR_OK, "%s", f->detail);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    cr_assert_eq(stats.snapshot_op_number, snapshot_op);
    cr_assert_eq(stats.op_number, 21);
    cr_assert_eq(stats.records_replayed, 21 - snapshot_op);
    cr_assert_eq(stats.events_total, 8 + 19 * 4);
    uint8_t got[32];
    cor_test_ledger_hash(cor_ledger_store_ledger(store), got);
    cr_assert_eq(memcmp(got, hash, 32), 0, "recovered state differs");
    cor_ledger_store_close(store);
}

Test(journal_snapshot, recovery_starts_from_the_newest)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    snap_expect(&f, hash, 16);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, background_snapshot_gives_the_same_files)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, true);
    snap_expect(&f, hash, 16);
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS, &store),
                 COR_OK, "verify: %s", f.detail);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    cr_assert_eq(stats.snapshots_found, 2);
    cr_assert_eq(stats.records_replayed, 21);
    cor_ledger_store_close(store);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, damaged_newest_falls_back_to_older)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    char path[320];
    snap_path(&f, 16, path, sizeof(path));
    cor_test_file_flip_bit(path, cor_test_file_size(path) - 100, 4);
    snap_expect(&f, hash, 9);
    cr_assert(cor_test_log_contains(&f.log, "trying an older one"), "%s", f.log.text);
    /* verify mode refuses the damaged file outright. */
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS, &store),
                 COR_ERR_CORRUPT);
    cr_assert(strstr(f.detail, "state checksum mismatch") != NULL, "%s", f.detail);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, damaged_header_is_skipped)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    char path[320];
    snap_path(&f, 16, path, sizeof(path));
    cor_test_file_flip_bit(path, 20, 0); /* inside the op number field */
    snap_expect(&f, hash, 9);
    cr_assert(cor_test_log_contains(&f.log, "is damaged"), "%s", f.log.text);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, unknown_version_is_refused)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    char path[320];
    snap_path(&f, 16, path, sizeof(path));
    unsigned char version[4] = {9, 0, 0, 0};
    cor_test_file_write(path, 8, version, sizeof(version));
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, 0, &store), COR_ERR_VERSION);
    cr_assert(strstr(f.detail, "unknown format version") != NULL, "%s", f.detail);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, snapshot_ahead_of_the_journal_is_refused)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    /* Lose the journal's tail beyond the newest snapshot's op: acknowledged history gone. */
    char journal[320];
    cor_test_path(journal, sizeof(journal), f.dir, "journal");
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, 0, &store), COR_OK);
    cor_ledger_store_close(store);
    cor_test_file_truncate(journal, 64 + 2000);
    cr_assert_eq(snap_open(&f, 0, &store), COR_ERR_CORRUPT);
    cr_assert(strstr(f.detail, "no matching record") != NULL, "%s", f.detail);
    cor_test_dir_remove(f.dir);
}

/* A snapshot whose chain head and checksums are right but whose state is not what the
 * journal produces: only a full replay can tell, and verify mode must. */
static cor_error snap_wrong_state(void *context, cor_journal_write_fn write, void *write_context)
{
    (void)context;
    static const unsigned char junk[64] = {1, 2, 3};
    return write(write_context, junk, sizeof(junk));
}

static cor_error snap_replay_nothing(void *context, const cor_journal_batch *batch)
{
    (void)context;
    (void)batch;
    return COR_OK;
}

Test(journal_snapshot, verify_compares_each_snapshot_with_the_replay)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    cor_journal_options options = {.dir = f.dir,
                                   .replay = snap_replay_nothing,
                                   .flags = COR_JOURNAL_IGNORE_SNAPSHOTS,
                                   .log = cor_test_log,
                                   .log_context = &f.log};
    cor_journal *journal = NULL;
    cr_assert_eq(cor_journal_open(&options, &journal), COR_OK);
    cr_assert_eq(cor_journal_snapshot(journal, snap_wrong_state, NULL), COR_OK);
    cor_journal_close(journal);
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS, &store),
                 COR_ERR_CORRUPT);
    cr_assert(strstr(f.detail, "differs from the replayed state at op 21") != NULL, "%s", f.detail);
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, leftover_temporary_file_is_removed)
{
    snap_fixture f;
    snap_init(&f);
    uint8_t hash[32];
    snap_build(&f, hash, false);
    char tmp[320];
    cor_test_path(tmp, sizeof(tmp), f.dir, "snapshot-00000000000000000030.tmp");
    FILE *file = fopen(tmp, "w");
    cr_assert_not_null(file);
    fputs("half written", file);
    fclose(file);
    snap_expect(&f, hash, 16);
    cr_assert_neq(access(tmp, F_OK), 0, "temporary file still there");
    cor_test_dir_remove(f.dir);
}

Test(journal_snapshot, only_the_kept_newest_remain)
{
    snap_fixture f;
    snap_init(&f);
    cor_ledger_store *store = NULL;
    cr_assert_eq(snap_open(&f, COR_JOURNAL_CREATE, &store), COR_OK);
    for (uint64_t n = 0; n < 6; n++) {
        snap_apply(store, n);
        cr_assert_eq(cor_ledger_store_snapshot(store, false), COR_OK);
    }
    cor_ledger_store_close(store);
    uint32_t count = 0;
    DIR *listing = opendir(f.dir);
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL)
        count += strncmp(entry->d_name, "snapshot-", 9) == 0;
    closedir(listing);
    cr_assert_eq(count, 2);
    cor_test_dir_remove(f.dir);
}
