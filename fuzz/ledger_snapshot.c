/*
 * Fuzz harness for ledger snapshots: cor_ledger_deserialize reads bytes from storage, so any
 * input must give a clean error or a usable ledger, never a crash, a leak or a later
 * assertion. An accepted snapshot must pass cor_ledger_check (except for the per-account
 * history chains, which loading bounds but does not walk: `corridor verify` does), serialize
 * back to exactly the bytes it consumed, and take a batch of transfers, posts, voids and an
 * expiry while the check keeps passing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "corridor/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The invariants loading guarantees: all of cor_ledger_check but the history chain walk. */
static bool snapshot_check(const cor_ledger *ledger)
{
    char problem[160];
    if (cor_ledger_check(ledger, problem, sizeof(problem))) return true;
    return strstr(problem, "history entry of another account") != NULL ||
           strstr(problem, "history count mismatch") != NULL;
}

typedef struct snapshot_reader {
    const uint8_t *data;
    size_t size_bytes;
    size_t offset;
} snapshot_reader;

static cor_error snapshot_read(void *context, void *bytes, size_t size_bytes)
{
    snapshot_reader *reader = context;
    if (size_bytes > reader->size_bytes - reader->offset) return COR_ERR_IO;
    memcpy(bytes, reader->data + reader->offset, size_bytes);
    reader->offset += size_bytes;
    return COR_OK;
}

/* Compares what serialize writes with the consumed input. */
static cor_error snapshot_compare(void *context, const void *bytes, size_t size_bytes)
{
    snapshot_reader *expected = context;
    if (size_bytes > expected->size_bytes - expected->offset ||
        memcmp(expected->data + expected->offset, bytes, size_bytes) != 0) {
        return COR_ERR_CORRUPT;
    }
    expected->offset += size_bytes;
    return COR_OK;
}

#define FUZZ_ACCOUNTS 8u
#define FUZZ_EVENTS   32u

typedef struct account_ids {
    cor_u128 ids[FUZZ_ACCOUNTS];
    uint32_t count;
} account_ids;

static bool collect_account(void *context, const cor_account *account)
{
    account_ids *ids = context;
    ids->ids[ids->count++] = account->id;
    return ids->count < FUZZ_ACCOUNTS;
}

/* Transfers between the first accounts, then posts and voids of pending transfers. */
static void snapshot_exercise(cor_ledger *ledger)
{
    account_ids accounts = {.count = 0};
    cor_ledger_accounts_each(ledger, collect_account, &accounts);
    cor_transfer events[FUZZ_EVENTS];
    cor_create_result results[FUZZ_EVENTS];
    uint32_t count = 0;
    cor_u128 id = (cor_u128)1 << 100;
    for (uint32_t i = 0; i + 1 < accounts.count && count + 3 <= FUZZ_EVENTS; i++) {
        cor_account debit;
        if (!cor_ledger_lookup_account(ledger, accounts.ids[i], &debit)) __builtin_trap();
        cor_transfer t = {
            .id = id++,
            .debit_account_id = accounts.ids[i],
            .credit_account_id = accounts.ids[i + 1],
            .amount = 1,
            .ledger = debit.ledger,
            .code = 1,
        };
        events[count++] = t;
        t.id = id++;
        t.flags = COR_TRANSFER_PENDING;
        t.timeout = 1;
        events[count++] = t;
        t.id = id++;
        t.flags = COR_TRANSFER_BALANCING_DEBIT;
        t.timeout = 0;
        t.amount = COR_AMOUNT_MAX;
        events[count++] = t;
    }
    static cor_transfer stored[256];
    cor_query_filter all = {.limit = 256};
    uint32_t found = cor_ledger_query_transfers(ledger, &all, stored, 256);
    for (uint32_t i = 0; i < found && count < FUZZ_EVENTS; i++) {
        if (cor_ledger_pending_status(ledger, stored[i].id) != COR_PENDING_STATUS_PENDING) continue;
        bool post = (i % 2) == 0;
        events[count++] = (cor_transfer){
            .id = id++,
            .pending_id = stored[i].id,
            .amount = post ? COR_AMOUNT_MAX : 0,
            .flags = post ? COR_TRANSFER_POST_PENDING_TRANSFER : COR_TRANSFER_VOID_PENDING_TRANSFER,
        };
    }
    if (count > 0) (void)cor_ledger_create_transfers(ledger, 0, events, count, results);
    uint64_t now = cor_ledger_timestamp(ledger);
    (void)cor_ledger_expire_pending(ledger, now + 10000000000ull, 64);
    if (!snapshot_check(ledger)) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const cor_ledger_options options = {
        .accounts_max = 64,
        .transfers_max = 256,
        .pending_transfers_max = 64,
        .failed_ids_max = 64,
        .hash_seed = 0x5eed,
    };
    snapshot_reader reader = {.data = data, .size_bytes = size, .offset = 0};
    cor_ledger *ledger = NULL;
    if (cor_ledger_deserialize(&options, snapshot_read, &reader, &ledger) != COR_OK) {
        if (ledger != NULL) __builtin_trap();
        return 0;
    }
    if (!snapshot_check(ledger)) __builtin_trap();
    snapshot_reader expected = {.data = data, .size_bytes = reader.offset, .offset = 0};
    if (cor_ledger_serialize(ledger, snapshot_compare, &expected) != COR_OK ||
        expected.offset != reader.offset) {
        __builtin_trap();
    }
    snapshot_exercise(ledger);
    cor_ledger_close(ledger);
    return 0;
}
