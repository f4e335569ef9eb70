/*
 * ISO 20022 benchmark: parse + validate + map of a typical single-transaction pacs.008 with
 * AppHdr in a SWIFT envelope (about 3.5 KB, every field corridor models filled), on one core,
 * reusing one parser and one message as a node's request loop would. Target: 50,000
 * messages per second (docs/BENCHMARKS.md).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "common/assert.h"
#include "corridor/iso20022.h"

#define BENCH_ISO_COUNT_DEFAULT 200000u
#define BENCH_ISO_COUNT_MAX     100000000u
#define BENCH_ISO_PAD           "                                        "

static const cor_iso_agent bench_agent_a = {.bic = "BANKRUMMXXX",
                                            .lei = "5493001KJTIIGC8Y1R12",
                                            .name = "Bank A of the Russian Federation"};
static const cor_iso_agent bench_agent_b = {.bic = "BANKIRTHXXX",
                                            .name = "Bank B of the Islamic Republic"};

/* Builds the typical message; padding text in remittance brings it to about 3.5 KB. */
static void bench_iso_message(cor_iso_message *m, cor_iso_credit_transfer *tx)
{
    memset(tx, 0, sizeof(*tx));
    cor_iso_message_init(m);
    m->type = COR_ISO_MSG_PACS_008;
    m->header = (cor_iso_app_header){.present = true,
                                     .from = bench_agent_a,
                                     .to = bench_agent_b,
                                     .business_msg_id = "BENCH-0001",
                                     .msg_def_id = "pacs.008.001.08",
                                     .business_service = "swift.cbprplus.02",
                                     .created = "2026-07-02T10:30:00+03:00"};
    m->group.msg_id = "BENCH-0001";
    m->group.created = "2026-07-02T10:30:00+03:00";
    m->group.control_sum = "1250.75";
    m->group.settlement_method = "INDA";
    m->group.settlement_date = "2026-07-02";
    m->group.instructing_agent = bench_agent_a;
    m->group.instructed_agent = bench_agent_b;
    tx->instruction_id = "INSTR-20260702-000001";
    tx->end_to_end_id = "E2E-20260702-000001";
    tx->transaction_id = "TX-20260702-000001";
    tx->uetr = "8a562c67-ca16-48ba-b074-65581be6f001";
    tx->settlement_amount = (cor_iso_amount){.amount_minor = 125075, .currency = "RUB"};
    tx->instructed_amount = (cor_iso_amount){.amount_minor = 125075, .currency = "RUB"};
    tx->settlement_date = "2026-07-02";
    tx->charge_bearer = "SHAR";
    tx->instructing_agent = bench_agent_a;
    tx->instructed_agent = bench_agent_b;
    tx->debtor = (cor_iso_party){.name = "Ivan Petrovich Sidorov, Trading House Volga LLC",
                                 .country = "RU",
                                 .lei = "5493001KJTIIGC8Y1R12"};
    tx->debtor_account = (cor_iso_account){.iban = "DE89370400440532013000"};
    tx->debtor_agent = bench_agent_a;
    tx->creditor_agent = bench_agent_b;
    tx->creditor = (cor_iso_party){
        .name = "Caspian Carpet Export Company", .country = "IR", .bic = "CASPIRTHXXX"};
    tx->creditor_account = (cor_iso_account){.iban = "GB82WEST12345698765432"};
    tx->purpose = "GDDS";
    tx->remittance = "Invoice 2026-0457 hand-knotted carpets, contract 77/2026" BENCH_ISO_PAD;
    m->tx_count = 1;
    m->transfers = tx;
}

/* Indents xml two spaces per level between tags, as banks' systems usually send it; returns
 * the new size (out must hold 4x the input). */
static size_t bench_iso_indent(const char *xml, size_t size, char *out)
{
    size_t at = 0;
    int depth = 0;
    for (size_t i = 0; i < size; i++) {
        bool between = i > 0 && xml[i] == '<' && xml[i - 1] == '>';
        if (xml[i] == '<' && xml[i + 1] == '/') depth--;
        if (between) {
            out[at++] = '\n';
            for (int d = 0; d < depth && d < 40; d++)
                at += (size_t)snprintf(out + at, 3, "  ");
        }
        if (xml[i] == '<' && xml[i + 1] != '/' && xml[i + 1] != '?') depth++;
        if (xml[i] == '/' && xml[i + 1] == '>') depth--;
        out[at++] = xml[i];
    }
    out[at] = '\0';
    return at;
}

static double bench_iso_clock_s(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int bench_iso_usage(void)
{
    fprintf(stderr, "usage: corridor bench iso20022 [--count N] [--json]\n");
    return 2;
}

/* Parses [--count N] [--json]; false on anything else. */
static bool bench_iso_arguments(int argc, char **argv, uint64_t *count, bool *json)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end = NULL;
            unsigned long long value = strtoull(argv[++i], &end, 10);
            if (end == argv[i] || *end != '\0' || value == 0 || value > BENCH_ISO_COUNT_MAX) {
                return false;
            }
            *count = value;
        } else {
            return false;
        }
    }
    return true;
}

int cor_bench_iso20022(int argc, char **argv)
{
    uint64_t count = BENCH_ISO_COUNT_DEFAULT;
    bool json = false;
    if (!bench_iso_arguments(argc, argv, &count, &json)) return bench_iso_usage();
    cor_iso_message built;
    cor_iso_credit_transfer tx;
    bench_iso_message(&built, &tx);
    char *xml = NULL;
    size_t xml_size = 0;
    cor_error rc = cor_iso_serialize(&built, COR_ISO_SERIALIZE_WITH_HEADER, &xml, &xml_size);
    if (rc != COR_OK) {
        fprintf(stderr, "corridor: cannot build the benchmark message: %s\n", cor_strerror(rc));
        return 3;
    }
    static char indented[64u * 1024u];
    if (xml_size * 4u >= sizeof(indented)) {
        cor_iso_free(xml);
        return 3;
    }
    xml_size = bench_iso_indent(xml, xml_size, indented);
    cor_iso_free(xml);
    xml = NULL;
    cor_iso_parser *parser = NULL;
    cor_iso_message message;
    cor_iso_message_init(&message);
    if (cor_iso_parser_open(NULL, &parser) != COR_OK) return 3;
    uint64_t amount_check = 0;
    /* Wall time, and the CPU time of this thread: on a shared machine the second is the
     * one-core figure, since it excludes time the scheduler gave to other processes. */
    double start = bench_iso_clock_s(CLOCK_MONOTONIC);
    double cpu_start = bench_iso_clock_s(CLOCK_THREAD_CPUTIME_ID);
    for (uint64_t i = 0; i < count; i++) {
        rc = cor_iso_parse(parser, indented, xml_size, &message);
        if (rc != COR_OK || message.finding_total != 0 || message.tx_count != 1) break;
        amount_check += (uint64_t)message.transfers[0].settlement_amount.amount_minor;
    }
    double elapsed = bench_iso_clock_s(CLOCK_MONOTONIC) - start;
    double cpu = bench_iso_clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
    int status = 0;
    if (rc != COR_OK || message.finding_total != 0) {
        fprintf(stderr, "corridor: benchmark message refused: %s\n",
                message.finding_count ? message.findings[0].text : cor_strerror(rc));
        status = 3;
    } else {
        COR_ASSERT(amount_check == count * 125075u);
        double rate = (double)count / elapsed;
        double cpu_rate = (double)count / cpu;
        double mb_s = cpu_rate * (double)xml_size / 1e6;
        if (json) {
            printf("{\"bench\":\"iso20022\",\"message\":\"pacs.008.001.08\",\"bytes\":%zu,"
                   "\"count\":%llu,\"seconds\":%.3f,\"cpu_seconds\":%.3f,"
                   "\"messages_per_s\":%.0f,\"messages_per_cpu_s\":%.0f,\"mb_per_cpu_s\":%.1f,"
                   "\"us_per_message\":%.2f}\n",
                   xml_size, (unsigned long long)count, elapsed, cpu, rate, cpu_rate, mb_s,
                   1e6 / cpu_rate);
        } else {
            printf("iso20022: parse+validate+map of a %zu-byte pacs.008 with AppHdr\n"
                   "  %llu messages in %.3f s wall, %.3f s cpu\n"
                   "  %.0f messages/s wall, %.0f messages per cpu-second (%.1f MB/s, %.2f us)\n",
                   xml_size, (unsigned long long)count, elapsed, cpu, rate, cpu_rate, mb_s,
                   1e6 / cpu_rate);
        }
    }
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
    return status;
}
