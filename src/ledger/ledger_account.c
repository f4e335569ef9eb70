/*
 * create_account: one account event, validated in the documented precedence and applied only
 * after every check passed.
 */
#include "ledger/ledger_internal.h"

static uint32_t account_exists(const cor_account *a, const cor_account *e)
{
    /* closed may have been set since by a closing transfer: it is state, not identity. */
    uint16_t mask = (uint16_t)~COR_ACCOUNT_CLOSED;
    if ((a->flags & mask) != (e->flags & mask)) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS;
    if (a->user_data_128 != e->user_data_128) {
        return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128;
    }
    if (a->user_data_64 != e->user_data_64) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64;
    if (a->user_data_32 != e->user_data_32) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_32;
    if (a->ledger != e->ledger) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER;
    if (a->code != e->code) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE;
    return COR_ACCOUNT_EXISTS;
}

static uint32_t account_check_header(const cor_account *a, const ledger_event_context *context)
{
    bool imported = (a->flags & COR_ACCOUNT_IMPORTED) != 0;
    if (imported != context->imported_batch) {
        return context->imported_batch ? COR_ACCOUNT_IMPORTED_EVENT_EXPECTED
                                       : COR_ACCOUNT_IMPORTED_EVENT_NOT_EXPECTED;
    }
    if (!imported && a->timestamp != 0) return COR_ACCOUNT_TIMESTAMP_MUST_BE_ZERO;
    if (imported) {
        if (a->timestamp == 0 || a->timestamp > LEDGER_TIMESTAMP_IMPORTED_MAX) {
            return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE;
        }
        if (a->timestamp >= context->batch_timestamp) {
            return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE;
        }
    }
    if (a->reserved != 0) return COR_ACCOUNT_RESERVED_FIELD;
    if ((a->flags & ~COR_ACCOUNT_FLAGS_KNOWN) != 0) return COR_ACCOUNT_RESERVED_FLAG;
    if (a->id == 0) return COR_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (a->id == COR_U128_MAX) return COR_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    return COR_ACCOUNT_CREATED;
}

static uint32_t account_check_fields(const cor_account *a)
{
    if ((a->flags & COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        (a->flags & COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS)) {
        return COR_ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    }
    if (a->debits_pending != 0) return COR_ACCOUNT_DEBITS_PENDING_MUST_BE_ZERO;
    if (a->debits_posted != 0) return COR_ACCOUNT_DEBITS_POSTED_MUST_BE_ZERO;
    if (a->credits_pending != 0) return COR_ACCOUNT_CREDITS_PENDING_MUST_BE_ZERO;
    if (a->credits_posted != 0) return COR_ACCOUNT_CREDITS_POSTED_MUST_BE_ZERO;
    if (a->ledger == 0) return COR_ACCOUNT_LEDGER_MUST_NOT_BE_ZERO;
    if (a->code == 0) return COR_ACCOUNT_CODE_MUST_NOT_BE_ZERO;
    return COR_ACCOUNT_CREATED;
}

uint32_t cor__ledger_create_account(cor_ledger *ledger, const cor_account *a,
                                    const ledger_event_context *context,
                                    uint64_t *timestamp_out)
{
    *timestamp_out = 0;
    uint32_t status = account_check_header(a, context);
    if (status != COR_ACCOUNT_CREATED) return status;
    uint64_t hash = cor__ledger_hash(ledger, a->id);
    const ledger_account_slot *existing = ledger_account_slot_find(ledger, hash, a->id);
    if (existing != NULL) {
        cor_account e;
        cor__ledger_account_get(ledger, existing->index_next - 1, &e);
        status = account_exists(a, &e);
        if (status == COR_ACCOUNT_EXISTS) *timestamp_out = e.timestamp;
        return status;
    }
    status = account_check_fields(a);
    if (status != COR_ACCOUNT_CREATED) return status;
    bool imported = (a->flags & COR_ACCOUNT_IMPORTED) != 0;
    if (imported && a->timestamp <= ledger->object_timestamp_last) {
        return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS;
    }
    if (ledger->accounts_count == ledger->options.accounts_max) return COR_ACCOUNT_ACCOUNTS_FULL;

    uint32_t index = ledger->accounts_count++;
    cor_account *stored = &ledger->accounts[index];
    *stored = *a;
    stored->timestamp = imported ? a->timestamp : context->timestamp;
    ledger->balances[index] = (ledger_balances){0};
    ledger_account_slot entry = {
        .id = a->id,
        .index_next = index + 1,
        .ledger = a->ledger,
        .flags = a->flags,
    };
    uint64_t slot = cor__ledger_account_slot_insert(ledger, hash, &entry);
    ledger->accounts_slot[index] = slot;
    if (ledger->chain_open) {
        ledger_undo undo = {.kind = UNDO_ACCOUNT_INSERT, .index = index, .slot = slot};
        cor__ledger_undo_push(ledger, &undo);
    }
    COR_ASSERT(stored->timestamp > ledger->object_timestamp_last);
    ledger->object_timestamp_last = stored->timestamp;
    *timestamp_out = stored->timestamp;
    return COR_ACCOUNT_CREATED;
}
