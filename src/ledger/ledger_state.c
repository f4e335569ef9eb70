/*
 * Whole-state operations: statistics, the invariant checker, and the canonical
 * serialization used by snapshots and by tests that compare two ledgers byte for byte.
 *
 * The serialized form holds only what the commands determined: records, side tables and
 * scalars, in their storage order. Hash indexes depend on the seed and are rebuilt on load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "ledger/ledger_internal.h"

void cor_ledger_stats_get(const cor_ledger *ledger, cor_ledger_stats *out)
{
    *out = (cor_ledger_stats){
        .accounts_count = ledger->accounts_count,
        .transfers_count = ledger->transfers_count,
        .pending_transfers_count = ledger->pending_count,
        .failed_ids_count = ledger->failed_ids_count,
        .history_count = ledger->history_count,
        .timestamp = ledger->timestamp,
    };
}

void cor_ledger_accounts_each(const cor_ledger *ledger,
                              bool (*visit)(void *context, const cor_account *account),
                              void *context)
{
    for (uint32_t i = 0; i < ledger->accounts_count; i++) {
        cor_account account;
        cor__ledger_account_get(ledger, i, &account);
        if (!visit(context, &account)) return;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Invariants                                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct check_sums {
    uint32_t ledger;
    cor_u128 debits_pending, debits_posted, credits_pending, credits_posted;
} check_sums;

static int check_sums_compare(const void *a, const void *b)
{
    uint32_t x = ((const check_sums *)a)->ledger;
    uint32_t y = ((const check_sums *)b)->ledger;
    return (x > y) - (x < y);
}

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            if (problem != NULL && problem_size > 0) snprintf(problem, problem_size, __VA_ARGS__); \
            ok = false;                                                                     \
            goto done;                                                                      \
        }                                                                                   \
    } while (0)

/* Sums per ledger must balance. Sums wrap modulo 2^128 identically on both sides, so
 * equality of the wrapped sums is still a sound check of equality of the true sums' residues
 * (and the per-account overflow checks keep each term bounded). */
static bool check_double_entry(const cor_ledger *ledger, char *problem, size_t problem_size)
{
    bool ok = true;
    check_sums *sums = NULL;
    if (ledger->accounts_count == 0) return true;
    sums = cor_calloc(ledger->accounts_count, sizeof(*sums));
    CHECK(sums != NULL, "out of memory while checking");
    for (uint32_t i = 0; i < ledger->accounts_count; i++) {
        const ledger_balances *b = &ledger->balances[i];
        sums[i] = (check_sums){ledger->accounts[i].ledger, b->debits_pending, b->debits_posted,
                               b->credits_pending, b->credits_posted};
    }
    qsort(sums, ledger->accounts_count, sizeof(*sums), check_sums_compare);
    uint32_t i = 0;
    while (i < ledger->accounts_count) {
        check_sums total = {.ledger = sums[i].ledger};
        for (; i < ledger->accounts_count && sums[i].ledger == total.ledger; i++) {
            total.debits_pending += sums[i].debits_pending;
            total.debits_posted += sums[i].debits_posted;
            total.credits_pending += sums[i].credits_pending;
            total.credits_posted += sums[i].credits_posted;
        }
        CHECK(total.debits_posted == total.credits_posted,
              "ledger %u: posted debits and credits differ", total.ledger);
        CHECK(total.debits_pending == total.credits_pending,
              "ledger %u: pending debits and credits differ", total.ledger);
    }
done:
    cor_free(sums);
    return ok;
}

/*
 * full: also walk every account's history chain and look every transfer up in its index.
 * Loading a snapshot skips those O(history) random walks: state_rebuild has already bounded
 * every history link and built the index itself, and nothing asserts on what they would find
 * (cor_ledger_check, as `corridor verify` runs it, does the full walk).
 */
static bool check_accounts(const cor_ledger *ledger, bool full, char *problem,
                           size_t problem_size)
{
    bool ok = true;
    uint64_t history_total = 0;
    for (uint32_t i = 0; i < ledger->accounts_count; i++) {
        cor_account account;
        cor__ledger_account_get(ledger, i, &account);
        const cor_account *a = &account;
        CHECK(ledger->accounts_slot[i] <= ledger->account_slots_mask, "account %u: bad slot", i);
        const ledger_account_slot *slot = ledger_account_slot_at(ledger, i);
        CHECK(slot->index_next == i + 1 && slot->id == a->id && slot->ledger == a->ledger,
              "account %u: slot disagrees with record", i);
        CHECK(ledger_account_find(ledger, a->id) == i + 1, "account %u not indexed", i);
        /* Transfers keep pending + posted below 2^128 on each side; the limit checks below
         * (and every later transfer) rely on it. */
        CHECK(a->debits_posted <= COR_U128_MAX - a->debits_pending &&
                  a->credits_posted <= COR_U128_MAX - a->credits_pending,
              "account %u: balance totals overflow", i);
        if (a->flags & COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) {
            CHECK(a->debits_pending + a->debits_posted <= a->credits_posted,
                  "account %u: debits exceed credits", i);
        }
        if (a->flags & COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) {
            CHECK(a->credits_pending + a->credits_posted <= a->debits_posted,
                  "account %u: credits exceed debits", i);
        }
        CHECK(i == 0 || a->timestamp > ledger->accounts[i - 1].timestamp,
              "account %u: timestamps not increasing", i);
        uint32_t head_next = slot->history_head_next;
        if (head_next == 0) {
            CHECK(a->debits_posted == 0 && a->credits_posted == 0,
                  "account %u: balance without history", i);
            continue;
        }
        CHECK(head_next <= ledger->history_count, "account %u: bad history head", i);
        const ledger_history *head = &ledger->history[head_next - 1];
        CHECK(head->debits_posted == a->debits_posted && head->credits_posted == a->credits_posted,
              "account %u: history disagrees with balance", i);
        /* Each chain runs strictly backwards, so it ends; count its entries. */
        for (uint32_t next = full ? head_next : 0; next != 0;) {
            const ledger_history *entry = &ledger->history[next - 1];
            CHECK(entry->previous_next < next, "account %u: history chain loops", i);
            const cor_transfer *t = &ledger->transfers[entry->transfer_index];
            CHECK(t->debit_account_id == a->id || t->credit_account_id == a->id,
                  "account %u: history entry of another account", i);
            history_total++;
            next = entry->previous_next;
        }
    }
    CHECK(!full || history_total == ledger->history_count, "history count mismatch");
done:
    return ok;
}

/* Pending amounts per account must equal the sums of its pending transfers. */
static bool check_pending(const cor_ledger *ledger, bool full, char *problem,
                          size_t problem_size)
{
    bool ok = true;
    cor_u128 *reserved = NULL;
    uint32_t pending = 0;
    if (ledger->accounts_count > 0) {
        reserved = cor_calloc(2ull * ledger->accounts_count, sizeof(cor_u128));
        CHECK(reserved != NULL, "out of memory while checking");
    }
    for (uint32_t i = 0; i < ledger->transfers_count; i++) {
        const cor_transfer *t = &ledger->transfers[i];
        CHECK(!full || ledger_transfer_find(ledger, t->id) == i + 1, "transfer %u not indexed", i);
        CHECK(i == 0 || t->timestamp > ledger->transfers[i - 1].timestamp,
              "transfer %u: timestamps not increasing", i);
        uint8_t status = ledger->transfers_status[i];
        CHECK(status <= COR_PENDING_STATUS_EXPIRED, "transfer %u: bad status", i);
        CHECK((status == COR_PENDING_STATUS_NONE) == ((t->flags & COR_TRANSFER_PENDING) == 0),
              "transfer %u: status disagrees with flags", i);
        bool queued = ledger->transfers_expiry_slot[i] != 0;
        CHECK(queued == (status == COR_PENDING_STATUS_PENDING && t->timeout != 0),
              "transfer %u: expiry queue disagrees with status", i);
        if (status != COR_PENDING_STATUS_PENDING) continue;
        pending++;
        uint32_t dr_next = ledger_account_find(ledger, t->debit_account_id);
        uint32_t cr_next = ledger_account_find(ledger, t->credit_account_id);
        CHECK(dr_next != 0 && cr_next != 0, "transfer %u: pending on a missing account", i);
        reserved[2 * (dr_next - 1)] += t->amount;
        reserved[2 * (cr_next - 1) + 1] += t->amount;
    }
    CHECK(pending == ledger->pending_count, "pending count mismatch");
    for (uint32_t i = 0; i < ledger->accounts_count; i++) {
        CHECK(reserved[2 * i] == ledger->balances[i].debits_pending,
              "account %u: debits_pending disagrees with pending transfers", i);
        CHECK(reserved[2 * i + 1] == ledger->balances[i].credits_pending,
              "account %u: credits_pending disagrees with pending transfers", i);
    }
    for (uint32_t i = 0; i < ledger->failed_ids_count; i++) {
        CHECK(ledger_failed_find(ledger, ledger->failed_ids[i]), "failed id %u not indexed", i);
        CHECK(ledger_transfer_find(ledger, ledger->failed_ids[i]) == 0,
              "failed id %u also a transfer", i);
    }
done:
    cor_free(reserved);
    return ok;
}

static bool check_expiries(const cor_ledger *ledger, char *problem, size_t problem_size)
{
    bool ok = true;
    for (uint32_t i = 0; i < ledger->expiries_count; i++) {
        const ledger_expiry *e = &ledger->expiries[i];
        CHECK(e->transfer_index < ledger->transfers_count, "expiry %u: bad transfer", i);
        CHECK(ledger->transfers_expiry_slot[e->transfer_index] == i + 1,
              "expiry %u: position disagrees", i);
        if (i > 0) {
            const ledger_expiry *parent = &ledger->expiries[(i - 1) / 2];
            CHECK(parent->expires_at < e->expires_at ||
                      (parent->expires_at == e->expires_at &&
                       parent->transfer_index < e->transfer_index),
                  "expiry %u: heap order broken", i);
        }
    }
done:
    return ok;
}

/* The clocks agree with the records: new events are stamped after every stored object. */
static bool check_clock(const cor_ledger *ledger, char *problem, size_t problem_size)
{
    bool ok = true;
    uint64_t newest = 0;
    if (ledger->accounts_count > 0) newest = ledger->accounts[ledger->accounts_count - 1].timestamp;
    if (ledger->transfers_count > 0) {
        uint64_t transfer = ledger->transfers[ledger->transfers_count - 1].timestamp;
        if (transfer > newest) newest = transfer;
    }
    CHECK(ledger->object_timestamp_last == newest, "newest object timestamp disagrees");
    CHECK(ledger->timestamp >= ledger->object_timestamp_last, "ledger time behind its records");
done:
    return ok;
}

static bool ledger_check(const cor_ledger *ledger, bool full, char *problem,
                         size_t problem_size)
{
    if (problem != NULL && problem_size > 0) problem[0] = '\0';
    return check_clock(ledger, problem, problem_size) &&
           check_double_entry(ledger, problem, problem_size) &&
           check_accounts(ledger, full, problem, problem_size) &&
           check_pending(ledger, full, problem, problem_size) &&
           check_expiries(ledger, problem, problem_size);
}

bool cor_ledger_check(const cor_ledger *ledger, char *problem, size_t problem_size)
{
    return ledger_check(ledger, true, problem, problem_size);
}

bool cor__ledger_check_loadable(const cor_ledger *ledger)
{
    return ledger_check(ledger, false, NULL, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Serialization                                                                            */
/* ---------------------------------------------------------------------------------------- */

#define STATE_MAGIC   0x31474c4452524f43ull /* "CORRDLG1" little-endian */
#define STATE_VERSION 1u

typedef struct state_header {
    uint64_t magic;
    uint32_t version;
    uint32_t accounts_count;
    uint32_t transfers_count;
    uint32_t pending_count;
    uint32_t expiries_count;
    uint32_t failed_ids_count;
    uint64_t history_count;
    uint64_t timestamp;
    uint64_t object_timestamp_last;
} state_header;
_Static_assert(sizeof(state_header) == 56, "state header has no padding");

/* Writes in pieces of at most 64 MiB so a callback never needs a huge buffer. */
static cor_error state_write(cor_ledger_write_fn write, void *context, const void *bytes,
                             size_t size_bytes)
{
    const size_t piece_max = 64u << 20;
    const unsigned char *cursor = bytes;
    while (size_bytes > 0) {
        size_t piece = size_bytes < piece_max ? size_bytes : piece_max;
        cor_error rc = write(context, cursor, piece);
        if (rc != COR_OK) return rc;
        cursor += piece;
        size_bytes -= piece;
    }
    return COR_OK;
}

/*
 * Accounts are serialized as their public records (current balances and flags) with the
 * history head in `reserved`, assembled in pieces of STATE_ACCOUNTS_PIECE.
 */
#define STATE_ACCOUNTS_PIECE 256u

static cor_error state_write_accounts(const cor_ledger *ledger, cor_ledger_write_fn write,
                                      void *context)
{
    cor_account piece[STATE_ACCOUNTS_PIECE];
    for (uint32_t first = 0; first < ledger->accounts_count; first += STATE_ACCOUNTS_PIECE) {
        uint32_t count = ledger->accounts_count - first;
        if (count > STATE_ACCOUNTS_PIECE) count = STATE_ACCOUNTS_PIECE;
        for (uint32_t i = 0; i < count; i++) {
            cor__ledger_account_get(ledger, first + i, &piece[i]);
            piece[i].reserved = ledger_account_slot_at(ledger, first + i)->history_head_next;
        }
        cor_error rc = write(context, piece, count * sizeof(cor_account));
        if (rc != COR_OK) return rc;
    }
    return COR_OK;
}

cor_error cor_ledger_serialize(const cor_ledger *ledger, cor_ledger_write_fn write,
                               void *context)
{
    COR_ASSERT(!ledger->chain_open);
    state_header header = {
        .magic = STATE_MAGIC,
        .version = STATE_VERSION,
        .accounts_count = ledger->accounts_count,
        .transfers_count = ledger->transfers_count,
        .pending_count = ledger->pending_count,
        .expiries_count = ledger->expiries_count,
        .failed_ids_count = ledger->failed_ids_count,
        .history_count = ledger->history_count,
        .timestamp = ledger->timestamp,
        .object_timestamp_last = ledger->object_timestamp_last,
    };
    cor_error rc = state_write(write, context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    rc = state_write_accounts(ledger, write, context);
    if (rc != COR_OK) return rc;
    struct {
        const void *bytes;
        size_t      size_bytes;
    } parts[] = {
        {ledger->transfers, (size_t)ledger->transfers_count * sizeof(cor_transfer)},
        {ledger->transfers_status, (size_t)ledger->transfers_count},
        {ledger->expiries, (size_t)ledger->expiries_count * sizeof(ledger_expiry)},
        {ledger->history, (size_t)ledger->history_count * sizeof(ledger_history)},
        {ledger->failed_ids, (size_t)ledger->failed_ids_count * sizeof(cor_u128)},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        rc = state_write(write, context, parts[i].bytes, parts[i].size_bytes);
        if (rc != COR_OK) return rc;
    }
    return COR_OK;
}

static cor_error state_read(cor_ledger_read_fn read, void *context, void *bytes,
                            size_t size_bytes)
{
    const size_t piece_max = 64u << 20;
    unsigned char *cursor = bytes;
    while (size_bytes > 0) {
        size_t piece = size_bytes < piece_max ? size_bytes : piece_max;
        cor_error rc = read(context, cursor, piece);
        if (rc != COR_OK) return rc;
        cursor += piece;
        size_bytes -= piece;
    }
    return COR_OK;
}

static cor_error state_header_check(const state_header *h, const cor_ledger_options *options)
{
    if (h->magic != STATE_MAGIC) return COR_ERR_CORRUPT;
    if (h->version != STATE_VERSION) return COR_ERR_VERSION;
    uint32_t failed_max = options->failed_ids_max ? options->failed_ids_max
                                                  : options->transfers_max;
    if (h->accounts_count > options->accounts_max || h->transfers_count > options->transfers_max ||
        h->pending_count > options->pending_transfers_max || h->failed_ids_count > failed_max) {
        return COR_ERR_LIMIT;
    }
    if (h->expiries_count > h->pending_count || h->pending_count > h->transfers_count ||
        h->history_count > 2ull * h->transfers_count) {
        return COR_ERR_CORRUPT;
    }
    return COR_OK;
}

/* Rebuilds indexes and derived positions, rejecting anything out of bounds. */
static cor_error state_rebuild(cor_ledger *ledger)
{
    for (uint32_t i = 0; i < ledger->accounts_count; i++) {
        cor_account *a = &ledger->accounts[i];
        if (a->id == 0 || a->id == COR_U128_MAX || ledger_account_find(ledger, a->id) != 0) {
            return COR_ERR_CORRUPT;
        }
        if (a->reserved > ledger->history_count) return COR_ERR_CORRUPT;
        ledger_account_slot slot = {
            .id = a->id,
            .index_next = i + 1,
            .ledger = a->ledger,
            .history_head_next = a->reserved,
            .flags = a->flags,
        };
        ledger->accounts_slot[i] =
            cor__ledger_account_slot_insert(ledger, cor__ledger_hash(ledger, a->id), &slot);
        ledger->balances[i] = (ledger_balances){a->debits_pending, a->debits_posted,
                                                a->credits_pending, a->credits_posted};
        a->reserved = 0;
    }
    for (uint32_t i = 0; i < ledger->transfers_count; i++) {
        cor_u128 id = ledger->transfers[i].id;
        if (id == 0 || id == COR_U128_MAX || ledger_transfer_find(ledger, id) != 0) {
            return COR_ERR_CORRUPT;
        }
        if (ledger->transfers_status[i] > COR_PENDING_STATUS_EXPIRED) return COR_ERR_CORRUPT;
        cor__ledger_index_insert(&ledger->transfers_index, cor__ledger_hash(ledger, id), i + 1);
    }
    for (uint64_t i = 0; i < ledger->history_count; i++) {
        const ledger_history *h = &ledger->history[i];
        if (h->transfer_index >= ledger->transfers_count || h->previous_next > i) {
            return COR_ERR_CORRUPT;
        }
    }
    for (uint32_t i = 0; i < ledger->expiries_count; i++) {
        uint32_t t = ledger->expiries[i].transfer_index;
        if (t >= ledger->transfers_count || ledger->transfers_expiry_slot[t] != 0) {
            return COR_ERR_CORRUPT;
        }
        ledger->transfers_expiry_slot[t] = i + 1;
    }
    for (uint32_t i = 0; i < ledger->failed_ids_count; i++) {
        cor_u128 id = ledger->failed_ids[i];
        if (ledger_failed_find(ledger, id) || ledger_transfer_find(ledger, id) != 0) {
            return COR_ERR_CORRUPT;
        }
        cor__ledger_index_insert(&ledger->transfers_index, cor__ledger_hash(ledger, id),
                                 LEDGER_SLOT_FAILED | (i + 1));
    }
    return COR_OK;
}

cor_error cor_ledger_deserialize(const cor_ledger_options *options, cor_ledger_read_fn read,
                                 void *context, cor_ledger **ledger_out)
{
    *ledger_out = NULL;
    state_header header;
    cor_error rc = read(context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    rc = state_header_check(&header, options);
    if (rc != COR_OK) return rc;

    cor_ledger *ledger = NULL;
    rc = cor_ledger_open(options, &ledger);
    if (rc != COR_OK) return rc;
    ledger->accounts_count = header.accounts_count;
    ledger->transfers_count = header.transfers_count;
    ledger->pending_count = header.pending_count;
    ledger->expiries_count = header.expiries_count;
    ledger->failed_ids_count = header.failed_ids_count;
    ledger->history_count = header.history_count;
    ledger->timestamp = header.timestamp;
    ledger->object_timestamp_last = header.object_timestamp_last;
    struct {
        void  *bytes;
        size_t size_bytes;
    } parts[] = {
        {ledger->accounts, (size_t)header.accounts_count * sizeof(cor_account)},
        {ledger->transfers, (size_t)header.transfers_count * sizeof(cor_transfer)},
        {ledger->transfers_status, (size_t)header.transfers_count},
        {ledger->expiries, (size_t)header.expiries_count * sizeof(ledger_expiry)},
        {ledger->history, (size_t)header.history_count * sizeof(ledger_history)},
        {ledger->failed_ids, (size_t)header.failed_ids_count * sizeof(cor_u128)},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        rc = state_read(read, context, parts[i].bytes, parts[i].size_bytes);
        if (rc != COR_OK) goto fail;
    }
    rc = state_rebuild(ledger);
    if (rc != COR_OK) goto fail;
    /* The bytes come from storage: a state that breaks an invariant would trip an assertion
     * on the next batch, so it is refused here instead. */
    if (!ledger_check(ledger, false, NULL, 0)) {
        rc = COR_ERR_CORRUPT;
        goto fail;
    }
    *ledger_out = ledger;
    return COR_OK;

fail:
    cor_ledger_close(ledger);
    return rc;
}
