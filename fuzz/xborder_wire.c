/*
 * Fuzz harness for the peer wire decoder (src/corridor/wire.c): envelope header, signature
 * check, the ISO 20022 codec under it, the corridor record reader and the cross-checks.
 *
 * Node IR decodes what node RU sent, with fixed test keys (seeds of 0x51 and 0x52 bytes,
 * the same as tests/unit/corridor/test_wire.c). The first input byte picks the mode:
 *   even: the rest is decoded as it is (mostly refused before the signature);
 *   odd:  the rest is an envelope whose body size and signature the harness fixes up with
 *         RU's key, so the fuzzer reaches the XML and record layers behind the signature.
 * A decoded message must encode again at RU and decode to the same message.
 * Seeds (fuzz/seeds/xborder_wire/) are odd-mode envelopes of every message kind.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "corridor/xborder_wire.h"

#define FUZZ_NOW_NS (1800000000ull * 1000000000ull)

static cor_wire *fuzz_ru;
static cor_wire *fuzz_ir;
static uint8_t fuzz_ru_secret[COR_WIRE_SECRET_KEY_SIZE];
static uint8_t fuzz_buffer[COR_WIRE_SIZE_BYTES_MAX];

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_ir == NULL) fuzz_open();
    if (size < 1 || size - 1 > sizeof(fuzz_buffer)) return 0;
    uint8_t mode = data[0];
    size_t length = size - 1;
    memcpy(fuzz_buffer, data + 1, length);
    size_t overhead = COR_WIRE_HEADER_SIZE_BYTES + COR_WIRE_SIGNATURE_SIZE;
    if ((mode & 1u) != 0 && length >= overhead) {
        size_t body = length - overhead;
        for (int i = 0; i < 4; i++)
            fuzz_buffer[68 + i] = (uint8_t)(body >> (8 * (3 - i)));
        crypto_sign_detached(fuzz_buffer + length - 64, NULL, fuzz_buffer, length - 64,
                             fuzz_ru_secret);
    }
    cor_xb_message message;
    cor_wire_refusal refusal;
    cor_error rc = cor_wire_decode(fuzz_ir, FUZZ_NOW_NS, fuzz_buffer, length, &message, &refusal);
    if ((rc == COR_OK) != (refusal.code == COR_WIRE_OK)) abort();
    if (rc != COR_OK) {
        if (refusal.text[0] == '\0' || strlen(refusal.iso) != 4) abort();
        return 0;
    }
    /* Accepted: RU can send it again, and IR reads back the same message. */
    size_t again = 0;
    if (cor_wire_encode(fuzz_ru, &message, fuzz_buffer, sizeof(fuzz_buffer), &again) != COR_OK) {
        abort();
    }
    cor_xb_message second;
    if (cor_wire_decode(fuzz_ir, FUZZ_NOW_NS, fuzz_buffer, again, &second, &refusal) != COR_OK) {
        abort();
    }
    if (memcmp(&message, &second, sizeof(message)) != 0) abort();
    return 0;
}
