/*
 * Private declarations of the ledger core (see include/corridor/ledger.h and docs/LEDGER.md).
 *
 * Storage: every table is a flat array sized at open (mmap'd, so pages cost nothing until
 * touched). Accounts and transfers are appended in timestamp order and never move; their
 * indexes are stable, so side tables (status, heap position, history head) are indexed the
 * same way. Ids are found through open-addressing hash indexes with linear probing; a slot
 * holds a 32-bit tag of the hash and the record index plus one (0 = empty), so a miss rarely
 * touches a record.
 *
 * Linked chains are applied in place; while a chain is open every mutation pushes an undo
 * entry, and a failing chain pops them in reverse order. Outside a chain nothing is logged:
 * a single event validates completely before it mutates anything.
 */
#ifndef COR_LEDGER_INTERNAL_H
#define COR_LEDGER_INTERNAL_H

#include "corridor/ledger.h"

#include "common/assert.h"

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

/*
 * An account's newest history entry + 1 (0 = none) lives in the stored record's `reserved`
 * field, which the API requires to be 0 on input and shows as 0 on output. Keeping it inside
 * the record saves a cache miss per account per transfer on the hot path.
 */
#define LEDGER_HISTORY_HEAD(account) ((account)->reserved)

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
    cor_account         account;
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

    cor_account *accounts; /* [accounts_max], creation order */
    uint32_t     accounts_count;
    ledger_index accounts_index;

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
    uint32_t    *scratch_debit;  /* [batch max] probed debit account index + 1 */
    uint32_t    *scratch_credit; /* [batch max] probed credit account index + 1 */
    uint64_t    *scratch_hash;   /* [3 * batch max] debit, credit, id hashes per event */
};

/* Each chain event logs at most: 2 account saves, 1 insert, 1 status, 1 expiry op. */
#define LEDGER_UNDO_PER_EVENT_MAX 6u
#define LEDGER_UNDO_MAX (COR_LEDGER_BATCH_EVENTS_MAX * LEDGER_UNDO_PER_EVENT_MAX)

/* ledger_index.c */
uint64_t cor__ledger_hash(const cor_ledger *ledger, cor_u128 id);
cor_error cor__ledger_index_init(ledger_index *index, uint32_t capacity, bool prefault);
void cor__ledger_index_release(ledger_index *index);
/* Returns the record index + 1, or 0 when absent. keys: the record array's ids by index. */
uint32_t cor__ledger_index_find(const ledger_index *index, uint64_t hash, cor_u128 id,
                                const void *records, size_t record_size_bytes);
/* Inserts (the id must be absent) slot_value = record index + 1 (| LEDGER_SLOT_FAILED for a
 * remembered failure); returns the slot used. */
uint64_t cor__ledger_index_insert(ledger_index *index, uint64_t hash, uint32_t slot_value);
void cor__ledger_index_clear_slot(ledger_index *index, uint64_t slot);

static inline void ledger_index_prefetch(const ledger_index *index, uint64_t hash)
{
    __builtin_prefetch(&index->slots[hash & index->mask], 0, 3);
}

/*
 * The first record index + 1 whose slot tag matches, without touching records (0 when the
 * probe reaches an empty slot first). The caller confirms the id later, once the record it
 * prefetched has arrived; a mismatch (rare: a 32-bit tag collision) falls back to a full find.
 */
static inline uint32_t ledger_index_probe(const ledger_index *index, uint64_t hash)
{
    uint32_t tag = (uint32_t)(hash >> 32);
    uint64_t slot = hash & index->mask;
    for (uint64_t probes = 0; probes <= index->mask; probes++) {
        const ledger_slot *s = &index->slots[slot];
        if (s->index_next == 0 || s->tag == tag) return s->index_next;
        slot = (slot + 1) & index->mask;
    }
    return 0;
}

static inline uint32_t ledger_account_find(const cor_ledger *ledger, cor_u128 id)
{
    return cor__ledger_index_find(&ledger->accounts_index, cor__ledger_hash(ledger, id), id,
                                  ledger->accounts, sizeof(cor_account));
}

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

/* ledger_expiry.c: the min-heap of pending transfers with a timeout. */
void cor__ledger_expiry_insert(cor_ledger *ledger, ledger_expiry entry);
void cor__ledger_expiry_remove(cor_ledger *ledger, uint32_t transfer_index);

/* ledger.c */
void cor__ledger_undo_push(cor_ledger *ledger, const ledger_undo *undo);
void cor__ledger_account_save(cor_ledger *ledger, uint32_t account_index);
void cor__ledger_history_append(cor_ledger *ledger, uint32_t account_index,
                                uint32_t transfer_index);
void cor__ledger_status_set(cor_ledger *ledger, uint32_t transfer_index, uint8_t status);

/* ledger_transfer.c / ledger_account.c: one event, fully validated before any mutation. */
/* What one event sees of its batch. */
typedef struct ledger_event_context {
    uint64_t timestamp;       /* the event's assigned timestamp (ignored when imported) */
    uint64_t batch_timestamp; /* the batch's first assigned timestamp */
    bool     imported_batch;  /* the batch's first event is imported */
    uint32_t debit_next;      /* pre-resolved debit account index + 1 (transfers only) */
    uint32_t credit_next;     /* pre-resolved credit account index + 1 (transfers only) */
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
