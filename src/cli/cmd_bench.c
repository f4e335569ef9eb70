/* corridor bench: dispatches to the benchmarks in src/bench/. */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"

int cor_cli_bench(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "iso20022") == 0) return cor_bench_iso20022(argc - 1, argv + 1);
    fprintf(stderr, "usage: corridor bench iso20022 [--count N] [--json]\n");
    return COR_EXIT_USAGE;
}
