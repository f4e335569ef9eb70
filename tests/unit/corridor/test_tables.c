/*
 * The cross-border core's tables: the hash map against a naive model, allocation failures at
 * open, and full tables (each a reason or PDNG, never a crash and never a lost decision).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/xb_world.h"
#include "common/alloc.h"
#include "corridor/xb_internal.h"

#define NS 1000000000ull

Test(corridor_tables, map_matches_a_naive_model)
{
    enum { KEYS = 48 };
    static cor_u128 keys[KEYS]; /* the records the index points into */
    bool present[KEYS];
    memset(present, 0, sizeof(present));
    uint64_t rng = 5;
    for (uint32_t i = 0; i < KEYS; i++) {
        keys[i] = ((cor_u128)xbw_rand(&rng) << 64) | i;
        if (i % 4 == 0) keys[i] = keys[0] + ((cor_u128)i << 64); /* same low half */
    }
    xb_map map;
    /* 16 slots for at most 8 keys: long probe runs and wrap-around. */
    cr_assert_eq(cor__xb_map_init(&map, 8, 3, keys, sizeof(cor_u128), 0), COR_OK);
    uint32_t live = 0;
    for (int step = 0; step < 200000; step++) {
        uint32_t k = (uint32_t)(xbw_rand(&rng) % KEYS);
        uint32_t value = 0;
        bool found = cor__xb_map_find(&map, keys[k], &value);
        cr_assert_eq(found, present[k]);
        if (found) cr_assert_eq(value, k);
        if (present[k]) {
            cor__xb_map_remove(&map, keys[k]);
            present[k] = false;
            live--;
        } else if (live < 8) {
            cor__xb_map_insert(&map, keys[k], k);
            present[k] = true;
            live++;
        }
    }
    for (uint32_t k = 0; k < KEYS; k++) {
        uint32_t value = 0;
        cr_assert_eq(cor__xb_map_find(&map, keys[k], &value), present[k]);
    }
    cor__xb_map_release(&map);
}

Test(corridor_tables, open_survives_every_allocation_failure)
{
    cor_ledger_options lo = {.accounts_max = 4, .transfers_max = 16, .pending_transfers_max = 16};
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&lo, &ledger), COR_OK);
    cor_xb_options o;
    cor_xb_options_default(&o, 1, 643);
    for (uint64_t n = 1; n < 64; n++) {
        cor_xb *xb = (cor_xb *)1;
        cor_alloc_fail_after(n);
        cor_error rc = cor_xb_open(&o, ledger, &xb);
        cor_alloc_fail_after(0);
        if (rc == COR_OK) {
            cr_assert_gt(n, 5); /* it did allocate several tables */
            cor_xb_close(xb);
            break;
        }
        cr_assert_eq(rc, COR_ERR_NOMEM);
        cr_assert_null(xb);
    }
    cor_xb *xb = NULL;
    o.node_id = 0;
    cr_assert_eq(cor_xb_open(&o, ledger, &xb), COR_ERR_INVALID);
    cor_xb_options_default(&o, 1, 643);
    o.retry_max_ns = o.retry_initial_ns - 1;
    cr_assert_eq(cor_xb_open(&o, ledger, &xb), COR_ERR_INVALID);
    cor_xb_options_default(&o, 1, 643);
    cr_assert_eq(cor_xb_open(&o, NULL, &xb), COR_ERR_INVALID);
    cr_assert_eq(cor_xb_open(NULL, ledger, &xb), COR_ERR_INVALID);
    cor_xb_close(NULL);
    cor_ledger_close(ledger);
}

Test(corridor_tables, configuration_errors)
{
    xbw_world world;
    xbw_config config;
    xbw_config_default(&config);
    xbw_open(&world, &config, NS);
    cor_xb *xb = world.nodes[0].xb;
    cor_xb_peer self = {.node_id = 1, .ledger = 364};
    cr_assert_eq(cor_xb_peer_add(xb, &self), COR_ERR_INVALID);
    cor_xb_peer same_currency = {.node_id = 5, .ledger = 643};
    cr_assert_eq(cor_xb_peer_add(xb, &same_currency), COR_ERR_INVALID);
    cor_xb_peer moved = {.node_id = 2, .ledger = 978};
    cr_assert_eq(cor_xb_peer_add(xb, &moved), COR_ERR_INVALID); /* a corridor's currency stays */
    cor_xb_fx no_peer = {.account_id = 5, .fx_id = 1, .peer_node = 9};
    cr_assert_eq(cor_xb_fx_add(xb, &no_peer), COR_ERR_INVALID);
    cor_xb_fx no_account = {.account_id = 0, .fx_id = 1, .peer_node = 2};
    cr_assert_eq(cor_xb_fx_add(xb, &no_account), COR_ERR_INVALID);
    for (uint32_t i = 0; i < world.nodes[0].xb_options.peers_max; i++) {
        cor_xb_peer peer = {.node_id = 100 + i, .ledger = 1000 + i};
        cor_error rc = cor_xb_peer_add(xb, &peer);
        cr_assert(rc == COR_OK || rc == COR_ERR_LIMIT);
    }
    cor_xb_peer one_more = {.node_id = 999, .ledger = 999};
    cr_assert_eq(cor_xb_peer_add(xb, &one_more), COR_ERR_LIMIT);
    xbw_close(&world);
}

/* B out of room for decisions: it answers PDNG (nothing recorded) and A keeps the payment
 * open and reserved, never deciding alone. */
Test(corridor_tables, full_beneficiary_answers_pending)
{
    xbw_world world;
    xbw_config config;
    xbw_config_default(&config);
    config.payments_max = 1;
    xbw_open(&world, &config, NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 0, 0, NS), COR_XB_OK);
    cr_assert_eq(xbw_publish(&world, 1, 0, 0, 1, 500, 0, 0, NS), COR_XB_OK);
    uint64_t rng = 3;
    cor_xb_message out[8];

    /* Node B's single slot goes to a payment it originates. */
    cor_xb_quote_request qb = {
        .amount = 5000, .requester = 1, .peer_node = 1, .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote quote;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[1].xb, NS, &qb, &quote, 1, &count, &reason),
                 COR_OK);
    cor_xb_payment_request pb = {.uetr = xbw_uetr(&rng),
                                 .quote_id = quote.id,
                                 .debtor_account = xbw_account_bank(1, 0),
                                 .creditor_account = xbw_account_bank(0, 0),
                                 .requester = 1};
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[1].xb, NS, &pb, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[1].xb, NS, &pb, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK); /* the repeat needs no room */
    pb.uetr = xbw_uetr(&rng);
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[1].xb, NS, &pb, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_QUOTE_USED);

    /* A sends one; B has no room left to record a decision. */
    cor_xb_quote_request qa = {
        .amount = 100, .requester = 1, .peer_node = 2, .fixed = COR_XB_FIXED_SOURCE};
    cr_assert_eq(cor_xb_quote_issue(world.nodes[0].xb, NS, &qa, &quote, 1, &count, &reason),
                 COR_OK);
    cor_xb_payment_request pa = {.uetr = xbw_uetr(&rng),
                                 .quote_id = quote.id,
                                 .debtor_account = xbw_account_bank(0, 0),
                                 .creditor_account = xbw_account_bank(1, 0),
                                 .requester = 1};
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[0].xb, NS, &pa, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(xbw_fsync(&world, 0, out, 8), 1);
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, NS, &out[0], &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_fsync(&world, 1, NULL, 0); /* B's PDNG answer is lost, as on a lossy network */
    cor_xb_payment unused;
    cr_assert_not(cor_xb_payment_lookup(world.nodes[1].xb, pa.uetr, &unused));

    /* Answer PDNG reaches A: still open, still reserved, after the deadline too. */
    cr_assert_eq(cor_xb_tick(world.nodes[0].xb, 5 * NS, 10), 1);
    cr_assert_eq(xbw_fsync(&world, 0, out, 8), 1);
    cr_assert_eq(out[0].type, COR_XB_PACS028);
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, 5 * NS, &out[0], &reason), COR_OK);
    cr_assert_eq(xbw_fsync(&world, 1, out, 8), 1);
    cr_assert_eq(out[0].status, COR_XB_STATUS_PDNG);
    cr_assert_eq(out[0].reason, COR_XB_BUSY);
    cr_assert_eq(cor_xb_receive(world.nodes[0].xb, 5 * NS, &out[0], &reason), COR_OK);
    cor_xb_payment a;
    cr_assert(cor_xb_payment_lookup(world.nodes[0].xb, pa.uetr, &a));
    cr_assert_eq(a.state, COR_XB_STATE_FORWARDED);
    cr_assert_eq(cor_ledger_pending_status(world.nodes[0].ledger,
                                           cor_xb_transfer_id(pa.uetr, COR_XB_LEG1_PENDING)),
                 COR_PENDING_STATUS_PENDING);
    xbw_close(&world);
}

/* A full outbox refuses new work with BUSY and moves nothing; the timer waits for room. */
Test(corridor_tables, full_outbox)
{
    xbw_world world;
    xbw_config config;
    xbw_config_default(&config);
    xbw_open(&world, &config, NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 0, 0, NS), COR_XB_OK);
    cor_xb *xb = world.nodes[0].xb;
    uint32_t room = world.nodes[0].xb_options.outbox_max;
    uint64_t rng = 4;
    uint32_t accepted = 0, busy = 0;
    for (uint32_t i = 0; i < room + 5; i++) {
        cor_xb_quote_request q = {
            .amount = 10, .requester = 1, .peer_node = 2, .fixed = COR_XB_FIXED_SOURCE};
        cor_xb_quote quote;
        uint32_t count = 0, reason = 0;
        cr_assert_eq(cor_xb_quote_issue(xb, NS, &q, &quote, 1, &count, &reason), COR_OK);
        if (count == 0) break; /* the quote ring is smaller than the outbox */
        cor_xb_payment_request p = {.uetr = xbw_uetr(&rng),
                                    .quote_id = quote.id,
                                    .debtor_account = xbw_account_bank(0, 0),
                                    .creditor_account = xbw_account_bank(1, 0),
                                    .requester = 1};
        cr_assert_eq(cor_xb_payment_initiate(xb, NS, &p, &reason), COR_OK);
        accepted += reason == COR_XB_OK;
        busy += reason == COR_XB_BUSY;
    }
    cr_assert_eq(accepted, room);
    cr_assert_gt(busy, 0);
    cr_assert_eq(cor_xb_outbox_count(xb), room);
    cr_assert_eq(cor_xb_tick(xb, 10 * NS, 100), 0); /* nothing fits: nothing handled */
    cor_xb_outbox_clear(xb);
    cr_assert_eq(cor_xb_tick(xb, 10 * NS, 100), 100);
    cor_ledger_stats stats;
    cor_ledger_stats_get(world.nodes[0].ledger, &stats);
    cr_assert_eq(stats.pending_transfers_count, room);
    xbw_close(&world);
}
