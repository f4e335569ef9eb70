/*
 * Cross-border core: lifecycle, configuration tables, the hash map, the outbox, queries and
 * the canonical snapshot. Payments are in xb_payment.c, rates and quotes in xb_quote.c.
 *
 * Invariants: payments[] only grows, in creation order; the open list holds exactly the
 * FORWARDED origin payments, in creation order (so rebuilding it from the array on load
 * gives the same order, and tick() visits payments in the same order live and replayed);
 * seen[] holds the last seen_count message ids accepted, oldest at seen_head.
 */
#include <stddef.h>
#include <string.h>

#include "common/alloc.h"
#include "corridor/xb_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Reasons                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static const struct {
    const char *name;
    const char *iso;
    const char *text;
} xb_reasons[] = {
#define XB_REASON_ROW(name, iso, text) {#name, iso, text},
    COR_XB_REASON_LIST(XB_REASON_ROW)
#undef XB_REASON_ROW
};

const char *cor_xb_reason_iso(uint32_t reason)
{
    return reason < COR_XB_REASON_COUNT ? xb_reasons[reason].iso : "NARR";
}

const char *cor_xb_reason_text(uint32_t reason)
{
    return reason < COR_XB_REASON_COUNT ? xb_reasons[reason].text : "unknown reason";
}

const char *cor_xb_reason_name(uint32_t reason)
{
    return reason < COR_XB_REASON_COUNT ? xb_reasons[reason].name : "unknown";
}

/* ---------------------------------------------------------------------------------------- */
/* Hash map                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static uint64_t map_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t map_hash(const xb_map *map, cor_u128 key)
{
    return map_mix((uint64_t)key ^ map_mix((uint64_t)(key >> 64) ^ map->seed));
}

static cor_u128 map_key(const xb_map *map, uint32_t value)
{
    cor_u128 key;
    memcpy(&key, map->records + (size_t)value * map->stride_bytes + map->key_offset, sizeof(key));
    return key;
}

cor_error cor__xb_map_init(xb_map *map, uint32_t capacity, uint64_t seed, const void *records,
                           size_t stride_bytes, size_t key_offset)
{
    uint64_t slot_count = 16;
    while (slot_count < 2ull * capacity)
        slot_count <<= 1;
    map->slots = cor_calloc((size_t)slot_count, sizeof(xb_slot));
    if (map->slots == NULL) return COR_ERR_NOMEM;
    map->mask = slot_count - 1;
    map->seed = seed;
    map->records = records;
    map->stride_bytes = stride_bytes;
    map->key_offset = key_offset;
    return COR_OK;
}

void cor__xb_map_release(xb_map *map)
{
    cor_free(map->slots);
    memset(map, 0, sizeof(*map));
}

static bool map_find_slot(const xb_map *map, cor_u128 key, uint64_t *slot_out)
{
    uint64_t hash = map_hash(map, key);
    uint32_t tag = (uint32_t)(hash >> 32);
    uint64_t slot = hash & map->mask;
    for (uint64_t probes = 0; probes <= map->mask; probes++) {
        const xb_slot *s = &map->slots[slot];
        if (s->value_next == 0) return false;
        if (s->tag == tag && map_key(map, s->value_next - 1) == key) {
            *slot_out = slot;
            return true;
        }
        slot = (slot + 1) & map->mask;
    }
    return false;
}

static void map_prefetch(const xb_map *map, cor_u128 key)
{
    __builtin_prefetch(&map->slots[map_hash(map, key) & map->mask]);
}

void cor_xb_prefetch(const cor_xb *xb, cor_u128 msg_id, cor_u128 uetr)
{
    map_prefetch(&xb->seen_index, msg_id);
    map_prefetch(&xb->payments_index, uetr);
}

bool cor__xb_map_find(const xb_map *map, cor_u128 key, uint32_t *value_out)
{
    uint64_t slot = 0;
    if (!map_find_slot(map, key, &slot)) return false;
    *value_out = map->slots[slot].value_next - 1;
    return true;
}

void cor__xb_map_insert(xb_map *map, cor_u128 key, uint32_t value)
{
    COR_ASSERT(value != UINT32_MAX);
    COR_ASSERT(map_key(map, value) == key);
    uint64_t hash = map_hash(map, key);
    uint64_t slot = hash & map->mask;
    for (uint64_t probes = 0; probes <= map->mask; probes++) {
        xb_slot *s = &map->slots[slot];
        if (s->value_next == 0) {
            s->tag = (uint32_t)(hash >> 32);
            s->value_next = value + 1;
            return;
        }
        COR_DEBUG_ASSERT(map_key(map, s->value_next - 1) != key);
        slot = (slot + 1) & map->mask;
    }
    COR_UNREACHABLE(); /* load factor is at most 1/2 by construction */
}

/* Backward-shift deletion: later entries of the probe run move into the hole when their
 * home slot does not lie cyclically between the hole and themselves. */
void cor__xb_map_remove(xb_map *map, cor_u128 key)
{
    uint64_t hole = 0;
    bool found = map_find_slot(map, key, &hole);
    COR_ASSERT(found);
    uint64_t next = (hole + 1) & map->mask;
    for (uint64_t probes = 0; probes <= map->mask; probes++) {
        xb_slot *s = &map->slots[next];
        if (s->value_next == 0) break;
        uint64_t home = map_hash(map, map_key(map, s->value_next - 1)) & map->mask;
        bool stays = ((next - home) & map->mask) < ((next - hole) & map->mask);
        if (!stays) {
            map->slots[hole] = *s;
            hole = next;
        }
        next = (next + 1) & map->mask;
    }
    memset(&map->slots[hole], 0, sizeof(xb_slot));
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

void cor_xb_options_default(cor_xb_options *options, uint32_t node_id, uint32_t ledger)
{
    *options = (cor_xb_options){
        .node_id = node_id,
        .ledger = ledger,
        .payments_max = 4096,
        .quotes_max = 1024,
        .rates_max = 64,
        .peers_max = 16,
        .fx_max = 64,
        .seen_max = 8192,
        .outbox_max = 1024,
        .transfer_code = 0x0b0b,
        .quote_ttl_ns = 60ull * 1000000000ull,
        .deadline_ns = 30ull * 1000000000ull,
        .deadline_max_ns = 300ull * 1000000000ull,
        .retry_initial_ns = 200ull * 1000000ull,
        .retry_max_ns = 5ull * 1000000000ull,
        .replay_window_ns = 120ull * 1000000000ull,
        .clock_skew_ns = 5ull * 1000000000ull,
        .hash_seed = 0x636f727269646f72ull,
    };
}

static cor_error xb_options_check(const cor_xb_options *o)
{
    const uint32_t table_max = 1u << 26;
    if (o->node_id == 0 || o->ledger == 0 || o->transfer_code == 0) return COR_ERR_INVALID;
    if (o->payments_max == 0 || o->payments_max > table_max) return COR_ERR_INVALID;
    if (o->quotes_max == 0 || o->quotes_max > table_max) return COR_ERR_INVALID;
    if (o->seen_max == 0 || o->seen_max > table_max) return COR_ERR_INVALID;
    if (o->outbox_max == 0 || o->outbox_max > table_max) return COR_ERR_INVALID;
    if (o->rates_max == 0 || o->rates_max > 65536) return COR_ERR_INVALID;
    if (o->peers_max == 0 || o->peers_max > 4096) return COR_ERR_INVALID;
    if (o->fx_max == 0 || o->fx_max > 65536) return COR_ERR_INVALID;
    if (o->quote_ttl_ns == 0 || o->deadline_ns == 0) return COR_ERR_INVALID;
    if (o->deadline_max_ns < o->deadline_ns) return COR_ERR_INVALID;
    if (o->retry_initial_ns == 0 || o->retry_max_ns < o->retry_initial_ns) {
        return COR_ERR_INVALID;
    }
    if (o->replay_window_ns == 0) return COR_ERR_INVALID;
    if (o->reserved != 0) return COR_ERR_INVALID;
    return COR_OK;
}

static void xb_prefault(cor_xb *xb)
{
    const cor_xb_options *o = &xb->options;
    cor_prefault(xb->quotes, (size_t)o->quotes_max * sizeof(cor_xb_quote));
    cor_prefault(xb->payments, (size_t)o->payments_max * sizeof(cor_xb_payment));
    cor_prefault(xb->seen, (size_t)o->seen_max * sizeof(xb_seen));
    cor_prefault(xb->open_next, (size_t)o->payments_max * sizeof(uint32_t));
    cor_prefault(xb->open_prev, (size_t)o->payments_max * sizeof(uint32_t));
    cor_prefault(xb->outbox, (size_t)o->outbox_max * sizeof(cor_xb_message));
    cor_prefault(xb->payments_index.slots, (size_t)(xb->payments_index.mask + 1) * sizeof(xb_slot));
    cor_prefault(xb->seen_index.slots, (size_t)(xb->seen_index.mask + 1) * sizeof(xb_slot));
}

static void xb_free_tables(cor_xb *xb)
{
    cor_free(xb->peers);
    cor_free(xb->fxs);
    cor_free(xb->rates);
    cor_free(xb->quotes);
    cor_free(xb->payments);
    cor_free(xb->seen);
    cor_free(xb->open_next);
    cor_free(xb->open_prev);
    cor_free(xb->outbox);
    cor__xb_map_release(&xb->payments_index);
    cor__xb_map_release(&xb->seen_index);
}

cor_error cor_xb_open(const cor_xb_options *options, cor_ledger *ledger, cor_xb **xb_out)
{
    if (xb_out == NULL) return COR_ERR_INVALID;
    *xb_out = NULL;
    if (options == NULL || ledger == NULL) return COR_ERR_INVALID;
    cor_error rc = xb_options_check(options);
    if (rc != COR_OK) return rc;

    cor_xb *xb = cor_calloc(1, sizeof(*xb));
    if (xb == NULL) return COR_ERR_NOMEM;
    xb->options = *options;
    xb->ledger = ledger;
    const cor_xb_options *o = &xb->options;
    xb->peers = cor_calloc(o->peers_max, sizeof(xb_peer_entry));
    xb->fxs = cor_calloc(o->fx_max, sizeof(cor_xb_fx));
    xb->rates = cor_calloc(o->rates_max, sizeof(cor_xb_rate));
    xb->quotes = cor_calloc(o->quotes_max, sizeof(cor_xb_quote));
    xb->payments = cor_calloc(o->payments_max, sizeof(cor_xb_payment));
    xb->seen = cor_calloc(o->seen_max, sizeof(xb_seen));
    xb->open_next = cor_calloc(o->payments_max, sizeof(uint32_t));
    xb->open_prev = cor_calloc(o->payments_max, sizeof(uint32_t));
    xb->timer_floor = UINT64_MAX;
    xb->outbox = cor_calloc(o->outbox_max, sizeof(cor_xb_message));
    if (xb->peers == NULL || xb->fxs == NULL || xb->rates == NULL || xb->quotes == NULL ||
        xb->payments == NULL || xb->seen == NULL || xb->open_next == NULL ||
        xb->open_prev == NULL || xb->outbox == NULL) {
        rc = COR_ERR_NOMEM;
        goto fail;
    }
    rc = cor__xb_map_init(&xb->payments_index, o->payments_max, o->hash_seed, xb->payments,
                          sizeof(cor_xb_payment),
                          offsetof(cor_xb_payment, instruction) + offsetof(cor_xb_message, uetr));
    if (rc != COR_OK) goto fail;
    rc = cor__xb_map_init(&xb->seen_index, o->seen_max, o->hash_seed ^ 0x5eedull, xb->seen,
                          sizeof(xb_seen), offsetof(xb_seen, msg_id));
    if (rc != COR_OK) goto fail;
    if (o->prefault) xb_prefault(xb);
    *xb_out = xb;
    return COR_OK;

fail:
    xb_free_tables(xb);
    cor_free(xb);
    return rc;
}

void cor_xb_close(cor_xb *xb)
{
    if (xb == NULL) return;
    xb_free_tables(xb);
    cor_free(xb);
}

void cor_xb_ledger_set(cor_xb *xb, cor_ledger *ledger)
{
    COR_ASSERT(ledger != NULL);
    xb->ledger = ledger;
}

/* ---------------------------------------------------------------------------------------- */
/* Configuration                                                                            */
/* ---------------------------------------------------------------------------------------- */

xb_peer_entry *cor__xb_peer_find(cor_xb *xb, uint64_t node_id)
{
    for (uint32_t i = 0; i < xb->peers_count; i++) {
        if (xb->peers[i].peer.node_id == node_id) return &xb->peers[i];
    }
    return NULL;
}

const cor_xb_fx *cor__xb_fx_find(const cor_xb *xb, uint64_t fx_id, uint64_t peer_node)
{
    for (uint32_t i = 0; i < xb->fxs_count; i++) {
        if (xb->fxs[i].fx_id == fx_id && xb->fxs[i].peer_node == peer_node) return &xb->fxs[i];
    }
    return NULL;
}

cor_error cor_xb_peer_add(cor_xb *xb, const cor_xb_peer *peer)
{
    if (peer == NULL) return COR_ERR_INVALID;
    if (peer->node_id == 0 || peer->node_id > UINT32_MAX) return COR_ERR_INVALID;
    if (peer->node_id == xb->options.node_id) return COR_ERR_INVALID;
    if (peer->ledger == 0 || peer->ledger > UINT32_MAX) return COR_ERR_INVALID;
    if (peer->ledger == xb->options.ledger) return COR_ERR_INVALID; /* no same-currency link */
    xb_peer_entry *entry = cor__xb_peer_find(xb, peer->node_id);
    if (entry == NULL) {
        if (xb->peers_count == xb->options.peers_max) return COR_ERR_LIMIT;
        entry = &xb->peers[xb->peers_count++];
        memset(entry, 0, sizeof(*entry));
    } else if (entry->peer.ledger != peer->ledger) {
        return COR_ERR_INVALID; /* a corridor's currency never changes under payments */
    }
    entry->peer = *peer;
    return COR_OK;
}

cor_error cor_xb_fx_add(cor_xb *xb, const cor_xb_fx *fx)
{
    if (fx == NULL) return COR_ERR_INVALID;
    if (fx->fx_id == 0 || fx->account_id == 0 || fx->account_id == COR_U128_MAX) {
        return COR_ERR_INVALID;
    }
    if (cor__xb_peer_find(xb, fx->peer_node) == NULL) return COR_ERR_INVALID;
    for (uint32_t i = 0; i < xb->fxs_count; i++) {
        if (xb->fxs[i].fx_id == fx->fx_id && xb->fxs[i].peer_node == fx->peer_node) {
            xb->fxs[i] = *fx;
            return COR_OK;
        }
    }
    if (xb->fxs_count == xb->options.fx_max) return COR_ERR_LIMIT;
    xb->fxs[xb->fxs_count++] = *fx;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Payments table, open list, outbox, tracking                                              */
/* ---------------------------------------------------------------------------------------- */

cor_xb_payment *cor__xb_payment_find(cor_xb *xb, cor_u128 uetr, uint32_t *index_out)
{
    uint32_t index = 0;
    if (!cor__xb_map_find(&xb->payments_index, uetr, &index)) return NULL;
    COR_ASSERT(index < xb->payments_count);
    if (index_out != NULL) *index_out = index;
    return &xb->payments[index];
}

uint32_t cor__xb_payment_append(cor_xb *xb, const cor_xb_payment *payment)
{
    COR_ASSERT(xb->payments_count < xb->options.payments_max);
    uint32_t index = xb->payments_count++;
    xb->payments[index] = *payment;
    cor__xb_map_insert(&xb->payments_index, payment->instruction.uetr, index);
    return index;
}

void cor__xb_open_push(cor_xb *xb, uint32_t index)
{
    COR_ASSERT(xb->open_next[index] == 0 && xb->open_prev[index] == 0);
    COR_ASSERT(xb->open_tail == 0 || xb->open_tail - 1 < index); /* creation order kept */
    xb->open_prev[index] = xb->open_tail;
    if (xb->open_tail != 0) {
        xb->open_next[xb->open_tail - 1] = index + 1;
    } else {
        xb->open_head = index + 1;
    }
    xb->open_tail = index + 1;
    xb->open_count++;
    cor__xb_timer_note(xb, xb->payments[index].next_retry_at);
}

void cor__xb_open_remove(cor_xb *xb, uint32_t index)
{
    COR_ASSERT(xb->open_count > 0);
    uint32_t next = xb->open_next[index];
    uint32_t prev = xb->open_prev[index];
    if (prev != 0) {
        xb->open_next[prev - 1] = next;
    } else {
        COR_ASSERT(xb->open_head == index + 1);
        xb->open_head = next;
    }
    if (next != 0) {
        xb->open_prev[next - 1] = prev;
    } else {
        COR_ASSERT(xb->open_tail == index + 1);
        xb->open_tail = prev;
    }
    xb->open_next[index] = 0;
    xb->open_prev[index] = 0;
    xb->open_count--;
}

bool cor__xb_outbox_has_room(const cor_xb *xb, uint32_t count)
{
    return xb->options.outbox_max - xb->outbox_count >= count;
}

void cor__xb_send(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message)
{
    COR_ASSERT(xb->outbox_count < xb->options.outbox_max);
    COR_ASSERT(message->type >= COR_XB_PACS008 && message->type <= COR_XB_PACS004);
    cor_xb_message *out = &xb->outbox[xb->outbox_count++];
    *out = *message;
    xb->msg_seq++;
    out->msg_id = ((cor_u128)xb->options.node_id << 96) | (cor_u128)xb->msg_seq;
    out->from_node = xb->options.node_id;
    out->created_at = timestamp;
    xb->messages_sent++;
}

void cor__xb_track(cor_xb_payment *payment, uint32_t step, uint32_t node, uint64_t timestamp)
{
    if (payment->track_count == COR_XB_TRACK_MAX) {
        /* Keep the first steps and the latest one: the track view needs both ends. */
        payment->track[COR_XB_TRACK_MAX - 1] =
            (cor_xb_track_event){.timestamp = timestamp, .node = node, .step = step};
        return;
    }
    payment->track[payment->track_count++] =
        (cor_xb_track_event){.timestamp = timestamp, .node = node, .step = step};
}

uint32_t cor_xb_outbox_count(const cor_xb *xb)
{
    return xb->outbox_count;
}

const cor_xb_message *cor_xb_outbox_at(const cor_xb *xb, uint32_t index)
{
    COR_ASSERT(index < xb->outbox_count);
    return &xb->outbox[index];
}

void cor_xb_outbox_clear(cor_xb *xb)
{
    xb->outbox_count = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                  */
/* ---------------------------------------------------------------------------------------- */

bool cor_xb_payment_lookup(const cor_xb *xb, cor_u128 uetr, cor_xb_payment *out)
{
    uint32_t index = 0;
    if (!cor__xb_map_find(&xb->payments_index, uetr, &index)) return false;
    *out = xb->payments[index];
    return true;
}

void cor_xb_payments_each(const cor_xb *xb,
                          bool (*visit)(void *context, const cor_xb_payment *payment),
                          void *context)
{
    for (uint32_t i = 0; i < xb->payments_count; i++) {
        if (!visit(context, &xb->payments[i])) return;
    }
}

bool cor_xb_next_timer(const cor_xb *xb, uint64_t *at_out)
{
    if (xb->open_count == 0) return false;
    COR_DEBUG_ASSERT(xb->timer_floor <= cor__xb_timer_scan(xb));
    *at_out = xb->timer_floor;
    return true;
}

uint64_t cor__xb_timer_scan(const cor_xb *xb)
{
    uint64_t earliest = UINT64_MAX;
    for (uint32_t next = xb->open_head; next != 0; next = xb->open_next[next - 1]) {
        const cor_xb_payment *p = &xb->payments[next - 1];
        if (p->next_retry_at < earliest) earliest = p->next_retry_at;
    }
    return earliest;
}

void cor_xb_stats_get(const cor_xb *xb, cor_xb_stats *out)
{
    *out = (cor_xb_stats){
        .payments_count = xb->payments_count,
        .open_count = xb->open_count,
        .quotes_issued = xb->quote_seq,
        .seen_count = xb->seen_count,
        .messages_sent = xb->messages_sent,
        .refusals = xb->refusals,
        .conflicts = xb->conflicts,
    };
}

static uint64_t xb_reconcile_mix(cor_u128 value, uint64_t state)
{
    state = map_mix(state ^ (uint64_t)value);
    return map_mix(state ^ (uint64_t)(value >> 64));
}

void cor_xb_reconcile_summary(const cor_xb *xb, uint64_t fx_id, uint32_t from_node,
                              uint32_t to_node, uint64_t decided_from, uint64_t decided_until,
                              cor_xb_reconcile *out)
{
    *out = (cor_xb_reconcile){0};
    for (uint32_t i = 0; i < xb->payments_count; i++) {
        const cor_xb_payment *p = &xb->payments[i];
        const cor_xb_message *m = &p->instruction;
        if (p->state != COR_XB_STATE_COMMITTED || m->fx_id != fx_id) continue;
        if (m->from_node != from_node || m->to_node != to_node) continue;
        if (p->decided_at < decided_from || p->decided_at >= decided_until) continue;
        out->count++;
        out->amount_source += m->amount_source; /* wraps only past 2^128: not reachable */
        out->amount_dest += m->amount_dest;
        uint64_t h = xb_reconcile_mix(m->uetr, 0x7265636f6e63696cull);
        h = xb_reconcile_mix(m->amount_source, h);
        out->digest += xb_reconcile_mix(m->amount_dest, h); /* a sum: order-independent */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Snapshot                                                                                 */
/* ---------------------------------------------------------------------------------------- */

#define XB_STATE_MAGIC   0x31425852524f43ull /* "CORRXB1" little-endian */
#define XB_STATE_VERSION 1u

typedef struct xb_state_header {
    uint64_t magic;
    uint32_t version;
    uint32_t node_id;
    uint32_t ledger;
    uint32_t peers_count;
    uint32_t fxs_count;
    uint32_t rates_count;
    uint32_t quotes_count; /* ring slots written, oldest sequence first */
    uint32_t payments_count;
    uint32_t seen_count;
    uint32_t reserved;
    uint64_t msg_seq;
    uint64_t quote_seq;
    uint64_t messages_sent;
    uint64_t conflicts;
} xb_state_header;
_Static_assert(sizeof(xb_state_header) == 80, "state header has no padding");

static uint32_t xb_quotes_stored(uint64_t quote_seq, uint32_t quotes_max)
{
    return quote_seq < quotes_max ? (uint32_t)quote_seq : quotes_max;
}

cor_error cor_xb_serialize(const cor_xb *xb, cor_ledger_write_fn write, void *context)
{
    uint32_t quotes_count = xb_quotes_stored(xb->quote_seq, xb->options.quotes_max);
    xb_state_header header = {
        .magic = XB_STATE_MAGIC,
        .version = XB_STATE_VERSION,
        .node_id = xb->options.node_id,
        .ledger = xb->options.ledger,
        .peers_count = xb->peers_count,
        .fxs_count = xb->fxs_count,
        .rates_count = xb->rates_count,
        .quotes_count = quotes_count,
        .payments_count = xb->payments_count,
        .seen_count = xb->seen_count,
        .msg_seq = xb->msg_seq,
        .quote_seq = xb->quote_seq,
        .messages_sent = xb->messages_sent,
        .conflicts = xb->conflicts,
    };
    cor_error rc = write(context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    rc = write(context, xb->peers, (size_t)xb->peers_count * sizeof(xb_peer_entry));
    if (rc != COR_OK) return rc;
    rc = write(context, xb->fxs, (size_t)xb->fxs_count * sizeof(cor_xb_fx));
    if (rc != COR_OK) return rc;
    rc = write(context, xb->rates, (size_t)xb->rates_count * sizeof(cor_xb_rate));
    if (rc != COR_OK) return rc;
    uint32_t max = xb->options.quotes_max;
    for (uint64_t s = xb->quote_seq - quotes_count + 1; s <= xb->quote_seq; s++) {
        rc = write(context, &xb->quotes[s % max], sizeof(cor_xb_quote));
        if (rc != COR_OK) return rc;
    }
    rc = write(context, xb->payments, (size_t)xb->payments_count * sizeof(cor_xb_payment));
    if (rc != COR_OK) return rc;
    for (uint32_t i = 0; i < xb->seen_count; i++) {
        rc = write(context, &xb->seen[(xb->seen_head + i) % xb->options.seen_max], sizeof(xb_seen));
        if (rc != COR_OK) return rc;
    }
    return COR_OK;
}

static cor_error xb_header_check(const xb_state_header *h, const cor_xb_options *o)
{
    if (h->magic != XB_STATE_MAGIC) return COR_ERR_CORRUPT;
    if (h->version != XB_STATE_VERSION) return COR_ERR_VERSION;
    if (h->node_id != o->node_id || h->ledger != o->ledger || h->reserved != 0) {
        return COR_ERR_CORRUPT;
    }
    if (h->peers_count > o->peers_max || h->fxs_count > o->fx_max ||
        h->rates_count > o->rates_max || h->payments_count > o->payments_max ||
        h->seen_count > o->seen_max) {
        return COR_ERR_LIMIT;
    }
    if (h->quotes_count != xb_quotes_stored(h->quote_seq, o->quotes_max)) return COR_ERR_LIMIT;
    return COR_OK;
}

static bool xb_payment_valid(cor_xb *xb, const cor_xb_payment *p)
{
    const cor_xb_message *i = &p->instruction;
    if (p->role != COR_XB_ROLE_ORIGIN && p->role != COR_XB_ROLE_BENEFICIARY) return false;
    if (p->state < COR_XB_STATE_FORWARDED || p->state > COR_XB_STATE_HELD) return false;
    if (p->reason >= COR_XB_REASON_COUNT || p->track_count > COR_XB_TRACK_MAX) return false;
    if (p->b_status > COR_XB_STATUS_RJCT || p->cancel_requested > 1) return false;
    if (p->role == COR_XB_ROLE_BENEFICIARY) {
        if (p->state == COR_XB_STATE_FORWARDED || i->to_node != xb->options.node_id) {
            return false;
        }
        if (p->state == COR_XB_STATE_HELD && cor__xb_peer_find(xb, i->from_node) == NULL) {
            return false;
        }
    } else if (p->state == COR_XB_STATE_HELD || i->from_node != xb->options.node_id ||
               cor__xb_peer_find(xb, i->to_node) == NULL) {
        return false; /* an origin payment always names one of our corridors */
    }
    return cor_xb_uetr_valid(i->uetr);
}

static bool xb_rate_valid(const cor_xb_rate *r)
{
    return r->rate_num != 0 && r->rate_den != 0 && r->spread_ppm < XB_PPM && r->amount_min != 0 &&
           r->amount_min <= r->amount_max && r->valid_from < r->valid_until && r->reserved == 0;
}

/* Rebuilds indexes and the open list from the arrays, refusing inconsistent content. */
static cor_error xb_rebuild(cor_xb *xb)
{
    for (uint32_t i = 0; i < xb->peers_count; i++) {
        const cor_xb_peer *peer = &xb->peers[i].peer;
        if (peer->node_id == 0 || peer->node_id > UINT32_MAX || peer->ledger == 0 ||
            peer->ledger > UINT32_MAX || peer->node_id == xb->options.node_id) {
            return COR_ERR_CORRUPT;
        }
    }
    for (uint32_t i = 0; i < xb->rates_count; i++) {
        if (!xb_rate_valid(&xb->rates[i])) return COR_ERR_CORRUPT;
    }
    for (uint32_t i = 0; i < xb->payments_count; i++) {
        const cor_xb_payment *p = &xb->payments[i];
        if (!xb_payment_valid(xb, p)) return COR_ERR_CORRUPT;
        uint32_t existing = 0;
        if (cor__xb_map_find(&xb->payments_index, p->instruction.uetr, &existing)) {
            return COR_ERR_CORRUPT;
        }
        cor__xb_map_insert(&xb->payments_index, p->instruction.uetr, i);
        if (p->state == COR_XB_STATE_FORWARDED || p->state == COR_XB_STATE_HELD) {
            cor__xb_open_push(xb, i); /* the open list: every payment not final */
        }
    }
    for (uint32_t i = 0; i < xb->seen_count; i++) {
        uint32_t existing = 0;
        if (xb->seen[i].msg_id == 0) return COR_ERR_CORRUPT;
        if (cor__xb_map_find(&xb->seen_index, xb->seen[i].msg_id, &existing)) {
            return COR_ERR_CORRUPT;
        }
        cor__xb_map_insert(&xb->seen_index, xb->seen[i].msg_id, i);
    }
    return COR_OK;
}

static cor_error xb_read_quotes(cor_xb *xb, const xb_state_header *h, cor_ledger_read_fn read,
                                void *context)
{
    uint32_t max = xb->options.quotes_max;
    for (uint64_t s = h->quote_seq - h->quotes_count + 1; s <= h->quote_seq; s++) {
        cor_xb_quote *q = &xb->quotes[s % max];
        cor_error rc = read(context, q, sizeof(*q));
        if (rc != COR_OK) return rc;
        cor_u128 id = ((cor_u128)xb->options.node_id << 96) | (cor_u128)s;
        if (q->id != id) return COR_ERR_CORRUPT;
    }
    return COR_OK;
}

cor_error cor_xb_deserialize(const cor_xb_options *options, cor_ledger *ledger,
                             cor_ledger_read_fn read, void *context, cor_xb **xb_out)
{
    if (xb_out == NULL) return COR_ERR_INVALID;
    *xb_out = NULL;
    if (options == NULL || read == NULL) return COR_ERR_INVALID;
    xb_state_header header;
    cor_error rc = read(context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    rc = xb_header_check(&header, options);
    if (rc != COR_OK) return rc;

    cor_xb *xb = NULL;
    rc = cor_xb_open(options, ledger, &xb);
    if (rc != COR_OK) return rc;
    xb->peers_count = header.peers_count;
    xb->fxs_count = header.fxs_count;
    xb->rates_count = header.rates_count;
    xb->payments_count = header.payments_count;
    xb->seen_count = header.seen_count;
    xb->msg_seq = header.msg_seq;
    xb->quote_seq = header.quote_seq;
    xb->messages_sent = header.messages_sent;
    xb->conflicts = header.conflicts;
    rc = read(context, xb->peers, (size_t)header.peers_count * sizeof(xb_peer_entry));
    if (rc != COR_OK) goto fail;
    rc = read(context, xb->fxs, (size_t)header.fxs_count * sizeof(cor_xb_fx));
    if (rc != COR_OK) goto fail;
    rc = read(context, xb->rates, (size_t)header.rates_count * sizeof(cor_xb_rate));
    if (rc != COR_OK) goto fail;
    rc = xb_read_quotes(xb, &header, read, context);
    if (rc != COR_OK) goto fail;
    rc = read(context, xb->payments, (size_t)header.payments_count * sizeof(cor_xb_payment));
    if (rc != COR_OK) goto fail;
    rc = read(context, xb->seen, (size_t)header.seen_count * sizeof(xb_seen));
    if (rc != COR_OK) goto fail;
    rc = xb_rebuild(xb);
    if (rc != COR_OK) goto fail;
    *xb_out = xb;
    return COR_OK;

fail:
    cor_xb_close(xb);
    return rc;
}

void cor_xb_rates_each(const cor_xb *xb, bool (*visit)(void *context, const cor_xb_rate *rate),
                       void *context)
{
    for (uint32_t i = 0; i < xb->rates_count; i++) {
        if (!visit(context, &xb->rates[i])) return;
    }
}
