/* The outbound peer link (see peer.h). */
#include "node/peer.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/log.h"

#define LINK_ANSWER_SIZE_MAX 512u                   /* bytes of a refusal's body kept for the log */
#define LINK_ERROR_SIZE_MAX  (CURL_ERROR_SIZE + 32) /* an error text for stats and the log */
#define LINK_LOG_INTERVAL_NS 1000000000ull          /* one log line per link per second at most */
#define LINK_POLL_MS         100 /* close notices within this, even mid-request */
#define LINK_PUMP_EVERY      64u /* single envelopes encoded between two turns of the transfers */

typedef enum link_request_state {
    REQUEST_FREE,    /* body unused */
    REQUEST_READY,   /* body encoded, not started: the link is retrying another request */
    REQUEST_RUNNING, /* its easy handle is on the link's multi handle */
    REQUEST_BACKOFF  /* failed, waits until retry_at_ns for its next attempt */
} link_request_state;

/* One request slot of a link: a body, an easy handle (its own keep-alive connection) and the
 * answer. The link thread only. */
typedef struct link_request {
    struct sender_link *link;
    CURL *curl;
    uint8_t *body;        /* COR_NODE_PEER_BODY_SIZE_MAX, allocated at open */
    size_t size;          /* bytes of body to send */
    uint32_t envelopes;   /* messages the body carries */
    uint32_t attempts;    /* attempts started, 1 .. 1 + COR_NODE_PEER_RETRIES */
    uint64_t delay_ns;    /* the wait before the next retry */
    uint64_t retry_at_ns; /* CLOCK_MONOTONIC; REQUEST_BACKOFF only */
    link_request_state state;
    bool retrying; /* an attempt failed and the body is neither delivered nor dropped yet */
    char answer[LINK_ANSWER_SIZE_MAX];
    size_t answer_size;
} link_request;

typedef struct sender_link {
    struct cor_node_sender *sender;
    cor_node_peer_config peer;
    cor_wire *wire; /* used by this link's thread only */
    CURLM *multi;
    struct curl_slist *headers;
    char url[COR_NODE_PEER_URL_SIZE_MAX + sizeof(COR_NODE_PEER_PATH)];

    pthread_mutex_t lock; /* guards the queue, stats and poll_wake */
    pthread_cond_t wake;
    cor_xb_message *queue; /* ring of queue_max */
    uint32_t queue_head;
    uint32_t queue_count;
    cor_node_link_stats stats; /* queued is filled on read */
    /* The thread waits in curl_multi_poll with a request slot free: enqueue wakes the multi
     * handle (once) instead of only the condition variable. */
    bool poll_wake;

    /* Link thread only. */
    cor_xb_message *batch; /* COR_NODE_PEER_BATCH_MAX messages taken from the queue */
    uint32_t batch_count;  /* taken */
    uint32_t batch_next;   /* the first not yet encoded */
    link_request requests[COR_NODE_PEER_INFLIGHT_MAX];
    uint64_t last_log_ns;
    uint64_t log_suppressed;
    pthread_t thread;
    bool sync_ready; /* lock and wake initialized */
    bool thread_started;
} sender_link;

struct cor_node_sender {
    atomic_bool stopping;
    atomic_uint_fast64_t unroutable;
    uint32_t queue_max;
    uint32_t pipeline_min;
    cor_node_encode_fn encode;
    cor_node_encode_batch_fn encode_batch;
    void *encode_context;
    uint32_t link_count;
    sender_link *links; /* link_count */
};

static pthread_once_t sender_curl_once = PTHREAD_ONCE_INIT;
static bool sender_curl_ok;

static void sender_curl_init(void)
{
    sender_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static uint64_t sender_now_ns(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static cor_error sender_default_encode(void *context, const cor_wire *wire,
                                       const cor_xb_message *message, uint8_t *out,
                                       size_t out_size_max, size_t *size_out)
{
    (void)context;
    return cor_wire_encode(wire, message, out, out_size_max, size_out);
}

static size_t link_answer_write(char *data, size_t size, size_t count, void *user)
{
    link_request *request = user;
    size_t bytes = size * count;
    size_t room = sizeof(request->answer) - 1 - request->answer_size;
    size_t keep = bytes < room ? bytes : room;
    memcpy(request->answer + request->answer_size, data, keep);
    request->answer_size += keep;
    request->answer[request->answer_size] = '\0';
    return bytes;
}

/* ---------------------------------------------------------------------------------------- */
/* Link thread                                                                              */
/* ---------------------------------------------------------------------------------------- */

static bool link_stopping(const sender_link *link)
{
    return atomic_load_explicit(&link->sender->stopping, memory_order_acquire);
}

/* Logs at most once per LINK_LOG_INTERVAL_NS per link; counts what it skipped. */
static void link_log(sender_link *link, cor_log_level level, const char *message,
                     const char *detail, uint32_t envelopes)
{
    uint64_t now = sender_now_ns(CLOCK_MONOTONIC);
    if (link->last_log_ns != 0 && now - link->last_log_ns < LINK_LOG_INTERVAL_NS) {
        link->log_suppressed++;
        return;
    }
    /* The detail may be a peer's answer: keep the log line one line of plain fields. */
    char safe[200];
    size_t length = 0;
    for (const char *p = detail; *p != '\0' && length + 1 < sizeof(safe); p++) {
        unsigned char c = (unsigned char)*p;
        safe[length++] = c == '"' ? '\'' : (c < 0x20 || c >= 0x7f) ? '.' : (char)c;
    }
    safe[length] = '\0';
    cor_log(level, message, "peer=%s url=%s envelopes=%u suppressed=%llu detail=\"%s\"",
            link->peer.name, link->url, envelopes, (unsigned long long)link->log_suppressed, safe);
    link->last_log_ns = now;
    link->log_suppressed = 0;
}

static void link_record(sender_link *link, bool ok, bool up, uint32_t envelopes, const char *error)
{
    pthread_mutex_lock(&link->lock);
    link->stats.up = up;
    if (ok) {
        link->stats.sent += envelopes;
        link->stats.batches++;
        link->stats.last_ok_ns = sender_now_ns(CLOCK_REALTIME);
    } else {
        link->stats.last_error_ns = sender_now_ns(CLOCK_REALTIME);
        snprintf(link->stats.last_error, sizeof(link->stats.last_error), "%s", error);
    }
    pthread_mutex_unlock(&link->lock);
}

static void link_count_failed(sender_link *link, uint32_t envelopes)
{
    pthread_mutex_lock(&link->lock);
    link->stats.failed += envelopes;
    pthread_mutex_unlock(&link->lock);
}

static void link_request_free(link_request *request)
{
    request->state = REQUEST_FREE;
    request->retrying = false;
    request->size = 0;
    request->envelopes = 0;
    request->attempts = 0;
}

/* Whether some request of the link has failed an attempt and is not settled yet: the peer is
 * likely down or overloaded, so the link starts nothing new until it settles. */
static bool link_retrying(const sender_link *link)
{
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        if (link->requests[i].retrying) return true;
    }
    return false;
}

static uint32_t link_running(const sender_link *link)
{
    uint32_t running = 0;
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        running += link->requests[i].state == REQUEST_RUNNING;
    }
    return running;
}

/* The outcome of one attempt of request (status 0: transport error, described by error). */
static void link_settle(sender_link *link, link_request *request, long status, const char *error)
{
    COR_ASSERT(request->state == REQUEST_RUNNING);
    char text[LINK_ERROR_SIZE_MAX];
    snprintf(text, sizeof(text), "%s", error[0] != '\0' ? error : "no answer");
    if (status >= 200 && status < 300) {
        link_record(link, true, true, request->envelopes, "");
        link_request_free(request);
        return;
    }
    if (status >= 300 && status < 500) {
        snprintf(text, sizeof(text), "http %ld", status);
        link_record(link, false, true, request->envelopes, text);
        link_count_failed(link, request->envelopes);
        link_log(link, COR_LOG_WARN, "peer refused messages", request->answer, request->envelopes);
        link_request_free(request);
        return;
    }
    if (status >= 500) snprintf(text, sizeof(text), "http %ld", status);
    /* Mark the request retrying before the stats show the failure (tests rely on it). */
    bool give_up = request->attempts > COR_NODE_PEER_RETRIES;
    if (!give_up) {
        request->state = REQUEST_BACKOFF;
        request->retrying = true;
        request->retry_at_ns = sender_now_ns(CLOCK_MONOTONIC) + request->delay_ns;
        request->delay_ns = request->delay_ns * 2 > COR_NODE_PEER_RETRY_MAX_NS
                                ? COR_NODE_PEER_RETRY_MAX_NS
                                : request->delay_ns * 2;
    }
    link_record(link, false, false, request->envelopes, text);
    if (give_up) {
        link_count_failed(link, request->envelopes);
        link_log(link, COR_LOG_WARN, "peer unreachable, messages dropped", text,
                 request->envelopes);
        link_request_free(request);
    }
}

/* Starts one attempt of request's body on its own easy handle. */
static void link_start(sender_link *link, link_request *request)
{
    COR_ASSERT(request->state == REQUEST_READY || request->state == REQUEST_BACKOFF);
    COR_ASSERT(request->envelopes > 0);
    COR_ASSERT(request->size > 0 && request->size <= COR_NODE_PEER_BODY_SIZE_MAX);
    request->answer_size = 0;
    request->answer[0] = '\0';
    request->attempts++;
    curl_easy_setopt(request->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->size);
    curl_easy_setopt(request->curl, CURLOPT_POSTFIELDS, (const char *)request->body);
    request->state = REQUEST_RUNNING;
    if (curl_multi_add_handle(link->multi, request->curl) != CURLM_OK) {
        link_settle(link, request, 0, "curl_multi_add_handle failed");
    }
}

/* One turn of the transfers without blocking: moves bytes, settles what finished. */
static void link_pump(sender_link *link)
{
    if (link_running(link) == 0) return;
    int running = 0;
    CURLMcode mrc = curl_multi_perform(link->multi, &running);
    char error[LINK_ERROR_SIZE_MAX];
    if (mrc != CURLM_OK) {
        snprintf(error, sizeof(error), "%s", curl_multi_strerror(mrc));
        for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
            link_request *request = &link->requests[i];
            if (request->state != REQUEST_RUNNING) continue;
            curl_multi_remove_handle(link->multi, request->curl);
            link_settle(link, request, 0, error);
        }
        return;
    }
    int queued = 0;
    CURLMsg *message;
    while ((message = curl_multi_info_read(link->multi, &queued)) != NULL) {
        if (message->msg != CURLMSG_DONE) continue;
        link_request *request = NULL;
        for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
            if (link->requests[i].curl == message->easy_handle) request = &link->requests[i];
        }
        COR_ASSERT(request != NULL && request->state == REQUEST_RUNNING);
        long status = 0;
        error[0] = '\0';
        CURLcode result = message->data.result; /* message is invalid after remove_handle */
        if (result == CURLE_OK) {
            curl_easy_getinfo(request->curl, CURLINFO_RESPONSE_CODE, &status);
        } else {
            snprintf(error, sizeof(error), "%s", curl_easy_strerror(result));
        }
        curl_multi_remove_handle(link->multi, request->curl);
        link_settle(link, request, status, error);
    }
    if (running > 0) return;
    /* Nothing runs any more: a request without a DONE message got no answer. */
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        link_request *request = &link->requests[i];
        if (request->state != REQUEST_RUNNING) continue;
        curl_multi_remove_handle(link->multi, request->curl);
        link_settle(link, request, 0, "no answer");
    }
}

/* Starts retries that are due, and encoded bodies once no request is retrying. */
static void link_start_due(sender_link *link)
{
    uint64_t now = sender_now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        link_request *request = &link->requests[i];
        if (request->state == REQUEST_BACKOFF && request->retry_at_ns <= now) {
            link_start(link, request);
        }
    }
    if (link_retrying(link)) return;
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        link_request *request = &link->requests[i];
        if (request->state == REQUEST_READY) link_start(link, request);
    }
}

/* Whether b may share a batch envelope with a (cor_wire_encode_batch: one type, and for
 * camt.029 one outcome). Messages of a link all go to one addressee. */
static bool link_same_kind(const cor_xb_message *a, const cor_xb_message *b)
{
    if (a->type != b->type || a->to_node != b->to_node) return false;
    return a->type != COR_XB_CAMT029 || a->cancel_status == b->cancel_status;
}

/* Encodes batch[batch_next ..) as batch envelopes, runs of one kind each, into request's body
 * until the batch is done or a run does not fit the body's room (it goes first into the next
 * body). Turns the transfers in flight between runs. Returns the messages encoded. */
static uint32_t link_fill_batches(sender_link *link, link_request *request)
{
    cor_node_sender *sender = link->sender;
    uint32_t messages = 0;
    while (link->batch_next < link->batch_count && !link_stopping(link)) {
        uint32_t i = link->batch_next;
        uint32_t run = 1;
        while (i + run < link->batch_count && run < COR_WIRE_BATCH_MAX &&
               link_same_kind(&link->batch[i], &link->batch[i + run])) {
            run++;
        }
        size_t written = 0;
        cor_error rc = sender->encode_batch(sender->encode_context, link->wire, &link->batch[i],
                                            run, request->body + request->size,
                                            COR_NODE_PEER_BODY_SIZE_MAX - request->size, &written);
        if (rc == COR_ERR_LIMIT && request->size > 0) break; /* the body is full */
        link->batch_next += run;
        if (rc != COR_OK || written == 0) {
            link_count_failed(link, run);
            link_log(link, COR_LOG_ERROR, "cannot encode messages for a peer", cor_error_name(rc),
                     run);
            continue;
        }
        request->size += written;
        messages += run;
        link_pump(link);
    }
    return messages;
}

/* As link_fill_batches, one envelope per message. */
static uint32_t link_fill_single(sender_link *link, link_request *request)
{
    cor_node_sender *sender = link->sender;
    uint32_t envelopes = 0;
    while (link->batch_next < link->batch_count && !link_stopping(link)) {
        size_t room = COR_NODE_PEER_BODY_SIZE_MAX - request->size;
        size_t written = 0;
        cor_error rc =
            sender->encode(sender->encode_context, link->wire, &link->batch[link->batch_next],
                           request->body + request->size, room, &written);
        if (rc == COR_ERR_LIMIT && envelopes > 0) break; /* the body is full */
        link->batch_next++;
        if (rc != COR_OK || written == 0 || written > room) {
            link_count_failed(link, 1);
            link_log(link, COR_LOG_ERROR, "cannot encode a message for a peer", cor_error_name(rc),
                     1);
            continue;
        }
        request->size += written;
        envelopes++;
        if (envelopes % LINK_PUMP_EVERY == 0) link_pump(link);
    }
    return envelopes;
}

/* Encodes the next body of the batch into a free request; READY when it holds anything. */
static void link_fill(sender_link *link, link_request *request)
{
    COR_ASSERT(request->state == REQUEST_FREE);
    link_request_free(request);
    uint32_t envelopes = link->sender->encode_batch != NULL ? link_fill_batches(link, request)
                                                            : link_fill_single(link, request);
    if (envelopes == 0 || link_stopping(link)) {
        link_request_free(request);
        return;
    }
    request->envelopes = envelopes;
    request->delay_ns = COR_NODE_PEER_RETRY_FIRST_NS;
    request->state = REQUEST_READY;
}

/* Whether the batch holds messages not yet encoded; takes up to COR_NODE_PEER_BATCH_MAX from
 * the queue when it is done. Never blocks but for the queue's mutex. */
static bool link_take(sender_link *link)
{
    if (link->batch_next < link->batch_count) return true;
    uint32_t queue_max = link->sender->queue_max;
    pthread_mutex_lock(&link->lock);
    uint32_t count =
        link->queue_count < COR_NODE_PEER_BATCH_MAX ? link->queue_count : COR_NODE_PEER_BATCH_MAX;
    for (uint32_t i = 0; i < count; i++) {
        link->batch[i] = link->queue[link->queue_head];
        link->queue_head = link->queue_head + 1 == queue_max ? 0 : link->queue_head + 1;
    }
    link->queue_count -= count;
    pthread_mutex_unlock(&link->lock);
    link->batch_count = count;
    link->batch_next = 0;
    return count > 0;
}

static link_request *link_free_request(sender_link *link)
{
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        if (link->requests[i].state == REQUEST_FREE) return &link->requests[i];
    }
    return NULL;
}

/* Whether a free slot may start a request now: always when none is busy; with requests in
 * flight, only when at least pipeline_min messages wait (taken or queued). */
static bool link_may_start(sender_link *link)
{
    bool busy = false;
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX && !busy; i++) {
        busy = link->requests[i].state != REQUEST_FREE;
    }
    if (!busy) return true;
    uint32_t waiting = link->batch_count - link->batch_next;
    if (waiting >= link->sender->pipeline_min) return true;
    pthread_mutex_lock(&link->lock);
    waiting += link->queue_count;
    pthread_mutex_unlock(&link->lock);
    return waiting >= link->sender->pipeline_min;
}

/* Waits for something to do: with no request busy, for queued messages (condition variable);
 * otherwise in curl_multi_poll for the transfers, until the next retry is due, at most
 * LINK_POLL_MS, woken by enqueue when can_take (a slot is free and new messages may start)
 * and by close. */
static void link_wait(sender_link *link, bool can_take)
{
    bool busy = false;
    uint64_t timeout_ns = (uint64_t)LINK_POLL_MS * 1000000ull;
    uint64_t now = sender_now_ns(CLOCK_MONOTONIC);
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        const link_request *request = &link->requests[i];
        if (request->state == REQUEST_FREE) continue;
        busy = true;
        if (request->state != REQUEST_BACKOFF) continue;
        uint64_t left = request->retry_at_ns > now ? request->retry_at_ns - now : 0;
        if (left < timeout_ns) timeout_ns = left;
    }
    if (!busy) {
        pthread_mutex_lock(&link->lock);
        while (link->queue_count == 0 && !link_stopping(link)) {
            pthread_cond_wait(&link->wake, &link->lock);
        }
        pthread_mutex_unlock(&link->lock);
        return;
    }
    if (can_take) {
        pthread_mutex_lock(&link->lock);
        bool queued = link->queue_count > 0;
        link->poll_wake = !queued;
        pthread_mutex_unlock(&link->lock);
        if (queued) return;
    }
    /* Round up so that a retry due in 0.3 ms does not spin through zero timeouts. */
    int timeout_ms = (int)((timeout_ns + 999999ull) / 1000000ull);
    curl_multi_poll(link->multi, NULL, 0, timeout_ms, NULL);
    if (can_take) {
        pthread_mutex_lock(&link->lock);
        link->poll_wake = false;
        pthread_mutex_unlock(&link->lock);
    }
}

static void *link_main(void *argument)
{
    sender_link *link = argument;
    while (!link_stopping(link)) {
        link_pump(link);
        link_start_due(link);
        link_request *request = link_retrying(link) ? NULL : link_free_request(link);
        if (request != NULL && !link_may_start(link)) request = NULL;
        if (request != NULL && link_take(link)) {
            link_fill(link, request);
            continue;
        }
        link_wait(link, request != NULL);
    }
    /* Closing: abort what is in flight; the core resends after a restart. */
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        link_request *request = &link->requests[i];
        if (request->state == REQUEST_RUNNING) curl_multi_remove_handle(link->multi, request->curl);
        link_request_free(request);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Open, enqueue, stats, close                                                              */
/* ---------------------------------------------------------------------------------------- */

cor_wire_node cor_node_wire_self(const cor_node_config *config)
{
    cor_wire_node self;
    memset(&self, 0, sizeof(self));
    size_t length = strnlen(config->name, sizeof(self.name) - 1); /* checked: a wire name */
    memcpy(self.name, config->name, length);
    snprintf(self.bic, sizeof(self.bic), "%s", config->bic);
    memcpy(self.currency, config->currency, sizeof(self.currency));
    self.node_id = config->node_id;
    self.ledger = config->currency_numeric;
    return self;
}

cor_wire_node cor_node_wire_peer(const cor_node_peer_config *peer)
{
    cor_wire_node node;
    memset(&node, 0, sizeof(node));
    snprintf(node.name, sizeof(node.name), "%s", peer->name);
    snprintf(node.bic, sizeof(node.bic), "%s", peer->bic);
    memcpy(node.currency, peer->currency, sizeof(node.currency));
    node.node_id = peer->node_id;
    node.ledger = peer->currency_numeric;
    node.key_count = 1;
    node.keys[0].key_id = peer->key_id;
    memcpy(node.keys[0].public_key, peer->public_key, sizeof(node.keys[0].public_key));
    return node;
}

static cor_error link_request_open(sender_link *link, link_request *request)
{
    request->link = link;
    request->body = cor_alloc(COR_NODE_PEER_BODY_SIZE_MAX);
    if (request->body == NULL) return COR_ERR_NOMEM;
    request->curl = curl_easy_init();
    if (request->curl == NULL) return COR_ERR_IO;
    CURL *curl = request->curl;
    curl_easy_setopt(curl, CURLOPT_URL, link->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, link->headers);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, link_answer_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, request);
    link_request_free(request);
    return COR_OK;
}

static cor_error link_open(cor_node_sender *sender, sender_link *link,
                           const cor_node_sender_options *options, const cor_node_peer_config *peer)
{
    link->sender = sender;
    link->peer = *peer;
    snprintf(link->url, sizeof(link->url), "%s%s", peer->url, COR_NODE_PEER_PATH);
    cor_wire_node node = cor_node_wire_peer(peer);
    cor_wire_options wire_options;
    memset(&wire_options, 0, sizeof(wire_options));
    wire_options.self = cor_node_wire_self(options->config);
    wire_options.self_key_id = options->config->key_id;
    memcpy(wire_options.self_secret_key, options->secret_key, COR_WIRE_SECRET_KEY_SIZE);
    wire_options.peers = &node;
    wire_options.peer_count = 1;
    wire_options.replay_window_ns = 120ull * 1000000000ull; /* unused: the sender never decodes */
    wire_options.clock_skew_ns = 5ull * 1000000000ull;
    cor_error rc = cor_wire_open(&wire_options, &link->wire);
    memset(wire_options.self_secret_key, 0, sizeof(wire_options.self_secret_key));
    if (rc != COR_OK) return rc;

    link->queue = cor_calloc(sender->queue_max, sizeof(cor_xb_message));
    link->batch = cor_calloc(COR_NODE_PEER_BATCH_MAX, sizeof(cor_xb_message));
    if (link->queue == NULL || link->batch == NULL) return COR_ERR_NOMEM;

    link->multi = curl_multi_init();
    link->headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    struct curl_slist *more = link->headers ? curl_slist_append(link->headers, "Expect:") : NULL;
    if (link->multi == NULL || more == NULL) return COR_ERR_IO;
    link->headers = more;
    /* One keep-alive connection per request slot; no HTTP/1.1 pipelining or multiplexing:
     * each request in flight has a connection of its own. */
    curl_multi_setopt(link->multi, CURLMOPT_MAXCONNECTS, (long)COR_NODE_PEER_INFLIGHT_MAX);
    curl_multi_setopt(link->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        rc = link_request_open(link, &link->requests[i]);
        if (rc != COR_OK) return rc;
    }

    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_mutex_init(&link->lock, NULL);
    pthread_cond_init(&link->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    link->sync_ready = true;
    return COR_OK;
}

/* After the link's thread ended (it removed its transfers from the multi handle). */
static void link_release(sender_link *link)
{
    cor_wire_close(link->wire);
    for (uint32_t i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++) {
        link_request *request = &link->requests[i];
        COR_ASSERT(request->state != REQUEST_RUNNING);
        if (request->curl != NULL) curl_easy_cleanup(request->curl);
        cor_free(request->body);
    }
    if (link->multi != NULL) curl_multi_cleanup(link->multi);
    curl_slist_free_all(link->headers);
    cor_free(link->queue);
    cor_free(link->batch);
    if (link->sync_ready) {
        pthread_mutex_destroy(&link->lock);
        pthread_cond_destroy(&link->wake);
    }
}

cor_error cor_node_sender_open(const cor_node_sender_options *options, cor_node_sender **out)
{
    COR_ASSERT(options != NULL);
    COR_ASSERT(out != NULL);
    *out = NULL;
    const cor_node_config *config = options->config;
    if (config == NULL || options->secret_key == NULL || options->queue_messages_max == 0 ||
        options->queue_messages_max > COR_NODE_PEER_QUEUE_MAX ||
        config->peer_count > COR_WIRE_PEERS_MAX ||
        (config->peer_count > 0 && !cor_node_config_wire_name_valid(config->name))) {
        return COR_ERR_INVALID;
    }
    pthread_once(&sender_curl_once, sender_curl_init);
    if (!sender_curl_ok) return COR_ERR_IO;
    cor_node_sender *sender = cor_calloc(1, sizeof(*sender));
    if (sender == NULL) return COR_ERR_NOMEM;
    atomic_init(&sender->stopping, false);
    atomic_init(&sender->unroutable, 0);
    sender->queue_max = options->queue_messages_max;
    sender->pipeline_min =
        options->pipeline_min != 0 ? options->pipeline_min : COR_NODE_PEER_PIPELINE_MIN;
    sender->encode = options->encode != NULL ? options->encode : sender_default_encode;
    sender->encode_batch = options->encode_batch;
    sender->encode_context = options->encode_context;
    cor_error rc = COR_OK;
    if (config->peer_count > 0) {
        sender->links = cor_calloc(config->peer_count, sizeof(sender_link));
        if (sender->links == NULL) {
            rc = COR_ERR_NOMEM;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < config->peer_count; i++) {
        sender->link_count = i + 1;
        rc = link_open(sender, &sender->links[i], options, &config->peers[i]);
        if (rc != COR_OK) goto fail;
    }
    for (uint32_t i = 0; i < sender->link_count; i++) {
        sender_link *link = &sender->links[i];
        if (pthread_create(&link->thread, NULL, link_main, link) != 0) {
            rc = COR_ERR_IO;
            goto fail;
        }
        link->thread_started = true;
    }
    *out = sender;
    return COR_OK;

fail:
    cor_node_sender_close(sender);
    return rc;
}

static sender_link *sender_link_of(cor_node_sender *sender, uint32_t node_id)
{
    for (uint32_t i = 0; i < sender->link_count; i++) {
        if (sender->links[i].peer.node_id == node_id) return &sender->links[i];
    }
    return NULL;
}

void cor_node_sender_enqueue(cor_node_sender *sender, const cor_xb_message *messages,
                             uint32_t count)
{
    COR_ASSERT(sender != NULL);
    COR_ASSERT(count == 0 || messages != NULL);
    sender_link *locked = NULL;
    uint32_t added = 0;
    for (uint32_t i = 0; i <= count; i++) {
        sender_link *link = i < count ? sender_link_of(sender, messages[i].to_node) : NULL;
        if (link != locked && locked != NULL) {
            bool wake_multi = added > 0 && locked->poll_wake;
            if (wake_multi) locked->poll_wake = false;
            if (added > 0) pthread_cond_signal(&locked->wake);
            pthread_mutex_unlock(&locked->lock);
            /* The thread waits on its transfers with a request slot free: wake it there. */
            if (wake_multi) curl_multi_wakeup(locked->multi);
            locked = NULL;
        }
        if (i == count) break;
        if (link == NULL) {
            atomic_fetch_add_explicit(&sender->unroutable, 1, memory_order_relaxed);
            continue;
        }
        if (locked == NULL) {
            pthread_mutex_lock(&link->lock);
            locked = link;
            added = 0;
        }
        if (link->queue_count == sender->queue_max) {
            link->stats.dropped++;
            continue;
        }
        uint32_t tail = (link->queue_head + link->queue_count) % sender->queue_max;
        link->queue[tail] = messages[i];
        link->queue_count++;
        added++;
    }
    COR_ASSERT(locked == NULL);
}

bool cor_node_sender_link(cor_node_sender *sender, uint32_t node_id, cor_node_link_stats *out)
{
    COR_ASSERT(sender != NULL);
    sender_link *link = sender_link_of(sender, node_id);
    if (link == NULL) return false;
    pthread_mutex_lock(&link->lock);
    *out = link->stats;
    out->queued = link->queue_count;
    pthread_mutex_unlock(&link->lock);
    return true;
}

uint64_t cor_node_sender_unroutable(cor_node_sender *sender)
{
    COR_ASSERT(sender != NULL);
    return atomic_load_explicit(&sender->unroutable, memory_order_relaxed);
}

void cor_node_sender_close(cor_node_sender *sender)
{
    if (sender == NULL) return;
    atomic_store_explicit(&sender->stopping, true, memory_order_release);
    for (uint32_t i = 0; i < sender->link_count; i++) {
        sender_link *link = &sender->links[i];
        if (!link->thread_started) continue;
        pthread_mutex_lock(&link->lock);
        pthread_cond_broadcast(&link->wake);
        pthread_mutex_unlock(&link->lock);
        curl_multi_wakeup(link->multi);
    }
    for (uint32_t i = 0; i < sender->link_count; i++) {
        sender_link *link = &sender->links[i];
        if (link->thread_started) pthread_join(link->thread, NULL);
        link_release(link);
    }
    cor_free(sender->links);
    cor_free(sender);
}
