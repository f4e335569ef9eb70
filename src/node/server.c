/*
 * The node process: `corridor init` and `corridor serve` (see include/corridor/node.h).
 *
 * serve = load the configuration, recover the node state from the journal (snapshot +
 * replay), start the core thread, start libmicrohttpd (internal epoll threads, a pool of
 * config.http_threads, connections suspended while their command waits for the core), then
 * wait for SIGTERM/SIGINT in the main thread. Shutdown: stop accepting (quiesce), let the
 * core finish every queued command, give the resumed connections a bounded time to send
 * their responses, stop libmicrohttpd, close the journal (its appends were already
 * fdatasync'ed), exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "corridor/iso20022.h"
#include "node/currency.h"
#include "node/log.h"
#include "node/server_internal.h"

#define SERVER_DRAIN_WAIT_MS 5000u /* responses of finished commands get this long to go out */

uint64_t http_now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000ull + (uint64_t)now.tv_nsec / 1000u;
}

/* ---------------------------------------------------------------------------------------- */
/* Responses                                                                                */
/* ---------------------------------------------------------------------------------------- */

enum MHD_Result http_respond(http_request *request, unsigned status, const char *content_type,
                             const char *body, size_t size)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(size, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL) return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == 503) MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == 401) {
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    }
    enum MHD_Result result = MHD_queue_response(request->connection, status, response);
    MHD_destroy_response(response);
    cor_metrics_request(&request->server->metrics, request->route, status,
                        http_now_us() - request->started_us);
    return result;
}

enum MHD_Result http_respond_json(http_request *request, unsigned status, cor_nbuf *body)
{
    if (!cor_nbuf_ok(body)) {
        cor_nbuf_release(body);
        return http_respond_error(request, 500, "response_too_large",
                                  "the response exceeds the server's limit; ask for fewer items");
    }
    enum MHD_Result result =
        http_respond(request, status, "application/json", body->data, body->size);
    cor_nbuf_release(body);
    return result;
}

static enum MHD_Result http_respond_error_field(http_request *request, unsigned status,
                                                const char *code, const char *message,
                                                const char *field)
{
    cor_nbuf body;
    cor_nbuf_init(&body, 4096);
    cor_nbuf_str(&body, "{\"error\":{\"code\":");
    cor_nbuf_json_string(&body, code, strlen(code));
    cor_nbuf_str(&body, ",\"message\":");
    cor_nbuf_json_string(&body, message, strlen(message));
    cor_nbuf_str(&body, ",\"field\":");
    cor_nbuf_json_string(&body, field, strlen(field));
    cor_nbuf_str(&body, "}}");
    if (!cor_nbuf_ok(&body)) {
        cor_nbuf_release(&body);
        return MHD_NO;
    }
    enum MHD_Result result =
        http_respond(request, status, "application/json", body.data, body.size);
    cor_nbuf_release(&body);
    return result;
}

enum MHD_Result http_respond_error(http_request *request, unsigned status, const char *code,
                                   const char *message)
{
    return http_respond_error_field(request, status, code, message, "");
}

enum MHD_Result http_respond_fault(http_request *request, const cor_node_fault *fault)
{
    return http_respond_error_field(request, fault->http_status, fault->code, fault->message,
                                    fault->field);
}

/* ---------------------------------------------------------------------------------------- */
/* Submitting commands                                                                      */
/* ---------------------------------------------------------------------------------------- */

bool http_payload_reserve(http_request *request, size_t size)
{
    COR_ASSERT(request->payload == NULL);
    request->payload = cor_alloc(size);
    request->payload_capacity = size;
    request->payload_size = 0;
    return request->payload != NULL;
}

void http_payload_add(http_request *request, uint16_t type, uint32_t event_count, const void *body,
                      size_t body_size)
{
    size_t padded = (body_size + 15u) & ~(size_t)15u;
    COR_ASSERT(request->payload_size + sizeof(cor_node_command_header) + padded <=
               request->payload_capacity);
    cor_node_command_header header = {.type = type,
                                      .event_count = event_count,
                                      .body_size_bytes = (uint32_t)body_size,
                                      .key_id = request->who.key_id,
                                      .participant = request->who.participant};
    uint8_t *out = request->payload + request->payload_size;
    memcpy(out, &header, sizeof(header));
    if (body_size > 0) memcpy(out + sizeof(header), body, body_size);
    memset(out + sizeof(header) + body_size, 0, padded - body_size);
    request->payload_size += sizeof(header) + padded;
}

static void http_job_done(cor_node_job *job)
{
    http_request *request = job->context;
    request->phase = HTTP_PHASE_DONE;
    MHD_resume_connection(request->connection);
}

enum MHD_Result http_submit(http_request *request, uint32_t events)
{
    request->results = cor_calloc(events, sizeof(cor_node_result));
    if (request->results == NULL) {
        return http_respond_error(request, 503, "busy", "out of memory, try again later");
    }
    cor_error rc = cor_node_core_reserve(request->server->core);
    if (rc != COR_OK) {
        const char *message = rc == COR_ERR_BUSY     ? "ingress queue full, try again later"
                              : rc == COR_ERR_CLOSED ? "the node is shutting down"
                                                     : "the journal failed; writes are refused";
        return http_respond_error(request, 503, rc == COR_ERR_BUSY ? "busy" : "unavailable",
                                  message);
    }
    request->job = (cor_node_job){.payload = request->payload,
                                  .payload_size_bytes = request->payload_size,
                                  .event_count = events,
                                  .results = request->results,
                                  .done = http_job_done,
                                  .context = request};
    request->phase = HTTP_PHASE_WAITING;
    /* Suspend before the core can see the job, so its resume always finds us suspended. */
    MHD_suspend_connection(request->connection);
    cor_node_core_push(request->server->core, &request->job);
    return MHD_YES;
}

/* ---------------------------------------------------------------------------------------- */
/* libmicrohttpd glue                                                                       */
/* ---------------------------------------------------------------------------------------- */

static bool http_body_append(http_request *request, const char *data, size_t size)
{
    if (request->body_too_large) return true;
    if (size > COR_NODE_BODY_SIZE_BYTES_MAX - request->body_size) {
        request->body_too_large = true;
        return true;
    }
    size_t needed = request->body_size + size;
    if (needed > request->body_capacity) {
        size_t capacity = request->body_capacity ? request->body_capacity : 4096;
        while (capacity < needed)
            capacity *= 2;
        if (capacity > COR_NODE_BODY_SIZE_BYTES_MAX) capacity = COR_NODE_BODY_SIZE_BYTES_MAX;
        char *body = cor_alloc(capacity);
        if (body == NULL) return false;
        if (request->body_size > 0) memcpy(body, request->body, request->body_size);
        cor_free(request->body);
        request->body = body;
        request->body_capacity = capacity;
    }
    memcpy(request->body + request->body_size, data, size);
    request->body_size += size;
    return true;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *connection, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    (void)version;
    cor_node_server *server = cls;
    http_request *request = *con_cls;
    if (request == NULL) {
        request = cor_calloc(1, sizeof(*request));
        if (request == NULL) return MHD_NO;
        request->server = server;
        request->connection = connection;
        request->started_us = http_now_us();
        atomic_fetch_add(&server->active_requests, 1);
        *con_cls = request;
        bool admitted = false;
        enum MHD_Result result = http_admit(request, method, url, &admitted);
        if (!admitted) request->phase = HTTP_PHASE_REFUSED;
        return result;
    }
    if (request->phase == HTTP_PHASE_REFUSED) { /* answered already; drop any body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        bool ok = http_body_append(request, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    if (request->phase == HTTP_PHASE_DONE) return http_finish(request);
    if (request->phase == HTTP_PHASE_WAITING) return MHD_YES; /* not expected; stay */
    if (request->body_too_large) {
        return http_respond_error(request, 413, "body_too_large", "request body is too large");
    }
    return http_route(request, method);
}

static void http_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                           enum MHD_RequestTerminationCode code)
{
    (void)connection;
    (void)code;
    cor_node_server *server = cls;
    http_request *request = *con_cls;
    if (request == NULL) return;
    /* A suspended request is never completed before the core resumes it. */
    COR_ASSERT(request->phase != HTTP_PHASE_WAITING);
    sodium_memzero(request->secret, sizeof(request->secret));
    cor_free(request->body);
    cor_free(request->payload);
    cor_free(request->results);
    cor_free(request->payments);
    http_iso_free(request->iso);
    http_xb_free(request->xb);
    cor_free(request);
    *con_cls = NULL;
    atomic_fetch_sub(&server->active_requests, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Recovery                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/* Recovery state shared by serve and verify: the state appears with the journal's first
 * record (CONFIGURE) or a snapshot, with the capacities they carry. */
typedef struct node_recovery {
    cor_node_state_options options; /* the configuration's; capacities from the journal */
    cor_node_state *state;          /* NULL until CONFIGURE or a snapshot */
    char *detail;                   /* for verify's snapshot comparison */
    size_t detail_size;
} node_recovery;

static cor_error recovery_load(void *context, const cor_journal_snapshot_info *info,
                               cor_journal_read_fn read, void *read_context)
{
    node_recovery *r = context;
    cor_node_state *loaded = NULL;
    cor_error rc = cor_node_state_deserialize(&r->options, read, read_context, &loaded);
    if (rc != COR_OK) return rc;
    cor_node_state_close(r->state);
    r->state = loaded;
    cor_node_state_options saved;
    cor_node_state_options_get(loaded, &saved);
    r->options.payments_max = saved.payments_max;
    r->options.ledger_accounts_max = saved.ledger_accounts_max;
    r->options.ledger_transfers_max = saved.ledger_transfers_max;
    r->options.xb_payments_max = saved.xb_payments_max;
    r->options.xb_quotes_max = saved.xb_quotes_max;
    cor_log(COR_LOG_INFO, "snapshot loaded", "op=%llu", (unsigned long long)info->op_number);
    return COR_OK;
}

static cor_error recovery_replay(void *context, const cor_journal_batch *batch)
{
    node_recovery *r = context;
    if (batch->operation == COR_NODE_JOURNAL_CONFIGURE) {
        cor_node_configure_record record;
        if (r->state != NULL || batch->payload_size_bytes != sizeof(record)) {
            return COR_ERR_CORRUPT;
        }
        memcpy(&record, batch->payload, sizeof(record));
        if (record.ledger != r->options.ledger) return COR_ERR_CORRUPT;
        r->options.payments_max = record.payments_max;
        r->options.ledger_accounts_max = record.ledger_accounts_max;
        r->options.ledger_transfers_max = record.ledger_transfers_max;
        if (record.node_id != r->options.node_id || record.reserved != 0) return COR_ERR_CORRUPT;
        r->options.xb_payments_max = record.xb_payments_max;
        r->options.xb_quotes_max = record.xb_quotes_max;
        cor_error rc = cor_node_state_open(&r->options, &r->state);
        return rc == COR_ERR_INVALID ? COR_ERR_CORRUPT : rc;
    }
    if (batch->operation != COR_NODE_JOURNAL_OPERATION || r->state == NULL) {
        return COR_ERR_CORRUPT;
    }
    return cor_node_state_apply(r->state, batch->timestamp, batch->payload,
                                batch->payload_size_bytes, NULL, 0);
}

static void server_journal_log(void *context, const char *message)
{
    (void)context;
    cor_log(COR_LOG_WARN, message, "%s", "component=journal");
}

static cor_node_state_options server_state_options(const cor_node_config *config, uint64_t seed)
{
    return (cor_node_state_options){.ledger = config->currency_numeric,
                                    .node_id = config->node_id,
                                    .payments_max = config->payments_max,
                                    .ledger_accounts_max = config->ledger_accounts_max,
                                    .ledger_transfers_max = config->ledger_transfers_max,
                                    .hash_seed = seed,
                                    .prefault = config->prefault};
}

/* A new journal starts with the capacities of today's configuration. */
static cor_error server_configure(cor_node_server *server, node_recovery *r)
{
    cor_error rc = cor_node_state_open(&r->options, &r->state);
    if (rc != COR_OK) return rc;
    cor_node_state_options_get(r->state, &r->options); /* defaults filled in */
    cor_node_configure_record record = {.ledger = r->options.ledger,
                                        .payments_max = r->options.payments_max,
                                        .ledger_accounts_max = r->options.ledger_accounts_max,
                                        .ledger_transfers_max = r->options.ledger_transfers_max,
                                        .node_id = r->options.node_id,
                                        .xb_payments_max = r->options.xb_payments_max,
                                        .xb_quotes_max = r->options.xb_quotes_max};
    cor_journal_batch batch = {.timestamp = 1,
                               .operation = COR_NODE_JOURNAL_CONFIGURE,
                               .event_count = 1,
                               .payload = &record,
                               .payload_size_bytes = sizeof(record)};
    return cor_journal_append(server->journal, &batch, NULL);
}

static cor_error server_recover(cor_node_server *server, const char *data_dir, char *detail,
                                size_t detail_size)
{
    node_recovery r = {.options = server->state_options};
    cor_journal_options options = {.dir = data_dir,
                                   .flags = COR_JOURNAL_CREATE,
                                   .load = recovery_load,
                                   .replay = recovery_replay,
                                   .context = &r,
                                   .log = server_journal_log,
                                   .error_detail = detail,
                                   .error_detail_size = detail_size};
    uint64_t started_us = http_now_us();
    cor_error rc = cor_journal_open(&options, &server->journal);
    if (rc == COR_OK && r.state == NULL) rc = server_configure(server, &r);
    server->state = r.state;
    if (rc != COR_OK) {
        if (detail[0] == '\0') snprintf(detail, detail_size, "recovery failed");
        return rc;
    }
    const cor_node_config *c = &server->config;
    if (r.options.payments_max != c->payments_max ||
        r.options.ledger_accounts_max != c->ledger_accounts_max ||
        r.options.ledger_transfers_max != c->ledger_transfers_max) {
        cor_log(COR_LOG_WARN,
                "capacities in the configuration differ from the journal's; "
                "the journal's apply",
                "payments_max=%u ledger_accounts_max=%u "
                "ledger_transfers_max=%u",
                r.options.payments_max, r.options.ledger_accounts_max,
                r.options.ledger_transfers_max);
    }
    server->state_options = r.options;
    cor_journal_stats stats;
    cor_journal_stats_get(server->journal, &stats);
    atomic_store(&server->metrics.journal_size_bytes, stats.size_bytes);
    cor_log(COR_LOG_INFO, "recovered",
            "op=%llu records_replayed=%llu events_replayed=%llu "
            "snapshot_op=%llu seconds=%.3f",
            (unsigned long long)stats.op_number, (unsigned long long)stats.records_replayed,
            (unsigned long long)stats.events_replayed, (unsigned long long)stats.snapshot_op_number,
            (double)(http_now_us() - started_us) / 1e6);
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* serve                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static cor_error server_start_http(cor_node_server *server, uint16_t port, char *detail,
                                   size_t detail_size)
{
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, server->config.bind, &address.sin_addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    server->daemon = MHD_start_daemon(
        flags, port, NULL, NULL, http_access, server, MHD_OPTION_SOCK_ADDR, &address,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)server->config.http_threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)COR_NODE_CONNECTIONS_MAX,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)COR_NODE_CONNECTION_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)COR_NODE_CONNECTION_MEMORY_BYTES,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_NOTIFY_COMPLETED, http_completed, server,
        MHD_OPTION_END);
    if (server->daemon == NULL) {
        snprintf(detail, detail_size, "cannot listen on %s:%u", server->config.bind, port);
        return COR_ERR_IO;
    }
    return COR_OK;
}

static void server_corridor_close(cor_node_server *server);

static void server_close(cor_node_server *server)
{
    if (server->daemon != NULL) MHD_stop_daemon(server->daemon);
    cor_node_core_close(server->core);
    server_corridor_close(server);
    cor_journal_close(server->journal);
    cor_node_state_close(server->state);
    if (server->iso_open) http_iso_close(server);
    pthread_rwlock_destroy(&server->state_lock);
    cor_free(server);
}

static void server_wait_signal(void)
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    int signal_number = 0;
    /* sigwait returns only for the two signals; EINTR cannot happen for blocked ones. */
    while (sigwait(&signals, &signal_number) != 0)
        continue;
    cor_log(COR_LOG_INFO, "stopping", "signal=%d", signal_number);
}

static void server_shutdown(cor_node_server *server)
{
    MHD_socket listen_socket = MHD_quiesce_daemon(server->daemon);
    cor_node_core_stop(server->core); /* every queued command is journaled and answered */
    uint64_t deadline_us = http_now_us() + SERVER_DRAIN_WAIT_MS * 1000ull;
    while (atomic_load(&server->active_requests) > 0 && http_now_us() < deadline_us) {
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    MHD_stop_daemon(server->daemon);
    server->daemon = NULL;
    if (listen_socket != MHD_INVALID_SOCKET) close(listen_socket);
}

/* ---------------------------------------------------------------------------------------- */
/* The corridor: key, decoders, sender, watch list, peers                                   */
/* ---------------------------------------------------------------------------------------- */

static cor_error server_read_secret(cor_node_server *server, char *detail, size_t detail_size)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/%s", server->data_dir, COR_NODE_SECRET_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, server->secret_key, sizeof(server->secret_key)) : -1;
    if (fd >= 0) close(fd);
    if (n != (ssize_t)sizeof(server->secret_key)) {
        snprintf(detail, detail_size, "cannot read the node key %s", path);
        return COR_ERR_IO;
    }
    return COR_OK;
}

/* The wire identities of this node and its peers, as the configuration gives them. */
static void server_wire_options(const cor_node_server *server, cor_wire_node *peers,
                                cor_wire_options *out)
{
    const cor_node_config *c = &server->config;
    memset(out, 0, sizeof(*out));
    out->self = cor_node_wire_self(c);
    out->self_key_id = c->key_id;
    memcpy(out->self_secret_key, server->secret_key, sizeof(out->self_secret_key));
    for (uint32_t i = 0; i < c->peer_count; i++)
        peers[i] = cor_node_wire_peer(&c->peers[i]);
    out->peers = peers;
    out->peer_count = c->peer_count;
    out->replay_window_ns = COR_NODE_XB_REPLAY_WINDOW_NS;
    out->clock_skew_ns = COR_NODE_XB_CLOCK_SKEW_NS;
}

/* Every message leaves with the end-customer names its payment was submitted with. */
static cor_error server_encode(void *context, const cor_wire *wire, const cor_xb_message *message,
                               uint8_t *out, size_t out_size_max, size_t *size_out)
{
    cor_node_server *server = context;
    cor_wire_parties parties;
    memset(&parties, 0, sizeof(parties));
    bool named = false;
    if (message->type == COR_XB_PACS008 || message->type == COR_XB_PACS004 ||
        message->type == COR_XB_CAMT056) {
        pthread_rwlock_rdlock(&server->state_lock);
        named = cor_node_state_xb_names(server->state, message->uetr, parties.debtor_name,
                                        parties.creditor_name);
        pthread_rwlock_unlock(&server->state_lock);
    }
    return cor_wire_encode_parties(wire, message, named ? &parties : NULL, out, out_size_max,
                                   size_out);
}

/* A run of messages as one batch envelope, each with its payment's names. */
static cor_error server_encode_batch(void *context, const cor_wire *wire,
                                     const cor_xb_message *messages, uint32_t count, uint8_t *out,
                                     size_t out_size_max, size_t *size_out)
{
    cor_node_server *server = context;
    cor_xb_message_type type = messages[0].type;
    cor_wire_parties *parties = NULL;
    if (type == COR_XB_PACS008 || type == COR_XB_PACS004 || type == COR_XB_CAMT056) {
        parties = cor_alloc((size_t)count * sizeof(*parties)); /* each entry written below */
        if (parties == NULL) return COR_ERR_NOMEM;
        pthread_rwlock_rdlock(&server->state_lock);
        for (uint32_t i = 0; i < count; i++) {
            if (!cor_node_state_xb_names(server->state, messages[i].uetr, parties[i].debtor_name,
                                         parties[i].creditor_name)) {
                parties[i].debtor_name[0] = '\0';
                parties[i].creditor_name[0] = '\0';
            }
        }
        pthread_rwlock_unlock(&server->state_lock);
    }
    cor_error rc =
        cor_wire_encode_batch(wire, messages, parties, count, out, out_size_max, size_out);
    cor_free(parties);
    return rc;
}

static void server_outbox(void *context, const cor_xb_message *messages, uint32_t count)
{
    cor_node_server *server = context;
    cor_node_sender_enqueue(server->sender, messages, count);
}

/* Whether any peer link still holds queued messages (core.h, outbox_busy). */
static bool server_outbox_busy(void *context)
{
    cor_node_server *server = context;
    if (server->sender == NULL) return false;
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        cor_node_link_stats stats;
        if (cor_node_sender_link(server->sender, server->config.peers[i].node_id, &stats) &&
            stats.queued > 0) {
            return true;
        }
    }
    return false;
}

static cor_error server_corridor_open(cor_node_server *server, char *detail, size_t detail_size)
{
    cor_error rc = server_read_secret(server, detail, detail_size);
    if (rc != COR_OK) return rc;
    pthread_mutex_init(&server->wire_lock, NULL);
    pthread_rwlock_init(&server->screening_lock, NULL);
    pthread_mutex_init(&server->watchlist_write_lock, NULL);
    server->wire_open = true;
    cor_wire_node *peers = cor_calloc(COR_WIRE_PEERS_MAX, sizeof(cor_wire_node));
    if (peers == NULL) return COR_ERR_NOMEM;
    cor_wire_options wire_options;
    server_wire_options(server, peers, &wire_options);
    uint32_t decoders = server->config.http_threads + 2;
    if (decoders > COR_NODE_ISO_PARSERS_MAX) decoders = COR_NODE_ISO_PARSERS_MAX;
    for (uint32_t i = 0; i < decoders && rc == COR_OK; i++) {
        rc = cor_wire_open(&wire_options, &server->wires[i]);
        if (rc == COR_OK) server->wire_count++;
    }
    sodium_memzero(wire_options.self_secret_key, sizeof(wire_options.self_secret_key));
    cor_free(peers);
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "the peer configuration is refused by the wire format: %s",
                 cor_error_name(rc));
        return rc;
    }
    cor_node_sender_options sender_options = {.config = &server->config,
                                              .secret_key = server->secret_key,
                                              .encode = server_encode,
                                              .encode_batch = server_encode_batch,
                                              .encode_context = server,
                                              .queue_messages_max = COR_NODE_XB_OUTBOX_MAX * 4u};
    rc = cor_node_sender_open(&sender_options, &server->sender);
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "cannot start the peer sender: %s", cor_error_name(rc));
        return rc;
    }
    cor_screening_options screening_options;
    cor_screening_options_default(&screening_options);
    screening_options.size_bytes_max = COR_NODE_BODY_SIZE_BYTES_MAX;
    screening_options.entries_max = 100000;
    screening_options.line_bytes_max = 4096;
    rc = cor_screening_open(&screening_options, &server->screening);
    if (rc != COR_OK) return rc;
    rc = http_xb_watchlist_restore(server);
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "the saved watch list %s/watchlist.csv cannot be loaded",
                 server->data_dir);
    }
    return rc;
}

static void server_corridor_close(cor_node_server *server)
{
    cor_node_sender_close(server->sender);
    server->sender = NULL;
    for (uint32_t i = 0; i < server->wire_count; i++)
        cor_wire_close(server->wires[i]);
    server->wire_count = 0;
    cor_screening_close(server->screening);
    server->screening = NULL;
    if (server->wire_open) {
        pthread_mutex_destroy(&server->wire_lock);
        pthread_rwlock_destroy(&server->screening_lock);
        pthread_mutex_destroy(&server->watchlist_write_lock);
        server->wire_open = false;
    }
    sodium_memzero(server->secret_key, sizeof(server->secret_key));
}

typedef struct server_wait {
    pthread_mutex_t mutex;
    pthread_cond_t done;
    bool finished;
} server_wait;

static void server_job_done(cor_node_job *job)
{
    server_wait *wait = job->context;
    pthread_mutex_lock(&wait->mutex);
    wait->finished = true;
    pthread_cond_signal(&wait->done);
    pthread_mutex_unlock(&wait->mutex);
}

/* Journals the configured peers' limits (the protocol core keeps them as state), so the
 * configuration file is the one place an operator edits them. */
static cor_error server_peers_apply(cor_node_server *server, char *detail, size_t detail_size)
{
    uint32_t count = server->config.peer_count;
    if (count == 0) return COR_OK;
    size_t one = sizeof(cor_node_command_header) + ((sizeof(cor_xb_peer) + 15u) & ~(size_t)15u);
    uint8_t *payload = cor_calloc(count, one);
    cor_node_result *results = cor_calloc(count, sizeof(cor_node_result));
    if (payload == NULL || results == NULL) {
        cor_free(payload);
        cor_free(results);
        return COR_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < count; i++) {
        const cor_node_peer_config *p = &server->config.peers[i];
        cor_node_command_header h = {
            .type = COR_NODE_CMD_XB_PEER, .event_count = 1, .body_size_bytes = sizeof(cor_xb_peer)};
        cor_xb_peer peer = {.node_id = p->node_id,
                            .ledger = p->currency_numeric,
                            .payment_max_out = p->payment_max_out,
                            .daily_max_out = p->daily_max_out,
                            .payment_max_in = p->payment_max_in,
                            .daily_max_in = p->daily_max_in};
        memcpy(payload + i * one, &h, sizeof(h));
        memcpy(payload + i * one + sizeof(h), &peer, sizeof(peer));
    }
    server_wait wait = {.finished = false};
    pthread_mutex_init(&wait.mutex, NULL);
    pthread_cond_init(&wait.done, NULL);
    cor_node_job job = {.payload = payload,
                        .payload_size_bytes = count * one,
                        .event_count = count,
                        .results = results,
                        .done = server_job_done,
                        .context = &wait};
    cor_error rc = cor_node_core_reserve(server->core);
    if (rc == COR_OK) {
        cor_node_core_push(server->core, &job);
        pthread_mutex_lock(&wait.mutex);
        while (!wait.finished)
            pthread_cond_wait(&wait.done, &wait.mutex);
        pthread_mutex_unlock(&wait.mutex);
        rc = job.error;
    }
    for (uint32_t i = 0; rc == COR_OK && i < count; i++) {
        if (results[i].code != COR_NODE_OK) {
            snprintf(detail, detail_size, "peer %s refused by the protocol core (%s)",
                     server->config.peers[i].name, cor_node_code_name(results[i].code));
            rc = COR_ERR_INVALID;
        }
    }
    pthread_cond_destroy(&wait.done);
    pthread_mutex_destroy(&wait.mutex);
    cor_free(payload);
    cor_free(results);
    return rc;
}

static cor_error server_open(const cor_node_serve_options *options, cor_node_server **out,
                             char *detail, size_t detail_size)
{
    cor_node_server *server = cor_calloc(1, sizeof(*server));
    if (server == NULL) return COR_ERR_NOMEM;
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&server->state_lock, &attributes);
    pthread_rwlockattr_destroy(&attributes);
    *out = server;

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", options->data_dir, COR_NODE_CONFIG_FILE);
    cor_error rc = cor_node_config_load(path, &server->config, detail, detail_size);
    if (rc != COR_OK) return rc;
    snprintf(server->data_dir, sizeof(server->data_dir), "%s", options->data_dir);
    rc = server_corridor_open(server, detail, detail_size);
    if (rc != COR_OK) return rc;
    uint64_t seed = 0;
    randombytes_buf(&seed, sizeof(seed));
    server->state_options = server_state_options(&server->config, seed);
    rc = server_recover(server, options->data_dir, detail, detail_size);
    if (rc != COR_OK) return rc;
    cor_node_core_options core_options = {.state = server->state,
                                          .state_lock = &server->state_lock,
                                          .journal = server->journal,
                                          .metrics = &server->metrics,
                                          .snapshot_every_ops = server->config.snapshot_every_ops,
                                          .outbox = server_outbox,
                                          .outbox_busy = server_outbox_busy,
                                          .outbox_context = server};
    rc = cor_node_core_open(&core_options, &server->core);
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "cannot start the core thread");
        return rc;
    }
    rc = server_peers_apply(server, detail, detail_size);
    if (rc != COR_OK) return rc;
    rc = http_iso_open(server);
    server->iso_open = true;
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "cannot open the ISO 20022 parsers");
        return rc;
    }
    uint16_t port = options->port != 0 ? options->port : server->config.port;
    return server_start_http(server, port, detail, detail_size);
}

cor_error cor_node_serve(const cor_node_serve_options *options, char *detail, size_t detail_size)
{
    if (sodium_init() < 0) return COR_ERR_NOMEM;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL); /* threads started below inherit it */
    /* Request buffers reach megabytes (an 8,189-payment body, its results, its response).
     * By default glibc maps each of those afresh and unmaps it on free, so every batch request
     * paid for page faults and zeroing (a third of the HTTP threads' time in a profile). Keep
     * them in the heap and keep freed memory for reuse instead. */
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    signal(SIGPIPE, SIG_IGN);

    cor_node_server *server = NULL;
    cor_error rc = server_open(options, &server, detail, detail_size);
    if (rc != COR_OK) {
        if (server != NULL) server_close(server);
        return rc;
    }
    uint16_t port = options->port != 0 ? options->port : server->config.port;
    cor_log(COR_LOG_INFO, "serving", "node=%s currency=%s bind=%s port=%u threads=%u",
            server->config.name, server->config.currency, server->config.bind, port,
            server->config.http_threads);
    server_wait_signal();
    server_shutdown(server);
    server_close(server);
    cor_log(COR_LOG_INFO, "stopped", "%s", "");
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* init                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void hex_encode(const uint8_t *bytes, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * size] = '\0';
}

static cor_error init_write_file(const char *path, const void *bytes, size_t size, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) return errno == EEXIST ? COR_ERR_EXISTS : COR_ERR_IO;
    bool ok = write(fd, bytes, size) == (ssize_t)size && fchmod(fd, mode) == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    return ok ? COR_OK : COR_ERR_IO;
}

static cor_error init_keys(const char *dir, char *detail, size_t detail_size)
{
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(public_key, secret_key);
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", dir, COR_NODE_SECRET_FILE);
    cor_error rc = init_write_file(path, secret_key, sizeof(secret_key), 0600);
    sodium_memzero(secret_key, sizeof(secret_key));
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "cannot write '%s': %s", path, cor_strerror(rc));
        return rc;
    }
    char text[crypto_sign_PUBLICKEYBYTES * 2 + 2];
    hex_encode(public_key, sizeof(public_key), text);
    text[sizeof(text) - 2] = '\n';
    text[sizeof(text) - 1] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, COR_NODE_PUBLIC_FILE);
    rc = init_write_file(path, text, strlen(text), 0644);
    if (rc != COR_OK) snprintf(detail, detail_size, "cannot write '%s'", path);
    return rc;
}

cor_error cor_node_init(const cor_node_init_options *options, char *api_key_out,
                        size_t api_key_size, char *detail, size_t detail_size)
{
    COR_ASSERT(api_key_size >= COR_NODE_API_KEY_TEXT_SIZE);
    if (sodium_init() < 0) return COR_ERR_NOMEM;
    cor_node_config config;
    cor_node_config_defaults(&config);
    const cor_currency *currency =
        cor_currency_by_alpha(options->currency, strlen(options->currency));
    if (currency == NULL) {
        snprintf(detail, detail_size, "unknown currency '%s'", options->currency);
        return COR_ERR_INVALID;
    }
    size_t name_length = strlen(options->node_name);
    if (name_length == 0 || name_length >= sizeof(config.name) ||
        strpbrk(options->node_name, "\n\r;#=[]") != NULL) {
        snprintf(detail, detail_size, "node name must be 1 to 63 characters without ;#=[]");
        return COR_ERR_INVALID;
    }
    memcpy(config.currency, currency->alpha, 4);
    config.currency_numeric = currency->numeric;
    snprintf(config.name, sizeof(config.name), "%s", options->node_name);
    if (options->port != 0) config.port = options->port;
    config.node_id = options->node_id != 0 ? options->node_id : currency->numeric;
    if (options->bic == NULL) {
        cor_node_config_default_bic(config.currency, config.bic);
    } else if (strlen(options->bic) >= sizeof(config.bic) || !cor_iso_bic_valid(options->bic)) {
        snprintf(detail, detail_size, "bic '%s' is not a BIC8 or BIC11", options->bic);
        return COR_ERR_INVALID;
    } else {
        snprintf(config.bic, sizeof(config.bic), "%s", options->bic);
    }

    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", options->data_dir, COR_NODE_CONFIG_FILE);
    if (mkdir(options->data_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(detail, detail_size, "cannot create '%s': %s", options->data_dir, strerror(errno));
        return COR_ERR_IO;
    }
    if (access(path, F_OK) == 0) {
        snprintf(detail, detail_size, "a node already exists in '%s'", options->data_dir);
        return COR_ERR_EXISTS;
    }
    cor_error rc = init_keys(options->data_dir, detail, detail_size);
    if (rc != COR_OK) return rc;

    uint8_t secret[COR_NODE_KEY_SECRET_SIZE_BYTES];
    randombytes_buf(secret, sizeof(secret));
    crypto_generichash(config.operator_key_hash, sizeof(config.operator_key_hash), secret,
                       sizeof(secret), NULL, 0);
    char secret_hex[COR_NODE_KEY_SECRET_SIZE_BYTES * 2 + 1];
    hex_encode(secret, sizeof(secret), secret_hex);
    sodium_memzero(secret, sizeof(secret));
    rc = cor_node_config_write(path, &config);
    if (rc != COR_OK) {
        snprintf(detail, detail_size, "cannot write '%s': %s", path, cor_strerror(rc));
        return rc;
    }
    snprintf(api_key_out, api_key_size, "cor_0_%s", secret_hex);
    sodium_memzero(secret_hex, sizeof(secret_hex));
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* verify                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static cor_error verify_hash_write(void *context, const void *bytes, size_t size)
{
    return crypto_generichash_update(context, bytes, size) == 0 ? COR_OK : COR_ERR_IO;
}

static cor_error verify_snapshot(void *context, const cor_journal_snapshot_info *info)
{
    node_recovery *v = context;
    crypto_generichash_state hash_state;
    crypto_generichash_init(&hash_state, NULL, 0, 32);
    cor_error rc = cor_node_state_serialize(v->state, verify_hash_write, &hash_state);
    if (rc != COR_OK) return rc;
    uint8_t hash[32];
    crypto_generichash_final(&hash_state, hash, sizeof(hash));
    if (sodium_memcmp(hash, info->state_hash, sizeof(hash)) != 0) {
        snprintf(v->detail, v->detail_size,
                 "the snapshot at op %llu differs from the replayed state",
                 (unsigned long long)info->op_number);
        return COR_ERR_CORRUPT;
    }
    return COR_OK;
}

cor_error cor_node_verify(const char *data_dir, cor_node_verify_report *report, char *detail,
                          size_t detail_size)
{
    if (sodium_init() < 0) return COR_ERR_NOMEM;
    memset(report, 0, sizeof(*report));
    detail[0] = '\0';
    cor_node_config config;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", data_dir, COR_NODE_CONFIG_FILE);
    cor_error rc = cor_node_config_load(path, &config, detail, detail_size);
    if (rc != COR_OK) return rc;
    node_recovery v = {.options = server_state_options(&config, 0x636f727269646f72ull),
                       .detail = detail,
                       .detail_size = detail_size};
    v.options.prefault = false;
    cor_journal_options options = {.dir = data_dir,
                                   .flags = COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS,
                                   .replay = recovery_replay,
                                   .snapshot_check = verify_snapshot,
                                   .context = &v,
                                   .log = server_journal_log,
                                   .error_detail = detail,
                                   .error_detail_size = detail_size};
    cor_journal *journal = NULL;
    rc = cor_journal_open(&options, &journal);
    if (rc == COR_OK && v.state == NULL) rc = cor_node_state_open(&v.options, &v.state);
    if (rc == COR_OK) {
        cor_journal_stats stats;
        cor_journal_stats_get(journal, &stats);
        report->records = stats.records_total;
        report->events = stats.events_total;
        report->snapshots_checked = stats.snapshots_found;
        report->journal_size_bytes = stats.size_bytes;
        report->tail_bytes_torn = stats.tail_bytes_torn;
        memcpy(report->head_hash, stats.chain_hash, sizeof(report->head_hash));
        const cor_ledger *ledger = cor_node_state_ledger(v.state);
        char problem[256];
        if (!cor_ledger_check(ledger, problem, sizeof(problem))) {
            snprintf(detail, detail_size, "ledger invariant violated: %s", problem);
            rc = COR_ERR_CORRUPT;
        }
        cor_ledger_stats ledger_stats;
        cor_ledger_stats_get(ledger, &ledger_stats);
        report->participants = cor_node_state_participants_count(v.state);
        report->payments = cor_node_state_payments_count(v.state);
        report->ledger_accounts = ledger_stats.accounts_count;
        report->ledger_transfers = ledger_stats.transfers_count;
    }
    cor_journal_close(journal);
    cor_node_state_close(v.state);
    return rc;
}
