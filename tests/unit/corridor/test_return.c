/* Returns (pacs.004) of settled cross-border payments, src/corridor/xb_payment.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/xb_world.h"

#define NS 1000000000ull

static xbw_world world;
static uint64_t rng = 99;
static cor_xb_message out[64];

static void setup(void)
{
    xbw_config config;
    xbw_config_default(&config);
    xbw_open(&world, &config, 1 * NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 0, 0, 1 * NS), COR_XB_OK); /* RUB->IRR */
    cr_assert_eq(xbw_publish(&world, 1, 0, 0, 1, 500, 0, 0, 1 * NS), COR_XB_OK); /* IRR->RUB */
}

static void teardown(void)
{
    xbw_close(&world);
}

/* Delivers everything until quiet, on a perfect network. */
static void settle(uint64_t ts)
{
    for (int round = 0; round < 20; round++) {
        uint32_t moved = 0;
        for (uint32_t n = 0; n < 2; n++) {
            uint32_t count = xbw_fsync(&world, n, out, 64);
            for (uint32_t i = 0; i < count; i++) {
                uint32_t to = out[i].to_node - 1, reason = 0;
                cr_assert_eq(cor_xb_receive(world.nodes[to].xb, ts, &out[i], &reason), COR_OK);
                cr_assert_eq(reason, COR_XB_OK, "%s", cor_xb_reason_name(reason));
                xbw_collect(&world, to);
            }
            moved += count;
        }
        if (moved == 0) return;
    }
    cr_assert_fail("not quiet");
}

static cor_xb_quote quote_at(uint32_t n, uint64_t requester, cor_u128 amount)
{
    cor_xb_quote_request request = {.amount = amount,
                                    .requester = requester,
                                    .peer_node = n == 0 ? 2 : 1,
                                    .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote q;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[n].xb, 2 * NS, &request, &q, 1, &count, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    return q;
}

/* A committed payment of 1000 RUB (500,000 IRR) from bank 0 on A to bank 1 on B. */
static cor_u128 paid(void)
{
    cor_xb_quote q = quote_at(0, 11, 1000);
    cor_xb_payment_request request = {.uetr = xbw_uetr(&rng),
                                      .quote_id = q.id,
                                      .debtor_account = xbw_account_bank(0, 0),
                                      .creditor_account = xbw_account_bank(1, 1),
                                      .requester = 11};
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[0].xb, 2 * NS, &request, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_collect(&world, 0);
    settle(2 * NS);
    return request.uetr;
}

static uint32_t give_back(cor_u128 original, cor_u128 amount, cor_u128 *uetr_out)
{
    cor_xb_quote q = quote_at(1, 21, amount);
    cor_xb_return_request request = {.uetr = xbw_uetr(&rng),
                                     .original_uetr = original,
                                     .quote_id = q.id,
                                     .requester = 21,
                                     .reason = COR_XB_RETURN_CUSTOMER};
    uint32_t reason = 99;
    cr_assert_eq(cor_xb_return_initiate(world.nodes[1].xb, 2 * NS, &request, &reason), COR_OK);
    xbw_collect(&world, 1);
    if (uetr_out != NULL) *uetr_out = request.uetr;
    return reason;
}

static cor_xb_payment lookup(uint32_t n, cor_u128 uetr)
{
    cor_xb_payment p;
    cr_assert(cor_xb_payment_lookup(world.nodes[n].xb, uetr, &p));
    return p;
}

TestSuite(corridor_return, .init = setup, .fini = teardown);

Test(corridor_return, full_return_restores_every_balance)
{
    cor_u128 original = paid();
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_bank(0, 0)) == 1000000000 - 1000);
    cor_u128 back = 0;
    cr_assert_eq(give_back(original, 500000, &back), COR_XB_OK);
    settle(2 * NS);
    cor_xb_payment at_b = lookup(1, back), at_a = lookup(0, back);
    cr_assert_eq(at_b.role, COR_XB_ROLE_ORIGIN);
    cr_assert_eq(at_b.state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(at_a.state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(at_a.instruction.type, COR_XB_PACS004);
    cr_assert(at_a.instruction.return_of == original);
    cr_assert_str_eq(cor_xb_reason_iso(at_a.instruction.return_reason), "MD06");
    for (uint32_t n = 0; n < 2; n++) {
        for (uint32_t b = 0; b < XBW_BANKS; b++) {
            cr_assert(xbw_balance(&world.nodes[n], xbw_account_bank(n, b)) == 1000000000);
        }
        cr_assert(xbw_balance(&world.nodes[n], xbw_account_fx(n, 0)) == 1000000000000ll);
        cr_assert(lookup(n, original).returned_by == back);
        char problem[128];
        cr_assert(cor_ledger_check(world.nodes[n].ledger, problem, sizeof(problem)), "%s", problem);
    }
    /* The original's track shows the return on both sides. */
    cor_xb_payment o = lookup(0, original);
    cr_assert_eq(o.track[o.track_count - 1].step, COR_XB_STEP_RETURNED);
    o = lookup(1, original);
    cr_assert_eq(o.track[o.track_count - 1].step, COR_XB_STEP_RETURNED);
}

Test(corridor_return, refusals_at_the_returning_node)
{
    cor_u128 original = paid();
    uint32_t before = 0;
    cor_ledger_stats stats;
    cor_ledger_stats_get(world.nodes[1].ledger, &stats);
    before = stats.transfers_count;
    cr_assert_eq(give_back(original, 500001, NULL), COR_XB_RETURN_TOO_LARGE);
    cr_assert_eq(give_back(xbw_uetr(&rng), 1000, NULL), COR_XB_RETURN_INVALID);
    cor_xb_quote q = quote_at(1, 21, 1000);
    cor_xb_return_request bad = {.uetr = xbw_uetr(&rng),
                                 .original_uetr = original,
                                 .quote_id = q.id,
                                 .requester = 21,
                                 .reason = 3};
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_return_initiate(world.nodes[1].xb, 2 * NS, &bad, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_FORMAT);
    /* The origin cannot "return" what it sent. */
    cor_xb_quote qa = quote_at(0, 11, 100);
    cor_xb_return_request wrong_side = {.uetr = xbw_uetr(&rng),
                                        .original_uetr = original,
                                        .quote_id = qa.id,
                                        .requester = 11,
                                        .reason = COR_XB_RETURN_CUSTOMER};
    cr_assert_eq(cor_xb_return_initiate(world.nodes[0].xb, 2 * NS, &wrong_side, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_RETURN_INVALID);
    cor_ledger_stats_get(world.nodes[1].ledger, &stats);
    cr_assert_eq(stats.transfers_count, before);

    /* A partial return, then nothing more while it is open or after it settled. */
    cor_u128 back = 0;
    cr_assert_eq(give_back(original, 200000, &back), COR_XB_OK);
    cr_assert_eq(give_back(original, 1000, NULL), COR_XB_ALREADY_RETURNED);
    settle(2 * NS);
    cr_assert_eq(give_back(original, 1000, NULL), COR_XB_ALREADY_RETURNED);
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_bank(0, 0)) == 1000000000 - 1000 + 400);
}

/* B sends a doctored pacs.004 to A: A rejects it (recorded) and moves nothing. */
static uint32_t doctored(void (*edit)(cor_xb_message *m))
{
    cor_u128 original = paid();
    cr_assert_eq(give_back(original, 1000, NULL), COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 1, out, 64), 1);
    cor_xb_message m = out[0];
    cr_assert_eq(m.type, COR_XB_PACS004);
    edit(&m);
    cor_ledger_stats before, after;
    cor_ledger_stats_get(world.nodes[0].ledger, &before);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_receive(world.nodes[0].xb, 2 * NS, &m, &reason), COR_OK);
    cor_ledger_stats_get(world.nodes[0].ledger, &after);
    if (reason != COR_XB_OK) return reason; /* refused at the envelope */
    cr_assert_eq(after.transfers_count, before.transfers_count);
    cr_assert_eq(xbw_fsync(&world, 0, out, 64), 1);
    cr_assert_eq(out[0].status, COR_XB_STATUS_RJCT);
    return out[0].reason;
}

static void edit_creditor(cor_xb_message *m)
{
    m->creditor_account = xbw_account_bank(0, 2);
}

static void edit_original(cor_xb_message *m)
{
    m->return_of = xbw_uetr(&rng);
}

static void edit_no_original(cor_xb_message *m)
{
    m->return_of = 0;
}

static void edit_reason(cor_xb_message *m)
{
    m->return_reason = COR_XB_DUPLICATE;
}

Test(corridor_return, doctored_returns_are_rejected)
{
    cr_assert_eq(doctored(edit_creditor), COR_XB_RETURN_INVALID);
    cr_assert_eq(doctored(edit_original), COR_XB_RETURN_INVALID);
    cr_assert_eq(doctored(edit_no_original), COR_XB_FORMAT);
    cr_assert_eq(doctored(edit_reason), COR_XB_FORMAT);
}

Test(corridor_return, second_return_of_the_same_payment_is_refused_by_the_origin)
{
    cor_u128 original = paid();
    cr_assert_eq(give_back(original, 1000, NULL), COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 1, out, 64), 1);
    cor_xb_message first = out[0];
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_receive(world.nodes[0].xb, 2 * NS, &first, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_fsync(&world, 0, out, 64);
    cr_assert_eq(out[0].status, COR_XB_STATUS_ACSC);
    cor_xb_message again = first; /* a forged second return under a new UETR */
    again.uetr = xbw_uetr(&rng);
    again.msg_id += 77;
    cr_assert_eq(cor_xb_receive(world.nodes[0].xb, 2 * NS, &again, &reason), COR_OK);
    cr_assert_eq(xbw_fsync(&world, 0, out, 64), 1);
    cr_assert_eq(out[0].status, COR_XB_STATUS_RJCT);
    cr_assert_eq(out[0].reason, COR_XB_ALREADY_RETURNED);
}
