/*
 * The node's pipeline: one bounded ingress queue and one core thread.
 *
 * HTTP threads encode a validated command (node_state.h payload form) into a job, reserve a
 * queue slot (cor_node_core_reserve: refused with COR_ERR_BUSY when the queue is full, so the
 * client gets a 503 and the queue never grows without bound), then push the job. The core
 * thread takes whatever waits, up to COR_NODE_BATCH_EVENTS_MAX events (and the batch payload
 * limit), as one batch; appends
 * it to the journal (one write and one fdatasync); applies it to the node state under the
 * state's write lock; hands the protocol messages the batch queued to options.outbox; and
 * completes every job of the batch through its done callback. No result and no peer message
 * is released before its batch is durable. When the corridor's timer is due (re-sends,
 * deadlines of held payments) the core adds a TICK command to the next batch, as it adds
 * EXPIRE for pending transfers, so timers are journaled and replayed too.
 *
 * If an append fails, the core is poisoned: the failed batch's jobs and every later reserve
 * get COR_ERR_IO / COR_ERR_POISONED; reads keep working; the operator restarts the node,
 * which recovers exactly the durable batches.
 */
#ifndef COR_NODE_CORE_H
#define COR_NODE_CORE_H

#include <pthread.h>
#include <stdint.h>

#include "corridor/journal.h"
#include "node/metrics.h"
#include "node/node_state.h"

typedef struct cor_node_job cor_node_job;

struct cor_node_job {
    const uint8_t *payload; /* borrowed until done: header + body, padded to 16 */
    size_t payload_size_bytes;
    uint32_t event_count;            /* events in payload; 1 .. COR_NODE_BATCH_EVENTS_MAX */
    cor_node_result *results;        /* [event_count], written before done */
    cor_error error;                 /* COR_OK when results are valid */
    void (*done)(cor_node_job *job); /* called once on the core thread; must not block */
    void *context;
};

typedef struct cor_node_core cor_node_core; /* opaque */

typedef struct cor_node_core_options {
    cor_node_state *state;        /* borrowed; the core thread is its only writer */
    pthread_rwlock_t *state_lock; /* taken for writing around each apply */
    cor_journal *journal;         /* borrowed; only the core thread uses it after open */
    cor_metrics *metrics;         /* borrowed */
    uint64_t snapshot_every_ops;  /* 0: never */
    /* Called on the core thread after each batch is durable and applied, with the protocol
     * messages that batch queued (cor_xb outbox); must copy them and not block. NULL: they
     * are dropped (the protocol's timers regenerate them). */
    void (*outbox)(void *context, const cor_xb_message *messages, uint32_t count);
    void *outbox_context;
} cor_node_core_options;

/* Starts the core thread. Errors: COR_ERR_NOMEM, COR_ERR_IO (thread creation). */
cor_error cor_node_core_open(const cor_node_core_options *options, cor_node_core **out);

/* Reserves a queue slot. Errors: COR_ERR_BUSY (queue full), COR_ERR_CLOSED (stopping),
 * COR_ERR_POISONED (an append failed earlier). On COR_OK exactly one push must follow. */
cor_error cor_node_core_reserve(cor_node_core *core);

/* Whether an append failed (writes are refused until a restart). */
bool cor_node_core_poisoned(cor_node_core *core);

/* Queues job in a reserved slot; never fails. */
void cor_node_core_push(cor_node_core *core, cor_node_job *job);

/* Refuses new reservations, completes every queued and reserved job, waits for a running
 * snapshot, and joins the core thread. Idempotent. */
void cor_node_core_stop(cor_node_core *core);

/* Stops (if needed) and frees. NULL is a no-op. */
void cor_node_core_close(cor_node_core *core);

#endif
