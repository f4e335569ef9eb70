/*
 * corridor: the node, a national payment system's server process.
 *
 * A node is one data directory (configuration, Ed25519 key pair, journal, snapshots) and one
 * process serving an authenticated HTTP/JSON API over the durable core. The API, the
 * pipeline and the configuration are described in docs/API.md, docs/ARCHITECTURE.md and
 * docs/NODE.md.
 */
#ifndef CORRIDOR_NODE_H
#define CORRIDOR_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"

/* Size of the buffer that receives the operator's API key text. */
#define COR_NODE_API_KEY_TEXT_SIZE 96u

typedef struct cor_node_init_options {
    const char *data_dir;  /* created (mode 0700) if absent */
    const char *currency;  /* ISO 4217 alphabetic code, e.g. "RUB" */
    const char *node_name; /* 1 .. 63 bytes */
    uint16_t port;         /* 0: the default, 8080 */
    uint32_t node_id;      /* 0: the currency's ISO 4217 numeric code (RUB 643) */
    const char *bic;       /* NULL: "CRDR" + first two letters of the currency + "XX" */
} cor_node_init_options;

/*
 * Creates a node in data_dir: the configuration file, the Ed25519 key pair (secret key file
 * mode 0600) and the operator's API key, whose text is written to api_key_out (shown once:
 * only its hash is stored). Errors: COR_ERR_EXISTS (a node is already there: nothing is
 * changed), COR_ERR_INVALID (unknown currency, bad name, bad BIC), COR_ERR_IO. detail (detail_size
 * bytes) receives a one-line reason on failure.
 */
cor_error cor_node_init(const cor_node_init_options *options, char *api_key_out,
                        size_t api_key_size, char *detail, size_t detail_size);

typedef struct cor_node_serve_options {
    const char *data_dir;
    uint16_t port; /* 0: the configuration's port */
} cor_node_serve_options;

/*
 * Recovers the node's state from its journal and serves until SIGTERM or SIGINT; then stops
 * accepting, completes the batches in flight, closes the journal and returns COR_OK.
 * Blocks SIGTERM and SIGINT in the calling thread (and the threads it starts).
 * Errors: those of configuration loading (COR_ERR_IO, COR_ERR_PARSE), recovery (see
 * journal.h), COR_ERR_IO when the port cannot be bound; detail says which.
 */
cor_error cor_node_serve(const cor_node_serve_options *options, char *detail, size_t detail_size);

/* What cor_node_verify found. */
typedef struct cor_node_verify_report {
    uint64_t records;           /* journal records replayed from op 1 */
    uint64_t events;            /* events in them */
    uint64_t snapshots_checked; /* snapshot files compared with the replayed state */
    uint64_t journal_size_bytes;
    uint64_t tail_bytes_torn; /* a torn tail (never acknowledged); 0 normally */
    uint32_t participants;
    uint64_t payments;
    uint32_t ledger_accounts;
    uint32_t ledger_transfers;
    uint8_t head_hash[32]; /* the journal's hash-chain head */
} cor_node_verify_report;

/*
 * Proves a node's data directory intact without changing it: replays every journal record
 * from op 1 through the node's apply function (checking every checksum and chain link),
 * compares each snapshot with the replayed state at its op (BLAKE2b-256 of the serialized
 * state), and checks the ledger's invariants. Errors: COR_ERR_CORRUPT, COR_ERR_VERSION,
 * COR_ERR_LIMIT (a problem, named in detail), COR_ERR_IO / COR_ERR_PARSE (cannot read).
 */
cor_error cor_node_verify(const char *data_dir, cor_node_verify_report *report, char *detail,
                          size_t detail_size);

#endif
