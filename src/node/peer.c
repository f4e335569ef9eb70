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

#define LINK_ANSWER_SIZE_MAX 512u          /* bytes of a refusal's body kept for the log */
#define LINK_LOG_INTERVAL_NS 1000000000ull /* one log line per link per second at most */
#define LINK_POLL_MS         100           /* close notices within this, even mid-request */

typedef struct sender_link {
    struct cor_node_sender *sender;
    cor_node_peer_config peer;
    cor_wire *wire; /* used by this link's thread only */
    CURL *curl;
    CURLM *multi;
    struct curl_slist *headers;
    char url[COR_NODE_PEER_URL_SIZE_MAX + sizeof(COR_NODE_PEER_PATH)];

    pthread_mutex_t lock; /* guards the queue and stats */
    pthread_cond_t wake;
    cor_xb_message *queue; /* ring of queue_max */
    uint32_t queue_head;
    uint32_t queue_count;
    cor_node_link_stats stats; /* queued is filled on read */

    /* Link thread only. */
    cor_xb_message *batch; /* COR_NODE_PEER_BATCH_MAX messages taken from the queue */
    uint8_t *body;         /* COR_NODE_PEER_BODY_SIZE_MAX */
    char answer[LINK_ANSWER_SIZE_MAX];
    size_t answer_size;
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
    sender_link *link = user;
    size_t bytes = size * count;
    size_t room = sizeof(link->answer) - 1 - link->answer_size;
    size_t keep = bytes < room ? bytes : room;
    memcpy(link->answer + link->answer_size, data, keep);
    link->answer_size += keep;
    link->answer[link->answer_size] = '\0';
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

/* One HTTP exchange on the reused handle. Returns the status (0: transport error, with
 * error filled; -1: aborted by close). */
static long link_perform(sender_link *link, size_t body_size, char *error, size_t error_size)
{
    link->answer_size = 0;
    link->answer[0] = '\0';
    curl_easy_setopt(link->curl, CURLOPT_POSTFIELDS, (const char *)link->body);
    curl_easy_setopt(link->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_size);
    if (curl_multi_add_handle(link->multi, link->curl) != CURLM_OK) {
        snprintf(error, error_size, "curl_multi_add_handle failed");
        return 0;
    }
    long status = 0;
    bool done = false;
    /* Bounded: the handle's own 5 s timeout ends the transfer; close ends it sooner. */
    for (;;) {
        int running = 0;
        CURLMcode mrc = curl_multi_perform(link->multi, &running);
        if (mrc != CURLM_OK) {
            snprintf(error, error_size, "%s", curl_multi_strerror(mrc));
            break;
        }
        int queued = 0;
        CURLMsg *message;
        while ((message = curl_multi_info_read(link->multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            done = true;
            if (message->data.result == CURLE_OK) {
                curl_easy_getinfo(link->curl, CURLINFO_RESPONSE_CODE, &status);
            } else {
                snprintf(error, error_size, "%s", curl_easy_strerror(message->data.result));
            }
        }
        if (done || running == 0) break;
        if (link_stopping(link)) {
            status = -1;
            break;
        }
        curl_multi_poll(link->multi, NULL, 0, LINK_POLL_MS, NULL);
    }
    curl_multi_remove_handle(link->multi, link->curl);
    if (!done && status == 0 && error[0] == '\0') snprintf(error, error_size, "no answer");
    return status;
}

/* Waits delay_ns on the link's condition variable; false when close interrupted it. */
static bool link_sleep(sender_link *link, uint64_t delay_ns)
{
    uint64_t until = sender_now_ns(CLOCK_MONOTONIC) + delay_ns;
    struct timespec deadline = {.tv_sec = (time_t)(until / 1000000000ull),
                                .tv_nsec = (long)(until % 1000000000ull)};
    pthread_mutex_lock(&link->lock);
    while (!link_stopping(link) && sender_now_ns(CLOCK_MONOTONIC) < until) {
        pthread_cond_timedwait(&link->wake, &link->lock, &deadline);
    }
    pthread_mutex_unlock(&link->lock);
    return !link_stopping(link);
}

/* POSTs body[0..size) holding envelopes, retrying transport errors and 5xx. */
static void link_post(sender_link *link, size_t size, uint32_t envelopes)
{
    COR_ASSERT(envelopes > 0);
    COR_ASSERT(size > 0 && size <= COR_NODE_PEER_BODY_SIZE_MAX);
    uint64_t delay = COR_NODE_PEER_RETRY_FIRST_NS;
    char error[CURL_ERROR_SIZE + 32];
    for (uint32_t attempt = 0; attempt <= COR_NODE_PEER_RETRIES; attempt++) {
        if (attempt > 0) {
            if (!link_sleep(link, delay)) return;
            delay = delay * 2 > COR_NODE_PEER_RETRY_MAX_NS ? COR_NODE_PEER_RETRY_MAX_NS : delay * 2;
        }
        error[0] = '\0';
        long status = link_perform(link, size, error, sizeof(error));
        if (status < 0) return; /* closing: the core resends after a restart */
        if (status >= 200 && status < 300) {
            link_record(link, true, true, envelopes, "");
            return;
        }
        if (status >= 300 && status < 500) {
            snprintf(error, sizeof(error), "http %ld", status);
            link_record(link, false, true, envelopes, error);
            link_count_failed(link, envelopes);
            link_log(link, COR_LOG_WARN, "peer refused messages", link->answer, envelopes);
            return;
        }
        if (status >= 500) snprintf(error, sizeof(error), "http %ld", status);
        link_record(link, false, false, envelopes, error);
    }
    link_count_failed(link, envelopes);
    link_log(link, COR_LOG_WARN, "peer unreachable, messages dropped", error, envelopes);
}

/* Whether b may share a batch envelope with a (cor_wire_encode_batch: one type, and for
 * camt.029 one outcome). Messages of a link all go to one addressee. */
static bool link_same_kind(const cor_xb_message *a, const cor_xb_message *b)
{
    if (a->type != b->type || a->to_node != b->to_node) return false;
    return a->type != COR_XB_CAMT029 || a->cancel_status == b->cancel_status;
}

/* Encodes batch[0..count) as batch envelopes, runs of one kind each, into bodies and posts
 * each body; a run that does not fit the body's room goes first into a fresh body. */
static void link_send_batches(sender_link *link, uint32_t count)
{
    cor_node_sender *sender = link->sender;
    size_t size = 0;
    uint32_t messages = 0;
    uint32_t i = 0;
    while (i < count && !link_stopping(link)) {
        uint32_t run = 1;
        while (i + run < count && run < COR_WIRE_BATCH_MAX &&
               link_same_kind(&link->batch[i], &link->batch[i + run])) {
            run++;
        }
        size_t written = 0;
        cor_error rc =
            sender->encode_batch(sender->encode_context, link->wire, &link->batch[i], run,
                                 link->body + size, COR_NODE_PEER_BODY_SIZE_MAX - size, &written);
        if (rc == COR_ERR_LIMIT && size > 0) { /* the body is full: send it, then retry */
            link_post(link, size, messages);
            size = 0;
            messages = 0;
            continue;
        }
        if (rc != COR_OK || written == 0) {
            link_count_failed(link, run);
            link_log(link, COR_LOG_ERROR, "cannot encode messages for a peer", cor_error_name(rc),
                     run);
            i += run;
            continue;
        }
        size += written;
        messages += run;
        i += run;
    }
    if (messages > 0 && !link_stopping(link)) link_post(link, size, messages);
}

/* Encodes batch[0..count) into bodies and posts each. An envelope that does not fit what is
 * left of the body (COR_ERR_LIMIT) sends the body so far and goes first into the next one. */
static void link_send(sender_link *link, uint32_t count)
{
    if (link->sender->encode_batch != NULL) {
        link_send_batches(link, count);
        return;
    }
    cor_node_sender *sender = link->sender;
    size_t size = 0;
    uint32_t envelopes = 0;
    for (uint32_t i = 0; i < count && !link_stopping(link); i++) {
        size_t written = 0;
        cor_error rc =
            sender->encode(sender->encode_context, link->wire, &link->batch[i], link->body + size,
                           COR_NODE_PEER_BODY_SIZE_MAX - size, &written);
        if (rc == COR_ERR_LIMIT && envelopes > 0) {
            link_post(link, size, envelopes);
            size = 0;
            envelopes = 0;
            rc = sender->encode(sender->encode_context, link->wire, &link->batch[i], link->body,
                                COR_NODE_PEER_BODY_SIZE_MAX, &written);
        }
        if (rc != COR_OK || written == 0 || written > COR_NODE_PEER_BODY_SIZE_MAX - size) {
            link_count_failed(link, 1);
            link_log(link, COR_LOG_ERROR, "cannot encode a message for a peer", cor_error_name(rc),
                     1);
            continue;
        }
        size += written;
        envelopes++;
    }
    if (envelopes > 0 && !link_stopping(link)) link_post(link, size, envelopes);
}

static void *link_main(void *argument)
{
    sender_link *link = argument;
    uint32_t queue_max = link->sender->queue_max;
    for (;;) {
        pthread_mutex_lock(&link->lock);
        while (link->queue_count == 0 && !link_stopping(link)) {
            pthread_cond_wait(&link->wake, &link->lock);
        }
        if (link_stopping(link)) {
            pthread_mutex_unlock(&link->lock);
            return NULL;
        }
        uint32_t count = link->queue_count < COR_NODE_PEER_BATCH_MAX ? link->queue_count
                                                                     : COR_NODE_PEER_BATCH_MAX;
        for (uint32_t i = 0; i < count; i++) {
            link->batch[i] = link->queue[link->queue_head];
            link->queue_head = link->queue_head + 1 == queue_max ? 0 : link->queue_head + 1;
        }
        link->queue_count -= count;
        pthread_mutex_unlock(&link->lock);
        link_send(link, count);
    }
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
    link->body = cor_alloc(COR_NODE_PEER_BODY_SIZE_MAX);
    if (link->queue == NULL || link->batch == NULL || link->body == NULL) return COR_ERR_NOMEM;

    link->curl = curl_easy_init();
    link->multi = curl_multi_init();
    link->headers = curl_slist_append(NULL, "Content-Type: application/octet-stream");
    struct curl_slist *more = link->headers ? curl_slist_append(link->headers, "Expect:") : NULL;
    if (link->curl == NULL || link->multi == NULL || more == NULL) return COR_ERR_IO;
    link->headers = more;
    CURL *curl = link->curl;
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
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, link);
    curl_multi_setopt(link->multi, CURLMOPT_MAXCONNECTS, 1L);

    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_mutex_init(&link->lock, NULL);
    pthread_cond_init(&link->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    link->sync_ready = true;
    return COR_OK;
}

static void link_release(sender_link *link)
{
    cor_wire_close(link->wire);
    if (link->multi != NULL) curl_multi_cleanup(link->multi);
    if (link->curl != NULL) curl_easy_cleanup(link->curl);
    curl_slist_free_all(link->headers);
    cor_free(link->queue);
    cor_free(link->batch);
    cor_free(link->body);
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
            if (added > 0) pthread_cond_signal(&locked->wake);
            pthread_mutex_unlock(&locked->lock);
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
