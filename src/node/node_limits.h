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


/* Cross-border (the corridor). Capacities decide results (busy), so they are fixed when the
 * journal is created (configure record), like the payment capacity. */
#define COR_NODE_XB_PAYMENTS_MAX_DEFAULT (1u << 21) /* cross-border payments kept (dedup) */
#define COR_NODE_XB_QUOTES_MAX_DEFAULT   (1u << 20) /* quotes alive at once (a ring) */
#define COR_NODE_XB_SEEN_MAX             (1u << 22) /* peer message ids in the replay window */
#define COR_NODE_XB_OUTBOX_MAX           (1u << 16) /* messages one batch may queue */
#define COR_NODE_XB_FX_MAX               64u        /* fx id -> participant mappings */
#define COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX 4096u  /* POST /v1/xborder/payments array */
#define COR_NODE_XB_QUOTES_PER_REQUEST_MAX   4096u  /* POST /v1/fx/quotes array */
#define COR_NODE_XB_QUOTES_PER_ANSWER_MAX    4u     /* best quotes returned per request */
#define COR_NODE_XB_NAME_LENGTH_MAX          140u   /* debtor/creditor names (Max140Text) */
/* Replay window and clock skew of peer messages (wire and core use the same values). */
#define COR_NODE_XB_REPLAY_WINDOW_NS (30ull * 1000000000ull)
#define COR_NODE_XB_CLOCK_SKEW_NS    (5ull * 1000000000ull)
/* The beneficiary must decide within this of initiation, or refuse: it bounds every payment. */
#define COR_NODE_XB_DEADLINE_NS     (30ull * 1000000000ull)
#define COR_NODE_XB_DEADLINE_MAX_NS (300ull * 1000000000ull)
#define COR_NODE_XB_QUOTE_TTL_NS    (60ull * 1000000000ull)
/* The origin re-sends an unanswered message after this, doubling up to the cap. */
#define COR_NODE_XB_RETRY_INITIAL_NS (1000ull * 1000000ull)
#define COR_NODE_XB_RETRY_MAX_NS     (5ull * 1000000000ull)
/* Ledger code of every cross-border leg. */
#define COR_NODE_TRANSFER_CODE_XBORDER 3u

#endif
