/*
 * Cross-border payments between two nodes of src/corridor/xb_payment.c: the happy path,
 * rejections, dedup, deadlines, cancellation, and bad peer input (each refused with a
 * reason and nothing moved).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/xb_world.h"

#define NS 1000000000ull
#define MS 1000000ull

static xbw_world world;
static uint64_t rng = 7;

static void setup(void)
{
    xbw_config config;
    xbw_config_default(&config);
    config.fx_funds = 10000000; /* per FX account; IRR side runs out for big payments */
    xbw_open(&world, &config, 1 * NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 0, 0, 1 * NS), COR_XB_OK);
}

static void teardown(void)
{
    xbw_close(&world);
}

static cor_xb *A(void)
{
    return world.nodes[0].xb;
}
static cor_xb *B(void)
{
    return world.nodes[1].xb;
}

/* Delivers every message until the network is quiet (perfect network). */
static uint32_t settle(uint64_t ts)
{
    static cor_xb_message out[256];
    uint32_t delivered = 0;
    for (int round = 0; round < 50; round++) {
        uint32_t moved = 0;
        for (uint32_t n = 0; n < world.nodes_count; n++) {
            uint32_t count = xbw_fsync(&world, n, out, 256);
            for (uint32_t i = 0; i < count; i++) {
                uint32_t reason = 0;
                uint32_t to = out[i].to_node - 1;
                cr_assert_eq(cor_xb_receive(world.nodes[to].xb, ts, &out[i], &reason), COR_OK);
                cr_assert_eq(reason, COR_XB_OK, "reason %s", cor_xb_reason_name(reason));
                xbw_collect(&world, to);
            }
            moved += count;
        }
        delivered += moved;
        if (moved == 0) return delivered;
    }
    cr_assert_fail("network never went quiet");
    return delivered;
}

static cor_xb_quote quote(uint64_t ts, cor_u128 source)
{
    cor_xb_quote_request request = {
        .amount = source, .requester = 11, .peer_node = 2, .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote q;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(A(), ts, &request, &q, 1, &count, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    return q;
}

static uint32_t initiate(uint64_t ts, cor_u128 uetr, const cor_xb_quote *q)
{
    cor_xb_payment_request request = {.uetr = uetr,
                                      .quote_id = q->id,
                                      .debtor_account = xbw_account_bank(0, 0),
                                      .creditor_account = xbw_account_bank(1, 1),
                                      .requester = 11};
    uint32_t reason = 99;
    cr_assert_eq(cor_xb_payment_initiate(A(), ts, &request, &reason), COR_OK);
    xbw_collect(&world, 0);
    return reason;
}

static cor_xb_payment payment(cor_xb *xb, cor_u128 uetr)
{
    cor_xb_payment p;
    cr_assert(cor_xb_payment_lookup(xb, uetr, &p));
    return p;
}

static uint32_t transfers(uint32_t n)
{
    cor_ledger_stats stats;
    cor_ledger_stats_get(world.nodes[n].ledger, &stats);
    return stats.transfers_count;
}

static void check_ledgers(void)
{
    char problem[256];
    for (uint32_t n = 0; n < world.nodes_count; n++) {
        cr_assert(cor_ledger_check(world.nodes[n].ledger, problem, sizeof(problem)), "%s", problem);
    }
}

/* A forwarded instruction taken from A's held messages (and removed from them). */
static cor_xb_message take_instruction(void)
{
    static cor_xb_message out[16];
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 1);
    return out[0];
}

static uint32_t receive(cor_xb *xb, uint64_t ts, const cor_xb_message *m)
{
    uint32_t reason = 99;
    cr_assert_eq(cor_xb_receive(xb, ts, m, &reason), COR_OK);
    return reason;
}

/* B's single answer, from B's held messages. */
static cor_xb_message take_answer(void)
{
    static cor_xb_message out[16];
    cr_assert_eq(xbw_fsync(&world, 1, out, 16), 1);
    return out[0];
}

static struct {
    unsigned char bytes[1 << 16];
    size_t size;
    size_t offset;
} image;

static cor_error image_write(void *context, const void *bytes, size_t size_bytes)
{
    (void)context;
    if (image.size + size_bytes > sizeof(image.bytes)) return COR_ERR_LIMIT;
    memcpy(image.bytes + image.size, bytes, size_bytes);
    image.size += size_bytes;
    return COR_OK;
}

static cor_error image_read(void *context, void *bytes, size_t size_bytes)
{
    (void)context;
    if (image.size - image.offset < size_bytes) return COR_ERR_CORRUPT;
    memcpy(bytes, image.bytes + image.offset, size_bytes);
    image.offset += size_bytes;
    return COR_OK;
}

TestSuite(corridor_payment, .init = setup, .fini = teardown);

Test(corridor_payment, commits_both_legs)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cr_assert_eq(cor_ledger_pending_status(world.nodes[0].ledger,
                                           cor_xb_transfer_id(uetr, COR_XB_LEG1_PENDING)),
                 COR_PENDING_STATUS_PENDING);
    cr_assert_eq(settle(2 * NS + 1000), 2);

    cor_xb_payment a = payment(A(), uetr), b = payment(B(), uetr);
    cr_assert_eq(a.state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(b.state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(a.role, COR_XB_ROLE_ORIGIN);
    cr_assert_eq(b.role, COR_XB_ROLE_BENEFICIARY);
    cr_assert_eq(cor_ledger_pending_status(world.nodes[0].ledger,
                                           cor_xb_transfer_id(uetr, COR_XB_LEG1_PENDING)),
                 COR_PENDING_STATUS_POSTED);
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_bank(0, 0)) == 1000000000 - 1000);
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_fx(0, 0)) == 10000000 + 1000);
    cr_assert(xbw_balance(&world.nodes[1], xbw_account_fx(1, 0)) == 10000000 - 500000);
    cr_assert(xbw_balance(&world.nodes[1], xbw_account_bank(1, 1)) == 1000000000 + 500000);
    /* Track: reserved, decision known, posted on A; received and settled on B. */
    cr_assert_eq(a.track_count, 3);
    cr_assert_eq(a.track[0].step, COR_XB_STEP_RESERVED);
    cr_assert_eq(a.track[1].step, COR_XB_STEP_DECISION_KNOWN);
    cr_assert_eq(a.track[1].node, 2);
    cr_assert_eq(a.track[2].step, COR_XB_STEP_POSTED);
    cr_assert_eq(b.track[1].step, COR_XB_STEP_SETTLED);
    cor_xb_stats stats;
    cor_xb_stats_get(A(), &stats);
    cr_assert_eq(stats.open_count, 0);
    cr_assert_eq(stats.conflicts, 0);
    check_ledgers();
}

Test(corridor_payment, rejects_and_voids_when_fx_lacks_funds)
{
    cor_xb_quote q = quote(2 * NS, 30000); /* 15,000,000 IRR > FX's 10,000,000 */
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    uint32_t before = transfers(1);
    settle(2 * NS + 1000);
    cor_xb_payment a = payment(A(), uetr), b = payment(B(), uetr);
    cr_assert_eq(a.state, COR_XB_STATE_REJECTED);
    cr_assert_eq(b.state, COR_XB_STATE_REJECTED);
    cr_assert_eq(a.reason, COR_XB_INSUFFICIENT_FUNDS);
    cr_assert_str_eq(cor_xb_reason_iso(a.reason), "AM04");
    cr_assert_eq(cor_ledger_pending_status(world.nodes[0].ledger,
                                           cor_xb_transfer_id(uetr, COR_XB_LEG1_PENDING)),
                 COR_PENDING_STATUS_VOIDED);
    cr_assert(xbw_balance(&world.nodes[0], xbw_account_bank(0, 0)) == 1000000000);
    cr_assert_eq(transfers(1), before); /* nothing moved on B */
    check_ledgers();
}

Test(corridor_payment, initiation_refusals_move_nothing)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    uint32_t before = transfers(0);
    cr_assert_eq(initiate(2 * NS, 12345, &q), COR_XB_UETR_INVALID);
    cor_xb_quote wrong = q;
    wrong.id += 1000;
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &wrong), COR_XB_QUOTE_UNKNOWN);
    cr_assert_eq(initiate(q.expires_at, xbw_uetr(&rng), &q), COR_XB_QUOTE_EXPIRED);
    cor_xb_payment_request other = {.uetr = xbw_uetr(&rng),
                                    .quote_id = q.id,
                                    .debtor_account = xbw_account_bank(0, 0),
                                    .creditor_account = 5,
                                    .requester = 12};
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_payment_initiate(A(), 2 * NS, &other, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_QUOTE_UNKNOWN); /* another participant's quote */
    other.requester = 11;
    other.debtor_account = 777;
    cr_assert_eq(cor_xb_payment_initiate(A(), 2 * NS, &other, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_DEBTOR_ACCOUNT);
    cr_assert_eq(transfers(0), before);
    cr_assert_eq(cor_xb_outbox_count(A()), 0);

    cor_xb_quote huge = quote(2 * NS, 2000000000); /* more than the bank has */
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &huge), COR_XB_INSUFFICIENT_FUNDS);
    cr_assert_eq(transfers(0), before);

    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK); /* same request: no effect */
    cr_assert_eq(transfers(0), before + 1);
    cor_xb_quote q2 = quote(2 * NS, 1000);
    cr_assert_eq(initiate(2 * NS, uetr, &q2), COR_XB_DUPLICATE);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_QUOTE_USED);
    cr_assert_eq(transfers(0), before + 1);
}

Test(corridor_payment, corridor_limits)
{
    cor_xb_peer limits = {
        .node_id = 2, .ledger = xbw_currency(1), .payment_max_out = 5000, .daily_max_out = 8000};
    cr_assert_eq(cor_xb_peer_add(A(), &limits), COR_OK);
    cor_xb_quote q = quote(2 * NS, 6000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_AMOUNT_ABOVE_MAX);
    cr_assert_str_eq(cor_xb_reason_iso(COR_XB_AMOUNT_ABOVE_MAX), "AM02");
    q = quote(2 * NS, 5000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    settle(2 * NS + 1);
    q = quote(2 * NS, 4000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_DAILY_LIMIT);
    q = quote(86400 * NS, 4000); /* the next day */
    cr_assert_eq(initiate(86400 * NS, xbw_uetr(&rng), &q), COR_XB_OK);

    cor_xb_peer in = {.node_id = 1, .ledger = xbw_currency(0), .payment_max_in = 100000};
    cr_assert_eq(cor_xb_peer_add(B(), &in), COR_OK);
    q = quote(86400 * NS, 1000); /* 500,000 IRR > 100,000 */
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(86400 * NS, uetr, &q), COR_XB_OK);
    settle(86400 * NS + 1);
    cr_assert_eq(payment(A(), uetr).reason, COR_XB_AMOUNT_ABOVE_MAX);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_REJECTED);
}

/* ---- bad peer input: each refused with a reason, nothing moved --------------------------- */

Test(corridor_payment, envelope_refusals)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    cor_xb_message m = take_instruction();
    uint32_t before = transfers(1);

    cor_xb_message bad = m;
    bad.to_node = 3;
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_NOT_ADDRESSEE);
    bad = m;
    bad.from_node = 9; /* not a peer: unknown corridor */
    bad.msg_id = ((cor_u128)9 << 96) | 1;
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_PEER_UNKNOWN);
    bad = m;
    bad.msg_id = ((cor_u128)5 << 96) | 1; /* id outside the sender's namespace */
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_FORMAT);
    bad = m;
    bad.type = 77;
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_FORMAT);
    bad = m;
    bad.uetr = 1;
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_UETR_INVALID);
    bad = m;
    bad.reserved[3] = 1;
    cr_assert_eq(receive(B(), 2 * NS, &bad), COR_XB_FORMAT);
    cr_assert_eq(receive(B(), 2 * NS + 11 * NS, &m), COR_XB_STALE);    /* window is 10 s */
    cr_assert_eq(receive(B(), 2 * NS - 6 * NS / 1, &m), COR_XB_STALE); /* from the future */
    cr_assert_eq(cor_xb_receive(B(), 2 * NS, NULL, &(uint32_t){0}), COR_ERR_INVALID);
    cr_assert_eq(cor_xb_outbox_count(B()), 0);
    cr_assert_eq(transfers(1), before);
    cor_xb_stats stats;
    cor_xb_stats_get(B(), &stats);
    cr_assert_eq(stats.payments_count, 0);
    cr_assert_eq(stats.refusals, 8);

    /* The genuine message is accepted once; its replay is refused and answers nothing. */
    cr_assert_eq(receive(B(), 2 * NS, &m), COR_XB_OK);
    cr_assert_eq(cor_xb_outbox_count(B()), 1);
    cr_assert_eq(receive(B(), 2 * NS + 5, &m), COR_XB_REPLAY);
    cr_assert_eq(cor_xb_outbox_count(B()), 1);
    cr_assert_eq(transfers(1), before + 1);
}

/* Sends a doctored copy of a fresh instruction to B; returns B's answer. */
static cor_xb_message doctored(void (*edit)(cor_xb_message *m), uint64_t at)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    cor_xb_message m = take_instruction();
    edit(&m);
    uint32_t before = transfers(1);
    cr_assert_eq(receive(B(), at, &m), COR_XB_OK);
    cr_assert_eq(transfers(1), before); /* nothing moved */
    cor_xb_message answer = take_answer();
    cr_assert_eq(answer.type, COR_XB_PACS002);
    cr_assert_eq(answer.status, COR_XB_STATUS_RJCT);
    cr_assert(answer.orig_msg_id == m.msg_id);
    cr_assert(answer.uetr == m.uetr);
    cr_assert_eq(payment(B(), m.uetr).state, COR_XB_STATE_REJECTED); /* recorded for good */
    return answer;
}

static void edit_amount(cor_xb_message *m)
{
    m->amount_dest += 1;
}
static void edit_rate(cor_xb_message *m)
{
    m->rate_num += 1;
}
static void edit_currency(cor_xb_message *m)
{
    m->source_ledger = 978;
}
static void edit_fx(cor_xb_message *m)
{
    m->fx_id = 4242;
}
static void edit_deadline_far(cor_xb_message *m)
{
    m->deadline += 3600 * NS;
}
static void edit_creditor(cor_xb_message *m)
{
    m->creditor_account = 31337;
}
static void edit_fee(cor_xb_message *m)
{
    m->fee_source = m->amount_source;
}
static void edit_nothing(cor_xb_message *m)
{
    (void)m;
}

Test(corridor_payment, business_rejections_are_recorded_with_reasons)
{
    cr_assert_eq(doctored(edit_amount, 2 * NS).reason, COR_XB_AMOUNT_MISMATCH);
    cr_assert_eq(doctored(edit_rate, 2 * NS).reason, COR_XB_AMOUNT_MISMATCH);
    cr_assert_eq(doctored(edit_currency, 2 * NS).reason, COR_XB_CURRENCY);
    cr_assert_eq(doctored(edit_fx, 2 * NS).reason, COR_XB_CORRIDOR_UNKNOWN);
    cr_assert_eq(doctored(edit_deadline_far, 2 * NS).reason, COR_XB_DEADLINE_INVALID);
    cr_assert_eq(doctored(edit_creditor, 2 * NS).reason, COR_XB_CREDITOR_ACCOUNT);
    cr_assert_eq(doctored(edit_fee, 2 * NS).reason, COR_XB_FORMAT);
    cor_xb_message late = doctored(edit_nothing, 2 * NS + 3 * NS); /* deadline is 2 s */
    cr_assert_eq(late.reason, COR_XB_DEADLINE_PASSED);
    cr_assert_str_eq(cor_xb_reason_iso(late.reason), "AB05");
    check_ledgers();
}

Test(corridor_payment, dedup_by_uetr)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cor_xb_message first = take_instruction();
    cr_assert_eq(receive(B(), 2 * NS, &first), COR_XB_OK);
    cor_xb_message answer1 = take_answer();
    cr_assert_eq(answer1.status, COR_XB_STATUS_ACSC);
    uint32_t after = transfers(1);

    /* A re-send (new message id, same instruction) gets the same decision, moves nothing. */
    cr_assert_eq(cor_xb_tick(A(), 2 * NS + 100 * 1000000ull, 10), 1);
    cor_xb_message resend = take_instruction();
    cr_assert(resend.msg_id != first.msg_id);
    cr_assert_eq(resend.type, COR_XB_PACS008);
    cr_assert_eq(receive(B(), 2 * NS + 1, &resend), COR_XB_OK);
    cor_xb_message answer2 = take_answer();
    cr_assert_eq(answer2.status, COR_XB_STATUS_ACSC);
    cr_assert(answer2.orig_msg_id == resend.msg_id);
    cr_assert_eq(transfers(1), after);

    /* A different instruction under the same UETR is rejected as a duplicate, unrecorded,
     * and the recorded payment is untouched. */
    cor_xb_message other = resend;
    other.msg_id += 1000;
    other.amount_source += 2;
    cr_assert_eq(receive(B(), 2 * NS + 2, &other), COR_XB_OK);
    cor_xb_message answer3 = take_answer();
    cr_assert_eq(answer3.status, COR_XB_STATUS_RJCT);
    cr_assert_eq(answer3.reason, COR_XB_DUPLICATE);
    cr_assert_eq(payment(B(), uetr).state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(transfers(1), after);

    /* A ignores an answer that does not name its instruction. */
    cr_assert_eq(receive(A(), 2 * NS + 3, &answer3), COR_XB_MISMATCH);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_FORWARDED);
    cr_assert_eq(receive(A(), 2 * NS + 3, &answer1), COR_XB_OK);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(receive(A(), 2 * NS + 4, &answer2), COR_XB_OK); /* late duplicate: no-op */
    cor_xb_stats stats;
    cor_xb_stats_get(A(), &stats);
    cr_assert_eq(stats.conflicts, 0);
    check_ledgers();
}

Test(corridor_payment, never_voids_alone_then_deadline_ends_it)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cor_xb_message lost = take_instruction(); /* the network loses it for now */

    /* B unreachable: A keeps re-sending, then asking, and never decides on its own. */
    uint64_t ts = 2 * NS;
    static cor_xb_message out[64];
    uint32_t pacs028 = 0;
    for (int i = 0; i < 100; i++) {
        ts += 100 * 1000000ull;
        cor_xb_tick(A(), ts, 100);
        uint32_t count = xbw_fsync(&world, 0, out, 64);
        for (uint32_t j = 0; j < count; j++)
            pacs028 += out[j].type == COR_XB_PACS028;
    }
    cr_assert_gt(pacs028, 0);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_FORWARDED);
    cr_assert_eq(cor_ledger_pending_status(world.nodes[0].ledger,
                                           cor_xb_transfer_id(uetr, COR_XB_LEG1_PENDING)),
                 COR_PENDING_STATUS_PENDING);

    /* Network back: the status request after the deadline makes B refuse it for good. */
    cor_xb_tick(A(), ts + NS, 100);
    cor_xb_message ask = take_instruction();
    cr_assert_eq(ask.type, COR_XB_PACS028);
    cr_assert_eq(receive(B(), ts + NS, &ask), COR_XB_OK);
    cor_xb_message answer = take_answer();
    cr_assert_eq(answer.status, COR_XB_STATUS_RJCT);
    cr_assert_eq(answer.reason, COR_XB_DEADLINE_PASSED);
    cr_assert_eq(receive(A(), ts + NS, &answer), COR_XB_OK);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_REJECTED);

    /* The long-lost instruction finally arrives: refused, nothing moved. */
    uint32_t before = transfers(1);
    cr_assert_eq(receive(B(), ts + NS + 1, &lost), COR_XB_STALE);
    lost.created_at = ts + NS; /* even inside the window, with a fresh id */
    lost.msg_id += 500;
    cr_assert_eq(receive(B(), ts + NS + 1, &lost), COR_XB_OK);
    cr_assert_eq(take_answer().status, COR_XB_STATUS_RJCT);
    cr_assert_eq(transfers(1), before);
    check_ledgers();
}

/* The earliest timer is answered from a lower bound kept as timers are set (no walk of the
 * open payments per call); a tick makes it exact again, and a payment closing never makes
 * the answer late. */
Test(corridor_payment, next_timer_is_a_lower_bound_made_exact_by_a_tick)
{
    uint64_t at = 0;
    cr_assert_not(cor_xb_next_timer(A(), &at)); /* nothing open */
    cor_u128 uetrs[3];
    for (uint32_t i = 0; i < 3; i++) {
        uint64_t ts = 2 * NS + i * MS;
        cor_xb_quote q = quote(ts, 1000);
        uetrs[i] = xbw_uetr(&rng);
        cr_assert_eq(initiate(ts, uetrs[i], &q), COR_XB_OK);
    }
    cr_assert(cor_xb_next_timer(A(), &at));
    cr_assert_eq(at, payment(A(), uetrs[0]).next_retry_at); /* the first one's, exactly */
    static cor_xb_message out[16];
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 3);

    /* B commits the first: the bound may stay at its old timer, never after the others' */
    cr_assert_eq(receive(B(), 2 * NS + 3 * MS, &out[0]), COR_XB_OK);
    cor_xb_message answer = take_answer();
    cr_assert_eq(answer.status, COR_XB_STATUS_ACSC);
    cr_assert_eq(receive(A(), 2 * NS + 3 * MS, &answer), COR_XB_OK);
    cr_assert_eq(payment(A(), uetrs[0]).state, COR_XB_STATE_COMMITTED);
    cr_assert(cor_xb_next_timer(A(), &at));
    cr_assert_leq(at, payment(A(), uetrs[1]).next_retry_at);

    /* a tick before anything is due re-sends nothing and makes the answer exact */
    cr_assert_eq(cor_xb_tick(A(), 2 * NS + 4 * MS, 100), 0);
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 0);
    cr_assert(cor_xb_next_timer(A(), &at));
    cr_assert_eq(at, payment(A(), uetrs[1]).next_retry_at);

    /* at that time the tick re-sends the second, backs it off, and the third is next */
    cr_assert_eq(cor_xb_tick(A(), at, 100), 1);
    cr_assert_eq(xbw_fsync(&world, 0, out, 16), 1);
    cr_assert(out[0].uetr == uetrs[1]);
    uint64_t second = payment(A(), uetrs[1]).next_retry_at;
    uint64_t third = payment(A(), uetrs[2]).next_retry_at;
    cr_assert_gt(second, at);
    cr_assert(cor_xb_next_timer(A(), &at));
    cr_assert_eq(at, second < third ? second : third);
}

Test(corridor_payment, status_request_before_deadline_is_pending)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cor_xb_message m = take_instruction();
    m.type = COR_XB_PACS028;
    cr_assert_eq(receive(B(), 2 * NS, &m), COR_XB_OK);
    cor_xb_message answer = take_answer();
    cr_assert_eq(answer.status, COR_XB_STATUS_PDNG);
    cor_xb_payment unused;
    cr_assert_not(cor_xb_payment_lookup(B(), uetr, &unused));
    cr_assert_eq(receive(A(), 2 * NS, &answer), COR_XB_OK);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_FORWARDED);
}

Test(corridor_payment, cancellation)
{
    /* Before B saw it: B cancels for good, A voids. */
    cor_xb_quote q = quote(2 * NS, 1000);
    cor_u128 uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cor_xb_message lost = take_instruction();
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_payment_cancel(A(), 2 * NS, uetr, 99, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_PAYMENT_UNKNOWN); /* not the initiator */
    cr_assert_eq(cor_xb_payment_cancel(A(), 2 * NS, uetr, 11, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cor_xb_message cancel = take_instruction();
    cr_assert_eq(cancel.type, COR_XB_CAMT056);
    cr_assert_eq(receive(B(), 2 * NS, &cancel), COR_XB_OK);
    cor_xb_message answer = take_answer();
    cr_assert_eq(answer.type, COR_XB_CAMT029);
    cr_assert_eq(answer.cancel_status, COR_XB_CANCEL_CNCL);
    cr_assert_eq(receive(A(), 2 * NS, &answer), COR_XB_OK);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(payment(A(), uetr).reason, COR_XB_CANCELLED);
    uint32_t before = transfers(1);
    cr_assert_eq(receive(B(), 2 * NS, &lost), COR_XB_OK);
    cr_assert_eq(take_answer().status, COR_XB_STATUS_RJCT);
    cr_assert_eq(transfers(1), before);
    cr_assert_eq(cor_xb_payment_cancel(A(), 2 * NS, uetr, 11, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_ALREADY_FINAL);

    /* After B settled: the cancellation is refused and A posts. */
    q = quote(2 * NS, 1000);
    uetr = xbw_uetr(&rng);
    cr_assert_eq(initiate(2 * NS, uetr, &q), COR_XB_OK);
    cor_xb_message m = take_instruction();
    cr_assert_eq(receive(B(), 2 * NS, &m), COR_XB_OK);
    (void)take_answer(); /* lost */
    cr_assert_eq(cor_xb_payment_cancel(A(), 2 * NS, uetr, 11, &reason), COR_OK);
    cancel = take_instruction();
    cr_assert_eq(receive(B(), 2 * NS, &cancel), COR_XB_OK);
    answer = take_answer();
    cr_assert_eq(answer.cancel_status, COR_XB_CANCEL_RJCR);
    cr_assert_eq(answer.status, COR_XB_STATUS_ACSC);
    cr_assert_eq(receive(A(), 2 * NS, &answer), COR_XB_OK);
    cr_assert_eq(payment(A(), uetr).state, COR_XB_STATE_COMMITTED);
    check_ledgers();
}

Test(corridor_payment, snapshot_round_trip_and_corruption)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    cor_xb_quote q500 = quote(2 * NS, 500);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q500), COR_XB_OK);
    settle(2 * NS);
    q = quote(3 * NS, 700);
    cr_assert_eq(initiate(3 * NS, xbw_uetr(&rng), &q), COR_XB_OK); /* left open */
    uint64_t a_before = xbw_state_hash(&world, 0);
    uint64_t b_before = xbw_state_hash(&world, 1);
    xbw_fsync(&world, 0, NULL, 0);
    xbw_fsync(&world, 1, NULL, 0);
    xbw_crash(&world, 0);
    xbw_crash(&world, 1);
    cr_assert_eq(xbw_state_hash(&world, 0), a_before);
    cr_assert_eq(xbw_state_hash(&world, 1), b_before);
    cor_xb_stats stats;
    cor_xb_stats_get(A(), &stats);
    cr_assert_eq(stats.open_count, 1);

    /* Corrupt images are refused, never trusted. */
    image.size = 0;
    cr_assert_eq(cor_xb_serialize(A(), image_write, &image), COR_OK);
    cr_assert_gt(image.size, 80);
    cor_xb *restored = NULL;
    image.offset = 0;
    cr_assert_eq(cor_xb_deserialize(&world.nodes[0].xb_options, world.nodes[0].ledger, image_read,
                                    &image, &restored),
                 COR_OK);
    cor_xb_close(restored);

    cor_xb_options other = world.nodes[0].xb_options;
    other.node_id = 5;
    image.offset = 0;
    cr_assert_eq(cor_xb_deserialize(&other, world.nodes[0].ledger, image_read, &image, &restored),
                 COR_ERR_CORRUPT);
    cr_assert_null(restored);
    other = world.nodes[0].xb_options;
    other.payments_max = 1;
    image.offset = 0;
    cr_assert_eq(cor_xb_deserialize(&other, world.nodes[0].ledger, image_read, &image, &restored),
                 COR_ERR_LIMIT);
    image.offset = 0;
    image.size -= 7; /* truncated */
    cr_assert_eq(cor_xb_deserialize(&world.nodes[0].xb_options, world.nodes[0].ledger, image_read,
                                    &image, &restored),
                 COR_ERR_CORRUPT);
    image.size += 7;
    image.bytes[12] ^= 1; /* version */
    image.offset = 0;
    cr_assert_neq(cor_xb_deserialize(&world.nodes[0].xb_options, world.nodes[0].ledger, image_read,
                                     &image, &restored),
                  COR_OK);
    image.bytes[12] ^= 1;
    image.bytes[0] ^= 1; /* magic */
    image.offset = 0;
    cr_assert_eq(cor_xb_deserialize(&world.nodes[0].xb_options, world.nodes[0].ledger, image_read,
                                    &image, &restored),
                 COR_ERR_CORRUPT);
    image.bytes[0] ^= 1;
    /* A payment record with an impossible state. */
    cor_xb_stats s;
    cor_xb_stats_get(A(), &s);
    cr_assert_eq(s.seen_count, 2); /* two answers seen: the seen ring sits last */
    size_t payments_end = image.size - s.seen_count * 32;
    size_t last_state = payments_end - sizeof(cor_xb_payment) + 256 + 16 + 4;
    image.bytes[last_state] = 9;
    image.offset = 0;
    cr_assert_eq(cor_xb_deserialize(&world.nodes[0].xb_options, world.nodes[0].ledger, image_read,
                                    &image, &restored),
                 COR_ERR_CORRUPT);
}

Test(corridor_payment, reconciliation_summaries)
{
    cor_xb_quote q = quote(2 * NS, 1000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    q = quote(2 * NS, 3000);
    cr_assert_eq(initiate(2 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    settle(2 * NS + 10);
    cor_xb_reconcile at_a, at_b;
    uint64_t fx = xbw_fx_id(0);
    cor_xb_reconcile_summary(A(), fx, 1, 2, 0, UINT64_MAX, &at_a);
    cor_xb_reconcile_summary(B(), fx, 1, 2, 0, UINT64_MAX, &at_b);
    cr_assert_eq(at_a.count, 2);
    cr_assert(at_a.amount_source == 4000 && at_a.amount_dest == 2000000);
    cr_assert(memcmp(&at_a, &at_b, sizeof(at_a)) == 0);
    cor_xb_reconcile_summary(A(), fx, 1, 2, 0, 2 * NS, &at_a); /* decided at 2 s + 10 ns */
    cr_assert_eq(at_a.count, 0);
    cor_xb_reconcile_summary(A(), fx, 2, 1, 0, UINT64_MAX, &at_a); /* other direction */
    cr_assert_eq(at_a.count, 0);

    /* B decided, A has not heard yet: the summaries differ until it does. */
    q = quote(3 * NS, 500);
    cr_assert_eq(initiate(3 * NS, xbw_uetr(&rng), &q), COR_XB_OK);
    cor_xb_message m = take_instruction();
    cr_assert_eq(receive(B(), 3 * NS, &m), COR_XB_OK);
    cor_xb_message answer = take_answer();
    cor_xb_reconcile_summary(A(), fx, 1, 2, 0, UINT64_MAX, &at_a);
    cor_xb_reconcile_summary(B(), fx, 1, 2, 0, UINT64_MAX, &at_b);
    cr_assert_eq(at_b.count, 3);
    cr_assert_neq(at_a.digest, at_b.digest);
    cr_assert_eq(receive(A(), 3 * NS, &answer), COR_XB_OK);
    cor_xb_reconcile_summary(A(), fx, 1, 2, 0, UINT64_MAX, &at_a);
    cr_assert(memcmp(&at_a, &at_b, sizeof(at_a)) == 0);
}
