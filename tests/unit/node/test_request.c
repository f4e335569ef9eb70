/* The JSON request decoder (src/node/request.c): the payments fast path agrees with the full
 * decoder and leaves every unusual body to it. */
#include <criterion/criterion.h>
#include <string.h>

#include "node/request.h"

static cor_node_payment_in fast[16], full[16];

static uint32_t decode_both(const char *body, uint32_t *full_count)
{
    bool fast_array = false, full_array = false;
    uint32_t count = cor_node_decode_payments_fast(body, strlen(body), 643, fast, 16, &fast_array);
    json_t *json = NULL;
    cor_node_fault fault;
    *full_count = 0;
    if (cor_node_json_parse(body, strlen(body), &json, &fault)) {
        *full_count = cor_node_decode_payments(json, 643, full, 16, &full_array, &fault);
        json_decref(json);
    }
    if (count != 0) {
        cr_assert_eq(count, *full_count, "%s", body);
        cr_assert_eq(fast_array, full_array);
        cr_assert_eq(memcmp(fast, full, count * sizeof(fast[0])), 0, "%s", body);
    }
    return count;
}

Test(node_request, fast_path_agrees_with_the_full_decoder)
{
    uint32_t full_count;
    cr_assert_eq(
        decode_both(" {\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\","
                    "\"currency\":\"RUB\",\"uetr\":\"eb6305c9-1f7f-49de-aed0-16487c27b42d\","
                    "\"end_to_end_id\":\"E2E-7\",\"remittance_info\":\"inv {7}\"}\n",
                    &full_count),
        1);
    cr_assert_eq(decode_both("[{\"amount\":\"1\",\"currency\":\"RUB\",\"creditor\":\"3\","
                             "\"payment_id\":\"1\"} , {\"payment_id\":\"2\",\"creditor\":\"3\","
                             "\"amount\":\"2\",\"currency\":\"RUB\",\"end_to_end_id\":\"\"}]",
                             &full_count),
                 2);
    /* Left to the full decoder (which accepts or names the error). */
    static const char *const unusual[] = {
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\",\"currency\":\"RUB\","
        "\"remittance_info\":\"a\\nb\"}", /* an escape: accepted by the full decoder */
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\",\"currency\":\"RUB\","
        "\"remittance_info\":\"\xc3\xa9\"}", /* UTF-8 */
        "{\"payment_id\":\"7\",\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\","
        "\"currency\":\"RUB\"}", /* duplicate */
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\",\"currency\":\"IRR\"}",
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"-1\",\"currency\":\"RUB\"}",
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":10,\"currency\":\"RUB\"}",
        "{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\",\"currency\":\"RUB\",\"x\":"
        "\"1\"}",
        "[{\"payment_id\":\"7\",\"creditor\":\"2\",\"amount\":\"10\",\"currency\":\"RUB\"},]",
        "[]",
        "{}",
    };
    for (size_t i = 0; i < sizeof(unusual) / sizeof(unusual[0]); i++) {
        cr_assert_eq(decode_both(unusual[i], &full_count), 0, "case %zu", i);
    }
    cr_assert_eq(decode_both(unusual[0], &full_count), 0);
    cr_assert_eq(full_count, 1, "the full decoder accepts escapes");
}
