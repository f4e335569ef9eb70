/*
 * Cross-border payments: the origin's side (initiate, cancel, answers, timers) and the
 * beneficiary's side (decide on pacs.008, answer pacs.028 and camt.056), with the envelope
 * checks every peer message passes first. docs/PROTOCOL.md is the specification; the
 * comments here name the rule each branch implements.
 *
 * The two safety rules everything hangs on:
 *   1. B answers RJCT for a payment only if it holds, in the same state it will persist, a
 *      record by UETR that makes it refuse that payment forever (a REJECTED record, or a
 *      different payment under the same UETR). Anything B cannot record is PDNG.
 *   2. A moves leg 1 out of pending only on B's ACSC (post) or RJCT (void), never on a timer.
 */
#include <string.h>

#include "corridor/xb_internal.h"

/* ---------------------------------------------------------------------------------------- */
/* Ledger                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* The node's rules for a leg that moves money (options.leg_check); OK when none. */
static uint32_t xb_leg_check(const cor_xb *xb, const cor_transfer *transfer)
{
    if (xb->options.leg_check == NULL) return COR_XB_OK;
    uint32_t reason = xb->options.leg_check(xb->options.leg_check_context, transfer);
    COR_ASSERT(reason < COR_XB_REASON_COUNT);
    return reason;
}

static uint32_t xb_ledger_one(cor_xb *xb, uint64_t timestamp, const cor_transfer *transfer)
{
    cor_create_result result;
    cor_error rc = cor_ledger_create_transfers(xb->ledger, timestamp, transfer, 1, &result);
    COR_ASSERT(rc == COR_OK); /* count 1 and non-NULL arguments */
    return result.status;
}

/* Maps a ledger refusal of leg 1 or leg 2 to a reason. debit_reason names the debit side. */
static uint32_t xb_ledger_reason(uint32_t status, uint32_t debit_reason, uint32_t credit_reason)
{
    switch (status) {
    case COR_TRANSFER_DEBIT_ACCOUNT_NOT_FOUND:
        return debit_reason;
    case COR_TRANSFER_CREDIT_ACCOUNT_NOT_FOUND:
        return credit_reason;
    case COR_TRANSFER_EXCEEDS_CREDITS:
        return COR_XB_INSUFFICIENT_FUNDS;
    case COR_TRANSFER_DEBIT_ACCOUNT_ALREADY_CLOSED:
    case COR_TRANSFER_CREDIT_ACCOUNT_ALREADY_CLOSED:
        return COR_XB_ACCOUNT_CLOSED;
    case COR_TRANSFER_ACCOUNTS_MUST_HAVE_THE_SAME_LEDGER:
    case COR_TRANSFER_TRANSFER_MUST_HAVE_THE_SAME_LEDGER_AS_ACCOUNTS:
        return COR_XB_CURRENCY;
    case COR_TRANSFER_ACCOUNTS_MUST_BE_DIFFERENT:
        return COR_XB_FORMAT;
    case COR_TRANSFER_ID_ALREADY_FAILED:
        return COR_XB_DUPLICATE;
    case COR_TRANSFER_TRANSFERS_FULL:
    case COR_TRANSFER_PENDING_TRANSFERS_FULL:
        return COR_XB_BUSY;
    default:
        return COR_XB_LEDGER;
    }
}

static uint64_t xb_day(uint64_t timestamp)
{
    return timestamp / XB_NS_PER_DAY;
}

/* ---------------------------------------------------------------------------------------- */
/* Instruction comparison                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Same payment: every instruction field equal (msg ids, times of sending and answer fields
 * are not part of the instruction). origin is the node that sent the instruction. */
static bool xb_same_instruction(const cor_xb_message *a, uint32_t a_origin, const cor_xb_message *b,
                                uint32_t b_origin)
{
    return a_origin == b_origin && a->uetr == b->uetr && a->quote_id == b->quote_id &&
           a->amount_source == b->amount_source && a->amount_dest == b->amount_dest &&
           a->fee_source == b->fee_source && a->debtor_account == b->debtor_account &&
           a->creditor_account == b->creditor_account && a->rate_num == b->rate_num &&
           a->rate_den == b->rate_den && a->fx_id == b->fx_id && a->deadline == b->deadline &&
           a->source_ledger == b->source_ledger && a->dest_ledger == b->dest_ledger &&
           a->spread_ppm == b->spread_ppm && a->fixed == b->fixed && a->return_of == b->return_of &&
           a->return_reason == b->return_reason;
}

/* The instruction part of a message, with the envelope and answer fields cleared. */
static cor_xb_message xb_instruction_of(const cor_xb_message *m)
{
    cor_xb_message i = *m;
    i.msg_id = 0;
    i.orig_msg_id = 0;
    i.created_at = 0;
    i.decided_at = 0;
    i.status = 0;
    i.reason = 0;
    i.cancel_status = 0;
    i.type = i.return_of != 0 ? COR_XB_PACS004 : COR_XB_PACS008;
    return i;
}

/* ---------------------------------------------------------------------------------------- */
/* Origin (node A): initiate                                                                */
/* ---------------------------------------------------------------------------------------- */

static uint32_t xb_initiate_check_quote(cor_xb *xb, uint64_t timestamp,
                                        const cor_xb_payment_request *request,
                                        cor_xb_quote **quote_out, xb_peer_entry **peer_out)
{
    cor_xb_quote *quote = cor__xb_quote_slot(xb, request->quote_id);
    if (quote == NULL || quote->requester != request->requester) return COR_XB_QUOTE_UNKNOWN;
    if (quote->used_by != 0) return COR_XB_QUOTE_USED;
    if (timestamp >= quote->expires_at) return COR_XB_QUOTE_EXPIRED;
    xb_peer_entry *peer = cor__xb_peer_find(xb, quote->peer_node);
    if (peer == NULL || peer->peer.ledger != quote->dest_ledger) {
        return COR_XB_CORRIDOR_UNKNOWN;
    }
    const cor_xb_fx *fx = cor__xb_fx_find(xb, quote->fx_id, quote->peer_node);
    if (fx == NULL || fx->account_id != quote->fx_account) return COR_XB_CORRIDOR_UNKNOWN;
    const cor_xb_peer *limits = &peer->peer;
    if (limits->payment_max_out != 0 && quote->amount_source > limits->payment_max_out) {
        return COR_XB_AMOUNT_ABOVE_MAX;
    }
    cor_u128 today = peer->out_day == xb_day(timestamp) ? peer->out_today : 0;
    if (limits->daily_max_out != 0 && (quote->amount_source > limits->daily_max_out ||
                                       today > limits->daily_max_out - quote->amount_source)) {
        return COR_XB_DAILY_LIMIT;
    }
    *quote_out = quote;
    *peer_out = peer;
    return COR_XB_OK;
}

static cor_xb_message xb_instruction_build(const cor_xb *xb, uint64_t timestamp,
                                           const cor_xb_payment_request *request,
                                           const cor_xb_quote *quote)
{
    return (cor_xb_message){
        .uetr = request->uetr,
        .quote_id = quote->id,
        .amount_source = quote->amount_source,
        .amount_dest = quote->amount_dest,
        .fee_source = quote->fee_source,
        .debtor_account = request->debtor_account,
        .creditor_account = request->creditor_account,
        .rate_num = quote->rate_num,
        .rate_den = quote->rate_den,
        .fx_id = quote->fx_id,
        .deadline = timestamp + xb->options.deadline_ns,
        .type = COR_XB_PACS008,
        .from_node = xb->options.node_id,
        .to_node = quote->peer_node,
        .source_ledger = xb->options.ledger,
        .dest_ledger = quote->dest_ledger,
        .spread_ppm = quote->spread_ppm,
        .fixed = quote->fixed,
    };
}

/* Repeat of an initiation: the same request again is accepted with no effect. */
static uint32_t xb_initiate_repeat(const cor_xb_payment *p, const cor_xb_payment_request *r)
{
    bool same = p->role == COR_XB_ROLE_ORIGIN && p->requester == r->requester &&
                p->instruction.quote_id == r->quote_id &&
                p->instruction.debtor_account == r->debtor_account &&
                p->instruction.creditor_account == r->creditor_account;
    return same ? COR_XB_OK : COR_XB_DUPLICATE;
}

/* The part of an initiation after validation: reserve leg 1, record, queue the first send.
 * return_of and return_reason are 0 for a payment, set for a return (pacs.004). */
static uint32_t xb_originate(cor_xb *xb, uint64_t timestamp, const cor_xb_payment_request *request,
                             cor_xb_quote *quote, xb_peer_entry *peer, cor_u128 return_of,
                             uint32_t return_reason)
{
    if (xb->payments_count == xb->options.payments_max || !cor__xb_outbox_has_room(xb, 1)) {
        return COR_XB_BUSY;
    }
    cor_transfer leg1 = {
        .id = cor_xb_transfer_id(request->uetr, COR_XB_LEG1_PENDING),
        .debit_account_id = request->debtor_account,
        .credit_account_id = quote->fx_account,
        .amount = quote->amount_source,
        .user_data_128 = request->uetr,
        .ledger = xb->options.ledger,
        .code = xb->options.transfer_code,
        .flags = COR_TRANSFER_PENDING, /* timeout 0: only B's answer ends it */
    };
    uint32_t checked = xb_leg_check(xb, &leg1);
    if (checked != COR_XB_OK) return checked;
    uint32_t status = xb_ledger_one(xb, timestamp, &leg1);
    if (status != COR_TRANSFER_CREATED) {
        return xb_ledger_reason(status, COR_XB_DEBTOR_ACCOUNT, COR_XB_CORRIDOR_UNKNOWN);
    }

    cor_xb_payment payment = {
        .instruction = xb_instruction_build(xb, timestamp, request, quote),
        .next_retry_at = timestamp + xb->options.retry_initial_ns,
        .role = COR_XB_ROLE_ORIGIN,
        .state = COR_XB_STATE_FORWARDED,
        .send_count = 1,
        .requester = request->requester,
    };
    if (return_of != 0) {
        payment.instruction.type = COR_XB_PACS004;
        payment.instruction.return_of = return_of;
        payment.instruction.return_reason = return_reason;
    }
    cor__xb_track(&payment, COR_XB_STEP_RESERVED, xb->options.node_id, timestamp);
    uint32_t index = cor__xb_payment_append(xb, &payment);
    cor__xb_open_push(xb, index);
    quote->used_by = request->uetr;
    uint64_t day = xb_day(timestamp);
    if (peer->out_day != day) {
        peer->out_day = day;
        peer->out_today = 0;
    }
    peer->out_today += quote->amount_source;
    cor__xb_send(xb, timestamp, &payment.instruction);
    return COR_XB_OK;
}

cor_error cor_xb_payment_initiate(cor_xb *xb, uint64_t timestamp,
                                  const cor_xb_payment_request *request, uint32_t *reason_out)
{
    if (request == NULL || reason_out == NULL) return COR_ERR_INVALID;
    uint32_t reason = COR_XB_OK;
    cor_xb_quote *quote = NULL;
    xb_peer_entry *peer = NULL;
    const cor_xb_payment *existing = NULL;
    if (!cor_xb_uetr_valid(request->uetr)) {
        reason = COR_XB_UETR_INVALID;
    } else if ((existing = cor__xb_payment_find(xb, request->uetr, NULL)) != NULL) {
        reason = xb_initiate_repeat(existing, request);
        if (reason == COR_XB_OK && existing->instruction.return_of != 0) {
            reason = COR_XB_DUPLICATE; /* that UETR is a return */
        }
    } else if (request->creditor_account == 0 || request->creditor_account == COR_U128_MAX) {
        reason = COR_XB_FORMAT;
    } else {
        reason = xb_initiate_check_quote(xb, timestamp, request, &quote, &peer);
        if (reason == COR_XB_OK) {
            reason = xb_originate(xb, timestamp, request, quote, peer, 0, 0);
        }
    }
    *reason_out = reason;
    return COR_OK;
}

/* The original a return may take back: received here, committed, not returned already
 * (a rejected earlier return does not count). */
static uint32_t xb_return_original(cor_xb *xb, cor_u128 original_uetr,
                                   cor_xb_payment **original_out)
{
    cor_xb_payment *original = cor__xb_payment_find(xb, original_uetr, NULL);
    if (original == NULL || original->role != COR_XB_ROLE_BENEFICIARY ||
        original->state != COR_XB_STATE_COMMITTED) {
        return COR_XB_RETURN_INVALID;
    }
    if (original->returned_by != 0) {
        const cor_xb_payment *previous = cor__xb_payment_find(xb, original->returned_by, NULL);
        if (previous != NULL && previous->state != COR_XB_STATE_REJECTED) {
            return COR_XB_ALREADY_RETURNED;
        }
    }
    *original_out = original;
    return COR_XB_OK;
}

static bool xb_return_reason_valid(uint32_t reason)
{
    return reason == COR_XB_RETURN_CUSTOMER || reason == COR_XB_RETURN_AFTER_CANCEL;
}

cor_error cor_xb_return_initiate(cor_xb *xb, uint64_t timestamp,
                                 const cor_xb_return_request *request, uint32_t *reason_out)
{
    if (request == NULL || reason_out == NULL) return COR_ERR_INVALID;
    cor_xb_payment *original = NULL;
    cor_xb_quote *quote = NULL;
    xb_peer_entry *peer = NULL;
    const cor_xb_payment *existing = cor__xb_payment_find(xb, request->uetr, NULL);
    uint32_t reason = COR_XB_OK;
    if (!xb_return_reason_valid(request->reason) || request->reserved != 0) {
        reason = COR_XB_FORMAT;
    } else if (!cor_xb_uetr_valid(request->uetr)) {
        reason = COR_XB_UETR_INVALID;
    } else if (existing != NULL) {
        bool same = existing->role == COR_XB_ROLE_ORIGIN &&
                    existing->requester == request->requester &&
                    existing->instruction.quote_id == request->quote_id &&
                    existing->instruction.return_of == request->original_uetr &&
                    existing->instruction.return_reason == request->reason;
        reason = same ? COR_XB_OK : COR_XB_DUPLICATE;
    } else {
        reason = xb_return_original(xb, request->original_uetr, &original);
    }
    if (reason != COR_XB_OK || existing != NULL) goto done;
    const cor_xb_message *o = &original->instruction;
    cor_xb_payment_request pay = {
        .uetr = request->uetr,
        .quote_id = request->quote_id,
        .debtor_account = o->creditor_account,
        .creditor_account = o->debtor_account,
        .requester = request->requester,
    };
    reason = xb_initiate_check_quote(xb, timestamp, &pay, &quote, &peer);
    if (reason != COR_XB_OK) goto done;
    if (quote->peer_node != o->from_node) {
        reason = COR_XB_RETURN_INVALID; /* a return goes back where the payment came from */
    } else if (quote->amount_source > o->amount_dest) {
        reason = COR_XB_RETURN_TOO_LARGE;
    } else {
        reason =
            xb_originate(xb, timestamp, &pay, quote, peer, request->original_uetr, request->reason);
        if (reason == COR_XB_OK) original->returned_by = request->uetr;
    }

done:
    *reason_out = reason;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Origin: cancel, answers, timers                                                          */
/* ---------------------------------------------------------------------------------------- */

cor_error cor_xb_payment_cancel(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint64_t requester,
                                uint32_t *reason_out)
{
    if (reason_out == NULL) return COR_ERR_INVALID;
    cor_xb_payment *p = cor__xb_payment_find(xb, uetr, NULL);
    if (p == NULL || p->role != COR_XB_ROLE_ORIGIN || p->requester != requester) {
        *reason_out = COR_XB_PAYMENT_UNKNOWN;
    } else if (p->state != COR_XB_STATE_FORWARDED || p->b_status != COR_XB_STATUS_NONE) {
        *reason_out = COR_XB_ALREADY_FINAL;
    } else if (p->cancel_requested) {
        *reason_out = COR_XB_OK; /* already asked; the timer keeps asking */
    } else if (!cor__xb_outbox_has_room(xb, 1)) {
        *reason_out = COR_XB_BUSY;
    } else {
        p->cancel_requested = 1;
        cor__xb_track(p, COR_XB_STEP_CANCEL_REQUESTED, xb->options.node_id, timestamp);
        cor_xb_message m = p->instruction;
        m.type = COR_XB_CAMT056;
        cor__xb_send(xb, timestamp, &m);
        p->send_count++;
        p->next_retry_at = timestamp + xb->options.retry_initial_ns;
        cor__xb_timer_note(xb, p->next_retry_at);
        *reason_out = COR_XB_OK;
    }
    return COR_OK;
}

/* Applies B's known decision to leg 1. Leaves the payment FORWARDED (retried by the timer)
 * when the ledger refuses, which only an operator action on the accounts can cause. */
static void xb_origin_settle(cor_xb *xb, uint64_t timestamp, uint32_t index)
{
    cor_xb_payment *p = &xb->payments[index];
    COR_ASSERT(p->state == COR_XB_STATE_FORWARDED);
    COR_ASSERT(p->b_status == COR_XB_STATUS_ACSC || p->b_status == COR_XB_STATUS_RJCT);
    bool post = p->b_status == COR_XB_STATUS_ACSC;
    cor_transfer settle = {
        .id = cor_xb_transfer_id(p->instruction.uetr, post ? COR_XB_LEG1_POST : COR_XB_LEG1_VOID),
        .pending_id = cor_xb_transfer_id(p->instruction.uetr, COR_XB_LEG1_PENDING),
        .amount = post ? COR_AMOUNT_MAX : 0,
        .flags = post ? COR_TRANSFER_POST_PENDING_TRANSFER : COR_TRANSFER_VOID_PENDING_TRANSFER,
    };
    uint32_t status = xb_ledger_one(xb, timestamp, &settle);
    if (status != COR_TRANSFER_CREATED && status != COR_TRANSFER_EXISTS) return;
    p->state = post ? COR_XB_STATE_COMMITTED : COR_XB_STATE_REJECTED;
    cor__xb_track(p, post ? COR_XB_STEP_POSTED : COR_XB_STEP_VOIDED, xb->options.node_id,
                  timestamp);
    cor__xb_open_remove(xb, index);
    if (post && p->instruction.return_of != 0) {
        cor_xb_payment *original = cor__xb_payment_find(xb, p->instruction.return_of, NULL);
        if (original != NULL) {
            cor__xb_track(original, COR_XB_STEP_RETURNED, xb->options.node_id, timestamp);
        }
    }
    if (!post) {
        xb_peer_entry *peer = cor__xb_peer_find(xb, p->instruction.to_node);
        COR_ASSERT(peer != NULL);
        uint64_t day = xb_day(p->track[0].timestamp);
        if (peer->out_day == day && peer->out_today >= p->instruction.amount_source) {
            peer->out_today -= p->instruction.amount_source;
        }
    }
}

/* A pacs.002 or camt.029 from B about one of our payments. */
static uint32_t xb_origin_answer(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m)
{
    uint32_t index = 0;
    cor_xb_payment *p = cor__xb_payment_find(xb, m->uetr, &index);
    if (p == NULL || p->role != COR_XB_ROLE_ORIGIN) return COR_XB_PAYMENT_UNKNOWN;
    if (p->instruction.to_node != m->from_node) return COR_XB_PAYMENT_UNKNOWN;
    if (!xb_same_instruction(&p->instruction, p->instruction.from_node, m, m->to_node)) {
        return COR_XB_MISMATCH;
    }
    if (m->status != COR_XB_STATUS_ACSC && m->status != COR_XB_STATUS_RJCT) {
        return COR_XB_OK; /* PDNG: B has no decision yet; keep asking */
    }
    bool final = p->state != COR_XB_STATE_FORWARDED;
    uint32_t known =
        final ? (p->state == COR_XB_STATE_COMMITTED ? COR_XB_STATUS_ACSC : COR_XB_STATUS_RJCT)
              : p->b_status;
    if (known != COR_XB_STATUS_NONE) {
        if (known != m->status) {
            xb->conflicts++; /* B contradicted itself: alarm, never acted upon */
            cor__xb_track(p, COR_XB_STEP_CONFLICT, m->from_node, timestamp);
        }
        if (!final) xb_origin_settle(xb, timestamp, index);
        return COR_XB_OK;
    }
    p->b_status = m->status;
    p->reason = m->status == COR_XB_STATUS_RJCT ? m->reason : COR_XB_OK;
    p->decided_at = m->decided_at;
    cor__xb_track(p, COR_XB_STEP_DECISION_KNOWN, m->from_node, m->decided_at);
    xb_origin_settle(xb, timestamp, index);
    return COR_XB_OK;
}

static void xb_held_finish(cor_xb *xb, uint64_t timestamp, uint32_t index, uint32_t reason);

static uint64_t xb_backoff(const cor_xb *xb, uint32_t send_count)
{
    uint64_t delay = xb->options.retry_initial_ns;
    for (uint32_t i = 1; i < send_count && delay < xb->options.retry_max_ns; i++)
        delay *= 2;
    return delay < xb->options.retry_max_ns ? delay : xb->options.retry_max_ns;
}

uint32_t cor_xb_tick(cor_xb *xb, uint64_t timestamp, uint32_t limit)
{
    uint32_t handled = 0;
    uint32_t next = xb->open_head;
    while (next != 0 && handled < limit) {
        uint32_t index = next - 1;
        next = xb->open_next[index]; /* settle may unlink index */
        cor_xb_payment *p = &xb->payments[index];
        if (p->next_retry_at > timestamp) continue;
        if (p->role == COR_XB_ROLE_BENEFICIARY) {
            if (timestamp <= p->instruction.deadline) continue; /* a clock behind the timer */
            xb_held_finish(xb, timestamp, index, COR_XB_DEADLINE_PASSED);
            handled++;
            continue;
        }
        if (p->b_status != COR_XB_STATUS_NONE) {
            xb_origin_settle(xb, timestamp, index);
        } else {
            if (!cor__xb_outbox_has_room(xb, 1)) break;
            cor_xb_message m = p->instruction;
            if (p->cancel_requested) {
                m.type = COR_XB_CAMT056;
            } else if (timestamp > p->instruction.deadline) {
                m.type = COR_XB_PACS028;
            }
            cor__xb_send(xb, timestamp, &m);
            p->send_count++;
        }
        if (p->state == COR_XB_STATE_FORWARDED) {
            p->next_retry_at = timestamp + xb_backoff(xb, p->send_count);
        }
        handled++;
    }
    xb->timer_floor = cor__xb_timer_scan(xb); /* exact again: one walk per tick */
    return handled;
}

/* ---------------------------------------------------------------------------------------- */
/* Beneficiary (node B)                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* Queues an answer about instruction i (pacs.002, or camt.029 when cancel is set). Dropped
 * when the outbox is full: A asks again and gets the same answer. */
static void xb_answer(cor_xb *xb, uint64_t timestamp, const cor_xb_message *request,
                      const cor_xb_message *instruction, uint32_t status, uint32_t reason,
                      uint64_t decided_at)
{
    if (!cor__xb_outbox_has_room(xb, 1)) return;
    cor_xb_message m = *instruction;
    m.type = request->type == COR_XB_CAMT056 ? COR_XB_CAMT029 : COR_XB_PACS002;
    m.to_node = request->from_node;
    m.orig_msg_id = request->msg_id;
    m.status = status;
    m.reason = status == COR_XB_STATUS_ACSC ? COR_XB_OK : reason;
    m.decided_at = decided_at;
    if (m.type == COR_XB_CAMT029) {
        m.cancel_status = status == COR_XB_STATUS_ACSC   ? COR_XB_CANCEL_RJCR
                          : status == COR_XB_STATUS_RJCT ? COR_XB_CANCEL_CNCL
                                                         : COR_XB_CANCEL_NONE;
    }
    cor__xb_send(xb, timestamp, &m);
}

static void xb_answer_record(cor_xb *xb, uint64_t timestamp, const cor_xb_message *request,
                             const cor_xb_payment *p)
{
    COR_ASSERT(p->state == COR_XB_STATE_COMMITTED || p->state == COR_XB_STATE_REJECTED);
    uint32_t status = p->state == COR_XB_STATE_COMMITTED ? COR_XB_STATUS_ACSC : COR_XB_STATUS_RJCT;
    xb_answer(xb, timestamp, request, &p->instruction, status, p->reason, p->decided_at);
}

/* Business validation of an instruction B has not decided yet (order = precedence). */
static uint32_t xb_beneficiary_validate(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m,
                                        const xb_peer_entry *peer)
{
    if (m->amount_source == 0 || m->amount_dest == 0 || m->fee_source >= m->amount_source ||
        m->debtor_account == 0 || m->creditor_account == 0 || m->creditor_account == COR_U128_MAX ||
        m->deadline == 0 || m->quote_id == 0 || (uint32_t)(m->quote_id >> 96) != m->from_node) {
        return COR_XB_FORMAT; /* quote ids live in the issuing (origin) node's namespace */
    }
    if (timestamp > m->deadline) return COR_XB_DEADLINE_PASSED;
    if (m->deadline - timestamp > xb->options.deadline_max_ns) return COR_XB_DEADLINE_INVALID;
    if (m->dest_ledger != xb->options.ledger || m->source_ledger != peer->peer.ledger) {
        return COR_XB_CURRENCY;
    }
    if (cor__xb_fx_find(xb, m->fx_id, m->from_node) == NULL) return COR_XB_CORRIDOR_UNKNOWN;
    if (!cor_xb_amounts_check(m->amount_source - m->fee_source, m->amount_dest, m->rate_num,
                              m->rate_den, m->spread_ppm, m->fixed)) {
        return COR_XB_AMOUNT_MISMATCH;
    }
    const cor_xb_peer *limits = &peer->peer;
    if (limits->payment_max_in != 0 && m->amount_dest > limits->payment_max_in) {
        return COR_XB_AMOUNT_ABOVE_MAX;
    }
    cor_u128 today = peer->in_day == xb_day(timestamp) ? peer->in_today : 0;
    if (limits->daily_max_in != 0 &&
        (m->amount_dest > limits->daily_max_in || today > limits->daily_max_in - m->amount_dest)) {
        return COR_XB_DAILY_LIMIT;
    }
    return COR_XB_OK;
}

/* A return names one of our committed origin payments to its sender, reverses its
 * accounts, does not exceed it, and is the first return of it to settle. While our side of
 * the original is still open (its ACSC is on the way) the answer is BUSY, i.e. PDNG:
 * nothing is recorded and the returning node asks again. */
static uint32_t xb_return_check(cor_xb *xb, const cor_xb_message *m, cor_xb_payment **original_out)
{
    cor_xb_payment *o = cor__xb_payment_find(xb, m->return_of, NULL);
    if (o == NULL || o->role != COR_XB_ROLE_ORIGIN || o->instruction.to_node != m->from_node) {
        return COR_XB_RETURN_INVALID;
    }
    if (o->state == COR_XB_STATE_FORWARDED) {
        return COR_XB_BUSY; /* the sender settled it and we have not heard yet: ask again */
    }
    if (o->state != COR_XB_STATE_COMMITTED) return COR_XB_RETURN_INVALID;
    if (m->creditor_account != o->instruction.debtor_account ||
        m->debtor_account != o->instruction.creditor_account) {
        return COR_XB_RETURN_INVALID;
    }
    if (m->amount_dest > o->instruction.amount_source) return COR_XB_RETURN_TOO_LARGE;
    if (o->returned_by != 0) return COR_XB_ALREADY_RETURNED;
    *original_out = o;
    return COR_XB_OK;
}

/* Posts leg 2. Returns OK, a rejection reason, or BUSY (capacity: nothing recorded). */
static uint32_t xb_beneficiary_commit(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m,
                                      xb_peer_entry *peer)
{
    const cor_xb_fx *fx = cor__xb_fx_find(xb, m->fx_id, m->from_node);
    COR_ASSERT(fx != NULL);
    cor_transfer leg2 = {
        .id = cor_xb_transfer_id(m->uetr, COR_XB_LEG2),
        .debit_account_id = fx->account_id,
        .credit_account_id = m->creditor_account,
        .amount = m->amount_dest,
        .user_data_128 = m->uetr,
        .ledger = xb->options.ledger,
        .code = xb->options.transfer_code,
    };
    uint32_t checked = xb_leg_check(xb, &leg2);
    if (checked != COR_XB_OK) return checked;
    uint32_t status = xb_ledger_one(xb, timestamp, &leg2);
    if (status != COR_TRANSFER_CREATED && status != COR_TRANSFER_EXISTS) {
        return xb_ledger_reason(status, COR_XB_CORRIDOR_UNKNOWN, COR_XB_CREDITOR_ACCOUNT);
    }
    uint64_t day = xb_day(timestamp);
    if (peer->in_day != day) {
        peer->in_day = day;
        peer->in_today = 0;
    }
    peer->in_today += m->amount_dest;
    return COR_XB_OK;
}

/* Records B's decision (reason OK = COMMITTED) and answers it. */
static void xb_beneficiary_record(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m,
                                  uint32_t reason)
{
    cor_xb_payment p = {
        .instruction = xb_instruction_of(m),
        .decided_at = timestamp,
        .role = COR_XB_ROLE_BENEFICIARY,
        .state = reason == COR_XB_OK ? COR_XB_STATE_COMMITTED : COR_XB_STATE_REJECTED,
        .reason = reason,
    };
    cor__xb_track(&p, COR_XB_STEP_RECEIVED, xb->options.node_id, timestamp);
    cor__xb_track(&p, reason == COR_XB_OK ? COR_XB_STEP_SETTLED : COR_XB_STEP_REFUSED,
                  xb->options.node_id, timestamp);
    uint32_t index = cor__xb_payment_append(xb, &p);
    xb_answer_record(xb, timestamp, m, &xb->payments[index]);
}

/* Decides a HELD payment: reason OK commits (leg 2 already posted by the caller). Queues
 * an unsolicited pacs.002 to the origin so it need not wait for its next ask. */
static void xb_held_finish(cor_xb *xb, uint64_t timestamp, uint32_t index, uint32_t reason)
{
    cor_xb_payment *p = &xb->payments[index];
    COR_ASSERT(p->role == COR_XB_ROLE_BENEFICIARY && p->state == COR_XB_STATE_HELD);
    p->state = reason == COR_XB_OK ? COR_XB_STATE_COMMITTED : COR_XB_STATE_REJECTED;
    p->reason = reason;
    p->decided_at = timestamp;
    cor__xb_track(p, reason == COR_XB_OK ? COR_XB_STEP_SETTLED : COR_XB_STEP_REFUSED,
                  xb->options.node_id, timestamp);
    cor__xb_open_remove(xb, index);
    cor_xb_message ask = {.type = COR_XB_PACS008, .from_node = p->instruction.from_node};
    xb_answer_record(xb, timestamp, &ask, p);
}

/* Release: everything B checks on a new instruction, again, now; then the ledger. */
static uint32_t xb_held_release(cor_xb *xb, uint64_t timestamp, uint32_t index)
{
    cor_xb_payment *p = &xb->payments[index];
    const cor_xb_message *m = &p->instruction;
    xb_peer_entry *peer = cor__xb_peer_find(xb, m->from_node);
    cor_xb_payment *original = NULL;
    uint32_t reason =
        peer == NULL ? COR_XB_CORRIDOR_UNKNOWN : xb_beneficiary_validate(xb, timestamp, m, peer);
    if (reason == COR_XB_OK && m->return_of != 0) reason = xb_return_check(xb, m, &original);
    if (reason == COR_XB_OK) reason = xb_beneficiary_commit(xb, timestamp, m, peer);
    if (reason == COR_XB_BUSY) return reason; /* still held; the operator may retry */
    if (reason == COR_XB_OK && original != NULL) {
        original->returned_by = m->uetr;
        cor__xb_track(original, COR_XB_STEP_RETURNED, xb->options.node_id, timestamp);
    }
    xb_held_finish(xb, timestamp, index, reason);
    return reason;
}

/* A message about a UETR B already holds a record for. */
static void xb_beneficiary_known(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m,
                                 uint32_t index)
{
    const cor_xb_payment *p = &xb->payments[index];
    bool same = p->role == COR_XB_ROLE_BENEFICIARY &&
                xb_same_instruction(&p->instruction, p->instruction.from_node, m, m->from_node);
    if (!same) {
        /* The UETR is taken by another payment, forever: this one never executes. */
        xb_answer(xb, timestamp, m, m, COR_XB_STATUS_RJCT, COR_XB_DUPLICATE, timestamp);
        return;
    }
    if (p->state == COR_XB_STATE_HELD) {
        if (m->type == COR_XB_CAMT056) {
            xb_held_finish(xb, timestamp, index, COR_XB_CANCELLED); /* nothing posted yet */
        } else if (timestamp > p->instruction.deadline) {
            xb_held_finish(xb, timestamp, index, COR_XB_DEADLINE_PASSED);
        } else {
            xb_answer(xb, timestamp, m, &p->instruction, COR_XB_STATUS_PDNG, COR_XB_HELD, 0);
            return;
        }
        if (m->type != COR_XB_CAMT056) return; /* xb_held_finish answered with a pacs.002 */
    }
    xb_answer_record(xb, timestamp, m, &xb->payments[index]);
}

/* Records a valid instruction as HELD (screening hit) and answers PDNG. */
static void xb_beneficiary_hold(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m)
{
    cor_xb_payment p = {
        .instruction = xb_instruction_of(m),
        .next_retry_at = m->deadline + 1, /* tick rejects it then */
        .role = COR_XB_ROLE_BENEFICIARY,
        .state = COR_XB_STATE_HELD,
        .reason = COR_XB_HELD,
    };
    cor__xb_track(&p, COR_XB_STEP_RECEIVED, xb->options.node_id, timestamp);
    cor__xb_track(&p, COR_XB_STEP_HELD, xb->options.node_id, timestamp);
    uint32_t index = cor__xb_payment_append(xb, &p);
    cor__xb_open_push(xb, index);
    xb_answer(xb, timestamp, m, m, COR_XB_STATUS_PDNG, COR_XB_HELD, 0);
}

/* A message naming a UETR B has no record of. */
static void xb_beneficiary_new(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m,
                               xb_peer_entry *peer, bool hold)
{
    if (xb->payments_count == xb->options.payments_max) {
        xb_answer(xb, timestamp, m, m, COR_XB_STATUS_PDNG, COR_XB_BUSY, 0);
        return;
    }
    uint32_t reason = COR_XB_OK;
    cor_xb_payment *original = NULL;
    if (m->type == COR_XB_CAMT056) {
        reason = COR_XB_CANCELLED; /* not seen yet: cancel it for good */
    } else if (m->type == COR_XB_PACS028) {
        if (timestamp <= m->deadline) {
            xb_answer(xb, timestamp, m, m, COR_XB_STATUS_PDNG, COR_XB_PAYMENT_UNKNOWN, 0);
            return;
        }
        reason = COR_XB_DEADLINE_PASSED; /* never seen and too late: refuse it for good */
    } else {
        reason = xb_beneficiary_validate(xb, timestamp, m, peer);
        if (reason == COR_XB_OK && m->type == COR_XB_PACS004) {
            reason = xb_return_check(xb, m, &original);
        }
        if (reason == COR_XB_OK && hold) {
            xb_beneficiary_hold(xb, timestamp, m);
            return;
        }
        if (reason == COR_XB_OK) reason = xb_beneficiary_commit(xb, timestamp, m, peer);
        if (reason == COR_XB_BUSY) {
            xb_answer(xb, timestamp, m, m, COR_XB_STATUS_PDNG, COR_XB_BUSY, 0);
            return;
        }
        if (reason == COR_XB_OK && original != NULL) {
            original->returned_by = m->uetr;
            cor__xb_track(original, COR_XB_STEP_RETURNED, xb->options.node_id, timestamp);
        }
    }
    xb_beneficiary_record(xb, timestamp, m, reason);
}

static cor_xb_payment *xb_held_find(cor_xb *xb, cor_u128 uetr, uint32_t *index_out)
{
    cor_xb_payment *p = cor__xb_payment_find(xb, uetr, index_out);
    if (p == NULL || p->role != COR_XB_ROLE_BENEFICIARY || p->state != COR_XB_STATE_HELD) {
        return NULL;
    }
    return p;
}

cor_error cor_xb_hold_release(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint32_t *reason_out)
{
    if (reason_out == NULL) return COR_ERR_INVALID;
    uint32_t index = 0;
    if (xb_held_find(xb, uetr, &index) == NULL) {
        *reason_out = COR_XB_NOT_HELD;
        return COR_OK;
    }
    *reason_out = xb_held_release(xb, timestamp, index);
    return COR_OK;
}

cor_error cor_xb_hold_reject(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint32_t *reason_out)
{
    if (reason_out == NULL) return COR_ERR_INVALID;
    uint32_t index = 0;
    if (xb_held_find(xb, uetr, &index) == NULL) {
        *reason_out = COR_XB_NOT_HELD;
        return COR_OK;
    }
    xb_held_finish(xb, timestamp, index, COR_XB_REGULATORY);
    *reason_out = COR_XB_REGULATORY;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Envelope                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void xb_seen_evict(cor_xb *xb, uint64_t timestamp)
{
    uint64_t window = xb->options.replay_window_ns;
    while (xb->seen_count > 0) {
        xb_seen *oldest = &xb->seen[xb->seen_head];
        if (oldest->created_at > UINT64_MAX - window || oldest->created_at + window >= timestamp) {
            break;
        }
        cor__xb_map_remove(&xb->seen_index, oldest->msg_id);
        memset(oldest, 0, sizeof(*oldest));
        xb->seen_head = (xb->seen_head + 1) % xb->options.seen_max;
        xb->seen_count--;
    }
}

static uint32_t xb_envelope_check(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m)
{
    static const uint8_t zero[sizeof(m->reserved)];
    if (m->type < COR_XB_PACS008 || m->type > COR_XB_PACS004) return COR_XB_FORMAT;
    if (memcmp(m->reserved, zero, sizeof(zero)) != 0) return COR_XB_FORMAT;
    if (m->to_node != xb->options.node_id) return COR_XB_NOT_ADDRESSEE;
    if (m->from_node == xb->options.node_id || cor__xb_peer_find(xb, m->from_node) == NULL) {
        return COR_XB_PEER_UNKNOWN;
    }
    if (m->msg_id == 0 || (uint32_t)(m->msg_id >> 96) != m->from_node) return COR_XB_FORMAT;
    if (m->status > COR_XB_STATUS_PDNG || m->reason >= COR_XB_REASON_COUNT ||
        m->cancel_status > COR_XB_CANCEL_RJCR) {
        return COR_XB_FORMAT;
    }
    if (m->fixed != COR_XB_FIXED_SOURCE && m->fixed != COR_XB_FIXED_DEST) return COR_XB_FORMAT;
    if (m->rate_num == 0 || m->rate_den == 0 || m->spread_ppm >= XB_PPM) return COR_XB_FORMAT;
    if (!cor_xb_uetr_valid(m->uetr)) return COR_XB_UETR_INVALID;
    bool is_return = m->return_of != 0;
    if (m->type == COR_XB_PACS008 && is_return) return COR_XB_FORMAT;
    if (m->type == COR_XB_PACS004 && !is_return) return COR_XB_FORMAT;
    if (is_return ? !xb_return_reason_valid(m->return_reason) : m->return_reason != 0) {
        return COR_XB_FORMAT;
    }
    if (is_return && !cor_xb_uetr_valid(m->return_of)) return COR_XB_UETR_INVALID;
    uint64_t window = xb->options.replay_window_ns;
    if (timestamp > window && m->created_at < timestamp - window) return COR_XB_STALE;
    if (m->created_at > timestamp && m->created_at - timestamp > xb->options.clock_skew_ns) {
        return COR_XB_STALE;
    }
    uint32_t slot = 0;
    if (cor__xb_map_find(&xb->seen_index, m->msg_id, &slot)) return COR_XB_REPLAY;
    return COR_XB_OK;
}

/* Remembers an accepted message id for the replay window; false when the ring is full. */
static bool xb_seen_add(cor_xb *xb, uint64_t timestamp, const cor_xb_message *m)
{
    xb_seen_evict(xb, timestamp);
    if (xb->seen_count == xb->options.seen_max) return false;
    uint32_t slot = (xb->seen_head + xb->seen_count) % xb->options.seen_max;
    xb->seen[slot] = (xb_seen){.msg_id = m->msg_id, .created_at = m->created_at};
    cor__xb_map_insert(&xb->seen_index, m->msg_id, slot);
    xb->seen_count++;
    return true;
}

cor_error cor_xb_receive(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message,
                         uint32_t *reason_out)
{
    return cor_xb_receive_flags(xb, timestamp, message, 0, reason_out);
}

cor_error cor_xb_receive_flags(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message,
                               uint32_t flags, uint32_t *reason_out)
{
    if (message == NULL || reason_out == NULL) return COR_ERR_INVALID;
    if ((flags & ~(uint32_t)COR_XB_RECEIVE_HOLD) != 0) return COR_ERR_INVALID;
    uint32_t reason = xb_envelope_check(xb, timestamp, message);
    if (reason == COR_XB_OK && !xb_seen_add(xb, timestamp, message)) reason = COR_XB_BUSY;
    if (reason != COR_XB_OK) {
        xb->refusals++;
        *reason_out = reason;
        return COR_OK;
    }
    xb_peer_entry *peer = cor__xb_peer_find(xb, message->from_node);
    switch (message->type) {
    case COR_XB_PACS008:
    case COR_XB_PACS004:
    case COR_XB_PACS028:
    case COR_XB_CAMT056: {
        uint32_t index = 0;
        if (cor__xb_payment_find(xb, message->uetr, &index) != NULL) {
            xb_beneficiary_known(xb, timestamp, message, index);
        } else {
            xb_beneficiary_new(xb, timestamp, message, peer, (flags & COR_XB_RECEIVE_HOLD) != 0);
        }
        break;
    }
    case COR_XB_PACS002:
    case COR_XB_CAMT029:
        reason = xb_origin_answer(xb, timestamp, message);
        break;
    default:
        COR_UNREACHABLE();
    }
    *reason_out = reason;
    return COR_OK;
}
