/*
 * Internals shared by the node's HTTP server files: server.c (lifecycle, libmicrohttpd glue,
 * authentication) and routes.c (one handler per route, JSON rendering).
 *
 * A request lives in one http_request from its first byte to its completion. Handlers either
 * respond at once (reads, refusals) or build a command payload, submit it to the core as a
 * job and suspend the connection; the core's completion resumes it and http_finish renders
 * the results.
 */
#ifndef COR_NODE_SERVER_INTERNAL_H
#define COR_NODE_SERVER_INTERNAL_H

#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "corridor/iso20022.h"
#include "corridor/journal.h"
#include "corridor/screening.h"
#include "corridor/xborder_wire.h"
#include "corridor/node.h"
#include "node/buf.h"
#include "node/config.h"
#include "node/core.h"
#include "node/metrics.h"
#include "node/node_state.h"
#include "node/peer.h"
#include "node/request.h"

#define HTTP_RESPONSE_SIZE_BYTES_MAX (32u * 1024u * 1024u)
#define HTTP_PATH_SEGMENTS_MAX       6u
#define COR_NODE_ISO_PARSERS_MAX     64u /* pooled ISO 20022 parsers (one per HTTP thread) */

typedef struct cor_node_server {
    cor_node_config config;
    cor_node_state *state;
    pthread_rwlock_t state_lock;
    cor_journal *journal;
    cor_node_core *core;
    cor_metrics metrics;
    struct MHD_Daemon *daemon;
    _Atomic uint64_t active_requests;
    cor_node_state_options state_options;
    /* ISO 20022 parsers, one per HTTP thread (iso_routes.c); busy bits under iso_lock. */
    bool iso_open; /* http_iso_open ran (close pairs with it) */
    pthread_mutex_t iso_lock;
    cor_iso_parser *iso_parsers[COR_NODE_ISO_PARSERS_MAX];
    uint32_t iso_parser_count;
    uint64_t iso_parser_busy;
    _Atomic uint64_t iso_sequence; /* numbers the message ids the node writes */
    /* The corridor (xb_routes.c, server.c). */
    char data_dir[PATH_MAX];
    uint8_t secret_key[COR_WIRE_SECRET_KEY_SIZE]; /* node.key (wiped at close) */
    cor_node_sender *sender;                      /* outbound peer messages */
    bool wire_open;
    pthread_mutex_t wire_lock; /* decoders of the peer route; busy bits under it */
    cor_wire *wires[COR_NODE_ISO_PARSERS_MAX];
    uint32_t wire_count;
    uint64_t wire_busy;
    cor_screening *screening;         /* the watch list */
    pthread_rwlock_t screening_lock;  /* match: read; load: write */
    pthread_mutex_t watchlist_write_lock; /* one PUT at a time (load + save) */
    uint64_t watchlist_loaded_at;
} cor_node_server;

typedef enum http_role {
    HTTP_ROLE_NONE = 0,
    HTTP_ROLE_OPERATOR = 1,
    HTTP_ROLE_AUDITOR = 2,
    HTTP_ROLE_PARTICIPANT = 3,
    HTTP_ROLE_PEER = 4, /* the peer route: each envelope's signature authenticates */
} http_role;

typedef struct http_principal {
    http_role role;
    uint32_t key_id;      /* 0 for the operator */
    uint32_t participant; /* for participants */
} http_principal;

/* NEW: admitted, reading the body; WAITING: suspended on the core; DONE: results ready;
 * REFUSED: answered at admission (the body, if any, is discarded). */
typedef enum http_phase {
    HTTP_PHASE_NEW,
    HTTP_PHASE_WAITING,
    HTTP_PHASE_DONE,
    HTTP_PHASE_REFUSED,
} http_phase;

typedef struct http_path {
    const char *segments[HTTP_PATH_SEGMENTS_MAX];
    char storage[512];
    size_t count;
} http_path;

/* What a suspended request needs to render its response after the core answers. */
typedef enum http_pending {
    HTTP_PENDING_NONE,
    HTTP_PENDING_PARTICIPANT, /* create or update: render the participant */
    HTTP_PENDING_KEY_ADD,
    HTTP_PENDING_KEY_REVOKE,
    HTTP_PENDING_FUNDING,
    HTTP_PENDING_PAYMENTS,
    HTTP_PENDING_LEDGER,
    HTTP_PENDING_ISO_PAYMENTS, /* a pacs.008: render the pacs.002 (iso_routes.c) */
    HTTP_PENDING_XB,           /* a corridor command (xb_routes.c) */
} http_pending;

typedef struct http_iso http_iso; /* an ISO route's request state (iso_routes.c) */
typedef struct http_xb http_xb;   /* a corridor route's request state (xb_routes.c) */

typedef struct http_request {
    cor_node_server *server;
    struct MHD_Connection *connection;
    uint64_t started_us;
    cor_route route;
    http_phase phase;
    http_principal who;
    http_path path;
    char *body; /* owned; request body */
    size_t body_size;
    size_t body_capacity;
    bool body_too_large;

    /* Submitted command and its results (owned). */
    cor_node_job job;
    uint8_t *payload;
    size_t payload_size;
    size_t payload_capacity;
    cor_node_result *results;
    http_pending pending;
    uint32_t target; /* participant id of the path, or key id */
    bool payments_array;
    uint32_t payments_count;
    cor_node_payment_in *payments;                  /* owned; the decoded payments */
    uint8_t secret[COR_NODE_KEY_SECRET_SIZE_BYTES]; /* new key (wiped) */
    cor_u128 funding_amount;
    uint64_t funding_id;
    http_iso *iso; /* owned; ISO routes only */
    http_xb *xb;   /* owned; corridor routes only */
} http_request;

/* Time source for latency (monotonic microseconds). */
uint64_t http_now_us(void);

/* Queues a response with body (copied) and content type, records metrics. */
enum MHD_Result http_respond(http_request *request, unsigned status, const char *content_type,
                             const char *body, size_t size);
enum MHD_Result http_respond_json(http_request *request, unsigned status, cor_nbuf *body);
enum MHD_Result http_respond_fault(http_request *request, const cor_node_fault *fault);
enum MHD_Result http_respond_error(http_request *request, unsigned status, const char *code,
                                   const char *message);

/* Submits the request's payload (request->payload, events) to the core and suspends the
 * connection; responds 503 when the queue is full or the node is stopping. */
enum MHD_Result http_submit(http_request *request, uint32_t events);

/* Admission, on a request's first call (headers only): route, authentication, role and the
 * declared body size. Refusals are answered at once, before any body is read, so an
 * unauthenticated client cannot make the node buffer bodies; *admitted says which. */
enum MHD_Result http_admit(http_request *request, const char *method, const char *url,
                           bool *admitted);
/* Routing: dispatches an admitted, complete request; renders a resumed one. */
enum MHD_Result http_route(http_request *request, const char *method);
enum MHD_Result http_finish(http_request *request);

/* Command payload helpers: appends one command (header + body, padded) to request->payload,
 * whose buffer holds payload_capacity bytes. */
bool http_payload_reserve(http_request *request, size_t size);
void http_payload_add(http_request *request, uint16_t type, uint32_t event_count, const void *body,
                      size_t body_size);

/* ISO 20022 routes (iso_routes.c). http_iso_open runs before the HTTP threads start (it
 * opens the parsers, which initialises libxml2); http_iso_close after they stopped. */
cor_error http_iso_open(cor_node_server *server);
void http_iso_close(cor_node_server *server);
void http_iso_free(http_iso *iso); /* NULL is a no-op */
enum MHD_Result http_iso_post(http_request *request);
enum MHD_Result http_iso_finish_payments(http_request *request);
enum MHD_Result http_iso_statement(http_request *request, const char *account);
enum MHD_Result http_iso_notifications(http_request *request);

/* Whether path segment index is text (routes.c). */
bool seg_is(const http_path *path, size_t index, const char *text);

/* Corridor routes (xb_routes.c). */
void http_xb_free(http_xb *xb); /* NULL is a no-op */
cor_route http_xb_identify(const http_path *path); /* COR_ROUTE_UNKNOWN when not ours */
unsigned http_xb_roles(cor_route route, const char *method);
enum MHD_Result http_xb_dispatch(http_request *request, const http_path *path, bool get);
enum MHD_Result http_xb_finish(http_request *request);
/* Appends the corridor's Prometheus metrics (GET /metrics). */
void http_xb_metrics(cor_node_server *server, cor_nbuf *out);
/* Loads DIR/watchlist.csv (if any) into server->screening at start. */
cor_error http_xb_watchlist_restore(cor_node_server *server);

#endif
