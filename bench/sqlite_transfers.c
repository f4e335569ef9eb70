/*
 * The journal benchmark's workload done in SQLite, for comparison (bench/journal_vs_sqlite.sh).
 *
 * Same workload as `corridor bench journal`: N accounts, account 1 without a limit and every
 * other account with debits <= credits; the first N-1 transfers fund accounts 2..N from
 * account 1, the rest move 1 unit between uniform random accounts (same generator and seed).
 * Each transfer reads the debit account, checks funds, updates both accounts and inserts the
 * transfer. WAL mode, synchronous=FULL, 8,000 transfers per transaction (one durable commit
 * each). Prints the same keys as bench journal.
 *
 * usage: sqlite_transfers DB_PATH ACCOUNTS TRANSFERS [PER_TRANSACTION]
 */
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void check(sqlite3 *db, int rc, const char *what)
{
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return;
    fprintf(stderr, "sqlite_transfers: %s: %s\n", what, sqlite3_errmsg(db));
    exit(3);
}

static void exec(sqlite3 *db, const char *sql)
{
    check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sqlite_transfers DB_PATH ACCOUNTS TRANSFERS [PER_TRANSACTION]\n");
        return 2;
    }
    uint64_t accounts = strtoull(argv[2], NULL, 10);
    uint64_t transfers = strtoull(argv[3], NULL, 10);
    uint64_t per_tx = argc > 4 ? strtoull(argv[4], NULL, 10) : 8000;
    if (accounts < 2 || transfers < accounts || per_tx < 1) {
        fprintf(stderr, "sqlite_transfers: need ACCOUNTS >= 2, TRANSFERS >= ACCOUNTS\n");
        return 2;
    }
    sqlite3 *db = NULL;
    check(db, sqlite3_open(argv[1], &db), "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, debits INTEGER NOT NULL, "
             "credits INTEGER NOT NULL, limited INTEGER NOT NULL)");
    exec(db, "CREATE TABLE transfers (id INTEGER PRIMARY KEY, debit INTEGER NOT NULL, "
             "credit INTEGER NOT NULL, amount INTEGER NOT NULL, ts INTEGER NOT NULL)");
    sqlite3_stmt *insert_account, *select_debit, *update_debit, *update_credit, *insert_transfer;
    sqlite3_prepare_v2(db, "INSERT INTO accounts VALUES (?, 0, 0, ?)", -1, &insert_account, NULL);
    sqlite3_prepare_v2(db, "SELECT debits, credits, limited FROM accounts WHERE id = ?", -1,
                       &select_debit, NULL);
    sqlite3_prepare_v2(db, "UPDATE accounts SET debits = debits + ? WHERE id = ?", -1,
                       &update_debit, NULL);
    sqlite3_prepare_v2(db, "UPDATE accounts SET credits = credits + ? WHERE id = ?", -1,
                       &update_credit, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO transfers VALUES (?, ?, ?, ?, ?)", -1, &insert_transfer,
                       NULL);

    exec(db, "BEGIN");
    for (uint64_t id = 1; id <= accounts; id++) {
        sqlite3_bind_int64(insert_account, 1, (sqlite3_int64)id);
        sqlite3_bind_int(insert_account, 2, id != 1);
        check(db, sqlite3_step(insert_account), "insert account");
        sqlite3_reset(insert_account);
    }
    exec(db, "COMMIT");

    uint64_t batches = transfers / per_tx + 2, batch_count = 0, rejected = 0;
    double *latencies = calloc(batches, sizeof(double));
    uint64_t state = 1;
    double started = now_seconds();
    for (uint64_t next = 0; next < transfers;) {
        double batch_started = now_seconds();
        exec(db, "BEGIN");
        uint64_t end = next + per_tx < transfers ? next + per_tx : transfers;
        for (; next < end; next++) {
            uint64_t debit, credit, amount;
            if (next < accounts - 1) {
                debit = 1, credit = next + 2, amount = 1000000000u;
            } else {
                debit = splitmix(&state) % accounts + 1;
                credit = splitmix(&state) % (accounts - 1) + 1;
                if (credit >= debit) credit++;
                amount = 1;
            }
            sqlite3_bind_int64(select_debit, 1, (sqlite3_int64)debit);
            check(db, sqlite3_step(select_debit), "select");
            int64_t debits = sqlite3_column_int64(select_debit, 0);
            int64_t credits = sqlite3_column_int64(select_debit, 1);
            int limited = sqlite3_column_int(select_debit, 2);
            sqlite3_reset(select_debit);
            if (limited && debits + (int64_t)amount > credits) { /* the funds check */
                rejected++;
                continue;
            }
            sqlite3_bind_int64(update_debit, 1, (sqlite3_int64)amount);
            sqlite3_bind_int64(update_debit, 2, (sqlite3_int64)debit);
            check(db, sqlite3_step(update_debit), "debit");
            sqlite3_reset(update_debit);
            sqlite3_bind_int64(update_credit, 1, (sqlite3_int64)amount);
            sqlite3_bind_int64(update_credit, 2, (sqlite3_int64)credit);
            check(db, sqlite3_step(update_credit), "credit");
            sqlite3_reset(update_credit);
            sqlite3_bind_int64(insert_transfer, 1, (sqlite3_int64)(next + 1));
            sqlite3_bind_int64(insert_transfer, 2, (sqlite3_int64)debit);
            sqlite3_bind_int64(insert_transfer, 3, (sqlite3_int64)credit);
            sqlite3_bind_int64(insert_transfer, 4, (sqlite3_int64)amount);
            sqlite3_bind_int64(insert_transfer, 5, (sqlite3_int64)next);
            check(db, sqlite3_step(insert_transfer), "insert transfer");
            sqlite3_reset(insert_transfer);
        }
        exec(db, "COMMIT");
        latencies[batch_count++] = (now_seconds() - batch_started) * 1e6;
    }
    double seconds = now_seconds() - started;
    qsort(latencies, batch_count, sizeof(double), compare_double);
    printf("{\"benchmark\": \"sqlite\", \"accounts\": %" PRIu64 ", \"transfers\": %" PRIu64
           ", \"batch\": %" PRIu64 ", \"transfers_per_second\": %.0f"
           ", \"batch_latency_us_p50\": %.0f, \"batch_latency_us_p99\": %.0f"
           ", \"batch_latency_us_max\": %.0f, \"rejected\": %" PRIu64 "}\n",
           accounts, transfers, per_tx, (double)transfers / seconds,
           latencies[(batch_count - 1) / 2], latencies[(batch_count - 1) * 99 / 100],
           latencies[batch_count - 1], rejected);
    sqlite3_finalize(insert_account);
    sqlite3_finalize(select_debit);
    sqlite3_finalize(update_debit);
    sqlite3_finalize(update_credit);
    sqlite3_finalize(insert_transfer);
    sqlite3_close(db);
    free(latencies);
    return 0;
}
