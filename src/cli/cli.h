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
#include <stddef.h>
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
int cor_cli_reconcile(int argc, char **argv);
int cor_cli_track(int argc, char **argv);
int cor_cli_demo(int argc, char **argv);

/* Parses a decimal u64 option value; false on junk, sign or overflow. */
bool cor_cli_parse_u64(const char *text, uint64_t *out);

struct json_t; /* jansson */

/* GET base_url + path with "Authorization: Bearer key" (bounded: 30 s, 64 MiB of answer).
 * Returns the HTTP status, or 0 when the node could not be reached or answered with more
 * than the bound (error then says why). *json_out gets the parsed body (NULL when it is not
 * JSON); the caller frees it with json_decref. curl_global_init must have been called. */
long cor_cli_get_json(const char *base_url, const char *path, const char *key,
                      struct json_t **json_out, char *error, size_t error_size);

/* Writes a ns timestamp as UTC "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (out: at least 32 bytes). */
void cor_cli_format_ns(uint64_t ns, char *out, size_t out_size);

#endif
