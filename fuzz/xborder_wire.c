/*
 * Fuzz harness for the peer wire decoder (src/corridor/wire.c): envelope header, signature
 * check, the ISO 20022 codec under it, the corridor record reader and the cross-checks.
 *
 * Node IR decodes what node RU sent, with fixed test keys (seeds of 0x51 and 0x52 bytes,
 * the same as tests/unit/corridor/test_wire.c). The first input byte picks the mode:
 *   even: the rest is decoded as it is (mostly refused before the signature);
 *   odd:  the rest is an envelope whose body size and signature the harness fixes up with
 *         RU's key (as its version says: Ed25519 over the bytes, or over the header and
 *         SHA-256 of the body for a batch), so the fuzzer reaches the XML and record layers
 *         behind the signature.
 * Bit 1 of the mode byte picks the decoder: cor_wire_decode_parties (one message) or
 * cor_wire_decode_batch (any number up to COR_WIRE_BATCH_MAX). Whatever is accepted must
 * encode again at RU, names included, and decode to the same messages and names.
 * Seeds (fuzz/seeds/xborder_wire/) are odd-mode envelopes of every message kind, some with
 * names, and batches.
 */
#include <openssl/sha.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/xborder_wire.h"

#define FUZZ_NOW_NS (1800000000ull * 1000000000ull)

static cor_wire *fuzz_ru;
static cor_wire *fuzz_ir;
static uint8_t fuzz_ru_secret[COR_WIRE_SECRET_KEY_SIZE];
static uint8_t fuzz_buffer[COR_WIRE_SIZE_BYTES_MAX];
static cor_xb_message fuzz_messages[2][COR_WIRE_BATCH_MAX];
static cor_wire_parties fuzz_names[2][COR_WIRE_BATCH_MAX];

static cor_wire_node fuzz_node(const char *name, const char *bic, const char *currency, uint32_t id,
                               uint32_t ledger, const uint8_t *public_key)
{
    cor_wire_node node;
    memset(&node, 0, sizeof(node));
    memcpy(node.name, name, strlen(name));
    memcpy(node.bic, bic, strlen(bic));
    memcpy(node.currency, currency, 3);
    node.node_id = id;
    node.ledger = ledger;
    node.key_count = public_key != NULL ? 1 : 0;
    node.keys[0].key_id = public_key != NULL ? 9 + id : 0;
    if (public_key != NULL) memcpy(node.keys[0].public_key, public_key, 32);
    return node;
}

static void fuzz_open(void)
{
    if (sodium_init() < 0) abort();
    uint8_t seed[32], public_keys[2][32], secrets[2][64];
    for (int n = 0; n < 2; n++) {
        memset(seed, 0x51 + n, sizeof(seed));
        crypto_sign_seed_keypair(public_keys[n], secrets[n], seed);
    }
    memcpy(fuzz_ru_secret, secrets[0], sizeof(fuzz_ru_secret));
    cor_wire_node ru = fuzz_node("RU", "CORRRUMM", "RUB", 1, 643, public_keys[0]);
    cor_wire_node ir = fuzz_node("IR", "CORRIRTH", "IRR", 2, 364, public_keys[1]);
    cor_wire_options options = {.replay_window_ns = 1ull << 62, .clock_skew_ns = 1ull << 62};
    options.self = fuzz_node("IR", "CORRIRTH", "IRR", 2, 364, NULL);
    options.self_key_id = 11;
    memcpy(options.self_secret_key, secrets[1], 64);
    options.peers = &ru;
    options.peer_count = 1;
    if (cor_wire_open(&options, &fuzz_ir) != COR_OK) abort();
    options.self = fuzz_node("RU", "CORRRUMM", "RUB", 1, 643, NULL);
    options.self_key_id = 10;
    memcpy(options.self_secret_key, secrets[0], 64);
    options.peers = &ir;
    if (cor_wire_open(&options, &fuzz_ru) != COR_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Signs fuzz_buffer[0..length) as RU would for the version its header names. */
static void fuzz_sign(size_t length)
{
    size_t overhead = COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE;
    size_t body = length - overhead;
    for (int i = 0; i < 4; i++)
        fuzz_buffer[68 + i] = (uint8_t)(body >> (8 * (3 - i)));
    uint8_t *signature = fuzz_buffer + length - COR_WIRE_SIGNATURE_SIZE;
    if (fuzz_buffer[4] == 0 && fuzz_buffer[5] == 3) {
        uint8_t form[COR_WIRE_HEADER_SIZE_BYTES + SHA256_DIGEST_LENGTH];
        memcpy(form, fuzz_buffer, COR_WIRE_HEADER_SIZE_BYTES);
        SHA256(fuzz_buffer + COR_WIRE_HEADER_SIZE_BYTES, body, form + COR_WIRE_HEADER_SIZE_BYTES);
        crypto_sign_detached(signature, NULL, form, sizeof(form), fuzz_ru_secret);
    } else {
        crypto_sign_detached(signature, NULL, fuzz_buffer, length - COR_WIRE_SIGNATURE_SIZE,
                             fuzz_ru_secret);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_ir == NULL) fuzz_open();
    if (size < 1 || size - 1 > sizeof(fuzz_buffer)) return 0;
    uint8_t mode = data[0];
    size_t length = size - 1;
    memcpy(fuzz_buffer, data + 1, length);
    size_t overhead = COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE;
    if ((mode & 1u) != 0 && length >= overhead) fuzz_sign(length);
    bool batch = (mode & 2u) != 0;
    uint32_t max = batch ? COR_WIRE_BATCH_MAX : 1u;
    uint32_t count = 0;
    cor_wire_refusal refusal;
    cor_error rc = cor_wire_decode_batch(fuzz_ir, FUZZ_NOW_NS, fuzz_buffer, length,
                                         fuzz_messages[0], fuzz_names[0], max, &count, &refusal);
    if ((rc == COR_OK) != (refusal.code == COR_WIRE_OK)) abort();
    if (rc != COR_OK) {
        if (refusal.text[0] == '\0' || strlen(refusal.iso) != 4 || count != 0) abort();
        return 0;
    }
    if (count == 0 || count > max) abort();
    if (!batch) {
        /* the single-message decoder reads the same */
        cor_xb_message one;
        if (cor_wire_decode(fuzz_ir, FUZZ_NOW_NS, fuzz_buffer, length, &one, &refusal) != COR_OK ||
            memcmp(&one, &fuzz_messages[0][0], sizeof(one)) != 0) {
            abort();
        }
    }
    /* Accepted: RU can send them again, and IR reads back the same messages and names. */
    size_t again = 0;
    if (cor_wire_encode_batch(fuzz_ru, fuzz_messages[0], fuzz_names[0], count, fuzz_buffer,
                              sizeof(fuzz_buffer), &again) != COR_OK) {
        abort();
    }
    uint32_t second = 0;
    if (cor_wire_decode_batch(fuzz_ir, FUZZ_NOW_NS, fuzz_buffer, again, fuzz_messages[1],
                              fuzz_names[1], max, &second, &refusal) != COR_OK ||
        second != count) {
        abort();
    }
    if (memcmp(fuzz_messages[0], fuzz_messages[1], count * sizeof(cor_xb_message)) != 0 ||
        memcmp(fuzz_names[0], fuzz_names[1], count * sizeof(cor_wire_parties)) != 0) {
        abort();
    }
    return 0;
}
