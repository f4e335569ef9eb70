/*
 * The journal record codec: encode a record header, decode and check a record read back.
 *
 * A record is a 96-byte header, the payload, and zero padding to 16 bytes (docs/JOURNAL.md).
 * Its chain field is BLAKE2b-256(chain before || header bytes 0..31 || payload): one hash
 * that both detects a torn or corrupted payload and links the record to all history before
 * it. The header has its own 8-byte BLAKE2b checksum, so its length field can be trusted
 * before the payload is read (that is what separates a torn tail from damage in the middle).
 *
 * The decoder is the parser of untrusted bytes: every field is validated, nothing asserted,
 * and it never reads past the size it was given (fuzz/journal_record.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "common/assert.h"
#include "journal/journal_internal.h"

enum {
    REC_MAGIC = 0,
    REC_OPERATION = 4,
    REC_OP_NUMBER = 8,
    REC_TIMESTAMP = 16,
    REC_EVENT_COUNT = 24,
    REC_PAYLOAD_SIZE = 28,
    REC_CHAIN = 32,
    REC_RESERVED = 64,
    REC_CHECKSUM = 88,
};
_Static_assert(REC_CHECKSUM + 8 == COR_JOURNAL_RECORD_HEADER_SIZE, "header layout");

uint64_t cor__journal_checksum64(const void *bytes, size_t size_bytes)
{
    unsigned char out[8];
    crypto_generichash(out, sizeof(out), bytes, size_bytes, NULL, 0);
    return journal_load_u64(out);
}

static void record_chain(const unsigned char *header, const void *payload, size_t payload_size,
                         const uint8_t chain_before[COR_JOURNAL_HASH_SIZE],
                         uint8_t chain_out[COR_JOURNAL_HASH_SIZE])
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, COR_JOURNAL_HASH_SIZE);
    crypto_generichash_update(&state, chain_before, COR_JOURNAL_HASH_SIZE);
    crypto_generichash_update(&state, header, REC_CHAIN);
    if (payload_size > 0) crypto_generichash_update(&state, payload, payload_size);
    crypto_generichash_final(&state, chain_out, COR_JOURNAL_HASH_SIZE);
}

void cor__journal_record_encode(unsigned char *header, const cor_journal_batch *batch,
                                uint64_t op_number,
                                const uint8_t chain_before[COR_JOURNAL_HASH_SIZE],
                                uint8_t chain_out[COR_JOURNAL_HASH_SIZE])
{
    COR_ASSERT(batch->operation != 0);
    COR_ASSERT(batch->payload_size_bytes <= UINT32_MAX);
    memset(header, 0, COR_JOURNAL_RECORD_HEADER_SIZE);
    journal_store_u32(header + REC_MAGIC, JOURNAL_RECORD_MAGIC);
    journal_store_u32(header + REC_OPERATION, batch->operation);
    journal_store_u64(header + REC_OP_NUMBER, op_number);
    journal_store_u64(header + REC_TIMESTAMP, batch->timestamp);
    journal_store_u32(header + REC_EVENT_COUNT, batch->event_count);
    journal_store_u32(header + REC_PAYLOAD_SIZE, (uint32_t)batch->payload_size_bytes);
    record_chain(header, batch->payload, batch->payload_size_bytes, chain_before, chain_out);
    memcpy(header + REC_CHAIN, chain_out, COR_JOURNAL_HASH_SIZE);
    journal_store_u64(header + REC_CHECKSUM, cor__journal_checksum64(header, REC_CHECKSUM));
}

bool cor__journal_record_header_plausible(const unsigned char *bytes)
{
    if (journal_load_u32(bytes + REC_MAGIC) != JOURNAL_RECORD_MAGIC) return false;
    return journal_load_u64(bytes + REC_CHECKSUM) == cor__journal_checksum64(bytes, REC_CHECKSUM);
}

static bool record_zero(const unsigned char *bytes, size_t size_bytes)
{
    for (size_t i = 0; i < size_bytes; i++) {
        if (bytes[i] != 0) return false;
    }
    return true;
}

cor_error cor_journal_record_decode(const void *bytes, size_t size,
                                    const uint8_t chain_before[COR_JOURNAL_HASH_SIZE],
                                    uint64_t op_number_expected, uint32_t payload_size_bytes_max,
                                    cor_journal_batch *batch, size_t *record_size_out,
                                    uint8_t chain_out[COR_JOURNAL_HASH_SIZE])
{
    const unsigned char *header = bytes;
    if (size < COR_JOURNAL_RECORD_HEADER_SIZE) return COR_ERR_PARSE;
    if (!cor__journal_record_header_plausible(header)) return COR_ERR_CORRUPT;
    if (!record_zero(header + REC_RESERVED, REC_CHECKSUM - REC_RESERVED)) return COR_ERR_CORRUPT;

    uint32_t operation = journal_load_u32(header + REC_OPERATION);
    uint64_t op_number = journal_load_u64(header + REC_OP_NUMBER);
    uint32_t payload_size = journal_load_u32(header + REC_PAYLOAD_SIZE);
    if (operation == 0 || op_number != op_number_expected) return COR_ERR_CORRUPT;
    if (payload_size > payload_size_bytes_max) return COR_ERR_LIMIT;

    uint64_t record_size = journal_record_size(payload_size);
    if (size < record_size) return COR_ERR_PARSE;
    const unsigned char *payload = header + COR_JOURNAL_RECORD_HEADER_SIZE;
    if (!record_zero(payload + payload_size,
                     (size_t)record_size - COR_JOURNAL_RECORD_HEADER_SIZE - payload_size)) {
        return COR_ERR_CORRUPT;
    }
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    record_chain(header, payload, payload_size, chain_before, chain);
    if (sodium_memcmp(chain, header + REC_CHAIN, COR_JOURNAL_HASH_SIZE) != 0) {
        return COR_ERR_CORRUPT;
    }

    *batch = (cor_journal_batch){
        .op_number = op_number,
        .timestamp = journal_load_u64(header + REC_TIMESTAMP),
        .operation = operation,
        .event_count = journal_load_u32(header + REC_EVENT_COUNT),
        .payload = payload,
        .payload_size_bytes = payload_size,
    };
    *record_size_out = (size_t)record_size;
    memcpy(chain_out, chain, COR_JOURNAL_HASH_SIZE);
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Reporting                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void reporter_emit(journal_reporter *reporter, const char *message)
{
    if (reporter->log != NULL) {
        reporter->log(reporter->log_context, message);
    } else {
        fprintf(stderr, "corridor: %s\n", message);
    }
}

void cor__journal_log(journal_reporter *reporter, const char *format, ...)
{
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    reporter_emit(reporter, message);
}

cor_error cor__journal_problem(journal_reporter *reporter, cor_error rc, const char *format, ...)
{
    COR_ASSERT(rc != COR_OK);
    char message[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof(message), format, args);
    va_end(args);
    reporter_emit(reporter, message);
    if (!reporter->detail_set && reporter->detail != NULL && reporter->detail_size > 0) {
        snprintf(reporter->detail, reporter->detail_size, "%s", message);
        reporter->detail_set = true;
    }
    return rc;
}
