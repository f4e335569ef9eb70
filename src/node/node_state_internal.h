/*
 * The node state's record, shared by node_state.c (participants, keys, payments, framing,
 * snapshots) and node_xb.c (the corridor commands). Nothing else includes this.
 */
#ifndef COR_NODE_STATE_INTERNAL_H
#define COR_NODE_STATE_INTERNAL_H

#include <sodium.h>

#include "corridor/xborder.h"
#include "node/node_state.h"

#define STATE_FUNDINGS_MAX   (1u << 16)          /* funding operations kept by the ledger */
#define STATE_FORMAT_MAGIC   0x53444f4e524f43ull /* "CORNODS" */
#define STATE_FORMAT_VERSION 2u

typedef struct node_xb_names {
    cor_u128 uetr;
    uint8_t debtor_length;
    uint8_t creditor_length;
    uint8_t reserved[14];
    char debtor[COR_NODE_XB_NAME_LENGTH_MAX];
    char creditor[COR_NODE_XB_NAME_LENGTH_MAX];
} node_xb_names;

struct cor_node_state {
    cor_node_state_options options;
    cor_ledger *ledger;
    cor_node_participant *participants; /* [COR_NODE_PARTICIPANTS_MAX]; id - 1 */
    uint32_t participants_count;
    cor_node_key *keys; /* [COR_NODE_KEYS_MAX]; id - 1 */
    uint32_t keys_count;
    cor_node_payment *payments; /* [payments_max]; number - 1 */
    uint64_t payments_count;
    uint32_t *payment_slots; /* index: payment number or 0 */
    uint64_t payment_slots_mask;
    uint8_t index_key[crypto_shorthash_KEYBYTES];
    uint64_t operator_accounts_count;
    uint64_t operator_transfers_count;
    uint64_t fundings_count;
    cor_node_totals totals;
    cor_node_result *scratch_results;  /* [COR_NODE_BATCH_EVENTS_MAX] for replay */
    cor_create_result *ledger_results; /* [COR_NODE_BATCH_EVENTS_MAX] */
    void *scratch_events;              /* aligned copy of ledger events */
    /* The corridor (node_xb.c). */
    cor_xb *xb;
    cor_node_cmd_xb_fx fx[COR_NODE_XB_FX_MAX];
    uint32_t fx_count;
    node_xb_names *names; /* [xb_payments_max]: end-customer names of origin payments */
    uint32_t names_count;
    uint32_t *names_slots; /* index by UETR: names number or 0 */
    uint64_t names_slots_mask;
    cor_xb_quote *scratch_quotes; /* [COR_NODE_XB_QUOTES_PER_ANSWER_MAX] */
};


/* node_state.c helpers node_xb.c uses. */
cor_node_participant *cor__node_state_participant(cor_node_state *state, uint32_t id);
bool cor__node_state_caller_valid(const cor_node_state *state, const cor_node_command_header *h,
                                  bool operator_only);
bool cor__node_state_can_debit(const cor_account *account, cor_u128 cap, cor_u128 amount);
size_t cor__node_state_slots_count(uint32_t entries_max);

/* node_xb.c */
cor_error cor__node_xb_open(cor_node_state *state);
void cor__node_xb_close(cor_node_state *state);
bool cor__node_xb_command_valid(const cor_node_command_header *h, const uint8_t *body);
void cor__node_xb_apply(cor_node_state *state, uint64_t timestamp, const cor_node_command_header *h,
                        const uint8_t *body, cor_node_result *results);
void cor__node_xb_apply_begin(cor_node_state *state);
cor_error cor__node_xb_serialize(const cor_node_state *state, cor_ledger_write_fn write,
                                 void *context);
cor_error cor__node_xb_deserialize(cor_node_state *state, cor_ledger_read_fn read, void *context);

#endif
