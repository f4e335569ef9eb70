/*
 * Private declarations of the ledger core (see include/corridor/ledger.h and docs/LEDGER.md).
 *
 * Storage: every table is a flat array sized at open (mmap'd, so pages cost nothing until
 * touched). Accounts and transfers are appended in timestamp order and never move; their
 * indexes are stable, so side tables (status, heap position) are indexed the same way.
 *
 * Accounts are split hot and cold, because a transfer touches two random accounts and each
 * cache line it pulls from memory is what the hot path pays for. The hot part of an account
 * is one 64-byte line of balances (`balances`) plus its 32-byte slot in the account index,
 * which holds the full id, the ledger, the current flags and the history head: a transfer
 * reads and writes exactly two lines per account. The cold 128-byte record (`accounts`)
 * keeps what was given at creation (user data, code, timestamp); its balance fields, flags
 * and reserved field are not maintained: cor__ledger_account_get assembles the public record.
 *
 * Transfers are found through an open-addressing index (linear probing) whose 8-byte slot
 * holds a 32-bit tag of the hash and the record index plus one (0 = empty), so a miss
 * rarely touches a record.
 *
 * Linked chains are applied in place; while a chain is open every mutation pushes an undo
 * entry, and a failing chain pops them in reverse order. Outside a chain nothing is logged:
 * a single event validates completely before it mutates anything.
 */
#ifndef COR_LEDGER_INTERNAL_H
#define COR_LEDGER_INTERNAL_H

#include "corridor/ledger.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/assert.h"

/*
 * Transfer records and history are written once, sequentially, and read rarely: streaming
 * stores skip the read-for-ownership of each line and leave the cache to the hot account
 * lines. size_bytes is a multiple of 16 and target is 16-byte aligned. Every batch ends with
 * ledger_stream_fence(), so the stores are ordered before anything after the batch.
 */
static inline void ledger_stream_store(void *target, const void *source, size_t size_bytes)
{
#if defined(__SSE2__)
    __m128i *destination = target;
    const __m128i *from = source;
    for (size_t i = 0; i < size_bytes / sizeof(__m128i); i++) {
        _mm_stream_si128(&destination[i], _mm_loadu_si128(&from[i]));
    }
#else
    memcpy(target, source, size_bytes);
#endif
}

static inline void ledger_stream_fence(void)
{
#if defined(__SSE2__)
    _mm_sfence();
#endif
}

#define LEDGER_NS_PER_SECOND 1000000000ull
#define LEDGER_TIMESTAMP_IMPORTED_MAX ((1ull << 63) - 1)

typedef struct ledger_slot {
    uint32_t tag;        /* high 32 bits of the hash */
    uint32_t index_next; /* record index + 1; 0 = empty slot */
} ledger_slot;

typedef struct ledger_index {
    ledger_slot *slots;
    uint64_t     mask; /* slot count - 1 (slot count is a power of two) */
    size_t       size_bytes;
} ledger_index;

/* The account's balances right after a transfer; one per account per transfer. */
typedef struct ledger_history {
    cor_u128 debits_pending;
    cor_u128 debits_posted;
    cor_u128 credits_pending;
    cor_u128 credits_posted;
    uint64_t timestamp;
    uint32_t transfer_index;
    uint32_t previous_next; /* previous entry of the same account + 1; 0 = first */
} ledger_history;
_Static_assert(sizeof(ledger_history) == 80, "history entry is 80 bytes");

/* The account index: 32-byte slots, two per cache line. */
typedef struct ledger_account_slot {
    cor_u128 id;
    uint32_t index_next;        /* account index + 1; 0 = empty slot */
    uint32_t ledger;            /* copy of the account's ledger */
    uint32_t history_head_next; /* newest history entry + 1; 0 = none */
    uint16_t flags;             /* the account's current flags (closed changes) */
    uint16_t reserved;
} ledger_account_slot;
_Static_assert(sizeof(ledger_account_slot) == 32, "account slot is 32 bytes");

/* An account's balances: one cache line. */
typedef struct ledger_balances {
    cor_u128 debits_pending;
    cor_u128 debits_posted;
    cor_u128 credits_pending;
    cor_u128 credits_posted;
} ledger_balances;
_Static_assert(sizeof(ledger_balances) == 64, "balances are one cache line");

/* What the hot path holds of one account. */
typedef struct ledger_account_ref {
    uint32_t             index;
    ledger_account_slot *slot;
    ledger_balances     *balances;
} ledger_account_ref;

/* Transfer index slots also hold remembered failures, flagged by this bit. */
#define LEDGER_SLOT_FAILED 0x80000000u

typedef struct ledger_expiry {
    uint64_t expires_at;     /* ns */
    uint32_t transfer_index; /* tie-break: earlier transfer first */
    uint32_t reserved;
} ledger_expiry;

enum ledger_undo_kind {
    UNDO_ACCOUNT_INSERT,  /* index, slot */
    UNDO_TRANSFER_INSERT, /* index, slot */
    UNDO_ACCOUNT_SAVE,    /* index, account copy, meta copy */
    UNDO_STATUS,          /* index (transfer), old status */
    UNDO_EXPIRY_INSERT,   /* transfer index */
    UNDO_EXPIRY_REMOVE,   /* expiry entry */
    UNDO_HISTORY_APPEND,  /* nothing: history count is restored from the chain start */
};

typedef struct ledger_undo {
    uint32_t            kind;
    uint32_t            index;
    uint64_t            slot;
    uint8_t             status;
    ledger_expiry       expiry;
    ledger_balances     balances;
    uint32_t            history_head_next;
    uint16_t            flags;
} ledger_undo;

/* Scalars restored when a chain rolls back. */
typedef struct ledger_chain_mark {
    uint32_t accounts_count;
    uint32_t transfers_count;
    uint64_t history_count;
    uint32_t pending_count;
    uint64_t object_timestamp_last;
    uint32_t undo_count;
} ledger_chain_mark;

struct cor_ledger {
    cor_ledger_options options;

    cor_account         *accounts;          /* [accounts_max] cold records, creation order */
    ledger_balances     *balances;          /* [accounts_max] hot balances */
    uint64_t            *accounts_slot;     /* [accounts_max] position of each slot */
    uint32_t             accounts_count;
    ledger_account_slot *account_slots;     /* the account index */
    uint64_t             account_slots_mask; /* slot count - 1 */

    cor_transfer *transfers;              /* [transfers_max], creation order */
    uint8_t      *transfers_status;       /* [transfers_max] cor_pending_status */
    uint32_t     *transfers_expiry_slot;  /* [transfers_max] heap position + 1; 0 = none */
    uint32_t      transfers_count;
    ledger_index  transfers_index; /* transfers and remembered failures */

    ledger_history *history; /* [2 * transfers_max] */
    uint64_t        history_count;

    ledger_expiry *expiries; /* binary min-heap [pending_transfers_max] */
    uint32_t       expiries_count;
    uint32_t       pending_count; /* transfers currently pending */

    cor_u128 *failed_ids; /* [failed_ids_max], in failure order */
    uint32_t  failed_ids_count;

    uint64_t timestamp;             /* last timestamp given (events, expiry) */
    uint64_t object_timestamp_last; /* newest account or transfer timestamp */

    /* Batch scratch, sized at open. */
    ledger_undo *undos; /* [LEDGER_UNDO_MAX] */
    uint32_t     undos_count;
    bool         chain_open;
    ledger_account_slot **scratch_debit;  /* [batch max] resolved debit slot or NULL */
    ledger_account_slot **scratch_credit; /* [batch max] resolved credit slot or NULL */
    uint64_t    *scratch_hash;   /* [3 * batch max] debit, credit, id hashes per event */
};

/* Each chain event logs at most: 2 account saves, 1 insert, 1 status, 1 expiry op. */
#define LEDGER_UNDO_PER_EVENT_MAX 6u
#define LEDGER_UNDO_MAX (COR_LEDGER_BATCH_EVENTS_MAX * LEDGER_UNDO_PER_EVENT_MAX)

/* ledger_index.c */
uint64_t cor__ledger_hash(const cor_ledger *ledger, cor_u128 id);
cor_error cor__ledger_index_init(ledger_index *index, uint32_t capacity, bool prefault);
void cor__ledger_index_release(ledger_index *index);
/* Inserts (the id must be absent) slot_value = record index + 1 (| LEDGER_SLOT_FAILED for a
 * remembered failure); returns the slot used. */
uint64_t cor__ledger_index_insert(ledger_index *index, uint64_t hash, uint32_t slot_value);
void cor__ledger_index_clear_slot(ledger_index *index, uint64_t slot);

static inline void ledger_index_prefetch(const ledger_index *index, uint64_t hash)
{
    __builtin_prefetch(&index->slots[hash & index->mask], 0, 3);
}

/* The slot holding id, or NULL. */
static inline ledger_account_slot *ledger_account_slot_find(const cor_ledger *ledger,
                                                            uint64_t hash, cor_u128 id)
{
    uint64_t position = hash & ledger->account_slots_mask;
    for (uint64_t probes = 0; probes <= ledger->account_slots_mask; probes++) {
        ledger_account_slot *s = &ledger->account_slots[position];
        if (s->index_next == 0) return NULL;
        if (s->id == id) return s;
        position = (position + 1) & ledger->account_slots_mask;
    }
    return NULL;
}

static inline void ledger_account_prefetch(const cor_ledger *ledger, uint64_t hash)
{
    __builtin_prefetch(&ledger->account_slots[hash & ledger->account_slots_mask], 1, 3);
}

static inline ledger_account_ref ledger_account_ref_of(const cor_ledger *ledger,
                                                       ledger_account_slot *slot)
{
    ledger_account_ref ref = {.index = slot->index_next - 1, .slot = slot};
    ref.balances = &ledger->balances[ref.index];
    return ref;
}

static inline ledger_account_slot *ledger_account_slot_at(const cor_ledger *ledger,
                                                          uint32_t index)
{
    return &ledger->account_slots[ledger->accounts_slot[index]];
}

/* The account index + 1 of id, or 0. */
static inline uint32_t ledger_account_find(const cor_ledger *ledger, cor_u128 id)
{
    const ledger_account_slot *slot =
        ledger_account_slot_find(ledger, cor__ledger_hash(ledger, id), id);
    return slot == NULL ? 0 : slot->index_next;
}

/* Inserts a new account's slot (id absent); returns its position. */
uint64_t cor__ledger_account_slot_insert(cor_ledger *ledger, uint64_t hash,
                                         const ledger_account_slot *slot);

/* The public record of account index: cold fields, current balances and flags. */
void cor__ledger_account_get(const cor_ledger *ledger, uint32_t index, cor_account *out);

/*
 * Looks id up among transfers and remembered failures in one probe sequence. Returns the
 * transfer index + 1, or 0; *failed tells whether id is a remembered failure.
 */
uint32_t cor__ledger_transfer_lookup(const cor_ledger *ledger, uint64_t hash, cor_u128 id,
                                     bool *failed);

static inline uint32_t ledger_transfer_find(const cor_ledger *ledger, cor_u128 id)
{
    bool failed;
    return cor__ledger_transfer_lookup(ledger, cor__ledger_hash(ledger, id), id, &failed);
}

static inline bool ledger_failed_find(const cor_ledger *ledger, cor_u128 id)
{
    bool failed = false;
    cor__ledger_transfer_lookup(ledger, cor__ledger_hash(ledger, id), id, &failed);
    return failed;
}

/* ledger_state.c: cor_ledger_check without the O(history) walks; what loading a snapshot
 * guarantees, and what debug builds assert after every batch (so a loaded state that passed
 * it can never trip that assertion). */
bool cor__ledger_check_loadable(const cor_ledger *ledger);

/* ledger_expiry.c: the min-heap of pending transfers with a timeout. */
void cor__ledger_expiry_insert(cor_ledger *ledger, ledger_expiry entry);
void cor__ledger_expiry_remove(cor_ledger *ledger, uint32_t transfer_index);

/* ledger.c */
void cor__ledger_undo_push(cor_ledger *ledger, const ledger_undo *undo);
void cor__ledger_account_save(cor_ledger *ledger, ledger_account_ref account);
void cor__ledger_history_append(cor_ledger *ledger, ledger_account_ref account,
                                uint32_t transfer_index, uint64_t timestamp);
void cor__ledger_status_set(cor_ledger *ledger, uint32_t transfer_index, uint8_t status);

/* ledger_transfer.c / ledger_account.c: one event, fully validated before any mutation. */
/* What one event sees of its batch. */
typedef struct ledger_event_context {
    uint64_t timestamp;       /* the event's assigned timestamp (ignored when imported) */
    uint64_t batch_timestamp; /* the batch's first assigned timestamp */
    bool     imported_batch;  /* the batch's first event is imported */
    ledger_account_slot *debit;  /* resolved debit account slot or NULL (transfers only) */
    ledger_account_slot *credit; /* resolved credit account slot or NULL (transfers only) */
    uint64_t id_hash;         /* hash of the event's id (transfers only) */
} ledger_event_context;

/* Returns the status; *timestamp_out gets the created or existing object's timestamp. */
uint32_t cor__ledger_create_transfer(cor_ledger *ledger, const cor_transfer *transfer,
                                     const ledger_event_context *context,
                                     uint64_t *timestamp_out);
uint32_t cor__ledger_create_account(cor_ledger *ledger, const cor_account *account,
                                    const ledger_event_context *context,
                                    uint64_t *timestamp_out);
/* Releases a pending transfer's reservation (void or expiry); status VOIDED or EXPIRED. */
void cor__ledger_pending_release(cor_ledger *ledger, uint32_t pending_index, uint8_t status);

#endif
