/*
 * Authentication and authorization of the node's API, against a real process: every
 * cross-participant access and role escalation we could think of is refused with 401 or 403,
 * and afterwards nothing has changed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/node_support.h"

static cor_test_node node;
static char key_a[128], key_b[128], auditor[128];

static void setup(void)
{
    cor_test_node_init(&node);
    cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", key_b, sizeof(key_b));
    cor_test_fund(&node, 1, "1000");
    cor_test_fund(&node, 2, "1000");
    cor_test_response r;
    cor_test_http(&node, "POST", "/v1/auditor-keys", node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 201);
    snprintf(auditor, sizeof(auditor), "%s", cor_test_str(&r, "api_key"));
    cor_test_response_free(&r);
    cor_test_http(
        &node, "POST", "/v1/payments", key_b,
        "{\"payment_id\":\"77\",\"creditor\":\"1\",\"amount\":\"10\",\"currency\":\"RUB\"}", &r);
    cr_assert_eq(r.status, 201);
    cor_test_response_free(&r);
}

static void teardown(void)
{
    cor_test_node_cleanup(&node);
}

TestSuite(node_security, .init = setup, .fini = teardown);

typedef struct attempt {
    const char *method;
    const char *path;
    int who; /* 0 none, 1 key_a, 2 auditor, 3 garbage key, 4 revoked-looking key */
    const char *body;
    long status;
} attempt;

static const char *who_key(int who)
{
    static const char garbage[] =
        "cor_1_0000000000000000000000000000000000000000000000000000000000000000";
    switch (who) {
    case 1:
        return key_a;
    case 2:
        return auditor;
    case 3:
        return garbage;
    case 4:
        return "Basic dXNlcjpwYXNz";
    default:
        return NULL;
    }
}

Test(node_security, every_escalation_is_refused_and_changes_nothing)
{
    static const attempt attempts[] = {
        /* No key, a wrong key, a malformed header. */
        {"GET", "/v1/participants", 0, NULL, 401},
        {"POST", "/v1/payments", 0, "{}", 401},
        {"GET", "/v1/participants/1", 3, NULL, 401},
        {"GET", "/v1/statement", 4, NULL, 401},
        {"GET", "/metrics", 0, NULL, 401},
        /* A participant administering. */
        {"POST", "/v1/participants", 1,
         "{\"name\":\"X\",\"bic\":\"XXXXRUMM\",\"role\":\"central_bank\"}", 403},
        {"PATCH", "/v1/participants/1", 1, "{\"debit_cap\":\"1000000\"}", 403},
        {"PATCH", "/v1/participants/2", 1, "{\"status\":\"suspended\"}", 403},
        {"POST", "/v1/participants/1/keys", 1, NULL, 403},
        {"POST", "/v1/participants/2/keys", 1, NULL, 403},
        {"DELETE", "/v1/participants/2/keys/2", 1, NULL, 403},
        {"POST", "/v1/participants/1/funding", 1,
         "{\"funding_id\":\"9\",\"direction\":\"credit\",\"amount\":\"5\",\"currency\":\"RUB\"}",
         403},
        {"POST", "/v1/auditor-keys", 1, NULL, 403},
        {"POST", "/v1/ledger/accounts", 1, "[{\"id\":\"1\",\"ledger\":643,\"code\":1}]", 403},
        {"POST", "/v1/ledger/transfers", 1, "[{\"id\":\"1\"}]", 403},
        {"GET", "/v1/ledger/accounts/1", 1, NULL, 403},
        {"GET", "/v1/ledger/transfers", 1, NULL, 403},
        {"GET", "/metrics", 1, NULL, 403},
        {"GET", "/v1/participants", 1, NULL, 403},
        /* A participant reading another's data. */
        {"GET", "/v1/participants/2", 1, NULL, 403},
        {"GET", "/v1/statement?participant=2", 1, NULL, 403},
        {"GET", "/v1/payments/77?debtor=2", 1, NULL, 403},
        /* The auditor writing. */
        {"POST", "/v1/participants", 2, "{\"name\":\"X\",\"bic\":\"XXXXRUMM\",\"role\":\"bank\"}",
         403},
        {"PATCH", "/v1/participants/1", 2, "{\"status\":\"suspended\"}", 403},
        {"POST", "/v1/participants/1/funding", 2,
         "{\"funding_id\":\"9\",\"direction\":\"credit\",\"amount\":\"5\",\"currency\":\"RUB\"}",
         403},
        {"POST", "/v1/payments", 2,
         "{\"payment_id\":\"1\",\"creditor\":\"1\",\"amount\":\"5\",\"currency\":\"RUB\"}", 403},
        {"POST", "/v1/ledger/accounts", 2, "[{\"id\":\"1\",\"ledger\":643,\"code\":1}]", 403},
        {"DELETE", "/v1/auditor-keys/3", 2, NULL, 403},
        {"POST", "/v1/participants/1/keys", 2, NULL, 403},
    };
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
        const attempt *a = &attempts[i];
        cor_test_response r;
        cor_test_http(&node, a->method, a->path, who_key(a->who), a->body, &r);
        cr_assert_eq(r.status, a->status, "%s %s as %d: %ld %s", a->method, a->path, a->who,
                     r.status, r.body ? r.body : "");
        cr_assert(cor_test_error_code(&r) != NULL, "error body expected for %s", a->path);
        cor_test_response_free(&r);
    }
    /* A participant cannot see another's payment by id: its own namespace has none. */
    cor_test_response r;
    cor_test_http(&node, "GET", "/v1/payments/77", key_a, NULL, &r);
    cr_assert_eq(r.status, 404);
    cor_test_response_free(&r);

    /* Nothing changed. */
    cr_assert_eq(cor_test_net(&node, 1), 1010);
    cr_assert_eq(cor_test_net(&node, 2), 990);
    cor_test_http(&node, "GET", "/v1/participants", node.operator_key, NULL, &r);
    cr_assert_eq(json_array_size(json_object_get(r.json, "participants")), 2);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "participants"), 0), "status")),
                     "active");
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r.json, "participants"), 0), "debit_cap")),
                     "0");
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/ledger/accounts/1", node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 404);
    cor_test_response_free(&r);
}

Test(node_security, payments_always_debit_the_caller)
{
    /* There is no debtor field: naming one is an unknown field. */
    cor_test_response r;
    cor_test_http(&node, "POST", "/v1/payments", key_a,
                  "{\"payment_id\":\"5\",\"debtor\":\"2\",\"creditor\":\"1\",\"amount\":\"5\","
                  "\"currency\":\"RUB\"}",
                  &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(cor_test_error_code(&r), "unknown_field");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "debtor");
    cor_test_response_free(&r);
    /* Paying yourself is refused. */
    cor_test_http(&node, "POST", "/v1/payments", key_a,
                  "{\"payment_id\":\"6\",\"creditor\":\"1\",\"amount\":\"5\",\"currency\":\"RUB\"}",
                  &r);
    cr_assert_eq(r.status, 422);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 1), 1010);
    cr_assert_eq(cor_test_net(&node, 2), 990);
}

Test(node_security, revoked_keys_stop_working)
{
    cor_test_response r;
    cor_test_http(&node, "GET", "/v1/statement", key_a, NULL, &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    /* Revoking B's key through A's path is refused (the key belongs to participant 2). */
    cor_test_http(&node, "DELETE", "/v1/participants/1/keys/2", node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 404);
    cor_test_response_free(&r);
    cor_test_http(&node, "DELETE", "/v1/participants/1/keys/1", node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/statement", key_a, NULL, &r);
    cr_assert_eq(r.status, 401);
    cor_test_response_free(&r);
    cor_test_http(&node, "POST", "/v1/payments", key_a,
                  "{\"payment_id\":\"8\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\"}",
                  &r);
    cr_assert_eq(r.status, 401);
    cor_test_response_free(&r);
    /* B's key still works; the auditor's key is revoked the same way. */
    cor_test_http(&node, "GET", "/v1/statement", key_b, NULL, &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    cor_test_http(&node, "DELETE", "/v1/auditor-keys/3", node.operator_key, NULL, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/participants", auditor, NULL, &r);
    cr_assert_eq(r.status, 401);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 1), 1010);
}

Test(node_security, refusals_come_before_the_body_is_read)
{
    /* A large body without a key is refused at admission (401), not buffered first. */
    size_t size = 2u * 1024u * 1024u;
    char *body = malloc(size + 1);
    memset(body, ' ', size);
    body[0] = '[';
    body[size - 1] = ']';
    body[size] = '\0';
    cor_test_response r;
    cor_test_http(&node, "POST", "/v1/payments", NULL, body, &r);
    cr_assert_eq(r.status, 401, "%ld", r.status);
    cor_test_response_free(&r);
    /* The same with a participant's key on an operator route: 403. */
    cor_test_http(&node, "POST", "/v1/ledger/transfers", key_a, body, &r);
    cr_assert_eq(r.status, 403, "%ld", r.status);
    cor_test_response_free(&r);
    free(body);
    /* The node is still fine. */
    cr_assert_eq(cor_test_net(&node, 1), 1010);
}
