/*
 * create_transfer: one transfer event, validated in the documented precedence (docs/LEDGER.md)
 * and applied only after every check passed, so a failing event never mutates state.
 *
 * Three shapes share the entry point: a plain transfer (posted at once), a pending transfer
 * (reserved, with an optional timeout), and a post or void of a pending transfer. Balancing
 * transfers shrink their amount to what the account limit allows; closing transfers close
 * an account while they are pending.
 */
#include "ledger/ledger_internal.h"

#define FLAG(t, name) (((t)->flags & COR_TRANSFER_##name) != 0)

static bool u128_add_overflows(cor_u128 a, cor_u128 b)
{
    return b > COR_U128_MAX - a;
}

static cor_u128 u128_min(cor_u128 a, cor_u128 b)
{
    return a < b ? a : b;
}

/* a - b, or 0 when b > a. */
static cor_u128 u128_sub_saturating(cor_u128 a, cor_u128 b)
{
    return a > b ? a - b : 0;
}

static bool transfer_is_post_or_void(const cor_transfer *t)
{
    return FLAG(t, POST_PENDING_TRANSFER) || FLAG(t, VOID_PENDING_TRANSFER);
}

/* ---------------------------------------------------------------------------------------- */
/* Idempotency                                                                              */
/* ---------------------------------------------------------------------------------------- */

static uint32_t transfer_exists_amount(const cor_transfer *t, const cor_transfer *e)
{
    if (FLAG(t, BALANCING_DEBIT) || FLAG(t, BALANCING_CREDIT)) {
        /* The retry's amount is a maximum; it matches if it covers what was moved. */
        return t->amount < e->amount ? COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT : 0;
    }
    if (FLAG(t, POST_PENDING_TRANSFER)) {
        if (t->amount == COR_AMOUNT_MAX) return 0;
        return t->amount != e->amount ? COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT : 0;
    }
    if (FLAG(t, VOID_PENDING_TRANSFER)) {
        if (t->amount == 0) return 0;
        return t->amount != e->amount ? COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT : 0;
    }
    return t->amount != e->amount ? COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT : 0;
}

/* For post/void, a zero field inherited the pending transfer's value, so zero matches. */
#define EXISTS_DIFFERS(inherit, field) ((inherit) ? (t->field != 0 && t->field != e->field) \
                                                  : (t->field != e->field))

static uint32_t transfer_exists(const cor_transfer *t, const cor_transfer *e)
{
    bool inherit = transfer_is_post_or_void(t);
    if (t->flags != e->flags) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS;
    if (t->pending_id != e->pending_id) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID;
    if (t->timeout != e->timeout) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT;
    if (EXISTS_DIFFERS(inherit, debit_account_id)) {
        return COR_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
    }
    if (EXISTS_DIFFERS(inherit, credit_account_id)) {
        return COR_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
    }
    uint32_t amount_status = transfer_exists_amount(t, e);
    if (amount_status != 0) return amount_status;
    if (EXISTS_DIFFERS(inherit, user_data_128)) {
        return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128;
    }
    if (EXISTS_DIFFERS(inherit, user_data_64)) {
        return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64;
    }
    if (EXISTS_DIFFERS(inherit, user_data_32)) {
        return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_32;
    }
    if (EXISTS_DIFFERS(inherit, ledger)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER;
    if (EXISTS_DIFFERS(inherit, code)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE;
    return COR_TRANSFER_EXISTS;
}

/* ---------------------------------------------------------------------------------------- */
/* Checks shared by every shape                                                             */
/* ---------------------------------------------------------------------------------------- */

static uint32_t transfer_check_header(const cor_ledger *ledger, const cor_transfer *t,
                                      const ledger_event_context *context,
                                      uint64_t *timestamp_out)
{
    bool imported = FLAG(t, IMPORTED);
    if (imported != context->imported_batch) {
        return context->imported_batch ? COR_TRANSFER_IMPORTED_EVENT_EXPECTED
                                       : COR_TRANSFER_IMPORTED_EVENT_NOT_EXPECTED;
    }
    if (!imported && t->timestamp != 0) return COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO;
    if (imported) {
        if (t->timestamp == 0 || t->timestamp > LEDGER_TIMESTAMP_IMPORTED_MAX) {
            return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE;
        }
        if (t->timestamp >= context->batch_timestamp) {
            return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE;
        }
    }
    if ((t->flags & ~COR_TRANSFER_FLAGS_KNOWN) != 0) return COR_TRANSFER_RESERVED_FLAG;
    if (t->id == 0) return COR_TRANSFER_ID_MUST_NOT_BE_ZERO;
    if (t->id == COR_U128_MAX) return COR_TRANSFER_ID_MUST_NOT_BE_INT_MAX;

    bool failed = false;
    uint32_t existing_next = cor__ledger_transfer_lookup(ledger, context->id_hash, t->id, &failed);
    if (existing_next != 0) {
        const cor_transfer *e = &ledger->transfers[existing_next - 1];
        uint32_t status = transfer_exists(t, e);
        if (status == COR_TRANSFER_EXISTS) *timestamp_out = e->timestamp;
        return status;
    }
    if (failed) return COR_TRANSFER_ID_ALREADY_FAILED;

    bool post = FLAG(t, POST_PENDING_TRANSFER);
    bool void_ = FLAG(t, VOID_PENDING_TRANSFER);
    bool balancing = FLAG(t, BALANCING_DEBIT) || FLAG(t, BALANCING_CREDIT);
    bool closing = FLAG(t, CLOSING_DEBIT) || FLAG(t, CLOSING_CREDIT);
    if (FLAG(t, PENDING) && (post || void_)) return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if (post && void_) return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if ((post || void_) && (balancing || closing)) {
        return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    }
    return COR_TRANSFER_CREATED;
}

/* Imported transfers must be newer than everything stored and than both accounts. */
static uint32_t transfer_check_imported(const cor_ledger *ledger, const cor_transfer *t,
                                        ledger_account_ref dr, ledger_account_ref cr)
{
    if (!FLAG(t, IMPORTED)) return COR_TRANSFER_CREATED;
    if (t->timestamp <= ledger->object_timestamp_last) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS;
    }
    if (t->timestamp <= ledger->accounts[dr.index].timestamp) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_DEBIT_ACCOUNT;
    }
    if (t->timestamp <= ledger->accounts[cr.index].timestamp) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_CREDIT_ACCOUNT;
    }
    if (t->timeout != 0) return COR_TRANSFER_IMPORTED_EVENT_TIMEOUT_MUST_BE_ZERO;
    return COR_TRANSFER_CREATED;
}

static uint32_t transfer_check_capacity(const cor_ledger *ledger, bool pending)
{
    if (ledger->transfers_count == ledger->options.transfers_max) {
        return COR_TRANSFER_TRANSFERS_FULL;
    }
    if (pending && ledger->pending_count == ledger->options.pending_transfers_max) {
        return COR_TRANSFER_PENDING_TRANSFERS_FULL;
    }
    return COR_TRANSFER_CREATED;
}

/* Appends the record and indexes it; returns its index. */
static uint32_t transfer_insert(cor_ledger *ledger, const cor_transfer *stored, uint64_t hash)
{
    uint32_t index = ledger->transfers_count++;
    ledger_stream_store(&ledger->transfers[index], stored, sizeof(*stored));
    uint64_t slot = cor__ledger_index_insert(&ledger->transfers_index, hash, index + 1);
    if (ledger->chain_open) {
        ledger_undo undo = {.kind = UNDO_TRANSFER_INSERT, .index = index, .slot = slot};
        cor__ledger_undo_push(ledger, &undo);
    }
    COR_ASSERT(stored->timestamp > ledger->object_timestamp_last);
    ledger->object_timestamp_last = stored->timestamp;
    return index;
}

static void transfer_assert_limits(ledger_account_ref account)
{
    const ledger_balances *b = account.balances;
    if (account.slot->flags & COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) {
        COR_ASSERT(b->debits_pending + b->debits_posted <= b->credits_posted);
    }
    if (account.slot->flags & COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) {
        COR_ASSERT(b->credits_pending + b->credits_posted <= b->debits_posted);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Plain and pending transfers                                                              */
/* ---------------------------------------------------------------------------------------- */

static uint32_t transfer_check_ids(const cor_transfer *t)
{
    if (t->debit_account_id == 0) return COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (t->debit_account_id == COR_U128_MAX) {
        return COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    }
    if (t->credit_account_id == 0) return COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (t->credit_account_id == COR_U128_MAX) {
        return COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    }
    if (t->debit_account_id == t->credit_account_id) {
        return COR_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT;
    }
    if (t->pending_id != 0) return COR_TRANSFER_PENDING_ID_MUST_BE_ZERO;
    if (!FLAG(t, PENDING)) {
        if (t->timeout != 0) return COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
        if (FLAG(t, CLOSING_DEBIT) || FLAG(t, CLOSING_CREDIT)) {
            return COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING;
        }
    }
    if (t->ledger == 0) return COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO;
    if (t->code == 0) return COR_TRANSFER_CODE_MUST_NOT_BE_ZERO;
    return COR_TRANSFER_CREATED;
}

/* Shrinks a balancing transfer's amount to what the limits allow. */
static uint32_t transfer_balance_amount(const cor_transfer *t, const ledger_balances *dr,
                                        const ledger_balances *cr, cor_u128 *amount)
{
    cor_u128 wanted = *amount;
    if (FLAG(t, BALANCING_DEBIT)) {
        cor_u128 debits = dr->debits_pending + dr->debits_posted; /* limits keep this bounded */
        if (u128_add_overflows(dr->debits_pending, dr->debits_posted)) debits = COR_U128_MAX;
        *amount = u128_min(*amount, u128_sub_saturating(dr->credits_posted, debits));
        if (*amount == 0 && wanted != 0) return COR_TRANSFER_EXCEEDS_CREDITS;
    }
    if (FLAG(t, BALANCING_CREDIT)) {
        cor_u128 credits = cr->credits_pending + cr->credits_posted;
        if (u128_add_overflows(cr->credits_pending, cr->credits_posted)) credits = COR_U128_MAX;
        *amount = u128_min(*amount, u128_sub_saturating(cr->debits_posted, credits));
        if (*amount == 0 && wanted != 0) return COR_TRANSFER_EXCEEDS_DEBITS;
    }
    return COR_TRANSFER_CREATED;
}

static uint32_t transfer_check_amounts(const cor_transfer *t, ledger_account_ref debit,
                                       ledger_account_ref credit, cor_u128 amount,
                                       uint64_t timestamp)
{
    const ledger_balances *dr = debit.balances;
    const ledger_balances *cr = credit.balances;
    if (FLAG(t, PENDING)) {
        if (u128_add_overflows(dr->debits_pending, amount)) {
            return COR_TRANSFER_OVERFLOWS_DEBITS_PENDING;
        }
        if (u128_add_overflows(cr->credits_pending, amount)) {
            return COR_TRANSFER_OVERFLOWS_CREDITS_PENDING;
        }
    } else {
        if (u128_add_overflows(dr->debits_posted, amount)) {
            return COR_TRANSFER_OVERFLOWS_DEBITS_POSTED;
        }
        if (u128_add_overflows(cr->credits_posted, amount)) {
            return COR_TRANSFER_OVERFLOWS_CREDITS_POSTED;
        }
    }
    if (u128_add_overflows(dr->debits_pending, dr->debits_posted) ||
        u128_add_overflows(dr->debits_pending + dr->debits_posted, amount)) {
        return COR_TRANSFER_OVERFLOWS_DEBITS;
    }
    if (u128_add_overflows(cr->credits_pending, cr->credits_posted) ||
        u128_add_overflows(cr->credits_pending + cr->credits_posted, amount)) {
        return COR_TRANSFER_OVERFLOWS_CREDITS;
    }
    if (FLAG(t, PENDING) && t->timeout != 0 &&
        (uint64_t)t->timeout * LEDGER_NS_PER_SECOND > UINT64_MAX - timestamp) {
        return COR_TRANSFER_OVERFLOWS_TIMEOUT;
    }
    if ((debit.slot->flags & COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        dr->debits_pending + dr->debits_posted + amount > dr->credits_posted) {
        return COR_TRANSFER_EXCEEDS_CREDITS;
    }
    if ((credit.slot->flags & COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        cr->credits_pending + cr->credits_posted + amount > cr->debits_posted) {
        return COR_TRANSFER_EXCEEDS_DEBITS;
    }
    return COR_TRANSFER_CREATED;
}

static void transfer_apply(cor_ledger *ledger, const cor_transfer *t, uint64_t id_hash,
                           ledger_account_ref debit, ledger_account_ref credit, cor_u128 amount,
                           uint64_t timestamp)
{
    cor_transfer stored = *t;
    stored.amount = amount;
    stored.timestamp = timestamp;
    uint32_t index = transfer_insert(ledger, &stored, id_hash);

    cor__ledger_account_save(ledger, debit);
    cor__ledger_account_save(ledger, credit);
    ledger_balances *dr = debit.balances;
    ledger_balances *cr = credit.balances;
    if (FLAG(t, PENDING)) {
        dr->debits_pending += amount;
        cr->credits_pending += amount;
        ledger->transfers_status[index] = COR_PENDING_STATUS_PENDING;
        ledger->pending_count++;
        if (t->timeout != 0) {
            ledger_expiry entry = {
                .expires_at = timestamp + (uint64_t)t->timeout * LEDGER_NS_PER_SECOND,
                .transfer_index = index,
            };
            cor__ledger_expiry_insert(ledger, entry);
            if (ledger->chain_open) {
                ledger_undo undo = {.kind = UNDO_EXPIRY_INSERT, .index = index};
                cor__ledger_undo_push(ledger, &undo);
            }
        }
        if (FLAG(t, CLOSING_DEBIT)) debit.slot->flags |= COR_ACCOUNT_CLOSED;
        if (FLAG(t, CLOSING_CREDIT)) credit.slot->flags |= COR_ACCOUNT_CLOSED;
    } else {
        dr->debits_posted += amount;
        cr->credits_posted += amount;
    }
    transfer_assert_limits(debit);
    transfer_assert_limits(credit);
    cor__ledger_history_append(ledger, debit, index, timestamp);
    cor__ledger_history_append(ledger, credit, index, timestamp);
}

static uint32_t transfer_create_plain(cor_ledger *ledger, const cor_transfer *t,
                                      const ledger_event_context *context,
                                      uint64_t *timestamp_out)
{
    uint32_t status = transfer_check_ids(t);
    if (status != COR_TRANSFER_CREATED) return status;

    COR_DEBUG_ASSERT(context->debit == ledger_account_slot_find(
                                           ledger, cor__ledger_hash(ledger, t->debit_account_id),
                                           t->debit_account_id));
    if (context->debit == NULL) return COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND;
    if (context->credit == NULL) return COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND;
    ledger_account_ref dr = ledger_account_ref_of(ledger, context->debit);
    ledger_account_ref cr = ledger_account_ref_of(ledger, context->credit);
    if (dr.slot->ledger != cr.slot->ledger) return COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER;
    if (t->ledger != dr.slot->ledger) {
        return COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS;
    }
    status = transfer_check_imported(ledger, t, dr, cr);
    if (status != COR_TRANSFER_CREATED) return status;
    if (dr.slot->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED;
    if (cr.slot->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED;

    uint64_t timestamp = FLAG(t, IMPORTED) ? t->timestamp : context->timestamp;
    cor_u128 amount = t->amount;
    status = transfer_balance_amount(t, dr.balances, cr.balances, &amount);
    if (status != COR_TRANSFER_CREATED) return status;
    status = transfer_check_amounts(t, dr, cr, amount, timestamp);
    if (status != COR_TRANSFER_CREATED) return status;
    status = transfer_check_capacity(ledger, FLAG(t, PENDING));
    if (status != COR_TRANSFER_CREATED) return status;

    transfer_apply(ledger, t, context->id_hash, dr, cr, amount, timestamp);
    *timestamp_out = timestamp;
    return COR_TRANSFER_CREATED;
}

/* ---------------------------------------------------------------------------------------- */
/* Post and void                                                                            */
/* ---------------------------------------------------------------------------------------- */

/* The accounts of a stored transfer (they always exist: accounts are never removed). */
static void transfer_accounts(const cor_ledger *ledger, const cor_transfer *p,
                              ledger_account_ref *dr, ledger_account_ref *cr)
{
    ledger_account_slot *debit = ledger_account_slot_find(
        ledger, cor__ledger_hash(ledger, p->debit_account_id), p->debit_account_id);
    ledger_account_slot *credit = ledger_account_slot_find(
        ledger, cor__ledger_hash(ledger, p->credit_account_id), p->credit_account_id);
    COR_ASSERT(debit != NULL);
    COR_ASSERT(credit != NULL);
    *dr = ledger_account_ref_of(ledger, debit);
    *cr = ledger_account_ref_of(ledger, credit);
}

void cor__ledger_pending_release(cor_ledger *ledger, uint32_t pending_index, uint8_t status)
{
    const cor_transfer *p = &ledger->transfers[pending_index];
    COR_ASSERT(ledger->transfers_status[pending_index] == COR_PENDING_STATUS_PENDING);
    COR_ASSERT(status == COR_PENDING_STATUS_VOIDED || status == COR_PENDING_STATUS_EXPIRED ||
               status == COR_PENDING_STATUS_POSTED);
    ledger_account_ref dr, cr;
    transfer_accounts(ledger, p, &dr, &cr);
    cor__ledger_account_save(ledger, dr);
    cor__ledger_account_save(ledger, cr);
    COR_ASSERT(dr.balances->debits_pending >= p->amount);
    COR_ASSERT(cr.balances->credits_pending >= p->amount);
    dr.balances->debits_pending -= p->amount;
    cr.balances->credits_pending -= p->amount;
    if (status != COR_PENDING_STATUS_POSTED) {
        if (p->flags & COR_TRANSFER_CLOSING_DEBIT) dr.slot->flags &= (uint16_t)~COR_ACCOUNT_CLOSED;
        if (p->flags & COR_TRANSFER_CLOSING_CREDIT) {
            cr.slot->flags &= (uint16_t)~COR_ACCOUNT_CLOSED;
        }
    }
    cor__ledger_status_set(ledger, pending_index, status);
    if (ledger->transfers_expiry_slot[pending_index] != 0) {
        if (ledger->chain_open) {
            ledger_undo undo = {.kind = UNDO_EXPIRY_REMOVE, .index = pending_index};
            undo.expiry = ledger->expiries[ledger->transfers_expiry_slot[pending_index] - 1];
            cor__ledger_undo_push(ledger, &undo);
        }
        cor__ledger_expiry_remove(ledger, pending_index);
    }
    COR_ASSERT(ledger->pending_count > 0);
    ledger->pending_count--;
}

static uint32_t transfer_check_pending(const cor_ledger *ledger, const cor_transfer *t,
                                       const cor_transfer *p, uint32_t p_index,
                                       uint64_t timestamp, cor_u128 *amount)
{
    if ((p->flags & COR_TRANSFER_PENDING) == 0) return COR_TRANSFER_PENDING_TRANSFER_NOT_PENDING;
    if (t->debit_account_id != 0 && t->debit_account_id != p->debit_account_id) {
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID;
    }
    if (t->credit_account_id != 0 && t->credit_account_id != p->credit_account_id) {
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID;
    }
    if (t->ledger != 0 && t->ledger != p->ledger) {
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER;
    }
    if (t->code != 0 && t->code != p->code) return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE;
    if (FLAG(t, POST_PENDING_TRANSFER)) {
        *amount = t->amount == COR_AMOUNT_MAX ? p->amount : t->amount;
        if (*amount > p->amount) return COR_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT;
    } else {
        if (t->amount != 0 && t->amount != p->amount) {
            return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT;
        }
        *amount = p->amount;
    }
    switch (ledger->transfers_status[p_index]) {
    case COR_PENDING_STATUS_PENDING: break;
    case COR_PENDING_STATUS_POSTED: return COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED;
    case COR_PENDING_STATUS_VOIDED: return COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED;
    case COR_PENDING_STATUS_EXPIRED: return COR_TRANSFER_PENDING_TRANSFER_EXPIRED;
    default: COR_UNREACHABLE();
    }
    if (p->timeout != 0 &&
        p->timestamp + (uint64_t)p->timeout * LEDGER_NS_PER_SECOND <= timestamp) {
        return COR_TRANSFER_PENDING_TRANSFER_EXPIRED;
    }
    return COR_TRANSFER_CREATED;
}

static uint32_t transfer_create_post_or_void(cor_ledger *ledger, const cor_transfer *t,
                                             const ledger_event_context *context,
                                             uint64_t *timestamp_out)
{
    if (t->pending_id == 0) return COR_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO;
    if (t->pending_id == COR_U128_MAX) return COR_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX;
    if (t->pending_id == t->id) return COR_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT;
    if (t->timeout != 0) return COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;

    uint32_t p_next = ledger_transfer_find(ledger, t->pending_id);
    if (p_next == 0) return COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND;
    const cor_transfer *p = &ledger->transfers[p_next - 1];
    uint64_t timestamp = FLAG(t, IMPORTED) ? t->timestamp : context->timestamp;
    cor_u128 amount = 0;
    uint32_t status = transfer_check_pending(ledger, t, p, p_next - 1, timestamp, &amount);
    if (status != COR_TRANSFER_CREATED) return status;

    ledger_account_ref dr, cr;
    transfer_accounts(ledger, p, &dr, &cr);
    status = transfer_check_imported(ledger, t, dr, cr);
    if (status != COR_TRANSFER_CREATED) return status;
    bool post = FLAG(t, POST_PENDING_TRANSFER);
    if (post && (dr.slot->flags & COR_ACCOUNT_CLOSED)) {
        return COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED;
    }
    if (post && (cr.slot->flags & COR_ACCOUNT_CLOSED)) {
        return COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED;
    }
    if (post && u128_add_overflows(dr.balances->debits_posted, amount)) {
        return COR_TRANSFER_OVERFLOWS_DEBITS_POSTED;
    }
    if (post && u128_add_overflows(cr.balances->credits_posted, amount)) {
        return COR_TRANSFER_OVERFLOWS_CREDITS_POSTED;
    }
    status = transfer_check_capacity(ledger, false);
    if (status != COR_TRANSFER_CREATED) return status;

    cor_transfer stored = *t;
    stored.debit_account_id = p->debit_account_id;
    stored.credit_account_id = p->credit_account_id;
    stored.amount = amount;
    stored.ledger = p->ledger;
    stored.code = p->code;
    if (stored.user_data_128 == 0) stored.user_data_128 = p->user_data_128;
    if (stored.user_data_64 == 0) stored.user_data_64 = p->user_data_64;
    if (stored.user_data_32 == 0) stored.user_data_32 = p->user_data_32;
    stored.timestamp = timestamp;
    uint32_t p_index = p_next - 1;
    uint32_t index = transfer_insert(ledger, &stored, context->id_hash); /* records never move */

    cor__ledger_pending_release(ledger, p_index,
                                post ? COR_PENDING_STATUS_POSTED : COR_PENDING_STATUS_VOIDED);
    if (post) {
        dr.balances->debits_posted += amount;
        cr.balances->credits_posted += amount;
    }
    transfer_assert_limits(dr);
    transfer_assert_limits(cr);
    cor__ledger_history_append(ledger, dr, index, timestamp);
    cor__ledger_history_append(ledger, cr, index, timestamp);
    *timestamp_out = timestamp;
    return COR_TRANSFER_CREATED;
}

uint32_t cor__ledger_create_transfer(cor_ledger *ledger, const cor_transfer *t,
                                     const ledger_event_context *context,
                                     uint64_t *timestamp_out)
{
    *timestamp_out = 0;
    uint32_t status = transfer_check_header(ledger, t, context, timestamp_out);
    if (status != COR_TRANSFER_CREATED) return status;
    if (transfer_is_post_or_void(t)) {
        return transfer_create_post_or_void(ledger, t, context, timestamp_out);
    }
    return transfer_create_plain(ledger, t, context, timestamp_out);
}
