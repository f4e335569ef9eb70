/* Answers built for the node (src/iso20022/iso_build.c): pacs.002 from a parsed pacs.008,
 * the group status, and the camt.053 balance check. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/iso_support.h"
#include "corridor/iso20022.h"

#define BUILD_REQUEST                                                                              \
    "<Envelope xmlns=\"urn:swift:xsd:envelope\"><AppHdr xmlns=\"urn:iso:std:iso:20022:tech:"       \
    "xsd:head.001.001.02\"><Fr><FIId><FinInstnId><BICFI>BANKRUMM</BICFI></FinInstnId></FIId>"      \
    "</Fr><To><FIId><FinInstnId><BICFI>CBRFRUMM</BICFI></FinInstnId></FIId></To><BizMsgIdr>R1"     \
    "</BizMsgIdr><MsgDefIdr>pacs.008.001.08</MsgDefIdr><CreDt>2026-07-02T10:00:00Z</CreDt>"        \
    "</AppHdr><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">"                 \
    "<FIToFICstmrCdtTrf><GrpHdr><MsgId>R1</MsgId><CreDtTm>2026-07-02T10:00:00Z</CreDtTm>"          \
    "<NbOfTxs>2</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>"                  \
    "<CdtTrfTxInf><PmtId><InstrId>I1</InstrId><EndToEndId>E1</EndToEndId><UETR>"                   \
    "8a562c67-ca16-48ba-b074-65581be6f001</UETR></PmtId><IntrBkSttlmAmt Ccy=\"RUB\">5.00"          \
    "</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm></Dbtr><DbtrAgt><FinInstnId><BICFI>"    \
    "BANKRUMM</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>BANKRUMM</BICFI>"          \
    "</FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm></Cdtr></CdtTrfTxInf>"                                 \
    "<CdtTrfTxInf><PmtId><EndToEndId>E2</EndToEndId></PmtId><IntrBkSttlmAmt Ccy=\"RUB\">1.001"     \
    "</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm></Dbtr><DbtrAgt><FinInstnId><BICFI>"    \
    "BANKRUMM</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>BANKRUMM</BICFI>"          \
    "</FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm></Cdtr></CdtTrfTxInf></FIToFICstmrCdtTrf>"             \
    "</Document></Envelope>"

Test(iso20022_build, status_report_answers_each_transaction)
{
    cor_test_iso_require_data();
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_iso_message request;
    cor_iso_message_init(&request);
    cr_assert_eq(cor_iso_parse(parser, BUILD_REQUEST, strlen(BUILD_REQUEST), &request), COR_OK);
    cr_assert_eq(request.rejected_tx_count, 1);
    cor_iso_related_tx related[2];
    cor_iso_message report;
    cr_assert_eq(cor_iso_status_report_init(&request, "A1", "2026-07-02T10:00:01Z", "ACSC", related,
                                            &report),
                 COR_OK);
    cr_assert_eq(report.type, COR_ISO_MSG_PACS_002);
    cr_assert_str_eq(report.related[0].status, "ACSC");
    cr_assert_str_eq(report.related[0].original_uetr, "8a562c67-ca16-48ba-b074-65581be6f001");
    cr_assert_str_eq(report.related[1].status, "RJCT");
    cr_assert_str_eq(report.related[1].reason, "CH20");
    cr_assert_str_eq(report.group.group_status, "PART");
    cr_assert_str_eq(report.group.original_msg_id, "R1");
    cr_assert_str_eq(report.header.to.bic, "BANKRUMM");
    cr_assert_str_eq(report.header.from.bic, "CBRFRUMM");
    char error[512] = "";
    cr_assert(cor_test_iso_roundtrip(parser, &report, error, sizeof(error)), "%s", error);
    /* The ledger refuses the first one later: the node edits and recomputes the group. */
    related[0].status = "RJCT";
    related[0].reason = "AM04";
    report.group.group_status = cor_iso_group_status_of(related, 2);
    cr_assert_str_eq(report.group.group_status, "RJCT");
    cr_assert(cor_test_iso_roundtrip(parser, &report, error, sizeof(error)), "%s", error);
    cr_assert_eq(cor_iso_status_report_init(&request, "A1", "2026-07-02T10:00:01Z", "XXXX", related,
                                            &report),
                 COR_ERR_INVALID);
    cr_assert_eq(cor_iso_status_report_init(&request, NULL, "2026-07-02T10:00:01Z", "ACSC", related,
                                            &report),
                 COR_ERR_INVALID);
    cor_iso_message_release(&request);
    cor_iso_parser_close(parser);
}

Test(iso20022_build, group_status_summary)
{
    cor_iso_related_tx txs[3] = {{.status = "ACSC"}, {.status = "ACSC"}, {.status = "ACSC"}};
    cr_assert_str_eq(cor_iso_group_status_of(txs, 3), "ACSC");
    txs[1].status = "RJCT";
    cr_assert_str_eq(cor_iso_group_status_of(txs, 3), "PART");
    txs[1].status = "ACSP";
    cr_assert_null(cor_iso_group_status_of(txs, 3));
    txs[0].status = txs[1].status = txs[2].status = "ACFC"; /* not a group status code */
    cr_assert_null(cor_iso_group_status_of(txs, 3));
    cr_assert_null(cor_iso_group_status_of(txs, 0));
}

Test(iso20022_build, statement_balances)
{
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_CAMT_053;
    m.report.balance_count = 2;
    m.report.balances[0] = (cor_iso_balance){
        .type = "OPBD", .credit = true, .amount = {.amount_minor = 1000, .currency = "IRR"}};
    m.report.balances[1] = (cor_iso_balance){
        .type = "CLBD", .credit = false, .amount = {.amount_minor = 500, .currency = "IRR"}};
    cor_iso_entry entries[3] = {
        {.amount = {.amount_minor = 2000, .currency = "IRR"}, .credit = false, .status = "BOOK"},
        {.amount = {.amount_minor = 500, .currency = "IRR"}, .credit = true, .status = "BOOK"},
        {.amount = {.amount_minor = 9999, .currency = "IRR"}, .credit = true, .status = "PDNG"},
    };
    m.entries = entries;
    m.tx_count = 3;
    cr_assert(cor_iso_statement_balanced(&m)); /* 1000 - 2000 + 500 = -500 */
    entries[1].amount.amount_minor = 501;
    cr_assert_not(cor_iso_statement_balanced(&m));
    entries[1].amount.amount_minor = 500;
    memcpy(entries[0].amount.currency, "RUB", 4);
    cr_assert_not(cor_iso_statement_balanced(&m));
    memcpy(entries[0].amount.currency, "IRR", 4);
    m.report.balance_count = 1;
    cr_assert_not(cor_iso_statement_balanced(&m));
}
