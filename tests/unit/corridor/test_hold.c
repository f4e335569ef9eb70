/*
 * Compliance holds at the beneficiary node: a screening hit holds a valid instruction, the
 * operator releases or rejects it, and the deadline bounds the hold.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/xb_world.h"

#define NS 1000000000ull

static xbw_world world;
static uint64_t rng = 17;
static cor_xb_message out[16];

static void setup(void)
{
    xbw_config config;
    xbw_config_default(&config); /* deadline 2 s */
    xbw_open(&world, &config, NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 0, 0, NS), COR_XB_OK);
}

static void teardown(void)
{
    xbw_close(&world);
}

TestSuite(corridor_hold, .init = setup, .fini = teardown);

/* Initiates at A and delivers the pacs.008 to B with the hold flag; returns the UETR. */
static cor_u128 held(uint64_t ts, cor_xb_message *instruction_out)
{
    cor_xb_quote_request q = {
        .amount = 1000, .requester = 1, .peer_node = 2, .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote quote;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[0].xb, ts, &q, &quote, 1, &count, &reason), COR_OK);
    cor_xb_payment_request p = {.uetr = xbw_uetr(&rng),
                                .quote_id = quote.id,
                                .debtor_account = xbw_account_bank(0, 0),
                                .creditor_account = xbw_account_bank(1, 0),
                                .requester = 1};
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[0].xb, ts, &p, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 1);
    *instruction_out = out[0];
    cr_assert_eq(cor_xb_receive_flags(world.nodes[1].xb, ts, &out[0], 7, &reason),
                 COR_ERR_INVALID); /* unknown flags */
    cr_assert_eq(cor_xb_receive_flags(world.nodes[1].xb, ts, &out[0], COR_XB_RECEIVE_HOLD, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 1, out, 16), 1);
    cr_assert_eq(out[0].status, COR_XB_STATUS_PDNG);
    cr_assert_eq(out[0].reason, COR_XB_HELD);
    cr_assert_eq(cor_xb_receive(world.nodes[0].xb, ts, &out[0], &reason), COR_OK);
    return p.uetr;
}

static cor_xb_payment lookup(uint32_t n, cor_u128 uetr)
{
    cor_xb_payment p;
    cr_assert(cor_xb_payment_lookup(world.nodes[n].xb, uetr, &p));
    return p;
}

/* Takes B's answers and gives them to A. */
static void answer_a(uint64_t ts, uint32_t expected)
{
    cr_assert_eq(xbw_fsync(&world, 1, out, 16), expected);
    for (uint32_t i = 0; i < expected; i++) {
        uint32_t reason = 0;
        cr_assert_eq(cor_xb_receive(world.nodes[0].xb, ts, &out[i], &reason), COR_OK);
        cr_assert_eq(reason, COR_XB_OK);
    }
}

static uint32_t transfers(uint32_t n)
{
    cor_ledger_stats stats;
    cor_ledger_stats_get(world.nodes[n].ledger, &stats);
    return stats.transfers_count;
}

Test(corridor_hold, release_commits)
{
    cor_xb_message instruction;
    uint32_t before = transfers(1);
    cor_u128 uetr = held(NS, &instruction);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_HELD);
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_FORWARDED);
    cr_assert_eq(transfers(1), before); /* nothing posted while held */
    cor_xb_stats stats;
    cor_xb_stats_get(world.nodes[1].xb, &stats);
    cr_assert_eq(stats.open_count, 1);
    uint64_t at = 0;
    cr_assert(cor_xb_next_timer(world.nodes[1].xb, &at));
    cr_assert(at == instruction.deadline + 1);

    /* A re-send while held: PDNG again, still nothing posted. */
    uint32_t reason = 0;
    instruction.msg_id += 100;
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, NS + 1, &instruction, &reason), COR_OK);
    cr_assert_eq(xbw_fsync(&world, 1, out, 16), 1);
    cr_assert_eq(out[0].status, COR_XB_STATUS_PDNG);

    cr_assert_eq(cor_xb_hold_release(world.nodes[1].xb, NS + 2, uetr, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(transfers(1), before + 1);
    answer_a(NS + 3, 1);
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(cor_xb_hold_release(world.nodes[1].xb, NS + 4, uetr, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_NOT_HELD);
    cr_assert_eq(cor_xb_hold_reject(world.nodes[1].xb, NS + 4, uetr, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_NOT_HELD);
    cor_xb_payment b = lookup(1, uetr);
    cr_assert_eq(b.track[1].step, COR_XB_STEP_HELD);
    cr_assert_eq(b.track[2].step, COR_XB_STEP_SETTLED);
}

Test(corridor_hold, reject_voids_at_origin)
{
    cor_xb_message instruction;
    uint32_t before = transfers(1);
    cor_u128 uetr = held(NS, &instruction);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_hold_reject(world.nodes[1].xb, NS + 1, uetr, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_REGULATORY);
    cr_assert_str_eq(cor_xb_reason_iso(reason), "RR04");
    answer_a(NS + 2, 1);
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(0, uetr).reason, COR_XB_REGULATORY);
    cr_assert_eq(transfers(1), before);
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_bank(0, 0)) == 1000000000);
}

Test(corridor_hold, deadline_ends_a_forgotten_hold)
{
    cor_xb_message instruction;
    cor_u128 uetr = held(NS, &instruction);
    cr_assert_eq(cor_xb_tick(world.nodes[1].xb, instruction.deadline, 10), 0);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_HELD);
    cr_assert_eq(cor_xb_tick(world.nodes[1].xb, instruction.deadline + 1, 10), 1);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(1, uetr).reason, COR_XB_DEADLINE_PASSED);
    answer_a(instruction.deadline + 2, 1);
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_REJECTED);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_hold_release(world.nodes[1].xb, instruction.deadline + 3, uetr, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_NOT_HELD);
}

Test(corridor_hold, release_after_deadline_rejects)
{
    cor_xb_message instruction;
    uint32_t before = transfers(1);
    cor_u128 uetr = held(NS, &instruction);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_hold_release(world.nodes[1].xb, instruction.deadline + 1, uetr, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_DEADLINE_PASSED);
    cr_assert_eq(transfers(1), before);
    answer_a(instruction.deadline + 2, 1);
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_REJECTED);
}

Test(corridor_hold, cancellation_of_a_held_payment)
{
    cor_xb_message instruction;
    cor_u128 uetr = held(NS, &instruction);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_payment_cancel(world.nodes[0].xb, NS + 1, uetr, 1, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 1);
    cr_assert_eq(out[0].type, COR_XB_CAMT056);
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, NS + 1, &out[0], &reason), COR_OK);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(1, uetr).reason, COR_XB_CANCELLED);
    answer_a(NS + 2, 2); /* the pacs.002 and the camt.029 */
    cr_assert_eq(lookup(0, uetr).state, COR_XB_STATE_REJECTED);
}

Test(corridor_hold, hold_survives_a_snapshot)
{
    cor_xb_message instruction;
    cor_u128 uetr = held(NS, &instruction);
    xbw_fsync(&world, 1, NULL, 0);
    xbw_crash(&world, 1);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_HELD);
    cr_assert_eq(cor_xb_tick(world.nodes[1].xb, instruction.deadline + 1, 10), 1);
    cr_assert_eq(lookup(1, uetr).state, COR_XB_STATE_REJECTED);
}
