/*
 * The expiry queue: a binary min-heap of pending transfers that have a timeout, ordered by
 * (expires_at, transfer index). Each pending transfer knows its heap position
 * (transfers_expiry_slot), so posting or voiding one removes it in O(log n). Heap moves are
 * a pure function of the operations, so the layout is deterministic and serializable.
 */
#include "ledger/ledger_internal.h"

static bool expiry_less(ledger_expiry a, ledger_expiry b)
{
    if (a.expires_at != b.expires_at) return a.expires_at < b.expires_at;
    return a.transfer_index < b.transfer_index;
}

static void expiry_place(cor_ledger *ledger, uint32_t position, ledger_expiry entry)
{
    ledger->expiries[position] = entry;
    ledger->transfers_expiry_slot[entry.transfer_index] = position + 1;
}

static void expiry_sift_up(cor_ledger *ledger, uint32_t position)
{
    ledger_expiry entry = ledger->expiries[position];
    while (position > 0) {
        uint32_t parent = (position - 1) / 2;
        if (!expiry_less(entry, ledger->expiries[parent])) break;
        expiry_place(ledger, position, ledger->expiries[parent]);
        position = parent;
    }
    expiry_place(ledger, position, entry);
}

static void expiry_sift_down(cor_ledger *ledger, uint32_t position)
{
    ledger_expiry entry = ledger->expiries[position];
    uint32_t count = ledger->expiries_count;
    for (;;) {
        uint32_t child = 2 * position + 1;
        if (child >= count) break;
        uint32_t right = child + 1;
        if (right < count && expiry_less(ledger->expiries[right], ledger->expiries[child])) {
            child = right;
        }
        if (!expiry_less(ledger->expiries[child], entry)) break;
        expiry_place(ledger, position, ledger->expiries[child]);
        position = child;
    }
    expiry_place(ledger, position, entry);
}

void cor__ledger_expiry_insert(cor_ledger *ledger, ledger_expiry entry)
{
    COR_ASSERT(ledger->expiries_count < ledger->options.pending_transfers_max);
    COR_ASSERT(ledger->transfers_expiry_slot[entry.transfer_index] == 0);
    uint32_t position = ledger->expiries_count++;
    ledger->expiries[position] = entry;
    expiry_sift_up(ledger, position);
}

void cor__ledger_expiry_remove(cor_ledger *ledger, uint32_t transfer_index)
{
    uint32_t slot = ledger->transfers_expiry_slot[transfer_index];
    COR_ASSERT(slot != 0);
    uint32_t position = slot - 1;
    COR_ASSERT(ledger->expiries[position].transfer_index == transfer_index);
    ledger->transfers_expiry_slot[transfer_index] = 0;
    uint32_t last = --ledger->expiries_count;
    if (position == last) return;
    expiry_place(ledger, position, ledger->expiries[last]);
    expiry_sift_down(ledger, position);
    expiry_sift_up(ledger, position);
}
