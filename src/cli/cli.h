/*
 * The corridor command-line tool: one binary, one subcommand per file (cmd_<name>.c).
 *
 * Exit statuses (stable, documented in README.md):
 *   0 success; 1 the command ran and found a problem (verify, check); 2 usage error;
 *   3 operating error (i/o, memory, a refused input file).
 */
#ifndef COR_CLI_H
#define COR_CLI_H

#include <stdbool.h>
#include <stdint.h>

#define COR_EXIT_OK      0
#define COR_EXIT_PROBLEM 1
#define COR_EXIT_USAGE   2
#define COR_EXIT_ERROR   3

int cor_cli_bench(int argc, char **argv);
int cor_cli_init(int argc, char **argv);
int cor_cli_serve(int argc, char **argv);
int cor_cli_iso20022(int argc, char **argv);
int cor_cli_verify(int argc, char **argv);
int cor_cli_pay(int argc, char **argv);
int cor_cli_peer(int argc, char **argv);
int cor_cli_demo(int argc, char **argv);

/* Parses a decimal u64 option value; false on junk, sign or overflow. */
bool cor_cli_parse_u64(const char *text, uint64_t *out);

#endif
