/*
 * Cross-border pacs.008 on POST /v1/iso20022, between two real nodes on loopback (RU in RUB,
 * IR in IRR, peered both ways, one FX provider on both): a transaction naming a quote
 * (InstrForNxtAgt/InstrInf "/QUOTE/<id>") is answered ACSP, then commits on both nodes and
 * pacs.028 says ACSC; every refusal (unknown or foreign quote, amount or rate not the
 * quote's, missing UETR, bad creditor account, wrong currency, a used quote) is a RJCT with
 * its ISO reason and moves nothing; a batch of several, and domestic and cross-border
 * transactions mixed in one document; camt.056 cancelling one the beneficiary has not
 * decided (its node is stopped meanwhile), and refusing settled ones. Every XML answer is validated
 * against the official schema and parsed back with the codec.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../support/iso_support.h"
#include "../../support/node_support.h"
#include "corridor/iso20022.h"

static cor_test_node ru, ir;
static cor_iso_parser *parser;
static char key_a[128], key_c[128], key_f[128], key_b[128];
static unsigned bank_a, bank_c, fx_ru, bank_b, fx_ir;

#define BIC_A   "BANKRUMM"
#define BIC_C   "CCCCRUMM"
#define BIC_B   "BANKIRTH"
#define FUNDS_A 100000000ll /* RUB 1,000,000.00 */

static void run(const char *format, ...)
{
    char command[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    cr_assert_eq(system(command), 0, "failed: %s", command);
}

static void post_json(const cor_test_node *node, const char *key, const char *path,
                      const char *body, long status)
{
    cor_test_response r;
    cor_test_http(node, "POST", path, key, body, &r);
    cr_assert_eq(r.status, status, "POST %s: %ld %s", path, r.status, r.body);
    cor_test_response_free(&r);
}

static void fund(const cor_test_node *node, unsigned participant, const char *amount,
                 const char *currency)
{
    static unsigned funding_id = 0;
    char path[64], body[200];
    snprintf(path, sizeof(path), "/v1/participants/%u/funding", participant);
    snprintf(body, sizeof(body),
             "{\"funding_id\":\"%u\",\"direction\":\"credit\",\"amount\":\"%s\","
             "\"currency\":\"%s\"}",
             ++funding_id, amount, currency);
    post_json(node, node->operator_key, path, body, 201);
}

static void setup(void)
{
    cor_test_iso_require_data();
    cr_assert_eq(cor_iso_parser_open(NULL, &parser), COR_OK);
    cor_test_node_create(&ru, "RUB", "RU");
    cor_test_node_create(&ir, "IRR", "IR");
    run("%s peer add --data %s/n --name IR --currency IRR --url %s --public-key @%s/n/node.pub "
        ">/dev/null",
        cor_test_bin(), ru.dir, ir.base_url, ir.dir);
    run("%s peer add --data %s/n --name RU --currency RUB --url %s --public-key @%s/n/node.pub "
        ">/dev/null",
        cor_test_bin(), ir.dir, ru.base_url, ru.dir);
    cor_test_node_start(&ru);
    cor_test_node_start(&ir);
    bank_a = cor_test_participant(&ru, "Bank A", BIC_A, "bank", key_a, sizeof(key_a));
    fx_ru = cor_test_participant(&ru, "FX One", "FXONRUMM", "fx_provider", key_f, sizeof(key_f));
    bank_c = cor_test_participant(&ru, "Bank C", BIC_C, "bank", key_c, sizeof(key_c));
    bank_b = cor_test_participant(&ir, "Bank B", BIC_B, "bank", key_b, sizeof(key_b));
    fx_ir = cor_test_participant(&ir, "FX One", "FXONIRTH", "fx_provider", NULL, 0);
    fund(&ru, bank_a, "100000000", "RUB");
    fund(&ru, bank_c, "100000000", "RUB");
    fund(&ir, fx_ir, "100000000000", "IRR");
    char body[200];
    snprintf(body, sizeof(body), "{\"fx_id\":\"1\",\"participant\":\"%u\",\"peer\":\"IR\"}", fx_ru);
    post_json(&ru, ru.operator_key, "/v1/corridor/fx", body, 201);
    snprintf(body, sizeof(body), "{\"fx_id\":\"1\",\"participant\":\"%u\",\"peer\":\"RU\"}", fx_ir);
    post_json(&ir, ir.operator_key, "/v1/corridor/fx", body, 201);
    /* RUB -> IRR: 485 IRR minor units per RUB minor unit, 0.2% spread, fee RUB 1.00. The
     * customer rate is 485 * 0.998 = 484.03 (both currencies have two decimals). */
    post_json(&ru, key_f, "/v1/fx/rates",
              "{\"peer\":\"IR\",\"rate_num\":\"485\",\"rate_den\":\"1\",\"spread_ppm\":2000,"
              "\"fee\":\"100\"}",
              201);
}

static void teardown(void)
{
    cor_test_node_cleanup(&ru);
    cor_test_node_cleanup(&ir);
    cor_iso_parser_close(parser);
}

TestSuite(iso_xborder, .init = setup, .fini = teardown, .timeout = 120);

/* ---- helpers ---------------------------------------------------------------------------- */

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

typedef struct quote {
    char id[48];
    long long source;
    long long dest;
} quote;

/* A quote for source_amount RUB minor units, asked by the bank with key. */
static quote quote_for(const char *key, const char *source_amount)
{
    char body[128];
    snprintf(body, sizeof(body), "{\"peer\":\"IR\",\"source_amount\":\"%s\"}", source_amount);
    cor_test_response r;
    cor_test_http(&ru, "POST", "/v1/fx/quotes", key, body, &r);
    cr_assert_eq(r.status, 201, "quote: %ld %s", r.status, r.body);
    json_t *q = json_array_get(json_object_get(r.json, "quotes"), 0);
    cr_assert_not_null(q, "%s", r.body);
    quote out = {0};
    snprintf(out.id, sizeof(out.id), "%s", json_string_value(json_object_get(q, "quote_id")));
    out.source = strtoll(json_string_value(json_object_get(q, "source_amount")), NULL, 10);
    out.dest = strtoll(json_string_value(json_object_get(q, "destination_amount")), NULL, 10);
    cor_test_response_free(&r);
    return out;
}

static size_t xml_write(char *data, size_t size, size_t count, void *context)
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

/* POST /v1/iso20022 on node with an XML body; JSON answers are parsed into out->json. */
static long post_xml(const cor_test_node *node, const char *key, const char *xml,
                     cor_test_response *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    cr_assert(curl != NULL);
    char url[256], authorization[256];
    snprintf(url, sizeof(url), "%s/v1/iso20022", node->base_url);
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    headers = curl_slist_append(headers, authorization);
    headers = curl_slist_append(headers, "Content-Type: application/xml");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, xml_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, xml);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(xml));
    cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    bool xml_answer = type != NULL && strncmp(type, "application/xml", 15) == 0;
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (out->body != NULL && !xml_answer) out->json = json_loads(out->body, 0, NULL);
    return out->status;
}

/* Checks an XML answer against the schema, then parses it as a pacs.002 into m. */
static void answer_parse_as(const cor_test_response *r, cor_iso_msg_type type, cor_iso_message *m);
static void answer_parse(const cor_test_response *r, cor_iso_message *m)
{
    answer_parse_as(r, COR_ISO_MSG_PACS_002, m);
}

static void answer_parse_as(const cor_test_response *r, cor_iso_msg_type type, cor_iso_message *m)
{
    char error[512] = "";
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_geq(cor_test_iso_xsd_validate(r->body, r->size, error, sizeof(error)), 1,
                  "answer not schema-valid: %s\n%s", error, r->body);
    cr_assert_eq(cor_iso_parse(parser, r->body, r->size, m), COR_OK, "%s", r->body);
    cr_assert_eq(m->type, type, "%s", r->body);
    cr_assert_eq(m->finding_total, 0, "%s", m->findings[0].text);
}

static void assert_tx(const cor_iso_message *m, uint32_t i, const char *status, const char *reason)
{
    cr_assert_lt(i, m->tx_count);
    const cor_iso_related_tx *tx = &m->related[i];
    cr_assert_str_eq(tx->status, status, "tx %u: %s (%s %s)", i, tx->status,
                     tx->reason ? tx->reason : "-", tx->additional_info ? tx->additional_info : "");
    if (reason == NULL) {
        cr_assert_null(tx->reason, "tx %u: %s", i, tx->reason);
    } else {
        cr_assert(tx->reason != NULL && strcmp(tx->reason, reason) == 0, "tx %u: %s != %s (%s)", i,
                  tx->reason ? tx->reason : "(none)", reason,
                  tx->additional_info ? tx->additional_info : "");
    }
}

/* One transaction of a test pacs.008. quote_id NULL: domestic (creditor_bic's bank). */
typedef struct tx_spec {
    const char *uetr;
    const char *quote_id;
    const char *instruction; /* overrides "/QUOTE/<quote_id>" when set */
    long long amount;
    const char *currency;      /* NULL: RUB */
    const char *creditor_id;   /* CdtrAcct/Id/Othr/Id; NULL: Bank B's id */
    const char *creditor_iban; /* CdtrAcct/Id/IBAN instead */
    const char *rate;          /* XchgRate */
    const char *creditor_bic;  /* NULL: Bank B */
} tx_spec;

#define TX_MAX 8u

/* A pacs.008 from Bank A, serialized by the codec (free with cor_iso_free). */
static char *pacs008(const char *msg_id, const tx_spec *specs, uint32_t count)
{
    static cor_iso_credit_transfer txs[TX_MAX];
    static char e2e[TX_MAX][36], instruction[TX_MAX][160], creditor[16];
    cr_assert(count <= TX_MAX);
    snprintf(creditor, sizeof(creditor), "%u", bank_b);
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_PACS_008;
    m.header = (cor_iso_app_header){.present = true,
                                    .from = {.bic = BIC_A},
                                    .to = {.bic = "CRDRRUXX"},
                                    .business_msg_id = msg_id,
                                    .created = "2026-11-29T10:00:00Z"};
    m.group.msg_id = msg_id;
    m.group.created = "2026-11-29T10:00:00Z";
    m.group.settlement_method = "CLRG";
    for (uint32_t i = 0; i < count; i++) {
        const tx_spec *s = &specs[i];
        snprintf(e2e[i], sizeof(e2e[i]), "E2E-%s-%u", msg_id, i);
        const char *next = NULL;
        if (s->instruction != NULL) {
            next = s->instruction;
        } else if (s->quote_id != NULL) {
            snprintf(instruction[i], sizeof(instruction[i]), "/QUOTE/%s", s->quote_id);
            next = instruction[i];
        }
        txs[i] = (cor_iso_credit_transfer){
            .end_to_end_id = e2e[i],
            .uetr = s->uetr,
            .charge_bearer = "SHAR",
            .exchange_rate = s->rate,
            .debtor = {.name = "Ivan Petrov", .country = "RU"},
            .debtor_agent = {.bic = BIC_A},
            .creditor_agent = {.bic = s->creditor_bic != NULL ? s->creditor_bic : BIC_B},
            .creditor = {.name = "Ali Rezaei", .country = "IR"},
            .instruction_for_next_agent = next,
            .remittance = "invoice 7"};
        if (next != NULL) {
            txs[i].creditor_account.iban = s->creditor_iban;
            if (s->creditor_iban == NULL) {
                txs[i].creditor_account.other_id =
                    s->creditor_id != NULL ? s->creditor_id : creditor;
            }
        }
        txs[i].settlement_amount.amount_minor = (cor_u128)s->amount;
        memcpy(txs[i].settlement_amount.currency, s->currency != NULL ? s->currency : "RUB", 4);
    }
    m.transfers = txs;
    m.tx_count = count;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &size), COR_OK);
    return xml;
}

/* Sends the document as Bank A and parses the pacs.002 into m. */
static void send_pacs008(const char *xml, cor_iso_message *m)
{
    cor_test_response r;
    post_xml(&ru, key_a, xml, &r);
    cor_iso_message_init(m);
    answer_parse(&r, m);
    cor_test_response_free(&r);
}

/* The payment's state on node (GET /v1/xborder/payments/{uetr}) once it is final, waiting
 * (bounded: 20 s) while it is not. */
static char *final_state(const cor_test_node *node, const char *key, const char *uetr)
{
    static char state[32];
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s", uetr);
    for (int attempt = 0; attempt < 400; attempt++) {
        cor_test_response r;
        cor_test_http(node, "GET", path, key, NULL, &r);
        cr_assert_eq(r.status, 200, "GET %s: %ld %s", path, r.status, r.body);
        snprintf(state, sizeof(state), "%s", cor_test_str(&r, "state"));
        cor_test_response_free(&r);
        if (strcmp(state, "committed") == 0 || strcmp(state, "rejected") == 0) return state;
        sleep_ms(50);
    }
    cr_assert_fail("payment %s still %s", uetr, state);
    return state;
}

/* A pacs.028 asking about the payments with these UETRs (free with cor_iso_free). */
static char *pacs028(const char *const *uetrs, uint32_t count)
{
    static cor_iso_related_tx txs[TX_MAX];
    cr_assert(count <= TX_MAX);
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_PACS_028;
    m.group.msg_id = "REQ-1";
    m.group.created = "2026-11-29T11:00:00Z";
    m.group.original_msg_id = "MSG-1";
    m.group.original_msg_name = "pacs.008.001.08";
    for (uint32_t i = 0; i < count; i++)
        txs[i] = (cor_iso_related_tx){.original_uetr = uetrs[i]};
    m.related = txs;
    m.tx_count = count;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&m, 0, &xml, &size), COR_OK);
    return xml;
}

static void status_request(const cor_test_node *node, const char *key, const char *const *uetrs,
                           uint32_t count, cor_iso_message *m)
{
    char *xml = pacs028(uetrs, count);
    cor_test_response r;
    post_xml(node, key, xml, &r);
    cor_iso_free(xml);
    cor_iso_message_init(m);
    answer_parse(&r, m);
    cor_test_response_free(&r);
}

/* A camt.056 from Bank A asking to cancel the payment with this UETR; the camt.029 into m. */
static void cancel_request(const char *uetr, cor_iso_message *m)
{
    cor_iso_related_tx tx = {.original_msg_id = "MSG-1",
                             .original_msg_name = "pacs.008.001.08",
                             .original_uetr = uetr,
                             .original_end_to_end_id = "E2E",
                             .reason = "CUST"};
    cor_iso_message request;
    cor_iso_message_init(&request);
    request.type = COR_ISO_MSG_CAMT_056;
    request.group.msg_id = "CXL-1";
    request.group.created = "2026-11-29T11:00:00Z";
    request.group.instructing_agent = (cor_iso_agent){.bic = BIC_A};
    request.group.instructed_agent = (cor_iso_agent){.bic = "CRDRRUXX"};
    request.related = &tx;
    request.tx_count = 1;
    char *xml = NULL;
    size_t size = 0;
    cr_assert_eq(cor_iso_serialize(&request, 0, &xml, &size), COR_OK);
    cor_test_response r;
    post_xml(&ru, key_a, xml, &r);
    cor_iso_free(xml);
    cor_iso_message_init(m);
    answer_parse_as(&r, COR_ISO_MSG_CAMT_029, m);
    cor_test_response_free(&r);
}

#define UETR_1 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e01"
#define UETR_2 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e02"
#define UETR_3 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e03"
#define UETR_4 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e04"
#define UETR_5 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e05"
#define UETR_6 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e06"
#define UETR_7 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e07"
#define UETR_8 "5c0a5f4e-7a4b-4d52-9a3e-1f2b3c4d5e08"

/* ---- tests ------------------------------------------------------------------------------ */

Test(iso_xborder, accepted_then_committed_on_both_nodes)
{
    quote q = quote_for(key_a, "100000");
    cr_assert_eq(q.source, 100000);
    cr_assert_eq(q.dest, 48354597); /* floor(99,900 * 484.03) */
    tx_spec spec = {.uetr = UETR_1, .quote_id = q.id, .amount = q.source, .rate = "484.03"};
    char *xml = pacs008("MSG-1", &spec, 1);
    cor_iso_message m;
    send_pacs008(xml, &m);
    cr_assert_str_eq(m.group.original_msg_id, "MSG-1");
    cr_assert(m.header.present);
    cr_assert_str_eq(m.header.to.bic, BIC_A);
    assert_tx(&m, 0, "ACSP", NULL); /* leg 1 reserved; the beneficiary node decides */
    cr_assert_str_eq(m.related[0].original_uetr, UETR_1);
    cr_assert_str_eq(m.related[0].original_end_to_end_id, "E2E-MSG-1-0");
    cr_assert_str_eq(m.group.group_status, "ACSP");
    cor_iso_message_release(&m);

    cr_assert_str_eq(final_state(&ru, key_a, UETR_1), "committed");
    cr_assert_str_eq(final_state(&ir, key_b, UETR_1), "committed");
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - q.source);
    cr_assert_eq(cor_test_net(&ru, fx_ru), q.source);
    cr_assert_eq(cor_test_net(&ir, bank_b), q.dest);

    /* The beneficiary's record is the quote's: amounts and the creditor's account. */
    cor_test_response r;
    cor_test_http(&ir, "GET", "/v1/xborder/payments/" UETR_1, key_b, NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(cor_test_str(&r, "source_amount"), "100000", "%s", r.body);
    cr_assert_eq(strtoll(cor_test_str(&r, "destination_amount"), NULL, 10), q.dest);
    cr_assert_str_eq(cor_test_str(&r, "quote_id"), q.id);
    cor_test_response_free(&r);

    /* pacs.028 on the origin: the record says ACSC; on the beneficiary, Bank B sees it too;
     * another bank of the origin does not (AG09). */
    const char *uetrs[1] = {UETR_1};
    status_request(&ru, key_a, uetrs, 1, &m);
    assert_tx(&m, 0, "ACSC", NULL);
    cor_iso_message_release(&m);
    status_request(&ir, key_b, uetrs, 1, &m);
    assert_tx(&m, 0, "ACSC", NULL);
    cor_iso_message_release(&m);
    status_request(&ru, key_c, uetrs, 1, &m);
    assert_tx(&m, 0, "RJCT", "AG09");
    cor_iso_message_release(&m);

    /* camt.056 for it: settled with finality on both nodes, so refused (PTNA). */
    cancel_request(UETR_1, &m);
    assert_tx(&m, 0, "RJCR", "PTNA");
    cor_iso_message_release(&m);

    /* The same document again: the same payment, answered with its outcome; nothing moves
     * twice. */
    send_pacs008(xml, &m);
    assert_tx(&m, 0, "ACSC", NULL);
    cor_iso_message_release(&m);
    cor_iso_free(xml);
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - q.source);
    cr_assert_eq(cor_test_net(&ir, bank_b), q.dest);

    /* Another UETR with the used quote: the core refuses it (quote used: DUPL). */
    spec.uetr = UETR_2;
    xml = pacs008("MSG-2", &spec, 1);
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    assert_tx(&m, 0, "RJCT", "DUPL");
    cr_assert_str_eq(m.related[0].additional_info, "quote already used by another payment");
    cor_iso_message_release(&m);
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - q.source);
}

Test(iso_xborder, refusals_carry_their_iso_reason_and_move_nothing)
{
    quote q = quote_for(key_a, "200000");
    quote other = quote_for(key_c, "200000"); /* Bank C's quote: not Bank A's to use */
    char unknown[48];
    snprintf(unknown, sizeof(unknown), "%s", q.id);
    unknown[strlen(unknown) - 1] = unknown[strlen(unknown) - 1] == '9' ? '0' : '9';
    tx_spec specs[8] = {
        {.uetr = UETR_1, .quote_id = unknown, .amount = q.source},                    /* AM09 */
        {.uetr = UETR_2, .quote_id = q.id, .amount = q.source - 1},                   /* AM09 */
        {.quote_id = q.id, .amount = q.source},                                       /* CH21 */
        {.uetr = UETR_4, .quote_id = q.id, .amount = q.source, .creditor_id = "B-1"}, /* AC03 */
        {.uetr = UETR_5, .quote_id = q.id, .amount = q.source, .currency = "IRR"},    /* CURR */
        {.uetr = UETR_6, .quote_id = q.id, .amount = q.source, .rate = "484.05"},     /* AM09 */
        {.uetr = UETR_7, .quote_id = other.id, .amount = other.source},               /* AM09 */
        {.uetr = UETR_8, .instruction = "/QUOTE/12x", .amount = q.source},            /* FF01 */
    };
    char *xml = pacs008("MSG-3", specs, 8);
    cor_iso_message m;
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    assert_tx(&m, 0, "RJCT", "AM09");
    assert_tx(&m, 1, "RJCT", "AM09");
    cr_assert_str_eq(m.related[1].additional_info,
                     "IntrBkSttlmAmt is not the quote's source amount (fee included)");
    assert_tx(&m, 2, "RJCT", "CH21");
    assert_tx(&m, 3, "RJCT", "AC03");
    assert_tx(&m, 4, "RJCT", "CURR");
    assert_tx(&m, 5, "RJCT", "AM09");
    assert_tx(&m, 6, "RJCT", "AM09");
    assert_tx(&m, 7, "RJCT", "FF01");
    cr_assert_str_eq(m.group.group_status, "RJCT");
    cor_iso_message_release(&m);

    /* An IBAN, a zero and an out-of-range id are not a participant of the peer (AC03). */
    tx_spec accounts[3] = {
        {.uetr = UETR_1,
         .quote_id = q.id,
         .amount = q.source,
         .creditor_iban = "DE89370400440532013000"},
        {.uetr = UETR_2, .quote_id = q.id, .amount = q.source, .creditor_id = "0"},
        {.uetr = UETR_3, .quote_id = q.id, .amount = q.source, .creditor_id = "4294967296"},
    };
    xml = pacs008("MSG-4", accounts, 3);
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    for (uint32_t i = 0; i < 3; i++)
        assert_tx(&m, i, "RJCT", "AC03");
    cor_iso_message_release(&m);

    /* Nothing moved, and the quote is still unused: a correct transaction with it passes,
     * with an XchgRate within one unit of its last digit (484.0 for 484.03). */
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A);
    tx_spec good = {.uetr = UETR_3, .quote_id = q.id, .amount = q.source, .rate = "484.0"};
    xml = pacs008("MSG-5", &good, 1);
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    assert_tx(&m, 0, "ACSP", NULL);
    cor_iso_message_release(&m);
    cr_assert_str_eq(final_state(&ru, key_a, UETR_3), "committed");

    /* A creditor that is no participant of the peer: node IR rejects it (AC03 is the
     * protocol's CREDITOR_ACCOUNT), and node RU voids leg 1; pacs.028 says so. */
    quote q2 = quote_for(key_a, "300000");
    tx_spec stranger = {
        .uetr = UETR_4, .quote_id = q2.id, .amount = q2.source, .creditor_id = "999"};
    xml = pacs008("MSG-6", &stranger, 1);
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    assert_tx(&m, 0, "ACSP", NULL);
    cor_iso_message_release(&m);
    cr_assert_str_eq(final_state(&ru, key_a, UETR_4), "rejected");
    const char *uetrs[2] = {UETR_4, UETR_3};
    status_request(&ru, key_a, uetrs, 2, &m);
    assert_tx(&m, 0, "RJCT", "AC03");
    assert_tx(&m, 1, "ACSC", NULL);
    cr_assert_str_eq(m.group.group_status, "PART");
    cor_iso_message_release(&m);
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - q.source);
    cancel_request(UETR_4, &m);
    assert_tx(&m, 0, "RJCR", "NARR");
    cr_assert_str_eq(m.related[0].additional_info, "the payment was rejected; nothing was settled");
    cor_iso_message_release(&m);
}

Test(iso_xborder, batch_and_mixed_with_domestic)
{
    quote q[3] = {quote_for(key_a, "10000"), quote_for(key_a, "20000"), quote_for(key_a, "30000")};
    /* Three cross-border transactions and two domestic ones (to Bank C) in one document,
     * interleaved: one pacs.002 answers each in order. */
    tx_spec specs[5] = {
        {.uetr = UETR_1, .quote_id = q[0].id, .amount = q[0].source},
        {.uetr = UETR_2, .amount = 700, .creditor_bic = BIC_C},
        {.uetr = UETR_3, .quote_id = q[1].id, .amount = q[1].source},
        {.uetr = UETR_4, .quote_id = q[2].id, .amount = q[2].source},
        {.uetr = UETR_5, .amount = 300, .creditor_bic = BIC_C},
    };
    char *xml = pacs008("MSG-7", specs, 5);
    cor_iso_message m;
    send_pacs008(xml, &m);
    assert_tx(&m, 0, "ACSP", NULL);
    assert_tx(&m, 1, "ACSC", NULL); /* domestic: settled with finality at once */
    assert_tx(&m, 2, "ACSP", NULL);
    assert_tx(&m, 3, "ACSP", NULL);
    assert_tx(&m, 4, "ACSC", NULL);
    cr_assert_null(m.group.group_status); /* statuses differ and none is RJCT */
    cor_iso_message_release(&m);
    cr_assert_eq(cor_test_net(&ru, bank_c), 100000000 + 1000);

    const char *uetrs[5] = {UETR_1, UETR_2, UETR_3, UETR_4, UETR_5};
    long long source = 0, dest = 0;
    for (int i = 0; i < 3; i++) {
        source += q[i].source;
        dest += q[i].dest;
    }
    static const uint32_t cross_border[3] = {0, 2, 3};
    for (uint32_t k = 0; k < 3; k++) {
        const char *uetr = uetrs[cross_border[k]];
        cr_assert_str_eq(final_state(&ru, key_a, uetr), "committed");
        cr_assert_str_eq(final_state(&ir, key_b, uetr), "committed");
    }
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - source - 1000);
    cr_assert_eq(cor_test_net(&ir, bank_b), dest);

    /* Sent again: every transaction answers its final outcome, nothing moves twice. */
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    for (uint32_t i = 0; i < 5; i++)
        assert_tx(&m, i, "ACSC", NULL);
    cr_assert_str_eq(m.group.group_status, "ACSC");
    cor_iso_message_release(&m);
    status_request(&ru, key_a, uetrs, 5, &m);
    for (uint32_t i = 0; i < 5; i++)
        assert_tx(&m, i, "ACSC", NULL);
    cor_iso_message_release(&m);
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - source - 1000);
    cr_assert_eq(cor_test_net(&ir, bank_b), dest);
}

Test(iso_xborder, camt056_cancels_what_the_beneficiary_has_not_decided)
{
    quote q = quote_for(key_a, "50000");
    /* Node IR is away: the instruction waits in RU's outbox, undecided. */
    cr_assert_eq(cor_test_node_signal(&ir, SIGTERM), 0);
    tx_spec spec = {.uetr = UETR_6, .quote_id = q.id, .amount = q.source};
    char *xml = pacs008("MSG-9", &spec, 1);
    cor_iso_message m;
    send_pacs008(xml, &m);
    cor_iso_free(xml);
    assert_tx(&m, 0, "ACSP", NULL);
    cor_iso_message_release(&m);

    /* camt.056: the cancellation is requested (the protocol's camt.056 to IR), pending. */
    cancel_request(UETR_6, &m);
    assert_tx(&m, 0, "PDCR", NULL);
    cr_assert_str_eq(m.group.group_status, "PDCR");
    cor_iso_message_release(&m);
    cancel_request(UETR_6, &m); /* asked again: still pending, nothing new */
    assert_tx(&m, 0, "PDCR", NULL);
    cor_iso_message_release(&m);

    /* IR comes back. The instruction queued before the cancellation may reach it first
     * (then it settles and the cancellation is refused) or not (then IR rejects it because
     * of the cancellation and RU voids leg 1): either way both nodes agree, and every later
     * answer says which. */
    cor_test_node_start(&ir);
    const char *state = final_state(&ru, key_a, UETR_6);
    bool cancelled = strcmp(state, "rejected") == 0;
    cr_assert_str_eq(final_state(&ir, key_b, UETR_6), state);
    const char *uetrs[1] = {UETR_6};
    status_request(&ru, key_a, uetrs, 1, &m);
    assert_tx(&m, 0, cancelled ? "RJCT" : "ACSC", cancelled ? "CUST" : NULL);
    cor_iso_message_release(&m);
    cancel_request(UETR_6, &m);
    assert_tx(&m, 0, cancelled ? "ACCR" : "RJCR", cancelled ? NULL : "PTNA");
    cr_assert_str_eq(m.group.group_status, cancelled ? "CNCL" : "RJCR");
    cor_iso_message_release(&m);
    cr_assert_eq(cor_test_net(&ru, bank_a), FUNDS_A - (cancelled ? 0 : q.source));
    cr_assert_eq(cor_test_net(&ir, bank_b), cancelled ? 0 : q.dest);
}
