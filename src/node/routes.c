/*
 * The node's HTTP routes: authentication, authorization, one handler per route, and the
 * JSON rendering of results. docs/API.md is the contract; this file implements it.
 *
 * Authorization rules, checked before any body is read: the operator administers (the only
 * writer of participants, keys, funding and ledger records); auditors read everything and
 * write nothing; a participant reads only itself, its own payments and its own statement, and
 * sends payments only from its own account (the debtor is always the caller: there is no
 * field to name another). The core re-checks the caller's key when the command applies.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/currency.h"
#include "node/server_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Authentication                                                                           */
/* ---------------------------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Parses "Bearer cor_<key id>_<64 lowercase hex>". */
static bool auth_parse(const char *header, uint32_t *key_id, uint8_t *secret)
{
    if (header == NULL || strncmp(header, "Bearer cor_", 11) != 0) return false;
    const char *p = header + 11;
    uint64_t id = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
        id = id * 10u + (uint64_t)(*p - '0');
    if (digits == 0 || *p != '_' || id > UINT32_MAX) return false;
    p++;
    for (size_t i = 0; i < COR_NODE_KEY_SECRET_SIZE_BYTES; i++) {
        int high = hex_digit(p[2 * i]);
        if (high < 0) return false;
        int low = hex_digit(p[2 * i + 1]);
        if (low < 0) return false;
        secret[i] = (uint8_t)(high * 16 + low);
    }
    if (p[2 * COR_NODE_KEY_SECRET_SIZE_BYTES] != '\0') return false;
    *key_id = (uint32_t)id;
    return true;
}

/* Fills request->who; false when the key is missing, malformed, unknown or revoked. The
 * hash comparison is constant-time (sodium_memcmp) and is done even for unknown ids. */
static bool http_authenticate(http_request *request)
{
    cor_node_server *server = request->server;
    const char *header = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_AUTHORIZATION);
    uint32_t key_id = 0;
    uint8_t secret[COR_NODE_KEY_SECRET_SIZE_BYTES];
    if (!auth_parse(header, &key_id, secret)) return false;
    uint8_t hash[COR_NODE_KEY_HASH_SIZE_BYTES];
    crypto_generichash(hash, sizeof(hash), secret, sizeof(secret), NULL, 0);
    sodium_memzero(secret, sizeof(secret));

    cor_node_key key = {0};
    bool known = false;
    if (key_id == 0) {
        memcpy(key.hash, server->config.operator_key_hash, sizeof(key.hash));
        known = true;
    } else {
        pthread_rwlock_rdlock(&server->state_lock);
        const cor_node_key *stored = cor_node_state_key(server->state, key_id);
        if (stored != NULL) {
            key = *stored;
            known = true;
        }
        pthread_rwlock_unlock(&server->state_lock);
    }
    bool match = sodium_memcmp(hash, key.hash, sizeof(hash)) == 0;
    if (!known || !match || key.revoked) return false;
    request->who.key_id = key_id;
    if (key_id == 0) {
        request->who.role = HTTP_ROLE_OPERATOR;
    } else if (key.kind == COR_NODE_KEY_AUDITOR) {
        request->who.role = HTTP_ROLE_AUDITOR;
    } else {
        request->who.role = HTTP_ROLE_PARTICIPANT;
        request->who.participant = key.participant;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Rendering                                                                                */
/* ---------------------------------------------------------------------------------------- */

static const char *role_name(uint8_t role)
{
    switch (role) {
    case COR_NODE_ROLE_BANK:
        return "bank";
    case COR_NODE_ROLE_FX_PROVIDER:
        return "fx_provider";
    case COR_NODE_ROLE_CENTRAL_BANK:
        return "central_bank";
    default:
        return "unknown";
    }
}

/* A signed difference a - b of two u128 as a JSON string. */
static void render_signed(cor_nbuf *out, cor_u128 a, cor_u128 b)
{
    char digits[COR_U128_DECIMAL_SIZE_MAX];
    if (a >= b) {
        cor_u128_format(a - b, digits);
        cor_nbuf_printf(out, "\"%s\"", digits);
    } else {
        cor_u128_format(b - a, digits);
        cor_nbuf_printf(out, "\"-%s\"", digits);
    }
}

static void render_u64(cor_nbuf *out, uint64_t value)
{
    cor_nbuf_printf(out, "\"%llu\"", (unsigned long long)value);
}

static void render_balance(cor_nbuf *out, const cor_node_balance *b, cor_u128 cap)
{
    cor_nbuf_str(out, "{\"credits_posted\":");
    cor_nbuf_json_u128(out, b->credits_posted);
    cor_nbuf_str(out, ",\"debits_posted\":");
    cor_nbuf_json_u128(out, b->debits_posted);
    cor_nbuf_str(out, ",\"credits_pending\":");
    cor_nbuf_json_u128(out, b->credits_pending);
    cor_nbuf_str(out, ",\"debits_pending\":");
    cor_nbuf_json_u128(out, b->debits_pending);
    cor_nbuf_str(out, ",\"net\":");
    render_signed(out, b->credits_posted, b->debits_posted);
    cor_nbuf_str(out, ",\"available\":");
    cor_u128 limit =
        b->credits_posted + cap < b->credits_posted ? COR_U128_MAX : b->credits_posted + cap;
    cor_u128 used = b->debits_posted + b->debits_pending;
    render_signed(out, limit, used);
    cor_nbuf_str(out, "}");
}

/* Call with the state lock held (read). */
static void render_participant(cor_nbuf *out, const cor_node_server *server,
                               const cor_node_participant *p, bool with_keys)
{
    cor_nbuf_printf(out, "{\"id\":\"%u\",\"name\":", p->id);
    cor_nbuf_json_string(out, p->name, p->name_length);
    cor_nbuf_printf(out, ",\"bic\":\"%s\",\"role\":\"%s\",\"status\":\"%s\",\"currency\":\"%s\"",
                    p->bic, role_name(p->role),
                    p->status == COR_NODE_PARTICIPANT_ACTIVE ? "active" : "suspended",
                    server->config.currency);
    cor_nbuf_str(out, ",\"debit_cap\":");
    cor_nbuf_json_u128(out, p->debit_cap);
    cor_nbuf_str(out, ",\"created_at\":");
    render_u64(out, p->created_timestamp);
    cor_node_balance balance;
    if (cor_node_state_balance(server->state, p->id, &balance)) {
        cor_nbuf_str(out, ",\"balance\":");
        render_balance(out, &balance, p->debit_cap);
    }
    if (with_keys) {
        cor_nbuf_str(out, ",\"keys\":[");
        bool first = true;
        uint32_t count = cor_node_state_keys_count(server->state);
        for (uint32_t id = 1; id <= count; id++) {
            const cor_node_key *key = cor_node_state_key(server->state, id);
            if (key->kind != COR_NODE_KEY_PARTICIPANT || key->participant != p->id) continue;
            cor_nbuf_printf(out, "%s{\"key_id\":\"%u\",\"revoked\":%s}", first ? "" : ",", id,
                            key->revoked ? "true" : "false");
            first = false;
        }
        cor_nbuf_str(out, "]");
    }
    cor_nbuf_str(out, "}");
}

static void render_payment(cor_nbuf *out, const char *currency, const cor_node_payment_in *in,
                           uint32_t debtor, uint32_t code, uint64_t timestamp, uint64_t number,
                           bool duplicate)
{
    cor_nbuf_str(out, "{\"payment_id\":");
    cor_nbuf_json_u128(out, in->payment_id);
    cor_nbuf_printf(out, ",\"debtor\":\"%u\",\"creditor\":\"%u\",\"amount\":", debtor,
                    in->creditor);
    cor_nbuf_json_u128(out, in->amount);
    cor_nbuf_printf(out, ",\"currency\":\"%s\",\"status\":\"%s\"", currency,
                    code == COR_NODE_CREATED ? "accepted" : "rejected");
    if (code != COR_NODE_CREATED) {
        cor_nbuf_printf(out, ",\"reason\":\"%s\"", cor_node_code_name(code));
    } else {
        cor_nbuf_str(out, ",\"transfer_id\":");
        cor_nbuf_json_u128(out, cor_node_transfer_id(COR_NODE_KIND_PAYMENT, number));
    }
    if (in->e2e_length > 0) {
        cor_nbuf_str(out, ",\"end_to_end_id\":");
        cor_nbuf_json_string(out, in->e2e, in->e2e_length);
    }
    if (in->has_uetr) {
        char uetr[37];
        cor_node_uetr_format(in->uetr, uetr);
        cor_nbuf_printf(out, ",\"uetr\":\"%s\"", uetr);
    }
    if (in->remittance_length > 0) {
        cor_nbuf_str(out, ",\"remittance_info\":");
        cor_nbuf_json_string(out, in->remittance, in->remittance_length);
    }
    cor_nbuf_str(out, ",\"timestamp\":");
    render_u64(out, timestamp);
    if (duplicate) cor_nbuf_str(out, ",\"duplicate\":true");
    cor_nbuf_str(out, "}");
}

static void render_flags(cor_nbuf *out, uint16_t flags, const char *const *names, size_t count)
{
    cor_nbuf_str(out, "[");
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        if ((flags & (1u << i)) == 0) continue;
        cor_nbuf_printf(out, "%s\"%s\"", first ? "" : ",", names[i]);
        first = false;
    }
    cor_nbuf_str(out, "]");
}

static const char *const account_flag_names[] = {"linked",
                                                 "debits_must_not_exceed_credits",
                                                 "credits_must_not_exceed_debits",
                                                 "history",
                                                 "imported",
                                                 "closed"};
static const char *const transfer_flag_names[] = {
    "linked",          "pending",          "post_pending_transfer", "void_pending_transfer",
    "balancing_debit", "balancing_credit", "closing_debit",         "closing_credit",
    "imported"};

static void render_account(cor_nbuf *out, const cor_account *a)
{
    cor_nbuf_str(out, "{\"id\":");
    cor_nbuf_json_u128(out, a->id);
    cor_nbuf_str(out, ",\"debits_pending\":");
    cor_nbuf_json_u128(out, a->debits_pending);
    cor_nbuf_str(out, ",\"debits_posted\":");
    cor_nbuf_json_u128(out, a->debits_posted);
    cor_nbuf_str(out, ",\"credits_pending\":");
    cor_nbuf_json_u128(out, a->credits_pending);
    cor_nbuf_str(out, ",\"credits_posted\":");
    cor_nbuf_json_u128(out, a->credits_posted);
    cor_nbuf_str(out, ",\"user_data_128\":");
    cor_nbuf_json_u128(out, a->user_data_128);
    cor_nbuf_str(out, ",\"user_data_64\":");
    render_u64(out, a->user_data_64);
    cor_nbuf_printf(out,
                    ",\"user_data_32\":%u,\"ledger\":%u,\"code\":%u,\"flags\":", a->user_data_32,
                    a->ledger, a->code);
    render_flags(out, a->flags, account_flag_names, 6);
    cor_nbuf_str(out, ",\"timestamp\":");
    render_u64(out, a->timestamp);
    cor_nbuf_str(out, "}");
}

static void render_transfer(cor_nbuf *out, const cor_transfer *t)
{
    cor_nbuf_str(out, "{\"id\":");
    cor_nbuf_json_u128(out, t->id);
    cor_nbuf_str(out, ",\"debit_account_id\":");
    cor_nbuf_json_u128(out, t->debit_account_id);
    cor_nbuf_str(out, ",\"credit_account_id\":");
    cor_nbuf_json_u128(out, t->credit_account_id);
    cor_nbuf_str(out, ",\"amount\":");
    cor_nbuf_json_u128(out, t->amount);
    cor_nbuf_str(out, ",\"pending_id\":");
    cor_nbuf_json_u128(out, t->pending_id);
    cor_nbuf_str(out, ",\"user_data_128\":");
    cor_nbuf_json_u128(out, t->user_data_128);
    cor_nbuf_str(out, ",\"user_data_64\":");
    render_u64(out, t->user_data_64);
    cor_nbuf_printf(out, ",\"user_data_32\":%u,\"timeout\":%u,\"ledger\":%u,\"code\":%u,\"flags\":",
                    t->user_data_32, t->timeout, t->ledger, t->code);
    render_flags(out, t->flags, transfer_flag_names, 9);
    cor_nbuf_str(out, ",\"timestamp\":");
    render_u64(out, t->timestamp);
    cor_nbuf_str(out, "}");
}

static void render_account_balance(cor_nbuf *out, const cor_account_balance *b)
{
    cor_nbuf_str(out, "{\"transfer_id\":");
    cor_nbuf_json_u128(out, b->transfer_id);
    cor_nbuf_str(out, ",\"timestamp\":");
    render_u64(out, b->timestamp);
    cor_nbuf_str(out, ",\"debits_pending\":");
    cor_nbuf_json_u128(out, b->debits_pending);
    cor_nbuf_str(out, ",\"debits_posted\":");
    cor_nbuf_json_u128(out, b->debits_posted);
    cor_nbuf_str(out, ",\"credits_pending\":");
    cor_nbuf_json_u128(out, b->credits_pending);
    cor_nbuf_str(out, ",\"credits_posted\":");
    cor_nbuf_json_u128(out, b->credits_posted);
    cor_nbuf_str(out, "}");
}

/* ---------------------------------------------------------------------------------------- */
/* Query strings                                                                            */
/* ---------------------------------------------------------------------------------------- */

static const char *query_value(http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

static bool query_u128(http_request *request, const char *name, cor_u128 *out,
                       cor_node_fault *fault)
{
    const char *text = query_value(request, name);
    if (text == NULL) return true;
    if (!cor_node_parse_u128(text, out)) {
        cor_node_fault_set(fault, 400, "invalid_query", name, "expected a decimal number");
        return false;
    }
    return true;
}

static bool query_u64(http_request *request, const char *name, uint64_t max, uint64_t *out,
                      cor_node_fault *fault)
{
    cor_u128 value = *out;
    if (!query_u128(request, name, &value, fault)) return false;
    if (value > max) {
        cor_node_fault_set(fault, 400, "invalid_query", name, "value out of range");
        return false;
    }
    *out = (uint64_t)value;
    return true;
}

static bool query_bool(http_request *request, const char *name, bool *out, cor_node_fault *fault)
{
    const char *text = query_value(request, name);
    if (text == NULL) return true;
    if (strcmp(text, "true") == 0) {
        *out = true;
    } else if (strcmp(text, "false") == 0) {
        *out = false;
    } else {
        cor_node_fault_set(fault, 400, "invalid_query", name, "expected true or false");
        return false;
    }
    return true;
}

/* The common paging fields: timestamp_min, timestamp_max, limit, reversed. */
typedef struct query_range {
    uint64_t timestamp_min;
    uint64_t timestamp_max;
    uint64_t limit;
    bool reversed;
} query_range;

static bool query_range_get(http_request *request, query_range *range, cor_node_fault *fault)
{
    *range = (query_range){.limit = 100};
    if (!query_u64(request, "timestamp_min", UINT64_MAX, &range->timestamp_min, fault) ||
        !query_u64(request, "timestamp_max", UINT64_MAX, &range->timestamp_max, fault) ||
        !query_u64(request, "limit", COR_NODE_QUERY_RESULTS_MAX, &range->limit, fault) ||
        !query_bool(request, "reversed", &range->reversed, fault)) {
        return false;
    }
    if (range->limit == 0) {
        cor_node_fault_set(fault, 400, "invalid_query", "limit", "limit must be at least 1");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Reads                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* 200 while the node accepts writes; 503 once a journal append failed (reads still work,
 * writes need a restart), so a load balancer can route around it. */
static enum MHD_Result route_healthz(http_request *request)
{
    const cor_node_config *c = &request->server->config;
    bool poisoned = cor_node_core_poisoned(request->server->core);
    char body[256];
    int size =
        snprintf(body, sizeof(body), "{\"status\":\"%s\",\"node\":\"%s\",\"currency\":\"%s\"}",
                 poisoned ? "journal_failed" : "ok", c->name, c->currency);
    return http_respond(request, poisoned ? 503 : 200, "application/json", body, (size_t)size);
}

static enum MHD_Result route_metrics(http_request *request)
{
    cor_node_server *server = request->server;
    cor_node_totals totals;
    cor_metrics_totals rendered = {.currency = server->config.currency};
    pthread_rwlock_rdlock(&server->state_lock);
    cor_node_state_totals(server->state, &totals);
    rendered.participants = cor_node_state_participants_count(server->state);
    pthread_rwlock_unlock(&server->state_lock);
    cor_u128_format(totals.issued, rendered.issued);
    cor_u128_format(totals.payments_amount, rendered.payments_amount);
    rendered.payments_accepted = totals.payments_accepted;
    rendered.payments_rejected = totals.payments_rejected;
    cor_nbuf body;
    cor_nbuf_init(&body, 1u << 20);
    cor_metrics_render(&server->metrics, &rendered, &body);
    http_xb_metrics(server, &body);
    if (!cor_nbuf_ok(&body)) {
        cor_nbuf_release(&body);
        return http_respond_error(request, 500, "internal", "metrics too large");
    }
    enum MHD_Result result =
        http_respond(request, 200, "text/plain; version=0.0.4", body.data, body.size);
    cor_nbuf_release(&body);
    return result;
}

static enum MHD_Result route_participants_list(http_request *request)
{
    cor_node_server *server = request->server;
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    cor_nbuf_str(&body, "{\"participants\":[");
    pthread_rwlock_rdlock(&server->state_lock);
    uint32_t count = cor_node_state_participants_count(server->state);
    for (uint32_t id = 1; id <= count; id++) {
        if (id > 1) cor_nbuf_str(&body, ",");
        render_participant(&body, server, cor_node_state_participant(server->state, id), false);
    }
    pthread_rwlock_unlock(&server->state_lock);
    cor_nbuf_str(&body, "]}");
    return http_respond_json(request, 200, &body);
}

static enum MHD_Result route_participant_get(http_request *request, uint32_t id, unsigned status)
{
    cor_node_server *server = request->server;
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p = cor_node_state_participant(server->state, id);
    if (p != NULL) render_participant(&body, server, p, request->who.role != HTTP_ROLE_PARTICIPANT);
    pthread_rwlock_unlock(&server->state_lock);
    if (p == NULL) {
        cor_nbuf_release(&body);
        return http_respond_error(request, 404, "participant_not_found", "no such participant");
    }
    return http_respond_json(request, status, &body);
}

/* The participant a read concerns: the caller itself, or for operator and auditor the one
 * named by the query parameter name (required). */
static bool read_subject(http_request *request, const char *name, uint32_t *out,
                         cor_node_fault *fault)
{
    if (request->who.role == HTTP_ROLE_PARTICIPANT) {
        if (query_value(request, name) != NULL) {
            cor_node_fault_set(fault, 403, "forbidden", name, "participants read only their own");
            return false;
        }
        *out = request->who.participant;
        return true;
    }
    const char *text = query_value(request, name);
    if (text == NULL || !cor_node_parse_u32(text, out)) {
        cor_node_fault_set(fault, 400, "invalid_query", name, "name a participant id");
        return false;
    }
    return true;
}

static enum MHD_Result route_payment_get(http_request *request, const char *id_text)
{
    cor_node_server *server = request->server;
    cor_node_fault fault;
    cor_u128 payment_id;
    uint32_t debtor;
    if (!cor_node_parse_u128(id_text, &payment_id)) {
        return http_respond_error(request, 400, "invalid_id", "payment id must be decimal");
    }
    if (!read_subject(request, "debtor", &debtor, &fault))
        return http_respond_fault(request, &fault);
    cor_nbuf body;
    cor_nbuf_init(&body, 8192);
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_payment *p = cor_node_state_payment(server->state, debtor, payment_id);
    if (p != NULL) {
        render_payment(&body, server->config.currency, &p->in, p->debtor, p->code, p->timestamp,
                       p->number, false);
    }
    pthread_rwlock_unlock(&server->state_lock);
    if (p == NULL) {
        cor_nbuf_release(&body);
        return http_respond_error(request, 404, "payment_not_found", "no such payment");
    }
    return http_respond_json(request, 200, &body);
}

/* One statement entry; call with the state lock held. */
static void render_entry(cor_nbuf *out, const cor_node_state *state, uint32_t participant,
                         const cor_transfer *t, const cor_account_balance *after)
{
    cor_u128 own = cor_node_settlement_id(participant);
    bool debit = t->debit_account_id == own;
    cor_u128 other = debit ? t->credit_account_id : t->debit_account_id;
    cor_nbuf_str(out, "{\"transfer_id\":");
    cor_nbuf_json_u128(out, t->id);
    cor_nbuf_str(out, ",\"timestamp\":");
    render_u64(out, t->timestamp);
    cor_nbuf_printf(out, ",\"direction\":\"%s\",\"amount\":", debit ? "debit" : "credit");
    cor_nbuf_json_u128(out, t->amount);
    if (other == COR_NODE_ISSUANCE_ID) {
        cor_nbuf_str(out, ",\"counterparty\":\"issuance\"");
    } else {
        cor_nbuf_printf(out, ",\"counterparty\":\"%u\"", (uint32_t)(other - COR_NODE_ID_BASE));
    }
    if (t->code == COR_NODE_TRANSFER_CODE_PAYMENT) {
        const cor_node_payment *p = cor_node_state_payment_number(state, t->user_data_64);
        cor_nbuf_str(out, ",\"kind\":\"payment\",\"payment_id\":");
        cor_nbuf_json_u128(out, t->user_data_128);
        if (p != NULL && p->in.e2e_length > 0) {
            cor_nbuf_str(out, ",\"end_to_end_id\":");
            cor_nbuf_json_string(out, p->in.e2e, p->in.e2e_length);
        }
    } else {
        cor_nbuf_str(out, ",\"kind\":\"funding\",\"funding_id\":");
        render_u64(out, (uint64_t)(t->id - cor_node_transfer_id(COR_NODE_KIND_FUNDING, 0)));
    }
    if (after != NULL && after->transfer_id == t->id) {
        cor_nbuf_str(out, ",\"balance_after\":");
        render_signed(out, after->credits_posted, after->debits_posted);
    }
    cor_nbuf_str(out, "}");
}

typedef struct query_buffers {
    cor_transfer *transfers;
    cor_account_balance *balances;
    cor_account *accounts;
} query_buffers;

static void query_buffers_free(query_buffers *b)
{
    cor_free(b->transfers);
    cor_free(b->balances);
    cor_free(b->accounts);
}

/* Renders the one buffer of b that is set, as {"accounts":[...]}, {"balances":[...]} or
 * {"transfers":[...]}, frees b and answers 200. */
static enum MHD_Result respond_records(http_request *request, query_buffers *b, uint32_t count)
{
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    const char *key = b->accounts != NULL ? "accounts"
                      : b->balances != NULL ? "balances"
                                            : "transfers";
    cor_nbuf_printf(&body, "{\"%s\":[", key);
    for (uint32_t i = 0; i < count; i++) {
        if (i > 0) cor_nbuf_str(&body, ",");
        if (b->accounts != NULL) {
            render_account(&body, &b->accounts[i]);
        } else if (b->balances != NULL) {
            render_account_balance(&body, &b->balances[i]);
        } else {
            render_transfer(&body, &b->transfers[i]);
        }
    }
    cor_nbuf_str(&body, "]}");
    query_buffers_free(b);
    return http_respond_json(request, 200, &body);
}

static enum MHD_Result route_statement(http_request *request)
{
    cor_node_server *server = request->server;
    cor_node_fault fault;
    uint32_t participant;
    query_range range;
    if (!read_subject(request, "participant", &participant, &fault) ||
        !query_range_get(request, &range, &fault)) {
        return http_respond_fault(request, &fault);
    }
    query_buffers b = {.transfers = cor_calloc(range.limit, sizeof(cor_transfer)),
                       .balances = cor_calloc(range.limit, sizeof(cor_account_balance))};
    if (b.transfers == NULL || b.balances == NULL) {
        query_buffers_free(&b);
        return http_respond_error(request, 503, "busy", "out of memory");
    }
    cor_account_filter filter = {.account_id = cor_node_settlement_id(participant),
                                 .timestamp_min = range.timestamp_min,
                                 .timestamp_max = range.timestamp_max,
                                 .limit = (uint32_t)range.limit,
                                 .flags = range.reversed ? COR_ACCOUNT_FILTER_REVERSED : 0};
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p = cor_node_state_participant(server->state, participant);
    if (p != NULL) {
        const cor_ledger *ledger = cor_node_state_ledger(server->state);
        uint32_t count =
            cor_ledger_get_account_transfers(ledger, &filter, b.transfers, (uint32_t)range.limit);
        uint32_t balances =
            cor_ledger_get_account_balances(ledger, &filter, b.balances, (uint32_t)range.limit);
        cor_node_balance balance;
        cor_node_state_balance(server->state, participant, &balance);
        cor_nbuf_printf(&body,
                        "{\"participant\":\"%u\",\"currency\":\"%s\",\"balance\":", participant,
                        server->config.currency);
        render_balance(&body, &balance, p->debit_cap);
        cor_nbuf_str(&body, ",\"entries\":[");
        for (uint32_t i = 0; i < count; i++) {
            if (i > 0) cor_nbuf_str(&body, ",");
            render_entry(&body, server->state, participant, &b.transfers[i],
                         i < balances ? &b.balances[i] : NULL);
        }
        cor_nbuf_str(&body, "]}");
    }
    pthread_rwlock_unlock(&server->state_lock);
    query_buffers_free(&b);
    if (p == NULL) {
        cor_nbuf_release(&body);
        return http_respond_error(request, 404, "participant_not_found", "no such participant");
    }
    return http_respond_json(request, 200, &body);
}

static enum MHD_Result route_ledger_get(http_request *request, bool account, const char *id_text)
{
    cor_node_server *server = request->server;
    cor_u128 id;
    if (!cor_node_parse_u128(id_text, &id)) {
        return http_respond_error(request, 400, "invalid_id", "id must be decimal");
    }
    cor_account a;
    cor_transfer t;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_ledger *ledger = cor_node_state_ledger(server->state);
    bool found = account ? cor_ledger_lookup_account(ledger, id, &a)
                         : cor_ledger_lookup_transfer(ledger, id, &t);
    cor_pending_status pending =
        found && !account ? cor_ledger_pending_status(ledger, id) : COR_PENDING_STATUS_NONE;
    pthread_rwlock_unlock(&server->state_lock);
    if (!found) {
        return http_respond_error(
            request, 404, account ? "account_not_found" : "transfer_not_found", "no such record");
    }
    cor_nbuf body;
    cor_nbuf_init(&body, 8192);
    if (account) {
        render_account(&body, &a);
    } else {
        static const char *const pending_names[] = {"none", "pending", "posted", "voided",
                                                    "expired"};
        render_transfer(&body, &t);
        body.size--; /* reopen the object to add the pending status */
        cor_nbuf_printf(&body, ",\"pending_status\":\"%s\"}", pending_names[pending]);
    }
    return http_respond_json(request, 200, &body);
}

/* ?ids=1,2,3: the records found, in request order, missing ids skipped (the ledger's batch
 * lookup semantics). */
static enum MHD_Result route_ledger_lookup(http_request *request, bool accounts)
{
    const char *text = query_value(request, "ids");
    cor_u128 ids[COR_NODE_LOOKUP_IDS_MAX];
    uint32_t count = 0;
    const char *p = text;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t length = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (count == COR_NODE_LOOKUP_IDS_MAX || !cor_u128_parse(p, length, &ids[count])) {
            cor_node_fault fault;
            cor_node_fault_set(&fault, 400, "invalid_query", "ids",
                               "up to %u comma-separated decimal ids", COR_NODE_LOOKUP_IDS_MAX);
            return http_respond_fault(request, &fault);
        }
        count++;
        p = comma != NULL ? comma + 1 : NULL;
    }
    if (count == 0) {
        cor_node_fault fault;
        cor_node_fault_set(&fault, 400, "invalid_query", "ids", "give ids=1,2,3");
        return http_respond_fault(request, &fault);
    }
    query_buffers b = {0};
    if (accounts) {
        b.accounts = cor_calloc(count, sizeof(cor_account));
    } else {
        b.transfers = cor_calloc(count, sizeof(cor_transfer));
    }
    if (b.accounts == NULL && b.transfers == NULL)
        return http_respond_error(request, 503, "busy", "out of memory");
    pthread_rwlock_rdlock(&request->server->state_lock);
    const cor_ledger *ledger = cor_node_state_ledger(request->server->state);
    uint32_t found = accounts ? cor_ledger_lookup_accounts(ledger, ids, count, b.accounts)
                              : cor_ledger_lookup_transfers(ledger, ids, count, b.transfers);
    pthread_rwlock_unlock(&request->server->state_lock);
    return respond_records(request, &b, found);
}

static enum MHD_Result route_ledger_account_history(http_request *request, const char *id_text,
                                                    bool balances)
{
    cor_node_server *server = request->server;
    cor_node_fault fault;
    cor_account_filter filter = {0};
    query_range range;
    bool debits = false, credits = false;
    uint64_t user_data_32 = 0, code = 0;
    if (!cor_node_parse_u128(id_text, &filter.account_id)) {
        return http_respond_error(request, 400, "invalid_id", "id must be decimal");
    }
    if (!query_range_get(request, &range, &fault) ||
        !query_bool(request, "debits", &debits, &fault) ||
        !query_bool(request, "credits", &credits, &fault) ||
        !query_u128(request, "user_data_128", &filter.user_data_128, &fault) ||
        !query_u64(request, "user_data_64", UINT64_MAX, &filter.user_data_64, &fault) ||
        !query_u64(request, "user_data_32", UINT32_MAX, &user_data_32, &fault) ||
        !query_u64(request, "code", UINT16_MAX, &code, &fault)) {
        return http_respond_fault(request, &fault);
    }
    filter.user_data_32 = (uint32_t)user_data_32;
    filter.code = (uint16_t)code;
    filter.timestamp_min = range.timestamp_min;
    filter.timestamp_max = range.timestamp_max;
    filter.limit = (uint32_t)range.limit;
    filter.flags = (debits ? COR_ACCOUNT_FILTER_DEBITS : 0) |
                   (credits ? COR_ACCOUNT_FILTER_CREDITS : 0) |
                   (range.reversed ? COR_ACCOUNT_FILTER_REVERSED : 0);
    query_buffers b = {0};
    if (balances) {
        b.balances = cor_calloc(range.limit, sizeof(cor_account_balance));
    } else {
        b.transfers = cor_calloc(range.limit, sizeof(cor_transfer));
    }
    if (b.balances == NULL && b.transfers == NULL) {
        return http_respond_error(request, 503, "busy", "out of memory");
    }
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_ledger *ledger = cor_node_state_ledger(server->state);
    uint32_t count =
        balances ? cor_ledger_get_account_balances(ledger, &filter, b.balances, filter.limit)
                 : cor_ledger_get_account_transfers(ledger, &filter, b.transfers, filter.limit);
    pthread_rwlock_unlock(&server->state_lock);
    return respond_records(request, &b, count);
}

static enum MHD_Result route_ledger_query(http_request *request, bool accounts)
{
    cor_node_server *server = request->server;
    cor_node_fault fault;
    cor_query_filter filter = {0};
    query_range range;
    uint64_t user_data_32 = 0, ledger_id = 0, code = 0;
    if (!query_range_get(request, &range, &fault) ||
        !query_u128(request, "user_data_128", &filter.user_data_128, &fault) ||
        !query_u64(request, "user_data_64", UINT64_MAX, &filter.user_data_64, &fault) ||
        !query_u64(request, "user_data_32", UINT32_MAX, &user_data_32, &fault) ||
        !query_u64(request, "ledger", UINT32_MAX, &ledger_id, &fault) ||
        !query_u64(request, "code", UINT16_MAX, &code, &fault)) {
        return http_respond_fault(request, &fault);
    }
    filter.user_data_32 = (uint32_t)user_data_32;
    filter.ledger = (uint32_t)ledger_id;
    filter.code = (uint16_t)code;
    filter.timestamp_min = range.timestamp_min;
    filter.timestamp_max = range.timestamp_max;
    filter.limit = (uint32_t)range.limit;
    filter.flags = range.reversed ? COR_QUERY_FILTER_REVERSED : 0;
    query_buffers b = {0};
    if (accounts) {
        b.accounts = cor_calloc(range.limit, sizeof(cor_account));
    } else {
        b.transfers = cor_calloc(range.limit, sizeof(cor_transfer));
    }
    if (b.accounts == NULL && b.transfers == NULL) {
        return http_respond_error(request, 503, "busy", "out of memory");
    }
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_ledger *ledger = cor_node_state_ledger(server->state);
    uint32_t count = accounts
                         ? cor_ledger_query_accounts(ledger, &filter, b.accounts, filter.limit)
                         : cor_ledger_query_transfers(ledger, &filter, b.transfers, filter.limit);
    pthread_rwlock_unlock(&server->state_lock);
    return respond_records(request, &b, count);
}

/* ---------------------------------------------------------------------------------------- */
/* Writes                                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define HTTP_COMMAND_SIZE(body) (sizeof(cor_node_command_header) + (((body) + 15u) & ~15u))

static enum MHD_Result http_nomem(http_request *request)
{
    return http_respond_error(request, 503, "busy", "out of memory, try again later");
}

/* Parses the body as JSON; on failure responds and returns NULL. */
static json_t *http_json(http_request *request, enum MHD_Result *result)
{
    cor_node_fault fault;
    json_t *json = NULL;
    if (!cor_node_json_parse(request->body, request->body_size, &json, &fault)) {
        *result = http_respond_fault(request, &fault);
        return NULL;
    }
    return json;
}

static enum MHD_Result route_participant_create(http_request *request)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = http_json(request, &result);
    if (json == NULL) return result;
    cor_node_fault fault;
    cor_node_cmd_participant_create cmd;
    bool ok = cor_node_decode_participant_create(json, &cmd, &fault);
    json_decref(json);
    if (!ok) return http_respond_fault(request, &fault);
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE(sizeof(cmd)))) return http_nomem(request);
    http_payload_add(request, COR_NODE_CMD_PARTICIPANT_CREATE, 1, &cmd, sizeof(cmd));
    request->pending = HTTP_PENDING_PARTICIPANT;
    return http_submit(request, 1);
}

static enum MHD_Result route_participant_update(http_request *request, uint32_t id)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = http_json(request, &result);
    if (json == NULL) return result;
    cor_node_fault fault;
    uint32_t status = 0;
    bool has_cap = false;
    cor_u128 cap = 0;
    /* The cross-border limits (source currency; "0" = none); a field not given keeps its
     * current value. */
    bool has_limits = false;
    cor_node_cmd_xb_limits limits = {.participant = id};
    pthread_rwlock_rdlock(&request->server->state_lock);
    const cor_node_participant *current = cor_node_state_participant(request->server->state, id);
    if (current != NULL) {
        limits.payment_max = current->xb_payment_max;
        limits.daily_max = current->xb_daily_max;
    }
    pthread_rwlock_unlock(&request->server->state_lock);
    static const char *const limit_fields[] = {"xborder_payment_max", "xborder_daily_max"};
    bool ok = true;
    for (int i = 0; i < 2 && ok && json_is_object(json); i++) {
        json_t *value = json_object_get(json, limit_fields[i]);
        if (value == NULL) continue;
        cor_u128 amount = 0;
        if (!json_is_string(value) || !cor_node_parse_u128(json_string_value(value), &amount)) {
            cor_node_fault_set(&fault, 400, "invalid_amount", limit_fields[i],
                               "%s must be a decimal string of minor units", limit_fields[i]);
            ok = false;
            break;
        }
        *(i == 0 ? &limits.payment_max : &limits.daily_max) = amount;
        json_object_del(json, limit_fields[i]);
        has_limits = true;
    }
    if (ok && !(has_limits && json_is_object(json) && json_object_size(json) == 0)) {
        ok = cor_node_decode_participant_update(json, &status, &has_cap, &cap, &fault);
    }
    json_decref(json);
    if (!ok) return http_respond_fault(request, &fault);
    size_t size = HTTP_COMMAND_SIZE(sizeof(cor_node_cmd_participant_status)) +
                  HTTP_COMMAND_SIZE(sizeof(cor_node_cmd_debit_cap)) +
                  HTTP_COMMAND_SIZE(sizeof(cor_node_cmd_xb_limits));
    if (!http_payload_reserve(request, size)) return http_nomem(request);
    uint32_t events = 0;
    if (has_limits) {
        http_payload_add(request, COR_NODE_CMD_XB_LIMITS, 1, &limits, sizeof(limits));
        events++;
    }
    if (status != 0) {
        cor_node_cmd_participant_status cmd = {.participant = id, .status = status};
        http_payload_add(request, COR_NODE_CMD_PARTICIPANT_STATUS, 1, &cmd, sizeof(cmd));
        events++;
    }
    if (has_cap) {
        cor_node_cmd_debit_cap cmd = {.debit_cap = cap, .participant = id};
        http_payload_add(request, COR_NODE_CMD_DEBIT_CAP, 1, &cmd, sizeof(cmd));
        events++;
    }
    request->pending = HTTP_PENDING_PARTICIPANT;
    request->target = id;
    return http_submit(request, events);
}

static enum MHD_Result route_key_add(http_request *request, uint32_t participant)
{
    if (request->body_size != 0) {
        return http_respond_error(request, 400, "unexpected_body", "this route takes no body");
    }
    randombytes_buf(request->secret, sizeof(request->secret));
    cor_node_cmd_key_add cmd = {.kind = participant != 0 ? COR_NODE_KEY_PARTICIPANT
                                                         : COR_NODE_KEY_AUDITOR,
                                .participant = participant};
    crypto_generichash(cmd.hash, sizeof(cmd.hash), request->secret, sizeof(request->secret), NULL,
                       0);
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE(sizeof(cmd)))) return http_nomem(request);
    http_payload_add(request, COR_NODE_CMD_KEY_ADD, 1, &cmd, sizeof(cmd));
    request->pending = HTTP_PENDING_KEY_ADD;
    request->target = participant;
    return http_submit(request, 1);
}

static enum MHD_Result route_key_revoke(http_request *request, uint32_t participant,
                                        const char *key_text)
{
    cor_node_cmd_key_revoke cmd = {.participant = participant};
    if (!cor_node_parse_u32(key_text, &cmd.key_id) || cmd.key_id == 0) {
        return http_respond_error(request, 404, "key_not_found", "no such key");
    }
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE(sizeof(cmd)))) return http_nomem(request);
    http_payload_add(request, COR_NODE_CMD_KEY_REVOKE, 1, &cmd, sizeof(cmd));
    request->pending = HTTP_PENDING_KEY_REVOKE;
    request->target = cmd.key_id;
    return http_submit(request, 1);
}

static enum MHD_Result route_funding(http_request *request, uint32_t participant)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = http_json(request, &result);
    if (json == NULL) return result;
    cor_node_fault fault;
    cor_node_cmd_funding cmd;
    bool ok = cor_node_decode_funding(json, request->server->config.currency_numeric, &cmd, &fault);
    json_decref(json);
    if (!ok) return http_respond_fault(request, &fault);
    cmd.participant = participant;
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE(sizeof(cmd)))) return http_nomem(request);
    http_payload_add(request, COR_NODE_CMD_FUNDING, 1, &cmd, sizeof(cmd));
    request->pending = HTTP_PENDING_FUNDING;
    request->target = participant;
    request->funding_id = cmd.funding_id;
    request->funding_amount = cmd.amount;
    return http_submit(request, 1);
}

static enum MHD_Result route_payments_submit(http_request *request, uint32_t count);

/* The full decoder: any shape, and the precise error when the body is refused. */
static enum MHD_Result route_payments_full(http_request *request)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = http_json(request, &result);
    if (json == NULL) return result;
    uint32_t max = json_is_array(json) ? (uint32_t)json_array_size(json) : 1u;
    if (max == 0 || max > COR_NODE_PAYMENTS_PER_REQUEST_MAX) max = 1; /* decoder refuses */
    request->payments = cor_calloc(max, sizeof(cor_node_payment_in));
    if (request->payments == NULL) {
        json_decref(json);
        return http_nomem(request);
    }
    cor_node_fault fault;
    uint32_t count =
        cor_node_decode_payments(json, request->server->config.currency_numeric, request->payments,
                                 json_is_array(json) ? COR_NODE_PAYMENTS_PER_REQUEST_MAX : 1u,
                                 &request->payments_array, &fault);
    json_decref(json);
    if (count == 0) return http_respond_fault(request, &fault);
    return route_payments_submit(request, count);
}

/* Encodes request->payments (count of them) as one PAYMENTS command and submits it. */
static enum MHD_Result route_payments_submit(http_request *request, uint32_t count)
{
    request->payments_count = count;
    size_t body_max = (size_t)count * COR_NODE_PAYMENT_ENCODED_SIZE_MAX;
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE(body_max))) return http_nomem(request);
    uint8_t *body = request->payload + sizeof(cor_node_command_header);
    size_t size = 0;
    for (uint32_t i = 0; i < count; i++)
        size += cor_node_payment_encode(&request->payments[i], body + size);
    cor_node_command_header header = {.type = COR_NODE_CMD_PAYMENTS,
                                      .event_count = count,
                                      .body_size_bytes = (uint32_t)size,
                                      .key_id = request->who.key_id,
                                      .participant = request->who.participant};
    memcpy(request->payload, &header, sizeof(header));
    size_t padded = (size + 15u) & ~(size_t)15u;
    memset(body + size, 0, padded - size);
    request->payload_size = sizeof(header) + padded;
    request->pending = HTTP_PENDING_PAYMENTS;
    return http_submit(request, count);
}

/* The fast path for the common shape first (request.h); the full decoder otherwise. */
static enum MHD_Result route_payments(http_request *request)
{
    uint32_t bound = cor_node_payments_fast_count(request->body, request->body_size);
    uint32_t count = 0;
    if (bound >= 1 && bound <= COR_NODE_PAYMENTS_PER_REQUEST_MAX) {
        request->payments = cor_calloc(bound, sizeof(cor_node_payment_in));
        if (request->payments == NULL) return http_nomem(request);
        count = cor_node_decode_payments_fast(request->body, request->body_size,
                                              request->server->config.currency_numeric,
                                              request->payments, bound, &request->payments_array);
        if (count == 0) {
            cor_free(request->payments);
            request->payments = NULL;
        }
    }
    if (count == 0) return route_payments_full(request);
    return route_payments_submit(request, count);
}

static enum MHD_Result route_ledger_create(http_request *request, bool accounts)
{
    enum MHD_Result result = MHD_NO;
    json_t *json = http_json(request, &result);
    if (json == NULL) return result;
    uint32_t max = COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX;
    void *events = cor_calloc(max, 128);
    if (events == NULL) {
        json_decref(json);
        return http_nomem(request);
    }
    cor_node_fault fault;
    uint32_t count = accounts ? cor_node_decode_ledger_accounts(json, events, max, &fault)
                              : cor_node_decode_ledger_transfers(json, events, max, &fault);
    json_decref(json);
    if (count == 0) {
        cor_free(events);
        return http_respond_fault(request, &fault);
    }
    if (!http_payload_reserve(request, HTTP_COMMAND_SIZE((size_t)count * 128u))) {
        cor_free(events);
        return http_nomem(request);
    }
    http_payload_add(request,
                     accounts ? COR_NODE_CMD_LEDGER_ACCOUNTS : COR_NODE_CMD_LEDGER_TRANSFERS, count,
                     events, (size_t)count * 128u);
    cor_free(events);
    request->pending = HTTP_PENDING_LEDGER;
    request->payments_count = count;
    request->payments_array = accounts;
    return http_submit(request, count);
}

/* ---------------------------------------------------------------------------------------- */
/* Completion                                                                               */
/* ---------------------------------------------------------------------------------------- */

static enum MHD_Result finish_code(http_request *request, const cor_node_result *r)
{
    char message[128];
    if (r->code == COR_NODE_LEDGER_REJECTED || r->code == COR_NODE_FUNDING_CONFLICT) {
        snprintf(message, sizeof(message), "the ledger refused: %s",
                 cor_create_transfer_status_name(r->ledger));
    } else {
        snprintf(message, sizeof(message), "%s", cor_node_code_name(r->code));
        for (char *c = message; *c; c++)
            *c = *c == '_' ? ' ' : *c;
    }
    return http_respond_error(request, cor_node_code_http(r->code), cor_node_code_name(r->code),
                              message);
}

static uint32_t stored_code(cor_node_server *server, uint64_t number)
{
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_payment *p = cor_node_state_payment_number(server->state, number);
    COR_ASSERT(p != NULL);
    uint32_t code = p->code;
    pthread_rwlock_unlock(&server->state_lock);
    return code;
}

static enum MHD_Result finish_payments(http_request *request)
{
    cor_node_server *server = request->server;
    const char *currency = server->config.currency;
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    unsigned status = 200;
    if (request->payments_array) cor_nbuf_str(&body, "{\"payments\":[");
    for (uint32_t i = 0; i < request->payments_count; i++) {
        const cor_node_result *r = &request->results[i];
        const cor_node_payment_in *in = &request->payments[i];
        if (i > 0) cor_nbuf_str(&body, ",");
        bool recorded = r->value != 0 && r->code != COR_NODE_PAYMENT_ID_REUSED;
        if (!recorded) {
            if (!request->payments_array) {
                cor_nbuf_release(&body);
                return finish_code(request, r);
            }
            cor_nbuf_str(&body, "{\"payment_id\":");
            cor_nbuf_json_u128(&body, in->payment_id);
            cor_nbuf_printf(&body, ",\"status\":\"error\",\"error\":{\"code\":\"%s\"}}",
                            cor_node_code_name(r->code));
            continue;
        }
        uint32_t code = r->code;
        if (!request->payments_array) {
            code = code == COR_NODE_EXISTS ? stored_code(server, r->value) : code;
            if (code != COR_NODE_CREATED) {
                /* A decided rejection: the error, and the payment as recorded. */
                cor_nbuf_printf(&body,
                                "{\"error\":{\"code\":\"%s\",\"message\":\"payment "
                                "rejected\",\"field\":\"\"},\"payment\":",
                                cor_node_code_name(code));
                status = cor_node_code_http(code);
            }
            code = r->code;
        }
        if (code == COR_NODE_EXISTS) {
            pthread_rwlock_rdlock(&server->state_lock);
            const cor_node_payment *p = cor_node_state_payment_number(server->state, r->value);
            COR_ASSERT(p != NULL);
            render_payment(&body, currency, &p->in, p->debtor, p->code, p->timestamp, p->number,
                           true);
            code = p->code;
            pthread_rwlock_unlock(&server->state_lock);
        } else {
            render_payment(&body, currency, in, request->who.participant, code, r->timestamp,
                           r->value, false);
        }
        if (!request->payments_array) {
            if (code == COR_NODE_CREATED) {
                status = r->code == COR_NODE_EXISTS ? 200 : 201;
            } else {
                cor_nbuf_str(&body, "}");
            }
        }
    }
    if (request->payments_array) cor_nbuf_str(&body, "]}");
    return http_respond_json(request, status, &body);
}

static enum MHD_Result finish_key(http_request *request, const cor_node_result *r)
{
    if (r->code != COR_NODE_CREATED) return finish_code(request, r);
    char secret[COR_NODE_KEY_SECRET_SIZE_BYTES * 2 + 1];
    for (size_t i = 0; i < sizeof(request->secret); i++) {
        snprintf(secret + 2 * i, 3, "%02x", request->secret[i]);
    }
    cor_nbuf body;
    cor_nbuf_init(&body, 1024);
    cor_nbuf_printf(&body, "{\"key_id\":\"%llu\",\"api_key\":\"cor_%llu_%s\",\"role\":\"%s\"",
                    (unsigned long long)r->value, (unsigned long long)r->value, secret,
                    request->target != 0 ? "participant" : "auditor");
    if (request->target != 0) cor_nbuf_printf(&body, ",\"participant\":\"%u\"", request->target);
    cor_nbuf_str(&body, "}");
    sodium_memzero(secret, sizeof(secret));
    return http_respond_json(request, 201, &body);
}

static enum MHD_Result finish_funding(http_request *request, const cor_node_result *r)
{
    if (r->code != COR_NODE_CREATED && r->code != COR_NODE_EXISTS) return finish_code(request, r);
    cor_nbuf body;
    cor_nbuf_init(&body, 4096);
    cor_nbuf_str(&body, "{\"funding_id\":");
    render_u64(&body, request->funding_id);
    cor_nbuf_printf(&body, ",\"participant\":\"%u\",\"status\":\"%s\",\"amount\":", request->target,
                    r->code == COR_NODE_CREATED ? "created" : "exists");
    cor_nbuf_json_u128(&body, request->funding_amount);
    cor_nbuf_str(&body, ",\"timestamp\":");
    render_u64(&body, r->timestamp);
    cor_nbuf_str(&body, "}");
    return http_respond_json(request, r->code == COR_NODE_CREATED ? 201 : 200, &body);
}

static enum MHD_Result finish_ledger(http_request *request)
{
    const cor_node_result *first = &request->results[0];
    if (first->code == COR_NODE_KEY_REVOKED || first->code == COR_NODE_RESERVED_ID ||
        first->code == COR_NODE_CAPACITY_FULL) {
        return finish_code(request, first);
    }
    bool accounts = request->payments_array;
    cor_nbuf body;
    cor_nbuf_init(&body, HTTP_RESPONSE_SIZE_BYTES_MAX);
    cor_nbuf_str(&body, "{\"results\":[");
    for (uint32_t i = 0; i < request->payments_count; i++) {
        const cor_node_result *r = &request->results[i];
        const char *name = accounts ? cor_create_account_status_name(r->ledger)
                                    : cor_create_transfer_status_name(r->ledger);
        cor_nbuf_printf(&body, "%s{\"index\":%u,\"status\":\"%s\",\"timestamp\":\"%llu\"}",
                        i > 0 ? "," : "", i, name, (unsigned long long)r->timestamp);
    }
    cor_nbuf_str(&body, "]}");
    return http_respond_json(request, 200, &body);
}

enum MHD_Result http_finish(http_request *request)
{
    if (request->job.error != COR_OK) {
        return http_respond_error(request, 503, "unavailable",
                                  "the command could not be made durable; nothing was applied");
    }
    const cor_node_result *r = &request->results[0];
    switch (request->pending) {
    case HTTP_PENDING_PARTICIPANT: {
        uint32_t events = request->job.event_count;
        for (uint32_t i = 0; i < events; i++) {
            if (request->results[i].code != COR_NODE_CREATED &&
                request->results[i].code != COR_NODE_OK) {
                return finish_code(request, &request->results[i]);
            }
        }
        uint32_t id = r->code == COR_NODE_CREATED ? (uint32_t)r->value : request->target;
        return route_participant_get(request, id, r->code == COR_NODE_CREATED ? 201 : 200);
    }
    case HTTP_PENDING_KEY_ADD:
        return finish_key(request, r);
    case HTTP_PENDING_KEY_REVOKE: {
        if (r->code != COR_NODE_OK) return finish_code(request, r);
        char body[96];
        int size =
            snprintf(body, sizeof(body), "{\"key_id\":\"%u\",\"revoked\":true}", request->target);
        return http_respond(request, 200, "application/json", body, (size_t)size);
    }
    case HTTP_PENDING_FUNDING:
        return finish_funding(request, r);
    case HTTP_PENDING_PAYMENTS:
        return finish_payments(request);
    case HTTP_PENDING_LEDGER:
        return finish_ledger(request);
    case HTTP_PENDING_ISO_PAYMENTS:
        return http_iso_finish_payments(request);
    case HTTP_PENDING_XB:
        return http_xb_finish(request);
    default:
        COR_UNREACHABLE();
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Routing                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static bool path_split(const char *url, http_path *path)
{
    path->count = 0;
    if (strlen(url) >= sizeof(path->storage) || url[0] != '/') return false;
    snprintf(path->storage, sizeof(path->storage), "%s", url + 1);
    char *p = path->storage;
    if (*p == '\0') return true;
    while (p != NULL) {
        if (path->count == HTTP_PATH_SEGMENTS_MAX) return false;
        char *slash = strchr(p, '/');
        if (slash != NULL) *slash = '\0';
        if (*p == '\0') return false; /* empty segment: "//" or trailing "/" */
        path->segments[path->count++] = p;
        p = slash != NULL ? slash + 1 : NULL;
    }
    return true;
}

static bool seg(const http_path *path, size_t index, const char *text)
{
    return index < path->count && strcmp(path->segments[index], text) == 0;
}

bool seg_is(const http_path *path, size_t index, const char *text)
{
    return seg(path, index, text);
}

enum role_mask {
    R_OP = 1u << HTTP_ROLE_OPERATOR,
    R_AUD = 1u << HTTP_ROLE_AUDITOR,
    R_PART = 1u << HTTP_ROLE_PARTICIPANT
};

typedef struct route_match {
    cor_route route;
    const char *methods; /* allowed, space-separated */
} route_match;

/* Identifies the route (for metrics and 404/405) from the path shape. */
static cor_route route_identify(const http_path *p)
{
    if (p->count == 1 && seg(p, 0, "healthz")) return COR_ROUTE_HEALTHZ;
    if (p->count == 1 && seg(p, 0, "metrics")) return COR_ROUTE_METRICS;
    if (!seg(p, 0, "v1") || p->count < 2) return COR_ROUTE_UNKNOWN;
    cor_route corridor = http_xb_identify(p);
    if (corridor != COR_ROUTE_UNKNOWN) return corridor;
    if (seg(p, 1, "participants")) {
        if (p->count == 2) return COR_ROUTE_PARTICIPANTS;
        if (p->count == 3) return COR_ROUTE_PARTICIPANT;
        if (p->count == 4 && seg(p, 3, "keys")) return COR_ROUTE_KEYS;
        if (p->count == 5 && seg(p, 3, "keys")) return COR_ROUTE_KEY;
        if (p->count == 4 && seg(p, 3, "funding")) return COR_ROUTE_FUNDING;
    } else if (seg(p, 1, "auditor-keys")) {
        if (p->count == 2) return COR_ROUTE_AUDITOR_KEYS;
        if (p->count == 3) return COR_ROUTE_AUDITOR_KEY;
    } else if (seg(p, 1, "payments")) {
        if (p->count == 2) return COR_ROUTE_PAYMENTS;
        if (p->count == 3) return COR_ROUTE_PAYMENT;
    } else if (seg(p, 1, "statement") && p->count == 2) {
        return COR_ROUTE_STATEMENT;
    } else if (seg(p, 1, "iso20022") && p->count == 2) {
        return COR_ROUTE_ISO20022;
    } else if (seg(p, 1, "statements") && p->count == 3) {
        return COR_ROUTE_STATEMENTS;
    } else if (seg(p, 1, "notifications") && p->count == 2) {
        return COR_ROUTE_NOTIFICATIONS;
    } else if (seg(p, 1, "ledger") && p->count >= 3) {
        bool accounts = seg(p, 2, "accounts");
        if (!accounts && !seg(p, 2, "transfers")) return COR_ROUTE_UNKNOWN;
        if (p->count == 3) return accounts ? COR_ROUTE_LEDGER_ACCOUNTS : COR_ROUTE_LEDGER_TRANSFERS;
        if (p->count == 4 && seg(p, 3, "lookup")) {
            return accounts ? COR_ROUTE_LEDGER_ACCOUNTS_LOOKUP : COR_ROUTE_LEDGER_TRANSFERS_LOOKUP;
        }
        if (p->count == 4) return accounts ? COR_ROUTE_LEDGER_ACCOUNT : COR_ROUTE_LEDGER_TRANSFER;
        if (p->count == 5 && accounts && seg(p, 4, "transfers")) {
            return COR_ROUTE_LEDGER_ACCOUNT_TRANSFERS;
        }
        if (p->count == 5 && accounts && seg(p, 4, "balances")) {
            return COR_ROUTE_LEDGER_ACCOUNT_BALANCES;
        }
    }
    return COR_ROUTE_UNKNOWN;
}

/* Who may call method on route; 0 when the method is not allowed at all. */
static unsigned route_roles(cor_route route, const char *method)
{
    bool get = strcmp(method, "GET") == 0;
    bool post = strcmp(method, "POST") == 0;
    switch (route) {
    case COR_ROUTE_METRICS:
        return get ? R_OP | R_AUD : 0;
    case COR_ROUTE_PARTICIPANTS:
        return get ? R_OP | R_AUD : post ? R_OP : 0;
    case COR_ROUTE_PARTICIPANT:
        return get ? R_OP | R_AUD | R_PART : strcmp(method, "PATCH") == 0 ? R_OP : 0;
    case COR_ROUTE_KEYS:
    case COR_ROUTE_FUNDING:
    case COR_ROUTE_AUDITOR_KEYS:
        return post ? R_OP : 0;
    case COR_ROUTE_KEY:
    case COR_ROUTE_AUDITOR_KEY:
        return strcmp(method, "DELETE") == 0 ? R_OP : 0;
    case COR_ROUTE_PAYMENTS:
        return post ? R_PART : 0;
    case COR_ROUTE_ISO20022:
        return post ? R_PART : 0;
    case COR_ROUTE_STATEMENTS:
    case COR_ROUTE_NOTIFICATIONS:
        return get ? R_OP | R_AUD | R_PART : 0;
    case COR_ROUTE_PAYMENT:
    case COR_ROUTE_STATEMENT:
        return get ? R_OP | R_AUD | R_PART : 0;
    case COR_ROUTE_LEDGER_ACCOUNTS:
    case COR_ROUTE_LEDGER_TRANSFERS:
        return get ? R_OP | R_AUD : post ? R_OP : 0;
    case COR_ROUTE_LEDGER_ACCOUNT:
    case COR_ROUTE_LEDGER_TRANSFER:
    case COR_ROUTE_LEDGER_ACCOUNTS_LOOKUP:
    case COR_ROUTE_LEDGER_TRANSFERS_LOOKUP:
    case COR_ROUTE_LEDGER_ACCOUNT_TRANSFERS:
    case COR_ROUTE_LEDGER_ACCOUNT_BALANCES:
        return get ? R_OP | R_AUD : 0;
    default:
        return http_xb_roles(route, method);
    }
}

static enum MHD_Result route_dispatch(http_request *request, const http_path *p, bool get)
{
    const char *id = p->count > 2 ? p->segments[2] : "";
    uint32_t participant = 0;
    bool participant_route =
        request->route >= COR_ROUTE_PARTICIPANT && request->route <= COR_ROUTE_FUNDING;
    if (participant_route && (!cor_node_parse_u32(id, &participant) || participant == 0)) {
        return http_respond_error(request, 404, "participant_not_found", "no such participant");
    }
    switch (request->route) {
    case COR_ROUTE_METRICS:
        return route_metrics(request);
    case COR_ROUTE_PARTICIPANTS:
        return get ? route_participants_list(request) : route_participant_create(request);
    case COR_ROUTE_PARTICIPANT:
        if (!get) return route_participant_update(request, participant);
        if (request->who.role == HTTP_ROLE_PARTICIPANT && participant != request->who.participant) {
            return http_respond_error(request, 403, "forbidden",
                                      "participants read only their own");
        }
        return route_participant_get(request, participant, 200);
    case COR_ROUTE_KEYS:
        return route_key_add(request, participant);
    case COR_ROUTE_KEY:
        return route_key_revoke(request, participant, p->segments[4]);
    case COR_ROUTE_FUNDING:
        return route_funding(request, participant);
    case COR_ROUTE_AUDITOR_KEYS:
        return route_key_add(request, 0);
    case COR_ROUTE_AUDITOR_KEY:
        return route_key_revoke(request, 0, id);
    case COR_ROUTE_PAYMENTS:
        return route_payments(request);
    case COR_ROUTE_PAYMENT:
        return route_payment_get(request, id);
    case COR_ROUTE_STATEMENT:
        return route_statement(request);
    case COR_ROUTE_ISO20022:
        return http_iso_post(request);
    case COR_ROUTE_STATEMENTS:
        return http_iso_statement(request, id);
    case COR_ROUTE_NOTIFICATIONS:
        return http_iso_notifications(request);
    case COR_ROUTE_LEDGER_ACCOUNTS:
        return get ? route_ledger_query(request, true) : route_ledger_create(request, true);
    case COR_ROUTE_LEDGER_TRANSFERS:
        return get ? route_ledger_query(request, false) : route_ledger_create(request, false);
    case COR_ROUTE_LEDGER_ACCOUNT:
        return route_ledger_get(request, true, p->segments[3]);
    case COR_ROUTE_LEDGER_TRANSFER:
        return route_ledger_get(request, false, p->segments[3]);
    case COR_ROUTE_LEDGER_ACCOUNT_TRANSFERS:
        return route_ledger_account_history(request, p->segments[3], false);
    case COR_ROUTE_LEDGER_ACCOUNT_BALANCES:
        return route_ledger_account_history(request, p->segments[3], true);
    case COR_ROUTE_LEDGER_ACCOUNTS_LOOKUP:
        return route_ledger_lookup(request, true);
    case COR_ROUTE_LEDGER_TRANSFERS_LOOKUP:
        return route_ledger_lookup(request, false);
    default:
        return http_xb_dispatch(request, p, get);
    }
}

enum MHD_Result http_admit(http_request *request, const char *method, const char *url,
                           bool *admitted)
{
    *admitted = false;
    if (!path_split(url, &request->path)) {
        return http_respond_error(request, 404, "not_found", "no such route");
    }
    request->route = route_identify(&request->path);
    if (request->route == COR_ROUTE_HEALTHZ) {
        if (strcmp(method, "GET") != 0) {
            return http_respond_error(request, 405, "method_not_allowed", "use GET");
        }
        *admitted = true;
        return MHD_YES;
    }
    if (request->route == COR_ROUTE_PEER_MESSAGES) {
        /* No API key: every envelope carries its sender's signature (xb_routes.c). */
        if (strcmp(method, "POST") != 0) {
            return http_respond_error(request, 405, "method_not_allowed", "use POST");
        }
        request->who = (http_principal){.role = HTTP_ROLE_PEER};
    } else if (!http_authenticate(request)) {
        return http_respond_error(request, 401, "unauthorized",
                                  "missing, malformed, unknown or revoked api key");
    }
    if (request->route == COR_ROUTE_UNKNOWN) {
        return http_respond_error(request, 404, "not_found", "no such route");
    }
    unsigned roles = route_roles(request->route, method);
    if (roles == 0) {
        return http_respond_error(request, 405, "method_not_allowed",
                                  "method not allowed on this route");
    }
    if ((roles & (1u << request->who.role)) == 0) {
        return http_respond_error(request, 403, "forbidden", "not allowed for this caller");
    }
    const char *length = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t declared = 0;
    if (length != NULL && cor_node_parse_u64(length, &declared) &&
        declared > COR_NODE_BODY_SIZE_BYTES_MAX) {
        return http_respond_error(request, 413, "body_too_large", "request body is too large");
    }
    *admitted = true;
    return MHD_YES;
}

enum MHD_Result http_route(http_request *request, const char *method)
{
    if (request->route == COR_ROUTE_HEALTHZ) return route_healthz(request);
    return route_dispatch(request, &request->path, strcmp(method, "GET") == 0);
}
