/* pacs.008 -> node payments, and the small conversions the ISO routes share (see the header). */
#include "node/iso_payments.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/request.h"

bool cor_node_bic_normal(const char *bic, char out[COR_NODE_BIC_NORMAL_SIZE])
{
    size_t length = bic != NULL ? strlen(bic) : 0;
    if (length != 8 && length != 11) return false;
    memcpy(out, bic, length);
    if (length == 8) memcpy(out + 8, "XXX", 3);
    out[11] = '\0';
    return true;
}

static int bic_compare(const void *a, const void *b)
{
    return strcmp(((const cor_node_bic_entry *)a)->bic, ((const cor_node_bic_entry *)b)->bic);
}

void cor_node_bic_sort(cor_node_bic_entry *table, uint32_t count)
{
    qsort(table, count, sizeof(*table), bic_compare);
}

bool cor_node_bic_table(const cor_node_state *state, cor_node_bic_entry **table_out,
                        uint32_t *count_out)
{
    uint32_t count = cor_node_state_participants_count(state);
    cor_node_bic_entry *table = cor_calloc(count > 0 ? count : 1, sizeof(*table));
    *table_out = table;
    *count_out = 0;
    if (table == NULL) return false;
    uint32_t used = 0;
    for (uint32_t id = 1; id <= count; id++) {
        const cor_node_participant *p = cor_node_state_participant(state, id);
        if (p == NULL || !cor_node_bic_normal(p->bic, table[used].bic)) continue;
        table[used++].participant = id;
    }
    cor_node_bic_sort(table, used);
    *count_out = used;
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* A valid UETR's 16 bytes. */
static void uetr_bytes(const char *uetr, uint8_t out[16])
{
    COR_ASSERT(cor_iso_uetr_valid(uetr));
    size_t n = 0;
    for (const char *p = uetr; *p != '\0' && n < 32; p++) {
        if (*p == '-') continue;
        int v = hex_value(*p);
        COR_ASSERT(v >= 0);
        if (n % 2 == 0) {
            out[n / 2] = (uint8_t)(v << 4);
        } else {
            out[n / 2] |= (uint8_t)v;
        }
        n++;
    }
    COR_ASSERT(n == 32);
}

cor_u128 cor_node_iso_payment_id(const char *uetr, const char *transaction_id)
{
    uint8_t bytes[16];
    if (uetr != NULL && cor_iso_uetr_valid(uetr)) {
        uetr_bytes(uetr, bytes);
    } else if (transaction_id != NULL && transaction_id[0] != '\0') {
        static const char domain[] = "corridor pacs.008 TxId";
        crypto_generichash_state state;
        crypto_generichash_init(&state, NULL, 0, sizeof(bytes));
        crypto_generichash_update(&state, (const unsigned char *)domain, sizeof(domain));
        crypto_generichash_update(&state, (const unsigned char *)transaction_id,
                                  strlen(transaction_id));
        crypto_generichash_final(&state, bytes, sizeof(bytes));
    } else {
        return 0;
    }
    cor_u128 id = 0;
    for (size_t i = 0; i < sizeof(bytes); i++)
        id = (id << 8) | bytes[i];
    return id != 0 ? id : 1; /* a zero hash is astronomically unlikely; 0 is not an id */
}

static bool agent_is(const cor_iso_agent *agent, const char bic[COR_NODE_BIC_NORMAL_SIZE])
{
    char normal[COR_NODE_BIC_NORMAL_SIZE];
    return cor_node_bic_normal(agent->bic, normal) && strcmp(normal, bic) == 0;
}

/* ---- cross-border transactions ---------------------------------------------------------- */

bool cor_node_iso_is_xborder(const cor_iso_credit_transfer *tx)
{
    const char *text = tx->instruction_for_next_agent;
    return text != NULL &&
           strncmp(text, COR_NODE_ISO_QUOTE_PREFIX, sizeof(COR_NODE_ISO_QUOTE_PREFIX) - 1u) == 0;
}

/* Whether a party name may travel: at most the protocol's bytes, no control characters. */
static bool xb_name_fits(const char *name)
{
    if (name == NULL) return true;
    size_t length = strlen(name);
    if (length > COR_NODE_XB_NAME_LENGTH_MAX) return false;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20u || c == 0x7fu) return false;
    }
    return true;
}

static void xb_name_copy(const char *name, char *out, uint8_t *length_out)
{
    size_t length = name != NULL ? strlen(name) : 0;
    COR_ASSERT(length <= COR_NODE_XB_NAME_LENGTH_MAX);
    if (length > 0) memcpy(out, name, length);
    *length_out = (uint8_t)length;
}

/* Maps one cross-border transaction into *out; NULL, or the refusal's reason and info. */
static const char *xb_map(const cor_iso_credit_transfer *tx, const char *currency,
                          cor_node_cmd_xb_payment *out, const char **info)
{
    *out = (cor_node_cmd_xb_payment){0};
    const char *quote_text =
        tx->instruction_for_next_agent + sizeof(COR_NODE_ISO_QUOTE_PREFIX) - 1u;
    uint32_t creditor = 0;
    if (strcmp(tx->settlement_amount.currency, currency) != 0) {
        *info = "a cross-border IntrBkSttlmAmt is in this node's currency (the quote's source)";
        return "CURR";
    }
    if (tx->uetr == NULL || !cor_iso_uetr_valid(tx->uetr)) {
        *info = "a cross-border transaction needs PmtId/UETR";
        return "CH21";
    }
    if (!cor_node_parse_u128(quote_text, &out->quote_id) || out->quote_id == 0) {
        *info = "InstrForNxtAgt/InstrInf must be /QUOTE/ and the quote id in decimal";
        return "FF01";
    }
    if (tx->creditor_account.other_id == NULL ||
        !cor_node_parse_u32(tx->creditor_account.other_id, &creditor) || creditor == 0) {
        *info = "CdtrAcct/Id/Othr/Id must be the creditor bank's participant id on the peer node";
        return "AC03";
    }
    if (!xb_name_fits(tx->debtor.name) || !xb_name_fits(tx->creditor.name)) {
        *info = "Dbtr/Nm and Cdtr/Nm travel as at most 140 bytes without control characters";
        return "FF01";
    }
    if (tx->settlement_amount.amount_minor == 0) {
        *info = "amount equal to zero"; /* the codec refuses zero; kept as a guard */
        return "AM01";
    }
    uint8_t bytes[16];
    uetr_bytes(tx->uetr, bytes);
    for (size_t i = 0; i < sizeof(bytes); i++)
        out->uetr = (out->uetr << 8) | bytes[i];
    out->creditor_account = cor_node_settlement_id(creditor);
    xb_name_copy(tx->debtor.name, out->debtor_name, &out->debtor_name_length);
    xb_name_copy(tx->creditor.name, out->creditor_name, &out->creditor_name_length);
    return NULL;
}

/* a * b, false on overflow. */
static bool mul_u128(cor_u128 a, cor_u128 b, cor_u128 *out)
{
    if (a != 0 && b > COR_U128_MAX / a) return false;
    *out = a * b;
    return true;
}

static cor_u128 pow10_u128(unsigned exponent)
{
    cor_u128 value = 1;
    for (unsigned i = 0; i < exponent; i++)
        value *= 10u;
    return value;
}

bool cor_node_iso_rate_matches(const char *text, uint64_t num, uint64_t den, uint32_t spread_ppm,
                               int source_exponent, int dest_exponent)
{
    if (text == NULL || num == 0 || den == 0 || spread_ppm >= 1000000u) return false;
    if (source_exponent < 0 || source_exponent > 4 || dest_exponent < 0 || dest_exponent > 4) {
        return false;
    }
    /* The text as rate / 10^fraction: at most 11 digits (BaseOneRate), one optional '.'. */
    cor_u128 rate = 0;
    unsigned digits = 0, fraction = 0;
    bool point = false;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '.' && !point) {
            point = true;
            continue;
        }
        if (*p < '0' || *p > '9' || ++digits > 11u) return false;
        rate = rate * 10u + (cor_u128)(*p - '0');
        fraction += point;
    }
    if (digits == 0) return false;
    /* Customer rate in major units: n / d with n = num (1e6 - spread) 10^max(0, es - ed)
     * and d = den 1e6 10^max(0, ed - es). |rate / 10^fraction - n / d| <= 1 / 10^fraction
     * is |rate d - n 10^fraction| <= d. Every factor is bounded, but check anyway. */
    cor_u128 n = 0, d = 0, left = 0, right = 0;
    unsigned up = source_exponent > dest_exponent ? (unsigned)(source_exponent - dest_exponent) : 0;
    unsigned down =
        dest_exponent > source_exponent ? (unsigned)(dest_exponent - source_exponent) : 0;
    if (!mul_u128((cor_u128)num * (1000000u - spread_ppm), pow10_u128(up), &n) ||
        !mul_u128((cor_u128)den * 1000000u, pow10_u128(down), &d) || !mul_u128(rate, d, &left) ||
        !mul_u128(n, pow10_u128(fraction), &right)) {
        return false;
    }
    cor_u128 difference = left > right ? left - right : right - left;
    return difference <= d;
}

const char *cor_node_iso_xb_quote_check(const cor_iso_credit_transfer *tx,
                                        const cor_xb_quote *quote, uint64_t caller,
                                        int source_exponent, int dest_exponent, const char **info)
{
    if (quote == NULL || quote->requester != caller) {
        *info = "the quote is unknown, expired and forgotten, or not the caller's";
        return "AM09";
    }
    if (tx->settlement_amount.amount_minor != quote->amount_source) {
        *info = "IntrBkSttlmAmt is not the quote's source amount (fee included)";
        return "AM09";
    }
    if (tx->exchange_rate != NULL &&
        !cor_node_iso_rate_matches(tx->exchange_rate, quote->rate_num, quote->rate_den,
                                   quote->spread_ppm, source_exponent, dest_exponent)) {
        *info = "XchgRate is not the quote's customer rate (destination units per source unit)";
        return "AM09";
    }
    return NULL;
}

bool cor_node_iso_map_payments(const cor_iso_message *m,
                               const char own_bic[COR_NODE_BIC_NORMAL_SIZE], const char *currency,
                               const cor_node_bic_entry *bics, uint32_t bic_count,
                               cor_node_iso_mapping *out)
{
    COR_ASSERT(m->type == COR_ISO_MSG_PACS_008);
    COR_ASSERT(m->tx_count <= COR_NODE_PAYMENTS_PER_REQUEST_MAX);
    COR_ASSERT(out->xb_payments != NULL && out->xb_event_tx != NULL);
    out->events = 0;
    out->xb_events = 0;
    out->forbidden_field[0] = '\0';
    if (m->header.present && m->header.from.bic != NULL && !agent_is(&m->header.from, own_bic)) {
        snprintf(out->forbidden_field, sizeof(out->forbidden_field), "AppHdr/Fr");
        return false;
    }
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_credit_transfer *tx = &m->transfers[i];
        bool named = tx->debtor_agent.bic != NULL;
        if ((named || tx->reject_reason == NULL) && !agent_is(&tx->debtor_agent, own_bic)) {
            snprintf(out->forbidden_field, sizeof(out->forbidden_field), "CdtTrfTxInf[%u]/DbtrAgt",
                     i);
            return false;
        }
    }
    for (uint32_t i = 0; i < m->tx_count; i++) {
        const cor_iso_credit_transfer *tx = &m->transfers[i];
        out->reason[i] = NULL;
        out->info[i] = NULL;
        if (tx->reject_reason != NULL) continue;
        if (cor_node_iso_is_xborder(tx)) {
            cor_node_cmd_xb_payment *xb = &out->xb_payments[out->xb_events];
            out->reason[i] = xb_map(tx, currency, xb, &out->info[i]);
            if (out->reason[i] == NULL) out->xb_event_tx[out->xb_events++] = i;
            continue;
        }
        cor_node_bic_entry key = {0};
        cor_node_payment_in *in = &out->payments[out->events];
        *in = (cor_node_payment_in){0};
        in->payment_id = cor_node_iso_payment_id(tx->uetr, tx->transaction_id);
        size_t e2e = tx->end_to_end_id != NULL ? strlen(tx->end_to_end_id) : 0;
        size_t remittance = tx->remittance != NULL ? strlen(tx->remittance) : 0;
        if (strcmp(tx->settlement_amount.currency, currency) != 0) {
            out->reason[i] = "AM03";
            out->info[i] = "the settlement currency is not this node's";
        } else if (in->payment_id == 0) {
            out->reason[i] = "FF01";
            out->info[i] = "a transaction needs a UETR or a TxId (its idempotency key)";
        } else if (!cor_node_bic_normal(tx->creditor_agent.bic, key.bic)) {
            out->reason[i] = "RC04";
            out->info[i] = "the creditor agent must be identified by its BIC";
        } else if (e2e > COR_NODE_E2E_LENGTH_MAX || remittance > COR_NODE_REMITTANCE_LENGTH_MAX) {
            out->reason[i] = "FF01";
            out->info[i] = "EndToEndId over 35 bytes or Ustrd over 140 bytes (UTF-8) is not kept";
        } else if (tx->settlement_amount.amount_minor == 0) {
            out->reason[i] = "AM01"; /* the codec refuses zero; kept as a guard for the core */
            out->info[i] = "amount equal to zero";
        }
        if (out->reason[i] != NULL) continue;
        const cor_node_bic_entry *creditor =
            bsearch(&key, bics, bic_count, sizeof(*bics), bic_compare);
        in->amount = tx->settlement_amount.amount_minor;
        in->creditor = creditor != NULL ? creditor->participant : 0;
        if (tx->uetr != NULL && cor_iso_uetr_valid(tx->uetr)) {
            in->has_uetr = 1;
            uetr_bytes(tx->uetr, in->uetr);
        }
        in->e2e_length = (uint8_t)e2e;
        if (e2e > 0) memcpy(in->e2e, tx->end_to_end_id, e2e);
        in->remittance_length = (uint8_t)remittance;
        if (remittance > 0) memcpy(in->remittance, tx->remittance, remittance);
        out->event_tx[out->events++] = i;
    }
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (m + (m > 2 ? (unsigned)-3 : 9u)) + 2u) / 5u + d - 1u;
    unsigned doe = yoe * 365u + yoe / 4u - yoe / 100u + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t digits(const char *text, size_t count)
{
    int64_t value = 0;
    for (size_t i = 0; i < count; i++)
        value = value * 10 + (text[i] - '0');
    return value;
}

bool cor_node_iso_date_ns(const char *text, uint64_t *ns_out)
{
    if (text == NULL || strlen(text) != 10 || !cor_iso_date_valid(text)) return false;
    /* cor_iso_date_valid checked the shape: digits at 0-3, 5-6 and 8-9. */
    int64_t y = digits(text, 4);
    unsigned m = (unsigned)digits(text + 5, 2), d = (unsigned)digits(text + 8, 2);
    int64_t days = days_from_civil(y, m, d);
    if (days < 0 || days > 100000) return false; /* 1970 .. 2243: fits u64 nanoseconds */
    *ns_out = (uint64_t)days * 86400ull * 1000000000ull;
    return true;
}
