/* main() of the corridor tool: dispatches to one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command cli_commands[] = {
    {"demo", cor_cli_demo, "run a two-country network with traffic and check its invariants"},
    {"bench", cor_cli_bench, "run a benchmark (ledger, journal, iso20022, xborder, wire)"},
    {"init", cor_cli_init, "create a node's data directory"},
    {"peer", cor_cli_peer, "add, list or remove the peer nodes of a node's configuration"},
    {"iso20022", cor_cli_iso20022, "check or round-trip ISO 20022 messages offline"},
    {"serve", cor_cli_serve, "recover a node and serve its HTTP API"},
    {"verify", cor_cli_verify, "check a data directory: checksums, hash chain, replay"},
    {"pay", cor_cli_pay, "send a file of pacs.008 documents to a node, write the pacs.002s"},
    {"reconcile", cor_cli_reconcile, "compare two nodes' records of an FX provider's payments"},
    {"track", cor_cli_track, "a cross-border payment's steps on both nodes, by time"},
};

static void cli_usage(FILE *out)
{
    fprintf(out, "usage: corridor <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++) {
        fprintf(out, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        cli_usage(stdout);
        return COR_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(cli_commands) / sizeof(cli_commands[0]); i++) {
        if (strcmp(argv[1], cli_commands[i].name) == 0) {
            return cli_commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "corridor: unknown command '%s'\n", argv[1]);
    cli_usage(stderr);
    return COR_EXIT_USAGE;
}
