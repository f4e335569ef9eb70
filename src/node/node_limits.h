/*
 * Every limit of the node (HTTP API, ingress queue, node state), with its unit and reason.
 * Limits on untrusted input are enforced by validation with a clear 4xx error, never by an
 * assertion.
 */
#ifndef COR_NODE_LIMITS_H
#define COR_NODE_LIMITS_H

#include "corridor/ledger.h"

/* One batch of the core: the ledger's batch limit, so a full payments request is one batch. */
#define COR_NODE_BATCH_EVENTS_MAX COR_LEDGER_BATCH_EVENTS_MAX
/* Payments in one POST /v1/payments request (= one batch). */
#define COR_NODE_PAYMENTS_PER_REQUEST_MAX COR_NODE_BATCH_EVENTS_MAX
/* Ledger events in one POST /v1/ledger/{accounts,transfers} request. */
#define COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX COR_NODE_BATCH_EVENTS_MAX

/* Request body: 8,189 payments of about 400 bytes of JSON each fit with room to spare. */
#define COR_NODE_BODY_SIZE_BYTES_MAX (8u * 1024u * 1024u)
/* JSON nesting: our deepest document is {"x":[{...}]} (3); 8 leaves room, stops bombs. */
#define COR_NODE_JSON_DEPTH_MAX 8u
/* Keys in one JSON object we accept (our largest object has 13 fields). */
#define COR_NODE_JSON_OBJECT_FIELDS_MAX 24u

/* Strings (bytes, UTF-8) after JSON decoding. ISO 20022 limits where one applies. */
#define COR_NODE_NAME_LENGTH_MAX       128u /* participant name */
#define COR_NODE_BIC_LENGTH_MAX        11u  /* BIC: 8 or 11 characters */
#define COR_NODE_E2E_LENGTH_MAX        35u  /* ISO 20022 EndToEndId (Max35Text) */
#define COR_NODE_REMITTANCE_LENGTH_MAX 140u /* ISO 20022 Ustrd (Max140Text) */

/* Node state capacities. */
#define COR_NODE_PARTICIPANTS_MAX     4096u      /* participants of one national system */
#define COR_NODE_KEYS_MAX             16384u     /* API keys ever created (revoked ones included) */
#define COR_NODE_PAYMENTS_MAX_DEFAULT (1u << 21) /* payments kept; config payments_max */
#define COR_NODE_PAYMENTS_MAX_LIMIT   (1u << 28)

/* Ingress queue: commands waiting for the core thread. Past it, requests get 503 busy. */
#define COR_NODE_QUEUE_COMMANDS_MAX 4096u
/* HTTP connections at once (libmicrohttpd refuses more). */
#define COR_NODE_CONNECTIONS_MAX 1024u
/* libmicrohttpd's per-connection pool (request line, headers, read buffer; bodies stream
 * through it in chunks). It is cleared for every request, so bigger costs time: at 64 KiB the
 * clearing alone took 16% of the HTTP threads' time in a profile. */
#define COR_NODE_CONNECTION_MEMORY_BYTES (16u * 1024u)
/* Idle connection timeout. */
#define COR_NODE_CONNECTION_TIMEOUT_S 30u
/* Ids in one batch lookup (GET /v1/ledger/{accounts,transfers}/lookup?ids=...): 256 ids of
 * up to 39 digits (10 KiB) fit the 16 KiB connection pool that also holds the request line. */
#define COR_NODE_LOOKUP_IDS_MAX 256u
/* Results of one statement or query request. */
#define COR_NODE_QUERY_RESULTS_MAX 8189u
/* Payload bytes of one journaled batch: 8,189 payments of at most 256 bytes each, or 8,189
 * 128-byte ledger events, plus command headers. */
#define COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX (COR_NODE_BATCH_EVENTS_MAX * 288u + 65536u)

/* API keys: "cor_<key id>_<64 hex digits of 32 random bytes>". */
#define COR_NODE_KEY_SECRET_SIZE_BYTES 32u
#define COR_NODE_KEY_HASH_SIZE_BYTES   32u
#define COR_NODE_KEY_TEXT_SIZE_MAX     96u

_Static_assert(COR_NODE_PAYMENTS_PER_REQUEST_MAX <= COR_NODE_BATCH_EVENTS_MAX,
               "a payments request fits one batch");
_Static_assert(COR_NODE_JSON_DEPTH_MAX >= 3u, "our documents nest three deep");

#endif
