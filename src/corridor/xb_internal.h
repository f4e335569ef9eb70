/*
 * Private declarations of the cross-border core (src/corridor/). See include/corridor/
 * xborder.h for the contract and docs/PROTOCOL.md for the protocol.
 *
 * Layout: small configuration tables (peers, fx registrations, rate sheets) are arrays
 * scanned linearly (tens of entries). Quotes live in a ring indexed by their sequence.
 * Payments are an append-only array in creation order with a hash index by UETR. Seen
 * message ids are a ring in arrival order with a hash index that supports deletion.
 * Only arrays and scalars are serialized; indexes and the open list are rebuilt on load.
 */
#ifndef COR_XB_INTERNAL_H
#define COR_XB_INTERNAL_H

#include "common/assert.h"
#include "corridor/xborder.h"

#define XB_NS_PER_DAY (86400ull * 1000000000ull)
#define XB_PPM        1000000u

/* ---- hash index: u128 key -> record index, linear probing, backward-shift deletion ----- */

/* A slot holds a 32-bit tag of the key's hash and the record index + 1 (0 = empty); the key
 * itself lives in the record (at key_offset within records[index]), so eight slots share a
 * cache line and a lookup of an absent key (the common case for fresh UETRs and message
 * ids) touches no record. */
typedef struct xb_slot {
    uint32_t tag;
    uint32_t value_next;
} xb_slot;

typedef struct xb_map {
    xb_slot *slots;
    uint64_t mask;
    uint64_t seed;
    const unsigned char *records; /* borrowed: the table the index points into */
    size_t stride_bytes;          /* size of one record */
    size_t key_offset;            /* offset of the cor_u128 key in a record */
} xb_map;

cor_error cor__xb_map_init(xb_map *map, uint32_t capacity, uint64_t seed, const void *records,
                           size_t stride_bytes, size_t key_offset);
void cor__xb_map_release(xb_map *map);
bool cor__xb_map_find(const xb_map *map, cor_u128 key, uint32_t *value_out);
/* key absent; records[value] must already hold key */
void cor__xb_map_insert(xb_map *map, cor_u128 key, uint32_t value);
/* key present; its record must still hold it */
void cor__xb_map_remove(xb_map *map, cor_u128 key);

/* ---- records ---------------------------------------------------------------------------- */

typedef struct xb_peer_entry {
    cor_xb_peer peer;
    cor_u128 out_today; /* leg 1 reserved (not voided) on out_day */
    cor_u128 in_today;  /* leg 2 posted on in_day */
    uint64_t out_day;   /* ns / XB_NS_PER_DAY */
    uint64_t in_day;
} xb_peer_entry;
_Static_assert(sizeof(xb_peer_entry) == 128, "peer entry has no padding");

typedef struct xb_seen {
    cor_u128 msg_id;
    uint64_t created_at;
    uint64_t reserved;
} xb_seen;
_Static_assert(sizeof(xb_seen) == 32, "seen entry has no padding");

_Static_assert(sizeof(cor_xb_peer) == 80, "peer has no padding");
_Static_assert(sizeof(cor_xb_fx) == 32, "fx has no padding");
_Static_assert(sizeof(cor_xb_rate) == 112, "rate has no padding");
_Static_assert(sizeof(cor_xb_quote) == 160, "quote has no padding");
_Static_assert(sizeof(cor_xb_payment) == 432, "payment has no padding");

struct cor_xb {
    cor_xb_options options;
    cor_ledger *ledger; /* borrowed */

    /* State (serialized). */
    uint64_t msg_seq;   /* last message sequence used */
    uint64_t quote_seq; /* last quote sequence used */
    uint64_t messages_sent;
    uint64_t conflicts;
    xb_peer_entry *peers;
    uint32_t peers_count;
    cor_xb_fx *fxs;
    uint32_t fxs_count;
    cor_xb_rate *rates;
    uint32_t rates_count;
    cor_xb_quote *quotes;     /* ring: quote with sequence s at s % quotes_max */
    cor_xb_payment *payments; /* creation order */
    uint32_t payments_count;
    xb_seen *seen; /* ring in arrival order */
    uint32_t seen_head;
    uint32_t seen_count;

    /* Derived (rebuilt on load). */
    xb_map payments_index; /* uetr -> payment index */
    xb_map seen_index;     /* msg_id -> ring slot */
    uint32_t *open_next;   /* FORWARDED origin payments, creation order; index+1 */
    uint32_t *open_prev;
    uint32_t open_head; /* index + 1; 0 = empty */
    uint32_t open_tail;
    uint32_t open_count;
    /* At most the earliest next_retry_at of the open payments (UINT64_MAX: none noted since
     * the last exact scan). Lowered whenever a timer is set, made exact by cor_xb_tick's
     * scan; cor_xb_next_timer answers from it instead of walking every open payment. */
    uint64_t timer_floor;

    /* Output (not state). */
    cor_xb_message *outbox;
    uint32_t outbox_count;
    uint64_t refusals;
};

/* ---- helpers shared by the source files ------------------------------------------------- */

/* The earliest next_retry_at of the open payments, by walking them (UINT64_MAX: none). */
uint64_t cor__xb_timer_scan(const cor_xb *xb);

/* Notes that an open payment's timer is at `at` (keeps timer_floor a lower bound). */
static inline void cor__xb_timer_note(cor_xb *xb, uint64_t at)
{
    if (at < xb->timer_floor) xb->timer_floor = at;
}

xb_peer_entry *cor__xb_peer_find(cor_xb *xb, uint64_t node_id);
const cor_xb_fx *cor__xb_fx_find(const cor_xb *xb, uint64_t fx_id, uint64_t peer_node);
cor_xb_payment *cor__xb_payment_find(cor_xb *xb, cor_u128 uetr, uint32_t *index_out);

/* Appends a payment record; the caller checked capacity. Returns its index. */
uint32_t cor__xb_payment_append(cor_xb *xb, const cor_xb_payment *payment);

void cor__xb_open_push(cor_xb *xb, uint32_t index);
void cor__xb_open_remove(cor_xb *xb, uint32_t index);

bool cor__xb_outbox_has_room(const cor_xb *xb, uint32_t count);
/* Copies message into the outbox with a fresh msg_id, from_node and created_at. */
void cor__xb_send(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message);

void cor__xb_track(cor_xb_payment *payment, uint32_t step, uint32_t node, uint64_t timestamp);

/* Quote slot of a quote id on this node, or NULL. */
cor_xb_quote *cor__xb_quote_slot(cor_xb *xb, cor_u128 quote_id);

#endif
