/* Benchmarks run as `corridor bench <name>`; each returns a CLI exit status. */
#ifndef COR_BENCH_H
#define COR_BENCH_H

/* corridor bench iso20022 [--count N] [--json]: parse + validate + map of a typical
 * single-transaction pacs.008 (with AppHdr, about 3.5 KB) on one core. */
int cor_bench_iso20022(int argc, char **argv);

#endif
