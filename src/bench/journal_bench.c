/*
 * corridor bench journal: durable transfers through the ledger store.
 *
 * Creates --accounts accounts (each with debits_must_not_exceed_credits, so every transfer
 * is funds-checked), funds each from account 1 (those funding transfers count among
 * --transfers), then runs uniform random 1-unit transfers in batches of --batch. Each batch is
 * one journal record: one write and one fdatasync, overlapped with the ledger applying it.
 * Then closes the store and times reopening the data directory (recovery: newest snapshot +
 * replay). --journal-only appends the same batches to a bare journal without a ledger, to
 * show what the journal alone sustains.
 *
 * Reports the same keys as `bench ledger` (transfers_per_second, batch_latency_us_p50/p99/max)
 * plus recovery_seconds, and figures about snapshots.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "corridor/journal.h"

typedef struct bench_args {
    const char *dir;
    uint64_t accounts;
    uint64_t transfers;
    uint64_t batch;
    uint64_t snapshot_every; /* batches between background snapshots; 0: none */
    bool journal_only;
    bool ledger_only;     /* the same workload without the journal, for comparison */
    bool snapshot_at_end; /* a foreground snapshot before closing (untimed) */
    bool json;
} bench_args;

typedef struct bench_result {
    double seconds;
    uint64_t transfers_done;
    uint64_t batches;
    double *latencies_us; /* one per batch */
    double recovery_seconds;
    double recovery_cpu_seconds; /* user + system, all threads: contention-independent */
    double snapshot_pause_ms_max;
    double snapshot_end_seconds; /* the --snapshot-at-end write */
    uint64_t snapshots_taken;
    uint64_t records_replayed;
    uint64_t journal_bytes;
} bench_result;

static double bench_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static double bench_cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec * 1e-6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec * 1e-6;
}

static uint64_t bench_wall_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static bool bench_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9') return false;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0') return false;
    *out = value;
    return true;
}

static int bench_usage(const char *problem)
{
    if (problem != NULL) fprintf(stderr, "bench journal: %s\n", problem);
    fprintf(stderr, "usage: corridor bench journal --data DIR --accounts N --transfers N "
                    "--batch N [--snapshot-every BATCHES] [--snapshot-at-end] [--journal-only | "
                    "--ledger-only] [--json]\n");
    return COR_EXIT_USAGE;
}

static int bench_parse(int argc, char **argv, bench_args *args)
{
    *args = (bench_args){.accounts = 1000000, .transfers = 10000000, .batch = 8189};
    for (int i = 1; i < argc; i++) {
        const char *name = argv[i];
        if (strcmp(name, "--json") == 0) {
            args->json = true;
            continue;
        }
        if (strcmp(name, "--journal-only") == 0) {
            args->journal_only = true;
            continue;
        }
        if (strcmp(name, "--ledger-only") == 0) {
            args->ledger_only = true;
            continue;
        }
        if (strcmp(name, "--snapshot-at-end") == 0) {
            args->snapshot_at_end = true;
            continue;
        }
        if (i + 1 >= argc) return bench_usage("an option lacks its value");
        const char *value = argv[++i];
        uint64_t *target = NULL;
        if (strcmp(name, "--data") == 0)
            args->dir = value;
        else if (strcmp(name, "--accounts") == 0)
            target = &args->accounts;
        else if (strcmp(name, "--transfers") == 0)
            target = &args->transfers;
        else if (strcmp(name, "--batch") == 0)
            target = &args->batch;
        else if (strcmp(name, "--snapshot-every") == 0)
            target = &args->snapshot_every;
        else
            return bench_usage("unknown option");
        if (target != NULL && !bench_parse_u64(value, target)) {
            return bench_usage("option values are decimal integers");
        }
    }
    if (args->journal_only && args->ledger_only) {
        return bench_usage("--journal-only and --ledger-only exclude each other");
    }
    if (args->dir == NULL && !args->ledger_only) return bench_usage("--data DIR is required");
    if (args->accounts < 2 || args->accounts > COR_LEDGER_ACCOUNTS_MAX) {
        return bench_usage("--accounts must be 2 .. 268435456");
    }
    if (args->transfers < args->accounts || args->transfers > COR_LEDGER_TRANSFERS_MAX) {
        return bench_usage("--transfers must be at least --accounts (each account is funded "
                           "by one transfer) and at most 1073741824");
    }
    if (args->batch < 1 || args->batch > COR_LEDGER_BATCH_EVENTS_MAX) {
        return bench_usage("--batch must be 1 .. 8189");
    }
    return COR_EXIT_OK;
}

/* A fresh data directory: created when absent, refused when it already holds a journal. */
static int bench_prepare_dir(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench journal: cannot create data directory '%s': %s\n", dir,
                strerror(errno));
        return COR_EXIT_ERROR;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/journal", dir);
    struct stat st;
    if (stat(path, &st) == 0) {
        fprintf(stderr,
                "bench journal: data directory '%s' already holds a journal; give an "
                "empty one\n",
                dir);
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}

/* Deterministic generator (splitmix64): the workload is the same on every run. */
static uint64_t bench_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fills batch with transfers number first .. first+count-1: the first accounts-1 fund
 * accounts 2..N from account 1 (which has no limit); the rest move 1 unit at random. */
static void bench_fill_transfers(const bench_args *args, uint64_t first, uint32_t count,
                                 uint64_t *random_state, cor_transfer *out)
{
    for (uint32_t i = 0; i < count; i++) {
        uint64_t number = first + i;
        cor_transfer *t = &out[i];
        *t = (cor_transfer){.id = number + 1, .ledger = 1, .code = 1};
        if (number < args->accounts - 1) {
            t->debit_account_id = 1;
            t->credit_account_id = number + 2;
            t->amount = 1000000000u;
            continue;
        }
        uint64_t debit = bench_random(random_state) % args->accounts + 1;
        uint64_t credit = bench_random(random_state) % (args->accounts - 1) + 1;
        if (credit >= debit) credit++;
        t->debit_account_id = debit;
        t->credit_account_id = credit;
        t->amount = 1;
    }
}

static int bench_double_compare(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Where batches go: exactly one of these is set. */
typedef struct bench_sink {
    cor_ledger_store *store; /* journal + ledger */
    cor_journal *journal;    /* --journal-only */
    cor_ledger *ledger;      /* --ledger-only */
} bench_sink;

static cor_error bench_create_accounts(const bench_args *args, bench_sink *sink,
                                       cor_account *accounts, cor_create_result *results)
{
    uint64_t next = 0;
    while (next < args->accounts) {
        uint64_t left = args->accounts - next;
        uint32_t count =
            (uint32_t)(left < COR_LEDGER_BATCH_EVENTS_MAX ? left : COR_LEDGER_BATCH_EVENTS_MAX);
        for (uint32_t i = 0; i < count; i++) {
            uint64_t id = next + i + 1;
            accounts[i] = (cor_account){.id = id, .ledger = 1, .code = 1};
            if (id != 1) accounts[i].flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
        }
        cor_error rc = sink->store != NULL
                           ? cor_ledger_store_create_accounts(sink->store, bench_wall_ns(),
                                                              accounts, count, results)
                           : cor_ledger_create_accounts(sink->ledger, bench_wall_ns(), accounts,
                                                        count, results);
        if (rc != COR_OK) return rc;
        for (uint32_t i = 0; i < count; i++) {
            if (results[i].status != COR_ACCOUNT_CREATED) return COR_ERR_INVALID;
        }
        next += count;
    }
    return COR_OK;
}

static cor_error bench_replay_nothing(void *context, const cor_journal_batch *batch)
{
    uint64_t *events = context;
    *events += batch->event_count;
    return COR_OK;
}

/* Runs every transfer batch, timing each; takes background snapshots when asked. */
static cor_error bench_run_transfers(const bench_args *args, bench_sink *sink,
                                     cor_transfer *transfers, cor_create_result *results,
                                     bench_result *result)
{
    uint64_t random_state = 1;
    uint64_t next = 0;
    double started = bench_now();
    while (next < args->transfers) {
        uint64_t left = args->transfers - next;
        uint32_t count = (uint32_t)(left < args->batch ? left : args->batch);
        bench_fill_transfers(args, next, count, &random_state, transfers);
        double batch_started = bench_now();
        cor_error rc;
        if (sink->store != NULL) {
            rc = cor_ledger_store_create_transfers(sink->store, bench_wall_ns(), transfers, count,
                                                   results);
        } else if (sink->ledger != NULL) {
            rc = cor_ledger_create_transfers(sink->ledger, bench_wall_ns(), transfers, count,
                                             results);
        } else {
            cor_journal_batch batch = {.timestamp = bench_wall_ns(),
                                       .operation = COR_LEDGER_OP_CREATE_TRANSFERS,
                                       .event_count = count,
                                       .payload = transfers,
                                       .payload_size_bytes = count * sizeof(cor_transfer)};
            rc = cor_journal_append(sink->journal, &batch, NULL);
        }
        if (rc != COR_OK) return rc;
        result->latencies_us[result->batches++] = (bench_now() - batch_started) * 1e6;
        for (uint32_t i = 0; sink->journal == NULL && i < count; i++) {
            if (results[i].status != COR_TRANSFER_CREATED) return COR_ERR_INVALID;
        }
        next += count;
        if (sink->store != NULL && args->snapshot_every != 0 &&
            result->batches % args->snapshot_every == 0) {
            double pause_started = bench_now();
            rc = cor_ledger_store_snapshot(sink->store, true);
            if (rc == COR_ERR_BUSY) continue; /* the previous one is still being written */
            if (rc != COR_OK) return rc;
            double pause_ms = (bench_now() - pause_started) * 1e3;
            if (pause_ms > result->snapshot_pause_ms_max) result->snapshot_pause_ms_max = pause_ms;
            result->snapshots_taken++;
        }
    }
    result->seconds = bench_now() - started;
    result->transfers_done = next;
    return COR_OK;
}

static void bench_log_quiet(void *context, const char *message)
{
    (void)context;
    (void)message;
}

static cor_error bench_store(const bench_args *args, cor_transfer *transfers,
                             cor_create_result *results, bench_result *result)
{
    cor_ledger_store_options options = {
        .dir = args->dir,
        .flags = COR_JOURNAL_CREATE,
        .ledger = {.accounts_max = (uint32_t)args->accounts,
                   .transfers_max = (uint32_t)args->transfers,
                   .pending_transfers_max = 1,
                   .hash_seed = bench_wall_ns(),
                   .prefault = true},
        .log = bench_log_quiet,
    };
    cor_ledger_store *store = NULL;
    cor_error rc = cor_ledger_store_open(&options, &store);
    if (rc != COR_OK) return rc;
    bench_sink sink = {.store = store};
    rc = bench_create_accounts(args, &sink, (cor_account *)transfers, results);
    if (rc == COR_OK) rc = bench_run_transfers(args, &sink, transfers, results, result);
    if (rc == COR_OK) rc = cor_ledger_store_snapshot_wait(store);
    if (rc == COR_OK && args->snapshot_at_end) {
        double snapshot_started = bench_now();
        rc = cor_ledger_store_snapshot(store, false);
        result->snapshot_end_seconds = bench_now() - snapshot_started;
    }
    cor_ledger_stats before;
    cor_ledger_stats_get(cor_ledger_store_ledger(store), &before);
    cor_ledger_store_close(store);
    if (rc != COR_OK) return rc;

    double started = bench_now();
    double cpu_started = bench_cpu_seconds();
    rc = cor_ledger_store_open(&options, &store);
    result->recovery_seconds = bench_now() - started;
    result->recovery_cpu_seconds = bench_cpu_seconds() - cpu_started;
    if (rc != COR_OK) return rc;
    cor_ledger_stats after;
    cor_ledger_stats_get(cor_ledger_store_ledger(store), &after);
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    result->records_replayed = stats.records_replayed;
    result->journal_bytes = stats.size_bytes;
    cor_ledger_store_close(store);
    if (memcmp(&before, &after, sizeof(before)) != 0) {
        fprintf(stderr, "bench journal: recovered ledger differs from the one closed\n");
        return COR_ERR_CORRUPT;
    }
    return COR_OK;
}

static cor_error bench_journal_only(const bench_args *args, cor_transfer *transfers,
                                    bench_result *result)
{
    uint64_t events = 0;
    cor_journal_options options = {.dir = args->dir,
                                   .flags = COR_JOURNAL_CREATE,
                                   .replay = bench_replay_nothing,
                                   .context = &events,
                                   .log = bench_log_quiet};
    cor_journal *journal = NULL;
    cor_error rc = cor_journal_open(&options, &journal);
    if (rc != COR_OK) return rc;
    bench_sink sink = {.journal = journal};
    rc = bench_run_transfers(args, &sink, transfers, NULL, result);
    cor_journal_close(journal);
    if (rc != COR_OK) return rc;
    double started = bench_now();
    double cpu_started = bench_cpu_seconds();
    rc = cor_journal_open(&options, &journal);
    result->recovery_seconds = bench_now() - started;
    result->recovery_cpu_seconds = bench_cpu_seconds() - cpu_started;
    if (rc != COR_OK) return rc;
    cor_journal_stats stats;
    cor_journal_stats_get(journal, &stats);
    result->records_replayed = stats.records_replayed;
    result->journal_bytes = stats.size_bytes;
    cor_journal_close(journal);
    return events == args->transfers ? COR_OK : COR_ERR_CORRUPT;
}

static cor_error bench_ledger_only(const bench_args *args, cor_transfer *transfers,
                                   cor_create_result *results, bench_result *result)
{
    cor_ledger_options options = {.accounts_max = (uint32_t)args->accounts,
                                  .transfers_max = (uint32_t)args->transfers,
                                  .pending_transfers_max = 1,
                                  .hash_seed = bench_wall_ns(),
                                  .prefault = true};
    bench_sink sink = {0};
    cor_error rc = cor_ledger_open(&options, &sink.ledger);
    if (rc != COR_OK) return rc;
    rc = bench_create_accounts(args, &sink, (cor_account *)transfers, results);
    if (rc == COR_OK) rc = bench_run_transfers(args, &sink, transfers, results, result);
    cor_ledger_close(sink.ledger);
    return rc;
}

static void bench_report(const bench_args *args, bench_result *result)
{
    qsort(result->latencies_us, result->batches, sizeof(double), bench_double_compare);
    double p50 = result->latencies_us[(result->batches - 1) / 2];
    double p99 = result->latencies_us[(result->batches - 1) * 99 / 100];
    double max = result->latencies_us[result->batches - 1];
    double tps = (double)result->transfers_done / result->seconds;
    const char *mode = args->journal_only  ? "journal-only"
                       : args->ledger_only ? "ledger-only"
                                           : "journal+ledger";
    if (args->json) {
        printf("{\"benchmark\": \"journal\", \"mode\": \"%s\", \"accounts\": %" PRIu64
               ", \"transfers\": %" PRIu64 ", \"batch\": %" PRIu64
               ", \"transfers_per_second\": %.0f, \"batch_latency_us_p50\": %.0f"
               ", \"batch_latency_us_p99\": %.0f, \"batch_latency_us_max\": %.0f"
               ", \"recovery_seconds\": %.3f, \"recovery_cpu_seconds\": %.3f"
               ", \"records_replayed\": %" PRIu64 ", \"journal_bytes\": %" PRIu64
               ", \"snapshots_taken\": %" PRIu64
               ", \"snapshot_pause_ms_max\": %.1f, \"snapshot_at_end_seconds\": %.3f}\n",
               mode, args->accounts, args->transfers, args->batch, tps, p50, p99, max,
               result->recovery_seconds, result->recovery_cpu_seconds, result->records_replayed,
               result->journal_bytes, result->snapshots_taken, result->snapshot_pause_ms_max,
               result->snapshot_end_seconds);
        return;
    }
    printf("bench journal (%s): %" PRIu64 " accounts, %" PRIu64 " transfers, batch %" PRIu64 "\n",
           mode, args->accounts, args->transfers, args->batch);
    printf("  transfers/s           %.0f%s\n", tps, args->ledger_only ? " (not durable)" : "");
    printf("  batch latency us      p50 %.0f  p99 %.0f  max %.0f\n", p50, p99, max);
    printf("  recovery seconds      %.3f (cpu %.3f; %" PRIu64 " records replayed, journal %" PRIu64
           " bytes)\n",
           result->recovery_seconds, result->recovery_cpu_seconds, result->records_replayed,
           result->journal_bytes);
    printf("  snapshots             %" PRIu64 " (longest pause %.1f ms)\n", result->snapshots_taken,
           result->snapshot_pause_ms_max);
}

int cor_bench_journal(int argc, char **argv)
{
    bench_args args;
    int status = bench_parse(argc, argv, &args);
    if (status != COR_EXIT_OK) return status;
    if (!args.ledger_only) {
        status = bench_prepare_dir(args.dir);
        if (status != COR_EXIT_OK) return status;
    }

    bench_result result = {0};
    uint64_t batches_max = args.transfers / args.batch + 1;
    result.latencies_us = cor_calloc(batches_max, sizeof(double));
    cor_transfer *transfers = cor_calloc(COR_LEDGER_BATCH_EVENTS_MAX, sizeof(cor_transfer));
    cor_create_result *results = cor_calloc(COR_LEDGER_BATCH_EVENTS_MAX, sizeof(*results));
    cor_error rc = COR_ERR_NOMEM;
    if (result.latencies_us != NULL && transfers != NULL && results != NULL) {
        rc = args.journal_only  ? bench_journal_only(&args, transfers, &result)
             : args.ledger_only ? bench_ledger_only(&args, transfers, results, &result)
                                : bench_store(&args, transfers, results, &result);
    }
    if (rc == COR_OK) {
        bench_report(&args, &result);
    } else {
        fprintf(stderr, "bench journal: failed: %s\n", cor_strerror(rc));
    }
    cor_free(results);
    cor_free(transfers);
    cor_free(result.latencies_us);
    return rc == COR_OK ? COR_EXIT_OK : COR_EXIT_ERROR;
}
