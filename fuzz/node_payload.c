/*
 * libFuzzer harness: the node's batch payload decoder and apply (src/node/node_state.c). A
 * payload comes back from the journal at recovery; the journal's checksums catch damage, but
 * the decoder must still refuse any malformed payload without applying part of it, and apply
 * any well-formed one without crashing or breaking the ledger's invariants.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/assert.h"
#include "node/node_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cor_node_state *state;
static uint64_t timestamp = 1000;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (state == NULL) {
        cor_node_state_options options = {.ledger = 643,
                                          .payments_max = 4096,
                                          .ledger_accounts_max = 256,
                                          .ledger_transfers_max = 4096,
                                          .hash_seed = 7};
        COR_ASSERT(cor_node_state_open(&options, &state) == COR_OK);
    }
    uint32_t events = cor_node_payload_events(data, size);
    static cor_node_result results[COR_NODE_BATCH_EVENTS_MAX];
    cor_error rc =
        cor_node_state_apply(state, timestamp++, data, size, results, COR_NODE_BATCH_EVENTS_MAX);
    COR_ASSERT((events == 0) == (rc == COR_ERR_CORRUPT));
    for (uint32_t i = 0; rc == COR_OK && i < events; i++) {
        COR_ASSERT(results[i].code < COR_NODE_CODE_COUNT);
    }
    char problem[128];
    COR_ASSERT(cor_ledger_check(cor_node_state_ledger(state), problem, sizeof(problem)));
    return 0;
}
