/*
 * Test support for the corridor between two REAL nodes: node RU (RUB, node id 643) and node
 * IR (IRR, node id 364), each a `corridor serve` process (COR_BIN) on its own loopback port,
 * peered both ways with `corridor peer add`, with the same three participants on each side,
 * funded, one FX provider (fx id 1) mapped on both and a rate sheet published both ways.
 * Everything goes through the HTTP API (libcurl + jansson, node_support.h); every wait is
 * bounded. Nodes are stopped by PID and their directories removed by cor_test_xb_net_cleanup.
 */
#ifndef COR_TEST_XB_NET_H
#define COR_TEST_XB_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "corridor/xborder_wire.h"
#include "node_support.h"

/* Participant ids, the same on both nodes (created in this order). */
#define XB_BANK         1u /* a bank, well funded */
#define XB_FX           2u /* the FX provider (role fx_provider, fx id 1 on both nodes) */
#define XB_BANK2        3u /* a second bank, (almost) no money */
#define XB_PARTICIPANTS 3u

/* Funding at start (minor units). */
#define XB_RU_BANK_FUNDS  10000000LL   /* RUB */
#define XB_RU_FX_FUNDS    10000000LL   /* RUB */
#define XB_RU_BANK2_FUNDS 1000LL       /* RUB */
#define XB_IR_BANK_FUNDS  5000000000LL /* IRR */
#define XB_IR_FX_FUNDS    1000000000LL /* IRR */

/* The rate sheets: RU -> IR 485/1 (IRR minor units per RUB minor unit), spread 2,000 ppm,
 * fee 100 RUB; IR -> RU 1/480, spread 2,000 ppm, fee 1,000 IRR. */
#define XB_RU_RATE_BODY                                                                            \
    "{\"peer\":\"IR\",\"rate_num\":\"485\",\"rate_den\":\"1\",\"spread_ppm\":2000,\"fee\":"        \
    "\"100\"}"
#define XB_IR_RATE_BODY                                                                            \
    "{\"peer\":\"RU\",\"rate_num\":\"1\",\"rate_den\":\"480\",\"spread_ppm\":2000,\"fee\":"        \
    "\"1000\"}"

typedef struct cor_test_xb_side {
    cor_test_node node;
    char name[8];                        /* "RU", "IR" */
    char currency[4];                    /* "RUB", "IRR" */
    unsigned node_id;                    /* 643, 364 */
    char keys[XB_PARTICIPANTS + 1][128]; /* keys[XB_BANK] ...: each participant's API key */
} cor_test_xb_side;

typedef struct cor_test_xb_net {
    cor_test_xb_side ru;
    cor_test_xb_side ir;
} cor_test_xb_net;

typedef struct cor_test_xb_net_options {
    /* Extra `corridor peer add` options (e.g. "--payment-max-out 5000"), or NULL. */
    const char *ru_peer_options; /* RU's entry for IR */
    const char *ir_peer_options; /* IR's entry for RU */
} cor_test_xb_net_options;

/* Builds and starts both nodes as described above (options NULL = none); asserts success. */
void cor_test_xb_net_start(cor_test_xb_net *net, const cor_test_xb_net_options *options);
/* Stops both running nodes with SIGTERM and asserts each exits 0 with no sanitizer report
 * in its log (a leak or a sanitizer finding in a node fails the test). */
void cor_test_xb_net_stop(cor_test_xb_net *net);
/* Kills both nodes (if running) and removes their directories. */
void cor_test_xb_net_cleanup(cor_test_xb_net *net);

/* Data directory of a side (node->dir/n). */
void cor_test_xb_data_dir(const cor_test_xb_side *side, char *out, size_t size);
/* `corridor peer add` on side's data dir for peer (replaces an entry); the node must be
 * restarted to apply it. extra may be NULL. */
void cor_test_xb_peer_add(const cor_test_xb_side *side, const cor_test_xb_side *peer,
                          const char *extra);
/* SIGTERM (clean exit asserted) then start again, waiting until healthy. */
void cor_test_xb_restart(cor_test_xb_side *side);

/* A fresh random UUID v4 in text form. */
void cor_test_xb_uetr(char out[37]);

/* One quote of side's participant towards its peer; fixed is "source" or "destination".
 * Asserts 201 and fills the fields below. */
typedef struct cor_test_xb_quote_info {
    char quote_id[48];
    long long source_amount;
    long long destination_amount;
    long long fee;
    char expires_at[24];
} cor_test_xb_quote_info;
void cor_test_xb_quote(const cor_test_xb_side *side, unsigned participant, const char *peer_name,
                       const char *fixed, long long amount, cor_test_xb_quote_info *out);

/* POST /v1/xborder/payments by side's participant; names may be NULL. The response is the
 * caller's to free. */
void cor_test_xb_pay(const cor_test_xb_side *side, unsigned participant, const char *uetr,
                     const char *quote_id, unsigned creditor, const char *debtor_name,
                     const char *creditor_name, cor_test_response *out);

/* The payment as the operator sees it: state ("" when unknown: 404), reason code and ISO. */
typedef struct cor_test_xb_state_info {
    char state[16];
    char reason[48];
    char iso[8];
    char returned_by[40];
    long long source_amount;
    long long destination_amount;
} cor_test_xb_state_info;
void cor_test_xb_state(const cor_test_xb_side *side, const char *uetr, cor_test_xb_state_info *out);
/* Polls (bounded: 20 s) until the payment's state on side is want; asserts it got there. */
void cor_test_xb_wait_state(const cor_test_xb_side *side, const char *uetr, const char *want,
                            cor_test_xb_state_info *out);

/* Balances of a side, with the conservation check made when it is taken: the sum of every
 * participant's net equals the money issued (corridor_money_issued_minor, /metrics), and
 * nothing is pending. Also the protocol's counts (GET /v1/xborder/stats). */
typedef struct cor_test_xb_snapshot {
    long long net[XB_PARTICIPANTS + 1]; /* net[XB_BANK] ... */
    long long issued;
    long long pending; /* sum of debits_pending */
    long long payments;
    long long open;
    long long refusals;
    long long conflicts;
} cor_test_xb_snapshot;
void cor_test_xb_snapshot_take(const cor_test_xb_side *side, cor_test_xb_snapshot *out);
/* Asserts two snapshots show the same balances (nets, pending, issued). */
void cor_test_xb_assert_unchanged(const cor_test_xb_snapshot *before,
                                  const cor_test_xb_snapshot *after, const char *what);

/* The reconcile summary (GET /v1/xborder/reconcile?fx_id=1&peer=...) as
 * "from>to:count:src:dst:digest;" per direction, sorted so both nodes' answers compare equal when
 * they agree. */
void cor_test_xb_reconcile_text(const cor_test_xb_side *side, const char *peer_name, char *out,
                                size_t size);

/* A cor_wire speaking as side (its name, BIC, currency, node id, key id and the secret key
 * of its data dir) to peer (its public key from its data dir). secret NULL = the side's own
 * node.key; else a 64-byte libsodium secret key to sign with (a forgery). extra_peer, when
 * not NULL, is one more peer the wire knows (to address envelopes elsewhere). */
cor_wire *cor_test_xb_wire_open(const cor_test_xb_side *side, const cor_test_xb_side *peer,
                                const uint8_t *secret, const cor_wire_node *extra_peer);
/* The side's Ed25519 secret key (its data dir's node.key). */
void cor_test_xb_secret(const cor_test_xb_side *side, uint8_t out[COR_WIRE_SECRET_KEY_SIZE]);
/* The cor_wire_node of a side as its peers know it (with its key from node.pub). */
void cor_test_xb_wire_node(const cor_test_xb_side *side, cor_wire_node *out);

#endif
