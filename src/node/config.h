/*
 * The node's configuration file, DIR/corridor.ini, in INI format read with inih (Debian's
 * libinih: small, maintained, no dependencies; see docs/NODE.md for why). Unknown sections or
 * keys, duplicate keys, and values out of range are refused with the file's line number.
 *
 *   [node]    name, currency (ISO 4217 alphabetic)
 *   [http]    bind (IPv4 address), port, threads
 *   [limits]  payments_max, ledger_accounts_max, ledger_transfers_max
 *   [journal] snapshot_every_ops (0 = never)
 *   [auth]    operator_key_hash (64 hex digits: BLAKE2b-256 of the operator key's secret)
 */
#ifndef COR_NODE_CONFIG_H
#define COR_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "node/node_limits.h"

#define COR_NODE_CONFIG_FILE   "corridor.ini"
#define COR_NODE_SECRET_FILE   "node.key" /* Ed25519 secret key, mode 0600 */
#define COR_NODE_PUBLIC_FILE   "node.pub" /* Ed25519 public key, hex */
#define COR_NODE_NAME_SIZE_MAX 64u

typedef struct cor_node_config {
    char name[COR_NODE_NAME_SIZE_MAX];
    char currency[4];
    uint32_t currency_numeric;
    char bind[64];
    uint16_t port;
    uint32_t http_threads; /* 1 .. 64 */
    uint32_t payments_max;
    uint32_t ledger_accounts_max;
    uint32_t ledger_transfers_max;
    uint64_t snapshot_every_ops;
    bool     prefault; /* [limits] prefault: commit all tables at start (benchmarks) */
    uint8_t operator_key_hash[COR_NODE_KEY_HASH_SIZE_BYTES];
} cor_node_config;

/* Defaults for every field except name, currency and the key hash. */
void cor_node_config_defaults(cor_node_config *config);

/* Reads path. Errors: COR_ERR_IO (cannot open), COR_ERR_PARSE (bad content; detail says
 * where and why). */
cor_error cor_node_config_load(const char *path, cor_node_config *config, char *detail,
                               size_t detail_size);

/* Writes path, refusing to replace an existing file (COR_ERR_EXISTS); COR_ERR_IO otherwise. */
cor_error cor_node_config_write(const char *path, const cor_node_config *config);

#endif
