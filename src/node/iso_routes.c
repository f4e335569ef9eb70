/*
 * The node's ISO 20022 routes (docs/API.md, "ISO 20022 routes"):
 *
 *   POST /v1/iso20022                 pacs.008 -> pacs.002, pacs.028 -> pacs.002,
 *                                     camt.056 -> camt.029
 *   GET  /v1/statements/{participant} camt.053 for ?from=YYYY-MM-DD&to=YYYY-MM-DD
 *   GET  /v1/notifications            camt.054 of the caller's incoming credits (pull)
 *
 * A pacs.008 does not get a pipeline of its own: its accepted transactions become the same
 * PAYMENTS command the JSON route builds (the debtor is the caller, the creditor the
 * participant whose BIC is the CdtrAgt), go through the same ingress queue, journal and core,
 * and the pacs.002 is rendered from the core's results once the batch is durable. Status
 * requests, cancellation requests and the camt reports only read the state.
 *
 * How a pacs.008 transaction maps onto a payment: node/iso_payments.h. A transaction that
 * names an FX quote (InstrForNxtAgt/InstrInf "/QUOTE/<id>") is cross-border: it becomes an
 * event of the XB_PAYMENTS command the JSON route POST /v1/xborder/payments builds, placed
 * after the domestic PAYMENTS command in the same payload, and its pacs.002 status is ACSP
 * (leg 1 reserved, the beneficiary node decides) or what the payment's record says by then.
 * pacs.028 and camt.056 naming a cross-border UETR answer from its record; a camt.056 for
 * one the beneficiary has not decided becomes the protocol's XB_CANCEL command.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/iso_payments.h"
#include "node/server_internal.h"

#define ISO_CONTENT_TYPE "application/xml; charset=utf-8"
#define ISO_ID_SIZE      36u /* Max35Text + NUL */
#define ISO_TIME_SIZE    32u
/* Statement and notification pages: the JSON routes' query bound. */
#define ISO_REPORT_ENTRIES_MAX    COR_NODE_QUERY_RESULTS_MAX
#define ISO_NOTIFICATIONS_DEFAULT 100u
#define ISO_SCAN_CHUNK            1024u
#define ISO_PARSE_FAILURE_STATUS  400u

/* Per request state of an ISO route (owned by http_request->iso). */
struct http_iso {
    cor_iso_message message;     /* the parsed request; codec-owned storage */
    cor_iso_related_tx *related; /* the answer's transactions: message.tx_count */
    uint32_t *event_tx;          /* command event -> transaction index */
    const char **node_reason;    /* per transaction: a refusal decided before the core */
    const char **node_info;      /* its AddtlInf */
    /* Cross-border transactions (pacs.008 naming a quote): the XB_PAYMENTS command that
     * follows the PAYMENTS command in the same payload, so its results come after. */
    cor_node_cmd_xb_payment *xb_payments; /* [xb_count] */
    uint32_t *xb_event_tx;                /* [xb_count]: event -> transaction index */
    uint32_t xb_count;
    /* A camt.056's cross-border cancellations: one XB_CANCEL command per event, events in
     * the order of xb_event_tx (which then maps events to transactions). */
    cor_u128 *cancel_uetrs; /* [xb_count] */
    char msg_id[ISO_ID_SIZE];
    char created[ISO_TIME_SIZE];
};

/* ---------------------------------------------------------------------------------------- */
/* Parsers: one per HTTP thread, opened before the threads start                            */
/* ---------------------------------------------------------------------------------------- */

/* The codec's limits for request documents: a body the node accepts (8 MiB) may be parsed
 * whole; a transaction costs up to ~64 elements; and a pacs.008 holds at most one batch of
 * events (8,189), so its payments always fit one core command. */
static const cor_iso_parser_options iso_parser_options = {
    .document_size_bytes_max = COR_NODE_BODY_SIZE_BYTES_MAX,
    .element_count_max = 512u * 1024u,
    .tx_count_max = COR_NODE_BATCH_EVENTS_MAX,
};
_Static_assert(COR_NODE_BATCH_EVENTS_MAX <= COR_NODE_PAYMENTS_PER_REQUEST_MAX,
               "a pacs.008 fits one PAYMENTS command");

cor_error http_iso_open(cor_node_server *server)
{
    pthread_mutex_init(&server->iso_lock, NULL);
    uint32_t count = server->config.http_threads;
    if (count > COR_NODE_ISO_PARSERS_MAX) count = COR_NODE_ISO_PARSERS_MAX;
    for (uint32_t i = 0; i < count; i++) {
        cor_error rc = cor_iso_parser_open(&iso_parser_options, &server->iso_parsers[i]);
        if (rc != COR_OK) return rc;
        server->iso_parser_count++;
    }
    return COR_OK;
}

void http_iso_close(cor_node_server *server)
{
    for (uint32_t i = 0; i < server->iso_parser_count; i++)
        cor_iso_parser_close(server->iso_parsers[i]);
    server->iso_parser_count = 0;
    pthread_mutex_destroy(&server->iso_lock);
}

/* A free parser, or a new one when every pooled parser is busy (closed by the release). */
static cor_iso_parser *iso_parser_take(cor_node_server *server, bool *pooled)
{
    cor_iso_parser *parser = NULL;
    pthread_mutex_lock(&server->iso_lock);
    for (uint32_t i = 0; i < server->iso_parser_count && parser == NULL; i++) {
        if ((server->iso_parser_busy & (1ull << i)) == 0) {
            server->iso_parser_busy |= 1ull << i;
            parser = server->iso_parsers[i];
        }
    }
    pthread_mutex_unlock(&server->iso_lock);
    *pooled = parser != NULL;
    if (parser == NULL && cor_iso_parser_open(&iso_parser_options, &parser) != COR_OK) return NULL;
    return parser;
}

static void iso_parser_give(cor_node_server *server, cor_iso_parser *parser, bool pooled)
{
    if (!pooled) {
        cor_iso_parser_close(parser);
        return;
    }
    pthread_mutex_lock(&server->iso_lock);
    for (uint32_t i = 0; i < server->iso_parser_count; i++) {
        if (server->iso_parsers[i] == parser) server->iso_parser_busy &= ~(1ull << i);
    }
    pthread_mutex_unlock(&server->iso_lock);
}

void http_iso_free(http_iso *iso)
{
    if (iso == NULL) return;
    cor_iso_message_release(&iso->message);
    cor_free(iso->related);
    cor_free(iso->event_tx);
    cor_free((void *)iso->node_reason);
    cor_free((void *)iso->node_info);
    cor_free(iso->xb_payments);
    cor_free(iso->xb_event_tx);
    cor_free(iso->cancel_uetrs);
    cor_free(iso);
}

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void ns_to_datetime(uint64_t ns, char out[ISO_TIME_SIZE])
{
    time_t seconds = (time_t)(ns / 1000000000ull);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    snprintf(out, ISO_TIME_SIZE, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(ns % 1000000000ull / 1000000ull));
}

static uint64_t realtime_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* A fresh message id ("S" + wall-clock ns + a per-process sequence) and creation time. */
static void iso_new_ids(cor_node_server *server, char msg_id[ISO_ID_SIZE],
                        char created[ISO_TIME_SIZE])
{
    uint64_t now = realtime_ns();
    uint64_t sequence = atomic_fetch_add(&server->iso_sequence, 1) % 1000000u;
    snprintf(msg_id, ISO_ID_SIZE, "S%llu%06llu", (unsigned long long)now,
             (unsigned long long)sequence);
    ns_to_datetime(now, created);
}

/* UTF-8 characters of text (continuation bytes are not counted). */
static size_t utf8_chars(const char *text)
{
    size_t count = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
        count += (*p & 0xC0u) != 0x80u;
    return count;
}

/* NULL when text could not be written back as a Max35Text original id. */
static const char *original_text(const char *text)
{
    return text != NULL && text[0] != '\0' && utf8_chars(text) <= 35 ? text : NULL;
}

static const char *original_uetr(const char *text)
{
    return text != NULL && cor_iso_uetr_valid(text) ? text : NULL;
}

/* The answer's entry for one transaction a request asks about, with the given status: the
 * original ids that can be written back, and the original group only when it is complete. */
static cor_iso_related_tx related_answer(const cor_iso_related_tx *q, const char *status)
{
    cor_iso_related_tx a = {
        .original_msg_id = q->original_msg_id,
        .original_msg_name = q->original_msg_name,
        .original_instruction_id = original_text(q->original_instruction_id),
        .original_end_to_end_id = original_text(q->original_end_to_end_id),
        .original_transaction_id = original_text(q->original_transaction_id),
        .original_uetr = original_uetr(q->original_uetr),
        .status = status};
    if (a.original_msg_id == NULL || a.original_msg_name == NULL) {
        a.original_msg_id = a.original_msg_name = NULL;
    }
    return a;
}

/* The error body of every ISO route: the API's error object plus the ISO reason code. */
static enum MHD_Result iso_error(http_request *request, unsigned status, const char *code,
                                 const char *message, const char *field, const char *reason)
{
    cor_nbuf body;
    cor_nbuf_init(&body, 4096);
    cor_nbuf_str(&body, "{\"error\":{\"code\":");
    cor_nbuf_json_string(&body, code, strlen(code));
    cor_nbuf_str(&body, ",\"message\":");
    cor_nbuf_json_string(&body, message, strlen(message));
    cor_nbuf_str(&body, ",\"field\":");
    cor_nbuf_json_string(&body, field, strlen(field));
    if (reason != NULL) {
        cor_nbuf_str(&body, ",\"reason\":");
        cor_nbuf_json_string(&body, reason, strlen(reason));
    }
    cor_nbuf_str(&body, "}}");
    return http_respond_json(request, status, &body);
}

/* Serializes message and answers it as XML with status. */
static enum MHD_Result iso_answer(http_request *request, unsigned status,
                                  const cor_iso_message *message, bool with_header)
{
    char *xml = NULL;
    size_t size = 0;
    cor_error rc =
        cor_iso_serialize(message, with_header ? COR_ISO_SERIALIZE_WITH_HEADER : 0, &xml, &size);
    if (rc != COR_OK) {
        /* Every field comes from validated input or the state; reaching this is a bug, but
         * the commands (if any) are durable, so answer rather than abort the node. */
        return iso_error(request, 500, "answer_not_serializable",
                         "the answer could not be written as ISO 20022; the outcome is recorded "
                         "(ask again with pacs.028)",
                         "", NULL);
    }
    enum MHD_Result result = http_respond(request, status, ISO_CONTENT_TYPE, xml, size);
    cor_iso_free(xml);
    return result;
}

/* The reason code and additional information of a payment outcome (a cor_node_code). */
static void iso_reason_of(uint32_t code, const char **reason, const char **info)
{
    switch (code) {
    case COR_NODE_INSUFFICIENT_FUNDS:
        *reason = "AM04";
        *info = "insufficient funds";
        return;
    case COR_NODE_CREDITOR_NOT_FOUND:
        *reason = "CNOR";
        *info = "creditor agent is not a participant of this node";
        return;
    case COR_NODE_CREDITOR_SUSPENDED:
        *reason = "AC06";
        *info = "creditor agent's account is blocked (suspended)";
        return;
    case COR_NODE_CREDITOR_IS_DEBTOR:
        *reason = "AG01";
        *info = "creditor agent is the debtor agent";
        return;
    case COR_NODE_PAYMENT_ID_REUSED:
        *reason = "DUPL";
        *info = "this UETR or TxId was used for a different payment";
        return;
    default:
        *reason = "NARR";
        *info = cor_node_code_name(code);
        return;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* POST /v1/iso20022                                                                        */
/* ---------------------------------------------------------------------------------------- */

static bool content_type_xml(http_request *request)
{
    const char *type = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (type == NULL) return false;
    static const char *const accepted[] = {"application/xml", "text/xml"};
    for (size_t i = 0; i < 2; i++) {
        size_t length = strlen(accepted[i]);
        if (strncasecmp(type, accepted[i], length) == 0 &&
            (type[length] == '\0' || type[length] == ';' || type[length] == ' ')) {
            return true;
        }
    }
    return false;
}

static enum MHD_Result iso_refuse_parse(http_request *request, cor_error rc,
                                        const cor_iso_message *m)
{
    const cor_iso_finding *f = m->finding_count > 0 ? &m->findings[0] : NULL;
    const char *code = rc == COR_ERR_PARSE     ? "invalid_xml"
                       : rc == COR_ERR_LIMIT   ? "xml_limit"
                       : rc == COR_ERR_VERSION ? "unsupported_message"
                                               : "invalid_message";
    char message[COR_ISO_FINDING_TEXT_SIZE + 64];
    snprintf(message, sizeof(message), "%s%s", f != NULL ? f->text : "document refused",
             m->finding_total > 1 ? " (and more findings)" : "");
    return iso_error(request, ISO_PARSE_FAILURE_STATUS, code, message, f != NULL ? f->path : "",
                     f != NULL && f->reason[0] != '\0' ? f->reason : "FF01");
}

/* Copies the caller's BIC (normalized) under the state lock; false when not a participant. */
static bool caller_bic(http_request *request, char out[COR_NODE_BIC_NORMAL_SIZE])
{
    cor_node_server *server = request->server;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p =
        cor_node_state_participant(server->state, request->who.participant);
    bool ok = p != NULL && cor_node_bic_normal(p->bic, out);
    pthread_rwlock_unlock(&server->state_lock);
    return ok;
}

static bool iso_alloc_answer(http_iso *iso, uint32_t count)
{
    size_t n = count > 0 ? count : 1;
    iso->related = cor_calloc(n, sizeof(*iso->related));
    iso->event_tx = cor_calloc(n, sizeof(*iso->event_tx));
    iso->node_reason = cor_calloc(n, sizeof(*iso->node_reason));
    iso->node_info = cor_calloc(n, sizeof(*iso->node_info));
    return iso->related != NULL && iso->event_tx != NULL && iso->node_reason != NULL &&
           iso->node_info != NULL;
}

/* A cross-border payment's record as a transaction status: ACSP while the beneficiary node
 * has not decided (FORWARDED at the origin), PDNG while on hold there, ACSC once committed,
 * RJCT with the protocol reason's ISO code once rejected. */
static void iso_xb_status(const cor_xb_payment *p, cor_iso_related_tx *tx)
{
    tx->reason = NULL;
    tx->additional_info = NULL;
    switch (p->state) {
    case COR_XB_STATE_COMMITTED:
        tx->status = "ACSC";
        return;
    case COR_XB_STATE_REJECTED:
        tx->status = "RJCT";
        tx->reason = cor_xb_reason_iso(p->reason);
        tx->additional_info = cor_xb_reason_text(p->reason);
        return;
    case COR_XB_STATE_HELD:
        tx->status = "PDNG";
        return;
    default:
        tx->status = "ACSP";
        return;
    }
}

/* The cross-border events' results (after the domestic ones) into the answer. */
static void iso_xb_statuses(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    if (iso->xb_count == 0) return;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_xb *xb = cor_node_state_xb(server->state);
    for (uint32_t k = 0; k < iso->xb_count; k++) {
        const cor_node_result *r = &request->results[request->payments_count + k];
        cor_iso_related_tx *tx = &iso->related[iso->xb_event_tx[k]];
        cor_xb_payment p;
        if ((r->code == COR_NODE_CREATED || r->code == COR_NODE_EXISTS) &&
            cor_xb_payment_lookup(xb, iso->xb_payments[k].uetr, &p)) {
            iso_xb_status(&p, tx);
        } else if (r->code == COR_NODE_XB_REFUSED) {
            tx->status = "RJCT";
            tx->reason = cor_xb_reason_iso(r->ledger);
            tx->additional_info = cor_xb_reason_text(r->ledger);
        } else {
            tx->status = "RJCT";
            iso_reason_of(r->code, &tx->reason, &tx->additional_info);
        }
    }
    pthread_rwlock_unlock(&server->state_lock);
}

/* Renders the pacs.002 for a pacs.008 (results NULL when nothing went to the core). */
static enum MHD_Result iso_payments_answer(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    cor_iso_message report;
    iso_new_ids(server, iso->msg_id, iso->created);
    cor_error rc =
        cor_iso_status_report_init(m, iso->msg_id, iso->created, "ACSC", iso->related, &report);
    COR_ASSERT(rc == COR_OK);
    for (uint32_t i = 0; i < m->tx_count; i++) {
        cor_iso_related_tx *tx = &iso->related[i];
        if (m->transfers[i].reject_reason != NULL) {
            /* What the codec refused may not be writable as an original id. */
            tx->original_instruction_id = original_text(tx->original_instruction_id);
            tx->original_end_to_end_id = original_text(tx->original_end_to_end_id);
            tx->original_transaction_id = original_text(tx->original_transaction_id);
            tx->original_uetr = original_uetr(tx->original_uetr);
        } else if (iso->node_reason[i] != NULL) {
            tx->status = "RJCT";
            tx->reason = iso->node_reason[i];
            tx->additional_info = iso->node_info[i];
        }
    }
    for (uint32_t e = 0; e < request->payments_count; e++) {
        const cor_node_result *r = &request->results[e];
        cor_iso_related_tx *tx = &iso->related[iso->event_tx[e]];
        uint32_t code = r->code;
        if (code == COR_NODE_EXISTS) {
            pthread_rwlock_rdlock(&server->state_lock);
            const cor_node_payment *p = cor_node_state_payment_number(server->state, r->value);
            COR_ASSERT(p != NULL);
            code = p->code;
            pthread_rwlock_unlock(&server->state_lock);
        }
        if (code == COR_NODE_CREATED) {
            tx->status = "ACSC";
            tx->reason = NULL;
            tx->additional_info = NULL;
        } else {
            tx->status = "RJCT";
            iso_reason_of(code, &tx->reason, &tx->additional_info);
        }
    }
    iso_xb_statuses(request);
    report.group.group_status = cor_iso_group_status_of(iso->related, m->tx_count);
    return iso_answer(request, 200, &report, m->header.present);
}

/* The cancellation status of a cross-border payment named by a camt.056, from its record:
 * pending while the origin waits for the beneficiary (the camt.056 travels there), accepted
 * once rejected because of it, else refused with why. */
static void iso_xb_cancel_status(const cor_xb_payment *p, cor_iso_related_tx *tx)
{
    tx->status = "RJCR";
    tx->reason = "NARR";
    tx->additional_info = NULL;
    if (p->role != COR_XB_ROLE_ORIGIN) {
        tx->additional_info = "only the debtor agent cancels a cross-border payment";
    } else if (p->state == COR_XB_STATE_FORWARDED) {
        tx->status = "PDCR";
        tx->reason = NULL;
    } else if (p->state == COR_XB_STATE_COMMITTED) {
        tx->reason = "PTNA";
        tx->additional_info = "settled on both nodes; ask the creditor agent to return it";
    } else if (p->reason == COR_XB_CANCELLED) {
        tx->status = "ACCR";
        tx->reason = NULL;
    } else {
        tx->additional_info = "the payment was rejected; nothing was settled";
    }
}

/* camt.029 Sts/Conf for its transactions: their common outcome (RJCR, CNCL for ACCR,
 * PDCR), PDCR while any is pending, else PECR (some cancelled, some refused). */
static const char *iso_cancel_confirmation(const cor_iso_related_tx *related, uint32_t count)
{
    uint32_t accepted = 0, rejected = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (strcmp(related[i].status, "PDCR") == 0) return "PDCR";
        accepted += strcmp(related[i].status, "ACCR") == 0;
        rejected += strcmp(related[i].status, "RJCR") == 0;
    }
    if (rejected == count) return "RJCR";
    return accepted == count ? "CNCL" : "PECR";
}

/* Renders the camt.029 answering a camt.056 from iso->related (after any cancellations
 * went through the core: their results first update the statuses). */
static enum MHD_Result iso_camt029_answer(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    if (iso->xb_count > 0) {
        pthread_rwlock_rdlock(&server->state_lock);
        const cor_xb *xb = cor_node_state_xb(server->state);
        for (uint32_t k = 0; k < iso->xb_count; k++) {
            const cor_node_result *r = &request->results[k];
            cor_iso_related_tx *tx = &iso->related[iso->xb_event_tx[k]];
            cor_xb_payment p;
            bool known = cor_xb_payment_lookup(xb, iso->cancel_uetrs[k], &p);
            bool settled = r->code == COR_NODE_XB_REFUSED && r->ledger == COR_XB_ALREADY_FINAL;
            if (known && (r->code == COR_NODE_OK || settled)) {
                iso_xb_cancel_status(&p, tx);
            } else {
                tx->status = "RJCR";
                tx->reason = r->code == COR_NODE_XB_REFUSED && r->ledger == COR_XB_PAYMENT_UNKNOWN
                                 ? "NOOR"
                                 : "NARR";
                tx->additional_info = r->code == COR_NODE_XB_REFUSED ? cor_xb_reason_text(r->ledger)
                                                                     : cor_node_code_name(r->code);
            }
        }
        pthread_rwlock_unlock(&server->state_lock);
    }
    cor_iso_message answer;
    cor_iso_message_init(&answer);
    answer.type = COR_ISO_MSG_CAMT_029;
    answer.group.msg_id = iso->msg_id;
    answer.group.created = iso->created;
    answer.group.instructed_agent = m->group.instructing_agent;
    answer.related = iso->related;
    answer.tx_count = m->tx_count;
    answer.group.group_status = iso_cancel_confirmation(iso->related, m->tx_count);
    if (m->header.present) {
        answer.header = (cor_iso_app_header){.present = true,
                                             .from = m->header.to,
                                             .to = m->header.from,
                                             .business_msg_id = iso->msg_id,
                                             .created = iso->created};
    }
    return iso_answer(request, 200, &answer, m->header.present);
}

/* Codes that are not a decision about a payment: nothing was recorded for that event. */
static bool iso_unrecorded(const cor_node_result *r)
{
    return r->code == COR_NODE_KEY_REVOKED || r->code == COR_NODE_DEBTOR_SUSPENDED ||
           r->code == COR_NODE_PAYMENTS_FULL || r->code == COR_NODE_CAPACITY_FULL;
}

enum MHD_Result http_iso_finish_payments(http_request *request)
{
    for (uint32_t e = 0; e < request->payments_count + request->iso->xb_count; e++) {
        const cor_node_result *r = &request->results[e];
        if (!iso_unrecorded(r)) continue;
        char message[160];
        snprintf(message, sizeof(message),
                 "%s: transactions were not recorded; the others were decided and answer the "
                 "same outcome when the document is sent again",
                 cor_node_code_name(r->code));
        const char *reason = r->code == COR_NODE_DEBTOR_SUSPENDED ? "AC06" : NULL;
        return iso_error(request, cor_node_code_http(r->code), cor_node_code_name(r->code), message,
                         "", reason);
    }
    if (request->iso->message.type == COR_ISO_MSG_CAMT_056) return iso_camt029_answer(request);
    return iso_payments_answer(request);
}

/* ISO 4217 exponent of the currency whose numeric code (ledger id) is ledger, among this
 * node's and its peers'; -1 when none is. */
static int iso_exponent_of(const cor_node_server *server, uint32_t ledger)
{
    if (ledger == server->config.currency_numeric) {
        return cor_iso_currency_exponent(server->config.currency);
    }
    for (uint32_t i = 0; i < server->config.peer_count; i++) {
        if (server->config.peers[i].currency_numeric == ledger) {
            return cor_iso_currency_exponent(server->config.peers[i].currency);
        }
    }
    return -1;
}

/* Checks the mapped cross-border transactions against their quotes (read lock: quotes
 * never change once issued, so what is checked here still holds when the core applies the
 * command; expiry and reuse are the core's to decide). Refused ones get their reason; the
 * others are kept, in order, as iso->xb_count events. */
static void iso_xb_quotes(http_request *request, uint32_t mapped)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    int source_exponent = cor_iso_currency_exponent(server->config.currency);
    uint32_t kept = 0;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_xb *xb = cor_node_state_xb(server->state);
    for (uint32_t k = 0; k < mapped; k++) {
        uint32_t i = iso->xb_event_tx[k];
        cor_xb_quote quote;
        bool found = cor_xb_quote_lookup(xb, iso->xb_payments[k].quote_id, &quote);
        int dest_exponent = found ? iso_exponent_of(server, quote.dest_ledger) : -1;
        const char *info = NULL;
        const char *reason = cor_node_iso_xb_quote_check(&m->transfers[i], found ? &quote : NULL,
                                                         request->who.participant, source_exponent,
                                                         dest_exponent, &info);
        if (reason != NULL) {
            iso->node_reason[i] = reason;
            iso->node_info[i] = info;
            continue;
        }
        iso->xb_payments[kept] = iso->xb_payments[k];
        iso->xb_event_tx[kept++] = i;
    }
    pthread_rwlock_unlock(&server->state_lock);
    iso->xb_count = kept;
}

static enum MHD_Result iso_pacs008(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    char own_bic[COR_NODE_BIC_NORMAL_SIZE];
    if (request->who.role != HTTP_ROLE_PARTICIPANT || !caller_bic(request, own_bic)) {
        return iso_error(request, 403, "forbidden", "only participants send payments", "", NULL);
    }
    request->payments = cor_calloc(m->tx_count, sizeof(cor_node_payment_in));
    iso->xb_payments = cor_calloc(m->tx_count, sizeof(cor_node_cmd_xb_payment));
    iso->xb_event_tx = cor_calloc(m->tx_count, sizeof(uint32_t));
    cor_node_bic_entry *bics = NULL;
    uint32_t bic_count = 0;
    pthread_rwlock_rdlock(&server->state_lock);
    bool table = cor_node_bic_table(server->state, &bics, &bic_count);
    pthread_rwlock_unlock(&server->state_lock);
    if (!iso_alloc_answer(iso, m->tx_count) || request->payments == NULL ||
        iso->xb_payments == NULL || iso->xb_event_tx == NULL || !table) {
        cor_free(bics);
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    cor_node_iso_mapping mapping = {.payments = request->payments,
                                    .event_tx = iso->event_tx,
                                    .reason = iso->node_reason,
                                    .info = iso->node_info,
                                    .xb_payments = iso->xb_payments,
                                    .xb_event_tx = iso->xb_event_tx};
    bool allowed =
        cor_node_iso_map_payments(m, own_bic, server->config.currency, bics, bic_count, &mapping);
    cor_free(bics);
    if (!allowed) {
        return iso_error(request, 403, "forbidden",
                         "the debtor agent (and the AppHdr sender) must be the caller's BIC",
                         mapping.forbidden_field, "DS0H");
    }
    if (mapping.xb_events > COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX) {
        return iso_error(request, 413, "too_many_events",
                         "at most 4,096 cross-border transactions in one pacs.008", "CdtTrfTxInf",
                         "FF01");
    }
    iso_xb_quotes(request, mapping.xb_events);
    uint32_t count = mapping.events;
    request->payments_count = count;
    if (count == 0 && iso->xb_count == 0) return iso_payments_answer(request);

    size_t body_max = (size_t)count * COR_NODE_PAYMENT_ENCODED_SIZE_MAX;
    size_t xb_size = (size_t)iso->xb_count * sizeof(cor_node_cmd_xb_payment);
    if (!http_payload_reserve(request,
                              2u * (sizeof(cor_node_command_header) + 16u) + body_max + xb_size)) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    if (count == 0) {
        http_payload_add(request, COR_NODE_CMD_XB_PAYMENTS, iso->xb_count, iso->xb_payments,
                         xb_size);
        request->pending = HTTP_PENDING_ISO_PAYMENTS;
        return http_submit(request, iso->xb_count);
    }
    uint8_t *body = request->payload + sizeof(cor_node_command_header);
    size_t size = 0;
    for (uint32_t i = 0; i < count; i++)
        size += cor_node_payment_encode(&request->payments[i], body + size);
    cor_node_command_header header = {.type = COR_NODE_CMD_PAYMENTS,
                                      .event_count = count,
                                      .body_size_bytes = (uint32_t)size,
                                      .key_id = request->who.key_id,
                                      .participant = request->who.participant};
    memcpy(request->payload, &header, sizeof(header));
    size_t padded = (size + 15u) & ~(size_t)15u;
    memset(body + size, 0, padded - size);
    request->payload_size = sizeof(header) + padded;
    if (iso->xb_count > 0) {
        http_payload_add(request, COR_NODE_CMD_XB_PAYMENTS, iso->xb_count, iso->xb_payments,
                         xb_size);
    }
    request->pending = HTTP_PENDING_ISO_PAYMENTS;
    return http_submit(request, count + iso->xb_count);
}

/* The caller's payment a pacs.028 / camt.056 transaction names; NULL when none.
 * Call with the state lock held. */
static const cor_node_payment *iso_original(cor_node_server *server, uint32_t debtor,
                                            const cor_iso_related_tx *tx)
{
    cor_u128 id = cor_node_iso_payment_id(tx->original_uetr, tx->original_transaction_id);
    if (id == 0) return NULL;
    return cor_node_state_payment(server->state, debtor, id);
}

/* The cross-border payment a pacs.028 transaction names by OrgnlUETR, when the caller may
 * see it: the origin's requester or the beneficiary's creditor bank. Under the read lock. */
static bool iso_xb_original(cor_node_server *server, const http_principal *who,
                            const cor_iso_related_tx *tx, cor_xb_payment *out)
{
    uint8_t bytes[16];
    if (tx->original_uetr == NULL ||
        !cor_node_uetr_parse(tx->original_uetr, strlen(tx->original_uetr), bytes)) {
        return false;
    }
    cor_u128 uetr = 0;
    for (size_t i = 0; i < sizeof(bytes); i++)
        uetr = (uetr << 8) | bytes[i];
    if (!cor_xb_payment_lookup(cor_node_state_xb(server->state), uetr, out)) return false;
    if (out->role == COR_XB_ROLE_ORIGIN) return out->requester == who->participant;
    return out->instruction.creditor_account == cor_node_settlement_id(who->participant);
}

/* pacs.028: the recorded outcome of each named payment (domestic or cross-border), as a
 * pacs.002. */
static enum MHD_Result iso_pacs028(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    if (!iso_alloc_answer(iso, m->tx_count)) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    cor_iso_message report;
    cor_iso_message_init(&report);
    iso_new_ids(server, iso->msg_id, iso->created);
    report.type = COR_ISO_MSG_PACS_002;
    report.group.msg_id = iso->msg_id;
    report.group.created = iso->created;
    /* The report is about the original payments: their group, as the request names it
     * (OrgnlGrpInf at group level, else on each transaction). */
    report.group.original_msg_id = m->group.original_msg_id;
    report.group.original_msg_name = m->group.original_msg_name;
    if (report.group.original_msg_id == NULL || report.group.original_msg_name == NULL) {
        report.group.original_msg_id = report.group.original_msg_name = NULL;
    }
    pthread_rwlock_rdlock(&server->state_lock);
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *q = &m->related[i];
        cor_iso_related_tx *a = &iso->related[i];
        *a = related_answer(q, "RJCT");
        if (q->reject_reason != NULL) {
            a->reason = q->reject_reason;
            continue;
        }
        cor_xb_payment xp;
        if (iso_xb_original(server, &request->who, q, &xp)) {
            iso_xb_status(&xp, a);
            continue;
        }
        const cor_node_payment *p = iso_original(server, request->who.participant, q);
        if (p == NULL) {
            bool named = cor_node_iso_payment_id(q->original_uetr, q->original_transaction_id) != 0;
            a->reason = named ? "AG09" : "FF01";
            a->additional_info = named ? "no payment of the caller has this UETR or TxId"
                                       : "name the payment by OrgnlUETR or OrgnlTxId";
        } else if (p->code == COR_NODE_CREATED) {
            a->status = "ACSC";
        } else {
            iso_reason_of(p->code, &a->reason, &a->additional_info);
        }
    }
    pthread_rwlock_unlock(&server->state_lock);
    report.related = iso->related;
    report.tx_count = m->tx_count;
    report.group.group_status = cor_iso_group_status_of(iso->related, m->tx_count);
    if (m->header.present) {
        report.header = (cor_iso_app_header){.present = true,
                                             .from = m->header.to,
                                             .to = m->header.from,
                                             .business_msg_id = iso->msg_id,
                                             .created = iso->created};
    }
    return iso_answer(request, 200, &report, m->header.present);
}

/* camt.056: a domestic payment settles with finality when it is accepted, so the node never
 * cancels one; each request is answered (camt.029) with why. */
static enum MHD_Result iso_camt056(http_request *request)
{
    cor_node_server *server = request->server;
    http_iso *iso = request->iso;
    const cor_iso_message *m = &iso->message;
    char own_bic[COR_NODE_BIC_NORMAL_SIZE];
    if (request->who.role != HTTP_ROLE_PARTICIPANT || !caller_bic(request, own_bic)) {
        return iso_error(request, 403, "forbidden", "only participants cancel payments", "", NULL);
    }
    char assigner[COR_NODE_BIC_NORMAL_SIZE];
    if (m->group.instructing_agent.bic != NULL &&
        (!cor_node_bic_normal(m->group.instructing_agent.bic, assigner) ||
         strcmp(assigner, own_bic) != 0)) {
        return iso_error(request, 403, "forbidden", "the assigner must be the caller",
                         "Assgnmt/Assgnr", "DS0H");
    }
    iso->xb_event_tx = cor_calloc(m->tx_count > 0 ? m->tx_count : 1, sizeof(uint32_t));
    iso->cancel_uetrs = cor_calloc(m->tx_count > 0 ? m->tx_count : 1, sizeof(cor_u128));
    if (!iso_alloc_answer(iso, m->tx_count) || iso->xb_event_tx == NULL ||
        iso->cancel_uetrs == NULL) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    iso_new_ids(server, iso->msg_id, iso->created);
    pthread_rwlock_rdlock(&server->state_lock);
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_related_tx *q = &m->related[i];
        cor_iso_related_tx *a = &iso->related[i];
        *a = related_answer(q, "RJCR");
        const cor_node_payment *p = iso_original(server, request->who.participant, q);
        cor_xb_payment xp;
        if (q->reject_reason != NULL) {
            a->reason = q->reject_reason;
            a->additional_info = "the cancellation request is invalid";
        } else if (iso_xb_original(server, &request->who, q, &xp)) {
            /* Cross-border: while the beneficiary has not decided, the cancellation is the
             * protocol's (XB_CANCEL: the origin sends camt.056 to the beneficiary node). */
            iso_xb_cancel_status(&xp, a);
            if (xp.role == COR_XB_ROLE_ORIGIN && xp.state == COR_XB_STATE_FORWARDED &&
                !xp.cancel_requested) {
                iso->xb_event_tx[iso->xb_count] = i;
                iso->cancel_uetrs[iso->xb_count++] = xp.instruction.uetr;
            }
        } else if (p == NULL) {
            a->reason = "NOOR";
            a->additional_info = "no payment of the caller has this UETR or TxId";
        } else if (p->code == COR_NODE_CREATED) {
            a->reason = "PTNA";
            a->additional_info = "settled with finality; ask the creditor agent to return it";
        } else {
            a->reason = "NARR";
            a->additional_info = "the payment was rejected; nothing was settled";
        }
    }
    pthread_rwlock_unlock(&server->state_lock);
    if (iso->xb_count == 0) return iso_camt029_answer(request);
    size_t one = sizeof(cor_node_command_header) + ((sizeof(cor_node_cmd_xb_uetr) + 15u) & ~15u);
    if (!http_payload_reserve(request, (size_t)iso->xb_count * one)) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    for (uint32_t k = 0; k < iso->xb_count; k++) {
        cor_node_cmd_xb_uetr cmd = {.uetr = iso->cancel_uetrs[k]};
        http_payload_add(request, COR_NODE_CMD_XB_CANCEL, 1, &cmd, sizeof(cmd));
    }
    request->payments_count = 0;
    request->pending = HTTP_PENDING_ISO_PAYMENTS;
    return http_submit(request, iso->xb_count);
}

enum MHD_Result http_iso_post(http_request *request)
{
    cor_node_server *server = request->server;
    if (!content_type_xml(request)) {
        return iso_error(request, 415, "unsupported_media_type",
                         "send Content-Type: application/xml", "", NULL);
    }
    if (request->body_size == 0) {
        return iso_error(request, 400, "invalid_xml", "empty body", "", "FF01");
    }
    request->iso = cor_calloc(1, sizeof(http_iso));
    if (request->iso == NULL) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    http_iso *iso = request->iso;
    cor_iso_message_init(&iso->message);
    bool pooled = false;
    cor_iso_parser *parser = iso_parser_take(server, &pooled);
    if (parser == NULL) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    cor_error rc = cor_iso_parse(parser, request->body, request->body_size, &iso->message);
    iso_parser_give(server, parser, pooled);
    if (rc == COR_ERR_NOMEM) {
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    if (rc != COR_OK) return iso_refuse_parse(request, rc, &iso->message);
    switch (iso->message.type) {
    case COR_ISO_MSG_PACS_008:
        return iso_pacs008(request);
    case COR_ISO_MSG_PACS_028:
        return iso_pacs028(request);
    case COR_ISO_MSG_CAMT_056:
        return iso_camt056(request);
    default: {
        char message[128];
        snprintf(message, sizeof(message),
                 "this route takes pacs.008.001.08, pacs.028.001.03 and camt.056.001.08, not "
                 "'%s'",
                 cor_iso_msg_type_name(iso->message.type));
        return iso_error(request, 422, "unsupported_message", message, "", "FF01");
    }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* camt.053 statements and camt.054 notifications                                           */
/* ---------------------------------------------------------------------------------------- */

static const char *query(http_request *request, const char *name)
{
    return MHD_lookup_connection_value(request->connection, MHD_GET_ARGUMENT_KIND, name);
}

/* One report entry from a transfer of participant's settlement account. Strings point into
 * storage (dates) and the payment record; call with the state lock held and use the entry
 * before releasing it. */
typedef struct entry_text {
    char date[ISO_TIME_SIZE];
    char reference[24];
    char servicer[24];
    char uetr[37];
} entry_text;

static void iso_entry_fill(const cor_node_state *state, uint32_t participant, const char *currency,
                           const cor_transfer *t, cor_iso_entry *entry, entry_text *text)
{
    bool debit = t->debit_account_id == cor_node_settlement_id(participant);
    ns_to_datetime(t->timestamp, text->date);
    snprintf(text->reference, sizeof(text->reference), "%llu", (unsigned long long)t->timestamp);
    *entry = (cor_iso_entry){.reference = text->reference,
                             .credit = !debit,
                             .status = "BOOK",
                             .booking_date = text->date,
                             .value_date = text->date,
                             .servicer_ref = text->servicer};
    entry->amount.amount_minor = t->amount;
    memcpy(entry->amount.currency, currency, 4);
    if (t->code == COR_NODE_TRANSFER_CODE_PAYMENT) {
        snprintf(text->servicer, sizeof(text->servicer), "P%llu",
                 (unsigned long long)t->user_data_64);
        entry->domain = "PMNT";
        entry->family = debit ? "ICDT" : "RCDT";
        entry->subfamily = "DMCT";
        const cor_node_payment *p = cor_node_state_payment_number(state, t->user_data_64);
        if (p != NULL && p->in.has_uetr) {
            cor_node_uetr_format(p->in.uetr, text->uetr);
            entry->uetr = text->uetr;
        }
    } else {
        uint64_t funding = (uint64_t)(t->id - cor_node_transfer_id(COR_NODE_KIND_FUNDING, 0));
        snprintf(text->servicer, sizeof(text->servicer), "F%llu", (unsigned long long)funding);
        entry->proprietary = debit ? "CORRIDOR-WITHDRAWAL" : "CORRIDOR-ISSUANCE";
    }
}

/* NUL-terminated copies of a payment's end-to-end id and remittance into arena (grows by at
 * most 35 + 140 + 2 bytes per entry; the caller sized it). */
static void iso_entry_texts(const cor_node_state *state, const cor_transfer *t,
                            cor_iso_entry *entry, char **arena)
{
    if (t->code != COR_NODE_TRANSFER_CODE_PAYMENT) return;
    const cor_node_payment *p = cor_node_state_payment_number(state, t->user_data_64);
    if (p == NULL) return;
    if (p->in.e2e_length > 0) {
        memcpy(*arena, p->in.e2e, p->in.e2e_length);
        (*arena)[p->in.e2e_length] = '\0';
        entry->end_to_end_id = *arena;
        *arena += p->in.e2e_length + 1u;
    }
    if (p->in.remittance_length > 0) {
        memcpy(*arena, p->in.remittance, p->in.remittance_length);
        (*arena)[p->in.remittance_length] = '\0';
        entry->remittance = *arena;
        *arena += p->in.remittance_length + 1u;
    }
}

#define ISO_ENTRY_TEXT_BYTES (COR_NODE_E2E_LENGTH_MAX + COR_NODE_REMITTANCE_LENGTH_MAX + 2u)

/* Whether the transfer changes posted balances (pending and void transfers do not). */
static bool transfer_posted(const cor_transfer *t)
{
    return (t->flags & (COR_TRANSFER_PENDING | COR_TRANSFER_VOID_PENDING_TRANSFER)) == 0;
}

typedef struct report_buffers {
    cor_transfer *transfers; /* ISO_SCAN_CHUNK */
    cor_iso_entry *entries;  /* ISO_REPORT_ENTRIES_MAX */
    entry_text *texts;       /* ISO_REPORT_ENTRIES_MAX */
    char *arena;             /* ISO_REPORT_ENTRIES_MAX * ISO_ENTRY_TEXT_BYTES */
} report_buffers;

static bool report_buffers_alloc(report_buffers *b, uint32_t entries)
{
    b->transfers = cor_calloc(ISO_SCAN_CHUNK, sizeof(cor_transfer));
    b->entries = cor_calloc(entries, sizeof(cor_iso_entry));
    b->texts = cor_calloc(entries, sizeof(entry_text));
    b->arena = cor_alloc((size_t)entries * ISO_ENTRY_TEXT_BYTES);
    return b->transfers != NULL && b->entries != NULL && b->texts != NULL && b->arena != NULL;
}

static void report_buffers_free(report_buffers *b)
{
    cor_free(b->transfers);
    cor_free(b->entries);
    cor_free(b->texts);
    cor_free(b->arena);
}

/* A signed balance (credits - debits) as an ISO balance. */
static void balance_set(cor_iso_balance *balance, const char *type, cor_u128 credits,
                        cor_u128 debits, const char *currency, const char *date)
{
    balance->type = type;
    balance->credit = credits >= debits;
    balance->amount.amount_minor = credits >= debits ? credits - debits : debits - credits;
    memcpy(balance->amount.currency, currency, 4);
    balance->date = date;
}

enum MHD_Result http_iso_statement(http_request *request, const char *account)
{
    cor_node_server *server = request->server;
    uint32_t participant = 0;
    if (!cor_node_parse_u32(account, &participant) || participant == 0) {
        return iso_error(request, 404, "participant_not_found", "no such participant", "", NULL);
    }
    if (request->who.role == HTTP_ROLE_PARTICIPANT && participant != request->who.participant) {
        return iso_error(request, 403, "forbidden", "participants read only their own statement",
                         "", NULL);
    }
    const char *from = query(request, "from"), *to = query(request, "to");
    uint64_t from_ns = 0, to_ns = 0;
    if (!cor_node_iso_date_ns(from, &from_ns)) {
        return iso_error(request, 400, "invalid_query", "from must be a date YYYY-MM-DD", "from",
                         NULL);
    }
    if (!cor_node_iso_date_ns(to, &to_ns) || to_ns < from_ns) {
        return iso_error(request, 400, "invalid_query",
                         "to must be a date YYYY-MM-DD, not before from", "to", NULL);
    }
    uint64_t end_ns = to_ns + 86400ull * 1000000000ull - 1u; /* the end of day "to" */
    report_buffers b = {0};
    if (!report_buffers_alloc(&b, ISO_REPORT_ENTRIES_MAX)) {
        report_buffers_free(&b);
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    const char *currency = server->config.currency;
    char stmt_id[ISO_ID_SIZE], created[ISO_TIME_SIZE], msg_id[ISO_ID_SIZE];
    char owner[COR_NODE_NAME_LENGTH_MAX + 1], other_id[16];
    snprintf(stmt_id, sizeof(stmt_id), "STMT-%u-%.10s-%.10s", participant, from, to);
    iso_new_ids(server, msg_id, created);
    snprintf(other_id, sizeof(other_id), "%u", participant);

    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_CAMT_053;
    m.group.msg_id = msg_id;
    m.group.created = created;
    m.report = (cor_iso_report){.id = stmt_id,
                                .created = created,
                                .account = {.other_id = other_id, .currency = currency},
                                .account_owner = owner,
                                .balance_count = 2};
    m.entries = b.entries;

    unsigned status = 200;
    const char *refusal = NULL;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p = cor_node_state_participant(server->state, participant);
    cor_node_balance now;
    if (p == NULL || !cor_node_state_balance(server->state, participant, &now)) {
        status = 404;
    } else {
        snprintf(owner, sizeof(owner), "%s", p->name);
        /* One scan from "from" to now: the entries up to "to", and everything since "from"
         * to take the opening balance back from today's. Bounded by the account's transfers
         * (at most the ledger's capacity), read ISO_SCAN_CHUNK at a time. */
        const cor_ledger *ledger = cor_node_state_ledger(server->state);
        cor_account_filter filter = {.account_id = cor_node_settlement_id(participant),
                                     .timestamp_min = from_ns,
                                     .limit = ISO_SCAN_CHUNK};
        cor_u128 own = cor_node_settlement_id(participant);
        cor_u128 since_credits = 0, since_debits = 0, period_credits = 0, period_debits = 0;
        char *arena = b.arena;
        for (;;) {
            uint32_t got =
                cor_ledger_get_account_transfers(ledger, &filter, b.transfers, ISO_SCAN_CHUNK);
            for (uint32_t i = 0; i < got; i++) {
                const cor_transfer *t = &b.transfers[i];
                if (!transfer_posted(t)) continue;
                bool debit = t->debit_account_id == own;
                *(debit ? &since_debits : &since_credits) += t->amount;
                if (t->timestamp > end_ns) continue;
                if (m.tx_count == ISO_REPORT_ENTRIES_MAX) {
                    refusal = "more entries than one statement holds (8,189): ask for a "
                              "shorter period";
                    break;
                }
                *(debit ? &period_debits : &period_credits) += t->amount;
                iso_entry_fill(server->state, participant, currency, t, &b.entries[m.tx_count],
                               &b.texts[m.tx_count]);
                iso_entry_texts(server->state, t, &b.entries[m.tx_count], &arena);
                m.tx_count++;
            }
            if (refusal != NULL || got < ISO_SCAN_CHUNK) break;
            filter.timestamp_min = b.transfers[got - 1].timestamp + 1u;
        }
        COR_ASSERT(since_credits <= now.credits_posted && since_debits <= now.debits_posted);
        cor_u128 open_credits = now.credits_posted - since_credits;
        cor_u128 open_debits = now.debits_posted - since_debits;
        balance_set(&m.report.balances[0], "OPBD", open_credits, open_debits, currency, from);
        balance_set(&m.report.balances[1], "CLBD", open_credits + period_credits,
                    open_debits + period_debits, currency, to);
    }
    pthread_rwlock_unlock(&server->state_lock);
    enum MHD_Result result;
    if (status == 404) {
        result = iso_error(request, 404, "participant_not_found", "no such participant", "", NULL);
    } else if (refusal != NULL) {
        result = iso_error(request, 422, "statement_too_large", refusal, "to", NULL);
    } else {
        COR_ASSERT(cor_iso_statement_balanced(&m));
        result = iso_answer(request, 200, &m, false);
    }
    report_buffers_free(&b);
    return result;
}

enum MHD_Result http_iso_notifications(http_request *request)
{
    cor_node_server *server = request->server;
    uint32_t participant = request->who.participant;
    const char *subject = query(request, "participant");
    if (request->who.role == HTTP_ROLE_PARTICIPANT) {
        if (subject != NULL) {
            return iso_error(request, 400, "invalid_query",
                             "participants read their own notifications", "participant", NULL);
        }
    } else if (subject == NULL || !cor_node_parse_u32(subject, &participant) || participant == 0) {
        return iso_error(request, 400, "invalid_query", "name the participant=ID", "participant",
                         NULL);
    }
    uint64_t after = 0, limit = ISO_NOTIFICATIONS_DEFAULT;
    const char *after_text = query(request, "after"), *limit_text = query(request, "limit");
    if (after_text != NULL && !cor_node_parse_u64(after_text, &after)) {
        return iso_error(request, 400, "invalid_query",
                         "after must be the NtryRef (ns timestamp) of the last entry seen", "after",
                         NULL);
    }
    if (limit_text != NULL &&
        (!cor_node_parse_u64(limit_text, &limit) || limit == 0 || limit > ISO_REPORT_ENTRIES_MAX)) {
        return iso_error(request, 400, "invalid_query", "limit must be 1 .. 8189", "limit", NULL);
    }
    if (after == UINT64_MAX) {
        return iso_error(request, 400, "invalid_query", "after is too large", "after", NULL);
    }
    report_buffers b = {0};
    if (!report_buffers_alloc(&b, (uint32_t)limit)) {
        report_buffers_free(&b);
        return iso_error(request, 503, "busy", "out of memory, try again later", "", NULL);
    }
    const char *currency = server->config.currency;
    char ntfctn_id[ISO_ID_SIZE], created[ISO_TIME_SIZE], msg_id[ISO_ID_SIZE], other_id[16];
    char owner[COR_NODE_NAME_LENGTH_MAX + 1];
    iso_new_ids(server, msg_id, created);
    snprintf(ntfctn_id, sizeof(ntfctn_id), "N%s", msg_id + 1);
    snprintf(other_id, sizeof(other_id), "%u", participant);
    cor_iso_message m;
    cor_iso_message_init(&m);
    m.type = COR_ISO_MSG_CAMT_054;
    m.group.msg_id = msg_id;
    m.group.created = created;
    m.report = (cor_iso_report){.id = ntfctn_id,
                                .created = created,
                                .account = {.other_id = other_id, .currency = currency},
                                .account_owner = owner};
    m.entries = b.entries;
    bool found = false;
    pthread_rwlock_rdlock(&server->state_lock);
    const cor_node_participant *p = cor_node_state_participant(server->state, participant);
    if (p != NULL) {
        found = true;
        snprintf(owner, sizeof(owner), "%s", p->name);
        const cor_ledger *ledger = cor_node_state_ledger(server->state);
        cor_account_filter filter = {.account_id = cor_node_settlement_id(participant),
                                     .timestamp_min = after + 1u,
                                     .limit = ISO_SCAN_CHUNK,
                                     .flags = COR_ACCOUNT_FILTER_CREDITS};
        char *arena = b.arena;
        /* Bounded: stops at limit entries or at the end of the account's credits. */
        while (m.tx_count < limit) {
            uint32_t got =
                cor_ledger_get_account_transfers(ledger, &filter, b.transfers, ISO_SCAN_CHUNK);
            for (uint32_t i = 0; i < got && m.tx_count < limit; i++) {
                const cor_transfer *t = &b.transfers[i];
                if (!transfer_posted(t)) continue;
                iso_entry_fill(server->state, participant, currency, t, &b.entries[m.tx_count],
                               &b.texts[m.tx_count]);
                iso_entry_texts(server->state, t, &b.entries[m.tx_count], &arena);
                m.tx_count++;
            }
            if (got < ISO_SCAN_CHUNK) break;
            filter.timestamp_min = b.transfers[got - 1].timestamp + 1u;
        }
    }
    pthread_rwlock_unlock(&server->state_lock);
    enum MHD_Result result;
    if (!found) {
        result = iso_error(request, 404, "participant_not_found", "no such participant", "", NULL);
    } else {
        result = iso_answer(request, 200, &m, false);
    }
    report_buffers_free(&b);
    return result;
}
