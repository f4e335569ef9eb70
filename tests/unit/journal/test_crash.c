/*
 * Crash tests: a child process appends ledger batches through the ledger store (taking
 * snapshots now and then, some in the background) and reports each acknowledged op through a
 * pipe; the parent SIGKILLs it at a random moment, recovers, and proves that
 *   - every acknowledged op is present,
 *   - the recovered state (snapshot + replay) equals a fresh replay of the whole journal
 *     (read-only, ignoring snapshots), and
 *   - both equal an independent rebuild: a plain ledger given the same ops in memory.
 * The workload is a pure function of the op number, so the rebuild needs no journal.
 * The seed is printed; COR_TEST_SEED=<n> replays a run.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../support/journal_support.h"

#define CRASH_RUNS          3u
#define CRASH_KILLS_PER_RUN 36u /* 108 kill points in all */
#define CRASH_ACCOUNTS      32u
#define CRASH_EVENTS_MAX    40u
#define CRASH_OPS_MAX       4000u /* the child stops by itself after this op */
#define CRASH_KILL_DELAY_US 50000u

static const cor_ledger_options crash_ledger = {
    .accounts_max = CRASH_ACCOUNTS,
    .transfers_max = 1u << 18,
    .pending_transfers_max = 1u << 14,
    .hash_seed = 7,
};

typedef struct crash_op {
    uint32_t kind; /* cor_ledger_operation */
    uint64_t timestamp;
    uint32_t count;
    cor_account accounts[CRASH_ACCOUNTS];
    cor_transfer transfers[CRASH_EVENTS_MAX];
} crash_op;

static uint64_t crash_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Op n >= 2 of the workload (op 1 is the store's configure record). */
static void crash_op_make(uint64_t n, crash_op *op)
{
    memset(op, 0, sizeof(*op));
    op->timestamp = n * 100000000ull; /* 0.1 s apart: 1 s timeouts expire after 10 ops */
    if (n == 2) {
        op->kind = COR_LEDGER_OP_CREATE_ACCOUNTS;
        op->count = CRASH_ACCOUNTS;
        for (uint32_t i = 0; i < CRASH_ACCOUNTS; i++) {
            op->accounts[i] = (cor_account){.id = i + 1, .ledger = 1, .code = 1};
            if (i % 2 == 1) op->accounts[i].flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        }
        return;
    }
    if (n % 9 == 0) {
        op->kind = COR_LEDGER_OP_EXPIRE_PENDING;
        op->count = 100;
        return;
    }
    op->kind = COR_LEDGER_OP_CREATE_TRANSFERS;
    uint64_t state = n;
    op->count = (uint32_t)(crash_random(&state) % CRASH_EVENTS_MAX) + 1;
    for (uint32_t i = 0; i < op->count; i++) {
        cor_transfer *t = &op->transfers[i];
        uint64_t debit = crash_random(&state) % CRASH_ACCOUNTS + 1;
        uint64_t credit = crash_random(&state) % (CRASH_ACCOUNTS - 1) + 1;
        if (credit >= debit) credit++;
        *t = (cor_transfer){.id = n * 1000u + i + 1,
                            .debit_account_id = debit,
                            .credit_account_id = credit,
                            .amount = crash_random(&state) % 1000u + 1,
                            .ledger = 1,
                            .code = 1};
        if (i % 5 == 4) {
            t->flags = COR_TRANSFER_PENDING;
            t->timeout = 1;
        }
        if (i % 7 == 3 && i + 1 < op->count) t->flags |= COR_TRANSFER_LINKED;
    }
}

static cor_error crash_op_store(cor_ledger_store *store, const crash_op *op,
                                cor_create_result *results)
{
    uint32_t expired = 0;
    switch (op->kind) {
    case COR_LEDGER_OP_CREATE_ACCOUNTS:
        return cor_ledger_store_create_accounts(store, op->timestamp, op->accounts, op->count,
                                                results);
    case COR_LEDGER_OP_CREATE_TRANSFERS:
        return cor_ledger_store_create_transfers(store, op->timestamp, op->transfers, op->count,
                                                 results);
    default:
        return cor_ledger_store_expire_pending(store, op->timestamp, op->count, &expired);
    }
}

static void crash_op_ledger(cor_ledger *ledger, const crash_op *op, cor_create_result *results)
{
    switch (op->kind) {
    case COR_LEDGER_OP_CREATE_ACCOUNTS:
        cr_assert_eq(
            cor_ledger_create_accounts(ledger, op->timestamp, op->accounts, op->count, results),
            COR_OK);
        break;
    case COR_LEDGER_OP_CREATE_TRANSFERS:
        cr_assert_eq(
            cor_ledger_create_transfers(ledger, op->timestamp, op->transfers, op->count, results),
            COR_OK);
        break;
    default:
        (void)cor_ledger_expire_pending(ledger, op->timestamp, op->count);
        break;
    }
}

static void crash_log_quiet(void *context, const char *message)
{
    (void)context;
    (void)message;
}

/* The child: recover, then append ops until killed, acknowledging each through ack_fd. */
static _Noreturn void crash_child(const char *dir, int ack_fd)
{
    static crash_op op;
    static cor_create_result results[CRASH_EVENTS_MAX];
    cor_ledger_store_options options = {
        .dir = dir, .flags = COR_JOURNAL_CREATE, .ledger = crash_ledger, .log = crash_log_quiet};
    cor_ledger_store *store = NULL;
    if (cor_ledger_store_open(&options, &store) != COR_OK) _exit(3);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    for (uint64_t n = stats.op_number + 1; n <= CRASH_OPS_MAX; n++) {
        crash_op_make(n, &op);
        if (crash_op_store(store, &op, results) != COR_OK) _exit(4);
        if (write(ack_fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) _exit(5);
        if (n % 10 == 0) {
            cor_error rc = cor_ledger_store_snapshot(store, n % 20 == 0);
            if (rc != COR_OK && rc != COR_ERR_BUSY) _exit(6);
        }
    }
    cor_ledger_store_close(store);
    _exit(0);
}

/* Reads every ack the child sent; returns the highest acknowledged op (0: none). */
static uint64_t crash_read_acks(int fd)
{
    uint64_t highest = 0;
    uint64_t ops[64];
    for (uint32_t guard = 0; guard < 1000000u; guard++) {
        ssize_t n = read(fd, ops, sizeof(ops));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        cr_assert_eq(n % (ssize_t)sizeof(uint64_t), 0, "acks are whole");
        for (ssize_t i = 0; i < n / (ssize_t)sizeof(uint64_t); i++) {
            cr_assert_gt(ops[i], highest, "acks are in order");
            highest = ops[i];
        }
    }
    return highest;
}

static void crash_rebuild_hash(uint64_t op_number, uint8_t out[32])
{
    static crash_op op;
    static cor_create_result results[CRASH_EVENTS_MAX];
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&crash_ledger, &ledger), COR_OK);
    for (uint64_t n = 2; n <= op_number; n++) {
        crash_op_make(n, &op);
        crash_op_ledger(ledger, &op, results);
    }
    cor_test_ledger_hash(ledger, out);
    cor_ledger_close(ledger);
}

/* After a kill: recover, check acks, compare with a full replay and the rebuild. */
static uint64_t crash_check(const char *dir, uint64_t acked, bool full_replay)
{
    char detail[512] = "";
    cor_ledger_store_options options = {.dir = dir,
                                        .ledger = crash_ledger,
                                        .log = crash_log_quiet,
                                        .error_detail = detail,
                                        .error_detail_size = sizeof(detail)};
    cor_ledger_store *store = NULL;
    cor_error rc = cor_ledger_store_open(&options, &store);
    if (rc == COR_ERR_NOT_FOUND && acked == 0) return 0; /* killed before the first record */
    cr_assert_eq(rc, COR_OK, "recover: %s", detail);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    cr_assert_geq(stats.op_number, acked, "acknowledged op %llu lost (recovered %llu)",
                  (unsigned long long)acked, (unsigned long long)stats.op_number);
    uint8_t recovered[32];
    uint8_t rebuilt[32];
    cor_test_ledger_hash(cor_ledger_store_ledger(store), recovered);
    cor_ledger_store_close(store);
    crash_rebuild_hash(stats.op_number, rebuilt);
    cr_assert_eq(memcmp(recovered, rebuilt, 32), 0, "state differs from a rebuild at op %llu",
                 (unsigned long long)stats.op_number);
    if (full_replay) {
        options.flags = COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS;
        cr_assert_eq(cor_ledger_store_open(&options, &store), COR_OK, "replay: %s", detail);
        uint8_t replayed[32];
        cor_test_ledger_hash(cor_ledger_store_ledger(store), replayed);
        cor_ledger_store_close(store);
        cr_assert_eq(memcmp(recovered, replayed, 32), 0, "snapshot+replay != full replay");
    }
    return stats.op_number;
}

Test(journal_crash, sigkill_at_random_moments_loses_no_acknowledged_batch, .timeout = 240)
{
    const char *seed_text = getenv("COR_TEST_SEED");
    uint64_t seed = seed_text ? strtoull(seed_text, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "journal_crash: seed %llu (COR_TEST_SEED to replay)\n",
            (unsigned long long)seed);
    uint64_t random_state = seed;
    uint64_t acked_total = 0;
    uint32_t kills = 0;
    for (uint32_t run = 0; run < CRASH_RUNS; run++) {
        char dir[256];
        cor_test_dir_make(dir, sizeof(dir));
        uint64_t recovered = 0;
        for (uint32_t k = 0; k < CRASH_KILLS_PER_RUN; k++) {
            int fds[2];
            cr_assert_eq(pipe(fds), 0);
            pid_t pid = fork();
            cr_assert_geq(pid, 0);
            if (pid == 0) {
                close(fds[0]);
                setpgid(0, 0); /* so a background snapshot child dies with it */
                crash_child(dir, fds[1]);
            }
            close(fds[1]);
            setpgid(pid, pid);
            struct timespec delay = {0, (long)(crash_random(&random_state) % CRASH_KILL_DELAY_US) *
                                            1000L};
            nanosleep(&delay, NULL);
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            int status = 0;
            cr_assert_eq(waitpid(pid, &status, 0), pid);
            cr_assert(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                      "child failed by itself (status %d)", status);
            uint64_t acked = crash_read_acks(fds[0]);
            close(fds[0]);
            kills++;
            acked_total += acked > recovered ? acked - recovered : 0;
            recovered = crash_check(dir, acked, k % 6 == 5);
        }
        cor_test_dir_remove(dir);
    }
    cr_assert_geq(kills, 100);
    cr_assert_gt(acked_total, 100, "the children acknowledged too little to prove anything");
    fprintf(stderr, "journal_crash: %u kills, %llu acknowledged ops checked\n", kills,
            (unsigned long long)acked_total);
}
