/*
 * Model test of the ledger core (suite ledger_model).
 *
 * Random batches of every kind (accounts, plain / pending / post / void / balancing / closing
 * transfers, imported batches, linked chains that fail midway or stay open, duplicate ids,
 * retries of failed ids, expiry commands, exhausted capacities) are applied both to the real
 * ledger and to a naive reference model written here from docs/LEDGER.md alone: plain arrays,
 * linear searches, and a chain rollback that copies the state it may change instead of an
 * undo log. Every result (status and timestamp) and the full state (every account record,
 * every transfer record, pending statuses, failed ids, counts, time, next expiry, balance
 * history) are compared after every batch, and cor_ledger_check must hold. After every batch
 * a random account filter and a random query filter are answered by both as well, and now
 * and then the run goes on from a serialize / deserialize copy under another hash seed.
 *
 * Runs several seeds by default. COR_SEED=<n> reruns one seed (suite test ledger_model/rerun),
 * COR_MODEL_BATCHES=<n> sets the batches per seed. A failure prints its seed and batch number.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/ledger_support.h"
#include "corridor/ledger.h"

#define MODEL_SEEDS_PER_TEST  8u
#define MODEL_BATCHES_DEFAULT 1250u /* 32 seeds x 1,250 = 40,000 batches by default */
#define MODEL_EVENTS_MAX      48u
#define MODEL_ACCOUNT_IDS     28u /* account ids 1..28; capacities are often smaller */
#define MODEL_ACCOUNTS_CAP    40u
#define MODEL_TRANSFERS_CAP   4000u
#define MODEL_FAILED_CAP      4000u
#define MODEL_RECENT          64u
#define NS                    1000000000ull
#define IMPORTED_TS_LIMIT     (1ull << 63)

/* ---------------------------------------------------------------------------------------- */
/* Random numbers (splitmix64)                                                              */
/* ---------------------------------------------------------------------------------------- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(rng *r, uint64_t n)
{
    return n == 0 ? 0 : rng_next(r) % n;
}

static bool rng_chance(rng *r, unsigned percent)
{
    return rng_below(r, 100) < percent;
}

/* ---------------------------------------------------------------------------------------- */
/* The reference model                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct m_transfer {
    cor_transfer record;
    uint8_t status;      /* cor_pending_status */
    uint64_t expires_at; /* 0 = no timeout */
} m_transfer;

typedef struct m_history {
    cor_u128 account_id;
    cor_u128 transfer_id;
    uint64_t timestamp;
    cor_u128 debits_pending, debits_posted, credits_pending, credits_posted;
} m_history;

typedef struct model {
    uint32_t accounts_max, transfers_max, pending_max, failed_max;
    cor_account accounts[MODEL_ACCOUNTS_CAP];
    uint32_t accounts_count;
    m_transfer transfers[MODEL_TRANSFERS_CAP];
    uint32_t transfers_count;
    cor_u128 failed[MODEL_FAILED_CAP];
    uint32_t failed_count;
    m_history history[2 * MODEL_TRANSFERS_CAP];
    uint32_t history_count;
    uint32_t pending_count;
    uint64_t now;      /* the last timestamp given */
    uint64_t obj_last; /* newest account or transfer timestamp */
} model;

/* What a chain may change, copied at the chain's start (transfers are only appended). */
typedef struct m_saved {
    cor_account accounts[MODEL_ACCOUNTS_CAP];
    uint8_t statuses[MODEL_TRANSFERS_CAP];
    uint32_t accounts_count, transfers_count, history_count, pending_count;
    uint64_t obj_last;
} m_saved;

static void m_save(const model *m, m_saved *s)
{
    memcpy(s->accounts, m->accounts, sizeof(cor_account) * m->accounts_count);
    for (uint32_t i = 0; i < m->transfers_count; i++)
        s->statuses[i] = m->transfers[i].status;
    s->accounts_count = m->accounts_count;
    s->transfers_count = m->transfers_count;
    s->history_count = m->history_count;
    s->pending_count = m->pending_count;
    s->obj_last = m->obj_last;
}

static void m_restore(model *m, const m_saved *s)
{
    memcpy(m->accounts, s->accounts, sizeof(cor_account) * s->accounts_count);
    m->accounts_count = s->accounts_count;
    m->transfers_count = s->transfers_count;
    for (uint32_t i = 0; i < m->transfers_count; i++)
        m->transfers[i].status = s->statuses[i];
    m->history_count = s->history_count;
    m->pending_count = s->pending_count;
    m->obj_last = s->obj_last;
}

static cor_account *m_account(model *m, cor_u128 id)
{
    for (uint32_t i = 0; i < m->accounts_count; i++) {
        if (m->accounts[i].id == id) return &m->accounts[i];
    }
    return NULL;
}

static m_transfer *m_transfer_find(model *m, cor_u128 id)
{
    for (uint32_t i = 0; i < m->transfers_count; i++) {
        if (m->transfers[i].record.id == id) return &m->transfers[i];
    }
    return NULL;
}

static bool m_failed(const model *m, cor_u128 id)
{
    for (uint32_t i = 0; i < m->failed_count; i++) {
        if (m->failed[i] == id) return true;
    }
    return false;
}

static bool m_transient(uint32_t s)
{
    return s == COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND ||
           s == COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND ||
           s == COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND || s == COR_TRANSFER_EXCEEDS_CREDITS ||
           s == COR_TRANSFER_EXCEEDS_DEBITS || s == COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED ||
           s == COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED;
}

static bool ovf(cor_u128 a, cor_u128 b)
{
    cor_u128 sum = a + b;
    return sum < a;
}

static bool ovf3(cor_u128 a, cor_u128 b, cor_u128 c)
{
    return ovf(a, b) || ovf(a + b, c);
}

/* --- accounts --- */

static uint32_t m_account_event(model *m, const cor_account *a, bool imported_batch, uint64_t base,
                                uint64_t ts, uint64_t *ts_out)
{
    bool imported = (a->flags & COR_ACCOUNT_IMPORTED) != 0;
    if (imported_batch && !imported) return COR_ACCOUNT_IMPORTED_EVENT_EXPECTED;
    if (!imported_batch && imported) return COR_ACCOUNT_IMPORTED_EVENT_NOT_EXPECTED;
    if (!imported && a->timestamp != 0) return COR_ACCOUNT_TIMESTAMP_MUST_BE_ZERO;
    if (imported && (a->timestamp == 0 || a->timestamp >= IMPORTED_TS_LIMIT)) {
        return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE;
    }
    if (imported && a->timestamp >= base)
        return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE;
    if (a->reserved != 0) return COR_ACCOUNT_RESERVED_FIELD;
    if (a->flags & ~0x3fu) return COR_ACCOUNT_RESERVED_FLAG;
    if (a->id == 0) return COR_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (a->id == COR_U128_MAX) return COR_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    cor_account *e = m_account(m, a->id);
    if (e != NULL) {
        if ((a->flags & ~COR_ACCOUNT_CLOSED) != (e->flags & ~COR_ACCOUNT_CLOSED)) {
            return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_FLAGS;
        }
        if (a->user_data_128 != e->user_data_128)
            return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_128;
        if (a->user_data_64 != e->user_data_64)
            return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_64;
        if (a->user_data_32 != e->user_data_32)
            return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_USER_DATA_32;
        if (a->ledger != e->ledger) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_LEDGER;
        if (a->code != e->code) return COR_ACCOUNT_EXISTS_WITH_DIFFERENT_CODE;
        *ts_out = e->timestamp;
        return COR_ACCOUNT_EXISTS;
    }
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
    if (imported && a->timestamp <= m->obj_last) {
        return COR_ACCOUNT_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS;
    }
    if (m->accounts_count == m->accounts_max) return COR_ACCOUNT_ACCOUNTS_FULL;
    cor_account stored = *a;
    stored.timestamp = imported ? a->timestamp : ts;
    m->accounts[m->accounts_count++] = stored;
    m->obj_last = stored.timestamp;
    *ts_out = stored.timestamp;
    return COR_ACCOUNT_CREATED;
}

/* --- transfers --- */

static void m_history_append(model *m, const cor_account *account, const cor_transfer *t)
{
    m_history *h = &m->history[m->history_count++];
    h->account_id = account->id;
    h->transfer_id = t->id;
    h->timestamp = t->timestamp;
    h->debits_pending = account->debits_pending;
    h->debits_posted = account->debits_posted;
    h->credits_pending = account->credits_pending;
    h->credits_posted = account->credits_posted;
}

static bool m_flag(const cor_transfer *t, uint16_t flag)
{
    return (t->flags & flag) != 0;
}

static uint32_t m_transfer_exists(const cor_transfer *t, const cor_transfer *e)
{
    bool inherit = m_flag(t, COR_TRANSFER_POST_PENDING_TRANSFER) ||
                   m_flag(t, COR_TRANSFER_VOID_PENDING_TRANSFER);
#define DIFFERS(f) (inherit ? (t->f != 0 && t->f != e->f) : (t->f != e->f))
    if (t->flags != e->flags) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_FLAGS;
    if (t->pending_id != e->pending_id) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_PENDING_ID;
    if (t->timeout != e->timeout) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_TIMEOUT;
    if (DIFFERS(debit_account_id)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_DEBIT_ACCOUNT_ID;
    if (DIFFERS(credit_account_id)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_CREDIT_ACCOUNT_ID;
    bool amount_differs;
    if (m_flag(t, COR_TRANSFER_BALANCING_DEBIT) || m_flag(t, COR_TRANSFER_BALANCING_CREDIT)) {
        amount_differs = t->amount < e->amount;
    } else if (m_flag(t, COR_TRANSFER_POST_PENDING_TRANSFER)) {
        amount_differs = t->amount != COR_AMOUNT_MAX && t->amount != e->amount;
    } else if (m_flag(t, COR_TRANSFER_VOID_PENDING_TRANSFER)) {
        amount_differs = t->amount != 0 && t->amount != e->amount;
    } else {
        amount_differs = t->amount != e->amount;
    }
    if (amount_differs) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_AMOUNT;
    if (DIFFERS(user_data_128)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_128;
    if (DIFFERS(user_data_64)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_64;
    if (DIFFERS(user_data_32)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_USER_DATA_32;
    if (DIFFERS(ledger)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_LEDGER;
    if (DIFFERS(code)) return COR_TRANSFER_EXISTS_WITH_DIFFERENT_CODE;
#undef DIFFERS
    return COR_TRANSFER_EXISTS;
}

static uint32_t m_imported_checks(const model *m, const cor_transfer *t, const cor_account *dr,
                                  const cor_account *cr)
{
    if (!m_flag(t, COR_TRANSFER_IMPORTED)) return COR_TRANSFER_CREATED;
    if (t->timestamp <= m->obj_last) return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_REGRESS;
    if (t->timestamp <= dr->timestamp) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_DEBIT_ACCOUNT;
    }
    if (t->timestamp <= cr->timestamp) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_POSTDATE_CREDIT_ACCOUNT;
    }
    if (t->timeout != 0) return COR_TRANSFER_IMPORTED_EVENT_TIMEOUT_MUST_BE_ZERO;
    return COR_TRANSFER_CREATED;
}

static void m_store(model *m, const cor_transfer *stored, uint8_t status, uint64_t expires_at)
{
    m_transfer *slot = &m->transfers[m->transfers_count++];
    slot->record = *stored;
    slot->status = status;
    slot->expires_at = expires_at;
    m->obj_last = stored->timestamp;
}

static uint32_t m_plain(model *m, const cor_transfer *t, uint64_t ts, uint64_t *ts_out)
{
    bool pending = m_flag(t, COR_TRANSFER_PENDING);
    if (t->debit_account_id == 0) return COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (t->debit_account_id == COR_U128_MAX)
        return COR_TRANSFER_DEBIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    if (t->credit_account_id == 0) return COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_ZERO;
    if (t->credit_account_id == COR_U128_MAX)
        return COR_TRANSFER_CREDIT_ACCOUNT_ID_MUST_NOT_BE_INT_MAX;
    if (t->debit_account_id == t->credit_account_id) return COR_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT;
    if (t->pending_id != 0) return COR_TRANSFER_PENDING_ID_MUST_BE_ZERO;
    if (!pending && t->timeout != 0) return COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
    if (!pending &&
        (m_flag(t, COR_TRANSFER_CLOSING_DEBIT) || m_flag(t, COR_TRANSFER_CLOSING_CREDIT))) {
        return COR_TRANSFER_CLOSING_TRANSFER_MUST_BE_PENDING;
    }
    if (t->ledger == 0) return COR_TRANSFER_LEDGER_MUST_NOT_BE_ZERO;
    if (t->code == 0) return COR_TRANSFER_CODE_MUST_NOT_BE_ZERO;
    cor_account *dr = m_account(m, t->debit_account_id);
    cor_account *cr = m_account(m, t->credit_account_id);
    if (dr == NULL) return COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND;
    if (cr == NULL) return COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND;
    if (dr->ledger != cr->ledger) return COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER;
    if (t->ledger != dr->ledger) return COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS;
    uint32_t s = m_imported_checks(m, t, dr, cr);
    if (s != COR_TRANSFER_CREATED) return s;
    if (dr->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED;
    if (cr->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED;

    cor_u128 amount = t->amount;
    if (m_flag(t, COR_TRANSFER_BALANCING_DEBIT)) {
        cor_u128 room = 0;
        if (!ovf(dr->debits_pending, dr->debits_posted) &&
            dr->credits_posted > dr->debits_pending + dr->debits_posted) {
            room = dr->credits_posted - dr->debits_pending - dr->debits_posted;
        }
        if (room < amount) amount = room;
        if (amount == 0 && t->amount != 0) return COR_TRANSFER_EXCEEDS_CREDITS;
    }
    if (m_flag(t, COR_TRANSFER_BALANCING_CREDIT)) {
        cor_u128 room = 0;
        if (!ovf(cr->credits_pending, cr->credits_posted) &&
            cr->debits_posted > cr->credits_pending + cr->credits_posted) {
            room = cr->debits_posted - cr->credits_pending - cr->credits_posted;
        }
        if (room < amount) amount = room;
        if (amount == 0 && t->amount != 0) return COR_TRANSFER_EXCEEDS_DEBITS;
    }
    uint64_t event_ts = m_flag(t, COR_TRANSFER_IMPORTED) ? t->timestamp : ts;
    if (pending) {
        if (ovf(dr->debits_pending, amount)) return COR_TRANSFER_OVERFLOWS_DEBITS_PENDING;
        if (ovf(cr->credits_pending, amount)) return COR_TRANSFER_OVERFLOWS_CREDITS_PENDING;
    } else {
        if (ovf(dr->debits_posted, amount)) return COR_TRANSFER_OVERFLOWS_DEBITS_POSTED;
        if (ovf(cr->credits_posted, amount)) return COR_TRANSFER_OVERFLOWS_CREDITS_POSTED;
    }
    if (ovf3(dr->debits_pending, dr->debits_posted, amount)) return COR_TRANSFER_OVERFLOWS_DEBITS;
    if (ovf3(cr->credits_pending, cr->credits_posted, amount))
        return COR_TRANSFER_OVERFLOWS_CREDITS;
    if (pending && t->timeout != 0 && (uint64_t)t->timeout * NS > UINT64_MAX - event_ts) {
        return COR_TRANSFER_OVERFLOWS_TIMEOUT;
    }
    if ((dr->flags & COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS) &&
        dr->debits_pending + dr->debits_posted + amount > dr->credits_posted) {
        return COR_TRANSFER_EXCEEDS_CREDITS;
    }
    if ((cr->flags & COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS) &&
        cr->credits_pending + cr->credits_posted + amount > cr->debits_posted) {
        return COR_TRANSFER_EXCEEDS_DEBITS;
    }
    if (m->transfers_count == m->transfers_max) return COR_TRANSFER_TRANSFERS_FULL;
    if (pending && m->pending_count == m->pending_max) return COR_TRANSFER_PENDING_TRANSFERS_FULL;

    cor_transfer stored = *t;
    stored.amount = amount;
    stored.timestamp = event_ts;
    if (pending) {
        dr->debits_pending += amount;
        cr->credits_pending += amount;
        if (m_flag(t, COR_TRANSFER_CLOSING_DEBIT)) dr->flags |= COR_ACCOUNT_CLOSED;
        if (m_flag(t, COR_TRANSFER_CLOSING_CREDIT)) cr->flags |= COR_ACCOUNT_CLOSED;
        m->pending_count++;
        m_store(m, &stored, COR_PENDING_STATUS_PENDING,
                t->timeout ? event_ts + (uint64_t)t->timeout * NS : 0);
    } else {
        dr->debits_posted += amount;
        cr->credits_posted += amount;
        m_store(m, &stored, COR_PENDING_STATUS_NONE, 0);
    }
    m_history_append(m, dr, &stored);
    m_history_append(m, cr, &stored);
    *ts_out = event_ts;
    return COR_TRANSFER_CREATED;
}

/* Releases a pending transfer's reservation (void, post or expiry). */
static void m_release(model *m, m_transfer *p, uint8_t status)
{
    cor_account *dr = m_account(m, p->record.debit_account_id);
    cor_account *cr = m_account(m, p->record.credit_account_id);
    dr->debits_pending -= p->record.amount;
    cr->credits_pending -= p->record.amount;
    if (status != COR_PENDING_STATUS_POSTED) {
        if (m_flag(&p->record, COR_TRANSFER_CLOSING_DEBIT))
            dr->flags &= (uint16_t)~COR_ACCOUNT_CLOSED;
        if (m_flag(&p->record, COR_TRANSFER_CLOSING_CREDIT))
            cr->flags &= (uint16_t)~COR_ACCOUNT_CLOSED;
    }
    p->status = status;
    m->pending_count--;
}

static uint32_t m_post_void(model *m, const cor_transfer *t, uint64_t ts, uint64_t *ts_out)
{
    bool post = m_flag(t, COR_TRANSFER_POST_PENDING_TRANSFER);
    if (t->pending_id == 0) return COR_TRANSFER_PENDING_ID_MUST_NOT_BE_ZERO;
    if (t->pending_id == COR_U128_MAX) return COR_TRANSFER_PENDING_ID_MUST_NOT_BE_INT_MAX;
    if (t->pending_id == t->id) return COR_TRANSFER_PENDING_ID_MUST_BE_DIFFERENT;
    if (t->timeout != 0) return COR_TRANSFER_TIMEOUT_RESERVED_FOR_PENDING_TRANSFER;
    m_transfer *p = m_transfer_find(m, t->pending_id);
    if (p == NULL) return COR_TRANSFER_PENDING_TRANSFER_NOT_FOUND;
    const cor_transfer *pr = &p->record;
    if (!m_flag(pr, COR_TRANSFER_PENDING)) return COR_TRANSFER_PENDING_TRANSFER_NOT_PENDING;
    if (t->debit_account_id != 0 && t->debit_account_id != pr->debit_account_id) {
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID;
    }
    if (t->credit_account_id != 0 && t->credit_account_id != pr->credit_account_id) {
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID;
    }
    if (t->ledger != 0 && t->ledger != pr->ledger)
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_LEDGER;
    if (t->code != 0 && t->code != pr->code)
        return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_CODE;
    cor_u128 amount;
    if (post) {
        amount = t->amount == COR_AMOUNT_MAX ? pr->amount : t->amount;
        if (amount > pr->amount) return COR_TRANSFER_EXCEEDS_PENDING_TRANSFER_AMOUNT;
    } else {
        if (t->amount != 0 && t->amount != pr->amount) {
            return COR_TRANSFER_PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT;
        }
        amount = pr->amount;
    }
    if (p->status == COR_PENDING_STATUS_POSTED) return COR_TRANSFER_PENDING_TRANSFER_ALREADY_POSTED;
    if (p->status == COR_PENDING_STATUS_VOIDED) return COR_TRANSFER_PENDING_TRANSFER_ALREADY_VOIDED;
    if (p->status == COR_PENDING_STATUS_EXPIRED) return COR_TRANSFER_PENDING_TRANSFER_EXPIRED;
    uint64_t event_ts = m_flag(t, COR_TRANSFER_IMPORTED) ? t->timestamp : ts;
    if (p->expires_at != 0 && p->expires_at <= event_ts)
        return COR_TRANSFER_PENDING_TRANSFER_EXPIRED;
    cor_account *dr = m_account(m, pr->debit_account_id);
    cor_account *cr = m_account(m, pr->credit_account_id);
    uint32_t s = m_imported_checks(m, t, dr, cr);
    if (s != COR_TRANSFER_CREATED) return s;
    if (post) {
        if (dr->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED;
        if (cr->flags & COR_ACCOUNT_CLOSED) return COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED;
        if (ovf(dr->debits_posted, amount)) return COR_TRANSFER_OVERFLOWS_DEBITS_POSTED;
        if (ovf(cr->credits_posted, amount)) return COR_TRANSFER_OVERFLOWS_CREDITS_POSTED;
    }
    if (m->transfers_count == m->transfers_max) return COR_TRANSFER_TRANSFERS_FULL;

    cor_transfer stored = *t;
    stored.debit_account_id = pr->debit_account_id;
    stored.credit_account_id = pr->credit_account_id;
    stored.ledger = pr->ledger;
    stored.code = pr->code;
    stored.amount = amount;
    if (stored.user_data_128 == 0) stored.user_data_128 = pr->user_data_128;
    if (stored.user_data_64 == 0) stored.user_data_64 = pr->user_data_64;
    if (stored.user_data_32 == 0) stored.user_data_32 = pr->user_data_32;
    stored.timestamp = event_ts;
    m_release(m, p, post ? COR_PENDING_STATUS_POSTED : COR_PENDING_STATUS_VOIDED);
    if (post) {
        dr->debits_posted += amount;
        cr->credits_posted += amount;
    }
    m_store(m, &stored, COR_PENDING_STATUS_NONE, 0);
    m_history_append(m, dr, &stored);
    m_history_append(m, cr, &stored);
    *ts_out = event_ts;
    return COR_TRANSFER_CREATED;
}

static uint32_t m_transfer_event(model *m, const cor_transfer *t, bool imported_batch,
                                 uint64_t base, uint64_t ts, uint64_t *ts_out)
{
    bool imported = m_flag(t, COR_TRANSFER_IMPORTED);
    if (imported_batch && !imported) return COR_TRANSFER_IMPORTED_EVENT_EXPECTED;
    if (!imported_batch && imported) return COR_TRANSFER_IMPORTED_EVENT_NOT_EXPECTED;
    if (!imported && t->timestamp != 0) return COR_TRANSFER_TIMESTAMP_MUST_BE_ZERO;
    if (imported && (t->timestamp == 0 || t->timestamp >= IMPORTED_TS_LIMIT)) {
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_OUT_OF_RANGE;
    }
    if (imported && t->timestamp >= base)
        return COR_TRANSFER_IMPORTED_EVENT_TIMESTAMP_MUST_NOT_ADVANCE;
    if (t->flags & ~0x1ffu) return COR_TRANSFER_RESERVED_FLAG;
    if (t->id == 0) return COR_TRANSFER_ID_MUST_NOT_BE_ZERO;
    if (t->id == COR_U128_MAX) return COR_TRANSFER_ID_MUST_NOT_BE_INT_MAX;
    m_transfer *e = m_transfer_find(m, t->id);
    if (e != NULL) {
        uint32_t s = m_transfer_exists(t, &e->record);
        if (s == COR_TRANSFER_EXISTS) *ts_out = e->record.timestamp;
        return s;
    }
    if (m_failed(m, t->id)) return COR_TRANSFER_ID_ALREADY_FAILED;
    bool post = m_flag(t, COR_TRANSFER_POST_PENDING_TRANSFER);
    bool void_ = m_flag(t, COR_TRANSFER_VOID_PENDING_TRANSFER);
    bool special = (t->flags & (COR_TRANSFER_BALANCING_DEBIT | COR_TRANSFER_BALANCING_CREDIT |
                                COR_TRANSFER_CLOSING_DEBIT | COR_TRANSFER_CLOSING_CREDIT)) != 0;
    if (m_flag(t, COR_TRANSFER_PENDING) && (post || void_))
        return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if (post && void_) return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if ((post || void_) && special) return COR_TRANSFER_FLAGS_ARE_MUTUALLY_EXCLUSIVE;
    if (post || void_) return m_post_void(m, t, ts, ts_out);
    return m_plain(m, t, ts, ts_out);
}

static void m_remember(model *m, cor_u128 id, cor_create_result *result)
{
    if (!m_transient(result->status)) return;
    if (m->failed_count == m->failed_max) {
        result->status = COR_TRANSFER_TRANSFERS_FULL;
        return;
    }
    m->failed[m->failed_count++] = id;
}

/* One batch; events are accounts or transfers. Chains: copy, apply, restore on failure. */
static void m_batch(model *m, bool transfers, const void *events, uint32_t count,
                    uint64_t timestamp, cor_create_result *results)
{
    const cor_account *accounts = events;
    const cor_transfer *xfers = events;
    uint64_t base = timestamp > m->now ? timestamp : m->now + 1;
#define EV_FLAGS(i) (transfers ? xfers[i].flags : accounts[i].flags)
#define EV_ID(i)    (transfers ? xfers[i].id : accounts[i].id)
    bool imported_batch =
        (EV_FLAGS(0) & (transfers ? COR_TRANSFER_IMPORTED : COR_ACCOUNT_IMPORTED)) != 0;
    static m_saved saved;
    uint32_t i = 0;
    while (i < count) {
        uint32_t last = i;
        while (last < count - 1 && (EV_FLAGS(last) & 1u))
            last++;
        bool chain = (EV_FLAGS(i) & 1u) != 0;
        if (chain) m_save(m, &saved);
        int32_t failed = -1;
        for (uint32_t k = i; k <= last; k++) {
            uint64_t ts_out = 0;
            uint32_t s;
            if (chain && k == count - 1 && (EV_FLAGS(k) & 1u)) {
                s = COR_TRANSFER_LINKED_EVENT_CHAIN_OPEN;
            } else if (transfers) {
                s = m_transfer_event(m, &xfers[k], imported_batch, base, base + k, &ts_out);
            } else {
                s = m_account_event(m, &accounts[k], imported_batch, base, base + k, &ts_out);
            }
            results[k] = (cor_create_result){.timestamp = ts_out, .status = s};
            if (s != 0 && chain) {
                failed = (int32_t)k;
                break;
            }
            if (s != 0 && transfers) m_remember(m, xfers[k].id, &results[k]);
        }
        if (failed >= 0) {
            m_restore(m, &saved);
            for (uint32_t k = i; k <= last; k++) {
                if ((int32_t)k != failed) {
                    results[k] = (cor_create_result){.status = COR_TRANSFER_LINKED_EVENT_FAILED};
                }
            }
            if (transfers) m_remember(m, EV_ID(failed), &results[failed]);
        }
        i = last + 1;
    }
    m->now = base + count - 1;
#undef EV_FLAGS
#undef EV_ID
}

static uint32_t m_expire(model *m, uint64_t timestamp, uint32_t limit)
{
    uint32_t expired = 0;
    while (expired < limit) {
        m_transfer *best = NULL;
        for (uint32_t i = 0; i < m->transfers_count; i++) {
            m_transfer *x = &m->transfers[i];
            if (x->status != COR_PENDING_STATUS_PENDING || x->expires_at == 0) continue;
            if (x->expires_at > timestamp) continue;
            if (best == NULL || x->expires_at < best->expires_at) best = x;
        }
        if (best == NULL) break;
        m_release(m, best, COR_PENDING_STATUS_EXPIRED);
        expired++;
    }
    if (timestamp > m->now) m->now = timestamp;
    return expired;
}

static bool m_next_expiry(const model *m, uint64_t *out)
{
    bool found = false;
    for (uint32_t i = 0; i < m->transfers_count; i++) {
        const m_transfer *x = &m->transfers[i];
        if (x->status != COR_PENDING_STATUS_PENDING || x->expires_at == 0) continue;
        if (!found || x->expires_at < *out) *out = x->expires_at;
        found = true;
    }
    return found;
}

/* ---------------------------------------------------------------------------------------- */
/* Failure reporting                                                                        */
/* ---------------------------------------------------------------------------------------- */

static volatile uint64_t g_seed;
static volatile uint32_t g_batch;
static struct sigaction g_previous_abort, g_previous_segv;

static void model_crash_handler(int signal_number)
{
    char text[160];
    int size = snprintf(text, sizeof(text),
                        "ledger_model: crashed (signal %d) at seed %llu batch %u; rerun with "
                        "COR_SEED=%llu\n",
                        signal_number, (unsigned long long)g_seed, (unsigned)g_batch,
                        (unsigned long long)g_seed);
    if (size > 0) {
        ssize_t ignored = write(STDERR_FILENO, text, (size_t)size);
        (void)ignored;
    }
    if (signal_number == 0) return; /* called from a sanitizer's death callback */
    /* Hand the signal on to whoever handled it before (e.g. the sanitizer's report). */
    sigaction(signal_number, signal_number == SIGSEGV ? &g_previous_segv : &g_previous_abort, NULL);
    raise(signal_number);
}

#define MODEL_FAIL(...)                                                                            \
    do {                                                                                           \
        char detail_[256];                                                                         \
        snprintf(detail_, sizeof(detail_), __VA_ARGS__);                                           \
        cr_assert_fail("ledger_model: seed %llu batch %u: %s (rerun with COR_SEED=%llu)",          \
                       (unsigned long long)g_seed, (unsigned)g_batch, detail_,                     \
                       (unsigned long long)g_seed);                                                \
    } while (0)

/* ---------------------------------------------------------------------------------------- */
/* Comparison                                                                               */
/* ---------------------------------------------------------------------------------------- */

static void u128_text(cor_u128 v, char *buffer)
{
    cor_u128_format(v, buffer);
}

static void compare_history(cor_ledger *ledger, const model *m, cor_u128 account_id)
{
    static cor_account_balance balances[2 * MODEL_TRANSFERS_CAP];
    static cor_transfer transfers[2 * MODEL_TRANSFERS_CAP];
    cor_account_filter filter = {.account_id = account_id, .limit = 2 * MODEL_TRANSFERS_CAP};
    uint32_t got =
        cor_ledger_get_account_balances(ledger, &filter, balances, 2 * MODEL_TRANSFERS_CAP);
    uint32_t got_transfers =
        cor_ledger_get_account_transfers(ledger, &filter, transfers, 2 * MODEL_TRANSFERS_CAP);
    uint32_t n = 0;
    for (uint32_t i = 0; i < m->history_count; i++) {
        const m_history *h = &m->history[i];
        if (h->account_id != account_id) continue;
        if (n >= got) {
            MODEL_FAIL("account history shorter than model (%u)", got);
            return;
        }
        const cor_account_balance *b = &balances[n];
        if (b->transfer_id != h->transfer_id || b->timestamp != h->timestamp ||
            b->debits_pending != h->debits_pending || b->debits_posted != h->debits_posted ||
            b->credits_pending != h->credits_pending || b->credits_posted != h->credits_posted) {
            MODEL_FAIL("balance history entry %u differs", n);
            return;
        }
        if (n >= got_transfers || transfers[n].id != h->transfer_id) {
            MODEL_FAIL("account transfers entry %u differs", n);
            return;
        }
        n++;
    }
    if (n != got || n != got_transfers)
        MODEL_FAIL("account history has %u entries, model %u", got, n);
}

static void compare_state(cor_ledger *ledger, model *m, rng *r, bool full)
{
    cor_ledger_stats stats;
    cor_ledger_stats_get(ledger, &stats);
    if (stats.accounts_count != m->accounts_count) {
        MODEL_FAIL("accounts_count %u, model %u", stats.accounts_count, m->accounts_count);
    }
    if (stats.transfers_count != m->transfers_count) {
        MODEL_FAIL("transfers_count %u, model %u", stats.transfers_count, m->transfers_count);
    }
    if (stats.pending_transfers_count != m->pending_count) {
        MODEL_FAIL("pending count %u, model %u", stats.pending_transfers_count, m->pending_count);
    }
    if (stats.failed_ids_count != m->failed_count) {
        MODEL_FAIL("failed ids %u, model %u", stats.failed_ids_count, m->failed_count);
    }
    if (stats.history_count != m->history_count) {
        MODEL_FAIL("history count %llu, model %u", (unsigned long long)stats.history_count,
                   m->history_count);
    }
    if (stats.timestamp != m->now || cor_ledger_timestamp(ledger) != m->now) {
        MODEL_FAIL("timestamp %llu, model %llu", (unsigned long long)stats.timestamp,
                   (unsigned long long)m->now);
    }
    for (uint32_t i = 0; i < m->accounts_count; i++) {
        cor_account got;
        if (!cor_ledger_lookup_account(ledger, m->accounts[i].id, &got)) {
            MODEL_FAIL("account %u missing", i);
        }
        if (memcmp(&got, &m->accounts[i], sizeof(got)) != 0) {
            char a[48], b[48];
            u128_text(got.debits_posted, a);
            u128_text(m->accounts[i].debits_posted, b);
            MODEL_FAIL("account %u differs (debits_posted %s vs model %s, flags %u vs %u)", i, a, b,
                       got.flags, m->accounts[i].flags);
        }
    }
    for (uint32_t i = 0; i < m->transfers_count; i++) {
        cor_transfer got;
        const m_transfer *x = &m->transfers[i];
        if (!cor_ledger_lookup_transfer(ledger, x->record.id, &got))
            MODEL_FAIL("transfer %u missing", i);
        if (memcmp(&got, &x->record, sizeof(got)) != 0) MODEL_FAIL("transfer %u differs", i);
        cor_pending_status status = cor_ledger_pending_status(ledger, x->record.id);
        if ((uint8_t)status != x->status) {
            MODEL_FAIL("transfer %u pending status %d, model %u", i, (int)status, x->status);
        }
    }
    for (uint32_t i = 0; i < m->failed_count; i++) {
        cor_transfer got;
        if (cor_ledger_lookup_transfer(ledger, m->failed[i], &got))
            MODEL_FAIL("failed id %u stored", i);
    }
    uint64_t a_next = 0, m_next_at = 0;
    bool a_has = cor_ledger_next_expiry(ledger, &a_next);
    bool m_has = m_next_expiry(m, &m_next_at);
    if (a_has != m_has || (a_has && a_next != m_next_at)) MODEL_FAIL("next expiry differs");
    char problem[200];
    if (!cor_ledger_check(ledger, problem, sizeof(problem))) MODEL_FAIL("check: %s", problem);
    if (full) {
        for (uint32_t i = 0; i < m->accounts_count; i++)
            compare_history(ledger, m, m->accounts[i].id);
    } else if (m->accounts_count > 0) {
        compare_history(ledger, m, m->accounts[rng_below(r, m->accounts_count)].id);
    }
}

/* A random account filter, answered naively from the model's history and records. */
static void compare_account_query(cor_ledger *ledger, model *m, rng *r)
{
    static cor_transfer got_transfers[2 * MODEL_TRANSFERS_CAP];
    static cor_account_balance got_balances[2 * MODEL_TRANSFERS_CAP];
    static uint32_t want[2 * MODEL_TRANSFERS_CAP];
    if (m->accounts_count == 0) return;
    cor_account_filter f = {.account_id = m->accounts[rng_below(r, m->accounts_count)].id};
    if (rng_chance(r, 5)) f.account_id = 999; /* unknown */
    f.flags = (uint32_t)rng_below(r, 8);
    f.limit = rng_chance(r, 50) ? 2 * MODEL_TRANSFERS_CAP : (uint32_t)rng_below(r, 6);
    if (m->history_count > 0 && rng_chance(r, 40)) {
        f.timestamp_min = m->history[rng_below(r, m->history_count)].timestamp;
    }
    if (m->history_count > 0 && rng_chance(r, 40)) {
        f.timestamp_max = m->history[rng_below(r, m->history_count)].timestamp;
    }
    if (rng_chance(r, 15)) f.user_data_128 = rng_below(r, 3);
    if (rng_chance(r, 15)) f.user_data_64 = rng_below(r, 3);
    if (rng_chance(r, 15)) f.user_data_32 = (uint32_t)rng_below(r, 3);
    if (rng_chance(r, 15)) f.code = (uint16_t)rng_below(r, 4);
    bool debits = (f.flags & COR_ACCOUNT_FILTER_DEBITS) != 0;
    bool credits = (f.flags & COR_ACCOUNT_FILTER_CREDITS) != 0;
    if (!debits && !credits) debits = credits = true;
    uint32_t matches = 0;
    for (uint32_t i = 0; i < m->history_count; i++) {
        const m_history *h = &m->history[i];
        if (h->account_id != f.account_id) continue;
        const cor_transfer *t = &m_transfer_find(m, h->transfer_id)->record;
        if (t->timestamp < f.timestamp_min) continue;
        if (f.timestamp_max != 0 && t->timestamp > f.timestamp_max) continue;
        if (!((debits && t->debit_account_id == f.account_id) ||
              (credits && t->credit_account_id == f.account_id))) {
            continue;
        }
        if (f.user_data_128 != 0 && t->user_data_128 != f.user_data_128) continue;
        if (f.user_data_64 != 0 && t->user_data_64 != f.user_data_64) continue;
        if (f.user_data_32 != 0 && t->user_data_32 != f.user_data_32) continue;
        if (f.code != 0 && t->code != f.code) continue;
        want[matches++] = i;
    }
    uint32_t count = matches < f.limit ? matches : f.limit;
    uint32_t out_max = 2 * MODEL_TRANSFERS_CAP;
    uint32_t got = cor_ledger_get_account_transfers(ledger, &f, got_transfers, out_max);
    uint32_t got_b = cor_ledger_get_account_balances(ledger, &f, got_balances, out_max);
    if (got != count || got_b != count) {
        MODEL_FAIL("account query: %u transfers / %u balances, model %u", got, got_b, count);
    }
    bool reversed = (f.flags & COR_ACCOUNT_FILTER_REVERSED) != 0;
    for (uint32_t k = 0; k < count; k++) {
        const m_history *h = &m->history[want[reversed ? matches - 1 - k : k]];
        const cor_transfer *t = &m_transfer_find(m, h->transfer_id)->record;
        if (memcmp(&got_transfers[k], t, sizeof(*t)) != 0) MODEL_FAIL("account query %u", k);
        const cor_account_balance *b = &got_balances[k];
        if (b->transfer_id != h->transfer_id || b->timestamp != h->timestamp ||
            b->debits_pending != h->debits_pending || b->debits_posted != h->debits_posted ||
            b->credits_pending != h->credits_pending || b->credits_posted != h->credits_posted) {
            MODEL_FAIL("balance query %u", k);
        }
    }
}

typedef struct q_fields {
    cor_u128 user_data_128;
    uint64_t user_data_64;
    uint32_t user_data_32, ledger;
    uint16_t code;
    uint64_t timestamp;
} q_fields;

static bool q_match(const cor_query_filter *f, const q_fields *x)
{
    if (f->user_data_128 != 0 && x->user_data_128 != f->user_data_128) return false;
    if (f->user_data_64 != 0 && x->user_data_64 != f->user_data_64) return false;
    if (f->user_data_32 != 0 && x->user_data_32 != f->user_data_32) return false;
    if (f->ledger != 0 && x->ledger != f->ledger) return false;
    if (f->code != 0 && x->code != f->code) return false;
    if (x->timestamp < f->timestamp_min) return false;
    return f->timestamp_max == 0 || x->timestamp <= f->timestamp_max;
}

/* Random query_accounts / query_transfers filters, answered by a scan of the model. */
static void compare_queries(cor_ledger *ledger, model *m, rng *r)
{
    static cor_transfer got_t[MODEL_TRANSFERS_CAP];
    static cor_account got_a[MODEL_ACCOUNTS_CAP];
    static uint32_t want[MODEL_TRANSFERS_CAP];
    cor_query_filter f = {.limit =
                              rng_chance(r, 50) ? MODEL_TRANSFERS_CAP : (uint32_t)rng_below(r, 6)};
    if (rng_chance(r, 20)) f.user_data_128 = rng_below(r, 3);
    if (rng_chance(r, 20)) f.user_data_64 = rng_below(r, 3);
    if (rng_chance(r, 20)) f.user_data_32 = (uint32_t)rng_below(r, 3);
    if (rng_chance(r, 20)) f.ledger = (uint32_t)rng_below(r, 4);
    if (rng_chance(r, 20)) f.code = (uint16_t)rng_below(r, 4);
    /* Bounds on record timestamps (inclusive edges), or anywhere. */
    if (m->transfers_count > 0 && rng_chance(r, 30)) {
        f.timestamp_min = m->transfers[rng_below(r, m->transfers_count)].record.timestamp;
    } else if (rng_chance(r, 10)) {
        f.timestamp_min = m->accounts_count > 0
                              ? m->accounts[rng_below(r, m->accounts_count)].timestamp
                              : rng_below(r, m->now + 2);
    }
    if (m->transfers_count > 0 && rng_chance(r, 30)) {
        f.timestamp_max = m->transfers[rng_below(r, m->transfers_count)].record.timestamp;
    } else if (rng_chance(r, 10)) {
        f.timestamp_max = m->accounts_count > 0
                              ? m->accounts[rng_below(r, m->accounts_count)].timestamp
                              : rng_below(r, m->now + 2);
    }
    if (rng_chance(r, 50)) f.flags = COR_QUERY_FILTER_REVERSED;
    bool reversed = f.flags != 0;

    uint32_t matches = 0;
    for (uint32_t i = 0; i < m->transfers_count; i++) {
        const cor_transfer *t = &m->transfers[i].record;
        q_fields x = {t->user_data_128, t->user_data_64, t->user_data_32,
                      t->ledger,        t->code,         t->timestamp};
        if (q_match(&f, &x)) want[matches++] = i;
    }
    uint32_t count = matches < f.limit ? matches : f.limit;
    uint32_t got = cor_ledger_query_transfers(ledger, &f, got_t, MODEL_TRANSFERS_CAP);
    if (got != count) MODEL_FAIL("query_transfers: %u, model %u", got, count);
    for (uint32_t k = 0; k < count; k++) {
        const cor_transfer *t = &m->transfers[want[reversed ? matches - 1 - k : k]].record;
        if (memcmp(&got_t[k], t, sizeof(*t)) != 0) MODEL_FAIL("query_transfers result %u", k);
    }
    matches = 0;
    for (uint32_t i = 0; i < m->accounts_count; i++) {
        const cor_account *a = &m->accounts[i];
        q_fields x = {a->user_data_128, a->user_data_64, a->user_data_32,
                      a->ledger,        a->code,         a->timestamp};
        if (q_match(&f, &x)) want[matches++] = i;
    }
    count = matches < f.limit ? matches : f.limit;
    got = cor_ledger_query_accounts(ledger, &f, got_a, MODEL_ACCOUNTS_CAP);
    if (got != count) MODEL_FAIL("query_accounts: %u, model %u", got, count);
    for (uint32_t k = 0; k < count; k++) {
        const cor_account *a = &m->accounts[want[reversed ? matches - 1 - k : k]];
        if (memcmp(&got_a[k], a, sizeof(*a)) != 0) MODEL_FAIL("query_accounts result %u", k);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Generation                                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct gen {
    rng r;
    cor_u128 next_transfer_id;
    cor_transfer recent[MODEL_RECENT]; /* recently submitted transfer events, for retries */
    uint32_t recent_count;
    cor_account recent_accounts[MODEL_RECENT];
    uint32_t recent_accounts_count;
    const cor_transfer *batch; /* the batch being generated, events [0, batch_count) */
    uint32_t batch_count;
} gen;

static uint32_t scheme_ledger(cor_u128 account_id)
{
    return (uint32_t)(account_id % 3u) + 1u;
}

static cor_u128 gen_account_id(gen *g)
{
    uint64_t roll = rng_below(&g->r, 200);
    if (roll == 0) return 0;
    if (roll == 1) return COR_U128_MAX;
    return 1 + rng_below(&g->r, MODEL_ACCOUNT_IDS);
}

static cor_u128 gen_amount(gen *g)
{
    uint64_t roll = rng_below(&g->r, 100);
    if (roll < 4) return 0;
    if (roll < 7) return COR_U128_MAX - rng_below(&g->r, 3);
    if (roll < 10) return ((cor_u128)1 << 127) + rng_below(&g->r, 5);
    if (roll < 14) return COR_AMOUNT_MAX;
    return 1 + rng_below(&g->r, 500);
}

static void gen_account(gen *g, model *m, cor_account *a)
{
    memset(a, 0, sizeof(*a));
    if (g->recent_accounts_count > 0 && rng_chance(&g->r, 12)) {
        *a = g->recent_accounts[rng_below(&g->r, g->recent_accounts_count)];
        a->flags &= (uint16_t)~COR_ACCOUNT_LINKED;
        switch (rng_below(&g->r, 8)) { /* mutate one field, or none */
        case 0:
            a->flags ^= COR_ACCOUNT_HISTORY;
            break;
        case 1:
            a->user_data_128 += 1;
            break;
        case 2:
            a->user_data_64 += 1;
            break;
        case 3:
            a->user_data_32 += 1;
            break;
        case 4:
            a->ledger += 1;
            break;
        case 5:
            a->code += 1;
            break;
        case 6:
            a->flags ^= COR_ACCOUNT_CLOSED;
            break;
        default:
            break;
        }
        return;
    }
    a->id = gen_account_id(g);
    for (int k = 0; k < 4 && m_account(m, a->id) != NULL && rng_chance(&g->r, 80); k++) {
        a->id = 1 + rng_below(&g->r, MODEL_ACCOUNT_IDS); /* prefer ids not created yet */
    }
    a->ledger = rng_chance(&g->r, 95) ? scheme_ledger(a->id) : (uint32_t)rng_below(&g->r, 4);
    a->code = (uint16_t)(rng_chance(&g->r, 97) ? 1 + rng_below(&g->r, 2) : 0);
    a->user_data_128 = rng_below(&g->r, 3);
    a->user_data_64 = rng_below(&g->r, 3);
    a->user_data_32 = (uint32_t)rng_below(&g->r, 3);
    if (rng_chance(&g->r, 25)) a->flags |= COR_ACCOUNT_DEBITS_MUST_NOT_EXCEED_CREDITS;
    if (rng_chance(&g->r, 15)) a->flags |= COR_ACCOUNT_CREDITS_MUST_NOT_EXCEED_DEBITS;
    if (rng_chance(&g->r, 30)) a->flags |= COR_ACCOUNT_HISTORY;
    if (rng_chance(&g->r, 2)) a->flags |= COR_ACCOUNT_CLOSED;
    switch (rng_below(&g->r, 60)) { /* rare invalid fields */
    case 0:
        a->reserved = 1;
        break;
    case 1:
        a->flags |= 1u << 9;
        break;
    case 2:
        a->debits_pending = 1;
        break;
    case 3:
        a->debits_posted = 1;
        break;
    case 4:
        a->credits_pending = 1;
        break;
    case 5:
        a->credits_posted = 1;
        break;
    case 6:
        a->timestamp = 5;
        break;
    default:
        break;
    }
    if (g->recent_accounts_count < MODEL_RECENT) {
        g->recent_accounts[g->recent_accounts_count++] = *a;
    } else {
        g->recent_accounts[rng_below(&g->r, MODEL_RECENT)] = *a;
    }
}

static void gen_remember_transfer(gen *g, const cor_transfer *t)
{
    if (g->recent_count < MODEL_RECENT) {
        g->recent[g->recent_count++] = *t;
    } else {
        g->recent[rng_below(&g->r, MODEL_RECENT)] = *t;
    }
}

/* A pending transfer id from the model (any status), or a random other id. */
static cor_u128 gen_pending_id(gen *g, model *m, const m_transfer **p_out)
{
    *p_out = NULL;
    if (g->batch_count > 0 && rng_chance(&g->r, 15)) {
        /* A pending transfer submitted earlier in this very batch (maybe in this chain). */
        for (uint32_t k = 0; k < 4; k++) {
            const cor_transfer *e = &g->batch[rng_below(&g->r, g->batch_count)];
            if (e->flags & COR_TRANSFER_PENDING) return e->id;
        }
    }
    uint64_t roll = rng_below(&g->r, 100);
    if (roll < 4) return g->next_transfer_id + 1000; /* not found */
    if (roll < 6) return 0;
    if (roll < 7) return COR_U128_MAX;
    if (m->transfers_count == 0) return 1;
    /* Prefer pending transfers: probe a few random records. */
    const m_transfer *pick = &m->transfers[rng_below(&g->r, m->transfers_count)];
    for (int k = 0; k < 6 && !(pick->record.flags & COR_TRANSFER_PENDING); k++) {
        pick = &m->transfers[rng_below(&g->r, m->transfers_count)];
    }
    for (int k = 0; k < 2 && pick->status != COR_PENDING_STATUS_PENDING && rng_chance(&g->r, 60);
         k++) {
        const m_transfer *other =
            &m->transfers[m->transfers_count - 1 -
                          rng_below(&g->r, 8 < m->transfers_count ? 8 : m->transfers_count)];
        if (other->status == COR_PENDING_STATUS_PENDING) pick = other;
    }
    *p_out = pick;
    return pick->record.id;
}

static uint16_t gen_code(gen *g)
{
    return (uint16_t)(rng_chance(&g->r, 98) ? 1 + rng_below(&g->r, 3) : 0);
}

static void gen_transfer(gen *g, model *m, cor_transfer *t, bool imported)
{
    memset(t, 0, sizeof(*t));
    uint64_t kind = rng_below(&g->r, 100);
    if (kind < 8 && g->recent_count > 0) { /* retry of an earlier event, maybe mutated */
        *t = g->recent[rng_below(&g->r, g->recent_count)];
        t->flags &= (uint16_t)~COR_TRANSFER_LINKED;
        if (imported) {
            t->flags |= COR_TRANSFER_IMPORTED;
        } else {
            t->flags &= (uint16_t)~COR_TRANSFER_IMPORTED;
            t->timestamp = 0;
        }
        switch (rng_below(&g->r, 14)) {
        case 0:
            t->flags ^= COR_TRANSFER_PENDING;
            break;
        case 1:
            t->pending_id += 1;
            break;
        case 2:
            t->timeout += 1;
            break;
        case 3:
            t->debit_account_id = rng_chance(&g->r, 50) ? 0 : t->debit_account_id + 1;
            break;
        case 4:
            t->credit_account_id = rng_chance(&g->r, 50) ? 0 : t->credit_account_id + 1;
            break;
        case 5:
            t->amount =
                rng_chance(&g->r, 30) ? COR_AMOUNT_MAX : t->amount + 1 - 2 * rng_below(&g->r, 2);
            break;
        case 6:
            t->user_data_128 = rng_below(&g->r, 3);
            break;
        case 7:
            t->user_data_64 = rng_below(&g->r, 3);
            break;
        case 8:
            t->user_data_32 = (uint32_t)rng_below(&g->r, 3);
            break;
        case 9:
            t->ledger = rng_chance(&g->r, 50) ? 0 : t->ledger + 1;
            break;
        case 10:
            t->code = rng_chance(&g->r, 50) ? 0 : (uint16_t)(t->code + 1);
            break;
        default:
            break;
        }
        return;
    }
    if (kind < 13 && m->failed_count > 0) { /* a new event reusing a failed id */
        t->id = m->failed[rng_below(&g->r, m->failed_count)];
    } else if (kind < 14) {
        t->id = rng_chance(&g->r, 50) ? 0 : COR_U128_MAX;
    } else {
        t->id = ++g->next_transfer_id;
    }
    if (imported) t->flags |= COR_TRANSFER_IMPORTED;
    t->user_data_128 = rng_below(&g->r, 3);
    t->user_data_64 = rng_below(&g->r, 3);
    t->user_data_32 = (uint32_t)rng_below(&g->r, 3);
    uint64_t shape = rng_below(&g->r, 100);
    if (shape < 30) { /* post or void */
        const m_transfer *p = NULL;
        t->pending_id = gen_pending_id(g, m, &p);
        bool post = rng_chance(&g->r, 60);
        t->flags |= post ? COR_TRANSFER_POST_PENDING_TRANSFER : COR_TRANSFER_VOID_PENDING_TRANSFER;
        cor_u128 pending_amount = p ? p->record.amount : 10;
        uint64_t roll = rng_below(&g->r, 100);
        if (post) {
            if (roll < 40)
                t->amount = COR_AMOUNT_MAX;
            else if (roll < 60)
                t->amount = pending_amount;
            else if (roll < 90)
                t->amount =
                    pending_amount
                        ? (cor_u128)rng_below(
                              &g->r, (uint64_t)(pending_amount > 1000 ? 1000 : pending_amount))
                        : 0;
            else
                t->amount = pending_amount + 1;
        } else {
            if (roll < 60)
                t->amount = 0;
            else if (roll < 90)
                t->amount = pending_amount;
            else
                t->amount = pending_amount + 1;
        }
        if (p != NULL && rng_chance(&g->r, 30)) {
            t->debit_account_id =
                rng_chance(&g->r, 85) ? p->record.debit_account_id : p->record.debit_account_id + 1;
        }
        if (p != NULL && rng_chance(&g->r, 30)) {
            t->credit_account_id = rng_chance(&g->r, 85) ? p->record.credit_account_id
                                                         : p->record.credit_account_id + 1;
        }
        if (p != NULL && rng_chance(&g->r, 20))
            t->ledger = rng_chance(&g->r, 85) ? p->record.ledger : p->record.ledger + 1;
        if (p != NULL && rng_chance(&g->r, 20))
            t->code = rng_chance(&g->r, 85) ? p->record.code : (uint16_t)(p->record.code + 1);
        if (rng_chance(&g->r, 3)) t->timeout = 1;
        if (rng_chance(&g->r, 2)) t->flags |= COR_TRANSFER_PENDING;
        if (rng_chance(&g->r, 2)) t->flags |= COR_TRANSFER_BALANCING_DEBIT;
        if (rng_chance(&g->r, 1))
            t->flags |= COR_TRANSFER_POST_PENDING_TRANSFER | COR_TRANSFER_VOID_PENDING_TRANSFER;
        if (rng_chance(&g->r, 2)) t->pending_id = t->id;
    } else {
        t->debit_account_id = gen_account_id(g);
        t->credit_account_id = gen_account_id(g);
        if (rng_chance(&g->r, 85) && t->debit_account_id != 0 &&
            t->debit_account_id <= MODEL_ACCOUNT_IDS) {
            /* Mostly an account on the same ledger (ids congruent modulo 3). */
            uint64_t step = 3 * (1 + rng_below(&g->r, MODEL_ACCOUNT_IDS / 3 - 1));
            t->credit_account_id =
                (t->debit_account_id - 1 + step) % (MODEL_ACCOUNT_IDS - MODEL_ACCOUNT_IDS % 3) + 1;
        }
        if (t->credit_account_id == t->debit_account_id && rng_chance(&g->r, 80)) {
            t->credit_account_id = t->debit_account_id % MODEL_ACCOUNT_IDS + 1;
        }
        const cor_account *dr = m_account(m, t->debit_account_id);
        t->ledger = dr && rng_chance(&g->r, 70) ? dr->ledger : scheme_ledger(t->debit_account_id);
        if (rng_chance(&g->r, 2)) t->ledger = 0;
        t->code = gen_code(g);
        t->amount = gen_amount(g);
        if (t->amount == COR_AMOUNT_MAX && rng_chance(&g->r, 50))
            t->amount = 1 + rng_below(&g->r, 100);
        if (shape < 62) {
            t->flags |= COR_TRANSFER_PENDING;
            if (!imported || rng_chance(&g->r, 5)) {
                t->timeout = rng_chance(&g->r, 50) ? 0 : (uint32_t)(1 + rng_below(&g->r, 4));
            }
            if (rng_chance(&g->r, 3)) t->flags |= COR_TRANSFER_CLOSING_DEBIT;
            if (rng_chance(&g->r, 3)) t->flags |= COR_TRANSFER_CLOSING_CREDIT;
        } else if (rng_chance(&g->r, 2)) {
            t->timeout = 3;
        } else if (rng_chance(&g->r, 2)) {
            t->flags |= COR_TRANSFER_CLOSING_DEBIT;
        }
        if (rng_chance(&g->r, 12)) t->flags |= COR_TRANSFER_BALANCING_DEBIT;
        if (rng_chance(&g->r, 10)) t->flags |= COR_TRANSFER_BALANCING_CREDIT;
        if (rng_chance(&g->r, 1)) t->pending_id = 7;
    }
    if (rng_chance(&g->r, 1)) t->flags |= 1u << 10; /* reserved */
    if (!imported && rng_chance(&g->r, 1)) t->timestamp = 9;
    gen_remember_transfer(g, t);
}

/* ---------------------------------------------------------------------------------------- */
/* Driver                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Results seen per status (accounts, transfers), printed with COR_MODEL_STATS=1. */
static uint64_t g_seen[2][128];

static void compare_results(const cor_create_result *got, const cor_create_result *want,
                            uint32_t count, bool transfers)
{
    for (uint32_t i = 0; i < count; i++) {
        g_seen[transfers][want[i].status & 127u]++;
        if (got[i].status != want[i].status || got[i].timestamp != want[i].timestamp) {
            const char *(*name)(uint32_t) =
                transfers ? cor_create_transfer_status_name : cor_create_account_status_name;
            MODEL_FAIL("%s event %u of %u: %s ts %llu, model %s ts %llu",
                       transfers ? "transfer" : "account", i, count, name(got[i].status),
                       (unsigned long long)got[i].timestamp, name(want[i].status),
                       (unsigned long long)want[i].timestamp);
        }
    }
}

/* Gives imported events increasing timestamps after everything stored, with rare faults. */
static uint64_t gen_imported_timestamps(gen *g, model *m, void *events, uint32_t count,
                                        bool transfers)
{
    uint64_t ts = m->obj_last;
    for (uint32_t i = 0; i < count; i++) {
        ts += 1 + rng_below(&g->r, 3);
        uint64_t value = ts;
        switch (rng_below(&g->r, 40)) {
        case 0:
            value = 0;
            break;
        case 1:
            value = IMPORTED_TS_LIMIT;
            break;
        case 2:
            value = m->obj_last;
            break; /* regresses */
        case 3:
            value = m->now + 100000;
            break; /* advances past the batch */
        case 4:
            value = ts > 2 ? ts - 2 : ts;
            break;
        default:
            break;
        }
        if (transfers) {
            ((cor_transfer *)events)[i].timestamp = value;
        } else {
            ((cor_account *)events)[i].timestamp = value;
        }
    }
    return m->now + 1 + 4ull * count + rng_below(&g->r, 1000); /* the batch timestamp */
}

static void model_run_seed(uint64_t seed, uint32_t batches)
{
    static model m;
    static cor_account accounts[MODEL_EVENTS_MAX];
    static cor_transfer transfers[MODEL_EVENTS_MAX];
    static cor_create_result got[MODEL_EVENTS_MAX], want[MODEL_EVENTS_MAX];
    gen g;
    memset(&m, 0, sizeof(m));
    memset(&g, 0, sizeof(g));
    g.r.state = seed * 0x2545f4914f6cdd1dull + 1;
    g.next_transfer_id = 1000;
    g_seed = seed;
    g_batch = 0;

    /* Capacity profile: some seeds are small enough to run out of everything. */
    bool small = rng_chance(&g.r, 30);
    m.accounts_max = small ? 6 + (uint32_t)rng_below(&g.r, 12) : MODEL_ACCOUNTS_CAP;
    m.transfers_max = small ? 40 + (uint32_t)rng_below(&g.r, 200) : MODEL_TRANSFERS_CAP;
    m.pending_max = small ? 2 + (uint32_t)rng_below(&g.r, 8) : 20 + (uint32_t)rng_below(&g.r, 60);
    uint32_t failed_option = rng_chance(&g.r, 70) ? 0 : 3 + (uint32_t)rng_below(&g.r, 60);
    m.failed_max = failed_option ? failed_option : m.transfers_max;
    cor_ledger_options options = {
        .accounts_max = m.accounts_max,
        .transfers_max = m.transfers_max,
        .pending_transfers_max = m.pending_max,
        .failed_ids_max = failed_option,
        .hash_seed = rng_next(&g.r),
    };
    cor_ledger *ledger = NULL;
    cr_assert_eq(cor_ledger_open(&options, &ledger), COR_OK);
    uint64_t clock = 1000;

    for (uint32_t b = 0; b < batches; b++) {
        g_batch = b;
        uint64_t op = b < 3 ? 0 : rng_below(&g.r, 100);
        uint64_t roll = rng_below(&g.r, 10);
        clock += roll < 3 ? 0 : roll < 8 ? rng_below(&g.r, NS) : rng_below(&g.r, 3 * NS);
        if (op < 10 || op >= 94) { /* accounts (imported when op >= 97) */
            bool imported = op >= 97;
            uint32_t count =
                1 + (uint32_t)rng_below(&g.r, rng_chance(&g.r, 10) ? MODEL_EVENTS_MAX : 8);
            for (uint32_t i = 0; i < count; i++) {
                gen_account(&g, &m, &accounts[i]);
                if (rng_chance(&g.r, 15)) accounts[i].flags |= COR_ACCOUNT_LINKED;
                if (imported != rng_chance(&g.r, 3))
                    accounts[i].flags |= COR_ACCOUNT_IMPORTED;
                else
                    accounts[i].flags &= (uint16_t)~COR_ACCOUNT_IMPORTED;
            }
            uint64_t ts =
                imported ? gen_imported_timestamps(&g, &m, accounts, count, false) : clock;
            cr_assert_eq(cor_ledger_create_accounts(ledger, ts, accounts, count, got), COR_OK);
            m_batch(&m, false, accounts, count, ts, want);
            compare_results(got, want, count, false);
        } else if (op < 84) { /* transfers (imported when op >= 80) */
            bool imported = op >= 80;
            uint32_t count =
                1 + (uint32_t)rng_below(&g.r, rng_chance(&g.r, 10) ? MODEL_EVENTS_MAX : 12);
            /* Some batches are long chains: many inserts to roll back at once. */
            unsigned linked_percent = rng_chance(&g.r, 8) ? 95 : 10;
            for (uint32_t i = 0; i < count; i++) {
                bool mismatch = rng_chance(&g.r, 2);
                g.batch = transfers;
                g.batch_count = i;
                gen_transfer(&g, &m, &transfers[i], imported != mismatch);
                if (rng_chance(&g.r, linked_percent)) transfers[i].flags |= COR_TRANSFER_LINKED;
            }
            uint64_t ts =
                imported ? gen_imported_timestamps(&g, &m, transfers, count, true) : clock;
            if (!imported && rng_chance(&g.r, 10)) ts = 0; /* behind the ledger: base = last + 1 */
            uint64_t next_at = 0;
            if (!imported && m_next_expiry(&m, &next_at) && next_at > m.now + 2 &&
                rng_chance(&g.r, 15)) {
                ts = next_at - rng_below(&g.r, 3); /* events at and around an expiry instant */
            }
            cr_assert_eq(cor_ledger_create_transfers(ledger, ts, transfers, count, got), COR_OK);
            m_batch(&m, true, transfers, count, ts, want);
            compare_results(got, want, count, true);
        } else { /* expiry */
            uint64_t at = rng_chance(&g.r, 80) ? clock : m.now / 2;
            uint64_t next_at = 0;
            if (m_next_expiry(&m, &next_at) && rng_chance(&g.r, 40)) {
                at = next_at - rng_below(&g.r, 2); /* exactly at (or just before) an expiry */
            }
            uint32_t limit = 1 + (uint32_t)rng_below(&g.r, 4);
            uint32_t expired = cor_ledger_expire_pending(ledger, at, limit);
            uint32_t model_expired = m_expire(&m, at, limit);
            if (expired != model_expired)
                MODEL_FAIL("expired %u, model %u", expired, model_expired);
        }
        if (m.now > clock) clock = m.now;
        compare_state(ledger, &m, &g.r, b + 1 == batches || b % 97 == 0);
        compare_account_query(ledger, &m, &g.r);
        compare_queries(ledger, &m, &g.r);
        if (rng_chance(&g.r, 1)) { /* go on from a snapshot, under another hash seed */
            lt_buffer bytes;
            lt_serialize(ledger, &bytes);
            options.hash_seed = rng_next(&g.r);
            cor_ledger *copy = NULL;
            cor_error rc = cor_ledger_deserialize(&options, lt_buffer_read, &bytes, &copy);
            lt_buffer_free(&bytes);
            if (rc != COR_OK) MODEL_FAIL("deserialize: %s", cor_error_name(rc));
            cor_ledger_close(ledger);
            ledger = copy;
            compare_state(ledger, &m, &g.r, true);
        }
    }
    cor_ledger_close(ledger);
}

static uint64_t env_u64(const char *name, uint64_t fallback)
{
    const char *text = getenv(name);
    if (text == NULL || *text == '\0') return fallback;
    return strtoull(text, NULL, 10);
}

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>

/* AddressSanitizer reports end the process without a signal: say which seed it was.
 * (UBSan's reports do not call this; the failing test's name gives its seed range.) */
static void model_sanitizer_death(void)
{
    model_crash_handler(0);
}
#endif

static void model_install_crash_handler(void)
{
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_set_death_callback(model_sanitizer_death);
#endif
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = model_crash_handler;
    sigemptyset(&action.sa_mask);
    sigaction(SIGABRT, &action, &g_previous_abort);
    sigaction(SIGSEGV, &action, &g_previous_segv);
}

static void model_print_stats(void)
{
    if (getenv("COR_MODEL_STATS") == NULL) return;
    for (int kind = 0; kind < 2; kind++) {
        for (uint32_t s = 0; s < 128; s++) {
            if (g_seen[kind][s] == 0) continue;
            const char *name =
                kind ? cor_create_transfer_status_name(s) : cor_create_account_status_name(s);
            fprintf(stderr, "%s %s %llu\n", kind ? "transfer" : "account", name,
                    (unsigned long long)g_seen[kind][s]);
        }
    }
}

static void model_run_seeds(uint64_t first)
{
    if (getenv("COR_SEED") != NULL) cr_skip_test("COR_SEED set: only ledger_model/rerun runs");
    model_install_crash_handler();
    uint32_t batches = (uint32_t)env_u64("COR_MODEL_BATCHES", MODEL_BATCHES_DEFAULT);
    for (uint64_t seed = first; seed < first + MODEL_SEEDS_PER_TEST; seed++) {
        model_run_seed(seed, batches);
    }
    model_print_stats();
}

Test(ledger_model, seeds_1_to_8)
{
    model_run_seeds(1);
}
Test(ledger_model, seeds_9_to_16)
{
    model_run_seeds(9);
}
Test(ledger_model, seeds_17_to_24)
{
    model_run_seeds(17);
}
Test(ledger_model, seeds_25_to_32)
{
    model_run_seeds(25);
}

Test(ledger_model, rerun)
{
    if (getenv("COR_SEED") == NULL) cr_skip_test("set COR_SEED=<n> to rerun one seed");
    model_install_crash_handler();
    uint32_t batches = (uint32_t)env_u64("COR_MODEL_BATCHES", MODEL_BATCHES_DEFAULT);
    model_run_seed(env_u64("COR_SEED", 1), batches);
}
