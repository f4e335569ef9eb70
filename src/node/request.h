/*
 * Decoding of untrusted JSON request bodies into node commands.
 *
 * Every function here validates completely and never asserts on input: a body is either
 * turned into command structs or refused with a cor_node_fault naming the code, a human
 * message and the offending field (as the API's 400 body shows them). JSON is parsed with
 * jansson after a linear pre-scan that enforces COR_NODE_JSON_DEPTH_MAX without recursion
 * (jansson's own limit is 2,048 levels, far too deep for us). Ids and amounts are decimal
 * strings; u32/u16 fields are JSON integers; unknown fields are refused.
 *
 * Threads: any thread; no shared state.
 */
#ifndef COR_NODE_REQUEST_H
#define COR_NODE_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/ledger.h"
#include "node/node_state.h"

/* A refused request: HTTP status, machine code, human message, field (may be ""). */
typedef struct cor_node_fault {
    unsigned http_status;
    const char *code; /* static string, e.g. "invalid_amount" */
    char message[160];
    char field[64]; /* e.g. "payments[3].amount" */
} cor_node_fault;

void cor_node_fault_set(cor_node_fault *fault, unsigned http_status, const char *code,
                        const char *field, const char *format, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Parses body (size bytes, not NUL-terminated) as one JSON value (object or array at the
 * top). Success: *out is a new reference the caller releases with json_decref. Failure:
 * false, fault filled (invalid_json, too_deep, body_too_large), *out NULL.
 */
bool cor_node_json_parse(const char *body, size_t size, json_t **out, cor_node_fault *fault);

/* POST /v1/participants: {"name", "bic", "role", "debit_cap"?}. */
bool cor_node_decode_participant_create(json_t *json, cor_node_cmd_participant_create *out,
                                        cor_node_fault *fault);

/* PATCH /v1/participants/{id}: {"status"?: "active"|"suspended", "debit_cap"?}. At least one.
 * *status_out is 0 when absent; *has_cap_out says whether debit_cap was given. */
bool cor_node_decode_participant_update(json_t *json, uint32_t *status_out, bool *has_cap_out,
                                        cor_u128 *cap_out, cor_node_fault *fault);

/* POST /v1/participants/{id}/funding: {"funding_id", "direction", "amount", "currency"}. */
bool cor_node_decode_funding(json_t *json, uint32_t currency, cor_node_cmd_funding *out,
                             cor_node_fault *fault);

/*
 * POST /v1/payments: one payment object or an array of 1 .. out_max of them. Returns the
 * count (0 on failure, fault filled); *is_array_out tells which form was sent.
 */
uint32_t cor_node_decode_payments(json_t *json, uint32_t currency, cor_node_payment_in *out,
                                  uint32_t out_max, bool *is_array_out, cor_node_fault *fault);

/*
 * Fast path of POST /v1/payments for the common shape: a payment object, or an array of them,
 * whose values are all strings of printable ASCII without escapes. Returns the count when it
 * decoded the body into exactly what cor_node_decode_payments gives (the fuzzer checks this),
 * else 0: then the caller must use the full decoder, which also names any error. The fast
 * path never refuses anything itself. cor_node_payments_fast_count gives an upper bound of
 * the count (the number of '{'), for sizing out.
 */
uint32_t cor_node_payments_fast_count(const char *body, size_t size);
uint32_t cor_node_decode_payments_fast(const char *body, size_t size, uint32_t currency,
                                       cor_node_payment_in *out, uint32_t out_max,
                                       bool *is_array_out);

/* POST /v1/ledger/accounts and /v1/ledger/transfers: an array of 1 .. out_max records. Ids
 * at or above 2^127 are the node's and refused (reserved_id). */
uint32_t cor_node_decode_ledger_accounts(json_t *json, cor_account *out, uint32_t out_max,
                                         cor_node_fault *fault);
uint32_t cor_node_decode_ledger_transfers(json_t *json, cor_transfer *out, uint32_t out_max,
                                          cor_node_fault *fault);

/* Parses a decimal u128 / u64 / u32 from a URL path or query value (NUL-terminated). */
bool cor_node_parse_u128(const char *text, cor_u128 *out);
bool cor_node_parse_u64(const char *text, uint64_t *out);
bool cor_node_parse_u32(const char *text, uint32_t *out);

/* Formats a UETR (16 bytes) as the 36-character lowercase UUID text plus NUL. */
void cor_node_uetr_format(const uint8_t uetr[16], char out[37]);
/*
 * POST /v1/xborder/payments without jansson: flat objects of printable ASCII with exactly the
 * known fields. Returns the count decoded into out, or 0 when the body is anything else (the
 * caller then runs the full decoder, which gives the precise error); *is_array_out says which
 * form was sent. A UETR here is a UUID v4 as a big-endian integer.
 */
uint32_t cor_node_decode_xb_payments_fast(const char *body, size_t size,
                                          cor_node_cmd_xb_payment *out, uint32_t out_max,
                                          bool *is_array_out);

/* A UUID version 4 in its 36-character form; false otherwise. */
bool cor_node_uetr_parse(const char *text, size_t length, uint8_t out[16]);

#endif
