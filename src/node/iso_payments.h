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
 *
 * A transaction is cross-border when its InstrForNxtAgt/InstrInf starts with "/QUOTE/"
 * (cor_node_iso_is_xborder). It becomes an XB_PAYMENTS event (cor_node_cmd_xb_payment)
 * instead, debiting the caller too:
 *   uetr         PmtId/UETR, required (missing: CH21)
 *   quote_id     the decimal after "/QUOTE/" (not a decimal u128 above 0: FF01)
 *   amount       IntrBkSttlmAmt, in the node's currency (else CURR); it must be the quote's
 *                source amount (AM09), checked with the quote by cor_node_iso_xb_quote_check
 *   creditor     CdtrAcct/Id/Othr/Id: the creditor bank's participant id on the peer node,
 *                decimal 1 .. 2^32-1 (missing, an IBAN, or anything else: AC03)
 *   names        Dbtr/Nm and Cdtr/Nm, at most 140 bytes of UTF-8 without control
 *                characters (else FF01), screened at the beneficiary node
 * CdtrAgt is not used for routing (the peer's banks are not known here); the quote names the
 * corridor.
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
    cor_node_payment_in *payments;        /* [events]: the PAYMENTS command's events */
    uint32_t *event_tx;                   /* [events]: event -> transaction index */
    const char **reason;                  /* [tx]: a refusal decided here (static string) or NULL */
    const char **info;                    /* [tx]: its AddtlInf (static string) */
    cor_node_cmd_xb_payment *xb_payments; /* [xb_events]: the XB_PAYMENTS command's events */
    uint32_t *xb_event_tx;                /* [xb_events]: event -> transaction index */
    uint32_t events;                      /* out */
    uint32_t xb_events;                   /* out */
    char forbidden_field[64];             /* out, when the mapping is refused */
} cor_node_iso_mapping;

/* The prefix of InstrForNxtAgt/InstrInf that names a quote ("/QUOTE/<decimal id>"). */
#define COR_NODE_ISO_QUOTE_PREFIX "/QUOTE/"

/* Whether tx is a cross-border transaction (its next-agent instruction names a quote). */
bool cor_node_iso_is_xborder(const cor_iso_credit_transfer *tx);

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

/*
 * The checks of a mapped cross-border transaction that need its quote (pure): quote is the
 * stored quote the transaction names, NULL when unknown; caller the sending participant.
 * Returns NULL when the transaction may go to the core, else the ISO reason (static) with
 * *info its AddtlInf:
 *   AM09  the quote is unknown or not the caller's; IntrBkSttlmAmt is not its source amount;
 *         XchgRate, when present, differs from the quote's customer rate by more than one
 *         unit of its last written digit (see docs/ISO20022.md "Cross-border pacs.008")
 * source_exponent / dest_exponent are the ISO 4217 minor-unit exponents of the two
 * currencies (-1 when unknown: a present XchgRate is then refused).
 * Expiry, reuse and limits are the core's decisions (they depend on the time of applying).
 */
const char *cor_node_iso_xb_quote_check(const cor_iso_credit_transfer *tx,
                                        const cor_xb_quote *quote, uint64_t caller,
                                        int source_exponent, int dest_exponent, const char **info);

/*
 * Whether the XchgRate text (a BaseOneRate decimal: digits with at most one '.') is within
 * one unit of its last written digit of the customer rate num * (1e6 - spread_ppm) /
 * (den * 1e6), expressed in major units (times 10^(source_exponent - dest_exponent)).
 * false for text that is not such a decimal, or for values too large to compare exactly.
 */
bool cor_node_iso_rate_matches(const char *text, uint64_t num, uint64_t den, uint32_t spread_ppm,
                               int source_exponent, int dest_exponent);

/* "YYYY-MM-DD" (a real calendar day, 1970 .. 2243) -> ns since the epoch at 00:00 UTC. */
bool cor_node_iso_date_ns(const char *text, uint64_t *ns_out);

#endif
