/*
 * corridor: the peer wire format between two corridor nodes.
 *
 * Every protocol message of the cross-border core (cor_xb_message, include/corridor/xborder.h)
 * travels between nodes in a signed envelope around one ISO 20022 document, alone or in a
 * batch of up to COR_WIRE_BATCH_MAX messages of one type (one transaction each):
 *
 *   envelope header (72 bytes, big-endian: magic, version, sender and recipient node names,
 *   key id, message id, timestamp, body size) | body: head.001 AppHdr + Document in a
 *   urn:swift:xsd:envelope wrapper | Ed25519 signature (64 bytes) over everything before it
 *   (a batch, version 2: over the header and BLAKE2b-512 of the body).
 *
 * The Document is the messages' ISO 20022 form (pacs.008, pacs.002, pacs.028, camt.056,
 * camt.029, pacs.004), written by the iso20022 codec, plus one SplmtryData block with one
 * row per message carrying the exact corridor record (rate integers, quote id, FX provider,
 * deadline, node ids, ...) that ISO elements cannot hold exactly. docs/PROTOCOL.md ("Wire format") has the layout, the
 * element mapping and every check.
 *
 * The module is pure: no sockets, no clock (decode takes the caller's time for the replay
 * window), no global state. Message-id dedup is the core's job (cor_xb_receive); this layer
 * checks the signature, the sender and the time window, and that the ISO view, the exact
 * record and the envelope all name the same message.
 *
 * Threads: a cor_wire is used by one thread at a time (it owns an ISO parser); separate
 * instances are independent. Open the first one before starting threads.
 */
#ifndef CORRIDOR_XBORDER_WIRE_H
#define CORRIDOR_XBORDER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/xborder.h"

#define COR_WIRE_NAME_SIZE_MAX     16u /* node name, ASCII [A-Za-z0-9._-], 1..16 chars */
#define COR_WIRE_HEADER_SIZE_BYTES 72u
#define COR_WIRE_SIGNATURE_SIZE    64u /* Ed25519 */
#define COR_WIRE_PUBLIC_KEY_SIZE   32u
#define COR_WIRE_SECRET_KEY_SIZE   64u /* libsodium's secret key (seed + public key) */
/* A batch of COR_WIRE_BATCH_MAX messages with the longest names, all escaped, stays under
 * 4 MiB (tests/unit/corridor/test_wire.c builds it); a single message is about 2-4 KB. */
#define COR_WIRE_BODY_SIZE_BYTES_MAX (6u * 1024u * 1024u)
#define COR_WIRE_SIZE_BYTES_MAX                                                                    \
    (COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_BODY_SIZE_BYTES_MAX + COR_WIRE_SIGNATURE_SIZE)
#define COR_WIRE_PEERS_MAX           64u /* peers one node knows */
#define COR_WIRE_PEER_KEYS_MAX       4u  /* keys accepted per peer at one time (rotation) */
#define COR_WIRE_LEDGERS_MAX         (COR_WIRE_PEERS_MAX + 1u)
#define COR_WIRE_BATCH_MAX           1024u /* messages in one batch envelope */
#define COR_WIRE_PARTY_NAME_SIZE_MAX 140u  /* ISO Max140Text, bytes of UTF-8 */

/* ---------------------------------------------------------------------------------------- */
/* Refusals: every reason decode can refuse bytes for, with its ISO 20022 code.              */
/* ---------------------------------------------------------------------------------------- */

#define COR_WIRE_CODE_LIST(X)                                                                      \
    X(COR_WIRE_OK, COR_OK, "", "accepted")                                                         \
    X(COR_WIRE_TRUNCATED, COR_ERR_PARSE, "FF01", "envelope shorter than its header says")          \
    X(COR_WIRE_OVERSIZED, COR_ERR_LIMIT, "FF01", "envelope larger than the wire maximum")          \
    X(COR_WIRE_FORMAT, COR_ERR_PARSE, "FF01", "envelope header malformed")                         \
    X(COR_WIRE_SENDER_UNKNOWN, COR_ERR_AUTH, "RC01", "sender is not a configured peer")            \
    X(COR_WIRE_NOT_ADDRESSEE, COR_ERR_AUTH, "RC01", "envelope addressed to another node")          \
    X(COR_WIRE_KEY_UNKNOWN, COR_ERR_AUTH, "DS0H", "key id not configured for the sender")          \
    X(COR_WIRE_SIGNATURE, COR_ERR_AUTH, "DS0A", "signature does not verify")                       \
    X(COR_WIRE_STALE, COR_ERR_AUTH, "TM01", "timestamp outside the replay window")                 \
    X(COR_WIRE_XML, COR_ERR_XML_INVALID, "FF01", "iso 20022 document refused by the codec")        \
    X(COR_WIRE_RECORD, COR_ERR_XML_INVALID, "FF01", "corridor supplementary data missing or bad")  \
    X(COR_WIRE_MISMATCH, COR_ERR_XML_INVALID, "FF01",                                              \
      "envelope, iso 20022 fields and corridor record disagree")

typedef enum cor_wire_code {
#define COR_WIRE_CODE_ENUM(name, error, iso, text) name,
    COR_WIRE_CODE_LIST(COR_WIRE_CODE_ENUM)
#undef COR_WIRE_CODE_ENUM
        COR_WIRE_CODE_COUNT
} cor_wire_code;

const char *cor_wire_code_name(uint32_t code); /* "COR_WIRE_SIGNATURE"; never NULL */
const char *cor_wire_code_text(uint32_t code); /* human text, never NULL */

/* What decode says about bytes it refused (or OK). */
typedef struct cor_wire_refusal {
    uint32_t code;  /* cor_wire_code */
    char iso[5];    /* ISO 20022 ExternalStatusReason1Code, e.g. "DS0A"; "" when OK */
    char text[200]; /* lowercase detail, e.g. "envelope of 10 bytes, header needs 72" */
} cor_wire_refusal;

/* ---------------------------------------------------------------------------------------- */
/* Configuration                                                                            */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_wire_key {
    uint32_t key_id;                              /* operator-assigned, any value */
    uint8_t public_key[COR_WIRE_PUBLIC_KEY_SIZE]; /* Ed25519 */
} cor_wire_key;

/* A node as this one knows it: the peer's (or our own) identity on the wire. */
typedef struct cor_wire_node {
    char name[COR_WIRE_NAME_SIZE_MAX + 1]; /* envelope sender/recipient, unique */
    char bic[12];                          /* BIC8 or BIC11: AppHdr Fr/To and agents */
    char currency[4];                      /* ISO 4217 alphabetic code of its ledger */
    uint32_t node_id;                      /* cor_xb node id, not 0 */
    uint32_t ledger;                       /* cor_xb ledger id (its currency), not 0 */
    uint32_t key_count;                    /* peers: 1..COR_WIRE_PEER_KEYS_MAX; self: 0 */
    cor_wire_key keys[COR_WIRE_PEER_KEYS_MAX];
} cor_wire_node;

typedef struct cor_wire_options {
    cor_wire_node self;                                /* this node (keys unused) */
    uint32_t self_key_id;                              /* sent in every envelope */
    uint8_t self_secret_key[COR_WIRE_SECRET_KEY_SIZE]; /* crypto_sign_keypair's sk */
    const cor_wire_node *peers;                        /* borrowed for cor_wire_open */
    uint32_t peer_count;                               /* 0..COR_WIRE_PEERS_MAX */
    uint64_t replay_window_ns; /* refuse envelopes older than now - this; not 0 */
    uint64_t clock_skew_ns;    /* refuse envelopes newer than now + this */
} cor_wire_options;

typedef struct cor_wire cor_wire; /* opaque */

/*
 * Copies the configuration and opens an ISO parser. Errors: COR_ERR_INVALID (bad name, BIC,
 * currency, zero ids, two nodes with the same name, node id or BIC, a ledger mapped to two
 * currencies or a currency to two ledgers, a peer without keys, too many peers or keys,
 * zero window, a secret key whose public half does not match its seed), COR_ERR_NOMEM.
 * *wire_out is NULL on failure. options->peers is copied; the caller may free it after.
 */
cor_error cor_wire_open(const cor_wire_options *options, cor_wire **wire_out);
void cor_wire_close(cor_wire *wire); /* NULL is a no-op */

/* ---------------------------------------------------------------------------------------- */
/* End customers                                                                            */
/* ---------------------------------------------------------------------------------------- */

/*
 * The debtor's and creditor's names as the beneficiary node screens them. They travel in the
 * ISO elements: pacs.008 CdtTrfTxInf/Dbtr/Nm and Cdtr/Nm; pacs.004 and camt.056
 * OrgnlTxRef/Dbtr/Pty/Nm and OrgnlTxRef/Cdtr/Pty/Nm. Other message kinds carry none.
 * A name is NUL-terminated UTF-8 of at most COR_WIRE_PARTY_NAME_SIZE_MAX bytes, without
 * control characters (C0, DEL, C1) or the non-characters U+FFFE and U+FFFF; "" means none.
 * (A pacs.008 without a name carries the account id's 32 hex digits in Nm, as Dbtr and
 * Cdtr are mandatory: so a name equal to its account's hex id reads back as "".)
 */
typedef struct cor_wire_parties {
    char debtor_name[COR_WIRE_PARTY_NAME_SIZE_MAX + 1];   /* "" = none */
    char creditor_name[COR_WIRE_PARTY_NAME_SIZE_MAX + 1]; /* "" = none */
} cor_wire_parties;

/* Whether name is a valid party name as above ("" is valid: none). */
bool cor_wire_party_name_valid(const char *name);

/* ---------------------------------------------------------------------------------------- */
/* Encode and decode                                                                        */
/* ---------------------------------------------------------------------------------------- */

/*
 * Writes message (from the core's outbox; from_node must be this node, to_node a peer) as
 * a signed envelope into out. The envelope timestamp is message->created_at, so encode
 * needs no clock and is deterministic: the same message gives the same bytes.
 * Errors: COR_ERR_INVALID (not from this node, unknown addressee, unknown message type,
 * reserved bytes set, a ledger with no configured currency, or a value ISO 20022 cannot
 * carry, e.g. an amount above 18 digits), COR_ERR_LIMIT (out_size_max too small; the
 * envelope never exceeds COR_WIRE_SIZE_BYTES_MAX), COR_ERR_NOMEM. *size_out is 0 on failure.
 */
cor_error cor_wire_encode(const cor_wire *wire, const cor_xb_message *message, uint8_t *out,
                          size_t out_size_max, size_t *size_out);

/*
 * Verifies and reads one envelope (bytes borrowed for the call) received at now_ns (the
 * caller's clock). On COR_OK *message_out is ready for cor_xb_receive and refusal->code is
 * COR_WIRE_OK. Otherwise *message_out is zeroed and refusal says why; the return value is
 * the refusal's class: COR_ERR_PARSE (truncated, malformed header), COR_ERR_LIMIT
 * (oversized), COR_ERR_AUTH (unknown sender or key, not for us, bad signature, stale),
 * COR_ERR_XML_INVALID (document refused by the codec, corridor record missing or malformed,
 * fields disagreeing), or COR_ERR_NOMEM (the codec could not allocate; refusal->code stays
 * COR_WIRE_OK: nothing is wrong with the bytes, try again). COR_ERR_INVALID for NULL
 * arguments. Nothing is verified after a failed check, and no XML is parsed before the
 * signature verified. A refusal changes nothing in the cor_wire but its working memory
 * (kept between calls, grown on first use: COR_ERR_NOMEM when that fails). A batch of two
 * or more messages is refused as COR_WIRE_OVERSIZED: use cor_wire_decode_batch.
 */
cor_error cor_wire_decode(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes, size_t size,
                          cor_xb_message *message_out, cor_wire_refusal *refusal);

/*
 * cor_wire_encode with the end customers' names (parties NULL = none, as cor_wire_encode).
 * Errors as cor_wire_encode, and COR_ERR_INVALID for a name that is not valid (see
 * cor_wire_parties) or a name on a message kind that carries none (pacs.002, pacs.028,
 * camt.029).
 */
cor_error cor_wire_encode_parties(const cor_wire *wire, const cor_xb_message *message,
                                  const cor_wire_parties *parties, uint8_t *out,
                                  size_t out_size_max, size_t *size_out);

/*
 * cor_wire_decode that also gives the end customers' names (parties_out may be NULL; it is
 * zeroed on refusal). A name that is not valid is refused with COR_WIRE_XML.
 */
cor_error cor_wire_decode_parties(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes,
                                  size_t size, cor_xb_message *message_out,
                                  cor_wire_parties *parties_out, cor_wire_refusal *refusal);

/* ---------------------------------------------------------------------------------------- */
/* Batches                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/*
 * One signed envelope around one ISO 20022 document carrying count messages (1 ..
 * COR_WIRE_BATCH_MAX) of one type, from this node to one peer, in order: one CdtTrfTxInf /
 * TxInfAndSts / TxInf per message and one corridor SplmtryData per message, in the same
 * order (docs/PROTOCOL.md "Batches"). count 1 gives exactly cor_wire_encode_parties' bytes.
 * parties is NULL (no names) or count elements. camt.029 batches carry one outcome (the
 * group's Sts/Conf): mixed cancellation statuses go in separate envelopes.
 * Errors: as cor_wire_encode_parties for any message (mixed types or addressees, a
 * camt.029 batch with mixed outcomes, two pacs.008 with one UETR: COR_ERR_INVALID), COR_ERR_LIMIT
 * (count 0 or above COR_WIRE_BATCH_MAX, body above COR_WIRE_BODY_SIZE_BYTES_MAX, or out_size_max
 * too small), COR_ERR_NOMEM. *size_out is 0 on failure.
 */
cor_error cor_wire_encode_batch(const cor_wire *wire, const cor_xb_message *messages,
                                const cor_wire_parties *parties, uint32_t count, uint8_t *out,
                                size_t out_size_max, size_t *size_out);

/*
 * Verifies and reads a batch envelope, or a single-message one (count 1). Every check of
 * cor_wire_decode applies to every message (replay window on each message's created_at);
 * the batch is accepted whole or refused whole, and refusal->text names the index of the
 * first message at fault ("message 17: ..."). On COR_OK messages_out[0 .. *count_out) are
 * ready for cor_xb_receive in order (and parties_out, when not NULL, has as many names;
 * elements after those are left as they were).
 * On refusal *count_out is 0 and messages_out / parties_out are zeroed up to messages_max
 * (at most COR_WIRE_BATCH_MAX elements: decode never writes beyond those).
 * More messages than messages_max: COR_WIRE_OVERSIZED (COR_ERR_LIMIT). Other errors as
 * cor_wire_decode.
 */
cor_error cor_wire_decode_batch(cor_wire *wire, uint64_t now_ns, const uint8_t *bytes, size_t size,
                                cor_xb_message *messages_out, cor_wire_parties *parties_out,
                                uint32_t messages_max, uint32_t *count_out,
                                cor_wire_refusal *refusal);

#endif
