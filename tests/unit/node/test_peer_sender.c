/*
 * The outbound peer link (src/node/peer.c) against a real HTTP receiver on loopback
 * (libmicrohttpd, started here): real protocol messages from two cross-border cores
 * (tests/support/xb_world) are enqueued, sent, and decoded on the receiving side with the
 * peer's own cor_wire and key pair. The receiver can answer 503, 400 or drop the
 * connection, and hold its answers until the test lets them go (one thread per connection,
 * so it sees how many requests are in flight at once); a bare listening socket that never
 * answers stands for a hung peer.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../support/xb_world.h"
#include "common/alloc.h"
#include "node/peer.h"

#define NS           1000000000ull
#define MESSAGES_MAX 320u
#define REQUESTS_MAX 64u
#define RX_BODY_MAX  (16u * 1024u * 1024u)
#define WAIT_STEPS   5000 /* 1 ms each: every wait is bounded by 5 s */
#define ANSWER_DROP  0    /* scripted answer: close the connection without a response */

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* ---- the receiver --------------------------------------------------------------------------- */

typedef struct rx_request {
    uint8_t *body;
    size_t size;
    unsigned answered; /* status, or ANSWER_DROP */
    char path[64];
    char content_type[64];
} rx_request;

typedef struct receiver {
    struct MHD_Daemon *daemon;
    unsigned port;
    pthread_mutex_t lock;
    unsigned script[32]; /* answers for the next requests, then 200 */
    unsigned script_count;
    unsigned script_next;
    rx_request requests[REQUESTS_MAX];
    unsigned request_count;
    unsigned connections;
    unsigned active;     /* requests begun and not completed */
    unsigned active_max; /* the most at once */
    atomic_bool hold;    /* answers wait (at most 10 s) while set */
} receiver;

typedef struct rx_upload {
    uint8_t *body;
    size_t size;
    bool too_large;
} rx_upload;

static receiver rx;

static enum MHD_Result rx_handler(void *context, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)version;
    receiver *r = context;
    rx_upload *upload = *state;
    if (upload == NULL) {
        upload = cor_calloc(1, sizeof(*upload));
        cr_assert_not_null(upload);
        upload->body = cor_alloc(RX_BODY_MAX);
        cr_assert_not_null(upload->body);
        *state = upload;
        pthread_mutex_lock(&r->lock);
        r->active++;
        if (r->active > r->active_max) r->active_max = r->active;
        pthread_mutex_unlock(&r->lock);
        return MHD_YES;
    }
    if (*data_size > 0) {
        if (upload->size + *data_size > RX_BODY_MAX) {
            upload->too_large = true;
        } else {
            memcpy(upload->body + upload->size, data, *data_size);
            upload->size += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&r->lock);
    unsigned answer = r->script_next < r->script_count ? r->script[r->script_next++] : 200;
    if (r->request_count < REQUESTS_MAX) {
        rx_request *request = &r->requests[r->request_count];
        request->body = cor_alloc(upload->size + 1);
        cr_assert_not_null(request->body);
        memcpy(request->body, upload->body, upload->size);
        request->size = upload->size;
        request->answered = answer;
        snprintf(request->path, sizeof(request->path), "%s %s", method, url);
        const char *type =
            MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        snprintf(request->content_type, sizeof(request->content_type), "%s", type ? type : "");
    }
    r->request_count++;
    pthread_mutex_unlock(&r->lock);
    /* Longer than the test's own waits, so that those fail first; teardown lets go. */
    for (int step = 0; step < 2 * WAIT_STEPS && atomic_load(&r->hold); step++)
        sleep_ms(1);
    if (upload->too_large || answer == ANSWER_DROP) return MHD_NO;
    const char *text = answer == 400 ? "{\"error\":\"bad envelope\"}" : "{}";
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result result = MHD_queue_response(connection, answer, response);
    MHD_destroy_response(response);
    return result;
}

static void rx_completed(void *context, struct MHD_Connection *connection, void **state,
                         enum MHD_RequestTerminationCode code)
{
    (void)connection, (void)code;
    receiver *r = context;
    rx_upload *upload = *state;
    if (upload == NULL) return;
    pthread_mutex_lock(&r->lock);
    r->active--;
    pthread_mutex_unlock(&r->lock);
    cor_free(upload->body);
    cor_free(upload);
    *state = NULL;
}

static void rx_connection(void *context, struct MHD_Connection *connection, void **socket_state,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)connection, (void)socket_state;
    receiver *r = context;
    if (code != MHD_CONNECTION_NOTIFY_STARTED) return;
    pthread_mutex_lock(&r->lock);
    r->connections++;
    pthread_mutex_unlock(&r->lock);
}

static void rx_start(void)
{
    memset(&rx, 0, sizeof(rx));
    pthread_mutex_init(&rx.lock, NULL);
    atomic_init(&rx.hold, false);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rx.daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                                 NULL, NULL, rx_handler, &rx, MHD_OPTION_SOCK_ADDR, &address,
                                 MHD_OPTION_NOTIFY_COMPLETED, rx_completed, &rx,
                                 MHD_OPTION_NOTIFY_CONNECTION, rx_connection, &rx, MHD_OPTION_END);
    cr_assert_not_null(rx.daemon);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(rx.daemon, MHD_DAEMON_INFO_BIND_PORT);
    cr_assert_not_null(info);
    rx.port = info->port;
    cr_assert_neq(rx.port, 0);
}

static void rx_stop(void)
{
    if (rx.daemon != NULL) MHD_stop_daemon(rx.daemon);
    rx.daemon = NULL;
    for (unsigned i = 0; i < rx.request_count && i < REQUESTS_MAX; i++) {
        cor_free(rx.requests[i].body);
    }
    pthread_mutex_destroy(&rx.lock);
}

static void rx_script(const unsigned *answers, unsigned count)
{
    pthread_mutex_lock(&rx.lock);
    memcpy(rx.script, answers, count * sizeof(answers[0]));
    rx.script_count = count;
    rx.script_next = 0;
    pthread_mutex_unlock(&rx.lock);
}

static unsigned rx_requests(void)
{
    pthread_mutex_lock(&rx.lock);
    unsigned count = rx.request_count;
    pthread_mutex_unlock(&rx.lock);
    return count;
}

static unsigned rx_active(void)
{
    pthread_mutex_lock(&rx.lock);
    unsigned active = rx.active;
    pthread_mutex_unlock(&rx.lock);
    return active;
}

/* Waits (bounded) until at least `want` requests are in the receiver at once. At most 2 s:
 * well within the sender's 5 s request timeout, whose retry would be one more request. */
static void rx_wait_active(unsigned want)
{
    for (int step = 0; step < 2000 && rx_active() < want; step++)
        sleep_ms(1);
    cr_assert_geq(rx_active(), want, "%u requests in flight, want %u", rx_active(), want);
}

/* ---- the two nodes -------------------------------------------------------------------------- */

static xbw_world world;
static uint64_t rng = 77;
static uint8_t ru_public[COR_WIRE_PUBLIC_KEY_SIZE], ru_secret[COR_WIRE_SECRET_KEY_SIZE];
static uint8_t ir_public[COR_WIRE_PUBLIC_KEY_SIZE], ir_secret[COR_WIRE_SECRET_KEY_SIZE];
static cor_wire *ir_wire; /* the receiving node's view: decodes what RU sends */
static cor_node_config config;
static cor_xb_message messages[MESSAGES_MAX];
static uint32_t message_count;
static cor_node_sender *sender;

static cor_wire_node wire_node(const char *name, const char *bic, const char *currency,
                               uint32_t node_id, uint32_t ledger)
{
    cor_wire_node node;
    memset(&node, 0, sizeof(node));
    snprintf(node.name, sizeof(node.name), "%s", name);
    snprintf(node.bic, sizeof(node.bic), "%s", bic);
    snprintf(node.currency, sizeof(node.currency), "%s", currency);
    node.node_id = node_id;
    node.ledger = ledger;
    return node;
}

/* RU (node 1, RUB) sends to IR (node 2, IRR) at url. */
static void config_for(const char *url)
{
    memset(&config, 0, sizeof(config));
    snprintf(config.name, sizeof(config.name), "RU");
    snprintf(config.currency, sizeof(config.currency), "RUB");
    config.currency_numeric = 643;
    config.node_id = 1;
    config.key_id = 1;
    snprintf(config.bic, sizeof(config.bic), "CRDRRUXX");
    config.peer_count = 1;
    cor_node_peer_config *peer = &config.peers[0];
    snprintf(peer->name, sizeof(peer->name), "IR");
    snprintf(peer->currency, sizeof(peer->currency), "IRR");
    peer->currency_numeric = 364;
    peer->node_id = 2;
    snprintf(peer->bic, sizeof(peer->bic), "CRDRIRXX");
    snprintf(peer->url, sizeof(peer->url), "%s", url);
    memcpy(peer->public_key, ir_public, sizeof(ir_public));
    peer->key_id = 1;
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, 0x21, sizeof(seed));
    crypto_sign_seed_keypair(ru_public, ru_secret, seed);
    memset(seed, 0x42, sizeof(seed));
    crypto_sign_seed_keypair(ir_public, ir_secret, seed);

    cor_wire_node ru = wire_node("RU", "CRDRRUXX", "RUB", 1, 643);
    ru.key_count = 1;
    ru.keys[0].key_id = 1;
    memcpy(ru.keys[0].public_key, ru_public, sizeof(ru_public));
    cor_wire_options options = {.self = wire_node("IR", "CRDRIRXX", "IRR", 2, 364),
                                .self_key_id = 1,
                                .peers = &ru,
                                .peer_count = 1,
                                .replay_window_ns = 120 * NS,
                                .clock_skew_ns = 5 * NS};
    memcpy(options.self_secret_key, ir_secret, sizeof(ir_secret));
    cr_assert_eq(cor_wire_open(&options, &ir_wire), COR_OK);

    /* Real pacs.008s from the RU core to the IR core. */
    xbw_config world_config;
    xbw_config_default(&world_config);
    xbw_open(&world, &world_config, 1 * NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 1500, 3, 1 * NS), COR_XB_OK);
    for (uint32_t i = 0; i < MESSAGES_MAX; i++) {
        cor_xb_quote_request request = {
            .amount = 1000 + i, .requester = 11, .peer_node = 2, .fixed = COR_XB_FIXED_SOURCE};
        cor_xb_quote quote;
        uint32_t count = 0, reason = 0;
        cr_assert_eq(
            cor_xb_quote_issue(world.nodes[0].xb, 2 * NS, &request, &quote, 1, &count, &reason),
            COR_OK);
        cr_assert_eq(reason, COR_XB_OK);
        cor_xb_payment_request payment = {.uetr = xbw_uetr(&rng),
                                          .quote_id = quote.id,
                                          .debtor_account = xbw_account_bank(0, 0),
                                          .creditor_account = xbw_account_bank(1, 1),
                                          .requester = 11};
        cr_assert_eq(cor_xb_payment_initiate(world.nodes[0].xb, 2 * NS, &payment, &reason), COR_OK);
        cr_assert_eq(reason, COR_XB_OK);
        xbw_collect(&world, 0);
    }
    message_count = xbw_fsync(&world, 0, messages, MESSAGES_MAX);
    cr_assert_eq(message_count, MESSAGES_MAX);
    for (uint32_t i = 0; i < message_count; i++) {
        cr_assert_eq(messages[i].to_node, 2);
    }
    rx_start();
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", rx.port);
    config_for(url);
    sender = NULL;
}

static void teardown(void)
{
    cor_node_sender_close(sender);
    sender = NULL;
    atomic_store(&rx.hold, false);
    rx_stop();
    cor_wire_close(ir_wire);
    ir_wire = NULL;
    xbw_close(&world);
}

TestSuite(node_peer_sender, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------------ */

/* The backlog that starts another request while one is in flight: the tests below open
 * senders that overlap whenever a slot is free (1), except where they set it. */
static uint32_t pipeline_min = 1;

static void open_sender(uint32_t queue_max, cor_node_encode_fn encode, void *context)
{
    cor_node_sender_options options = {.config = &config,
                                       .secret_key = ru_secret,
                                       .encode = encode,
                                       .encode_context = context,
                                       .queue_messages_max = queue_max,
                                       .pipeline_min = pipeline_min};
    cr_assert_eq(cor_node_sender_open(&options, &sender), COR_OK);
}

static cor_node_link_stats link_stats(void)
{
    cor_node_link_stats stats;
    cr_assert(cor_node_sender_link(sender, 2, &stats));
    return stats;
}

/* Waits (bounded) until the link has recorded a failed attempt; its stats then. */
static cor_node_link_stats wait_first_error(void)
{
    cor_node_link_stats stats = link_stats();
    for (int step = 0; step < WAIT_STEPS && stats.last_error_ns == 0; step++) {
        sleep_ms(1);
        stats = link_stats();
    }
    cr_assert_neq(stats.last_error_ns, 0);
    return stats;
}

/* Waits (bounded) until the link has settled `settled` envelopes as sent + failed. */
static cor_node_link_stats wait_settled(uint64_t settled)
{
    cor_node_link_stats stats = link_stats();
    for (int step = 0; step < WAIT_STEPS && stats.sent + stats.failed < settled; step++) {
        sleep_ms(1);
        stats = link_stats();
    }
    cr_assert_eq(stats.sent + stats.failed, settled, "sent %llu failed %llu, want %llu",
                 (unsigned long long)stats.sent, (unsigned long long)stats.failed,
                 (unsigned long long)settled);
    return stats;
}

/* The size of the envelope at `at` in request's body, as its header says (bytes 68..71);
 * fails the test when the header or the envelope runs past the body. */
static size_t envelope_size_at(const rx_request *request, size_t at)
{
    cr_assert_geq(request->size - at, COR_WIRE_HEADER_SIZE_BYTES, "torn envelope");
    const uint8_t *header = request->body + at;
    size_t body = ((size_t)header[68] << 24) | ((size_t)header[69] << 16) |
                  ((size_t)header[70] << 8) | header[71];
    size_t size = COR_WIRE_HEADER_SIZE_BYTES + body + COR_WIRE_SIGNATURE_SIZE;
    cr_assert_leq(size, request->size - at, "envelope runs past the body");
    return size;
}

/* Splits request r's body into envelopes, decodes each at IR and checks that they are
 * messages[first ..] in order (indices mod message_count). Returns the envelope count. */
static uint32_t decode_request(unsigned r, uint32_t first)
{
    const rx_request *request = &rx.requests[r];
    cr_assert_str_eq(request->path, "POST /v1/peer/messages");
    cr_assert_str_eq(request->content_type, "application/octet-stream");
    cr_assert_leq(request->size, COR_NODE_PEER_BODY_SIZE_MAX);
    size_t at = 0;
    uint32_t count = 0;
    while (at < request->size) {
        const uint8_t *header = request->body + at;
        size_t size = envelope_size_at(request, at);
        const cor_xb_message *want = &messages[(first + count) % message_count];
        cor_xb_message got;
        cor_wire_refusal refusal;
        cor_error rc = cor_wire_decode(ir_wire, want->created_at, header, size, &got, &refusal);
        cr_assert_eq(rc, COR_OK, "envelope %u: %s", count, refusal.text);
        cr_assert(memcmp(&got, want, sizeof(got)) == 0, "envelope %u is not message %u", count,
                  (first + count) % message_count);
        at += size;
        count++;
    }
    cr_assert_leq(count, COR_NODE_PEER_BATCH_MAX);
    return count;
}

/* The index of got in messages[], or message_count when it is none of them. */
static uint32_t message_index(const cor_xb_message *got)
{
    for (uint32_t i = 0; i < message_count; i++) {
        if (memcmp(got, &messages[i], sizeof(*got)) == 0) return i;
    }
    return message_count;
}

/* Decodes every envelope of request r (single or batch) at IR, checks that its messages are
 * consecutive in messages[] (mod message_count) and adds one to counts[index] for each.
 * Returns the message count. For requests that may arrive in any order. */
static uint32_t decode_counting(unsigned r, uint32_t *counts)
{
    static cor_xb_message got[COR_WIRE_BATCH_MAX];
    const rx_request *request = &rx.requests[r];
    cr_assert_str_eq(request->path, "POST /v1/peer/messages");
    cr_assert_leq(request->size, COR_NODE_PEER_BODY_SIZE_MAX);
    size_t at = 0;
    uint32_t count = 0;
    uint32_t previous = message_count;
    while (at < request->size) {
        const uint8_t *header = request->body + at;
        size_t size = envelope_size_at(request, at);
        uint32_t got_count = 0;
        cor_wire_refusal refusal;
        cor_error rc = cor_wire_decode_batch(ir_wire, messages[0].created_at, header, size, got,
                                             NULL, COR_WIRE_BATCH_MAX, &got_count, &refusal);
        cr_assert_eq(rc, COR_OK, "request %u: %s", r, refusal.text);
        for (uint32_t k = 0; k < got_count; k++) {
            uint32_t index = message_index(&got[k]);
            cr_assert_lt(index, message_count, "request %u: an unknown message", r);
            if (previous < message_count) {
                cr_assert_eq(index, (previous + 1) % message_count, "request %u: out of order", r);
            }
            counts[index]++;
            previous = index;
            count++;
        }
        at += size;
    }
    return count;
}

/* Decodes every request the receiver got (in any order) into counts[message_count]. */
static uint32_t decode_all(uint32_t *counts)
{
    memset(counts, 0, message_count * sizeof(counts[0]));
    uint32_t total = 0;
    unsigned requests = rx_requests();
    cr_assert_leq(requests, REQUESTS_MAX);
    for (unsigned r = 0; r < requests; r++)
        total += decode_counting(r, counts);
    return total;
}

static cor_error batch_encode(void *context, const cor_wire *wire, const cor_xb_message *batch,
                              uint32_t count, uint8_t *out, size_t out_size_max, size_t *size_out)
{
    (void)context;
    return cor_wire_encode_batch(wire, batch, NULL, count, out, out_size_max, size_out);
}

static void open_batch_sender(void)
{
    cor_node_sender_options options = {.config = &config,
                                       .secret_key = ru_secret,
                                       .encode_batch = batch_encode,
                                       .queue_messages_max = 1024,
                                       .pipeline_min = pipeline_min};
    cr_assert_eq(cor_node_sender_open(&options, &sender), COR_OK);
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(node_peer_sender, one_message_arrives_and_decodes)
{
    open_sender(1024, NULL, NULL);
    cor_node_link_stats stats = link_stats();
    cr_assert(!stats.up && stats.sent == 0 && stats.last_ok_ns == 0);
    cor_node_sender_enqueue(sender, messages, 1);
    stats = wait_settled(1);
    cr_assert_eq(stats.sent, 1);
    cr_assert_eq(stats.batches, 1);
    cr_assert_eq(stats.failed, 0);
    cr_assert_eq(stats.queued, 0);
    cr_assert(stats.up);
    cr_assert_neq(stats.last_ok_ns, 0);
    cr_assert_eq(rx_requests(), 1);
    cr_assert_eq(decode_request(0, 0), 1);

    /* Later sends reuse the connection (keep-alive). */
    cor_node_sender_enqueue(sender, messages + 1, 1);
    wait_settled(2);
    cor_node_sender_enqueue(sender, messages + 2, 1);
    wait_settled(3);
    cr_assert_eq(rx_requests(), 3);
    cr_assert_eq(decode_request(1, 1), 1);
    cr_assert_eq(decode_request(2, 2), 1);
    pthread_mutex_lock(&rx.lock);
    cr_assert_eq(rx.connections, 1, "one connection for three requests");
    pthread_mutex_unlock(&rx.lock);
    cr_assert_eq(cor_node_sender_unroutable(sender), 0);
}

Test(node_peer_sender, one_enqueue_is_one_request_in_order)
{
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, message_count);
    cor_node_link_stats stats = wait_settled(message_count);
    cr_assert_eq(stats.sent, message_count);
    cr_assert_eq(stats.batches, 1, "%u messages enqueued at once go in one request", message_count);
    cr_assert_eq(rx_requests(), 1);
    cr_assert_eq(decode_request(0, 0), message_count);
}

Test(node_peer_sender, large_batches_split_by_size_and_count)
{
    /* 5,000 envelopes of about 2.4 KB: more than 4,096 and more than 8 MiB. */
    const uint32_t total = 5000;
    open_sender(8192, NULL, NULL);
    static cor_xb_message many[5000];
    for (uint32_t i = 0; i < total; i++)
        many[i] = messages[i % message_count];
    cor_node_sender_enqueue(sender, many, total);
    cor_node_link_stats stats = wait_settled(total);
    cr_assert_eq(stats.sent, total);
    cr_assert_eq(stats.failed, 0);
    unsigned requests = rx_requests();
    cr_assert_geq(requests, 2);
    cr_assert_eq(stats.batches, requests);
    /* Requests in flight at once may arrive in any order; each is a run of the stream. */
    static uint32_t counts[MESSAGES_MAX];
    memset(counts, 0, sizeof(counts));
    uint32_t decoded = 0;
    bool cut = false;
    for (unsigned r = 0; r < requests; r++) {
        uint32_t count = decode_counting(r, counts);
        /* Some request was cut by one of the two bounds, not earlier. */
        cut = cut || count == COR_NODE_PEER_BATCH_MAX ||
              rx.requests[r].size > COR_NODE_PEER_BODY_SIZE_MAX - 65536;
        decoded += count;
    }
    cr_assert(cut, "no request reached a bound");
    cr_assert_eq(decoded, total);
    for (uint32_t i = 0; i < message_count; i++) {
        cr_assert_eq(counts[i], total / message_count + (i < total % message_count),
                     "message %u arrived %u times", i, counts[i]);
    }
}

Test(node_peer_sender, retries_after_503_and_a_dropped_connection)
{
    unsigned answers[3] = {503, ANSWER_DROP, 503};
    rx_script(answers, 3);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 4);
    cor_node_link_stats stats = wait_settled(4);
    cr_assert_eq(stats.sent, 4);
    cr_assert_eq(stats.failed, 0);
    cr_assert_eq(stats.batches, 1);
    cr_assert(stats.up);
    cr_assert_neq(stats.last_error_ns, 0);
    cr_assert_str_eq(stats.last_error, "http 503");
    cr_assert_eq(rx_requests(), 4, "three refusals, then the delivery");
    for (unsigned r = 0; r < 4; r++) {
        cr_assert_eq(rx.requests[r].size, rx.requests[0].size, "the same batch each time");
        cr_assert(memcmp(rx.requests[r].body, rx.requests[0].body, rx.requests[0].size) == 0);
        cr_assert_eq(decode_request(r, 0), 4);
    }
}

Test(node_peer_sender, gives_up_after_the_retries)
{
    unsigned answers[1 + COR_NODE_PEER_RETRIES];
    for (unsigned i = 0; i < 1 + COR_NODE_PEER_RETRIES; i++)
        answers[i] = 502;
    rx_script(answers, 1 + COR_NODE_PEER_RETRIES);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 2);
    cor_node_link_stats stats = wait_settled(2);
    cr_assert_eq(stats.failed, 2, "dropped after 1 + %u attempts", COR_NODE_PEER_RETRIES);
    cr_assert_eq(stats.sent, 0);
    cr_assert(!stats.up);
    cr_assert_str_eq(stats.last_error, "http 502");
    cr_assert_eq(rx_requests(), 1 + COR_NODE_PEER_RETRIES);
    sleep_ms(50);
    cr_assert_eq(rx_requests(), 1 + COR_NODE_PEER_RETRIES, "no attempt after giving up");

    /* The script is used up: the next messages go through. */
    cor_node_sender_enqueue(sender, messages + 2, 1);
    stats = wait_settled(3);
    cr_assert_eq(stats.sent, 1);
    cr_assert(stats.up);
    cr_assert_eq(decode_request(1 + COR_NODE_PEER_RETRIES, 2), 1);
}

Test(node_peer_sender, a_400_is_dropped_without_retry)
{
    unsigned answers[1] = {400};
    rx_script(answers, 1);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 3);
    cor_node_link_stats stats = wait_settled(3);
    cr_assert_eq(stats.failed, 3);
    cr_assert_eq(stats.sent, 0);
    cr_assert_eq(stats.batches, 0);
    cr_assert(stats.up, "the peer answered: the link is up");
    cr_assert_str_eq(stats.last_error, "http 400");
    sleep_ms(50);
    cr_assert_eq(rx_requests(), 1, "no retry after a 4xx");

    /* The link keeps working for the next messages. */
    cor_node_sender_enqueue(sender, messages + 3, 1);
    stats = wait_settled(4);
    cr_assert_eq(stats.sent, 1);
    cr_assert_eq(decode_request(1, 3), 1);
}

/* Encode hook that blocks the link thread until released, to fill the queue. */
static atomic_bool encode_release;
static atomic_uint encode_calls;

static cor_error blocking_encode(void *context, const cor_wire *wire, const cor_xb_message *message,
                                 uint8_t *out, size_t out_size_max, size_t *size_out)
{
    cr_assert_eq(context, &encode_release);
    atomic_fetch_add(&encode_calls, 1);
    for (int step = 0; step < WAIT_STEPS && !atomic_load(&encode_release); step++)
        sleep_ms(1);
    return cor_wire_encode(wire, message, out, out_size_max, size_out);
}

Test(node_peer_sender, a_full_queue_drops_and_counts)
{
    atomic_store(&encode_release, false);
    atomic_store(&encode_calls, 0);
    open_sender(4, blocking_encode, &encode_release);
    cor_node_sender_enqueue(sender, messages, 1);
    for (int step = 0; step < WAIT_STEPS && atomic_load(&encode_calls) == 0; step++)
        sleep_ms(1);
    cr_assert_eq(atomic_load(&encode_calls), 1, "the link thread took the first message");
    cor_node_sender_enqueue(sender, messages + 1, 10);
    cor_node_link_stats stats = link_stats();
    cr_assert_eq(stats.queued, 4);
    cr_assert_eq(stats.dropped, 6);
    atomic_store(&encode_release, true);
    stats = wait_settled(5);
    cr_assert_eq(stats.sent, 5);
    cr_assert_eq(stats.dropped, 6);
    cr_assert_eq(stats.queued, 0);
    static uint32_t counts[MESSAGES_MAX];
    cr_assert_eq(decode_all(counts), 5);
    for (uint32_t i = 0; i < message_count; i++)
        cr_assert_eq(counts[i], i < 5 ? 1u : 0u, "the first five, once each");
}

static cor_error refusing_encode(void *context, const cor_wire *wire, const cor_xb_message *message,
                                 uint8_t *out, size_t out_size_max, size_t *size_out)
{
    (void)context, (void)wire, (void)out, (void)out_size_max;
    *size_out = 0;
    return message->amount_source % 2 == 0
               ? COR_ERR_INVALID
               : cor_wire_encode(wire, message, out, out_size_max, size_out);
}

Test(node_peer_sender, unroutable_and_unencodable_messages_are_counted)
{
    open_sender(1024, refusing_encode, NULL);
    cor_xb_message stray = messages[0];
    stray.to_node = 99;
    cor_node_sender_enqueue(sender, &stray, 1);
    cr_assert_eq(cor_node_sender_unroutable(sender), 1);
    cor_node_link_stats stats;
    cr_assert(!cor_node_sender_link(sender, 99, &stats));

    uint32_t even = 0;
    for (uint32_t i = 0; i < 10; i++)
        even += messages[i].amount_source % 2 == 0;
    cr_assert(even > 0 && even < 10);
    cor_node_sender_enqueue(sender, messages, 10);
    stats = wait_settled(10);
    cr_assert_eq(stats.failed, even);
    cr_assert_eq(stats.sent, 10 - even);
    cr_assert_eq(rx_requests(), 1);
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

Test(node_peer_sender, close_is_prompt_when_the_peer_is_down_or_hung)
{
    /* Down: nothing listens on the port (the receiver is stopped). */
    rx_stop();
    memset(&rx, 0, sizeof(rx));
    pthread_mutex_init(&rx.lock, NULL);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 1);
    cor_node_link_stats stats = wait_first_error();
    cr_assert(!stats.up);
    cr_assert_neq(stats.last_error[0], '\0');
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    cor_node_sender_close(sender);
    sender = NULL;
    /* The retries alone would take 2.55 s: close must not wait for them. */
    cr_assert_lt(seconds_since(&start), 1.0);

    /* Hung: a socket that listens but never accepts or answers (curl waits up to 5 s). */
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(listener, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = 0};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(listener, (struct sockaddr *)&address, sizeof(address)), 0);
    cr_assert_eq(listen(listener, 4), 0);
    socklen_t length = sizeof(address);
    cr_assert_eq(getsockname(listener, (struct sockaddr *)&address, &length), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(address.sin_port));
    config_for(url);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 1);
    sleep_ms(200); /* connected (the kernel's backlog accepts), request sent, no answer */
    stats = link_stats();
    cr_assert_eq(stats.sent + stats.failed, 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    cor_node_sender_close(sender);
    sender = NULL;
    cr_assert_lt(seconds_since(&start), 1.0, "close aborts a request in flight");
    close(listener);
}

Test(node_peer_sender, open_refuses_bad_options)
{
    cor_node_sender_options options = {
        .config = &config, .secret_key = ru_secret, .queue_messages_max = 0};
    cor_node_sender *bad = (cor_node_sender *)&options;
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_ERR_INVALID);
    cr_assert_null(bad);
    options.queue_messages_max = COR_NODE_PEER_QUEUE_MAX + 1;
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_ERR_INVALID);
    options.queue_messages_max = 16;
    options.secret_key = ir_secret; /* not the key pair of... any node: still a valid key */
    snprintf(config.name, sizeof(config.name), "central bank");
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_ERR_INVALID, "not a wire name");
    snprintf(config.name, sizeof(config.name), "RU");
    uint8_t broken[COR_WIRE_SECRET_KEY_SIZE];
    memcpy(broken, ru_secret, sizeof(broken));
    broken[40] ^= 1; /* public half no longer matches the seed */
    options.secret_key = broken;
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_ERR_INVALID);
    cr_assert_null(bad);
    config.peers[0].node_id = 1; /* the peer claims our own node id */
    options.secret_key = ru_secret;
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_ERR_INVALID);

    /* No peers: a sender with no links; everything is unroutable. */
    config.peer_count = 0;
    cr_assert_eq(cor_node_sender_open(&options, &bad), COR_OK);
    cor_node_sender_enqueue(bad, messages, 3);
    cr_assert_eq(cor_node_sender_unroutable(bad), 3);
    cor_node_sender_close(bad);
    cor_node_sender_close(NULL);
}

/* ---- requests in flight at once ------------------------------------------------------------- */

#define GROUP 10u /* messages per enqueue below */

/* While the receiver holds its answers, enqueues one group per request slot (each waits
 * until the receiver has the previous request) and then one more group. */
static void fill_the_slots_and_one_more(void)
{
    cr_assert_leq(GROUP * (COR_NODE_PEER_INFLIGHT_MAX + 1), message_count);
    atomic_store(&rx.hold, true);
    for (uint32_t g = 0; g < COR_NODE_PEER_INFLIGHT_MAX; g++) {
        cor_node_sender_enqueue(sender, messages + g * GROUP, GROUP);
        rx_wait_active(g + 1);
    }
    cor_node_sender_enqueue(sender, messages + COR_NODE_PEER_INFLIGHT_MAX * GROUP, GROUP);
}

static void requests_overlap(void)
{
    cr_assert_geq(COR_NODE_PEER_INFLIGHT_MAX, 2, "a link keeps more than one request in flight");
    const uint32_t groups = COR_NODE_PEER_INFLIGHT_MAX + 1;
    fill_the_slots_and_one_more();
    sleep_ms(100); /* time enough to start the last group, were a slot free */
    cor_node_link_stats stats = link_stats();
    cr_assert_eq(rx_active(), COR_NODE_PEER_INFLIGHT_MAX, "the bound of requests in flight");
    cr_assert_eq(rx_requests(), COR_NODE_PEER_INFLIGHT_MAX);
    cr_assert_eq(stats.queued, GROUP, "the last group waits in the queue for a free request");
    cr_assert_eq(stats.sent + stats.failed, 0);
    atomic_store(&rx.hold, false);

    stats = wait_settled(GROUP * groups);
    cr_assert_eq(stats.sent, GROUP * groups);
    cr_assert_eq(stats.failed, 0);
    cr_assert_eq(stats.batches, groups);
    cr_assert_eq(stats.queued, 0);
    cr_assert(stats.up);
    cr_assert_eq(rx_requests(), groups);
    static uint32_t counts[MESSAGES_MAX];
    cr_assert_eq(decode_all(counts), GROUP * groups);
    for (uint32_t i = 0; i < message_count; i++)
        cr_assert_eq(counts[i], i < GROUP * groups ? 1u : 0u, "message %u: %u times", i, counts[i]);
    pthread_mutex_lock(&rx.lock);
    unsigned active_max = rx.active_max, connections = rx.connections;
    pthread_mutex_unlock(&rx.lock);
    cr_assert_eq(active_max, COR_NODE_PEER_INFLIGHT_MAX);
    cr_assert_eq(connections, COR_NODE_PEER_INFLIGHT_MAX,
                 "one keep-alive connection per request slot, reused");
}

Test(node_peer_sender, requests_overlap_up_to_the_bound)
{
    open_sender(1024, NULL, NULL);
    requests_overlap();
}

Test(node_peer_sender, batch_envelopes_overlap_up_to_the_bound)
{
    open_batch_sender();
    requests_overlap();
}

/* Below the backlog threshold a second request waits for the first one's answer and then
 * carries everything that arrived meanwhile; at the threshold it starts at once. */
Test(node_peer_sender, a_small_backlog_waits_for_the_answer_a_large_one_overlaps)
{
    pipeline_min = 2 * GROUP;
    open_sender(1024, NULL, NULL);
    atomic_store(&rx.hold, true);
    cor_node_sender_enqueue(sender, messages, GROUP);
    rx_wait_active(1);
    cor_node_sender_enqueue(sender, messages + GROUP, GROUP); /* GROUP wait: below */
    sleep_ms(100); /* time enough to start it, were it allowed */
    cr_assert_eq(rx_active(), 1);
    cr_assert_eq(link_stats().queued, GROUP);
    cor_node_sender_enqueue(sender, messages + 2 * GROUP, GROUP); /* 2 * GROUP wait: at it */
    rx_wait_active(2);
    for (int step = 0; step < WAIT_STEPS && rx_requests() < 2; step++)
        sleep_ms(1); /* counted once its body is read */
    cr_assert_eq(rx_requests(), 2);
    cr_assert_eq(link_stats().queued, 0, "both groups went into the second request");
    atomic_store(&rx.hold, false);
    cor_node_link_stats stats = wait_settled(3 * GROUP);
    cr_assert_eq(stats.sent, 3 * GROUP);
    cr_assert_eq(stats.batches, 2);
    cr_assert_eq(rx_requests(), 2);

    /* the default threshold: a trickle goes one request at a time */
    cor_node_sender_close(sender);
    sender = NULL;
    pipeline_min = 0;
    open_sender(1024, NULL, NULL);
    unsigned requests_before = rx_requests();
    atomic_store(&rx.hold, true);
    cor_node_sender_enqueue(sender, messages, GROUP);
    rx_wait_active(1);
    for (uint32_t g = 1; g < 4; g++)
        cor_node_sender_enqueue(sender, messages + g * GROUP, GROUP);
    sleep_ms(100);
    cr_assert_eq(rx_active(), 1);
    cr_assert_eq(link_stats().queued, 3 * GROUP);
    atomic_store(&rx.hold, false);
    stats = wait_settled(4 * GROUP);
    cr_assert_eq(stats.sent, 4 * GROUP);
    cr_assert_eq(stats.batches, 2, "the trickle waited, then went as one request");
    cr_assert_eq(rx_requests() - requests_before, 2);
}

Test(node_peer_sender, a_retrying_request_holds_back_new_ones)
{
    unsigned answers[3] = {503, 503, 503};
    rx_script(answers, 3);
    open_sender(1024, NULL, NULL);
    cor_node_sender_enqueue(sender, messages, 4);
    cor_node_link_stats stats = wait_first_error();
    /* The first request is retrying (10 + 20 + 40 ms of backoff): a free slot does not start
     * the next messages until it is delivered. */
    cor_node_sender_enqueue(sender, messages + 4, 4);
    stats = wait_settled(8);
    cr_assert_eq(stats.sent, 8);
    cr_assert_eq(stats.failed, 0);
    cr_assert_eq(stats.batches, 2);
    cr_assert(stats.up);
    cr_assert_eq(rx_requests(), 5, "three refusals, the delivery, then the next request");
    for (unsigned r = 0; r < 4; r++)
        cr_assert_eq(decode_request(r, 0), 4);
    cr_assert_eq(decode_request(4, 4), 4);
}

Test(node_peer_sender, requests_in_flight_fail_then_recover)
{
    unsigned answers[COR_NODE_PEER_INFLIGHT_MAX];
    for (unsigned i = 0; i < COR_NODE_PEER_INFLIGHT_MAX; i++)
        answers[i] = 503;
    rx_script(answers, COR_NODE_PEER_INFLIGHT_MAX);
    open_sender(1024, NULL, NULL);
    atomic_store(&rx.hold, true);
    for (uint32_t g = 0; g < COR_NODE_PEER_INFLIGHT_MAX; g++) {
        cor_node_sender_enqueue(sender, messages + g * GROUP, GROUP);
        rx_wait_active(g + 1);
    }
    atomic_store(&rx.hold, false); /* every request in flight is refused 503, then retried */
    const uint32_t total = GROUP * COR_NODE_PEER_INFLIGHT_MAX;
    cor_node_link_stats stats = wait_settled(total);
    cr_assert_eq(stats.sent, total);
    cr_assert_eq(stats.failed, 0);
    cr_assert_eq(stats.batches, COR_NODE_PEER_INFLIGHT_MAX);
    cr_assert(stats.up);
    cr_assert_str_eq(stats.last_error, "http 503");
    cr_assert_eq(rx_requests(), 2 * COR_NODE_PEER_INFLIGHT_MAX);
    /* Each retry is one of the refused bodies, byte for byte; every message arrived once
     * refused and once delivered. */
    for (unsigned r = COR_NODE_PEER_INFLIGHT_MAX; r < 2 * COR_NODE_PEER_INFLIGHT_MAX; r++) {
        cr_assert_eq(rx.requests[r].answered, 200);
        bool same = false;
        for (unsigned q = 0; q < COR_NODE_PEER_INFLIGHT_MAX; q++) {
            same = same ||
                   (rx.requests[q].size == rx.requests[r].size &&
                    memcmp(rx.requests[q].body, rx.requests[r].body, rx.requests[r].size) == 0);
        }
        cr_assert(same, "request %u is a retry of a refused one", r);
    }
    static uint32_t counts[MESSAGES_MAX];
    cr_assert_eq(decode_all(counts), 2 * total);
    for (uint32_t i = 0; i < message_count; i++)
        cr_assert_eq(counts[i], i < total ? 2u : 0u, "message %u: %u times", i, counts[i]);
}

Test(node_peer_sender, requests_in_flight_give_up_and_count)
{
    enum { ATTEMPTS = 1 + COR_NODE_PEER_RETRIES };
    unsigned answers[COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS];
    _Static_assert(sizeof(answers) <= sizeof(rx.script), "the script holds every answer");
    for (unsigned i = 0; i < COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS; i++)
        answers[i] = 502;
    rx_script(answers, COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS);
    open_sender(1024, NULL, NULL);
    atomic_store(&rx.hold, true);
    for (uint32_t g = 0; g < COR_NODE_PEER_INFLIGHT_MAX; g++) {
        cor_node_sender_enqueue(sender, messages + g * GROUP, GROUP);
        rx_wait_active(g + 1);
    }
    atomic_store(&rx.hold, false);
    const uint32_t total = GROUP * COR_NODE_PEER_INFLIGHT_MAX;
    cor_node_link_stats stats = wait_settled(total); /* about 2.55 s of backoff */
    cr_assert_eq(stats.failed, total, "every request dropped after %u attempts", ATTEMPTS);
    cr_assert_eq(stats.sent, 0);
    cr_assert_eq(stats.batches, 0);
    cr_assert(!stats.up);
    cr_assert_str_eq(stats.last_error, "http 502");
    cr_assert_eq(rx_requests(), COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS);
    sleep_ms(50);
    cr_assert_eq(rx_requests(), COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS, "nothing after giving up");

    cor_node_sender_enqueue(sender, messages + total, 1);
    stats = wait_settled(total + 1);
    cr_assert_eq(stats.sent, 1);
    cr_assert(stats.up);
    cr_assert_eq(decode_request(COR_NODE_PEER_INFLIGHT_MAX * ATTEMPTS, total), 1);
}

Test(node_peer_sender, close_is_prompt_with_requests_in_flight)
{
    open_batch_sender();
    fill_the_slots_and_one_more();
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    cor_node_sender_close(sender);
    sender = NULL;
    cr_assert_lt(seconds_since(&start), 1.0, "close aborts every request in flight");
    atomic_store(&rx.hold, false);
    cr_assert_eq(rx_requests(), COR_NODE_PEER_INFLIGHT_MAX);
}
