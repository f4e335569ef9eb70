/*
 * Read-only queries: lookups by id, an account's transfers and balance history, and queries
 * by user data / ledger / code / time range. Records are stored in timestamp order, so a
 * time range is found by binary search; per-account history is a linked list from newest
 * to oldest, so an account's recent past is cheap to read whatever the ledger's size.
 */
#include <string.h>

#include "ledger/ledger_internal.h"

static const char *const account_status_names[] = {
#define STATUS_NAME(name, value, text) [value] = text,
    COR_CREATE_ACCOUNT_STATUS_LIST(STATUS_NAME)
};
static const char *const transfer_status_names[] = {
    COR_CREATE_TRANSFER_STATUS_LIST(STATUS_NAME)
#undef STATUS_NAME
};

#define NAMES_COUNT(names) (sizeof(names) / sizeof((names)[0]))

const char *cor_create_account_status_name(uint32_t status)
{
    if (status >= NAMES_COUNT(account_status_names) || account_status_names[status] == NULL) {
        return "unknown";
    }
    return account_status_names[status];
}

const char *cor_create_transfer_status_name(uint32_t status)
{
    if (status >= NAMES_COUNT(transfer_status_names) || transfer_status_names[status] == NULL) {
        return "unknown";
    }
    return transfer_status_names[status];
}

bool cor_create_transfer_status_parse(const char *name, uint32_t *status_out)
{
    for (uint32_t i = 0; i < NAMES_COUNT(transfer_status_names); i++) {
        if (transfer_status_names[i] != NULL && strcmp(transfer_status_names[i], name) == 0) {
            *status_out = i;
            return true;
        }
    }
    return false;
}

bool cor_create_transfer_status_transient(uint32_t status)
{
    switch (status) {
    case COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND:
    case COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND:
    case COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND:
    case COR_TRANSFER_EXCEEDS_CREDITS:
    case COR_TRANSFER_EXCEEDS_DEBITS:
    case COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED:
    case COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED: return true;
    default: return false;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Lookups                                                                                  */
/* ---------------------------------------------------------------------------------------- */

bool cor_ledger_lookup_account(const cor_ledger *ledger, cor_u128 id, cor_account *out)
{
    uint32_t next = ledger_account_find(ledger, id);
    if (next == 0) return false;
    cor__ledger_account_get(ledger, next - 1, out);
    return true;
}

bool cor_ledger_lookup_transfer(const cor_ledger *ledger, cor_u128 id, cor_transfer *out)
{
    uint32_t next = ledger_transfer_find(ledger, id);
    if (next == 0) return false;
    *out = ledger->transfers[next - 1];
    return true;
}

uint32_t cor_ledger_lookup_accounts(const cor_ledger *ledger, const cor_u128 *ids,
                                    uint32_t count, cor_account *out)
{
    uint32_t found = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (cor_ledger_lookup_account(ledger, ids[i], &out[found])) found++;
    }
    return found;
}

uint32_t cor_ledger_lookup_transfers(const cor_ledger *ledger, const cor_u128 *ids,
                                     uint32_t count, cor_transfer *out)
{
    uint32_t found = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (cor_ledger_lookup_transfer(ledger, ids[i], &out[found])) found++;
    }
    return found;
}

cor_pending_status cor_ledger_pending_status(const cor_ledger *ledger, cor_u128 transfer_id)
{
    uint32_t next = ledger_transfer_find(ledger, transfer_id);
    if (next == 0) return COR_PENDING_STATUS_NONE;
    return (cor_pending_status)ledger->transfers_status[next - 1];
}

/* ---------------------------------------------------------------------------------------- */
/* Per-account history                                                                      */
/* ---------------------------------------------------------------------------------------- */

static bool history_matches(const cor_ledger *ledger, const cor_account_filter *filter,
                            const ledger_history *entry)
{
    if (entry->timestamp < filter->timestamp_min) return false;
    if (filter->timestamp_max != 0 && entry->timestamp > filter->timestamp_max) return false;
    const cor_transfer *t = &ledger->transfers[entry->transfer_index];
    bool want_debits = (filter->flags & COR_ACCOUNT_FILTER_DEBITS) != 0;
    bool want_credits = (filter->flags & COR_ACCOUNT_FILTER_CREDITS) != 0;
    if (!want_debits && !want_credits) want_debits = want_credits = true;
    bool is_debit = t->debit_account_id == filter->account_id;
    bool is_credit = t->credit_account_id == filter->account_id;
    if (!((want_debits && is_debit) || (want_credits && is_credit))) return false;
    if (filter->user_data_128 != 0 && t->user_data_128 != filter->user_data_128) return false;
    if (filter->user_data_64 != 0 && t->user_data_64 != filter->user_data_64) return false;
    if (filter->user_data_32 != 0 && t->user_data_32 != filter->user_data_32) return false;
    if (filter->code != 0 && t->code != filter->code) return false;
    return true;
}

typedef void (*history_emit_fn)(const cor_ledger *ledger, const ledger_history *entry,
                                void *out, uint32_t position);

/*
 * Walks the account's history newest first, stopping at timestamp_min, and returns the
 * number of matches seen. With emit, the matches numbered skip .. skip + take - 1 are written:
 * newest first at positions 0, 1, ... (newest_first) or oldest first, ending at position 0.
 */
static uint32_t history_walk(const cor_ledger *ledger, const cor_account_filter *filter,
                             uint32_t account_index, uint32_t skip, uint32_t take,
                             bool newest_first, history_emit_fn emit, void *out)
{
    uint32_t matched = 0;
    uint32_t next = ledger_account_slot_at(ledger, account_index)->history_head_next;
    while (next != 0) {
        const ledger_history *entry = &ledger->history[next - 1];
        if (entry->timestamp < filter->timestamp_min) break;
        if (history_matches(ledger, filter, entry)) {
            if (emit != NULL && matched >= skip) {
                uint32_t offset = matched - skip;
                emit(ledger, entry, out, newest_first ? offset : take - 1 - offset);
            }
            matched++;
            if (emit != NULL && matched == skip + take) break;
        }
        next = entry->previous_next;
    }
    return matched;
}

/*
 * Writes up to min(limit, out_max) matches into out in the order the filter asks for.
 * Newest first is one walk; oldest first counts the matches in a first walk, then writes the
 * oldest of them in a second.
 */
static uint32_t history_query(const cor_ledger *ledger, const cor_account_filter *filter,
                              uint32_t out_max, history_emit_fn emit, void *out)
{
    uint32_t limit = filter->limit < out_max ? filter->limit : out_max;
    if (limit == 0) return 0;
    uint32_t account_next = ledger_account_find(ledger, filter->account_id);
    if (account_next == 0) return 0;
    if (filter->timestamp_max != 0 && filter->timestamp_max < filter->timestamp_min) return 0;
    uint32_t account_index = account_next - 1;
    if ((filter->flags & COR_ACCOUNT_FILTER_REVERSED) != 0) {
        uint32_t matched = history_walk(ledger, filter, account_index, 0, limit, true, emit, out);
        return matched < limit ? matched : limit;
    }
    uint32_t total = history_walk(ledger, filter, account_index, 0, 0, false, NULL, NULL);
    uint32_t count = total < limit ? total : limit;
    if (count == 0) return 0;
    history_walk(ledger, filter, account_index, total - count, count, false, emit, out);
    return count;
}

static void history_emit_transfer(const cor_ledger *ledger, const ledger_history *entry,
                                  void *out, uint32_t position)
{
    cor_transfer *transfers = out;
    transfers[position] = ledger->transfers[entry->transfer_index];
}

static void history_emit_balance(const cor_ledger *ledger, const ledger_history *entry,
                                 void *out, uint32_t position)
{
    cor_account_balance *balances = out;
    cor_account_balance *b = &balances[position];
    memset(b, 0, sizeof(*b));
    b->debits_pending = entry->debits_pending;
    b->debits_posted = entry->debits_posted;
    b->credits_pending = entry->credits_pending;
    b->credits_posted = entry->credits_posted;
    b->transfer_id = ledger->transfers[entry->transfer_index].id;
    b->timestamp = entry->timestamp;
}

uint32_t cor_ledger_get_account_transfers(const cor_ledger *ledger,
                                          const cor_account_filter *filter, cor_transfer *out,
                                          uint32_t out_max)
{
    return history_query(ledger, filter, out_max, history_emit_transfer, out);
}

uint32_t cor_ledger_get_account_balances(const cor_ledger *ledger,
                                         const cor_account_filter *filter,
                                         cor_account_balance *out, uint32_t out_max)
{
    return history_query(ledger, filter, out_max, history_emit_balance, out);
}

/* ---------------------------------------------------------------------------------------- */
/* Queries over all records                                                                 */
/* ---------------------------------------------------------------------------------------- */

/* First index in [0, count) whose timestamp is >= timestamp (count if none). */
static uint32_t query_lower_bound(const void *records, size_t record_size_bytes,
                                  size_t timestamp_offset, uint32_t count, uint64_t timestamp)
{
    const unsigned char *bytes = records;
    uint32_t low = 0;
    uint32_t high = count;
    while (low < high) {
        uint32_t middle = low + (high - low) / 2;
        uint64_t value;
        memcpy(&value, bytes + (size_t)middle * record_size_bytes + timestamp_offset,
               sizeof(value));
        if (value < timestamp) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    return low;
}

typedef struct query_fields {
    cor_u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32;
    uint32_t ledger;
    uint16_t code;
} query_fields;

static bool query_matches(const cor_query_filter *filter, const query_fields *fields)
{
    if (filter->user_data_128 != 0 && fields->user_data_128 != filter->user_data_128) {
        return false;
    }
    if (filter->user_data_64 != 0 && fields->user_data_64 != filter->user_data_64) return false;
    if (filter->user_data_32 != 0 && fields->user_data_32 != filter->user_data_32) return false;
    if (filter->ledger != 0 && fields->ledger != filter->ledger) return false;
    if (filter->code != 0 && fields->code != filter->code) return false;
    return true;
}

typedef void (*query_fields_fn)(const cor_ledger *ledger, uint32_t index, const void *record,
                                query_fields *fields);
/* Writes the public form of record index into out. */
typedef void (*query_copy_fn)(const cor_ledger *ledger, uint32_t index, const void *record,
                              void *out);

static void query_account_fields(const cor_ledger *ledger, uint32_t index, const void *record,
                                 query_fields *fields)
{
    (void)ledger;
    (void)index;
    const cor_account *a = record;
    *fields = (query_fields){a->user_data_128, a->user_data_64, a->user_data_32, a->ledger,
                             a->code};
}

static void query_transfer_fields(const cor_ledger *ledger, uint32_t index, const void *record,
                                  query_fields *fields)
{
    (void)ledger;
    (void)index;
    const cor_transfer *t = record;
    *fields = (query_fields){t->user_data_128, t->user_data_64, t->user_data_32, t->ledger,
                             t->code};
}

static void query_account_copy(const cor_ledger *ledger, uint32_t index, const void *record,
                               void *out)
{
    (void)record;
    cor__ledger_account_get(ledger, index, out);
}

static void query_transfer_copy(const cor_ledger *ledger, uint32_t index, const void *record,
                                void *out)
{
    (void)ledger;
    (void)index;
    memcpy(out, record, sizeof(cor_transfer));
}

static uint32_t query_records(const cor_ledger *ledger, const cor_query_filter *filter,
                              const void *records, uint32_t count, size_t record_size_bytes,
                              size_t timestamp_offset, query_fields_fn fields_of,
                              query_copy_fn copy, void *out, uint32_t out_max)
{
    uint32_t limit = filter->limit < out_max ? filter->limit : out_max;
    if (limit == 0) return 0;
    uint64_t max = filter->timestamp_max == 0 ? UINT64_MAX : filter->timestamp_max;
    if (max < filter->timestamp_min) return 0;
    uint32_t first = query_lower_bound(records, record_size_bytes, timestamp_offset, count,
                                       filter->timestamp_min);
    uint32_t end = max == UINT64_MAX ? count
                                     : query_lower_bound(records, record_size_bytes,
                                                         timestamp_offset, count, max + 1);
    bool reversed = (filter->flags & COR_QUERY_FILTER_REVERSED) != 0;
    const unsigned char *bytes = records;
    unsigned char *out_bytes = out;
    uint32_t found = 0;
    for (uint32_t k = first; k < end && found < limit; k++) {
        uint32_t i = reversed ? end - 1 - (k - first) : k;
        const unsigned char *record = bytes + (size_t)i * record_size_bytes;
        query_fields fields;
        fields_of(ledger, i, record, &fields);
        if (!query_matches(filter, &fields)) continue;
        copy(ledger, i, record, out_bytes + (size_t)found * record_size_bytes);
        found++;
    }
    return found;
}

uint32_t cor_ledger_query_accounts(const cor_ledger *ledger, const cor_query_filter *filter,
                                   cor_account *out, uint32_t out_max)
{
    return query_records(ledger, filter, ledger->accounts, ledger->accounts_count,
                         sizeof(cor_account), offsetof(cor_account, timestamp),
                         query_account_fields, query_account_copy, out, out_max);
}

uint32_t cor_ledger_query_transfers(const cor_ledger *ledger, const cor_query_filter *filter,
                                    cor_transfer *out, uint32_t out_max)
{
    return query_records(ledger, filter, ledger->transfers, ledger->transfers_count,
                         sizeof(cor_transfer), offsetof(cor_transfer, timestamp),
                         query_transfer_fields, query_transfer_copy, out, out_max);
}
