/*
 * Id indexes of the ledger: open addressing with linear probing, load factor at most 1/2.
 *
 * Tuned for the transfer hot path: a 8-byte slot (32-bit hash tag + record index) packs
 * eight to a cache line, and the tag filters out almost every probe that is not the id, so a
 * lookup of a new (absent) id touches one slot line and no record. Ids are client-chosen, so
 * the hash is keyed by the ledger's hash_seed: without the key, crafting colliding ids
 * is not a matter of arithmetic. The layout depends on the seed, which is why it is never
 * serialized (snapshots rebuild indexes).
 *
 * Deletion happens only when a failed linked chain rolls back its own inserts, newest first.
 * A slot filled by the newest insert was empty when every older key was placed, so no older
 * key's probe sequence runs through it, and clearing it keeps every other key reachable.
 */
#include <string.h>

#include "common/alloc.h"
#include "ledger/ledger_internal.h"

static inline uint64_t index_mix(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ull;
    x ^= x >> 32;
    return x;
}

uint64_t cor__ledger_hash(const cor_ledger *ledger, cor_u128 id)
{
    uint64_t low = (uint64_t)id;
    uint64_t high = (uint64_t)(id >> 64);
    return index_mix(low ^ index_mix(high ^ ledger->options.hash_seed));
}

cor_error cor__ledger_index_init(ledger_index *index, uint32_t capacity, bool prefault)
{
    uint64_t slot_count = 16;
    while (slot_count < 2ull * capacity) slot_count <<= 1;
    size_t size_bytes = 0;
    if (!cor_size_mul((size_t)slot_count, sizeof(ledger_slot), &size_bytes)) return COR_ERR_NOMEM;
    index->slots = cor_alloc_large(size_bytes);
    if (index->slots == NULL) return COR_ERR_NOMEM;
    if (prefault) cor_prefault(index->slots, size_bytes);
    index->mask = slot_count - 1;
    index->size_bytes = size_bytes;
    return COR_OK;
}

void cor__ledger_index_release(ledger_index *index)
{
    cor_free_large(index->slots, index->size_bytes);
    memset(index, 0, sizeof(*index));
}

uint64_t cor__ledger_index_insert(ledger_index *index, uint64_t hash, uint32_t slot_value)
{
    COR_ASSERT(slot_value != 0);
    uint64_t slot = hash & index->mask;
    for (uint64_t probes = 0; probes <= index->mask; probes++) {
        ledger_slot *s = &index->slots[slot];
        if (s->index_next == 0) {
            s->tag = (uint32_t)(hash >> 32);
            s->index_next = slot_value;
            return slot;
        }
        slot = (slot + 1) & index->mask;
    }
    COR_UNREACHABLE(); /* capacity checks keep at least half the slots empty */
}

void cor__ledger_index_clear_slot(ledger_index *index, uint64_t slot)
{
    COR_ASSERT(slot <= index->mask);
    COR_ASSERT(index->slots[slot].index_next != 0);
    index->slots[slot].tag = 0;
    index->slots[slot].index_next = 0;
}

uint32_t cor__ledger_transfer_lookup(const cor_ledger *ledger, uint64_t hash, cor_u128 id,
                                     bool *failed)
{
    COR_DEBUG_ASSERT(hash == cor__ledger_hash(ledger, id));
    const ledger_index *index = &ledger->transfers_index;
    uint32_t tag = (uint32_t)(hash >> 32);
    uint64_t slot = hash & index->mask;
    *failed = false;
    for (uint64_t probes = 0; probes <= index->mask; probes++) {
        const ledger_slot *s = &index->slots[slot];
        if (s->index_next == 0) return 0;
        if (s->tag == tag) {
            uint32_t record_index = (s->index_next & ~LEDGER_SLOT_FAILED) - 1;
            if ((s->index_next & LEDGER_SLOT_FAILED) != 0) {
                if (ledger->failed_ids[record_index] == id) {
                    *failed = true;
                    return 0;
                }
            } else if (ledger->transfers[record_index].id == id) {
                return record_index + 1;
            }
        }
        slot = (slot + 1) & index->mask;
    }
    return 0;
}

uint64_t cor__ledger_account_slot_insert(cor_ledger *ledger, uint64_t hash,
                                         const ledger_account_slot *slot)
{
    COR_ASSERT(slot->index_next != 0);
    uint64_t position = hash & ledger->account_slots_mask;
    for (uint64_t probes = 0; probes <= ledger->account_slots_mask; probes++) {
        ledger_account_slot *s = &ledger->account_slots[position];
        if (s->index_next == 0) {
            *s = *slot;
            return position;
        }
        COR_ASSERT(s->id != slot->id);
        position = (position + 1) & ledger->account_slots_mask;
    }
    COR_UNREACHABLE(); /* capacity checks keep at least half the slots empty */
}

void cor__ledger_account_get(const cor_ledger *ledger, uint32_t index, cor_account *out)
{
    COR_ASSERT(index < ledger->accounts_count);
    const ledger_balances *balances = &ledger->balances[index];
    *out = ledger->accounts[index];
    out->debits_pending = balances->debits_pending;
    out->debits_posted = balances->debits_posted;
    out->credits_pending = balances->credits_pending;
    out->credits_posted = balances->credits_posted;
    out->flags = ledger_account_slot_at(ledger, index)->flags;
    out->reserved = 0;
}
