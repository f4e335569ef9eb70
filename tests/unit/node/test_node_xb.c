/*
 * The corridor inside the node state (src/node/node_xb.c), without processes: two node
 * states (RU 643 in RUB, IR 364 in IRR) driven by journaled commands, with the test ferrying
 * each apply's outbox to the other side as RECEIVE commands. Checks the node's own rules
 * around the protocol core (who may do what, leg checks, per-participant limits), that a
 * replay of the same payloads gives byte-identical state, and that snapshots round trip.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "node/node_state.h"

#define PAYLOAD_MAX (1u << 20)
#define RU          643u
#define IR          364u
#define NS          1000000000ull
#define T0          (1795000000ull * NS)

typedef struct payload {
    uint8_t bytes[PAYLOAD_MAX];
    size_t size;
    uint32_t events;
} payload;

/* One node: its state and the log of every payload applied (to replay). */
typedef struct node {
    cor_node_state *state;
    uint32_t id;
    uint64_t clock;
    uint8_t *log; /* [size, timestamp, bytes] records */
    size_t log_size;
    cor_node_result results[64];
} node;

static payload scratch;

static void add(payload *p, uint16_t type, uint32_t events, uint32_t key_id, uint32_t participant,
                const void *body, size_t body_size)
{
    cor_node_command_header h = {.type = type,
                                 .event_count = events,
                                 .body_size_bytes = (uint32_t)body_size,
                                 .key_id = key_id,
                                 .participant = participant};
    memcpy(p->bytes + p->size, &h, sizeof(h));
    p->size += sizeof(h);
    if (body_size > 0) memcpy(p->bytes + p->size, body, body_size);
    size_t padded = (body_size + 15u) & ~(size_t)15u;
    memset(p->bytes + p->size + body_size, 0, padded - body_size);
    p->size += padded;
    p->events += events;
}

static cor_node_state *state_open(uint32_t id, uint64_t seed)
{
    cor_node_state_options options = {.ledger = id,
                                      .node_id = id,
                                      .payments_max = 1024,
                                      .ledger_accounts_max = 64,
                                      .ledger_transfers_max = 1024,
                                      .xb_quotes_max = 256,
                                      .hash_seed = seed};
    cor_node_state *state = NULL;
    cr_assert_eq(cor_node_state_open(&options, &state), COR_OK);
    return state;
}

/* Applies p (copying it to the node's log) and ferries the outbox to peer, recursively,
 * until both outboxes are empty. */
static void apply(node *n, node *peer, payload *p);

static void ferry(node *from, node *to)
{
    const cor_xb *xb = cor_node_state_xb(from->state);
    uint32_t count = cor_xb_outbox_count(xb);
    if (count == 0 || to == NULL) return;
    static payload messages[4];
    static int depth = 0;
    cr_assert(depth < 4);
    payload *m = &messages[depth++];
    memset(m, 0, sizeof(*m));
    cor_node_cmd_xb_receive *cmds = calloc(count, sizeof(*cmds));
    for (uint32_t i = 0; i < count; i++)
        cmds[i].message = *cor_xb_outbox_at(xb, i);
    add(m, COR_NODE_CMD_XB_RECEIVE, count, 0, 0, cmds, count * sizeof(*cmds));
    free(cmds);
    apply(to, from, m);
    depth--;
}

static void apply(node *n, node *peer, payload *p)
{
    n->clock += 1000000; /* 1 ms per batch */
    uint64_t at = n->clock;
    n->log = realloc(n->log, n->log_size + 16 + p->size);
    uint64_t size = p->size;
    memcpy(n->log + n->log_size, &size, 8);
    memcpy(n->log + n->log_size + 8, &at, 8);
    memcpy(n->log + n->log_size + 16, p->bytes, p->size);
    n->log_size += 16 + p->size;
    cr_assert_leq(p->events, 64u);
    cr_assert_eq(cor_node_state_apply(n->state, at, p->bytes, p->size, n->results, 64), COR_OK);
    ferry(n, peer);
}

static void participant(payload *p, const char *bic, uint8_t role)
{
    cor_node_cmd_participant_create cmd = {
        .role = role, .name_length = 4, .bic_length = (uint8_t)strlen(bic)};
    memcpy(cmd.name, "Bank", 4);
    memcpy(cmd.bic, bic, strlen(bic));
    add(p, COR_NODE_CMD_PARTICIPANT_CREATE, 1, 0, 0, &cmd, sizeof(cmd));
}

static void key(payload *p, uint32_t owner)
{
    cor_node_cmd_key_add cmd = {.kind = COR_NODE_KEY_PARTICIPANT, .participant = owner};
    memset(cmd.hash, (int)owner, sizeof(cmd.hash));
    add(p, COR_NODE_CMD_KEY_ADD, 1, 0, 0, &cmd, sizeof(cmd));
}

static void fund(payload *p, uint32_t owner, uint64_t id, cor_u128 amount)
{
    cor_node_cmd_funding cmd = {.amount = amount,
                                .funding_id = id,
                                .participant = owner,
                                .direction = COR_NODE_FUNDING_CREDIT};
    add(p, COR_NODE_CMD_FUNDING, 1, 0, 0, &cmd, sizeof(cmd));
}

/*
 * Each node: 1 bank (key 1), 2 fx provider (key 2), 3 bank (key 3). Peers both ways, fx id 9
 * mapped to participant 2 on both; RU's fx publishes RUB->IRR at 485/1, IR's IRR->RUB at 1/500.
 */
static void setup(node *ru, node *ir, uint64_t seed)
{
    memset(ru, 0, sizeof(*ru));
    memset(ir, 0, sizeof(*ir));
    ru->state = state_open(RU, seed);
    ir->state = state_open(IR, seed ^ 0x5555);
    ru->id = RU;
    ir->id = IR;
    ru->clock = T0;
    ir->clock = T0 + 2 * NS; /* clocks need not agree, within the skew (5 s) */
    node *both[2] = {ru, ir};
    for (int i = 0; i < 2; i++) {
        node *n = both[i];
        payload *p = &scratch;
        memset(p, 0, sizeof(*p));
        participant(p, i == 0 ? "AAAARUMM" : "AAAAIRTH", COR_NODE_ROLE_BANK);
        participant(p, i == 0 ? "FXFXRUMM" : "FXFXIRTH", COR_NODE_ROLE_FX_PROVIDER);
        participant(p, i == 0 ? "CCCCRUMM" : "CCCCIRTH", COR_NODE_ROLE_BANK);
        key(p, 1);
        key(p, 2);
        key(p, 3);
        fund(p, 1, 1, i == 0 ? 1000000 : 1000000000);
        fund(p, 2, 2, i == 0 ? 1000000 : 100000000);
        cor_xb_peer peer = {.node_id = i == 0 ? IR : RU, .ledger = i == 0 ? IR : RU};
        add(p, COR_NODE_CMD_XB_PEER, 1, 0, 0, &peer, sizeof(peer));
        cor_node_cmd_xb_fx fx = {.fx_id = 9, .participant = 2, .peer_node = i == 0 ? IR : RU};
        add(p, COR_NODE_CMD_XB_FX, 1, 0, 0, &fx, sizeof(fx));
        apply(n, NULL, p);
        for (uint32_t r = 0; r < p->events; r++) {
            cr_assert(n->results[r].code == COR_NODE_CREATED || n->results[r].code == COR_NODE_OK,
                      "setup event %u: %s", r, cor_node_code_name(n->results[r].code));
        }
        memset(p, 0, sizeof(*p));
        cor_xb_rate rate = {.amount_min = 1,
                            .amount_max = 1000000000,
                            .peer_node = i == 0 ? IR : RU,
                            .rate_num = i == 0 ? 485 : 1,
                            .rate_den = i == 0 ? 1 : 500,
                            .valid_from = T0 - NS,
                            .valid_until = T0 + 3600 * NS};
        add(p, COR_NODE_CMD_XB_RATE, 1, 2, 2, &rate, sizeof(rate));
        apply(n, NULL, p);
        cr_assert_eq(n->results[0].code, COR_NODE_CREATED);
    }
}

static void teardown(node *ru, node *ir)
{
    cor_node_state_close(ru->state);
    cor_node_state_close(ir->state);
    free(ru->log);
    free(ir->log);
}

/* A quote for caller (key = participant id) towards peer; returns its id. */
static cor_u128 quote(node *n, uint32_t caller, uint32_t peer, cor_u128 source)
{
    payload *p = &scratch;
    memset(p, 0, sizeof(*p));
    cor_xb_quote_request request = {
        .amount = source, .peer_node = peer, .fixed = COR_XB_FIXED_SOURCE};
    add(p, COR_NODE_CMD_XB_QUOTES, 1, caller, caller, &request, sizeof(request));
    apply(n, NULL, p);
    cr_assert_eq(n->results[0].code, COR_NODE_CREATED, "quote: %s reason %u",
                 cor_node_code_name(n->results[0].code), n->results[0].ledger);
    return ((cor_u128)n->id << 96) | n->results[0].value;
}

static cor_u128 uetr_of(uint32_t i)
{
    /* version 4, variant 10 */
    return ((cor_u128)0x1234567800004000ull << 64) | (0x8000000000000000ull | i);
}

/* Pays: returns the result on the origin after the whole exchange settled. */
static cor_node_result pay(node *origin, node *beneficiary, uint32_t caller, cor_u128 quote_id,
                           cor_u128 uetr, uint32_t creditor, const char *creditor_name)
{
    payload *p = &scratch;
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_payment cmd = {
        .uetr = uetr, .quote_id = quote_id, .creditor_account = cor_node_settlement_id(creditor)};
    if (creditor_name != NULL) {
        cmd.creditor_name_length = (uint8_t)strlen(creditor_name);
        memcpy(cmd.creditor_name, creditor_name, cmd.creditor_name_length);
    }
    add(p, COR_NODE_CMD_XB_PAYMENTS, 1, caller, caller, &cmd, sizeof(cmd));
    cor_node_result result;
    origin->clock += 1000000;
    uint64_t at = origin->clock;
    cr_assert_eq(cor_node_state_apply(origin->state, at, p->bytes, p->size, &result, 1), COR_OK);
    /* log it for the replay check */
    origin->log = realloc(origin->log, origin->log_size + 16 + p->size);
    uint64_t size = p->size;
    memcpy(origin->log + origin->log_size, &size, 8);
    memcpy(origin->log + origin->log_size + 8, &at, 8);
    memcpy(origin->log + origin->log_size + 16, p->bytes, p->size);
    origin->log_size += 16 + p->size;
    ferry(origin, beneficiary);
    return result;
}

static cor_xb_payment lookup(node *n, cor_u128 uetr)
{
    cor_xb_payment p;
    cr_assert(cor_xb_payment_lookup(cor_node_state_xb(n->state), uetr, &p));
    return p;
}

static cor_node_balance balance(node *n, uint32_t participant)
{
    cor_node_balance b;
    cr_assert(cor_node_state_balance(n->state, participant, &b));
    return b;
}

typedef struct blob {
    uint8_t *bytes;
    size_t size;
    size_t read;
} blob;

static cor_error blob_write(void *context, const void *bytes, size_t size)
{
    blob *b = context;
    b->bytes = realloc(b->bytes, b->size + size);
    memcpy(b->bytes + b->size, bytes, size);
    b->size += size;
    return COR_OK;
}

static cor_error blob_read(void *context, void *bytes, size_t size)
{
    blob *b = context;
    if (size > b->size - b->read) return COR_ERR_CORRUPT;
    memcpy(bytes, b->bytes + b->read, size);
    b->read += size;
    return COR_OK;
}

static blob serialize(cor_node_state *state)
{
    blob b = {0};
    cr_assert_eq(cor_node_state_serialize(state, blob_write, &b), COR_OK);
    return b;
}

/* Replays a node's log into a fresh state with another hash seed. */
static cor_node_state *replay(const node *n, uint64_t seed)
{
    cor_node_state *state = state_open(n->id, seed);
    for (size_t at = 0; at < n->log_size;) {
        uint64_t size;
        uint64_t timestamp;
        memcpy(&size, n->log + at, 8);
        memcpy(&timestamp, n->log + at + 8, 8);
        cr_assert_eq(cor_node_state_apply(state, timestamp, n->log + at + 16, size, NULL, 0),
                     COR_OK);
        at += 16 + size;
    }
    return state;
}

Test(node_xb, payment_settles_on_both_and_replays_identically)
{
    node ru, ir;
    setup(&ru, &ir, 1);
    cor_u128 q = quote(&ru, 1, IR, 100000);
    cor_node_result r = pay(&ru, &ir, 1, q, uetr_of(1), 3, NULL);
    cr_assert_eq(r.code, COR_NODE_CREATED);
    cor_xb_payment a = lookup(&ru, uetr_of(1));
    cor_xb_payment b = lookup(&ir, uetr_of(1));
    cr_assert_eq(a.state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(b.state, COR_XB_STATE_COMMITTED);
    cr_assert(a.instruction.amount_source == 100000);
    cr_assert(a.instruction.amount_dest == b.instruction.amount_dest);
    /* Leg 1: bank 1 -> fx 2 on RU; leg 2: fx 2 -> bank 3 on IR. */
    cr_assert(balance(&ru, 1).debits_posted == 100000 && balance(&ru, 1).debits_pending == 0);
    cr_assert(balance(&ru, 2).credits_posted == 1000000 + 100000);
    cr_assert(balance(&ir, 3).credits_posted == a.instruction.amount_dest);
    cr_assert(balance(&ir, 2).debits_posted == a.instruction.amount_dest);

    /* The same journal, another hash seed: the same bytes. A snapshot round trips. */
    blob one = serialize(ru.state);
    cor_node_state *again = replay(&ru, 0xabcdef);
    blob two = serialize(again);
    cr_assert_eq(one.size, two.size);
    cr_assert_eq(memcmp(one.bytes, two.bytes, one.size), 0, "replay differs");
    cor_node_state_options options;
    cor_node_state_options_get(ru.state, &options);
    options.hash_seed = 99;
    cor_node_state *loaded = NULL;
    cr_assert_eq(cor_node_state_deserialize(&options, blob_read, &one, &loaded), COR_OK);
    blob three = serialize(loaded);
    cr_assert_eq(three.size, one.size);
    cr_assert_eq(memcmp(three.bytes, one.bytes, one.size), 0, "snapshot round trip differs");
    cor_xb_payment c;
    cr_assert(cor_xb_payment_lookup(cor_node_state_xb(loaded), uetr_of(1), &c));
    cr_assert_eq(c.state, COR_XB_STATE_COMMITTED);

    /* Another node id in the options: refused, not half-loaded. */
    one.read = 0;
    options.node_id = 999;
    cor_node_state *wrong = NULL;
    cr_assert_eq(cor_node_state_deserialize(&options, blob_read, &one, &wrong), COR_ERR_CORRUPT);
    cr_assert_null(wrong);
    cor_node_state_close(again);
    cor_node_state_close(loaded);
    free(one.bytes);
    free(two.bytes);
    free(three.bytes);
    teardown(&ru, &ir);
}

Test(node_xb, node_rules_around_the_legs)
{
    node ru, ir;
    setup(&ru, &ir, 2);
    /* The debtor cannot afford it (bank 3 on RU has no money): refused at the origin. */
    cor_u128 q = quote(&ru, 3, IR, 5000);
    cor_node_result r = pay(&ru, &ir, 3, q, uetr_of(2), 1, NULL);
    cr_assert_eq(r.code, COR_NODE_XB_REFUSED);
    cr_assert_eq(r.ledger, COR_XB_INSUFFICIENT_FUNDS);
    cr_assert(balance(&ru, 3).debits_pending == 0);

    /* A creditor that is not a participant's account (the issuance account, an unknown id)
     * is rejected by the beneficiary; leg 1 is voided. */
    q = quote(&ru, 1, IR, 1000);
    payload *p = &scratch;
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_payment cmd = {
        .uetr = uetr_of(3), .quote_id = q, .creditor_account = COR_NODE_ISSUANCE_ID};
    add(p, COR_NODE_CMD_XB_PAYMENTS, 1, 1, 1, &cmd, sizeof(cmd));
    apply(&ru, &ir, p);
    cr_assert_eq(lookup(&ir, uetr_of(3)).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(&ir, uetr_of(3)).reason, COR_XB_CREDITOR_ACCOUNT);
    cr_assert_eq(lookup(&ru, uetr_of(3)).state, COR_XB_STATE_REJECTED);
    cr_assert(balance(&ru, 1).debits_pending == 0 && balance(&ru, 1).debits_posted == 0);
    cr_assert(balance(&ir, 2).debits_posted == 0);

    /* The FX provider cannot pay leg 2 beyond its funds: B rejects with AM04. */
    q = quote(&ru, 1, IR, 900000); /* 485 x 900000 rials > the 1e8 the provider holds */
    r = pay(&ru, &ir, 1, q, uetr_of(4), 3, NULL);
    cr_assert_eq(r.code, COR_NODE_CREATED);
    cr_assert_eq(lookup(&ir, uetr_of(4)).reason, COR_XB_INSUFFICIENT_FUNDS);
    cr_assert_eq(lookup(&ru, uetr_of(4)).state, COR_XB_STATE_REJECTED);
    cr_assert(balance(&ru, 1).debits_pending == 0);

    /* A suspended creditor bank is not paid. */
    memset(p, 0, sizeof(*p));
    cor_node_cmd_participant_status suspend = {.participant = 3,
                                               .status = COR_NODE_PARTICIPANT_SUSPENDED};
    add(p, COR_NODE_CMD_PARTICIPANT_STATUS, 1, 0, 0, &suspend, sizeof(suspend));
    apply(&ir, NULL, p);
    q = quote(&ru, 1, IR, 1000);
    pay(&ru, &ir, 1, q, uetr_of(5), 3, NULL);
    cr_assert_eq(lookup(&ir, uetr_of(5)).reason, COR_XB_ACCOUNT_CLOSED);

    /* Only an fx provider publishes rates; a bank's rate is refused. */
    memset(p, 0, sizeof(*p));
    cor_xb_rate rate = {.amount_min = 1,
                        .amount_max = 10,
                        .peer_node = IR,
                        .rate_num = 1,
                        .rate_den = 1,
                        .valid_from = T0,
                        .valid_until = T0 + NS};
    add(p, COR_NODE_CMD_XB_RATE, 1, 1, 1, &rate, sizeof(rate));
    apply(&ru, NULL, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_NOT_FX_PROVIDER);

    /* A participant cannot configure peers (operator commands need key 0). */
    memset(p, 0, sizeof(*p));
    cor_xb_peer peer = {.node_id = 5, .ledger = 5};
    add(p, COR_NODE_CMD_XB_PEER, 1, 1, 1, &peer, sizeof(peer));
    apply(&ru, NULL, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_KEY_REVOKED);

    /* Nobody but the bank that was paid may return a payment. */
    q = quote(&ir, 1, RU, 1000);
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_return ret = {.request = {.uetr = uetr_of(6),
                                              .original_uetr = uetr_of(1),
                                              .quote_id = q,
                                              .reason = COR_XB_RETURN_CUSTOMER}};
    add(p, COR_NODE_CMD_XB_RETURN, 1, 1, 1, &ret, sizeof(ret));
    apply(&ir, &ru, p);
    cr_assert_eq(ir.results[0].code, COR_NODE_XB_REFUSED);
    cr_assert_eq(ir.results[0].ledger, COR_XB_RETURN_INVALID);
    teardown(&ru, &ir);
}

Test(node_xb, participant_limits_and_holds)
{
    node ru, ir;
    setup(&ru, &ir, 3);
    payload *p = &scratch;
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_limits limits = {.payment_max = 5000, .daily_max = 8000, .participant = 1};
    add(p, COR_NODE_CMD_XB_LIMITS, 1, 0, 0, &limits, sizeof(limits));
    apply(&ru, NULL, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_OK);

    cor_node_result r = pay(&ru, &ir, 1, quote(&ru, 1, IR, 6000), uetr_of(10), 3, NULL);
    cr_assert_eq(r.ledger, COR_XB_AMOUNT_ABOVE_MAX);
    r = pay(&ru, &ir, 1, quote(&ru, 1, IR, 5000), uetr_of(11), 3, NULL);
    cr_assert_eq(r.code, COR_NODE_CREATED);
    /* The same request again is a duplicate and does not count twice. */
    r = pay(&ru, &ir, 1, lookup(&ru, uetr_of(11)).instruction.quote_id, uetr_of(11), 3, NULL);
    cr_assert_eq(r.code, COR_NODE_EXISTS);
    r = pay(&ru, &ir, 1, quote(&ru, 1, IR, 3000), uetr_of(12), 3, NULL);
    cr_assert_eq(r.code, COR_NODE_CREATED);
    r = pay(&ru, &ir, 1, quote(&ru, 1, IR, 1), uetr_of(13), 3, NULL);
    cr_assert_eq(r.ledger, COR_XB_DAILY_LIMIT);

    /* IR -> RU: the payment, flagged by RU's screening, is held on RU and still forwarded
     * on IR; RU's operator rejects it: RR04 on both, leg 1 voided on IR. */
    memset(p, 0, sizeof(*p));
    cor_u128 q = quote(&ir, 1, RU, 1000);
    cor_node_cmd_xb_payment cmd = {
        .uetr = uetr_of(20), .quote_id = q, .creditor_account = cor_node_settlement_id(3)};
    add(p, COR_NODE_CMD_XB_PAYMENTS, 1, 1, 1, &cmd, sizeof(cmd));
    apply(&ir, NULL, p); /* not ferried: we deliver it by hand with the hold flag */
    const cor_xb *xb = cor_node_state_xb(ir.state);
    cr_assert_eq(cor_xb_outbox_count(xb), 1u);
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_receive received = {.message = *cor_xb_outbox_at(xb, 0),
                                        .flags = COR_XB_RECEIVE_HOLD};
    add(p, COR_NODE_CMD_XB_RECEIVE, 1, 0, 0, &received, sizeof(received));
    apply(&ru, &ir, p);
    cr_assert_eq(lookup(&ru, uetr_of(20)).state, COR_XB_STATE_HELD);
    cr_assert_eq(lookup(&ir, uetr_of(20)).state, COR_XB_STATE_FORWARDED);
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_hold hold = {.uetr = uetr_of(20), .action = COR_NODE_XB_REJECT};
    add(p, COR_NODE_CMD_XB_HOLD, 1, 1, 1, &hold, sizeof(hold)); /* a participant: refused */
    apply(&ru, &ir, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_KEY_REVOKED);
    memset(p, 0, sizeof(*p));
    add(p, COR_NODE_CMD_XB_HOLD, 1, 0, 0, &hold, sizeof(hold));
    apply(&ru, &ir, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_OK);
    cr_assert_eq(ru.results[0].ledger, COR_XB_REGULATORY);
    cr_assert_eq(lookup(&ru, uetr_of(20)).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(&ir, uetr_of(20)).state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(&ir, uetr_of(20)).reason, COR_XB_REGULATORY);
    cr_assert(balance(&ir, 1).debits_pending == 0);
    /* Deciding again: not held any more. */
    apply(&ru, &ir, p);
    cr_assert_eq(ru.results[0].code, COR_NODE_XB_REFUSED);
    cr_assert_eq(ru.results[0].ledger, COR_XB_NOT_HELD);

    blob one = serialize(ru.state);
    cor_node_state *again = replay(&ru, 42);
    blob two = serialize(again);
    cr_assert_eq(one.size, two.size);
    cr_assert_eq(memcmp(one.bytes, two.bytes, one.size), 0);
    cor_node_state_close(again);
    free(one.bytes);
    free(two.bytes);
    teardown(&ru, &ir);
}

Test(node_xb, malformed_corridor_commands_are_refused_whole)
{
    node ru, ir;
    setup(&ru, &ir, 4);
    payload *p = &scratch;
    memset(p, 0, sizeof(*p));
    cor_node_cmd_xb_payment cmd = {.uetr = uetr_of(30), .debtor_name_length = 141};
    add(p, COR_NODE_CMD_XB_PAYMENTS, 1, 1, 1, &cmd, sizeof(cmd));
    cr_assert_eq(cor_node_payload_events(p->bytes, p->size), 0u);
    memset(p, 0, sizeof(*p));
    add(p, COR_NODE_CMD_XB_TICK, 2, 0, 0, NULL, 0);
    cr_assert_eq(cor_node_payload_events(p->bytes, p->size), 0u);
    memset(p, 0, sizeof(*p));
    cor_xb_peer peer = {0};
    add(p, COR_NODE_CMD_XB_PEER, 1, 0, 0, &peer, sizeof(peer) - 16);
    cr_assert_eq(cor_node_payload_events(p->bytes, p->size), 0u);
    memset(p, 0, sizeof(*p));
    add(p, 99, 1, 0, 0, NULL, 0);
    cr_assert_eq(cor_node_payload_events(p->bytes, p->size), 0u);
    cr_assert_eq(cor_node_state_apply(ru.state, T0, p->bytes, p->size, NULL, 0), COR_ERR_CORRUPT);
    teardown(&ru, &ir);
}
