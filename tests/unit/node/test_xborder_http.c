/*
 * The corridor end to end through the HTTP API of two REAL nodes (`corridor serve`, COR_BIN)
 * on loopback: RU (RUB) and IR (IRR), peered both ways (tests/support/xb_net.h). Each test
 * starts its own pair and asserts the state on BOTH nodes and the balances: on each node the
 * participants' nets always sum to the money issued (checked by every snapshot), and every
 * payment moves exactly its quote's amounts or nothing at all.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "../../support/node_support.h"
#include "../../support/xb_net.h"
#include "corridor/xborder.h"
#include "corridor/xborder_wire.h"

static cor_test_xb_net net;

static void net_stop(void)
{
    cor_test_xb_net_cleanup(&net);
}

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A refused request: status, error code and ISO reason as docs/API.md says. */
static void expect_error(cor_test_response *r, long status, const char *code, const char *iso,
                         const char *what)
{
    cr_assert_eq(r->status, status, "%s: status %ld, expected %ld: %s", what, r->status, status,
                 r->body ? r->body : "");
    const char *got = cor_test_error_code(r);
    cr_assert(got != NULL && strcmp(got, code) == 0, "%s: code %s, expected %s: %s", what,
              got ? got : "(none)", code, r->body);
    if (iso != NULL) {
        const char *got_iso =
            json_string_value(json_object_get(json_object_get(r->json, "error"), "iso"));
        cr_assert(got_iso != NULL && strcmp(got_iso, iso) == 0, "%s: iso %s, expected %s", what,
                  got_iso ? got_iso : "(none)", iso);
    }
    cor_test_response_free(r);
}

/* The state a 202 answer may show: forwarded, or already final (or held) when the
 * beneficiary's answer arrived before the answer to the bank was rendered. */
static bool state_after_submit(const char *state)
{
    return state != NULL && (strcmp(state, "forwarded") == 0 || strcmp(state, "committed") == 0 ||
                             strcmp(state, "rejected") == 0 || strcmp(state, "held") == 0);
}

/* Pays and asserts the 202 answer with the quote's amounts. */
static void pay_ok(const cor_test_xb_side *side, unsigned participant, const char *uetr,
                   const cor_test_xb_quote_info *q, unsigned creditor, const char *creditor_name)
{
    cor_test_response r;
    cor_test_xb_pay(side, participant, uetr, q->quote_id, creditor, "Ivan Petrov", creditor_name,
                    &r);
    cr_assert_eq(r.status, 202, "pay on %s: %ld %s", side->name, r.status, r.body);
    cr_assert(state_after_submit(cor_test_str(&r, "state")), "%s", r.body);
    cr_assert_eq(strtoll(cor_test_str(&r, "source_amount"), NULL, 10), q->source_amount);
    cr_assert_eq(strtoll(cor_test_str(&r, "destination_amount"), NULL, 10), q->destination_amount);
    cor_test_response_free(&r);
}

/* Both nodes end in state want (origin first, as the beneficiary decides first anyway). */
static void both_end(const cor_test_xb_side *origin, const cor_test_xb_side *beneficiary,
                     const char *uetr, const char *want, const char *iso)
{
    cor_test_xb_state_info a, b;
    cor_test_xb_wait_state(beneficiary, uetr, want, &b);
    cor_test_xb_wait_state(origin, uetr, want, &a);
    if (iso != NULL) {
        cr_assert_str_eq(b.iso, iso, "%s on %s: %s", uetr, beneficiary->name, b.reason);
        cr_assert_str_eq(a.iso, iso, "%s on %s: %s", uetr, origin->name, a.reason);
        cr_assert_str_eq(a.reason, b.reason);
    }
    cr_assert_eq(a.source_amount, b.source_amount);
    cr_assert_eq(a.destination_amount, b.destination_amount);
}

/* The steps of GET /v1/payments/{uetr}/track on side, as "step@node,step@node,...". */
static void track_text(const cor_test_xb_side *side, const char *key, const char *uetr, char *out,
                       size_t size)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/payments/%s/track", uetr);
    cor_test_response r;
    cor_test_http(&side->node, "GET", path, key, NULL, &r);
    cr_assert_eq(r.status, 200, "track on %s: %ld %s", side->name, r.status, r.body);
    json_t *steps = json_object_get(r.json, "steps");
    out[0] = '\0';
    size_t used = 0;
    unsigned long long last = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        unsigned long long at =
            strtoull(json_string_value(json_object_get(s, "timestamp")), NULL, 10);
        cr_assert(at > 0);
        cr_assert(at >= last ||
                      strcmp(json_string_value(json_object_get(s, "step")), "decision_known") ==
                          0 ||
                      last == 0,
                  "steps out of order on %s", side->name);
        last = at;
        used += (size_t)snprintf(out + used, size - used, "%s%s@%s", i ? "," : "",
                                 json_string_value(json_object_get(s, "step")),
                                 json_string_value(json_object_get(s, "node")));
        cr_assert(used < size);
    }
    cor_test_response_free(&r);
}

/* One suite-level timeout: Criterion's per-test timeouts leak a runner allocation that
 * LeakSanitizer reports at exit when tests run in parallel. */
TestSuite(xborder_http, .timeout = 180);

/* ---------------------------------------------------------------------------------------- */
/* 1. Happy path both ways                                                                   */
/* ---------------------------------------------------------------------------------------- */

Test(xborder_http, happy_path_both_ways, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);

    /* RU -> IR, source fixed and destination fixed. */
    cor_test_xb_quote_info q1, q2, q3, q4;
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q1);
    cr_assert_eq(q1.source_amount, 100000);
    cr_assert_eq(q1.fee, 100);
    /* floor((100000 - 100) * 485 * 998000 / 1e6) */
    cr_assert_eq(q1.destination_amount, 48354597);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "destination", 1000000, &q2);
    cr_assert_eq(q2.destination_amount, 1000000);
    /* ceil(1000000 * 1e6 / (485 * 998000)) + fee */
    cr_assert_eq(q2.source_amount, 2066 + 100);
    char u1[37], u2[37], u3[37], u4[37];
    cor_test_xb_uetr(u1);
    cor_test_xb_uetr(u2);
    pay_ok(&net.ru, XB_BANK, u1, &q1, XB_BANK, "Ali Rezaei");
    pay_ok(&net.ru, XB_BANK, u2, &q2, XB_BANK2, NULL);

    /* IR -> RU, both kinds. */
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 2000000, &q3);
    cr_assert_eq(q3.destination_amount, (2000000 - 1000) * 998000LL / (480LL * 1000000));
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "destination", 5000, &q4);
    cr_assert_eq(q4.destination_amount, 5000);
    cor_test_xb_uetr(u3);
    cor_test_xb_uetr(u4);
    pay_ok(&net.ir, XB_BANK, u3, &q3, XB_BANK, "Ali Rezaei");
    pay_ok(&net.ir, XB_BANK, u4, &q4, XB_BANK2, NULL);

    both_end(&net.ru, &net.ir, u1, "committed", NULL);
    both_end(&net.ru, &net.ir, u2, "committed", NULL);
    both_end(&net.ir, &net.ru, u3, "committed", NULL);
    both_end(&net.ir, &net.ru, u4, "committed", NULL);

    /* Repeating an identical request: 200, duplicate, nothing more moves. */
    cor_test_response r;
    cor_test_xb_pay(&net.ru, XB_BANK, u1, q1.quote_id, XB_BANK, "Ivan Petrov", "Ali Rezaei", &r);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert(json_is_true(json_object_get(r.json, "duplicate")));
    cr_assert_str_eq(cor_test_str(&r, "state"), "committed");
    cor_test_response_free(&r);

    /* Balances: leg 1 to the FX provider on the origin, leg 2 from it on the beneficiary. */
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ru1.net[XB_BANK],
                 ru0.net[XB_BANK] - q1.source_amount - q2.source_amount + q3.destination_amount);
    cr_assert_eq(ru1.net[XB_BANK2], ru0.net[XB_BANK2] + q4.destination_amount);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] + q1.source_amount + q2.source_amount -
                                     q3.destination_amount - q4.destination_amount);
    cr_assert_eq(ir1.net[XB_BANK],
                 ir0.net[XB_BANK] + q1.destination_amount - q3.source_amount - q4.source_amount);
    cr_assert_eq(ir1.net[XB_BANK2], ir0.net[XB_BANK2] + q2.destination_amount);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] - q1.destination_amount - q2.destination_amount +
                                     q3.source_amount + q4.source_amount);
    cr_assert_eq(ru1.pending, 0);
    cr_assert_eq(ir1.pending, 0);
    cr_assert_eq(ru1.payments, 4);
    cr_assert_eq(ir1.payments, 4);
    cr_assert_eq(ru1.open, 0);
    cr_assert_eq(ir1.open, 0);

    /* Track: the origin's steps (with the beneficiary's decision time) and the beneficiary's. */
    char text[512];
    track_text(&net.ru, net.ru.keys[XB_BANK], u1, text, sizeof(text));
    cr_assert_str_eq(text, "reserved@RU,decision_known@IR,posted@RU");
    track_text(&net.ir, net.ir.keys[XB_BANK], u1, text, sizeof(text));
    cr_assert_str_eq(text, "received@IR,settled@IR");
    track_text(&net.ir, net.ir.node.operator_key, u3, text, sizeof(text));
    cr_assert_str_eq(text, "reserved@IR,decision_known@RU,posted@IR");
    track_text(&net.ru, net.ru.keys[XB_BANK], u3, text, sizeof(text));
    cr_assert_str_eq(text, "received@RU,settled@RU");
    /* Only the parties (and operator/auditors) see a payment. */
    char path[128];
    snprintf(path, sizeof(path), "/v1/payments/%s/track", u1);
    cor_test_http(&net.ru.node, "GET", path, net.ru.keys[XB_BANK2], NULL, &r);
    expect_error(&r, 404, "payment_not_found", NULL, "track by another bank");

    /* Reconciliation: both nodes report the same summaries for both directions. */
    char rec_ru[600], rec_ir[600];
    cor_test_xb_reconcile_text(&net.ru, "IR", rec_ru, sizeof(rec_ru));
    cor_test_xb_reconcile_text(&net.ir, "RU", rec_ir, sizeof(rec_ir));
    cr_assert_str_eq(rec_ru, rec_ir);
    char expected[128];
    snprintf(expected, sizeof(expected), "RU>IR:2:%lld:%lld:", q1.source_amount + q2.source_amount,
             q1.destination_amount + q2.destination_amount);
    cr_assert(strstr(rec_ru, expected) != NULL, "%s lacks %s", rec_ru, expected);
    snprintf(expected, sizeof(expected), "IR>RU:2:%lld:%lld:", q3.source_amount + q4.source_amount,
             q3.destination_amount + q4.destination_amount);
    cr_assert(strstr(rec_ru, expected) != NULL, "%s lacks %s", rec_ru, expected);

    /* A window on B's decision time: from the last decision on, only that one; the detail
     * lists the payments; bad windows and unknown peers are refused. */
    char get[96];
    snprintf(get, sizeof(get), "/v1/xborder/payments/%s", u4);
    cor_test_http(&net.ru.node, "GET", get, net.ru.node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    unsigned long long decided = strtoull(cor_test_str(&r, "decided_at"), NULL, 10);
    cor_test_response_free(&r);
    snprintf(path, sizeof(path), "/v1/xborder/reconcile?fx_id=1&peer=RU&from=%llu&payments=true",
             decided);
    cor_test_http(&net.ir.node, "GET", path, net.ir.node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    json_t *listed = json_object_get(r.json, "payments");
    cr_assert_geq(json_array_size(listed), 1, "%s", r.body);
    bool has_u4 = false;
    for (size_t i = 0; i < json_array_size(listed); i++) {
        const char *uetr = json_string_value(json_object_get(json_array_get(listed, i), "uetr"));
        has_u4 = has_u4 || strcmp(uetr, u4) == 0;
        unsigned long long at = strtoull(
            json_string_value(json_object_get(json_array_get(listed, i), "decided_at")), NULL, 10);
        cr_assert_geq(at, decided);
    }
    cr_assert(has_u4, "%s", r.body);
    cor_test_response_free(&r);
    cor_test_http(&net.ir.node, "GET", "/v1/xborder/reconcile?fx_id=1&peer=RU&from=5&until=5",
                  net.ir.node.operator_key, NULL, &r);
    expect_error(&r, 400, "invalid_query", NULL, "empty window");
    cor_test_http(&net.ir.node, "GET", "/v1/xborder/reconcile?fx_id=1&peer=KZ",
                  net.ir.node.operator_key, NULL, &r);
    expect_error(&r, 404, "peer_not_found", NULL, "unknown peer");
    cor_test_http(&net.ir.node, "GET", "/v1/xborder/reconcile?fx_id=1&peer=RU",
                  net.ir.keys[XB_BANK], NULL, &r);
    expect_error(&r, 403, "forbidden", NULL, "reconcile by a participant");

    /* Each side's party sees the payment, the other banks do not. */
    snprintf(get, sizeof(get), "/v1/xborder/payments/%s", u1);
    cor_test_http(&net.ir.node, "GET", get, net.ir.keys[XB_BANK], NULL, &r);
    cr_assert_eq(r.status, 200, "creditor bank: %ld", r.status);
    cr_assert_str_eq(cor_test_str(&r, "role"), "beneficiary");
    cor_test_response_free(&r);
    cor_test_http(&net.ir.node, "GET", get, net.ir.keys[XB_BANK2], NULL, &r);
    expect_error(&r, 404, "payment_not_found", NULL, "payment seen by another bank");
    cor_test_http(&net.ru.node, "GET", get, net.ru.keys[XB_BANK], NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(cor_test_str(&r, "role"), "origin");
    cor_test_response_free(&r);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 2. Refusals at the origin (422 + reason + ISO, nothing moved anywhere)                     */
/* ---------------------------------------------------------------------------------------- */

static void patch_limits(const cor_test_xb_side *side, unsigned participant, const char *body)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/participants/%u", participant);
    cor_test_response r;
    cor_test_http(&side->node, "PATCH", path, side->node.operator_key, body, &r);
    cr_assert_eq(r.status, 200, "patch %s: %ld %s", body, r.status, r.body);
    cor_test_response_free(&r);
}

Test(xborder_http, refusals_at_origin, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_quote_info q, other, used;
    char u[37];
    cor_test_response r;

    /* One good payment first: its quote is then "used". */
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &used);
    char first[37];
    cor_test_xb_uetr(first);
    pay_ok(&net.ru, XB_BANK, first, &used, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, first, "committed", NULL);

    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);

    cor_test_xb_uetr(u);
    cor_test_xb_pay(&net.ru, XB_BANK, u, "123456789", XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "quote_unknown", "AM09", "unknown quote");

    cor_test_xb_quote(&net.ru, XB_BANK2, "IR", "source", 500, &other);
    cor_test_xb_pay(&net.ru, XB_BANK, u, other.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "quote_unknown", "AM09", "quote of another participant");

    cor_test_xb_pay(&net.ru, XB_BANK, u, used.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "quote_used", "DUPL", "quote reused");

    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 20000, &q);
    cor_test_xb_pay(&net.ru, XB_BANK, first, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "duplicate", "DUPL", "uetr reused with other content");

    cor_test_xb_quote(&net.ru, XB_BANK2, "IR", "source", 5000, &q);
    cor_test_xb_pay(&net.ru, XB_BANK2, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "insufficient_funds", "AM04", "debtor without funds");

    /* Per-participant limits (source currency). */
    patch_limits(&net.ru, XB_BANK, "{\"xborder_payment_max\":\"50000\"}");
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 50001, &q);
    cor_test_xb_pay(&net.ru, XB_BANK, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "amount_above_max", "AM02", "participant payment maximum");
    patch_limits(&net.ru, XB_BANK, "{\"xborder_payment_max\":\"0\"}");

    /* An expired quote: its expiry is min(quote ttl, the rate's validity), so a rate valid
     * for one second gives a quote that expires within that second. */
    cor_test_http(&net.ru.node, "POST", "/v1/fx/rates", net.ru.keys[XB_FX],
                  "{\"peer\":\"IR\",\"rate_num\":\"485\",\"rate_den\":\"1\",\"spread_ppm\":2000,"
                  "\"fee\":\"100\",\"valid_for_s\":1}",
                  &r);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 30000, &q);
    unsigned long long expires = strtoull(q.expires_at, NULL, 10);
    cr_assert(expires <= now_ns() + 1000000000ull, "quote outlives its rate");
    for (int i = 0; i < 100 && now_ns() <= expires + 1000000ull; i++)
        sleep_ms(20);
    cor_test_xb_pay(&net.ru, XB_BANK, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "quote_expired", "AB05", "expired quote");
    cor_test_http(&net.ru.node, "POST", "/v1/fx/quotes", net.ru.keys[XB_BANK],
                  "{\"peer\":\"IR\",\"source_amount\":\"30000\"}", &r);
    expect_error(&r, 422, "no_rate", "AG01", "quote once the rate expired");

    /* A name longer than ISO's Max140Text: 400 before anything happens. */
    char long_name[160];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    cor_test_xb_pay(&net.ru, XB_BANK, u, q.quote_id, XB_BANK, long_name, NULL, &r);
    expect_error(&r, 400, "string_too_long", NULL, "debtor name of 159 bytes");

    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "refusals on RU");
    cor_test_xb_assert_unchanged(&ir0, &ir1, "refusals on IR");
    cr_assert_eq(ru1.payments, ru0.payments);
    cr_assert_eq(ir1.payments, ir0.payments);
    cor_test_xb_state_info s;
    cor_test_xb_state(&net.ru, u, &s);
    cr_assert_str_eq(s.state, "", "a refused payment left a record");

    /* An array: each item answered on its own, in order (at a fresh rate). */
    cor_test_http(&net.ru.node, "POST", "/v1/fx/rates", net.ru.keys[XB_FX], XB_RU_RATE_BODY, &r);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    char ua[37], ub[37], array[512];
    cor_test_xb_uetr(ua);
    cor_test_xb_uetr(ub);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 20000, &q);
    snprintf(array, sizeof(array),
             "[{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"creditor\":\"1\"},"
             "{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"creditor\":\"1\"}]",
             ua, q.quote_id, ub, q.quote_id);
    cor_test_http(&net.ru.node, "POST", "/v1/xborder/payments", net.ru.keys[XB_BANK], array, &r);
    cr_assert_eq(r.status, 200, "array: %ld %s", r.status, r.body);
    json_t *items = json_object_get(r.json, "payments");
    cr_assert_eq(json_array_size(items), 2, "%s", r.body);
    cr_assert(
        state_after_submit(json_string_value(json_object_get(json_array_get(items, 0), "state"))),
        "%s", r.body);
    json_t *second = json_array_get(items, 1);
    cr_assert_str_eq(json_string_value(json_object_get(second, "state")), "error");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(second, "error"), "code")),
                     "quote_used", "%s", r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, ua, "committed", NULL);
    cor_test_xb_state(&net.ru, ub, &s);
    cr_assert_str_eq(s.state, "");

    /* Daily limit (AM13), on IR's bank which has not paid today. */
    patch_limits(&net.ir, XB_BANK, "{\"xborder_daily_max\":\"3000000\"}");
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 2000000, &q);
    cor_test_xb_uetr(u);
    pay_ok(&net.ir, XB_BANK, u, &q, XB_BANK, NULL);
    both_end(&net.ir, &net.ru, u, "committed", NULL);
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000001, &q);
    cor_test_xb_uetr(u);
    cor_test_xb_pay(&net.ir, XB_BANK, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "daily_limit", "AM13", "participant daily maximum");
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000000, &q);
    pay_ok(&net.ir, XB_BANK, u, &q, XB_BANK, NULL); /* exactly up to the limit */
    both_end(&net.ir, &net.ru, u, "committed", NULL);
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] - 1000000);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] + q.destination_amount);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 2b. Rejections by the beneficiary node (leg 1 voided on the origin)                        */
/* ---------------------------------------------------------------------------------------- */

Test(xborder_http, rejections_by_beneficiary, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote_info q;
    char u1[37], u2[37];

    /* A creditor that does not exist on IR. */
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    cor_test_xb_uetr(u1);
    pay_ok(&net.ru, XB_BANK, u1, &q, 99, NULL);
    both_end(&net.ru, &net.ir, u1, "rejected", "AC03");

    /* The FX provider lacks IRR on IR: 3,000,000 RUB is about 1.45e9 IRR > 1e9. */
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 3000000, &q);
    cr_assert_gt(q.destination_amount, XB_IR_FX_FUNDS);
    cor_test_xb_uetr(u2);
    pay_ok(&net.ru, XB_BANK, u2, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, u2, "rejected", "AM04");

    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "RU after rejections");
    cor_test_xb_assert_unchanged(&ir0, &ir1, "IR after rejections");
    cr_assert_eq(ru1.pending, 0, "leg 1 not voided");
    cr_assert_eq(ru1.payments, 2);
    cr_assert_eq(ir1.payments, 2);
    char text[512];
    track_text(&net.ru, net.ru.keys[XB_BANK], u1, text, sizeof(text));
    cr_assert_str_eq(text, "reserved@RU,decision_known@IR,voided@RU");
    char rec_ru[600], rec_ir[600];
    cor_test_xb_reconcile_text(&net.ru, "IR", rec_ru, sizeof(rec_ru));
    cor_test_xb_reconcile_text(&net.ir, "RU", rec_ir, sizeof(rec_ir));
    cr_assert_str_eq(rec_ru, rec_ir);
    cr_assert(strstr(rec_ru, "RU>IR:0:0:0:") != NULL, "%s", rec_ru);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 2c. Corridor limits from `corridor peer add` (applied at restart)                           */
/* ---------------------------------------------------------------------------------------- */

/* Sleeps past the next UTC midnight when it is less than margin_s seconds away (bounded by
 * margin_s + 1 s). */
static void wait_out_utc_midnight(unsigned margin_s)
{
    time_t now = time(NULL);
    unsigned left = (unsigned)(86400 - now % 86400);
    if (left < margin_s) sleep(left + 1);
}

Test(xborder_http, corridor_limits, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_quote_info q;
    char u[37];
    cor_test_response r;

    /* RU sends at most 50,000 RUB per payment to IR. */
    cor_test_xb_peer_add(&net.ru, &net.ir, "--payment-max-out 50000");
    cor_test_xb_restart(&net.ru);
    cor_test_http(&net.ru.node, "GET", "/v1/corridor/peers", net.ru.node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    json_t *peer = json_array_get(json_object_get(r.json, "peers"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(peer, "payment_max_out")), "50000");
    cor_test_response_free(&r);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 50001, &q);
    cor_test_xb_uetr(u);
    cor_test_xb_pay(&net.ru, XB_BANK, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "amount_above_max", "AM02", "corridor payment maximum out");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "RU after AM02 out");
    cr_assert_eq(ru1.payments, ru0.payments);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 50000, &q);
    pay_ok(&net.ru, XB_BANK, u, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, u, "committed", NULL);

    /* IR accepts at most 10,000,000 IRR per incoming payment from RU: B rejects. */
    cor_test_xb_peer_add(&net.ir, &net.ru, "--payment-max-in 10000000");
    cor_test_xb_restart(&net.ir);
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 40000, &q);
    cr_assert_gt(q.destination_amount, 10000000);
    cor_test_xb_uetr(u);
    pay_ok(&net.ru, XB_BANK, u, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, u, "rejected", "AM02");
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 20000, &q);
    cr_assert_lt(q.destination_amount, 10000000);
    char ok[37];
    cor_test_xb_uetr(ok);
    pay_ok(&net.ru, XB_BANK, ok, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, ok, "committed", NULL);
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] - 20000, "only the accepted one moved");
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] + q.destination_amount);
    cr_assert_eq(ru1.pending, 0);

    /* Daily totals, which a restart (the peer entry applied again) must not reset. IR sends
     * at most 3,000,000 IRR a day to RU. They are per UTC day: close to midnight, wait for the
     * new day so that the checks below all fall inside one. */
    wait_out_utc_midnight(60);
    cor_test_xb_peer_add(&net.ir, &net.ru, "--payment-max-in 10000000 --daily-max-out 3000000");
    cor_test_xb_restart(&net.ir);
    cor_test_xb_quote_info d1, d2;
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 2000000, &d1);
    cor_test_xb_uetr(u);
    pay_ok(&net.ir, XB_BANK, u, &d1, XB_BANK, NULL);
    both_end(&net.ir, &net.ru, u, "committed", NULL);
    cor_test_xb_restart(&net.ir);
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000001, &q);
    cor_test_xb_uetr(u);
    cor_test_xb_pay(&net.ir, XB_BANK, u, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 422, "daily_limit", "AM13", "corridor daily maximum out after a restart");
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000000, &d2);
    pay_ok(&net.ir, XB_BANK, u, &d2, XB_BANK, NULL);
    both_end(&net.ir, &net.ru, u, "committed", NULL);

    /* RU takes in at most what it took today plus 3,000 RUB from IR: one more payment of
     * about 2,077 RUB passes, the next is rejected by RU (AM13) and voided on IR. */
    char limits[160];
    snprintf(limits, sizeof(limits), "--payment-max-out 50000 --daily-max-in %lld",
             d1.destination_amount + d2.destination_amount + 3000);
    cor_test_xb_peer_add(&net.ru, &net.ir, limits);
    cor_test_xb_restart(&net.ru);
    cor_test_xb_peer_add(&net.ir, &net.ru, "--payment-max-in 10000000");
    cor_test_xb_restart(&net.ir);
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000000, &d1);
    cr_assert_lt(d1.destination_amount, 3000);
    cor_test_xb_uetr(u);
    pay_ok(&net.ir, XB_BANK, u, &d1, XB_BANK, NULL);
    both_end(&net.ir, &net.ru, u, "committed", NULL);
    cor_test_xb_restart(&net.ru);
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 1000000, &d2);
    cor_test_xb_uetr(u);
    pay_ok(&net.ir, XB_BANK, u, &d2, XB_BANK, NULL);
    both_end(&net.ir, &net.ru, u, "rejected", "AM13");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] - 1000000);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] + d1.destination_amount);
    cr_assert_eq(ir1.pending, 0);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 3. Screening holds                                                                        */
/* ---------------------------------------------------------------------------------------- */

#define WATCHLIST                                                                                  \
    "name,identifier,type,list,reference\n"                                                        \
    "Ali Rezaei,,individual,TEST-LIST,T-1\n"

static void load_watchlist(const cor_test_xb_side *side)
{
    cor_test_response r;
    cor_test_http_bytes(&side->node, "PUT", "/v1/screening/watchlist", side->node.operator_key,
                        "text/csv", WATCHLIST, strlen(WATCHLIST), &r);
    cr_assert_eq(r.status, 200, "watch list: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "entries")), 1);
    cor_test_response_free(&r);
}

static bool holds_list(const cor_test_xb_side *side, const char *uetr)
{
    cor_test_response r;
    cor_test_http(&side->node, "GET", "/v1/xborder/holds", side->node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    json_t *holds = json_object_get(r.json, "holds");
    bool found = false;
    for (size_t i = 0; i < json_array_size(holds); i++) {
        const char *u = json_string_value(json_object_get(json_array_get(holds, i), "uetr"));
        if (u != NULL && strcmp(u, uetr) == 0) found = true;
    }
    cor_test_response_free(&r);
    return found;
}

/* A RU -> IR payment naming the listed creditor: held on IR, still forwarded on RU. */
static void pay_held(const char *uetr, cor_test_xb_quote_info *q)
{
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, q);
    pay_ok(&net.ru, XB_BANK, uetr, q, XB_BANK, "Ali Rezaei");
    cor_test_xb_state_info s;
    cor_test_xb_wait_state(&net.ir, uetr, "held", &s);
    cr_assert_str_eq(s.iso, "NARR");
    cor_test_xb_state(&net.ru, uetr, &s);
    cr_assert_str_eq(s.state, "forwarded");
    cr_assert(holds_list(&net.ir, uetr), "hold not listed");
}

static void hold_action(const cor_test_xb_side *side, const char *key, const char *uetr,
                        const char *action, cor_test_response *r)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s/%s", uetr, action);
    cor_test_http(&side->node, "POST", path, key, NULL, r);
}

Test(xborder_http, screening_holds, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    load_watchlist(&net.ir);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote_info q1, q2, q3;
    char u1[37], u2[37], u3[37];
    cor_test_response r;

    cor_test_xb_uetr(u1);
    pay_held(u1, &q1);
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cr_assert_eq(ru1.pending, q1.source_amount, "leg 1 reserved while held");
    cr_assert_eq(ru1.open, 1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.open, 1, "a hold is an open payment on IR");
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK]);
    /* Neither the creditor bank nor the debtor bank may decide a hold. */
    hold_action(&net.ir, net.ir.keys[XB_BANK], u1, "release", &r);
    expect_error(&r, 403, "forbidden", NULL, "participant releases");
    hold_action(&net.ir, net.ir.keys[XB_BANK], u1, "reject", &r);
    expect_error(&r, 403, "forbidden", NULL, "participant rejects");
    /* A payment without a listed name is not held (the list is about names, not banks). */
    cor_test_xb_quote_info q0;
    char u0[37];
    cor_test_xb_uetr(u0);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 1000, &q0);
    pay_ok(&net.ru, XB_BANK, u0, &q0, XB_BANK, "Someone Else");
    both_end(&net.ru, &net.ir, u0, "committed", NULL);

    hold_action(&net.ir, net.ir.node.operator_key, u1, "release", &r);
    cr_assert_eq(r.status, 200, "release: %ld %s", r.status, r.body);
    cr_assert_str_eq(cor_test_str(&r, "state"), "committed");
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u1, "committed", NULL);
    cr_assert(!holds_list(&net.ir, u1));
    hold_action(&net.ir, net.ir.node.operator_key, u1, "release", &r);
    expect_error(&r, 422, "not_held", "NARR", "release twice");

    /* A second one rejected by the operator: RR04 on both, leg 1 voided on RU. */
    cor_test_xb_uetr(u2);
    pay_held(u2, &q2);
    hold_action(&net.ir, net.ir.node.operator_key, u2, "reject", &r);
    cr_assert_eq(r.status, 200, "reject: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u2, "rejected", "RR04");

    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ru1.pending, 0);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] - q1.source_amount - q0.source_amount);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] + q1.source_amount + q0.source_amount);
    cr_assert_eq(ir1.net[XB_BANK],
                 ir0.net[XB_BANK] + q1.destination_amount + q0.destination_amount);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] - q1.destination_amount - q0.destination_amount);
    char text[512];
    track_text(&net.ir, net.ir.node.operator_key, u1, text, sizeof(text));
    cr_assert(strstr(text, "held@IR") != NULL, "%s", text);

    /* Release re-checks everything: the FX provider drained on IR meanwhile -> AM04 on
     * both, leg 1 voided on RU. An auditor sees the hold but cannot decide it. */
    char u4[37];
    cor_test_xb_quote_info q4;
    cor_test_xb_uetr(u4);
    pay_held(u4, &q4);
    cor_test_http(&net.ir.node, "POST", "/v1/auditor-keys", net.ir.node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    char auditor[128];
    snprintf(auditor, sizeof(auditor), "%s", cor_test_str(&r, "api_key"));
    cor_test_response_free(&r);
    cor_test_http(&net.ir.node, "GET", "/v1/xborder/holds", auditor, NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(r.body, u4) != NULL);
    cor_test_response_free(&r);
    hold_action(&net.ir, auditor, u4, "release", &r);
    expect_error(&r, 403, "forbidden", NULL, "auditor releases");
    char drain[160];
    snprintf(drain, sizeof(drain),
             "{\"funding_id\":\"77\",\"direction\":\"debit\",\"amount\":\"%lld\","
             "\"currency\":\"IRR\"}",
             ir1.net[XB_FX]);
    cor_test_http(&net.ir.node, "POST", "/v1/participants/2/funding", net.ir.node.operator_key,
                  drain, &r);
    cr_assert_eq(r.status, 201, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    hold_action(&net.ir, net.ir.node.operator_key, u4, "release", &r);
    cr_assert_eq(r.status, 200, "%ld %s", r.status, r.body);
    cr_assert_str_eq(cor_test_str(&r, "state"), "rejected", "%s", r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u4, "rejected", "AM04");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.net[XB_FX], 0);
    cr_assert_eq(ru1.pending, 0);

    /* The watch list survives a restart of IR. */
    cor_test_xb_restart(&net.ir);
    cor_test_http(&net.ir.node, "GET", "/v1/screening/watchlist", net.ir.node.operator_key, NULL,
                  &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "entries")), 1, "%s", r.body);
    cor_test_response_free(&r);
    cor_test_xb_uetr(u3);
    pay_held(u3, &q3);
    hold_action(&net.ir, net.ir.node.operator_key, u3, "reject", &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u3, "rejected", "RR04");
    cor_test_xb_snapshot ru2, ir2;
    cor_test_xb_snapshot_take(&net.ru, &ru2);
    cor_test_xb_snapshot_take(&net.ir, &ir2);
    cor_test_xb_assert_unchanged(&ru1, &ru2, "RU after the third hold");
    cor_test_xb_assert_unchanged(&ir1, &ir2, "IR after the third hold");
    /* A bad watch list is refused and leaves the previous one active. */
    cor_test_http_bytes(&net.ir.node, "PUT", "/v1/screening/watchlist", net.ir.node.operator_key,
                        "text/csv", "nonsense\n", 9, &r);
    cr_assert_eq(r.status, 400, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_http(&net.ir.node, "GET", "/v1/screening/watchlist", net.ir.node.operator_key, NULL,
                  &r);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "entries")), 1);
    cor_test_response_free(&r);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Cancellation of a held payment, and a return                                           */
/* ---------------------------------------------------------------------------------------- */

Test(xborder_http, cancel_and_return, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    load_watchlist(&net.ir);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_response r;

    /* camt.056 for a payment held on IR: cancelled on both, nothing moved. */
    cor_test_xb_quote_info qc;
    char uc[37];
    cor_test_xb_uetr(uc);
    pay_held(uc, &qc);
    char path[160];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s/cancel", uc);
    cor_test_http(&net.ru.node, "POST", path, net.ru.keys[XB_BANK2], NULL, &r);
    expect_error(&r, 404, "payment_unknown", "AG09", "cancel by another bank");
    cor_test_http(&net.ru.node, "POST", path, net.ru.keys[XB_BANK], NULL, &r);
    cr_assert_eq(r.status, 200, "cancel: %ld %s", r.status, r.body);
    cr_assert(json_is_true(json_object_get(r.json, "cancel_requested")), "%s", r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, uc, "rejected", "CUST");
    cr_assert(!holds_list(&net.ir, uc));
    cor_test_http(&net.ru.node, "POST", path, net.ru.keys[XB_BANK], NULL, &r);
    expect_error(&r, 422, "already_final", "ARDT", "cancel of a final payment");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "RU after cancel");
    cor_test_xb_assert_unchanged(&ir0, &ir1, "IR after cancel");

    /* A settled payment returned by the creditor bank (pacs.004 IR -> RU). */
    cor_test_xb_quote_info q, qr;
    char u[37], ur[37];
    cor_test_xb_uetr(u);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    pay_ok(&net.ru, XB_BANK, u, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, u, "committed", NULL);
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s/return", u);
    char body[256];
    /* More than was received: refused. */
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", q.destination_amount + 1, &qr);
    cor_test_xb_uetr(ur);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ur, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK], body, &r);
    expect_error(&r, 422, "return_too_large", "AM09", "return above the original");
    /* The whole amount received, but at the way-back rate (1/480 against 485/1) it would pay
     * the debtor more RUB than it paid: RU refuses it (AM09), the return's leg 1 is voided
     * on IR, and the original may still be returned. */
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", q.destination_amount, &qr);
    cr_assert_gt(qr.destination_amount, q.source_amount);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ur, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK], body, &r);
    cr_assert_eq(r.status, 202, "return: %ld %s", r.status, r.body);
    cr_assert_str_eq(cor_test_str(&r, "type"), "return");
    cor_test_response_free(&r);
    both_end(&net.ir, &net.ru, ur, "rejected", "AM09");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "RU after the refused return");
    cor_test_xb_assert_unchanged(&ir0, &ir1, "IR after the refused return");
    /* 1,000,000 IRR less: within what the debtor paid. */
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", q.destination_amount - 1000000, &qr);
    cr_assert_leq(qr.destination_amount, q.source_amount);
    cor_test_xb_uetr(ur);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ur, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK], body, &r);
    cr_assert_eq(r.status, 202, "return: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    both_end(&net.ir, &net.ru, ur, "committed", NULL);
    cor_test_xb_state_info s;
    for (int side = 0; side < 2; side++) {
        const cor_test_xb_side *node = side ? &net.ir : &net.ru;
        for (int i = 0; i < 100; i++) { /* the origin learns it from the pacs.002 */
            cor_test_xb_state(node, u, &s);
            if (s.returned_by[0] != '\0') break;
            sleep_ms(25);
        }
        cr_assert_str_eq(s.state, "committed");
        cr_assert_str_eq(s.returned_by, ur, "original on %s not marked returned", node->name);
    }
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] - qr.source_amount);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] + qr.source_amount);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] + qr.destination_amount);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] - qr.destination_amount);
    cr_assert_leq(qr.destination_amount, q.source_amount);
    /* Only the bank the original paid may return it; the origin cannot "return" its own. */
    char ux[37];
    cor_test_xb_uetr(ux);
    cor_test_xb_quote(&net.ir, XB_BANK2, "RU", "source", 10000, &qr);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ux, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK2], body, &r);
    expect_error(&r, 422, "return_invalid", "AG09", "return by another bank");
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 10000, &qr);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ux, qr.quote_id);
    cor_test_http(&net.ru.node, "POST", path, net.ru.keys[XB_BANK], body, &r);
    expect_error(&r, 422, "return_invalid", "AG09", "return by the origin's debtor");
    /* A second return of the same payment is refused. */
    char ur2[37];
    cor_test_xb_uetr(ur2);
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", 10000, &qr);
    snprintf(body, sizeof(body), "{\"uetr\":\"%s\",\"quote_id\":\"%s\"}", ur2, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK], body, &r);
    expect_error(&r, 422, "already_returned", "ARDT", "second return");
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 5. Bad peer input on POST /v1/peer/messages                                               */
/* ---------------------------------------------------------------------------------------- */

static uint64_t forged_sequence = 1ull << 40; /* far above anything RU itself sends */

static cor_u128 uetr_value(const char *text)
{
    cor_u128 value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '-') continue;
        int digit = *p <= '9' ? *p - '0' : *p - 'a' + 10;
        value = (value << 4) | (cor_u128)digit;
    }
    return value;
}

static cor_u128 u128_text(const char *text)
{
    cor_u128 value = 0;
    for (const char *p = text; *p >= '0' && *p <= '9'; p++)
        value = value * 10u + (cor_u128)(*p - '0');
    return value;
}

/* A well-formed RU -> IR pacs.008 for IR's bank, paid by fx 1 at the published rate. */
static void pacs008(cor_xb_message *m, const char *uetr, uint64_t source)
{
    memset(m, 0, sizeof(*m));
    uint64_t now = now_ns();
    m->type = COR_XB_PACS008;
    m->from_node = 643;
    m->to_node = 364;
    m->msg_id = ((cor_u128)643 << 96) | (cor_u128)(forged_sequence++);
    m->uetr = uetr_value(uetr);
    m->quote_id = ((cor_u128)643 << 96) | 777u;
    m->amount_source = source;
    m->fee_source = 100;
    m->rate_num = 485;
    m->rate_den = 1;
    m->spread_ppm = 2000;
    m->fixed = COR_XB_FIXED_SOURCE;
    cr_assert(cor_xb_amount_dest(source - 100, 485, 1, 2000, &m->amount_dest));
    m->debtor_account = ((cor_u128)1 << 127) | XB_BANK;
    m->creditor_account = ((cor_u128)1 << 127) | XB_BANK;
    m->fx_id = 1;
    m->created_at = now;
    m->deadline = now + 20ull * 1000000000ull;
    m->source_ledger = 643;
    m->dest_ledger = 364;
}

static size_t encode(cor_wire *wire, const cor_xb_message *m, uint8_t *out, size_t size)
{
    size_t length = 0;
    cr_assert_eq(cor_wire_encode(wire, m, out, size, &length), COR_OK);
    return length;
}

static void post_peer(const void *bytes, size_t size, cor_test_response *r)
{
    cor_test_http_bytes(&net.ir.node, "POST", "/v1/peer/messages", NULL, "application/octet-stream",
                        bytes, size, r);
}

/* Posts and expects a refusal; then IR's balances and records are unchanged. */
static void refused(const void *bytes, size_t size, long status, const char *code, const char *iso,
                    const char *what)
{
    cor_test_xb_snapshot before, after;
    cor_test_xb_snapshot_take(&net.ir, &before);
    cor_test_response r;
    post_peer(bytes, size, &r);
    expect_error(&r, status, code, iso, what);
    cor_test_xb_snapshot_take(&net.ir, &after);
    cor_test_xb_assert_unchanged(&before, &after, what);
    cr_assert_eq(after.payments, before.payments, "%s: a payment was recorded", what);
}

/* Posts one envelope that is accepted (202, accepted 1). */
static void accepted(const void *bytes, size_t size, const char *what)
{
    cor_test_response r;
    post_peer(bytes, size, &r);
    cr_assert_eq(r.status, 202, "%s: %ld %s", what, r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "accepted")), 1, "%s: %s", what,
                 r.body);
    cor_test_response_free(&r);
}

Test(xborder_http, bad_peer_input, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_wire *ru = cor_test_xb_wire_open(&net.ru, &net.ir, NULL, NULL);
    size_t capacity = 1u << 16;
    uint8_t *bytes = malloc(capacity);
    cr_assert(bytes != NULL);
    cor_xb_message m;
    char u[37];

    /* Garbage and broken envelopes. */
    refused("hello, node", 11, 400, "truncated", "FF01", "garbage shorter than a header");
    uint8_t junk[300];
    randombytes_buf(junk, sizeof(junk));
    memcpy(junk + 68, "\0\0\0\x40", 4); /* a plausible body size: 72 + 64 + 64 = 200 bytes */
    refused(junk, 200, 400, "format", "FF01", "random bytes");
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    size_t size = encode(ru, &m, bytes, capacity);
    refused(bytes, size - 10, 400, "truncated", "FF01", "truncated envelope");
    uint8_t *flipped = malloc(size);
    memcpy(flipped, bytes, size);
    flipped[size / 2] ^= 0x20; /* one bit in the signed body */
    refused(flipped, size, 401, "signature", "DS0A", "altered body");
    free(flipped);

    /* Signed with RU's real key but the document is not XML: refused by the codec. */
    uint8_t ru_secret[COR_WIRE_SECRET_KEY_SIZE];
    cor_test_xb_secret(&net.ru, ru_secret);
    static const char not_xml[] = "<Envelope><unclosed>";
    uint8_t *handmade = malloc(COR_WIRE_HEADER_SIZE_BYTES + sizeof(not_xml) + 64);
    memcpy(handmade, bytes, COR_WIRE_HEADER_SIZE_BYTES); /* the valid header from above */
    size_t n = sizeof(not_xml) - 1;
    handmade[68] = 0;
    handmade[69] = 0;
    handmade[70] = (uint8_t)(n >> 8);
    handmade[71] = (uint8_t)n;
    memcpy(handmade + COR_WIRE_HEADER_SIZE_BYTES, not_xml, n);
    crypto_sign_detached(handmade + COR_WIRE_HEADER_SIZE_BYTES + n, NULL, handmade,
                         COR_WIRE_HEADER_SIZE_BYTES + n, ru_secret);
    refused(handmade, COR_WIRE_HEADER_SIZE_BYTES + n + 64, 400, "xml", "FF01",
            "signed bytes that are not xml");
    free(handmade);
    /* A valid envelope whose header message id was changed and re-signed: the signature
     * holds, but the corridor record names another message. */
    uint8_t *resigned = malloc(size);
    memcpy(resigned, bytes, size);
    resigned[59] ^= 0x01;
    crypto_sign_detached(resigned + size - 64, NULL, resigned, size - 64, ru_secret);
    refused(resigned, size, 400, "mismatch", "FF01", "header and record disagree");
    free(resigned);
    sodium_memzero(ru_secret, sizeof(ru_secret));

    /* RU's name with a key id IR does not know for it. */
    flipped = malloc(size);
    memcpy(flipped, bytes, size);
    flipped[43] ^= 0x02; /* key id 1 -> 3 (big-endian at offset 40) */
    refused(flipped, size, 401, "key_unknown", "DS0H", "unknown key id");
    free(flipped);

    /* Forged: RU's identity and key id, someone else's key. */
    uint8_t forged_public[COR_WIRE_PUBLIC_KEY_SIZE], forged_secret[COR_WIRE_SECRET_KEY_SIZE];
    crypto_sign_keypair(forged_public, forged_secret);
    cor_wire *forger = cor_test_xb_wire_open(&net.ru, &net.ir, forged_secret, NULL);
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    size = encode(forger, &m, bytes, capacity);
    refused(bytes, size, 401, "signature", "DS0A", "forged signature");
    cor_wire_close(forger);

    /* An unknown corridor: a node IR has no peer entry for (KZ). */
    cor_wire_options kz;
    memset(&kz, 0, sizeof(kz));
    snprintf(kz.self.name, sizeof(kz.self.name), "KZ");
    snprintf(kz.self.bic, sizeof(kz.self.bic), "CRDRKZXX");
    memcpy(kz.self.currency, "KZT", 3);
    kz.self.node_id = 398;
    kz.self.ledger = 398;
    kz.self_key_id = 1;
    memcpy(kz.self_secret_key, forged_secret, sizeof(forged_secret));
    cor_wire_node ir_node;
    cor_test_xb_wire_node(&net.ir, &ir_node);
    kz.peers = &ir_node;
    kz.peer_count = 1;
    kz.replay_window_ns = 30ull * 1000000000ull;
    kz.clock_skew_ns = 5ull * 1000000000ull;
    cor_wire *kz_wire = NULL;
    cr_assert_eq(cor_wire_open(&kz, &kz_wire), COR_OK);
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    m.from_node = 398;
    m.source_ledger = 398;
    m.msg_id = ((cor_u128)398 << 96) | 1u;
    size = encode(kz_wire, &m, bytes, capacity);
    refused(bytes, size, 401, "sender_unknown", "RC01", "unknown corridor");
    cor_wire_close(kz_wire);

    /* Addressed to another node: RU's real key, recipient KZ. */
    cor_wire_node kz_node = kz.self;
    kz_node.key_count = 1;
    kz_node.keys[0].key_id = 1;
    memcpy(kz_node.keys[0].public_key, forged_public, sizeof(forged_public));
    cor_wire *ru_kz = cor_test_xb_wire_open(&net.ru, &net.ir, NULL, &kz_node);
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    m.to_node = 398;
    m.dest_ledger = 398;
    size = encode(ru_kz, &m, bytes, capacity);
    refused(bytes, size, 401, "not_addressee", "RC01", "addressed to another node");
    cor_wire_close(ru_kz);

    /* Stale: created 60 s ago, outside the 30 s replay window. */
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    m.created_at -= 60ull * 1000000000ull;
    size = encode(ru, &m, bytes, capacity);
    refused(bytes, size, 409, "stale", "TM01", "stale timestamp");

    /* Stale the other way: created beyond the 5 s clock skew ahead. */
    cor_test_xb_uetr(u);
    pacs008(&m, u, 100000);
    m.created_at += 60ull * 1000000000ull;
    m.deadline += 60ull * 1000000000ull;
    size = encode(ru, &m, bytes, capacity);
    refused(bytes, size, 409, "stale", "TM01", "timestamp in the future");

    /* Oversized: above the route's 8 MiB, and one envelope claiming 7 MiB of body. */
    size_t big = 8u * 1024u * 1024u + 1u;
    uint8_t *huge = calloc(1, big);
    cr_assert(huge != NULL);
    refused(huge, big, 413, "body_too_large", NULL, "body above 8 MiB");
    size_t body = 7u * 1024u * 1024u;
    memcpy(huge, bytes, COR_WIRE_HEADER_SIZE_BYTES);
    huge[68] = (uint8_t)(body >> 24);
    huge[69] = (uint8_t)(body >> 16);
    huge[70] = (uint8_t)(body >> 8);
    huge[71] = (uint8_t)body;
    refused(huge, COR_WIRE_HEADER_SIZE_BYTES + body + COR_WIRE_SIGNATURE_SIZE, 413, "oversized",
            "FF01", "envelope above the wire maximum");
    free(huge);

    cor_test_xb_snapshot ir0, ir1;
    cor_test_xb_snapshot_take(&net.ir, &ir0);

    /* Signed by RU but the amounts break the quoted rate: recorded RJCT AM09, nothing moved. */
    char u_am09[37];
    cor_test_xb_uetr(u_am09);
    pacs008(&m, u_am09, 100000);
    m.amount_dest += 1000;
    size = encode(ru, &m, bytes, capacity);
    accepted(bytes, size, "amount mismatch");
    cor_test_xb_state_info s;
    cor_test_xb_wait_state(&net.ir, u_am09, "rejected", &s);
    cr_assert_str_eq(s.iso, "AM09");
    cr_assert_str_eq(s.reason, "amount_mismatch");

    /* A deadline already passed: AB05. */
    char u_ab05[37];
    cor_test_xb_uetr(u_ab05);
    pacs008(&m, u_ab05, 100000);
    m.deadline = m.created_at - 1000000000ull;
    size = encode(ru, &m, bytes, capacity);
    accepted(bytes, size, "deadline passed");
    cor_test_xb_wait_state(&net.ir, u_ab05, "rejected", &s);
    cr_assert_str_eq(s.iso, "AB05");

    /* An FX provider with no agreement for this corridor on IR: AG01. */
    char u_ag01[37];
    cor_test_xb_uetr(u_ag01);
    pacs008(&m, u_ag01, 100000);
    m.fx_id = 99;
    size = encode(ru, &m, bytes, capacity);
    accepted(bytes, size, "unknown fx provider");
    cor_test_xb_wait_state(&net.ir, u_ag01, "rejected", &s);
    cr_assert_str_eq(s.iso, "AG01");

    /* Two envelopes in one body, the second forged: 202, the good one applied (a recorded
     * AM09 rejection), the forged one listed as refused with its index. */
    char u_batch[37], u_forged[37];
    cor_test_xb_uetr(u_batch);
    pacs008(&m, u_batch, 100000);
    m.amount_dest -= 1; /* one minor unit below the rounding rule: the creditor short-changed */
    size_t first = encode(ru, &m, bytes, capacity);
    forger = cor_test_xb_wire_open(&net.ru, &net.ir, forged_secret, NULL);
    cor_test_xb_uetr(u_forged);
    pacs008(&m, u_forged, 100000);
    size_t second = encode(forger, &m, bytes + first, capacity - first);
    cor_wire_close(forger);
    cor_test_response r;
    post_peer(bytes, first + second, &r);
    cr_assert_eq(r.status, 202, "batch: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "accepted")), 1, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "refused_count")), 1, "%s", r.body);
    json_t *refusal = json_array_get(json_object_get(r.json, "refused"), 0);
    cr_assert_eq(json_integer_value(json_object_get(refusal, "index")), 1, "%s", r.body);
    json_t *error = json_object_get(refusal, "error");
    cr_assert_str_eq(json_string_value(json_object_get(error, "code")), "signature");
    cr_assert_str_eq(json_string_value(json_object_get(error, "iso")), "DS0A");
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ir, u_batch, "rejected", &s);
    cr_assert_str_eq(s.iso, "AM09");
    cor_test_xb_state(&net.ir, u_forged, &s);
    cr_assert_str_eq(s.state, "", "the forged instruction left a record");

    /* Three envelopes: a forged one, a good one (AM09 again, recorded) and that same good
     * one again. The refusals name the envelopes by their index in the body: 0 (signature)
     * and 2 (replay, caught by the core). */
    char u_three[37];
    cor_test_xb_uetr(u_three);
    forger = cor_test_xb_wire_open(&net.ru, &net.ir, forged_secret, NULL);
    pacs008(&m, u_forged, 100000);
    first = encode(forger, &m, bytes, capacity);
    cor_wire_close(forger);
    pacs008(&m, u_three, 100000);
    m.amount_dest += 1;
    second = encode(ru, &m, bytes + first, capacity - first);
    memcpy(bytes + first + second, bytes + first, second);
    post_peer(bytes, first + 2 * second, &r);
    cr_assert_eq(r.status, 202, "three: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "accepted")), 1, "%s", r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "refused_count")), 2, "%s", r.body);
    json_t *list = json_object_get(r.json, "refused");
    bool seen_signature = false, seen_replay = false;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *item = json_array_get(list, i);
        json_int_t index = json_integer_value(json_object_get(item, "index"));
        const char *code =
            json_string_value(json_object_get(json_object_get(item, "error"), "code"));
        if (strcmp(code, "signature") == 0) {
            cr_assert_eq(index, 0, "%s", r.body);
            seen_signature = true;
        } else {
            cr_assert_str_eq(code, "replay", "%s", r.body);
            cr_assert_eq(index, 2, "replay reported at index %lld: %s", (long long)index, r.body);
            seen_replay = true;
        }
    }
    cr_assert(seen_signature && seen_replay, "%s", r.body);
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ir, u_three, "rejected", &s);
    cr_assert_str_eq(s.iso, "AM09");

    /* One batch envelope of two instructions under the same message id, then a forged
     * envelope: the core refuses the second instruction as a replay, listed under its
     * envelope's index 0 (not as message 1); the forged one is index 1. */
    char u_b1[37], u_b2[37];
    cor_test_xb_uetr(u_b1);
    cor_test_xb_uetr(u_b2);
    cor_xb_message batch[2];
    pacs008(&batch[0], u_b1, 100000);
    batch[0].amount_dest += 1;
    pacs008(&batch[1], u_b2, 100000);
    batch[1].amount_dest += 1;
    batch[1].msg_id = batch[0].msg_id;
    cr_assert_eq(cor_wire_encode_batch(ru, batch, NULL, 2, bytes, capacity, &first), COR_OK);
    forger = cor_test_xb_wire_open(&net.ru, &net.ir, forged_secret, NULL);
    pacs008(&m, u_forged, 100000);
    second = encode(forger, &m, bytes + first, capacity - first);
    cor_wire_close(forger);
    post_peer(bytes, first + second, &r);
    cr_assert_eq(r.status, 202, "batch: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "accepted")), 1, "%s", r.body);
    list = json_object_get(r.json, "refused");
    cr_assert_eq(json_array_size(list), 2, "%s", r.body);
    for (size_t i = 0; i < 2; i++) {
        json_t *item = json_array_get(list, i);
        const char *code =
            json_string_value(json_object_get(json_object_get(item, "error"), "code"));
        json_int_t want = strcmp(code, "signature") == 0 ? 1 : 0;
        if (want == 0) cr_assert_str_eq(code, "replay", "%s", r.body);
        cr_assert_eq(json_integer_value(json_object_get(item, "index")), want, "%s", r.body);
    }
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ir, u_b1, "rejected", &s);
    cor_test_xb_state(&net.ir, u_b2, &s);
    cr_assert_str_eq(s.state, "", "the replayed message left a record");

    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ir0, &ir1, "IR after recorded rejections");
    cr_assert_eq(ir1.payments, ir0.payments + 6);

    /* A valid envelope, then the same bytes again: the first settles leg 2 (IR trusts RU's
     * signature), the replay is refused (409 replay) and moves nothing. */
    char u_ok[37];
    cor_test_xb_uetr(u_ok);
    pacs008(&m, u_ok, 100000);
    size = encode(ru, &m, bytes, capacity);
    accepted(bytes, size, "valid instruction");
    cor_test_xb_wait_state(&net.ir, u_ok, "committed", &s);
    cor_test_xb_snapshot ir2;
    cor_test_xb_snapshot_take(&net.ir, &ir2);
    cr_assert_eq(ir2.net[XB_BANK], ir1.net[XB_BANK] + (long long)m.amount_dest);
    cr_assert_eq(ir2.net[XB_FX], ir1.net[XB_FX] - (long long)m.amount_dest);
    refused(bytes, size, 409, "replay", "DUPL", "replayed envelope");
    cor_test_xb_state(&net.ir, u_ok, &s);
    cr_assert_str_eq(s.state, "committed");
    /* The same instruction re-sent under a new message id (as RU's retries do): answered
     * with the recorded decision, nothing moves again. */
    m.msg_id = ((cor_u128)643 << 96) | (cor_u128)(forged_sequence++);
    m.created_at = now_ns();
    size = encode(ru, &m, bytes, capacity);
    accepted(bytes, size, "re-sent instruction");
    cor_test_xb_snapshot ir3;
    sleep_ms(100); /* had it been applied again, the answer came only after the journal */
    cor_test_xb_snapshot_take(&net.ir, &ir3);
    cor_test_xb_assert_unchanged(&ir2, &ir3, "re-sent instruction");
    cr_assert_eq(ir3.payments, ir2.payments);
    cr_assert_gt(ir3.refusals, ir1.refusals, "the replay was not counted");
    /* The seen message ids survive a restart: the same bytes are still a replay. */
    cor_test_xb_restart(&net.ir);
    refused(bytes, size, 409, "replay", "DUPL", "replay after a restart");

    /* A held instruction whose deadline passes is rejected by IR's own timer (AB05): a hold
     * never outlives the deadline. */
    load_watchlist(&net.ir);
    cor_test_xb_snapshot_take(&net.ir, &ir2);
    char u_late[37];
    cor_test_xb_uetr(u_late);
    pacs008(&m, u_late, 100000);
    m.deadline = m.created_at + 1500000000ull; /* 1.5 s */
    cor_wire_parties parties;
    memset(&parties, 0, sizeof(parties));
    snprintf(parties.creditor_name, sizeof(parties.creditor_name), "Ali Rezaei");
    cr_assert_eq(cor_wire_encode_parties(ru, &m, &parties, bytes, capacity, &size), COR_OK);
    accepted(bytes, size, "held instruction");
    cor_test_xb_wait_state(&net.ir, u_late, "held", &s);
    cor_test_xb_wait_state(&net.ir, u_late, "rejected", &s);
    cr_assert_str_eq(s.iso, "AB05");
    cr_assert(!holds_list(&net.ir, u_late));
    /* The same when IR restarts while it holds one: the timer is rebuilt from the state. */
    cor_test_xb_uetr(u_late);
    pacs008(&m, u_late, 100000);
    m.deadline = m.created_at + 1500000000ull;
    cr_assert_eq(cor_wire_encode_parties(ru, &m, &parties, bytes, capacity, &size), COR_OK);
    accepted(bytes, size, "held instruction before a restart");
    cor_test_xb_wait_state(&net.ir, u_late, "held", &s);
    cor_test_xb_restart(&net.ir);
    cor_test_xb_wait_state(&net.ir, u_late, "rejected", &s);
    cr_assert_str_eq(s.iso, "AB05");
    cor_test_xb_snapshot_take(&net.ir, &ir3);
    cor_test_xb_assert_unchanged(&ir2, &ir3, "held instruction past its deadline");

    /* RU got IR's answers for payments it never made: it ignores them. */
    cor_test_xb_snapshot ru1;
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cr_assert_eq(ru1.payments, 0);
    cr_assert_eq(ru1.net[XB_BANK], XB_RU_BANK_FUNDS);

    /* The other way: answers to RU about a payment RU has open (held on IR). A pacs.002
     * ACSC that does not name the payment RU knows (another amount) changes nothing; one
     * signed by a key that is not IR's is refused; IR's real decision then settles it. */
    cor_test_xb_quote_info qh;
    char uh[37];
    cor_test_xb_uetr(uh);
    pay_held(uh, &qh);
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s", uh);
    cor_test_http(&net.ru.node, "GET", path, net.ru.node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    cor_xb_message answer;
    memset(&answer, 0, sizeof(answer));
    answer.type = COR_XB_PACS002;
    answer.status = COR_XB_STATUS_ACSC;
    answer.from_node = 364;
    answer.to_node = 643;
    answer.msg_id = ((cor_u128)364 << 96) | (cor_u128)(1ull << 40);
    answer.uetr = uetr_value(uh);
    answer.quote_id = u128_text(cor_test_str(&r, "quote_id"));
    cr_assert(answer.quote_id != 0);
    answer.amount_source = (cor_u128)strtoull(cor_test_str(&r, "source_amount"), NULL, 10);
    answer.amount_dest = (cor_u128)strtoull(cor_test_str(&r, "destination_amount"), NULL, 10) + 1;
    answer.fee_source = (cor_u128)strtoull(cor_test_str(&r, "fee"), NULL, 10);
    answer.debtor_account = ((cor_u128)1 << 127) | XB_BANK;
    answer.creditor_account = ((cor_u128)1 << 127) | XB_BANK;
    answer.rate_num = 485;
    answer.rate_den = 1;
    answer.spread_ppm = 2000;
    answer.fixed = COR_XB_FIXED_SOURCE;
    answer.fx_id = 1;
    answer.deadline = strtoull(cor_test_str(&r, "deadline"), NULL, 10);
    answer.source_ledger = 643;
    answer.dest_ledger = 364;
    answer.created_at = now_ns();
    answer.decided_at = answer.created_at;
    cor_test_response_free(&r);
    cor_wire *ir = cor_test_xb_wire_open(&net.ir, &net.ru, NULL, NULL);
    size = encode(ir, &answer, bytes, capacity);
    cor_test_http_bytes(&net.ru.node, "POST", "/v1/peer/messages", NULL, "application/octet-stream",
                        bytes, size, &r);
    cr_assert_eq(r.status, 202, "mismatched answer: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    sleep_ms(100);
    cor_test_xb_state(&net.ru, uh, &s);
    cr_assert_str_eq(s.state, "forwarded", "a mismatched answer was applied");
    cor_wire_close(ir);
    forger = cor_test_xb_wire_open(&net.ir, &net.ru, forged_secret, NULL);
    answer.amount_dest -= 1;
    answer.msg_id += 1;
    answer.created_at = now_ns();
    size = encode(forger, &answer, bytes, capacity);
    cor_wire_close(forger);
    cor_test_http_bytes(&net.ru.node, "POST", "/v1/peer/messages", NULL, "application/octet-stream",
                        bytes, size, &r);
    expect_error(&r, 401, "signature", "DS0A", "forged answer to RU");
    cor_test_xb_state(&net.ru, uh, &s);
    cr_assert_str_eq(s.state, "forwarded");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cr_assert_eq(ru1.pending, qh.source_amount);
    /* The same answer, matching and signed by IR's key (a RJCT RR04, as IR's operator is
     * about to decide): applied, which shows the refused ones differed only as described. */
    ir = cor_test_xb_wire_open(&net.ir, &net.ru, NULL, NULL);
    answer.status = COR_XB_STATUS_RJCT;
    answer.reason = COR_XB_REGULATORY;
    answer.msg_id += 1;
    answer.created_at = now_ns();
    answer.decided_at = answer.created_at;
    size = encode(ir, &answer, bytes, capacity);
    cor_wire_close(ir);
    cor_test_http_bytes(&net.ru.node, "POST", "/v1/peer/messages", NULL, "application/octet-stream",
                        bytes, size, &r);
    cr_assert_eq(r.status, 202, "matching answer: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ru, uh, "rejected", &s);
    hold_action(&net.ir, net.ir.node.operator_key, uh, "reject", &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, uh, "rejected", "RR04");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cr_assert_eq(ru1.pending, 0);
    cr_assert_eq(ru1.net[XB_BANK], XB_RU_BANK_FUNDS);

    cor_wire_close(ru);
    free(bytes);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 6. A peer down, restarts with payments open                                               */
/* ---------------------------------------------------------------------------------------- */

Test(xborder_http, peer_down_and_restarts, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);

    /* IR is down: RU still takes the payment (leg 1 reserved, pacs.008 queued durably). */
    cr_assert_eq(cor_test_node_signal(&net.ir.node, SIGTERM), 0);
    cor_test_xb_quote_info q1, q2;
    char u1[37], u2[37];
    cor_test_xb_uetr(u1);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q1);
    pay_ok(&net.ru, XB_BANK, u1, &q1, XB_BANK, NULL);
    /* RU restarts too before IR comes back: the payment must survive and be re-sent. */
    cor_test_xb_restart(&net.ru);
    cor_test_xb_state_info s;
    cor_test_xb_state(&net.ru, u1, &s);
    cr_assert_str_eq(s.state, "forwarded");
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cr_assert_eq(ru1.pending, q1.source_amount);
    cor_test_node_start(&net.ir.node);
    both_end(&net.ru, &net.ir, u1, "committed", NULL);

    /* A payment held on IR survives IR's restart, and RU's; released after both. */
    load_watchlist(&net.ir);
    cor_test_xb_uetr(u2);
    pay_held(u2, &q2);
    cor_test_xb_restart(&net.ir);
    cor_test_xb_restart(&net.ru);
    cor_test_xb_state(&net.ir, u2, &s);
    cr_assert_str_eq(s.state, "held");
    cr_assert(holds_list(&net.ir, u2));
    cor_test_xb_state(&net.ru, u2, &s);
    cr_assert_str_eq(s.state, "forwarded");
    cor_test_response r;
    hold_action(&net.ir, net.ir.node.operator_key, u2, "release", &r);
    cr_assert_eq(r.status, 200, "release: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u2, "committed", NULL);

    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] - q1.source_amount - q2.source_amount);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] + q1.source_amount + q2.source_amount);
    cr_assert_eq(ir1.net[XB_BANK],
                 ir0.net[XB_BANK] + q1.destination_amount + q2.destination_amount);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] - q1.destination_amount - q2.destination_amount);
    cr_assert_eq(ru1.pending, 0);
    cr_assert_eq(ru1.open, 0);
    cr_assert_eq(ir1.open, 0);
    char rec_ru[600], rec_ir[600];
    cor_test_xb_reconcile_text(&net.ru, "IR", rec_ru, sizeof(rec_ru));
    cor_test_xb_reconcile_text(&net.ir, "RU", rec_ir, sizeof(rec_ir));
    cr_assert_str_eq(rec_ru, rec_ir);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 7. Cancel while the beneficiary is down; participants that may not take part              */
/* ---------------------------------------------------------------------------------------- */

static void patch_status(const cor_test_xb_side *side, unsigned participant, const char *status)
{
    char body[64];
    snprintf(body, sizeof(body), "{\"status\":\"%s\"}", status);
    patch_limits(side, participant, body);
}

Test(xborder_http, cancel_offline_and_participants, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote_info q;
    cor_test_response r;
    cor_test_xb_state_info s;
    char path[160];

    /* IR is down; the debtor cancels. The core then re-sends the camt.056 instead of the
     * pacs.008, but the pacs.008 already handed to RU's peer link is still retried for up
     * to 2.55 s (src/node/peer.h), so which one IR sees first depends on how long it was
     * down: a cancellation is a request, and both outcomes are legitimate. What must hold
     * is that both nodes agree and the money matches the outcome. */
    cr_assert_eq(cor_test_node_signal(&net.ir.node, SIGTERM), 0);
    char uc[37];
    cor_test_xb_uetr(uc);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    pay_ok(&net.ru, XB_BANK, uc, &q, XB_BANK, NULL);
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s/cancel", uc);
    cor_test_http(&net.ru.node, "POST", path, net.ru.keys[XB_BANK], NULL, &r);
    cr_assert_eq(r.status, 200, "cancel: %ld %s", r.status, r.body);
    cr_assert_str_eq(cor_test_str(&r, "state"), "forwarded");
    cor_test_response_free(&r);
    sleep_ms(300);
    cor_test_node_start(&net.ir.node);
    cor_test_xb_state_info a, b;
    for (int i = 0; i < 800; i++) { /* up to 20 s */
        cor_test_xb_state(&net.ru, uc, &a);
        cor_test_xb_state(&net.ir, uc, &b);
        if (strcmp(a.state, "forwarded") != 0 && b.state[0] != '\0') break;
        sleep_ms(25);
    }
    cr_assert_str_eq(a.state, b.state, "RU %s, IR %s", a.state, b.state);
    bool cancelled = strcmp(a.state, "rejected") == 0;
    if (cancelled) {
        cr_assert_str_eq(a.iso, "CUST");
        cr_assert_str_eq(b.iso, "CUST");
    } else {
        cr_assert_str_eq(a.state, "committed");
    }
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    long long paid = cancelled ? 0 : q.source_amount;
    long long received = cancelled ? 0 : q.destination_amount;
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] - paid);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] + paid);
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] + received);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] - received);
    cr_assert_eq(ru1.pending, 0);
    ru0 = ru1;
    ir0 = ir1;

    /* A suspended creditor on IR: rejected by IR (AC04), voided on RU. */
    patch_status(&net.ir, XB_BANK2, "suspended");
    char u1[37];
    cor_test_xb_uetr(u1);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    pay_ok(&net.ru, XB_BANK, u1, &q, XB_BANK2, NULL);
    both_end(&net.ru, &net.ir, u1, "rejected", "AC04");
    patch_status(&net.ir, XB_BANK2, "active");

    /* The FX provider suspended on IR: it may not pay leg 2 (AC04). */
    patch_status(&net.ir, XB_FX, "suspended");
    char u2[37];
    cor_test_xb_uetr(u2);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    pay_ok(&net.ru, XB_BANK, u2, &q, XB_BANK, NULL);
    both_end(&net.ru, &net.ir, u2, "rejected", "AC04");
    patch_status(&net.ir, XB_FX, "active");

    /* A suspended debtor bank cannot start one (403, nothing recorded). */
    patch_status(&net.ru, XB_BANK, "suspended");
    char u3[37];
    cor_test_xb_uetr(u3);
    cor_test_xb_pay(&net.ru, XB_BANK, u3, q.quote_id, XB_BANK, NULL, NULL, &r);
    expect_error(&r, 403, "debtor_suspended", NULL, "suspended debtor");
    patch_status(&net.ru, XB_BANK, "active");

    /* The creditor named is the FX provider itself on IR: leg 2 would debit and credit the
     * same account; refused as malformed (FF01), nothing moved. */
    char u4[37];
    cor_test_xb_uetr(u4);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    pay_ok(&net.ru, XB_BANK, u4, &q, XB_FX, NULL);
    cor_test_xb_wait_state(&net.ir, u4, "rejected", &s);
    cr_assert_str_eq(s.iso, "FF01", "%s", s.reason);
    both_end(&net.ru, &net.ir, u4, "rejected", "FF01");

    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cor_test_xb_assert_unchanged(&ru0, &ru1, "RU after the refused legs");
    cor_test_xb_assert_unchanged(&ir0, &ir1, "IR after the refused legs");
    cr_assert_eq(ru1.payments, 4);
    cr_assert_eq(ir1.payments, 4);
    cor_test_xb_net_stop(&net);
}

/* ---------------------------------------------------------------------------------------- */
/* 8. Screening of every party, and of a return at the original origin                        */
/* ---------------------------------------------------------------------------------------- */

static void put_watchlist(const cor_test_xb_side *side, const char *csv, unsigned entries)
{
    cor_test_response r;
    cor_test_http_bytes(&side->node, "PUT", "/v1/screening/watchlist", side->node.operator_key,
                        "text/csv", csv, strlen(csv), &r);
    cr_assert_eq(r.status, 200, "watch list: %ld %s", r.status, r.body);
    cr_assert_eq(json_integer_value(json_object_get(r.json, "entries")), entries);
    cor_test_response_free(&r);
}

Test(xborder_http, screening_parties_and_returns, .fini = net_stop)
{
    cor_test_xb_net_start(&net, NULL);
    /* IR lists a debtor by name and IR's second bank by its BIC. */
    put_watchlist(&net.ir,
                  "name,identifier,type,list,reference\n"
                  "\"PETROV, Ivan\",,individual,EU-2026,EU-17\n"
                  ",BKTWIRMM,entity,LOCAL,L-2\n",
                  2);
    cor_test_xb_quote_info q;
    cor_test_xb_state_info s;
    cor_test_response r;
    char u1[37], u2[37], u3[37];

    /* The debtor's name, written the other way round and in other case, is a hit. */
    cor_test_xb_uetr(u1);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 10000, &q);
    cor_test_xb_pay(&net.ru, XB_BANK, u1, q.quote_id, XB_BANK, "ivan petrov", "Ali Rezaei", &r);
    cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ir, u1, "held", &s);
    /* The creditor bank listed by its BIC: held whatever the names. */
    cor_test_xb_uetr(u2);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 10000, &q);
    cor_test_xb_pay(&net.ru, XB_BANK, u2, q.quote_id, XB_BANK2, "Anna Smirnova", "Reza Ahmadi", &r);
    cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ir, u2, "held", &s);
    /* Nobody listed: committed straight away. */
    cor_test_xb_uetr(u3);
    cor_test_xb_quote(&net.ru, XB_BANK, "IR", "source", 100000, &q);
    cor_test_xb_pay(&net.ru, XB_BANK, u3, q.quote_id, XB_BANK, "Anna Smirnova", "Reza Ahmadi", &r);
    cr_assert_eq(r.status, 202, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u3, "committed", NULL);
    cor_test_xb_state(&net.ru, u1, &s);
    cr_assert_str_eq(s.state, "forwarded");
    hold_action(&net.ir, net.ir.node.operator_key, u1, "reject", &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    hold_action(&net.ir, net.ir.node.operator_key, u2, "reject", &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    both_end(&net.ru, &net.ir, u1, "rejected", "RR04");
    both_end(&net.ru, &net.ir, u2, "rejected", "RR04");

    /* RU screens what comes back: a return of u3 naming a listed customer is held on RU
     * (the return's beneficiary) until RU's operator releases it. The returning bank gives
     * the return's parties; the pacs.004 carries them like a pacs.008. */
    put_watchlist(&net.ru,
                  "name,identifier,type,list,reference\n"
                  "\"SMIRNOVA, Anna\",,individual,RU-LIST,R-1\n",
                  1);
    cor_test_xb_snapshot ru0, ir0, ru1, ir1;
    cor_test_xb_snapshot_take(&net.ru, &ru0);
    cor_test_xb_snapshot_take(&net.ir, &ir0);
    cor_test_xb_quote_info qr;
    cor_test_xb_quote(&net.ir, XB_BANK, "RU", "source", q.destination_amount / 2, &qr);
    char ur[37], path[160], body[256];
    cor_test_xb_uetr(ur);
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s/return", u3);
    snprintf(body, sizeof(body),
             "{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"reason\":\"customer\","
             "\"debtor_name\":\"Reza Ahmadi\",\"creditor_name\":\"Anna Smirnova\"}",
             ur, qr.quote_id);
    cor_test_http(&net.ir.node, "POST", path, net.ir.keys[XB_BANK], body, &r);
    cr_assert_eq(r.status, 202, "return: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_xb_wait_state(&net.ru, ur, "held", &s);
    cr_assert(holds_list(&net.ru, ur));
    cor_test_xb_state(&net.ir, ur, &s);
    cr_assert_str_eq(s.state, "forwarded");
    hold_action(&net.ru, net.ru.node.operator_key, ur, "release", &r);
    cr_assert_eq(r.status, 200, "release: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
    both_end(&net.ir, &net.ru, ur, "committed", NULL);
    cor_test_xb_snapshot_take(&net.ru, &ru1);
    cor_test_xb_snapshot_take(&net.ir, &ir1);
    cr_assert_eq(ir1.net[XB_BANK], ir0.net[XB_BANK] - qr.source_amount);
    cr_assert_eq(ir1.net[XB_FX], ir0.net[XB_FX] + qr.source_amount);
    cr_assert_eq(ru1.net[XB_BANK], ru0.net[XB_BANK] + qr.destination_amount);
    cr_assert_eq(ru1.net[XB_FX], ru0.net[XB_FX] - qr.destination_amount);
    cor_test_xb_state(&net.ru, u3, &s);
    cr_assert_str_eq(s.returned_by, ur);
    char rec_ru[600], rec_ir[600];
    cor_test_xb_reconcile_text(&net.ru, "IR", rec_ru, sizeof(rec_ru));
    cor_test_xb_reconcile_text(&net.ir, "RU", rec_ir, sizeof(rec_ir));
    cr_assert_str_eq(rec_ru, rec_ir);
    cr_assert(strstr(rec_ru, "IR>RU:1:") != NULL, "the return is reconciled: %s", rec_ru);
    cor_test_xb_net_stop(&net);
}
