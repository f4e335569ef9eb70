/* Hostile and broken inputs: each refused with a clear finding, no blow-up (src/iso20022). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "corridor/iso20022.h"

static cor_iso_parser *hostile_parser;
static cor_iso_message hostile_message;

static void hostile_setup(void)
{
    cr_assert_eq(cor_iso_parser_open(NULL, &hostile_parser), COR_OK);
    cor_iso_message_init(&hostile_message);
}

static void hostile_teardown(void)
{
    cor_iso_message_release(&hostile_message);
    cor_iso_parser_close(hostile_parser);
}

#define HOSTILE_VALID                                                                              \
    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10\"><FIToFIPmtStsRpt>"         \
    "<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-01-01T00:00:00Z</CreDtTm></GrpHdr>"                     \
    "</FIToFIPmtStsRpt></Document>"

/* Expects the refusal, then checks that the same parser still reads a valid document (a
 * stopped libxml2 context must come back clean after its reset). */
static void hostile_expect(const char *xml, size_t size, cor_error expected, const char *text)
{
    cor_error rc = cor_iso_parse(hostile_parser, xml, size, &hostile_message);
    cr_assert_eq(rc, expected, "got %s", cor_error_name(rc));
    cr_assert_geq(hostile_message.finding_count, 1);
    cr_assert_str_eq(hostile_message.findings[0].reason, "FF01");
    cr_assert_not_null(strstr(hostile_message.findings[0].text, text), "finding: %s",
                       hostile_message.findings[0].text);
    rc = cor_iso_parse(hostile_parser, HOSTILE_VALID, strlen(HOSTILE_VALID), &hostile_message);
    cr_assert_eq(rc, COR_OK, "parser unusable after a refusal: %s", cor_error_name(rc));
    cr_assert_eq(hostile_message.finding_total, 0);
}

TestSuite(iso20022_hostile, .init = hostile_setup, .fini = hostile_teardown);

Test(iso20022_hostile, billion_laughs_refused_at_the_dtd)
{
    const char *xml = "<!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">"
                      "<!ENTITY c \"&b;&b;&b;&b;&b;\">]><d>&c;&c;&c;</d>";
    hostile_expect(xml, strlen(xml), COR_ERR_PARSE, "dtd not allowed");
}

Test(iso20022_hostile, external_entity_not_fetched)
{
    const char *xml = "<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><d>&x;</d>";
    hostile_expect(xml, strlen(xml), COR_ERR_PARSE, "dtd not allowed");
}

Test(iso20022_hostile, undeclared_entity_reference)
{
    const char *xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">&x;"
                      "</Document>";
    cor_error rc = cor_iso_parse(hostile_parser, xml, strlen(xml), &hostile_message);
    cr_assert_eq(rc, COR_ERR_PARSE);
}

Test(iso20022_hostile, xinclude_refused)
{
    const char *xml = "<D xmlns:xi=\"http://www.w3.org/2001/XInclude\"><xi:include href=\"/etc/"
                      "passwd\" parse=\"text\"/></D>";
    hostile_expect(xml, strlen(xml), COR_ERR_PARSE, "xinclude");
}

Test(iso20022_hostile, depth_bomb_limited)
{
    size_t depth = 10000;
    size_t size = depth * 7 + 16;
    char *xml = malloc(size);
    size_t at = 0;
    for (size_t i = 0; i < depth; i++)
        at += (size_t)snprintf(xml + at, size - at, "<a>");
    for (size_t i = 0; i < depth; i++)
        at += (size_t)snprintf(xml + at, size - at, "</a>");
    hostile_expect(xml, at, COR_ERR_LIMIT, "nested deeper");
    free(xml);
}

Test(iso20022_hostile, huge_text_limited)
{
    size_t size = 100000;
    char *xml = malloc(size + 32);
    memcpy(xml, "<a>", 3);
    memset(xml + 3, 'x', size);
    memcpy(xml + 3 + size, "</a>", 4);
    hostile_expect(xml, size + 7, COR_ERR_LIMIT, "text longer");
    free(xml);
}

Test(iso20022_hostile, element_flood_limited)
{
    cor_iso_parser_options options = {.element_count_max = 1000};
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(&options, &parser), COR_OK);
    size_t count = 5000;
    size_t size = count * 4 + 16;
    char *xml = malloc(size);
    size_t at = (size_t)snprintf(xml, size, "<a>");
    for (size_t i = 0; i < count; i++)
        at += (size_t)snprintf(xml + at, size - at, "<b/>");
    at += (size_t)snprintf(xml + at, size - at, "</a>");
    cr_assert_eq(cor_iso_parse(parser, xml, at, &hostile_message), COR_ERR_LIMIT);
    cr_assert_not_null(strstr(hostile_message.findings[0].text, "elements"));
    free(xml);
    cor_iso_parser_close(parser);
}

Test(iso20022_hostile, oversized_document_refused_before_parsing)
{
    cor_iso_parser_options options = {.document_size_bytes_max = 1024};
    cor_iso_parser *parser = NULL;
    cr_assert_eq(cor_iso_parser_open(&options, &parser), COR_OK);
    char xml[2048];
    memset(xml, ' ', sizeof(xml));
    cr_assert_eq(cor_iso_parse(parser, xml, sizeof(xml), &hostile_message), COR_ERR_LIMIT);
    cr_assert_not_null(strstr(hostile_message.findings[0].text, "exceeds"));
    cor_iso_parser_close(parser);
}

Test(iso20022_hostile, broken_and_empty_inputs)
{
    hostile_expect("", 0, COR_ERR_PARSE, "not well-formed");
    hostile_expect("<a><b></a>", 10, COR_ERR_PARSE, "not well-formed");
    hostile_expect("<p:a/>", 6, COR_ERR_PARSE, "not well-formed");
    hostile_expect("\xff\xfe<\x00", 4, COR_ERR_PARSE, "not well-formed");
    hostile_expect("<a>x<b/></a>", 12, COR_ERR_PARSE, "mixed content");
    const char *plain = "<Document><x/></Document>";
    cor_error rc = cor_iso_parse(hostile_parser, plain, strlen(plain), &hostile_message);
    cr_assert_eq(rc, COR_ERR_XML_INVALID);
    cr_assert_not_null(strstr(hostile_message.findings[0].text, "namespace"));
}

Test(iso20022_hostile, unsupported_version_named)
{
    const char *xml = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.13\"/>";
    hostile_expect(xml, strlen(xml), COR_ERR_VERSION, "pacs.008.001.13");
}

/* Fails each allocation in turn through open, parse (with duplicates to check, which
 * allocates) and serialize: every failure is COR_ERR_NOMEM, nothing leaks (ASan build), and
 * the run without injected failures succeeds. */
Test(iso20022_hostile, allocation_failures_are_errors)
{
    const char *tx = "<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><IntrBkSttlmAmt "
                     "Ccy=\"EUR\">1.00</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>A</Nm>"
                     "</Dbtr><DbtrAgt><FinInstnId><BICFI>BANKRUMM</BICFI></FinInstnId></DbtrAgt>"
                     "<CdtrAgt><FinInstnId><BICFI>BANKIRTH</BICFI></FinInstnId></CdtrAgt><Cdtr>"
                     "<Nm>B</Nm></Cdtr></CdtTrfTxInf>";
    char xml[4096];
    snprintf(xml, sizeof(xml),
             "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">"
             "<FIToFICstmrCdtTrf><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-01-01T00:00:00Z"
             "</CreDtTm><NbOfTxs>2</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf>"
             "</GrpHdr>%s%s</FIToFICstmrCdtTrf></Document>",
             tx, tx);
    bool succeeded = false;
    for (uint64_t n = 1; n <= 64 && !succeeded; n++) {
        cor_iso_parser *parser = NULL;
        cor_iso_message message;
        cor_iso_message_init(&message);
        char *out = NULL;
        size_t out_size = 0;
        cor_alloc_fail_after(n);
        cor_error rc = cor_iso_parser_open(NULL, &parser);
        if (rc == COR_OK) rc = cor_iso_parse(parser, xml, strlen(xml), &message);
        if (rc == COR_OK) rc = cor_iso_serialize(&message, 0, &out, &out_size);
        cor_alloc_fail_after(0);
        cr_assert(rc == COR_OK || rc == COR_ERR_NOMEM, "n=%llu: %s", (unsigned long long)n,
                  cor_error_name(rc));
        if (rc == COR_ERR_NOMEM) cr_assert_null(out);
        succeeded = rc == COR_OK;
        cor_iso_free(out);
        cor_iso_message_release(&message);
        cor_iso_parser_close(parser);
    }
    cr_assert(succeeded, "never succeeded within 64 allocations");
}
