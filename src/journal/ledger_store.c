/*
 * The ledger store: a cor_ledger kept durable by the journal (bench journal, verify, tests).
 *
 * Each command is handed to a writer thread that appends it (one write, one fdatasync) while
 * the calling thread applies it to the ledger; the command returns when both are done, so a
 * result is released only once its batch is durable, and the disk flush overlaps the
 * ledger's work instead of adding to it. The ledger is deterministic, so replaying the
 * journaled commands (with their journaled timestamps) rebuilds the same state.
 *
 * Invariant between commands: the ledger holds exactly the journal's durable ops applied.
 * When an append fails, the ledger is already ahead of the journal, so the store is poisoned.
 */
#include <pthread.h>
#include <string.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "journal/journal_internal.h"

#define STORE_CONFIG_SIZE 16u /* four u32: the ledger's capacities */

struct cor_ledger_store {
    cor_journal *journal;
    cor_ledger *ledger;                 /* NULL until the configure record is seen */
    cor_ledger_options ledger_options;  /* capacities from the journal, seed from the caller */
    cor_create_result *results_scratch; /* replay results (discarded): BATCH_EVENTS_MAX */
    bool poisoned;
    bool writer_started;
    pthread_t writer;
    pthread_mutex_t mutex;
    pthread_cond_t wake;          /* writer: a job or stop */
    pthread_cond_t done;          /* caller: job finished */
    const cor_journal_batch *job; /* guarded by mutex */
    bool job_done;
    cor_error job_rc;
    bool stop;
};

/* ---------------------------------------------------------------------------------------- */
/* Replay                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void store_config_encode(const cor_ledger_options *options, unsigned char *out)
{
    journal_store_u32(out + 0, options->accounts_max);
    journal_store_u32(out + 4, options->transfers_max);
    journal_store_u32(out + 8, options->pending_transfers_max);
    journal_store_u32(out + 12, options->failed_ids_max);
}

static cor_error store_configure(cor_ledger_store *store, const unsigned char *config)
{
    if (store->ledger != NULL) return COR_ERR_CORRUPT; /* configured twice */
    store->ledger_options.accounts_max = journal_load_u32(config + 0);
    store->ledger_options.transfers_max = journal_load_u32(config + 4);
    store->ledger_options.pending_transfers_max = journal_load_u32(config + 8);
    store->ledger_options.failed_ids_max = journal_load_u32(config + 12);
    cor_error rc = cor_ledger_open(&store->ledger_options, &store->ledger);
    return rc == COR_ERR_INVALID ? COR_ERR_CORRUPT : rc;
}

static cor_error store_replay(void *context, const cor_journal_batch *batch)
{
    cor_ledger_store *store = context;
    size_t size = batch->payload_size_bytes;
    if (batch->operation == COR_LEDGER_STORE_OP_CONFIGURE) {
        if (size != STORE_CONFIG_SIZE || batch->op_number != 1) return COR_ERR_CORRUPT;
        return store_configure(store, batch->payload);
    }
    if (store->ledger == NULL) return COR_ERR_CORRUPT;
    uint32_t count = batch->event_count;
    _Static_assert(sizeof(cor_account) == sizeof(cor_transfer), "one event size for both");
    bool events_ok = count >= 1 && count <= COR_LEDGER_BATCH_EVENTS_MAX &&
                     size == (size_t)count * sizeof(cor_transfer); /* = sizeof(cor_account) */
    switch (batch->operation) {
    case COR_LEDGER_OP_CREATE_ACCOUNTS:
        if (!events_ok) return COR_ERR_CORRUPT;
        return cor_ledger_create_accounts(store->ledger, batch->timestamp, batch->payload, count,
                                          store->results_scratch);
    case COR_LEDGER_OP_CREATE_TRANSFERS:
        if (!events_ok) return COR_ERR_CORRUPT;
        return cor_ledger_create_transfers(store->ledger, batch->timestamp, batch->payload, count,
                                           store->results_scratch);
    case COR_LEDGER_OP_EXPIRE_PENDING:
        if (size != 8) return COR_ERR_CORRUPT;
        (void)cor_ledger_expire_pending(store->ledger, batch->timestamp,
                                        journal_load_u32(batch->payload));
        return COR_OK;
    default:
        return COR_ERR_CORRUPT;
    }
}

static cor_error store_load(void *context, const cor_journal_snapshot_info *info,
                            cor_journal_read_fn read, void *read_context)
{
    cor_ledger_store *store = context;
    (void)info;
    unsigned char config[STORE_CONFIG_SIZE];
    cor_error rc = read(read_context, config, sizeof(config));
    if (rc != COR_OK) return rc;
    rc = store_configure(store, config);
    if (rc != COR_OK) return rc;
    cor_ledger_close(store->ledger);
    store->ledger = NULL;
    return cor_ledger_deserialize(&store->ledger_options, read, read_context, &store->ledger);
}

static cor_error store_serialize(void *context, cor_journal_write_fn write, void *write_context)
{
    const cor_ledger_store *store = context;
    unsigned char config[STORE_CONFIG_SIZE];
    store_config_encode(&store->ledger_options, config);
    cor_error rc = write(write_context, config, sizeof(config));
    if (rc != COR_OK) return rc;
    return cor_ledger_serialize(store->ledger, write, write_context);
}

static cor_error store_hash_write(void *context, const void *bytes, size_t size_bytes)
{
    crypto_generichash_update(context, bytes, size_bytes);
    return COR_OK;
}

/* Verification: the replayed state at the snapshot's op must hash to its state hash. */
static cor_error store_snapshot_check(void *context, const cor_journal_snapshot_info *info)
{
    cor_ledger_store *store = context;
    if (store->ledger == NULL) return COR_ERR_CORRUPT;
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, COR_JOURNAL_HASH_SIZE);
    cor_error rc = store_serialize(store, store_hash_write, &hash);
    if (rc != COR_OK) return rc;
    uint8_t state_hash[COR_JOURNAL_HASH_SIZE];
    crypto_generichash_final(&hash, state_hash, sizeof(state_hash));
    return sodium_memcmp(state_hash, info->state_hash, sizeof(state_hash)) == 0 ? COR_OK
                                                                                : COR_ERR_CORRUPT;
}

/* ---------------------------------------------------------------------------------------- */
/* The writer thread                                                                        */
/* ---------------------------------------------------------------------------------------- */

/* Runs until close: waits for a job, appends it, reports. Each turn is one append. */
static void *store_writer_main(void *argument)
{
    cor_ledger_store *store = argument;
    pthread_mutex_lock(&store->mutex);
    for (;;) {
        while (store->job == NULL && !store->stop)
            pthread_cond_wait(&store->wake, &store->mutex);
        if (store->job == NULL) break;
        const cor_journal_batch *job = store->job;
        pthread_mutex_unlock(&store->mutex);
        cor_error rc = cor_journal_append(store->journal, job, NULL);
        pthread_mutex_lock(&store->mutex);
        store->job = NULL;
        store->job_rc = rc;
        store->job_done = true;
        pthread_cond_signal(&store->done);
    }
    pthread_mutex_unlock(&store->mutex);
    return NULL;
}

static void store_writer_submit(cor_ledger_store *store, const cor_journal_batch *batch)
{
    pthread_mutex_lock(&store->mutex);
    COR_ASSERT(store->job == NULL);
    store->job = batch;
    store->job_done = false;
    pthread_cond_signal(&store->wake);
    pthread_mutex_unlock(&store->mutex);
}

static cor_error store_writer_wait(cor_ledger_store *store)
{
    pthread_mutex_lock(&store->mutex);
    while (!store->job_done)
        pthread_cond_wait(&store->done, &store->mutex);
    cor_error rc = store->job_rc;
    pthread_mutex_unlock(&store->mutex);
    return rc;
}

/* Journals batch while apply runs on this thread; poisons the store if the append fails. */
typedef cor_error (*store_apply_fn)(cor_ledger_store *store, const cor_journal_batch *batch,
                                    void *results);

static cor_error store_command(cor_ledger_store *store, const cor_journal_batch *batch,
                               store_apply_fn apply, void *results)
{
    if (store->poisoned) return COR_ERR_POISONED;
    if (!store->writer_started) return COR_ERR_INVALID; /* read-only store */
    store_writer_submit(store, batch);
    cor_error apply_rc = apply(store, batch, results);
    cor_error rc = store_writer_wait(store);
    COR_ASSERT(apply_rc == COR_OK); /* arguments were checked before journaling */
    if (rc != COR_OK) store->poisoned = true;
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Commands                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static cor_error store_apply_accounts(cor_ledger_store *store, const cor_journal_batch *batch,
                                      void *results)
{
    return cor_ledger_create_accounts(store->ledger, batch->timestamp, batch->payload,
                                      batch->event_count, results);
}

static cor_error store_apply_transfers(cor_ledger_store *store, const cor_journal_batch *batch,
                                       void *results)
{
    return cor_ledger_create_transfers(store->ledger, batch->timestamp, batch->payload,
                                       batch->event_count, results);
}

static cor_error store_apply_expire(cor_ledger_store *store, const cor_journal_batch *batch,
                                    void *expired_out)
{
    uint32_t limit = journal_load_u32(batch->payload);
    *(uint32_t *)expired_out = cor_ledger_expire_pending(store->ledger, batch->timestamp, limit);
    return COR_OK;
}

static bool store_events_valid(const void *events, uint32_t count, const void *results)
{
    return events != NULL && results != NULL && count >= 1 && count <= COR_LEDGER_BATCH_EVENTS_MAX;
}

cor_error cor_ledger_store_create_accounts(cor_ledger_store *store, uint64_t timestamp,
                                           const cor_account *accounts, uint32_t count,
                                           cor_create_result *results)
{
    if (!store_events_valid(accounts, count, results)) return COR_ERR_INVALID;
    cor_journal_batch batch = {
        .timestamp = timestamp,
        .operation = COR_LEDGER_OP_CREATE_ACCOUNTS,
        .event_count = count,
        .payload = accounts,
        .payload_size_bytes = (size_t)count * sizeof(cor_account),
    };
    return store_command(store, &batch, store_apply_accounts, results);
}

cor_error cor_ledger_store_create_transfers(cor_ledger_store *store, uint64_t timestamp,
                                            const cor_transfer *transfers, uint32_t count,
                                            cor_create_result *results)
{
    if (!store_events_valid(transfers, count, results)) return COR_ERR_INVALID;
    cor_journal_batch batch = {
        .timestamp = timestamp,
        .operation = COR_LEDGER_OP_CREATE_TRANSFERS,
        .event_count = count,
        .payload = transfers,
        .payload_size_bytes = (size_t)count * sizeof(cor_transfer),
    };
    return store_command(store, &batch, store_apply_transfers, results);
}

cor_error cor_ledger_store_expire_pending(cor_ledger_store *store, uint64_t timestamp,
                                          uint32_t limit, uint32_t *expired_out)
{
    unsigned char payload[8] = {0};
    journal_store_u32(payload, limit);
    cor_journal_batch batch = {
        .timestamp = timestamp,
        .operation = COR_LEDGER_OP_EXPIRE_PENDING,
        .event_count = 1,
        .payload = payload,
        .payload_size_bytes = sizeof(payload),
    };
    uint32_t expired = 0;
    cor_error rc = store_command(store, &batch, store_apply_expire, &expired);
    if (expired_out != NULL) *expired_out = rc == COR_OK ? expired : 0;
    return rc;
}

cor_error cor_ledger_store_snapshot(cor_ledger_store *store, bool background)
{
    if (store->poisoned) return COR_ERR_POISONED;
    if (store->ledger == NULL) return COR_ERR_INVALID;
    if (background) return cor_journal_snapshot_start(store->journal, store_serialize, store);
    return cor_journal_snapshot(store->journal, store_serialize, store);
}

cor_error cor_ledger_store_snapshot_wait(cor_ledger_store *store)
{
    return cor_journal_snapshot_wait(store->journal);
}

const cor_ledger *cor_ledger_store_ledger(const cor_ledger_store *store)
{
    return store->ledger;
}

void cor_ledger_store_stats(const cor_ledger_store *store, cor_journal_stats *out)
{
    cor_journal_stats_get(store->journal, out);
}

/* ---------------------------------------------------------------------------------------- */
/* Open and close                                                                           */
/* ---------------------------------------------------------------------------------------- */

/* A new store's first record: the capacities, so recovery needs no other configuration. */
static cor_error store_configure_new(cor_ledger_store *store,
                                     const cor_ledger_store_options *options)
{
    unsigned char config[STORE_CONFIG_SIZE];
    store_config_encode(&options->ledger, config);
    cor_error rc = store_configure(store, config);
    if (rc != COR_OK) return rc == COR_ERR_CORRUPT ? COR_ERR_INVALID : rc;
    cor_journal_batch batch = {
        .operation = COR_LEDGER_STORE_OP_CONFIGURE,
        .payload = config,
        .payload_size_bytes = sizeof(config),
    };
    return cor_journal_append(store->journal, &batch, NULL);
}

cor_error cor_ledger_store_open(const cor_ledger_store_options *options,
                                cor_ledger_store **store_out)
{
    *store_out = NULL;
    cor_ledger_store *store = cor_calloc(1, sizeof(*store));
    if (store == NULL) return COR_ERR_NOMEM;
    store->ledger_options.hash_seed = options->ledger.hash_seed;
    store->ledger_options.prefault = options->ledger.prefault;
    pthread_mutex_init(&store->mutex, NULL);
    pthread_cond_init(&store->wake, NULL);
    pthread_cond_init(&store->done, NULL);
    cor_error rc = COR_ERR_NOMEM;
    store->results_scratch = cor_calloc(COR_LEDGER_BATCH_EVENTS_MAX, sizeof(cor_create_result));
    if (store->results_scratch == NULL) goto fail;

    cor_journal_options journal_options = {
        .dir = options->dir,
        .flags = options->flags,
        .payload_size_bytes_max = COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX,
        .load = store_load,
        .replay = store_replay,
        .snapshot_check = store_snapshot_check,
        .context = store,
        .log = options->log,
        .log_context = options->log_context,
        .error_detail = options->error_detail,
        .error_detail_size = options->error_detail_size,
    };
    rc = cor_journal_open(&journal_options, &store->journal);
    if (rc != COR_OK) goto fail;
    bool read_only = (options->flags & COR_JOURNAL_READ_ONLY) != 0;
    if (store->ledger == NULL) {
        rc = read_only ? COR_ERR_NOT_FOUND : store_configure_new(store, options);
        if (rc != COR_OK) goto fail;
    }
    if (!read_only) {
        if (pthread_create(&store->writer, NULL, store_writer_main, store) != 0) {
            rc = COR_ERR_NOMEM;
            goto fail;
        }
        store->writer_started = true;
    }
    *store_out = store;
    return COR_OK;

fail:
    cor_ledger_store_close(store);
    return rc;
}

void cor_ledger_store_close(cor_ledger_store *store)
{
    if (store == NULL) return;
    if (store->writer_started) {
        pthread_mutex_lock(&store->mutex);
        store->stop = true;
        pthread_cond_signal(&store->wake);
        pthread_mutex_unlock(&store->mutex);
        pthread_join(store->writer, NULL);
    }
    cor_journal_close(store->journal);
    cor_ledger_close(store->ledger);
    cor_free(store->results_scratch);
    pthread_cond_destroy(&store->done);
    pthread_cond_destroy(&store->wake);
    pthread_mutex_destroy(&store->mutex);
    cor_free(store);
}
