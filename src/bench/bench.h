/*
 * Benchmarks, run as `corridor bench <name>`. Each entry takes the arguments after the
 * benchmark's name (argv[0] is the name) and returns a CLI exit status (src/cli/cli.h).
 */
#ifndef COR_BENCH_H
#define COR_BENCH_H

/* corridor bench journal --data DIR --accounts N --transfers N --batch N
 *                        [--snapshot-every BATCHES] [--journal-only] [--json] */
int cor_bench_journal(int argc, char **argv);

#endif
