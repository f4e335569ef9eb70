/* Two real corridor nodes on loopback for the cross-border HTTP tests (see xb_net.h). */
#include "xb_net.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

void cor_test_xb_data_dir(const cor_test_xb_side *side, char *out, size_t size)
{
    snprintf(out, size, "%s/n", side->node.dir);
}

static void run(const char *command)
{
    char full[1300];
    snprintf(full, sizeof(full), "%s >/dev/null 2>&1", command);
    int status = system(full);
    cr_assert_eq(status, 0, "command failed (%d): %s", status, command);
}

void cor_test_xb_peer_add(const cor_test_xb_side *side, const cor_test_xb_side *peer,
                          const char *extra)
{
    char data[300], peer_data[300], command[1200];
    cor_test_xb_data_dir(side, data, sizeof(data));
    cor_test_xb_data_dir(peer, peer_data, sizeof(peer_data));
    snprintf(command, sizeof(command),
             "%s peer add --data %s --name %s --currency %s --url %s --public-key @%s/node.pub %s",
             cor_test_bin(), data, peer->name, peer->currency, peer->node.base_url, peer_data,
             extra != NULL ? extra : "");
    run(command);
}

void cor_test_xb_restart(cor_test_xb_side *side)
{
    int status = cor_test_node_signal(&side->node, SIGTERM);
    cr_assert_eq(status, 0, "%s did not stop cleanly (%d): %s", side->name, status,
                 cor_test_node_log_tail(&side->node));
    cor_test_node_start(&side->node);
}

static void request_ok(const cor_test_xb_side *side, const char *method, const char *path,
                       const char *key, const char *body, long want)
{
    cor_test_response r;
    cor_test_http(&side->node, method, path, key, body, &r);
    cr_assert_eq(r.status, want, "%s %s %s on %s: %ld %s", method, path, body ? body : "",
                 side->name, r.status, r.body ? r.body : "");
    cor_test_response_free(&r);
}

static void fund(const cor_test_xb_side *side, unsigned participant, long long amount)
{
    static unsigned funding_id = 5000;
    char body[256], path[64];
    snprintf(body, sizeof(body),
             "{\"funding_id\":\"%u\",\"direction\":\"credit\",\"amount\":\"%lld\","
             "\"currency\":\"%s\"}",
             ++funding_id, amount, side->currency);
    snprintf(path, sizeof(path), "/v1/participants/%u/funding", participant);
    request_ok(side, "POST", path, side->node.operator_key, body, 201);
}

static void side_create(cor_test_xb_side *side, const char *name, const char *currency,
                        unsigned node_id)
{
    cor_test_node_create(&side->node, currency, name);
    snprintf(side->name, sizeof(side->name), "%s", name);
    snprintf(side->currency, sizeof(side->currency), "%s", currency);
    side->node_id = node_id;
}

/* Participants (bank, fx provider, second bank), funding, fx mapping, rate sheet. */
static void side_setup(cor_test_xb_side *side, const char *peer_name, const char *country)
{
    char bic[16];
    snprintf(bic, sizeof(bic), "BANK%sMM", country);
    unsigned id = cor_test_participant(&side->node, "Bank One", bic, "bank", side->keys[XB_BANK],
                                       sizeof(side->keys[XB_BANK]));
    cr_assert_eq(id, XB_BANK);
    snprintf(bic, sizeof(bic), "FXON%sMM", country);
    id = cor_test_participant(&side->node, "FX One", bic, "fx_provider", side->keys[XB_FX],
                              sizeof(side->keys[XB_FX]));
    cr_assert_eq(id, XB_FX);
    snprintf(bic, sizeof(bic), "BKTW%sMM", country);
    id = cor_test_participant(&side->node, "Bank Two", bic, "bank", side->keys[XB_BANK2],
                              sizeof(side->keys[XB_BANK2]));
    cr_assert_eq(id, XB_BANK2);
    bool ru = strcmp(side->name, "RU") == 0;
    fund(side, XB_BANK, ru ? XB_RU_BANK_FUNDS : XB_IR_BANK_FUNDS);
    fund(side, XB_FX, ru ? XB_RU_FX_FUNDS : XB_IR_FX_FUNDS);
    if (ru) fund(side, XB_BANK2, XB_RU_BANK2_FUNDS);
    char body[128];
    snprintf(body, sizeof(body), "{\"fx_id\":\"1\",\"participant\":\"%u\",\"peer\":\"%s\"}", XB_FX,
             peer_name);
    request_ok(side, "POST", "/v1/corridor/fx", side->node.operator_key, body, 201);
    request_ok(side, "POST", "/v1/fx/rates", side->keys[XB_FX],
               ru ? XB_RU_RATE_BODY : XB_IR_RATE_BODY, 201);
}

void cor_test_xb_net_start(cor_test_xb_net *net, const cor_test_xb_net_options *options)
{
    cr_assert(sodium_init() >= 0);
    memset(net, 0, sizeof(*net));
    side_create(&net->ru, "RU", "RUB", 643);
    side_create(&net->ir, "IR", "IRR", 364);
    cor_test_xb_peer_add(&net->ru, &net->ir, options ? options->ru_peer_options : NULL);
    cor_test_xb_peer_add(&net->ir, &net->ru, options ? options->ir_peer_options : NULL);
    cor_test_node_start(&net->ru.node);
    cor_test_node_start(&net->ir.node);
    side_setup(&net->ru, "IR", "RU");
    side_setup(&net->ir, "RU", "IR");
}

static void stop_clean(cor_test_xb_side *side)
{
    if (side->node.pid <= 0) return;
    int status = cor_test_node_signal(&side->node, SIGTERM);
    const char *log = cor_test_node_log_tail(&side->node);
    cr_assert_eq(status, 0, "%s did not exit cleanly (%d):\n%s", side->name, status, log);
    cr_assert(strstr(log, "Sanitizer") == NULL && strstr(log, "runtime error") == NULL,
              "%s: sanitizer report:\n%s", side->name, log);
}

void cor_test_xb_net_stop(cor_test_xb_net *net)
{
    stop_clean(&net->ru);
    stop_clean(&net->ir);
}

void cor_test_xb_net_cleanup(cor_test_xb_net *net)
{
    cor_test_node_cleanup(&net->ru.node);
    cor_test_node_cleanup(&net->ir.node);
}

void cor_test_xb_uetr(char out[37])
{
    uint8_t b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static long long json_ll(json_t *object, const char *field)
{
    const char *text = json_string_value(json_object_get(object, field));
    cr_assert(text != NULL, "field %s missing", field);
    return strtoll(text, NULL, 10);
}

void cor_test_xb_quote(const cor_test_xb_side *side, unsigned participant, const char *peer_name,
                       const char *fixed, long long amount, cor_test_xb_quote_info *out)
{
    char body[160];
    snprintf(body, sizeof(body), "{\"peer\":\"%s\",\"%s_amount\":\"%lld\"}", peer_name, fixed,
             amount);
    cor_test_response r;
    cor_test_http(&side->node, "POST", "/v1/fx/quotes", side->keys[participant], body, &r);
    cr_assert_eq(r.status, 201, "quote on %s: %ld %s", side->name, r.status, r.body);
    json_t *quote = json_array_get(json_object_get(r.json, "quotes"), 0);
    cr_assert(quote != NULL, "no quote: %s", r.body);
    memset(out, 0, sizeof(*out));
    snprintf(out->quote_id, sizeof(out->quote_id), "%s",
             json_string_value(json_object_get(quote, "quote_id")));
    snprintf(out->expires_at, sizeof(out->expires_at), "%s",
             json_string_value(json_object_get(quote, "expires_at")));
    out->source_amount = json_ll(quote, "source_amount");
    out->destination_amount = json_ll(quote, "destination_amount");
    out->fee = json_ll(quote, "fee");
    cr_assert_str_eq(json_string_value(json_object_get(quote, "fixed")), fixed);
    cor_test_response_free(&r);
}

void cor_test_xb_pay(const cor_test_xb_side *side, unsigned participant, const char *uetr,
                     const char *quote_id, unsigned creditor, const char *debtor_name,
                     const char *creditor_name, cor_test_response *out)
{
    json_t *body =
        json_pack("{s:s, s:s, s:s}", "uetr", uetr, "quote_id", quote_id, "creditor", "0");
    char creditor_text[16];
    snprintf(creditor_text, sizeof(creditor_text), "%u", creditor);
    json_object_set_new(body, "creditor", json_string(creditor_text));
    if (debtor_name != NULL) json_object_set_new(body, "debtor_name", json_string(debtor_name));
    if (creditor_name != NULL) {
        json_object_set_new(body, "creditor_name", json_string(creditor_name));
    }
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    cor_test_http(&side->node, "POST", "/v1/xborder/payments", side->keys[participant], text, out);
    free(text);
}

void cor_test_xb_state(const cor_test_xb_side *side, const char *uetr, cor_test_xb_state_info *out)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s", uetr);
    cor_test_response r;
    cor_test_http(&side->node, "GET", path, side->node.operator_key, NULL, &r);
    memset(out, 0, sizeof(*out));
    if (r.status == 404) {
        cor_test_response_free(&r);
        return;
    }
    cr_assert_eq(r.status, 200, "payment on %s: %ld %s", side->name, r.status, r.body);
    snprintf(out->state, sizeof(out->state), "%s", cor_test_str(&r, "state"));
    snprintf(out->reason, sizeof(out->reason), "%s", cor_test_str(&r, "reason"));
    snprintf(out->iso, sizeof(out->iso), "%s", cor_test_str(&r, "iso"));
    const char *returned = cor_test_str(&r, "returned_by");
    snprintf(out->returned_by, sizeof(out->returned_by), "%s", returned ? returned : "");
    out->source_amount = json_ll(r.json, "source_amount");
    out->destination_amount = json_ll(r.json, "destination_amount");
    cor_test_response_free(&r);
}

void cor_test_xb_wait_state(const cor_test_xb_side *side, const char *uetr, const char *want,
                            cor_test_xb_state_info *out)
{
    for (int attempt = 0; attempt < 800; attempt++) { /* up to 20 s (sanitizer builds) */
        cor_test_xb_state(side, uetr, out);
        if (strcmp(out->state, want) == 0) return;
        bool final = strcmp(out->state, "committed") == 0 || strcmp(out->state, "rejected") == 0;
        if (final) break; /* a final state never changes: no use waiting */
        sleep_ms(25);
    }
    cr_assert_fail("payment %s on %s: state '%s' (%s %s), expected %s\n%s", uetr, side->name,
                   out->state, out->reason, out->iso, want, cor_test_node_log_tail(&side->node));
}

static long long metrics_issued(const cor_test_xb_side *side)
{
    cor_test_response r;
    cor_test_http(&side->node, "GET", "/metrics", side->node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    const char *at = strstr(r.body, "\ncorridor_money_issued_minor{");
    cr_assert(at != NULL, "no issued metric");
    at = strchr(at, '}');
    cr_assert(at != NULL);
    long long issued = strtoll(at + 1, NULL, 10);
    cor_test_response_free(&r);
    return issued;
}

void cor_test_xb_snapshot_take(const cor_test_xb_side *side, cor_test_xb_snapshot *out)
{
    memset(out, 0, sizeof(*out));
    cor_test_response r;
    cor_test_http(&side->node, "GET", "/v1/participants", side->node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200, "participants on %s: %ld", side->name, r.status);
    json_t *list = json_object_get(r.json, "participants");
    long long sum = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        unsigned id = (unsigned)strtoul(json_string_value(json_object_get(p, "id")), NULL, 10);
        json_t *balance = json_object_get(p, "balance");
        long long net = json_ll(balance, "net");
        sum += net;
        out->pending += json_ll(balance, "debits_pending");
        if (id <= XB_PARTICIPANTS) out->net[id] = net;
    }
    cor_test_response_free(&r);
    out->issued = metrics_issued(side);
    cr_assert_eq(sum, out->issued, "%s: participants hold %lld, issued %lld", side->name, sum,
                 out->issued);
    cor_test_http(&side->node, "GET", "/v1/xborder/stats", side->node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    out->payments = json_integer_value(json_object_get(r.json, "payments"));
    out->open = json_integer_value(json_object_get(r.json, "open"));
    out->refusals = json_ll(r.json, "refusals");
    out->conflicts = json_ll(r.json, "conflicts");
    cr_assert_eq(out->conflicts, 0, "%s: protocol conflicts", side->name);
    cor_test_response_free(&r);
}

void cor_test_xb_assert_unchanged(const cor_test_xb_snapshot *before,
                                  const cor_test_xb_snapshot *after, const char *what)
{
    for (unsigned i = 1; i <= XB_PARTICIPANTS; i++) {
        cr_assert_eq(before->net[i], after->net[i], "%s: participant %u moved %lld -> %lld", what,
                     i, before->net[i], after->net[i]);
    }
    cr_assert_eq(before->pending, after->pending, "%s: pending changed", what);
    cr_assert_eq(before->issued, after->issued, "%s: issued changed", what);
}

void cor_test_xb_reconcile_text(const cor_test_xb_side *side, const char *peer_name, char *out,
                                size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/reconcile?fx_id=1&peer=%s", peer_name);
    cor_test_response r;
    cor_test_http(&side->node, "GET", path, side->node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200, "reconcile on %s: %ld %s", side->name, r.status, r.body);
    json_t *directions = json_object_get(r.json, "directions");
    cr_assert_eq(json_array_size(directions), 2);
    char parts[2][256];
    for (size_t i = 0; i < 2; i++) {
        json_t *d = json_array_get(directions, i);
        snprintf(parts[i], sizeof(parts[i]), "%s>%s:%s:%s:%s:%s;",
                 json_string_value(json_object_get(d, "from")),
                 json_string_value(json_object_get(d, "to")),
                 json_string_value(json_object_get(d, "count")),
                 json_string_value(json_object_get(d, "source_amount")),
                 json_string_value(json_object_get(d, "destination_amount")),
                 json_string_value(json_object_get(d, "digest")));
    }
    bool swap = strcmp(parts[0], parts[1]) > 0;
    snprintf(out, size, "%s%s", parts[swap ? 1 : 0], parts[swap ? 0 : 1]);
    cor_test_response_free(&r);
}

/* ---------------------------------------------------------------------------------------- */
/* Wire identities                                                                           */
/* ---------------------------------------------------------------------------------------- */

/* The value of the first "key = value" line for key in the node's corridor.ini ([node]
 * comes first, so its bic and key_id are the first ones). */
static void ini_value(const cor_test_xb_side *side, const char *key, char *out, size_t size)
{
    char data[300], path[340], line[512];
    cor_test_xb_data_dir(side, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/corridor.ini", data);
    FILE *file = fopen(path, "r");
    cr_assert(file != NULL, "cannot open %s", path);
    out[0] = '\0';
    size_t length = strlen(key);
    while (fgets(line, sizeof(line), file) != NULL) {
        if (strncmp(line, key, length) == 0 && strncmp(line + length, " = ", 3) == 0) {
            line[strcspn(line, "\r\n")] = '\0';
            snprintf(out, size, "%s", line + length + 3);
            break;
        }
    }
    fclose(file);
    cr_assert(out[0] != '\0', "%s has no %s", path, key);
}

void cor_test_xb_wire_node(const cor_test_xb_side *side, cor_wire_node *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", side->name);
    ini_value(side, "bic", out->bic, sizeof(out->bic));
    memcpy(out->currency, side->currency, 3);
    out->node_id = side->node_id;
    out->ledger = side->node_id; /* the ISO 4217 numeric code of its currency */
    char key_id[16], data[300], path[340], hex[80];
    ini_value(side, "key_id", key_id, sizeof(key_id));
    out->key_count = 1;
    out->keys[0].key_id = (uint32_t)strtoul(key_id, NULL, 10);
    cor_test_xb_data_dir(side, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/node.pub", data);
    FILE *file = fopen(path, "r");
    cr_assert(file != NULL);
    cr_assert(fgets(hex, sizeof(hex), file) != NULL);
    fclose(file);
    size_t length = 0;
    cr_assert_eq(sodium_hex2bin(out->keys[0].public_key, COR_WIRE_PUBLIC_KEY_SIZE, hex,
                                strcspn(hex, "\r\n"), NULL, &length, NULL),
                 0);
    cr_assert_eq(length, COR_WIRE_PUBLIC_KEY_SIZE);
}

void cor_test_xb_secret(const cor_test_xb_side *side, uint8_t out[COR_WIRE_SECRET_KEY_SIZE])
{
    char data[300], path[340];
    cor_test_xb_data_dir(side, data, sizeof(data));
    snprintf(path, sizeof(path), "%s/node.key", data);
    FILE *file = fopen(path, "rb");
    cr_assert(file != NULL);
    cr_assert_eq(fread(out, 1, COR_WIRE_SECRET_KEY_SIZE, file), COR_WIRE_SECRET_KEY_SIZE);
    fclose(file);
}

cor_wire *cor_test_xb_wire_open(const cor_test_xb_side *side, const cor_test_xb_side *peer,
                                const uint8_t *secret, const cor_wire_node *extra_peer)
{
    cor_wire_options options;
    memset(&options, 0, sizeof(options));
    cor_test_xb_wire_node(side, &options.self);
    options.self_key_id = options.self.keys[0].key_id;
    options.self.key_count = 0;
    memset(options.self.keys, 0, sizeof(options.self.keys));
    if (secret != NULL) {
        memcpy(options.self_secret_key, secret, COR_WIRE_SECRET_KEY_SIZE);
    } else {
        cor_test_xb_secret(side, options.self_secret_key);
    }
    cor_wire_node peers[2];
    cor_test_xb_wire_node(peer, &peers[0]);
    options.peer_count = 1;
    if (extra_peer != NULL) peers[options.peer_count++] = *extra_peer;
    options.peers = peers;
    options.replay_window_ns = 30ull * 1000000000ull;
    options.clock_skew_ns = 5ull * 1000000000ull;
    cor_wire *wire = NULL;
    cr_assert_eq(cor_wire_open(&options, &wire), COR_OK);
    sodium_memzero(options.self_secret_key, sizeof(options.self_secret_key));
    return wire;
}
