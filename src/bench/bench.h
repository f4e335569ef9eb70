/*
 * Benchmarks, run as `corridor bench <name>`. Each entry takes the arguments after the
 * benchmark's name (argv[0] is the name) and returns a CLI exit status (src/cli/cli.h).
 */
#ifndef COR_BENCH_H
#define COR_BENCH_H

/* corridor bench journal --data DIR --accounts N --transfers N --batch N
 *                        [--snapshot-every BATCHES] [--snapshot-at-end]
 *                        [--journal-only | --ledger-only] [--json]
 * --ledger-only runs the same workload on a bare ledger (no journal, nothing durable) so the
 * cost of durability can be read off one run of each. */
int cor_bench_journal(int argc, char **argv);

#endif
