/*
 * Benchmarks that run inside the corridor binary (`corridor bench <name>`). Each entry point
 * takes the arguments after the benchmark's name and returns a CLI exit status.
 */
#ifndef COR_BENCH_H
#define COR_BENCH_H

#include <stdbool.h>
#include <stdint.h>

int cor_bench_ledger(int argc, char **argv);
int cor_bench_xborder(int argc, char **argv);

/* corridor bench journal --data DIR --accounts N --transfers N --batch N
 *                        [--snapshot-every BATCHES] [--snapshot-at-end]
 *                        [--journal-only | --ledger-only] [--json]
 * --ledger-only runs the same workload on a bare ledger (no journal, nothing durable) so the
 * cost of durability can be read off one run of each. */
int cor_bench_journal(int argc, char **argv);

/* corridor bench wire [--count N] [--json]: encode+sign and verify+decode of one message of
 * each kind between two nodes, CPU time per message (src/bench/wire_bench.c). */
int cor_bench_wire(int argc, char **argv);

/* corridor bench iso20022 [--count N] [--json]: parse + validate + map of a typical
 * single-transaction pacs.008 with AppHdr (3.8 KB) on one core (src/bench/iso20022_bench.c). */
int cor_bench_iso20022(int argc, char **argv);

/* Shared by the benchmarks: latency percentiles over per-batch samples (ns). */
typedef struct cor_bench_latency {
    uint64_t p50_ns;
    uint64_t p99_ns;
    uint64_t max_ns;
} cor_bench_latency;

/* Sorts samples in place. count must be at least 1. */
void cor_bench_latency_compute(uint64_t *samples_ns, uint64_t count, cor_bench_latency *out);

uint64_t cor_bench_now_ns(void);

/* A progress bar on stderr when it is a terminal; silent otherwise. */
void cor_bench_progress(const char *label, uint64_t done, uint64_t total);

/* splitmix64: the benchmarks' deterministic workload generator. */
static inline uint64_t cor_bench_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
