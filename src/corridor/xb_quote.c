/*
 * FX rates and quotes, with exact integer arithmetic.
 *
 * A rate is num/den destination minor units per source minor unit, less a spread in parts
 * per million, so the customer ratio is N/D with N = num * (1e6 - spread) and D = den * 1e6
 * (each below 2^84). Products of an amount (below 2^128) by N or D need up to 212 bits, so
 * they are computed in 256 bits and divided by long division; nothing is ever rounded
 * except by the one floor or ceiling the rounding rule names (docs/PROTOCOL.md).
 */
#include <string.h>

#include "corridor/xb_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* 256-bit helpers                                                                          */
/* ---------------------------------------------------------------------------------------- */

typedef struct xb_u256 {
    cor_u128 high;
    cor_u128 low;
} xb_u256;

static xb_u256 u256_mul(cor_u128 a, cor_u128 b)
{
    const cor_u128 mask = (cor_u128)UINT64_MAX;
    cor_u128 a0 = a & mask, a1 = a >> 64, b0 = b & mask, b1 = b >> 64;
    cor_u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    cor_u128 middle = (p00 >> 64) + (p01 & mask) + (p10 & mask); /* < 3 * 2^64 */
    return (xb_u256){
        .high = p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64),
        .low = (p00 & mask) | (middle << 64),
    };
}

static int u256_compare(xb_u256 a, xb_u256 b)
{
    if (a.high != b.high) return a.high < b.high ? -1 : 1;
    if (a.low != b.low) return a.low < b.low ? -1 : 1;
    return 0;
}

static xb_u256 u256_sub(xb_u256 a, xb_u256 b) /* a >= b */
{
    xb_u256 r = {.high = a.high - b.high, .low = a.low - b.low};
    if (a.low < b.low) r.high--;
    return r;
}

/* n / d when the quotient fits 128 bits (n.high < d); false otherwise. */
static bool u256_divide(xb_u256 n, cor_u128 d, cor_u128 *quotient_out, cor_u128 *remainder_out)
{
    COR_ASSERT(d != 0);
    if (n.high >= d) return false;
    if (n.high == 0) { /* the usual case: the product fits 128 bits, one native division */
        *quotient_out = n.low / d;
        *remainder_out = n.low % d;
        return true;
    }
    cor_u128 remainder = n.high;
    cor_u128 quotient = 0;
    for (int bit = 127; bit >= 0; bit--) {
        bool carry = (remainder >> 127) != 0;
        remainder = (remainder << 1) | ((n.low >> bit) & 1u);
        if (carry || remainder >= d) {
            remainder -= d;
            quotient |= (cor_u128)1 << bit;
        }
    }
    *quotient_out = quotient;
    *remainder_out = remainder;
    return true;
}

static bool xb_ratio(uint64_t num, uint64_t den, uint32_t spread_ppm, cor_u128 *n_out,
                     cor_u128 *d_out)
{
    if (num == 0 || den == 0 || spread_ppm >= XB_PPM) return false;
    *n_out = (cor_u128)num * (XB_PPM - spread_ppm);
    *d_out = (cor_u128)den * XB_PPM;
    return true;
}

bool cor_xb_amount_dest(cor_u128 converted, uint64_t num, uint64_t den, uint32_t spread_ppm,
                        cor_u128 *dest_out)
{
    cor_u128 n = 0, d = 0, q = 0, r = 0;
    if (converted == 0 || !xb_ratio(num, den, spread_ppm, &n, &d)) return false;
    if (!u256_divide(u256_mul(converted, n), d, &q, &r)) return false;
    if (q == 0) return false;
    *dest_out = q; /* floor: the creditor never receives more than the exact value */
    return true;
}

bool cor_xb_amount_source(cor_u128 dest, uint64_t num, uint64_t den, uint32_t spread_ppm,
                          cor_u128 *converted_out)
{
    cor_u128 n = 0, d = 0, q = 0, r = 0;
    if (dest == 0 || !xb_ratio(num, den, spread_ppm, &n, &d)) return false;
    if (!u256_divide(u256_mul(dest, d), n, &q, &r)) return false;
    if (r != 0) {
        if (q == COR_U128_MAX) return false;
        q++; /* ceiling: the debtor never pays less than the exact value */
    }
    *converted_out = q;
    return true;
}

bool cor_xb_amounts_check(cor_u128 converted, cor_u128 dest, uint64_t num, uint64_t den,
                          uint32_t spread_ppm, uint32_t fixed)
{
    cor_u128 n = 0, d = 0;
    if (converted == 0 || dest == 0 || !xb_ratio(num, den, spread_ppm, &n, &d)) return false;
    if (fixed != COR_XB_FIXED_SOURCE && fixed != COR_XB_FIXED_DEST) return false;
    xb_u256 paid = u256_mul(converted, n);          /* value given, in dest units times D */
    xb_u256 owed = u256_mul(dest, d);               /* value received, in the same units */
    if (u256_compare(paid, owed) < 0) return false; /* the provider would lose */
    xb_u256 excess = u256_sub(paid, owed);
    xb_u256 bound = {.high = 0, .low = fixed == COR_XB_FIXED_SOURCE ? d : n};
    return u256_compare(excess, bound) < 0; /* less than one minor unit of the fixed side */
}

/* ---------------------------------------------------------------------------------------- */
/* UETR and transfer ids                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* A UUID as a big-endian integer: the version nibble is bits 76..79, the variant bits
 * (binary 10) are bits 62..63. */
#define XB_UUID_VERSION_SHIFT 76

bool cor_xb_uetr_valid(cor_u128 uetr)
{
    uint32_t version = (uint32_t)(uetr >> XB_UUID_VERSION_SHIFT) & 0xfu;
    uint32_t variant = (uint32_t)(uetr >> 62) & 0x3u;
    return version == 4 && variant == 2;
}

cor_u128 cor_xb_transfer_id(cor_u128 uetr, cor_xb_transfer_kind kind)
{
    /* Kinds are never 4, so these ids never equal a UUID v4 that other modules may use as
     * transfer ids, and never 0 or 2^128-1 for a valid UETR. */
    COR_ASSERT(kind != 4 && (uint32_t)kind < 16);
    cor_u128 mask = (cor_u128)0xfu << XB_UUID_VERSION_SHIFT;
    return (uetr & ~mask) | ((cor_u128)kind << XB_UUID_VERSION_SHIFT);
}

/* ---------------------------------------------------------------------------------------- */
/* Rates                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static uint32_t xb_rate_validate(const cor_xb *xb, const cor_xb_rate *rate)
{
    if (rate->rate_num == 0 || rate->rate_den == 0 || rate->spread_ppm >= XB_PPM) {
        return COR_XB_FORMAT;
    }
    if (rate->amount_min == 0 || rate->amount_max < rate->amount_min) return COR_XB_FORMAT;
    if (rate->valid_until <= rate->valid_from || rate->reserved != 0) return COR_XB_FORMAT;
    if (rate->peer_node > UINT32_MAX) return COR_XB_CORRIDOR_UNKNOWN;
    if (cor__xb_fx_find(xb, rate->fx_id, rate->peer_node) == NULL) {
        return COR_XB_CORRIDOR_UNKNOWN;
    }
    return COR_XB_OK;
}

cor_error cor_xb_rate_publish(cor_xb *xb, uint64_t timestamp, const cor_xb_rate *rate,
                              uint32_t *reason_out)
{
    (void)timestamp; /* validity is explicit in the rate; the time is journaled with it */
    if (rate == NULL || reason_out == NULL) return COR_ERR_INVALID;
    uint32_t reason = xb_rate_validate(xb, rate);
    if (reason == COR_XB_OK && cor__xb_peer_find(xb, rate->peer_node) == NULL) {
        reason = COR_XB_CORRIDOR_UNKNOWN;
    }
    if (reason != COR_XB_OK) {
        *reason_out = reason;
        return COR_OK;
    }
    for (uint32_t i = 0; i < xb->rates_count; i++) {
        if (xb->rates[i].fx_id == rate->fx_id && xb->rates[i].peer_node == rate->peer_node) {
            xb->rates[i] = *rate;
            *reason_out = COR_XB_OK;
            return COR_OK;
        }
    }
    if (xb->rates_count == xb->options.rates_max) {
        *reason_out = COR_XB_BUSY;
        return COR_OK;
    }
    xb->rates[xb->rates_count++] = *rate;
    *reason_out = COR_XB_OK;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Quotes                                                                                   */
/* ---------------------------------------------------------------------------------------- */

cor_xb_quote *cor__xb_quote_slot(cor_xb *xb, cor_u128 quote_id)
{
    if ((uint32_t)(quote_id >> 96) != xb->options.node_id) return NULL;
    if (((quote_id >> 64) & 0xffffffffu) != 0) return NULL;
    uint64_t seq = (uint64_t)quote_id;
    if (seq == 0 || seq > xb->quote_seq) return NULL;
    if (xb->quote_seq - seq >= xb->options.quotes_max) return NULL; /* overwritten */
    cor_xb_quote *q = &xb->quotes[seq % xb->options.quotes_max];
    COR_ASSERT(q->id == quote_id);
    return q;
}

bool cor_xb_quote_lookup(const cor_xb *xb, cor_u128 quote_id, cor_xb_quote *out)
{
    cor_xb_quote *q = cor__xb_quote_slot((cor_xb *)xb, quote_id);
    if (q == NULL) return false;
    *out = *q;
    return true;
}

/* Prices one rate for the request; COR_XB_OK and *quote filled, or the reason it cannot. */
static uint32_t xb_quote_price(const cor_xb_rate *rate, const cor_xb_quote_request *request,
                               cor_xb_quote *quote)
{
    uint32_t spread = (uint32_t)rate->spread_ppm;
    cor_u128 converted = 0, dest = 0, source = 0;
    if (request->fixed == COR_XB_FIXED_SOURCE) {
        if (request->amount <= rate->fee_source) return COR_XB_AMOUNT_BELOW_MIN;
        converted = request->amount - rate->fee_source;
        source = request->amount;
    } else {
        dest = request->amount;
        if (!cor_xb_amount_source(dest, rate->rate_num, rate->rate_den, spread, &converted)) {
            return COR_XB_AMOUNT_ABOVE_MAX;
        }
        if (converted > COR_U128_MAX - rate->fee_source) return COR_XB_AMOUNT_ABOVE_MAX;
        source = converted + rate->fee_source;
    }
    if (converted < rate->amount_min) return COR_XB_AMOUNT_BELOW_MIN;
    if (converted > rate->amount_max) return COR_XB_AMOUNT_ABOVE_MAX;
    if (request->fixed == COR_XB_FIXED_SOURCE &&
        !cor_xb_amount_dest(converted, rate->rate_num, rate->rate_den, spread, &dest)) {
        return COR_XB_AMOUNT_BELOW_MIN; /* converts to nothing */
    }
    COR_ASSERT(cor_xb_amounts_check(converted, dest, rate->rate_num, rate->rate_den, spread,
                                    request->fixed));
    *quote = (cor_xb_quote){
        .amount_source = source,
        .amount_dest = dest,
        .fee_source = rate->fee_source,
        .fx_id = rate->fx_id,
        .requester = request->requester,
        .rate_num = rate->rate_num,
        .rate_den = rate->rate_den,
        .spread_ppm = spread,
        .fixed = request->fixed,
        .peer_node = request->peer_node,
    };
    return COR_XB_OK;
}

/* True when a is better for the customer than b (ties: lower fx_id, for determinism). */
static bool xb_quote_better(const cor_xb_quote *a, const cor_xb_quote *b)
{
    if (a->fixed == COR_XB_FIXED_SOURCE && a->amount_dest != b->amount_dest) {
        return a->amount_dest > b->amount_dest;
    }
    if (a->fixed == COR_XB_FIXED_DEST && a->amount_source != b->amount_source) {
        return a->amount_source < b->amount_source;
    }
    return a->fx_id < b->fx_id;
}

/* Inserts candidate into the sorted best-first list out[0..*count), keeping at most max. */
static void xb_quote_rank(cor_xb_quote *out, uint32_t *count, uint32_t max,
                          const cor_xb_quote *candidate)
{
    uint32_t position = *count;
    while (position > 0 && xb_quote_better(candidate, &out[position - 1]))
        position--;
    if (position >= max) return;
    uint32_t last = *count < max ? *count : max - 1;
    for (uint32_t i = last; i > position; i--)
        out[i] = out[i - 1];
    out[position] = *candidate;
    if (*count < max) (*count)++;
}

static bool xb_quote_slots_free(const cor_xb *xb, uint64_t timestamp, uint32_t count)
{
    for (uint64_t s = xb->quote_seq + 1; s <= xb->quote_seq + count; s++) {
        if (s <= xb->options.quotes_max) continue; /* never used */
        const cor_xb_quote *old = &xb->quotes[s % xb->options.quotes_max];
        if (old->used_by == 0 && timestamp < old->expires_at) return false;
    }
    return true;
}

/* Ranks every admissible rate; returns the count and the most telling refusal. */
static uint32_t xb_quote_candidates(const cor_xb *xb, uint64_t timestamp,
                                    const cor_xb_quote_request *request, cor_xb_quote *out,
                                    uint32_t out_max, uint32_t *reason_out)
{
    uint32_t count = 0;
    uint32_t reason = COR_XB_NO_RATE;
    for (uint32_t i = 0; i < xb->rates_count; i++) {
        const cor_xb_rate *rate = &xb->rates[i];
        if (rate->peer_node != request->peer_node) continue;
        if (timestamp < rate->valid_from || timestamp >= rate->valid_until) continue;
        const cor_xb_fx *fx = cor__xb_fx_find(xb, rate->fx_id, rate->peer_node);
        if (fx == NULL) continue;
        cor_xb_quote candidate;
        uint32_t priced = xb_quote_price(rate, request, &candidate);
        if (priced != COR_XB_OK) {
            reason = priced;
            continue;
        }
        candidate.fx_account = fx->account_id;
        candidate.expires_at = timestamp + xb->options.quote_ttl_ns;
        if (candidate.expires_at > rate->valid_until || candidate.expires_at < timestamp) {
            candidate.expires_at = rate->valid_until;
        }
        xb_quote_rank(out, &count, out_max, &candidate);
    }
    *reason_out = count > 0 ? COR_XB_OK : reason;
    return count;
}

cor_error cor_xb_quote_issue(cor_xb *xb, uint64_t timestamp, const cor_xb_quote_request *request,
                             cor_xb_quote *quotes_out, uint32_t quotes_out_max, uint32_t *count_out,
                             uint32_t *reason_out)
{
    if (request == NULL || quotes_out == NULL || count_out == NULL || reason_out == NULL ||
        quotes_out_max == 0) {
        return COR_ERR_INVALID;
    }
    *count_out = 0;
    const xb_peer_entry *peer = cor__xb_peer_find(xb, request->peer_node);
    if (request->amount == 0 ||
        (request->fixed != COR_XB_FIXED_SOURCE && request->fixed != COR_XB_FIXED_DEST)) {
        *reason_out = COR_XB_FORMAT;
        return COR_OK;
    }
    if (peer == NULL) {
        *reason_out = COR_XB_CORRIDOR_UNKNOWN;
        return COR_OK;
    }
    uint32_t count =
        xb_quote_candidates(xb, timestamp, request, quotes_out, quotes_out_max, reason_out);
    if (count == 0) return COR_OK;
    if (!xb_quote_slots_free(xb, timestamp, count)) {
        *reason_out = COR_XB_BUSY;
        return COR_OK;
    }
    for (uint32_t i = 0; i < count; i++) {
        xb->quote_seq++;
        cor_xb_quote *q = &quotes_out[i];
        q->id = ((cor_u128)xb->options.node_id << 96) | (cor_u128)xb->quote_seq;
        q->created_at = timestamp;
        q->dest_ledger = (uint32_t)peer->peer.ledger;
        q->used_by = 0;
        xb->quotes[xb->quote_seq % xb->options.quotes_max] = *q;
    }
    *count_out = count;
    *reason_out = COR_XB_OK;
    return COR_OK;
}
