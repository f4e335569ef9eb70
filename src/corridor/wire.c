/*
 * The peer wire format (include/corridor/xborder_wire.h, docs/PROTOCOL.md "Wire format").
 *
 * encode: cor_xb_message[s] -> ISO 20022 view (iso20022 codec structs, one transaction per
 * message, names in Dbtr/Cdtr or OrgnlTxRef) -> XML with AppHdr in a SWIFT envelope,
 * written into the caller's buffer -> one SplmtryData block inserted before the message
 * element's end tag, holding one corridor record row per message -> binary envelope header + XML +
 * Ed25519 signature (over the bytes for one message, over the header and BLAKE2b-512 of the body
 * for a batch).
 *
 * decode, in order, each step only after the previous passed: sizes, header fields, sender
 * and recipient, key id, signature, replay window. Then the fast path: a strict scanner
 * reads the records in the one form encode writes them and the names from their elements,
 * the checks on the records run, and the ISO document serialized again from them must
 * equal the bytes received around the records; such a body is what encode writes, so
 * nothing else needs checking. Otherwise the full path: the hardened codec parses and
 * validates the XML, a second libxml2 pass (over bytes the codec has already accepted: no
 * DTD, no entities, bounded) reads the records, and the ISO view rebuilt from the records
 * must equal the ISO view parsed, field by field, so the human-readable ISO fields and the
 * exact records can never disagree; this path accepts other writers' valid layouts and says
 * why anything is refused.
 *
 * A cor_wire keeps its working memory (views, the document buffer, names) between calls,
 * grown to the largest batch seen, so a call allocates nothing in the steady state apart
 * from libxml2's tree on the full path.
 */
#include "corridor/xborder_wire.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "corridor/iso20022.h"

#define WIRE_MAGIC          "CXW1"
#define WIRE_VERSION_SINGLE 1u  /* one message, Ed25519 over header and body */
#define WIRE_VERSION_BATCH  3u  /* a batch, Ed25519 over header and SHA-256(body) */
#define WIRE_DIGEST_SIZE    32u /* SHA-256 */
#define WIRE_RECORD_NS      "urn:corridor:xborder:2"
#define WIRE_RECORD_PLACE   "corridor.xborder"
/* One SplmtryData block per document holds the records, one <R> per message. */
#define WIRE_RECORD_OPEN                                                                           \
    "<SplmtryData><PlcAndNm>" WIRE_RECORD_PLACE "</PlcAndNm><Envlp><Xb xmlns=\"" WIRE_RECORD_NS    \
    "\">"
#define WIRE_RECORD_CLOSE          "</Xb></Envlp></SplmtryData>"
#define WIRE_ROW_OPEN              "<R>"
#define WIRE_ROW_CLOSE             "</R>"
#define WIRE_RECORD_SIZE_BYTES_MAX 1152u /* <R>, 27 values of at most 39 characters, </R> */

_Static_assert(COR_WIRE_HEADER_SIZE_BYTES ==
                   4 + 2 + 2 + 2 * COR_WIRE_NAME_SIZE_MAX + 4 + 16 + 8 + 4,
               "header layout");
_Static_assert(COR_WIRE_SIGNATURE_SIZE == crypto_sign_BYTES, "ed25519 signature size");
_Static_assert(COR_WIRE_SECRET_KEY_SIZE == crypto_sign_SECRETKEYBYTES, "ed25519 secret key");
_Static_assert(COR_WIRE_PUBLIC_KEY_SIZE == crypto_sign_PUBLICKEYBYTES, "ed25519 public key");

typedef struct wire_view wire_view;
static void wire_view_free(wire_view *view);
static wire_view *wire_view_new(void);

struct cor_wire {
    cor_wire_node self;
    uint32_t self_key_id;
    uint8_t self_secret_key[COR_WIRE_SECRET_KEY_SIZE];
    uint32_t peer_count;
    cor_wire_node peers[COR_WIRE_PEERS_MAX];
    uint64_t replay_window_ns;
    uint64_t clock_skew_ns;
    cor_iso_parser *parser;
    cor_iso_message parsed; /* reused across decodes */
    /* Decode's working memory, allocated when first needed and kept. */
    cor_wire_parties *scratch_parties; /* COR_WIRE_BATCH_MAX names */
    wire_view *scratch_view;           /* decode's view, arrays grown as needed */
    char *scratch_body;                /* the document as encode would write it */
    size_t scratch_body_capacity;
    /* Encode's view: the cor_wire is const for encode, this memory is not (one thread uses a
     * cor_wire at a time). Allocated at open, its arrays grown as needed and kept. */
    wire_view *encode_view;
};

/* ---------------------------------------------------------------------------------------- */
/* Codes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct wire_code_info {
    const char *name;
    cor_error error;
    const char *iso;
    const char *text;
} wire_code_info;

static const wire_code_info wire_codes[] = {
#define COR_WIRE_CODE_INFO(name, error, iso, text) {#name, error, iso, text},
    COR_WIRE_CODE_LIST(COR_WIRE_CODE_INFO)
#undef COR_WIRE_CODE_INFO
};

const char *cor_wire_code_name(uint32_t code)
{
    return code < COR_WIRE_CODE_COUNT ? wire_codes[code].name : "COR_WIRE_UNKNOWN";
}

const char *cor_wire_code_text(uint32_t code)
{
    return code < COR_WIRE_CODE_COUNT ? wire_codes[code].text : "unknown wire code";
}

__attribute__((format(printf, 3, 4))) static cor_error
wire_refuse(cor_wire_refusal *refusal, cor_wire_code code, const char *format, ...)
{
    COR_ASSERT(code > COR_WIRE_OK && code < COR_WIRE_CODE_COUNT);
    refusal->code = (uint32_t)code;
    snprintf(refusal->iso, sizeof(refusal->iso), "%s", wire_codes[code].iso);
    va_list args;
    va_start(args, format);
    vsnprintf(refusal->text, sizeof(refusal->text), format, args);
    va_end(args);
    return wire_codes[code].error;
}

/* ---------------------------------------------------------------------------------------- */
/* Configuration                                                                            */
/* ---------------------------------------------------------------------------------------- */

static bool wire_name_valid(const char *name, size_t size_max)
{
    size_t length = strnlen(name, size_max + 1);
    if (length == 0 || length > size_max) return false;
    for (size_t i = 0; i < length; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

static bool wire_node_valid(const cor_wire_node *node, bool is_self)
{
    if (!wire_name_valid(node->name, COR_WIRE_NAME_SIZE_MAX)) return false;
    if (strnlen(node->bic, sizeof(node->bic)) == sizeof(node->bic)) return false;
    if (!cor_iso_bic_valid(node->bic)) return false;
    if (strnlen(node->currency, sizeof(node->currency)) != 3) return false;
    if (cor_iso_currency_exponent(node->currency) < 0) return false;
    if (node->node_id == 0 || node->ledger == 0) return false;
    if (is_self) return node->key_count == 0;
    return node->key_count >= 1 && node->key_count <= COR_WIRE_PEER_KEYS_MAX;
}

static bool wire_nodes_distinct(const cor_wire_node *a, const cor_wire_node *b)
{
    if (strcmp(a->name, b->name) == 0 || a->node_id == b->node_id) return false;
    if (strcmp(a->bic, b->bic) == 0) return false;
    /* Two nodes may share a currency only with the same ledger id, and vice versa. */
    bool same_ledger = a->ledger == b->ledger;
    bool same_currency = strcmp(a->currency, b->currency) == 0;
    return same_ledger == same_currency;
}

static bool wire_options_valid(const cor_wire_options *options)
{
    if (options->peer_count > COR_WIRE_PEERS_MAX) return false;
    if (options->peer_count > 0 && options->peers == NULL) return false;
    if (options->replay_window_ns == 0) return false;
    if (!wire_node_valid(&options->self, true)) return false;
    for (uint32_t i = 0; i < options->peer_count; i++) {
        const cor_wire_node *peer = &options->peers[i];
        if (!wire_node_valid(peer, false)) return false;
        if (!wire_nodes_distinct(peer, &options->self)) return false;
        for (uint32_t j = 0; j < i; j++) {
            if (!wire_nodes_distinct(peer, &options->peers[j])) return false;
        }
    }
    /* The secret key's second half must be the public key of its seed. */
    uint8_t public_key[crypto_sign_PUBLICKEYBYTES];
    uint8_t secret_key[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(public_key, secret_key, options->self_secret_key);
    bool same = sodium_memcmp(secret_key, options->self_secret_key, sizeof(secret_key)) == 0;
    sodium_memzero(secret_key, sizeof(secret_key));
    return same;
}

cor_error cor_wire_open(const cor_wire_options *options, cor_wire **wire_out)
{
    if (wire_out == NULL) return COR_ERR_INVALID;
    *wire_out = NULL;
    if (options == NULL) return COR_ERR_INVALID;
    if (sodium_init() < 0) return COR_ERR_NOMEM;
    if (!wire_options_valid(options)) return COR_ERR_INVALID;

    cor_wire *wire = cor_calloc(1, sizeof(*wire));
    if (wire == NULL) return COR_ERR_NOMEM;
    wire->encode_view = wire_view_new();
    wire->scratch_view = wire_view_new();
    if (wire->encode_view == NULL || wire->scratch_view == NULL) {
        cor_free(wire->encode_view);
        cor_free(wire->scratch_view);
        cor_free(wire);
        return COR_ERR_NOMEM;
    }
    cor_iso_parser_options parser_options = {.document_size_bytes_max =
                                                 COR_WIRE_BODY_SIZE_BYTES_MAX,
                                             .tx_count_max = COR_WIRE_BATCH_MAX};
    cor_error rc = cor_iso_parser_open(&parser_options, &wire->parser);
    if (rc != COR_OK) {
        cor_free(wire->encode_view);
        cor_free(wire->scratch_view);
        cor_free(wire);
        return rc;
    }
    wire->self = options->self;
    wire->self_key_id = options->self_key_id;
    memcpy(wire->self_secret_key, options->self_secret_key, sizeof(wire->self_secret_key));
    wire->peer_count = options->peer_count;
    for (uint32_t i = 0; i < options->peer_count; i++)
        wire->peers[i] = options->peers[i];
    wire->replay_window_ns = options->replay_window_ns;
    wire->clock_skew_ns = options->clock_skew_ns;
    cor_iso_message_init(&wire->parsed);
    *wire_out = wire;
    return COR_OK;
}

void cor_wire_close(cor_wire *wire)
{
    if (wire == NULL) return;
    cor_iso_message_release(&wire->parsed);
    cor_free(wire->scratch_parties);
    if (wire->scratch_view != NULL) wire_view_free(wire->scratch_view);
    cor_free(wire->scratch_view);
    if (wire->encode_view != NULL) wire_view_free(wire->encode_view);
    cor_free(wire->encode_view);
    cor_free(wire->scratch_body);
    cor_iso_parser_close(wire->parser);
    sodium_memzero(wire->self_secret_key, sizeof(wire->self_secret_key));
    cor_free(wire);
}

static const cor_wire_node *wire_node_by_id(const cor_wire *wire, uint32_t node_id)
{
    if (node_id == wire->self.node_id) return &wire->self;
    for (uint32_t i = 0; i < wire->peer_count; i++) {
        if (wire->peers[i].node_id == node_id) return &wire->peers[i];
    }
    return NULL;
}

static const char *wire_currency_of(const cor_wire *wire, uint32_t ledger)
{
    if (ledger == wire->self.ledger) return wire->self.currency;
    for (uint32_t i = 0; i < wire->peer_count; i++) {
        if (wire->peers[i].ledger == ledger) return wire->peers[i].currency;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Text forms of ids, times and amounts                                                     */
/* ---------------------------------------------------------------------------------------- */

#define WIRE_HEX_SIZE  33u /* 32 lowercase hex digits + NUL */
#define WIRE_UUID_SIZE 37u /* 8-4-4-4-12 + NUL */
#define WIRE_TIME_SIZE 64u /* YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ + NUL is 31; room for any year */

static void wire_hex(cor_u128 value, char out[WIRE_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    uint64_t high = (uint64_t)(value >> 64), low = (uint64_t)value;
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[high & 0xfu];
        out[16 + i] = digits[low & 0xfu];
        high >>= 4;
        low >>= 4;
    }
    out[32] = '\0';
}

static void wire_uuid(cor_u128 value, char out[WIRE_UUID_SIZE])
{
    char hex[WIRE_HEX_SIZE];
    wire_hex(value, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
}

/* Lowercase hex of value without leading zeros ("0" for zero) into out (at least
 * WIRE_HEX_SIZE); returns the length. The record's form: the ISO fields keep all 32 digits. */
static size_t wire_hex_short(cor_u128 value, char *out)
{
    static const char digits[] = "0123456789abcdef";
    uint64_t high = (uint64_t)(value >> 64), low = (uint64_t)value;
    unsigned bits = high != 0  ? 128u - (unsigned)__builtin_clzll(high)
                    : low != 0 ? 64u - (unsigned)__builtin_clzll(low)
                               : 1u;
    size_t length = (bits + 3u) / 4u;
    for (size_t i = length; i-- > 0;) {
        out[i] = digits[low & 0xfu];
        low = (low >> 4) | (high << 60);
        high >>= 4;
    }
    return length;
}

/* The form wire_hex_short writes, length bytes at text (no NUL needed). */
static bool wire_hex_short_parse(const char *text, size_t length, cor_u128 *out)
{
    if (length == 0 || length > 32 || (length > 1 && text[0] == '0')) return false;
    cor_u128 value = 0;
    for (size_t i = 0; i < length; i++) {
        char c = text[i];
        unsigned digit;
        if (c >= '0' && c <= '9') {
            digit = (unsigned)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            digit = (unsigned)(c - 'a' + 10);
        } else {
            return false;
        }
        value = (value << 4) | digit;
    }
    *out = value;
    return true;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (the era-based civil algorithm). */
static void wire_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    uint64_t day_of_era = (uint64_t)(days - era * 146097);
    uint64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    uint64_t mp = (5 * day_of_year + 2) / 153;
    *day = (unsigned)(day_of_year - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int64_t)year_of_era + era * 400 + (*month <= 2 ? 1 : 0);
}

/* Nanoseconds since the epoch as an ISODateTime in UTC with all nine fraction digits. */
static void wire_time(uint64_t ns, char out[WIRE_TIME_SIZE])
{
    uint64_t seconds = ns / 1000000000u;
    uint64_t fraction = ns % 1000000000u;
    int64_t year = 0;
    unsigned month = 0, day = 0;
    wire_civil_from_days((int64_t)(seconds / 86400u), &year, &month, &day);
    uint64_t second_of_day = seconds % 86400u;
    snprintf(out, WIRE_TIME_SIZE, "%04lld-%02u-%02uT%02u:%02u:%02u.%09lluZ", (long long)year, month,
             day, (unsigned)(second_of_day / 3600u), (unsigned)(second_of_day / 60u % 60u),
             (unsigned)(second_of_day % 60u), (unsigned long long)fraction);
}

/* ---------------------------------------------------------------------------------------- */
/* End customers' names                                                                     */
/* ---------------------------------------------------------------------------------------- */

bool cor_wire_party_name_valid(const char *name)
{
    if (name == NULL) return false;
    size_t length = strnlen(name, COR_WIRE_PARTY_NAME_SIZE_MAX + 1);
    if (length > COR_WIRE_PARTY_NAME_SIZE_MAX) return false;
    const unsigned char *p = (const unsigned char *)name;
    const unsigned char *end = p + length;
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return false; /* C0 controls and DEL */
            p++;
            continue;
        }
        size_t extra = c >= 0xF0 ? 3u : c >= 0xE0 ? 2u : c >= 0xC2 ? 1u : 0u;
        if (extra == 0 || c >= 0xF5 || (size_t)(end - p) <= extra) return false;
        uint32_t code = c & (0x3Fu >> extra);
        for (size_t i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0u) != 0x80u) return false;
            code = (code << 6) | (p[i] & 0x3Fu);
        }
        static const uint32_t lowest[4] = {0, 0x80, 0x800, 0x10000};
        if (code < lowest[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false; /* overlong, beyond Unicode, or a surrogate */
        }
        if (code <= 0x9F || code == 0xFFFE || code == 0xFFFF) return false; /* C1, non-chars */
        p += extra + 1u;
    }
    return true;
}

/* The non-empty names of parties (NULL: none); false when one is not valid. */
static bool wire_party_names(const cor_wire_parties *parties, const char **debtor,
                             const char **creditor)
{
    *debtor = NULL;
    *creditor = NULL;
    if (parties == NULL) return true;
    if (!cor_wire_party_name_valid(parties->debtor_name) ||
        !cor_wire_party_name_valid(parties->creditor_name)) {
        return false;
    }
    if (parties->debtor_name[0] != '\0') *debtor = parties->debtor_name;
    if (parties->creditor_name[0] != '\0') *creditor = parties->creditor_name;
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* The ISO 20022 view of a message or a batch                                               */
/* ---------------------------------------------------------------------------------------- */

/* The text forms one message's ISO fields point to. */
typedef struct wire_tx_text {
    char msg_id[WIRE_HEX_SIZE];
    char orig_msg_id[WIRE_HEX_SIZE];
    char uetr_hex[WIRE_HEX_SIZE];
    char uetr[WIRE_UUID_SIZE];
    char return_hex[WIRE_HEX_SIZE];
    char return_uuid[WIRE_UUID_SIZE];
    char debtor[WIRE_HEX_SIZE];
    char creditor[WIRE_HEX_SIZE];
} wire_tx_text;

/* One document: the codec's message and the arrays (count elements) its strings live in. */
struct wire_view {
    char msg_id[WIRE_HEX_SIZE]; /* envelope, AppHdr and group id */
    char created[WIRE_TIME_SIZE];
    cor_iso_message message;
    uint32_t capacity;
    wire_tx_text *text;
    cor_iso_credit_transfer *transfers;
    cor_iso_related_tx *related;
};

static void wire_view_free(wire_view *view)
{
    cor_free(view->text);
    cor_free(view->transfers);
    cor_free(view->related);
    memset(view, 0, sizeof(*view));
}

static cor_error wire_view_alloc(wire_view *view, uint32_t count)
{
    COR_ASSERT(count >= 1 && count <= COR_WIRE_BATCH_MAX);
    memset(view, 0, sizeof(*view));
    view->text = cor_alloc(count * sizeof(*view->text));
    view->transfers = cor_alloc(count * sizeof(*view->transfers));
    view->related = cor_alloc(count * sizeof(*view->related));
    if (view->text == NULL || view->transfers == NULL || view->related == NULL) {
        wire_view_free(view);
        return COR_ERR_NOMEM;
    }
    view->capacity = count;
    return COR_OK;
}

/* An empty view (no arrays yet), or NULL. */
static wire_view *wire_view_new(void)
{
    return cor_calloc(1, sizeof(wire_view));
}

/* Makes view (allocated or zeroed) hold at least count messages, keeping larger arrays. */
static cor_error wire_view_reserve(wire_view *view, uint32_t count)
{
    if (view->capacity >= count) return COR_OK;
    wire_view_free(view);
    return wire_view_alloc(view, count);
}

static const char *const wire_status_codes[] = {NULL, "ACSC", "RJCT", "PDNG"};

static bool wire_amount(const cor_wire *wire, cor_u128 amount, uint32_t ledger, cor_iso_amount *out)
{
    const char *currency = wire_currency_of(wire, ledger);
    if (currency == NULL) return false;
    out->amount_minor = amount;
    memcpy(out->currency, currency, 4);
    return true;
}

static void wire_iso_instruction(const cor_wire *wire, const cor_xb_message *m,
                                 const cor_wire_node *origin, const cor_wire_node *beneficiary,
                                 const wire_tx_text *text, const char *debtor_name,
                                 const char *creditor_name, cor_iso_credit_transfer *tx, bool *ok)
{
    memset(tx, 0, sizeof(*tx));
    tx->end_to_end_id = text->uetr_hex;
    tx->uetr = text->uetr;
    tx->charge_bearer = "DEBT";
    *ok &= wire_amount(wire, m->amount_dest, m->dest_ledger, &tx->settlement_amount);
    *ok &= wire_amount(wire, m->amount_source, m->source_ledger, &tx->instructed_amount);
    /* Without a name, the party is named by its ledger account id (Dbtr is mandatory). */
    tx->debtor.name = debtor_name != NULL ? debtor_name : text->debtor;
    tx->debtor_account.other_id = text->debtor;
    tx->debtor_agent.bic = origin->bic;
    tx->creditor_agent.bic = beneficiary->bic;
    tx->creditor.name = creditor_name != NULL ? creditor_name : text->creditor;
    tx->creditor_account.other_id = text->creditor;
}

/* One related transaction; single: the document carries one message, so pacs.002 names the
 * original message and its status at group level (a batch names them per transaction). */
static void wire_iso_related(const cor_wire *wire, const cor_xb_message *m,
                             const wire_tx_text *text, bool single, cor_iso_group *group,
                             cor_iso_related_tx *tx, bool *ok)
{
    memset(tx, 0, sizeof(*tx));
    const char *original_name = m->return_of != 0 ? "pacs.004.001.09" : "pacs.008.001.08";
    tx->id = text->msg_id;
    tx->original_end_to_end_id = text->uetr_hex;
    tx->original_uetr = text->uetr;
    switch (m->type) {
    case COR_XB_PACS002:
        if (single) {
            group->original_msg_id = text->orig_msg_id;
            group->original_msg_name = original_name;
        } else {
            tx->original_msg_id = text->orig_msg_id;
            tx->original_msg_name = original_name;
        }
        *ok &= m->status >= COR_XB_STATUS_ACSC && m->status <= COR_XB_STATUS_PDNG;
        if (!*ok) return;
        tx->status = wire_status_codes[m->status];
        if (single) group->group_status = tx->status;
        if (m->reason != COR_XB_OK && m->reason < COR_XB_REASON_COUNT) {
            tx->reason = cor_xb_reason_iso(m->reason);
            tx->additional_info = cor_xb_reason_text(m->reason);
        }
        break;
    case COR_XB_PACS028:
        tx->original_msg_id = text->orig_msg_id;
        tx->original_msg_name = original_name;
        break;
    case COR_XB_CAMT056:
    case COR_XB_CAMT029: {
        tx->original_msg_id = text->orig_msg_id;
        tx->original_msg_name = original_name;
        group->instructing_agent.bic = wire_node_by_id(wire, m->from_node)->bic;
        group->instructed_agent.bic = wire_node_by_id(wire, m->to_node)->bic;
        const char *conf = NULL;
        if (m->type == COR_XB_CAMT056) {
            tx->reason = "CUST";
            *ok &= wire_amount(wire, m->amount_dest, m->dest_ledger, &tx->amount);
        } else if (m->cancel_status == COR_XB_CANCEL_CNCL) {
            conf = "CNCL";
            tx->status = "ACCR";
        } else if (m->cancel_status == COR_XB_CANCEL_RJCR) {
            conf = "RJCR";
            tx->status = "RJCR";
            tx->reason = "NARR";
            tx->additional_info = "payment already settled";
        } else {
            *ok = false;
        }
        /* camt.029's Sts/Conf is the group's: a batch carries one outcome. */
        if (conf != NULL) {
            if (group->group_status != NULL && strcmp(group->group_status, conf) != 0) {
                *ok = false;
            }
            group->group_status = conf;
        }
        break;
    }
    default: /* PACS004: the return's own id is RtrId; OrgnlUETR names the payment returned */
        group->settlement_method = "CLRG";
        tx->id = text->uetr_hex;
        tx->original_end_to_end_id = text->return_hex;
        tx->original_uetr = text->return_uuid;
        tx->charge_bearer = "DEBT";
        *ok &= m->return_reason < COR_XB_REASON_COUNT && m->return_reason != COR_XB_OK;
        tx->reason = cor_xb_reason_iso(m->return_reason);
        *ok &= wire_amount(wire, m->amount_dest, m->dest_ledger, &tx->amount);
        break;
    }
}

static const cor_iso_msg_type wire_iso_types[] = {
    [COR_XB_PACS008] = COR_ISO_MSG_PACS_008, [COR_XB_PACS002] = COR_ISO_MSG_PACS_002,
    [COR_XB_PACS028] = COR_ISO_MSG_PACS_028, [COR_XB_CAMT056] = COR_ISO_MSG_CAMT_056,
    [COR_XB_CAMT029] = COR_ISO_MSG_CAMT_029, [COR_XB_PACS004] = COR_ISO_MSG_PACS_004,
};

/* Whether a message kind carries the end customers' names. */
static bool wire_type_has_parties(uint32_t type)
{
    return type == COR_XB_PACS008 || type == COR_XB_PACS004 || type == COR_XB_CAMT056;
}

/*
 * Fills view (allocated for at least count) with the ISO 20022 view of messages[0..count)
 * (one type, one sender, one addressee: the caller checked) under the group id msg_id and
 * time created_at; parties is NULL or count elements, borrowed. false, with *bad the index
 * of the message at fault, when a message names a node or ledger we do not know, has a
 * status the view cannot express, a name that is not valid or one its kind cannot carry.
 * The same function builds what encode sends and what decode expects to have read.
 */
static bool wire_view_build(const cor_wire *wire, const cor_xb_message *messages,
                            const cor_wire_parties *parties, uint32_t count, cor_u128 msg_id,
                            uint64_t created_at, wire_view *view, uint32_t *bad)
{
    COR_ASSERT(count >= 1 && count <= view->capacity);
    *bad = 0;
    const cor_xb_message *first = &messages[0];
    if (first->type < COR_XB_PACS008 || first->type > COR_XB_PACS004) return false;
    const cor_wire_node *from = wire_node_by_id(wire, first->from_node);
    const cor_wire_node *to = wire_node_by_id(wire, first->to_node);
    if (from == NULL || to == NULL || from == to) return false;
    wire_hex(msg_id, view->msg_id);
    wire_time(created_at, view->created);

    cor_iso_message *message = &view->message;
    cor_iso_message_init(message);
    message->type = wire_iso_types[first->type];
    message->header = (cor_iso_app_header){.present = true,
                                           .from = {.bic = from->bic},
                                           .to = {.bic = to->bic},
                                           .business_msg_id = view->msg_id,
                                           .created = view->created};
    message->group.msg_id = view->msg_id;
    message->group.created = view->created;
    message->tx_count = count;
    if (first->type == COR_XB_PACS008) {
        message->group.settlement_method = "CLRG";
        message->transfers = view->transfers;
    } else {
        message->related = view->related;
    }
    for (uint32_t i = 0; i < count; i++) {
        const cor_xb_message *m = &messages[i];
        *bad = i;
        COR_ASSERT(m->type == first->type && m->from_node == first->from_node &&
                   m->to_node == first->to_node);
        const char *debtor_name = NULL, *creditor_name = NULL;
        if (!wire_party_names(parties != NULL ? &parties[i] : NULL, &debtor_name, &creditor_name)) {
            return false;
        }
        bool named = debtor_name != NULL || creditor_name != NULL;
        if (named && !wire_type_has_parties(m->type)) return false;
        wire_tx_text *text = &view->text[i];
        wire_hex(m->msg_id, text->msg_id);
        wire_hex(m->orig_msg_id, text->orig_msg_id);
        wire_hex(m->uetr, text->uetr_hex);
        wire_uuid(m->uetr, text->uetr);
        wire_hex(m->return_of, text->return_hex);
        wire_uuid(m->return_of, text->return_uuid);
        wire_hex(m->debtor_account, text->debtor);
        wire_hex(m->creditor_account, text->creditor);
        bool ok = true;
        if (m->type == COR_XB_PACS008) {
            wire_iso_instruction(wire, m, from, to, text, debtor_name, creditor_name,
                                 &view->transfers[i], &ok);
        } else {
            cor_iso_related_tx *tx = &view->related[i];
            wire_iso_related(wire, m, text, count == 1, &message->group, tx, &ok);
            tx->debtor_name = debtor_name;
            tx->creditor_name = creditor_name;
        }
        if (!ok) return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* The corridor record (SplmtryData/Envlp/Xb)                                               */
/* ---------------------------------------------------------------------------------------- */

typedef enum wire_field_kind {
    WIRE_HEX128,
    WIRE_DEC128,
    WIRE_DEC64,
    WIRE_DEC32,
} wire_field_kind;

typedef struct wire_field {
    const char *name;
    size_t name_length;
    wire_field_kind kind;
    size_t offset;
} wire_field;

#define WIRE_FIELD(name, kind, member)                                                             \
    {                                                                                              \
        name, sizeof(name) - 1, kind, offsetof(cor_xb_message, member)                             \
    }

static const wire_field wire_fields[] = {
    WIRE_FIELD("Tp", WIRE_DEC32, type),
    WIRE_FIELD("MsgId", WIRE_HEX128, msg_id),
    WIRE_FIELD("OrgnlMsgId", WIRE_HEX128, orig_msg_id),
    WIRE_FIELD("Fr", WIRE_DEC32, from_node),
    WIRE_FIELD("To", WIRE_DEC32, to_node),
    WIRE_FIELD("CreAt", WIRE_DEC64, created_at),
    WIRE_FIELD("UETR", WIRE_HEX128, uetr),
    WIRE_FIELD("QtId", WIRE_HEX128, quote_id),
    WIRE_FIELD("FxId", WIRE_DEC64, fx_id),
    WIRE_FIELD("RateNum", WIRE_DEC64, rate_num),
    WIRE_FIELD("RateDen", WIRE_DEC64, rate_den),
    WIRE_FIELD("SprdPpm", WIRE_DEC32, spread_ppm),
    WIRE_FIELD("Fxd", WIRE_DEC32, fixed),
    WIRE_FIELD("AmtSrc", WIRE_DEC128, amount_source),
    WIRE_FIELD("SrcLdgr", WIRE_DEC32, source_ledger),
    WIRE_FIELD("AmtDst", WIRE_DEC128, amount_dest),
    WIRE_FIELD("DstLdgr", WIRE_DEC32, dest_ledger),
    WIRE_FIELD("FeeSrc", WIRE_DEC128, fee_source),
    WIRE_FIELD("DbtrAcct", WIRE_HEX128, debtor_account),
    WIRE_FIELD("CdtrAcct", WIRE_HEX128, creditor_account),
    WIRE_FIELD("Ddln", WIRE_DEC64, deadline),
    WIRE_FIELD("RtrOf", WIRE_HEX128, return_of),
    WIRE_FIELD("RtrRsn", WIRE_DEC32, return_reason),
    WIRE_FIELD("Sts", WIRE_DEC32, status),
    WIRE_FIELD("Rsn", WIRE_DEC32, reason),
    WIRE_FIELD("CxlSts", WIRE_DEC32, cancel_status),
    WIRE_FIELD("DcdAt", WIRE_DEC64, decided_at),
};
#define WIRE_FIELD_COUNT (sizeof(wire_fields) / sizeof(wire_fields[0]))

static cor_u128 wire_field_get(const cor_xb_message *m, const wire_field *field)
{
    const unsigned char *at = (const unsigned char *)m + field->offset;
    switch (field->kind) {
    case WIRE_HEX128:
    case WIRE_DEC128: {
        cor_u128 value;
        memcpy(&value, at, sizeof(value));
        return value;
    }
    case WIRE_DEC64: {
        uint64_t value;
        memcpy(&value, at, sizeof(value));
        return value;
    }
    default: {
        uint32_t value;
        memcpy(&value, at, sizeof(value));
        return value;
    }
    }
}

static void wire_field_set(cor_xb_message *m, const wire_field *field, cor_u128 value)
{
    unsigned char *at = (unsigned char *)m + field->offset;
    if (field->kind == WIRE_HEX128 || field->kind == WIRE_DEC128) {
        memcpy(at, &value, sizeof(value));
    } else if (field->kind == WIRE_DEC64) {
        uint64_t narrow = (uint64_t)value;
        memcpy(at, &narrow, sizeof(narrow));
    } else {
        uint32_t narrow = (uint32_t)value;
        memcpy(at, &narrow, sizeof(narrow));
    }
}

/* Decimal digits of value into out (at least COR_U128_DECIMAL_SIZE_MAX), NUL-terminated;
 * returns the length. 64-bit values avoid the 128-bit division. */
static size_t wire_decimal(cor_u128 value, char *out)
{
    if (value > UINT64_MAX) return cor_u128_format(value, out);
    uint64_t narrow = (uint64_t)value;
    char digits[24];
    size_t length = 0;
    do {
        digits[length++] = (char)('0' + narrow % 10u);
        narrow /= 10u;
    } while (narrow != 0);
    for (size_t i = 0; i < length; i++)
        out[i] = digits[length - 1 - i];
    out[length] = '\0';
    return length;
}

_Static_assert(WIRE_RECORD_SIZE_BYTES_MAX >=
                   sizeof(WIRE_ROW_OPEN) + sizeof(WIRE_ROW_CLOSE) + 27u * 40u,
               "a row of 27 values of at most 39 characters and their separators fits");

/* Writes one <R> row: the 27 values in wire_fields order, one space between them. Returns
 * its size (out has WIRE_RECORD_SIZE_BYTES_MAX). */
static size_t wire_record_write(const cor_xb_message *m, char *out, size_t out_size)
{
    COR_ASSERT(out_size >= WIRE_RECORD_SIZE_BYTES_MAX);
    char *p = out;
    memcpy(p, WIRE_ROW_OPEN, sizeof(WIRE_ROW_OPEN) - 1);
    p += sizeof(WIRE_ROW_OPEN) - 1;
    for (size_t i = 0; i < WIRE_FIELD_COUNT; i++) {
        const wire_field *field = &wire_fields[i];
        cor_u128 value = wire_field_get(m, field);
        if (i > 0) *p++ = ' ';
        p += field->kind == WIRE_HEX128 ? wire_hex_short(value, p) : wire_decimal(value, p);
    }
    memcpy(p, WIRE_ROW_CLOSE, sizeof(WIRE_ROW_CLOSE) - 1);
    p += sizeof(WIRE_ROW_CLOSE) - 1;
    COR_ASSERT((size_t)(p - out) <= WIRE_RECORD_SIZE_BYTES_MAX);
    return (size_t)(p - out);
}

/* Canonical decimal of length bytes at text (no NUL needed), at most max. */
static bool wire_decimal_parse_n(const char *text, size_t length, cor_u128 max, cor_u128 *out)
{
    if (length == 0 || length > 39 || (length > 1 && text[0] == '0')) return false;
    if (length <= 19) { /* fits 64 bits: no 128-bit arithmetic */
        uint64_t value = 0;
        for (size_t i = 0; i < length; i++) {
            if (text[i] < '0' || text[i] > '9') return false;
            value = value * 10u + (uint64_t)(text[i] - '0');
        }
        if (value > max) return false;
        *out = value;
        return true;
    }
    cor_u128 value = 0;
    if (!cor_u128_parse(text, length, &value) || value > max) return false;
    *out = value;
    return true;
}

/* Why value i of a row (field) was refused; at_end: the text ended at it. */
static void wire_record_refuse(cor_wire_refusal *refusal, const wire_field *field, size_t i,
                               bool last, bool at_end)
{
    if (!last && at_end) {
        wire_refuse(refusal, COR_WIRE_RECORD, "corridor record: %zu values, expected %zu", i + 1,
                    (size_t)WIRE_FIELD_COUNT);
    } else if (last && !at_end) {
        wire_refuse(refusal, COR_WIRE_RECORD, "corridor record: more than %zu values",
                    (size_t)WIRE_FIELD_COUNT);
    } else {
        wire_refuse(refusal, COR_WIRE_RECORD, "corridor record: bad %s value", field->name);
    }
}

/*
 * Reads one row's text, length bytes at text (no NUL needed), into m: exactly the 27 values
 * in their canonical forms, single spaces between them. On failure, when refusal is not
 * NULL, says which value is at fault.
 */
static bool wire_record_parse(const char *text, size_t length, cor_xb_message *m,
                              cor_wire_refusal *refusal)
{
    static const cor_u128 maxima[] = {
        [WIRE_HEX128] = COR_U128_MAX,
        [WIRE_DEC128] = COR_U128_MAX,
        [WIRE_DEC64] = UINT64_MAX,
        [WIRE_DEC32] = UINT32_MAX,
    };
    memset(m, 0, sizeof(*m));
    const char *p = text, *end = text + length;
    for (size_t i = 0; i < WIRE_FIELD_COUNT; i++) {
        const wire_field *field = &wire_fields[i];
        const char *value_end = p < end ? memchr(p, ' ', (size_t)(end - p)) : NULL;
        if (value_end == NULL) value_end = end;
        bool last = i + 1 == WIRE_FIELD_COUNT;
        size_t size = (size_t)(value_end - p);
        cor_u128 value = 0;
        bool ok = last ? value_end == end : value_end < end;
        if (ok) {
            ok = field->kind == WIRE_HEX128
                     ? wire_hex_short_parse(p, size, &value)
                     : wire_decimal_parse_n(p, size, maxima[field->kind], &value);
        }
        if (!ok) {
            if (refusal != NULL) wire_record_refuse(refusal, field, i, last, value_end == end);
            return false;
        }
        wire_field_set(m, field, value);
        p = value_end + 1;
    }
    return true;
}

static bool wire_xml_is(const xmlNode *node, const char *name, const char *ns)
{
    if (node == NULL || node->type != XML_ELEMENT_NODE) return false;
    if (strcmp((const char *)node->name, name) != 0) return false;
    if (ns == NULL) return true;
    return node->ns != NULL && strcmp((const char *)node->ns->href, ns) == 0;
}

static xmlNode *wire_xml_next(xmlNode *node)
{
    while (node != NULL && node->type != XML_ELEMENT_NODE)
        node = node->next;
    return node;
}

/* The text of a leaf element: "" when empty, NULL when it has anything but one text node. */
static const char *wire_xml_text(const xmlNode *node)
{
    const xmlNode *child = node->children;
    if (child == NULL) return "";
    if (child->type != XML_TEXT_NODE || child->next != NULL) return NULL;
    return (const char *)child->content;
}

/* One <R> row element of the Xb record into m. */
static cor_error wire_record_row(xmlNode *row, cor_xb_message *m, cor_wire_refusal *refusal)
{
    COR_ASSERT(wire_xml_is(row, "R", WIRE_RECORD_NS));
    const char *text = wire_xml_text(row);
    if (text == NULL) {
        return wire_refuse(refusal, COR_WIRE_RECORD, "corridor record: <R> is not only text");
    }
    if (!wire_record_parse(text, strlen(text), m, refusal)) return COR_ERR_XML_INVALID;
    return COR_OK;
}

/* Prefixes refusal->text with "message <index>: " (the batch position at fault). */
static void wire_refusal_at(cor_wire_refusal *refusal, uint32_t index)
{
    char prefix[24];
    int length = snprintf(prefix, sizeof(prefix), "message %u: ", (unsigned)index);
    size_t shift = (size_t)length;
    size_t kept = strnlen(refusal->text, sizeof(refusal->text) - 1);
    if (kept > sizeof(refusal->text) - 1 - shift) kept = sizeof(refusal->text) - 1 - shift;
    memmove(refusal->text + shift, refusal->text, kept);
    memcpy(refusal->text, prefix, shift);
    refusal->text[shift + kept] = '\0';
}

/* The message element of Envelope/Document (exactly AppHdr then Document: the codec accepts
 * other wrappers, we send only this), or NULL. */
static xmlNode *wire_message_element(xmlDoc *doc)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!wire_xml_is(root, "Envelope", "urn:swift:xsd:envelope")) return NULL;
    xmlNode *header = wire_xml_next(root->children);
    xmlNode *document = header != NULL ? wire_xml_next(header->next) : NULL;
    if (!wire_xml_is(header, "AppHdr", NULL) || !wire_xml_is(document, "Document", NULL) ||
        wire_xml_next(document->next) != NULL) {
        return NULL;
    }
    return wire_xml_next(document->children);
}

/* The Xb of one corridor SplmtryData block, or NULL. */
static xmlNode *wire_record_of(xmlNode *block)
{
    xmlNode *place = wire_xml_next(block->children);
    const char *place_text = place != NULL ? wire_xml_text(place) : NULL;
    xmlNode *envelope = place != NULL ? wire_xml_next(place->next) : NULL;
    xmlNode *record = envelope != NULL ? wire_xml_next(envelope->children) : NULL;
    if (!wire_xml_is(place, "PlcAndNm", NULL) || place_text == NULL ||
        strcmp(place_text, WIRE_RECORD_PLACE) != 0 || !wire_xml_is(envelope, "Envlp", NULL) ||
        !wire_xml_is(record, "Xb", WIRE_RECORD_NS) || wire_xml_next(record->next) != NULL) {
        return NULL;
    }
    return record;
}

/* Reads every corridor SplmtryData of the message element, in order, into m[0..max). */
static cor_error wire_records_in(xmlDoc *doc, cor_xb_message *m, uint32_t max, uint32_t *count,
                                 cor_wire_refusal *refusal)
{
    xmlNode *message = wire_message_element(doc);
    if (message == NULL) {
        return wire_refuse(refusal, COR_WIRE_RECORD, "no Envelope/AppHdr+Document structure");
    }
    *count = 0;
    for (xmlNode *child = wire_xml_next(message->children); child != NULL;
         child = wire_xml_next(child->next)) {
        if (!wire_xml_is(child, "SplmtryData", NULL)) continue;
        xmlNode *record = wire_record_of(child);
        if (record == NULL) {
            wire_refuse(refusal, COR_WIRE_RECORD,
                        "SplmtryData is not PlcAndNm '" WIRE_RECORD_PLACE
                        "' + Envlp/Xb in " WIRE_RECORD_NS);
            wire_refusal_at(refusal, *count);
            return COR_ERR_XML_INVALID;
        }
        xmlNode *row = wire_xml_next(record->children);
        if (row == NULL) {
            wire_refuse(refusal, COR_WIRE_RECORD, "corridor record with no <R>");
            wire_refusal_at(refusal, *count);
            return COR_ERR_XML_INVALID;
        }
        for (; row != NULL; row = wire_xml_next(row->next)) {
            if (!wire_xml_is(row, "R", WIRE_RECORD_NS)) {
                wire_refuse(refusal, COR_WIRE_RECORD, "corridor record: <%s> where <R> belongs",
                            (const char *)row->name);
                wire_refusal_at(refusal, *count);
                return COR_ERR_XML_INVALID;
            }
            if (*count == max) {
                return wire_refuse(refusal, COR_WIRE_OVERSIZED,
                                   "more than %u messages in the envelope", (unsigned)max);
            }
            cor_error rc = wire_record_row(row, &m[*count], refusal);
            if (rc != COR_OK) {
                wire_refusal_at(refusal, *count);
                return rc;
            }
            (*count)++;
        }
    }
    if (*count == 0) return wire_refuse(refusal, COR_WIRE_RECORD, "no corridor SplmtryData");
    return COR_OK;
}

/*
 * Reads the records from xml, which the codec has already accepted (well-formed, no DTD,
 * no entity declarations, bounded size and depth). libxml2 still runs without network and
 * without entity substitution, and a document type declaration is refused again here.
 */
static void wire_xml_silent(void *context, xmlErrorPtr error)
{
    (void)context;
    (void)error;
}

static cor_error wire_record_read(const char *xml, size_t xml_size, cor_xb_message *m, uint32_t max,
                                  uint32_t *count, cor_wire_refusal *refusal)
{
    /* libxml2 reports some errors (encoding conversion) through the thread's structured
     * error handler rather than the parser context: keep them off stderr for this pass. */
    xmlStructuredErrorFunc saved_handler = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(NULL, wire_xml_silent);
    xmlDoc *doc = xmlReadMemory(xml, (int)xml_size, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING | XML_PARSE_HUGE);
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
    if (doc == NULL) return wire_refuse(refusal, COR_WIRE_RECORD, "xml not readable");
    cor_error rc = COR_OK;
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        rc = wire_refuse(refusal, COR_WIRE_RECORD, "document type declaration not allowed");
    } else {
        rc = wire_records_in(doc, m, max, count, refusal);
    }
    xmlFreeDoc(doc);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Envelope                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct wire_header {
    uint32_t version; /* WIRE_VERSION_SINGLE or WIRE_VERSION_BATCH */
    char sender[COR_WIRE_NAME_SIZE_MAX + 1];
    char recipient[COR_WIRE_NAME_SIZE_MAX + 1];
    uint32_t key_id;
    cor_u128 msg_id;
    uint64_t timestamp;
    uint32_t body_size;
} wire_header;

static void wire_put_be(uint8_t *out, cor_u128 value, size_t size)
{
    for (size_t i = size; i-- > 0;) {
        out[i] = (uint8_t)(value & 0xffu);
        value >>= 8;
    }
}

static cor_u128 wire_get_be(const uint8_t *in, size_t size)
{
    cor_u128 value = 0;
    for (size_t i = 0; i < size; i++)
        value = (value << 8) | in[i];
    return value;
}

static void wire_header_write(const wire_header *header, uint8_t *out)
{
    memset(out, 0, COR_WIRE_HEADER_SIZE_BYTES);
    memcpy(out, WIRE_MAGIC, 4);
    wire_put_be(out + 4, header->version, 2);
    memcpy(out + 8, header->sender, strlen(header->sender));
    memcpy(out + 24, header->recipient, strlen(header->recipient));
    wire_put_be(out + 40, header->key_id, 4);
    wire_put_be(out + 44, header->msg_id, 16);
    wire_put_be(out + 60, header->timestamp, 8);
    wire_put_be(out + 68, header->body_size, 4);
}

/* A name field: 1..16 allowed characters, then only NULs. */
static bool wire_name_read(const uint8_t *field, char out[COR_WIRE_NAME_SIZE_MAX + 1])
{
    memcpy(out, field, COR_WIRE_NAME_SIZE_MAX);
    out[COR_WIRE_NAME_SIZE_MAX] = '\0';
    size_t length = strlen(out);
    for (size_t i = length; i < COR_WIRE_NAME_SIZE_MAX; i++) {
        if (field[i] != 0) return false;
    }
    return wire_name_valid(out, COR_WIRE_NAME_SIZE_MAX);
}

static cor_error wire_header_read(const uint8_t *bytes, size_t size, wire_header *header,
                                  cor_wire_refusal *refusal)
{
    size_t overhead = COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE;
    if (size > COR_WIRE_SIZE_BYTES_MAX) {
        return wire_refuse(refusal, COR_WIRE_OVERSIZED, "envelope of %zu bytes, maximum %u", size,
                           (unsigned)COR_WIRE_SIZE_BYTES_MAX);
    }
    if (size < overhead) {
        return wire_refuse(refusal, COR_WIRE_TRUNCATED,
                           "envelope of %zu bytes, header and signature need %zu", size, overhead);
    }
    header->version = (uint32_t)wire_get_be(bytes + 4, 2);
    if (memcmp(bytes, WIRE_MAGIC, 4) != 0 ||
        (header->version != WIRE_VERSION_SINGLE && header->version != WIRE_VERSION_BATCH) ||
        wire_get_be(bytes + 6, 2) != 0) {
        return wire_refuse(refusal, COR_WIRE_FORMAT,
                           "not a corridor wire envelope version %u or %u", WIRE_VERSION_SINGLE,
                           WIRE_VERSION_BATCH);
    }
    if (!wire_name_read(bytes + 8, header->sender) ||
        !wire_name_read(bytes + 24, header->recipient)) {
        return wire_refuse(refusal, COR_WIRE_FORMAT, "node name field malformed");
    }
    header->key_id = (uint32_t)wire_get_be(bytes + 40, 4);
    header->msg_id = wire_get_be(bytes + 44, 16);
    header->timestamp = (uint64_t)wire_get_be(bytes + 60, 8);
    header->body_size = (uint32_t)wire_get_be(bytes + 68, 4);
    if (header->body_size != size - overhead) {
        cor_wire_code code =
            header->body_size > size - overhead ? COR_WIRE_TRUNCATED : COR_WIRE_FORMAT;
        return wire_refuse(refusal, code, "body size %u but %zu bytes carried",
                           (unsigned)header->body_size, size - overhead);
    }
    if (header->body_size == 0) return wire_refuse(refusal, COR_WIRE_FORMAT, "empty body");
    return COR_OK;
}

/*
 * What the signature covers. Version 1 (one message): the header and body as sent, pure
 * Ed25519. Version 3 (batch): the header followed by SHA-256 of the body: one pass of a
 * hash the processor runs in hardware (about 1.7 GB/s here, against 1 GB/s for BLAKE2b,
 * which version 2 used, and 0.56 GB/s for the SHA-512 passes of Ed25519 itself, two to
 * sign and one to verify) over the megabytes; 128-bit collision resistance, as everywhere
 * Ed25519 or ECDSA signs a SHA-256 digest. false: the digest could not be computed.
 */
typedef struct wire_signed {
    uint8_t bytes[COR_WIRE_HEADER_SIZE_BYTES + WIRE_DIGEST_SIZE];
} wire_signed;

static bool wire_signed_form(const uint8_t *envelope, size_t signed_size, uint32_t version,
                             wire_signed *out)
{
    COR_ASSERT(version == WIRE_VERSION_BATCH);
    _Static_assert(SHA256_DIGEST_LENGTH == WIRE_DIGEST_SIZE, "SHA-256 digest size");
    memcpy(out->bytes, envelope, COR_WIRE_HEADER_SIZE_BYTES);
    return SHA256(envelope + COR_WIRE_HEADER_SIZE_BYTES, signed_size - COR_WIRE_HEADER_SIZE_BYTES,
                  out->bytes + COR_WIRE_HEADER_SIZE_BYTES) != NULL;
}

static bool wire_sign(const cor_wire *wire, uint8_t *envelope, size_t signed_size, uint32_t version)
{
    if (version == WIRE_VERSION_SINGLE) {
        crypto_sign_detached(envelope + signed_size, NULL, envelope, signed_size,
                             wire->self_secret_key);
        return true;
    }
    wire_signed form;
    if (!wire_signed_form(envelope, signed_size, version, &form)) return false;
    crypto_sign_detached(envelope + signed_size, NULL, form.bytes, sizeof(form.bytes),
                         wire->self_secret_key);
    return true;
}

static bool wire_verify(const uint8_t *envelope, size_t signed_size, uint32_t version,
                        const uint8_t *public_key)
{
    const uint8_t *signature = envelope + signed_size;
    if (version == WIRE_VERSION_SINGLE) {
        return crypto_sign_verify_detached(signature, envelope, signed_size, public_key) == 0;
    }
    wire_signed form;
    if (!wire_signed_form(envelope, signed_size, version, &form)) return false;
    return crypto_sign_verify_detached(signature, form.bytes, sizeof(form.bytes), public_key) == 0;
}

/* The envelope id of a batch: BLAKE2b-128 of its message ids (16 bytes big-endian each, in
 * order); a single message's envelope id is its own. */
static cor_u128 wire_batch_id(const cor_xb_message *messages, uint32_t count)
{
    if (count == 1) return messages[0].msg_id;
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, 16);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t id[16];
        wire_put_be(id, messages[i].msg_id, 16);
        crypto_generichash_update(&state, id, sizeof(id));
    }
    uint8_t digest[16];
    crypto_generichash_final(&state, digest, sizeof(digest));
    return wire_get_be(digest, 16);
}

/* The envelope timestamp: the latest created_at of the messages. */
static uint64_t wire_batch_time(const cor_xb_message *messages, uint32_t count)
{
    uint64_t latest = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (messages[i].created_at > latest) latest = messages[i].created_at;
    }
    return latest;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing a body (encode) or checking one against what encode would write (decode)         */
/* ---------------------------------------------------------------------------------------- */

static const char *const wire_root_names[] = {
    [COR_XB_PACS008] = "</FIToFICstmrCdtTrf>", [COR_XB_PACS002] = "</FIToFIPmtStsRpt>",
    [COR_XB_PACS028] = "</FIToFIPmtStsReq>",   [COR_XB_CAMT056] = "</FIToFIPmtCxlReq>",
    [COR_XB_CAMT029] = "</RsltnOfInvstgtn>",   [COR_XB_PACS004] = "</PmtRtr>",
};

/* Offset of the last occurrence of the message element's end tag, or SIZE_MAX. */
static size_t wire_insert_point(const char *xml, size_t xml_size, uint32_t type)
{
    const char *tag = wire_root_names[type];
    size_t length = strlen(tag);
    for (size_t at = xml_size >= length ? xml_size - length + 1 : 0; at-- > 0;) {
        if (memcmp(xml + at, tag, length) == 0) return at;
    }
    return SIZE_MAX;
}

/* The index of the first pacs.008 whose UETR an earlier one in messages[0..count) has, or
 * UINT32_MAX (the codec refuses such a document: DUPL). An open-addressing set of
 * 2 * COR_WIRE_BATCH_MAX slots (32 KB, on the stack). */
static uint32_t wire_duplicate_uetr(const cor_xb_message *messages, uint32_t count)
{
    if (messages[0].type != COR_XB_PACS008 || count < 2) return UINT32_MAX;
    enum { SLOTS = 2 * COR_WIRE_BATCH_MAX };
    cor_u128 slots[SLOTS];
    bool used[SLOTS];
    memset(used, 0, sizeof(used));
    for (uint32_t i = 0; i < count; i++) {
        cor_u128 uetr = messages[i].uetr;
        uint64_t mix = (uint64_t)uetr ^ (uint64_t)(uetr >> 64);
        mix *= 0x9e3779b97f4a7c15ull;
        size_t at = (size_t)(mix >> 53) & (SLOTS - 1u);
        while (used[at]) {
            if (slots[at] == uetr) return i;
            at = (at + 1u) & (SLOTS - 1u);
        }
        used[at] = true;
        slots[at] = uetr;
    }
    return UINT32_MAX;
}

/*
 * Writes the body of messages[0..count) (one type, one sender, one addressee) into out
 * (capacity bytes, a NUL included): the codec's document with one corridor SplmtryData per
 * message before the message element's end tag. view has room for count. Errors:
 * COR_ERR_INVALID (with *bad the message at fault) when the ISO view cannot hold a message,
 * COR_ERR_LIMIT when out is too small.
 */
static cor_error wire_body_write(const cor_wire *wire, const cor_xb_message *messages,
                                 const cor_wire_parties *parties, uint32_t count, cor_u128 msg_id,
                                 uint64_t created_at, wire_view *view, char *out, size_t capacity,
                                 size_t *size_out, uint32_t *bad)
{
    *size_out = 0;
    if (!wire_view_build(wire, messages, parties, count, msg_id, created_at, view, bad)) {
        return COR_ERR_INVALID;
    }
    size_t xml_size = 0;
    cor_error rc = cor_iso_serialize_to(&view->message, COR_ISO_SERIALIZE_WITH_HEADER, out,
                                        capacity, &xml_size);
    if (rc == COR_ERR_INVALID) *bad = 0; /* the codec does not say which: the first */
    if (rc != COR_OK) return rc;
    size_t at = wire_insert_point(out, xml_size, messages[0].type);
    COR_ASSERT(at != SIZE_MAX); /* the codec always closes the message element */
    char tail[128];
    size_t tail_size = xml_size - at;
    COR_ASSERT(tail_size < sizeof(tail));
    memcpy(tail, out + at, tail_size);
    size_t used = at;
    if (sizeof(WIRE_RECORD_OPEN) - 1 >= capacity - used) return COR_ERR_LIMIT;
    memcpy(out + used, WIRE_RECORD_OPEN, sizeof(WIRE_RECORD_OPEN) - 1);
    used += sizeof(WIRE_RECORD_OPEN) - 1;
    for (uint32_t i = 0; i < count; i++) {
        if (capacity - used >= WIRE_RECORD_SIZE_BYTES_MAX) {
            used += wire_record_write(&messages[i], out + used, capacity - used);
            continue;
        }
        char record[WIRE_RECORD_SIZE_BYTES_MAX];
        size_t record_size = wire_record_write(&messages[i], record, sizeof(record));
        if (record_size >= capacity - used) return COR_ERR_LIMIT;
        memcpy(out + used, record, record_size);
        used += record_size;
    }
    size_t close_size = sizeof(WIRE_RECORD_CLOSE) - 1;
    if (close_size + tail_size >= capacity - used) return COR_ERR_LIMIT;
    memcpy(out + used, WIRE_RECORD_CLOSE, close_size);
    used += close_size;
    memcpy(out + used, tail, tail_size);
    used += tail_size;
    out[used] = '\0';
    *size_out = used;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Encode                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static bool wire_message_valid_to_send(const cor_wire *wire, const cor_xb_message *m)
{
    static const uint8_t zero[sizeof(m->reserved)] = {0};
    if (m->from_node != wire->self.node_id) return false;
    if (memcmp(m->reserved, zero, sizeof(zero)) != 0) return false;
    for (uint32_t i = 0; i < wire->peer_count; i++) {
        if (wire->peers[i].node_id == m->to_node) return true;
    }
    return false;
}

static const cor_wire_node *wire_peer_by_name(const cor_wire *wire, const char *name)
{
    for (uint32_t i = 0; i < wire->peer_count; i++) {
        if (strcmp(wire->peers[i].name, name) == 0) return &wire->peers[i];
    }
    return NULL;
}

cor_error cor_wire_encode_batch(const cor_wire *wire, const cor_xb_message *messages,
                                const cor_wire_parties *parties, uint32_t count, uint8_t *out,
                                size_t out_size_max, size_t *size_out)
{
    if (size_out != NULL) *size_out = 0;
    if (wire == NULL || messages == NULL || out == NULL || size_out == NULL) {
        return COR_ERR_INVALID;
    }
    if (count == 0 || count > COR_WIRE_BATCH_MAX) return COR_ERR_LIMIT;
    for (uint32_t i = 0; i < count; i++) {
        const cor_xb_message *m = &messages[i];
        if (!wire_message_valid_to_send(wire, m)) return COR_ERR_INVALID;
        if (m->type != messages[0].type || m->to_node != messages[0].to_node) {
            return COR_ERR_INVALID;
        }
    }
    if (wire_duplicate_uetr(messages, count) != UINT32_MAX) return COR_ERR_INVALID;
    size_t overhead = COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE;
    /* The body and the codec's NUL (which the signature then overwrites). */
    size_t room = out_size_max > overhead ? out_size_max - overhead + 1u : 0;
    if (room > COR_WIRE_BODY_SIZE_BYTES_MAX + 1u) room = COR_WIRE_BODY_SIZE_BYTES_MAX + 1u;
    wire_header header = {.version = count == 1 ? WIRE_VERSION_SINGLE : WIRE_VERSION_BATCH,
                          .key_id = wire->self_key_id,
                          .msg_id = wire_batch_id(messages, count),
                          .timestamp = wire_batch_time(messages, count)};
    wire_view *view = wire->encode_view;
    cor_error rc = wire_view_reserve(view, count);
    if (rc != COR_OK) return rc;
    uint32_t bad = 0;
    size_t body_size = 0;
    if (room == 0) {
        /* still INVALID for a message the view cannot hold */
        rc = wire_view_build(wire, messages, parties, count, header.msg_id, header.timestamp, view,
                             &bad)
                 ? COR_ERR_LIMIT
                 : COR_ERR_INVALID;
    } else {
        rc = wire_body_write(wire, messages, parties, count, header.msg_id, header.timestamp, view,
                             (char *)out + COR_WIRE_HEADER_SIZE_BYTES, room, &body_size, &bad);
    }
    if (rc != COR_OK) return rc;
    header.body_size = (uint32_t)body_size;
    memcpy(header.sender, wire->self.name, sizeof(header.sender));
    memcpy(header.recipient, wire_node_by_id(wire, messages[0].to_node)->name,
           sizeof(header.recipient));
    wire_header_write(&header, out);
    size_t signed_size = COR_WIRE_HEADER_SIZE_BYTES + body_size;
    if (!wire_sign(wire, out, signed_size, header.version)) return COR_ERR_NOMEM;
    *size_out = signed_size + COR_WIRE_SIGNATURE_SIZE;
    return COR_OK;
}

cor_error cor_wire_encode_parties(const cor_wire *wire, const cor_xb_message *message,
                                  const cor_wire_parties *parties, uint8_t *out,
                                  size_t out_size_max, size_t *size_out)
{
    return cor_wire_encode_batch(wire, message, parties, 1, out, out_size_max, size_out);
}

cor_error cor_wire_encode(const cor_wire *wire, const cor_xb_message *message, uint8_t *out,
                          size_t out_size_max, size_t *size_out)
{
    return cor_wire_encode_batch(wire, message, NULL, 1, out, out_size_max, size_out);
}

/* ---------------------------------------------------------------------------------------- */
/* Decode                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static cor_error wire_authenticate(const cor_wire *wire, const uint8_t *bytes, size_t size,
                                   const wire_header *header, const cor_wire_node **peer_out,
                                   cor_wire_refusal *refusal)
{
    const cor_wire_node *peer = wire_peer_by_name(wire, header->sender);
    if (peer == NULL) {
        return wire_refuse(refusal, COR_WIRE_SENDER_UNKNOWN, "sender '%s' is not a peer",
                           header->sender);
    }
    if (strcmp(header->recipient, wire->self.name) != 0) {
        return wire_refuse(refusal, COR_WIRE_NOT_ADDRESSEE, "envelope for '%s', we are '%s'",
                           header->recipient, wire->self.name);
    }
    const cor_wire_key *key = NULL;
    for (uint32_t i = 0; i < peer->key_count; i++) {
        if (peer->keys[i].key_id == header->key_id) key = &peer->keys[i];
    }
    if (key == NULL) {
        return wire_refuse(refusal, COR_WIRE_KEY_UNKNOWN, "key id %u unknown for '%s'",
                           (unsigned)header->key_id, peer->name);
    }
    if (!wire_verify(bytes, size - COR_WIRE_SIGNATURE_SIZE, header->version, key->public_key)) {
        return wire_refuse(refusal, COR_WIRE_SIGNATURE, "signature of '%s' key %u invalid",
                           peer->name, (unsigned)key->key_id);
    }
    *peer_out = peer;
    return COR_OK;
}

/* The replay window around now_ns for one timestamp. */
static cor_error wire_fresh(const cor_wire *wire, uint64_t now_ns, uint64_t timestamp,
                            cor_wire_refusal *refusal)
{
    bool too_old = now_ns > timestamp && now_ns - timestamp > wire->replay_window_ns;
    bool too_new = timestamp > now_ns && timestamp - now_ns > wire->clock_skew_ns;
    if (!too_old && !too_new) return COR_OK;
    return wire_refuse(refusal, COR_WIRE_STALE, "timestamp %llu ns is %s now %llu",
                       (unsigned long long)timestamp,
                       too_old ? "older than the replay window before" : "too far after",
                       (unsigned long long)now_ns);
}

static cor_error wire_parse(cor_wire *wire, const char *xml, size_t xml_size,
                            cor_wire_refusal *refusal)
{
    cor_iso_message *parsed = &wire->parsed;
    cor_error rc = cor_iso_parse(wire->parser, xml, xml_size, parsed);
    if (rc == COR_ERR_NOMEM) return rc;
    if (rc == COR_OK && parsed->finding_total == 0) return COR_OK;
    if (parsed->finding_count == 0) {
        return wire_refuse(refusal, COR_WIRE_XML, "codec refused the document: %s",
                           cor_strerror(rc));
    }
    const cor_iso_finding *finding = &parsed->findings[0];
    wire_refuse(refusal, COR_WIRE_XML, "%s: %s", finding->path, finding->text);
    if (finding->tx_index >= 0) wire_refusal_at(refusal, (uint32_t)finding->tx_index);
    snprintf(refusal->iso, sizeof(refusal->iso), "%s", finding->reason);
    return COR_ERR_XML_INVALID;
}

/* ---- ISO view comparison ---------------------------------------------------------------- */

typedef struct wire_compare {
    const char *differs; /* first differing element, NULL while all equal */
} wire_compare;

static void wire_same_text(wire_compare *c, const char *field, const char *a, const char *b)
{
    if (c->differs != NULL) return;
    bool same = (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
    if (!same) c->differs = field;
}

static void wire_same_amount(wire_compare *c, const char *field, const cor_iso_amount *a,
                             const cor_iso_amount *b)
{
    wire_same_text(c, field, a->currency, b->currency);
    if (c->differs == NULL && a->amount_minor != b->amount_minor) c->differs = field;
}

static void wire_same_agent(wire_compare *c, const char *field, const cor_iso_agent *a,
                            const cor_iso_agent *b)
{
    wire_same_text(c, field, a->bic, b->bic);
    wire_same_text(c, field, a->clearing_system, b->clearing_system);
    wire_same_text(c, field, a->member_id, b->member_id);
    wire_same_text(c, field, a->lei, b->lei);
    wire_same_text(c, field, a->name, b->name);
}

static void wire_same_party(wire_compare *c, const char *field, const cor_iso_party *a,
                            const cor_iso_party *b)
{
    wire_same_text(c, field, a->name, b->name);
    wire_same_text(c, field, a->country, b->country);
    wire_same_text(c, field, a->bic, b->bic);
    wire_same_text(c, field, a->lei, b->lei);
}

static void wire_same_transfer(wire_compare *c, const cor_iso_credit_transfer *a,
                               const cor_iso_credit_transfer *b)
{
    wire_same_text(c, "InstrId", a->instruction_id, b->instruction_id);
    wire_same_text(c, "EndToEndId", a->end_to_end_id, b->end_to_end_id);
    wire_same_text(c, "TxId", a->transaction_id, b->transaction_id);
    wire_same_text(c, "UETR", a->uetr, b->uetr);
    wire_same_amount(c, "IntrBkSttlmAmt", &a->settlement_amount, &b->settlement_amount);
    wire_same_text(c, "IntrBkSttlmDt", a->settlement_date, b->settlement_date);
    wire_same_amount(c, "InstdAmt", &a->instructed_amount, &b->instructed_amount);
    wire_same_text(c, "ChrgBr", a->charge_bearer, b->charge_bearer);
    wire_same_agent(c, "InstgAgt", &a->instructing_agent, &b->instructing_agent);
    wire_same_agent(c, "InstdAgt", &a->instructed_agent, &b->instructed_agent);
    wire_same_party(c, "Dbtr", &a->debtor, &b->debtor);
    wire_same_text(c, "DbtrAcct", a->debtor_account.other_id, b->debtor_account.other_id);
    wire_same_text(c, "DbtrAcct/IBAN", a->debtor_account.iban, b->debtor_account.iban);
    wire_same_text(c, "DbtrAcct/Ccy", a->debtor_account.currency, b->debtor_account.currency);
    wire_same_agent(c, "DbtrAgt", &a->debtor_agent, &b->debtor_agent);
    wire_same_agent(c, "CdtrAgt", &a->creditor_agent, &b->creditor_agent);
    wire_same_party(c, "Cdtr", &a->creditor, &b->creditor);
    wire_same_text(c, "CdtrAcct", a->creditor_account.other_id, b->creditor_account.other_id);
    wire_same_text(c, "CdtrAcct/IBAN", a->creditor_account.iban, b->creditor_account.iban);
    wire_same_text(c, "CdtrAcct/Ccy", a->creditor_account.currency, b->creditor_account.currency);
    wire_same_text(c, "Purp", a->purpose, b->purpose);
    wire_same_text(c, "RmtInf", a->remittance, b->remittance);
}

static void wire_same_related(wire_compare *c, const cor_iso_related_tx *a,
                              const cor_iso_related_tx *b)
{
    wire_same_text(c, "Id", a->id, b->id);
    wire_same_text(c, "OrgnlMsgId", a->original_msg_id, b->original_msg_id);
    wire_same_text(c, "OrgnlMsgNmId", a->original_msg_name, b->original_msg_name);
    wire_same_text(c, "OrgnlInstrId", a->original_instruction_id, b->original_instruction_id);
    wire_same_text(c, "OrgnlEndToEndId", a->original_end_to_end_id, b->original_end_to_end_id);
    wire_same_text(c, "OrgnlTxId", a->original_transaction_id, b->original_transaction_id);
    wire_same_text(c, "OrgnlUETR", a->original_uetr, b->original_uetr);
    wire_same_text(c, "status", a->status, b->status);
    wire_same_text(c, "reason", a->reason, b->reason);
    wire_same_text(c, "AddtlInf", a->additional_info, b->additional_info);
    wire_same_amount(c, "amount", &a->amount, &b->amount);
    wire_same_text(c, "IntrBkSttlmDt", a->settlement_date, b->settlement_date);
    wire_same_text(c, "ChrgBr", a->charge_bearer, b->charge_bearer);
    wire_same_agent(c, "InstgAgt", &a->instructing_agent, &b->instructing_agent);
    wire_same_agent(c, "InstdAgt", &a->instructed_agent, &b->instructed_agent);
    wire_same_text(c, "OrgnlTxRef/Dbtr", a->debtor_name, b->debtor_name);
    wire_same_text(c, "OrgnlTxRef/Cdtr", a->creditor_name, b->creditor_name);
}

/* The first ISO field where parsed differs from expected, or NULL; *index is the
 * transaction (or UINT32_MAX for group-level fields). */
static const char *wire_iso_differs(const cor_iso_message *expected, const cor_iso_message *parsed,
                                    uint32_t *index)
{
    wire_compare c = {NULL};
    *index = UINT32_MAX;
    if (expected->type != parsed->type) return "message definition";
    if (!parsed->header.present) return "AppHdr";
    wire_same_agent(&c, "AppHdr/Fr", &expected->header.from, &parsed->header.from);
    wire_same_agent(&c, "AppHdr/To", &expected->header.to, &parsed->header.to);
    wire_same_text(&c, "BizMsgIdr", expected->header.business_msg_id,
                   parsed->header.business_msg_id);
    wire_same_text(&c, "BizSvc", expected->header.business_service,
                   parsed->header.business_service);
    wire_same_text(&c, "CreDt", expected->header.created, parsed->header.created);
    const cor_iso_group *eg = &expected->group, *pg = &parsed->group;
    wire_same_text(&c, "MsgId", eg->msg_id, pg->msg_id);
    wire_same_text(&c, "CreDtTm", eg->created, pg->created);
    wire_same_text(&c, "OrgnlMsgId", eg->original_msg_id, pg->original_msg_id);
    wire_same_text(&c, "OrgnlMsgNmId", eg->original_msg_name, pg->original_msg_name);
    wire_same_text(&c, "GrpSts", eg->group_status, pg->group_status);
    wire_same_text(&c, "GrpSts/StsRsnInf", eg->group_reason, pg->group_reason);
    wire_same_agent(&c, "Assgnr", &eg->instructing_agent, &pg->instructing_agent);
    wire_same_agent(&c, "Assgne", &eg->instructed_agent, &pg->instructed_agent);
    wire_same_text(&c, "SttlmMtd", eg->settlement_method, pg->settlement_method);
    if (c.differs != NULL) return c.differs;
    if (parsed->tx_count != expected->tx_count) return "number of transactions";
    for (uint32_t i = 0; i < expected->tx_count && c.differs == NULL; i++) {
        *index = i;
        if (expected->transfers != NULL) {
            if (parsed->transfers == NULL) return "CdtTrfTxInf";
            wire_same_transfer(&c, &expected->transfers[i], &parsed->transfers[i]);
        } else {
            if (parsed->related == NULL) return "TxInf";
            wire_same_related(&c, &expected->related[i], &parsed->related[i]);
        }
    }
    return c.differs;
}

/*
 * The checks on the records that need no XML: one type, from the sender to us, the
 * envelope's id and time, every message inside the replay window, and the names valid and
 * carried only by the kinds that carry them. parties NULL: the names are not checked here
 * (the fast path leaves them to wire_view_build, which refuses what is not valid).
 */
static cor_error wire_check_records(const cor_wire *wire, uint64_t now_ns,
                                    const wire_header *header, const cor_wire_node *peer,
                                    const cor_xb_message *m, const cor_wire_parties *parties,
                                    uint32_t count, cor_wire_refusal *refusal)
{
    if (header->version == WIRE_VERSION_SINGLE && count != 1) {
        return wire_refuse(refusal, COR_WIRE_RECORD,
                           "%u corridor records in a single-message envelope", (unsigned)count);
    }
    for (uint32_t i = 0; i < count; i++) {
        cor_error rc = COR_OK;
        if (m[i].type != m[0].type) {
            rc = wire_refuse(refusal, COR_WIRE_MISMATCH, "type %u in a batch of type %u",
                             (unsigned)m[i].type, (unsigned)m[0].type);
        } else if (m[i].from_node != peer->node_id || m[i].to_node != wire->self.node_id) {
            rc = wire_refuse(
                refusal, COR_WIRE_MISMATCH, "record names nodes %u -> %u, envelope '%s' -> '%s'",
                (unsigned)m[i].from_node, (unsigned)m[i].to_node, peer->name, wire->self.name);
        } else if (parties != NULL && (!cor_wire_party_name_valid(parties[i].debtor_name) ||
                                       !cor_wire_party_name_valid(parties[i].creditor_name))) {
            rc = wire_refuse(refusal, COR_WIRE_XML,
                             "party name not valid (control character, bad utf-8 or more than "
                             "%u bytes)",
                             COR_WIRE_PARTY_NAME_SIZE_MAX);
        }
        if (rc != COR_OK) {
            wire_refusal_at(refusal, i);
            return rc;
        }
    }
    if (header->msg_id != wire_batch_id(m, count) ||
        header->timestamp != wire_batch_time(m, count)) {
        return wire_refuse(refusal, COR_WIRE_MISMATCH,
                           "envelope message id or timestamp differs from the records");
    }
    for (uint32_t i = 0; i < count; i++) {
        cor_error rc = wire_fresh(wire, now_ns, m[i].created_at, refusal);
        if (rc != COR_OK) {
            wire_refusal_at(refusal, i);
            return rc;
        }
    }
    return COR_OK;
}

/* The names a parsed transaction carries (a pacs.008 party named by its account: none). */
static void wire_parsed_names(const cor_iso_message *parsed, uint32_t i, const cor_xb_message *m,
                              cor_wire_parties *out)
{
    memset(out, 0, sizeof(*out));
    const char *debtor = NULL, *creditor = NULL;
    char debtor_hex[WIRE_HEX_SIZE], creditor_hex[WIRE_HEX_SIZE];
    /* By type: the codec may keep the other kind's array from an earlier parse. */
    if (parsed->type == COR_ISO_MSG_PACS_008 && parsed->transfers != NULL) {
        wire_hex(m->debtor_account, debtor_hex);
        wire_hex(m->creditor_account, creditor_hex);
        debtor = parsed->transfers[i].debtor.name;
        creditor = parsed->transfers[i].creditor.name;
        if (debtor != NULL && strcmp(debtor, debtor_hex) == 0) debtor = NULL;
        if (creditor != NULL && strcmp(creditor, creditor_hex) == 0) creditor = NULL;
    } else if ((parsed->type == COR_ISO_MSG_PACS_004 || parsed->type == COR_ISO_MSG_CAMT_056) &&
               parsed->related != NULL) {
        debtor = parsed->related[i].debtor_name;
        creditor = parsed->related[i].creditor_name;
    }
    /* Longer than the field: copy one byte too many so that the check refuses it. */
    if (debtor != NULL) snprintf(out->debtor_name, sizeof(out->debtor_name), "%s", debtor);
    if (creditor != NULL) snprintf(out->creditor_name, sizeof(out->creditor_name), "%s", creditor);
    if (debtor != NULL && strlen(debtor) > COR_WIRE_PARTY_NAME_SIZE_MAX) out->debtor_name[0] = 1;
    if (creditor != NULL && strlen(creditor) > COR_WIRE_PARTY_NAME_SIZE_MAX) {
        out->creditor_name[0] = 1;
    }
}

/*
 * The full decode: the codec parses and validates the document, libxml2 reads the records,
 * and the ISO view rebuilt from the records (and the names read) must equal the one parsed.
 * Accepts any document the codec accepts that says the same as the records.
 */
static cor_error wire_decode_full(cor_wire *wire, uint64_t now_ns, const wire_header *header,
                                  const cor_wire_node *peer, const char *xml,
                                  cor_xb_message *messages, cor_wire_parties *parties, uint32_t max,
                                  uint32_t *count_out, cor_wire_refusal *refusal)
{
    cor_error rc = wire_parse(wire, xml, header->body_size, refusal);
    if (rc != COR_OK) return rc;
    uint32_t count = 0;
    rc = wire_record_read(xml, header->body_size, messages, max, &count, refusal);
    if (rc != COR_OK) return rc;
    const cor_iso_message *parsed = &wire->parsed;
    if (parsed->tx_count != count) {
        return wire_refuse(refusal, COR_WIRE_MISMATCH, "%u transactions but %u corridor records",
                           (unsigned)parsed->tx_count, (unsigned)count);
    }
    for (uint32_t i = 0; i < count; i++)
        wire_parsed_names(parsed, i, &messages[i], &parties[i]);
    rc = wire_check_records(wire, now_ns, header, peer, messages, parties, count, refusal);
    if (rc != COR_OK) return rc;
    wire_view expected;
    rc = wire_view_alloc(&expected, count);
    if (rc != COR_OK) return rc;
    uint32_t bad = 0;
    if (!wire_view_build(wire, messages, parties, count, header->msg_id, header->timestamp,
                         &expected, &bad)) {
        rc = wire_refuse(refusal, COR_WIRE_RECORD,
                         "record has an unknown type, ledger or status for its iso view, or "
                         "names its kind cannot carry");
        if (count > 1) wire_refusal_at(refusal, bad);
    } else {
        uint32_t index = UINT32_MAX;
        const char *differs = wire_iso_differs(&expected.message, parsed, &index);
        if (differs != NULL) {
            rc = wire_refuse(refusal, COR_WIRE_MISMATCH, "iso field %s differs from the record",
                             differs);
            if (index != UINT32_MAX && count > 1) wire_refusal_at(refusal, index);
        }
    }
    wire_view_free(&expected);
    if (rc == COR_OK) *count_out = count;
    return rc;
}

/* ---- the fast path: bytes exactly as encode writes them ----------------------------------- */

static bool wire_at(const char *p, const char *end, const char *text, size_t length)
{
    return (size_t)(end - p) >= length && memcmp(p, text, length) == 0;
}

/* First occurrence of needle in [p, end), or NULL. */
static const char *wire_find(const char *p, const char *end, const char *needle)
{
    return memmem(p, (size_t)(end - p), needle, strlen(needle));
}

/* One <R> row at p in exactly the form wire_record_write gives; the end of it, or NULL. */
static const char *wire_fast_record(const char *p, const char *end, cor_xb_message *m)
{
    if (!wire_at(p, end, WIRE_ROW_OPEN, sizeof(WIRE_ROW_OPEN) - 1)) return NULL;
    p += sizeof(WIRE_ROW_OPEN) - 1;
    size_t room = (size_t)(end - p) < WIRE_RECORD_SIZE_BYTES_MAX ? (size_t)(end - p)
                                                                 : WIRE_RECORD_SIZE_BYTES_MAX;
    const char *close = memchr(p, '<', room);
    if (close == NULL || !wire_record_parse(p, (size_t)(close - p), m, NULL)) return NULL;
    if (!wire_at(close, end, WIRE_ROW_CLOSE, sizeof(WIRE_ROW_CLOSE) - 1)) return NULL;
    return close + sizeof(WIRE_ROW_CLOSE) - 1;
}

/* The text of <open>...</Nm> found in [*p, end), unescaped into out ("" when absent);
 * false when it cannot be what the serializer wrote. Moves *p past it when found. */
static bool wire_fast_name(const char **p, const char *end, const char *open,
                           char out[COR_WIRE_PARTY_NAME_SIZE_MAX + 1])
{
    static const struct {
        const char *entity;
        char c;
    } entities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    memset(out, 0, COR_WIRE_PARTY_NAME_SIZE_MAX + 1);
    const char *at = wire_find(*p, end, open);
    if (at == NULL) return true;
    const char *s = at + strlen(open);
    size_t used = 0;
    while (s < end && *s != '<') {
        char c = *s;
        size_t advance = 1;
        if (c == '&') {
            size_t e = 0;
            size_t count = sizeof(entities) / sizeof(entities[0]);
            while (e < count && !wire_at(s, end, entities[e].entity, strlen(entities[e].entity)))
                e++;
            if (e == count) return false;
            c = entities[e].c;
            advance = strlen(entities[e].entity);
        }
        if (used == COR_WIRE_PARTY_NAME_SIZE_MAX) return false;
        out[used++] = c;
        s += advance;
    }
    memset(out + used, 0, COR_WIRE_PARTY_NAME_SIZE_MAX + 1 - used);
    if (!wire_at(s, end, "</Nm>", 5)) return false;
    *p = s + 5;
    return true;
}

/* The names of every transaction of a document as the serializer wrote it. */
static bool wire_fast_names(const char *xml, const char *end, const cor_xb_message *m,
                            uint32_t count, cor_wire_parties *parties)
{
    const char *p = xml;
    for (uint32_t i = 0; i < count; i++) {
        cor_wire_parties *names = &parties[i];
        if (m[0].type == COR_XB_PACS008) {
            if (!wire_fast_name(&p, end, "<Dbtr><Nm>", names->debtor_name) ||
                !wire_fast_name(&p, end, "<Cdtr><Nm>", names->creditor_name)) {
                return false;
            }
            char hex[WIRE_HEX_SIZE];
            wire_hex(m[i].debtor_account, hex);
            if (strcmp(names->debtor_name, hex) == 0) {
                memset(names->debtor_name, 0, sizeof(names->debtor_name));
            }
            wire_hex(m[i].creditor_account, hex);
            if (strcmp(names->creditor_name, hex) == 0) {
                memset(names->creditor_name, 0, sizeof(names->creditor_name));
            }
        } else if (m[0].type == COR_XB_PACS004 || m[0].type == COR_XB_CAMT056) {
            const char *tx_end = wire_find(p, end, "</TxInf>");
            if (tx_end == NULL) return false;
            const char *reference = wire_find(p, tx_end, "<OrgnlTxRef>");
            memset(names, 0, sizeof(*names));
            if (reference != NULL &&
                (!wire_fast_name(&reference, tx_end, "<Dbtr><Pty><Nm>", names->debtor_name) ||
                 !wire_fast_name(&reference, tx_end, "<Cdtr><Pty><Nm>", names->creditor_name))) {
                return false;
            }
            p = tx_end + strlen("</TxInf>");
        } else {
            memset(names, 0, sizeof(*names));
        }
    }
    return true;
}

/*
 * Accepts the body when it is byte for byte what encode writes for the records it carries
 * (read by a strict scanner, no XML parser): such a body is XSD-valid and says the same in
 * its ISO fields as in its records by construction, so the codec's parse and the field by
 * field comparison are not needed. false: not that form, or a check failed; the full
 * decode then runs and says why (or accepts a valid document written differently).
 */
static bool wire_decode_fast(cor_wire *wire, uint64_t now_ns, const wire_header *header,
                             const cor_wire_node *peer, const char *xml, cor_xb_message *messages,
                             cor_wire_parties *parties, uint32_t max, uint32_t *count_out)
{
    const char *end = xml + header->body_size;
    const char *first = wire_find(xml, end, WIRE_RECORD_OPEN);
    if (first == NULL) return false;
    uint32_t count = 0;
    const char *p = first + sizeof(WIRE_RECORD_OPEN) - 1;
    while (wire_at(p, end, WIRE_ROW_OPEN, sizeof(WIRE_ROW_OPEN) - 1)) {
        if (count == max) return false;
        p = wire_fast_record(p, end, &messages[count]);
        if (p == NULL) return false;
        count++;
    }
    if (count == 0 || !wire_at(p, end, WIRE_RECORD_CLOSE, sizeof(WIRE_RECORD_CLOSE) - 1)) {
        return false;
    }
    const char *records_end = p + sizeof(WIRE_RECORD_CLOSE) - 1;
    if (!wire_fast_names(xml, first, messages, count, parties)) return false;
    if (wire_duplicate_uetr(messages, count) != UINT32_MAX) return false;
    cor_wire_refusal ignored;
    if (wire_check_records(wire, now_ns, header, peer, messages, NULL, count, &ignored) != COR_OK) {
        return false;
    }
    size_t capacity = (size_t)header->body_size + 1u;
    if (wire->scratch_body_capacity < capacity) {
        char *bigger = cor_alloc(capacity);
        if (bigger == NULL) return false;
        cor_free(wire->scratch_body);
        wire->scratch_body = bigger;
        wire->scratch_body_capacity = capacity;
    }
    if (wire_view_reserve(wire->scratch_view, count) != COR_OK) return false;
    /* The records were read in their only canonical form, so they are what encode writes
     * for their values: compare the document around them. */
    uint32_t bad = 0;
    if (!wire_view_build(wire, messages, parties, count, header->msg_id, header->timestamp,
                         wire->scratch_view, &bad)) {
        return false;
    }
    size_t size = 0;
    if (cor_iso_serialize_to(&wire->scratch_view->message, COR_ISO_SERIALIZE_WITH_HEADER,
                             wire->scratch_body, capacity, &size) != COR_OK) {
        return false;
    }
    size_t at = wire_insert_point(wire->scratch_body, size, messages[0].type);
    size_t records = (size_t)(records_end - first);
    if (at != (size_t)(first - xml) || size + records != header->body_size ||
        memcmp(wire->scratch_body, xml, at) != 0 ||
        memcmp(wire->scratch_body + at, records_end, size - at) != 0) {
        return false;
    }
    *count_out = count;
    return true;
}

/* ---- public decode ------------------------------------------------------------------------ */

/* Zeroes what a refused decode leaves: messages and names up to max. */
static void wire_outputs_clear(cor_xb_message *messages, cor_wire_parties *parties, uint32_t max)
{
    memset(messages, 0, max * sizeof(*messages));
    if (parties != NULL) memset(parties, 0, max * sizeof(*parties));
}

static cor_error wire_decode_into(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes,
                                  size_t size, cor_xb_message *messages_out,
                                  cor_wire_parties *parties_out, uint32_t max, uint32_t *count_out,
                                  cor_wire_refusal *refusal);

cor_error cor_wire_decode_batch(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes, size_t size,
                                cor_xb_message *messages_out, cor_wire_parties *parties_out,
                                uint32_t messages_max, uint32_t *count_out,
                                cor_wire_refusal *refusal)
{
    if (wire == NULL || messages_out == NULL || count_out == NULL || refusal == NULL ||
        messages_max == 0) {
        return COR_ERR_INVALID;
    }
    uint32_t max = messages_max < COR_WIRE_BATCH_MAX ? messages_max : COR_WIRE_BATCH_MAX;
    *count_out = 0;
    memset(refusal, 0, sizeof(*refusal));
    if (bytes == NULL && size != 0) {
        wire_outputs_clear(messages_out, parties_out, max);
        return COR_ERR_INVALID;
    }
    cor_error rc = wire_decode_into(wire, now_ns, bytes, size, messages_out, parties_out, max,
                                    count_out, refusal);
    if (rc != COR_OK) {
        *count_out = 0;
        wire_outputs_clear(messages_out, parties_out, max);
    }
    return rc;
}

/* cor_wire_decode_batch once the arguments are checked; on failure the caller clears. */
static cor_error wire_decode_into(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes,
                                  size_t size, cor_xb_message *messages_out,
                                  cor_wire_parties *parties_out, uint32_t max, uint32_t *count_out,
                                  cor_wire_refusal *refusal)
{
    wire_header header;
    cor_error rc = wire_header_read(bytes, size, &header, refusal);
    if (rc != COR_OK) return rc;
    const cor_wire_node *peer = NULL;
    rc = wire_authenticate(wire, bytes, size, &header, &peer, refusal);
    if (rc == COR_OK) rc = wire_fresh(wire, now_ns, header.timestamp, refusal);
    if (rc != COR_OK) return rc;

    cor_wire_parties one;
    cor_wire_parties *parties = parties_out;
    if (parties == NULL && max == 1) parties = &one;
    if (parties == NULL) {
        if (wire->scratch_parties == NULL) {
            wire->scratch_parties = cor_alloc(COR_WIRE_BATCH_MAX * sizeof(cor_wire_parties));
            if (wire->scratch_parties == NULL) return COR_ERR_NOMEM;
        }
        parties = wire->scratch_parties;
    }
    const char *xml = (const char *)bytes + COR_WIRE_HEADER_SIZE_BYTES;
    uint32_t count = 0;
    if (!wire_decode_fast(wire, now_ns, &header, peer, xml, messages_out, parties, max, &count)) {
        rc = wire_decode_full(wire, now_ns, &header, peer, xml, messages_out, parties, max, &count,
                              refusal);
    }
    if (rc != COR_OK) return rc;
    *count_out = count;
    return COR_OK;
}

cor_error cor_wire_decode_parties(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes,
                                  size_t size, cor_xb_message *message_out,
                                  cor_wire_parties *parties_out, cor_wire_refusal *refusal)
{
    if (message_out != NULL) memset(message_out, 0, sizeof(*message_out));
    if (parties_out != NULL) memset(parties_out, 0, sizeof(*parties_out));
    uint32_t count = 0;
    return cor_wire_decode_batch(wire, now_ns, bytes, size, message_out, parties_out, 1, &count,
                                 refusal);
}

cor_error cor_wire_decode(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes, size_t size,
                          cor_xb_message *message_out, cor_wire_refusal *refusal)
{
    return cor_wire_decode_parties(wire, now_ns, bytes, size, message_out, NULL, refusal);
}
