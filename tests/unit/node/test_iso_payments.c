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
