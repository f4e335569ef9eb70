/* The record codec: round trip, and every kind of damage the decoder must refuse. */
#include <criterion/criterion.h>
#include <string.h>

#include <sodium.h>

#include "journal/journal_internal.h"

#define PAYLOAD_SIZE 200u /* not a multiple of 16: exercises the padding */

typedef struct record_fixture {
    _Alignas(16) unsigned char bytes[COR_JOURNAL_RECORD_HEADER_SIZE + 256];
    size_t size;
    uint8_t chain_before[COR_JOURNAL_HASH_SIZE];
    uint8_t chain_after[COR_JOURNAL_HASH_SIZE];
} record_fixture;

static void record_make(record_fixture *f)
{
    cr_assert(sodium_init() >= 0);
    memset(f, 0, sizeof(*f));
    memset(f->chain_before, 0xab, sizeof(f->chain_before));
    unsigned char payload[PAYLOAD_SIZE];
    for (unsigned i = 0; i < PAYLOAD_SIZE; i++)
        payload[i] = (unsigned char)(i * 7u);
    cor_journal_batch batch = {.timestamp = 123456789,
                               .operation = 2,
                               .event_count = 3,
                               .payload = payload,
                               .payload_size_bytes = PAYLOAD_SIZE};
    cor__journal_record_encode(f->bytes, &batch, 42, f->chain_before, f->chain_after);
    memcpy(f->bytes + COR_JOURNAL_RECORD_HEADER_SIZE, payload, PAYLOAD_SIZE);
    f->size = journal_record_size(PAYLOAD_SIZE);
}

static cor_error record_decode(record_fixture *f, size_t size, uint64_t op, uint32_t max)
{
    cor_journal_batch batch;
    size_t record_size = 0;
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    return cor_journal_record_decode(f->bytes, size, f->chain_before, op, max, &batch, &record_size,
                                     chain);
}

Test(journal_record, round_trip)
{
    record_fixture f;
    record_make(&f);
    cr_assert_eq(f.size, COR_JOURNAL_RECORD_HEADER_SIZE + 208u);
    cor_journal_batch batch;
    size_t record_size = 0;
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    cr_assert_eq(cor_journal_record_decode(f.bytes, f.size, f.chain_before, 42, 4096, &batch,
                                           &record_size, chain),
                 COR_OK);
    cr_assert_eq(record_size, f.size);
    cr_assert_eq(batch.op_number, 42);
    cr_assert_eq(batch.timestamp, 123456789);
    cr_assert_eq(batch.operation, 2);
    cr_assert_eq(batch.event_count, 3);
    cr_assert_eq(batch.payload_size_bytes, PAYLOAD_SIZE);
    cr_assert_eq(((const unsigned char *)batch.payload)[5], 35);
    cr_assert_eq(memcmp(chain, f.chain_after, sizeof(chain)), 0);
}

Test(journal_record, every_bit_flip_is_refused)
{
    record_fixture f;
    record_make(&f);
    for (size_t byte = 0; byte < f.size; byte++) {
        for (unsigned bit = 0; bit < 8; bit += 3) {
            f.bytes[byte] ^= (unsigned char)(1u << bit);
            cor_error rc = record_decode(&f, f.size, 42, 4096);
            cr_assert_neq(rc, COR_OK, "flip of byte %zu bit %u accepted", byte, bit);
            f.bytes[byte] ^= (unsigned char)(1u << bit);
        }
    }
    cr_assert_eq(record_decode(&f, f.size, 42, 4096), COR_OK);
}

Test(journal_record, short_input_is_a_possible_torn_tail)
{
    record_fixture f;
    record_make(&f);
    cr_assert_eq(record_decode(&f, 0, 42, 4096), COR_ERR_PARSE);
    cr_assert_eq(record_decode(&f, COR_JOURNAL_RECORD_HEADER_SIZE - 1, 42, 4096), COR_ERR_PARSE);
    cr_assert_eq(record_decode(&f, f.size - 1, 42, 4096), COR_ERR_PARSE);
}

Test(journal_record, wrong_op_chain_or_limit)
{
    record_fixture f;
    record_make(&f);
    cr_assert_eq(record_decode(&f, f.size, 41, 4096), COR_ERR_CORRUPT);
    cr_assert_eq(record_decode(&f, f.size, 43, 4096), COR_ERR_CORRUPT);
    cr_assert_eq(record_decode(&f, f.size, 42, 64), COR_ERR_LIMIT);
    f.chain_before[0] ^= 1; /* the record does not follow this history */
    cr_assert_eq(record_decode(&f, f.size, 42, 4096), COR_ERR_CORRUPT);
}

Test(journal_record, nonzero_padding_is_refused)
{
    record_fixture f;
    record_make(&f);
    f.bytes[COR_JOURNAL_RECORD_HEADER_SIZE + PAYLOAD_SIZE + 1] = 1;
    cr_assert_eq(record_decode(&f, f.size, 42, 4096), COR_ERR_CORRUPT);
}
