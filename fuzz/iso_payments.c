/*
 * libFuzzer harness: untrusted XML through the codec, then the node's mapping of a pacs.008
 * onto payment commands (src/node/iso_payments.c), as POST /v1/iso20022 does. Whatever the
 * input, the mapping must either refuse (debtor agent not the caller) or produce payments
 * the core's decoder accepts: ids and amounts not zero, texts within their limits, the
 * currency the node's, one event per transaction that was not refused. Cross-border
 * transactions (InstrInf "/QUOTE/<id>") become XB_PAYMENTS events with a valid UETR, a quote
 * id, a creditor account and names within bounds, and go through the quote check. The first
 * bytes also go through the statement date parser.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/iso_payments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cor_iso_parser *parser;
static cor_iso_message message;
static cor_node_payment_in payments[COR_NODE_BATCH_EVENTS_MAX];
static uint32_t event_tx[COR_NODE_BATCH_EVENTS_MAX];
static const char *reasons[COR_NODE_BATCH_EVENTS_MAX];
static const char *infos[COR_NODE_BATCH_EVENTS_MAX];
static cor_node_cmd_xb_payment xb_payments[COR_NODE_BATCH_EVENTS_MAX];
static uint32_t xb_event_tx[COR_NODE_BATCH_EVENTS_MAX];
static uint8_t payload[sizeof(cor_node_command_header) +
                       COR_NODE_BATCH_EVENTS_MAX * COR_NODE_PAYMENT_ENCODED_SIZE_MAX + 16];

static void fuzz_dates(const uint8_t *data, size_t size)
{
    char text[12];
    size_t n = size < 11 ? size : 11;
    memcpy(text, data, n);
    text[n] = '\0';
    uint64_t ns = 0;
    if (cor_node_iso_date_ns(text, &ns)) {
        COR_ASSERT(ns % (86400ull * 1000000000ull) == 0);
        COR_ASSERT(ns <= 100001ull * 86400ull * 1000000000ull);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (parser == NULL) {
        cor_iso_parser_options options = {.tx_count_max = COR_NODE_BATCH_EVENTS_MAX};
        COR_ASSERT(cor_iso_parser_open(&options, &parser) == COR_OK);
        cor_iso_message_init(&message);
    }
    fuzz_dates(data, size);
    if (cor_iso_parse(parser, (const char *)data, size, &message) != COR_OK) return 0;
    if (message.type != COR_ISO_MSG_PACS_008) return 0;
    COR_ASSERT(message.tx_count <= COR_NODE_BATCH_EVENTS_MAX);

    cor_node_bic_entry bics[3] = {{.participant = 1}, {.participant = 2}, {.participant = 3}};
    COR_ASSERT(cor_node_bic_normal("AAAARUMM", bics[0].bic));
    COR_ASSERT(cor_node_bic_normal("BBBBRUMMXXX", bics[1].bic));
    COR_ASSERT(cor_node_bic_normal("BANKRUMMXXX", bics[2].bic));
    cor_node_bic_sort(bics, 3);
    cor_node_iso_mapping mapping = {.payments = payments,
                                    .event_tx = event_tx,
                                    .reason = reasons,
                                    .info = infos,
                                    .xb_payments = xb_payments,
                                    .xb_event_tx = xb_event_tx};
    /* The caller is whoever the first transaction names, so most inputs get mapped. */
    char own[COR_NODE_BIC_NORMAL_SIZE];
    if (message.tx_count == 0 || !cor_node_bic_normal(message.transfers[0].debtor_agent.bic, own)) {
        memcpy(own, "AAAARUMMXXX", sizeof(own));
    }
    if (!cor_node_iso_map_payments(&message, own, "RUB", bics, 3, &mapping)) {
        COR_ASSERT(mapping.forbidden_field[0] != '\0');
        return 0;
    }
    uint32_t refused = 0;
    for (uint32_t i = 0; i < message.tx_count; i++)
        refused += message.transfers[i].reject_reason != NULL || reasons[i] != NULL;
    COR_ASSERT(mapping.events + mapping.xb_events + refused == message.tx_count);
    for (uint32_t k = 0; k < mapping.xb_events; k++) {
        const cor_node_cmd_xb_payment *xb = &xb_payments[k];
        const cor_iso_credit_transfer *tx = &message.transfers[xb_event_tx[k]];
        COR_ASSERT(k == 0 || xb_event_tx[k] > xb_event_tx[k - 1]);
        COR_ASSERT(cor_node_iso_is_xborder(tx) && reasons[xb_event_tx[k]] == NULL);
        COR_ASSERT(cor_xb_uetr_valid(xb->uetr) && xb->quote_id != 0);
        COR_ASSERT(xb->creditor_account > cor_node_settlement_id(0));
        COR_ASSERT(xb->debtor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX);
        COR_ASSERT(xb->creditor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX);
        COR_ASSERT(strcmp(tx->settlement_amount.currency, "RUB") == 0);
        /* The quote check is pure too: a quote of exactly this amount passes unless the
         * rate disagrees, and the rate comparison never fails on overflow silently. */
        cor_xb_quote quote = {.requester = 1,
                              .rate_num = 485,
                              .rate_den = 1,
                              .spread_ppm = 2000,
                              .amount_source = tx->settlement_amount.amount_minor};
        const char *info = NULL;
        const char *reason = cor_node_iso_xb_quote_check(tx, &quote, 1, 2, 2, &info);
        COR_ASSERT(reason == NULL || (strcmp(reason, "AM09") == 0 && tx->exchange_rate != NULL));
        COR_ASSERT(cor_node_iso_xb_quote_check(tx, NULL, 1, 2, 2, &info) != NULL);
    }
    size_t body = 0;
    for (uint32_t e = 0; e < mapping.events; e++) {
        const cor_node_payment_in *in = &payments[e];
        const cor_iso_credit_transfer *tx = &message.transfers[event_tx[e]];
        COR_ASSERT(e == 0 || event_tx[e] > event_tx[e - 1]);
        COR_ASSERT(tx->reject_reason == NULL && reasons[event_tx[e]] == NULL);
        COR_ASSERT(in->payment_id != 0 && in->amount != 0);
        COR_ASSERT(in->amount == tx->settlement_amount.amount_minor);
        COR_ASSERT(strcmp(tx->settlement_amount.currency, "RUB") == 0);
        COR_ASSERT(in->e2e_length <= COR_NODE_E2E_LENGTH_MAX);
        COR_ASSERT(in->remittance_length <= COR_NODE_REMITTANCE_LENGTH_MAX);
        COR_ASSERT(in->creditor <= 3);
        body += cor_node_payment_encode(in, payload + sizeof(cor_node_command_header) + body);
    }
    if (mapping.events == 0) return 0;
    cor_node_command_header header = {.type = COR_NODE_CMD_PAYMENTS,
                                      .event_count = mapping.events,
                                      .body_size_bytes = (uint32_t)body,
                                      .participant = 1};
    memcpy(payload, &header, sizeof(header));
    size_t padded = (body + 15u) & ~(size_t)15u;
    memset(payload + sizeof(header) + body, 0, padded - body);
    COR_ASSERT(cor_node_payload_events(payload, sizeof(header) + padded) == mapping.events);
    return 0;
}
