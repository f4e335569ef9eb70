/*
 * The naive baseline the ledger benchmark is compared with (docs/BENCHMARKS.md): 32-byte
 * accounts, one hash lookup per account id (open addressing), a funds check and two balance
 * updates per transfer; no transfer records, no history, no idempotency index, no batching
 * tricks. Same workload shape and generator as `corridor bench ledger` (uniform).
 *
 *   cc -O2 -o build/naive_ledger bench/naive_ledger.c && build/naive_ledger 1000000 10000000
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct naive_account {
    uint64_t id;
    uint64_t debits;
    uint64_t credits;
    uint64_t flags;
} naive_account;

typedef struct naive_transfer {
    uint64_t debit_id;
    uint64_t credit_id;
    uint64_t amount;
} naive_transfer;

static uint64_t naive_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t naive_hash(uint64_t id)
{
    id ^= id >> 32;
    id *= 0xd6e8feb86659fd93ull;
    id ^= id >> 32;
    return id;
}

static uint32_t *slots; /* account index + 1 */
static uint64_t mask;
static naive_account *accounts;

static naive_account *naive_find(uint64_t id)
{
    for (uint64_t slot = naive_hash(id) & mask;; slot = (slot + 1) & mask) {
        uint32_t next = slots[slot];
        if (next == 0) return NULL;
        if (accounts[next - 1].id == id) return &accounts[next - 1];
    }
}

int main(int argc, char **argv)
{
    uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    uint64_t transfers_count = argc > 2 ? strtoull(argv[2], NULL, 10) : 10000000;
    uint64_t slot_count = 16;
    while (slot_count < 2 * count) slot_count <<= 1;
    mask = slot_count - 1;
    slots = calloc(slot_count, sizeof(*slots));
    accounts = calloc(count, sizeof(*accounts));
    naive_transfer *transfers = malloc(transfers_count * sizeof(*transfers));
    if (slots == NULL || accounts == NULL || transfers == NULL) return 1;
    for (uint64_t i = 0; i < count; i++) {
        accounts[i] = (naive_account){.id = i + 1, .credits = 1000000000000ull, .flags = 1};
        uint64_t slot = naive_hash(i + 1) & mask;
        while (slots[slot] != 0) slot = (slot + 1) & mask;
        slots[slot] = (uint32_t)i + 1;
    }
    uint64_t state = 42;
    for (uint64_t i = 0; i < transfers_count; i++) {
        uint64_t debit = naive_random(&state) % count;
        uint64_t credit = naive_random(&state) % count;
        if (credit == debit) credit = (debit + 1) % count;
        transfers[i] = (naive_transfer){debit + 1, credit + 1, 1 + naive_random(&state) % 1000};
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t failed = 0;
    for (uint64_t i = 0; i < transfers_count; i++) {
        naive_account *dr = naive_find(transfers[i].debit_id);
        naive_account *cr = naive_find(transfers[i].credit_id);
        if (dr == NULL || cr == NULL || dr->debits + transfers[i].amount > dr->credits) {
            failed++;
            continue;
        }
        dr->debits += transfers[i].amount;
        cr->credits += transfers[i].amount;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) +
                     (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    printf("{\"naive_transfers_per_second\": %.0f, \"failed\": %llu}\n",
           (double)transfers_count / seconds, (unsigned long long)failed);
    return 0;
}
