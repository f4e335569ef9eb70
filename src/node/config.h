/*
 * The node's configuration file, DIR/corridor.ini, in INI format read with inih (Debian's
 * libinih: small, maintained, no dependencies; see docs/NODE.md for why). Unknown sections or
 * keys, duplicate keys, and values out of range are refused with the file's line number.
 *
 *   [node]    name, currency (ISO 4217 alphabetic), node_id (default: the currency's ISO 4217
 *             numeric code), bic (default "CRDR" + first two letters of the currency + "XX"),
 *             key_id (of node.key in the envelopes this node signs; default 1)
 *   [http]    bind (IPv4 address), port, threads
 *   [limits]  payments_max, ledger_accounts_max, ledger_transfers_max
 *   [journal] snapshot_every_ops (0 = never)
 *   [auth]    operator_key_hash (64 hex digits: BLAKE2b-256 of the operator key's secret)
 *   [peer NAME] (repeated, at most COR_WIRE_PEERS_MAX) node_id, currency, bic, url,
 *             public_key (64 hex), key_id, payment_max_out, daily_max_out, payment_max_in,
 *             daily_max_in (decimal minor units, 0 = no limit)
 *
 * A line is at most COR_NODE_CONFIG_LINE_MAX characters (inih's fixed line buffer); longer
 * lines are refused with their number rather than silently cut.
 */
#ifndef COR_NODE_CONFIG_H
#define COR_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/u128.h"
#include "corridor/xborder_wire.h"
#include "node/node_limits.h"

#define COR_NODE_CONFIG_FILE       "corridor.ini"
#define COR_NODE_SECRET_FILE       "node.key" /* Ed25519 secret key, mode 0600 */
#define COR_NODE_PUBLIC_FILE       "node.pub" /* Ed25519 public key, hex */
#define COR_NODE_NAME_SIZE_MAX     64u
#define COR_NODE_CONFIG_LINE_MAX   198u /* characters before the newline (inih INI_MAX_LINE) */
#define COR_NODE_PEER_URL_SIZE_MAX 161u /* 160 characters: fits one configuration line */

/* One [peer NAME] section: a corridor node this one talks to. */
typedef struct cor_node_peer_config {
    char name[COR_WIRE_NAME_SIZE_MAX + 1]; /* [A-Za-z0-9._-], 1..16 characters */
    char currency[4];                      /* ISO 4217 alphabetic */
    uint32_t currency_numeric;             /* its ledger id */
    uint32_t node_id;                      /* default: currency_numeric */
    char bic[12];                          /* BIC8/BIC11; default CRDR + 2 letters + XX */
    char url[COR_NODE_PEER_URL_SIZE_MAX];  /* http(s)://host[:port][/prefix], no final '/' */
    uint8_t public_key[COR_WIRE_PUBLIC_KEY_SIZE];
    uint32_t key_id;          /* default 1 */
    cor_u128 payment_max_out; /* 0 = no limit (our currency, leg 1) */
    cor_u128 daily_max_out;
    cor_u128 payment_max_in; /* 0 = no limit (our currency, leg 2) */
    cor_u128 daily_max_in;
} cor_node_peer_config;

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
    bool prefault; /* [limits] prefault: commit all tables at start (benchmarks) */
    uint8_t operator_key_hash[COR_NODE_KEY_HASH_SIZE_BYTES];
    uint32_t node_id; /* 1 .. 2^32-1; load fills the default */
    char bic[12];     /* load fills the default */
    uint32_t key_id;  /* id of node.key in the envelopes we sign; peers know it; default 1 */
    uint32_t peer_count;
    cor_node_peer_config peers[COR_WIRE_PEERS_MAX];
} cor_node_config;

/* Defaults for every field except name, currency and the key hash (node_id and bic stay
 * empty: they derive from the currency, see cor_node_config_default_identity). */
void cor_node_config_defaults(cor_node_config *config);

/* Writes the default BIC of a currency ("CRDR" + its first two letters + "XX") into bic. */
void cor_node_config_default_bic(const char *currency, char bic[12]);

/* True when name is a valid wire name: [A-Za-z0-9._-], 1..16 characters. */
bool cor_node_config_wire_name_valid(const char *name);

/* True when url is a peer URL this configuration accepts (see cor_node_peer_config.url). */
bool cor_node_config_url_valid(const char *url);

/*
 * Checks the whole configuration the way load does after reading the keys: node name a wire
 * name when peers exist; peers distinct from each other and from this node (name, node id,
 * BIC). COR_OK or COR_ERR_INVALID with detail naming the problem; *peer_out (may be NULL)
 * receives the index of the offending peer or UINT32_MAX for the [node] section.
 */
cor_error cor_node_config_check(const cor_node_config *config, char *detail, size_t detail_size,
                                uint32_t *peer_out);

/* Index of the peer called name, or -1. */
int cor_node_config_peer_find(const cor_node_config *config, const char *name);

/* Reads path. Errors: COR_ERR_IO (cannot open), COR_ERR_PARSE (bad content; detail says
 * where and why). */
cor_error cor_node_config_load(const char *path, cor_node_config *config, char *detail,
                               size_t detail_size);

/* Writes path, refusing to replace an existing file (COR_ERR_EXISTS); COR_ERR_IO otherwise.
 * Peers are written too, one [peer NAME] section each. */
cor_error cor_node_config_write(const char *path, const cor_node_config *config);

/* Replaces path atomically: writes "path.tmp.PID" (mode 0600), fsyncs it, renames it over
 * path and fsyncs the directory. A crash leaves the old file or the new one, never a mix.
 * Errors: COR_ERR_IO (nothing replaced; the temporary file is removed). */
cor_error cor_node_config_replace(const char *path, const cor_node_config *config);

#endif
