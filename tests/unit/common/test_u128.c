/* Tests of src/common/u128.c: exact decimal conversion at the edges. */
#include <criterion/criterion.h>
#include <string.h>

#include "corridor/u128.h"

static bool parse(const char *text, cor_u128 *out)
{
    return cor_u128_parse(text, strlen(text), out);
}

Test(common_u128, parses_and_formats_the_extremes)
{
    cor_u128 value = 1;
    cr_assert(parse("0", &value));
    cr_assert(value == 0);
    cr_assert(parse("340282366920938463463374607431768211455", &value));
    cr_assert(value == COR_U128_MAX);
    char text[COR_U128_DECIMAL_SIZE_MAX];
    cr_assert_eq(cor_u128_format(COR_U128_MAX, text), 39);
    cr_assert_str_eq(text, "340282366920938463463374607431768211455");
    cr_assert_eq(cor_u128_format(0, text), 1);
    cr_assert_str_eq(text, "0");
}

Test(common_u128, refuses_overflow_signs_and_junk)
{
    cor_u128 value = 7;
    cr_assert_not(parse("340282366920938463463374607431768211456", &value));
    cr_assert_not(parse("999999999999999999999999999999999999999", &value));
    cr_assert_not(parse("1000000000000000000000000000000000000000", &value));
    cr_assert_not(parse("", &value));
    cr_assert_not(parse("-1", &value));
    cr_assert_not(parse("+1", &value));
    cr_assert_not(parse(" 1", &value));
    cr_assert_not(parse("1.0", &value));
    cr_assert_not(parse("1e3", &value));
    cr_assert_not(cor_u128_parse("12", 3, &value) && value == 12); /* embedded NUL */
    cr_assert(value == 7, "a failed parse leaves the output untouched");
}

Test(common_u128, round_trips_many_values)
{
    cor_u128 value = 1;
    for (int i = 0; i < 128; i++) {
        cor_u128 candidates[3] = {value - 1, value, value + 1};
        for (int j = 0; j < 3; j++) {
            char text[COR_U128_DECIMAL_SIZE_MAX];
            size_t size = cor_u128_format(candidates[j], text);
            cor_u128 back = 0;
            cr_assert(cor_u128_parse(text, size, &back));
            cr_assert(back == candidates[j]);
        }
        value <<= 1;
    }
}
