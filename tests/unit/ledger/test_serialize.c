/*
 * Serialization (include/corridor/ledger.h): the canonical bytes depend only on the commands
 * applied; deserialize rebuilds an equivalent ledger and refuses bad input with a clear
 * error (COR_ERR_CORRUPT, COR_ERR_VERSION, COR_ERR_LIMIT or the reader's error), never a
 * crash.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../../support/ledger_support.h"
#include "ledger/ledger_internal.h"

/* Offsets in the serialized header (see src/ledger/ledger_state.c). */
#define HEADER_SIZE             56u
#define OFFSET_VERSION          8u
#define OFFSET_TIMESTAMP        40u
#define OFFSET_OBJECT_TIMESTAMP 48u

/*
 * Where the sections of a snapshot start. The header gives the counts; the size of an
 * account's part is whatever the rest of the bytes leave (the record, plus any per-account
 * side data), so these tests do not depend on it.
 */
typedef struct snapshot_layout {
    size_t accounts;     /* offset of the first account record */
    size_t account_size; /* bytes per account */
    size_t transfers;    /* offset of the first transfer record */
    size_t failed_ids;   /* offset of the first failed id */
} snapshot_layout;

static snapshot_layout layout_of(const lt_buffer *bytes)
{
    uint32_t counts[6]; /* accounts, transfers, pending, expiries, failed ids (+ version) */
    uint64_t history = 0;
    memcpy(counts, bytes->bytes + OFFSET_VERSION, sizeof(counts));
    memcpy(&history, bytes->bytes + 32, sizeof(history));
    size_t accounts = counts[1], transfers = counts[2], expiries = counts[4], failed = counts[5];
    size_t rest = transfers * (128 + 1) + expiries * 16 + (size_t)history * 80 + failed * 16;
    cr_assert(accounts > 0 && bytes->size_bytes > HEADER_SIZE + rest);
    size_t account_bytes = bytes->size_bytes - HEADER_SIZE - rest;
    cr_assert_eq(account_bytes % accounts, 0);
    snapshot_layout layout = {.accounts = HEADER_SIZE, .account_size = account_bytes / accounts};
    cr_assert_geq(layout.account_size, 128);
    layout.transfers = HEADER_SIZE + account_bytes;
    layout.failed_ids = bytes->size_bytes - failed * 16;
    return layout;
}

static cor_ledger_options options_with(uint32_t accounts, uint32_t transfers, uint32_t pending,
                                       uint32_t failed, uint64_t seed)
{
    return (cor_ledger_options){
        .accounts_max = accounts,
        .transfers_max = transfers,
        .pending_transfers_max = pending,
        .failed_ids_max = failed,
        .hash_seed = seed,
    };
}

/* 4 accounts, 6 transfers (2 pending, one with a timeout), 2 failed ids. */
static void populate(cor_ledger *ledger)
{
    lt_accounts(ledger, 3, 0);
    cor_account limited = lt_account(4, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_transfer t[8] = {
        lt_transfer(10, 1, 2, 100, 1, 0),
        lt_transfer(11, 1, 3, 20, 1, COR_TRANSFER_PENDING),
        lt_transfer(12, 2, 3, 7, 1, COR_TRANSFER_PENDING),
        lt_resolve(13, 11, 5, false),
        lt_transfer(14, 4, 1, 1, 1, 0),  /* exceeds_credits: remembered */
        lt_transfer(15, 1, 99, 1, 1, 0), /* credit_account_not_found: remembered */
        lt_transfer(16, 3, 1, 2, 1, 0),
        lt_transfer(17, 2, 1, 3, 1, COR_TRANSFER_PENDING),
    };
    t[2].timeout = 30;
    t[7].timeout = 10;
    cor_create_result results[8];
    cr_assert_eq(cor_ledger_create_transfers(ledger, 5000, t, 8, results), COR_OK);
    LT_T(results[4].status, COR_TRANSFER_EXCEEDS_CREDITS);
    LT_T(results[5].status, COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND);
}

static cor_ledger *load(const cor_ledger_options *options, lt_buffer *buffer, cor_error *rc)
{
    buffer->read_offset = 0;
    cor_ledger *ledger = (cor_ledger *)buffer; /* must come back NULL on failure */
    *rc = cor_ledger_deserialize(options, lt_buffer_read, buffer, &ledger);
    if (*rc != COR_OK) cr_assert_null(ledger);
    return ledger;
}

static void expect_same_bytes(const lt_buffer *a, const lt_buffer *b)
{
    cr_assert_eq(a->size_bytes, b->size_bytes, "sizes %zu and %zu", a->size_bytes, b->size_bytes);
    cr_assert(memcmp(a->bytes, b->bytes, a->size_bytes) == 0, "bytes differ");
}

Test(ledger_serialize, round_trip_is_identical_and_equivalent)
{
    cor_ledger_options options = options_with(16, 64, 8, 0, 1);
    cor_ledger *original = NULL;
    cr_assert_eq(cor_ledger_open(&options, &original), COR_OK);
    populate(original);
    lt_buffer first;
    lt_serialize(original, &first);

    /* Another hash seed and larger capacities: same state, same bytes. */
    cor_ledger_options other = options_with(32, 128, 16, 0, 0xdeadbeef);
    cor_error rc;
    cor_ledger *copy = load(&other, &first, &rc);
    cr_assert_eq(rc, COR_OK);
    lt_check(copy);
    lt_buffer second;
    lt_serialize(copy, &second);
    expect_same_bytes(&first, &second);
    cr_assert_eq(cor_ledger_timestamp(copy), cor_ledger_timestamp(original));
    for (cor_u128 id = 1; id <= 4; id++) {
        cor_account a = lt_get_account(original, id), b = lt_get_account(copy, id);
        cr_assert(memcmp(&a, &b, sizeof(a)) == 0);
    }
    for (cor_u128 id = 10; id <= 17; id++) {
        cor_transfer a, b;
        bool found = cor_ledger_lookup_transfer(original, id, &a);
        cr_assert_eq(cor_ledger_lookup_transfer(copy, id, &b), found);
        if (found) cr_assert(memcmp(&a, &b, sizeof(a)) == 0);
        cr_assert_eq(cor_ledger_pending_status(copy, id), cor_ledger_pending_status(original, id));
    }
    uint64_t e1 = 0, e2 = 0;
    cr_assert(cor_ledger_next_expiry(original, &e1) && cor_ledger_next_expiry(copy, &e2));
    cr_assert_eq(e1, e2);
    cor_account_balance h1[16], h2[16];
    cor_account_filter f = {.account_id = 1, .limit = 16};
    uint32_t n = cor_ledger_get_account_balances(original, &f, h1, 16);
    cr_assert_eq(cor_ledger_get_account_balances(copy, &f, h2, 16), n);
    cr_assert(memcmp(h1, h2, n * sizeof(h1[0])) == 0);

    /* Both go on identically: failed ids, expiry and new transfers. */
    cor_transfer more[3] = {
        lt_transfer(14, 4, 1, 1, 1, 0),
        lt_transfer(20, 3, 2, 1, 1, 0),
        lt_resolve(21, 12, 0, true),
    };
    cor_create_result r1[3], r2[3];
    cr_assert_eq(cor_ledger_create_transfers(original, 9000, more, 3, r1), COR_OK);
    cr_assert_eq(cor_ledger_create_transfers(copy, 9000, more, 3, r2), COR_OK);
    cr_assert(memcmp(r1, r2, sizeof(r1)) == 0);
    LT_T(r1[0].status, COR_TRANSFER_ID_ALREADY_FAILED);
    cr_assert_eq(cor_ledger_expire_pending(original, 1ull << 40, 10),
                 cor_ledger_expire_pending(copy, 1ull << 40, 10));
    lt_buffer third, fourth;
    lt_serialize(original, &third);
    lt_serialize(copy, &fourth);
    expect_same_bytes(&third, &fourth);
    lt_buffer_free(&first);
    lt_buffer_free(&second);
    lt_buffer_free(&third);
    lt_buffer_free(&fourth);
    cor_ledger_close(original);
    cor_ledger_close(copy);
}

Test(ledger_serialize, empty_ledger_round_trip)
{
    cor_ledger *ledger = lt_open_with(1, 1, 1, 0);
    lt_buffer bytes;
    lt_serialize(ledger, &bytes);
    cr_assert_eq(bytes.size_bytes, HEADER_SIZE);
    cor_ledger_options options = options_with(1, 1, 1, 0, 9);
    cor_error rc;
    cor_ledger *copy = load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_OK);
    lt_check(copy);
    cor_account a = lt_account(1, 1, 0);
    LT_A(lt_create_account(copy, &a), COR_ACCOUNT_CREATED);
    cor_ledger_close(copy);
    cor_ledger_close(ledger);
    lt_buffer_free(&bytes);
}

static lt_buffer populated_bytes(void)
{
    cor_ledger *ledger = lt_open_with(16, 64, 8, 0);
    populate(ledger);
    lt_buffer bytes;
    lt_serialize(ledger, &bytes);
    cor_ledger_close(ledger);
    return bytes;
}

Test(ledger_serialize, refuses_bad_magic_and_version)
{
    lt_buffer bytes = populated_bytes();
    cor_ledger_options options = options_with(16, 64, 8, 0, 1);
    cor_error rc;
    bytes.bytes[0] ^= 0x20;
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT);
    bytes.bytes[0] ^= 0x20;
    uint32_t version = 2;
    memcpy(bytes.bytes + OFFSET_VERSION, &version, sizeof(version));
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_VERSION);
    version = 0;
    memcpy(bytes.bytes + OFFSET_VERSION, &version, sizeof(version));
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_VERSION);
    lt_buffer_free(&bytes);
}

Test(ledger_serialize, refuses_capacities_too_small)
{
    lt_buffer bytes = populated_bytes();
    cor_error rc;
    cor_ledger_options small[4] = {
        options_with(3, 64, 8, 0, 1),  /* 4 accounts */
        options_with(16, 5, 5, 0, 1),  /* 6 transfers */
        options_with(16, 64, 1, 0, 1), /* 2 pending */
        options_with(16, 64, 8, 1, 1), /* 2 failed ids */
    };
    for (int i = 0; i < 4; i++) {
        load(&small[i], &bytes, &rc);
        cr_assert_eq(rc, COR_ERR_LIMIT, "case %d: %s", i, cor_error_name(rc));
    }
    /* Exactly enough is fine. */
    cor_ledger_options exact = options_with(4, 6, 2, 2, 1);
    cor_ledger *ledger = load(&exact, &bytes, &rc);
    cr_assert_eq(rc, COR_OK);
    cor_transfer t = lt_transfer(30, 1, 2, 1, 1, 0);
    LT_T(lt_create_transfer(ledger, &t), COR_TRANSFER_TRANSFERS_FULL);
    cor_ledger_close(ledger);
    /* Invalid options are refused as at open. */
    cor_ledger_options invalid = options_with(16, 64, 65, 0, 1);
    load(&invalid, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_INVALID);
    lt_buffer_free(&bytes);
}

Test(ledger_serialize, refuses_duplicated_ids)
{
    cor_ledger_options options = options_with(16, 64, 8, 0, 1);
    cor_error rc;
    lt_buffer bytes = populated_bytes();
    const snapshot_layout at = layout_of(&bytes);
    const size_t accounts = at.accounts, transfers = at.transfers;
    cor_u128 id = 0;
    memcpy(&id, bytes.bytes + transfers + 3 * 128, sizeof(id));
    cr_assert(id == 13, "layout: fourth transfer record");
    memcpy(&id, bytes.bytes + accounts + at.account_size, sizeof(id));
    cr_assert(id == 2, "layout: second account record");
    memcpy(&id, bytes.bytes + at.failed_ids, sizeof(id));
    cr_assert(id == 14, "layout: first failed id");
    memcpy(bytes.bytes + accounts + at.account_size, bytes.bytes + accounts, 16); /* 2 := 1 */
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT);
    lt_buffer_free(&bytes);

    bytes = populated_bytes();
    memcpy(bytes.bytes + transfers + 3 * 128, bytes.bytes + transfers, 16); /* 13 := 10 */
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT);
    lt_buffer_free(&bytes);

    bytes = populated_bytes();
    memcpy(bytes.bytes + bytes.size_bytes - 16, bytes.bytes + bytes.size_bytes - 32, 16);
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT);
    lt_buffer_free(&bytes);

    /* A zero id is no better. */
    bytes = populated_bytes();
    memset(bytes.bytes + accounts, 0, 16);
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT);
    lt_buffer_free(&bytes);
}

Test(ledger_serialize, refuses_inconsistent_content)
{
    cor_ledger_options options = options_with(16, 64, 8, 0, 1);
    cor_error rc;
    const size_t accounts = HEADER_SIZE;

    /* An account balance that no transfer explains. */
    lt_buffer bytes = populated_bytes();
    cor_u128 debits_posted = 0;
    memcpy(&debits_posted, bytes.bytes + accounts + 32, sizeof(debits_posted));
    cr_assert(debits_posted == 100 + 5, "layout: account 1's debits_posted");
    bytes.bytes[accounts + 32] ^= 1;
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT, "%s", cor_error_name(rc));
    lt_buffer_free(&bytes);

    /* A ledger clock behind its own records. */
    bytes = populated_bytes();
    uint64_t zero = 0;
    memcpy(bytes.bytes + OFFSET_TIMESTAMP, &zero, sizeof(zero));
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT, "%s", cor_error_name(rc));
    lt_buffer_free(&bytes);

    /* A newest-object timestamp that disagrees with the records. */
    bytes = populated_bytes();
    uint64_t early = 1;
    memcpy(bytes.bytes + OFFSET_OBJECT_TIMESTAMP, &early, sizeof(early));
    load(&options, &bytes, &rc);
    cr_assert_eq(rc, COR_ERR_CORRUPT, "%s", cor_error_name(rc));
    lt_buffer_free(&bytes);
}

Test(ledger_serialize, truncated_input_returns_the_reader_error)
{
    lt_buffer bytes = populated_bytes();
    cor_ledger_options options = options_with(16, 64, 8, 0, 1);
    cor_error rc;
    size_t full = bytes.size_bytes;
    const size_t cuts[] = {0, 10, HEADER_SIZE, HEADER_SIZE + 100, full - 1};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        bytes.size_bytes = cuts[i];
        load(&options, &bytes, &rc);
        cr_assert_eq(rc, COR_ERR_IO, "cut at %zu", cuts[i]);
    }
    bytes.size_bytes = full;
    lt_buffer_free(&bytes);
}

static cor_error failing_write(void *context, const void *bytes, size_t size_bytes)
{
    (void)bytes;
    size_t *calls = context;
    (*calls)++;
    return size_bytes > 0 && *calls >= 2 ? COR_ERR_IO : COR_OK;
}

Test(ledger_serialize, writer_error_stops_serialization)
{
    cor_ledger *ledger = lt_open();
    populate(ledger);
    size_t calls = 0;
    cr_assert_eq(cor_ledger_serialize(ledger, failing_write, &calls), COR_ERR_IO);
    cr_assert_eq(calls, 2);
    cor_ledger_close(ledger);
}

Test(ledger_serialize, different_hash_seeds_give_the_same_bytes)
{
    cor_ledger_options a = options_with(16, 64, 8, 0, 1);
    cor_ledger_options b = options_with(16, 64, 8, 0, UINT64_MAX);
    cor_ledger *x = NULL, *y = NULL;
    cr_assert_eq(cor_ledger_open(&a, &x), COR_OK);
    cr_assert_eq(cor_ledger_open(&b, &y), COR_OK);
    populate(x);
    populate(y);
    lt_buffer bx, by;
    lt_serialize(x, &bx);
    lt_serialize(y, &by);
    expect_same_bytes(&bx, &by);
    lt_buffer_free(&bx);
    lt_buffer_free(&by);
    cor_ledger_close(x);
    cor_ledger_close(y);
}

Test(ledger_serialize, refuses_balance_totals_that_wrap)
{
    /* Account 1 (debits_must_not_exceed_credits) holds 100 and reserves 10. A crafted
     * snapshot gives it debits_posted 2^128 - 6 (and account 3 the matching credits, history
     * included): pending + posted wraps to 4, which looks within the limit. Loaded, voiding
     * the reservation would unwrap the sum and trip the limit assertion. */
    cor_ledger *ledger = lt_open();
    cor_account limited = lt_account(1, 1, COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS);
    LT_A(lt_create_account(ledger, &limited), COR_ACCOUNT_CREATED);
    cor_account two = lt_account(2, 1, 0), three = lt_account(3, 1, 0);
    LT_A(lt_create_account(ledger, &two), COR_ACCOUNT_CREATED);
    LT_A(lt_create_account(ledger, &three), COR_ACCOUNT_CREATED);
    cor_transfer fund = lt_transfer(1, 2, 1, 100, 1, 0);
    lt_ok(ledger, &fund);
    cor_transfer hold = lt_transfer(2, 1, 3, 10, 1, COR_TRANSFER_PENDING);
    lt_ok(ledger, &hold);
    const cor_u128 extra = COR_U128_MAX - 5;
    ledger->balances[0].debits_posted += extra;
    ledger->history[ledger_account_slot_at(ledger, 0)->history_head_next - 1].debits_posted +=
        extra;
    ledger->balances[2].credits_posted += extra;
    ledger->history[ledger_account_slot_at(ledger, 2)->history_head_next - 1].credits_posted +=
        extra;
    lt_buffer bytes;
    lt_serialize(ledger, &bytes);
    cor_ledger_close(ledger);

    cor_ledger_options options = options_with(64, 256, 64, 0, 1);
    cor_error rc;
    cor_ledger *copy = load(&options, &bytes, &rc);
    if (copy != NULL) { /* before the fix: loaded, and the void aborted */
        cor_transfer v = lt_resolve(3, 2, 0, true);
        lt_create_transfer(copy, &v);
        cor_ledger_close(copy);
    }
    cr_assert_eq(rc, COR_ERR_CORRUPT, "%s", cor_error_name(rc));
    lt_buffer_free(&bytes);
}
