/* The node's response buffer (src/node/buf.c): bounds, JSON escaping, u128 rendering. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "node/buf.h"

Test(node_buf, u128_renders_like_the_reference_formatter)
{
    cor_u128 values[2000] = {0,
                             1,
                             10,
                             UINT64_MAX,
                             (cor_u128)UINT64_MAX + 1,
                             (cor_u128)10000000000000000000ull,
                             ((cor_u128)1 << 127) + ((cor_u128)1 << 64) + 5,
                             ~(cor_u128)0};
    for (size_t i = 8; i < 2000; i++) {
        randombytes_buf(&values[i], sizeof(values[i]));
        values[i] >>= (i % 128); /* every magnitude */
    }
    for (size_t i = 0; i < 2000; i++) {
        cor_nbuf buf;
        cor_nbuf_init(&buf, 100);
        cor_nbuf_json_u128(&buf, values[i]);
        char expected[64] = "\"";
        size_t length = cor_u128_format(values[i], expected + 1);
        expected[length + 1] = '"';
        expected[length + 2] = '\0';
        cr_assert(cor_nbuf_ok(&buf));
        cr_assert_str_eq(buf.data, expected);
        cor_nbuf_release(&buf);
    }
}

Test(node_buf, u64_renders_as_a_bare_number)
{
    static const struct {
        uint64_t value;
        const char *text;
    } cases[] = {{0, "0"}, {7, "7"}, {1500, "1500"}, {UINT64_MAX, "18446744073709551615"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cor_nbuf buf;
        cor_nbuf_init(&buf, 100);
        cor_nbuf_str(&buf, "[");
        cor_nbuf_u64(&buf, cases[i].value);
        cor_nbuf_str(&buf, "]");
        char expected[32];
        snprintf(expected, sizeof(expected), "[%s]", cases[i].text);
        cr_assert(cor_nbuf_ok(&buf));
        cr_assert_str_eq(buf.data, expected);
        cor_nbuf_release(&buf);
    }
}

Test(node_buf, escapes_and_bounds)
{
    cor_nbuf buf;
    cor_nbuf_init(&buf, 64);
    cor_nbuf_json_string(&buf, "a\"b\\c\n\x01", 7);
    cr_assert(cor_nbuf_ok(&buf));
    cr_assert_str_eq(buf.data, "\"a\\\"b\\\\c\\u000a\\u0001\"");
    cor_nbuf_str(&buf, "0123456789012345678901234567890123456789012345678901234567890");
    cr_assert(!cor_nbuf_ok(&buf), "appending past the maximum must fail");
    cor_nbuf_release(&buf);
}
