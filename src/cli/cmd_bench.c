/* corridor bench <name>: runs one of the built-in benchmarks (src/bench/). */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"

typedef struct bench_entry {
    const char *name;
    int (*run)(int argc, char **argv);
} bench_entry;

static const bench_entry bench_entries[] = {
    {"ledger", cor_bench_ledger},
    {"iso20022", cor_bench_iso20022},
    {"journal", cor_bench_journal},
    {"xborder", cor_bench_xborder},
};

int cor_cli_bench(int argc, char **argv)
{
    size_t count = sizeof(bench_entries) / sizeof(bench_entries[0]);
    if (argc >= 2) {
        for (size_t i = 0; i < count; i++) {
            if (strcmp(argv[1], bench_entries[i].name) == 0) {
                return bench_entries[i].run(argc - 1, argv + 1);
            }
        }
    }
    fprintf(stderr, "usage: corridor bench <benchmark> [options]\nbenchmarks:");
    for (size_t i = 0; i < count; i++) fprintf(stderr, " %s", bench_entries[i].name);
    fprintf(stderr, "\n");
    return COR_EXIT_USAGE;
}
