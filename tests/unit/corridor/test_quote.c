/* Quotes and the rounding rule of src/corridor/xb_quote.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/xb_world.h"

#define NS 1000000000ull

/* ---- arithmetic ------------------------------------------------------------------------- */

Test(corridor_quote, floor_for_fixed_source)
{
    cor_u128 dest = 0;
    cr_assert(cor_xb_amount_dest(5, 3, 2, 0, &dest)); /* 7.5 */
    cr_assert(dest == 7);
    cr_assert(cor_xb_amount_dest(100, 1, 1, 10000, &dest)); /* 1% spread: 99 exactly */
    cr_assert(dest == 99);
    cr_assert(cor_xb_amount_dest(150, 1, 1, 10000, &dest)); /* 148.5 */
    cr_assert(dest == 148);
    cr_assert_not(cor_xb_amount_dest(1, 1, 3, 0, &dest)); /* converts to nothing */
    cr_assert_not(cor_xb_amount_dest(5, 0, 2, 0, &dest));
    cr_assert_not(cor_xb_amount_dest(5, 3, 0, 0, &dest));
    cr_assert_not(cor_xb_amount_dest(5, 3, 2, 1000000, &dest));
}

Test(corridor_quote, ceiling_for_fixed_dest)
{
    cor_u128 converted = 0;
    cr_assert(cor_xb_amount_source(7, 3, 2, 0, &converted)); /* 4.67 */
    cr_assert(converted == 5);
    cr_assert(cor_xb_amount_source(6, 3, 2, 0, &converted)); /* exact */
    cr_assert(converted == 4);
    cr_assert(cor_xb_amount_source(4, 3, 1, 0, &converted)); /* 1.33 */
    cr_assert(converted == 2);
    cr_assert_not(cor_xb_amount_source(0, 3, 2, 0, &converted));
}

Test(corridor_quote, check_accepts_exactly_the_rounded_amounts)
{
    cr_assert(cor_xb_amounts_check(5, 7, 3, 2, 0, COR_XB_FIXED_SOURCE));
    cr_assert_not(cor_xb_amounts_check(5, 8, 3, 2, 0, COR_XB_FIXED_SOURCE)); /* provider loses */
    cr_assert_not(cor_xb_amounts_check(5, 6, 3, 2, 0, COR_XB_FIXED_SOURCE)); /* 1.5 short */
    cr_assert(cor_xb_amounts_check(2, 4, 3, 1, 0, COR_XB_FIXED_DEST));
    cr_assert_not(cor_xb_amounts_check(3, 4, 3, 1, 0, COR_XB_FIXED_DEST)); /* overcharged */
    cr_assert_not(cor_xb_amounts_check(2, 4, 3, 1, 0, 0));                 /* no fixed side */
}

/* Products past 128 bits take the long division; products that fit take one native
 * division. Both give the exact floor (and ceiling), checked where it is known in closed form. */
Test(corridor_quote, wide_products_are_exact)
{
    static const struct {
        cor_u128 converted;
        uint64_t num, den;
        uint32_t spread_ppm;
        cor_u128 dest;
    } cases[] = {
        {(cor_u128)1 << 100, 1000, 1000, 0, (cor_u128)1 << 100},              /* 2^130 / 10^9 */
        {((cor_u128)1 << 100) + 1, 1000, 1000, 500000, (cor_u128)1 << 99},    /* floor of x.5 */
        {((cor_u128)1 << 100) * 3, 7, 3, 0, ((cor_u128)1 << 100) * 7},        /* fits: native */
        {((cor_u128)1 << 120) + 5, 4000, 2000, 0, ((cor_u128)1 << 121) + 10}, /* 2 per unit */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cor_u128 dest = 0;
        cr_assert(cor_xb_amount_dest(cases[i].converted, cases[i].num, cases[i].den,
                                     cases[i].spread_ppm, &dest),
                  "case %zu", i);
        cr_assert(dest == cases[i].dest, "case %zu", i);
        cor_u128 back = 0;
        cr_assert(
            cor_xb_amount_source(dest, cases[i].num, cases[i].den, cases[i].spread_ppm, &back),
            "case %zu", i);
        cr_assert(back <= cases[i].converted, "case %zu", i);
    }
}

/* Against a naive formula in 128 bits for operands small enough not to overflow. */
Test(corridor_quote, matches_naive_arithmetic)
{
    uint64_t rng = 42;
    for (int i = 0; i < 20000; i++) {
        uint64_t num = 1 + xbw_rand(&rng) % 100000;
        uint64_t den = 1 + xbw_rand(&rng) % 100000;
        uint32_t spread = (uint32_t)(xbw_rand(&rng) % 50000);
        cor_u128 c = 1 + xbw_rand(&rng) % 10000000000ull;
        cor_u128 n = (cor_u128)num * (1000000u - spread), d = (cor_u128)den * 1000000u;
        cor_u128 expect = c * n / d, dest = 0;
        if (expect == 0) {
            cr_assert_not(cor_xb_amount_dest(c, num, den, spread, &dest));
            continue;
        }
        cr_assert(cor_xb_amount_dest(c, num, den, spread, &dest));
        cr_assert(dest == expect);
        cr_assert(cor_xb_amounts_check(c, dest, num, den, spread, COR_XB_FIXED_SOURCE));
        cr_assert_not(cor_xb_amounts_check(c, dest + 1, num, den, spread, COR_XB_FIXED_SOURCE));
        cor_u128 back = 0, exact = (dest * d + n - 1) / n;
        cr_assert(cor_xb_amount_source(dest, num, den, spread, &back));
        cr_assert(back == exact);
        cr_assert(back <= c); /* never asks more than the source that produced dest */
        cr_assert(cor_xb_amounts_check(back, dest, num, den, spread, COR_XB_FIXED_DEST));
        if (back > 1) {
            cr_assert_not(
                cor_xb_amounts_check(back - 1, dest, num, den, spread, COR_XB_FIXED_DEST));
        }
    }
}

Test(corridor_quote, wide_amounts_and_overflow)
{
    cor_u128 big = (cor_u128)1 << 100, dest = 0;
    cr_assert(cor_xb_amount_dest(big, 7, 7, 0, &dest));
    cr_assert(dest == big);
    cr_assert(cor_xb_amount_dest(big, 1000, 1, 0, &dest));
    cr_assert(dest == big * 1000);
    cr_assert(cor_xb_amount_dest(big, UINT64_MAX, UINT64_MAX, 0, &dest));
    cr_assert(dest == big);
    cr_assert_not(cor_xb_amount_dest((cor_u128)1 << 127, UINT64_MAX, 1, 0, &dest));
    cor_u128 converted = 0;
    cr_assert_not(cor_xb_amount_source(COR_U128_MAX, 1, UINT64_MAX, 0, &converted));
    cr_assert(cor_xb_amounts_check(big, big * 1000, 1000, 1, 0, COR_XB_FIXED_SOURCE));
}

/* ---- quotes on a node ------------------------------------------------------------------- */

static xbw_world world;

static void quote_setup(void)
{
    xbw_config config;
    xbw_config_default(&config);
    config.quotes_max = 4;
    xbw_open(&world, &config, 1 * NS);
}

static void quote_teardown(void)
{
    xbw_close(&world);
}

static uint32_t ask(uint64_t ts, uint32_t fixed, cor_u128 amount, cor_xb_quote *out,
                    uint32_t out_max, uint32_t *count)
{
    cor_xb_quote_request request = {
        .amount = amount, .requester = 11, .peer_node = 2, .fixed = fixed};
    uint32_t reason = 99;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[0].xb, ts, &request, out, out_max, count, &reason),
                 COR_OK);
    return reason;
}

Test(corridor_quote, best_first_with_fees, .init = quote_setup, .fini = quote_teardown)
{
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 520, 1, 0, 0, 2 * NS), COR_XB_OK);
    cr_assert_eq(xbw_publish(&world, 0, 1, 1, 530, 1, 0, 10, 2 * NS), COR_XB_OK);
    cor_xb_quote q[2];
    uint32_t count = 0;
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 1000, q, 2, &count), COR_XB_OK);
    cr_assert_eq(count, 2);
    /* 530 * 990 = 524700 beats 520 * 1000 = 520000 */
    cr_assert_eq(q[0].fx_id, xbw_fx_id(1));
    cr_assert(q[0].amount_source == 1000 && q[0].fee_source == 10 && q[0].amount_dest == 524700);
    cr_assert(q[1].amount_dest == 520000 && q[1].fee_source == 0);
    cr_assert(q[0].id != q[1].id);
    cr_assert(q[0].expires_at == 3 * NS + world.nodes[0].xb_options.quote_ttl_ns);
    cr_assert(q[0].fx_account == xbw_account_fx(0, 1));
    cr_assert_eq(q[0].dest_ledger, xbw_currency(1));

    cor_xb_quote stored;
    cr_assert(cor_xb_quote_lookup(world.nodes[0].xb, q[1].id, &stored));
    cr_assert(memcmp(&stored, &q[1], sizeof(stored)) == 0);

    /* Fixed destination: the cheaper source wins, rounded up. */
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_DEST, 1000001, q, 1, &count), COR_XB_OK);
    cr_assert_eq(count, 1);
    cr_assert_eq(q[0].fx_id, xbw_fx_id(1)); /* ceil(1000001/530)+10 = 1897 < ceil(/520)=1924 */
    cr_assert(q[0].amount_source == 1887 + 10 && q[0].amount_dest == 1000001);
}

Test(corridor_quote, refusals, .init = quote_setup, .fini = quote_teardown)
{
    cor_xb_quote q[1];
    uint32_t count = 7;
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 1000, q, 1, &count), COR_XB_NO_RATE);
    cr_assert_eq(count, 0);
    cr_assert_eq(ask(3 * NS, 0, 1000, q, 1, &count), COR_XB_FORMAT);
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 0, q, 1, &count), COR_XB_FORMAT);

    cor_xb_quote_request unknown = {
        .amount = 5, .requester = 1, .peer_node = 9, .fixed = COR_XB_FIXED_SOURCE};
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[0].xb, 3 * NS, &unknown, q, 1, &count, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_CORRIDOR_UNKNOWN);
    cr_assert_eq(cor_xb_quote_issue(world.nodes[0].xb, 3 * NS, &unknown, q, 0, &count, &reason),
                 COR_ERR_INVALID);

    cor_xb_rate rate = {.amount_min = 100,
                        .amount_max = 500,
                        .fx_id = xbw_fx_id(0),
                        .peer_node = 2,
                        .rate_num = 3,
                        .rate_den = 2,
                        .valid_from = 10 * NS,
                        .valid_until = 20 * NS};
    cr_assert_eq(cor_xb_rate_publish(world.nodes[0].xb, 3 * NS, &rate, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 200, q, 1, &count), COR_XB_NO_RATE);
    cr_assert_eq(ask(20 * NS, COR_XB_FIXED_SOURCE, 200, q, 1, &count), COR_XB_NO_RATE);
    cr_assert_eq(ask(11 * NS, COR_XB_FIXED_SOURCE, 99, q, 1, &count), COR_XB_AMOUNT_BELOW_MIN);
    cr_assert_eq(ask(11 * NS, COR_XB_FIXED_SOURCE, 501, q, 1, &count), COR_XB_AMOUNT_ABOVE_MAX);
    cr_assert_eq(ask(19 * NS, COR_XB_FIXED_SOURCE, 200, q, 1, &count), COR_XB_OK);
    cr_assert(q[0].expires_at == 20 * NS); /* capped by the rate's validity */

    /* Bad rate sheets. */
    cor_xb_rate bad = rate;
    bad.rate_den = 0;
    cr_assert_eq(cor_xb_rate_publish(world.nodes[0].xb, 3 * NS, &bad, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_FORMAT);
    bad = rate;
    bad.spread_ppm = 1000000;
    cr_assert_eq(cor_xb_rate_publish(world.nodes[0].xb, 3 * NS, &bad, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_FORMAT);
    bad = rate;
    bad.fx_id = 424242;
    cr_assert_eq(cor_xb_rate_publish(world.nodes[0].xb, 3 * NS, &bad, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_CORRIDOR_UNKNOWN);
    bad = rate;
    bad.valid_until = bad.valid_from;
    cr_assert_eq(cor_xb_rate_publish(world.nodes[0].xb, 3 * NS, &bad, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_FORMAT);
}

Test(corridor_quote, ring_refuses_while_live_quotes_fill_it, .init = quote_setup,
     .fini = quote_teardown)
{
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 2, 1, 0, 0, 2 * NS), COR_XB_OK);
    cor_xb_quote q[1], first = {0};
    uint32_t count = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 100, q, 1, &count), COR_XB_OK);
        if (i == 0) first = q[0];
    }
    cr_assert_eq(ask(3 * NS, COR_XB_FIXED_SOURCE, 100, q, 1, &count), COR_XB_BUSY);
    /* Once the oldest expired its slot is reused and its id no longer resolves. */
    uint64_t later = first.expires_at;
    cr_assert_eq(ask(later, COR_XB_FIXED_SOURCE, 100, q, 1, &count), COR_XB_OK);
    cor_xb_quote gone;
    cr_assert_not(cor_xb_quote_lookup(world.nodes[0].xb, first.id, &gone));
    cr_assert(cor_xb_quote_lookup(world.nodes[0].xb, q[0].id, &gone));
}
