/*
 * The ledger core: lifecycle, the batch loop with linked chains, and the shared mutation
 * helpers that log undo entries while a chain is open.
 *
 * Workload: batches of up to 8,189 transfers against up to hundreds of millions of accounts
 * whose records do not fit in cache. create_transfers therefore resolves the batch's account
 * ids a few events ahead of the one it applies and prefetches their slots and records, so the
 * memory misses of many events overlap instead of being paid one after another.
 *
 * Invariants (checked by cor_ledger_check, asserted where O(1)): per ledger the sums of
 * debits and credits are equal, posted and pending separately; no balance-limit flag is
 * violated; a failed chain leaves no trace except remembered transient failures.
 */
#include <string.h>

#include "common/alloc.h"
#include "ledger/ledger_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void *ledger_table(size_t count, size_t item_size_bytes, bool prefault)
{
    size_t size_bytes = 0;
    if (!cor_size_mul(count, item_size_bytes, &size_bytes)) return NULL;
    void *table = cor_alloc_large(size_bytes);
    if (table != NULL && prefault) cor_prefault(table, size_bytes);
    return table;
}

#define LEDGER_TABLE_SIZE(count, type) ((size_t)(count) * sizeof(type))

static void ledger_free_tables(cor_ledger *ledger)
{
    const cor_ledger_options *o = &ledger->options;
    cor_free_large(ledger->accounts, LEDGER_TABLE_SIZE(o->accounts_max, cor_account));
    cor_free_large(ledger->balances, LEDGER_TABLE_SIZE(o->accounts_max, ledger_balances));
    cor_free_large(ledger->accounts_slot, LEDGER_TABLE_SIZE(o->accounts_max, uint64_t));
    if (ledger->account_slots != NULL) {
        cor_free_large(ledger->account_slots,
                       LEDGER_TABLE_SIZE(ledger->account_slots_mask + 1, ledger_account_slot));
    }
    cor_free_large(ledger->transfers, LEDGER_TABLE_SIZE(o->transfers_max, cor_transfer));
    cor_free_large(ledger->transfers_status, LEDGER_TABLE_SIZE(o->transfers_max, uint8_t));
    cor_free_large(ledger->transfers_expiry_slot,
                   LEDGER_TABLE_SIZE(o->transfers_max, uint32_t));
    cor_free_large(ledger->history, LEDGER_TABLE_SIZE(2ull * o->transfers_max, ledger_history));
    cor_free_large(ledger->expiries,
                   LEDGER_TABLE_SIZE(o->pending_transfers_max, ledger_expiry));
    cor_free_large(ledger->failed_ids, LEDGER_TABLE_SIZE(o->failed_ids_max, cor_u128));
    cor_free_large(ledger->undos, LEDGER_TABLE_SIZE(LEDGER_UNDO_MAX, ledger_undo));
    cor_free_large(ledger->scratch_debit,
                   LEDGER_TABLE_SIZE(COR_LEDGER_BATCH_EVENTS_MAX, ledger_account_slot *));
    cor_free_large(ledger->scratch_credit,
                   LEDGER_TABLE_SIZE(COR_LEDGER_BATCH_EVENTS_MAX, ledger_account_slot *));
    cor_free_large(ledger->scratch_hash,
                   LEDGER_TABLE_SIZE(3 * COR_LEDGER_BATCH_EVENTS_MAX, uint64_t));
    cor__ledger_index_release(&ledger->transfers_index);
}

static cor_error ledger_options_check(const cor_ledger_options *options)
{
    if (options->accounts_max == 0 || options->accounts_max > COR_LEDGER_ACCOUNTS_MAX) {
        return COR_ERR_INVALID;
    }
    if (options->transfers_max == 0 || options->transfers_max > COR_LEDGER_TRANSFERS_MAX) {
        return COR_ERR_INVALID;
    }
    if (options->pending_transfers_max == 0 ||
        options->pending_transfers_max > options->transfers_max) {
        return COR_ERR_INVALID;
    }
    if (options->failed_ids_max > COR_LEDGER_TRANSFERS_MAX) return COR_ERR_INVALID;
    return COR_OK;
}

cor_error cor_ledger_open(const cor_ledger_options *options, cor_ledger **ledger_out)
{
    *ledger_out = NULL;
    if (options == NULL) return COR_ERR_INVALID;
    cor_error rc = ledger_options_check(options);
    if (rc != COR_OK) return rc;

    cor_ledger *ledger = cor_calloc(1, sizeof(*ledger));
    if (ledger == NULL) return COR_ERR_NOMEM;
    ledger->options = *options;
    if (ledger->options.failed_ids_max == 0) {
        ledger->options.failed_ids_max = options->transfers_max;
    }
    const cor_ledger_options *o = &ledger->options;
    bool prefault = o->prefault;
    ledger->accounts = ledger_table(o->accounts_max, sizeof(cor_account), prefault);
    ledger->balances = ledger_table(o->accounts_max, sizeof(ledger_balances), prefault);
    ledger->accounts_slot = ledger_table(o->accounts_max, sizeof(uint64_t), prefault);
    uint64_t slot_count = 16;
    while (slot_count < 2ull * o->accounts_max) slot_count <<= 1;
    ledger->account_slots = ledger_table(slot_count, sizeof(ledger_account_slot), prefault);
    if (ledger->account_slots != NULL) ledger->account_slots_mask = slot_count - 1;
    ledger->transfers = ledger_table(o->transfers_max, sizeof(cor_transfer), prefault);
    ledger->transfers_status = ledger_table(o->transfers_max, sizeof(uint8_t), prefault);
    ledger->transfers_expiry_slot = ledger_table(o->transfers_max, sizeof(uint32_t), prefault);
    ledger->history = ledger_table(2ull * o->transfers_max, sizeof(ledger_history), prefault);
    ledger->expiries = ledger_table(o->pending_transfers_max, sizeof(ledger_expiry), prefault);
    ledger->failed_ids = ledger_table(o->failed_ids_max, sizeof(cor_u128), prefault);
    ledger->undos = ledger_table(LEDGER_UNDO_MAX, sizeof(ledger_undo), prefault);
    ledger->scratch_debit = ledger_table(COR_LEDGER_BATCH_EVENTS_MAX,
                                         sizeof(ledger_account_slot *), prefault);
    ledger->scratch_credit = ledger_table(COR_LEDGER_BATCH_EVENTS_MAX,
                                          sizeof(ledger_account_slot *), prefault);
    ledger->scratch_hash =
        ledger_table(3 * COR_LEDGER_BATCH_EVENTS_MAX, sizeof(uint64_t), prefault);
    if (ledger->accounts == NULL || ledger->balances == NULL || ledger->accounts_slot == NULL ||
        ledger->account_slots == NULL || ledger->transfers == NULL ||
        ledger->transfers_status == NULL || ledger->transfers_expiry_slot == NULL ||
        ledger->history == NULL || ledger->expiries == NULL || ledger->failed_ids == NULL ||
        ledger->undos == NULL || ledger->scratch_debit == NULL || ledger->scratch_credit == NULL ||
        ledger->scratch_hash == NULL) {
        rc = COR_ERR_NOMEM;
        goto fail;
    }
    rc = cor__ledger_index_init(&ledger->transfers_index, o->transfers_max + o->failed_ids_max,
                                prefault);
    if (rc != COR_OK) goto fail;

    *ledger_out = ledger;
    return COR_OK;

fail:
    ledger_free_tables(ledger);
    cor_free(ledger);
    return rc;
}

void cor_ledger_close(cor_ledger *ledger)
{
    if (ledger == NULL) return;
    ledger_free_tables(ledger);
    cor_free(ledger);
}

uint64_t cor_ledger_timestamp(const cor_ledger *ledger)
{
    return ledger->timestamp;
}

/* ---------------------------------------------------------------------------------------- */
/* Mutation helpers (undo-logged inside a chain)                                            */
/* ---------------------------------------------------------------------------------------- */

void cor__ledger_undo_push(cor_ledger *ledger, const ledger_undo *undo)
{
    COR_ASSERT(ledger->chain_open);
    COR_ASSERT(ledger->undos_count < LEDGER_UNDO_MAX);
    ledger->undos[ledger->undos_count++] = *undo;
}

void cor__ledger_account_save(cor_ledger *ledger, ledger_account_ref account)
{
    if (!ledger->chain_open) return;
    ledger_undo undo = {.kind = UNDO_ACCOUNT_SAVE, .index = account.index};
    undo.balances = *account.balances;
    undo.history_head_next = account.slot->history_head_next;
    undo.flags = account.slot->flags;
    cor__ledger_undo_push(ledger, &undo);
}

void cor__ledger_history_append(cor_ledger *ledger, ledger_account_ref account,
                                uint32_t transfer_index, uint64_t timestamp)
{
    COR_ASSERT(ledger->history_count < 2ull * ledger->options.transfers_max);
    uint64_t entry_index = ledger->history_count++;
    ledger_history entry = {
        .debits_pending = account.balances->debits_pending,
        .debits_posted = account.balances->debits_posted,
        .credits_pending = account.balances->credits_pending,
        .credits_posted = account.balances->credits_posted,
        .timestamp = timestamp,
        .transfer_index = transfer_index,
        .previous_next = account.slot->history_head_next,
    };
    ledger_stream_store(&ledger->history[entry_index], &entry, sizeof(entry));
    COR_ASSERT(entry_index < UINT32_MAX);
    account.slot->history_head_next = (uint32_t)entry_index + 1;
}

void cor__ledger_status_set(cor_ledger *ledger, uint32_t transfer_index, uint8_t status)
{
    if (ledger->chain_open) {
        ledger_undo undo = {.kind = UNDO_STATUS, .index = transfer_index};
        undo.status = ledger->transfers_status[transfer_index];
        cor__ledger_undo_push(ledger, &undo);
    }
    ledger->transfers_status[transfer_index] = status;
}

/* ---------------------------------------------------------------------------------------- */
/* Chains                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void ledger_chain_begin(cor_ledger *ledger, ledger_chain_mark *mark)
{
    COR_ASSERT(!ledger->chain_open);
    mark->accounts_count = ledger->accounts_count;
    mark->transfers_count = ledger->transfers_count;
    mark->history_count = ledger->history_count;
    mark->pending_count = ledger->pending_count;
    mark->object_timestamp_last = ledger->object_timestamp_last;
    mark->undo_count = ledger->undos_count;
    ledger->chain_open = true;
}

static void ledger_chain_commit(cor_ledger *ledger, const ledger_chain_mark *mark)
{
    COR_ASSERT(ledger->chain_open);
    ledger->undos_count = mark->undo_count;
    ledger->chain_open = false;
}

static void ledger_undo_apply(cor_ledger *ledger, const ledger_undo *undo)
{
    switch (undo->kind) {
    case UNDO_ACCOUNT_INSERT:
        COR_ASSERT(ledger->account_slots[undo->slot].index_next == undo->index + 1);
        memset(&ledger->account_slots[undo->slot], 0, sizeof(ledger_account_slot));
        memset(&ledger->accounts[undo->index], 0, sizeof(cor_account));
        memset(&ledger->balances[undo->index], 0, sizeof(ledger_balances));
        ledger->accounts_slot[undo->index] = 0;
        break;
    case UNDO_TRANSFER_INSERT:
        cor__ledger_index_clear_slot(&ledger->transfers_index, undo->slot);
        memset(&ledger->transfers[undo->index], 0, sizeof(cor_transfer));
        ledger->transfers_status[undo->index] = COR_PENDING_STATUS_NONE;
        break;
    case UNDO_ACCOUNT_SAVE: {
        ledger_account_slot *slot = ledger_account_slot_at(ledger, undo->index);
        ledger->balances[undo->index] = undo->balances;
        slot->history_head_next = undo->history_head_next;
        slot->flags = undo->flags;
        break;
    }
    case UNDO_STATUS:
        ledger->transfers_status[undo->index] = undo->status;
        break;
    case UNDO_EXPIRY_INSERT:
        cor__ledger_expiry_remove(ledger, undo->index);
        break;
    case UNDO_EXPIRY_REMOVE:
        cor__ledger_expiry_insert(ledger, undo->expiry);
        break;
    default:
        COR_UNREACHABLE();
    }
}

static void ledger_chain_rollback(cor_ledger *ledger, const ledger_chain_mark *mark)
{
    COR_ASSERT(ledger->chain_open);
    while (ledger->undos_count > mark->undo_count) {
        ledger_undo_apply(ledger, &ledger->undos[--ledger->undos_count]);
    }
    for (uint64_t i = mark->history_count; i < ledger->history_count; i++) {
        memset(&ledger->history[i], 0, sizeof(ledger_history));
    }
    ledger->accounts_count = mark->accounts_count;
    ledger->transfers_count = mark->transfers_count;
    ledger->history_count = mark->history_count;
    ledger->pending_count = mark->pending_count;
    ledger->object_timestamp_last = mark->object_timestamp_last;
    ledger->chain_open = false;
}

/* Index of the last event of the chain that starts at first (count - 1 if it never closes). */
static uint32_t ledger_chain_last(const void *events, size_t event_size_bytes, size_t flags_offset,
                                  uint16_t linked_flag, uint32_t first, uint32_t count)
{
    const unsigned char *bytes = events;
    for (uint32_t i = first; i < count; i++) {
        uint16_t flags;
        memcpy(&flags, bytes + (size_t)i * event_size_bytes + flags_offset, sizeof(flags));
        if ((flags & linked_flag) == 0) return i;
    }
    return count - 1;
}

static void ledger_remember_failure(cor_ledger *ledger, cor_u128 id, uint32_t *status)
{
    COR_ASSERT(!ledger->chain_open);
    if (!cor_create_transfer_status_transient(*status)) return;
    COR_ASSERT(!ledger_failed_find(ledger, id));
    if (ledger->failed_ids_count == ledger->options.failed_ids_max) {
        /* Cannot remember the failure, so it must not count as one: refuse for capacity. */
        *status = COR_TRANSFER_TRANSFERS_FULL;
        return;
    }
    uint32_t index = ledger->failed_ids_count++;
    ledger->failed_ids[index] = id;
    cor__ledger_index_insert(&ledger->transfers_index, cor__ledger_hash(ledger, id),
                             LEDGER_SLOT_FAILED | (index + 1));
}

/* ---------------------------------------------------------------------------------------- */
/* Batches                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/*
 * The transfer pipeline. Event i is applied while event i + LEDGER_PROBE_AHEAD has its
 * account slots resolved (and their balance lines prefetched), and event
 * i + LEDGER_PROBE_AHEAD + LEDGER_HASH_AHEAD has its slots prefetched. So each event's
 * misses (two account slots, two balance lines, the transfer id slot) are in flight well
 * before the event needs them.
 */
#define LEDGER_PROBE_AHEAD 8u
#define LEDGER_HASH_AHEAD 8u

typedef struct ledger_batch {
    cor_ledger        *ledger;
    const void        *events;
    uint32_t           count;
    bool               transfers; /* else accounts */
    cor_create_result *results;
    uint64_t           base;      /* timestamp of event 0 */
    bool               imported;  /* the batch is an imported one */
    uint32_t           hashed;    /* transfer events whose slots were prefetched */
    uint32_t           probed;    /* transfer events whose account slots were probed */
} ledger_batch;

static void ledger_batch_hash(ledger_batch *batch, uint32_t upto)
{
    cor_ledger *ledger = batch->ledger;
    const cor_transfer *transfers = batch->events;
    for (; batch->hashed < upto; batch->hashed++) {
        const cor_transfer *t = &transfers[batch->hashed];
        uint64_t *hashes = &ledger->scratch_hash[3 * (size_t)batch->hashed];
        hashes[0] = cor__ledger_hash(ledger, t->debit_account_id);
        hashes[1] = cor__ledger_hash(ledger, t->credit_account_id);
        hashes[2] = cor__ledger_hash(ledger, t->id);
        ledger_account_prefetch(ledger, hashes[0]);
        ledger_account_prefetch(ledger, hashes[1]);
        ledger_index_prefetch(&ledger->transfers_index, hashes[2]);
        if (t->pending_id != 0) {
            ledger_index_prefetch(&ledger->transfers_index,
                                  cor__ledger_hash(ledger, t->pending_id));
        }
    }
}

static void ledger_prefetch_balances(const cor_ledger *ledger, const ledger_account_slot *slot)
{
    if (slot != NULL) __builtin_prefetch(&ledger->balances[slot->index_next - 1], 1, 3);
}

/*
 * Resolves the account slots of events up to (excluding) upto into scratch and prefetches
 * their balances. Accounts never change inside a transfer batch, so a resolution stays valid
 * for the whole batch.
 */
static void ledger_batch_probe(ledger_batch *batch, uint32_t upto)
{
    cor_ledger *ledger = batch->ledger;
    const cor_transfer *transfers = batch->events;
    if (upto > batch->count) upto = batch->count;
    uint32_t hash_upto = upto + LEDGER_HASH_AHEAD;
    ledger_batch_hash(batch, hash_upto < batch->count ? hash_upto : batch->count);
    for (; batch->probed < upto; batch->probed++) {
        const cor_transfer *t = &transfers[batch->probed];
        const uint64_t *hashes = &ledger->scratch_hash[3 * (size_t)batch->probed];
        ledger_account_slot *debit = ledger_account_slot_find(ledger, hashes[0],
                                                              t->debit_account_id);
        ledger_account_slot *credit = ledger_account_slot_find(ledger, hashes[1],
                                                               t->credit_account_id);
        ledger->scratch_debit[batch->probed] = debit;
        ledger->scratch_credit[batch->probed] = credit;
        ledger_prefetch_balances(ledger, debit);
        ledger_prefetch_balances(ledger, credit);
    }
}

static uint32_t ledger_batch_event(ledger_batch *batch, uint32_t i, uint64_t *timestamp_out)
{
    ledger_event_context context = {
        .timestamp = batch->base + i,
        .batch_timestamp = batch->base,
        .imported_batch = batch->imported,
    };
    if (!batch->transfers) {
        const cor_account *accounts = batch->events;
        return cor__ledger_create_account(batch->ledger, &accounts[i], &context, timestamp_out);
    }
    ledger_batch_probe(batch, i + 1 + LEDGER_PROBE_AHEAD);
    const cor_transfer *transfers = batch->events;
    cor_ledger *ledger = batch->ledger;
    context.debit = ledger->scratch_debit[i];
    context.credit = ledger->scratch_credit[i];
    context.id_hash = ledger->scratch_hash[3 * (size_t)i + 2];
    return cor__ledger_create_transfer(batch->ledger, &transfers[i], &context, timestamp_out);
}

static uint16_t ledger_batch_flags(const ledger_batch *batch, uint32_t i)
{
    if (batch->transfers) return ((const cor_transfer *)batch->events)[i].flags;
    return ((const cor_account *)batch->events)[i].flags;
}

static cor_u128 ledger_batch_id(const ledger_batch *batch, uint32_t i)
{
    if (batch->transfers) return ((const cor_transfer *)batch->events)[i].id;
    return ((const cor_account *)batch->events)[i].id;
}

static void ledger_batch_single(ledger_batch *batch, uint32_t i)
{
    uint64_t timestamp = 0;
    uint32_t status = ledger_batch_event(batch, i, &timestamp);
    if (batch->transfers && status != COR_TRANSFER_CREATED) {
        ledger_remember_failure(batch->ledger, ledger_batch_id(batch, i), &status);
    }
    batch->results[i] = (cor_create_result){.timestamp = timestamp, .status = status};
}

/* Applies the chain first..last as a unit. Returns the index after the chain. */
static uint32_t ledger_batch_chain(ledger_batch *batch, uint32_t first)
{
    /* The linked flag has the same bit (0) in account and transfer flags. */
    _Static_assert((unsigned)COR_ACCOUNT_LINKED == (unsigned)COR_TRANSFER_LINKED, "one bit");
    size_t event_size = batch->transfers ? sizeof(cor_transfer) : sizeof(cor_account);
    size_t flags_offset = batch->transfers ? offsetof(cor_transfer, flags)
                                           : offsetof(cor_account, flags);
    uint32_t last = ledger_chain_last(batch->events, event_size, flags_offset,
                                      COR_TRANSFER_LINKED, first, batch->count);
    bool open = (ledger_batch_flags(batch, last) & COR_TRANSFER_LINKED) != 0;

    ledger_chain_mark mark;
    ledger_chain_begin(batch->ledger, &mark);
    uint32_t failed = UINT32_MAX;
    for (uint32_t i = first; i <= last; i++) {
        uint64_t timestamp = 0;
        uint32_t status;
        if (open && i == last) {
            status = COR_TRANSFER_LINKED_EVENT_CHAIN_OPEN; /* same value for accounts */
        } else {
            status = ledger_batch_event(batch, i, &timestamp);
        }
        batch->results[i] = (cor_create_result){.timestamp = timestamp, .status = status};
        if (status != COR_TRANSFER_CREATED) {
            failed = i;
            break;
        }
    }
    if (failed == UINT32_MAX) {
        ledger_chain_commit(batch->ledger, &mark);
        return last + 1;
    }
    ledger_chain_rollback(batch->ledger, &mark);
    for (uint32_t i = first; i <= last; i++) {
        if (i == failed) continue;
        batch->results[i] = (cor_create_result){.status = COR_TRANSFER_LINKED_EVENT_FAILED};
    }
    if (batch->transfers) {
        uint32_t status = batch->results[failed].status;
        ledger_remember_failure(batch->ledger, ledger_batch_id(batch, failed), &status);
        batch->results[failed].status = status;
    }
    return last + 1;
}

static cor_error ledger_batch_run(ledger_batch *batch, uint64_t timestamp)
{
    cor_ledger *ledger = batch->ledger;
    if (batch->events == NULL || batch->results == NULL) return COR_ERR_INVALID;
    if (batch->count == 0 || batch->count > COR_LEDGER_BATCH_EVENTS_MAX) return COR_ERR_INVALID;
    uint64_t base = timestamp > ledger->timestamp ? timestamp : ledger->timestamp + 1;
    if (base == 0 || base > LEDGER_TIMESTAMP_IMPORTED_MAX - batch->count) return COR_ERR_INVALID;
    batch->base = base;
    batch->imported = batch->transfers
                          ? (ledger_batch_flags(batch, 0) & COR_TRANSFER_IMPORTED) != 0
                          : (ledger_batch_flags(batch, 0) & COR_ACCOUNT_IMPORTED) != 0;
    COR_ASSERT(!ledger->chain_open);
    COR_ASSERT(ledger->undos_count == 0);

    uint32_t i = 0;
    while (i < batch->count) {
        if (ledger_batch_flags(batch, i) & COR_TRANSFER_LINKED) {
            i = ledger_batch_chain(batch, i);
        } else {
            ledger_batch_single(batch, i);
            i++;
        }
    }
    ledger->timestamp = base + batch->count - 1;
    ledger_stream_fence(); /* order the streamed stores before anything after the batch */
    COR_ASSERT(!ledger->chain_open);
    COR_ASSERT(ledger->undos_count == 0);
    COR_DEBUG_ASSERT(cor__ledger_check_loadable(ledger));
    return COR_OK;
}

cor_error cor_ledger_create_accounts(cor_ledger *ledger, uint64_t timestamp,
                                     const cor_account *accounts, uint32_t count,
                                     cor_create_result *results)
{
    ledger_batch batch = {
        .ledger = ledger, .events = accounts, .count = count, .results = results,
    };
    return ledger_batch_run(&batch, timestamp);
}

cor_error cor_ledger_create_transfers(cor_ledger *ledger, uint64_t timestamp,
                                      const cor_transfer *transfers, uint32_t count,
                                      cor_create_result *results)
{
    ledger_batch batch = {
        .ledger = ledger, .events = transfers, .count = count, .results = results,
        .transfers = true,
    };
    return ledger_batch_run(&batch, timestamp);
}

uint32_t cor_ledger_expire_pending(cor_ledger *ledger, uint64_t timestamp, uint32_t limit)
{
    COR_ASSERT(!ledger->chain_open);
    uint32_t expired = 0;
    while (expired < limit && ledger->expiries_count > 0 &&
           ledger->expiries[0].expires_at <= timestamp) {
        uint32_t index = ledger->expiries[0].transfer_index;
        cor__ledger_pending_release(ledger, index, COR_PENDING_STATUS_EXPIRED);
        expired++;
    }
    if (timestamp > ledger->timestamp) ledger->timestamp = timestamp;
    return expired;
}

bool cor_ledger_next_expiry(const cor_ledger *ledger, uint64_t *expires_at_out)
{
    if (ledger->expiries_count == 0) return false;
    *expires_at_out = ledger->expiries[0].expires_at;
    return true;
}
