/*
 * The corridor inside the node state: the cross-border protocol core (cor_xb) bound to the
 * node's ledger, and the node's own rules around it.
 *
 * The core decides the protocol; the node decides who may do what with which account:
 * a bank pays only from its own settlement account and returns only what was paid to it,
 * an FX provider publishes rates only under its own fx id, the operator configures peers,
 * FX mappings, per-participant limits and decides holds. Leg checks (options.leg_check)
 * apply the node's funds rule (debit caps, pending debits included) and admit only active
 * participants' settlement accounts, so a peer can never name the issuance account or an
 * operator ledger account as a creditor.
 *
 * Every command here is journaled in the node's batches like any other, so replay rebuilds
 * the same protocol state; the outbox the core fills during an apply is sent by the core
 * thread after the batch is durable and discarded at the start of the next apply.
 */
#include <stddef.h>
#include <string.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "node/node_state_internal.h"

#define XB_NS_PER_DAY  (86400ull * 1000000000ull)
#define XB_TICK_LIMIT  4096u
#define XB_RATES_MAX   256u
#define XB_FX_CORE_MAX 256u

/* ---------------------------------------------------------------------------------------- */
/* Leg checks                                                                               */
/* ---------------------------------------------------------------------------------------- */

/* The participant whose settlement account this is; NULL for any other account. */
static const cor_node_participant *xb_account_owner(cor_node_state *state, cor_u128 account)
{
    if (account <= COR_NODE_ID_BASE) return NULL;
    cor_u128 id = account - COR_NODE_ID_BASE;
    if (id > state->participants_count) return NULL;
    return cor__node_state_participant(state, (uint32_t)id);
}

static uint32_t xb_leg_check(void *context, const cor_transfer *transfer)
{
    cor_node_state *state = context;
    bool leg1 = (transfer->flags & COR_TRANSFER_PENDING) != 0;
    const cor_node_participant *debtor = xb_account_owner(state, transfer->debit_account_id);
    const cor_node_participant *creditor = xb_account_owner(state, transfer->credit_account_id);
    if (debtor == NULL) return leg1 ? COR_XB_DEBTOR_ACCOUNT : COR_XB_CORRIDOR_UNKNOWN;
    if (creditor == NULL) return leg1 ? COR_XB_CORRIDOR_UNKNOWN : COR_XB_CREDITOR_ACCOUNT;
    if (debtor->status != COR_NODE_PARTICIPANT_ACTIVE ||
        creditor->status != COR_NODE_PARTICIPANT_ACTIVE) {
        return COR_XB_ACCOUNT_CLOSED;
    }
    cor_account account;
    bool found = cor_ledger_lookup_account(state->ledger, transfer->debit_account_id, &account);
    COR_ASSERT(found); /* every participant has its settlement account */
    if (!cor__node_state_can_debit(&account, debtor->debit_cap, transfer->amount)) {
        return COR_XB_INSUFFICIENT_FUNDS;
    }
    return COR_XB_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

static cor_xb_options xb_options(cor_node_state *state)
{
    const cor_node_state_options *o = &state->options;
    cor_xb_options x;
    cor_xb_options_default(&x, o->node_id, o->ledger);
    x.payments_max = o->xb_payments_max;
    x.quotes_max = o->xb_quotes_max;
    x.rates_max = XB_RATES_MAX;
    x.peers_max = 64;
    x.fx_max = XB_FX_CORE_MAX;
    x.seen_max = COR_NODE_XB_SEEN_MAX;
    x.outbox_max = COR_NODE_XB_OUTBOX_MAX;
    x.transfer_code = COR_NODE_TRANSFER_CODE_XBORDER;
    x.prefault = o->prefault;
    x.quote_ttl_ns = COR_NODE_XB_QUOTE_TTL_NS;
    x.deadline_ns = COR_NODE_XB_DEADLINE_NS;
    x.deadline_max_ns = COR_NODE_XB_DEADLINE_MAX_NS;
    x.retry_initial_ns = COR_NODE_XB_RETRY_INITIAL_NS;
    x.retry_max_ns = COR_NODE_XB_RETRY_MAX_NS;
    x.replay_window_ns = COR_NODE_XB_REPLAY_WINDOW_NS;
    x.clock_skew_ns = COR_NODE_XB_CLOCK_SKEW_NS;
    x.hash_seed = o->hash_seed;
    x.leg_check = xb_leg_check;
    x.leg_check_context = state;
    return x;
}

static cor_error xb_tables_alloc(cor_node_state *state)
{
    uint32_t max = state->options.xb_payments_max;
    size_t slots = cor__node_state_slots_count(max);
    state->names = cor_alloc_large((size_t)max * sizeof(node_xb_names));
    state->names_slots = cor_alloc_large(slots * sizeof(uint32_t));
    state->names_slots_mask = slots - 1;
    state->scratch_quotes = cor_calloc(COR_NODE_XB_QUOTES_PER_ANSWER_MAX, sizeof(cor_xb_quote));
    if (!state->names || !state->names_slots || !state->scratch_quotes) return COR_ERR_NOMEM;
    if (state->options.prefault) { /* as the core's own tables: no first-touch fault later */
        cor_prefault(state->names, (size_t)max * sizeof(node_xb_names));
        cor_prefault(state->names_slots, slots * sizeof(uint32_t));
    }
    return COR_OK;
}

cor_error cor__node_xb_open(cor_node_state *state)
{
    cor_error rc = xb_tables_alloc(state);
    if (rc != COR_OK) return rc;
    cor_xb_options options = xb_options(state);
    return cor_xb_open(&options, state->ledger, &state->xb);
}

void cor__node_xb_close(cor_node_state *state)
{
    uint32_t max = state->options.xb_payments_max;
    cor_xb_close(state->xb);
    state->xb = NULL;
    if (state->names) cor_free_large(state->names, (size_t)max * sizeof(node_xb_names));
    if (state->names_slots) {
        cor_free_large(state->names_slots, cor__node_state_slots_count(max) * sizeof(uint32_t));
    }
    cor_free(state->scratch_quotes);
    state->names = NULL;
    state->names_slots = NULL;
    state->scratch_quotes = NULL;
}

void cor__node_xb_apply_begin(cor_node_state *state)
{
    cor_xb_outbox_clear(state->xb);
}

/* ---------------------------------------------------------------------------------------- */
/* Names of origin payments                                                                 */
/* ---------------------------------------------------------------------------------------- */

static uint64_t xb_names_slot(const cor_node_state *state, cor_u128 uetr)
{
    uint8_t hash[crypto_shorthash_BYTES];
    crypto_shorthash(hash, (const uint8_t *)&uetr, sizeof(uetr), state->index_key);
    uint64_t slot;
    memcpy(&slot, hash, sizeof(slot));
    slot &= state->names_slots_mask;
    for (uint64_t probe = 0; probe <= state->names_slots_mask; probe++) {
        uint32_t number = state->names_slots[slot];
        if (number == 0 || state->names[number - 1].uetr == uetr) return slot;
        slot = (slot + 1) & state->names_slots_mask;
    }
    COR_UNREACHABLE(); /* at most half full */
}

/* Records the names a new origin payment (or return) was submitted with. */
static void xb_names_add(cor_node_state *state, cor_u128 uetr, uint8_t debtor_length,
                         const char *debtor, uint8_t creditor_length, const char *creditor)
{
    if (debtor_length == 0 && creditor_length == 0) return;
    uint64_t slot = xb_names_slot(state, uetr);
    if (state->names_slots[slot] != 0) return;
    COR_ASSERT(state->names_count < state->options.xb_payments_max);
    node_xb_names *n = &state->names[state->names_count];
    memset(n, 0, sizeof(*n));
    n->uetr = uetr;
    n->debtor_length = debtor_length;
    n->creditor_length = creditor_length;
    memcpy(n->debtor, debtor, debtor_length);
    memcpy(n->creditor, creditor, creditor_length);
    state->names_count++;
    state->names_slots[slot] = state->names_count;
}

bool cor_node_state_xb_names(const cor_node_state *state, cor_u128 uetr, char *debtor_out,
                             char *creditor_out)
{
    uint32_t number = state->names_slots[xb_names_slot(state, uetr)];
    if (number == 0) return false;
    const node_xb_names *n = &state->names[number - 1];
    memcpy(debtor_out, n->debtor, n->debtor_length);
    debtor_out[n->debtor_length] = '\0';
    memcpy(creditor_out, n->creditor, n->creditor_length);
    creditor_out[n->creditor_length] = '\0';
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* Framing                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static bool xb_payments_valid(const uint8_t *body, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        cor_node_cmd_xb_payment p;
        memcpy(&p, body + (size_t)i * sizeof(p), sizeof(p));
        if (p.debtor_name_length > COR_NODE_XB_NAME_LENGTH_MAX) return false;
        if (p.creditor_name_length > COR_NODE_XB_NAME_LENGTH_MAX) return false;
        static const uint8_t zero[14];
        if (memcmp(p.reserved, zero, sizeof(p.reserved)) != 0) return false;
        if (memcmp(p.reserved2, zero, sizeof(p.reserved2)) != 0) return false;
    }
    return true;
}

bool cor__node_xb_command_valid(const cor_node_command_header *h, const uint8_t *body)
{
    size_t one = 0;
    bool many = false;
    switch (h->type) {
    case COR_NODE_CMD_XB_PEER:
        one = sizeof(cor_xb_peer);
        break;
    case COR_NODE_CMD_XB_FX:
        one = sizeof(cor_node_cmd_xb_fx);
        break;
    case COR_NODE_CMD_XB_RATE:
        one = sizeof(cor_xb_rate);
        break;
    case COR_NODE_CMD_XB_QUOTES:
        one = sizeof(cor_xb_quote_request);
        many = true;
        break;
    case COR_NODE_CMD_XB_PAYMENTS:
        if (h->body_size_bytes != (size_t)h->event_count * sizeof(cor_node_cmd_xb_payment)) {
            return false;
        }
        return xb_payments_valid(body, h->event_count);
    case COR_NODE_CMD_XB_CANCEL:
        one = sizeof(cor_node_cmd_xb_uetr);
        break;
    case COR_NODE_CMD_XB_RETURN: {
        if (h->event_count != 1 || h->body_size_bytes != sizeof(cor_node_cmd_xb_return)) {
            return false;
        }
        cor_node_cmd_xb_return r;
        memcpy(&r, body, sizeof(r));
        static const uint8_t zero[14];
        return r.debtor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX &&
               r.creditor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX &&
               memcmp(r.reserved, zero, sizeof(r.reserved)) == 0 &&
               memcmp(r.reserved2, zero, sizeof(r.reserved2)) == 0;
    }
    case COR_NODE_CMD_XB_RECEIVE:
        one = sizeof(cor_node_cmd_xb_receive);
        many = true;
        break;
    case COR_NODE_CMD_XB_HOLD:
        one = sizeof(cor_node_cmd_xb_hold);
        break;
    case COR_NODE_CMD_XB_TICK:
        return h->event_count == 1 && h->body_size_bytes == 0;
    case COR_NODE_CMD_XB_LIMITS:
        one = sizeof(cor_node_cmd_xb_limits);
        break;
    default:
        return false;
    }
    if (many) return h->body_size_bytes == (size_t)h->event_count * one;
    return h->event_count == 1 && h->body_size_bytes == one;
}

/* ---------------------------------------------------------------------------------------- */
/* Apply                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void xb_result(cor_node_result *result, uint64_t timestamp, uint32_t reason)
{
    *result = (cor_node_result){.timestamp = timestamp,
                                .code = reason == COR_XB_OK ? COR_NODE_OK : COR_NODE_XB_REFUSED,
                                .ledger = reason};
}

static void xb_fill(cor_node_result *results, uint32_t count, uint64_t timestamp, uint32_t code)
{
    for (uint32_t i = 0; i < count; i++) {
        results[i] = (cor_node_result){.timestamp = timestamp, .code = code};
    }
}

/* The calling participant, active; NULL (and results filled) otherwise. */
static cor_node_participant *xb_caller(cor_node_state *state, uint64_t timestamp,
                                       const cor_node_command_header *h, cor_node_result *results)
{
    cor_node_participant *p = cor__node_state_participant(state, h->participant);
    if (!cor__node_state_caller_valid(state, h, false) || p == NULL) {
        xb_fill(results, h->event_count, timestamp, COR_NODE_KEY_REVOKED);
        return NULL;
    }
    if (p->status != COR_NODE_PARTICIPANT_ACTIVE) {
        xb_fill(results, h->event_count, timestamp, COR_NODE_DEBTOR_SUSPENDED);
        return NULL;
    }
    return p;
}

static void xb_apply_peer(cor_node_state *state, uint64_t timestamp, const uint8_t *body,
                          cor_node_result *result)
{
    cor_xb_peer peer;
    memcpy(&peer, body, sizeof(peer));
    cor_error rc = cor_xb_peer_add(state->xb, &peer);
    if (rc == COR_ERR_LIMIT) {
        xb_fill(result, 1, timestamp, COR_NODE_CAPACITY_FULL);
    } else {
        xb_result(result, timestamp, rc == COR_OK ? COR_XB_OK : COR_XB_FORMAT);
    }
}

static void xb_apply_fx(cor_node_state *state, uint64_t timestamp, const uint8_t *body,
                        cor_node_result *result)
{
    cor_node_cmd_xb_fx cmd;
    memcpy(&cmd, body, sizeof(cmd));
    const cor_node_participant *p = cor__node_state_participant(state, cmd.participant);
    if (p == NULL) {
        xb_fill(result, 1, timestamp, COR_NODE_PARTICIPANT_NOT_FOUND);
        return;
    }
    if (p->role != COR_NODE_ROLE_FX_PROVIDER) {
        xb_fill(result, 1, timestamp, COR_NODE_NOT_FX_PROVIDER);
        return;
    }
    uint32_t slot = state->fx_count;
    for (uint32_t i = 0; i < state->fx_count; i++) {
        const cor_node_cmd_xb_fx *f = &state->fx[i];
        if (f->fx_id == cmd.fx_id && f->peer_node == cmd.peer_node) {
            if (f->participant == cmd.participant) {
                xb_fill(result, 1, timestamp, COR_NODE_EXISTS);
                return;
            }
            slot = i;
        }
    }
    if (slot == COR_NODE_XB_FX_MAX) {
        xb_fill(result, 1, timestamp, COR_NODE_CAPACITY_FULL);
        return;
    }
    cor_xb_fx fx = {.account_id = cor_node_settlement_id(cmd.participant),
                    .fx_id = cmd.fx_id,
                    .peer_node = cmd.peer_node};
    cor_error rc = cor_xb_fx_add(state->xb, &fx);
    if (rc != COR_OK) {
        xb_fill(result, 1, timestamp,
                rc == COR_ERR_LIMIT ? COR_NODE_CAPACITY_FULL : COR_NODE_PEER_NOT_FOUND);
        return;
    }
    state->fx[slot] = cmd;
    if (slot == state->fx_count) state->fx_count++;
    xb_fill(result, 1, timestamp, COR_NODE_CREATED);
}

uint64_t cor_node_state_fx_of(const cor_node_state *state, uint32_t participant, uint32_t peer_node)
{
    for (uint32_t i = 0; i < state->fx_count; i++) {
        const cor_node_cmd_xb_fx *f = &state->fx[i];
        if (f->participant == participant && f->peer_node == peer_node) return f->fx_id;
    }
    return 0;
}

uint32_t cor_node_state_fx_participant(const cor_node_state *state, uint64_t fx_id,
                                       uint32_t peer_node)
{
    for (uint32_t i = 0; i < state->fx_count; i++) {
        const cor_node_cmd_xb_fx *f = &state->fx[i];
        if (f->fx_id == fx_id && f->peer_node == peer_node) return f->participant;
    }
    return 0;
}

static void xb_apply_rate(cor_node_state *state, uint64_t timestamp,
                          const cor_node_command_header *h, const uint8_t *body,
                          cor_node_result *result)
{
    const cor_node_participant *caller = xb_caller(state, timestamp, h, result);
    if (caller == NULL) return;
    cor_xb_rate rate;
    memcpy(&rate, body, sizeof(rate));
    uint64_t fx_id = rate.peer_node <= UINT32_MAX
                         ? cor_node_state_fx_of(state, caller->id, (uint32_t)rate.peer_node)
                         : 0;
    if (fx_id == 0) {
        xb_fill(result, 1, timestamp, COR_NODE_NOT_FX_PROVIDER);
        return;
    }
    rate.fx_id = fx_id;
    uint32_t reason = COR_XB_OK;
    cor_error rc = cor_xb_rate_publish(state->xb, timestamp, &rate, &reason);
    if (rc != COR_OK) reason = COR_XB_FORMAT;
    xb_result(result, timestamp, reason);
    if (reason == COR_XB_OK) result->code = COR_NODE_CREATED;
}

static void xb_apply_quotes(cor_node_state *state, uint64_t timestamp,
                            const cor_node_command_header *h, const uint8_t *body,
                            cor_node_result *results)
{
    const cor_node_participant *caller = xb_caller(state, timestamp, h, results);
    if (caller == NULL) return;
    for (uint32_t i = 0; i < h->event_count; i++) {
        cor_xb_quote_request request;
        memcpy(&request, body + (size_t)i * sizeof(request), sizeof(request));
        request.requester = caller->id;
        uint32_t count = 0;
        uint32_t reason = COR_XB_OK;
        cor_error rc = cor_xb_quote_issue(state->xb, timestamp, &request, state->scratch_quotes,
                                          COR_NODE_XB_QUOTES_PER_ANSWER_MAX, &count, &reason);
        COR_ASSERT(rc == COR_OK);
        if (count == 0) {
            xb_result(&results[i], timestamp, reason == COR_XB_OK ? COR_XB_NO_RATE : reason);
            continue;
        }
        /* Issued ids are consecutive; the answer names the first and how many. */
        uint64_t first = UINT64_MAX;
        for (uint32_t q = 0; q < count; q++) {
            uint64_t sequence = (uint64_t)state->scratch_quotes[q].id;
            if (sequence < first) first = sequence;
        }
        results[i] = (cor_node_result){
            .timestamp = timestamp, .value = first, .code = COR_NODE_CREATED, .ledger = count};
    }
}

/* The participant's own cross-border limits (AM02 / AM13). */
static uint32_t xb_participant_limits(const cor_node_participant *p, uint64_t timestamp,
                                      cor_u128 amount)
{
    if (p->xb_payment_max != 0 && amount > p->xb_payment_max) return COR_XB_AMOUNT_ABOVE_MAX;
    cor_u128 today = p->xb_day == timestamp / XB_NS_PER_DAY ? p->xb_day_total : 0;
    if (p->xb_daily_max != 0 && (amount > p->xb_daily_max || today > p->xb_daily_max - amount)) {
        return COR_XB_DAILY_LIMIT;
    }
    return COR_XB_OK;
}

static void xb_participant_count(cor_node_participant *p, uint64_t timestamp, cor_u128 amount)
{
    uint64_t day = timestamp / XB_NS_PER_DAY;
    if (p->xb_day != day) {
        p->xb_day = day;
        p->xb_day_total = 0;
    }
    p->xb_day_total += amount;
}

static void xb_apply_payment(cor_node_state *state, uint64_t timestamp,
                             cor_node_participant *caller, const cor_node_cmd_xb_payment *cmd,
                             cor_node_result *result)
{
    cor_xb_payment existing;
    bool known = cor_xb_payment_lookup(state->xb, cmd->uetr, &existing);
    cor_xb_quote quote;
    bool quoted = cor_xb_quote_lookup(state->xb, cmd->quote_id, &quote);
    if (!known && quoted && quote.requester == caller->id) {
        uint32_t limited = xb_participant_limits(caller, timestamp, quote.amount_source);
        if (limited != COR_XB_OK) {
            xb_result(result, timestamp, limited);
            return;
        }
    }
    cor_xb_payment_request request = {.uetr = cmd->uetr,
                                      .quote_id = cmd->quote_id,
                                      .debtor_account = cor_node_settlement_id(caller->id),
                                      .creditor_account = cmd->creditor_account,
                                      .requester = caller->id};
    uint32_t reason = COR_XB_OK;
    cor_error rc = cor_xb_payment_initiate(state->xb, timestamp, &request, &reason);
    COR_ASSERT(rc == COR_OK);
    xb_result(result, timestamp, reason);
    if (reason != COR_XB_OK) return;
    if (known) {
        result->code = COR_NODE_EXISTS;
        return;
    }
    result->code = COR_NODE_CREATED;
    xb_participant_count(caller, timestamp, quote.amount_source);
    xb_names_add(state, cmd->uetr, cmd->debtor_name_length, cmd->debtor_name,
                 cmd->creditor_name_length, cmd->creditor_name);
}

static void xb_apply_payments(cor_node_state *state, uint64_t timestamp,
                              const cor_node_command_header *h, const uint8_t *body,
                              cor_node_result *results)
{
    cor_node_participant *caller = xb_caller(state, timestamp, h, results);
    if (caller == NULL) return;
    for (uint32_t i = 0; i < h->event_count; i++) {
        cor_node_cmd_xb_payment cmd;
        memcpy(&cmd, body + (size_t)i * sizeof(cmd), sizeof(cmd));
        xb_apply_payment(state, timestamp, caller, &cmd, &results[i]);
    }
}

static void xb_apply_cancel(cor_node_state *state, uint64_t timestamp,
                            const cor_node_command_header *h, const uint8_t *body,
                            cor_node_result *result)
{
    const cor_node_participant *caller = xb_caller(state, timestamp, h, result);
    if (caller == NULL) return;
    cor_node_cmd_xb_uetr cmd;
    memcpy(&cmd, body, sizeof(cmd));
    uint32_t reason = COR_XB_OK;
    cor_error rc = cor_xb_payment_cancel(state->xb, timestamp, cmd.uetr, caller->id, &reason);
    COR_ASSERT(rc == COR_OK);
    xb_result(result, timestamp, reason);
}

static void xb_apply_return(cor_node_state *state, uint64_t timestamp,
                            const cor_node_command_header *h, const uint8_t *body,
                            cor_node_result *result)
{
    const cor_node_participant *caller = xb_caller(state, timestamp, h, result);
    if (caller == NULL) return;
    cor_node_cmd_xb_return cmd;
    memcpy(&cmd, body, sizeof(cmd));
    cor_xb_return_request request = cmd.request;
    request.requester = caller->id;
    /* Only the bank the original paid may send it back. */
    cor_xb_payment original;
    if (!cor_xb_payment_lookup(state->xb, request.original_uetr, &original) ||
        original.role != COR_XB_ROLE_BENEFICIARY ||
        original.instruction.creditor_account != cor_node_settlement_id(caller->id)) {
        xb_result(result, timestamp, COR_XB_RETURN_INVALID);
        return;
    }
    uint32_t reason = COR_XB_OK;
    cor_xb_payment existing;
    bool known = cor_xb_payment_lookup(state->xb, request.uetr, &existing);
    cor_error rc = cor_xb_return_initiate(state->xb, timestamp, &request, &reason);
    if (rc != COR_OK) reason = COR_XB_FORMAT;
    xb_result(result, timestamp, reason);
    if (reason != COR_XB_OK) return;
    result->code = known ? COR_NODE_EXISTS : COR_NODE_CREATED;
    if (!known) {
        xb_names_add(state, request.uetr, cmd.debtor_name_length, cmd.debtor_name,
                     cmd.creditor_name_length, cmd.creditor_name);
    }
}

static void xb_apply_receive(cor_node_state *state, uint64_t timestamp,
                             const cor_node_command_header *h, const uint8_t *body,
                             cor_node_result *results)
{
    if (!cor__node_state_caller_valid(state, h, true)) {
        xb_fill(results, h->event_count, timestamp, COR_NODE_KEY_REVOKED);
        return;
    }
    enum { AHEAD = 8 }; /* messages between a prefetch and its use */
    for (uint32_t i = 0; i < h->event_count; i++) {
        if (i + AHEAD < h->event_count) {
            const uint8_t *ahead = body + (size_t)(i + AHEAD) * sizeof(cor_node_cmd_xb_receive);
            cor_u128 msg_id, uetr;
            memcpy(&msg_id, ahead + offsetof(cor_xb_message, msg_id), sizeof(msg_id));
            memcpy(&uetr, ahead + offsetof(cor_xb_message, uetr), sizeof(uetr));
            cor_xb_prefetch(state->xb, msg_id, uetr);
        }
        cor_node_cmd_xb_receive cmd;
        memcpy(&cmd, body + (size_t)i * sizeof(cmd), sizeof(cmd));
        uint32_t reason = COR_XB_OK;
        cor_error rc = cor_xb_receive_flags(state->xb, timestamp, &cmd.message,
                                            cmd.flags & COR_XB_RECEIVE_HOLD, &reason);
        COR_ASSERT(rc == COR_OK);
        results[i] =
            (cor_node_result){.timestamp = timestamp, .code = COR_NODE_OK, .ledger = reason};
    }
}

static void xb_apply_hold(cor_node_state *state, uint64_t timestamp, const uint8_t *body,
                          cor_node_result *result)
{
    cor_node_cmd_xb_hold cmd;
    memcpy(&cmd, body, sizeof(cmd));
    uint32_t reason = COR_XB_NOT_HELD;
    cor_error rc = COR_OK;
    if (cmd.action == COR_NODE_XB_RELEASE) {
        rc = cor_xb_hold_release(state->xb, timestamp, cmd.uetr, &reason);
    } else if (cmd.action == COR_NODE_XB_REJECT) {
        rc = cor_xb_hold_reject(state->xb, timestamp, cmd.uetr, &reason);
    }
    COR_ASSERT(rc == COR_OK);
    /* The decision (OK = committed) is the result; only NOT_HELD and BUSY are refusals. */
    bool refused = reason == COR_XB_NOT_HELD || reason == COR_XB_BUSY;
    *result = (cor_node_result){.timestamp = timestamp,
                                .code = refused ? COR_NODE_XB_REFUSED : COR_NODE_OK,
                                .ledger = reason};
}

static void xb_apply_limits(cor_node_state *state, uint64_t timestamp, const uint8_t *body,
                            cor_node_result *result)
{
    cor_node_cmd_xb_limits cmd;
    memcpy(&cmd, body, sizeof(cmd));
    cor_node_participant *p = cor__node_state_participant(state, cmd.participant);
    if (p == NULL) {
        xb_fill(result, 1, timestamp, COR_NODE_PARTICIPANT_NOT_FOUND);
        return;
    }
    p->xb_payment_max = cmd.payment_max;
    p->xb_daily_max = cmd.daily_max;
    *result = (cor_node_result){.timestamp = timestamp, .value = p->id, .code = COR_NODE_OK};
}

void cor__node_xb_apply(cor_node_state *state, uint64_t timestamp, const cor_node_command_header *h,
                        const uint8_t *body, cor_node_result *results)
{
    bool operator_only = h->type == COR_NODE_CMD_XB_PEER || h->type == COR_NODE_CMD_XB_FX ||
                         h->type == COR_NODE_CMD_XB_HOLD || h->type == COR_NODE_CMD_XB_LIMITS ||
                         h->type == COR_NODE_CMD_XB_TICK;
    if (operator_only && !cor__node_state_caller_valid(state, h, true)) {
        xb_fill(results, h->event_count, timestamp, COR_NODE_KEY_REVOKED);
        return;
    }
    switch (h->type) {
    case COR_NODE_CMD_XB_PEER:
        xb_apply_peer(state, timestamp, body, results);
        return;
    case COR_NODE_CMD_XB_FX:
        xb_apply_fx(state, timestamp, body, results);
        return;
    case COR_NODE_CMD_XB_RATE:
        xb_apply_rate(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_QUOTES:
        xb_apply_quotes(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_PAYMENTS:
        xb_apply_payments(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_CANCEL:
        xb_apply_cancel(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_RETURN:
        xb_apply_return(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_RECEIVE:
        xb_apply_receive(state, timestamp, h, body, results);
        return;
    case COR_NODE_CMD_XB_HOLD:
        xb_apply_hold(state, timestamp, body, results);
        return;
    case COR_NODE_CMD_XB_TICK: {
        uint32_t room = COR_NODE_XB_OUTBOX_MAX - cor_xb_outbox_count(state->xb);
        uint32_t handled =
            cor_xb_tick(state->xb, timestamp, room < XB_TICK_LIMIT ? room : XB_TICK_LIMIT);
        results[0] =
            (cor_node_result){.timestamp = timestamp, .value = handled, .code = COR_NODE_OK};
        return;
    }
    case COR_NODE_CMD_XB_LIMITS:
        xb_apply_limits(state, timestamp, body, results);
        return;
    default:
        COR_UNREACHABLE(); /* framing was validated */
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                  */
/* ---------------------------------------------------------------------------------------- */

const cor_xb *cor_node_state_xb(const cor_node_state *state)
{
    return state->xb;
}

bool cor_node_state_xb_timer(const cor_node_state *state, uint64_t *at_out)
{
    return cor_xb_next_timer(state->xb, at_out);
}

/* ---------------------------------------------------------------------------------------- */
/* Serialization: the core's canonical bytes, then the FX map, then the names               */
/* ---------------------------------------------------------------------------------------- */

typedef struct xb_header {
    uint32_t fx_count;
    uint32_t names_count;
    uint64_t reserved;
} xb_header;

cor_error cor__node_xb_serialize(const cor_node_state *state, cor_ledger_write_fn write,
                                 void *context)
{
    cor_error rc = cor_xb_serialize(state->xb, write, context);
    if (rc != COR_OK) return rc;
    xb_header header = {.fx_count = state->fx_count, .names_count = state->names_count};
    rc = write(context, &header, sizeof(header));
    if (rc == COR_OK && state->fx_count > 0) {
        rc = write(context, state->fx, state->fx_count * sizeof(cor_node_cmd_xb_fx));
    }
    if (rc == COR_OK && state->names_count > 0) {
        rc = write(context, state->names, (size_t)state->names_count * sizeof(node_xb_names));
    }
    return rc;
}

cor_error cor__node_xb_deserialize(cor_node_state *state, cor_ledger_read_fn read, void *context)
{
    cor_error rc = xb_tables_alloc(state);
    if (rc != COR_OK) return rc;
    cor_xb_options options = xb_options(state);
    rc = cor_xb_deserialize(&options, state->ledger, read, context, &state->xb);
    if (rc != COR_OK) return rc;
    xb_header header;
    rc = read(context, &header, sizeof(header));
    if (rc != COR_OK) return rc;
    if (header.fx_count > COR_NODE_XB_FX_MAX || header.reserved != 0 ||
        header.names_count > state->options.xb_payments_max) {
        return COR_ERR_CORRUPT;
    }
    if (header.fx_count > 0) {
        rc = read(context, state->fx, header.fx_count * sizeof(cor_node_cmd_xb_fx));
        if (rc != COR_OK) return rc;
    }
    state->fx_count = header.fx_count;
    if (header.names_count > 0) {
        rc = read(context, state->names, (size_t)header.names_count * sizeof(node_xb_names));
        if (rc != COR_OK) return rc;
    }
    for (uint32_t i = 0; i < header.names_count; i++) {
        const node_xb_names *n = &state->names[i];
        if (n->debtor_length > COR_NODE_XB_NAME_LENGTH_MAX ||
            n->creditor_length > COR_NODE_XB_NAME_LENGTH_MAX) {
            return COR_ERR_CORRUPT;
        }
        uint64_t slot = xb_names_slot(state, n->uetr);
        if (state->names_slots[slot] != 0) return COR_ERR_CORRUPT;
        state->names_slots[slot] = i + 1;
        state->names_count = i + 1;
    }
    return COR_OK;
}
