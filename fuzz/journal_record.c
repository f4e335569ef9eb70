/*
 * libFuzzer harness for the journal record decoder, the parser of bytes read back from disk.
 *
 * Decodes the input as recovery would: records one after another from op 1 with an all-zero
 * chain head, until the first refusal. Properties checked on every accepted record: it lies
 * inside the input, its size is header + payload padded to 16, and encoding the decoded
 * batch again gives back the same header bytes and chain head (decode is encode's inverse).
 *
 * Checksums stop random mutations at the first check, so when the input's last byte is odd
 * the harness repairs the first record's chain field and header checksum (of whatever header
 * and payload size the fuzzer chose) before decoding: that reaches the size, padding, limit
 * and op-number checks behind them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "journal/journal_internal.h"

#define FUZZ_PAYLOAD_SIZE_MAX 65536u
#define FUZZ_RECORDS_MAX      4096u

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0) abort();
    return 0;
}

/* Recomputes the chain and checksum of the record at the start of bytes. */
static void fuzz_repair(unsigned char *bytes, size_t size)
{
    if (size < COR_JOURNAL_RECORD_HEADER_SIZE) return;
    uint64_t payload_size = journal_load_u32(bytes + 28);
    size_t available = size - COR_JOURNAL_RECORD_HEADER_SIZE;
    if (payload_size > available) payload_size = available;
    uint8_t zero[COR_JOURNAL_HASH_SIZE] = {0};
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, COR_JOURNAL_HASH_SIZE);
    crypto_generichash_update(&state, zero, sizeof(zero));
    crypto_generichash_update(&state, bytes, 32);
    crypto_generichash_update(&state, bytes + COR_JOURNAL_RECORD_HEADER_SIZE, payload_size);
    crypto_generichash_final(&state, bytes + 32, COR_JOURNAL_HASH_SIZE);
    journal_store_u64(bytes + 88, cor__journal_checksum64(bytes, 88));
}

static int fuzz_decode_all(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || (data[size - 1] & 1u) == 0) return fuzz_decode_all(data, size);
    unsigned char *copy = malloc(size);
    if (copy == NULL) abort();
    memcpy(copy, data, size);
    fuzz_repair(copy, size);
    int result = fuzz_decode_all(copy, size);
    free(copy);
    return result;
}

static int fuzz_decode_all(const uint8_t *data, size_t size)
{
    uint8_t chain[COR_JOURNAL_HASH_SIZE] = {0};
    size_t offset = 0;
    for (uint64_t op = 1; op <= FUZZ_RECORDS_MAX && offset < size; op++) {
        cor_journal_batch batch;
        size_t record_size = 0;
        uint8_t next[COR_JOURNAL_HASH_SIZE];
        cor_error rc = cor_journal_record_decode(data + offset, size - offset, chain, op,
                                                 FUZZ_PAYLOAD_SIZE_MAX, &batch, &record_size, next);
        if (rc != COR_OK) {
            if (rc != COR_ERR_PARSE && rc != COR_ERR_CORRUPT && rc != COR_ERR_LIMIT) abort();
            return 0;
        }
        if (record_size > size - offset) abort();
        if (record_size != journal_record_size(batch.payload_size_bytes)) abort();
        if ((const uint8_t *)batch.payload != data + offset + COR_JOURNAL_RECORD_HEADER_SIZE) {
            abort();
        }
        unsigned char header[COR_JOURNAL_RECORD_HEADER_SIZE];
        uint8_t again[COR_JOURNAL_HASH_SIZE];
        cor__journal_record_encode(header, &batch, op, chain, again);
        if (memcmp(header, data + offset, sizeof(header)) != 0) abort();
        if (memcmp(again, next, sizeof(again)) != 0) abort();
        memcpy(chain, next, sizeof(chain));
        offset += record_size;
    }
    return 0;
}
