/*
 * The node's ISO 20022 routes over loopback against a real `corridor serve`: pacs.008 in,
 * pacs.002 out (per-transaction verdicts, idempotent resend, DUPL), pacs.028, camt.056,
 * camt.053 statements, camt.054 notifications, every refusal (authentication, the debtor
 * agent rule, content type, hostile or invalid XML, unsupported messages), and the
 * `corridor pay` command. Every XML answer is parsed back with the codec and validated
 * against the official schema.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../support/iso_support.h"
#include "../../support/node_support.h"
#include "corridor/iso20022.h"

static cor_test_node node;
static cor_iso_parser *parser;
static char key_a[128], key_b[128];
static unsigned bank_a, bank_b;

#define BIC_A "AAAARUMM"
#define BIC_B "BBBBRUMMXXX" /* registered as BBBBRUMM: the 11-character form must match */

static void setup(void)
{
    cor_test_iso_require_data();
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_test_node_init(&node);
    bank_a = cor_test_participant(&node, "Bank A", BIC_A, "bank", key_a, sizeof(key_a));
    bank_b = cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", key_b, sizeof(key_b));
    cor_test_fund(&node, bank_a, "1000000");
}

static void teardown(void)
{
    cor_test_node_cleanup(&node);
    cor_iso_parser_close(parser);
}

TestSuite(node_iso, .init = setup, .fini = teardown, .timeout = 120);

/* ---- HTTP with an XML body ------------------------------------------------------------- */

static size_t iso_write(char *data, size_t size, size_t count, void *context)
{
    cor_test_response *r = context;
    size_t n = size * count;
    char *body = realloc(r->body, r->size + n + 1);
    cr_assert(body != NULL);
    memcpy(body + r->size, data, n);
    r->body = body;
    r->size += n;
    r->body[r->size] = '\0';
    return n;
}

static long iso_request(const char *method, const char *path, const char *key,
                        const char *content_type, const char *body, size_t size,
                        cor_test_response *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    cr_assert(curl != NULL);
    char url[512], authorization[256], type[128];
    snprintf(url, sizeof(url), "%s%s", node.base_url, path);
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    if (key != NULL) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, authorization);
    }
    if (content_type != NULL) {
        snprintf(type, sizeof(type), "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, type);
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, iso_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)size);
    }
    cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    char *answer_type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &answer_type);
    bool xml = answer_type != NULL && strncmp(answer_type, "application/xml", 15) == 0;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (out->body != NULL && !xml) out->json = json_loads(out->body, 0, NULL);
    if (xml) cr_assert_eq(out->status, 200, "xml answers are 200");
    return out->status;
}

static long post_xml(const char *key, const char *xml, cor_test_response *out)
{
    return iso_request("POST", "/v1/iso20022", key, "application/xml", xml, strlen(xml), out);
}

/* Parses an XML answer of the expected type, after checking it against the schema. */
static void answer_parse(const cor_test_response *r, cor_iso_msg_type type, cor_iso_message *m)
{
    char error[512] = "";
    cr_assert_geq(cor_test_iso_xsd_validate(r->body, r->size, error, sizeof(error)), 1,
                  "answer not schema-valid: %s\n%s", error, r->body);
    cr_assert_eq(cor_iso_parse(parser, r->body, r->size, m), COR_OK, "%s", r->body);
    cr_assert_eq(m->type, type, "%s", r->body);
    cr_assert_eq(m->finding_total, 0, "%s", m->findings[0].text);
}

static const char *error_reason(const cor_test_response *r)
{
    return json_string_value(json_object_get(json_object_get(r->json, "error"), "reason"));
}

/* ---- documents -------------------------------------------------------------------------- */

typedef struct tx_spec {
    const char *creditor_bic;
    const char *currency;
    unsigned amount;
    const char *uetr;  /* NULL: none */
    const char *tx_id; /* NULL: none */
    const char *debtor_bic;
} tx_spec;

/* A pacs.008 with an AppHdr from A, serialized by the codec (malloc'd by cor_iso_serialize:
 * free with cor_iso_free). */
static char *pacs008(const char *msg_id, const tx_spec *specs, uint32_t count)
{
    static cor_iso_credit_transfer txs[8];
    static char e2e[8][36];
    cr_assert(count <= 8);
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_PACS_008;
    m.header = (cor_iso_app_header){.present = true,
                                    .from = {.bic = BIC_A},
                                    .to = {.bic = "CBRFRUMM"},
                                    .business_msg_id = msg_id,
                                    .created = "2026-11-29T10:00:00Z"};
    m.group.msg_id = msg_id;
    m.group.created = "2026-11-29T10:00:00Z";
    m.group.settlement_method = "CLRG";
    for (uint32_t i = 0; i < count; i++) {
        snprintf(e2e[i], sizeof(e2e[i]), "E2E-%s-%u", msg_id, i);
        txs[i] = (cor_iso_credit_transfer){
            .end_to_end_id = e2e[i],
            .transaction_id = specs[i].tx_id,
            .uetr = specs[i].uetr,
            .charge_bearer = "SLEV",
            .debtor = {.name = "Ivan Petrov"},
            .debtor_agent = {.bic = specs[i].debtor_bic != NULL ? specs[i].debtor_bic : BIC_A},
            .creditor_agent = {.bic = specs[i].creditor_bic},
            .creditor = {.name = "Olga Sidorova"},
            .remittance = "invoice 7"};
        txs[i].settlement_amount.amount_minor = specs[i].amount;
        memcpy(txs[i].settlement_amount.currency, specs[i].currency, 4);
    }
    m.transfers = txs;
    m.tx_count = count;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &size), COR_OK);
    return xml;
}

#define UETR_1 "8a562c67-ca16-48ba-b074-65581be6f001"
#define UETR_2 "8a562c67-ca16-48ba-b074-65581be6f002"
#define UETR_3 "8a562c67-ca16-48ba-b074-65581be6f003"
#define UETR_4 "8a562c67-ca16-48ba-b074-65581be6f004"
#define UETR_9 "8a562c67-ca16-48ba-b074-65581be6f009"

static const tx_spec mixed[5] = {
    {.creditor_bic = BIC_B, .currency = "RUB", .amount = 10000, .uetr = UETR_1}, /* 100.00 */
    {.creditor_bic = "CCCCRUMM", .currency = "RUB", .amount = 100, .uetr = UETR_2},
    {.creditor_bic = BIC_B, .currency = "EUR", .amount = 100, .uetr = UETR_3},
    {.creditor_bic = BIC_B, .currency = "RUB", .amount = 5000000, .uetr = UETR_4},
    {.creditor_bic = BIC_B, .currency = "RUB", .amount = 250, .tx_id = "TX-5"},
};

static void assert_tx(const cor_iso_message *m, uint32_t i, const char *status, const char *reason)
{
    const cor_iso_related_tx *tx = &m->related[i];
    cr_assert_str_eq(tx->status, status, "tx %u", i);
    if (reason == NULL) {
        cr_assert_null(tx->reason, "tx %u: %s", i, tx->reason);
    } else {
        cr_assert(tx->reason != NULL && strcmp(tx->reason, reason) == 0, "tx %u: %s != %s", i,
                  tx->reason, reason);
    }
}

/* Sends the mixed document and checks the verdicts; returns nothing, balances in caller. */
static void send_mixed(void)
{
    char *xml = pacs008("MSG-1", mixed, 5);
    cor_test_response r;
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    cr_assert_str_eq(m.group.original_msg_id, "MSG-1");
    cr_assert_str_eq(m.group.original_msg_name, "pacs.008.001.08");
    cr_assert_str_eq(m.group.group_status, "PART");
    cr_assert(m.header.present);
    cr_assert_str_eq(m.header.to.bic, BIC_A);
    cr_assert_eq(m.tx_count, 5);
    assert_tx(&m, 0, "ACSC", NULL);
    cr_assert_str_eq(m.related[0].original_uetr, UETR_1);
    cr_assert_str_eq(m.related[0].original_end_to_end_id, "E2E-MSG-1-0");
    assert_tx(&m, 1, "RJCT", "CNOR");
    assert_tx(&m, 2, "RJCT", "AM03");
    assert_tx(&m, 3, "RJCT", "AM04");
    assert_tx(&m, 4, "ACSC", NULL);
    cr_assert_str_eq(m.related[4].original_transaction_id, "TX-5");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cor_iso_free(xml);
}

/* ---- pacs.008 -> pacs.002 --------------------------------------------------------------- */

#define NET_A_AFTER_MIXED (1000000 - 10000 - 250)
#define NET_B_AFTER_MIXED (10000 + 250)

Test(node_iso, pacs008_settles_each_transaction_and_answers_pacs002)
{
    send_mixed();
    cr_assert_eq(cor_test_net(&node, bank_a), NET_A_AFTER_MIXED);
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED);

    /* The same document again: the same verdicts, nothing moves twice. */
    send_mixed();
    cr_assert_eq(cor_test_net(&node, bank_a), NET_A_AFTER_MIXED);
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED);

    /* The ISO payment is a node payment: the JSON route sees it. */
    cor_test_response r;
    cor_test_http(&node, "GET", "/v1/statement", key_b, NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "entries")), 2, "%s", r.body);
    cor_test_response_free(&r);

    /* A UETR already used for another payment is a duplicate (DUPL), nothing moves. */
    tx_spec changed = mixed[0];
    changed.amount = 10001;
    char *xml = pacs008("MSG-2", &changed, 1);
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_free(xml);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    assert_tx(&m, 0, "RJCT", "DUPL");
    cr_assert_str_eq(m.group.group_status, "RJCT");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, bank_a), NET_A_AFTER_MIXED);

    /* A transaction with neither UETR nor TxId has no idempotency key (FF01); one the codec
     * refuses keeps the codec's reason; the others of the document still settle. */
    tx_spec two[2] = {{.creditor_bic = BIC_B, .currency = "RUB", .amount = 5},
                      {.creditor_bic = BIC_B, .currency = "RUB", .amount = 7, .tx_id = "TX-7"}};
    xml = pacs008("MSG-3", two, 2);
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_free(xml);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    assert_tx(&m, 0, "RJCT", "FF01");
    assert_tx(&m, 1, "ACSC", NULL);
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED + 7);
}

Test(node_iso, codec_rejections_become_rjct_with_their_reason)
{
    /* JPY has no minor unit: "1.5" is CH20 for that transaction only. */
    char *xml = pacs008("MSG-4", mixed, 1);
    const char *amount = strstr(xml, "Ccy=\"RUB\">100.00<");
    cr_assert_not_null(amount, "%s", xml);
    size_t size = strlen(xml);
    char *bad = malloc(size + 16);
    cr_assert_not_null(bad);
    size_t head = (size_t)(amount - xml);
    snprintf(bad, size + 16, "%.*sCcy=\"JPY\">1.5<%s", (int)head, xml,
             amount + strlen("Ccy=\"RUB\">100.00<"));
    cor_iso_free(xml);
    cor_test_response r;
    cr_assert_eq(post_xml(key_a, bad, &r), 200, "%s", r.body);
    free(bad);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    assert_tx(&m, 0, "RJCT", "CH20");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, bank_b), 0);
}

/* ---- refusals ---------------------------------------------------------------------------- */

Test(node_iso, refusals_are_http_errors_with_codes_and_reasons)
{
    char *xml = pacs008("MSG-5", mixed, 1);
    cor_test_response r;

    cr_assert_eq(post_xml(NULL, xml, &r), 401);
    cr_assert_str_eq(cor_test_error_code(&r), "unauthorized");
    cor_test_response_free(&r);
    cr_assert_eq(post_xml(node.operator_key, xml, &r), 403);
    cr_assert_str_eq(cor_test_error_code(&r), "forbidden");
    cor_test_response_free(&r);

    /* B may not send a payment whose debtor agent is A (nor A's AppHdr). */
    cr_assert_eq(post_xml(key_b, xml, &r), 403, "%s", r.body);
    cr_assert_str_eq(cor_test_error_code(&r), "forbidden");
    cr_assert_str_eq(error_reason(&r), "DS0H");
    cor_test_response_free(&r);
    cor_iso_free(xml);
    tx_spec other = mixed[0];
    other.debtor_bic = "BBBBRUMM";
    xml = pacs008("MSG-6", &other, 1);
    cr_assert_eq(post_xml(key_a, xml, &r), 403, "%s", r.body);
    cr_assert_str_eq(cor_test_error_code(&r), "forbidden");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r.json, "error"), "field")),
                     "CdtTrfTxInf[0]/DbtrAgt");
    cor_test_response_free(&r);
    cor_iso_free(xml);

    xml = pacs008("MSG-7", mixed, 1);
    cr_assert_eq(
        iso_request("POST", "/v1/iso20022", key_a, "application/json", xml, strlen(xml), &r), 415);
    cr_assert_str_eq(cor_test_error_code(&r), "unsupported_media_type");
    cor_test_response_free(&r);
    cr_assert_eq(iso_request("GET", "/v1/iso20022", key_a, NULL, NULL, 0, &r), 405);
    cor_test_response_free(&r);
    cor_iso_free(xml);

    static const struct {
        const char *body;
        const char *code;
        const char *reason;
    } bad[] = {
        {"", "invalid_xml", "FF01"},
        {"<Document", "invalid_xml", "FF01"},
        {"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
         "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]><d>&b;</d>",
         "invalid_xml", "FF01"},
        {"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
         "<d>&x;</d>",
         "invalid_xml", "FF01"},
        {"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12\"><FIToFICstmrCdtTrf/>"
         "</Document>",
         "unsupported_message", "FF01"},
        {"<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>"
         "<GrpHdr><MsgId>X</MsgId></GrpHdr></FIToFICstmrCdtTrf></Document>",
         "invalid_message", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cr_assert_eq(post_xml(key_a, bad[i].body, &r), 400, "case %zu: %s", i, r.body);
        cr_assert_str_eq(cor_test_error_code(&r), bad[i].code, "case %zu", i);
        cr_assert_not_null(error_reason(&r), "case %zu", i);
        if (bad[i].reason != NULL) cr_assert_str_eq(error_reason(&r), bad[i].reason);
        cor_test_response_free(&r);
    }

    /* NbOfTxs that does not match is a message-level refusal with its ISO reason. */
    xml = pacs008("MSG-8", mixed, 2);
    char *count = strstr(xml, "<NbOfTxs>2</NbOfTxs>");
    cr_assert_not_null(count);
    count[strlen("<NbOfTxs>")] = '3';
    cr_assert_eq(post_xml(key_a, xml, &r), 400, "%s", r.body);
    cr_assert_str_eq(cor_test_error_code(&r), "invalid_message");
    cr_assert_str_eq(error_reason(&r), "AM18");
    cor_test_response_free(&r);
    cor_iso_free(xml);

    /* More transactions than one batch holds (8,189) is a limit, refused before anything. */
    size_t big_size = 8190u * 400u + 1024u;
    char *big = malloc(big_size);
    cr_assert_not_null(big);
    size_t at =
        (size_t)snprintf(big, big_size,
                         "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">"
                         "<FIToFICstmrCdtTrf><GrpHdr><MsgId>BIG</MsgId><CreDtTm>2026-11-"
                         "29T10:00:00Z</CreDtTm><NbOfTxs>8190</NbOfTxs><SttlmInf><SttlmMtd>"
                         "CLRG</SttlmMtd></SttlmInf></GrpHdr>");
    for (unsigned i = 0; i < 8190u; i++) {
        at += (size_t)snprintf(
            big + at, big_size - at,
            "<CdtTrfTxInf><PmtId><EndToEndId>E%u</EndToEndId><TxId>T%u</TxId></PmtId>"
            "<IntrBkSttlmAmt Ccy=\"RUB\">1</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr><Dbtr><Nm>D</Nm>"
            "</Dbtr><DbtrAgt><FinInstnId><BICFI>" BIC_A "</BICFI></FinInstnId></DbtrAgt><CdtrAgt>"
            "<FinInstnId><BICFI>" BIC_B "</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>C</Nm></Cdtr>"
            "</CdtTrfTxInf>",
            i, i);
        cr_assert_lt(at, big_size);
    }
    at += (size_t)snprintf(big + at, big_size - at, "</FIToFICstmrCdtTrf></Document>");
    cr_assert_lt(at, big_size);
    cr_assert_eq(post_xml(key_a, big, &r), 400, "%.300s", r.body);
    cr_assert_str_eq(cor_test_error_code(&r), "xml_limit");
    cr_assert_str_eq(error_reason(&r), "FF01");
    cor_test_response_free(&r);
    free(big);

    /* A supported message this route does not take. */
    cor_iso_message status;
    cor_iso_message_init(&status);
    status.type = COR_ISO_MSG_PACS_002;
    status.group.msg_id = "S-1";
    status.group.created = "2026-11-29T10:00:00Z";
    char *xml2 = NULL;
    size_t size2 = 0;
    cr_assert_eq(cor_iso_serialize(&status, 0, &xml2, &size2), COR_OK);
    cr_assert_eq(post_xml(key_a, xml2, &r), 422, "%s", r.body);
    cr_assert_str_eq(cor_test_error_code(&r), "unsupported_message");
    cor_test_response_free(&r);
    cor_iso_free(xml2);

    /* Nothing of the above moved money. */
    cr_assert_eq(cor_test_net(&node, bank_a), 1000000);
    cr_assert_eq(cor_test_net(&node, bank_b), 0);
}

/* ---- pacs.028 and camt.056 ---------------------------------------------------------------- */

static char *related_request(cor_iso_msg_type type, const char *const *uetrs, uint32_t count)
{
    static cor_iso_related_tx txs[4];
    cr_assert(count <= 4);
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = type;
    m.group.msg_id = "REQ-1";
    m.group.created = "2026-11-29T11:00:00Z";
    if (type == COR_ISO_MSG_PACS_028) {
        m.group.original_msg_id = "MSG-1";
        m.group.original_msg_name = "pacs.008.001.08";
    } else {
        m.group.instructing_agent = (cor_iso_agent){.bic = BIC_A};
        m.group.instructed_agent = (cor_iso_agent){.bic = "CBRFRUMM"};
    }
    for (uint32_t i = 0; i < count; i++) {
        txs[i] = (cor_iso_related_tx){.original_uetr = uetrs[i],
                                      .original_end_to_end_id = "E2E",
                                      .reason = type == COR_ISO_MSG_CAMT_056 ? "DUPL" : NULL};
        if (type == COR_ISO_MSG_CAMT_056) {
            txs[i].original_msg_id = "MSG-1";
            txs[i].original_msg_name = "pacs.008.001.08";
        }
    }
    m.related = txs;
    m.tx_count = count;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    return xml;
}

Test(node_iso, pacs028_answers_the_recorded_status)
{
    send_mixed();
    const char *uetrs[4] = {UETR_1, UETR_4, UETR_9, UETR_2};
    char *xml = related_request(COR_ISO_MSG_PACS_028, uetrs, 4);
    cor_test_response r;
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    cr_assert_str_eq(m.group.original_msg_id, "MSG-1"); /* the payments' group */
    cr_assert_str_eq(m.group.original_msg_name, "pacs.008.001.08");
    assert_tx(&m, 0, "ACSC", NULL);
    assert_tx(&m, 1, "RJCT", "AM04");
    assert_tx(&m, 2, "RJCT", "AG09");
    assert_tx(&m, 3, "RJCT", "CNOR"); /* an unknown creditor agent is a recorded decision */
    cor_iso_message_release(&m);
    cor_test_response_free(&r);

    /* B cannot learn about A's payments: to B they do not exist. */
    cr_assert_eq(post_xml(key_b, xml, &r), 200, "%s", r.body);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    for (uint32_t i = 0; i < 4; i++)
        assert_tx(&m, i, "RJCT", "AG09");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cor_iso_free(xml);
}

Test(node_iso, camt056_is_answered_by_camt029)
{
    send_mixed();
    const char *uetrs[3] = {UETR_1, UETR_4, UETR_9};
    char *xml = related_request(COR_ISO_MSG_CAMT_056, uetrs, 3);
    cor_test_response r;
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_CAMT_029, &m);
    cr_assert_str_eq(m.group.group_status, "RJCR");
    assert_tx(&m, 0, "RJCR", "PTNA");
    assert_tx(&m, 1, "RJCR", "NARR");
    assert_tx(&m, 2, "RJCR", "NOOR");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    /* The assigner must be the caller. */
    cr_assert_eq(post_xml(key_b, xml, &r), 403, "%s", r.body);
    cor_test_response_free(&r);
    cor_iso_free(xml);
    cr_assert_eq(cor_test_net(&node, bank_a), NET_A_AFTER_MIXED); /* nothing was cancelled */
}

/* ---- camt.053 and camt.054 ---------------------------------------------------------------- */

static void day(int offset, char out[11])
{
    time_t t = time(NULL) + (time_t)offset * 86400;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void statement(const char *key, unsigned participant, int from, int to, cor_test_response *r)
{
    char a[11], b[11], path[128];
    day(from, a);
    day(to, b);
    snprintf(path, sizeof(path), "/v1/statements/%u?from=%s&to=%s", participant, a, b);
    iso_request("GET", path, key, NULL, NULL, 0, r);
}

static long long signed_balance(const cor_iso_balance *b)
{
    long long v = (long long)b->amount.amount_minor;
    return b->credit ? v : -v;
}

Test(node_iso, camt053_statement_balances)
{
    send_mixed();
    cor_test_response r;
    cor_iso_message m;
    cor_iso_message_init(&m);

    statement(key_a, bank_a, -1, 1, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    answer_parse(&r, COR_ISO_MSG_CAMT_053, &m);
    cr_assert(cor_iso_statement_balanced(&m));
    cr_assert_eq(m.tx_count, 3); /* funding, two payments */
    cr_assert_str_eq(m.report.balances[0].type, "OPBD");
    cr_assert_eq(signed_balance(&m.report.balances[0]), 0);
    cr_assert_str_eq(m.report.balances[1].type, "CLBD");
    cr_assert_eq(signed_balance(&m.report.balances[1]), NET_A_AFTER_MIXED);
    cr_assert(m.entries[0].credit);
    cr_assert_not(m.entries[1].credit);
    cr_assert_str_eq(m.entries[1].uetr, UETR_1);
    cr_assert_str_eq(m.entries[1].end_to_end_id, "E2E-MSG-1-0");
    cr_assert_str_eq(m.entries[1].remittance, "invoice 7");
    cr_assert_str_eq(m.report.account.currency, "RUB");
    cor_test_response_free(&r);

    /* A later period opens and closes on today's balance, with no entries. */
    statement(node.operator_key, bank_a, 2, 3, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    answer_parse(&r, COR_ISO_MSG_CAMT_053, &m);
    cr_assert(cor_iso_statement_balanced(&m));
    cr_assert_eq(m.tx_count, 0);
    cr_assert_eq(signed_balance(&m.report.balances[0]), NET_A_AFTER_MIXED);
    cr_assert_eq(signed_balance(&m.report.balances[1]), NET_A_AFTER_MIXED);
    cor_test_response_free(&r);
    /* An earlier one is empty at zero. */
    statement(key_b, bank_b, -3, -2, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    answer_parse(&r, COR_ISO_MSG_CAMT_053, &m);
    cr_assert_eq(m.tx_count, 0);
    cr_assert_eq(signed_balance(&m.report.balances[1]), 0);
    cor_test_response_free(&r);
    cor_iso_message_release(&m);

    /* Another participant's statement, bad dates, unknown participant. */
    statement(key_b, bank_a, -1, 1, &r);
    cr_assert_eq(r.status, 403);
    cor_test_response_free(&r);
    statement(key_a, bank_a, 1, -1, &r);
    cr_assert_eq(r.status, 400);
    cr_assert_str_eq(cor_test_error_code(&r), "invalid_query");
    cor_test_response_free(&r);
    static const char *const paths[] = {"/v1/statements/1?from=2026-13-01&to=2026-12-01",
                                        "/v1/statements/1?to=2026-12-01",
                                        "/v1/statements/1?from=1969-12-31&to=2026-12-01",
                                        "/v1/statements/1?from=2026-02-30&to=2026-12-01"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(iso_request("GET", paths[i], node.operator_key, NULL, NULL, 0, &r), 400, "%s",
                     paths[i]);
        cor_test_response_free(&r);
    }
    cr_assert_eq(iso_request("GET", "/v1/statements/99?from=2026-01-01&to=2026-01-02",
                             node.operator_key, NULL, NULL, 0, &r),
                 404);
    cr_assert_str_eq(cor_test_error_code(&r), "participant_not_found");
    cor_test_response_free(&r);
}

Test(node_iso, camt054_notifies_incoming_credits)
{
    send_mixed();
    cor_test_response r;
    cor_iso_message m;
    cor_iso_message_init(&m);
    cr_assert_eq(iso_request("GET", "/v1/notifications", key_b, NULL, NULL, 0, &r), 200, "%s",
                 r.body);
    answer_parse(&r, COR_ISO_MSG_CAMT_054, &m);
    cr_assert_eq(m.tx_count, 2);
    cr_assert(m.entries[0].credit && m.entries[1].credit);
    cr_assert_eq(m.entries[0].amount.amount_minor, 10000);
    cr_assert_str_eq(m.entries[0].uetr, UETR_1);
    cr_assert_str_eq(m.entries[0].domain, "PMNT");
    cr_assert_str_eq(m.entries[0].family, "RCDT");
    char path[96];
    snprintf(path, sizeof(path), "/v1/notifications?after=%s&limit=5", m.entries[0].reference);
    cor_test_response_free(&r);

    /* Pulling after the first entry's NtryRef gives the rest. */
    cr_assert_eq(iso_request("GET", path, key_b, NULL, NULL, 0, &r), 200);
    answer_parse(&r, COR_ISO_MSG_CAMT_054, &m);
    cr_assert_eq(m.tx_count, 1);
    cr_assert_eq(m.entries[0].amount.amount_minor, 250);
    cor_test_response_free(&r);

    /* A's credits are only its funding; operator reads with participant=. */
    cr_assert_eq(
        iso_request("GET", "/v1/notifications?participant=1", node.operator_key, NULL, NULL, 0, &r),
        200);
    answer_parse(&r, COR_ISO_MSG_CAMT_054, &m);
    cr_assert_eq(m.tx_count, 1);
    cr_assert_str_eq(m.entries[0].proprietary, "CORRIDOR-ISSUANCE");
    cor_test_response_free(&r);
    cor_iso_message_release(&m);

    static const char *const bad[] = {"/v1/notifications?after=x", "/v1/notifications?limit=0",
                                      "/v1/notifications?limit=9000",
                                      "/v1/notifications?participant=1"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(iso_request("GET", bad[i], key_b, NULL, NULL, 0, &r), 400, "%s", bad[i]);
        cr_assert_str_eq(cor_test_error_code(&r), "invalid_query");
        cor_test_response_free(&r);
    }
    cr_assert_eq(iso_request("GET", "/v1/notifications", node.operator_key, NULL, NULL, 0, &r),
                 400);
    cor_test_response_free(&r);
}

/* ---- corridor pay ------------------------------------------------------------------------- */

static int run_pay_url(const char *url, const char *file, const char *out, const char *key)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        execl(cor_test_bin(), "corridor", "pay", "--file", file, "--url", url, "--key", key,
              "--out", out, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int run_pay(const char *file, const char *out, const char *key)
{
    return run_pay_url(node.base_url, file, out, key);
}

Test(node_iso, corridor_pay_sends_a_file_and_writes_the_answers)
{
    char file[512], out[512];
    snprintf(file, sizeof(file), "%s/payments.xml", node.dir);
    snprintf(out, sizeof(out), "%s/answers.xml", node.dir);
    char *one = pacs008("MSG-P1", &mixed[0], 1);
    char *two = pacs008("MSG-P2", &mixed[3], 2);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s\n<!--EOD-->\n%s\n<!--EOD-->\n", one, two);
    fclose(f);
    cr_assert_eq(run_pay(file, out, key_a), 0);
    size_t size = 0;
    char *answers = cor_test_iso_read(out, &size);
    cr_assert_not_null(answers);
    char *second = strstr(answers, "<!--EOD-->");
    cr_assert_not_null(second);
    cor_iso_message m;
    cor_iso_message_init(&m);
    cr_assert_eq(cor_iso_parse(parser, answers, (size_t)(second - answers), &m), COR_OK);
    cr_assert_str_eq(m.group.original_msg_id, "MSG-P1");
    assert_tx(&m, 0, "ACSC", NULL);
    char *rest = second + strlen("<!--EOD-->");
    while (*rest == '\n')
        rest++;
    char *end = strstr(rest, "<!--EOD-->");
    cr_assert_not_null(end);
    cr_assert_eq(cor_iso_parse(parser, rest, (size_t)(end - rest), &m), COR_OK);
    cr_assert_str_eq(m.group.original_msg_id, "MSG-P2");
    assert_tx(&m, 0, "RJCT", "AM04");
    assert_tx(&m, 1, "ACSC", NULL);
    cor_iso_message_release(&m);
    free(answers);
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED);

    /* A refused document (another bank's key) makes the exit status 1; a missing file 3;
     * a usage error 2. */
    cr_assert_eq(run_pay(file, out, key_b), 1);
    cr_assert_eq(run_pay("/nonexistent/payments.xml", out, key_a), 3);
    /* A node that does not answer (nothing listens on port 1 of loopback): 3. */
    cr_assert_eq(run_pay_url("http://127.0.0.1:1", file, out, key_a), 3);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDERR_FILENO);
        execl(cor_test_bin(), "corridor", "pay", "--file", file, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    cor_iso_free(one);
    cor_iso_free(two);
}

/* ---- durability ---------------------------------------------------------------------------- */

Test(node_iso, an_answered_pacs008_survives_a_crash)
{
    send_mixed();
    /* SIGKILL: no orderly shutdown; what was answered must come back from the journal. */
    cr_assert_eq(cor_test_node_signal(&node, SIGKILL), -SIGKILL);
    cor_test_node_start(&node);
    cr_assert_eq(cor_test_net(&node, bank_a), NET_A_AFTER_MIXED);
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED);
    const char *uetrs[2] = {UETR_1, UETR_4};
    char *xml = related_request(COR_ISO_MSG_PACS_028, uetrs, 2);
    cor_test_response r;
    cr_assert_eq(post_xml(key_a, xml, &r), 200, "%s", r.body);
    cor_iso_message m;
    cor_iso_message_init(&m);
    answer_parse(&r, COR_ISO_MSG_PACS_002, &m);
    assert_tx(&m, 0, "ACSC", NULL);
    assert_tx(&m, 1, "RJCT", "AM04");
    cor_iso_message_release(&m);
    cor_test_response_free(&r);
    cor_iso_free(xml);
    /* And the resend after the restart is still a duplicate, not a second payment. */
    send_mixed();
    cr_assert_eq(cor_test_net(&node, bank_b), NET_B_AFTER_MIXED);
}
