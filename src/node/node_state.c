/*
 * The node's deterministic core (see node_state.h): participants, API key hashes, payments
 * and the ledger, changed only by cor_node_state_apply.
 *
 * Workload: batches of up to 8,189 payments from the core thread; everything else (admin
 * commands) is rare. Payments are kept in a fixed array indexed by number and found by
 * (debtor, payment id) through an open-addressing index keyed with SipHash and a per-process
 * seed, so crafted ids cannot degrade it; the index is not part of the state (serialize
 * writes records, deserialize rebuilds the index).
 *
 * Invariants: participant ids are 1..participants_count, key ids 1..keys_count and payment
 * numbers 1..payments_count, all dense and never reused; every participant has a settlement
 * account in the ledger; a payment is accepted exactly when its ledger transfer exists.
 */
#include "node/node_state.h"
#include "node/node_state_internal.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"

/* ---------------------------------------------------------------------------------------- */
/* Codes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static const char *const node_code_names[] = {
#define COR_NODE_CODE_NAME(name, text, http) text,
    COR_NODE_CODE_LIST(COR_NODE_CODE_NAME)
#undef COR_NODE_CODE_NAME
};

static const unsigned node_code_https[] = {
#define COR_NODE_CODE_HTTP(name, text, http) http,
    COR_NODE_CODE_LIST(COR_NODE_CODE_HTTP)
#undef COR_NODE_CODE_HTTP
};

const char *cor_node_code_name(uint32_t code)
{
    return code < COR_NODE_CODE_COUNT ? node_code_names[code] : "unknown";
}

unsigned cor_node_code_http(uint32_t code)
{
    return code < COR_NODE_CODE_COUNT ? node_code_https[code] : 500u;
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

static size_t state_slots_count(uint32_t payments_max)
{
    size_t count = 1024;
    while (count < 2u * (size_t)payments_max)
        count *= 2;
    return count;
}

static void state_free_tables(cor_node_state *state)
{
    const cor_node_state_options *o = &state->options;
    cor_free_large(state->participants, COR_NODE_PARTICIPANTS_MAX * sizeof(cor_node_participant));
    cor_free_large(state->keys, COR_NODE_KEYS_MAX * sizeof(cor_node_key));
    if (state->payments) {
        cor_free_large(state->payments, (size_t)o->payments_max * sizeof(cor_node_payment));
    }
    if (state->payment_slots) {
        cor_free_large(state->payment_slots, state_slots_count(o->payments_max) * sizeof(uint32_t));
    }
    cor_free(state->scratch_results);
    cor_free(state->ledger_results);
    cor_free(state->scratch_events);
    cor__node_xb_close(state);
}

void cor_node_state_close(cor_node_state *state)
{
    if (state == NULL) return;
    cor_ledger_close(state->ledger);
    state_free_tables(state);
    cor_free(state);
}

static bool state_options_valid(const cor_node_state_options *o)
{
    if (o->ledger == 0 || o->node_id == 0) return false;
    if (o->xb_payments_max == 0 || o->xb_payments_max > (1u << 26)) return false;
    if (o->xb_quotes_max == 0 || o->xb_quotes_max > (1u << 26)) return false;
    if (o->payments_max == 0 || o->payments_max > COR_NODE_PAYMENTS_MAX_LIMIT) return false;
    if (o->ledger_accounts_max == 0 || o->ledger_accounts_max > (1u << 26)) return false;
    if (o->ledger_transfers_max == 0 || o->ledger_transfers_max > (1u << 28)) return false;
    return true;
}

static cor_ledger_options state_ledger_options(const cor_node_state_options *o)
{
    /* A cross-border payment makes at most two transfers here (leg 1 pending + its post or
     * void at the origin; leg 2 at the beneficiary). */
    uint64_t transfers = (uint64_t)o->ledger_transfers_max + o->payments_max + STATE_FUNDINGS_MAX +
                         2ull * o->xb_payments_max;
    COR_ASSERT(transfers <= UINT32_MAX);
    return (cor_ledger_options){
        .accounts_max = o->ledger_accounts_max + COR_NODE_PARTICIPANTS_MAX + 1u,
        .transfers_max = (uint32_t)transfers,
        .pending_transfers_max = o->ledger_transfers_max + o->xb_payments_max,
        .failed_ids_max = o->ledger_transfers_max,
        .hash_seed = o->hash_seed,
        .prefault = o->prefault,
    };
}

static cor_error state_alloc(const cor_node_state_options *options, cor_node_state **out)
{
    cor_node_state *state = cor_calloc(1, sizeof(*state));
    if (state == NULL) return COR_ERR_NOMEM;
    state->options = *options;
    state->participants = cor_alloc_large(COR_NODE_PARTICIPANTS_MAX * sizeof(cor_node_participant));
    state->keys = cor_alloc_large(COR_NODE_KEYS_MAX * sizeof(cor_node_key));
    state->payments = cor_alloc_large((size_t)options->payments_max * sizeof(cor_node_payment));
    size_t slots = state_slots_count(options->payments_max);
    state->payment_slots = cor_alloc_large(slots * sizeof(uint32_t));
    state->payment_slots_mask = slots - 1;
    state->scratch_results = cor_calloc(COR_NODE_BATCH_EVENTS_MAX, sizeof(cor_node_result));
    state->ledger_results = cor_calloc(COR_NODE_BATCH_EVENTS_MAX, sizeof(cor_create_result));
    state->scratch_events = cor_calloc(COR_NODE_BATCH_EVENTS_MAX, sizeof(cor_transfer));
    for (size_t i = 0; i < sizeof(state->index_key); i++) {
        state->index_key[i] = (uint8_t)(options->hash_seed >> ((i % 8) * 8)) ^ (uint8_t)i;
    }
    if (!state->participants || !state->keys || !state->payments || !state->payment_slots ||
        !state->scratch_results || !state->ledger_results || !state->scratch_events) {
        state_free_tables(state);
        cor_free(state);
        return COR_ERR_NOMEM;
    }
    if (options->prefault) {
        cor_prefault(state->payments, (size_t)options->payments_max * sizeof(cor_node_payment));
        cor_prefault(state->payment_slots, slots * sizeof(uint32_t));
    }
    *out = state;
    return COR_OK;
}

/* Fills the corridor capacities left 0 with their defaults. */
static cor_node_state_options state_options_complete(const cor_node_state_options *options)
{
    cor_node_state_options o = *options;
    if (o.node_id == 0) o.node_id = o.ledger; /* the currency's numeric code */
    if (o.xb_payments_max == 0) o.xb_payments_max = o.payments_max;
    if (o.xb_quotes_max == 0) o.xb_quotes_max = COR_NODE_XB_QUOTES_MAX_DEFAULT;
    return o;
}

cor_error cor_node_state_open(const cor_node_state_options *options_in, cor_node_state **out)
{
    COR_ASSERT(options_in != NULL && out != NULL);
    *out = NULL;
    cor_node_state_options complete = state_options_complete(options_in);
    const cor_node_state_options *options = &complete;
    if (!state_options_valid(options)) return COR_ERR_INVALID;
    if (sodium_init() < 0) return COR_ERR_NOMEM;

    cor_node_state *state = NULL;
    cor_error rc = state_alloc(options, &state);
    if (rc != COR_OK) return rc;
    cor_ledger_options ledger_options = state_ledger_options(options);
    rc = cor_ledger_open(&ledger_options, &state->ledger);
    if (rc != COR_OK) goto fail;

    /* The issuance account: central-bank money enters and leaves through it. Created at a
     * fixed time so that every node's state starts identical. */
    cor_account issuance = {.id = COR_NODE_ISSUANCE_ID,
                            .ledger = options->ledger,
                            .code = COR_NODE_ACCOUNT_CODE_ISSUANCE};
    cor_create_result result;
    rc = cor_ledger_create_accounts(state->ledger, 1, &issuance, 1, &result);
    if (rc != COR_OK) goto fail;
    COR_ASSERT(result.status == COR_ACCOUNT_CREATED);
    rc = cor__node_xb_open(state);
    if (rc != COR_OK) goto fail;
    *out = state;
    return COR_OK;

fail:
    cor_node_state_close(state);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Payment index                                                                            */
/* ---------------------------------------------------------------------------------------- */

static uint64_t state_payment_hash(const cor_node_state *state, uint32_t debtor, cor_u128 id)
{
    uint8_t key[20];
    memcpy(key, &id, 16);
    memcpy(key + 16, &debtor, 4);
    uint8_t hash[crypto_shorthash_BYTES];
    crypto_shorthash(hash, key, sizeof(key), state->index_key);
    uint64_t value;
    memcpy(&value, hash, sizeof(value));
    return value;
}

/* Returns the slot holding (debtor, id) or the empty slot where it would go. */
static uint64_t state_payment_slot(const cor_node_state *state, uint32_t debtor, cor_u128 id)
{
    uint64_t slot = state_payment_hash(state, debtor, id) & state->payment_slots_mask;
    /* The table is at most half full, so the probe ends within its size. */
    for (uint64_t probe = 0; probe <= state->payment_slots_mask; probe++) {
        uint32_t number = state->payment_slots[slot];
        if (number == 0) return slot;
        const cor_node_payment *payment = &state->payments[number - 1];
        if (payment->debtor == debtor && payment->in.payment_id == id) return slot;
        slot = (slot + 1) & state->payment_slots_mask;
    }
    COR_UNREACHABLE();
}

const cor_node_payment *cor_node_state_payment(const cor_node_state *state, uint32_t debtor,
                                               cor_u128 payment_id)
{
    uint32_t number = state->payment_slots[state_payment_slot(state, debtor, payment_id)];
    return number == 0 ? NULL : &state->payments[number - 1];
}

const cor_node_payment *cor_node_state_payment_number(const cor_node_state *state, uint64_t number)
{
    if (number == 0 || number > state->payments_count) return NULL;
    return &state->payments[number - 1];
}

uint64_t cor_node_state_payments_count(const cor_node_state *state)
{
    return state->payments_count;
}

/* ---------------------------------------------------------------------------------------- */
/* Payload framing                                                                          */
/* ---------------------------------------------------------------------------------------- */

static size_t pad16(size_t size)
{
    return (size + 15u) & ~(size_t)15u;
}

size_t cor_node_payment_encode(const cor_node_payment_in *payment, uint8_t *out)
{
    COR_ASSERT(payment->e2e_length <= COR_NODE_E2E_LENGTH_MAX);
    COR_ASSERT(payment->remittance_length <= COR_NODE_REMITTANCE_LENGTH_MAX);
    memcpy(out, &payment->payment_id, 16);
    memcpy(out + 16, &payment->amount, 16);
    memcpy(out + 32, &payment->creditor, 4);
    out[36] = payment->has_uetr;
    out[37] = payment->e2e_length;
    out[38] = payment->remittance_length;
    out[39] = 0;
    memcpy(out + 40, payment->uetr, 16);
    size_t size = COR_NODE_PAYMENT_PREFIX_SIZE_BYTES;
    memcpy(out + size, payment->e2e, payment->e2e_length);
    size += payment->e2e_length;
    memcpy(out + size, payment->remittance, payment->remittance_length);
    size += payment->remittance_length;
    while (size % 8u != 0)
        out[size++] = 0;
    return size;
}

/* Decodes one payment at bytes (available bytes left); returns its size or 0 if invalid. */
static size_t state_payment_decode(const uint8_t *bytes, size_t available, cor_node_payment_in *out)
{
    if (available < COR_NODE_PAYMENT_PREFIX_SIZE_BYTES) return 0;
    memset(out, 0, sizeof(*out));
    memcpy(&out->payment_id, bytes, 16);
    memcpy(&out->amount, bytes + 16, 16);
    memcpy(&out->creditor, bytes + 32, 4);
    out->has_uetr = bytes[36];
    out->e2e_length = bytes[37];
    out->remittance_length = bytes[38];
    if (bytes[39] != 0 || out->has_uetr > 1) return 0;
    if (out->e2e_length > COR_NODE_E2E_LENGTH_MAX) return 0;
    if (out->remittance_length > COR_NODE_REMITTANCE_LENGTH_MAX) return 0;
    memcpy(out->uetr, bytes + 40, 16);
    size_t size = COR_NODE_PAYMENT_PREFIX_SIZE_BYTES + out->e2e_length + out->remittance_length;
    size = (size + 7u) & ~(size_t)7u;
    if (size > available) return 0;
    memcpy(out->e2e, bytes + COR_NODE_PAYMENT_PREFIX_SIZE_BYTES, out->e2e_length);
    memcpy(out->remittance, bytes + COR_NODE_PAYMENT_PREFIX_SIZE_BYTES + out->e2e_length,
           out->remittance_length);
    return size;
}

static bool state_payments_body_valid(const uint8_t *body, size_t size, uint32_t count)
{
    size_t offset = 0;
    for (uint32_t i = 0; i < count; i++) {
        cor_node_payment_in payment;
        size_t used = state_payment_decode(body + offset, size - offset, &payment);
        if (used == 0) return false;
        offset += used;
    }
    return offset == size;
}

static bool state_command_valid(const cor_node_command_header *h, const uint8_t *body)
{
    if (h->reserved != 0 || h->reserved2 != 0 || h->reserved3 != 0) return false;
    if (h->event_count == 0 || h->event_count > COR_NODE_BATCH_EVENTS_MAX) return false;
    size_t fixed = 0;
    switch (h->type) {
    case COR_NODE_CMD_PARTICIPANT_CREATE:
        fixed = sizeof(cor_node_cmd_participant_create);
        break;
    case COR_NODE_CMD_PARTICIPANT_STATUS:
        fixed = sizeof(cor_node_cmd_participant_status);
        break;
    case COR_NODE_CMD_DEBIT_CAP:
        fixed = sizeof(cor_node_cmd_debit_cap);
        break;
    case COR_NODE_CMD_KEY_ADD:
        fixed = sizeof(cor_node_cmd_key_add);
        break;
    case COR_NODE_CMD_KEY_REVOKE:
        fixed = sizeof(cor_node_cmd_key_revoke);
        break;
    case COR_NODE_CMD_FUNDING:
        fixed = sizeof(cor_node_cmd_funding);
        break;
    case COR_NODE_CMD_EXPIRE:
        return h->event_count == 1 && h->body_size_bytes == 0;
    case COR_NODE_CMD_LEDGER_ACCOUNTS:
    case COR_NODE_CMD_LEDGER_TRANSFERS:
        return h->body_size_bytes == (size_t)h->event_count * 128u;
    case COR_NODE_CMD_PAYMENTS:
        return state_payments_body_valid(body, h->body_size_bytes, h->event_count);
    default:
        return cor__node_xb_command_valid(h, body);
    }
    return h->event_count == 1 && h->body_size_bytes == fixed;
}

uint32_t cor_node_payload_events(const void *payload, size_t payload_size_bytes)
{
    const uint8_t *bytes = payload;
    size_t offset = 0;
    uint32_t events = 0;
    /* Each command takes at least one header, so the loop ends within size / 32 turns. */
    while (offset < payload_size_bytes) {
        cor_node_command_header h;
        if (payload_size_bytes - offset < sizeof(h)) return 0;
        memcpy(&h, bytes + offset, sizeof(h));
        offset += sizeof(h);
        if (h.body_size_bytes > payload_size_bytes - offset) return 0;
        if (pad16(h.body_size_bytes) > payload_size_bytes - offset) return 0;
        if (!state_command_valid(&h, bytes + offset)) return 0;
        offset += pad16(h.body_size_bytes);
        if (h.event_count > COR_NODE_BATCH_EVENTS_MAX - events) return 0;
        events += h.event_count;
    }
    return events;
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void results_fill(cor_node_result *results, uint32_t count, uint32_t code,
                         uint64_t timestamp)
{
    for (uint32_t i = 0; i < count; i++) {
        results[i] = (cor_node_result){.timestamp = timestamp, .code = code};
    }
}

static cor_node_participant *state_participant(cor_node_state *state, uint32_t id)
{
    if (id == 0 || id > state->participants_count) return NULL;
    return &state->participants[id - 1];
}

/* The caller's key is still valid for this command (keys may be revoked while a request
 * waits in the queue; the check here is the one that counts). */
static bool state_caller_valid(const cor_node_state *state, const cor_node_command_header *h,
                               bool operator_only)
{
    if (h->key_id == 0) return h->participant == 0; /* the operator's key */
    if (operator_only) return false;
    if (h->key_id > state->keys_count) return false;
    const cor_node_key *key = &state->keys[h->key_id - 1];
    if (key->revoked || key->kind != COR_NODE_KEY_PARTICIPANT) return false;
    return key->participant == h->participant;
}

static cor_u128 sat_add(cor_u128 a, cor_u128 b)
{
    return a > COR_U128_MAX - b ? COR_U128_MAX : a + b;
}

/* Whether account can be debited amount more without going below -cap. */
static bool state_can_debit(const cor_account *account, cor_u128 cap, cor_u128 amount)
{
    cor_u128 debits = sat_add(sat_add(account->debits_posted, account->debits_pending), amount);
    if (debits == COR_U128_MAX) return false;
    return debits <= sat_add(account->credits_posted, cap);
}

cor_node_participant *cor__node_state_participant(cor_node_state *state, uint32_t id)
{
    return state_participant(state, id);
}

bool cor__node_state_caller_valid(const cor_node_state *state, const cor_node_command_header *h,
                                  bool operator_only)
{
    return state_caller_valid(state, h, operator_only);
}

bool cor__node_state_can_debit(const cor_account *account, cor_u128 cap, cor_u128 amount)
{
    return state_can_debit(account, cap, amount);
}

size_t cor__node_state_slots_count(uint32_t entries_max)
{
    return state_slots_count(entries_max);
}

/* ---------------------------------------------------------------------------------------- */
/* Administrative commands                                                                  */
/* ---------------------------------------------------------------------------------------- */

static bool state_bic_taken(const cor_node_state *state, const char *bic, size_t length)
{
    for (uint32_t i = 0; i < state->participants_count; i++) {
        const cor_node_participant *p = &state->participants[i];
        if (p->bic_length == length && memcmp(p->bic, bic, length) == 0) return true;
    }
    return false;
}

static void apply_participant_create(cor_node_state *state, uint64_t timestamp,
                                     const cor_node_cmd_participant_create *cmd,
                                     cor_node_result *result)
{
    if (cmd->name_length == 0 || cmd->name_length > COR_NODE_NAME_LENGTH_MAX ||
        cmd->bic_length == 0 || cmd->bic_length > COR_NODE_BIC_LENGTH_MAX ||
        cmd->role < COR_NODE_ROLE_BANK || cmd->role > COR_NODE_ROLE_CENTRAL_BANK) {
        result->code = COR_NODE_LEDGER_REJECTED; /* never produced by our encoder */
        return;
    }
    if (state->participants_count == COR_NODE_PARTICIPANTS_MAX) {
        result->code = COR_NODE_PARTICIPANTS_FULL;
        return;
    }
    if (state_bic_taken(state, cmd->bic, cmd->bic_length)) {
        result->code = COR_NODE_BIC_EXISTS;
        return;
    }
    uint32_t id = state->participants_count + 1;
    cor_account account = {.id = cor_node_settlement_id(id),
                           .ledger = state->options.ledger,
                           .code = COR_NODE_ACCOUNT_CODE_SETTLEMENT,
                           .user_data_32 = id};
    cor_create_result created;
    cor_error rc = cor_ledger_create_accounts(state->ledger, timestamp, &account, 1, &created);
    COR_ASSERT(rc == COR_OK);
    if (created.status != COR_ACCOUNT_CREATED) {
        result->code = COR_NODE_LEDGER_REJECTED;
        result->ledger = created.status;
        return;
    }
    cor_node_participant *p = &state->participants[id - 1];
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->role = cmd->role;
    p->status = COR_NODE_PARTICIPANT_ACTIVE;
    p->debit_cap = cmd->debit_cap;
    p->created_timestamp = created.timestamp;
    p->name_length = cmd->name_length;
    p->bic_length = cmd->bic_length;
    memcpy(p->name, cmd->name, cmd->name_length);
    memcpy(p->bic, cmd->bic, cmd->bic_length);
    state->participants_count = id;
    *result =
        (cor_node_result){.timestamp = created.timestamp, .value = id, .code = COR_NODE_CREATED};
}

static void apply_key_add(cor_node_state *state, uint64_t timestamp,
                          const cor_node_cmd_key_add *cmd, cor_node_result *result)
{
    bool participant_key = cmd->kind == COR_NODE_KEY_PARTICIPANT;
    if ((participant_key && state_participant(state, cmd->participant) == NULL) ||
        (!participant_key && (cmd->kind != COR_NODE_KEY_AUDITOR || cmd->participant != 0))) {
        result->code = COR_NODE_PARTICIPANT_NOT_FOUND;
        return;
    }
    if (state->keys_count == COR_NODE_KEYS_MAX) {
        result->code = COR_NODE_KEYS_FULL;
        return;
    }
    cor_node_key *key = &state->keys[state->keys_count];
    memset(key, 0, sizeof(*key));
    memcpy(key->hash, cmd->hash, sizeof(key->hash));
    key->kind = (uint8_t)cmd->kind;
    key->participant = cmd->participant;
    key->created_timestamp = timestamp;
    state->keys_count++;
    *result = (cor_node_result){
        .timestamp = timestamp, .value = state->keys_count, .code = COR_NODE_CREATED};
}

static void apply_key_revoke(cor_node_state *state, const cor_node_cmd_key_revoke *cmd,
                             cor_node_result *result)
{
    if (cmd->key_id == 0 || cmd->key_id > state->keys_count) {
        result->code = COR_NODE_KEY_NOT_FOUND;
        return;
    }
    cor_node_key *key = &state->keys[cmd->key_id - 1];
    if (key->participant != cmd->participant) {
        result->code = COR_NODE_KEY_NOT_FOUND;
        return;
    }
    key->revoked = 1;
    result->code = COR_NODE_OK;
    result->value = cmd->key_id;
}

static void apply_funding(cor_node_state *state, uint64_t timestamp,
                          const cor_node_cmd_funding *cmd, cor_node_result *result)
{
    const cor_node_participant *p = state_participant(state, cmd->participant);
    if (p == NULL) {
        result->code = COR_NODE_PARTICIPANT_NOT_FOUND;
        return;
    }
    bool credit = cmd->direction == COR_NODE_FUNDING_CREDIT;
    cor_u128 account_id = cor_node_settlement_id(p->id);
    cor_transfer transfer = {
        .id = cor_node_transfer_id(COR_NODE_KIND_FUNDING, cmd->funding_id),
        .debit_account_id = credit ? COR_NODE_ISSUANCE_ID : account_id,
        .credit_account_id = credit ? account_id : COR_NODE_ISSUANCE_ID,
        .amount = cmd->amount,
        .ledger = state->options.ledger,
        .code = COR_NODE_TRANSFER_CODE_FUNDING,
        .user_data_32 = p->id,
    };
    cor_transfer existing;
    bool exists = cor_ledger_lookup_transfer(state->ledger, transfer.id, &existing);
    if (!exists) {
        cor_account account;
        bool found = cor_ledger_lookup_account(state->ledger, account_id, &account);
        COR_ASSERT(found);
        if (cmd->funding_id == 0 || cmd->amount == 0 ||
            (cmd->direction != COR_NODE_FUNDING_CREDIT &&
             cmd->direction != COR_NODE_FUNDING_DEBIT)) {
            result->code = COR_NODE_LEDGER_REJECTED; /* never produced by our encoder */
            return;
        }
        if (!credit && !state_can_debit(&account, 0, cmd->amount)) {
            result->code = COR_NODE_INSUFFICIENT_FUNDS;
            return;
        }
        if (state->fundings_count == STATE_FUNDINGS_MAX) {
            result->code = COR_NODE_CAPACITY_FULL;
            return;
        }
    }
    cor_create_result created;
    cor_error rc = cor_ledger_create_transfers(state->ledger, timestamp, &transfer, 1, &created);
    COR_ASSERT(rc == COR_OK);
    result->timestamp = created.timestamp;
    result->ledger = created.status;
    if (created.status == COR_TRANSFER_CREATED) {
        state->fundings_count++;
        if (credit) {
            state->totals.issued = sat_add(state->totals.issued, cmd->amount);
        } else {
            state->totals.issued -= cmd->amount <= state->totals.issued ? cmd->amount : 0;
        }
        result->code = COR_NODE_CREATED;
    } else if (created.status == COR_TRANSFER_EXISTS) {
        result->code = COR_NODE_EXISTS;
    } else if (exists) {
        result->code = COR_NODE_FUNDING_CONFLICT;
    } else {
        result->code = COR_NODE_LEDGER_REJECTED;
    }
}

static void apply_admin(cor_node_state *state, uint64_t timestamp, const cor_node_command_header *h,
                        const uint8_t *body, cor_node_result *result)
{
    *result = (cor_node_result){.timestamp = timestamp};
    if (!state_caller_valid(state, h, true)) {
        result->code = COR_NODE_KEY_REVOKED;
        return;
    }
    switch (h->type) {
    case COR_NODE_CMD_PARTICIPANT_CREATE: {
        cor_node_cmd_participant_create cmd;
        memcpy(&cmd, body, sizeof(cmd));
        apply_participant_create(state, timestamp, &cmd, result);
        return;
    }
    case COR_NODE_CMD_PARTICIPANT_STATUS: {
        cor_node_cmd_participant_status cmd;
        memcpy(&cmd, body, sizeof(cmd));
        cor_node_participant *p = state_participant(state, cmd.participant);
        bool known = cmd.status == COR_NODE_PARTICIPANT_ACTIVE ||
                     cmd.status == COR_NODE_PARTICIPANT_SUSPENDED;
        if (p == NULL || !known) {
            result->code = COR_NODE_PARTICIPANT_NOT_FOUND;
            return;
        }
        p->status = (uint8_t)cmd.status;
        result->code = COR_NODE_OK;
        result->value = p->id;
        return;
    }
    case COR_NODE_CMD_DEBIT_CAP: {
        cor_node_cmd_debit_cap cmd;
        memcpy(&cmd, body, sizeof(cmd));
        cor_node_participant *p = state_participant(state, cmd.participant);
        if (p == NULL) {
            result->code = COR_NODE_PARTICIPANT_NOT_FOUND;
            return;
        }
        p->debit_cap = cmd.debit_cap;
        result->code = COR_NODE_OK;
        result->value = p->id;
        return;
    }
    case COR_NODE_CMD_KEY_ADD: {
        cor_node_cmd_key_add cmd;
        memcpy(&cmd, body, sizeof(cmd));
        apply_key_add(state, timestamp, &cmd, result);
        return;
    }
    case COR_NODE_CMD_KEY_REVOKE: {
        cor_node_cmd_key_revoke cmd;
        memcpy(&cmd, body, sizeof(cmd));
        apply_key_revoke(state, &cmd, result);
        return;
    }
    case COR_NODE_CMD_FUNDING: {
        cor_node_cmd_funding cmd;
        memcpy(&cmd, body, sizeof(cmd));
        apply_funding(state, timestamp, &cmd, result);
        return;
    }
    default:
        COR_UNREACHABLE();
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Payments                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static bool payment_same(const cor_node_payment_in *a, const cor_node_payment_in *b)
{
    return a->payment_id == b->payment_id && a->amount == b->amount && a->creditor == b->creditor &&
           a->has_uetr == b->has_uetr && memcmp(a->uetr, b->uetr, 16) == 0 &&
           a->e2e_length == b->e2e_length && memcmp(a->e2e, b->e2e, a->e2e_length) == 0 &&
           a->remittance_length == b->remittance_length &&
           memcmp(a->remittance, b->remittance, a->remittance_length) == 0;
}

/* Decides a new payment: returns COR_NODE_CREATED after creating its transfer, or the
 * rejection. */
static uint32_t payment_decide(cor_node_state *state, uint64_t timestamp,
                               const cor_node_participant *debtor, const cor_node_payment_in *in,
                               uint64_t number, cor_create_result *created)
{
    const cor_node_participant *creditor = state_participant(state, in->creditor);
    if (creditor == NULL) return COR_NODE_CREDITOR_NOT_FOUND;
    if (creditor->id == debtor->id) return COR_NODE_CREDITOR_IS_DEBTOR;
    if (creditor->status != COR_NODE_PARTICIPANT_ACTIVE) return COR_NODE_CREDITOR_SUSPENDED;
    if (in->amount == 0 || in->payment_id == 0) return COR_NODE_LEDGER_REJECTED;
    cor_account account;
    bool found =
        cor_ledger_lookup_account(state->ledger, cor_node_settlement_id(debtor->id), &account);
    COR_ASSERT(found);
    if (!state_can_debit(&account, debtor->debit_cap, in->amount)) {
        return COR_NODE_INSUFFICIENT_FUNDS;
    }
    cor_transfer transfer = {
        .id = cor_node_transfer_id(COR_NODE_KIND_PAYMENT, number),
        .debit_account_id = account.id,
        .credit_account_id = cor_node_settlement_id(creditor->id),
        .amount = in->amount,
        .user_data_128 = in->payment_id,
        .user_data_64 = number,
        .user_data_32 = debtor->id,
        .ledger = state->options.ledger,
        .code = COR_NODE_TRANSFER_CODE_PAYMENT,
    };
    cor_error rc = cor_ledger_create_transfers(state->ledger, timestamp, &transfer, 1, created);
    COR_ASSERT(rc == COR_OK);
    return created->status == COR_TRANSFER_CREATED ? COR_NODE_CREATED : COR_NODE_LEDGER_REJECTED;
}

static void apply_payment(cor_node_state *state, uint64_t timestamp,
                          const cor_node_participant *debtor, const cor_node_payment_in *in,
                          cor_node_result *result)
{
    uint64_t slot = state_payment_slot(state, debtor->id, in->payment_id);
    uint32_t existing = state->payment_slots[slot];
    if (existing != 0) {
        const cor_node_payment *payment = &state->payments[existing - 1];
        bool same = payment_same(&payment->in, in);
        *result = (cor_node_result){.timestamp = payment->timestamp,
                                    .value = existing,
                                    .code = same ? COR_NODE_EXISTS : COR_NODE_PAYMENT_ID_REUSED};
        return;
    }
    if (state->payments_count == state->options.payments_max) {
        *result = (cor_node_result){.timestamp = timestamp, .code = COR_NODE_PAYMENTS_FULL};
        return;
    }
    uint64_t number = state->payments_count + 1;
    cor_create_result created = {0};
    uint32_t code = payment_decide(state, timestamp, debtor, in, number, &created);
    uint64_t at = created.timestamp != 0 ? created.timestamp : cor_ledger_timestamp(state->ledger);
    cor_node_payment *payment = &state->payments[number - 1];
    memcpy(&payment->in, in, sizeof(*in));
    payment->timestamp = at;
    payment->debtor = debtor->id;
    payment->code = code;
    payment->number = number;
    state->payments_count = number;
    state->payment_slots[slot] = (uint32_t)number;
    if (code == COR_NODE_CREATED) {
        state->totals.payments_accepted++;
        state->totals.payments_amount = sat_add(state->totals.payments_amount, in->amount);
    } else {
        state->totals.payments_rejected++;
    }
    *result =
        (cor_node_result){.timestamp = at, .value = number, .code = code, .ledger = created.status};
}

static void apply_payments(cor_node_state *state, uint64_t timestamp,
                           const cor_node_command_header *h, const uint8_t *body,
                           cor_node_result *results)
{
    const cor_node_participant *debtor = state_participant(state, h->participant);
    if (!state_caller_valid(state, h, false) || debtor == NULL) {
        results_fill(results, h->event_count, COR_NODE_KEY_REVOKED, timestamp);
        return;
    }
    if (debtor->status != COR_NODE_PARTICIPANT_ACTIVE) {
        results_fill(results, h->event_count, COR_NODE_DEBTOR_SUSPENDED, timestamp);
        return;
    }
    size_t offset = 0;
    for (uint32_t i = 0; i < h->event_count; i++) {
        cor_node_payment_in in;
        size_t used = state_payment_decode(body + offset, h->body_size_bytes - offset, &in);
        COR_ASSERT(used != 0); /* framing was validated before apply */
        offset += used;
        apply_payment(state, timestamp, debtor, &in, &results[i]);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Ledger commands of the operator                                                          */
/* ---------------------------------------------------------------------------------------- */

static bool ledger_events_reserved(const cor_node_command_header *h, const void *events)
{
    for (uint32_t i = 0; i < h->event_count; i++) {
        if (h->type == COR_NODE_CMD_LEDGER_ACCOUNTS) {
            const cor_account *a = (const cor_account *)events + i;
            if (a->id >= COR_NODE_ID_BASE) return true;
        } else {
            const cor_transfer *t = (const cor_transfer *)events + i;
            if (t->id >= COR_NODE_ID_BASE || t->debit_account_id >= COR_NODE_ID_BASE ||
                t->credit_account_id >= COR_NODE_ID_BASE || t->pending_id >= COR_NODE_ID_BASE) {
                return true;
            }
        }
    }
    return false;
}

static void apply_ledger(cor_node_state *state, uint64_t timestamp,
                         const cor_node_command_header *h, const uint8_t *body,
                         cor_node_result *results)
{
    uint32_t count = h->event_count;
    bool accounts = h->type == COR_NODE_CMD_LEDGER_ACCOUNTS;
    memcpy(state->scratch_events, body, (size_t)count * 128u);
    if (!state_caller_valid(state, h, true)) {
        results_fill(results, count, COR_NODE_KEY_REVOKED, timestamp);
        return;
    }
    if (ledger_events_reserved(h, state->scratch_events)) {
        results_fill(results, count, COR_NODE_RESERVED_ID, timestamp);
        return;
    }
    uint64_t used = accounts ? state->operator_accounts_count : state->operator_transfers_count;
    uint64_t max =
        accounts ? state->options.ledger_accounts_max : state->options.ledger_transfers_max;
    if (used + count > max) {
        results_fill(results, count, COR_NODE_CAPACITY_FULL, timestamp);
        return;
    }
    cor_create_result *created = state->ledger_results;
    cor_error rc = accounts ? cor_ledger_create_accounts(state->ledger, timestamp,
                                                         state->scratch_events, count, created)
                            : cor_ledger_create_transfers(state->ledger, timestamp,
                                                          state->scratch_events, count, created);
    COR_ASSERT(rc == COR_OK);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t status = created[i].status;
        bool ok = status == 0; /* created, for both kinds */
        bool exists = accounts ? status == COR_ACCOUNT_EXISTS : status == COR_TRANSFER_EXISTS;
        if (ok) used++;
        results[i] = (cor_node_result){.timestamp = created[i].timestamp,
                                       .code = ok       ? COR_NODE_CREATED
                                               : exists ? COR_NODE_EXISTS
                                                        : COR_NODE_LEDGER_REJECTED,
                                       .ledger = status};
    }
    if (accounts) {
        state->operator_accounts_count = used;
    } else {
        state->operator_transfers_count = used;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Apply                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void apply_command(cor_node_state *state, uint64_t timestamp,
                          const cor_node_command_header *h, const uint8_t *body,
                          cor_node_result *results)
{
    switch (h->type) {
    case COR_NODE_CMD_PAYMENTS:
        apply_payments(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_LEDGER_ACCOUNTS:
    case COR_NODE_CMD_LEDGER_TRANSFERS:
        apply_ledger(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_EXPIRE: {
        uint32_t expired =
            cor_ledger_expire_pending(state->ledger, timestamp, COR_NODE_BATCH_EVENTS_MAX);
        results[0] =
            (cor_node_result){.timestamp = timestamp, .value = expired, .code = COR_NODE_OK};
        return;
    }
    default:
        if (h->type >= COR_NODE_CMD_XB_PEER) {
            cor__node_xb_apply(state, timestamp, h, body, results);
        } else {
            apply_admin(state, timestamp, h, body, results);
        }
        return;
    }
}

cor_error cor_node_state_apply(cor_node_state *state, uint64_t timestamp, const void *payload,
                               size_t payload_size_bytes, cor_node_result *results,
                               uint32_t results_max)
{
    COR_ASSERT(state != NULL && payload != NULL);
    uint32_t events = cor_node_payload_events(payload, payload_size_bytes);
    if (events == 0) return COR_ERR_CORRUPT;
    if (results == NULL) {
        results = state->scratch_results;
        results_max = COR_NODE_BATCH_EVENTS_MAX;
    }
    if (events > results_max) return COR_ERR_LIMIT;
    cor__node_xb_apply_begin(state);

    const uint8_t *bytes = payload;
    size_t offset = 0;
    uint32_t event_index = 0;
    while (offset < payload_size_bytes) {
        cor_node_command_header h;
        memcpy(&h, bytes + offset, sizeof(h));
        offset += sizeof(h);
        apply_command(state, timestamp, &h, bytes + offset, results + event_index);
        offset += pad16(h.body_size_bytes);
        event_index += h.event_count;
    }
    COR_ASSERT(event_index == events);
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                  */
/* ---------------------------------------------------------------------------------------- */

const cor_ledger *cor_node_state_ledger(const cor_node_state *state)
{
    return state->ledger;
}

uint32_t cor_node_state_currency(const cor_node_state *state)
{
    return state->options.ledger;
}

void cor_node_state_options_get(const cor_node_state *state, cor_node_state_options *out)
{
    *out = state->options;
}

uint32_t cor_node_state_participants_count(const cor_node_state *state)
{
    return state->participants_count;
}

const cor_node_participant *cor_node_state_participant(const cor_node_state *state, uint32_t id)
{
    if (id == 0 || id > state->participants_count) return NULL;
    return &state->participants[id - 1];
}

const cor_node_key *cor_node_state_key(const cor_node_state *state, uint32_t key_id)
{
    if (key_id == 0 || key_id > state->keys_count) return NULL;
    return &state->keys[key_id - 1];
}

uint32_t cor_node_state_keys_count(const cor_node_state *state)
{
    return state->keys_count;
}

bool cor_node_state_balance(const cor_node_state *state, uint32_t participant,
                            cor_node_balance *out)
{
    cor_account account;
    if (cor_node_state_participant(state, participant) == NULL) return false;
    if (!cor_ledger_lookup_account(state->ledger, cor_node_settlement_id(participant), &account)) {
        return false;
    }
    *out = (cor_node_balance){.credits_posted = account.credits_posted,
                              .debits_posted = account.debits_posted,
                              .debits_pending = account.debits_pending,
                              .credits_pending = account.credits_pending};
    return true;
}

void cor_node_state_totals(const cor_node_state *state, cor_node_totals *out)
{
    *out = state->totals;
}

/* ---------------------------------------------------------------------------------------- */
/* Serialization                                                                            */
/* ---------------------------------------------------------------------------------------- */

typedef struct state_header {
    uint64_t magic;
    uint32_t version;
    uint32_t ledger;
    uint32_t participants_count;
    uint32_t keys_count;
    uint32_t payments_max;
    uint32_t ledger_accounts_max;
    uint32_t ledger_transfers_max;
    uint32_t node_id;
    uint32_t xb_payments_max;
    uint32_t xb_quotes_max;
    uint64_t payments_count;
    uint64_t operator_accounts_count;
    uint64_t operator_transfers_count;
    uint64_t fundings_count;
    cor_node_totals totals;
} state_header;

cor_error cor_node_state_serialize(const cor_node_state *state, cor_ledger_write_fn write,
                                   void *context)
{
    state_header header;
    memset(&header, 0, sizeof(header));
    header.magic = STATE_FORMAT_MAGIC;
    header.version = STATE_FORMAT_VERSION;
    header.ledger = state->options.ledger;
    header.payments_max = state->options.payments_max;
    header.ledger_accounts_max = state->options.ledger_accounts_max;
    header.ledger_transfers_max = state->options.ledger_transfers_max;
    header.node_id = state->options.node_id;
    header.xb_payments_max = state->options.xb_payments_max;
    header.xb_quotes_max = state->options.xb_quotes_max;
    header.participants_count = state->participants_count;
    header.keys_count = state->keys_count;
    header.payments_count = state->payments_count;
    header.operator_accounts_count = state->operator_accounts_count;
    header.operator_transfers_count = state->operator_transfers_count;
    header.fundings_count = state->fundings_count;
    header.totals = state->totals;
    cor_error rc = write(context, &header, sizeof(header));
    if (rc == COR_OK && state->participants_count > 0) {
        rc = write(context, state->participants,
                   state->participants_count * sizeof(cor_node_participant));
    }
    if (rc == COR_OK && state->keys_count > 0) {
        rc = write(context, state->keys, state->keys_count * sizeof(cor_node_key));
    }
    if (rc == COR_OK && state->payments_count > 0) {
        rc = write(context, state->payments, state->payments_count * sizeof(cor_node_payment));
    }
    if (rc == COR_OK) rc = cor_ledger_serialize(state->ledger, write, context);
    if (rc == COR_OK) rc = cor__node_xb_serialize(state, write, context);
    return rc;
}

static cor_error state_read_header(const cor_node_state_options *options, state_header *header)
{
    if (header->magic != STATE_FORMAT_MAGIC) return COR_ERR_CORRUPT;
    if (header->version != STATE_FORMAT_VERSION) return COR_ERR_VERSION;
    if (header->ledger != options->ledger) return COR_ERR_CORRUPT;
    if (header->node_id != options->node_id) return COR_ERR_CORRUPT;
    if (header->participants_count > COR_NODE_PARTICIPANTS_MAX) return COR_ERR_CORRUPT;
    if (header->keys_count > COR_NODE_KEYS_MAX) return COR_ERR_CORRUPT;
    if (header->payments_count > options->payments_max) return COR_ERR_LIMIT;
    return COR_OK;
}

cor_error cor_node_state_deserialize(const cor_node_state_options *options, cor_ledger_read_fn read,
                                     void *context, cor_node_state **out)
{
    *out = NULL;
    cor_node_state_options complete = state_options_complete(options);
    options = &complete;
    if (!state_options_valid(options)) return COR_ERR_INVALID;
    if (sodium_init() < 0) return COR_ERR_NOMEM;
    state_header header;
    cor_error rc = read(context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    cor_node_state_options saved = *options;
    saved.payments_max = header.payments_max;
    saved.ledger_accounts_max = header.ledger_accounts_max;
    saved.ledger_transfers_max = header.ledger_transfers_max;
    saved.xb_payments_max = header.xb_payments_max;
    saved.xb_quotes_max = header.xb_quotes_max;
    if (header.magic == STATE_FORMAT_MAGIC && !state_options_valid(&saved)) return COR_ERR_CORRUPT;
    options = &saved;
    rc = state_read_header(options, &header);
    if (rc != COR_OK) return rc;

    cor_node_state *state = NULL;
    rc = state_alloc(options, &state);
    if (rc != COR_OK) return rc;
    state->participants_count = header.participants_count;
    state->keys_count = header.keys_count;
    state->payments_count = header.payments_count;
    state->operator_accounts_count = header.operator_accounts_count;
    state->operator_transfers_count = header.operator_transfers_count;
    state->fundings_count = header.fundings_count;
    state->totals = header.totals;
    if (header.participants_count > 0) {
        rc = read(context, state->participants,
                  header.participants_count * sizeof(cor_node_participant));
        if (rc != COR_OK) goto fail;
    }
    if (header.keys_count > 0) {
        rc = read(context, state->keys, header.keys_count * sizeof(cor_node_key));
        if (rc != COR_OK) goto fail;
    }
    if (header.payments_count > 0) {
        rc = read(context, state->payments, header.payments_count * sizeof(cor_node_payment));
        if (rc != COR_OK) goto fail;
    }
    for (uint64_t i = 0; i < header.payments_count; i++) {
        const cor_node_payment *p = &state->payments[i];
        if (p->number != i + 1) {
            rc = COR_ERR_CORRUPT;
            goto fail;
        }
        uint64_t slot = state_payment_slot(state, p->debtor, p->in.payment_id);
        if (state->payment_slots[slot] != 0) {
            rc = COR_ERR_CORRUPT;
            goto fail;
        }
        state->payment_slots[slot] = (uint32_t)p->number;
    }
    cor_ledger_options ledger_options = state_ledger_options(options);
    rc = cor_ledger_deserialize(&ledger_options, read, context, &state->ledger);
    if (rc != COR_OK) goto fail;
    rc = cor__node_xb_deserialize(state, read, context);
    if (rc != COR_OK) goto fail;
    *out = state;
    return COR_OK;

fail:
    cor_node_state_close(state);
    return rc;
}
