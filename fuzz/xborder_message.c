/*
 * Fuzz harness for the cross-border core's untrusted inputs: peer messages (after the node
 * decoded and authenticated them, every field is still chosen by the peer) and snapshot
 * bytes read back from disk.
 *
 * The first input byte selects the target. For messages, the rest is a sequence of
 * 256-byte cor_xb_message records; envelope fields are steered towards valid values for
 * half of them, so the fuzzer reaches the business logic, not just the envelope refusals,
 * and a reserved byte chooses the screening flag, operator decisions and timer ticks.
 * After every message the ledger must still balance and the state must round-trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/ledger.h"
#include "corridor/xborder.h"

static cor_ledger *fuzz_ledger;
static cor_xb *fuzz_xb;

typedef struct fuzz_reader {
    const uint8_t *bytes;
    size_t size;
    size_t offset;
} fuzz_reader;

static cor_error fuzz_read(void *context, void *bytes, size_t size_bytes)
{
    fuzz_reader *r = context;
    if (r->size - r->offset < size_bytes) return COR_ERR_CORRUPT;
    if (size_bytes > 0) memcpy(bytes, r->bytes + r->offset, size_bytes);
    r->offset += size_bytes;
    return COR_OK;
}

static cor_error fuzz_count(void *context, const void *bytes, size_t size_bytes)
{
    (void)bytes;
    *(size_t *)context += size_bytes;
    return COR_OK;
}

static void fuzz_world(void)
{
    cor_ledger_options lo = {
        .accounts_max = 8, .transfers_max = 4096, .pending_transfers_max = 4096, .hash_seed = 1};
    if (cor_ledger_open(&lo, &fuzz_ledger) != COR_OK) abort();
    cor_account accounts[3] = {
        {.id = 1, .ledger = 364, .code = 1},
        {.id = 2, .ledger = 364, .code = 2, .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
        {.id = 3, .ledger = 364, .code = 2, .flags = COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS},
    };
    cor_create_result results[3];
    if (cor_ledger_create_accounts(fuzz_ledger, 1, accounts, 3, results) != COR_OK) abort();
    cor_transfer fund = {.id = 9,
                         .debit_account_id = 1,
                         .credit_account_id = 2,
                         .amount = 1000000,
                         .ledger = 364,
                         .code = 1};
    if (cor_ledger_create_transfers(fuzz_ledger, 2, &fund, 1, results) != COR_OK) abort();
    cor_xb_options o;
    cor_xb_options_default(&o, 2, 364);
    o.payments_max = 64;
    o.seen_max = 64;
    o.outbox_max = 16;
    if (cor_xb_open(&o, fuzz_ledger, &fuzz_xb) != COR_OK) abort();
    cor_xb_peer peer = {.node_id = 1, .ledger = 643};
    if (cor_xb_peer_add(fuzz_xb, &peer) != COR_OK) abort();
    cor_xb_fx fx = {.account_id = 2, .fx_id = 7000, .peer_node = 1};
    if (cor_xb_fx_add(fuzz_xb, &fx) != COR_OK) abort();
}

static void fuzz_messages(const uint8_t *data, size_t size)
{
    fuzz_world();
    uint64_t now = 10ull * 1000000000ull;
    for (size_t at = 0; at + sizeof(cor_xb_message) <= size; at += sizeof(cor_xb_message)) {
        cor_xb_message m;
        memcpy(&m, data + at, sizeof(m));
        uint8_t control = m.reserved[1]; /* hold flag and operator actions */
        if (m.reserved[0] & 1) {         /* steer towards a valid envelope */
            memset(m.reserved, 0, sizeof(m.reserved));
            m.to_node = 2;
            m.from_node = 1;
            m.msg_id = ((cor_u128)1 << 96) | (cor_u128)(at + 1);
            m.created_at = now;
            m.uetr = (m.uetr & ~((cor_u128)0xf << 76)) | ((cor_u128)4 << 76);
            m.uetr = (m.uetr & ~((cor_u128)0x3 << 62)) | ((cor_u128)2 << 62);
            m.source_ledger = 643;
            m.dest_ledger = 364;
        }
        uint32_t reason = 0;
        uint32_t flags = (control & 1) ? COR_XB_RECEIVE_HOLD : 0;
        if (cor_xb_receive_flags(fuzz_xb, now, &m, flags, &reason) != COR_OK) abort();
        if (reason >= COR_XB_REASON_COUNT) abort();
        if ((control & 2) && cor_xb_hold_release(fuzz_xb, now, m.uetr, &reason) != COR_OK) abort();
        if ((control & 4) && cor_xb_hold_reject(fuzz_xb, now, m.uetr, &reason) != COR_OK) abort();
        if (control & 8) {
            uint32_t ticked =
                cor_xb_tick(fuzz_xb, now + (uint64_t)(control >> 4) * 1000000000ull, 100);
            (void)ticked;
        }
        cor_xb_outbox_clear(fuzz_xb);
        char problem[128];
        if (!cor_ledger_check(fuzz_ledger, problem, sizeof(problem))) abort();
        now += 1000000;
    }
    uint32_t ticked = cor_xb_tick(fuzz_xb, now, 1000);
    (void)ticked;
    size_t bytes = 0;
    if (cor_xb_serialize(fuzz_xb, fuzz_count, &bytes) != COR_OK) abort();
    cor_xb_close(fuzz_xb);
    cor_ledger_close(fuzz_ledger);
}

static void fuzz_snapshot(const uint8_t *data, size_t size)
{
    fuzz_world();
    cor_xb_options o;
    cor_xb_options_default(&o, 2, 364);
    o.payments_max = 64;
    o.seen_max = 64;
    o.outbox_max = 16;
    fuzz_reader reader = {data, size, 0};
    cor_xb *restored = NULL;
    if (cor_xb_deserialize(&o, fuzz_ledger, fuzz_read, &reader, &restored) == COR_OK) {
        /* Whatever was accepted must be usable. */
        uint32_t ticked = cor_xb_tick(restored, UINT64_MAX / 2, 100);
        (void)ticked;
        size_t bytes = 0;
        if (cor_xb_serialize(restored, fuzz_count, &bytes) != COR_OK) abort();
    } else if (restored != NULL) {
        abort();
    }
    cor_xb_close(restored);
    cor_xb_close(fuzz_xb);
    cor_ledger_close(fuzz_ledger);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1) {
        fuzz_snapshot(data + 1, size - 1);
    } else {
        fuzz_messages(data + 1, size - 1);
    }
    return 0;
}
