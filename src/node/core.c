/*
 * The ingress queue and the core thread (see core.h).
 *
 * The queue is a ring of job pointers guarded by one mutex; producers are the HTTP threads,
 * the only consumer is the core thread. The core thread copies the jobs' payloads into one
 * batch buffer (allocated at open: no allocation per batch), so the journal gets one record
 * per batch. A pending transfer whose timeout passed is expired by an EXPIRE command that the
 * core adds to the next batch, so expiry is journaled and replayed like everything else.
 */
#include "node/core.h"

#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/log.h"

#define CORE_IDLE_WAIT_MS       50u /* how often an idle core checks for expired transfers */
#define CORE_TIMER_COMMAND_SIZE sizeof(cor_node_command_header) /* EXPIRE, TICK: no body */

struct cor_node_core {
    cor_node_core_options options;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    cor_node_job **ring; /* [COR_NODE_QUEUE_COMMANDS_MAX] */
    uint32_t head;
    uint32_t count;    /* jobs queued */
    uint32_t reserved; /* slots reserved, not yet pushed */
    bool stopping;
    bool poisoned;
    /* Core thread only. */
    uint8_t *batch;           /* [COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX] */
    cor_node_result *results; /* [COR_NODE_BATCH_EVENTS_MAX] */
    cor_node_job **taken;     /* [COR_NODE_QUEUE_COMMANDS_MAX] */
    uint64_t last_timestamp;
    uint64_t last_tick_ns; /* CLOCK_REALTIME of the last batch with a TICK (or of open) */
    uint64_t ops_since_snapshot;
};

static uint64_t core_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static uint64_t core_monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000ull + (uint64_t)now.tv_nsec / 1000u;
}

/* ---------------------------------------------------------------------------------------- */
/* Producers                                                                                */
/* ---------------------------------------------------------------------------------------- */

cor_error cor_node_core_reserve(cor_node_core *core)
{
    cor_error rc = COR_OK;
    pthread_mutex_lock(&core->mutex);
    if (core->stopping) {
        rc = COR_ERR_CLOSED;
    } else if (core->poisoned) {
        rc = COR_ERR_POISONED;
    } else if (core->count + core->reserved >= COR_NODE_QUEUE_COMMANDS_MAX) {
        rc = COR_ERR_BUSY;
        atomic_fetch_add(&core->options.metrics->queue_rejected, 1);
    } else {
        core->reserved++;
    }
    pthread_mutex_unlock(&core->mutex);
    return rc;
}

bool cor_node_core_poisoned(cor_node_core *core)
{
    pthread_mutex_lock(&core->mutex);
    bool poisoned = core->poisoned;
    pthread_mutex_unlock(&core->mutex);
    return poisoned;
}

void cor_node_core_push(cor_node_core *core, cor_node_job *job)
{
    COR_ASSERT(job->event_count >= 1 && job->event_count <= COR_NODE_BATCH_EVENTS_MAX);
    COR_ASSERT(job->payload_size_bytes % 16u == 0);
    pthread_mutex_lock(&core->mutex);
    COR_ASSERT(core->reserved > 0);
    core->reserved--;
    uint32_t tail = (core->head + core->count) % COR_NODE_QUEUE_COMMANDS_MAX;
    core->ring[tail] = job;
    core->count++;
    atomic_store(&core->options.metrics->queue_depth, core->count);
    pthread_cond_signal(&core->wake);
    pthread_mutex_unlock(&core->mutex);
}

/* ---------------------------------------------------------------------------------------- */
/* Core thread                                                                              */
/* ---------------------------------------------------------------------------------------- */

static bool core_expiry_due(const cor_node_core *core, uint64_t now)
{
    uint64_t expires_at;
    const cor_ledger *ledger = cor_node_state_ledger(core->options.state);
    return cor_ledger_next_expiry(ledger, &expires_at) && expires_at <= now;
}

/* A TICK is due when the corridor's earliest timer has passed, unless the peer links are
 * still backlogged and the last TICK is recent (see cor_node_core_options.outbox_busy). */
static bool core_xb_due(const cor_node_core *core, uint64_t now)
{
    bool recent = now - core->last_tick_ns < COR_NODE_XB_TICK_DEFER_MAX_NS;
    if (recent && core->options.outbox_busy != NULL &&
        core->options.outbox_busy(core->options.outbox_context)) {
        return false;
    }
    uint64_t at;
    return cor_node_state_xb_timer(core->options.state, &at) && at <= now;
}

static bool core_timer_due(const cor_node_core *core, uint64_t now)
{
    return core_expiry_due(core, now) || core_xb_due(core, now);
}

/* How long an idle core may sleep: until the corridor's next timer, at most the idle wait. */
static long core_idle_wait_ns(const cor_node_core *core, uint64_t now)
{
    long wait = (long)CORE_IDLE_WAIT_MS * 1000000L;
    uint64_t at;
    if (cor_node_state_xb_timer(core->options.state, &at) && at > now &&
        at - now < (uint64_t)wait) {
        wait = (long)(at - now);
    }
    return wait;
}

/* Takes queued jobs while their events fit one batch. */
static uint32_t core_take(cor_node_core *core, bool *exit_out)
{
    pthread_mutex_lock(&core->mutex);
    while (core->count == 0 && !(core->stopping && core->reserved == 0)) {
        uint64_t now = core_now_ns();
        if (core_timer_due(core, now)) break;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += core_idle_wait_ns(core, now);
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&core->wake, &core->mutex, &until);
    }
    *exit_out = core->count == 0 && core->stopping && core->reserved == 0;
    uint32_t taken = 0;
    uint32_t events = 0;
    size_t size = 0;
    /* Every job fits a batch alone (requests are bounded so); more are added while the
     * events and the payload still fit. */
    while (core->count > 0) {
        cor_node_job *job = core->ring[core->head];
        if (events + job->event_count > COR_NODE_BATCH_EVENTS_MAX) break;
        if (size + job->payload_size_bytes > COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX) break;
        events += job->event_count;
        size += job->payload_size_bytes;
        core->taken[taken++] = job;
        core->head = (core->head + 1) % COR_NODE_QUEUE_COMMANDS_MAX;
        core->count--;
    }
    atomic_store(&core->options.metrics->queue_depth, core->count);
    pthread_mutex_unlock(&core->mutex);
    return taken;
}

static void core_fail_jobs(cor_node_core *core, uint32_t count, cor_error error)
{
    for (uint32_t i = 0; i < count; i++) {
        cor_node_job *job = core->taken[i];
        job->error = error;
        job->done(job);
    }
}

static void core_snapshot(cor_node_core *core);

/* The batch is durable and applied: its peer messages may leave. The outbox lives in the
 * state, which only this thread writes, so no lock is needed to read it here. */
static void core_send_outbox(cor_node_core *core)
{
    const cor_xb *xb = cor_node_state_xb(core->options.state);
    uint32_t count = cor_xb_outbox_count(xb);
    if (count == 0 || core->options.outbox == NULL) return;
    /* The outbox is one array from index 0 (cor_xb_outbox_at). */
    core->options.outbox(core->options.outbox_context, cor_xb_outbox_at(xb, 0), count);
}

static void core_run_batch(cor_node_core *core, uint32_t count)
{
    size_t size = 0;
    uint32_t events = 0;
    for (uint32_t i = 0; i < count; i++) {
        const cor_node_job *job = core->taken[i];
        COR_ASSERT(size + job->payload_size_bytes <= COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX);
        memcpy(core->batch + size, job->payload, job->payload_size_bytes);
        size += job->payload_size_bytes;
        events += job->event_count;
    }
    uint64_t now = core_now_ns();
    /* Timer commands ride along when the batch has room; else the next batch takes them. */
    const size_t room_size = COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX - CORE_TIMER_COMMAND_SIZE;
    if (events < COR_NODE_BATCH_EVENTS_MAX && size <= room_size && core_expiry_due(core, now)) {
        cor_node_command_header expire = {.type = COR_NODE_CMD_EXPIRE, .event_count = 1};
        memcpy(core->batch + size, &expire, sizeof(expire));
        size += sizeof(expire);
        events++;
    }
    if (events < COR_NODE_BATCH_EVENTS_MAX && size <= room_size && core_xb_due(core, now)) {
        cor_node_command_header tick = {.type = COR_NODE_CMD_XB_TICK, .event_count = 1};
        memcpy(core->batch + size, &tick, sizeof(tick));
        size += sizeof(tick);
        events++;
        core->last_tick_ns = now;
    }
    if (events == 0) return;
    uint64_t timestamp = now > core->last_timestamp ? now : core->last_timestamp + 1;
    core->last_timestamp = timestamp;

    cor_journal_batch batch = {.timestamp = timestamp,
                               .operation = COR_NODE_JOURNAL_OPERATION,
                               .event_count = events,
                               .payload = core->batch,
                               .payload_size_bytes = size};
    uint64_t started_us = core_monotonic_us();
    cor_error rc = cor_journal_append(core->options.journal, &batch, NULL);
    cor_metrics_latency(&core->options.metrics->fsync_latency, core_monotonic_us() - started_us);
    if (rc != COR_OK) {
        cor_log(COR_LOG_ERROR, "journal append failed; refusing writes until restart",
                "error=%s events=%u", cor_error_name(rc), events);
        pthread_mutex_lock(&core->mutex);
        core->poisoned = true;
        pthread_mutex_unlock(&core->mutex);
        core_fail_jobs(core, count, rc);
        return;
    }

    pthread_rwlock_wrlock(core->options.state_lock);
    rc = cor_node_state_apply(core->options.state, timestamp, core->batch, size, core->results,
                              COR_NODE_BATCH_EVENTS_MAX);
    pthread_rwlock_unlock(core->options.state_lock);
    COR_ASSERT(rc == COR_OK); /* we built the payload from validated commands */
    core_send_outbox(core);

    cor_metrics_batch(core->options.metrics, events);
    cor_journal_stats stats;
    cor_journal_stats_get(core->options.journal, &stats);
    atomic_store(&core->options.metrics->journal_size_bytes, stats.size_bytes);

    uint32_t offset = 0;
    for (uint32_t i = 0; i < count; i++) {
        cor_node_job *job = core->taken[i];
        memcpy(job->results, core->results + offset, job->event_count * sizeof(cor_node_result));
        offset += job->event_count;
        job->error = COR_OK;
        job->done(job);
    }
    core->ops_since_snapshot++;
    core_snapshot(core);
}

/* The snapshot child serializes the state as of the last durable op (the core thread calls
 * this between batches, so the state is exactly that). */
static cor_error core_serialize(void *context, cor_journal_write_fn write, void *write_context)
{
    const cor_node_state *state = context;
    return cor_node_state_serialize(state, write, write_context);
}

static void core_snapshot(cor_node_core *core)
{
    if (core->options.snapshot_every_ops == 0) return;
    cor_error rc = cor_journal_snapshot_poll(core->options.journal);
    if (rc == COR_ERR_IO) cor_log(COR_LOG_WARN, "snapshot failed; older snapshots stay", "%s", "");
    if (rc == COR_ERR_BUSY || core->ops_since_snapshot < core->options.snapshot_every_ops) return;
    rc = cor_journal_snapshot_start(core->options.journal, core_serialize, core->options.state);
    if (rc == COR_OK) {
        core->ops_since_snapshot = 0;
    } else if (rc != COR_ERR_BUSY) {
        cor_log(COR_LOG_WARN, "snapshot not started", "error=%s", cor_error_name(rc));
    }
}

static void *core_main(void *argument)
{
    cor_node_core *core = argument;
    bool exit = false;
    /* Runs until stop; each turn handles at most one batch. */
    while (!exit) {
        uint32_t count = core_take(core, &exit);
        bool poisoned;
        pthread_mutex_lock(&core->mutex);
        poisoned = core->poisoned;
        pthread_mutex_unlock(&core->mutex);
        if (poisoned) {
            core_fail_jobs(core, count, COR_ERR_POISONED);
            continue;
        }
        if (count > 0 || core_timer_due(core, core_now_ns())) core_run_batch(core, count);
    }
    if (core->options.snapshot_every_ops != 0) {
        (void)cor_journal_snapshot_wait(core->options.journal);
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

cor_error cor_node_core_open(const cor_node_core_options *options, cor_node_core **out)
{
    *out = NULL;
    cor_node_core *core = cor_calloc(1, sizeof(*core));
    if (core == NULL) return COR_ERR_NOMEM;
    core->options = *options;
    core->ring = cor_calloc(COR_NODE_QUEUE_COMMANDS_MAX, sizeof(cor_node_job *));
    core->taken = cor_calloc(COR_NODE_QUEUE_COMMANDS_MAX, sizeof(cor_node_job *));
    core->batch = cor_alloc(COR_NODE_BATCH_PAYLOAD_SIZE_BYTES_MAX);
    core->results = cor_calloc(COR_NODE_BATCH_EVENTS_MAX, sizeof(cor_node_result));
    core->last_timestamp = cor_ledger_timestamp(cor_node_state_ledger(options->state));
    core->last_tick_ns = core_now_ns(); /* the deferral's bound counts from the start too */
    pthread_mutex_init(&core->mutex, NULL);
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&core->wake, &attributes);
    pthread_condattr_destroy(&attributes);
    if (!core->ring || !core->taken || !core->batch || !core->results) {
        cor_node_core_close(core);
        return COR_ERR_NOMEM;
    }
    if (pthread_create(&core->thread, NULL, core_main, core) != 0) {
        cor_node_core_close(core);
        return COR_ERR_IO;
    }
    core->thread_started = true;
    *out = core;
    return COR_OK;
}

void cor_node_core_stop(cor_node_core *core)
{
    pthread_mutex_lock(&core->mutex);
    core->stopping = true;
    pthread_cond_signal(&core->wake);
    pthread_mutex_unlock(&core->mutex);
    if (core->thread_started) {
        pthread_join(core->thread, NULL);
        core->thread_started = false;
    }
}

void cor_node_core_close(cor_node_core *core)
{
    if (core == NULL) return;
    cor_node_core_stop(core);
    pthread_cond_destroy(&core->wake);
    pthread_mutex_destroy(&core->mutex);
    cor_free(core->ring);
    cor_free(core->taken);
    cor_free(core->batch);
    cor_free(core->results);
    cor_free(core);
}
