/*
 * The node's deterministic core (src/node/node_state.c) without any process or I/O:
 * commands, results, replay determinism, serialization round trips and malformed payloads.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "node/node_state.h"

#define PAYLOAD_MAX (1u << 20)

typedef struct payload {
    uint8_t bytes[PAYLOAD_MAX];
    size_t size;
    uint32_t events;
} payload;

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
    memcpy(p->bytes + p->size, body, body_size);
    size_t padded = (body_size + 15u) & ~(size_t)15u;
    memset(p->bytes + p->size + body_size, 0, padded - body_size);
    p->size += padded;
    p->events += events;
}

static void add_participant(payload *p, const char *bic)
{
    cor_node_cmd_participant_create cmd = {
        .role = COR_NODE_ROLE_BANK, .name_length = 4, .bic_length = (uint8_t)strlen(bic)};
    memcpy(cmd.name, "Bank", 4);
    memcpy(cmd.bic, bic, strlen(bic));
    add(p, COR_NODE_CMD_PARTICIPANT_CREATE, 1, 0, 0, &cmd, sizeof(cmd));
}

static void add_funding(payload *p, uint32_t participant, uint64_t id, cor_u128 amount)
{
    cor_node_cmd_funding cmd = {.amount = amount,
                                .funding_id = id,
                                .participant = participant,
                                .direction = COR_NODE_FUNDING_CREDIT};
    add(p, COR_NODE_CMD_FUNDING, 1, 0, 0, &cmd, sizeof(cmd));
}

static void add_key(payload *p, uint32_t participant)
{
    cor_node_cmd_key_add cmd = {.kind = COR_NODE_KEY_PARTICIPANT, .participant = participant};
    memset(cmd.hash, (int)participant, sizeof(cmd.hash));
    add(p, COR_NODE_CMD_KEY_ADD, 1, 0, 0, &cmd, sizeof(cmd));
}

static void add_payments(payload *p, uint32_t key_id, uint32_t debtor,
                         const cor_node_payment_in *payments, uint32_t count)
{
    static uint8_t body[PAYLOAD_MAX / 2];
    size_t size = 0;
    for (uint32_t i = 0; i < count; i++)
        size += cor_node_payment_encode(&payments[i], body + size);
    add(p, COR_NODE_CMD_PAYMENTS, count, key_id, debtor, body, size);
}

static cor_node_state *open_state(uint64_t seed)
{
    cor_node_state_options options = {.ledger = 643,
                                      .payments_max = 4096,
                                      .ledger_accounts_max = 64,
                                      .ledger_transfers_max = 4096,
                                      .hash_seed = seed};
    cor_node_state *state = NULL;
    cr_assert_eq(cor_node_state_open(&options, &state), COR_OK);
    return state;
}

/* Two participants with keys 1 and 2, participant 1 funded with 1000. */
static void setup_payload(payload *p)
{
    memset(p, 0, sizeof(*p));
    add_participant(p, "AAAARUMM");
    add_participant(p, "BBBBRUMM");
    add_key(p, 1);
    add_key(p, 2);
    add_funding(p, 1, 1, 1000);
}

static payload scratch_a, scratch_b;

Test(node_state, payments_apply_with_precise_results)
{
    cor_node_state *state = open_state(1);
    payload *p = &scratch_a;
    setup_payload(p);
    cor_node_result results[16];
    cr_assert_eq(cor_node_state_apply(state, 100, p->bytes, p->size, results, 16), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_CREATED);
    cr_assert_eq(results[0].value, 1);
    cr_assert_eq(results[4].code, COR_NODE_CREATED);

    cor_node_payment_in payments[5] = {
        {.payment_id = 1, .amount = 600, .creditor = 2},
        {.payment_id = 2, .amount = 600, .creditor = 2}, /* exceeds what is left */
        {.payment_id = 1, .amount = 600, .creditor = 2}, /* duplicate */
        {.payment_id = 1, .amount = 601, .creditor = 2}, /* reuse */
        {.payment_id = 3, .amount = 1, .creditor = 9},   /* unknown creditor */
    };
    memset(p, 0, sizeof(*p));
    add_payments(p, 1, 1, payments, 5);
    cr_assert_eq(cor_node_state_apply(state, 200, p->bytes, p->size, results, 16), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_CREATED);
    cr_assert_eq(results[1].code, COR_NODE_INSUFFICIENT_FUNDS);
    cr_assert_eq(results[2].code, COR_NODE_EXISTS);
    cr_assert_eq(results[2].value, 1);
    cr_assert_eq(results[3].code, COR_NODE_PAYMENT_ID_REUSED);
    cr_assert_eq(results[4].code, COR_NODE_CREDITOR_NOT_FOUND);
    cor_node_balance balance;
    cr_assert(cor_node_state_balance(state, 1, &balance));
    cr_assert(balance.debits_posted == 600 && balance.credits_posted == 1000);

    /* The key of participant 2 cannot pay from participant 1. */
    memset(p, 0, sizeof(*p));
    cor_node_payment_in other = {.payment_id = 9, .amount = 1, .creditor = 2};
    add_payments(p, 2, 1, &other, 1);
    cr_assert_eq(cor_node_state_apply(state, 300, p->bytes, p->size, results, 16), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_KEY_REVOKED);
    cr_assert_null(cor_node_state_payment(state, 1, 9));
    char problem[128];
    cr_assert(cor_ledger_check(cor_node_state_ledger(state), problem, sizeof(problem)), "%s",
              problem);
    cor_node_state_close(state);
}

typedef struct blob {
    uint8_t *bytes;
    size_t size;
    size_t capacity;
    size_t read;
} blob;

static cor_error blob_write(void *context, const void *bytes, size_t size)
{
    blob *b = context;
    if (b->size + size > b->capacity) {
        size_t capacity = (b->size + size) * 2;
        uint8_t *grown = realloc(b->bytes, capacity);
        if (grown == NULL) return COR_ERR_NOMEM;
        b->bytes = grown;
        b->capacity = capacity;
    }
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

Test(node_state, replay_is_deterministic_and_snapshots_round_trip)
{
    cor_node_state *one = open_state(1);
    cor_node_state *two = open_state(0xdeadbeef); /* another hash seed: same state */
    payload *p = &scratch_a;
    setup_payload(p);
    cr_assert_eq(cor_node_state_apply(one, 10, p->bytes, p->size, NULL, 0), COR_OK);
    cr_assert_eq(cor_node_state_apply(two, 10, p->bytes, p->size, NULL, 0), COR_OK);
    cor_node_payment_in payments[100];
    for (uint32_t i = 0; i < 100; i++) {
        payments[i] = (cor_node_payment_in){.payment_id = i + 1,
                                            .amount = i % 17 + 1,
                                            .creditor = 2,
                                            .e2e_length = 3,
                                            .has_uetr = 1};
        memcpy(payments[i].e2e, "E2E", 3);
        payments[i].uetr[0] = (uint8_t)i;
    }
    memset(p, 0, sizeof(*p));
    add_payments(p, 1, 1, payments, 100);
    cr_assert_eq(cor_node_state_apply(one, 20, p->bytes, p->size, NULL, 0), COR_OK);
    cr_assert_eq(cor_node_state_apply(two, 20, p->bytes, p->size, NULL, 0), COR_OK);

    blob a = {0}, b = {0};
    cr_assert_eq(cor_node_state_serialize(one, blob_write, &a), COR_OK);
    cr_assert_eq(cor_node_state_serialize(two, blob_write, &b), COR_OK);
    cr_assert_eq(a.size, b.size);
    cr_assert_eq(memcmp(a.bytes, b.bytes, a.size), 0, "same commands, different bytes");

    cor_node_state_options options = {.ledger = 643,
                                      .payments_max = 4096,
                                      .ledger_accounts_max = 64,
                                      .ledger_transfers_max = 4096,
                                      .hash_seed = 77};
    cor_node_state *three = NULL;
    cr_assert_eq(cor_node_state_deserialize(&options, blob_read, &a, &three), COR_OK);
    const cor_node_payment *found = cor_node_state_payment(three, 1, 50);
    cr_assert_not_null(found);
    cr_assert(found->in.amount == 49 % 17 + 1);
    blob c = {0};
    cr_assert_eq(cor_node_state_serialize(three, blob_write, &c), COR_OK);
    cr_assert_eq(c.size, a.size);
    cr_assert_eq(memcmp(c.bytes, a.bytes, a.size), 0);

    /* A damaged snapshot is refused, never half-loaded. */
    a.read = 0;
    a.bytes[0] ^= 1;
    cor_node_state *four = NULL;
    cr_assert_eq(cor_node_state_deserialize(&options, blob_read, &a, &four), COR_ERR_CORRUPT);
    cr_assert_null(four);
    free(a.bytes);
    free(b.bytes);
    free(c.bytes);
    cor_node_state_close(one);
    cor_node_state_close(two);
    cor_node_state_close(three);
}

Test(node_state, malformed_payloads_change_nothing)
{
    cor_node_state *state = open_state(3);
    payload *p = &scratch_a;
    setup_payload(p);
    cr_assert_eq(cor_node_state_apply(state, 10, p->bytes, p->size, NULL, 0), COR_OK);
    blob before = {0};
    cr_assert_eq(cor_node_state_serialize(state, blob_write, &before), COR_OK);

    payload *bad = &scratch_b;
    memset(bad, 0, sizeof(*bad));
    add_funding(bad, 1, 7, 5);
    cr_assert_eq(cor_node_state_apply(state, 20, bad->bytes, bad->size - 16, NULL, 0),
                 COR_ERR_CORRUPT); /* truncated body */
    cr_assert_eq(cor_node_state_apply(state, 20, bad->bytes, 0, NULL, 0), COR_ERR_CORRUPT);
    bad->bytes[0] = 99; /* unknown type */
    cr_assert_eq(cor_node_state_apply(state, 20, bad->bytes, bad->size, NULL, 0), COR_ERR_CORRUPT);
    /* A valid command followed by a broken one: neither is applied. */
    memset(bad, 0, sizeof(*bad));
    add_funding(bad, 1, 8, 5);
    cor_node_payment_in payment = {.payment_id = 1, .amount = 1, .creditor = 2};
    add_payments(bad, 1, 1, &payment, 1);
    bad->bytes[32 + sizeof(cor_node_cmd_funding) + 32 + 37] =
        200; /* e2e_length beyond its maximum */
    cr_assert_eq(cor_node_state_apply(state, 20, bad->bytes, bad->size, NULL, 0), COR_ERR_CORRUPT);
    /* Random bytes never crash and are refused. */
    for (int round = 0; round < 200; round++) {
        uint8_t noise[512];
        randombytes_buf(noise, sizeof(noise));
        cr_assert_eq(cor_node_state_apply(state, 20, noise, sizeof(noise), NULL, 0),
                     COR_ERR_CORRUPT);
    }
    blob after = {0};
    cr_assert_eq(cor_node_state_serialize(state, blob_write, &after), COR_OK);
    cr_assert_eq(before.size, after.size);
    cr_assert_eq(memcmp(before.bytes, after.bytes, before.size), 0);
    free(before.bytes);
    free(after.bytes);
    cor_node_state_close(state);
}

Test(node_state, debit_cap_and_operator_ledger_isolation)
{
    cor_node_state *state = open_state(5);
    payload *p = &scratch_a;
    setup_payload(p);
    cor_node_cmd_debit_cap cap = {.debit_cap = 50, .participant = 2};
    add(p, COR_NODE_CMD_DEBIT_CAP, 1, 0, 0, &cap, sizeof(cap));
    cr_assert_eq(cor_node_state_apply(state, 10, p->bytes, p->size, NULL, 0), COR_OK);
    cor_node_result results[4];
    cor_node_payment_in payments[2] = {{.payment_id = 1, .amount = 50, .creditor = 1},
                                       {.payment_id = 2, .amount = 1, .creditor = 1}};
    memset(p, 0, sizeof(*p));
    add_payments(p, 2, 2, payments, 2);
    cr_assert_eq(cor_node_state_apply(state, 20, p->bytes, p->size, results, 4), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_CREATED);
    cr_assert_eq(results[1].code, COR_NODE_INSUFFICIENT_FUNDS);

    /* Ledger commands naming the node's accounts are refused whole, even if journaled. */
    cor_transfer transfer = {.id = 5,
                             .debit_account_id = cor_node_settlement_id(1),
                             .credit_account_id = 7,
                             .amount = 1,
                             .ledger = 643,
                             .code = 1};
    memset(p, 0, sizeof(*p));
    add(p, COR_NODE_CMD_LEDGER_TRANSFERS, 1, 0, 0, &transfer, sizeof(transfer));
    cr_assert_eq(cor_node_state_apply(state, 30, p->bytes, p->size, results, 4), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_RESERVED_ID);
    /* And only the operator's key (0) may send them. */
    cor_account account = {.id = 7, .ledger = 643, .code = 1};
    memset(p, 0, sizeof(*p));
    add(p, COR_NODE_CMD_LEDGER_ACCOUNTS, 1, 1, 1, &account, sizeof(account));
    cr_assert_eq(cor_node_state_apply(state, 40, p->bytes, p->size, results, 4), COR_OK);
    cr_assert_eq(results[0].code, COR_NODE_KEY_REVOKED);
    cor_node_state_close(state);
}
