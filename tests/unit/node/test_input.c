/*
 * Bad input against a real node: each kind gets a 4xx with {"error": {code, message, field}},
 * the node keeps running, and nothing changes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/node_support.h"

static cor_test_node node;
static char key_a[128];

static void setup(void)
{
    cor_test_node_init(&node);
    cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", NULL, 0);
    cor_test_fund(&node, 1, "1000");
}

static void teardown(void)
{
    cor_test_node_cleanup(&node);
}

TestSuite(node_input, .init = setup, .fini = teardown);

typedef struct bad_case {
    const char *body;
    long status;
    const char *code;
    const char *field;
} bad_case;

#define PAY(extra)                                                                                 \
    "{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\"" extra "}"

Test(node_input, payments_bad_input_is_refused)
{
    static const bad_case cases[] = {
        {"", 400, "invalid_json", ""},
        {"{", 400, "invalid_json", ""},
        {"{\"payment_id\":\"1\",\"payment_id\":\"2\"}", 400, "invalid_json", ""},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 400, "too_deep",
         ""},
        {"[]", 400, "invalid_value", ""},
        {"42", 400, "invalid_json", ""},
        {"\"x\"", 400, "invalid_json", ""},
        {"{\"payment_id\":1,\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\"}", 400,
         "wrong_type", "payment_id"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":5,\"currency\":\"RUB\"}", 400,
         "wrong_type", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"-5\",\"currency\":\"RUB\"}", 400,
         "invalid_amount", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5.00\",\"currency\":\"RUB\"}", 400,
         "invalid_amount", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"0\",\"currency\":\"RUB\"}", 400,
         "invalid_amount", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":"
         "\"340282366920938463463374607431768211456\",\"currency\":\"RUB\"}",
         400, "invalid_amount", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":"
         "\"99999999999999999999999999999999999999999999\",\"currency\":\"RUB\"}",
         400, "invalid_amount", "amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"XYZ\"}", 400,
         "unknown_currency", "currency"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"IRR\"}", 400,
         "currency_mismatch", "currency"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\"}", 400, "missing_field",
         "currency"},
        {PAY(",\"memo\":\"x\""), 400, "unknown_field", "memo"},
        {PAY(",\"uetr\":\"not-a-uuid\""), 400, "invalid_value", "uetr"},
        {PAY(",\"end_to_end_id\":\"0123456789012345678901234567890123456\""), 400,
         "string_too_long", "end_to_end_id"},
        {"{\"payment_id\":\"0\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\"}", 400,
         "invalid_id", "payment_id"},
        {"{\"payment_id\":\"1\",\"creditor\":\"0\",\"amount\":\"5\",\"currency\":\"RUB\"}", 400,
         "invalid_id", "creditor"},
        {"[" PAY("") ",{\"payment_id\":\"2\",\"creditor\":\"2\",\"amount\":\"x\",\"currency\":"
                     "\"RUB\"}]",
         400, "invalid_amount", "[1].amount"},
        {"{\"payment_id\":\"1\",\"creditor\":\"2\",\"amount\":\"5\",\"currency\":\"RUB\","
         "\"remittance_info\":\"a\\u0000b\"}",
         400, "invalid_json", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cor_test_response r;
        cor_test_http(&node, "POST", "/v1/payments", key_a, cases[i].body, &r);
        cr_assert_eq(r.status, cases[i].status, "case %zu: %ld %s", i, r.status, r.body);
        cr_assert_str_eq(cor_test_error_code(&r), cases[i].code, "case %zu: %s", i, r.body);
        json_t *error = json_object_get(r.json, "error");
        cr_assert(json_is_string(json_object_get(error, "message")));
        cr_assert_str_eq(json_string_value(json_object_get(error, "field")), cases[i].field,
                         "case %zu: %s", i, r.body);
        cor_test_response_free(&r);
    }
    cr_assert_eq(cor_test_net(&node, 1), 1000);
}

Test(node_input, limits_on_size_and_count)
{
    /* Body larger than the limit: 413. */
    size_t size = 9u * 1024u * 1024u;
    char *body = malloc(size + 1);
    memset(body, ' ', size);
    body[0] = '[';
    body[size - 1] = ']';
    body[size] = '\0';
    cor_test_response r;
    cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
    cr_assert_eq(r.status, 413);
    cr_assert_str_eq(cor_test_error_code(&r), "body_too_large");
    cor_test_response_free(&r);
    free(body);

    /* 8,190 payments: one too many. */
    enum { COUNT = 8190 };
    size = (size_t)COUNT * 80 + 16;
    body = malloc(size);
    size_t at = (size_t)snprintf(body, size, "[");
    for (int i = 0; i < COUNT; i++) {
        at += (size_t)snprintf(body + at, size - at, "%s" PAY(""), i ? "," : "");
    }
    snprintf(body + at, size - at, "]");
    cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(cor_test_error_code(&r), "too_many_events");
    cor_test_response_free(&r);
    free(body);

    /* Unknown routes and methods. */
    cor_test_http(&node, "GET", "/v1/nothing", key_a, NULL, &r);
    cr_assert_eq(r.status, 404);
    cor_test_response_free(&r);
    cor_test_http(&node, "PUT", "/v1/payments", key_a, PAY(""), &r);
    cr_assert_eq(r.status, 405);
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/payments/abc", key_a, NULL, &r);
    cr_assert_eq(r.status, 400);
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/statement?limit=99999", key_a, NULL, &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(cor_test_error_code(&r), "invalid_query");
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 1), 1000);
}

Test(node_input, admin_bad_input_is_refused)
{
    static const struct {
        const char *method, *path, *body, *code, *field;
    } cases[] = {
        {"POST", "/v1/participants", "{\"name\":\"X\",\"bic\":\"bad\",\"role\":\"bank\"}",
         "invalid_value", "bic"},
        {"POST", "/v1/participants", "{\"name\":\"X\",\"bic\":\"XXXXRUMM\",\"role\":\"king\"}",
         "invalid_value", "role"},
        {"POST", "/v1/participants", "{\"name\":\"\",\"bic\":\"XXXXRUMM\",\"role\":\"bank\"}",
         "invalid_value", "name"},
        {"POST", "/v1/participants", "{\"bic\":\"XXXXRUMM\",\"role\":\"bank\"}", "missing_field",
         "name"},
        {"POST", "/v1/participants",
         "{\"name\":\"X\",\"bic\":\"XXXXRUMM\",\"role\":\"bank\",\"debit_cap\":\"-1\"}",
         "invalid_amount", "debit_cap"},
        {"PATCH", "/v1/participants/1", "{}", "missing_field", "status"},
        {"PATCH", "/v1/participants/1", "{\"status\":\"gone\"}", "invalid_value", "status"},
        {"POST", "/v1/participants/1/funding",
         "{\"funding_id\":\"1\",\"direction\":\"up\",\"amount\":\"5\",\"currency\":\"RUB\"}",
         "invalid_value", "direction"},
        {"POST", "/v1/participants/1/funding",
         "{\"funding_id\":\"18446744073709551616\",\"direction\":\"credit\",\"amount\":\"5\","
         "\"currency\":\"RUB\"}",
         "invalid_id", "funding_id"},
        {"POST", "/v1/ledger/accounts", "[{\"id\":\"1\",\"ledger\":-1,\"code\":1}]",
         "invalid_value", "[0].ledger"},
        {"POST", "/v1/ledger/accounts", "[{\"id\":\"1\",\"ledger\":643,\"code\":70000}]",
         "invalid_value", "[0].code"},
        {"POST", "/v1/ledger/transfers", "[{\"id\":\"1\",\"flags\":[\"fly\"]}]", "invalid_value",
         "[0].flags"},
        {"POST", "/v1/ledger/transfers", "{\"id\":\"1\"}", "wrong_type", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cor_test_response r;
        cor_test_http(&node, cases[i].method, cases[i].path, node.operator_key, cases[i].body, &r);
        cr_assert_eq(r.status, 400, "case %zu: %ld %s", i, r.status, r.body);
        cr_assert_str_eq(cor_test_error_code(&r), cases[i].code, "case %zu: %s", i, r.body);
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
            cases[i].field, "case %zu: %s", i, r.body);
        cor_test_response_free(&r);
    }
    cor_test_response r;
    cor_test_http(
        &node, "POST", "/v1/participants/99/funding", node.operator_key,
        "{\"funding_id\":\"1\",\"direction\":\"credit\",\"amount\":\"5\",\"currency\":\"RUB\"}",
        &r);
    cr_assert_eq(r.status, 404);
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/participants", node.operator_key, NULL, &r);
    cr_assert_eq(json_array_size(json_object_get(r.json, "participants")), 2);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, 1), 1000);
}
