/*
 * The pure part of the node's ISO 20022 interface (src/node/iso_payments.c): BIC
 * normalization, payment ids from UETR or TxId, statement dates, and the pacs.008 mapping's
 * debtor-agent rule and per-transaction refusals, on messages built from structs.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "node/iso_payments.h"

Test(node_iso_payments, bic_normal_form)
{
    char out[COR_NODE_BIC_NORMAL_SIZE];
    cr_assert(cor_node_bic_normal("AAAARUMM", out));
    cr_assert_str_eq(out, "AAAARUMMXXX");
    cr_assert(cor_node_bic_normal("AAAARUMM123", out));
    cr_assert_str_eq(out, "AAAARUMM123");
    cr_assert_not(cor_node_bic_normal("AAAARUM", out));
    cr_assert_not(cor_node_bic_normal("AAAARUMM12", out));
    cr_assert_not(cor_node_bic_normal(NULL, out));
}

Test(node_iso_payments, payment_ids)
{
    cor_u128 uetr = cor_node_iso_payment_id("8a562c67-ca16-48ba-b074-65581be6f001", "T1");
    cr_assert(uetr == (((cor_u128)0x8a562c67ca1648baull << 64) | 0xb07465581be6f001ull));
    cor_u128 tx1 = cor_node_iso_payment_id(NULL, "T1");
    cor_u128 tx2 = cor_node_iso_payment_id(NULL, "T2");
    cr_assert(tx1 != 0 && tx2 != 0 && tx1 != tx2);
    cr_assert(cor_node_iso_payment_id("not-a-uetr", "T1") == tx1); /* invalid UETR: TxId */
    cr_assert(cor_node_iso_payment_id(NULL, "T1") == tx1);         /* stable */
    cr_assert(cor_node_iso_payment_id(NULL, NULL) == 0);
    cr_assert(cor_node_iso_payment_id(NULL, "") == 0);
}

Test(node_iso_payments, statement_dates)
{
    uint64_t ns = 1;
    cr_assert(cor_node_iso_date_ns("1970-01-01", &ns));
    cr_assert_eq(ns, 0);
    cr_assert(cor_node_iso_date_ns("2026-11-29", &ns));
    cr_assert_eq(ns, 1795910400ull * 1000000000ull);
    cr_assert(cor_node_iso_date_ns("2024-02-29", &ns));
    cr_assert_eq(ns, 1709164800ull * 1000000000ull);
    static const char *const bad[] = {
        "1969-12-31",           "2026-02-29", "2026-13-01", "2026-1-01",
        "2026-01-01T00:00:00Z", "",           "2300-01-01", "abcd-ef-gh"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_not(cor_node_iso_date_ns(bad[i], &ns), "%s", bad[i]);
    cr_assert_not(cor_node_iso_date_ns(NULL, &ns));
}

#define OWN "AAAARUMMXXX"

static cor_iso_credit_transfer map_tx(const char *debtor_bic, const char *creditor_bic,
                                      const char *currency, const char *tx_id)
{
    cor_iso_credit_transfer tx = {.end_to_end_id = "E2E",
                                  .transaction_id = tx_id,
                                  .debtor_agent = {.bic = debtor_bic},
                                  .creditor_agent = {.bic = creditor_bic},
                                  .remittance = "invoice"};
    tx.settlement_amount.amount_minor = 100;
    memcpy(tx.settlement_amount.currency, currency, 4);
    return tx;
}

Test(node_iso_payments, mapping_rules)
{
    cor_node_bic_entry bics[2] = {{.participant = 1}, {.participant = 2}};
    cor_node_bic_normal("AAAARUMM", bics[0].bic);
    cor_node_bic_normal("BBBBRUMM", bics[1].bic);
    cor_node_bic_sort(bics, 2);
    cor_iso_credit_transfer txs[6] = {
        map_tx("AAAARUMM", "BBBBRUMMXXX", "RUB", "T1"), /* settles to participant 2 */
        map_tx("AAAARUMMXXX", "CCCCRUMM", "RUB", "T2"), /* unknown creditor: participant 0 */
        map_tx("AAAARUMM", "BBBBRUMM", "IRR", "T3"),    /* AM03 */
        map_tx("AAAARUMM", "BBBBRUMM", "RUB", NULL),    /* FF01: no key */
        map_tx("AAAARUMM", NULL, "RUB", "T5"),          /* RC04 */
        map_tx(NULL, NULL, "RUB", "T6"),                /* the codec's rejection stands */
    };
    txs[5].reject_reason = "RC02";
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_PACS_008;
    m.transfers = txs;
    m.tx_count = 6;
    cor_node_payment_in payments[6];
    uint32_t event_tx[6];
    const char *reason[6], *info[6];
    cor_node_cmd_xb_payment xb_payments[6];
    uint32_t xb_event_tx[6];
    cor_node_iso_mapping out = {.payments = payments,
                                .event_tx = event_tx,
                                .reason = reason,
                                .info = info,
                                .xb_payments = xb_payments,
                                .xb_event_tx = xb_event_tx};
    cr_assert(cor_node_iso_map_payments(&m, OWN, "RUB", bics, 2, &out));
    cr_assert_eq(out.events, 2);
    cr_assert_eq(event_tx[0], 0);
    cr_assert_eq(payments[0].creditor, 2);
    cr_assert(payments[0].payment_id == cor_node_iso_payment_id(NULL, "T1"));
    cr_assert(payments[0].amount == 100);
    cr_assert_eq(payments[0].e2e_length, 3);
    cr_assert_eq(payments[0].remittance_length, 7);
    cr_assert_eq(event_tx[1], 1);
    cr_assert_eq(payments[1].creditor, 0);
    cr_assert_null(reason[0]);
    cr_assert_null(reason[1]);
    cr_assert_str_eq(reason[2], "AM03");
    cr_assert_str_eq(reason[3], "FF01");
    cr_assert_str_eq(reason[4], "RC04");
    cr_assert_null(reason[5]);

    /* Another bank as debtor agent, or as the AppHdr sender: refused, nothing mapped. */
    txs[3].debtor_agent.bic = "BBBBRUMM";
    cr_assert_not(cor_node_iso_map_payments(&m, OWN, "RUB", bics, 2, &out));
    cr_assert_str_eq(out.forbidden_field, "CdtTrfTxInf[3]/DbtrAgt");
    cr_assert_eq(out.events, 0);
    txs[3].debtor_agent.bic = "AAAARUMM";
    m.header.present = true;
    m.header.from.bic = "BBBBRUMM";
    cr_assert_not(cor_node_iso_map_payments(&m, OWN, "RUB", bics, 2, &out));
    cr_assert_str_eq(out.forbidden_field, "AppHdr/Fr");
    /* A transaction the codec accepted without a debtor agent BIC is not the caller's. */
    m.header.from.bic = "AAAARUMM";
    txs[0].debtor_agent.bic = NULL;
    cr_assert_not(cor_node_iso_map_payments(&m, OWN, "RUB", bics, 2, &out));
}

/* ---- cross-border transactions ---------------------------------------------------------- */

#define XB_UETR "8a562c67-ca16-48ba-b074-65581be6f001"

static cor_iso_credit_transfer xb_tx(const char *instruction, const char *uetr,
                                     const char *currency, const char *creditor)
{
    cor_iso_credit_transfer tx = map_tx("AAAARUMM", "BANKIRTH", currency, NULL);
    tx.uetr = uetr;
    tx.instruction_for_next_agent = instruction;
    tx.creditor_account.other_id = creditor;
    tx.debtor.name = "Ivan Petrov";
    tx.creditor.name = "Ali Rezaei";
    return tx;
}

Test(node_iso_payments, cross_border_mapping)
{
    cor_node_bic_entry bics[1] = {{.participant = 2}};
    cor_node_bic_normal("BBBBRUMM", bics[0].bic);
    cor_iso_credit_transfer txs[9] = {
        xb_tx("/QUOTE/42", XB_UETR, "RUB", "7"),      /* mapped */
        xb_tx("/QUOTE/42", NULL, "RUB", "7"),         /* CH21 */
        xb_tx("/QUOTE/42", XB_UETR, "IRR", "7"),      /* CURR */
        xb_tx("/QUOTE/0", XB_UETR, "RUB", "7"),       /* FF01 */
        xb_tx("/QUOTE/4x", XB_UETR, "RUB", "7"),      /* FF01 */
        xb_tx("/QUOTE/42", XB_UETR, "RUB", NULL),     /* AC03 */
        xb_tx("/QUOTE/42", XB_UETR, "RUB", "0"),      /* AC03 */
        xb_tx("/QUOTE/42", XB_UETR, "RUB", "7"),      /* FF01: control character in a name */
        xb_tx("/PHOB/+98 21 1234", NULL, "RUB", "7"), /* not a quote: domestic, RC04 (BIC) */
    };
    txs[7].creditor.name = "Ali\tRezaei";
    txs[8].creditor_agent.bic = NULL;
    txs[8].transaction_id = "T9";
    cr_assert(cor_node_iso_is_xborder(&txs[0]));
    cr_assert_not(cor_node_iso_is_xborder(&txs[8]));
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_PACS_008;
    m.transfers = txs;
    m.tx_count = 9;
    cor_node_payment_in payments[9];
    uint32_t event_tx[9], xb_event_tx[9];
    const char *reason[9], *info[9];
    cor_node_cmd_xb_payment xb[9];
    cor_node_iso_mapping out = {.payments = payments,
                                .event_tx = event_tx,
                                .reason = reason,
                                .info = info,
                                .xb_payments = xb,
                                .xb_event_tx = xb_event_tx};
    cr_assert(cor_node_iso_map_payments(&m, OWN, "RUB", bics, 1, &out));
    cr_assert_eq(out.events, 0);
    cr_assert_eq(out.xb_events, 1);
    cr_assert_eq(xb_event_tx[0], 0);
    cr_assert(xb[0].quote_id == 42);
    cr_assert(xb[0].uetr == (((cor_u128)0x8a562c67ca1648baull << 64) | 0xb07465581be6f001ull));
    cr_assert(xb[0].creditor_account == cor_node_settlement_id(7));
    cr_assert_eq(xb[0].debtor_name_length, 11);
    cr_assert(memcmp(xb[0].debtor_name, "Ivan Petrov", 11) == 0);
    cr_assert_eq(xb[0].creditor_name_length, 10);
    const char *expected[9] = {NULL,   "CH21", "CURR", "FF01", "FF01",
                               "AC03", "AC03", "FF01", "RC04"};
    for (uint32_t i = 0; i < 9; i++) {
        if (expected[i] == NULL) {
            cr_assert_null(reason[i], "tx %u: %s", i, reason[i]);
        } else {
            cr_assert(reason[i] != NULL && strcmp(reason[i], expected[i]) == 0, "tx %u: %s", i,
                      reason[i] ? reason[i] : "(none)");
            cr_assert_not_null(info[i]);
        }
    }

    /* The quote's checks: whose it is, its source amount, and an XchgRate if given. */
    cor_xb_quote quote = {
        .requester = 1, .amount_source = 100, .rate_num = 485, .rate_den = 1, .spread_ppm = 2000};
    const char *text = NULL;
    cr_assert_null(cor_node_iso_xb_quote_check(&txs[0], &quote, 1, 2, 2, &text));
    cr_assert_str_eq(cor_node_iso_xb_quote_check(&txs[0], NULL, 1, 2, 2, &text), "AM09");
    cr_assert_str_eq(cor_node_iso_xb_quote_check(&txs[0], &quote, 3, 2, 2, &text), "AM09");
    quote.amount_source = 101;
    cr_assert_str_eq(cor_node_iso_xb_quote_check(&txs[0], &quote, 1, 2, 2, &text), "AM09");
    quote.amount_source = 100;
    txs[0].exchange_rate = "484.03";
    cr_assert_null(cor_node_iso_xb_quote_check(&txs[0], &quote, 1, 2, 2, &text));
    txs[0].exchange_rate = "484.2";
    cr_assert_str_eq(cor_node_iso_xb_quote_check(&txs[0], &quote, 1, 2, 2, &text), "AM09");
    cr_assert_str_eq(cor_node_iso_xb_quote_check(&txs[0], &quote, 1, 2, -1, &text), "AM09");
}

Test(node_iso_payments, exchange_rate_within_its_last_digit)
{
    /* 485 * 0.998 = 484.03 destination minor units per source minor unit. */
    static const char *const near[] = {"484.03", "484.02",     "484.04", "484.0",
                                       "484",    "484.030000", "484.1",  "485"};
    for (size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++)
        cr_assert(cor_node_iso_rate_matches(near[i], 485, 1, 2000, 2, 2), "%s", near[i]);
    static const char *const far[] = {"484.05",  "484.01",  "484.2",       "486",      "482",
                                      "484.032", "-484.03", "+484.03",     "4.8403e2", "",
                                      ".",       "484..0",  "123456789012"};
    for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++)
        cr_assert_not(cor_node_iso_rate_matches(far[i], 485, 1, 2000, 2, 2), "%s", far[i]);
    /* Major units: 1 JPY (no decimals) buys 0.63 RUB (two): 63 RUB minor units per JPY. */
    cr_assert(cor_node_iso_rate_matches("0.63", 63, 1, 0, 0, 2));
    cr_assert_not(cor_node_iso_rate_matches("63", 63, 1, 0, 0, 2));
    /* 1 RUB buys 1.6 JPY: 16 JPY per 1,000 RUB minor units (den 1000, 2 decimals -> 0). */
    cr_assert(cor_node_iso_rate_matches("1.6", 16, 1000, 0, 2, 0));
    cr_assert_not(cor_node_iso_rate_matches("0.016", 16, 1000, 0, 2, 0));
    /* Out of range arguments never match. */
    cr_assert_not(cor_node_iso_rate_matches("1", 0, 1, 0, 2, 2));
    cr_assert_not(cor_node_iso_rate_matches("1", 1, 0, 0, 2, 2));
    cr_assert_not(cor_node_iso_rate_matches("1", 1, 1, 1000000, 2, 2));
    cr_assert_not(cor_node_iso_rate_matches("1", 1, 1, 0, 5, 2));
    cr_assert_not(cor_node_iso_rate_matches(NULL, 1, 1, 0, 2, 2));
    /* The largest operands stay exact (no overflow). */
    cr_assert(cor_node_iso_rate_matches("1", UINT64_MAX, UINT64_MAX, 0, 4, 4));
    cr_assert(cor_node_iso_rate_matches("99999999999", UINT64_MAX, 1, 0, 0, 4) == false);
}
