/*
 * corridor: the cross-border protocol core.
 *
 * One cor_xb per node. It is the deterministic state machine of docs/PROTOCOL.md: FX rate
 * sheets, quotes, cross-border payments by UETR (as the origin node A or as the beneficiary
 * node B), peers with limits, replay protection of peer messages, and the outbox of messages
 * the node must send. It is bound to the node's ledger (one currency = one ledger id) and
 * moves money only through cor_ledger_create_transfers on that ledger:
 *
 *   leg 1 on A: pending transfer debtor -> FX provider's account (id from the UETR, kind 1),
 *               posted (kind 2) when B answers ACSC, voided (kind 3) when B answers RJCT;
 *   leg 2 on B: posted transfer FX provider's account -> creditor (kind 5), the decision.
 *
 * Determinism: no I/O, no clock, no allocation after cor_xb_open. Every command takes the
 * caller's timestamp (ns). The canonical state (cor_xb_serialize) is a pure function of the
 * commands applied, whatever the hash seed. The outbox is not part of that state: it is the
 * output of the commands, which the node drains after each command or batch (see below).
 *
 * Peer messages are plain structs (cor_xb_message). The node maps them to and from ISO 20022
 * (pacs.008, pacs.002, pacs.028, camt.056, camt.029, pacs.004), signs and verifies them (Ed25519)
 * and moves them; none of that is in this module. Receivers here check the envelope (addressee,
 * known peer, message id namespace, replay window, message-id dedup) and then the business
 * content.
 *
 * Threads: not thread-safe; the node's core thread owns a cor_xb and its ledger together.
 * The ledger must outlive the cor_xb, and nothing else may post or void the transfers whose
 * ids cor_xb_transfer_id gives.
 */
#ifndef CORRIDOR_XBORDER_H
#define CORRIDOR_XBORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/ledger.h"
#include "corridor/u128.h"

/* ---------------------------------------------------------------------------------------- */
/* Reasons: every refusal and every rejection carries one, with its ISO 20022 code.          */
/* ---------------------------------------------------------------------------------------- */

#define COR_XB_REASON_LIST(X)                                                                      \
    X(COR_XB_OK, "", "accepted")                                                                   \
    X(COR_XB_DEADLINE_PASSED, "AB05", "deadline passed before the beneficiary node decided")       \
    X(COR_XB_DEADLINE_INVALID, "DT01", "deadline missing, in the past or too far ahead")           \
    X(COR_XB_FORMAT, "FF01", "a field is missing or out of range")                                 \
    X(COR_XB_UETR_INVALID, "FF01", "uetr is not a version 4 uuid")                                 \
    X(COR_XB_CURRENCY, "CURR", "currency does not match the corridor")                             \
    X(COR_XB_CORRIDOR_UNKNOWN, "AG01", "no corridor or fx provider agreement for this pair")       \
    X(COR_XB_AMOUNT_MISMATCH, "AM09", "amounts do not match the quoted rate")                      \
    X(COR_XB_AMOUNT_ABOVE_MAX, "AM02", "amount above the corridor's per-payment maximum")          \
    X(COR_XB_AMOUNT_BELOW_MIN, "AM06", "amount below the rate's minimum")                          \
    X(COR_XB_DAILY_LIMIT, "AM13", "corridor daily total would be exceeded")                        \
    X(COR_XB_INSUFFICIENT_FUNDS, "AM04", "insufficient funds")                                     \
    X(COR_XB_DEBTOR_ACCOUNT, "AC02", "debtor account unknown")                                     \
    X(COR_XB_CREDITOR_ACCOUNT, "AC03", "creditor account unknown")                                 \
    X(COR_XB_ACCOUNT_CLOSED, "AC04", "account closed")                                             \
    X(COR_XB_DUPLICATE, "DUPL", "uetr already used by a different payment")                        \
    X(COR_XB_QUOTE_UNKNOWN, "AM09", "quote unknown or not yours")                                  \
    X(COR_XB_QUOTE_EXPIRED, "AB05", "quote expired")                                               \
    X(COR_XB_QUOTE_USED, "DUPL", "quote already used by another payment")                          \
    X(COR_XB_NO_RATE, "AG01", "no fx rate for this corridor and amount")                           \
    X(COR_XB_CANCELLED, "CUST", "cancelled at the debtor's request")                               \
    X(COR_XB_ALREADY_FINAL, "ARDT", "payment already final")                                       \
    X(COR_XB_LEDGER, "AB09", "ledger refused the transfer")                                        \
    X(COR_XB_BUSY, "NARR", "capacity exhausted, retry later")                                      \
    X(COR_XB_PAYMENT_UNKNOWN, "AG09", "payment unknown")                                           \
    X(COR_XB_NOT_ADDRESSEE, "RC01", "message addressed to another node")                           \
    X(COR_XB_PEER_UNKNOWN, "RC01", "sender is not a known peer")                                   \
    X(COR_XB_REPLAY, "DUPL", "message id already seen")                                            \
    X(COR_XB_STALE, "TM01", "message outside the replay window")                                   \
    X(COR_XB_MISMATCH, "NARR", "answer does not match the payment it names")                       \
    X(COR_XB_RETURN_CUSTOMER, "MD06", "returned at the end customer's request")                    \
    X(COR_XB_RETURN_AFTER_CANCEL, "FOCR", "returned following a cancellation request")             \
    X(COR_XB_RETURN_INVALID, "AG09", "original payment unknown or not settled here")               \
    X(COR_XB_RETURN_TOO_LARGE, "AM09", "return exceeds the original payment")                      \
    X(COR_XB_ALREADY_RETURNED, "ARDT", "original payment already returned")                        \
    X(COR_XB_HELD, "NARR", "on hold for compliance review at the beneficiary node")                \
    X(COR_XB_REGULATORY, "RR04", "rejected by the operator after compliance review")               \
    X(COR_XB_NOT_HELD, "NARR", "payment is not on hold")

typedef enum cor_xb_reason {
#define COR_XB_REASON_ENUM(name, iso, text) name,
    COR_XB_REASON_LIST(COR_XB_REASON_ENUM)
#undef COR_XB_REASON_ENUM
        COR_XB_REASON_COUNT
} cor_xb_reason;

const char *cor_xb_reason_iso(uint32_t reason);  /* "AM09"; "" for OK; "NARR" if unknown */
const char *cor_xb_reason_text(uint32_t reason); /* human text, never NULL */
const char *cor_xb_reason_name(uint32_t reason); /* "COR_XB_AMOUNT_MISMATCH" */

/* ---------------------------------------------------------------------------------------- */
/* Messages between nodes                                                                   */
/* ---------------------------------------------------------------------------------------- */

typedef enum cor_xb_message_type {
    COR_XB_PACS008 = 1, /* A -> B: the payment instruction (also every re-send) */
    COR_XB_PACS002 = 2, /* B -> A: status of a payment (ACSC, RJCT or PDNG) */
    COR_XB_PACS028 = 3, /* A -> B: status request once the deadline has passed */
    COR_XB_CAMT056 = 4, /* A -> B: cancellation request */
    COR_XB_CAMT029 = 5, /* B -> A: resolution of a cancellation request (+ payment status) */
    COR_XB_PACS004 = 6, /* B -> A: a return of a settled payment (itself a payment, B origin) */
} cor_xb_message_type;

typedef enum cor_xb_status {
    COR_XB_STATUS_NONE = 0,
    COR_XB_STATUS_ACSC = 1, /* settled on B: leg 2 posted */
    COR_XB_STATUS_RJCT = 2, /* rejected on B, durably: leg 2 will never be posted */
    COR_XB_STATUS_PDNG = 3, /* B has no decision yet (busy, or payment not seen); ask again */
} cor_xb_status;

typedef enum cor_xb_cancel_status {
    COR_XB_CANCEL_NONE = 0,
    COR_XB_CANCEL_CNCL = 1, /* cancellation done: payment rejected */
    COR_XB_CANCEL_RJCR = 2, /* cancellation refused: payment already settled */
} cor_xb_cancel_status;

typedef enum cor_xb_fixed {
    COR_XB_FIXED_SOURCE = 1, /* the debtor's amount is fixed; destination is rounded down */
    COR_XB_FIXED_DEST = 2,   /* the creditor's amount is fixed; source is rounded up */
} cor_xb_fixed;

/*
 * One flat record for every message type; fields a type does not use are zero. The
 * instruction fields (uetr .. deadline) are copied from the payment into every message about
 * it, so a receiver can check that a message names exactly the payment it knows.
 * Amounts: amount_source in the origin's currency (source_ledger, leg 1, fee included),
 * amount_dest in the beneficiary's (dest_ledger, leg 2).
 */
typedef struct cor_xb_message {
    cor_u128 msg_id;           /* (from_node << 96) | sequence: unique per sender, never 0 */
    cor_u128 orig_msg_id;      /* answers: the message answered; else 0 */
    cor_u128 uetr;             /* the payment (UUID v4 as a big-endian integer) */
    cor_u128 quote_id;         /* the quote the origin issued */
    cor_u128 amount_source;    /* leg 1, minor units of source_ledger, fee included */
    cor_u128 amount_dest;      /* leg 2, minor units of dest_ledger */
    cor_u128 fee_source;       /* part of amount_source that is the FX provider's fee */
    cor_u128 debtor_account;   /* account id on the origin's ledger */
    cor_u128 creditor_account; /* account id on the beneficiary's ledger */
    cor_u128 return_of;        /* pacs.004: UETR of the payment returned; else 0 */
    uint64_t rate_num;         /* quoted mid rate: dest minor units per source minor unit */
    uint64_t rate_den;         /*   = rate_num / rate_den; both not 0 */
    uint64_t fx_id;            /* the FX provider (participant id, same on both nodes) */
    uint64_t created_at;       /* sender's clock, ns; checked against the replay window */
    uint64_t deadline;         /* ns: B rejects the payment once its clock is past this */
    uint64_t decided_at;       /* answers: when B decided (0 while PDNG) */
    uint32_t type;             /* cor_xb_message_type */
    uint32_t from_node;        /* sender node id */
    uint32_t to_node;          /* addressee node id */
    uint32_t source_ledger;    /* origin's currency */
    uint32_t dest_ledger;      /* beneficiary's currency */
    uint32_t spread_ppm;       /* quoted spread, parts per million, < 1e6 */
    uint32_t fixed;            /* cor_xb_fixed of the quote */
    uint32_t status;           /* answers: cor_xb_status */
    uint32_t reason;           /* answers: cor_xb_reason of a RJCT or PDNG */
    uint32_t cancel_status;    /* camt.029: cor_xb_cancel_status */
    uint32_t return_reason;    /* pacs.004: COR_XB_RETURN_CUSTOMER or _AFTER_CANCEL; else 0 */
    uint8_t reserved[4];       /* zero */
} cor_xb_message;
_Static_assert(sizeof(cor_xb_message) == 256, "message record is 256 bytes");

/* ---------------------------------------------------------------------------------------- */
/* Configuration records                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_xb_peer {
    uint64_t node_id;         /* peer's node id (fits 32 bits), not this node */
    uint64_t ledger;          /* peer's currency (its ledger id, fits 32 bits) */
    cor_u128 payment_max_out; /* largest leg 1 we send (our currency); 0 = no limit */
    cor_u128 daily_max_out;   /* leg 1 reserved per UTC day (our currency); 0 = none */
    cor_u128 payment_max_in;  /* largest leg 2 we accept (our currency); 0 = no limit */
    cor_u128 daily_max_in;    /* leg 2 posted per UTC day (our currency); 0 = none */
} cor_xb_peer;

/* An FX provider's settlement account on this node, for the corridor with peer_node. */
typedef struct cor_xb_fx {
    cor_u128 account_id; /* on this node's ledger */
    uint64_t fx_id;      /* participant id of the provider, the same on every node */
    uint64_t peer_node;  /* the corridor it serves (fits 32 bits) */
} cor_xb_fx;

/* A rate sheet, published at the origin node for payments to peer_node. */
typedef struct cor_xb_rate {
    cor_u128 amount_min; /* converted source amount (fee excluded), minor units; >= 1 */
    cor_u128 amount_max; /* >= amount_min */
    cor_u128 fee_source; /* fixed fee per payment, source minor units */
    uint64_t fx_id;      /* registered with cor_xb_fx_add for peer_node */
    uint64_t peer_node;  /* destination node (its ledger is the destination currency) */
    uint64_t rate_num;   /* mid rate num/den: dest minor units per source minor unit */
    uint64_t rate_den;
    uint64_t valid_from;  /* ns, inclusive */
    uint64_t valid_until; /* ns, exclusive; > valid_from */
    uint64_t spread_ppm;  /* < 1,000,000: the customer rate is mid * (1e6 - spread) / 1e6 */
    uint64_t reserved;    /* zero */
} cor_xb_rate;

/* ---------------------------------------------------------------------------------------- */
/* Quotes                                                                                   */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_xb_quote_request {
    cor_u128 amount;    /* the fixed amount: source (fee included) or destination */
    uint64_t requester; /* participant asking; only it may use the quote */
    uint32_t peer_node; /* destination node */
    uint32_t fixed;     /* cor_xb_fixed */
} cor_xb_quote_request;

typedef struct cor_xb_quote {
    cor_u128 id;            /* (node << 96) | sequence */
    cor_u128 amount_source; /* what the debtor pays, fee included */
    cor_u128 amount_dest;   /* what the creditor receives */
    cor_u128 fee_source;
    cor_u128 fx_account; /* FX provider's account on this node (leg 1's credit) */
    uint64_t fx_id;
    uint64_t requester;
    uint64_t created_at;
    uint64_t expires_at; /* use before this instant (exclusive) */
    uint64_t rate_num;
    uint64_t rate_den;
    uint32_t spread_ppm;
    uint32_t fixed;
    uint32_t peer_node;
    uint32_t dest_ledger;
    cor_u128 used_by; /* UETR of the payment that used it; 0 while unused */
} cor_xb_quote;

/*
 * Customer amounts from a rate (docs/PROTOCOL.md "Rounding"). With N = num * (1e6 - spread)
 * and D = den * 1e6 and c = source - fee (the converted amount):
 *   fixed source: dest = floor(c * N / D)      (the creditor never gets more than exact)
 *   fixed dest:   c = ceil(dest * D / N), source = c + fee  (the debtor never pays less)
 * Both favour the FX provider by less than one minor unit. cor_xb_amounts_check is the test
 * B applies: 0 <= c*N - dest*D < (fixed source ? D : N).
 * Returns false on overflow, a zero result or invalid arguments.
 */
bool cor_xb_amount_dest(cor_u128 converted, uint64_t num, uint64_t den, uint32_t spread_ppm,
                        cor_u128 *dest_out);
bool cor_xb_amount_source(cor_u128 dest, uint64_t num, uint64_t den, uint32_t spread_ppm,
                          cor_u128 *converted_out);
bool cor_xb_amounts_check(cor_u128 converted, cor_u128 dest, uint64_t num, uint64_t den,
                          uint32_t spread_ppm, uint32_t fixed);

/* ---------------------------------------------------------------------------------------- */
/* Payments                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef enum cor_xb_role {
    COR_XB_ROLE_ORIGIN = 1,      /* this node is A: holds leg 1 */
    COR_XB_ROLE_BENEFICIARY = 2, /* this node is B: decides and holds leg 2 */
} cor_xb_role;

typedef enum cor_xb_state {
    COR_XB_STATE_FORWARDED = 1, /* A: leg 1 reserved, waiting for B's decision */
    COR_XB_STATE_COMMITTED = 2, /* final. A: leg 1 posted. B: leg 2 posted */
    COR_XB_STATE_REJECTED = 3,  /* final. A: leg 1 voided. B: durably refused */
    COR_XB_STATE_HELD = 4,      /* B only: valid, screening hit, waiting for the operator */
} cor_xb_state;

typedef enum cor_xb_step {
    COR_XB_STEP_RESERVED = 1,         /* A: leg 1 pending, pacs.008 queued */
    COR_XB_STEP_CANCEL_REQUESTED = 2, /* A: debtor asked to cancel, camt.056 queued */
    COR_XB_STEP_RECEIVED = 3,         /* B: first saw the instruction */
    COR_XB_STEP_SETTLED = 4,          /* B: leg 2 posted (ACSC) */
    COR_XB_STEP_REFUSED = 5,          /* B: rejected (reason in the payment) */
    COR_XB_STEP_DECISION_KNOWN = 6,   /* A: B's decision arrived (timestamp = B's decided_at) */
    COR_XB_STEP_POSTED = 7,           /* A: leg 1 posted */
    COR_XB_STEP_VOIDED = 8,           /* A: leg 1 voided */
    COR_XB_STEP_CONFLICT = 9,         /* A: an answer contradicting a final state (alarm) */
    COR_XB_STEP_RETURNED = 10,        /* both: a return of this payment settled */
    COR_XB_STEP_HELD = 11,            /* B: put on hold for compliance review */
} cor_xb_step;

#define COR_XB_TRACK_MAX 6u

typedef struct cor_xb_track_event {
    uint64_t timestamp; /* ns, on node's clock */
    uint32_t node;      /* node id where the step happened */
    uint32_t step;      /* cor_xb_step */
} cor_xb_track_event;

/* A payment as the node knows it (for status and the track view). */
typedef struct cor_xb_payment {
    cor_xb_message instruction; /* the instruction fields (type PACS008) */
    uint64_t next_retry_at;     /* A, while FORWARDED */
    uint64_t decided_at;        /* B's decision time (A learns it from the answer) */
    uint32_t role;              /* cor_xb_role */
    uint32_t state;             /* cor_xb_state */
    uint32_t reason;            /* cor_xb_reason of a rejection */
    uint32_t b_status;          /* A: B's answer once known (cor_xb_status) */
    uint32_t send_count;        /* A: messages sent about it (first send included) */
    uint32_t cancel_requested;  /* A: 1 after cor_xb_payment_cancel */
    uint32_t track_count;
    uint32_t reserved;
    uint64_t requester; /* A: participant that initiated it */
    uint64_t reserved2;
    cor_u128 returned_by; /* UETR of the return that took this payment back (or is trying) */
    cor_xb_track_event track[COR_XB_TRACK_MAX];
} cor_xb_payment;

typedef struct cor_xb_payment_request {
    cor_u128 uetr; /* UUID v4, chosen by the debtor's bank */
    cor_u128 quote_id;
    cor_u128 debtor_account;   /* on this node's ledger */
    cor_u128 creditor_account; /* on the destination node's ledger */
    uint64_t requester;        /* must be the quote's requester */
} cor_xb_payment_request;

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_xb cor_xb; /* opaque */

typedef struct cor_xb_options {
    uint32_t node_id;      /* this node; 1 .. 2^32-1 */
    uint32_t ledger;       /* this node's currency = its ledger id; not 0 */
    uint32_t payments_max; /* payments remembered (both roles); dedup lasts while held */
    uint32_t quotes_max;   /* live quotes at one time */
    uint32_t rates_max;    /* rate sheets (one per fx provider and peer) */
    uint32_t peers_max;
    uint32_t fx_max;           /* fx provider registrations */
    uint32_t seen_max;         /* message ids remembered within the replay window */
    uint32_t outbox_max;       /* messages waiting for the node to take them */
    uint16_t transfer_code;    /* ledger code of every transfer we create; not 0 */
    bool prefault;             /* touch every table at open: no page faults later */
    uint8_t reserved;          /* zero */
    uint64_t quote_ttl_ns;     /* quote lifetime (capped by the rate's validity) */
    uint64_t deadline_ns;      /* how long B may take to decide, from initiation */
    uint64_t deadline_max_ns;  /* B refuses deadlines further ahead than this */
    uint64_t retry_initial_ns; /* A's first re-send delay; doubles per attempt */
    uint64_t retry_max_ns;     /* cap of the re-send delay */
    uint64_t replay_window_ns; /* messages created longer ago than this are refused */
    uint64_t clock_skew_ns;    /* messages created further in the future are refused */
    uint64_t hash_seed;        /* keys the internal hash indexes; any value */
    /*
     * Optional: the node's own rules for the two legs that move money, asked just before
     * leg 1 (pending, debtor -> FX provider) and leg 2 (FX provider -> creditor) are created:
     * the accounts must be ones the node lets take part (an active participant's settlement
     * account) and the debit side must afford the amount under the node's rules (debit caps
     * are node rules, not ledger flags). Returns COR_XB_OK or the refusal's reason
     * (COR_XB_INSUFFICIENT_FUNDS, COR_XB_DEBTOR_ACCOUNT, COR_XB_CREDITOR_ACCOUNT,
     * COR_XB_ACCOUNT_CLOSED, ...), which becomes the initiation's refusal (leg 1) or B's
     * rejection (leg 2). It must be a pure function of state the node journals, so replay
     * decides the same. NULL: every leg the ledger accepts goes through.
     */
    uint32_t (*leg_check)(void *context, const cor_transfer *transfer);
    void *leg_check_context;
} cor_xb_options;

/* Fills options with workable defaults (capacities for tests, timeouts for a LAN). */
void cor_xb_options_default(cor_xb_options *options, uint32_t node_id, uint32_t ledger);

/*
 * Allocates every table. ledger is borrowed and must outlive the cor_xb; its accounts are
 * the ones payments name. Errors: COR_ERR_INVALID (an option out of range), COR_ERR_NOMEM.
 * Success: *xb_out goes to cor_xb_close. Failure: *xb_out is NULL.
 */
cor_error cor_xb_open(const cor_xb_options *options, cor_ledger *ledger, cor_xb **xb_out);
void cor_xb_close(cor_xb *xb); /* NULL is a no-op */

/*
 * Rebinds to another ledger (a node restoring a snapshot of both). The caller guarantees the
 * ledger and this state were saved at the same point.
 */
void cor_xb_ledger_set(cor_xb *xb, cor_ledger *ledger);

/* ---------------------------------------------------------------------------------------- */
/* Commands (each changes state deterministically; the node journals them)                   */
/* ---------------------------------------------------------------------------------------- */

/*
 * Configuration. peer_add replaces an existing peer's limits. fx_add registers (or moves)
 * an FX provider's account for one corridor. Errors: COR_ERR_INVALID (bad field),
 * COR_ERR_LIMIT (table full); state unchanged then.
 */
cor_error cor_xb_peer_add(cor_xb *xb, const cor_xb_peer *peer);
cor_error cor_xb_fx_add(cor_xb *xb, const cor_xb_fx *fx);

/*
 * Publishes (or replaces) fx_id's rate sheet for peer_node. Refusals in *reason_out:
 * FORMAT (zero num/den, spread >= 1e6, min > max, empty validity), CORRIDOR_UNKNOWN (no such
 * peer, or fx_id has no account for it), BUSY (rates_max reached).
 */
cor_error cor_xb_rate_publish(cor_xb *xb, uint64_t timestamp, const cor_xb_rate *rate,
                              uint32_t *reason_out);

/*
 * Issues up to quotes_out_max quotes, best first (most destination for a fixed source, least
 * source for a fixed destination), one per FX provider whose rate is valid at timestamp and
 * whose min/max admits the amount. Each is stored until it expires or is used.
 * *count_out is the number written; when 0, *reason_out says why (FORMAT, CORRIDOR_UNKNOWN,
 * NO_RATE, AMOUNT_BELOW_MIN, AMOUNT_ABOVE_MAX, BUSY). Errors: COR_ERR_INVALID (NULLs).
 */
cor_error cor_xb_quote_issue(cor_xb *xb, uint64_t timestamp, const cor_xb_quote_request *request,
                             cor_xb_quote *quotes_out, uint32_t quotes_out_max, uint32_t *count_out,
                             uint32_t *reason_out);

/* Copies a stored quote; false when unknown or overwritten. */
bool cor_xb_quote_lookup(const cor_xb *xb, cor_u128 quote_id, cor_xb_quote *out);

/*
 * Node A, sender bank S: reserves leg 1 (pending, no timeout) and queues the pacs.008.
 * The node has authenticated requester and checked that it owns debtor_account; the
 * creditor account is checked by node B, which owns it.
 * A repeat of an identical request for a known UETR is accepted again with no effect.
 * Refusals (nothing moved): UETR_INVALID, DUPLICATE, QUOTE_UNKNOWN, QUOTE_EXPIRED,
 * QUOTE_USED, CORRIDOR_UNKNOWN, AMOUNT_ABOVE_MAX, DAILY_LIMIT, DEBTOR_ACCOUNT,
 * INSUFFICIENT_FUNDS, ACCOUNT_CLOSED, LEDGER, BUSY (payments, outbox or ledger full).
 */
cor_error cor_xb_payment_initiate(cor_xb *xb, uint64_t timestamp,
                                  const cor_xb_payment_request *request, uint32_t *reason_out);

/*
 * Returns (pacs.004): the node that received and settled a payment sends (part of) it back.
 * A return is a payment the other way, run by the same protocol with this node as origin:
 * leg 1 pending here (original creditor -> FX provider), leg 2 at the original origin
 * (FX provider -> original debtor), priced by a quote this node issued for that corridor.
 */
typedef struct cor_xb_return_request {
    cor_u128 uetr;          /* the return's own UETR (UUID v4) */
    cor_u128 original_uetr; /* a payment this node received and committed */
    cor_u128 quote_id;      /* this node's quote towards the original's origin */
    uint64_t requester;     /* the quote's requester (the original creditor's bank) */
    uint32_t reason;        /* COR_XB_RETURN_CUSTOMER or COR_XB_RETURN_AFTER_CANCEL */
    uint32_t reserved;      /* zero */
} cor_xb_return_request;

/*
 * Refusals (nothing moved): those of cor_xb_payment_initiate, plus FORMAT (bad reason),
 * RETURN_INVALID (original unknown, not received here, not committed, or the quote is for
 * another corridor), RETURN_TOO_LARGE (quote's source above the original's destination
 * amount), ALREADY_RETURNED (a return of it is committed or still open). A repeat of an
 * identical request is accepted again with no effect. The original's origin checks the
 * same facts and rejects (recorded, pacs.002 RJCT) a return it cannot match.
 */
cor_error cor_xb_return_initiate(cor_xb *xb, uint64_t timestamp,
                                 const cor_xb_return_request *request, uint32_t *reason_out);

/*
 * Node A: the debtor asks to cancel a FORWARDED payment; A sends camt.056 (and keeps
 * re-sending it instead of the pacs.008). A still only voids on B's answer.
 * Refusals: PAYMENT_UNKNOWN (or not an origin payment of requester's), ALREADY_FINAL, BUSY.
 */
cor_error cor_xb_payment_cancel(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint64_t requester,
                                uint32_t *reason_out);

/*
 * A message from a peer (already authenticated by the node). Envelope refusals leave the
 * state unchanged and are returned in *reason_out: FORMAT, NOT_ADDRESSEE, PEER_UNKNOWN,
 * STALE, REPLAY, BUSY (replay table full). Otherwise the message is processed (*reason_out
 * OK or, for an answer that names no payment of ours, PAYMENT_UNKNOWN / MISMATCH) and any
 * answer is queued. Business rejections of a pacs.008 are answers (pacs.002 RJCT with a
 * reason), not refusals: they are recorded by UETR and answered the same way forever.
 */
cor_error cor_xb_receive(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message,
                         uint32_t *reason_out);

enum cor_xb_receive_flags {
    /* The node's screening hit the debtor or creditor: if this message would make B decide a
     * new payment that passes validation, B records it HELD instead of posting leg 2,
     * answers PDNG (reason HELD), and waits for cor_xb_hold_release / cor_xb_hold_reject.
     * Ignored for every other message. */
    COR_XB_RECEIVE_HOLD = 1u << 0,
};

/* cor_xb_receive with flags (enum cor_xb_receive_flags); unknown flags: COR_ERR_INVALID. */
cor_error cor_xb_receive_flags(cor_xb *xb, uint64_t timestamp, const cor_xb_message *message,
                               uint32_t flags, uint32_t *reason_out);

/* A hint with no effect on state: starts loading the table slots cor_xb_receive looks up
 * for a message with this id and UETR (replay set, payments by UETR). A caller applying
 * many messages in a row calls it some messages ahead, so those random reads overlap. */
void cor_xb_prefetch(const cor_xb *xb, cor_u128 msg_id, cor_u128 uetr);

/*
 * Operator decisions on a HELD payment (node B). Release re-checks the deadline, the
 * incoming limits and the ledger, then commits (reason OK) or rejects with that reason;
 * reject records REJECTED with RR04. Either way the decision is final, recorded, and a
 * pacs.002 is queued to the origin at once. *reason_out: the decision's reason, or
 * NOT_HELD (unknown or not on hold: nothing changes), or BUSY (release could not reach the
 * ledger for capacity: still HELD). A HELD payment still undecided when B's clock passes
 * its deadline is rejected (AB05) by cor_xb_tick, so a hold never outlives the deadline.
 */
cor_error cor_xb_hold_release(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint32_t *reason_out);
cor_error cor_xb_hold_reject(cor_xb *xb, uint64_t timestamp, cor_u128 uetr, uint32_t *reason_out);

/*
 * Timers. Node A: for every FORWARDED payment due (next_retry_at <= timestamp), in creation
 * order, up to limit of them: re-send the pacs.008 (before the deadline), the camt.056
 * (cancel requested) or a pacs.028 (after the deadline), then back off; if B's decision is
 * known but applying it to the ledger failed, retry that. Never voids on its own.
 * Node B: every HELD payment whose deadline has passed is rejected (AB05) and answered.
 * Returns the number of payments handled; stops early when the outbox is full.
 */
uint32_t cor_xb_tick(cor_xb *xb, uint64_t timestamp, uint32_t limit);

/* Earliest timer among open payments (A FORWARDED: next retry; B HELD: just after the
 * deadline); false when none is open. */
bool cor_xb_next_timer(const cor_xb *xb, uint64_t *at_out);

/* ---------------------------------------------------------------------------------------- */
/* Outbox (output, not state)                                                               */
/* ---------------------------------------------------------------------------------------- */

/*
 * Messages queued by the commands since the last clear, oldest first. The node must make
 * the state that produced them durable before it sends them, then clear. Messages lost
 * in a crash are regenerated: A re-sends on its timers, and B answers every re-send.
 * The pointer is borrowed, valid until the next command or clear.
 */
uint32_t cor_xb_outbox_count(const cor_xb *xb);
const cor_xb_message *cor_xb_outbox_at(const cor_xb *xb, uint32_t index);
void cor_xb_outbox_clear(cor_xb *xb);

/* ---------------------------------------------------------------------------------------- */
/* Queries                                                                                  */
/* ---------------------------------------------------------------------------------------- */

bool cor_xb_payment_lookup(const cor_xb *xb, cor_u128 uetr, cor_xb_payment *out);

/* Visits payments in creation order; stops when visit returns false. */
void cor_xb_payments_each(const cor_xb *xb,
                          bool (*visit)(void *context, const cor_xb_payment *payment),
                          void *context);

/* Visits the published rate sheets in publication order; stops when visit returns false. */
void cor_xb_rates_each(const cor_xb *xb, bool (*visit)(void *context, const cor_xb_rate *rate),
                       void *context);

typedef struct cor_xb_stats {
    uint32_t payments_count;
    uint32_t open_count;  /* not final: A FORWARDED and B HELD payments */
    uint32_t reserved;
    uint64_t quotes_issued; /* quotes issued since the start (O(1): stats are polled) */
    uint32_t seen_count;
    uint64_t messages_sent; /* queued in the outbox since open (state) */
    uint64_t refusals;      /* envelope refusals */
    uint64_t conflicts;     /* answers contradicting a final state; must stay 0 */
} cor_xb_stats;
void cor_xb_stats_get(const cor_xb *xb, cor_xb_stats *out);

/*
 * Reconciliation of one FX provider's legs in one direction of one corridor: the committed
 * payments (returns included) from `from_node` to `to_node` whose decision time (B's clock,
 * known to both nodes) lies in [decided_from, decided_until). Node A computes it over its
 * origin records, node B over its beneficiary records; the two summaries are equal exactly
 * when both nodes agree on the set of payments and on both amounts of each. digest is an
 * order-independent hash of (uetr, amount_source, amount_dest), so a differing summary
 * means a real mismatch, which cor_xb_payments_each can then locate. Cost: O(payments).
 */
typedef struct cor_xb_reconcile {
    cor_u128 amount_source; /* sum of leg 1 amounts (from_node's currency) */
    cor_u128 amount_dest;   /* sum of leg 2 amounts (to_node's currency) */
    uint64_t count;
    uint64_t digest;
} cor_xb_reconcile;

void cor_xb_reconcile_summary(const cor_xb *xb, uint64_t fx_id, uint32_t from_node,
                              uint32_t to_node, uint64_t decided_from, uint64_t decided_until,
                              cor_xb_reconcile *out);

/* Kinds of ledger transfer derived from a UETR (its version nibble is replaced by kind). */
typedef enum cor_xb_transfer_kind {
    COR_XB_LEG1_PENDING = 1,
    COR_XB_LEG1_POST = 2,
    COR_XB_LEG1_VOID = 3,
    COR_XB_LEG2 = 5,
} cor_xb_transfer_kind;
cor_u128 cor_xb_transfer_id(cor_u128 uetr, cor_xb_transfer_kind kind);

/* True when uetr is a UUID version 4 (RFC 4122 variant) as a big-endian integer. */
bool cor_xb_uetr_valid(cor_u128 uetr);

/* ---------------------------------------------------------------------------------------- */
/* Snapshot                                                                                 */
/* ---------------------------------------------------------------------------------------- */

/*
 * Canonical bytes of the state (not the outbox, not the hash seed). Two instances given
 * the same commands serialize identically. Uses the ledger's write/read callback types.
 */
cor_error cor_xb_serialize(const cor_xb *xb, cor_ledger_write_fn write, void *context);

/*
 * Rebuilds from serialize's bytes. Errors: COR_ERR_VERSION, COR_ERR_CORRUPT (inconsistent
 * content, or node/ledger differ from options), COR_ERR_LIMIT (state larger than options
 * allow), COR_ERR_INVALID, COR_ERR_NOMEM, or read's error. *xb_out is NULL on failure.
 */
cor_error cor_xb_deserialize(const cor_xb_options *options, cor_ledger *ledger,
                             cor_ledger_read_fn read, void *context, cor_xb **xb_out);

#endif
