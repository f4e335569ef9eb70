/* pacs.008 / pacs.009: per-transaction verdicts, group totals, generated round trips. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/iso_support.h"
#include "corridor/iso20022.h"

#define P008_TX_COUNT 40u

static const cor_iso_agent p008_bank_a = {.bic = "BANKRUMMXXX"};
static const cor_iso_agent p008_bank_b = {.bic = "BANKIRTH", .name = "Bank B"};

static void p008_build(cor_iso_message *m, cor_iso_credit_transfer *txs, uint32_t count,
                       char ids[][3][40])
{
    memset(txs, 0, sizeof(*txs) * count);
    cor_iso_message_init(m);
    m->type = COR_ISO_MSG_PACS_008;
    m->header = (cor_iso_app_header){.present = true,
                                     .from = p008_bank_a,
                                     .to = p008_bank_b,
                                     .business_msg_id = "GEN-1",
                                     .msg_def_id = "pacs.008.001.08",
                                     .created = "2026-07-02T10:30:00Z"};
    m->group.msg_id = "GEN-1";
    m->group.created = "2026-07-02T10:30:00.5+03:30";
    m->group.settlement_method = "CLRG";
    m->group.clearing_system = "CRX";
    for (uint32_t i = 0; i < count; i++) {
        cor_iso_credit_transfer *tx = &txs[i];
        snprintf(ids[i][0], 40, "E2E-%u", i);
        snprintf(ids[i][1], 40, "INSTR-%u", i);
        snprintf(ids[i][2], 40, "8a562c67-ca16-48ba-b074-%012x", i);
        tx->end_to_end_id = ids[i][0];
        tx->instruction_id = ids[i][1];
        tx->uetr = ids[i][2];
        tx->settlement_amount.amount_minor = 100u + i;
        memcpy(tx->settlement_amount.currency, i % 2 ? "IRR" : "RUB", 4);
        tx->charge_bearer = "SLEV";
        tx->debtor = (cor_iso_party){.name = "Debtor <&> \"Co\"", .country = "RU"};
        tx->debtor_account.iban = "DE89370400440532013000";
        tx->debtor_agent = p008_bank_a;
        tx->creditor_agent = p008_bank_b;
        tx->creditor = (cor_iso_party){.name = "Кредитор", .lei = "5493001KJTIIGC8Y1R12"};
        tx->creditor_account.other_id = "IR-ACC-1";
        tx->remittance = "invoice 42";
        tx->exchange_rate = i % 4 == 2 ? "4.8403" : NULL;
        tx->instruction_for_next_agent = i % 3 ? NULL : "/QUOTE/7922816251426433759354395033";
    }
    m->tx_count = count;
    m->transfers = txs;
}

Test(iso20022_pacs008, generated_batch_round_trips_and_validates)
{
    cor_test_iso_require_data();
    static cor_iso_credit_transfer txs[P008_TX_COUNT];
    static char ids[P008_TX_COUNT][3][40];
    cor_iso_message m;
    p008_build(&m, txs, P008_TX_COUNT, ids);
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    char error[512] = "";
    cr_assert(cor_test_iso_roundtrip(parser, &m, error, sizeof(error)), "%s", error);
    m.type = COR_ISO_MSG_PACS_009;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &size), COR_ERR_INVALID,
                 "MsgDefIdr pacs.008 on a pacs.009 must be refused");
    m.header.msg_def_id = NULL; /* filled in from the type */
    for (uint32_t i = 0; i < P008_TX_COUNT; i++) {
        txs[i].debtor = (cor_iso_party){.bic = "BANKRUMM", .name = "Bank A"};
        txs[i].creditor = (cor_iso_party){.bic = "BANKIRTH", .country = "IR"};
    }
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID, "ChrgBr on pacs.009");
    for (uint32_t i = 0; i < P008_TX_COUNT; i++)
        txs[i].charge_bearer = NULL;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID, "XchgRate on pacs.009");
    for (uint32_t i = 0; i < P008_TX_COUNT; i++)
        txs[i].exchange_rate = NULL;
    cr_assert(cor_test_iso_roundtrip(parser, &m, error, sizeof(error)), "%s", error);
    cor_iso_parser_close(parser);
}

/* Serializes m, then applies one text substitution per (from, to) pair. */
static char *p008_mutate(const cor_iso_message *m, const char *const *edits, size_t *size_out)
{
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(m, 0, &xml, &size), COR_OK);
    char *text = malloc(size + 4096);
    memcpy(text, xml, size + 1);
    cor_iso_free(xml);
    for (size_t i = 0; edits[i] != NULL; i += 2) {
        char *at = strstr(text, edits[i]);
        cr_assert_not_null(at, "edit target '%s' missing", edits[i]);
        size_t from = strlen(edits[i]), to = strlen(edits[i + 1]);
        memmove(at + to, at + from, strlen(at + from) + 1);
        memcpy(at, edits[i + 1], to);
    }
    *size_out = strlen(text);
    return text;
}

Test(iso20022_pacs008, each_transaction_gets_its_own_reason)
{
    static cor_iso_credit_transfer txs[6];
    static char ids[6][3][40];
    cor_iso_message m;
    p008_build(&m, txs, 6, ids);
    const char *edits[] = {
        "<IntrBkSttlmAmt Ccy=\"IRR\">1.01</IntrBkSttlmAmt>",
        "<IntrBkSttlmAmt Ccy=\"IRR\">1.011</IntrBkSttlmAmt>",
        "<IntrBkSttlmAmt Ccy=\"RUB\">1.02</IntrBkSttlmAmt>",
        "<IntrBkSttlmAmt Ccy=\"ABC\">1.02</IntrBkSttlmAmt>",
        "<InstrId>INSTR-3</InstrId>",
        "<InstrId>INSTR-2</InstrId>",
        "<IntrBkSttlmAmt Ccy=\"RUB\">1.04</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>Debtor "
        "&lt;&amp;&gt; &quot;Co&quot;</Nm><PstlAdr><Ctry>RU</Ctry></PstlAdr></Dbtr><DbtrAcct><Id>"
        "<IBAN>DE89370400440532013000</IBAN>",
        "<IntrBkSttlmAmt Ccy=\"RUB\">1.04</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>Debtor "
        "&lt;&amp;&gt; &quot;Co&quot;</Nm><PstlAdr><Ctry>RU</Ctry></PstlAdr></Dbtr><DbtrAcct><Id>"
        "<IBAN>DE89370400440532013001</IBAN>",
        "<IntrBkSttlmAmt Ccy=\"IRR\">1.05</IntrBkSttlmAmt>",
        "<IntrBkSttlmAmt Ccy=\"IRR\">0</IntrBkSttlmAmt>",
        NULL};
    size_t size = 0;
    char *xml = p008_mutate(&m, edits, &size);
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_iso_message parsed;
    cor_iso_message_init(&parsed);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_OK);
    cr_assert_eq(parsed.tx_count, 6);
    const char *expected[6] = {NULL, "CH20", "AM11", "DU05", "AC02", "AM01"};
    for (uint32_t i = 0; i < 6; i++) {
        const char *got = parsed.transfers[i].reject_reason;
        if (expected[i] == NULL) {
            cr_assert_null(got, "tx %u rejected with %s", i, got);
        } else {
            cr_assert_not_null(got, "tx %u accepted", i);
            cr_assert_str_eq(got, expected[i], "tx %u", i);
        }
    }
    cr_assert_eq(parsed.rejected_tx_count, 5);
    cr_assert_eq(parsed.transfers[0].settlement_amount.amount_minor, 100);
    cr_assert_str_eq(parsed.transfers[0].debtor.name, "Debtor <&> \"Co\"");
    cr_assert_str_eq(parsed.transfers[0].instruction_for_next_agent,
                     "/QUOTE/7922816251426433759354395033");
    cr_assert_null(parsed.transfers[1].instruction_for_next_agent);
    cr_assert_null(parsed.transfers[0].exchange_rate);
    free(xml);
    cor_iso_message_release(&parsed);
    cor_iso_parser_close(parser);
}

Test(iso20022_pacs008, group_totals_must_match)
{
    static cor_iso_credit_transfer txs[2];
    static char ids[2][3][40];
    cor_iso_message m;
    p008_build(&m, txs, 2, ids);
    m.group.control_sum = "2.01";
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_iso_message parsed;
    cor_iso_message_init(&parsed);
    size_t size = 0;
    const char *good[] = {NULL};
    char *xml = p008_mutate(&m, good, &size);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_OK); /* 1.00 RUB + 1.01 IRR */
    free(xml);
    const char *bad_sum[] = {"<CtrlSum>2.01</CtrlSum>", "<CtrlSum>2.02</CtrlSum>", NULL};
    xml = p008_mutate(&m, bad_sum, &size);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_ERR_XML_INVALID);
    cr_assert_str_eq(parsed.findings[0].reason, "AM10");
    free(xml);
    const char *bad_count[] = {"<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>", NULL};
    xml = p008_mutate(&m, bad_count, &size);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_ERR_XML_INVALID);
    cr_assert_str_eq(parsed.findings[0].reason, "AM18");
    free(xml);
    /* A transaction rejected for its own amount still counts as written towards CtrlSum:
     * only it is rejected, not the whole message. */
    const char *own_reason[] = {"<IntrBkSttlmAmt Ccy=\"IRR\">1.01</IntrBkSttlmAmt>",
                                "<IntrBkSttlmAmt Ccy=\"JPY\">1.01</IntrBkSttlmAmt>", NULL};
    xml = p008_mutate(&m, own_reason, &size);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_OK);
    cr_assert_eq(parsed.rejected_tx_count, 1);
    cr_assert_str_eq(parsed.transfers[1].reject_reason, "CH20");
    free(xml);
    const char *bad_date[] = {"2026-07-02T10:30:00.5+03:30", "2026-02-30T10:30:00", NULL};
    xml = p008_mutate(&m, bad_date, &size);
    cr_assert_eq(cor_iso_parse(parser, xml, size, &parsed), COR_ERR_XML_INVALID);
    cr_assert_str_eq(parsed.findings[0].reason, "DT02");
    free(xml);
    cor_iso_message_release(&parsed);
    cor_iso_parser_close(parser);
}

Test(iso20022_pacs008, serializer_refuses_invalid_values)
{
    static cor_iso_credit_transfer txs[1];
    static char ids[1][3][40];
    cor_iso_message m;
    p008_build(&m, txs, 1, ids);
    char *xml = NULL;
    size_t size = 0;
    txs[0].debtor_agent.bic = "NOTABIC";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    cr_assert_null(xml);
    txs[0].debtor_agent.bic = "BANKRUMM";
    memcpy(txs[0].settlement_amount.currency, "XYZ", 4);
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    memcpy(txs[0].settlement_amount.currency, "RUB", 4);
    txs[0].end_to_end_id = NULL;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    txs[0].end_to_end_id = "E2E";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    cor_iso_free(xml);
    /* Texts the schema or XML cannot carry are refused, never written. */
    static char long_name[200];
    memset(long_name, 'x', 141);
    const char *bad_names[] = {long_name,           "bad \xff utf-8",
                               "control \x01 char", "surrogate \xed\xa0\x80",
                               "overlong \xc0\xaf", ""};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        txs[0].debtor.name = bad_names[i];
        xml = NULL;
        cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID, "name %zu", i);
        cr_assert_null(xml);
    }
    long_name[140] = '\0';
    txs[0].debtor.name = long_name; /* exactly Max140Text */
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    cor_iso_free(xml);
    txs[0].debtor.country = "ru";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    txs[0].debtor.country = "RU";
    m.group.control_sum = "1.2.3";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    m.group.control_sum = NULL;
    m.group.settlement_method = "FAST";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    m.group.settlement_method = "CLRG";
    txs[0].creditor_account.other_id = "12345678901234567890123456789012345"; /* 35 > 34 */
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    txs[0].creditor_account.other_id = "7";
    /* XchgRate is a BaseOneRate (11 digits, 10 after the point); InstrInf a Max140Text. */
    const char *bad_rates[] = {"1.2.3", "123456789012", "0.12345678901", "1e3", "", " 1"};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        txs[0].exchange_rate = bad_rates[i];
        cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID, "rate %zu", i);
    }
    txs[0].exchange_rate = "12345678901";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    cor_iso_free(xml);
    static char long_instruction[160];
    memset(long_instruction, 'y', 141);
    txs[0].instruction_for_next_agent = long_instruction; /* 141 characters */
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    txs[0].instruction_for_next_agent = "";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
    txs[0].instruction_for_next_agent = "/QUOTE/1";
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    cor_iso_free(xml);
    m.type = COR_ISO_MSG_NONE;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_ERR_INVALID);
}
