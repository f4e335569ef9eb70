/* corridor bench: dispatches to one benchmark (src/bench/). */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"

int cor_cli_bench(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: corridor bench journal [options]\n");
        return COR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "journal") == 0) return cor_bench_journal(argc - 1, argv + 1);
    fprintf(stderr, "corridor bench: unknown benchmark '%s'\n", argv[1]);
    return COR_EXIT_USAGE;
}
