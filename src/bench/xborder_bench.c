/*
 * `corridor bench xborder`: the cross-border protocol core alone, two nodes in one thread.
 *
 * Per payment: a quote at node A, the initiation (leg 1 reserved), node B's decision on the
 * pacs.008 (leg 2 posted, recorded), and node A applying the pacs.002 (leg 1 posted). Work
 * proceeds in rounds of `batch` payments: A quotes and initiates the whole round, then B
 * receives every instruction, then A receives every answer (as a node would between two
 * group commits). Messages are handed over in memory: no XML, no signature, no journal, no
 * network; those costs belong to the node's benchmark. The figure is the upper bound the
 * core puts on cross-border throughput, and the per-round latency is the core's share of a
 * batch's end-to-end latency.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "corridor/ledger.h"
#include "corridor/xborder.h"

typedef struct xborder_bench_options {
    uint64_t payments;
    uint64_t batch;
    uint64_t seed;
    bool json;
} xborder_bench_options;

typedef struct xborder_bench_node {
    cor_ledger *ledger;
    cor_xb *xb;
} xborder_bench_node;

#define XB_BENCH_BANKS 64u

static int xborder_bench_usage(void)
{
    fprintf(stderr, "usage: corridor bench xborder [--payments N] [--batch N] [--seed N] "
                    "[--json]\n");
    return COR_EXIT_USAGE;
}

static bool xborder_bench_parse(int argc, char **argv, xborder_bench_options *o)
{
    *o = (xborder_bench_options){.payments = 200000, .batch = 1000, .seed = 42};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if (strcmp(argv[i], "--payments") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->payments)) return false;
            i++;
        } else if (strcmp(argv[i], "--batch") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->batch)) return false;
            i++;
        } else if (strcmp(argv[i], "--seed") == 0 && value != NULL) {
            if (!cor_cli_parse_u64(value, &o->seed)) return false;
            i++;
        } else {
            return false;
        }
    }
    if (o->payments == 0 || o->payments > 4000000) return false;
    return o->batch >= 1 && o->batch <= 8189;
}

/* Node index n (0 = A, RUB; 1 = B, IRR): accounts 1 (central bank), 10.. (banks), 100 (FX). */
static bool xborder_bench_node_open(xborder_bench_node *node, uint32_t n,
                                    const xborder_bench_options *o)
{
    uint32_t currency = n == 0 ? 643 : 364;
    cor_ledger_options lo = {
        .accounts_max = XB_BENCH_BANKS + 8,
        .transfers_max = (uint32_t)(3 * o->payments + XB_BENCH_BANKS + 8),
        .pending_transfers_max = (uint32_t)o->batch + 8,
        .hash_seed = o->seed + n,
        .prefault = true,
    };
    if (cor_ledger_open(&lo, &node->ledger) != COR_OK) return false;
    cor_account accounts[XB_BENCH_BANKS + 2];
    memset(accounts, 0, sizeof(accounts));
    accounts[0] = (cor_account){.id = 1, .ledger = currency, .code = 1};
    for (uint32_t i = 0; i <= XB_BENCH_BANKS; i++) {
        accounts[1 + i] = (cor_account){.id = i < XB_BENCH_BANKS ? 10 + i : 100,
                                        .ledger = currency,
                                        .code = 2,
                                        .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS};
    }
    cor_create_result results[XB_BENCH_BANKS + 2];
    if (cor_ledger_create_accounts(node->ledger, 1, accounts, XB_BENCH_BANKS + 2, results) !=
        COR_OK) {
        return false;
    }
    cor_transfer funds[XB_BENCH_BANKS + 1];
    memset(funds, 0, sizeof(funds));
    for (uint32_t i = 0; i <= XB_BENCH_BANKS; i++) {
        funds[i] = (cor_transfer){.id = 1000000 + i,
                                  .debit_account_id = 1,
                                  .credit_account_id = accounts[1 + i].id,
                                  .amount = (cor_u128)1 << 80,
                                  .ledger = currency,
                                  .code = 1};
    }
    if (cor_ledger_create_transfers(node->ledger, 2, funds, XB_BENCH_BANKS + 1, results) !=
        COR_OK) {
        return false;
    }
    cor_xb_options xo;
    cor_xb_options_default(&xo, n + 1, currency);
    xo.payments_max = (uint32_t)o->payments;
    xo.quotes_max = (uint32_t)o->batch;
    xo.outbox_max = (uint32_t)o->batch;
    /* The bench clock moves 1 us per payment: a 10 ms window holds about 10,000 ids. */
    xo.seen_max = (uint32_t)(2 * o->batch + 32768);
    xo.replay_window_ns = 10000000ull;
    xo.clock_skew_ns = 1000000000ull;
    xo.hash_seed = o->seed ^ 0x5eed;
    xo.prefault = true;
    if (cor_xb_open(&xo, node->ledger, &node->xb) != COR_OK) return false;
    cor_xb_peer peer = {.node_id = 2 - n, .ledger = n == 0 ? 364 : 643};
    cor_xb_fx fx = {.account_id = 100, .fx_id = 7, .peer_node = 2 - n};
    return cor_xb_peer_add(node->xb, &peer) == COR_OK && cor_xb_fx_add(node->xb, &fx) == COR_OK;
}

static void xborder_bench_node_close(xborder_bench_node *node)
{
    cor_xb_close(node->xb);
    cor_ledger_close(node->ledger);
}

/* Hands node from's outbox to node to; returns how many were not accepted. */
static uint64_t xborder_bench_deliver(xborder_bench_node *from, xborder_bench_node *to,
                                      uint64_t timestamp)
{
    uint64_t refused = 0;
    uint32_t count = cor_xb_outbox_count(from->xb);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t reason = 0;
        cor_xb_receive(to->xb, timestamp, cor_xb_outbox_at(from->xb, i), &reason);
        refused += reason != COR_XB_OK;
    }
    cor_xb_outbox_clear(from->xb);
    return refused;
}

/* One round: quote + initiate batch payments at A, decide at B, settle at A. */
static uint64_t xborder_bench_round(xborder_bench_node nodes[2], uint64_t first, uint64_t count,
                                    uint64_t *rng, uint64_t *timestamp)
{
    uint64_t failed = 0;
    for (uint64_t i = first; i < first + count; i++) {
        uint64_t bank = cor_bench_random(rng) % XB_BENCH_BANKS;
        cor_xb_quote_request request = {.amount = 1 + cor_bench_random(rng) % 100000,
                                        .requester = bank,
                                        .peer_node = 2,
                                        .fixed = COR_XB_FIXED_SOURCE};
        cor_xb_quote quote;
        uint32_t quotes = 0, reason = 0;
        cor_xb_quote_issue(nodes[0].xb, *timestamp, &request, &quote, 1, &quotes, &reason);
        cor_u128 uetr = ((cor_u128)(i + 1) << 80) | ((cor_u128)4 << 76) | ((cor_u128)2 << 62) |
                        (cor_bench_random(rng) & 0x3fffffffffffffffull);
        cor_xb_payment_request pay = {.uetr = uetr,
                                      .quote_id = quote.id,
                                      .debtor_account = 10 + bank,
                                      .creditor_account = 10 + (bank + 1) % XB_BENCH_BANKS,
                                      .requester = bank};
        cor_xb_payment_initiate(nodes[0].xb, *timestamp, &pay, &reason);
        failed += quotes != 1 || reason != COR_XB_OK;
        *timestamp += 1000;
    }
    failed += xborder_bench_deliver(&nodes[0], &nodes[1], *timestamp);
    failed += xborder_bench_deliver(&nodes[1], &nodes[0], *timestamp);
    return failed;
}

static void xborder_bench_report(const xborder_bench_options *o, uint64_t elapsed_ns,
                                 uint64_t *latencies, uint64_t rounds, uint64_t failed,
                                 uint64_t committed)
{
    cor_bench_latency latency;
    cor_bench_latency_compute(latencies, rounds, &latency);
    uint64_t per_second =
        (uint64_t)((cor_u128)o->payments * 1000000000ull / (elapsed_ns == 0 ? 1 : elapsed_ns));
    if (o->json) {
        printf("{\"payments_per_second\": %llu, \"round_latency_us_p50\": %llu, "
               "\"round_latency_us_p99\": %llu, \"round_latency_us_max\": %llu, "
               "\"payments\": %llu, \"batch\": %llu, \"committed\": %llu, \"failed\": %llu}\n",
               (unsigned long long)per_second, (unsigned long long)(latency.p50_ns / 1000),
               (unsigned long long)(latency.p99_ns / 1000),
               (unsigned long long)(latency.max_ns / 1000), (unsigned long long)o->payments,
               (unsigned long long)o->batch, (unsigned long long)committed,
               (unsigned long long)failed);
        return;
    }
    printf("xborder core: %llu payments, rounds of %llu\n", (unsigned long long)o->payments,
           (unsigned long long)o->batch);
    printf("  payments/s        %llu\n", (unsigned long long)per_second);
    printf("  round latency us  p50 %llu  p99 %llu  max %llu\n",
           (unsigned long long)(latency.p50_ns / 1000), (unsigned long long)(latency.p99_ns / 1000),
           (unsigned long long)(latency.max_ns / 1000));
    printf("  committed %llu, failed %llu\n", (unsigned long long)committed,
           (unsigned long long)failed);
}

static bool xborder_bench_count(void *context, const cor_xb_payment *payment)
{
    *(uint64_t *)context += payment->state == COR_XB_STATE_COMMITTED;
    return true;
}

int cor_bench_xborder(int argc, char **argv)
{
    xborder_bench_options o;
    if (!xborder_bench_parse(argc, argv, &o)) return xborder_bench_usage();
    int status = COR_EXIT_ERROR;
    xborder_bench_node nodes[2];
    memset(nodes, 0, sizeof(nodes));
    uint64_t rounds = (o.payments + o.batch - 1) / o.batch;
    uint64_t *latencies = cor_calloc(rounds, sizeof(uint64_t));
    cor_xb_rate rate = {.amount_min = 1,
                        .amount_max = (cor_u128)1 << 64,
                        .fx_id = 7,
                        .peer_node = 2,
                        .rate_num = 52345,
                        .rate_den = 100,
                        .valid_until = UINT64_MAX,
                        .spread_ppm = 2500};
    uint32_t reason = 0;
    if (latencies == NULL || !xborder_bench_node_open(&nodes[0], 0, &o) ||
        !xborder_bench_node_open(&nodes[1], 1, &o) ||
        cor_xb_rate_publish(nodes[0].xb, 3, &rate, &reason) != COR_OK || reason != COR_XB_OK) {
        fprintf(stderr, "corridor: cannot set up the xborder benchmark (memory?)\n");
        goto done;
    }
    uint64_t rng = o.seed, timestamp = 1000000000ull, failed = 0;
    uint64_t started = cor_bench_now_ns();
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t first = r * o.batch;
        uint64_t count = o.payments - first < o.batch ? o.payments - first : o.batch;
        uint64_t round_started = cor_bench_now_ns();
        failed += xborder_bench_round(nodes, first, count, &rng, &timestamp);
        latencies[r] = cor_bench_now_ns() - round_started;
        if ((r & 15) == 0) cor_bench_progress("xborder", first, o.payments);
    }
    uint64_t elapsed = cor_bench_now_ns() - started;
    cor_bench_progress("xborder", o.payments, o.payments);
    uint64_t committed = 0;
    cor_xb_payments_each(nodes[0].xb, xborder_bench_count, &committed);
    xborder_bench_report(&o, elapsed, latencies, rounds, failed, committed);
    status = committed == o.payments ? COR_EXIT_OK : COR_EXIT_PROBLEM;

done:
    xborder_bench_node_close(&nodes[0]);
    xborder_bench_node_close(&nodes[1]);
    cor_free(latencies);
    return status;
}
