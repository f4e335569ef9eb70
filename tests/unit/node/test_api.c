/*
 * The node's HTTP API, driven over loopback against a real `corridor serve` process:
 * participants, keys, funding, payments (single, batch, idempotency), statements, debit caps,
 * suspension, ledger routes, health and metrics.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../support/node_support.h"

static cor_test_node node;

static void setup(void)
{
    cor_test_node_init(&node);
}
static void teardown(void)
{
    cor_test_node_cleanup(&node);
}

TestSuite(node_api, .init = setup, .fini = teardown);

static long request(const char *method, const char *path, const char *key, const char *body,
                    cor_test_response *out)
{
    cor_test_http(&node, method, path, key, body, out);
    return out->status;
}

Test(node_api, participants_keys_funding_and_payments)
{
    char key_a[128], key_b[128];
    unsigned a = cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    unsigned b =
        cor_test_participant(&node, "Bank B", "BBBBRUMM", "fx_provider", key_b, sizeof(key_b));
    cr_assert_eq(a, 1);
    cr_assert_eq(b, 2);
    cor_test_response r;

    /* The same BIC twice is refused. */
    cr_assert_eq(request("POST", "/v1/participants", node.operator_key,
                         "{\"name\":\"Dup\",\"bic\":\"AAAARUMM\",\"role\":\"bank\"}", &r),
                 409);
    cr_assert_str_eq(cor_test_error_code(&r), "bic_exists");
    cor_test_response_free(&r);

    cr_assert_eq(request("GET", "/v1/participants", node.operator_key, NULL, &r), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "participants")), 2);
    cor_test_response_free(&r);

    cor_test_fund(&node, a, "1000");
    cr_assert_eq(cor_test_net(&node, a), 1000);

    const char *payment = "{\"payment_id\":\"42\",\"creditor\":\"2\",\"amount\":\"300\","
                          "\"currency\":\"RUB\",\"end_to_end_id\":\"E2E-42\","
                          "\"uetr\":\"eb6305c9-1f7f-49de-aed0-16487c27b42d\","
                          "\"remittance_info\":\"invoice 42\"}";
    cr_assert_eq(request("POST", "/v1/payments", key_a, payment, &r), 201, "%s", r.body);
    cr_assert_str_eq(cor_test_str(&r, "status"), "accepted");
    cr_assert_str_eq(cor_test_str(&r, "end_to_end_id"), "E2E-42");
    cr_assert_str_eq(cor_test_str(&r, "uetr"), "eb6305c9-1f7f-49de-aed0-16487c27b42d");
    cr_assert_str_eq(cor_test_str(&r, "remittance_info"), "invoice 42");
    cor_test_response_free(&r);

    /* Retrying the same payment is idempotent: 200, nothing moves twice. */
    cr_assert_eq(request("POST", "/v1/payments", key_a, payment, &r), 200);
    cr_assert(json_is_true(json_object_get(r.json, "duplicate")));
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, a), 700);
    cr_assert_eq(cor_test_net(&node, b), 300);

    /* The same id with other fields is a conflict. */
    cr_assert_eq(request("POST", "/v1/payments", key_a,
                         "{\"payment_id\":\"42\",\"creditor\":\"2\",\"amount\":\"301\","
                         "\"currency\":\"RUB\"}",
                         &r),
                 409);
    cr_assert_str_eq(cor_test_error_code(&r), "payment_id_reused");
    cor_test_response_free(&r);

    /* More than the balance is rejected (and the rejection is final for that id). */
    const char *too_much = "{\"payment_id\":\"43\",\"creditor\":\"2\",\"amount\":\"701\","
                           "\"currency\":\"RUB\"}";
    cr_assert_eq(request("POST", "/v1/payments", key_a, too_much, &r), 422);
    cr_assert_str_eq(cor_test_error_code(&r), "insufficient_funds");
    cor_test_response_free(&r);
    cr_assert_eq(request("POST", "/v1/payments", key_a, too_much, &r), 422);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, a), 700);

    /* The payment can be read back by its debtor, and by the operator naming the debtor. */
    cr_assert_eq(request("GET", "/v1/payments/42", key_a, NULL, &r), 200);
    cr_assert_str_eq(cor_test_str(&r, "amount"), "300");
    cr_assert_str_eq(cor_test_str(&r, "creditor"), "2");
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/payments/42?debtor=1", node.operator_key, NULL, &r), 200);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/payments/99", key_a, NULL, &r), 404);
    cor_test_response_free(&r);

    /* Statement: funding credit, then the payment debit, with running balances. */
    cr_assert_eq(request("GET", "/v1/statement", key_a, NULL, &r), 200);
    json_t *entries = json_object_get(r.json, "entries");
    cr_assert_eq(json_array_size(entries), 2);
    json_t *second = json_array_get(entries, 1);
    cr_assert_str_eq(json_string_value(json_object_get(second, "direction")), "debit");
    cr_assert_str_eq(json_string_value(json_object_get(second, "payment_id")), "42");
    cr_assert_str_eq(json_string_value(json_object_get(second, "balance_after")), "700");
    cor_test_response_free(&r);
    cr_assert_eq(
        request("GET", "/v1/statement?timestamp_min=1&limit=1&reversed=true", key_a, NULL, &r),
        200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "entries")), 1);
    cor_test_response_free(&r);
}

Test(node_api, payments_batch)
{
    char key_a[128];
    unsigned a = cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    unsigned b = cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", NULL, 0);
    cor_test_fund(&node, a, "100000");
    enum { COUNT = 1000 };
    size_t size = COUNT * 100 + 16;
    char *body = malloc(size);
    size_t at = (size_t)snprintf(body, size, "[");
    for (int i = 0; i < COUNT; i++) {
        at += (size_t)snprintf(body + at, size - at,
                               "%s{\"payment_id\":\"%d\",\"creditor\":\"%u\",\"amount\":\"%d\","
                               "\"currency\":\"RUB\"}",
                               i ? "," : "", i + 1, b, 1 + i % 3);
    }
    snprintf(body + at, size - at, "]");
    cor_test_response r;
    cr_assert_eq(request("POST", "/v1/payments", key_a, body, &r), 200);
    json_t *payments = json_object_get(r.json, "payments");
    cr_assert_eq(json_array_size(payments), COUNT);
    long long total = 0;
    for (int i = 0; i < COUNT; i++) {
        json_t *p = json_array_get(payments, (size_t)i);
        cr_assert_str_eq(json_string_value(json_object_get(p, "status")), "accepted");
        total += 1 + i % 3;
    }
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, b), total);
    /* The whole batch again: every one a duplicate, nothing moves. */
    cr_assert_eq(request("POST", "/v1/payments", key_a, body, &r), 200);
    cr_assert(json_is_true(
        json_object_get(json_array_get(json_object_get(r.json, "payments"), 999), "duplicate")));
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, b), total);
    free(body);
}

Test(node_api, debit_cap_and_suspension)
{
    char key_a[128], key_b[128];
    unsigned a = cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", key_b, sizeof(key_b));
    cor_test_response r;
    const char *pay =
        "{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"50\",\"currency\":\"RUB\"}";
    cr_assert_eq(request("POST", "/v1/payments", key_a, pay, &r), 422);
    cor_test_response_free(&r);

    cr_assert_eq(
        request("PATCH", "/v1/participants/1", node.operator_key, "{\"debit_cap\":\"100\"}", &r),
        200);
    cr_assert_str_eq(cor_test_str(&r, "debit_cap"), "100");
    cor_test_response_free(&r);
    const char *pay2 =
        "{\"payment_id\":\"2\",\"creditor\":\"2\",\"amount\":\"100\",\"currency\":\"RUB\"}";
    cr_assert_eq(request("POST", "/v1/payments", key_a, pay2, &r), 201);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, a), -100);
    const char *pay3 =
        "{\"payment_id\":\"3\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}";
    cr_assert_eq(request("POST", "/v1/payments", key_a, pay3, &r), 422);
    cor_test_response_free(&r);

    /* A suspended debtor cannot pay; a suspended creditor cannot be paid. */
    cr_assert_eq(
        request("PATCH", "/v1/participants/2", node.operator_key, "{\"status\":\"suspended\"}", &r),
        200);
    cr_assert_str_eq(cor_test_str(&r, "status"), "suspended");
    cor_test_response_free(&r);
    cr_assert_eq(
        request("POST", "/v1/payments", key_b,
                "{\"payment_id\":\"9\",\"creditor\":\"1\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                &r),
        403);
    cr_assert_str_eq(cor_test_error_code(&r), "debtor_suspended");
    cor_test_response_free(&r);
    cr_assert_eq(
        request("PATCH", "/v1/participants/1", node.operator_key, "{\"debit_cap\":\"1000\"}", &r),
        200);
    cor_test_response_free(&r);
    cr_assert_eq(
        request("POST", "/v1/payments", key_a,
                "{\"payment_id\":\"4\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                &r),
        422);
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "code")),
                     "creditor_suspended");
    cor_test_response_free(&r);
    cr_assert_eq(
        request("PATCH", "/v1/participants/2", node.operator_key, "{\"status\":\"active\"}", &r),
        200);
    cor_test_response_free(&r);
    cr_assert_eq(
        request("POST", "/v1/payments", key_b,
                "{\"payment_id\":\"9\",\"creditor\":\"1\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                &r),
        201);
    cor_test_response_free(&r);

    /* Withdrawal never goes below zero, debit cap or not. */
    cr_assert_eq(request("POST", "/v1/participants/2/funding", node.operator_key,
                         "{\"funding_id\":\"5\",\"direction\":\"debit\",\"amount\":\"100\","
                         "\"currency\":\"RUB\"}",
                         &r),
                 422);
    cr_assert_str_eq(cor_test_error_code(&r), "insufficient_funds");
    cor_test_response_free(&r);
    cr_assert_eq(request("POST", "/v1/participants/2/funding", node.operator_key,
                         "{\"funding_id\":\"6\",\"direction\":\"debit\",\"amount\":\"99\","
                         "\"currency\":\"RUB\"}",
                         &r),
                 201);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 2), 0);
    /* Funding ids are idempotent. */
    cr_assert_eq(request("POST", "/v1/participants/2/funding", node.operator_key,
                         "{\"funding_id\":\"6\",\"direction\":\"debit\",\"amount\":\"99\","
                         "\"currency\":\"RUB\"}",
                         &r),
                 200);
    cr_assert_str_eq(cor_test_str(&r, "status"), "exists");
    cor_test_response_free(&r);
    cr_assert_eq(request("POST", "/v1/participants/2/funding", node.operator_key,
                         "{\"funding_id\":\"6\",\"direction\":\"credit\",\"amount\":\"99\","
                         "\"currency\":\"RUB\"}",
                         &r),
                 409);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 2), 0);
}

Test(node_api, ledger_routes)
{
    cor_test_response r;
    char auditor[128];
    cr_assert_eq(request("POST", "/v1/auditor-keys", node.operator_key, NULL, &r), 201);
    snprintf(auditor, sizeof(auditor), "%s", cor_test_str(&r, "api_key"));
    cor_test_response_free(&r);

    cr_assert_eq(request("POST", "/v1/ledger/accounts", node.operator_key,
                         "[{\"id\":\"10\",\"ledger\":643,\"code\":7},"
                         "{\"id\":\"11\",\"ledger\":643,\"code\":7,"
                         "\"flags\":[\"debits_must_not_exceed_credits\"]},"
                         "{\"id\":\"10\",\"ledger\":643,\"code\":2}]",
                         &r),
                 200);
    json_t *results = json_object_get(r.json, "results");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 0), "status")),
                     "created");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 2), "status")),
                     "exists_with_different_code");
    cor_test_response_free(&r);

    /* Pending, then post; a linked chain that fails as a unit; an over-limit debit. */
    cr_assert_eq(request("POST", "/v1/ledger/transfers", node.operator_key,
                         "[{\"id\":\"1\",\"debit_account_id\":\"10\",\"credit_account_id\":\"11\","
                         "\"amount\":\"50\",\"ledger\":643,\"code\":1,\"flags\":[\"pending\"]},"
                         "{\"id\":\"2\",\"pending_id\":\"1\",\"amount\":\"30\","
                         "\"flags\":[\"post_pending_transfer\"]},"
                         "{\"id\":\"3\",\"debit_account_id\":\"10\",\"credit_account_id\":\"11\","
                         "\"amount\":\"1\",\"ledger\":643,\"code\":1,\"flags\":[\"linked\"]},"
                         "{\"id\":\"4\",\"debit_account_id\":\"11\",\"credit_account_id\":\"10\","
                         "\"amount\":\"1000\",\"ledger\":643,\"code\":1}]",
                         &r),
                 200, "%s", r.body);
    results = json_object_get(r.json, "results");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 0), "status")),
                     "created");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 1), "status")),
                     "created");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 2), "status")),
                     "linked_event_failed");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(results, 3), "status")),
                     "exceeds_credits");
    cor_test_response_free(&r);

    /* Auditor reads; cannot write. */
    cr_assert_eq(request("GET", "/v1/ledger/accounts/11", auditor, NULL, &r), 200);
    cr_assert_str_eq(cor_test_str(&r, "credits_posted"), "30");
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/transfers/1", auditor, NULL, &r), 200);
    cr_assert_str_eq(cor_test_str(&r, "pending_status"), "posted");
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts/10/transfers?limit=10", auditor, NULL, &r),
                 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "transfers")), 2);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts/10/balances", auditor, NULL, &r), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "balances")), 2);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/transfers?ledger=643&code=1", auditor, NULL, &r), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "transfers")), 2);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts?code=7", auditor, NULL, &r), 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "accounts")), 2);
    cor_test_response_free(&r);
    cr_assert_eq(request("POST", "/v1/ledger/accounts", auditor,
                         "[{\"id\":\"12\",\"ledger\":643,\"code\":1}]", &r),
                 403);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts/12", auditor, NULL, &r), 404);
    cor_test_response_free(&r);

    /* The operator's ledger routes cannot touch the node's own accounts. */
    cr_assert_eq(
        request("POST", "/v1/ledger/transfers", node.operator_key,
                "[{\"id\":\"9\",\"debit_account_id\":\"170141183460469231731687303715884105728\","
                "\"credit_account_id\":\"10\",\"amount\":\"1\",\"ledger\":643,\"code\":1}]",
                &r),
        400);
    cr_assert_str_eq(cor_test_error_code(&r), "reserved_id");
    cor_test_response_free(&r);
}

Test(node_api, health_metrics_and_logs)
{
    cor_test_response r;
    cr_assert_eq(request("GET", "/healthz", NULL, NULL, &r), 200);
    cr_assert_str_eq(cor_test_str(&r, "currency"), "RUB");
    cor_test_response_free(&r);
    char key_a[128];
    unsigned a = cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", NULL, 0);
    cor_test_fund(&node, a, "500");
    cr_assert_eq(
        request("POST", "/v1/payments", key_a,
                "{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\"}",
                &r),
        201);
    cor_test_response_free(&r);

    cr_assert_eq(request("GET", "/metrics", node.operator_key, NULL, &r), 200);
    cr_assert(strstr(r.body, "corridor_payments_total{currency=\"RUB\",outcome=\"accepted\"} 1") !=
              NULL);
    cr_assert(strstr(r.body, "corridor_money_issued_minor{currency=\"RUB\"} 500") != NULL);
    cr_assert(strstr(r.body, "corridor_journal_fsync_duration_seconds_bucket") != NULL);
    cr_assert(strstr(r.body, "corridor_ingress_queue_depth") != NULL);
    char path[400], command[600];
    snprintf(path, sizeof(path), "%s/metrics.txt", node.dir);
    FILE *file = fopen(path, "w");
    cr_assert(file != NULL);
    fwrite(r.body, 1, r.size, file);
    fclose(file);
    cor_test_response_free(&r);
    snprintf(command, sizeof(command), "promtool check metrics < %s", path);
    cr_assert_eq(system(command), 0, "promtool check metrics failed");

    cr_assert_eq(request("GET", "/metrics", key_a, NULL, &r), 403);
    cor_test_response_free(&r);

    /* Log lines: time, level, message, key=value fields. */
    snprintf(path, sizeof(path), "%s/serve.log", node.dir);
    file = fopen(path, "r");
    cr_assert(file != NULL);
    char line[512];
    bool serving = false;
    while (fgets(line, sizeof(line), file) != NULL) {
        if (strstr(line, "level=info msg=\"serving\"") && strstr(line, "currency=RUB") &&
            line[4] == '-' && line[10] == 'T') {
            serving = true;
        }
    }
    fclose(file);
    cr_assert(serving, "no 'serving' log line");
}

Test(node_api, pending_transfers_expire_by_themselves)
{
    cor_test_response r;
    cr_assert_eq(request("POST", "/v1/ledger/accounts", node.operator_key,
                         "[{\"id\":\"20\",\"ledger\":643,\"code\":7},"
                         "{\"id\":\"21\",\"ledger\":643,\"code\":7}]",
                         &r),
                 200);
    cor_test_response_free(&r);
    cr_assert_eq(request("POST", "/v1/ledger/transfers", node.operator_key,
                         "[{\"id\":\"30\",\"debit_account_id\":\"20\",\"credit_account_id\":\"21\","
                         "\"amount\":\"9\",\"ledger\":643,\"code\":1,\"flags\":[\"pending\"],"
                         "\"timeout\":1}]",
                         &r),
                 200);
    cor_test_response_free(&r);
    /* No request touches it: the core's own EXPIRE command releases it (bounded: 10 s). */
    bool expired = false;
    for (int attempt = 0; attempt < 200 && !expired; attempt++) {
        cr_assert_eq(request("GET", "/v1/ledger/transfers/30", node.operator_key, NULL, &r), 200);
        expired = strcmp(cor_test_str(&r, "pending_status"), "expired") == 0;
        cor_test_response_free(&r);
        if (!expired) {
            struct timespec pause = {.tv_nsec = 50000000L};
            nanosleep(&pause, NULL);
        }
    }
    cr_assert(expired, "the pending transfer never expired");
    cr_assert_eq(request("GET", "/v1/ledger/accounts/20", node.operator_key, NULL, &r), 200);
    cr_assert_str_eq(cor_test_str(&r, "debits_pending"), "0");
    cor_test_response_free(&r);
}

Test(node_api, batch_lookups)
{
    cor_test_response r;
    cr_assert_eq(request("POST", "/v1/ledger/accounts", node.operator_key,
                         "[{\"id\":\"40\",\"ledger\":643,\"code\":7},"
                         "{\"id\":\"41\",\"ledger\":643,\"code\":7}]",
                         &r),
                 200);
    cor_test_response_free(&r);
    cr_assert_eq(
        request("GET", "/v1/ledger/accounts/lookup?ids=41,99,40", node.operator_key, NULL, &r),
        200);
    json_t *accounts = json_object_get(r.json, "accounts");
    cr_assert_eq(json_array_size(accounts), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(accounts, 0), "id")), "41");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(accounts, 1), "id")), "40");
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/transfers/lookup?ids=1", node.operator_key, NULL, &r),
                 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "transfers")), 0);
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts/lookup?ids=1,x", node.operator_key, NULL, &r),
                 400);
    cr_assert_str_eq(cor_test_error_code(&r), "invalid_query");
    cor_test_response_free(&r);
    cr_assert_eq(request("GET", "/v1/ledger/accounts/lookup", node.operator_key, NULL, &r), 400);
    cor_test_response_free(&r);
}
