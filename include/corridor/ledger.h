/*
 * corridor: the ledger core.
 *
 * A deterministic double-entry ledger of accounts and transfers, after the model described in
 * docs/LEDGER.md: 128-byte records, u128 ids and amounts, two-phase (pending / post / void)
 * transfers with timeouts, linked chains that commit or roll back as a unit, balance-limit
 * flags, balancing and closing transfers, imported events, and precise per-event results with
 * a documented precedence and idempotency by id.
 *
 * Determinism: the ledger does no I/O, reads no clock and allocates only in cor_ledger_open.
 * Its state is a pure function of the sequence of calls that changed it (create_accounts,
 * create_transfers, expire_pending, with their arguments). Two ledgers given the same calls
 * serialize to identical bytes (cor_ledger_serialize), whatever their hash seeds.
 *
 * Threads: a ledger is not thread-safe; one thread (the node's core thread) owns it.
 * Queries may run on that thread between batches.
 */
#ifndef CORRIDOR_LEDGER_H
#define CORRIDOR_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/u128.h"

/* Largest number of events in one create_accounts / create_transfers call. */
#define COR_LEDGER_BATCH_EVENTS_MAX 8189u

/* Post a pending transfer's full amount (and "as much as possible" for balancing). */
#define COR_AMOUNT_MAX COR_U128_MAX

/* ---------------------------------------------------------------------------------------- */
/* Records                                                                                  */
/* ---------------------------------------------------------------------------------------- */

enum cor_account_flags {
    COR_ACCOUNT_LINKED                         = 1u << 0,
    COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS = 1u << 1,
    COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS = 1u << 2,
    COR_ACCOUNT_HISTORY                        = 1u << 3, /* accepted; history is always kept */
    COR_ACCOUNT_IMPORTED                       = 1u << 4,
    COR_ACCOUNT_CLOSED                         = 1u << 5,
};
#define COR_ACCOUNT_FLAGS_KNOWN 0x003fu

typedef struct cor_account {
    cor_u128 id;              /* not 0, not 2^128-1; unique among accounts */
    cor_u128 debits_pending;  /* minor units; 0 at creation */
    cor_u128 debits_posted;   /* minor units; 0 at creation */
    cor_u128 credits_pending; /* minor units; 0 at creation */
    cor_u128 credits_posted;  /* minor units; 0 at creation */
    cor_u128 user_data_128;   /* opaque, queryable */
    uint64_t user_data_64;    /* opaque, queryable */
    uint32_t user_data_32;    /* opaque, queryable */
    uint32_t reserved;        /* must be 0 */
    uint32_t ledger;          /* partition (currency); not 0 */
    uint16_t code;            /* chart-of-accounts type; not 0 */
    uint16_t flags;           /* enum cor_account_flags */
    uint64_t timestamp;       /* ns; set by the ledger (0 on create unless imported) */
} cor_account;

enum cor_transfer_flags {
    COR_TRANSFER_LINKED                = 1u << 0,
    COR_TRANSFER_PENDING               = 1u << 1,
    COR_TRANSFER_POST_PENDING_TRANSFER = 1u << 2,
    COR_TRANSFER_VOID_PENDING_TRANSFER = 1u << 3,
    COR_TRANSFER_BALANCING_DEBIT       = 1u << 4,
    COR_TRANSFER_BALANCING_CREDIT      = 1u << 5,
    COR_TRANSFER_CLOSING_DEBIT         = 1u << 6,
    COR_TRANSFER_CLOSING_CREDIT        = 1u << 7,
    COR_TRANSFER_IMPORTED              = 1u << 8,
};
#define COR_TRANSFER_FLAGS_KNOWN 0x01ffu

typedef struct cor_transfer {
    cor_u128 id;                /* idempotency key; not 0, not 2^128-1 */
    cor_u128 debit_account_id;  /* for post/void: 0 inherits from the pending transfer */
    cor_u128 credit_account_id; /* likewise */
    cor_u128 amount;            /* minor units; see post/void/balancing rules */
    cor_u128 pending_id;        /* the pending transfer to post or void; else 0 */
    cor_u128 user_data_128;     /* for post/void: 0 inherits */
    uint64_t user_data_64;      /* for post/void: 0 inherits */
    uint32_t user_data_32;      /* for post/void: 0 inherits */
    uint32_t timeout;           /* seconds; pending transfers only; 0 = never expires */
    uint32_t ledger;            /* must equal both accounts' ledger; post/void: 0 inherits */
    uint16_t code;              /* not 0; post/void: 0 inherits */
    uint16_t flags;             /* enum cor_transfer_flags */
    uint64_t timestamp;         /* ns; set by the ledger (0 on create unless imported) */
} cor_transfer;

_Static_assert(sizeof(cor_account) == 128, "account record is 128 bytes");
_Static_assert(sizeof(cor_transfer) == 128, "transfer record is 128 bytes");
_Static_assert(_Alignof(cor_account) == 16, "account record is 16-byte aligned");
_Static_assert(_Alignof(cor_transfer) == 16, "transfer record is 16-byte aligned");

/* ---------------------------------------------------------------------------------------- */
/* Results, listed here in numeric order; their precedence is documented in docs/LEDGER.md. */
/* Values follow the reference model, except created = 0 and our capacity codes (100+).     */
/* ---------------------------------------------------------------------------------------- */

#define COR_CREATE_ACCOUNT_STATUS_LIST(X)                                                  \
    X(COR_ACCOUNT_CREATED, 0, "created")                                                   \
    X(COR_ACCOUNT_LINKED_EVENT_FAILED, 1, "linked_event_failed")                           \
    X(COR_ACCOUNT_LINKED_EVENT_CHAIN_OPEN, 2, "linked_event_chain_open")                   \
    X(COR_ACCOUNT_TIMESTAMP_MUST_BE_ZERO, 3, "timestamp_must_be_zero")                     \
    X(COR_ACCOUNT_RESERVED_FIELD, 4, "reserved_field")                                     \
    X(COR_ACCOUNT_RESERVED_FLAG, 5, "reserved_flag")                                       \
    X(COR_ACCOUNT_ID_MUST_NOT_BE_ZERO, 6, "id_must_not_be_zero")                           \
    X(COR_ACCOUNT_ID_MUST_NOT_BE_INT_MAX, 7, "id_must_not_be_int_max")                     \
    X(COR_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE, 8, "flags_are_mutually_exclusive")         \
    X(COR_ACCOUNT_DEBITS_PENDING_MUST_BE_ZERO, 9, "debits_pending_must_be_zero")           \
    X(COR_ACCOUNT_DEBITS_POSTED_MUST_BE_ZERO, 10, "debits_posted_must_be_zero")            \
    X(COR_ACCOUNT_CREDITS_PENDING_MUST_BE_ZERO, 11, "credits_pending_must_be_zero")        \
    X(COR_ACCOUNT_CREDITS_POSTED_MUST_BE_ZERO, 12, "credits_posted_must_be_zero")          \
    X(COR_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO, 13, "ledger_must_not_be_zero")                  \
    X(COR_ACCOUNT_CODE_MUST_NOT_BE_ZERO, 14, "code_must_not_be_zero")                      \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS, 15, "exists_with_different_flags")          \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128, 16,                                 \
      "exists_with_different_user_data_128")                                               \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64, 17, "exists_with_different_user_data_64") \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_32, 18, "exists_with_different_user_data_32") \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER, 19, "exists_with_different_ledger")        \
    X(COR_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE, 20, "exists_with_different_code")            \
    X(COR_ACCOUNT_EXISTS, 21, "exists")                                                    \
    X(COR_ACCOUNT_IMPORTED_EVENT_EXPECTED, 22, "imported_event_expected")                  \
    X(COR_ACCOUNT_IMPORTED_EVENT_NOT_EXPECTED, 23, "imported_event_not_expected")          \
    X(COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE, 24,                               \
      "imported_event_timestamp_out_of_range")                                             \
    X(COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE, 25,                           \
      "imported_event_timestamp_must_not_advance")                                         \
    X(COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS, 26,                           \
      "imported_event_timestamp_must_not_regress")                                         \
    X(COR_ACCOUNT_ACCOUNTS_FULL, 100, "accounts_full")

#define COR_CREATE_TRANSFER_STATUS_LIST(X)                                                 \
    X(COR_TRANSFER_CREATED, 0, "created")                                                  \
    X(COR_TRANSFER_LINKED_EVENT_FAILED, 1, "linked_event_failed")                          \
    X(COR_TRANSFER_LINKED_EVENT_CHAIN_OPEN, 2, "linked_event_chain_open")                  \
    X(COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO, 3, "timestamp_must_be_zero")                    \
    X(COR_TRANSFER_RESERVED_FLAG, 4, "reserved_flag")                                      \
    X(COR_TRANSFER_ID_MUST_NOT_BE_ZERO, 5, "id_must_not_be_zero")                          \
    X(COR_TRANSFER_ID_MUST_NOT_BE_INT_MAX, 6, "id_must_not_be_int_max")                    \
    X(COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE, 7, "flags_are_mutually_exclusive")        \
    X(COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO, 8, "debit_account_id_must_not_be_zero") \
    X(COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX, 9,                                \
      "debit_account_id_must_not_be_int_max")                                              \
    X(COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO, 10, "credit_account_id_must_not_be_zero") \
    X(COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX, 11,                              \
      "credit_account_id_must_not_be_int_max")                                             \
    X(COR_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT, 12, "accounts_must_be_different")           \
    X(COR_TRANSFER_PENDING_ID_MUST_BE_ZERO, 13, "pending_id_must_be_zero")                 \
    X(COR_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO, 14, "pending_id_must_not_be_zero")         \
    X(COR_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX, 15, "pending_id_must_not_be_int_max")   \
    X(COR_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT, 16, "pending_id_must_be_different")       \
    X(COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER, 17,                              \
      "timeout_reserved_for_pending_transfer")                                             \
    X(COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO, 19, "ledger_must_not_be_zero")                 \
    X(COR_TRANSFER_CODE_MUST_NOT_BE_ZERO, 20, "code_must_not_be_zero")                     \
    X(COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND, 21, "debit_account_not_found")                 \
    X(COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND, 22, "credit_account_not_found")               \
    X(COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER, 23, "accounts_must_have_the_same_ledger") \
    X(COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS, 24,                     \
      "transfer_must_have_the_same_ledger_as_accounts")                                    \
    X(COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND, 25, "pending_transfer_not_found")           \
    X(COR_TRANSFER_PENDING_TRANSFER_NOT_PENDING, 26, "pending_transfer_not_pending")       \
    X(COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID, 27,                    \
      "pending_transfer_has_different_debit_account_id")                                   \
    X(COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID, 28,                   \
      "pending_transfer_has_different_credit_account_id")                                  \
    X(COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER, 29,                              \
      "pending_transfer_has_different_ledger")                                             \
    X(COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE, 30, "pending_transfer_has_different_code") \
    X(COR_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT, 31, "exceeds_pending_transfer_amount") \
    X(COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT, 32,                              \
      "pending_transfer_has_different_amount")                                             \
    X(COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED, 33, "pending_transfer_already_posted") \
    X(COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED, 34, "pending_transfer_already_voided") \
    X(COR_TRANSFER_PENDING_TRANSFER_EXPIRED, 35, "pending_transfer_expired")               \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS, 36, "exists_with_different_flags")         \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID, 37,                             \
      "exists_with_different_debit_account_id")                                            \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID, 38,                            \
      "exists_with_different_credit_account_id")                                           \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT, 39, "exists_with_different_amount")       \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID, 40, "exists_with_different_pending_id") \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128, 41,                                \
      "exists_with_different_user_data_128")                                               \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64, 42, "exists_with_different_user_data_64") \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_32, 43, "exists_with_different_user_data_32") \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT, 44, "exists_with_different_timeout")     \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE, 45, "exists_with_different_code")           \
    X(COR_TRANSFER_EXISTS, 46, "exists")                                                   \
    X(COR_TRANSFER_OVERFLOWS_DEBITS_PENDING, 47, "overflows_debits_pending")               \
    X(COR_TRANSFER_OVERFLOWS_CREDITS_PENDING, 48, "overflows_credits_pending")             \
    X(COR_TRANSFER_OVERFLOWS_DEBITS_POSTED, 49, "overflows_debits_posted")                 \
    X(COR_TRANSFER_OVERFLOWS_CREDITS_POSTED, 50, "overflows_credits_posted")               \
    X(COR_TRANSFER_OVERFLOWS_DEBITS, 51, "overflows_debits")                               \
    X(COR_TRANSFER_OVERFLOWS_CREDITS, 52, "overflows_credits")                             \
    X(COR_TRANSFER_OVERFLOWS_TIMEOUT, 53, "overflows_timeout")                             \
    X(COR_TRANSFER_EXCEEDS_CREDITS, 54, "exceeds_credits")                                 \
    X(COR_TRANSFER_EXCEEDS_DEBITS, 55, "exceeds_debits")                                   \
    X(COR_TRANSFER_IMPORTED_EVENT_EXPECTED, 56, "imported_event_expected")                 \
    X(COR_TRANSFER_IMPORTED_EVENT_NOT_EXPECTED, 57, "imported_event_not_expected")         \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE, 58,                              \
      "imported_event_timestamp_out_of_range")                                             \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE, 59,                          \
      "imported_event_timestamp_must_not_advance")                                         \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS, 60,                          \
      "imported_event_timestamp_must_not_regress")                                         \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_DEBIT_ACCOUNT, 61,               \
      "imported_event_timestamp_must_postdate_debit_account")                              \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_CREDIT_ACCOUNT, 62,              \
      "imported_event_timestamp_must_postdate_credit_account")                             \
    X(COR_TRANSFER_IMPORTED_EVENT_TIMEOUT_MUST_BE_ZERO, 63, "imported_event_timeout_must_be_zero") \
    X(COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING, 64, "closing_transfer_must_be_pending") \
    X(COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED, 65, "debit_account_already_closed")       \
    X(COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED, 66, "credit_account_already_closed")     \
    X(COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER, 67, "exists_with_different_ledger")       \
    X(COR_TRANSFER_ID_ALREADY_FAILED, 68, "id_already_failed")                             \
    X(COR_TRANSFER_TRANSFERS_FULL, 100, "transfers_full")                                  \
    X(COR_TRANSFER_PENDING_TRANSFERS_FULL, 101, "pending_transfers_full")

typedef enum cor_create_account_status {
#define COR_STATUS_ENUM(name, value, text) name = value,
    COR_CREATE_ACCOUNT_STATUS_LIST(COR_STATUS_ENUM)
} cor_create_account_status;

typedef enum cor_create_transfer_status {
    COR_CREATE_TRANSFER_STATUS_LIST(COR_STATUS_ENUM)
#undef COR_STATUS_ENUM
} cor_create_transfer_status;

/* Snake-case name ("exceeds_credits"), as the API and logs show it; "unknown" otherwise. */
const char *cor_create_account_status_name(uint32_t status);
const char *cor_create_transfer_status_name(uint32_t status);

/* Parses a snake-case name back; false when unknown. */
bool cor_create_transfer_status_parse(const char *name, uint32_t *status_out);

/*
 * Transient results depend on state that may change (an account that may appear, funds that
 * may arrive). A transfer id that failed with one is remembered: retrying it returns
 * id_already_failed, so a retry can never flip the outcome. Capacity results (*_full) are not
 * remembered: nothing was recorded, and the same id may be submitted again later.
 */
bool cor_create_transfer_status_transient(uint32_t status);

/* One dense result per event. timestamp: of the created (or existing) object, else 0. */
typedef struct cor_create_result {
    uint64_t timestamp;
    uint32_t status; /* cor_create_account_status or cor_create_transfer_status */
    uint32_t reserved;
} cor_create_result;

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_ledger cor_ledger; /* opaque */

typedef struct cor_ledger_options {
    uint32_t accounts_max;          /* 1 .. COR_LEDGER_ACCOUNTS_MAX */
    uint32_t transfers_max;         /* 1 .. COR_LEDGER_TRANSFERS_MAX; created transfers */
    uint32_t pending_transfers_max; /* transfers pending at one time; 1 .. transfers_max */
    uint32_t failed_ids_max;        /* remembered transient failures; 0 means transfers_max */
    uint64_t hash_seed;             /* keys the id hash (defends against crafted ids); any */
    bool     prefault;              /* commit all memory at open (no page faults later) */
} cor_ledger_options;

#define COR_LEDGER_ACCOUNTS_MAX  (1u << 28)
#define COR_LEDGER_TRANSFERS_MAX (1u << 30)

/*
 * Allocates every table the ledger will ever use (zero-filled lazily by the OS).
 * Errors: COR_ERR_INVALID (a capacity out of range), COR_ERR_NOMEM.
 * Success: *ledger_out must go to cor_ledger_close. Failure: *ledger_out is NULL.
 */
cor_error cor_ledger_open(const cor_ledger_options *options, cor_ledger **ledger_out);
void      cor_ledger_close(cor_ledger *ledger); /* NULL is a no-op */

/* ---------------------------------------------------------------------------------------- */
/* Commands (the only calls that change state; each is what the journal records)            */
/* ---------------------------------------------------------------------------------------- */

typedef enum cor_ledger_operation {
    COR_LEDGER_OP_CREATE_ACCOUNTS  = 1,
    COR_LEDGER_OP_CREATE_TRANSFERS = 2,
    COR_LEDGER_OP_EXPIRE_PENDING   = 3,
} cor_ledger_operation;

/*
 * Applies count (1 .. COR_LEDGER_BATCH_EVENTS_MAX) events and writes one result per event.
 * timestamp (ns) is the time the caller assigns to the batch. The ledger keeps time strictly
 * increasing: the batch's first event gets max(timestamp, last + 1), and event i that value
 * plus i, whether or not it succeeds. Imported events carry their own timestamps instead.
 * Errors: COR_ERR_INVALID (count out of range, NULL arguments, or the batch's last event
 * would be stamped 2^63 - 1 or later); state is unchanged then.
 */
cor_error cor_ledger_create_accounts(cor_ledger *ledger, uint64_t timestamp,
                                     const cor_account *accounts, uint32_t count,
                                     cor_create_result *results);
cor_error cor_ledger_create_transfers(cor_ledger *ledger, uint64_t timestamp,
                                      const cor_transfer *transfers, uint32_t count,
                                      cor_create_result *results);

/*
 * Expires, in expiry order, up to limit pending transfers whose timeout has passed at
 * timestamp (expires_at = transfer timestamp + timeout * 1e9 <= timestamp), releasing their
 * pending amounts and reopening accounts their closing flags closed. Advances the ledger's
 * time to timestamp. Returns the number expired; call again while it returns limit. Posting
 * or voiding a transfer whose timeout has passed fails with pending_transfer_expired even
 * before this runs.
 */
uint32_t cor_ledger_expire_pending(cor_ledger *ledger, uint64_t timestamp, uint32_t limit);

/* Ledger time: the timestamp given to the last event (0 for a new ledger). */
uint64_t cor_ledger_timestamp(const cor_ledger *ledger);

/* Earliest expiry among pending transfers with a timeout; false when there is none. */
bool cor_ledger_next_expiry(const cor_ledger *ledger, uint64_t *expires_at_out);

/* ---------------------------------------------------------------------------------------- */
/* Queries (read only)                                                                      */
/* ---------------------------------------------------------------------------------------- */

/* Copies the record when the id exists; returns false otherwise. */
bool cor_ledger_lookup_account(const cor_ledger *ledger, cor_u128 id, cor_account *out);
bool cor_ledger_lookup_transfer(const cor_ledger *ledger, cor_u128 id, cor_transfer *out);

/* Batch lookups: writes the found records in request order, skipping missing ids; returns
 * how many were written (at most count). */
uint32_t cor_ledger_lookup_accounts(const cor_ledger *ledger, const cor_u128 *ids,
                                    uint32_t count, cor_account *out);
uint32_t cor_ledger_lookup_transfers(const cor_ledger *ledger, const cor_u128 *ids,
                                     uint32_t count, cor_transfer *out);

typedef enum cor_pending_status {
    COR_PENDING_STATUS_NONE    = 0, /* not a pending transfer (or unknown id) */
    COR_PENDING_STATUS_PENDING = 1,
    COR_PENDING_STATUS_POSTED  = 2,
    COR_PENDING_STATUS_VOIDED  = 3,
    COR_PENDING_STATUS_EXPIRED = 4,
} cor_pending_status;

cor_pending_status cor_ledger_pending_status(const cor_ledger *ledger, cor_u128 transfer_id);

enum cor_account_filter_flags {
    COR_ACCOUNT_FILTER_DEBITS   = 1u << 0,
    COR_ACCOUNT_FILTER_CREDITS  = 1u << 1,
    COR_ACCOUNT_FILTER_REVERSED = 1u << 2, /* newest first */
};

/* Zero fields do not filter; timestamp_max 0 means no upper bound. */
typedef struct cor_account_filter {
    cor_u128 account_id;
    cor_u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint16_t code;
    uint16_t reserved;
    uint64_t timestamp_min; /* inclusive */
    uint64_t timestamp_max; /* inclusive */
    uint32_t limit;         /* results wanted; at least 1 */
    uint32_t flags;         /* enum cor_account_filter_flags; neither DEBITS nor CREDITS = both */
} cor_account_filter;

/* An account's balances right after one transfer that touched it. */
typedef struct cor_account_balance {
    cor_u128 debits_pending;
    cor_u128 debits_posted;
    cor_u128 credits_pending;
    cor_u128 credits_posted;
    cor_u128 transfer_id; /* the transfer after which these were the balances */
    uint64_t timestamp;   /* that transfer's timestamp */
    uint8_t  reserved[40];
} cor_account_balance;
_Static_assert(sizeof(cor_account_balance) == 128, "balance record is 128 bytes");

/*
 * The account's transfers (or balances after each of them) matching filter, oldest first
 * unless REVERSED; at most min(filter->limit, out_max) results. Returns the count; 0 when the
 * account does not exist. Cost: proportional to the account's transfers newer than
 * timestamp_min.
 */
uint32_t cor_ledger_get_account_transfers(const cor_ledger *ledger,
                                          const cor_account_filter *filter, cor_transfer *out,
                                          uint32_t out_max);
uint32_t cor_ledger_get_account_balances(const cor_ledger *ledger,
                                         const cor_account_filter *filter,
                                         cor_account_balance *out, uint32_t out_max);

enum cor_query_filter_flags {
    COR_QUERY_FILTER_REVERSED = 1u << 0,
};

/* Intersection of the non-zero fields and the time range. */
typedef struct cor_query_filter {
    cor_u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t ledger;
    uint16_t code;
    uint16_t reserved;
    uint32_t limit;
    uint64_t timestamp_min; /* inclusive */
    uint64_t timestamp_max; /* inclusive; 0 = no upper bound */
    uint32_t flags;         /* enum cor_query_filter_flags */
    uint32_t reserved2;
} cor_query_filter;

/* Records are kept in timestamp order, so the time range is found by binary search and the
 * other fields are matched by a scan of that range. */
uint32_t cor_ledger_query_accounts(const cor_ledger *ledger, const cor_query_filter *filter,
                                   cor_account *out, uint32_t out_max);
uint32_t cor_ledger_query_transfers(const cor_ledger *ledger, const cor_query_filter *filter,
                                    cor_transfer *out, uint32_t out_max);

/* ---------------------------------------------------------------------------------------- */
/* Introspection, invariants, serialization                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_ledger_stats {
    uint32_t accounts_count;
    uint32_t transfers_count;
    uint32_t pending_transfers_count;
    uint32_t failed_ids_count;
    uint64_t history_count;
    uint64_t timestamp;
} cor_ledger_stats;

void cor_ledger_stats_get(const cor_ledger *ledger, cor_ledger_stats *out);

/* Visits accounts in creation order; stops when visit returns false. */
void cor_ledger_accounts_each(const cor_ledger *ledger,
                              bool (*visit)(void *context, const cor_account *account),
                              void *context);

/*
 * Checks every invariant that can be checked, in O(state): per ledger, the sums of debits and
 * credits are equal (posted and pending separately); no balance-limit flag is violated; each
 * pending transfer is reserved exactly once; the history agrees with the balances; indexes
 * agree with the records. Returns true when all hold; otherwise false and a short description
 * of the first violation in problem (problem_size bytes, NUL-terminated).
 */
bool cor_ledger_check(const cor_ledger *ledger, char *problem, size_t problem_size);

/*
 * Canonical serialization of the whole state, for snapshots and for comparing two ledgers.
 * The bytes depend only on the commands applied, never on hash seeds or addresses. write is
 * called with consecutive pieces; a non-OK return stops serialization and is returned.
 */
typedef cor_error (*cor_ledger_write_fn)(void *context, const void *bytes, size_t size_bytes);
cor_error cor_ledger_serialize(const cor_ledger *ledger, cor_ledger_write_fn write,
                               void *context);

/*
 * Rebuilds a ledger from serialize's bytes, read through read (which must fill exactly
 * size_bytes or fail). options gives the capacities (they must hold the saved state) and the
 * hash seed. Errors: COR_ERR_VERSION (unknown format), COR_ERR_CORRUPT (inconsistent
 * content), COR_ERR_LIMIT (state larger than options allow), COR_ERR_NOMEM, or read's error.
 */
typedef cor_error (*cor_ledger_read_fn)(void *context, void *bytes, size_t size_bytes);
cor_error cor_ledger_deserialize(const cor_ledger_options *options, cor_ledger_read_fn read,
                                 void *context, cor_ledger **ledger_out);

#endif
