/*
 * libFuzzer harness: the node's JSON request decoder (src/node/request.c), the code every
 * untrusted HTTP body goes through. Each input is parsed once and handed to every decoder;
 * they must refuse or accept without crashing, leaking or reading out of bounds, and an
 * accepted result must satisfy the decoders' promises (limits, no reserved ids).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/assert.h"
#include "node/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cor_node_payment_in payments[COR_NODE_PAYMENTS_PER_REQUEST_MAX];
static cor_transfer transfers[COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX];
static cor_account accounts[COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX];

static cor_node_payment_in fast_payments[COR_NODE_PAYMENTS_PER_REQUEST_MAX];
static cor_node_cmd_xb_payment xb_payments[COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX];

/* The cross-border fast path: whatever it accepts is valid JSON and keeps its promises. */
static uint32_t check_xb_fast(const uint8_t *data, size_t size)
{
    bool array = false;
    uint32_t count = cor_node_decode_xb_payments_fast((const char *)data, size, xb_payments,
                                                      COR_NODE_XB_PAYMENTS_PER_REQUEST_MAX, &array);
    for (uint32_t i = 0; i < count; i++) {
        const cor_node_cmd_xb_payment *p = &xb_payments[i];
        COR_ASSERT(cor_xb_uetr_valid(p->uetr));
        COR_ASSERT(p->creditor_account > COR_NODE_ID_BASE &&
                   p->creditor_account - COR_NODE_ID_BASE <= UINT32_MAX);
        COR_ASSERT(p->debtor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX &&
                   p->creditor_name_length <= COR_NODE_XB_NAME_LENGTH_MAX);
        for (uint32_t b = 0; b < p->debtor_name_length; b++)
            COR_ASSERT(p->debtor_name[b] >= 0x20 && p->debtor_name[b] < 0x7f);
    }
    return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cor_node_fault fault;
    json_t *json = NULL;
    bool fast_array = false;
    uint32_t fast_count =
        cor_node_decode_payments_fast((const char *)data, size, 643, fast_payments,
                                      COR_NODE_PAYMENTS_PER_REQUEST_MAX, &fast_array);
    uint32_t xb_count = check_xb_fast(data, size);
    if (!cor_node_json_parse((const char *)data, size, &json, &fault)) {
        COR_ASSERT(fault.http_status >= 400 && fault.code != NULL);
        COR_ASSERT(fast_count == 0); /* the fast path accepts only what the full one does */
        COR_ASSERT(xb_count == 0);
        return 0;
    }
    bool is_array = false;
    uint32_t count = cor_node_decode_payments(json, 643, payments,
                                              COR_NODE_PAYMENTS_PER_REQUEST_MAX, &is_array, &fault);
    if (fast_count != 0) {
        COR_ASSERT(fast_count == count && fast_array == is_array);
        COR_ASSERT(memcmp(fast_payments, payments, count * sizeof(payments[0])) == 0);
    }
    for (uint32_t i = 0; i < count; i++) {
        COR_ASSERT(payments[i].amount != 0 && payments[i].payment_id != 0);
        COR_ASSERT(payments[i].e2e_length <= COR_NODE_E2E_LENGTH_MAX);
        COR_ASSERT(payments[i].remittance_length <= COR_NODE_REMITTANCE_LENGTH_MAX);
        uint8_t encoded[COR_NODE_PAYMENT_ENCODED_SIZE_MAX];
        COR_ASSERT(cor_node_payment_encode(&payments[i], encoded) <= sizeof(encoded));
    }
    count = cor_node_decode_ledger_transfers(json, transfers,
                                             COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX, &fault);
    for (uint32_t i = 0; i < count; i++)
        COR_ASSERT(transfers[i].id < COR_NODE_ID_BASE);
    count = cor_node_decode_ledger_accounts(json, accounts, COR_NODE_LEDGER_EVENTS_PER_REQUEST_MAX,
                                            &fault);
    for (uint32_t i = 0; i < count; i++)
        COR_ASSERT(accounts[i].id < COR_NODE_ID_BASE);
    cor_node_cmd_participant_create participant;
    if (cor_node_decode_participant_create(json, &participant, &fault)) {
        COR_ASSERT(participant.name_length > 0 && participant.bic_length >= 8);
    }
    cor_node_cmd_funding funding;
    if (cor_node_decode_funding(json, 643, &funding, &fault)) COR_ASSERT(funding.amount != 0);
    uint32_t status;
    bool has_cap;
    cor_u128 cap;
    (void)cor_node_decode_participant_update(json, &status, &has_cap, &cap, &fault);
    json_decref(json);
    return 0;
}
