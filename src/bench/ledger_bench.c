/*
 * `corridor bench ledger`: applies pre-generated transfers to an in-memory ledger and reports
 * transfers per second and per-batch latency (p50, p99, max).
 *
 * Workload: `accounts` accounts with debits_must_not_exceed_credits (every transfer pays a
 * funds check), funded from one mint account before timing starts; then `transfers` plain
 * transfers between two distinct accounts chosen uniformly or by a Zipf(1) law over a
 * shuffled ranking, amounts 1..1000, ids increasing. Generation is deterministic (seeded) and
 * happens before the clock starts; only cor_ledger_create_transfers is timed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "corridor/ledger.h"

typedef struct ledger_bench_options {
    uint64_t accounts;
    uint64_t transfers;
    uint64_t batch;
    bool     zipf;
    bool     json;
    uint64_t seed;
} ledger_bench_options;

static int ledger_bench_usage(void)
{
    fprintf(stderr, "usage: corridor bench ledger [--accounts N] [--transfers N] [--batch N]\n"
                    "                             [--distribution uniform|zipf] [--seed N] "
                    "[--json]\n");
    return COR_EXIT_USAGE;
}

static bool ledger_bench_parse(int argc, char **argv, ledger_bench_options *o)
{
    *o = (ledger_bench_options){.accounts = 1000000, .transfers = 10000000, .batch = 8189,
                                .seed = 42};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if (strcmp(argv[i], "--accounts") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->accounts)) return false;
            i++;
        } else if (strcmp(argv[i], "--transfers") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->transfers)) return false;
            i++;
        } else if (strcmp(argv[i], "--batch") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->batch)) return false;
            i++;
        } else if (strcmp(argv[i], "--seed") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->seed)) return false;
            i++;
        } else if (strcmp(argv[i], "--distribution") == 0 && value != NULL) {
            if (strcmp(value, "zipf") == 0) {
                o->zipf = true;
            } else if (strcmp(value, "uniform") != 0) {
                return false;
            }
            i++;
        } else {
            return false;
        }
    }
    if (o->accounts < 2 || o->accounts >= COR_LEDGER_ACCOUNTS_MAX) return false;
    if (o->transfers == 0 || o->accounts + o->transfers > COR_LEDGER_TRANSFERS_MAX) return false;
    if (o->batch == 0 || o->batch > COR_LEDGER_BATCH_EVENTS_MAX) return false;
    return true;
}

/* Zipf(1) sampler: cumulative weights scaled to integers, searched by bisection. The
 * workload generator may use floating point; money never does. */
typedef struct zipf_table {
    uint64_t *cumulative;
    uint64_t  count;
} zipf_table;

static bool zipf_init(zipf_table *z, uint64_t count)
{
    z->count = count;
    z->cumulative = cor_alloc_large(count * sizeof(uint64_t));
    if (z->cumulative == NULL) return false;
    double harmonic = 0;
    for (uint64_t r = 1; r <= count; r++) harmonic += 1.0 / (double)r;
    double running = 0;
    for (uint64_t r = 1; r <= count; r++) {
        running += 1.0 / (double)r / harmonic;
        z->cumulative[r - 1] = (uint64_t)(running * 18446744073709549568.0);
    }
    z->cumulative[count - 1] = UINT64_MAX;
    return true;
}

static uint64_t zipf_sample(const zipf_table *z, uint64_t random)
{
    uint64_t low = 0;
    uint64_t high = z->count - 1;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (z->cumulative[middle] < random) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

/* Account index for rank r: a fixed odd multiplier scatters the hot ranks over the table. */
static uint64_t ledger_bench_pick(const ledger_bench_options *o, const zipf_table *z,
                                  uint64_t *state)
{
    uint64_t random = cor_bench_random(state);
    if (!o->zipf) return random % o->accounts;
    uint64_t rank = zipf_sample(z, random);
    return (rank * 0x9e3779b97f4a7c15ull) % o->accounts;
}

static cor_transfer *ledger_bench_workload(const ledger_bench_options *o)
{
    cor_transfer *transfers = cor_alloc_large(o->transfers * sizeof(cor_transfer));
    zipf_table z = {0};
    if (transfers == NULL || (o->zipf && !zipf_init(&z, o->accounts))) {
        cor_free_large(transfers, o->transfers * sizeof(cor_transfer));
        return NULL;
    }
    uint64_t state = o->seed;
    for (uint64_t i = 0; i < o->transfers; i++) {
        uint64_t debit = ledger_bench_pick(o, &z, &state);
        uint64_t credit = ledger_bench_pick(o, &z, &state);
        if (credit == debit) credit = (debit + 1) % o->accounts;
        transfers[i] = (cor_transfer){
            .id = o->accounts + 1 + i,
            .debit_account_id = debit + 1,
            .credit_account_id = credit + 1,
            .amount = 1 + cor_bench_random(&state) % 1000,
            .ledger = 1,
            .code = 1,
        };
        if ((i & 0xfffff) == 0) cor_bench_progress("generate", i, o->transfers);
    }
    cor_bench_progress("generate", o->transfers, o->transfers);
    cor_free_large(z.cumulative, z.count * sizeof(uint64_t));
    return transfers;
}

/* Creates the accounts and funds each from the mint account (untimed). */
static bool ledger_bench_setup(cor_ledger *ledger, const ledger_bench_options *o)
{
    static cor_account accounts[COR_LEDGER_BATCH_EVENTS_MAX];
    static cor_transfer funding[COR_LEDGER_BATCH_EVENTS_MAX];
    static cor_create_result results[COR_LEDGER_BATCH_EVENTS_MAX];
    cor_u128 mint_id = o->accounts + 1;
    cor_account mint = {.id = mint_id, .ledger = 1, .code = 2};
    if (cor_ledger_create_accounts(ledger, 1, &mint, 1, results) != COR_OK ||
        results[0].status != COR_ACCOUNT_CREATED) {
        return false;
    }
    for (uint64_t first = 0; first < o->accounts; first += COR_LEDGER_BATCH_EVENTS_MAX) {
        uint32_t count = (uint32_t)(o->accounts - first < COR_LEDGER_BATCH_EVENTS_MAX
                                        ? o->accounts - first
                                        : COR_LEDGER_BATCH_EVENTS_MAX);
        for (uint32_t i = 0; i < count; i++) {
            accounts[i] = (cor_account){.id = first + i + 1, .ledger = 1, .code = 1,
                                        .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS};
            funding[i] = (cor_transfer){.id = first + i + 1, .debit_account_id = mint_id,
                                        .credit_account_id = first + i + 1,
                                        .amount = 1000000000000ull, .ledger = 1, .code = 2};
        }
        if (cor_ledger_create_accounts(ledger, 1, accounts, count, results) != COR_OK) return false;
        for (uint32_t i = 0; i < count; i++) {
            if (results[i].status != COR_ACCOUNT_CREATED) return false;
        }
        if (cor_ledger_create_transfers(ledger, 1, funding, count, results) != COR_OK) return false;
        for (uint32_t i = 0; i < count; i++) {
            if (results[i].status != COR_TRANSFER_CREATED) return false;
        }
    }
    return true;
}

static void ledger_bench_report(const ledger_bench_options *o, uint64_t elapsed_ns,
                                uint64_t *latencies, uint64_t batches, uint64_t failed)
{
    cor_bench_latency latency;
    cor_bench_latency_compute(latencies, batches, &latency);
    uint64_t per_second = (uint64_t)((cor_u128)o->transfers * 1000000000ull /
                                     (elapsed_ns == 0 ? 1 : elapsed_ns));
    if (o->json) {
        printf("{\"transfers_per_second\": %llu, \"batch_latency_us_p50\": %llu, "
               "\"batch_latency_us_p99\": %llu, \"batch_latency_us_max\": %llu, "
               "\"accounts\": %llu, \"transfers\": %llu, \"batch\": %llu, "
               "\"distribution\": \"%s\", \"failed\": %llu}\n",
               (unsigned long long)per_second, (unsigned long long)(latency.p50_ns / 1000),
               (unsigned long long)(latency.p99_ns / 1000),
               (unsigned long long)(latency.max_ns / 1000), (unsigned long long)o->accounts,
               (unsigned long long)o->transfers, (unsigned long long)o->batch,
               o->zipf ? "zipf" : "uniform", (unsigned long long)failed);
        return;
    }
    printf("ledger: %llu accounts, %llu transfers, batch %llu, %s\n",
           (unsigned long long)o->accounts, (unsigned long long)o->transfers,
           (unsigned long long)o->batch, o->zipf ? "zipf" : "uniform");
    printf("  transfers/s       %llu\n", (unsigned long long)per_second);
    printf("  batch latency us  p50 %llu  p99 %llu  max %llu\n",
           (unsigned long long)(latency.p50_ns / 1000), (unsigned long long)(latency.p99_ns / 1000),
           (unsigned long long)(latency.max_ns / 1000));
    printf("  failed transfers  %llu\n", (unsigned long long)failed);
}

int cor_bench_ledger(int argc, char **argv)
{
    ledger_bench_options o;
    if (!ledger_bench_parse(argc, argv, &o)) return ledger_bench_usage();

    int status = COR_EXIT_ERROR;
    cor_ledger *ledger = NULL;
    uint64_t batches = (o.transfers + o.batch - 1) / o.batch;
    uint64_t *latencies = cor_calloc(batches, sizeof(uint64_t));
    cor_create_result *results = cor_calloc(o.batch, sizeof(cor_create_result));
    cor_transfer *transfers = ledger_bench_workload(&o);
    cor_ledger_options options = {
        .accounts_max = (uint32_t)o.accounts + 1,
        .transfers_max = (uint32_t)(o.accounts + o.transfers),
        .pending_transfers_max = 1024,
        .failed_ids_max = (uint32_t)o.transfers,
        .hash_seed = o.seed,
        .prefault = true,
    };
    if (latencies == NULL || results == NULL || transfers == NULL ||
        cor_ledger_open(&options, &ledger) != COR_OK || !ledger_bench_setup(ledger, &o)) {
        fprintf(stderr, "corridor: cannot set up the ledger benchmark (memory?)\n");
        goto done;
    }

    uint64_t failed = 0;
    uint64_t timestamp = 1000;
    uint64_t started = cor_bench_now_ns();
    for (uint64_t b = 0; b < batches; b++) {
        uint64_t first = b * o.batch;
        uint32_t count = (uint32_t)(o.transfers - first < o.batch ? o.transfers - first : o.batch);
        uint64_t batch_started = cor_bench_now_ns();
        cor_ledger_create_transfers(ledger, timestamp, transfers + first, count, results);
        latencies[b] = cor_bench_now_ns() - batch_started;
        timestamp += 1000000;
        for (uint32_t i = 0; i < count; i++) failed += results[i].status != COR_TRANSFER_CREATED;
        if ((b & 63) == 0) cor_bench_progress("apply", first, o.transfers);
    }
    uint64_t elapsed = cor_bench_now_ns() - started;
    cor_bench_progress("apply", o.transfers, o.transfers);
    ledger_bench_report(&o, elapsed, latencies, batches, failed);
    status = COR_EXIT_OK;

done:
    cor_ledger_close(ledger);
    cor_free_large(transfers, o.transfers * sizeof(cor_transfer));
    cor_free(results);
    cor_free(latencies);
    return status;
}
