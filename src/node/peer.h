/*
 * The node's outbound peer link: delivers the cross-border core's protocol messages
 * (cor_xb_message, already durable in the core's outbox) to peer nodes over HTTP.
 *
 * One link per configured peer, each with its own bounded queue, its own thread, its own
 * cor_wire (encoding is not shared between threads) and COR_NODE_PEER_INFLIGHT_MAX request
 * slots on one libcurl multi handle: each slot has its own easy handle (its own keep-alive
 * connection), body buffer (COR_NODE_PEER_BODY_SIZE_MAX, allocated at open) and answer. A
 * link thread sleeps on a condition variable (or, with requests in flight, in
 * curl_multi_poll); cor_node_sender_enqueue wakes it. When a slot is free it takes up to
 * COR_NODE_PEER_BATCH_MAX queued messages, encodes each as a signed envelope
 * (include/corridor/xborder_wire.h) back to back into the slot's body (at most
 * COR_NODE_PEER_BODY_SIZE_MAX bytes, the rest goes into the next body; each envelope says
 * its own size at offset 68) and starts a POST to "{url}/v1/peer/messages" with
 * Content-Type application/octet-stream. Under a backlog it does not wait for the answer:
 * while a request is in flight (the peer verifies, decodes and journals it) and at least
 * pipeline_min messages wait, the thread encodes and starts the next one, moving the
 * transfers along between encoded runs. With less waiting, the next request starts when
 * the one in flight is answered, carrying everything that arrived meanwhile: at low rates
 * one request at a time gives each peer fewer, fuller batches to journal (a tail latency a
 * third lower at 1,000 payments/s in bench/xborder_bench.sh), and under load the overlap
 * keeps both nodes' cores busy. Messages leave in the order enqueued, but requests in flight
 * at once may arrive and be applied in any order.
 *
 * Each request, on its own:
 *
 *   2xx                       delivered (sent += envelopes, batches += 1, up = true)
 *   transport error or 5xx    the same body again after 10 ms, 20 ms, ... (doubling, at most
 *                             2 s) up to COR_NODE_PEER_RETRIES times, then dropped (failed)
 *   any other status (4xx)    dropped at once (failed); the answer's body is logged, at most
 *                             once a second per link
 *
 * While any request of a link is retrying (from its first failed attempt until it is
 * delivered or dropped) the link starts no new request: the peer is likely down or
 * overloaded, and the messages wait in the queue (counted in `queued`). A request waiting
 * for its retry leaves the thread in curl_multi_poll until it is due, so close is noticed.
 *
 * Reordering, duplicates and loss are safe; the protocol tolerates all three
 * (docs/PROTOCOL.md): each message is checked on its own against the payment its UETR
 * names, and the beneficiary's table covers a status request or cancellation that arrives
 * before its instruction; message ids are de-duplicated within the replay window and
 * decisions recorded once per UETR; the core regenerates lost messages from its timers (the
 * origin re-sends instructions and status requests, the beneficiary answers again). The
 * protocol's simulation (tests/sim/xborder_sim.c) drops, duplicates and reorders messages.
 * So the sender never needs to be durable, ordered across requests, or to retry forever.
 * Timeouts: connect 1 s, whole request 5 s.
 *
 * Threads: enqueue, link and close may be called from any thread; enqueue never blocks on
 * the network (it takes one short mutex per peer, and may write to the multi handle's wakeup
 * pipe). close must not race with the others.
 */
#ifndef COR_NODE_PEER_H
#define COR_NODE_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/xborder.h"
#include "corridor/xborder_wire.h"
#include "node/config.h"

#define COR_NODE_PEER_BATCH_MAX      4096u                /* envelopes per request */
#define COR_NODE_PEER_INFLIGHT_MAX   3u                   /* requests in flight per link */
#define COR_NODE_PEER_PIPELINE_MIN   1024u /* default backlog that starts a second request */
#define COR_NODE_PEER_BODY_SIZE_MAX  (8u * 1024u * 1024u) /* bytes per request */
#define COR_NODE_PEER_RETRIES        8u                   /* 10 ms .. 1.28 s: 2.55 s in all */
#define COR_NODE_PEER_RETRY_FIRST_NS 10000000ull          /* 10 ms */
#define COR_NODE_PEER_RETRY_MAX_NS   2000000000ull        /* 2 s */
#define COR_NODE_PEER_QUEUE_MAX      (1u << 20)           /* queue_messages_max at most */
#define COR_NODE_PEER_PATH           "/v1/peer/messages"
_Static_assert(COR_NODE_PEER_BODY_SIZE_MAX >= COR_WIRE_SIZE_BYTES_MAX,
               "a request body holds the largest envelope");

/* Writes one envelope for message into out (see cor_wire_encode for the contract). */
typedef cor_error (*cor_node_encode_fn)(void *context, const cor_wire *wire,
                                        const cor_xb_message *message, uint8_t *out,
                                        size_t out_size_max, size_t *size_out);

/* Writes one batch envelope for messages[0 .. count) (one type, one addressee; see
 * cor_wire_encode_batch for the contract). */
typedef cor_error (*cor_node_encode_batch_fn)(void *context, const cor_wire *wire,
                                              const cor_xb_message *messages, uint32_t count,
                                              uint8_t *out, size_t out_size_max,
                                              size_t *size_out);

typedef struct cor_node_sender_options {
    const cor_node_config *config; /* self + peers; copied at open */
    const uint8_t *secret_key;     /* 64-byte Ed25519 sk (node.key); copied at open */
    cor_node_encode_fn encode;     /* NULL: cor_wire_encode (used when encode_batch is NULL) */
    /* When set, runs of queued messages of one kind (up to COR_WIRE_BATCH_MAX) go out as one
     * signed batch envelope: one signature and one ISO document for the run. */
    cor_node_encode_batch_fn encode_batch;
    void *encode_context;          /* borrowed until close; encode runs on link threads */
    uint32_t queue_messages_max;   /* per peer, 1 .. COR_NODE_PEER_QUEUE_MAX, e.g. 65536 */
    /* Messages waiting (taken or queued) that start another request while one is in flight;
     * 0: COR_NODE_PEER_PIPELINE_MIN; 1: whenever a slot is free. */
    uint32_t pipeline_min;
} cor_node_sender_options;

typedef struct cor_node_sender cor_node_sender; /* opaque */

/* The wire identities the configuration gives: this node (no keys) and one peer (its key). */
cor_wire_node cor_node_wire_self(const cor_node_config *config);
cor_wire_node cor_node_wire_peer(const cor_node_peer_config *peer);

/*
 * Builds one cor_wire per peer (self: the configuration's name, BIC, currency, node id,
 * ledger = the currency's numeric code, key id; the peer with its one key), allocates every
 * queue and body buffer, and starts one thread per peer. A configuration without peers gives
 * a sender with no links (enqueue counts everything as unroutable). Errors: COR_ERR_INVALID
 * (the wire refuses the identities or the key: see cor_wire_open; queue bound out of range),
 * COR_ERR_NOMEM, COR_ERR_IO (libcurl or a thread could not start). *out is NULL on failure.
 */
cor_error cor_node_sender_open(const cor_node_sender_options *options, cor_node_sender **out);

/*
 * Copies count messages into their peers' queues (by to_node) and wakes the link threads.
 * Never blocks on the network. A message for a full queue is dropped and counted in that
 * link's `dropped`; a message for a node that is not a peer is dropped and counted in
 * cor_node_sender_unroutable. Messages to one peer are taken and encoded in the order
 * enqueued (requests in flight at once may arrive in any order).
 */
void cor_node_sender_enqueue(cor_node_sender *sender, const cor_xb_message *messages,
                             uint32_t count);

typedef struct cor_node_link_stats {
    uint64_t sent;          /* envelopes the peer acknowledged (2xx) */
    uint64_t failed;        /* envelopes given up: retries exhausted, 4xx, or encode refused */
    uint64_t dropped;       /* envelopes refused at enqueue: queue full */
    uint64_t batches;       /* requests acknowledged (2xx) */
    uint32_t queued;        /* envelopes waiting now in the queue (not those being encoded or
                               in flight: at most COR_NODE_PEER_INFLIGHT_MAX bodies) */
    bool up;                /* the last request to finish reached the peer and got an answer
                               below 500 */
    uint64_t last_ok_ns;    /* CLOCK_REALTIME of the last 2xx; 0 never */
    uint64_t last_error_ns; /* CLOCK_REALTIME of the last failure; 0 never */
    char last_error[128];   /* e.g. "http 503", "Couldn't connect to server"; "" none */
} cor_node_link_stats;

/* Copies the link's counters for peer node_id into *out; false when it is not a peer. */
bool cor_node_sender_link(cor_node_sender *sender, uint32_t node_id, cor_node_link_stats *out);

/* Messages enqueued for a node that is not a configured peer (dropped). */
uint64_t cor_node_sender_unroutable(cor_node_sender *sender);

/*
 * Stops every link thread and frees everything. Requests in flight or waiting for a retry
 * are aborted (at once: close wakes the thread's curl_multi_poll; within about 100 ms at
 * worst, even when the peer hangs); queued messages are discarded (the core resends them).
 * NULL is a no-op.
 */
void cor_node_sender_close(cor_node_sender *sender);

#endif
