/*
 * The peer wire format, src/corridor/wire.c: every message kind the core produces, taken
 * from real cor_xb instances, goes encode -> decode -> cor_xb_receive and must come out
 * unchanged; the XML must validate against the official XSDs; and every kind of bad
 * envelope (forged, flipped, truncated, wrong key, stale, hostile XML inside a valid
 * signature, fields that disagree) is refused with its code, never accepted or crashing.
 */
#include <criterion/criterion.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../support/iso_support.h"
#include "common/alloc.h"
#include "../../support/xb_world.h"
#include "corridor/xborder_wire.h"

#define NS     1000000000ull
#define WINDOW (120ull * NS)
#define SKEW   (5ull * NS)

static xbw_world world;
static uint64_t rng = 4242;
static cor_wire *wires[3]; /* RU (node 1), IR (node 2), CN (node 3: knows RU only) */
static uint8_t public_keys[3][COR_WIRE_PUBLIC_KEY_SIZE];
static uint8_t secret_keys[3][COR_WIRE_SECRET_KEY_SIZE];
static cor_xb_message out[64];
static uint8_t envelope[COR_WIRE_SIZE_BYTES_MAX + 16];
static bool validated[8][4][3]; /* type, status, cancel status already checked with the XSD */
static uint32_t kinds_seen;

static const char *const node_names[3] = {"RU", "IR", "CN"};
static const char *const node_bics[3] = {"CORRRUMM", "CORRIRTH", "CORRCNBJ"};
static const char *const node_currencies[3] = {"RUB", "IRR", "CNY"};

static cor_wire_node node_of(uint32_t n)
{
    cor_wire_node node;
    memset(&node, 0, sizeof(node));
    snprintf(node.name, sizeof(node.name), "%s", node_names[n]);
    snprintf(node.bic, sizeof(node.bic), "%s", node_bics[n]);
    snprintf(node.currency, sizeof(node.currency), "%s", node_currencies[n]);
    node.node_id = n + 1;
    node.ledger = xbw_currency(n);
    node.key_count = 1;
    node.keys[0].key_id = 10 + n;
    memcpy(node.keys[0].public_key, public_keys[n], COR_WIRE_PUBLIC_KEY_SIZE);
    return node;
}

static void options_for(uint32_t n, const cor_wire_node *peers, uint32_t peer_count,
                        cor_wire_options *options)
{
    memset(options, 0, sizeof(*options));
    options->self = node_of(n);
    options->self.key_count = 0;
    memset(options->self.keys, 0, sizeof(options->self.keys));
    options->self_key_id = 10 + n;
    memcpy(options->self_secret_key, secret_keys[n], COR_WIRE_SECRET_KEY_SIZE);
    options->peers = peers;
    options->peer_count = peer_count;
    options->replay_window_ns = WINDOW;
    options->clock_skew_ns = SKEW;
}

static void setup(void)
{
    cr_assert(sodium_init() >= 0);
    for (uint32_t n = 0; n < 3; n++) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        memset(seed, (int)(0x51 + n), sizeof(seed));
        crypto_sign_seed_keypair(public_keys[n], secret_keys[n], seed);
    }
    cor_wire_node peers_ru[2] = {node_of(1), node_of(2)};
    cor_wire_node peers_ir[1] = {node_of(0)};
    cor_wire_node peers_cn[1] = {node_of(0)};
    cor_wire_options options;
    options_for(0, peers_ru, 2, &options);
    cr_assert_eq(cor_wire_open(&options, &wires[0]), COR_OK);
    options_for(1, peers_ir, 1, &options);
    cr_assert_eq(cor_wire_open(&options, &wires[1]), COR_OK);
    options_for(2, peers_cn, 1, &options);
    cr_assert_eq(cor_wire_open(&options, &wires[2]), COR_OK);

    xbw_config config;
    xbw_config_default(&config);
    config.deadline_ns = 2 * NS;
    xbw_open(&world, &config, 1 * NS);
    cr_assert_eq(xbw_publish(&world, 0, 1, 0, 500, 1, 1500, 3, 1 * NS), COR_XB_OK); /* RUB->IRR */
    cr_assert_eq(xbw_publish(&world, 1, 0, 0, 1, 500, 0, 0, 1 * NS), COR_XB_OK);    /* IRR->RUB */
    memset(validated, 0, sizeof(validated));
    kinds_seen = 0;
}

static void teardown(void)
{
    xbw_close(&world);
    for (uint32_t n = 0; n < 3; n++) {
        cor_wire_close(wires[n]);
        wires[n] = NULL;
    }
}

TestSuite(corridor_wire, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------------------------ */

static size_t encode(const cor_xb_message *m)
{
    size_t size = 0;
    cor_error rc = cor_wire_encode(wires[m->from_node - 1], m, envelope, sizeof(envelope), &size);
    cr_assert_eq(rc, COR_OK, "encode type %u: %s", m->type, cor_error_name(rc));
    cr_assert_gt(size, COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE);
    return size;
}

static void record_xsd_check(const char *xml, size_t xml_size);

static void xsd_check(const cor_xb_message *m, size_t size)
{
    bool *done = &validated[m->type & 7u][m->status & 3u][m->cancel_status % 3u];
    if (*done) return;
    *done = true;
    cor_test_iso_require_data();
    char error[512] = "";
    const char *xml = (const char *)envelope + COR_WIRE_HEADER_SIZE_BYTES;
    size_t xml_size = size - COR_WIRE_HEADER_SIZE_BYTES - COR_WIRE_SIGNATURE_SIZE;
    int parts = cor_test_iso_xsd_validate(xml, xml_size, error, sizeof(error));
    cr_assert_eq(parts, 2, "type %u status %u: %s\n%.*s", m->type, m->status, error, (int)xml_size,
                 xml);
    record_xsd_check(xml, xml_size);
}

/* Validates the corridor record (SplmtryData/Envlp/Xb) against docs/xsd/corridor.xborder.2.xsd:
 * the official schemas take any content there, so this is the record's own check. */
static void record_xsd_check(const char *xml, size_t xml_size)
{
    xmlDocPtr doc = xmlReadMemory(xml, (int)xml_size, "wire.xml", NULL, XML_PARSE_NONET);
    cr_assert_not_null(doc);
    xmlNodePtr record = NULL;
    for (xmlNodePtr node = xmlDocGetRootElement(doc); node != NULL && record == NULL;) {
        if (node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, "Xb") == 0) {
            record = node;
        } else if (node->children != NULL) {
            node = node->children;
        } else {
            while (node != NULL && node->next == NULL)
                node = node->parent;
            if (node != NULL) node = node->next;
        }
    }
    cr_assert_not_null(record, "no corridor record in the body");
    xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt("docs/xsd/corridor.xborder.2.xsd");
    xmlSchemaPtr schema = xmlSchemaParse(parser);
    cr_assert_not_null(schema, "docs/xsd/corridor.xborder.2.xsd must load (run from the root)");
    xmlSchemaValidCtxtPtr valid = xmlSchemaNewValidCtxt(schema);
    xmlDocPtr alone = xmlNewDoc((const xmlChar *)"1.0");
    xmlDocSetRootElement(alone, xmlDocCopyNode(record, alone, 1));
    int rc = xmlSchemaValidateDoc(valid, alone);
    xmlFreeDoc(alone);
    xmlSchemaFreeValidCtxt(valid);
    xmlSchemaFree(schema);
    xmlSchemaFreeParserCtxt(parser);
    xmlFreeDoc(doc);
    cr_assert_eq(rc, 0, "corridor record does not validate against its schema");
}

/* Decodes envelope[0..size) at node `to` (0-based) and returns the refusal code. */
static uint32_t decode_at(uint32_t to, uint64_t now, size_t size, cor_xb_message *got)
{
    cor_wire_refusal refusal;
    cor_error rc = cor_wire_decode(wires[to], now, envelope, size, got, &refusal);
    if (refusal.code == COR_WIRE_OK) {
        cr_assert_eq(rc, COR_OK);
    } else {
        cr_assert_neq(rc, COR_OK);
        cr_assert_neq(refusal.text[0], '\0', "a refusal always says why");
        cr_assert_eq(strlen(refusal.iso), 4, "a refusal always has an iso code");
        static const cor_xb_message zero;
        cr_assert(memcmp(got, &zero, sizeof(zero)) == 0, "refused: nothing comes out");
    }
    return refusal.code;
}

/* The wire between two cores: encode at the sender, XSD-check, decode at the addressee at
 * `now`, and the decoded message must equal the original byte for byte. */
static cor_xb_message wire_pass(const cor_xb_message *m, uint64_t now)
{
    size_t size = encode(m);
    xsd_check(m, size);
    cor_xb_message got;
    uint32_t code = decode_at(m->to_node - 1, now, size, &got);
    cr_assert_eq(code, COR_WIRE_OK, "type %u: %s", m->type, cor_wire_code_name(code));
    cr_assert(memcmp(&got, m, sizeof(got)) == 0, "type %u changed on the wire", m->type);
    kinds_seen |= 1u << m->type;
    return got;
}

/* Delivers every message of both nodes through the wire until quiet. hold screens every
 * instruction B receives. drop_from drops everything node drop_from sends (-1: none). */
static void settle(uint64_t ts, uint32_t flags, int drop_from)
{
    for (int round = 0; round < 20; round++) {
        uint32_t moved = 0;
        for (uint32_t n = 0; n < 2; n++) {
            uint32_t count = xbw_fsync(&world, n, out, 64);
            for (uint32_t i = 0; i < count; i++) {
                cor_xb_message got = wire_pass(&out[i], ts);
                if ((int)n == drop_from) continue;
                uint32_t to = got.to_node - 1, reason = 0;
                cr_assert_eq(cor_xb_receive_flags(world.nodes[to].xb, ts, &got, flags, &reason),
                             COR_OK);
                cr_assert(reason == COR_XB_OK || reason == COR_XB_PAYMENT_UNKNOWN, "%s",
                          cor_xb_reason_name(reason));
                xbw_collect(&world, to);
            }
            moved += count;
        }
        if (moved == 0) return;
    }
    cr_assert_fail("not quiet");
}

static cor_u128 initiate(uint32_t n, cor_u128 amount)
{
    cor_xb_quote_request request = {.amount = amount,
                                    .requester = 11,
                                    .peer_node = n == 0 ? 2 : 1,
                                    .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote q;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[n].xb, 2 * NS, &request, &q, 1, &count, &reason),
                 COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cor_xb_payment_request payment = {.uetr = xbw_uetr(&rng),
                                      .quote_id = q.id,
                                      .debtor_account = xbw_account_bank(n, 0),
                                      .creditor_account = xbw_account_bank(1 - n, 1),
                                      .requester = 11};
    cr_assert_eq(cor_xb_payment_initiate(world.nodes[n].xb, 2 * NS, &payment, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_collect(&world, n);
    return payment.uetr;
}

static cor_xb_payment lookup(uint32_t n, cor_u128 uetr)
{
    cor_xb_payment p;
    cr_assert(cor_xb_payment_lookup(world.nodes[n].xb, uetr, &p));
    return p;
}

/* One message of each kind from a real payment (a pacs.008 from RU to IR). */
static cor_xb_message sample(void)
{
    initiate(0, 1000);
    cr_assert_eq(xbw_fsync(&world, 0, out, 64), 1);
    return out[0];
}

/* Re-signs envelope[0..size) with node n's key after the caller changed bytes; body_size
 * is rewritten for new_size. Returns the new size. */
static size_t resign(uint32_t n, size_t new_size)
{
    size_t body = new_size - COR_WIRE_HEADER_SIZE_BYTES - COR_WIRE_SIGNATURE_SIZE;
    for (int i = 0; i < 4; i++)
        envelope[68 + i] = (uint8_t)(body >> (8 * (3 - i)));
    size_t signed_size = new_size - COR_WIRE_SIGNATURE_SIZE;
    crypto_sign_detached(envelope + signed_size, NULL, envelope, signed_size, secret_keys[n]);
    return new_size;
}

/* Replaces the body of an envelope with xml and signs it as node n. */
static size_t with_body(uint32_t n, const char *xml, size_t xml_size)
{
    cr_assert_leq(xml_size, sizeof(envelope) - COR_WIRE_HEADER_SIZE_BYTES - 64);
    memcpy(envelope + COR_WIRE_HEADER_SIZE_BYTES, xml, xml_size);
    return resign(n, COR_WIRE_HEADER_SIZE_BYTES + xml_size + COR_WIRE_SIGNATURE_SIZE);
}

/* The XML of the envelope (copied, NUL-terminated, into text). */
static size_t body_of(size_t size, char *text, size_t text_size)
{
    size_t xml_size = size - COR_WIRE_HEADER_SIZE_BYTES - COR_WIRE_SIGNATURE_SIZE;
    cr_assert_lt(xml_size, text_size);
    memcpy(text, envelope + COR_WIRE_HEADER_SIZE_BYTES, xml_size);
    text[xml_size] = '\0';
    return xml_size;
}

/* Replaces the first `from` in text by `to` (text has room); false when absent. */
static bool replace(char *text, size_t text_size, const char *from, const char *to)
{
    char *at = strstr(text, from);
    if (at == NULL) return false;
    size_t tail = strlen(at + strlen(from));
    cr_assert_lt(strlen(text) - strlen(from) + strlen(to), text_size);
    memmove(at + strlen(to), at + strlen(from), tail + 1);
    memcpy(at, to, strlen(to));
    return true;
}

/* The corridor record's values, in their order on an <R> row (docs/xsd/corridor.xborder.2.xsd). */
enum {
    F_TP,
    F_MSGID,
    F_ORGNL,
    F_FR,
    F_TO,
    F_CREAT,
    F_UETR,
    F_QTID,
    F_FXID,
    F_RATENUM,
    F_RATEDEN,
    F_SPRD,
    F_FXD,
    F_AMTSRC,
    F_SRCLDGR,
    F_AMTDST,
    F_DSTLDGR,
    F_FEESRC,
    F_DBTR,
    F_CDTR,
    F_DDLN,
    F_RTROF,
    F_RTRRSN,
    F_STS,
    F_RSN,
    F_CXLSTS,
    F_DCDAT
};

/* Where value `field` of the row-th <R> of xml starts, and its length; NULL when absent. */
static char *row_value(char *xml, uint32_t row, uint32_t field, size_t *length)
{
    char *p = xml;
    for (uint32_t r = 0; r <= row; r++) {
        p = strstr(p, "<R>");
        if (p == NULL) return NULL;
        p += 3;
    }
    for (uint32_t f = 0; f < field; f++) {
        p = strpbrk(p, " <");
        if (p == NULL || *p == '<') return NULL;
        p++;
    }
    *length = strcspn(p, " <");
    return p;
}

/* Replaces value `field` of the row-th record of xml (room for xml_size) by prefix + text,
 * or by prefix + the old value when text is NULL; false when absent. */
static bool set_value(char *xml, size_t xml_size, uint32_t row, uint32_t field, const char *prefix,
                      const char *text)
{
    size_t length = 0;
    char *at = row_value(xml, row, field, &length);
    if (at == NULL) return false;
    char value[256];
    snprintf(value, sizeof(value), "%s%.*s", prefix, (int)(text == NULL ? length : strlen(text)),
             text == NULL ? at : text);
    size_t size = strlen(value);
    cr_assert_lt(strlen(xml) - length + size, xml_size);
    memmove(at + size, at + length, strlen(at + length) + 1);
    memcpy(at, value, size);
    return true;
}

/* ---- round trips ---------------------------------------------------------------------------- */

Test(corridor_wire, every_kind_round_trips_between_two_cores)
{
    /* pacs.008 -> pacs.002 ACSC */
    cor_u128 paid = initiate(0, 1000);
    settle(2 * NS, 0, -1);
    cr_assert_eq(lookup(0, paid).state, COR_XB_STATE_COMMITTED);
    cr_assert_eq(lookup(1, paid).state, COR_XB_STATE_COMMITTED);

    /* pacs.004 back -> pacs.002 ACSC at the original origin */
    cor_xb_quote_request request = {
        .amount = 1000, .requester = 21, .peer_node = 1, .fixed = COR_XB_FIXED_SOURCE};
    cor_xb_quote q;
    uint32_t count = 0, reason = 0;
    cr_assert_eq(cor_xb_quote_issue(world.nodes[1].xb, 2 * NS, &request, &q, 1, &count, &reason),
                 COR_OK);
    cor_xb_return_request back = {.uetr = xbw_uetr(&rng),
                                  .original_uetr = paid,
                                  .quote_id = q.id,
                                  .requester = 21,
                                  .reason = COR_XB_RETURN_CUSTOMER};
    cr_assert_eq(cor_xb_return_initiate(world.nodes[1].xb, 2 * NS, &back, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_collect(&world, 1);
    settle(2 * NS, 0, -1);
    cr_assert_eq(lookup(0, back.uetr).state, COR_XB_STATE_COMMITTED);

    /* held for screening: pacs.002 PDNG; cancellation: camt.056 -> camt.029 CNCL + RJCT */
    cor_xb_message pending = {0};
    cor_u128 held = initiate(0, 2000);
    cr_assert_eq(xbw_fsync(&world, 0, out, 64), 1);
    cor_xb_message instruction = wire_pass(&out[0], 2 * NS);
    cr_assert_eq(
        cor_xb_receive_flags(world.nodes[1].xb, 2 * NS, &instruction, COR_XB_RECEIVE_HOLD, &reason),
        COR_OK);
    xbw_collect(&world, 1);
    cr_assert_eq(xbw_fsync(&world, 1, out, 64), 1);
    pending = wire_pass(&out[0], 2 * NS);
    cr_assert_eq(pending.status, COR_XB_STATUS_PDNG);
    cr_assert_eq(pending.reason, COR_XB_HELD);
    cr_assert_eq(cor_xb_payment_cancel(world.nodes[0].xb, 2 * NS, held, 11, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    xbw_collect(&world, 0);
    settle(2 * NS, 0, -1);
    cr_assert_eq(lookup(0, held).state, COR_XB_STATE_REJECTED);

    /* B settled but its answer was lost: camt.056 -> camt.029 RJCR + ACSC */
    cor_u128 late = initiate(0, 3000);
    settle(2 * NS, 0, 1); /* B's answers are dropped */
    cr_assert_eq(cor_xb_payment_cancel(world.nodes[0].xb, 2 * NS, late, 11, &reason), COR_OK);
    xbw_collect(&world, 0);
    settle(2 * NS, 0, -1);
    cr_assert_eq(lookup(0, late).state, COR_XB_STATE_COMMITTED);

    /* never delivered: after the deadline A asks with pacs.028, B answers RJCT AB05 */
    cor_u128 lost = initiate(0, 4000);
    settle(2 * NS, 0, 0); /* A's pacs.008 is dropped */
    cr_assert_eq(cor_xb_tick(world.nodes[0].xb, 10 * NS, 100), 1);
    xbw_collect(&world, 0);
    settle(10 * NS, 0, -1);
    cor_xb_payment p = lookup(0, lost);
    cr_assert_eq(p.state, COR_XB_STATE_REJECTED);
    cr_assert_eq(lookup(1, lost).reason, COR_XB_DEADLINE_PASSED);

    uint32_t all = (1u << COR_XB_PACS008) | (1u << COR_XB_PACS002) | (1u << COR_XB_PACS028) |
                   (1u << COR_XB_CAMT056) | (1u << COR_XB_CAMT029) | (1u << COR_XB_PACS004);
    cr_assert_eq(kinds_seen, all, "kinds seen %#x", kinds_seen);
    cr_assert(validated[COR_XB_PACS002][COR_XB_STATUS_RJCT][0]);
    cr_assert(validated[COR_XB_CAMT029][COR_XB_STATUS_ACSC][COR_XB_CANCEL_RJCR]);
    cr_assert(validated[COR_XB_CAMT029][COR_XB_STATUS_RJCT][COR_XB_CANCEL_CNCL]);
}

/* Record ids are hex without leading zeros: every width round-trips, in its one spelling. */
Test(corridor_wire, record_hex_values_round_trip_at_every_width)
{
    static const struct {
        cor_u128 value;
        const char *text;
    } cases[] = {
        {0, "0"},
        {1, "1"},
        {0xf, "f"},
        {0x10, "10"},
        {UINT64_MAX, "ffffffffffffffff"},
        {(cor_u128)UINT64_MAX + 1, "10000000000000000"},
        {(cor_u128)1 << 127, "80000000000000000000000000000000"},
        {~(cor_u128)0, "ffffffffffffffffffffffffffffffff"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cor_xb_message m = sample();
        m.quote_id = cases[i].value;
        size_t size = encode(&m);
        char xml[8192];
        body_of(size, xml, sizeof(xml));
        size_t length = 0;
        const char *at = row_value(xml, 0, F_QTID, &length);
        cr_assert(at != NULL && length == strlen(cases[i].text) &&
                      memcmp(at, cases[i].text, length) == 0,
                  "case %zu: %.*s", i, (int)length, at);
        cor_xb_message got;
        cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_OK, "case %zu", i);
        cr_assert(memcmp(&got, &m, sizeof(m)) == 0, "case %zu", i);
    }
}

Test(corridor_wire, encoding_is_deterministic_and_carries_the_quote)
{
    cor_xb_message m = sample();
    size_t size = encode(&m);
    uint8_t first[8192];
    cr_assert_lt(size, sizeof(first));
    memcpy(first, envelope, size);
    cr_assert_eq(encode(&m), size);
    cr_assert(memcmp(first, envelope, size) == 0, "same message, same bytes");
    char xml[8192];
    body_of(size, xml, sizeof(xml));
    size_t length = 0;
    const char *rate = row_value(xml, 0, F_RATENUM, &length);
    cr_assert(rate != NULL && strncmp(rate, "500 1 1500 ", 11) == 0, "%s", xml); /* num den ppm */
    cr_assert(strstr(xml, "<InstdAmt Ccy=\"RUB\">10.00</InstdAmt>"), "%s", xml);
    cr_assert(strstr(xml, "<AppHdr") && strstr(xml, "<BICFI>CORRIRTH</BICFI>"));
}

Test(corridor_wire, times_are_utc_with_nine_fraction_digits)
{
    cor_xb_message m = sample();
    struct {
        uint64_t ns;
        const char *text;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000000000Z"},
        {1835481599ull * NS + 999999999ull, "2028-02-29T23:59:59.999999999Z"},
        {4102444799ull * NS + 1, "2099-12-31T23:59:59.000000001Z"},
        {4107542400ull * NS, "2100-03-01T00:00:00.000000000Z"},
        {UINT64_MAX, "2554-07-21T23:34:33.709551615Z"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        m.created_at = cases[i].ns;
        size_t size = encode(&m);
        char xml[8192], expected[64];
        body_of(size, xml, sizeof(xml));
        snprintf(expected, sizeof(expected), "<CreDtTm>%s</CreDtTm>", cases[i].text);
        cr_assert(strstr(xml, expected), "case %zu: %s", i, xml);
        cor_xb_message got;
        cr_assert_eq(decode_at(1, cases[i].ns, size, &got), COR_WIRE_OK);
        cr_assert_eq(got.created_at, cases[i].ns);
    }
}

Test(corridor_wire, amounts_off_the_quote_cross_unchanged_and_b_refuses_am09)
{
    cor_xb_message m = sample();
    m.amount_dest += 1; /* a doctored instruction, correctly signed by A */
    cor_xb_message got = wire_pass(&m, 2 * NS);
    cr_assert(got.amount_dest == m.amount_dest);
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, 2 * NS, &got, &reason), COR_OK);
    xbw_collect(&world, 1);
    cr_assert_eq(xbw_fsync(&world, 1, out, 64), 1);
    cor_xb_message answer = wire_pass(&out[0], 2 * NS);
    cr_assert_eq(answer.status, COR_XB_STATUS_RJCT);
    cr_assert_eq(answer.reason, COR_XB_AMOUNT_MISMATCH);
    char xml[8192];
    size_t size = encode(&answer);
    body_of(size, xml, sizeof(xml));
    cr_assert(strstr(xml, "<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AM09</Cd>"), "%s", xml);
}

/* ---- refusals of the envelope --------------------------------------------------------------- */

Test(corridor_wire, every_flipped_byte_and_every_truncation_is_refused)
{
    cor_xb_message m = sample();
    size_t size = encode(&m);
    uint8_t good[8192];
    memcpy(good, envelope, size);
    cor_xb_message got;
    for (size_t i = 0; i < size; i++) {
        memcpy(envelope, good, size);
        envelope[i] ^= (uint8_t)(1u << (i % 8));
        uint32_t code = decode_at(1, 2 * NS, size, &got);
        cr_assert_neq(code, COR_WIRE_OK, "flip at byte %zu accepted", i);
        if (i >= 72) {
            cr_assert_eq(code, COR_WIRE_SIGNATURE, "byte %zu: %s", i, cor_wire_code_name(code));
        }
    }
    memcpy(envelope, good, size);
    for (size_t cut = 0; cut < size; cut++) {
        uint32_t code = decode_at(1, 2 * NS, cut, &got);
        cr_assert(code == COR_WIRE_TRUNCATED || code == COR_WIRE_FORMAT, "cut %zu: %s", cut,
                  cor_wire_code_name(code));
    }
    cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_OK);
    cr_assert_eq(decode_at(1, 2 * NS, COR_WIRE_SIZE_BYTES_MAX + 1, &got), COR_WIRE_OVERSIZED);
    envelope[size] = 0; /* trailing garbage after the signature */
    cr_assert_eq(decode_at(1, 2 * NS, size + 1, &got), COR_WIRE_FORMAT);
}

Test(corridor_wire, forged_wrong_key_unknown_sender_and_not_addressee)
{
    cor_xb_message m = sample();
    size_t size = encode(&m);
    cor_xb_message got;
    /* forged: the body changed and signed by CN's key under RU's name and key id */
    char xml[8192];
    size_t xml_size = body_of(size, xml, sizeof(xml));
    cr_assert(set_value(xml, sizeof(xml), 0, F_AMTDST, "1", NULL));
    size_t forged = with_body(2, xml, xml_size + 1);
    cr_assert_eq(decode_at(1, 2 * NS, forged, &got), COR_WIRE_SIGNATURE);
    /* the same signed by RU verifies, then the record disagrees with the ISO amount */
    forged = with_body(0, xml, xml_size + 1);
    cr_assert_eq(decode_at(1, 2 * NS, forged, &got), COR_WIRE_MISMATCH);

    size = encode(&m);
    envelope[43] ^= 1; /* key id 10 -> 11: not configured for RU */
    resign(0, size);
    cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_KEY_UNKNOWN);

    size = encode(&m);
    memcpy(envelope + 8, "XX", 2); /* a sender nobody configured */
    cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_SENDER_UNKNOWN);

    size = encode(&m); /* RU -> IR, presented to CN, which knows RU */
    cr_assert_eq(decode_at(2, 2 * NS, size, &got), COR_WIRE_NOT_ADDRESSEE);
    memcpy(envelope + 24, "CN", 2); /* re-addressed to CN without RU's key: signature */
    cr_assert_eq(decode_at(2, 2 * NS, size, &got), COR_WIRE_SIGNATURE);
    resign(0, size); /* re-addressed and signed by RU: the record still names IR */
    cr_assert_eq(decode_at(2, 2 * NS, size, &got), COR_WIRE_MISMATCH);

    /* IR configured with the wrong public key for RU */
    cor_wire_node peer = node_of(0);
    memcpy(peer.keys[0].public_key, public_keys[2], COR_WIRE_PUBLIC_KEY_SIZE);
    cor_wire_options options;
    options_for(1, &peer, 1, &options);
    cor_wire *other = NULL;
    cr_assert_eq(cor_wire_open(&options, &other), COR_OK);
    size = encode(&m);
    cor_wire_refusal refusal;
    cr_assert_eq(cor_wire_decode(other, 2 * NS, envelope, size, &got, &refusal), COR_ERR_AUTH);
    cr_assert_eq(refusal.code, COR_WIRE_SIGNATURE);
    cr_assert_str_eq(refusal.iso, "DS0A");
    /* key rotation: a second key for RU makes it verify */
    peer.keys[1] = (cor_wire_key){.key_id = 10};
    memcpy(peer.keys[1].public_key, public_keys[0], COR_WIRE_PUBLIC_KEY_SIZE);
    peer.keys[0].key_id = 9;
    peer.key_count = 2;
    cor_wire_close(other);
    cr_assert_eq(cor_wire_open(&options, &other), COR_OK);
    cr_assert_eq(cor_wire_decode(other, 2 * NS, envelope, size, &got, &refusal), COR_OK);
    cor_wire_close(other);
}

Test(corridor_wire, replay_window_edges_and_core_dedup)
{
    cor_xb_message m = sample();
    m.created_at = 1000 * NS; /* the wire checks its own window, whatever the core says */
    size_t size = encode(&m);
    cor_xb_message got;
    uint64_t t = m.created_at;
    cr_assert_eq(decode_at(1, t + WINDOW, size, &got), COR_WIRE_OK);
    cr_assert_eq(decode_at(1, t + WINDOW + 1, size, &got), COR_WIRE_STALE);
    cr_assert_eq(decode_at(1, t - SKEW, size, &got), COR_WIRE_OK);
    cr_assert_eq(decode_at(1, t - SKEW - 1, size, &got), COR_WIRE_STALE);
    cr_assert_eq(decode_at(1, UINT64_MAX, size, &got), COR_WIRE_STALE);
    cr_assert_eq(decode_at(1, 0, size, &got), COR_WIRE_STALE);
    /* a replay inside the window passes the wire; the core refuses it by message id */
    m = sample();
    t = m.created_at;
    size = encode(&m);
    uint32_t reason = 0;
    cr_assert_eq(decode_at(1, t, size, &got), COR_WIRE_OK);
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, t, &got, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_OK);
    cr_assert_eq(decode_at(1, t + 1, size, &got), COR_WIRE_OK);
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, t + 1, &got, &reason), COR_OK);
    cr_assert_eq(reason, COR_XB_REPLAY);
    /* a replay with a fresh timestamp is no longer RU's signature */
    envelope[67] ^= 1;
    cr_assert_eq(decode_at(1, t, size, &got), COR_WIRE_SIGNATURE);
}

/* ---- hostile or inconsistent XML inside a correct signature ---------------------------------- */

/* Signs xml as RU's body in a header of a real RU -> IR message (call sample() first). */
static uint32_t signed_body(const char *xml)
{
    cor_xb_message got;
    size_t size = with_body(0, xml, strlen(xml));
    return decode_at(1, 2 * NS, size, &got);
}

Test(corridor_wire, hostile_xml_inside_a_valid_signature)
{
    cor_xb_message m = sample();
    encode(&m);
    cr_assert_eq(signed_body(""), COR_WIRE_FORMAT); /* an empty body */
    static const char *const hostile[] = {
        "not xml at all",
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b "
        "\"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><a>&c;</a>",
        "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
        "<a><b></a>",
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.12\"/>",
        "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" href=\"/etc/passwd\"/>",
        "<Envelope xmlns=\"urn:swift:xsd:envelope\"></Envelope>",
    };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        uint32_t code = signed_body(hostile[i]);
        cr_assert_eq(code, COR_WIRE_XML, "case %zu: %s", i, cor_wire_code_name(code));
    }
    /* deep nesting */
    static char deep[70000];
    size_t at = 0;
    for (int i = 0; i < 5000; i++)
        at += (size_t)snprintf(deep + at, sizeof(deep) - at, "<a>");
    uint32_t code = signed_body(deep);
    cr_assert_eq(code, COR_WIRE_XML, "%s", cor_wire_code_name(code));
}

Test(corridor_wire, record_and_iso_fields_must_agree)
{
    cor_xb_message m = sample();
    size_t size = encode(&m);
    char good[8192], xml[8192];
    body_of(size, good, sizeof(good));
    char uetr_hex[40];
    char *uetr_at = strstr(good, "<UETR>");
    cr_assert_not_null(uetr_at);
    memcpy(uetr_hex, uetr_at + 6, 36);
    uetr_hex[36] = '\0';
    struct {
        const char *from, *to;
        uint32_t code;
    } cases[] = {
        {"<SplmtryData>",
         "<SplmtryData><Envlp><x xmlns=\"urn:x\"/></Envlp></SplmtryData><SplmtryData>",
         COR_WIRE_RECORD},
        {"<PlcAndNm>corridor.xborder", "<PlcAndNm>corridor.other", COR_WIRE_RECORD},
        {"urn:corridor:xborder:2", "urn:corridor:xborder:1", COR_WIRE_RECORD}, /* old records */
        {"<R>", "<R> ", COR_WIRE_RECORD},             /* an empty first value */
        {" 0</R>", "</R>", COR_WIRE_RECORD},          /* 26 values */
        {"</R>", " 1</R>", COR_WIRE_RECORD},          /* 28 values */
        {"</R>", "</R><R>1</R>", COR_WIRE_OVERSIZED}, /* a second row: two messages */
        {"<R>", "<Q>", COR_WIRE_XML},                 /* not well-formed */
        {"</Xb>", "<Q/></Xb>", COR_WIRE_RECORD},      /* not a row */
        {"<R>", "<R><!-- c -->", COR_WIRE_RECORD},
        /* Dbtr/Nm is the debtor's name now (signed, but in no record): another is accepted */
        {"<Nm>", "<Nm>x", COR_WIRE_OK},
        {"<Othr><Id>", "<Othr><Id>x", COR_WIRE_MISMATCH},
        {"<BICFI>CORRIRTH</BICFI>", "<BICFI>CORRCNBJ</BICFI>", COR_WIRE_MISMATCH},
        {"<UETR>", "<UETR>x", COR_WIRE_XML},
        {uetr_hex, "8a562c67-ca16-48ba-b074-65581be6f001", COR_WIRE_MISMATCH},
        {"<ChrgBr>DEBT", "<ChrgBr>SHAR", COR_WIRE_MISMATCH},
        {"<R>", "<R><![CDATA[", COR_WIRE_XML}, /* an unterminated CDATA section */
        {"</Document>", "</Document><AppHdr xmlns=\"urn:x\"/>", COR_WIRE_RECORD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(xml, good, sizeof(xml));
        cr_assert(replace(xml, sizeof(xml), cases[i].from, cases[i].to), "case %zu", i);
        uint32_t code = signed_body(xml);
        cr_assert_eq(code, cases[i].code, "case %zu (%s): %s", i, cases[i].to,
                     cor_wire_code_name(code));
    }
    /* the record's values: canonical, in range, and saying what the ISO fields say */
    struct {
        uint32_t field;
        const char *prefix, *text; /* text NULL: prefix + the value there */
        uint32_t code;
    } values[] = {
        {F_TP, "", "", COR_WIRE_RECORD},
        {F_TP, "0", NULL, COR_WIRE_RECORD},
        {F_TP, "", "4294967296", COR_WIRE_RECORD},
        {F_TP, "", "2", COR_WIRE_RECORD}, /* a pacs.002 needs a status */
        {F_TP, "", "4", COR_WIRE_MISMATCH},
        {F_TP, "", "9", COR_WIRE_RECORD},
        {F_FXID, "x", NULL, COR_WIRE_RECORD},
        {F_FXID, "", "-1", COR_WIRE_RECORD},
        {F_DBTR, "", "A", COR_WIRE_RECORD},    /* upper case */
        {F_MSGID, "0", NULL, COR_WIRE_RECORD}, /* a leading zero */
        {F_UETR, "1", NULL, COR_WIRE_RECORD},  /* 33 digits */
        {F_ORGNL, "", "00", COR_WIRE_RECORD},
        {F_AMTSRC, "", "1001", COR_WIRE_MISMATCH},
        {F_SRCLDGR, "", "644", COR_WIRE_RECORD},
        {F_SRCLDGR, "", "364", COR_WIRE_MISMATCH},
        {F_FR, "", "3", COR_WIRE_MISMATCH},
        {F_TO, "", "1", COR_WIRE_MISMATCH},
        {F_CREAT, "1", NULL, COR_WIRE_MISMATCH},
        {F_DCDAT, "", "18446744073709551616", COR_WIRE_RECORD}, /* 2^64 in a 64-bit field */
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        memcpy(xml, good, sizeof(xml));
        cr_assert(set_value(xml, sizeof(xml), 0, values[i].field, values[i].prefix, values[i].text),
                  "value case %zu", i);
        uint32_t code = signed_body(xml);
        cr_assert_eq(code, values[i].code, "value case %zu (field %u): %s", i,
                     (unsigned)values[i].field, cor_wire_code_name(code));
    }
    /* the same record in a CDATA section is a valid document written differently */
    memcpy(xml, good, sizeof(xml));
    cr_assert(replace(xml, sizeof(xml), "<R>", "<R><![CDATA["));
    cr_assert(replace(xml, sizeof(xml), "</R>", "]]></R>"));
    cr_assert_eq(signed_body(xml), COR_WIRE_OK);
    /* the envelope's message id and timestamp must be the record's */
    size = encode(&m);
    envelope[59] ^= 1;
    resign(0, size);
    cor_xb_message got;
    cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_MISMATCH);
}

/* ---- encode and open refusals --------------------------------------------------------------- */

Test(corridor_wire, encode_refuses_what_it_cannot_send)
{
    cor_xb_message m = sample();
    size_t size = 99;
    cor_xb_message bad = m;
    bad.from_node = 2; /* not us */
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    cr_assert_eq(size, 0);
    bad = m;
    bad.to_node = 7;
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    bad = m;
    bad.reserved[2] = 1;
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    bad = m;
    bad.type = 9;
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    bad = m;
    bad.source_ledger = 978; /* no currency configured for it */
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    bad = m;
    bad.amount_dest = (cor_u128)1 << 100; /* 31 digits: no ISO 20022 amount holds it */
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    bad = m;
    bad.type = COR_XB_PACS002; /* an answer with no status */
    cr_assert_eq(cor_wire_encode(wires[0], &bad, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    size_t needed = encode(&m);
    cr_assert_eq(cor_wire_encode(wires[0], &m, envelope, needed - 1, &size), COR_ERR_LIMIT);
    cr_assert_eq(cor_wire_encode(wires[0], &m, envelope, needed, &size), COR_OK);
    cr_assert_eq(size, needed);
    cr_assert_eq(cor_wire_encode(NULL, &m, envelope, needed, &size), COR_ERR_INVALID);
}

Test(corridor_wire, open_refuses_bad_configuration)
{
    cor_wire_node peers[2] = {node_of(1), node_of(2)};
    cor_wire_options good, o;
    options_for(0, peers, 2, &good);
    cor_wire *wire = (cor_wire *)&o;
    cr_assert_eq(cor_wire_open(NULL, &wire), COR_ERR_INVALID);
    cr_assert_null(wire);
#define REFUSED(change)                                                                            \
    do {                                                                                           \
        o = good;                                                                                  \
        cor_wire_node p[2] = {peers[0], peers[1]};                                                 \
        o.peers = p;                                                                               \
        change;                                                                                    \
        cr_assert_eq(cor_wire_open(&o, &wire), COR_ERR_INVALID, "%s", #change);                    \
        cr_assert_null(wire);                                                                      \
    } while (0)
    REFUSED(o.self.name[0] = '\0');
    REFUSED(o.self.name[0] = ' ');
    REFUSED(memset(o.self.name, 'a', sizeof(o.self.name)));
    REFUSED(snprintf(o.self.bic, sizeof(o.self.bic), "NOTABIC"));
    REFUSED(snprintf(o.self.currency, sizeof(o.self.currency), "XXQ"));
    REFUSED(o.self.node_id = 0);
    REFUSED(o.self.ledger = 0);
    REFUSED(o.replay_window_ns = 0);
    REFUSED(o.self_secret_key[0] ^= 1);
    REFUSED(o.self_secret_key[40] ^= 1);
    REFUSED(o.peer_count = COR_WIRE_PEERS_MAX + 1);
    REFUSED(o.peers = NULL);
    REFUSED(p[0].key_count = 0);
    REFUSED(p[0].key_count = COR_WIRE_PEER_KEYS_MAX + 1);
    REFUSED(p[1].node_id = p[0].node_id);
    REFUSED(memcpy(p[1].name, p[0].name, sizeof(p[1].name)));
    REFUSED(memcpy(p[1].bic, p[0].bic, sizeof(p[1].bic)));
    REFUSED(p[1].ledger = p[0].ledger);               /* one ledger, two currencies */
    REFUSED(memcpy(p[1].currency, p[0].currency, 4)); /* one currency, two ledgers */
    REFUSED(p[0].node_id = 1);                        /* our own id */
#undef REFUSED
    cr_assert_eq(cor_wire_open(&good, &wire), COR_OK);
    cor_wire_close(wire);
    cor_wire_close(NULL);
    cr_assert_str_eq(cor_wire_code_name(COR_WIRE_STALE), "COR_WIRE_STALE");
    cr_assert_str_eq(cor_wire_code_name(999), "COR_WIRE_UNKNOWN");
    cr_assert_str_eq(cor_wire_code_text(999), "unknown wire code");
}

Test(corridor_wire, open_survives_every_allocation_failure)
{
    cor_wire_node peers[1] = {node_of(1)};
    cor_wire_options options;
    options_for(0, peers, 1, &options);
    bool opened = false;
    for (uint64_t n = 1; n < 64 && !opened; n++) {
        cor_wire *wire = NULL;
        cor_alloc_fail_after(n);
        cor_error rc = cor_wire_open(&options, &wire);
        cor_alloc_fail_after(0);
        if (rc == COR_OK) {
            opened = true;
            cor_wire_close(wire);
        } else {
            cr_assert_eq(rc, COR_ERR_NOMEM, "allocation %llu: %s", (unsigned long long)n,
                         cor_error_name(rc));
            cr_assert_null(wire);
        }
    }
    cr_assert(opened);
}

/* ---- end customers' names ---------------------------------------------------------------------
 */

static cor_wire_parties parties_of(const char *debtor, const char *creditor)
{
    cor_wire_parties parties;
    memset(&parties, 0, sizeof(parties));
    snprintf(parties.debtor_name, sizeof(parties.debtor_name), "%s", debtor);
    snprintf(parties.creditor_name, sizeof(parties.creditor_name), "%s", creditor);
    return parties;
}

static size_t encode_parties(const cor_xb_message *m, const cor_wire_parties *parties)
{
    size_t size = 0;
    cor_error rc = cor_wire_encode_parties(wires[m->from_node - 1], m, parties, envelope,
                                           sizeof(envelope), &size);
    cr_assert_eq(rc, COR_OK, "encode type %u: %s", m->type, cor_error_name(rc));
    return size;
}

/* Decodes envelope[0..size) at IR with names; returns the refusal code. */
static uint32_t decode_parties_at(size_t size, cor_xb_message *got, cor_wire_parties *names)
{
    cor_wire_refusal refusal;
    cor_error rc = cor_wire_decode_parties(wires[1], 2 * NS, envelope, size, got, names, &refusal);
    cr_assert_eq(rc == COR_OK, refusal.code == COR_WIRE_OK, "%s", refusal.text);
    if (refusal.code != COR_WIRE_OK) {
        cr_assert_neq(refusal.text[0], '\0');
        static const cor_wire_parties zero;
        cr_assert(memcmp(names, &zero, sizeof(zero)) == 0, "refused: no names come out");
    }
    return refusal.code;
}

/* A message of kind type from RU to IR built on a real pacs.008. */
static cor_xb_message kind_of(const cor_xb_message *base, uint32_t type)
{
    cor_xb_message m = *base;
    m.type = type;
    if (type == COR_XB_PACS004) {
        m.return_of = m.uetr ^ 0x5555u;
        m.return_reason = COR_XB_RETURN_CUSTOMER;
    }
    if (type == COR_XB_CAMT056) m.orig_msg_id = m.msg_id ^ 0x77u;
    return m;
}

Test(corridor_wire, party_names_round_trip_in_their_iso_elements)
{
    cor_xb_message base = sample();
    static const char *const names[][2] = {
        {"Ivan Petrov & Sons <Ltd>", "O'Brien \"Trading\""},
        {"Иван Петрович Сидоров", "Ёлкин-Палкин"},
        {"محمد رضا شجریان", "شرکت بازرگانی پارس"},
        {"", "Only Creditor"},
        {"Only Debtor", ""},
    };
    static const uint32_t kinds[] = {COR_XB_PACS008, COR_XB_PACS004, COR_XB_CAMT056};
    for (size_t k = 0; k < 3; k++) {
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
            cor_xb_message m = kind_of(&base, kinds[k]);
            m.msg_id += n;
            cor_wire_parties parties = parties_of(names[n][0], names[n][1]);
            size_t size = encode_parties(&m, &parties);
            char xml[16384];
            size_t xml_size = body_of(size, xml, sizeof(xml));
            if (n < 3) {
                cor_test_iso_require_data();
                char error[512] = "";
                cr_assert_eq(cor_test_iso_xsd_validate(xml, xml_size, error, sizeof(error)), 2,
                             "kind %u: %s\n%s", kinds[k], error, xml);
                record_xsd_check(xml, xml_size);
            }
            const char *element = kinds[k] == COR_XB_PACS008 ? "<Dbtr><Nm>" : "<Dbtr><Pty><Nm>";
            cr_assert_eq(strstr(xml, element) != NULL,
                         kinds[k] == COR_XB_PACS008 || names[n][0][0] != '\0', "%s", xml);
            cor_xb_message got;
            cor_wire_parties back;
            cr_assert_eq(decode_parties_at(size, &got, &back), COR_WIRE_OK);
            cr_assert(memcmp(&got, &m, sizeof(m)) == 0);
            cr_assert_str_eq(back.debtor_name, names[n][0]);
            cr_assert_str_eq(back.creditor_name, names[n][1]);
            /* the plain decode reads the same message and ignores the names */
            cr_assert_eq(decode_at(1, 2 * NS, size, &got), COR_WIRE_OK);
            cr_assert(memcmp(&got, &m, sizeof(m)) == 0);
            /* the full path (the codec's parse; CDATA in the record leaves the fast path)
             * reads the same names from the same elements */
            cr_assert(replace(xml, sizeof(xml), "<R>", "<R><![CDATA["));
            cr_assert(replace(xml, sizeof(xml), "</R>", "]]></R>"));
            size = with_body(0, xml, strlen(xml));
            memset(&back, 0x55, sizeof(back));
            uint32_t code = decode_parties_at(size, &got, &back);
            cr_assert_eq(code, COR_WIRE_OK, "kind %u names %zu: %s", kinds[k], n,
                         cor_wire_code_name(code));
            cr_assert(memcmp(&got, &m, sizeof(m)) == 0);
            cr_assert_str_eq(back.debtor_name, names[n][0]);
            cr_assert_str_eq(back.creditor_name, names[n][1]);
        }
    }
    /* escaped on the wire */
    cor_wire_parties parties = parties_of("A&B <C>", "");
    size_t size = encode_parties(&base, &parties);
    char xml[16384];
    body_of(size, xml, sizeof(xml));
    cr_assert(strstr(xml, "<Dbtr><Nm>A&amp;B &lt;C&gt;</Nm>") != NULL, "%s", xml);
    /* no names: today's form, the account id in Nm, reading back as none */
    size = encode_parties(&base, NULL);
    cor_xb_message got;
    cor_wire_parties back = parties_of("x", "y");
    cr_assert_eq(decode_parties_at(size, &got, &back), COR_WIRE_OK);
    cr_assert_str_eq(back.debtor_name, "");
    cr_assert_str_eq(back.creditor_name, "");
}

Test(corridor_wire, party_names_are_bounded_and_checked_on_encode)
{
    cor_xb_message m = sample();
    cor_wire_parties parties = parties_of("", "");
    /* 140 bytes: 70 Cyrillic letters of two bytes each */
    for (size_t i = 0; i < 70; i++)
        memcpy(parties.debtor_name + 2 * i, "Ж", 2);
    memset(parties.creditor_name, 'a', COR_WIRE_PARTY_NAME_SIZE_MAX);
    size_t size = encode_parties(&m, &parties);
    cor_xb_message got;
    cor_wire_parties back;
    cr_assert_eq(decode_parties_at(size, &got, &back), COR_WIRE_OK);
    cr_assert_eq(strlen(back.debtor_name), 140);
    cr_assert_str_eq(back.creditor_name, parties.creditor_name);
    /* 141 bytes: no terminator inside the field */
    memset(parties.creditor_name, 'a', sizeof(parties.creditor_name));
    size_t out_size = 99;
    cr_assert_eq(
        cor_wire_encode_parties(wires[0], &m, &parties, envelope, sizeof(envelope), &out_size),
        COR_ERR_INVALID);
    cr_assert_eq(out_size, 0);
    static const char *const bad[] = {
        "\xff",         "caf\xc3",      "\xc0\xaf",
        "a\tb",         "a\nb",         "del\x7f",
        "c1 \xc2\x85",  "\xed\xa0\x80", "\xf4\x90\x80\x80",
        "\xef\xbf\xbe", "\xe0\x80\xaf", "\xf8\x88\x80\x80\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        parties = parties_of("Good Name", bad[i]);
        cr_assert_not(cor_wire_party_name_valid(bad[i]), "case %zu", i);
        cr_assert_eq(
            cor_wire_encode_parties(wires[0], &m, &parties, envelope, sizeof(envelope), &out_size),
            COR_ERR_INVALID, "case %zu", i);
        parties = parties_of(bad[i], "");
        cr_assert_eq(
            cor_wire_encode_parties(wires[0], &m, &parties, envelope, sizeof(envelope), &out_size),
            COR_ERR_INVALID, "case %zu", i);
    }
    cr_assert(cor_wire_party_name_valid(""));
    cr_assert(cor_wire_party_name_valid("Ана-Мария O'Neil"));
    cr_assert_not(cor_wire_party_name_valid(NULL));
    /* kinds that carry no names refuse them */
    parties = parties_of("Someone", "");
    cor_xb_message status = m;
    status.type = COR_XB_PACS028;
    status.orig_msg_id = 5;
    cr_assert_eq(
        cor_wire_encode_parties(wires[0], &status, &parties, envelope, sizeof(envelope), &out_size),
        COR_ERR_INVALID);
    cr_assert_eq(
        cor_wire_encode_parties(wires[0], &status, NULL, envelope, sizeof(envelope), &out_size),
        COR_OK);
}

Test(corridor_wire, bad_names_inside_a_valid_signature_are_refused)
{
    cor_xb_message m = sample();
    cor_wire_parties parties = parties_of("Ivan Petrov", "Reza Tehrani");
    size_t size = encode_parties(&m, &parties);
    char good[16384], xml[16384];
    body_of(size, good, sizeof(good));
    char long_cyrillic[400] = "<Nm>";
    for (size_t i = 0; i < 75; i++)
        memcpy(long_cyrillic + 4 + 2 * i, "Ж", 3); /* 75 characters, 150 bytes, then NUL */
    struct {
        const char *from, *to;
        uint32_t code;
    } cases[] = {
        {"<Nm>Ivan", "<Nm>\xff\xfeIvan", COR_WIRE_XML}, /* not UTF-8 */
        {"<Nm>Ivan", "<Nm>\xc0\xafIvan", COR_WIRE_XML}, /* overlong */
        {"<Nm>Ivan", "<Nm>I\tvan", COR_WIRE_XML},       /* a control character */
        {"<Nm>Ivan", "<Nm>I&#x85;van", COR_WIRE_XML},   /* C1 control, legal in XML */
        {"<Nm>Ivan", "<Nm>I&#1;van", COR_WIRE_XML},     /* not XML 1.0 at all */
        {"<Nm>Ivan", long_cyrillic, COR_WIRE_XML},      /* 140 characters but > 140 bytes */
        {"<Nm>Ivan", "<Nm>I&#x412;van", COR_WIRE_OK},   /* a character reference: fine */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(xml, good, sizeof(xml));
        cr_assert(replace(xml, sizeof(xml), cases[i].from, cases[i].to), "case %zu", i);
        size_t forged = with_body(0, xml, strlen(xml));
        cor_xb_message got;
        cor_wire_parties back;
        uint32_t code = decode_parties_at(forged, &got, &back);
        cr_assert_eq(code, cases[i].code, "case %zu: %s", i, cor_wire_code_name(code));
    }
    /* the names are signed: any flipped byte of a name breaks the signature */
    size = encode_parties(&m, &parties);
    uint8_t *name = memmem(envelope, size, "Reza", 4);
    cr_assert_not_null(name);
    name[1] ^= 0x20;
    cor_xb_message got;
    cor_wire_parties back;
    cr_assert_eq(decode_parties_at(size, &got, &back), COR_WIRE_SIGNATURE);
}

/* ---- batches ------------------------------------------------------------------------------ */

static cor_xb_message batch[COR_WIRE_BATCH_MAX + 1], batch_got[COR_WIRE_BATCH_MAX];
static cor_wire_parties batch_names[COR_WIRE_BATCH_MAX + 1], batch_names_got[COR_WIRE_BATCH_MAX];
static char batch_xml[COR_WIRE_SIZE_BYTES_MAX + 1];
static uint64_t batch_now = 2 * NS;

/* n pacs.008 from RU to IR, each its own payment, built on a real one; names when asked. */
static void batch_instructions(const cor_xb_message *base, uint32_t n, bool names)
{
    static const char *const debtors[] = {
        "Ivan Petrov",
        "Ольга Смирнова",
        "",
        "A&B <Ltd>",
    };
    static const char *const creditors[] = {
        "محمد رضا شجریان",
        "Pars Trading",
        "Reza",
        "",
    };
    for (uint32_t i = 0; i < n; i++) {
        batch[i] = *base;
        batch[i].msg_id = base->msg_id + 1000u * (i + 1);
        batch[i].uetr = base->uetr + i;
        batch[i].amount_source = base->amount_source + i;
        batch[i].created_at = base->created_at + i;
        batch_names[i] = names ? parties_of(debtors[i % 4], creditors[i % 4]) : parties_of("", "");
    }
}

/* n pacs.002 from IR to RU answering them, ACSC and RJCT AM09 in turn. */
static void batch_answers(const cor_xb_message *base, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        cor_xb_message m = *base;
        m.type = COR_XB_PACS002;
        m.from_node = 2;
        m.to_node = 1;
        m.orig_msg_id = base->msg_id + 1000u * (i + 1);
        m.msg_id = base->msg_id + 7000000u + i;
        m.uetr = base->uetr + i;
        m.status = i % 2 == 0 ? COR_XB_STATUS_ACSC : COR_XB_STATUS_RJCT;
        m.reason = i % 2 == 0 ? COR_XB_OK : COR_XB_AMOUNT_MISMATCH;
        m.decided_at = base->created_at;
        batch[i] = m;
        batch_names[i] = parties_of("", "");
    }
}

static size_t encode_batch(uint32_t n, bool names)
{
    size_t size = 0;
    cor_error rc =
        cor_wire_encode_batch(wires[batch[0].from_node - 1], batch, names ? batch_names : NULL, n,
                              envelope, sizeof(envelope), &size);
    cr_assert_eq(rc, COR_OK, "encode batch of %u: %s", n, cor_error_name(rc));
    return size;
}

/* Decodes envelope[0..size) at node `to` (0-based); the refusal code, text into text. */
static uint32_t decode_batch_at(uint32_t to, size_t size, uint32_t max, uint32_t *count, char *text)
{
    cor_wire_refusal refusal;
    cor_error rc = cor_wire_decode_batch(wires[to], batch_now, envelope, size, batch_got,
                                         batch_names_got, max, count, &refusal);
    cr_assert_eq(rc == COR_OK, refusal.code == COR_WIRE_OK, "%s", refusal.text);
    if (text != NULL) snprintf(text, 200, "%s", refusal.text);
    if (rc != COR_OK) {
        cr_assert_eq(*count, 0);
        cr_assert_neq(refusal.text[0], '\0');
        static const cor_xb_message zero;
        cr_assert(memcmp(&batch_got[0], &zero, sizeof(zero)) == 0, "refused: nothing out");
        cr_assert_eq(batch_names_got[0].debtor_name[0], '\0');
    }
    return refusal.code;
}

/* Replaces the body of a batch envelope with xml and signs it (version 3) as node n. */
static size_t with_batch_body(uint32_t n, const char *xml, size_t xml_size)
{
    cr_assert_leq(xml_size, sizeof(envelope) - COR_WIRE_HEADER_SIZE_BYTES - 64);
    memmove(envelope + COR_WIRE_HEADER_SIZE_BYTES, xml, xml_size);
    for (int i = 0; i < 4; i++)
        envelope[68 + i] = (uint8_t)(xml_size >> (8 * (3 - i)));
    uint8_t form[COR_WIRE_HEADER_SIZE_BYTES + SHA256_DIGEST_LENGTH];
    memcpy(form, envelope, COR_WIRE_HEADER_SIZE_BYTES);
    SHA256(envelope + COR_WIRE_HEADER_SIZE_BYTES, xml_size, form + COR_WIRE_HEADER_SIZE_BYTES);
    size_t size = COR_WIRE_HEADER_SIZE_BYTES + xml_size + COR_WIRE_SIGNATURE_SIZE;
    crypto_sign_detached(envelope + size - COR_WIRE_SIGNATURE_SIZE, NULL, form, sizeof(form),
                         secret_keys[n]);
    return size;
}

/* The n-th (0-based) occurrence of needle in text, or NULL. */
static char *nth(char *text, const char *needle, uint32_t n)
{
    char *at = strstr(text, needle);
    for (uint32_t i = 0; i < n && at != NULL; i++)
        at = strstr(at + 1, needle);
    return at;
}

Test(corridor_wire, batches_round_trip_named_instructions_and_mixed_answers)
{
    cor_xb_message base = sample();
    cor_test_iso_require_data();
    char error[512] = "", text[200];
    uint32_t count = 0;
    /* 100 pacs.008 with names, RU -> IR */
    batch_instructions(&base, 100, true);
    size_t size = encode_batch(100, true);
    size_t xml_size = body_of(size, batch_xml, sizeof(batch_xml));
    cr_assert_eq(cor_test_iso_xsd_validate(batch_xml, xml_size, error, sizeof(error)), 2, "%s",
                 error);
    record_xsd_check(batch_xml, xml_size);
    cr_assert(strstr(batch_xml, "<NbOfTxs>100</NbOfTxs>") != NULL);
    cr_assert_not_null(nth(batch_xml, "<CdtTrfTxInf>", 99));
    cr_assert_null(nth(batch_xml, "<SplmtryData>", 1)); /* one block holds every record */
    cr_assert_not_null(nth(batch_xml, "<R>", 99));
    cr_assert_null(nth(batch_xml, "<R>", 100));
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_OK, "%s",
                 text);
    cr_assert_eq(count, 100);
    cr_assert(memcmp(batch_got, batch, 100 * sizeof(batch[0])) == 0);
    cr_assert(memcmp(batch_names_got, batch_names, 100 * sizeof(batch_names[0])) == 0);
    /* each message goes on to the core as if it had come alone */
    uint32_t reason = 0;
    cr_assert_eq(cor_xb_receive(world.nodes[1].xb, 2 * NS, &batch_got[0], &reason), COR_OK);
    /* fewer slots than messages, or the single-message decode: refused as oversized */
    cr_assert_eq(decode_batch_at(1, size, 99, &count, text), COR_WIRE_OVERSIZED);
    cor_xb_message one;
    cr_assert_eq(decode_at(1, 2 * NS, size, &one), COR_WIRE_OVERSIZED);
    /* a valid document written differently (CDATA in a record) goes through the full path */
    memcpy(batch_xml, envelope + COR_WIRE_HEADER_SIZE_BYTES, xml_size);
    batch_xml[xml_size] = '\0';
    cr_assert(replace(batch_xml, sizeof(batch_xml), "<R>", "<R><![CDATA["));
    cr_assert(replace(batch_xml, sizeof(batch_xml), "</R>", "]]></R>"));
    size = with_batch_body(0, batch_xml, strlen(batch_xml));
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_OK, "%s",
                 text);
    cr_assert_eq(count, 100);
    cr_assert(memcmp(batch_got, batch, 100 * sizeof(batch[0])) == 0);
    cr_assert(memcmp(batch_names_got, batch_names, 100 * sizeof(batch_names[0])) == 0);

    /* 64 pacs.002, ACSC and RJCT mixed, IR -> RU, without names (NULL parties out too) */
    batch_answers(&base, 64);
    size = encode_batch(64, false);
    xml_size = body_of(size, batch_xml, sizeof(batch_xml));
    cr_assert_eq(cor_test_iso_xsd_validate(batch_xml, xml_size, error, sizeof(error)), 2, "%s",
                 error);
    cr_assert(strstr(batch_xml, "<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AM09</Cd>") != NULL);
    cor_wire_refusal refusal;
    cr_assert_eq(cor_wire_decode_batch(wires[0], 2 * NS, envelope, size, batch_got, NULL,
                                       COR_WIRE_BATCH_MAX, &count, &refusal),
                 COR_OK, "%s", refusal.text);
    cr_assert_eq(count, 64);
    cr_assert(memcmp(batch_got, batch, 64 * sizeof(batch[0])) == 0);

    /* a batch of one is the single-message envelope, and decode_batch reads that too */
    batch_instructions(&base, 1, true);
    size = encode_batch(1, true);
    uint8_t single[8192];
    size_t single_size = encode_parties(&batch[0], &batch_names[0]);
    memcpy(single, envelope, single_size);
    size = encode_batch(1, true);
    cr_assert_eq(size, single_size);
    cr_assert(memcmp(single, envelope, size) == 0);
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_OK);
    cr_assert_eq(count, 1);
    cr_assert(memcmp(&batch_got[0], &batch[0], sizeof(batch[0])) == 0);
}

Test(corridor_wire, batch_encode_refuses_mixed_or_over_the_limit)
{
    cor_xb_message base = sample();
    size_t size = 99;
    batch_instructions(&base, COR_WIRE_BATCH_MAX + 1, false);
    cr_assert_eq(cor_wire_encode_batch(wires[0], batch, NULL, 0, envelope, sizeof(envelope), &size),
                 COR_ERR_LIMIT);
    cr_assert_eq(size, 0);
    cr_assert_eq(cor_wire_encode_batch(wires[0], batch, NULL, COR_WIRE_BATCH_MAX + 1, envelope,
                                       sizeof(envelope), &size),
                 COR_ERR_LIMIT);
    cr_assert_eq(cor_wire_encode_batch(wires[0], batch, NULL, 10, envelope, 5000, &size),
                 COR_ERR_LIMIT);
    cr_assert_eq(cor_wire_encode_batch(wires[0], batch, NULL, 10, NULL, 5000, &size),
                 COR_ERR_INVALID);
    cor_wire_refusal refusal;
    uint32_t count = 7;
    cr_assert_eq(cor_wire_decode_batch(wires[1], 2 * NS, envelope, 100, batch_got, NULL, 0, &count,
                                       &refusal),
                 COR_ERR_INVALID); /* no room at all */
    cr_assert_eq(
        cor_wire_decode_batch(wires[1], 2 * NS, envelope, 100, NULL, NULL, 4, &count, &refusal),
        COR_ERR_INVALID);
    cr_assert_eq(
        cor_wire_decode_batch(wires[1], 2 * NS, NULL, 100, batch_got, NULL, 4, &count, &refusal),
        COR_ERR_INVALID);
    cr_assert_eq(count, 0);
    batch[5].type = COR_XB_CAMT056; /* mixed types */
    cr_assert_eq(
        cor_wire_encode_batch(wires[0], batch, NULL, 10, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    batch_instructions(&base, 10, false);
    batch[7].to_node = 3; /* RU knows CN too: two addressees */
    cr_assert_eq(
        cor_wire_encode_batch(wires[0], batch, NULL, 10, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    batch_instructions(&base, 10, false);
    batch[8].from_node = 2; /* not all ours */
    cr_assert_eq(
        cor_wire_encode_batch(wires[0], batch, NULL, 10, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    batch_instructions(&base, 10, false);
    batch[6].uetr = batch[2].uetr; /* one payment twice: the codec would refuse it (DUPL) */
    cr_assert_eq(
        cor_wire_encode_batch(wires[0], batch, NULL, 10, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    batch_instructions(&base, 10, true);
    batch_names[9].creditor_name[3] = '\x01'; /* one bad name refuses the batch */
    cr_assert_eq(
        cor_wire_encode_batch(wires[0], batch, batch_names, 10, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    /* names on answers; camt.029 outcomes mixed in one document */
    batch_answers(&base, 4);
    batch_names[2] = parties_of("Someone", "");
    cr_assert_eq(
        cor_wire_encode_batch(wires[1], batch, batch_names, 4, envelope, sizeof(envelope), &size),
        COR_ERR_INVALID);
    cr_assert_eq(cor_wire_encode_batch(wires[1], batch, NULL, 4, envelope, sizeof(envelope), &size),
                 COR_OK);
    for (uint32_t i = 0; i < 4; i++) {
        batch[i].type = COR_XB_CAMT029;
        batch[i].cancel_status = COR_XB_CANCEL_CNCL;
    }
    cr_assert_eq(cor_wire_encode_batch(wires[1], batch, NULL, 4, envelope, sizeof(envelope), &size),
                 COR_OK);
    batch[3].cancel_status = COR_XB_CANCEL_RJCR;
    cr_assert_eq(cor_wire_encode_batch(wires[1], batch, NULL, 4, envelope, sizeof(envelope), &size),
                 COR_ERR_INVALID);
    cr_assert_eq(size, 0);
}

Test(corridor_wire, a_bad_transaction_refuses_its_batch_and_is_named)
{
    cor_xb_message base = sample();
    batch_instructions(&base, 20, true);
    size_t size = encode_batch(20, true);
    static char good[COR_WIRE_SIZE_BYTES_MAX];
    size_t xml_size = body_of(size, good, sizeof(good));
    char text[200];
    uint32_t count = 0;
    struct {
        const char *element; /* NULL: a record value, prefixed with insert */
        uint32_t index;      /* the element's or the record's */
        size_t offset;       /* from the element's start; or the record's value */
        const char *insert;
        uint32_t code;
    } cases[] = {
        {"<IntrBkSttlmAmt", 5, 0, "", COR_WIRE_MISMATCH}, /* amount changed below */
        {NULL, 7, F_AMTSRC, "1", COR_WIRE_MISMATCH},      /* record disagrees with InstdAmt */
        {NULL, 3, F_FR, "9", COR_WIRE_MISMATCH},          /* record from another node */
        {NULL, 9, F_FXID, "x", COR_WIRE_RECORD},          /* not a number */
        {"<Dbtr><Nm>", 4, 10, "&#x9;", COR_WIRE_XML},     /* a control character in a name */
        {"<UETR>", 11, 6, "0", COR_WIRE_XML},             /* the codec refuses it */
        {NULL, 13, F_TP, "", COR_WIRE_MISMATCH},          /* a pacs.002 in a pacs.008 batch */
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memcpy(batch_xml, good, xml_size + 1);
        if (cases[c].element == NULL) {
            uint32_t field = (uint32_t)cases[c].offset;
            cr_assert(set_value(batch_xml, sizeof(batch_xml), cases[c].index, field,
                                cases[c].insert, field == F_TP ? "2" : NULL),
                      "case %zu", c);
        } else {
            char *at = nth(batch_xml, cases[c].element, cases[c].index);
            cr_assert_not_null(at, "case %zu", c);
            if (c == 0) {
                char *digit = strchr(at, '>') + 1;
                *digit = *digit == '9' ? '1' : (char)(*digit + 1);
            } else {
                at += cases[c].offset;
                size_t insert = strlen(cases[c].insert);
                memmove(at + insert, at, strlen(at) + 1);
                memcpy(at, cases[c].insert, insert);
            }
        }
        size = with_batch_body(0, batch_xml, strlen(batch_xml));
        uint32_t code = decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text);
        cr_assert_eq(code, cases[c].code, "case %zu: %s %s", c, cor_wire_code_name(code), text);
        char expected[32];
        snprintf(expected, sizeof(expected), "message %u:", (unsigned)cases[c].index);
        cr_assert(strstr(text, expected) != NULL, "case %zu: '%s'", c, text);
    }
    /* one payment twice in a signed batch: the codec's DUPL, named */
    memcpy(batch_xml, good, xml_size + 1);
    {
        char *second = nth(batch_xml, "<UETR>", 12), *third = nth(batch_xml, "<UETR>", 13);
        cr_assert(second != NULL && third != NULL);
        memcpy(third, second, 6 + 36);
        size_t length = 0, next_length = 0;
        char *record = row_value(batch_xml, 12, F_UETR, &length);
        char *record_next = row_value(batch_xml, 13, F_UETR, &next_length);
        cr_assert(record != NULL && record_next != NULL && length == next_length);
        memcpy(record_next, record, length);
        size = with_batch_body(0, batch_xml, xml_size);
        uint32_t code = decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text);
        cr_assert_eq(code, COR_WIRE_XML, "%s %s", cor_wire_code_name(code), text);
        cr_assert(strstr(text, "message 13:") != NULL, "%s", text);
    }
    /* any flipped byte of the body without the key: the signature */
    memcpy(batch_xml, good, xml_size + 1);
    size = with_batch_body(0, batch_xml, xml_size);
    for (size_t i = COR_WIRE_HEADER_SIZE_BYTES; i < size; i += 997) {
        envelope[i] ^= 0x10;
        cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, NULL), COR_WIRE_SIGNATURE,
                     "byte %zu", i);
        envelope[i] ^= 0x10;
    }
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, NULL), COR_WIRE_OK);
    /* a version 1 envelope carries one message: two records in one are refused */
    envelope[5] = 1;
    size_t signed_size = size - COR_WIRE_SIGNATURE_SIZE;
    crypto_sign_detached(envelope + signed_size, NULL, envelope, signed_size, secret_keys[0]);
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_RECORD, "%s",
                 text);
    /* version 2 (a batch signed over BLAKE2b of its body) is no longer spoken, nor is 4 */
    for (uint8_t version = 2; version <= 4; version += 2) {
        envelope[5] = version;
        uint8_t form[COR_WIRE_HEADER_SIZE_BYTES + crypto_generichash_BYTES_MAX];
        memcpy(form, envelope, COR_WIRE_HEADER_SIZE_BYTES);
        crypto_generichash(form + COR_WIRE_HEADER_SIZE_BYTES,
                           sizeof(form) - COR_WIRE_HEADER_SIZE_BYTES,
                           envelope + COR_WIRE_HEADER_SIZE_BYTES,
                           size - COR_WIRE_HEADER_SIZE_BYTES - COR_WIRE_SIGNATURE_SIZE, NULL, 0);
        crypto_sign_detached(envelope + signed_size, NULL, form, sizeof(form), secret_keys[0]);
        cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_FORMAT,
                     "version %u: %s", (unsigned)version, text);
    }
    /* a message older than the replay window refuses its batch, named */
    batch_instructions(&base, 20, true);
    for (uint32_t i = 0; i < 20; i++)
        batch[i].created_at = 1000 * NS + i;
    batch[3].created_at = 1000 * NS - WINDOW - 1;
    size = encode_batch(20, true);
    batch_now = 1000 * NS + 100;
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_STALE);
    cr_assert(strstr(text, "message 3:") != NULL, "%s", text);
    batch_now = 2 * NS;
    /* the envelope's id must be the batch's */
    batch_instructions(&base, 20, true);
    size = encode_batch(20, true);
    envelope[50] ^= 1;
    memcpy(batch_xml, envelope + COR_WIRE_HEADER_SIZE_BYTES,
           size - COR_WIRE_HEADER_SIZE_BYTES - COR_WIRE_SIGNATURE_SIZE);
    size = with_batch_body(0, batch_xml, size - COR_WIRE_HEADER_SIZE_BYTES - 64);
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_MISMATCH);
}

Test(corridor_wire, the_largest_batch_with_the_longest_names_fits)
{
    cor_xb_message base = sample();
    batch_instructions(&base, COR_WIRE_BATCH_MAX, false);
    for (uint32_t i = 0; i < COR_WIRE_BATCH_MAX; i++) {
        batch[i].amount_source = (cor_u128)999999999999999999u; /* 18 digits, the ISO most */
        batch[i].amount_dest = (cor_u128)999999999999999999u;
        batch[i].fee_source = COR_U128_MAX;
        batch[i].rate_num = UINT64_MAX;
        batch[i].deadline = UINT64_MAX;
        memset(batch_names[i].debtor_name, '&', COR_WIRE_PARTY_NAME_SIZE_MAX); /* &amp; each */
        memset(batch_names[i].creditor_name, '<', COR_WIRE_PARTY_NAME_SIZE_MAX);
        batch_names[i].debtor_name[COR_WIRE_PARTY_NAME_SIZE_MAX] = '\0';
        batch_names[i].creditor_name[COR_WIRE_PARTY_NAME_SIZE_MAX] = '\0';
    }
    size_t size = encode_batch(COR_WIRE_BATCH_MAX, true);
    cr_assert_leq(size, COR_WIRE_SIZE_BYTES_MAX);
    uint32_t count = 0;
    char text[200];
    cr_assert_eq(decode_batch_at(1, size, COR_WIRE_BATCH_MAX, &count, text), COR_WIRE_OK, "%s",
                 text);
    cr_assert_eq(count, COR_WIRE_BATCH_MAX);
    cr_assert(memcmp(batch_got, batch, COR_WIRE_BATCH_MAX * sizeof(batch[0])) == 0);
    cr_assert(memcmp(batch_names_got, batch_names, COR_WIRE_BATCH_MAX * sizeof(batch_names[0])) ==
              0);
}
