/* A world of cross-border nodes in one process; see xb_world.h. */
#include "xb_world.h"

#include <criterion/criterion.h>
#include <string.h>

#include "common/alloc.h"

static const uint32_t xbw_currencies[XBW_NODES_MAX] = {643, 364, 156}; /* RUB, IRR, CNY */

void xbw_config_default(xbw_config *config)
{
    *config = (xbw_config){
        .nodes_count = 2,
        .bank_funds = 1000000000,
        .fx_funds = 1000000000000ull,
        .deadline_ns = 2000000000ull,
        .retry_initial_ns = 50000000ull,
        .retry_max_ns = 400000000ull,
        .replay_window_ns = 10000000000ull,
        .payments_max = 1024,
        .quotes_max = 1024,
        .seen_max = 4096,
        .transfers_max = 4096,
    };
}

cor_u128 xbw_account_cb(uint32_t node_index)
{
    return (cor_u128)(node_index + 1) * 1000u + 1u;
}

cor_u128 xbw_account_bank(uint32_t node_index, uint32_t bank)
{
    return (cor_u128)(node_index + 1) * 1000u + 10u + bank;
}

cor_u128 xbw_account_fx(uint32_t node_index, uint32_t fx)
{
    return (cor_u128)(node_index + 1) * 1000u + 100u + fx;
}

uint64_t xbw_fx_id(uint32_t fx)
{
    return 7000u + fx;
}

uint32_t xbw_currency(uint32_t node_index)
{
    return xbw_currencies[node_index];
}

uint64_t xbw_rand(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

cor_u128 xbw_uetr(uint64_t *rng)
{
    cor_u128 u = ((cor_u128)xbw_rand(rng) << 64) | xbw_rand(rng);
    u &= ~((cor_u128)0xf << 76);
    u |= (cor_u128)4 << 76;
    u &= ~((cor_u128)0x3 << 62);
    u |= (cor_u128)2 << 62;
    return u;
}

xbw_i128 xbw_balance(const xbw_node *node, cor_u128 account_id)
{
    cor_account a;
    cr_assert(cor_ledger_lookup_account(node->ledger, account_id, &a));
    return (xbw_i128)a.credits_posted - (xbw_i128)a.debits_posted;
}

/* ---- image buffers ---------------------------------------------------------------------- */

typedef struct xbw_buffer {
    unsigned char **bytes;
    size_t *size;
    size_t *capacity;
} xbw_buffer;

static cor_error xbw_write(void *context, const void *bytes, size_t size_bytes)
{
    xbw_buffer *b = context;
    if (*b->size + size_bytes > *b->capacity) {
        size_t capacity = *b->capacity ? *b->capacity : 65536;
        while (capacity < *b->size + size_bytes)
            capacity *= 2;
        unsigned char *grown = cor_alloc(capacity);
        if (grown == NULL) return COR_ERR_NOMEM;
        if (*b->size > 0) memcpy(grown, *b->bytes, *b->size);
        cor_free(*b->bytes);
        *b->bytes = grown;
        *b->capacity = capacity;
    }
    if (size_bytes > 0) memcpy(*b->bytes + *b->size, bytes, size_bytes);
    *b->size += size_bytes;
    return COR_OK;
}

typedef struct xbw_reader {
    const unsigned char *bytes;
    size_t size;
    size_t offset;
} xbw_reader;

static cor_error xbw_read(void *context, void *bytes, size_t size_bytes)
{
    xbw_reader *r = context;
    if (r->size - r->offset < size_bytes) return COR_ERR_CORRUPT;
    if (size_bytes > 0) memcpy(bytes, r->bytes + r->offset, size_bytes);
    r->offset += size_bytes;
    return COR_OK;
}

static void xbw_image(xbw_node *node, unsigned char **bytes, size_t *size, size_t *capacity)
{
    xbw_buffer b = {bytes, size, capacity};
    *size = 0;
    cr_assert_eq(cor_ledger_serialize(node->ledger, xbw_write, &b), COR_OK);
    cr_assert_eq(cor_xb_serialize(node->xb, xbw_write, &b), COR_OK);
}

/* ---- setup ------------------------------------------------------------------------------ */

static void xbw_accounts(xbw_node *node, uint32_t n, uint64_t timestamp)
{
    cor_account accounts[1 + XBW_BANKS + XBW_FXS];
    memset(accounts, 0, sizeof(accounts));
    uint32_t count = 0;
    accounts[count++] = (cor_account){.id = xbw_account_cb(n), .ledger = node->currency, .code = 1};
    for (uint32_t b = 0; b < XBW_BANKS; b++) {
        accounts[count++] = (cor_account){.id = xbw_account_bank(n, b),
                                          .ledger = node->currency,
                                          .code = 2,
                                          .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS};
    }
    for (uint32_t f = 0; f < XBW_FXS; f++) {
        accounts[count++] = (cor_account){.id = xbw_account_fx(n, f),
                                          .ledger = node->currency,
                                          .code = 3,
                                          .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS};
    }
    cor_create_result results[1 + XBW_BANKS + XBW_FXS];
    cr_assert_eq(cor_ledger_create_accounts(node->ledger, timestamp, accounts, count, results),
                 COR_OK);
    for (uint32_t i = 0; i < count; i++)
        cr_assert_eq(results[i].status, COR_ACCOUNT_CREATED);
}

static void xbw_fund(xbw_node *node, uint32_t n, const xbw_config *config, uint64_t timestamp)
{
    cor_transfer transfers[XBW_BANKS + XBW_FXS];
    memset(transfers, 0, sizeof(transfers));
    memset(node->funded, 0, sizeof(node->funded));
    uint32_t count = 0;
    for (uint32_t i = 0; i < XBW_BANKS + XBW_FXS; i++) {
        cor_u128 amount = i < XBW_BANKS ? config->bank_funds : config->fx_funds;
        cor_u128 credit = i < XBW_BANKS ? xbw_account_bank(n, i) : xbw_account_fx(n, i - XBW_BANKS);
        if (amount == 0) continue;
        transfers[count++] = (cor_transfer){.id = 900000u + i,
                                            .debit_account_id = xbw_account_cb(n),
                                            .credit_account_id = credit,
                                            .amount = amount,
                                            .ledger = node->currency,
                                            .code = 1};
        node->funded[1 + i] = amount;
    }
    if (count == 0) return;
    cor_create_result results[XBW_BANKS + XBW_FXS];
    cr_assert_eq(cor_ledger_create_transfers(node->ledger, timestamp, transfers, count, results),
                 COR_OK);
    for (uint32_t i = 0; i < count; i++)
        cr_assert_eq(results[i].status, COR_TRANSFER_CREATED);
}

static void xbw_node_open(xbw_world *world, uint32_t n, const xbw_config *config,
                          uint64_t timestamp)
{
    xbw_node *node = &world->nodes[n];
    memset(node, 0, sizeof(*node));
    node->id = n + 1;
    node->currency = xbw_currency(n);
    node->ledger_options = (cor_ledger_options){
        .accounts_max = 16,
        .transfers_max = config->transfers_max,
        .pending_transfers_max = config->transfers_max,
        .hash_seed = (0xabcdefull * (n + 1)) ^ config->hash_salt,
    };
    cr_assert_eq(cor_ledger_open(&node->ledger_options, &node->ledger), COR_OK);
    cor_xb_options *o = &node->xb_options;
    cor_xb_options_default(o, node->id, node->currency);
    o->payments_max = config->payments_max;
    o->quotes_max = config->quotes_max;
    o->seen_max = config->seen_max;
    o->deadline_ns = config->deadline_ns;
    o->retry_initial_ns = config->retry_initial_ns;
    o->retry_max_ns = config->retry_max_ns;
    o->replay_window_ns = config->replay_window_ns;
    o->hash_seed = (0x1234567ull * (n + 7)) ^ config->hash_salt;
    cr_assert_eq(cor_xb_open(o, node->ledger, &node->xb), COR_OK);
    node->held = cor_calloc(XBW_HELD_MAX, sizeof(cor_xb_message));
    cr_assert_not_null(node->held);
    xbw_accounts(node, n, timestamp);
    xbw_fund(node, n, config, timestamp);
    for (uint32_t p = 0; p < config->nodes_count; p++) {
        if (p == n) continue;
        cor_xb_peer peer = {.node_id = p + 1, .ledger = xbw_currency(p)};
        cr_assert_eq(cor_xb_peer_add(node->xb, &peer), COR_OK);
        for (uint32_t f = 0; f < XBW_FXS; f++) {
            cor_xb_fx fx = {
                .account_id = xbw_account_fx(n, f), .fx_id = xbw_fx_id(f), .peer_node = p + 1};
            cr_assert_eq(cor_xb_fx_add(node->xb, &fx), COR_OK);
        }
    }
}

void xbw_open(xbw_world *world, const xbw_config *config, uint64_t timestamp)
{
    cr_assert(config->nodes_count >= 2 && config->nodes_count <= XBW_NODES_MAX);
    memset(world, 0, sizeof(*world));
    world->nodes_count = config->nodes_count;
    for (uint32_t n = 0; n < config->nodes_count; n++) {
        xbw_node_open(world, n, config, timestamp);
        xbw_fsync(world, n, NULL, 0);
    }
}

void xbw_close(xbw_world *world)
{
    for (uint32_t n = 0; n < world->nodes_count; n++) {
        xbw_node *node = &world->nodes[n];
        cor_xb_close(node->xb);
        cor_ledger_close(node->ledger);
        cor_free(node->checkpoint);
        cor_free(node->held);
        memset(node, 0, sizeof(*node));
    }
    world->nodes_count = 0;
}

uint32_t xbw_publish(xbw_world *world, uint32_t a, uint32_t b, uint32_t fx, uint64_t num,
                     uint64_t den, uint32_t spread_ppm, cor_u128 fee, uint64_t timestamp)
{
    cor_xb_rate rate = {
        .amount_min = 1,
        .amount_max = (cor_u128)1 << 100,
        .fee_source = fee,
        .fx_id = xbw_fx_id(fx),
        .peer_node = b + 1,
        .rate_num = num,
        .rate_den = den,
        .valid_from = 0,
        .valid_until = UINT64_MAX,
        .spread_ppm = spread_ppm,
    };
    (void)timestamp;
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_rate_publish(world->nodes[a].xb, timestamp, &rate, &reason), COR_OK);
    return reason;
}

/* ---- durability ------------------------------------------------------------------------- */

void xbw_collect(xbw_world *world, uint32_t node_index)
{
    xbw_node *node = &world->nodes[node_index];
    uint32_t count = cor_xb_outbox_count(node->xb);
    for (uint32_t i = 0; i < count; i++) {
        if (node->held_count == XBW_HELD_MAX) break; /* lost like a full send queue */
        node->held[node->held_count++] = *cor_xb_outbox_at(node->xb, i);
    }
    cor_xb_outbox_clear(node->xb);
}

uint32_t xbw_fsync(xbw_world *world, uint32_t node_index, cor_xb_message *out, uint32_t out_max)
{
    xbw_node *node = &world->nodes[node_index];
    xbw_collect(world, node_index);
    xbw_image(node, &node->checkpoint, &node->checkpoint_size, &node->checkpoint_capacity);
    uint32_t count = node->held_count < out_max ? node->held_count : out_max;
    if (count > 0) memcpy(out, node->held, count * sizeof(cor_xb_message));
    node->held_count = 0;
    return count;
}

void xbw_crash(xbw_world *world, uint32_t node_index)
{
    xbw_node *node = &world->nodes[node_index];
    cor_xb_close(node->xb);
    cor_ledger_close(node->ledger);
    node->xb = NULL;
    node->ledger = NULL;
    node->held_count = 0;
    xbw_reader reader = {node->checkpoint, node->checkpoint_size, 0};
    cr_assert_eq(cor_ledger_deserialize(&node->ledger_options, xbw_read, &reader, &node->ledger),
                 COR_OK);
    cr_assert_eq(cor_xb_deserialize(&node->xb_options, node->ledger, xbw_read, &reader, &node->xb),
                 COR_OK);
    cr_assert_eq(reader.offset, reader.size);
}

uint64_t xbw_state_hash(xbw_world *world, uint32_t node_index)
{
    unsigned char *bytes = NULL;
    size_t size = 0, capacity = 0;
    xbw_image(&world->nodes[node_index], &bytes, &size, &capacity);
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < size; i++)
        hash = (hash ^ bytes[i]) * 0x100000001b3ull;
    cor_free(bytes);
    return hash;
}
