/*
 * The corridor's HTTP routes (docs/API.md "Cross-border routes"): FX rates and quotes,
 * cross-border payments and their tracking, holds and the watch list, reconciliation, and
 * the peer route that receives signed protocol messages from other nodes.
 *
 * Like every write route, each one builds a command (node_state.h), submits it to the core
 * and answers once its batch is durable. The peer route is the one route without an API
 * key: each envelope's Ed25519 signature (verified here, on the HTTP thread, with a pooled
 * cor_wire) is the authentication, and the core's replay window and message-id dedup reject
 * replays. Screening runs here too, before the command: a hit sets COR_XB_RECEIVE_HOLD.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/log.h"
#include "node/server_internal.h"

#define XB_REFUSED_LISTED_MAX 64u /* refused envelopes listed in one peer answer */
#define XB_HOLDS_MAX          COR_NODE_QUERY_RESULTS_MAX
#define XB_WATCHLIST_FILE     "watchlist.csv"

typedef enum xb_render {
    XB_RENDER_FX = 1,
    XB_RENDER_RATE,
    XB_RENDER_QUOTES,
    XB_RENDER_PAYMENTS,
    XB_RENDER_ACTION,
    XB_RENDER_PEER,
} xb_render;

typedef struct xb_refused {
    uint32_t index;
    char code[48];
    char iso[5];
    char text[200];
    unsigned status;
} xb_refused;

struct http_xb {
    xb_render render;
    bool array;
    uint32_t count;
    cor_u128 uetr;
    uint32_t peer_node;
    cor_node_cmd_xb_fx fx;
    cor_xb_rate rate;
    cor_u128 *uetrs; /* [count]: the payments of a payments request */
    /* peer route */
    uint32_t *envelope_of; /* [count]: body index of the envelope each accepted message came in */
    uint32_t envelopes;
    uint32_t refused_count;
    xb_refused refused[XB_REFUSED_LISTED_MAX];
};

void http_xb_free(http_xb *xb)
{
    if (xb == NULL) return;
    cor_free(xb->uetrs);
    cor_free(xb->envelope_of);
    cor_free(xb);
}

static http_xb *xb_state(http_request *request)
{
    if (request->xb == NULL) request->xb = cor_calloc(1, sizeof(http_xb));
    return request->xb;
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                            */
/* ---------------------------------------------------------------------------------------- */

static uint64_t xb_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* "refused" codes are the reason names without COR_XB_, lower case. */
/* A code name such as "COR_XB_QUOTE_EXPIRED" as the API's code: without the prefix, lower case. */
static void xb_code_text(const char *name, const char *prefix, char *out, size_t size)
{
    size_t skip = strlen(prefix);
    if (strncmp(name, prefix, skip) == 0) name += skip;
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < size; i++) {
        char c = name[i];
        out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    out[i] = '\0';
}

static void xb_reason_code(uint32_t reason, char *out, size_t size)
{
    xb_code_text(cor_xb_reason_name(reason), "COR_XB_", out, size);
}

static void xb_render_error(cor_nbuf *out, const char *code, const char *message, const char *iso)
{
    cor_nbuf_str(out, "{\"code\":");
    cor_nbuf_json_string(out, code, strlen(code));
    cor_nbuf_str(out, ",\"message\":");
    cor_nbuf_json_string(out, message, strlen(message));
    cor_nbuf_str(out, ",\"field\":\"\",\"iso\":");
    cor_nbuf_json_string(out, iso, strlen(iso));
    cor_nbuf_str(out, "}");
}

static void xb_render_reason_error(cor_nbuf *out, uint32_t reason)
{
    char code[48];
    xb_reason_code(reason, code, sizeof(code));
    xb_render_error(out, code, cor_xb_reason_text(reason), cor_xb_reason_iso(reason));
}

static enum MHD_Result xb_respond_reason(http_request *request, uint32_t reason)
{
    cor_nbuf out;
    cor_nbuf_init(&out, 4096);
    cor_nbuf_str(&out, "{\"error\":");
    xb_render_reason_error(&out, reason);
    cor_nbuf_str(&out, "}");
    unsigned status = reason == COR_XB_BUSY ? 503 : reason == COR_XB_PAYMENT_UNKNOWN ? 404 : 422;
    return http_respond_json(request, status, &out);
}

static enum MHD_Result xb_respond_node_code(http_request *request, const cor_node_result *r)
{
    if (r->code == COR_NODE_XB_REFUSED) return xb_respond_reason(request, r->ledger);
    const char *code = cor_node_code_name(r->code);
    return http_respond_error(request, cor_node_code_http(r->code), code, "request refused");
}

static enum MHD_Result xb_nomem(http_request *request)
{
    return http_respond_error(request, 503, "busy", "out of memory, try again later");
}

static enum MHD_Result xb_fault(http_request *request, unsigned status, const char *code,
                                const char *field, const char *message)
{
    cor_node_fault fault;
    cor_node_fault_set(&fault, status, code, field, "%s", message);
    return http_respond_fault(request, &fault);
}

/* UETR text <-> the protocol's big-endian integer. */
static bool xb_uetr_parse(const char *text, cor_u128 *out)
{
    uint8_t bytes[16];
    if (!cor_node_uetr_parse(text, strlen(text), bytes)) return false;
    cor_u128 value = 0;
    for (int i = 0; i < 16; i++)
        value = (value << 8) | bytes[i];
    if (!cor_xb_uetr_valid(value)) return false;
    *out = value;
    return true;
}

static void xb_uetr_format(cor_u128 uetr, char out[37])
{
    uint8_t bytes[16];
    for (int i = 15; i >= 0; i--) {
        bytes[i] = (uint8_t)(uetr & 0xff);
        uetr >>= 8;
    }
    cor_node_uetr_format(bytes, out);
}

static void xb_render_uetr(cor_nbuf *out, cor_u128 uetr)
{
    char text[37];
    xb_uetr_format(uetr, text);
    cor_nbuf_json_string(out, text, strlen(text));
}

static void xb_render_u64(cor_nbuf *out, uint64_t value)
{
    cor_nbuf_json_u128(out, value);
}

/* The configured peer with this name or node id (decimal); NULL when none. */
static const cor_node_peer_config *xb_peer_lookup(const cor_node_server *server, const char *text)
{
    uint32_t node_id = 0;
    bool numeric = cor_node_parse_u32(text, &node_id);
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        const cor_node_peer_config *p = &server->config.peers[i];
        if (strcmp(p->name, text) == 0 || (numeric && p->node_id == node_id)) return p;
    }
    return NULL;
}

static const cor_node_peer_config *xb_peer_by_id(const cor_node_server *server, uint32_t node_id)
{
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        if (server->config.peers[i].node_id == node_id) return &server->config.peers[i];
    }
    return NULL;
}

static const char *xb_node_name(const cor_node_server *server, uint32_t node_id)
{
    if (node_id == server->config.node_id) return server->config.name;
    const cor_node_peer_config *p = xb_peer_by_id(server, node_id);
    return p != NULL ? p->name : "unknown";
}

static const char *xb_currency_of(const cor_node_server *server, uint32_t ledger)
{
    if (ledger == server->config.currency_numeric) return server->config.currency;
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        if (server->config.peers[i].currency_numeric == ledger) {
            return server->config.peers[i].currency;
        }
    }
    return "";
}

/* JSON field helpers: a decimal string (u128 or u64), an integer, or a short string. */
static bool xb_json_u128(json_t *object, const char *name, bool required, cor_u128 *out,
                         cor_node_fault *fault)
{
    json_t *value = json_object_get(object, name);
    if (value == NULL) {
        if (required) cor_node_fault_set(fault, 400, "missing_field", name, "%s is required", name);
        return !required;
    }
    if (!json_is_string(value) || !cor_node_parse_u128(json_string_value(value), out)) {
        cor_node_fault_set(fault, 400, "invalid_amount", name,
                           "%s must be a decimal string below 2^128", name);
        return false;
    }
    return true;
}

static bool xb_json_u64(json_t *object, const char *name, bool required, uint64_t *out,
                        cor_node_fault *fault)
{
    json_t *value = json_object_get(object, name);
    if (value == NULL) {
        if (required) cor_node_fault_set(fault, 400, "missing_field", name, "%s is required", name);
        return !required;
    }
    if (json_is_integer(value) && json_integer_value(value) >= 0) {
        *out = (uint64_t)json_integer_value(value);
        return true;
    }
    if (!json_is_string(value) || !cor_node_parse_u64(json_string_value(value), out)) {
        cor_node_fault_set(fault, 400, "invalid_value", name,
                           "%s must be a decimal string below 2^64", name);
        return false;
    }
    return true;
}

static bool xb_json_text(json_t *object, const char *name, bool required, size_t max,
                         const char **out, cor_node_fault *fault)
{
    json_t *value = json_object_get(object, name);
    *out = NULL;
    if (value == NULL) {
        if (required) cor_node_fault_set(fault, 400, "missing_field", name, "%s is required", name);
        return !required;
    }
    if (!json_is_string(value)) {
        cor_node_fault_set(fault, 400, "wrong_type", name, "%s must be a string", name);
        return false;
    }
    if (json_string_length(value) > max) {
        cor_node_fault_set(fault, 400, "string_too_long", name, "%s is longer than %zu bytes", name,
                           max);
        return false;
    }
    *out = json_string_value(value);
    return true;
}

static bool xb_json_known(json_t *object, const char *const *known, cor_node_fault *fault)
{
    if (!json_is_object(object)) {
        cor_node_fault_set(fault, 400, "wrong_type", "", "an object is expected");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value)
    {
        bool found = false;
        for (size_t i = 0; known[i] != NULL && !found; i++)
            found = strcmp(known[i], key) == 0;
        if (!found) {
            cor_node_fault_set(fault, 400, "unknown_field", key, "unknown field %s", key);
            return false;
        }
    }
    return true;
}

static bool xb_peer_field(const cor_node_server *server, json_t *object, uint32_t *node_out,
                          cor_node_fault *fault)
{
    const char *text = NULL;
    if (!xb_json_text(object, "peer", true, 32, &text, fault)) return false;
    const cor_node_peer_config *peer = xb_peer_lookup(server, text);
    if (peer == NULL) {
        cor_node_fault_set(fault, 404, "peer_not_found", "peer", "no peer named %s", text);
        return false;
    }
    *node_out = peer->node_id;
    return true;
}

static json_t *xb_json(http_request *request, enum MHD_Result *result)
{
    cor_node_fault fault;
    json_t *json = NULL;
    if (!cor_node_json_parse(request->body, request->body_size, &json, &fault)) {
        *result = http_respond_fault(request, &fault);
        return NULL;
    }
    return json;
}

static enum MHD_Result xb_submit_one(http_request *request, uint16_t type, const void *body,
                                     size_t size, xb_render render)
{
    http_xb *xb = xb_state(request);
    if (xb == NULL || !http_payload_reserve(request, sizeof(cor_node_command_header) + size + 16)) {
        return xb_nomem(request);
    }
    xb->render = render;
    http_payload_add(request, type, 1, body, size);
    request->pending = HTTP_PENDING_XB;
    return http_submit(request, 1);
}

static uint8_t xb_caller_role(http_request *request)
{
    cor_node_server *server = request->server;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p =
        cor_node_state_participant(server->state, request->who.participant);
    uint8_t role = p != NULL ? p->role : 0;
    pthread_rwlock_unlock(&server->state_lock);
    return role;
}

/* ---------------------------------------------------------------------------------------- */
/* Peers and FX                                                                             */
/* ---------------------------------------------------------------------------------------- */

static enum MHD_Result route_peers(http_request *request)
{
    cor_node_server *server = request->server;
    cor_nbuf out;
    cor_nbuf_init(&out, 1u << 20);
    cor_nbuf_printf(&out, "{\"node\":");
    cor_nbuf_json_string(&out, server->config.name, strlen(server->config.name));
    cor_nbuf_printf(&out, ",\"node_id\":\"%u\",\"currency\":\"%s\",\"peers\":[",
                    server->config.node_id, server->config.currency);
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        const cor_node_peer_config *p = &server->config.peers[i];
        cor_node_link_stats link = {0};
        bool known =
            server->sender != NULL && cor_node_sender_link(server->sender, p->node_id, &link);
        cor_nbuf_printf(&out, "%s{\"name\":", i ? "," : "");
        cor_nbuf_json_string(&out, p->name, strlen(p->name));
        cor_nbuf_printf(&out, ",\"node_id\":\"%u\",\"currency\":\"%s\",\"bic\":\"%s\",\"url\":",
                        p->node_id, p->currency, p->bic);
        cor_nbuf_json_string(&out, p->url, strlen(p->url));
        cor_nbuf_str(&out, ",\"payment_max_out\":");
        cor_nbuf_json_u128(&out, p->payment_max_out);
        cor_nbuf_str(&out, ",\"daily_max_out\":");
        cor_nbuf_json_u128(&out, p->daily_max_out);
        cor_nbuf_str(&out, ",\"payment_max_in\":");
        cor_nbuf_json_u128(&out, p->payment_max_in);
        cor_nbuf_str(&out, ",\"daily_max_in\":");
        cor_nbuf_json_u128(&out, p->daily_max_in);
        cor_nbuf_printf(&out,
                        ",\"link\":{\"up\":%s,\"sent\":\"%llu\",\"failed\":\"%llu\","
                        "\"dropped\":\"%llu\",\"queued\":%u,\"last_error\":",
                        known && link.up ? "true" : "false", (unsigned long long)link.sent,
                        (unsigned long long)link.failed, (unsigned long long)link.dropped,
                        link.queued);
        cor_nbuf_json_string(&out, link.last_error,
                             strnlen(link.last_error, sizeof(link.last_error)));
        cor_nbuf_str(&out, "}}");
    }
    cor_nbuf_str(&out, "]}");
    return http_respond_json(request, 200, &out);
}

static enum MHD_Result route_fx_map(http_request *request)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = xb_json(request, &result);
    if (json == NULL) return result;
    static const char *const known[] = {"fx_id", "participant", "peer", NULL};
    cor_node_fault fault = {0};
    cor_node_cmd_xb_fx cmd = {0};
    uint64_t participant = 0;
    bool ok = xb_json_known(json, known, &fault) &&
              xb_json_u64(json, "fx_id", true, &cmd.fx_id, &fault) &&
              xb_json_u64(json, "participant", true, &participant, &fault) &&
              xb_peer_field(request->server, json, &cmd.peer_node, &fault);
    json_decref(json);
    if (ok && (cmd.fx_id == 0 || participant == 0 || participant > UINT32_MAX)) {
        cor_node_fault_set(&fault, 400, "invalid_id", cmd.fx_id == 0 ? "fx_id" : "participant",
                           "ids are 1 or more");
        ok = false;
    }
    if (!ok) return http_respond_fault(request, &fault);
    cmd.participant = (uint32_t)participant;
    http_xb *xb = xb_state(request);
    if (xb == NULL) return xb_nomem(request);
    xb->fx = cmd;
    return xb_submit_one(request, COR_NODE_CMD_XB_FX, &cmd, sizeof(cmd), XB_RENDER_FX);
}

static enum MHD_Result finish_fx(http_request *request, const cor_node_result *r)
{
    if (r->code != COR_NODE_CREATED && r->code != COR_NODE_EXISTS) {
        return xb_respond_node_code(request, r);
    }
    const cor_node_cmd_xb_fx *fx = &request->xb->fx;
    cor_nbuf out;
    cor_nbuf_init(&out, 1024);
    cor_nbuf_printf(&out, "{\"fx_id\":\"%llu\",\"participant\":\"%u\",\"peer\":",
                    (unsigned long long)fx->fx_id, fx->participant);
    const char *peer = xb_node_name(request->server, fx->peer_node);
    cor_nbuf_json_string(&out, peer, strlen(peer));
    cor_nbuf_printf(&out, ",\"peer_node\":\"%u\",\"account_id\":", fx->peer_node);
    cor_nbuf_json_u128(&out, cor_node_settlement_id(fx->participant));
    cor_nbuf_str(&out, "}");
    return http_respond_json(request, r->code == COR_NODE_CREATED ? 201 : 200, &out);
}

static void render_rate(cor_nbuf *out, const cor_node_server *server, const cor_xb_rate *rate)
{
    const char *peer = xb_node_name(server, (uint32_t)rate->peer_node);
    cor_nbuf_printf(out, "{\"fx_id\":\"%llu\",\"peer\":", (unsigned long long)rate->fx_id);
    cor_nbuf_json_string(out, peer, strlen(peer));
    const cor_node_peer_config *p = xb_peer_by_id(server, (uint32_t)rate->peer_node);
    cor_nbuf_printf(out,
                    ",\"source_currency\":\"%s\",\"destination_currency\":\"%s\","
                    "\"rate_num\":\"%llu\",\"rate_den\":\"%llu\",\"spread_ppm\":%llu,\"fee\":",
                    server->config.currency, p != NULL ? p->currency : "",
                    (unsigned long long)rate->rate_num, (unsigned long long)rate->rate_den,
                    (unsigned long long)rate->spread_ppm);
    cor_nbuf_json_u128(out, rate->fee_source);
    cor_nbuf_str(out, ",\"amount_min\":");
    cor_nbuf_json_u128(out, rate->amount_min);
    cor_nbuf_str(out, ",\"amount_max\":");
    cor_nbuf_json_u128(out, rate->amount_max);
    cor_nbuf_str(out, ",\"valid_from\":");
    xb_render_u64(out, rate->valid_from);
    cor_nbuf_str(out, ",\"valid_until\":");
    xb_render_u64(out, rate->valid_until);
    cor_nbuf_str(out, "}");
}

static enum MHD_Result route_rate_publish(http_request *request)
{
    if (xb_caller_role(request) != COR_NODE_ROLE_FX_PROVIDER) {
        return http_respond_error(request, 403, "forbidden", "only fx providers publish rates");
    }
    enum MHD_Result result = MHD_NO;
    json_t *json = xb_json(request, &result);
    if (json == NULL) return result;
    static const char *const known[] = {"peer",       "rate_num",    "rate_den",   "spread_ppm",
                                        "fee",        "amount_min",  "amount_max", "valid_for_s",
                                        "valid_from", "valid_until", NULL};
    cor_node_fault fault = {0};
    cor_xb_rate rate = {0};
    uint32_t peer_node = 0;
    uint64_t valid_for = 0;
    uint64_t now = xb_now_ns();
    bool ok = xb_json_known(json, known, &fault) &&
              xb_peer_field(request->server, json, &peer_node, &fault) &&
              xb_json_u64(json, "rate_num", true, &rate.rate_num, &fault) &&
              xb_json_u64(json, "rate_den", true, &rate.rate_den, &fault) &&
              xb_json_u64(json, "spread_ppm", false, &rate.spread_ppm, &fault) &&
              xb_json_u128(json, "fee", false, &rate.fee_source, &fault) &&
              xb_json_u128(json, "amount_min", false, &rate.amount_min, &fault) &&
              xb_json_u128(json, "amount_max", false, &rate.amount_max, &fault) &&
              xb_json_u64(json, "valid_for_s", false, &valid_for, &fault) &&
              xb_json_u64(json, "valid_from", false, &rate.valid_from, &fault) &&
              xb_json_u64(json, "valid_until", false, &rate.valid_until, &fault);
    bool has_window = json_object_get(json, "valid_until") != NULL;
    json_decref(json);
    if (!ok) return http_respond_fault(request, &fault);
    if (rate.amount_min == 0) rate.amount_min = 1;
    if (rate.amount_max == 0) rate.amount_max = (cor_u128)1 << 100;
    if (!has_window) {
        if (valid_for == 0) valid_for = 3600;
        if (valid_for > 86400) {
            return xb_fault(request, 400, "invalid_value", "valid_for_s",
                            "valid_for_s is 1 .. 86400");
        }
        rate.valid_from = now;
        rate.valid_until = now + valid_for * 1000000000ull;
    } else if (rate.valid_from == 0) {
        rate.valid_from = now;
    }
    rate.peer_node = peer_node;
    http_xb *xb = xb_state(request);
    if (xb == NULL) return xb_nomem(request);
    xb->rate = rate;
    return xb_submit_one(request, COR_NODE_CMD_XB_RATE, &rate, sizeof(rate), XB_RENDER_RATE);
}

static enum MHD_Result finish_rate(http_request *request, const cor_node_result *r)
{
    if (r->code != COR_NODE_CREATED) {
        if (r->code == COR_NODE_NOT_FX_PROVIDER) {
            return http_respond_error(request, 422, "not_fx_provider",
                                      "the operator has not mapped this fx provider to the peer");
        }
        return xb_respond_node_code(request, r);
    }
    pthread_rwlock_rdlock(&request->server->state_lock);
    request->xb->rate.fx_id = cor_node_state_fx_of(request->server->state, request->who.participant,
                                                   (uint32_t)request->xb->rate.peer_node);
    pthread_rwlock_unlock(&request->server->state_lock);
    cor_nbuf out;
    cor_nbuf_init(&out, 2048);
    render_rate(&out, request->server, &request->xb->rate);
    return http_respond_json(request, 201, &out);
}

/* A JSON list rendered by a visitor of the protocol core's tables. */
typedef struct xb_list {
    cor_nbuf *out;
    const cor_node_server *server;
    uint32_t count;
} xb_list;

/* Renders {"<name>":[...]} from each(xb, visit, &list) under the state's read lock. */
static enum MHD_Result xb_list_respond(http_request *request, const char *name, size_t size_max,
                                       void (*each)(const cor_xb *xb, void *list))
{
    cor_nbuf out;
    cor_nbuf_init(&out, size_max);
    cor_nbuf_printf(&out, "{\"%s\":[", name);
    xb_list list = {.out = &out, .server = request->server};
    pthread_rwlock_rdlock(&request->server->state_lock);
    each(cor_node_state_xb(request->server->state), &list);
    pthread_rwlock_unlock(&request->server->state_lock);
    cor_nbuf_str(&out, "]}");
    return http_respond_json(request, 200, &out);
}

static bool rates_visit_one(void *context, const cor_xb_rate *rate)
{
    xb_list *v = context;
    if (v->count++ > 0) cor_nbuf_str(v->out, ",");
    render_rate(v->out, v->server, rate);
    return true;
}

static void rates_each(const cor_xb *xb, void *list)
{
    cor_xb_rates_each(xb, rates_visit_one, list);
}

static enum MHD_Result route_rates_list(http_request *request)
{
    return xb_list_respond(request, "rates", 4u << 20, rates_each);
}

/* ---------------------------------------------------------------------------------------- */
/* Quotes                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static bool decode_quote_request(const cor_node_server *server, json_t *json,
                                 cor_xb_quote_request *out, cor_node_fault *fault)
{
    static const char *const known[] = {"peer", "source_amount", "destination_amount", NULL};
    memset(out, 0, sizeof(*out));
    uint32_t peer = 0;
    cor_u128 source = 0;
    cor_u128 dest = 0;
    if (!xb_json_known(json, known, fault) || !xb_peer_field(server, json, &peer, fault) ||
        !xb_json_u128(json, "source_amount", false, &source, fault) ||
        !xb_json_u128(json, "destination_amount", false, &dest, fault)) {
        return false;
    }
    bool has_source = json_object_get(json, "source_amount") != NULL;
    bool has_dest = json_object_get(json, "destination_amount") != NULL;
    if (has_source == has_dest) {
        cor_node_fault_set(fault, 400, "invalid_value", "source_amount",
                           "give exactly one of source_amount and destination_amount");
        return false;
    }
    if ((has_source ? source : dest) == 0) {
        cor_node_fault_set(fault, 400, "invalid_amount",
                           has_source ? "source_amount" : "destination_amount",
                           "amounts are 1 or more minor units");
        return false;
    }
    out->amount = has_source ? source : dest;
    out->peer_node = peer;
    out->fixed = has_source ? COR_XB_FIXED_SOURCE : COR_XB_FIXED_DEST;
    return true;
}

static enum MHD_Result route_quotes(http_request *request)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = xb_json(request, &result);
    if (json == NULL) return result;
    bool array = json_is_array(json);
    size_t count = array ? json_array_size(json) : 1;
    if (count == 0 || count > COR_NODE_XB_QUOTES_PER_REQUEST_MAX) {
        json_decref(json);
        return xb_fault(request, 400, count == 0 ? "invalid_value" : "too_many_events", "",
                        "send 1 .. 4096 quote requests");
    }
    size_t size = count * sizeof(cor_xb_quote_request);
    http_xb *xb = xb_state(request);
    if (xb == NULL || !http_payload_reserve(request, sizeof(cor_node_command_header) + size + 16)) {
        json_decref(json);
        return xb_nomem(request);
    }
    cor_xb_quote_request *requests = cor_calloc(count, sizeof(*requests));
    if (requests == NULL) {
        json_decref(json);
        return xb_nomem(request);
    }
    cor_node_fault fault = {0};
    for (size_t i = 0; i < count; i++) {
        json_t *item = array ? json_array_get(json, i) : json;
        if (!decode_quote_request(request->server, item, &requests[i], &fault)) {
            json_decref(json);
            cor_free(requests);
            if (array) {
                char field[96];
                snprintf(field, sizeof(field), "[%zu].%s", i, fault.field);
                snprintf(fault.field, sizeof(fault.field), "%.63s", field);
            }
            return http_respond_fault(request, &fault);
        }
    }
    json_decref(json);
    xb->render = XB_RENDER_QUOTES;
    xb->array = array;
    xb->count = (uint32_t)count;
    http_payload_add(request, COR_NODE_CMD_XB_QUOTES, (uint32_t)count, requests, size);
    cor_free(requests);
    request->pending = HTTP_PENDING_XB;
    return http_submit(request, (uint32_t)count);
}

/* The priced part of a quote or a payment: both amounts, the fee and the exact rate. */
static void render_pricing(cor_nbuf *out, cor_u128 source, cor_u128 dest, cor_u128 fee,
                           uint64_t rate_num, uint64_t rate_den, uint32_t spread_ppm)
{
    cor_nbuf_str(out, ",\"source_amount\":");
    cor_nbuf_json_u128(out, source);
    cor_nbuf_str(out, ",\"destination_amount\":");
    cor_nbuf_json_u128(out, dest);
    cor_nbuf_str(out, ",\"fee\":");
    cor_nbuf_json_u128(out, fee);
    cor_nbuf_str(out, ",\"rate_num\":");
    cor_nbuf_json_u128(out, rate_num);
    cor_nbuf_str(out, ",\"rate_den\":");
    cor_nbuf_json_u128(out, rate_den);
    cor_nbuf_str(out, ",\"spread_ppm\":");
    cor_nbuf_u64(out, spread_ppm);
}

static void render_quote(cor_nbuf *out, const cor_node_server *server, const cor_xb_quote *q)
{
    const char *peer = xb_node_name(server, q->peer_node);
    cor_nbuf_str(out, "{\"quote_id\":");
    cor_nbuf_json_u128(out, q->id);
    cor_nbuf_str(out, ",\"fx_id\":");
    cor_nbuf_json_u128(out, q->fx_id);
    cor_nbuf_str(out, ",\"peer\":");
    cor_nbuf_json_string(out, peer, strlen(peer));
    cor_nbuf_str(out, q->fixed == COR_XB_FIXED_SOURCE ? ",\"fixed\":\"source\""
                                                      : ",\"fixed\":\"destination\"");
    cor_nbuf_str(out, ",\"source_currency\":\"");
    cor_nbuf_str(out, server->config.currency);
    cor_nbuf_str(out, "\",\"destination_currency\":\"");
    cor_nbuf_str(out, xb_currency_of(server, q->dest_ledger));
    cor_nbuf_str(out, "\"");
    render_pricing(out, q->amount_source, q->amount_dest, q->fee_source, q->rate_num, q->rate_den,
                   q->spread_ppm);
    cor_nbuf_str(out, ",\"created_at\":");
    xb_render_u64(out, q->created_at);
    cor_nbuf_str(out, ",\"expires_at\":");
    xb_render_u64(out, q->expires_at);
    cor_nbuf_str(out, "}");
}

/* One quote request's answer: {"quotes":[...]} or {"error":{...}}. */
static void render_quote_result(cor_nbuf *out, http_request *request, const cor_node_result *r)
{
    cor_node_server *server = request->server;
    if (r->code != COR_NODE_CREATED) {
        cor_nbuf_str(out, "{\"error\":");
        if (r->code == COR_NODE_XB_REFUSED) {
            xb_render_reason_error(out, r->ledger);
        } else {
            const char *code = cor_node_code_name(r->code);
            xb_render_error(out, code, "request refused", "");
        }
        cor_nbuf_str(out, "}");
        return;
    }
    cor_nbuf_str(out, "{\"quotes\":[");
    const cor_xb *xb = cor_node_state_xb(server->state);
    uint32_t written = 0;
    for (uint32_t i = 0; i < r->ledger; i++) {
        cor_u128 id = ((cor_u128)server->state_options.node_id << 96) | (cor_u128)(r->value + i);
        cor_xb_quote quote;
        if (!cor_xb_quote_lookup(xb, id, &quote)) continue; /* overwritten already */
        if (written++ > 0) cor_nbuf_str(out, ",");
        render_quote(out, server, &quote);
    }
    /* Best first: the core issued them in that order. */
    cor_nbuf_str(out, "]}");
}

static enum MHD_Result finish_quotes(http_request *request)
{
    http_xb *xb = request->xb;
    if (!xb->array) {
        const cor_node_result *r = &request->results[0];
        if (r->code != COR_NODE_CREATED) return xb_respond_node_code(request, r);
    }
    cor_nbuf out;
    cor_nbuf_init(&out, (size_t)xb->count * 1600u + 64u);
    if (xb->array) cor_nbuf_str(&out, "{\"results\":[");
    pthread_rwlock_rdlock(&request->server->state_lock);
    for (uint32_t i = 0; i < xb->count; i++) {
        if (i > 0) cor_nbuf_str(&out, ",");
        render_quote_result(&out, request, &request->results[i]);
    }
    pthread_rwlock_unlock(&request->server->state_lock);
    if (xb->array) cor_nbuf_str(&out, "]}");
    return http_respond_json(request, xb->array ? 200 : 201, &out);
}

/* ---------------------------------------------------------------------------------------- */
/* Payments                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static const char *xb_state_name(uint32_t state)
{
    switch (state) {
    case COR_XB_STATE_FORWARDED:
        return "forwarded";
    case COR_XB_STATE_COMMITTED:
        return "committed";
    case COR_XB_STATE_REJECTED:
        return "rejected";
    case COR_XB_STATE_HELD:
        return "held";
    default:
        return "unknown";
    }
}

static const char *xb_step_name(uint32_t step)
{
    static const char *const names[] = {
        "",        "reserved", "cancel_requested", "received",
        "settled", "refused",  "decision_known",   "posted",
        "voided",  "conflict", "returned",         "held",
    };
    return step < sizeof(names) / sizeof(names[0]) ? names[step] : "unknown";
}

/* Whether the party text is acceptable: bytes, no control characters (jansson gave UTF-8). */
static bool xb_name_valid(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) return false;
    }
    return true;
}

static bool decode_xb_payment(json_t *json, cor_node_cmd_xb_payment *out, cor_node_fault *fault)
{
    static const char *const known[] = {"uetr",        "quote_id",      "creditor",
                                        "debtor_name", "creditor_name", NULL};
    memset(out, 0, sizeof(*out));
    const char *uetr = NULL;
    const char *debtor_name = NULL;
    const char *creditor_name = NULL;
    uint64_t creditor = 0;
    if (!xb_json_known(json, known, fault) || !xb_json_text(json, "uetr", true, 36, &uetr, fault) ||
        !xb_json_u128(json, "quote_id", true, &out->quote_id, fault) ||
        !xb_json_u64(json, "creditor", true, &creditor, fault) ||
        !xb_json_text(json, "debtor_name", false, COR_NODE_XB_NAME_LENGTH_MAX, &debtor_name,
                      fault) ||
        !xb_json_text(json, "creditor_name", false, COR_NODE_XB_NAME_LENGTH_MAX, &creditor_name,
                      fault)) {
        return false;
    }
    if (!xb_uetr_parse(uetr, &out->uetr)) {
        cor_node_fault_set(fault, 400, "invalid_value", "uetr", "uetr must be a UUID version 4");
        return false;
    }
    if (creditor == 0 || creditor > UINT32_MAX) {
        cor_node_fault_set(fault, 400, "invalid_id", "creditor",
                           "creditor is a participant id on the peer node");
        return false;
    }
    out->creditor_account = cor_node_settlement_id((uint32_t)creditor);
    if ((debtor_name && !xb_name_valid(debtor_name)) ||
        (creditor_name && !xb_name_valid(creditor_name))) {
        cor_node_fault_set(fault, 400, "invalid_value",
                           debtor_name ? "debtor_name" : "creditor_name",
                           "names may not contain control characters");
        return false;
    }
    if (debtor_name != NULL) {
        out->debtor_name_length = (uint8_t)strlen(debtor_name);
        memcpy(out->debtor_name, debtor_name, out->debtor_name_length);
    }
    if (creditor_name != NULL) {
        out->creditor_name_length = (uint8_t)strlen(creditor_name);
        memcpy(out->creditor_name, creditor_name, out->creditor_name_length);
    }
    return true;
}

/* Queues the decoded payments[0 .. count) as one XB_PAYMENTS command. */
static enum MHD_Result xb_payments_submit(http_request *request,
                                          const cor_node_cmd_xb_payment *payments, uint32_t count,
                                          bool array)
{
    http_xb *xb = request->xb;
    size_t size = (size_t)count * sizeof(cor_node_cmd_xb_payment);
    xb->uetrs = cor_alloc((size_t)count * sizeof(cor_u128));
    if (xb->uetrs == NULL ||
        !http_payload_reserve(request, sizeof(cor_node_command_header) + size + 16)) {
        return xb_nomem(request);
    }
    for (uint32_t i = 0; i < count; i++)
        xb->uetrs[i] = payments[i].uetr;
    xb->render = XB_RENDER_PAYMENTS;
    xb->array = array;
    xb->count = count;
    http_payload_add(request, COR_NODE_CMD_XB_PAYMENTS, count, payments, size);
    request->pending = HTTP_PENDING_XB;
    return http_submit(request, count);
}

static enum MHD_Result route_xb_payments(http_request *request)
{
    http_xb *xb = xb_state(request);
    /* Room for the largest request, not zeroed: every entry used is written whole. */
    cor_node_cmd_xb_payment *payments =
        cor_alloc(COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX * sizeof(cor_node_cmd_xb_payment));
    if (xb == NULL || payments == NULL) {
        cor_free(payments);
        return xb_nomem(request);
    }
    /* Plain bodies (what banks' systems send) skip jansson; anything else, and every error,
     * goes through the full decoder below. */
    bool array = false;
    uint32_t count = cor_node_decode_xb_payments_fast(request->body, request->body_size, payments,
                                                      COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX, &array);
    if (count > 0) {
        enum MHD_Result result = xb_payments_submit(request, payments, count, array);
        cor_free(payments);
        return result;
    }
    enum MHD_Result result = MHD_NO;
    json_t *json = xb_json(request, &result);
    if (json == NULL) {
        cor_free(payments);
        return result;
    }
    array = json_is_array(json);
    size_t total = array ? json_array_size(json) : 1;
    if (total == 0 || total > COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX) {
        json_decref(json);
        cor_free(payments);
        return xb_fault(request, 400, total == 0 ? "invalid_value" : "too_many_events", "",
                        "send 1 .. 4096 payments");
    }
    cor_node_fault fault = {0};
    for (size_t i = 0; i < total; i++) {
        json_t *item = array ? json_array_get(json, i) : json;
        if (!decode_xb_payment(item, &payments[i], &fault)) {
            json_decref(json);
            cor_free(payments);
            if (array) {
                char field[96];
                snprintf(field, sizeof(field), "[%zu].%s", i, fault.field);
                snprintf(fault.field, sizeof(fault.field), "%.63s", field);
            }
            return http_respond_fault(request, &fault);
        }
    }
    json_decref(json);
    result = xb_payments_submit(request, payments, (uint32_t)total, array);
    cor_free(payments);
    return result;
}

static void render_xb_payment(cor_nbuf *out, const cor_node_server *server, const cor_xb_payment *p)
{
    const cor_xb_message *m = &p->instruction;
    bool origin = p->role == COR_XB_ROLE_ORIGIN;
    uint32_t peer_node = origin ? m->to_node : m->from_node;
    const char *peer = xb_node_name(server, peer_node);
    cor_nbuf_str(out, "{\"uetr\":");
    xb_render_uetr(out, m->uetr);
    cor_nbuf_str(out, origin ? ",\"role\":\"origin\",\"state\":\""
                             : ",\"role\":\"beneficiary\",\"state\":\"");
    cor_nbuf_str(out, xb_state_name(p->state));
    cor_nbuf_str(out, m->type == COR_XB_PACS004 ? "\",\"type\":\"return\",\"reason\":"
                                                : "\",\"type\":\"payment\",\"reason\":");
    char code[48] = "";
    if (p->state == COR_XB_STATE_REJECTED || p->state == COR_XB_STATE_HELD) {
        xb_reason_code(p->reason, code, sizeof(code));
    }
    cor_nbuf_json_string(out, code, strlen(code));
    const char *iso = code[0] != '\0' ? cor_xb_reason_iso(p->reason) : "";
    cor_nbuf_str(out, ",\"iso\":\"");
    cor_nbuf_str(out, iso);
    cor_nbuf_str(out, "\",\"peer\":");
    cor_nbuf_json_string(out, peer, strlen(peer));
    cor_nbuf_str(out, ",\"from_node\":");
    cor_nbuf_json_u128(out, m->from_node);
    cor_nbuf_str(out, ",\"to_node\":");
    cor_nbuf_json_u128(out, m->to_node);
    cor_nbuf_str(out, ",\"quote_id\":");
    cor_nbuf_json_u128(out, m->quote_id);
    cor_nbuf_str(out, ",\"fx_id\":");
    cor_nbuf_json_u128(out, m->fx_id);
    cor_nbuf_str(out, ",\"source_currency\":\"");
    cor_nbuf_str(out, xb_currency_of(server, m->source_ledger));
    cor_nbuf_str(out, "\",\"destination_currency\":\"");
    cor_nbuf_str(out, xb_currency_of(server, m->dest_ledger));
    cor_nbuf_str(out, "\"");
    render_pricing(out, m->amount_source, m->amount_dest, m->fee_source, m->rate_num, m->rate_den,
                   m->spread_ppm);
    cor_nbuf_str(out, ",\"debtor_account\":");
    cor_nbuf_json_u128(out, m->debtor_account);
    cor_nbuf_str(out, ",\"creditor_account\":");
    cor_nbuf_json_u128(out, m->creditor_account);
    if (m->return_of != 0) {
        cor_nbuf_str(out, ",\"return_of\":");
        xb_render_uetr(out, m->return_of);
    }
    if (p->returned_by != 0) {
        cor_nbuf_str(out, ",\"returned_by\":");
        xb_render_uetr(out, p->returned_by);
    }
    /* The first tracking step is the record's creation on this node. */
    cor_nbuf_str(out, ",\"created_at\":");
    xb_render_u64(out, p->track_count > 0 ? p->track[0].timestamp : 0);
    cor_nbuf_str(out, ",\"deadline\":");
    xb_render_u64(out, m->deadline);
    cor_nbuf_str(out, ",\"decided_at\":");
    xb_render_u64(out, p->decided_at);
    cor_nbuf_str(out, ",\"send_count\":");
    cor_nbuf_u64(out, p->send_count);
    cor_nbuf_str(out, p->cancel_requested ? ",\"cancel_requested\":true}"
                                          : ",\"cancel_requested\":false}");
}

static enum MHD_Result finish_xb_payments(http_request *request)
{
    http_xb *xb = request->xb;
    cor_node_server *server = request->server;
    cor_nbuf out;
    cor_nbuf_init(&out, (size_t)xb->count * 2048u + 64u);
    unsigned status = 200;
    if (xb->array) cor_nbuf_str(&out, "{\"payments\":[");
    pthread_rwlock_rdlock(&server->state_lock);
    for (uint32_t i = 0; i < xb->count; i++) {
        const cor_node_result *r = &request->results[i];
        cor_xb_payment p;
        bool accepted = r->code == COR_NODE_CREATED || r->code == COR_NODE_EXISTS;
        if (i > 0) cor_nbuf_str(&out, ",");
        if (accepted && cor_xb_payment_lookup(cor_node_state_xb(server->state), xb->uetrs[i], &p)) {
            /* Render, then add the duplicate flag inside the object. */
            size_t before = out.size;
            render_xb_payment(&out, server, &p);
            if (cor_nbuf_ok(&out) && r->code == COR_NODE_EXISTS && out.size > before) {
                out.size--; /* the closing brace */
                cor_nbuf_str(&out, ",\"duplicate\":true}");
            }
            if (!xb->array) status = r->code == COR_NODE_CREATED ? 202 : 200;
            continue;
        }
        if (!xb->array) {
            pthread_rwlock_unlock(&server->state_lock);
            cor_nbuf_release(&out);
            return xb_respond_node_code(request, r);
        }
        cor_nbuf_str(&out, "{\"uetr\":");
        xb_render_uetr(&out, xb->uetrs[i]);
        cor_nbuf_str(&out, ",\"state\":\"error\",\"error\":");
        if (r->code == COR_NODE_XB_REFUSED) {
            xb_render_reason_error(&out, r->ledger);
        } else {
            const char *code = cor_node_code_name(r->code);
            xb_render_error(&out, code, "request refused", "");
        }
        cor_nbuf_str(&out, "}");
    }
    pthread_rwlock_unlock(&server->state_lock);
    if (xb->array) cor_nbuf_str(&out, "]}");
    return http_respond_json(request, status, &out);
}

/* The payment, if the caller may see it: the origin's requester, the beneficiary's
 * creditor, or the operator and auditors. Under the read lock. */
static bool xb_payment_visible(http_request *request, cor_u128 uetr, cor_xb_payment *out)
{
    const cor_xb *xb = cor_node_state_xb(request->server->state);
    if (!cor_xb_payment_lookup(xb, uetr, out)) return false;
    if (request->who.role != HTTP_ROLE_PARTICIPANT) return true;
    uint32_t me = request->who.participant;
    if (out->role == COR_XB_ROLE_ORIGIN) return out->requester == me;
    return out->instruction.creditor_account == cor_node_settlement_id(me);
}

static enum MHD_Result route_xb_payment_get(http_request *request, const char *text, bool track)
{
    cor_u128 uetr = 0;
    if (!xb_uetr_parse(text, &uetr)) {
        return http_respond_error(request, 404, "payment_not_found", "no such payment");
    }
    cor_node_server *server = request->server;
    cor_xb_payment p;
    pthread_rwlock_rdlock(&server->state_lock);
    bool visible = xb_payment_visible(request, uetr, &p);
    pthread_rwlock_unlock(&server->state_lock);
    if (!visible) return http_respond_error(request, 404, "payment_not_found", "no such payment");
    cor_nbuf out;
    cor_nbuf_init(&out, 8192);
    if (!track) {
        render_xb_payment(&out, server, &p);
        return http_respond_json(request, 200, &out);
    }
    cor_nbuf_str(&out, "{\"uetr\":");
    xb_render_uetr(&out, uetr);
    cor_nbuf_printf(&out, ",\"role\":\"%s\",\"state\":\"%s\",\"steps\":[",
                    p.role == COR_XB_ROLE_ORIGIN ? "origin" : "beneficiary",
                    xb_state_name(p.state));
    for (uint32_t i = 0; i < p.track_count && i < COR_XB_TRACK_MAX; i++) {
        const cor_xb_track_event *e = &p.track[i];
        const char *node = xb_node_name(server, e->node);
        cor_nbuf_printf(&out, "%s{\"step\":\"%s\",\"node\":", i ? "," : "", xb_step_name(e->step));
        cor_nbuf_json_string(&out, node, strlen(node));
        cor_nbuf_printf(&out, ",\"node_id\":\"%u\",\"timestamp\":", e->node);
        xb_render_u64(&out, e->timestamp);
        cor_nbuf_str(&out, "}");
    }
    cor_nbuf_str(&out, "]}");
    return http_respond_json(request, 200, &out);
}

static enum MHD_Result route_xb_action(http_request *request, const char *text, const char *action)
{
    cor_u128 uetr = 0;
    if (!xb_uetr_parse(text, &uetr)) {
        return http_respond_error(request, 404, "payment_not_found", "no such payment");
    }
    http_xb *xb = xb_state(request);
    if (xb == NULL) return xb_nomem(request);
    xb->uetr = uetr;
    bool operator= request->who.role == HTTP_ROLE_OPERATOR;
    if (strcmp(action, "release") == 0 || strcmp(action, "reject") == 0) {
        if (!operator) return http_respond_error(request, 403, "forbidden", "operator only");
        cor_node_cmd_xb_hold cmd = {
            .uetr = uetr, .action = action[2] == 'l' ? COR_NODE_XB_RELEASE : COR_NODE_XB_REJECT};
        return xb_submit_one(request, COR_NODE_CMD_XB_HOLD, &cmd, sizeof(cmd), XB_RENDER_ACTION);
    }
    if (request->who.role != HTTP_ROLE_PARTICIPANT) {
        return http_respond_error(request, 403, "forbidden", "participants only");
    }
    if (strcmp(action, "cancel") == 0) {
        cor_node_cmd_xb_uetr cmd = {.uetr = uetr};
        return xb_submit_one(request, COR_NODE_CMD_XB_CANCEL, &cmd, sizeof(cmd), XB_RENDER_ACTION);
    }
    /* return: {"uetr": the return's own UETR, "quote_id": …, "reason": "customer"|"after_cancel"}
     */
    enum MHD_Result result = MHD_NO;
    json_t *json = xb_json(request, &result);
    if (json == NULL) return result;
    static const char *const known[] = {"uetr",        "quote_id",      "reason",
                                        "debtor_name", "creditor_name", NULL};
    cor_node_fault fault = {0};
    cor_node_cmd_xb_return full;
    memset(&full, 0, sizeof(full));
    cor_xb_return_request cmd = {.original_uetr = uetr};
    const char *own = NULL;
    const char *reason = NULL;
    const char *debtor_name = NULL;
    const char *creditor_name = NULL;
    bool ok = xb_json_known(json, known, &fault) &&
              xb_json_text(json, "uetr", true, 36, &own, &fault) &&
              xb_json_u128(json, "quote_id", true, &cmd.quote_id, &fault) &&
              xb_json_text(json, "reason", false, 16, &reason, &fault) &&
              xb_json_text(json, "debtor_name", false, COR_NODE_XB_NAME_LENGTH_MAX, &debtor_name,
                           &fault) &&
              xb_json_text(json, "creditor_name", false, COR_NODE_XB_NAME_LENGTH_MAX,
                           &creditor_name, &fault);
    if (ok && ((debtor_name && !xb_name_valid(debtor_name)) ||
               (creditor_name && !xb_name_valid(creditor_name)))) {
        cor_node_fault_set(&fault, 400, "invalid_value",
                           debtor_name && !xb_name_valid(debtor_name) ? "debtor_name"
                                                                      : "creditor_name",
                           "names are UTF-8 without control characters");
        ok = false;
    }
    if (ok && debtor_name != NULL) {
        full.debtor_name_length = (uint8_t)strlen(debtor_name);
        memcpy(full.debtor_name, debtor_name, full.debtor_name_length);
    }
    if (ok && creditor_name != NULL) {
        full.creditor_name_length = (uint8_t)strlen(creditor_name);
        memcpy(full.creditor_name, creditor_name, full.creditor_name_length);
    }
    if (ok && !xb_uetr_parse(own, &cmd.uetr)) {
        cor_node_fault_set(&fault, 400, "invalid_value", "uetr", "uetr must be a UUID version 4");
        ok = false;
    }
    cmd.reason = COR_XB_RETURN_CUSTOMER;
    if (ok && reason != NULL) {
        if (strcmp(reason, "after_cancel") == 0) {
            cmd.reason = COR_XB_RETURN_AFTER_CANCEL;
        } else if (strcmp(reason, "customer") != 0) {
            cor_node_fault_set(&fault, 400, "invalid_value", "reason",
                               "reason is customer or after_cancel");
            ok = false;
        }
    }
    json_decref(json);
    if (!ok) return http_respond_fault(request, &fault);
    xb->uetr = cmd.uetr; /* answer with the return */
    full.request = cmd;
    return xb_submit_one(request, COR_NODE_CMD_XB_RETURN, &full, sizeof(full), XB_RENDER_ACTION);
}

static enum MHD_Result finish_action(http_request *request, const cor_node_result *r)
{
    if (r->code != COR_NODE_OK && r->code != COR_NODE_CREATED) {
        return xb_respond_node_code(request, r);
    }
    cor_node_server *server = request->server;
    cor_xb_payment p;
    pthread_rwlock_rdlock(&server->state_lock);
    bool found = cor_xb_payment_lookup(cor_node_state_xb(server->state), request->xb->uetr, &p);
    pthread_rwlock_unlock(&server->state_lock);
    if (!found) return http_respond_error(request, 404, "payment_not_found", "no such payment");
    cor_nbuf out;
    cor_nbuf_init(&out, 8192);
    render_xb_payment(&out, server, &p);
    return http_respond_json(request, r->code == COR_NODE_CREATED ? 202 : 200, &out);
}

/* ---------------------------------------------------------------------------------------- */
/* Holds, stats, reconciliation                                                             */
/* ---------------------------------------------------------------------------------------- */

static bool holds_visit_one(void *context, const cor_xb_payment *payment)
{
    xb_list *v = context;
    if (payment->state != COR_XB_STATE_HELD) return true;
    if (v->count++ > 0) cor_nbuf_str(v->out, ",");
    render_xb_payment(v->out, v->server, payment);
    return v->count < XB_HOLDS_MAX;
}

static void holds_each(const cor_xb *xb, void *list)
{
    cor_xb_payments_each(xb, holds_visit_one, list);
}

static enum MHD_Result route_holds(http_request *request)
{
    return xb_list_respond(request, "holds", 32u << 20, holds_each);
}

static enum MHD_Result route_stats(http_request *request)
{
    cor_node_server *server = request->server;
    cor_xb_stats stats;
    pthread_rwlock_rdlock(&server->state_lock);
    cor_xb_stats_get(cor_node_state_xb(server->state), &stats);
    pthread_rwlock_unlock(&server->state_lock);
    cor_nbuf out;
    cor_nbuf_init(&out, 4096);
    cor_nbuf_printf(&out,
                    "{\"payments\":%u,\"open\":%u,\"quotes_issued\":\"%llu\",\"seen\":%u,"
                    "\"messages_sent\":\"%llu\",\"refusals\":\"%llu\",\"conflicts\":\"%llu\"}",
                    stats.payments_count, stats.open_count, (unsigned long long)stats.quotes_issued,
                    stats.seen_count, (unsigned long long)stats.messages_sent,
                    (unsigned long long)stats.refusals, (unsigned long long)stats.conflicts);
    return http_respond_json(request, 200, &out);
}

typedef struct reconcile_list {
    cor_nbuf *out;
    uint64_t fx_id;
    uint32_t a;
    uint32_t b;
    uint64_t from;
    uint64_t until;
    uint32_t count;
    bool truncated;
} reconcile_list;

static bool reconcile_list_one(void *context, const cor_xb_payment *p)
{
    reconcile_list *l = context;
    const cor_xb_message *m = &p->instruction;
    if (p->state != COR_XB_STATE_COMMITTED || m->fx_id != l->fx_id) return true;
    bool pair = (m->from_node == l->a && m->to_node == l->b) ||
                (m->from_node == l->b && m->to_node == l->a);
    if (!pair || p->decided_at < l->from || p->decided_at >= l->until) return true;
    if (l->count == COR_NODE_QUERY_RESULTS_MAX) {
        l->truncated = true;
        return false;
    }
    if (l->count++ > 0) cor_nbuf_str(l->out, ",");
    cor_nbuf_str(l->out, "{\"uetr\":");
    xb_render_uetr(l->out, m->uetr);
    cor_nbuf_printf(l->out,
                    ",\"from_node\":\"%u\",\"to_node\":\"%u\",\"source_amount\":", m->from_node,
                    m->to_node);
    cor_nbuf_json_u128(l->out, m->amount_source);
    cor_nbuf_str(l->out, ",\"destination_amount\":");
    cor_nbuf_json_u128(l->out, m->amount_dest);
    cor_nbuf_str(l->out, ",\"decided_at\":");
    xb_render_u64(l->out, p->decided_at);
    cor_nbuf_str(l->out, "}");
    return true;
}

static const char *xb_query(http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

static enum MHD_Result route_reconcile(http_request *request)
{
    cor_node_server *server = request->server;
    const char *fx_text = xb_query(request, "fx_id");
    const char *peer_text = xb_query(request, "peer");
    const char *from_text = xb_query(request, "from");
    const char *until_text = xb_query(request, "until");
    const char *detail = xb_query(request, "payments");
    uint64_t fx_id = 0;
    uint64_t from = 0;
    uint64_t until = UINT64_MAX;
    if (fx_text == NULL || !cor_node_parse_u64(fx_text, &fx_id) || fx_id == 0) {
        return xb_fault(request, 400, "invalid_query", "fx_id", "fx_id is required (1 or more)");
    }
    if ((from_text && !cor_node_parse_u64(from_text, &from)) ||
        (until_text && !cor_node_parse_u64(until_text, &until)) || from >= until) {
        return xb_fault(request, 400, "invalid_query", "from",
                        "from and until are ns timestamps, from < until");
    }
    const cor_node_peer_config *peer = peer_text ? xb_peer_lookup(server, peer_text) : NULL;
    if (peer == NULL) return http_respond_error(request, 404, "peer_not_found", "no such peer");
    uint32_t self = server->config.node_id;
    cor_xb_reconcile out_summary;
    cor_xb_reconcile in_summary;
    cor_nbuf out;
    cor_nbuf_init(&out, 8u << 20);
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_xb *xb = cor_node_state_xb(server->state);
    cor_xb_reconcile_summary(xb, fx_id, self, peer->node_id, from, until, &out_summary);
    cor_xb_reconcile_summary(xb, fx_id, peer->node_id, self, from, until, &in_summary);
    cor_nbuf_printf(&out, "{\"node\":");
    cor_nbuf_json_string(&out, server->config.name, strlen(server->config.name));
    cor_nbuf_printf(&out,
                    ",\"fx_id\":\"%llu\",\"from\":\"%llu\",\"until\":\"%llu\",\"directions\":[",
                    (unsigned long long)fx_id, (unsigned long long)from, (unsigned long long)until);
    const cor_xb_reconcile *summaries[2] = {&out_summary, &in_summary};
    uint32_t froms[2] = {self, peer->node_id};
    uint32_t tos[2] = {peer->node_id, self};
    for (int i = 0; i < 2; i++) {
        const cor_xb_reconcile *s = summaries[i];
        cor_nbuf_printf(&out, "%s{\"from_node\":\"%u\",\"to_node\":\"%u\",\"from\":", i ? "," : "",
                        froms[i], tos[i]);
        const char *a = xb_node_name(server, froms[i]);
        const char *b = xb_node_name(server, tos[i]);
        cor_nbuf_json_string(&out, a, strlen(a));
        cor_nbuf_str(&out, ",\"to\":");
        cor_nbuf_json_string(&out, b, strlen(b));
        cor_nbuf_printf(&out,
                        ",\"count\":\"%llu\",\"source_amount\":", (unsigned long long)s->count);
        cor_nbuf_json_u128(&out, s->amount_source);
        cor_nbuf_str(&out, ",\"destination_amount\":");
        cor_nbuf_json_u128(&out, s->amount_dest);
        cor_nbuf_printf(&out, ",\"digest\":\"%016llx\"}", (unsigned long long)s->digest);
    }
    cor_nbuf_str(&out, "]");
    if (detail != NULL && strcmp(detail, "true") == 0) {
        reconcile_list list = {.out = &out,
                               .fx_id = fx_id,
                               .a = self,
                               .b = peer->node_id,
                               .from = from,
                               .until = until};
        cor_nbuf_str(&out, ",\"payments\":[");
        cor_xb_payments_each(xb, reconcile_list_one, &list);
        cor_nbuf_printf(&out, "],\"truncated\":%s", list.truncated ? "true" : "false");
    }
    pthread_rwlock_unlock(&server->state_lock);
    cor_nbuf_str(&out, "}");
    return http_respond_json(request, 200, &out);
}

/* ---------------------------------------------------------------------------------------- */
/* Watch list                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* Writes the accepted list to DIR/watchlist.csv atomically, so a restart screens the same. */
static cor_error watchlist_persist(const cor_node_server *server, const char *csv, size_t size)
{
    char path[PATH_MAX + 32];
    char temp[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", server->data_dir, XB_WATCHLIST_FILE);
    snprintf(temp, sizeof(temp), "%s/%s.tmp", server->data_dir, XB_WATCHLIST_FILE);
    int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return COR_ERR_IO;
    size_t written = 0;
    while (written < size) {
        ssize_t n = write(fd, csv + written, size - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            close(fd);
            return COR_ERR_IO;
        }
        written += (size_t)n;
    }
    bool ok = fdatasync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(temp, path) != 0) return COR_ERR_IO;
    int dir = open(server->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        (void)fsync(dir);
        close(dir);
    }
    return COR_OK;
}

static enum MHD_Result route_watchlist_put(http_request *request)
{
    cor_node_server *server = request->server;
    char detail[256] = "";
    pthread_mutex_lock(&server->watchlist_write_lock);
    pthread_rwlock_wrlock(&server->screening_lock);
    cor_error rc = cor_screening_load(server->screening, request->body ? request->body : "",
                                      request->body_size, detail, sizeof(detail));
    uint32_t count = cor_screening_count(server->screening);
    if (rc == COR_OK) server->watchlist_loaded_at = xb_now_ns();
    pthread_rwlock_unlock(&server->screening_lock);
    if (rc == COR_OK)
        rc = watchlist_persist(server, request->body ? request->body : "", request->body_size);
    pthread_mutex_unlock(&server->watchlist_write_lock);
    if (rc == COR_ERR_IO) {
        return http_respond_error(request, 500, "io_error",
                                  "the list is active but could not be saved; load it again");
    }
    if (rc != COR_OK) {
        return xb_fault(request, rc == COR_ERR_LIMIT ? 413 : 400,
                        rc == COR_ERR_LIMIT ? "watchlist_too_large" : "invalid_watchlist", "",
                        detail[0] ? detail : "watch list refused");
    }
    cor_log(COR_LOG_INFO, "watch list loaded", "entries=%u", count);
    cor_nbuf out;
    cor_nbuf_init(&out, 256);
    cor_nbuf_printf(&out, "{\"entries\":%u,\"loaded_at\":\"%llu\"}", count,
                    (unsigned long long)server->watchlist_loaded_at);
    return http_respond_json(request, 200, &out);
}

static enum MHD_Result route_watchlist_get(http_request *request)
{
    cor_node_server *server = request->server;
    pthread_rwlock_rdlock(&server->screening_lock);
    uint32_t count = cor_screening_count(server->screening);
    uint64_t at = server->watchlist_loaded_at;
    pthread_rwlock_unlock(&server->screening_lock);
    cor_nbuf out;
    cor_nbuf_init(&out, 256);
    cor_nbuf_printf(&out, "{\"entries\":%u,\"loaded_at\":\"%llu\"}", count, (unsigned long long)at);
    return http_respond_json(request, 200, &out);
}

cor_error http_xb_watchlist_restore(cor_node_server *server)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s", server->data_dir, XB_WATCHLIST_FILE);
    FILE *file = fopen(path, "rb");
    if (file == NULL) return errno == ENOENT ? COR_OK : COR_ERR_IO;
    size_t max = COR_NODE_BODY_SIZE_BYTES_MAX;
    char *csv = cor_alloc(max);
    if (csv == NULL) {
        fclose(file);
        return COR_ERR_NOMEM;
    }
    size_t size = fread(csv, 1, max, file);
    bool error = ferror(file) != 0;
    fclose(file);
    char detail[256] = "";
    cor_error rc = error ? COR_ERR_IO
                         : cor_screening_load(server->screening, csv, size, detail, sizeof(detail));
    cor_free(csv);
    if (rc == COR_OK) {
        cor_log(COR_LOG_INFO, "watch list restored", "entries=%u",
                cor_screening_count(server->screening));
    } else {
        cor_log(COR_LOG_ERROR, "watch list unreadable", "error=%s detail=\"%s\"",
                cor_error_name(rc), detail);
    }
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* The peer route                                                                           */
/* ---------------------------------------------------------------------------------------- */

/* A free pooled cor_wire for this thread (or NULL when all are busy: the caller answers 503). */
static cor_wire *wire_take(cor_node_server *server, uint32_t *slot)
{
    cor_wire *wire = NULL;
    pthread_mutex_lock(&server->wire_lock);
    for (uint32_t i = 0; i < server->wire_count && wire == NULL; i++) {
        if ((server->wire_busy & (1ull << i)) == 0) {
            server->wire_busy |= 1ull << i;
            wire = server->wires[i];
            *slot = i;
        }
    }
    pthread_mutex_unlock(&server->wire_lock);
    return wire;
}

static void wire_give(cor_node_server *server, uint32_t slot)
{
    pthread_mutex_lock(&server->wire_lock);
    server->wire_busy &= ~(1ull << slot);
    pthread_mutex_unlock(&server->wire_lock);
}

static void refused_add(http_xb *xb, uint32_t index, unsigned status, const char *code,
                        const char *iso, const char *text)
{
    xb->refused_count++;
    if (xb->refused_count > XB_REFUSED_LISTED_MAX) return;
    xb_refused *r = &xb->refused[xb->refused_count - 1];
    r->index = index;
    r->status = status;
    snprintf(r->code, sizeof(r->code), "%s", code);
    snprintf(r->iso, sizeof(r->iso), "%s", iso);
    snprintf(r->text, sizeof(r->text), "%s", text);
}

static unsigned wire_status(uint32_t code)
{
    switch (code) {
    case COR_WIRE_SENDER_UNKNOWN:
    case COR_WIRE_NOT_ADDRESSEE:
    case COR_WIRE_KEY_UNKNOWN:
    case COR_WIRE_SIGNATURE:
        return 401;
    case COR_WIRE_STALE:
        return 409;
    case COR_WIRE_OVERSIZED:
        return 413;
    default:
        return 400;
    }
}

/* Lower-case wire code name without its prefix: "signature", "stale", ... */
static void wire_code_text(uint32_t code, char *out, size_t size)
{
    xb_code_text(cor_wire_code_name(code), "COR_WIRE_", out, size);
}

/* The length of the envelope starting at bytes (left bytes remain): header + the body size
 * its header declares (bytes 68..71, big-endian) + signature, capped at left. A short tail
 * is one (truncated) envelope: decode refuses it with its reason. */
static size_t envelope_size(const uint8_t *bytes, size_t left)
{
    if (left < COR_WIRE_HEADER_SIZE_BYTES) return left;
    const uint8_t *h = bytes + 68;
    size_t body = ((size_t)h[0] << 24) | ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    size_t total = COR_WIRE_HEADER_SIZE_BYTES + body + COR_WIRE_SIGNATURE_SIZE;
    return total < left ? total : left;
}

/* Screens a new payment's parties at this (beneficiary) node: the end customers named in
 * the message and the creditor bank (our participant). True on a hit. */
static bool xb_screen(cor_node_server *server, const cor_xb_message *m,
                      const cor_wire_parties *parties)
{
    if (m->type != COR_XB_PACS008 && m->type != COR_XB_PACS004) return false;
    /* Without a watch list nothing can hit: skip the state lock for every message. */
    pthread_rwlock_rdlock(&server->screening_lock);
    bool empty = cor_screening_count(server->screening) == 0;
    pthread_rwlock_unlock(&server->screening_lock);
    if (empty) return false;
    char creditor_bank_name[COR_NODE_NAME_LENGTH_MAX + 1] = "";
    char creditor_bic[COR_NODE_BIC_LENGTH_MAX + 1] = "";
    pthread_rwlock_rdlock(&server->state_lock);
    if (m->creditor_account > COR_NODE_ID_BASE &&
        m->creditor_account - COR_NODE_ID_BASE <= UINT32_MAX) {
        const cor_node_participant *p = cor_node_state_participant(
            server->state, (uint32_t)(m->creditor_account - COR_NODE_ID_BASE));
        if (p != NULL) {
            snprintf(creditor_bank_name, sizeof(creditor_bank_name), "%s", p->name);
            snprintf(creditor_bic, sizeof(creditor_bic), "%s", p->bic);
        }
    }
    pthread_rwlock_unlock(&server->state_lock);
    const char *bank_ids[1] = {creditor_bic};
    cor_screening_party parties_list[3] = {
        {.name = parties->debtor_name},
        {.name = parties->creditor_name},
        {.name = creditor_bank_name, .identifiers = bank_ids, .identifier_count = 1},
    };
    bool hit = false;
    pthread_rwlock_rdlock(&server->screening_lock);
    for (int i = 0; i < 3 && !hit; i++) {
        cor_screening_hit result;
        if (cor_screening_match(server->screening, &parties_list[i], &result) == COR_OK &&
            result.hit) {
            char uetr[37];
            xb_uetr_format(m->uetr, uetr);
            cor_log(COR_LOG_WARN, "screening hit: payment held", "uetr=%s party=%d list=%s ref=%s",
                    uetr, i, result.list, result.reference);
            hit = true;
        }
    }
    pthread_rwlock_unlock(&server->screening_lock);
    return hit;
}

static enum MHD_Result finish_peer(http_request *request);

static enum MHD_Result route_peer_messages(http_request *request)
{
    cor_node_server *server = request->server;
    http_xb *xb = xb_state(request);
    if (xb == NULL) return xb_nomem(request);
    const uint8_t *bytes = (const uint8_t *)request->body;
    size_t size = request->body_size;
    /* Count the envelopes first (each is header | body | signature; body size at 68). */
    uint32_t envelopes = 0;
    for (size_t at = 0; at < size && envelopes <= COR_NODE_BATCH_EVENTS_MAX; envelopes++) {
        at += envelope_size(bytes + at, size - at);
    }
    if (envelopes == 0) return xb_fault(request, 400, "empty_body", "", "no envelope in the body");
    if (envelopes > COR_NODE_BATCH_EVENTS_MAX) {
        return xb_fault(request, 413, "too_many_events", "", "at most 8,189 envelopes per request");
    }
    /* A batch envelope carries up to COR_WIRE_BATCH_MAX messages; one request's messages
     * are one command of at most a batch's events. */
    const uint32_t capacity = COR_NODE_BATCH_EVENTS_MAX;
    size_t payload = (size_t)capacity * sizeof(cor_node_cmd_xb_receive);
    /* Not zeroed: each entry is written whole before use, and zeroing ~2.8 MB per request
     * was a tenth of a node's time with one payment per request. */
    cor_node_cmd_xb_receive *commands = cor_alloc((size_t)capacity * sizeof(*commands));
    xb->envelope_of = cor_alloc((size_t)capacity * sizeof(uint32_t));
    if (commands == NULL || xb->envelope_of == NULL ||
        !http_payload_reserve(request, sizeof(cor_node_command_header) + payload + 16)) {
        cor_free(commands);
        return xb_nomem(request);
    }
    uint32_t slot = 0;
    cor_wire *wire = wire_take(server, &slot);
    if (wire == NULL) {
        cor_free(commands);
        return http_respond_error(request, 503, "busy", "every peer decoder is busy, retry");
    }
    uint64_t now = xb_now_ns();
    uint32_t accepted = 0;
    size_t at = 0;
    cor_xb_message *messages = cor_alloc(COR_WIRE_BATCH_MAX * sizeof(*messages));
    cor_wire_parties *parties = cor_alloc(COR_WIRE_BATCH_MAX * sizeof(*parties));
    if (messages == NULL || parties == NULL) {
        wire_give(server, slot);
        cor_free(messages);
        cor_free(parties);
        cor_free(commands);
        return xb_nomem(request);
    }
    for (uint32_t i = 0; i < envelopes; i++) {
        size_t total = envelope_size(bytes + at, size - at);
        uint32_t count = 0;
        cor_wire_refusal refusal;
        cor_error rc = cor_wire_decode_batch(wire, now, bytes + at, total, messages, parties,
                                             COR_WIRE_BATCH_MAX, &count, &refusal);
        at += total;
        if (rc == COR_OK && count > capacity - accepted) {
            refused_add(xb, i, 413, "too_many_events", "FF01",
                        "more messages in one request than a batch holds");
            continue;
        }
        if (rc != COR_OK) {
            char code[48];
            wire_code_text(refusal.code, code, sizeof(code));
            if (rc == COR_ERR_NOMEM) snprintf(code, sizeof(code), "busy");
            refused_add(xb, i, rc == COR_ERR_NOMEM ? 503 : wire_status(refusal.code), code,
                        refusal.iso, refusal.text);
            continue;
        }
        for (uint32_t m = 0; m < count; m++) {
            xb->envelope_of[accepted] = i;
            bool hit = xb_screen(server, &messages[m], &parties[m]);
            commands[accepted++] = (cor_node_cmd_xb_receive){
                .message = messages[m], .flags = hit ? COR_XB_RECEIVE_HOLD : 0};
        }
    }
    cor_free(messages);
    cor_free(parties);
    wire_give(server, slot);
    xb->envelopes = envelopes;
    xb->count = accepted;
    xb->render = XB_RENDER_PEER;
    if (accepted == 0) {
        cor_free(commands);
        return finish_peer(request);
    }
    http_payload_add(request, COR_NODE_CMD_XB_RECEIVE, accepted, commands,
                     accepted * sizeof(*commands));
    cor_free(commands);
    request->pending = HTTP_PENDING_XB;
    return http_submit(request, accepted);
}

static enum MHD_Result finish_peer(http_request *request)
{
    http_xb *xb = request->xb;
    /* Core-level refusals: the envelope check of the protocol (replay, stale, ...). */
    uint32_t core_refused = 0;
    for (uint32_t i = 0; i < xb->count; i++) {
        uint32_t reason = request->results[i].ledger;
        bool refused = reason == COR_XB_FORMAT || reason == COR_XB_NOT_ADDRESSEE ||
                       reason == COR_XB_PEER_UNKNOWN || reason == COR_XB_STALE ||
                       reason == COR_XB_REPLAY || reason == COR_XB_BUSY;
        if (request->results[i].code != COR_NODE_OK) refused = true;
        if (!refused) continue;
        core_refused++;
        char code[48];
        xb_reason_code(reason, code, sizeof(code));
        refused_add(xb, xb->envelope_of[i],
                    reason == COR_XB_REPLAY ? 409
                    : reason == COR_XB_BUSY ? 503
                                            : 400,
                    code, cor_xb_reason_iso(reason), cor_xb_reason_text(reason));
    }
    uint32_t accepted = xb->count - core_refused;
    if (accepted == 0 && xb->refused_count == 1) { /* one thing sent, refused: say so plainly */
        const xb_refused *r = &xb->refused[0];
        cor_nbuf out;
        cor_nbuf_init(&out, 1024);
        cor_nbuf_str(&out, "{\"error\":");
        xb_render_error(&out, r->code, r->text, r->iso);
        cor_nbuf_str(&out, "}");
        return http_respond_json(request, r->status, &out);
    }
    cor_nbuf out;
    cor_nbuf_init(&out, 64u * 1024u);
    cor_nbuf_printf(&out, "{\"accepted\":%u,\"refused\":[", accepted);
    uint32_t listed =
        xb->refused_count < XB_REFUSED_LISTED_MAX ? xb->refused_count : XB_REFUSED_LISTED_MAX;
    for (uint32_t i = 0; i < listed; i++) {
        const xb_refused *r = &xb->refused[i];
        cor_nbuf_printf(&out, "%s{\"index\":%u,\"error\":", i ? "," : "", r->index);
        xb_render_error(&out, r->code, r->text, r->iso);
        cor_nbuf_str(&out, "}");
    }
    cor_nbuf_printf(&out, "],\"refused_count\":%u}", xb->refused_count);
    return http_respond_json(request, 202, &out);
}

/* ---------------------------------------------------------------------------------------- */
/* Metrics                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void metric_head(cor_nbuf *out, const char *name, const char *type, const char *help)
{
    cor_nbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void http_xb_metrics(cor_node_server *server, cor_nbuf *out)
{
    cor_xb_stats stats;
    pthread_rwlock_rdlock(&server->state_lock);
    cor_xb_stats_get(cor_node_state_xb(server->state), &stats);
    pthread_rwlock_unlock(&server->state_lock);
    pthread_rwlock_rdlock(&server->screening_lock);
    uint32_t entries = cor_screening_count(server->screening);
    pthread_rwlock_unlock(&server->screening_lock);
    metric_head(out, "corridor_xborder_payments", "gauge",
                "Cross-border payments this node keeps (both roles).");
    cor_nbuf_printf(out, "corridor_xborder_payments %u\n", stats.payments_count);
    metric_head(out, "corridor_xborder_open", "gauge",
                "Cross-border payments not final: forwarded (origin) or held (beneficiary).");
    cor_nbuf_printf(out, "corridor_xborder_open %u\n", stats.open_count);
    metric_head(out, "corridor_xborder_messages_total", "counter",
                "Protocol messages queued for peers.");
    cor_nbuf_printf(out, "corridor_xborder_messages_total %llu\n",
                    (unsigned long long)stats.messages_sent);
    metric_head(out, "corridor_xborder_refusals_total", "counter",
                "Peer messages refused by the protocol's envelope checks (replay, stale, ...).");
    cor_nbuf_printf(out, "corridor_xborder_refusals_total %llu\n",
                    (unsigned long long)stats.refusals);
    metric_head(out, "corridor_xborder_conflicts_total", "counter",
                "Answers contradicting a final state; anything above 0 is an alarm.");
    cor_nbuf_printf(out, "corridor_xborder_conflicts_total %llu\n",
                    (unsigned long long)stats.conflicts);
    metric_head(out, "corridor_watchlist_entries", "gauge", "Entries of the loaded watch list.");
    cor_nbuf_printf(out, "corridor_watchlist_entries %u\n", entries);
    static const char *const names[] = {"corridor_peer_up", "corridor_peer_sent_total",
                                        "corridor_peer_failed_total", "corridor_peer_dropped_total",
                                        "corridor_peer_queue_depth"};
    static const char *const types[] = {"gauge", "counter", "counter", "counter", "gauge"};
    static const char *const helps[] = {
        "1 when the last request to the peer got an answer below 500.",
        "Messages the peer acknowledged.",
        "Messages given up (retries exhausted, refused, or not encodable).",
        "Messages dropped because the peer's queue was full.", "Messages waiting for the peer."};
    for (int m = 0; m < 5; m++) {
        metric_head(out, names[m], types[m], helps[m]);
        for (uint32_t i = 0; i < server->config.peer_count; i++) {
            const cor_node_peer_config *p = &server->config.peers[i];
            cor_node_link_stats link = {0};
            (void)cor_node_sender_link(server->sender, p->node_id, &link);
            uint64_t values[] = {link.up ? 1u : 0u, link.sent, link.failed, link.dropped,
                                 link.queued};
            cor_nbuf_printf(out, "%s{peer=\"%s\"} %llu\n", names[m], p->name,
                            (unsigned long long)values[m]);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Routing                                                                                  */
/* ---------------------------------------------------------------------------------------- */

enum MHD_Result http_xb_finish(http_request *request)
{
    const cor_node_result *r = &request->results[0];
    switch (request->xb->render) {
    case XB_RENDER_FX:
        return finish_fx(request, r);
    case XB_RENDER_RATE:
        return finish_rate(request, r);
    case XB_RENDER_QUOTES:
        return finish_quotes(request);
    case XB_RENDER_PAYMENTS:
        return finish_xb_payments(request);
    case XB_RENDER_ACTION:
        return finish_action(request, r);
    case XB_RENDER_PEER:
        return finish_peer(request);
    default:
        COR_UNREACHABLE();
    }
}

cor_route http_xb_identify(const http_path *p)
{
    if (p->count == 3 && seg_is(p, 1, "corridor") && seg_is(p, 2, "peers"))
        return COR_ROUTE_XB_PEERS;
    if (p->count == 3 && seg_is(p, 1, "corridor") && seg_is(p, 2, "fx")) return COR_ROUTE_XB_FX;
    if (p->count == 3 && seg_is(p, 1, "fx") && seg_is(p, 2, "rates")) return COR_ROUTE_FX_RATES;
    if (p->count == 3 && seg_is(p, 1, "fx") && seg_is(p, 2, "quotes")) return COR_ROUTE_FX_QUOTES;
    if (p->count == 3 && seg_is(p, 1, "peer") && seg_is(p, 2, "messages")) {
        return COR_ROUTE_PEER_MESSAGES;
    }
    if (p->count == 3 && seg_is(p, 1, "screening") && seg_is(p, 2, "watchlist")) {
        return COR_ROUTE_WATCHLIST;
    }
    if (p->count == 4 && seg_is(p, 1, "payments") && seg_is(p, 3, "track"))
        return COR_ROUTE_XB_TRACK;
    if (!seg_is(p, 1, "xborder")) return COR_ROUTE_UNKNOWN;
    if (p->count == 3 && seg_is(p, 2, "payments")) return COR_ROUTE_XB_PAYMENTS;
    if (p->count == 3 && seg_is(p, 2, "holds")) return COR_ROUTE_XB_HOLDS;
    if (p->count == 3 && seg_is(p, 2, "stats")) return COR_ROUTE_XB_STATS;
    if (p->count == 3 && seg_is(p, 2, "reconcile")) return COR_ROUTE_XB_RECONCILE;
    if (p->count == 4 && seg_is(p, 2, "payments")) return COR_ROUTE_XB_PAYMENT;
    if (p->count == 5 && seg_is(p, 2, "payments") &&
        (seg_is(p, 4, "cancel") || seg_is(p, 4, "return") || seg_is(p, 4, "release") ||
         seg_is(p, 4, "reject"))) {
        return COR_ROUTE_XB_PAYMENT_ACTION;
    }
    return COR_ROUTE_UNKNOWN;
}

unsigned http_xb_roles(cor_route route, const char *method)
{
    bool get = strcmp(method, "GET") == 0;
    bool post = strcmp(method, "POST") == 0;
    const unsigned op = 1u << HTTP_ROLE_OPERATOR;
    const unsigned aud = 1u << HTTP_ROLE_AUDITOR;
    const unsigned part = 1u << HTTP_ROLE_PARTICIPANT;
    switch (route) {
    case COR_ROUTE_XB_PEERS:
        return get ? op | aud | part : 0;
    case COR_ROUTE_XB_FX:
        return post ? op : 0;
    case COR_ROUTE_FX_RATES:
        return get ? op | aud | part : post ? part : 0;
    case COR_ROUTE_FX_QUOTES:
    case COR_ROUTE_XB_PAYMENTS:
        return post ? part : 0;
    case COR_ROUTE_XB_PAYMENT:
    case COR_ROUTE_XB_TRACK:
        return get ? op | aud | part : 0;
    case COR_ROUTE_XB_PAYMENT_ACTION:
        return post ? op | part : 0;
    case COR_ROUTE_XB_HOLDS:
    case COR_ROUTE_XB_STATS:
    case COR_ROUTE_XB_RECONCILE:
        return get ? op | aud : 0;
    case COR_ROUTE_WATCHLIST:
        return get ? op | aud : strcmp(method, "PUT") == 0 ? op : 0;
    case COR_ROUTE_PEER_MESSAGES:
        return post ? 1u << HTTP_ROLE_PEER : 0;
    default:
        return 0;
    }
}

enum MHD_Result http_xb_dispatch(http_request *request, const http_path *p, bool get)
{
    switch (request->route) {
    case COR_ROUTE_XB_PEERS:
        return route_peers(request);
    case COR_ROUTE_XB_FX:
        return route_fx_map(request);
    case COR_ROUTE_FX_RATES:
        return get ? route_rates_list(request) : route_rate_publish(request);
    case COR_ROUTE_FX_QUOTES:
        return route_quotes(request);
    case COR_ROUTE_XB_PAYMENTS:
        return route_xb_payments(request);
    case COR_ROUTE_XB_PAYMENT:
        return route_xb_payment_get(request, p->segments[3], false);
    case COR_ROUTE_XB_TRACK:
        return route_xb_payment_get(request, p->segments[2], true);
    case COR_ROUTE_XB_PAYMENT_ACTION:
        return route_xb_action(request, p->segments[3], p->segments[4]);
    case COR_ROUTE_XB_HOLDS:
        return route_holds(request);
    case COR_ROUTE_XB_STATS:
        return route_stats(request);
    case COR_ROUTE_XB_RECONCILE:
        return route_reconcile(request);
    case COR_ROUTE_WATCHLIST:
        return get ? route_watchlist_get(request) : route_watchlist_put(request);
    case COR_ROUTE_PEER_MESSAGES:
        return route_peer_messages(request);
    default:
        COR_UNREACHABLE();
    }
}
