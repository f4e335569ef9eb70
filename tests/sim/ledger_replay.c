/*
 * Replay test (suite ledger_replay): the ledger's state is a pure function of the commands.
 *
 * A seeded generator issues create_accounts / create_transfers / expire_pending commands of
 * every kind (plain, pending with and without timeouts, posts, voids, balancing, closing,
 * linked chains that fail midway or stay open, imported batches, duplicate and failed ids).
 * Every command goes to two fresh ledgers opened with different hash seeds; their results
 * and their cor_ledger_serialize bytes must be identical. Halfway, the first ledger is
 * serialized and deserialized (with a third hash seed): the copy must
 * serialize to the same bytes, and after the second half of the commands all three ledgers
 * must still serialize identically. A failure prints its seed and step.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../support/ledger_support.h"

#define REPLAY_SEEDS          6u
#define REPLAY_STEPS          600u
#define REPLAY_EVENTS_MAX     24u
#define REPLAY_ACCOUNT_IDS    18u /* two more than the ledger holds */
#define REPLAY_PENDING_RECENT 32u
#define NS                    1000000000ull

typedef struct replay_rng {
    uint64_t state;
} replay_rng;

static uint64_t replay_next(replay_rng *r)
{
    /* xorshift64* */
    r->state ^= r->state >> 12;
    r->state ^= r->state << 25;
    r->state ^= r->state >> 27;
    return r->state * 0x2545f4914f6cdd1dull;
}

static uint64_t replay_below(replay_rng *r, uint64_t n)
{
    return replay_next(r) % n;
}

typedef struct replay_gen {
    replay_rng r;
    cor_u128 next_id;
    cor_u128 pending[REPLAY_PENDING_RECENT]; /* recent pending transfer ids (any outcome) */
    uint32_t pending_count;
    cor_u128 used[REPLAY_PENDING_RECENT]; /* recent submitted transfer ids */
    uint32_t used_count;
    uint64_t clock;
} replay_gen;

static void replay_remember(cor_u128 *ring, uint32_t *count, replay_rng *r, cor_u128 id)
{
    if (*count < REPLAY_PENDING_RECENT) {
        ring[(*count)++] = id;
    } else {
        ring[replay_below(r, REPLAY_PENDING_RECENT)] = id;
    }
}

static cor_u128 replay_account_id(replay_gen *g)
{
    return 1 + replay_below(&g->r, REPLAY_ACCOUNT_IDS);
}

static void replay_account(replay_gen *g, cor_account *a)
{
    *a = lt_account(replay_account_id(g), 0, 0);
    a->ledger = (uint32_t)(a->id % 2) + 1;
    uint64_t roll = replay_below(&g->r, 10);
    if (roll == 0) a->flags |= COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    if (roll == 1) a->flags |= COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if (roll == 2) a->flags |= COR_ACCOUNT_HISTORY;
    a->user_data_64 = replay_below(&g->r, 3);
}

static void replay_transfer(replay_gen *g, cor_transfer *t)
{
    memset(t, 0, sizeof(*t));
    uint64_t kind = replay_below(&g->r, 100);
    if (kind < 6 && g->used_count > 0) {
        t->id = g->used[replay_below(&g->r, g->used_count)]; /* duplicate or failed id */
    } else {
        t->id = ++g->next_id;
    }
    replay_remember(g->used, &g->used_count, &g->r, t->id);
    t->code = 1;
    t->user_data_32 = (uint32_t)replay_below(&g->r, 4);
    if (kind >= 70 && g->pending_count > 0) {
        t->pending_id = g->pending[replay_below(&g->r, g->pending_count)];
        t->flags =
            kind < 85 ? COR_TRANSFER_POST_PENDING_TRANSFER : COR_TRANSFER_VOID_PENDING_TRANSFER;
        uint64_t amount = replay_below(&g->r, 4);
        t->amount = amount == 0 ? COR_AMOUNT_MAX : amount == 1 ? 0 : replay_below(&g->r, 60);
        t->code = 0;
        return;
    }
    t->debit_account_id = replay_account_id(g);
    t->credit_account_id = replay_account_id(g);
    if (replay_below(&g->r, 5) != 0 && (t->credit_account_id - t->debit_account_id) % 2 != 0) {
        t->credit_account_id = t->credit_account_id % REPLAY_ACCOUNT_IDS + 1; /* same ledger */
    }
    t->ledger = (uint32_t)(t->debit_account_id % 2) + 1;
    t->amount = replay_below(&g->r, 100);
    if (kind < 40) {
        t->flags = COR_TRANSFER_PENDING;
        if (replay_below(&g->r, 2)) {
            t->timeout = 1 + (uint32_t)replay_below(&g->r, 3);
            /* Closing transfers with a timeout, so the accounts reopen. */
            if (replay_below(&g->r, 20) == 0) t->flags |= COR_TRANSFER_CLOSING_DEBIT;
            if (replay_below(&g->r, 20) == 0) t->flags |= COR_TRANSFER_CLOSING_CREDIT;
        }
    }
    if (replay_below(&g->r, 8) == 0) t->flags |= COR_TRANSFER_BALANCING_DEBIT;
    if (replay_below(&g->r, 10) == 0) t->flags |= COR_TRANSFER_BALANCING_CREDIT;
}

typedef struct replay_command {
    cor_ledger_operation operation;
    uint64_t timestamp;
    uint32_t count; /* events, or the expiry limit */
    cor_account accounts[REPLAY_EVENTS_MAX];
    cor_transfer transfers[REPLAY_EVENTS_MAX];
} replay_command;

/* The next command. It reads the first ledger only to date imported events after its
 * records; the caller feeds it the pending ids that ledger created. */
static void replay_command_next(replay_gen *g, const cor_ledger *reference, uint32_t step,
                                replay_command *c)
{
    uint64_t roll = step < 2 ? 0 : replay_below(&g->r, 100);
    g->clock += replay_below(&g->r, 2 * NS);
    c->timestamp = g->clock;
    c->count = 1 + (uint32_t)replay_below(&g->r, REPLAY_EVENTS_MAX);
    bool imported = roll >= 90 && roll < 95;
    uint64_t now = cor_ledger_timestamp(reference);
    if (roll < 10 || (imported && roll < 92)) {
        c->operation = COR_LEDGER_OP_CREATE_ACCOUNTS;
        for (uint32_t i = 0; i < c->count; i++)
            replay_account(g, &c->accounts[i]);
    } else if (roll < 95) {
        c->operation = COR_LEDGER_OP_CREATE_TRANSFERS;
        for (uint32_t i = 0; i < c->count; i++) {
            replay_transfer(g, &c->transfers[i]);
            if (replay_below(&g->r, 6) == 0) c->transfers[i].flags |= COR_TRANSFER_LINKED;
        }
    } else {
        c->operation = COR_LEDGER_OP_EXPIRE_PENDING;
        c->count = 1 + (uint32_t)replay_below(&g->r, 8);
        return;
    }
    if (!imported) return;
    /* Imported: timestamps just after everything stored, the batch after them. */
    cor_ledger_stats stats;
    cor_ledger_stats_get(reference, &stats);
    uint64_t ts = now; /* at least the newest record's timestamp */
    for (uint32_t i = 0; i < c->count; i++) {
        ts += 1 + replay_below(&g->r, 2);
        if (c->operation == COR_LEDGER_OP_CREATE_ACCOUNTS) {
            c->accounts[i].flags |= COR_ACCOUNT_IMPORTED;
            c->accounts[i].timestamp = ts;
        } else {
            c->transfers[i].flags |= COR_TRANSFER_IMPORTED;
            c->transfers[i].timestamp = ts;
            c->transfers[i].timeout = 0;
        }
    }
    c->timestamp = ts + 1 + replay_below(&g->r, 100);
    if (g->clock < c->timestamp) g->clock = c->timestamp;
}

/* Applies c; writes results (or the expiry count in results[0].status). */
static void replay_apply(cor_ledger *ledger, const replay_command *c, cor_create_result *results)
{
    switch (c->operation) {
    case COR_LEDGER_OP_CREATE_ACCOUNTS:
        cr_assert_eq(
            cor_ledger_create_accounts(ledger, c->timestamp, c->accounts, c->count, results),
            COR_OK);
        break;
    case COR_LEDGER_OP_CREATE_TRANSFERS:
        cr_assert_eq(
            cor_ledger_create_transfers(ledger, c->timestamp, c->transfers, c->count, results),
            COR_OK);
        break;
    case COR_LEDGER_OP_EXPIRE_PENDING:
        memset(results, 0, sizeof(*results));
        results[0].status = cor_ledger_expire_pending(ledger, c->timestamp, c->count);
        break;
    }
}

static void replay_expect_same(cor_ledger *a, cor_ledger *b, uint64_t seed, uint32_t step,
                               const char *what)
{
    lt_buffer x, y;
    lt_serialize(a, &x);
    lt_serialize(b, &y);
    bool same = x.size_bytes == y.size_bytes && memcmp(x.bytes, y.bytes, x.size_bytes) == 0;
    size_t x_size = x.size_bytes, y_size = y.size_bytes;
    lt_buffer_free(&x);
    lt_buffer_free(&y);
    cr_assert(same, "ledger_replay: seed %llu step %u: %s serialize differently (%zu vs %zu bytes)",
              (unsigned long long)seed, step, what, x_size, y_size);
}

static cor_ledger *replay_open(uint64_t hash_seed, uint32_t scale)
{
    cor_ledger_options options = {
        .accounts_max = 16 * scale,
        .transfers_max = 2000 * scale,
        .pending_transfers_max = 200 * scale,
        .failed_ids_max = 0,
        .hash_seed = hash_seed,
    };
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&options, &ledger), COR_OK);
    return ledger;
}

static void replay_seed(uint64_t seed)
{
    static replay_command command;
    static cor_create_result expected[REPLAY_EVENTS_MAX], got[REPLAY_EVENTS_MAX];
    replay_gen g = {.r = {.state = seed * 0x9e3779b97f4a7c15ull + 7}, .next_id = 100, .clock = NS};
    cor_ledger *ledgers[3] = {replay_open(seed, 1), replay_open(~seed * 31u, 1), NULL};
    for (uint32_t step = 0; step < REPLAY_STEPS; step++) {
        if (step == REPLAY_STEPS / 2) {
            lt_buffer snapshot;
            lt_serialize(ledgers[0], &snapshot);
            /* Another hash seed; the same capacities, or capacity results would differ. */
            cor_ledger_options copy_options = {
                .accounts_max = 16,
                .transfers_max = 2000,
                .pending_transfers_max = 200,
                .hash_seed = seed ^ 0xabcdefull,
            };
            cr_assert_eq(
                cor_ledger_deserialize(&copy_options, lt_buffer_read, &snapshot, &ledgers[2]),
                COR_OK, "ledger_replay: seed %llu: deserialize failed", (unsigned long long)seed);
            lt_buffer_free(&snapshot);
            replay_expect_same(ledgers[0], ledgers[2], seed, step, "original and its copy");
        }
        replay_command_next(&g, ledgers[0], step, &command);
        replay_apply(ledgers[0], &command, expected);
        if (command.operation == COR_LEDGER_OP_CREATE_TRANSFERS) {
            for (uint32_t i = 0; i < command.count; i++) { /* learn the pending ids */
                if (expected[i].status == COR_TRANSFER_CREATED &&
                    (command.transfers[i].flags & COR_TRANSFER_PENDING)) {
                    replay_remember(g.pending, &g.pending_count, &g.r, command.transfers[i].id);
                }
            }
        }
        uint32_t results_count =
            command.operation == COR_LEDGER_OP_EXPIRE_PENDING ? 1 : command.count;
        for (int k = 1; k < 3; k++) {
            if (ledgers[k] == NULL) continue;
            replay_apply(ledgers[k], &command, got);
            cr_assert(memcmp(got, expected, results_count * sizeof(got[0])) == 0,
                      "ledger_replay: seed %llu step %u: ledger %d gave other results",
                      (unsigned long long)seed, step, k);
        }
        if (step % 50 == 0) replay_expect_same(ledgers[0], ledgers[1], seed, step, "two seeds");
    }
    replay_expect_same(ledgers[0], ledgers[1], seed, REPLAY_STEPS, "two seeds");
    replay_expect_same(ledgers[0], ledgers[2], seed, REPLAY_STEPS, "original and its copy");
    /* Twice through serialize / deserialize is still the same. */
    lt_buffer bytes;
    lt_serialize(ledgers[2], &bytes);
    cor_ledger *again = NULL;
    cor_ledger_options options = {
        .accounts_max = 16, .transfers_max = 2000, .pending_transfers_max = 200, .hash_seed = 3};
    cr_assert_eq(cor_ledger_deserialize(&options, lt_buffer_read, &bytes, &again), COR_OK);
    replay_expect_same(ledgers[0], again, seed, REPLAY_STEPS, "original and a copy of a copy");
    lt_buffer_free(&bytes);
    cor_ledger_close(again);
    if (getenv("COR_REPLAY_STATS") != NULL) {
        cor_ledger_stats stats;
        cor_ledger_stats_get(ledgers[0], &stats);
        fprintf(stderr, "seed %llu: %u accounts, %u transfers, %u pending, %u failed ids\n",
                (unsigned long long)seed, stats.accounts_count, stats.transfers_count,
                stats.pending_transfers_count, stats.failed_ids_count);
    }
    for (int k = 0; k < 3; k++) {
        lt_check(ledgers[k]);
        cor_ledger_close(ledgers[k]);
    }
}

Test(ledger_replay, same_commands_same_bytes_whatever_the_seed)
{
    for (uint64_t seed = 1; seed <= REPLAY_SEEDS; seed++)
        replay_seed(seed);
}
