/*
 * Peer wire benchmark: per message kind, encode + sign (cor_wire_encode: ISO view, codec
 * serializer, corridor record, Ed25519 signature) and verify + decode (cor_wire_decode:
 * envelope checks, signature verification, codec parse and validation, record read,
 * cross-check) of one message between two nodes, on one core. Messages are built directly,
 * one of each kind the core sends, with the fields a real payment has.
 *
 * Then batches (cor_wire_encode_batch / cor_wire_decode_batch) of 1, 64 and 1024 pacs.008
 * with debtor and creditor names and of pacs.002 (ACSC and RJCT mixed): cost per message.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "common/assert.h"
#include "corridor/xborder_wire.h"

#define BENCH_WIRE_COUNT_DEFAULT 5000u
#define BENCH_WIRE_COUNT_MAX     10000000u
#define BENCH_WIRE_KINDS         6u

static const char *const bench_wire_kind_names[BENCH_WIRE_KINDS + 1] = {
    "", "pacs.008", "pacs.002", "pacs.028", "camt.056", "camt.029", "pacs.004"};

static double bench_wire_cpu_s(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static cor_wire_node bench_wire_node(const char *name, const char *bic, const char *currency,
                                     uint32_t id, uint32_t ledger, const uint8_t *public_key)
{
    cor_wire_node node;
    memset(&node, 0, sizeof(node));
    memcpy(node.name, name, strlen(name));
    memcpy(node.bic, bic, strlen(bic));
    memcpy(node.currency, currency, 3);
    node.node_id = id;
    node.ledger = ledger;
    if (public_key != NULL) {
        node.key_count = 1;
        node.keys[0].key_id = 9 + id;
        memcpy(node.keys[0].public_key, public_key, COR_WIRE_PUBLIC_KEY_SIZE);
    }
    return node;
}

/* Opens RU (the sender) and IR (the receiver) with fixed benchmark keys. */
static bool bench_wire_open(cor_wire **ru, cor_wire **ir)
{
    if (sodium_init() < 0) return false;
    uint8_t seed[crypto_sign_SEEDBYTES], public_keys[2][32], secrets[2][64];
    for (int n = 0; n < 2; n++) {
        memset(seed, 0x61 + n, sizeof(seed));
        crypto_sign_seed_keypair(public_keys[n], secrets[n], seed);
    }
    cor_wire_node peer_ir = bench_wire_node("IR", "CORRIRTH", "IRR", 2, 364, public_keys[1]);
    cor_wire_node peer_ru = bench_wire_node("RU", "CORRRUMM", "RUB", 1, 643, public_keys[0]);
    cor_wire_options options = {
        .replay_window_ns = 120000000000ull, .clock_skew_ns = 5000000000ull, .peer_count = 1};
    options.self = bench_wire_node("RU", "CORRRUMM", "RUB", 1, 643, NULL);
    options.self_key_id = 10;
    memcpy(options.self_secret_key, secrets[0], 64);
    options.peers = &peer_ir;
    if (cor_wire_open(&options, ru) != COR_OK) return false;
    options.self = bench_wire_node("IR", "CORRIRTH", "IRR", 2, 364, NULL);
    options.self_key_id = 11;
    memcpy(options.self_secret_key, secrets[1], 64);
    options.peers = &peer_ru;
    return cor_wire_open(&options, ir) == COR_OK;
}

static void bench_wire_message(uint32_t type, uint64_t created_at, cor_xb_message *m)
{
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->from_node = 1;
    m->to_node = 2;
    m->msg_id = ((cor_u128)1 << 96) | type;
    m->created_at = created_at;
    m->uetr = cor_u128_make(0x8a562c67ca1648baull, 0xb07465581be6f001ull);
    m->quote_id = ((cor_u128)1 << 96) | 77u;
    m->amount_source = 1000003;
    m->amount_dest = 499250000;
    m->fee_source = 3;
    m->debtor_account = 1010;
    m->creditor_account = 2011;
    m->rate_num = 500;
    m->rate_den = 1;
    m->spread_ppm = 1500;
    m->fixed = COR_XB_FIXED_SOURCE;
    m->fx_id = 7000;
    m->deadline = created_at + 30000000000ull;
    m->source_ledger = 643;
    m->dest_ledger = 364;
    if (type == COR_XB_PACS002 || type == COR_XB_CAMT029) {
        m->orig_msg_id = ((cor_u128)2 << 96) | 5u;
        m->status = COR_XB_STATUS_ACSC;
        m->decided_at = created_at;
        if (type == COR_XB_CAMT029) m->cancel_status = COR_XB_CANCEL_RJCR;
    }
    if (type == COR_XB_PACS004) {
        m->return_of = cor_u128_make(0x1b562c67ca164abaull, 0x907465581be6f002ull);
        m->return_reason = COR_XB_RETURN_CUSTOMER;
    }
}

typedef struct bench_wire_result {
    size_t bytes;
    double encode_us;
    double decode_us;
} bench_wire_result;

/* Times count encodes, then count decodes, of one kind; false when a call fails. */
static bool bench_wire_kind(cor_wire *ru, cor_wire *ir, uint32_t type, uint64_t count,
                            bench_wire_result *result)
{
    static uint8_t envelope[COR_WIRE_SIZE_BYTES_MAX];
    uint64_t now = 1800000000ull * 1000000000ull;
    cor_xb_message m, got;
    bench_wire_message(type, now, &m);
    size_t size = 0;
    double start = bench_wire_cpu_s();
    for (uint64_t i = 0; i < count; i++) {
        m.msg_id = ((cor_u128)1 << 96) | (i + 1);
        if (cor_wire_encode(ru, &m, envelope, sizeof(envelope), &size) != COR_OK) return false;
    }
    double encoded = bench_wire_cpu_s();
    cor_wire_refusal refusal;
    for (uint64_t i = 0; i < count; i++) {
        if (cor_wire_decode(ir, now, envelope, size, &got, &refusal) != COR_OK) {
            fprintf(stderr, "corridor: %s refused: %s\n", bench_wire_kind_names[type],
                    refusal.text);
            return false;
        }
    }
    double decoded = bench_wire_cpu_s();
    COR_ASSERT(memcmp(&got, &m, sizeof(m)) == 0);
    result->bytes = size;
    result->encode_us = (encoded - start) * 1e6 / (double)count;
    result->decode_us = (decoded - encoded) * 1e6 / (double)count;
    return true;
}

#define BENCH_WIRE_BATCHES 3u
static const uint32_t bench_wire_batch_sizes[BENCH_WIRE_BATCHES] = {1, 64, COR_WIRE_BATCH_MAX};

typedef struct bench_wire_batch_result {
    uint32_t type;
    uint32_t size;
    size_t bytes;
    double encode_us; /* per message */
    double decode_us; /* per message */
} bench_wire_batch_result;

/* Encodes and decodes batches of size messages of type until about total messages passed. */
static bool bench_wire_batch(cor_wire *ru, cor_wire *ir, uint32_t type, uint32_t size,
                             uint64_t total, bench_wire_batch_result *result)
{
    static uint8_t envelope[COR_WIRE_SIZE_BYTES_MAX];
    static cor_xb_message messages[COR_WIRE_BATCH_MAX], got[COR_WIRE_BATCH_MAX];
    static cor_wire_parties parties[COR_WIRE_BATCH_MAX], names[COR_WIRE_BATCH_MAX];
    static const char *const debtors[] = {
        "Ivan Petrovich Sidorov",
        "Ольга Николаевна Смирнова",
        "OOO Romashka & Partners",
    };
    static const char *const creditors[] = {"محمد رضا شجریان", "Pars Trading Co.",
                                            "شرکت بازرگانی پارس"};
    uint64_t now = 1800000000ull * 1000000000ull;
    for (uint32_t i = 0; i < size; i++) {
        bench_wire_message(type, now, &messages[i]);
        messages[i].msg_id = ((cor_u128)3 << 96) | i;
        messages[i].uetr += i;
        if (type == COR_XB_PACS002 && i % 2 == 1) {
            messages[i].status = COR_XB_STATUS_RJCT;
            messages[i].reason = COR_XB_AMOUNT_MISMATCH;
        }
        memset(&parties[i], 0, sizeof(parties[i]));
        if (type == COR_XB_PACS008) {
            snprintf(parties[i].debtor_name, sizeof(parties[i].debtor_name), "%s", debtors[i % 3]);
            snprintf(parties[i].creditor_name, sizeof(parties[i].creditor_name), "%s",
                     creditors[i % 3]);
        }
    }
    uint64_t rounds = total / size > 0 ? total / size : 1;
    size_t bytes = 0;
    double start = bench_wire_cpu_s();
    for (uint64_t r = 0; r < rounds; r++) {
        messages[0].msg_id = ((cor_u128)4 << 96) | r;
        if (cor_wire_encode_batch(ru, messages, parties, size, envelope, sizeof(envelope),
                                  &bytes) != COR_OK) {
            return false;
        }
    }
    double encoded = bench_wire_cpu_s();
    cor_wire_refusal refusal;
    uint32_t count = 0;
    for (uint64_t r = 0; r < rounds; r++) {
        if (cor_wire_decode_batch(ir, now, envelope, bytes, got, names, COR_WIRE_BATCH_MAX, &count,
                                  &refusal) != COR_OK) {
            fprintf(stderr, "corridor: batch of %u refused: %s\n", (unsigned)size, refusal.text);
            return false;
        }
    }
    double decoded = bench_wire_cpu_s();
    COR_ASSERT(count == size && memcmp(got, messages, size * sizeof(got[0])) == 0);
    COR_ASSERT(memcmp(names, parties, size * sizeof(names[0])) == 0);
    double per = 1e6 / (double)(rounds * size);
    *result = (bench_wire_batch_result){.type = type,
                                        .size = size,
                                        .bytes = bytes,
                                        .encode_us = (encoded - start) * per,
                                        .decode_us = (decoded - encoded) * per};
    return true;
}

static bool bench_wire_arguments(int argc, char **argv, uint64_t *count, bool *json)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end = NULL;
            unsigned long long value = strtoull(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || value == 0 || value > BENCH_WIRE_COUNT_MAX) {
                return false;
            }
            *count = value;
        } else {
            return false;
        }
    }
    return true;
}

int cor_bench_wire(int argc, char **argv)
{
    uint64_t count = BENCH_WIRE_COUNT_DEFAULT;
    bool json = false;
    if (!bench_wire_arguments(argc, argv, &count, &json)) {
        fprintf(stderr, "usage: corridor bench wire [--count N] [--json]\n");
        return 2;
    }
    cor_wire *ru = NULL, *ir = NULL;
    int status = 0;
    if (!bench_wire_open(&ru, &ir)) {
        fprintf(stderr, "corridor: cannot open the benchmark nodes\n");
        status = 3;
    }
    bench_wire_result results[BENCH_WIRE_KINDS + 1];
    for (uint32_t type = 1; status == 0 && type <= BENCH_WIRE_KINDS; type++) {
        if (!bench_wire_kind(ru, ir, type, count, &results[type])) status = 3;
    }
    if (status == 0 && json)
        printf("{\"bench\":\"wire\",\"count\":%llu,\"kinds\":[", (unsigned long long)count);
    if (status == 0 && !json) {
        printf("wire: %llu messages per kind, cpu time per message, one core\n"
               "  kind       bytes  encode+sign us  verify+decode us\n",
               (unsigned long long)count);
    }
    for (uint32_t type = 1; status == 0 && type <= BENCH_WIRE_KINDS; type++) {
        const bench_wire_result *r = &results[type];
        if (json) {
            printf("%s{\"kind\":\"%s\",\"bytes\":%zu,\"encode_us\":%.2f,\"decode_us\":%.2f}",
                   type > 1 ? "," : "", bench_wire_kind_names[type], r->bytes, r->encode_us,
                   r->decode_us);
        } else {
            printf("  %-9s %6zu  %14.2f  %16.2f\n", bench_wire_kind_names[type], r->bytes,
                   r->encode_us, r->decode_us);
        }
    }
    bench_wire_batch_result batches[2 * BENCH_WIRE_BATCHES];
    static const uint32_t batch_types[2] = {COR_XB_PACS008, COR_XB_PACS002};
    for (uint32_t t = 0; status == 0 && t < 2; t++) {
        for (uint32_t b = 0; status == 0 && b < BENCH_WIRE_BATCHES; b++) {
            uint64_t total =
                count * 4u > bench_wire_batch_sizes[b] ? count * 4u : bench_wire_batch_sizes[b];
            if (!bench_wire_batch(ru, ir, batch_types[t], bench_wire_batch_sizes[b], total,
                                  &batches[t * BENCH_WIRE_BATCHES + b])) {
                status = 3;
            }
        }
    }
    if (status == 0 && json) printf("],\"batches\":[");
    if (status == 0 && !json) {
        printf("batches: cpu time per message, one core\n"
               "  kind      batch     bytes  encode+sign us  verify+decode us  total us\n");
    }
    for (uint32_t i = 0; status == 0 && i < 2 * BENCH_WIRE_BATCHES; i++) {
        const bench_wire_batch_result *r = &batches[i];
        if (json) {
            printf("%s{\"kind\":\"%s\",\"batch\":%u,\"bytes\":%zu,\"encode_us\":%.2f,"
                   "\"decode_us\":%.2f}",
                   i > 0 ? "," : "", bench_wire_kind_names[r->type], (unsigned)r->size, r->bytes,
                   r->encode_us, r->decode_us);
        } else {
            printf("  %-9s %5u  %8zu  %14.2f  %16.2f  %8.2f\n", bench_wire_kind_names[r->type],
                   (unsigned)r->size, r->bytes, r->encode_us, r->decode_us,
                   r->encode_us + r->decode_us);
        }
    }
    if (status == 0 && json) printf("]}\n");
    cor_wire_close(ru);
    cor_wire_close(ir);
    return status;
}
