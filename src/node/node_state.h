/*
 * The node's deterministic core: participants, API key hashes, payments and the ledger.
 *
 * Everything that changes the node's state is a command, encoded in a batch payload (see
 * "Batch payload" below) and applied by cor_node_state_apply: a pure function of the state,
 * the batch timestamp and the payload bytes. The journal records exactly these payloads, so
 * recovery replays them through the same function and rebuilds identical state. Nothing here
 * reads a clock, draws a random number or does I/O; anything random (API key secrets) is
 * drawn by the HTTP thread and the command carries only its hash.
 *
 * Threads: one thread (the core thread) applies batches. Queries may run on other threads
 * when the caller excludes apply with a lock (the server uses a rwlock).
 *
 * Id spaces. Ledger ids at or above 2^127 belong to the node: the issuance account (2^127),
 * settlement accounts (2^127 + participant id), payment transfers (2^127 + 2^64 * 1 + payment
 * number) and funding transfers (2^127 + 2^64 * 2 + funding id). The ledger routes of the
 * operator may use only ids below 2^127, so they can never touch a participant's money.
 */
#ifndef COR_NODE_STATE_H
#define COR_NODE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/ledger.h"
#include "corridor/u128.h"
#include "corridor/xborder.h"
#include "node/node_limits.h"

#define COR_NODE_ID_BASE                 ((cor_u128)1 << 127)
#define COR_NODE_ISSUANCE_ID             COR_NODE_ID_BASE
#define COR_NODE_KIND_PAYMENT            1u
#define COR_NODE_KIND_FUNDING            2u
#define COR_NODE_ACCOUNT_CODE_ISSUANCE   1u
#define COR_NODE_ACCOUNT_CODE_SETTLEMENT 2u
#define COR_NODE_TRANSFER_CODE_PAYMENT   1u
#define COR_NODE_TRANSFER_CODE_FUNDING   2u

static inline cor_u128 cor_node_settlement_id(uint32_t participant)
{
    return COR_NODE_ID_BASE + participant;
}

static inline cor_u128 cor_node_transfer_id(uint32_t kind, uint64_t number)
{
    return COR_NODE_ID_BASE + ((cor_u128)kind << 64) + number;
}

/* ---------------------------------------------------------------------------------------- */
/* Records                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef enum cor_node_role {
    COR_NODE_ROLE_BANK = 1,
    COR_NODE_ROLE_FX_PROVIDER = 2,
    COR_NODE_ROLE_CENTRAL_BANK = 3,
} cor_node_role;

typedef enum cor_node_participant_status {
    COR_NODE_PARTICIPANT_ACTIVE = 1,
    COR_NODE_PARTICIPANT_SUSPENDED = 2,
} cor_node_participant_status;

typedef struct cor_node_participant {
    cor_u128 debit_cap;         /* minor units the account may go below zero; 0 = none */
    uint64_t created_timestamp; /* ns, batch time of creation */
    uint32_t id;                /* 1 .. COR_NODE_PARTICIPANTS_MAX */
    uint8_t role;               /* cor_node_role */
    uint8_t status;             /* cor_node_participant_status */
    uint8_t name_length;        /* bytes of name */
    uint8_t bic_length;         /* 8 or 11 */
    char name[COR_NODE_NAME_LENGTH_MAX + 1]; /* NUL-terminated */
    char bic[COR_NODE_BIC_LENGTH_MAX + 1];   /* NUL-terminated */
    /* Cross-border limits of this participant as a debtor (source currency; 0 = none) and
     * what it reserved today (UTC day xb_day). */
    cor_u128 xb_payment_max;
    cor_u128 xb_daily_max;
    cor_u128 xb_day_total;
    uint64_t xb_day;
} cor_node_participant;

typedef enum cor_node_key_kind {
    COR_NODE_KEY_PARTICIPANT = 1,
    COR_NODE_KEY_AUDITOR = 2,
} cor_node_key_kind;

typedef struct cor_node_key {
    uint8_t hash[COR_NODE_KEY_HASH_SIZE_BYTES]; /* BLAKE2b-256 of the secret */
    uint64_t created_timestamp;
    uint32_t participant; /* owner for participant keys; 0 for auditors */
    uint8_t kind;         /* cor_node_key_kind; 0 = unused slot */
    uint8_t revoked;      /* 1 once revoked (never reused) */
    uint8_t reserved[2];
} cor_node_key;

/* One payment as a participant submits it (the debtor is the caller). */
typedef struct cor_node_payment_in {
    cor_u128 payment_id; /* idempotency key, unique per debtor; not 0 */
    cor_u128 amount;     /* minor units; not 0 */
    uint32_t creditor;   /* participant id */
    uint8_t has_uetr;
    uint8_t e2e_length;
    uint8_t remittance_length;
    uint8_t reserved;
    uint8_t uetr[16];
    char e2e[COR_NODE_E2E_LENGTH_MAX];
    char remittance[COR_NODE_REMITTANCE_LENGTH_MAX];
} cor_node_payment_in;

/* A payment as the node keeps it: accepted or rejected, never both, never changed. */
typedef struct cor_node_payment {
    cor_node_payment_in in;
    uint64_t timestamp; /* ns; the ledger time of the payment's transfer (or of rejection) */
    uint32_t debtor;    /* participant id */
    uint32_t code;      /* cor_node_code: COR_NODE_CREATED (accepted) or a rejection */
    uint64_t number;    /* 1-based payment number; transfer id = cor_node_transfer_id(1, n) */
} cor_node_payment;

/* ---------------------------------------------------------------------------------------- */
/* Result codes                                                                             */
/* ---------------------------------------------------------------------------------------- */

/* name, snake-case text, HTTP status */
#define COR_NODE_CODE_LIST(X)                                                                      \
    X(COR_NODE_CREATED, "created", 201)                                                            \
    X(COR_NODE_EXISTS, "exists", 200)                                                              \
    X(COR_NODE_OK, "ok", 200)                                                                      \
    X(COR_NODE_KEY_REVOKED, "key_revoked", 401)                                                    \
    X(COR_NODE_PARTICIPANT_NOT_FOUND, "participant_not_found", 404)                                \
    X(COR_NODE_BIC_EXISTS, "bic_exists", 409)                                                      \
    X(COR_NODE_PARTICIPANTS_FULL, "participants_full", 507)                                        \
    X(COR_NODE_KEYS_FULL, "keys_full", 507)                                                        \
    X(COR_NODE_KEY_NOT_FOUND, "key_not_found", 404)                                                \
    X(COR_NODE_DEBTOR_SUSPENDED, "debtor_suspended", 403)                                          \
    X(COR_NODE_CREDITOR_NOT_FOUND, "creditor_not_found", 422)                                      \
    X(COR_NODE_CREDITOR_SUSPENDED, "creditor_suspended", 422)                                      \
    X(COR_NODE_CREDITOR_IS_DEBTOR, "creditor_is_debtor", 422)                                      \
    X(COR_NODE_INSUFFICIENT_FUNDS, "insufficient_funds", 422)                                      \
    X(COR_NODE_PAYMENT_ID_REUSED, "payment_id_reused", 409)                                        \
    X(COR_NODE_PAYMENTS_FULL, "payments_full", 507)                                                \
    X(COR_NODE_LEDGER_REJECTED, "ledger_rejected", 422)                                            \
    X(COR_NODE_FUNDING_CONFLICT, "funding_id_reused", 409)                                         \
    X(COR_NODE_RESERVED_ID, "reserved_id", 422)                                                    \
    X(COR_NODE_CAPACITY_FULL, "capacity_full", 507)                                              \
    X(COR_NODE_XB_REFUSED, "xborder_refused", 422)                                                \
    X(COR_NODE_NOT_FX_PROVIDER, "not_fx_provider", 422)                                            \
    X(COR_NODE_PEER_NOT_FOUND, "peer_not_found", 404)

typedef enum cor_node_code {
#define COR_NODE_CODE_ENUM(name, text, http) name,
    COR_NODE_CODE_LIST(COR_NODE_CODE_ENUM)
#undef COR_NODE_CODE_ENUM
        COR_NODE_CODE_COUNT
} cor_node_code;

const char *cor_node_code_name(uint32_t code); /* "insufficient_funds"; "unknown" otherwise */
unsigned cor_node_code_http(uint32_t code);    /* HTTP status; 500 for unknown */

/* One result per event of a batch. */
typedef struct cor_node_result {
    uint64_t timestamp; /* ns of the created/existing object, else the ledger time */
    uint64_t value;     /* created participant id, key id or payment number; else 0 */
    uint32_t code;      /* cor_node_code */
    uint32_t ledger;    /* the ledger's result (ledger ops, ledger_rejected, funding) */
} cor_node_result;

/* ---------------------------------------------------------------------------------------- */
/* Batch payload                                                                            */
/* ---------------------------------------------------------------------------------------- */

/*
 * A batch payload is a sequence of commands, each a header followed by body_size bytes
 * (padded to 16). Integers are in the host's byte order (little-endian on every machine we
 * support); journals are not portable across byte orders. The decoder validates every
 * header and body size and refuses malformed payloads with COR_ERR_CORRUPT before it changes
 * anything.
 */
#define COR_NODE_JOURNAL_OPERATION 0x4e42u /* "NB": node batch, the journal operation code */

/*
 * The first record of every node journal (operation "NC"): the capacities the state was
 * created with. Capacity results (payments_full, ...) are part of the deterministic outcome,
 * so replay must use these, never whatever the configuration file says today.
 */
#define COR_NODE_JOURNAL_CONFIGURE 0x4e43u
typedef struct cor_node_configure_record {
    uint32_t ledger;
    uint32_t payments_max;
    uint32_t ledger_accounts_max;
    uint32_t ledger_transfers_max;
    uint32_t node_id;         /* the node's id in the corridor mesh */
    uint32_t xb_payments_max; /* cross-border payments kept */
    uint32_t xb_quotes_max;   /* quotes alive at once */
    uint32_t reserved;        /* 0 */
} cor_node_configure_record;

typedef enum cor_node_command_type {
    COR_NODE_CMD_PARTICIPANT_CREATE = 1, /* body: cor_node_cmd_participant_create */
    COR_NODE_CMD_PARTICIPANT_STATUS = 2, /* body: cor_node_cmd_participant_status */
    COR_NODE_CMD_DEBIT_CAP = 3,          /* body: cor_node_cmd_debit_cap */
    COR_NODE_CMD_KEY_ADD = 4,            /* body: cor_node_cmd_key_add */
    COR_NODE_CMD_KEY_REVOKE = 5,         /* body: cor_node_cmd_key_revoke */
    COR_NODE_CMD_FUNDING = 6,            /* body: cor_node_cmd_funding */
    COR_NODE_CMD_PAYMENTS = 7,           /* body: event_count encoded payments (below) */
    COR_NODE_CMD_LEDGER_ACCOUNTS = 8,    /* body: event_count cor_account */
    COR_NODE_CMD_LEDGER_TRANSFERS = 9,   /* body: event_count cor_transfer */
    COR_NODE_CMD_EXPIRE = 10,            /* no body; event_count 1 */
    /* The corridor (node_xb.c). Results: COR_NODE_OK / COR_NODE_CREATED, or
     * COR_NODE_XB_REFUSED with the cor_xb_reason in result.ledger. */
    COR_NODE_CMD_XB_PEER = 11,     /* operator; body: cor_xb_peer */
    COR_NODE_CMD_XB_FX = 12,       /* operator; body: cor_node_cmd_xb_fx */
    COR_NODE_CMD_XB_RATE = 13,     /* fx provider; body: cor_xb_rate (fx_id: the caller's) */
    COR_NODE_CMD_XB_QUOTES = 14,   /* bank; event_count cor_xb_quote_request; result: value =
                                    * sequence of the first quote, ledger = how many (ids
                                    * consecutive), or XB_REFUSED */
    COR_NODE_CMD_XB_PAYMENTS = 15, /* bank; event_count cor_node_cmd_xb_payment */
    COR_NODE_CMD_XB_CANCEL = 16,   /* bank; body: cor_node_cmd_xb_uetr */
    COR_NODE_CMD_XB_RETURN = 17,   /* bank; body: cor_node_cmd_xb_return */
    COR_NODE_CMD_XB_RECEIVE = 18,  /* peer (key 0); event_count cor_node_cmd_xb_receive;
                                    * result: code OK, ledger = the envelope/answer reason */
    COR_NODE_CMD_XB_HOLD = 19,     /* operator; body: cor_node_cmd_xb_hold */
    COR_NODE_CMD_XB_TICK = 20,     /* the core's timer; no body; result value = handled */
    COR_NODE_CMD_XB_LIMITS = 21,   /* operator; body: cor_node_cmd_xb_limits */
} cor_node_command_type;

typedef struct cor_node_command_header {
    uint16_t type;            /* cor_node_command_type */
    uint16_t reserved;        /* 0 */
    uint32_t event_count;     /* 1 .. COR_NODE_BATCH_EVENTS_MAX */
    uint32_t body_size_bytes; /* bytes of body that follow, before padding */
    uint32_t key_id;          /* the caller's key (0 = the operator's key from the config) */
    uint32_t participant;     /* the caller's participant id (0 for operator and auditors) */
    uint32_t reserved2;       /* 0 */
    uint64_t reserved3;       /* 0 */
} cor_node_command_header;
_Static_assert(sizeof(cor_node_command_header) == 32, "command header is 32 bytes");

typedef struct cor_node_cmd_participant_create {
    cor_u128 debit_cap;
    uint8_t role;
    uint8_t name_length;
    uint8_t bic_length;
    uint8_t reserved[13];
    char name[COR_NODE_NAME_LENGTH_MAX];
    char bic[16];
} cor_node_cmd_participant_create;

typedef struct cor_node_cmd_participant_status {
    uint32_t participant;
    uint32_t status; /* cor_node_participant_status */
} cor_node_cmd_participant_status;

typedef struct cor_node_cmd_debit_cap {
    cor_u128 debit_cap;
    uint32_t participant;
    uint32_t reserved[3];
} cor_node_cmd_debit_cap;

typedef struct cor_node_cmd_key_add {
    uint8_t hash[COR_NODE_KEY_HASH_SIZE_BYTES];
    uint32_t kind;        /* cor_node_key_kind */
    uint32_t participant; /* owner for participant keys; 0 for auditors */
} cor_node_cmd_key_add;

typedef struct cor_node_cmd_key_revoke {
    uint32_t key_id;
    uint32_t participant; /* the key's owner as the request named it (0 for auditors) */
} cor_node_cmd_key_revoke;

typedef enum cor_node_funding_direction {
    COR_NODE_FUNDING_CREDIT = 1, /* issuance: central-bank money into the account */
    COR_NODE_FUNDING_DEBIT = 2,  /* withdrawal: out of the account, never below zero */
} cor_node_funding_direction;

typedef struct cor_node_cmd_funding {
    cor_u128 amount;
    uint64_t funding_id; /* idempotency key, 1 .. 2^64-1 */
    uint32_t participant;
    uint32_t direction; /* cor_node_funding_direction */
} cor_node_cmd_funding;

typedef struct cor_node_cmd_xb_fx {
    uint64_t fx_id;
    uint32_t participant; /* an fx_provider participant of this node */
    uint32_t peer_node;
} cor_node_cmd_xb_fx;

/* One cross-border payment as the debtor bank submits it; names are end customers,
 * screened at the beneficiary (NUL-padded, lengths given). */
typedef struct cor_node_cmd_xb_payment {
    cor_u128 uetr;
    cor_u128 quote_id;
    cor_u128 creditor_account; /* on the beneficiary's ledger */
    uint8_t debtor_name_length;
    uint8_t creditor_name_length;
    uint8_t reserved[14];
    char debtor_name[COR_NODE_XB_NAME_LENGTH_MAX];
    char creditor_name[COR_NODE_XB_NAME_LENGTH_MAX];
    uint8_t reserved2[8]; /* zero: the record is 352 bytes, no hidden padding */
} cor_node_cmd_xb_payment;
_Static_assert(sizeof(cor_node_cmd_xb_payment) == 352, "no hidden padding in the journal");

/* A return as the bank that was paid submits it, with the end customers' names (the
 * return's debtor: the original creditor's customer; its creditor: the original debtor's),
 * screened at the original's origin like any instruction. */
typedef struct cor_node_cmd_xb_return {
    cor_xb_return_request request;
    uint8_t debtor_name_length;
    uint8_t creditor_name_length;
    uint8_t reserved[14];
    char debtor_name[COR_NODE_XB_NAME_LENGTH_MAX];
    char creditor_name[COR_NODE_XB_NAME_LENGTH_MAX];
    uint8_t reserved2[8];
} cor_node_cmd_xb_return;
_Static_assert(sizeof(cor_node_cmd_xb_return) == 368, "no hidden padding in the journal");

typedef struct cor_node_cmd_xb_uetr {
    cor_u128 uetr;
} cor_node_cmd_xb_uetr;

typedef struct cor_node_cmd_xb_receive {
    cor_xb_message message; /* decoded and verified by the HTTP thread (cor_wire) */
    uint32_t flags;         /* cor_xb_receive_flags (screening hit: hold) */
    uint32_t reserved[3];
} cor_node_cmd_xb_receive;

typedef enum cor_node_xb_hold_action {
    COR_NODE_XB_RELEASE = 1,
    COR_NODE_XB_REJECT = 2,
} cor_node_xb_hold_action;

typedef struct cor_node_cmd_xb_hold {
    cor_u128 uetr;
    uint32_t action; /* cor_node_xb_hold_action */
    uint32_t reserved[3];
} cor_node_cmd_xb_hold;

typedef struct cor_node_cmd_xb_limits {
    cor_u128 payment_max; /* 0 = none */
    cor_u128 daily_max;   /* 0 = none */
    uint32_t participant;
    uint32_t reserved[3];
} cor_node_cmd_xb_limits;

/*
 * A payment in a PAYMENTS body: a 56-byte prefix (payment_id, amount, creditor u32,
 * has_uetr u8, e2e_length u8, remittance_length u8, reserved u8 = 0, uetr[16]) followed by
 * the end-to-end id and remittance bytes, padded with zeros to a multiple of 8.
 */
#define COR_NODE_PAYMENT_PREFIX_SIZE_BYTES 56u
#define COR_NODE_PAYMENT_ENCODED_SIZE_MAX                                                          \
    ((COR_NODE_PAYMENT_PREFIX_SIZE_BYTES + COR_NODE_E2E_LENGTH_MAX +                               \
      COR_NODE_REMITTANCE_LENGTH_MAX + 7u) &                                                       \
     ~7u)
/* Writes payment's encoding into out (at least COR_NODE_PAYMENT_ENCODED_SIZE_MAX bytes);
 * returns its size. */
size_t cor_node_payment_encode(const cor_node_payment_in *payment, uint8_t *out);

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle and apply                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_node_state cor_node_state; /* opaque */

typedef struct cor_node_state_options {
    uint32_t ledger;               /* ISO 4217 numeric code of the node's currency; not 0 */
    uint32_t payments_max;         /* 1 .. COR_NODE_PAYMENTS_MAX_LIMIT */
    uint32_t ledger_accounts_max;  /* operator ledger accounts (plus the node's own) */
    uint32_t ledger_transfers_max; /* operator ledger transfers (plus payments, funding) */
    uint64_t hash_seed; /* keys the payment index; any value, state does not depend on it */
    bool prefault;      /* commit every table at open, so the core thread never page-faults */
    uint32_t node_id;         /* this node in the corridor mesh; 0: the currency's code */
    uint32_t xb_payments_max; /* cross-border payments kept; 0: payments_max */
    uint32_t xb_quotes_max;   /* quotes alive at once; 0: the default (2^20) */
} cor_node_state_options;

/* Errors: COR_ERR_INVALID (options out of range), COR_ERR_NOMEM. */
cor_error cor_node_state_open(const cor_node_state_options *options, cor_node_state **out);
void cor_node_state_close(cor_node_state *state); /* NULL is a no-op */

/*
 * Applies one batch payload at timestamp (ns). results (results_max entries, may be NULL
 * when the caller does not want them, as at replay) receives one result per event in payload
 * order. Errors: COR_ERR_CORRUPT (malformed payload: nothing was applied), COR_ERR_LIMIT
 * (more events than results_max). Rejections of single events are results, not errors.
 */
cor_error cor_node_state_apply(cor_node_state *state, uint64_t timestamp, const void *payload,
                               size_t payload_size_bytes, cor_node_result *results,
                               uint32_t results_max);

/* Checks a payload's framing without applying it; returns its event count or 0 if invalid. */
uint32_t cor_node_payload_events(const void *payload, size_t payload_size_bytes);

/* Canonical bytes of the whole state (for snapshots and comparisons). */
cor_error cor_node_state_serialize(const cor_node_state *state, cor_ledger_write_fn write,
                                   void *context);
/* Rebuilds state from serialize's bytes. The capacities are the snapshot's own; options give
 * the currency (which must match), the hash seed and prefault. */
cor_error cor_node_state_deserialize(const cor_node_state_options *options, cor_ledger_read_fn read,
                                     void *context, cor_node_state **out);

/* ---------------------------------------------------------------------------------------- */
/* Queries (read only; see Threads above)                                                   */
/* ---------------------------------------------------------------------------------------- */

const cor_ledger *cor_node_state_ledger(const cor_node_state *state);
/* The options the state runs with (capacities come from the journal or snapshot). */
void cor_node_state_options_get(const cor_node_state *state, cor_node_state_options *out);
uint32_t cor_node_state_currency(const cor_node_state *state);
uint32_t cor_node_state_participants_count(const cor_node_state *state);
/* NULL when id is not a participant. Valid until the next apply. */
const cor_node_participant *cor_node_state_participant(const cor_node_state *state, uint32_t id);
/* NULL when key_id is not a key. Valid until the next apply. */
const cor_node_key *cor_node_state_key(const cor_node_state *state, uint32_t key_id);
uint32_t cor_node_state_keys_count(const cor_node_state *state);
/* The payment debtor made with payment_id; NULL when none. Valid until the next apply. */
const cor_node_payment *cor_node_state_payment(const cor_node_state *state, uint32_t debtor,
                                               cor_u128 payment_id);
/* The payment with this 1-based number; NULL when none. */
const cor_node_payment *cor_node_state_payment_number(const cor_node_state *state, uint64_t number);
uint64_t cor_node_state_payments_count(const cor_node_state *state);

/* Balance of a settlement account: credits_posted - debits_posted (may be negative down to
 * -debit_cap); pending debits reduce what is available. */
typedef struct cor_node_balance {
    cor_u128 credits_posted;
    cor_u128 debits_posted;
    cor_u128 debits_pending;
    cor_u128 credits_pending;
} cor_node_balance;
bool cor_node_state_balance(const cor_node_state *state, uint32_t participant,
                            cor_node_balance *out);

/* ---------------------------------------------------------------------------------------- */
/* The corridor (node_xb.c)                                                                 */
/* ---------------------------------------------------------------------------------------- */

/* The protocol core (read it only as node_state's queries are read: under the lock). */
const cor_xb *cor_node_state_xb(const cor_node_state *state);

/* Messages queued by the last apply (cor_xb_outbox_count/_at on cor_node_state_xb): the core
 * thread sends them once that batch is durable (it is: apply runs after the append). The next
 * apply discards them. */

/* The participant an fx id maps to for peer_node (0 when none). */
uint32_t cor_node_state_fx_participant(const cor_node_state *state, uint64_t fx_id,
                                       uint32_t peer_node);
/* The fx id of a participant for peer_node (0 when none). */
uint64_t cor_node_state_fx_of(const cor_node_state *state, uint32_t participant,
                              uint32_t peer_node);

/* End-customer names the origin recorded for a UETR (for every (re)send of its pacs.008);
 * false when none were given. Buffers of COR_NODE_XB_NAME_LENGTH_MAX + 1 bytes. */
bool cor_node_state_xb_names(const cor_node_state *state, cor_u128 uetr, char *debtor_out,
                             char *creditor_out);

/* When the protocol next needs a TICK (false: no timer). */
bool cor_node_state_xb_timer(const cor_node_state *state, uint64_t *at_out);

/* Totals for metrics: money issued (issuance account debits - credits) and payments. */
typedef struct cor_node_totals {
    cor_u128 issued;
    cor_u128 payments_amount;
    uint64_t payments_accepted;
    uint64_t payments_rejected;
} cor_node_totals;
void cor_node_state_totals(const cor_node_state *state, cor_node_totals *out);

#endif
