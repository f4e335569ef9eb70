/* corridor bench: placeholder wiring, replaced by the ledger benchmark below. */
#include <stdio.h>
#include "cli/cli.h"
int cor_cli_bench(int argc, char **argv)
{
    (void)argc; (void)argv;
    return COR_EXIT_USAGE;
}
