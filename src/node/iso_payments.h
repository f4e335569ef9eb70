/*
 * Mapping of parsed ISO 20022 messages onto node commands (pure: no I/O, no locks, no clock),
 * used by the HTTP routes in iso_routes.c and fuzzed by fuzz/iso_payments.c.
 *
 * A pacs.008 transaction becomes a node payment (cor_node_payment_in) debiting the caller:
 *   payment_id   the UETR's 128 bits when there is one, else the first 128 bits of
 *                BLAKE2b("corridor pacs.008 TxId\0" || TxId); neither: refused (FF01).
 *                Sending the same transaction again is therefore idempotent.
 *   creditor     the participant whose BIC is CdtrAgt/FinInstnId/BICFI (an 8-character BIC
 *                equals the same BIC + "XXX"); none: RC04; an unknown BIC maps to participant
 *                0, which the core records as rejected (creditor_not_found, CNOR).
 *   amount       IntrBkSttlmAmt, whose currency must be the node's (else AM03).
 *   e2e, uetr, remittance   kept (more than 35 / 140 bytes of UTF-8: FF01).
 * Every DbtrAgt must carry the caller's BIC, except in transactions the codec already
 * rejected that name no debtor agent; the AppHdr Fr, when it names a BIC, must too.
 */
#ifndef COR_NODE_ISO_PAYMENTS_H
#define COR_NODE_ISO_PAYMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/iso20022.h"
#include "node/node_state.h"

#define COR_NODE_BIC_NORMAL_SIZE 12u /* 11 characters + NUL */

/* The 11-character form of a BIC (8 characters + "XXX"); false unless 8 or 11 bytes. */
bool cor_node_bic_normal(const char *bic, char out[COR_NODE_BIC_NORMAL_SIZE]);

/* A participant id by normalized BIC; tables are sorted with cor_node_bic_sort. */
typedef struct cor_node_bic_entry {
    char bic[COR_NODE_BIC_NORMAL_SIZE];
    uint32_t participant;
} cor_node_bic_entry;

void cor_node_bic_sort(cor_node_bic_entry *table, uint32_t count);

/*
 * Every participant's BIC (call with the state lock held). Success: the count, *table_out
 * cor_alloc'd (the caller frees with cor_free), sorted. Failure (memory): false.
 */
bool cor_node_bic_table(const cor_node_state *state, cor_node_bic_entry **table_out,
                        uint32_t *count_out);

/* The payment id of a transaction named by UETR (valid) or TxId; 0 when neither. */
cor_u128 cor_node_iso_payment_id(const char *uetr, const char *transaction_id);

/* What cor_node_iso_map_payments produces; arrays are the caller's, of message->tx_count
 * elements each (at least 1). */
typedef struct cor_node_iso_mapping {
    cor_node_payment_in *payments; /* [events]: the PAYMENTS command's events */
    uint32_t *event_tx;            /* [events]: event -> transaction index */
    const char **reason;           /* [tx]: a refusal decided here (static string) or NULL */
    const char **info;             /* [tx]: its AddtlInf (static string) */
    uint32_t events;               /* out */
    char forbidden_field[64];      /* out, when the mapping is refused */
} cor_node_iso_mapping;

/*
 * Maps a parsed pacs.008 (message->type must be COR_ISO_MSG_PACS_008) sent by the
 * participant whose normalized BIC is own_bic, on a node of currency (ISO alphabetic code),
 * with the participants' BICs in bics (sorted). Transactions the codec rejected are skipped
 * (their reason is the codec's). false when a debtor agent (or the AppHdr Fr) is not the
 * caller: forbidden_field names it and nothing may be applied.
 */
bool cor_node_iso_map_payments(const cor_iso_message *message,
                               const char own_bic[COR_NODE_BIC_NORMAL_SIZE], const char *currency,
                               const cor_node_bic_entry *bics, uint32_t bic_count,
                               cor_node_iso_mapping *out);

/* "YYYY-MM-DD" (a real calendar day, 1970 .. 2243) -> ns since the epoch at 00:00 UTC. */
bool cor_node_iso_date_ns(const char *text, uint64_t *ns_out);

#endif
