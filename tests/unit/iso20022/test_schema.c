/*
 * Structural validation from the generated XSD tables (iso_schema.c, iso_validate.c, the
 * schema pass in iso_map.c): unknown, misordered, repeated and missing elements, text facets
 * of elements the mapper does not model, and the pattern matcher on every ISO pattern shape.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/iso20022.h"
#include "iso20022/iso_internal.h"

#define SCHEMA_HEAD                                                                                \
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>"       \
    "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-07-02T10:00:00Z</CreDtTm><NbOfTxs>2</NbOfTxs>"          \
    "<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>"
#define SCHEMA_TAIL      "</FIToFICstmrCdtTrf></Document>"
#define SCHEMA_TX_OPEN   "<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId>"
#define SCHEMA_TX_AMOUNT "<IntrBkSttlmAmt Ccy=\"EUR\">1.00</IntrBkSttlmAmt>"
#define SCHEMA_TX_REST                                                                             \
    "<ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm>"                                                        \
    "</Dbtr><DbtrAgt><FinInstnId><BICFI>BANKRUMM</BICFI></FinInstnId></DbtrAgt><CdtrAgt>"          \
    "<FinInstnId><BICFI>BANKIRTH</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm></Cdtr>"
#define SCHEMA_TX_BODY SCHEMA_TX_AMOUNT SCHEMA_TX_REST
#define SCHEMA_TX      SCHEMA_TX_OPEN SCHEMA_TX_BODY "</CdtTrfTxInf>"

static cor_iso_parser *schema_parser;
static cor_iso_message schema_message;

static void schema_setup(void)
{
    cr_assert_eq(cor_iso_parser_open(NULL, &schema_parser), COR_OK);
    cor_iso_message_init(&schema_message);
}

static void schema_teardown(void)
{
    cor_iso_message_release(&schema_message);
    cor_iso_parser_close(schema_parser);
}

TestSuite(iso20022_schema, .init = schema_setup, .fini = schema_teardown);

static cor_error schema_parse(const char *xml)
{
    return cor_iso_parse(schema_parser, xml, strlen(xml), &schema_message);
}

/* The second transaction is bad; the first must stay accepted. */
static void schema_expect_tx(const char *second_tx, const char *path, const char *text)
{
    char xml[4096];
    snprintf(xml, sizeof(xml), "%s%s%s%s", SCHEMA_HEAD, SCHEMA_TX, second_tx, SCHEMA_TAIL);
    cr_assert_eq(schema_parse(xml), COR_OK, "%s", schema_message.findings[0].text);
    cr_assert_null(schema_message.transfers[0].reject_reason, "first tx rejected");
    cr_assert_not_null(schema_message.transfers[1].reject_reason, "second tx accepted");
    const cor_iso_finding *finding = &schema_message.findings[0];
    cr_assert_eq(finding->tx_index, 1);
    cr_assert_str_eq(finding->reason, "FF01");
    cr_assert_not_null(strstr(finding->path, path), "path %s, expected %s (%s)", finding->path,
                       path, finding->text);
    cr_assert_not_null(strstr(finding->text, text), "text %s", finding->text);
}

Test(iso20022_schema, valid_minimal_batch)
{
    cr_assert_eq(schema_parse(SCHEMA_HEAD SCHEMA_TX SCHEMA_TX SCHEMA_TAIL), COR_OK);
    cr_assert_eq(schema_message.finding_total, 0, "%s %s", schema_message.findings[0].path,
                 schema_message.findings[0].text);
}

Test(iso20022_schema, transaction_structure_is_per_transaction)
{
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_BODY "<Foo/></CdtTrfTxInf>", "CdtTrfTxInf/Foo",
                     "unexpected element");
    schema_expect_tx("<CdtTrfTxInf><IntrBkSttlmAmt Ccy=\"EUR\">1.00</IntrBkSttlmAmt><PmtId>"
                     "<EndToEndId>E</EndToEndId></PmtId><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm>"
                     "</Dbtr><DbtrAgt>"
                     "<FinInstnId><BICFI>BANKRUMM</BICFI></FinInstnId></DbtrAgt><CdtrAgt>"
                     "<FinInstnId><BICFI>BANKIRTH</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm>"
                     "</Cdtr></CdtTrfTxInf>",
                     "PmtId", "out of order");
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_AMOUNT "<SttlmPrty>FAST</SttlmPrty>" SCHEMA_TX_REST
                                                     "</CdtTrfTxInf>",
                     "SttlmPrty", "not in the schema's list");
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_BODY "<UltmtCdtr><CtryOfRes>usa</CtryOfRes>"
                                                   "</UltmtCdtr></CdtTrfTxInf>",
                     "CtryOfRes", "pattern");
    schema_expect_tx("<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><PmtTpInf><LclInstrm>"
                     "</LclInstrm></PmtTpInf>" SCHEMA_TX_BODY "</CdtTrfTxInf>",
                     "LclInstrm", "choice");
    schema_expect_tx("<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><IntrBkSttlmAmt Ccy="
                     "\"EUR\">1.00</IntrBkSttlmAmt><XchgRate>1.12345678901</XchgRate>"
                     "<ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm></Dbtr><DbtrAgt><FinInstnId><BICFI>"
                     "BANKRUMM</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>"
                     "BANKIRTH</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm></Cdtr>"
                     "</CdtTrfTxInf>",
                     "XchgRate", "fraction digits");
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_BODY "<Purp><Cd>GDDS</Cd><Prtry>X</Prtry></Purp>"
                                                   "</CdtTrfTxInf>",
                     "Purp", "choice allows one element");
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_BODY "<RmtInf>text</RmtInf></CdtTrfTxInf>", "RmtInf",
                     "text not allowed");
    schema_expect_tx(SCHEMA_TX_OPEN SCHEMA_TX_BODY "<Tax><Dt>2026-13-01</Dt></Tax></CdtTrfTxInf>",
                     "Tax/Dt", "invalid date");
}

Test(iso20022_schema, group_structure_rejects_the_message)
{
    const char *misordered =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>"
        "<GrpHdr><CreDtTm>2026-07-02T10:00:00Z</CreDtTm><MsgId>M</MsgId><NbOfTxs>1</NbOfTxs>"
        "<SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>" SCHEMA_TX SCHEMA_TAIL;
    cr_assert_eq(schema_parse(misordered), COR_ERR_XML_INVALID);
    cr_assert_not_null(strstr(schema_message.findings[0].text, "out of order"));
    const char *foreign =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\" xmlns:x=\"urn:x\">"
        "<FIToFICstmrCdtTrf><GrpHdr><MsgId>M</MsgId><x:Extra/><CreDtTm>2026-07-02T10:00:00Z"
        "</CreDtTm><NbOfTxs>1</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></"
        "GrpHdr>" SCHEMA_TX SCHEMA_TAIL;
    cr_assert_eq(schema_parse(foreign), COR_ERR_XML_INVALID);
    cr_assert_not_null(strstr(schema_message.findings[0].text, "another namespace"));
    const char *repeated =
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>"
        "<GrpHdr><MsgId>M</MsgId><MsgId>N</MsgId><CreDtTm>2026-07-02T10:00:00Z</CreDtTm>"
        "<NbOfTxs>1</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>" SCHEMA_TX
            SCHEMA_TAIL;
    cr_assert_eq(schema_parse(repeated), COR_ERR_XML_INVALID);
    cr_assert_not_null(strstr(schema_message.findings[0].text, "repeated"));
}

Test(iso20022_schema, every_iso_pattern_shape)
{
    cr_assert(cor__iso_pattern_match("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}",
                                     "DEUTDEFF500"));
    cr_assert(cor__iso_pattern_match("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}",
                                     "DEUTDEFF"));
    cr_assert_not(cor__iso_pattern_match("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}",
                                         "DEUTDEFF50"));
    cr_assert_not(cor__iso_pattern_match("[A-Z0-9]{4,4}[A-Z]{2,2}[A-Z0-9]{2,2}([A-Z0-9]{3,3}){0,1}",
                                         "WRONGUS33XXX"));
    cr_assert(cor__iso_pattern_match("[A-Z]{3,3}", "EUR"));
    cr_assert_not(cor__iso_pattern_match("[A-Z]{3,3}", "EURO"));
    cr_assert(cor__iso_pattern_match("[a-zA-Z0-9]{4}", "aB9z"));
    cr_assert(cor__iso_pattern_match("\\+[0-9]{1,3}-[0-9()+\\-]{1,30}", "+7-(495)123-45-67"));
    cr_assert_not(cor__iso_pattern_match("\\+[0-9]{1,3}-[0-9()+\\-]{1,30}", "7-495"));
    cr_assert(cor__iso_pattern_match("[0-9]{1,15}", "123456789012345"));
    cr_assert_not(cor__iso_pattern_match("[0-9]{1,15}", "1234567890123456"));
    cr_assert_not(cor__iso_pattern_match("[0-9]{1,15}", ""));
    cr_assert(cor__iso_pattern_match("[\\+]{0,1}[0-9]{1,15}", "+42"));
    cr_assert(cor__iso_pattern_match("[A-Z]{2,2}[A-Z0-9]{9,9}[0-9]{1,1}", "US0378331005"));
    cr_assert(cor__iso_pattern_match(
        "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}",
        "8a562c67-ca16-48ba-b074-65581be6f001"));
    cr_assert_not(cor__iso_pattern_match(
        "[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}",
        "8a562c67-ca16-38ba-b074-65581be6f001"));
    cr_assert(
        cor__iso_pattern_match("[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}", "DE89370400440532013000"));
}

Test(iso20022_schema, text_facets)
{
    const cor__iso_schema *schema = cor__iso_schema_find("pacs.008.001.08");
    cr_assert_not_null(schema);
    cr_assert_null(cor__iso_schema_find("pacs.008.001.07"));
    cor__iso_type decimal = {.kind = COR_ISO_SCHEMA_SIMPLE,
                             .text = COR_ISO_TEXT_DECIMAL,
                             .digits_total = 5,
                             .digits_fraction = 2,
                             .non_negative = 1};
    cr_assert_null(cor__iso_text_check(&decimal, "123.45"));
    cr_assert_null(cor__iso_text_check(&decimal, "00123.450"));
    cr_assert_not_null(cor__iso_text_check(&decimal, "1234.56"));
    cr_assert_not_null(cor__iso_text_check(&decimal, "1.234"));
    cr_assert_not_null(cor__iso_text_check(&decimal, "-1"));
    cr_assert_not_null(cor__iso_text_check(&decimal, "1e2"));
    cr_assert_not_null(cor__iso_text_check(&decimal, "."));
    cor__iso_type text = {.kind = COR_ISO_SCHEMA_SIMPLE,
                          .text = COR_ISO_TEXT_STRING,
                          .length_min = 1,
                          .length_max = 3,
                          .enumeration = "AB|ABC"};
    cr_assert_null(cor__iso_text_check(&text, "ABC"));
    cr_assert_not_null(cor__iso_text_check(&text, "A"));
    cr_assert_not_null(cor__iso_text_check(&text, ""));
    cr_assert_not_null(cor__iso_text_check(&text, "ABCD"));
    cor__iso_type date = {.kind = COR_ISO_SCHEMA_SIMPLE, .text = COR_ISO_TEXT_DATE};
    cr_assert_null(cor__iso_text_check(&date, "2026-07-02"));
    cr_assert_null(cor__iso_text_check(&date, "2026-07-02+03:00"));
    cr_assert_not_null(cor__iso_text_check(&date, "2026-07-32"));
    cor__iso_type time = {.kind = COR_ISO_SCHEMA_SIMPLE, .text = COR_ISO_TEXT_TIME};
    cr_assert_null(cor__iso_text_check(&time, "10:30:00Z"));
    cr_assert_not_null(cor__iso_text_check(&time, "25:30:00"));
    cor__iso_type flag = {.kind = COR_ISO_SCHEMA_SIMPLE, .text = COR_ISO_TEXT_BOOLEAN};
    cr_assert_null(cor__iso_text_check(&flag, "true"));
    cr_assert_not_null(cor__iso_text_check(&flag, "yes"));
    cor__iso_type month = {.kind = COR_ISO_SCHEMA_SIMPLE, .text = COR_ISO_TEXT_YEAR_MONTH};
    cr_assert_null(cor__iso_text_check(&month, "2026-07"));
    cr_assert_not_null(cor__iso_text_check(&month, "2026-13"));
}
