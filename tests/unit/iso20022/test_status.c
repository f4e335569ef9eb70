/*
 * Messages the node writes from plain C structs: pacs.002, pacs.004, pacs.028, camt.056,
 * camt.029, camt.053, camt.054 and a lone AppHdr. Each must serialize to XML the official
 * schema accepts and read back to the same fields.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/iso_support.h"
#include "corridor/iso20022.h"

static const cor_iso_agent status_bank_a = {.bic = "BANKRUMMXXX"};
static const cor_iso_agent status_bank_b = {
    .bic = "BANKIRTH", .clearing_system = "USABA", .member_id = "021040078"};

static cor_iso_parser *status_parser;

static void status_setup(void)
{
    cor_test_iso_require_data();
    cr_assert_eq(cor_iso_parser_open(NULL, &status_parser), COR_OK);
}

static void status_teardown(void)
{
    cor_iso_parser_close(status_parser);
}

TestSuite(iso20022_status, .init = status_setup, .fini = status_teardown);

static void status_check(cor_iso_message *m)
{
    char error[512] = "";
    cr_assert(cor_test_iso_roundtrip(status_parser, m, error, sizeof(error)), "%s: %s",
              cor_iso_msg_type_name(m->type), error);
    m->header.present = false; /* and the bare Document form */
    cr_assert(cor_test_iso_roundtrip(status_parser, m, error, sizeof(error)), "%s: %s",
              cor_iso_msg_type_name(m->type), error);
}

static void status_base(cor_iso_message *m, cor_iso_msg_type type)
{
    cor_iso_message_init(m);
    m->type = type;
    m->header = (cor_iso_app_header){.present = true,
                                     .from = status_bank_b,
                                     .to = status_bank_a,
                                     .business_msg_id = "NODE-1",
                                     .created = "2026-07-02T10:31:00Z"};
    m->group.msg_id = "NODE-1";
    m->group.created = "2026-07-02T10:31:00Z";
}

static cor_iso_related_tx status_tx(const char *status, const char *reason)
{
    return (cor_iso_related_tx){.id = "S-1",
                                .original_msg_id = "GEN-1",
                                .original_msg_name = "pacs.008.001.08",
                                .original_instruction_id = "INSTR-1",
                                .original_end_to_end_id = "E2E-1",
                                .original_transaction_id = "T1",
                                .original_uetr = "8a562c67-ca16-48ba-b074-65581be6f001",
                                .status = status,
                                .reason = reason,
                                .additional_info = "insufficient funds"};
}

Test(iso20022_status, pacs002_status_report)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_PACS_002);
    m.group.original_msg_id = "GEN-1";
    m.group.original_msg_name = "pacs.008.001.08";
    m.group.group_status = "PART";
    cor_iso_related_tx txs[2] = {status_tx("ACSC", NULL), status_tx("RJCT", "AM04")};
    txs[0].additional_info = NULL;
    txs[1].instructing_agent = status_bank_b;
    m.related = txs;
    m.tx_count = 2;
    status_check(&m);
    txs[0].status = "XXXX"; /* not a transaction status code: the schema would take it */
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
}

Test(iso20022_status, pacs004_return)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_PACS_004);
    m.group.settlement_method = "CLRG";
    m.group.total_settlement = (cor_iso_amount){.amount_minor = 125000, .currency = "IRR"};
    cor_iso_related_tx tx = status_tx(NULL, "AC04");
    tx.amount = (cor_iso_amount){.amount_minor = 125000, .currency = "IRR"};
    tx.settlement_date = "2026-07-03";
    tx.charge_bearer = "SLEV";
    m.related = &tx;
    m.tx_count = 1;
    status_check(&m);
    m.type = COR_ISO_MSG_PACS_004_V10; /* FedNow's version, same fields */
    m.header.present = true;
    status_check(&m);
}

Test(iso20022_status, pacs028_status_request)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_PACS_028);
    cor_iso_related_tx tx = status_tx(NULL, NULL);
    tx.additional_info = NULL;
    m.related = &tx;
    m.tx_count = 1;
    status_check(&m);
}

Test(iso20022_status, camt056_and_camt029)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_CAMT_056);
    m.group.instructing_agent = status_bank_a;
    m.group.instructed_agent = status_bank_b;
    cor_iso_related_tx tx = status_tx(NULL, "DUPL");
    tx.amount = (cor_iso_amount){.amount_minor = 7, .currency = "RUB"};
    tx.settlement_date = "2026-07-02";
    m.related = &tx;
    m.tx_count = 1;
    status_check(&m);
    status_base(&m, COR_ISO_MSG_CAMT_029);
    m.group.instructing_agent = status_bank_b;
    m.group.group_status = "RJCR";
    cor_iso_related_tx answer = status_tx("RJCR", "LEGL");
    answer.additional_info = NULL;
    m.related = &answer;
    m.tx_count = 1;
    status_check(&m);
}

Test(iso20022_status, camt053_statement_and_camt054_notification)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_CAMT_053);
    m.report = (cor_iso_report){.id = "STMT-1",
                                .created = "2026-07-02T23:59:59Z",
                                .account = {.other_id = "RU-0001", .currency = "RUB"},
                                .account_owner = "Bank A",
                                .account_servicer = status_bank_b,
                                .balance_count = 2};
    m.report.balances[0] = (cor_iso_balance){.type = "OPBD",
                                             .credit = true,
                                             .date = "2026-07-02",
                                             .amount = {.amount_minor = 10000, .currency = "RUB"}};
    m.report.balances[1] = (cor_iso_balance){.type = "CLBD",
                                             .credit = false,
                                             .date = "2026-07-02T23:59:59Z",
                                             .amount = {.amount_minor = 500, .currency = "RUB"}};
    cor_iso_entry entries[2] = {
        {.amount = {.amount_minor = 10500, .currency = "RUB"},
         .credit = false,
         .status = "BOOK",
         .booking_date = "2026-07-02",
         .value_date = "2026-07-02",
         .servicer_ref = "R1",
         .domain = "PMNT",
         .family = "ICDT",
         .subfamily = "XBCT",
         .end_to_end_id = "E2E-1",
         .uetr = "8a562c67-ca16-48ba-b074-65581be6f001",
         .remittance = "invoice 1"},
        {.reference = "N2",
         .amount = {.amount_minor = 0, .currency = "RUB"},
         .credit = true,
         .status = "PDNG",
         .proprietary = "corridor-fee"},
    };
    m.entries = entries;
    m.tx_count = 2;
    status_check(&m);
    m.type = COR_ISO_MSG_CAMT_054;
    m.header.present = true;
    m.report.balance_count = 0;
    status_check(&m);
    m.type = COR_ISO_MSG_CAMT_053; /* a statement without balances is refused */
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
}

Test(iso20022_status, lone_app_header)
{
    cor_iso_message m;
    status_base(&m, COR_ISO_MSG_HEAD_001);
    m.header.msg_def_id = "pacs.008.001.08";
    m.header.business_service = "swift.cbprplus.02";
    char error[512] = "";
    cr_assert(cor_test_iso_roundtrip(status_parser, &m, error, sizeof(error)), "%s", error);
}
