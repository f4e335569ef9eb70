/*
 * Test support for the cross-border core: a small world of nodes in one process, each with
 * its own ledger (one currency) and cor_xb, participants funded by the node's central bank,
 * peers linked pairwise and FX providers present on every node. Used by the unit tests in
 * tests/unit/corridor/ and by the simulation tests/sim/xborder_sim.c.
 *
 * Durability model: each node has a checkpoint (ledger + cor_xb serialized together) that
 * stands for its durable state. Messages a node produces are held until the node's next
 * xbw_fsync, which takes a checkpoint and only then releases them; xbw_crash restores the
 * checkpoint and forgets held messages, exactly like a node that lost unsynced writes.
 */
#ifndef COR_TEST_XB_WORLD_H
#define COR_TEST_XB_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "corridor/ledger.h"
#include "corridor/xborder.h"

#define XBW_NODES_MAX 3u
#define XBW_BANKS     3u /* commercial banks per node */
#define XBW_FXS       2u /* FX providers, each present on every node */
#define XBW_HELD_MAX  4096u

typedef struct xbw_node {
    uint32_t id; /* node id: index + 1 */
    uint32_t currency;
    cor_ledger *ledger;
    cor_xb *xb;
    cor_ledger_options ledger_options;
    cor_xb_options xb_options;
    unsigned char *checkpoint; /* durable image */
    size_t checkpoint_size;
    size_t checkpoint_capacity;
    cor_xb_message *held; /* produced, not yet durable, not yet sent */
    uint32_t held_count;
    cor_u128 funded[1 + XBW_BANKS + XBW_FXS]; /* initial balance per account */
} xbw_node;

typedef struct xbw_world {
    uint32_t nodes_count;
    xbw_node nodes[XBW_NODES_MAX];
} xbw_world;

typedef struct xbw_config {
    uint32_t nodes_count; /* 2 or 3 */
    cor_u128 bank_funds;  /* per bank */
    cor_u128 fx_funds;    /* per FX provider account */
    uint64_t deadline_ns;
    uint64_t retry_initial_ns;
    uint64_t retry_max_ns;
    uint64_t replay_window_ns;
    uint32_t payments_max;
    uint32_t quotes_max;
    uint32_t seen_max;
    uint32_t transfers_max;
    uint64_t hash_salt; /* mixed into every hash seed; state bytes must not care */
} xbw_config;

void xbw_config_default(xbw_config *config);

/* Opens nodes, accounts, funding, peers and FX registrations (no rates), and takes a first
 * checkpoint of each node. Asserts (Criterion) on any failure. */
void xbw_open(xbw_world *world, const xbw_config *config, uint64_t timestamp);
void xbw_close(xbw_world *world);

/* Account ids on node n (0-based index): the central bank, banks and FX providers. */
cor_u128 xbw_account_cb(uint32_t node_index);
cor_u128 xbw_account_bank(uint32_t node_index, uint32_t bank);
cor_u128 xbw_account_fx(uint32_t node_index, uint32_t fx);
uint64_t xbw_fx_id(uint32_t fx);
uint32_t xbw_currency(uint32_t node_index);

/* Publishes FX provider fx's rate for node a -> node b (both 0-based) at a. */
uint32_t xbw_publish(xbw_world *world, uint32_t a, uint32_t b, uint32_t fx, uint64_t num,
                     uint64_t den, uint32_t spread_ppm, cor_u128 fee, uint64_t timestamp);

/* Moves the node's outbox into its held list (call after every command). */
void xbw_collect(xbw_world *world, uint32_t node_index);

/* Checkpoints the node (ledger + xb). Held messages become sendable: they are copied to
 * out (up to out_max) and the count is returned; the held list empties. */
uint32_t xbw_fsync(xbw_world *world, uint32_t node_index, cor_xb_message *out, uint32_t out_max);

/* Replaces the node's state by its last checkpoint; held messages are lost. */
void xbw_crash(xbw_world *world, uint32_t node_index);

/* Canonical image of a node's state (ledger + xb) hashed to 64 bits. */
uint64_t xbw_state_hash(xbw_world *world, uint32_t node_index);

/* A random valid UUID v4 from a 64-bit generator state. */
cor_u128 xbw_uetr(uint64_t *rng);
uint64_t xbw_rand(uint64_t *rng);

/* Net balance (credits_posted - debits_posted) of an account, as a signed 128-bit value. */
__extension__ typedef __int128 xbw_i128;
xbw_i128 xbw_balance(const xbw_node *node, cor_u128 account_id);

#endif
