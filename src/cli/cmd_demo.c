/*
 * corridor demo: a two-country network on loopback (src/bench/devnet.c) with a traffic
 * generator, a live status line, and the invariant checks afterwards (docs/DEMO.md).
 *
 * Traffic: worker threads share one schedule of slots (slot k is due at start + k / rate);
 * each slot is one payment of one flow: cross-border RU->IR, cross-border IR->RU (quote, then
 * payment with a fresh UETR, then polling the origin until the state is final), or domestic on
 * RU or IR (POST /v1/payments). Every payment is recorded in a preallocated slot table that the
 * checks read once the workers have stopped. Nothing is simulated: every number comes from
 * the nodes' answers, and every check asks the nodes again through their API.
 *
 * Stopping: SIGINT/SIGTERM or --duration stops new payments; workers keep polling their
 * payments until final for at most DEMO_DRAIN_MS (a second signal cuts that short); then the
 * checks run, then the nodes are stopped by PID (SIGTERM, bounded).
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/devnet.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "common/assert.h"

#define DEMO_WORKERS_COUNT     16u
#define DEMO_RECORDS_MAX       (1u << 20) /* payments per run; then the generator pauses */
#define DEMO_RATE_DEFAULT      50u
#define DEMO_RATE_MAX          100000u
#define DEMO_DURATION_MAX_S    (7u * 24u * 3600u)
#define DEMO_DRAIN_MS          30000u  /* after stop: waiting for in-flight payments to end */
#define DEMO_FINAL_WAIT_MS     60000u  /* one payment: submit -> final, at most */
#define DEMO_POLL_MS_MAX       20u     /* polling backoff ceiling */
#define DEMO_RATES_REFRESH_S   1800u   /* rate sheets are valid an hour: republish */
#define DEMO_CHECK_RECORDS_MAX 200000u /* payments looked up one by one by the checks */
/* Every DEMO_WRONG_CREDITOR_EVERY-th slot's payment names a creditor bank that does not exist (a
 * participant id no node uses): a real mistake the node must reject. Across the border the
 * beneficiary rejects it (AC03), the origin voids leg 1 and the debtor has its money back;
 * at home the node records the rejection (creditor_not_found). */
#define DEMO_WRONG_CREDITOR_EVERY 50u
#define DEMO_WRONG_CREDITOR       0xffu /* demo_record.creditor of those payments */
#define DEMO_WRONG_CREDITOR_ID    999u

__extension__ typedef __int128 demo_i128; /* signed balances (net may be negative) */

typedef enum demo_flow {
    DEMO_FLOW_RU_IR,
    DEMO_FLOW_IR_RU,
    DEMO_FLOW_RU_DOMESTIC,
    DEMO_FLOW_IR_DOMESTIC,
    DEMO_FLOWS_COUNT
} demo_flow;

static const char *const demo_flow_names[DEMO_FLOWS_COUNT] = {"RU->IR", "IR->RU", "RU dom",
                                                              "IR dom"};
static const char *const demo_flow_keys[DEMO_FLOWS_COUNT] = {"ru_to_ir", "ir_to_ru", "ru_domestic",
                                                             "ir_domestic"};

typedef enum demo_outcome {
    DEMO_UNUSED = 0,
    DEMO_OPEN,      /* submitted; no final state seen (or no answer to the submission) */
    DEMO_COMMITTED, /* cross-border committed / domestic accepted */
    DEMO_REJECTED,  /* cross-border rejected / domestic rejected (recorded by the node) */
    DEMO_REFUSED,   /* refused at the door (quote or submission): nothing recorded */
} demo_outcome;

typedef struct demo_record {
    cor_u128 amount_source;  /* cross-border: the quote's source amount (leg 1); domestic: amount */
    cor_u128 amount_dest;    /* cross-border: the quote's destination amount (leg 2) */
    uint64_t latency_ns;     /* submit -> final (domestic: the request) */
    uint64_t payment_id;     /* domestic: slot + 1 (unique per debtor) */
    uint8_t uetr[16];        /* cross-border */
    uint8_t flow;            /* demo_flow */
    _Atomic uint8_t outcome; /* demo_outcome */
    uint8_t debtor;          /* bank index on the origin */
    uint8_t creditor;        /* bank index on the beneficiary */
    char refusal[24];        /* error code of a refusal or rejection */
} demo_record;

typedef struct demo_counters {
    _Atomic uint64_t submitted;
    _Atomic uint64_t committed;
    _Atomic uint64_t rejected;
    _Atomic uint64_t refused;
    _Atomic uint64_t lost; /* no final answer seen; the checks asked the nodes instead */
} demo_counters;

typedef struct demo {
    cor_devnet *net;
    bool domestic_only;
    uint32_t rate;
    uint64_t start_ns;
    demo_record *records;
    size_t records_size_bytes;
    _Atomic uint64_t next_slot;
    demo_counters counters[DEMO_FLOWS_COUNT];
    pthread_mutex_t latency_lock;
    uint64_t *latencies[DEMO_FLOWS_COUNT]; /* completion order; DEMO_RECORDS_MAX each */
    uint64_t latency_counts[DEMO_FLOWS_COUNT];
    uint64_t slots;                  /* slots handed out, once the workers have stopped */
    uint32_t kill_every_s;           /* 0: never; else SIGKILL + restart a node (RU, IR, ...) */
    uint32_t kills;                  /* done so far */
    uint32_t restart_failures;       /* restarts that did not come back healthy */
    _Atomic bool stop;               /* no new payments */
    _Atomic uint64_t drain_until_ns; /* polling ends at this time once stop is set */
    FILE *out;                       /* status lines */
} demo;

static volatile sig_atomic_t demo_signals;

static void demo_on_signal(int signal_number)
{
    (void)signal_number;
    if (demo_signals < 100) demo_signals++;
}

static void demo_sleep_ns(uint64_t ns)
{
    struct timespec pause = {.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
    nanosleep(&pause, NULL); /* a signal cuts it short: the callers re-check their state */
}

/* ---------------------------------------------------------------------------------------- */
/* Traffic                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct demo_worker {
    demo *d;
    cor_devnet_client *client;
    uint64_t random_state;
    pthread_t thread;
    bool started;
} demo_worker;

static void demo_uetr_text(const uint8_t uetr[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[uetr[i] >> 4];
        out[o++] = hex[uetr[i] & 15u];
    }
    out[o] = '\0';
}

/* A fresh random UUID version 4 (RFC 4122 variant). */
static void demo_uetr_new(uint8_t uetr[16])
{
    randombytes_buf(uetr, 16);
    uetr[6] = (uint8_t)((uetr[6] & 0x0fu) | 0x40u);
    uetr[8] = (uint8_t)((uetr[8] & 0x3fu) | 0x80u);
}

static void demo_complete(demo *d, demo_record *record, demo_outcome outcome, uint64_t latency_ns)
{
    demo_counters *counters = &d->counters[record->flow];
    record->latency_ns = latency_ns;
    atomic_store(&record->outcome, (uint8_t)outcome);
    if (outcome == DEMO_COMMITTED) atomic_fetch_add(&counters->committed, 1);
    if (outcome == DEMO_REJECTED) atomic_fetch_add(&counters->rejected, 1);
    if (outcome == DEMO_REFUSED) atomic_fetch_add(&counters->refused, 1);
    if (outcome != DEMO_COMMITTED && outcome != DEMO_REJECTED) return;
    pthread_mutex_lock(&d->latency_lock);
    d->latencies[record->flow][d->latency_counts[record->flow]++] = latency_ns;
    pthread_mutex_unlock(&d->latency_lock);
}

/* The checks learned the outcome of a payment whose answer the demo never saw (a node killed
 * under it, or the drain time over): counted now, as "lost" too. */
static void demo_resolve(demo *d, demo_record *record, demo_outcome outcome)
{
    COR_ASSERT(atomic_load(&record->outcome) == DEMO_OPEN);
    COR_ASSERT(outcome != DEMO_OPEN && outcome != DEMO_UNUSED);
    demo_counters *counters = &d->counters[record->flow];
    atomic_store(&record->outcome, (uint8_t)outcome);
    atomic_fetch_add(&counters->lost, 1);
    if (outcome == DEMO_COMMITTED) atomic_fetch_add(&counters->committed, 1);
    if (outcome == DEMO_REJECTED) atomic_fetch_add(&counters->rejected, 1);
    if (outcome == DEMO_REFUSED) atomic_fetch_add(&counters->refused, 1);
    if (outcome == DEMO_REFUSED && record->refusal[0] == '\0') {
        snprintf(record->refusal, sizeof(record->refusal), "never_arrived");
    }
}

static void demo_note_refusal(demo_record *record, const cor_devnet_response *response)
{
    const char *code = cor_devnet_error_code(response);
    snprintf(record->refusal, sizeof(record->refusal), "%s",
             code != NULL ? code : (response->status == 0 ? "no_answer" : "unexpected"));
}

static void demo_domestic(demo_worker *worker, demo_record *record, uint32_t node_index)
{
    demo *d = worker->d;
    const cor_devnet_node_info *node = cor_devnet_node(d->net, node_index);
    const cor_devnet_rate *rate = cor_devnet_rate_of(d->net, node_index);
    record->debtor = (uint8_t)(cor_bench_random(&worker->random_state) % COR_DEVNET_BANKS_COUNT);
    record->creditor =
        (uint8_t)((record->debtor + 1u + cor_bench_random(&worker->random_state) % 2u) %
                  COR_DEVNET_BANKS_COUNT);
    bool wrong = record->payment_id % DEMO_WRONG_CREDITOR_EVERY == 0; /* slot + 1 */
    if (wrong) record->creditor = DEMO_WRONG_CREDITOR; /* the node rejects and records it */
    unsigned creditor_id =
        wrong ? DEMO_WRONG_CREDITOR_ID : (unsigned)node->banks[record->creditor].id;
    uint64_t amount = rate->amount_min * (1u + cor_bench_random(&worker->random_state) % 5000u);
    record->amount_source = amount;
    record->amount_dest = amount;
    char body[256];
    snprintf(body, sizeof(body),
             "{\"payment_id\":\"%" PRIu64 "\",\"creditor\":\"%u\",\"amount\":\"%" PRIu64
             "\",\"currency\":\"%s\",\"end_to_end_id\":\"DEMO-%" PRIu64 "\"}",
             record->payment_id, creditor_id, amount, node->currency, record->payment_id);
    atomic_fetch_add(&d->counters[record->flow].submitted, 1);
    atomic_store(&record->outcome, (uint8_t)DEMO_OPEN);
    uint64_t start_ns = cor_bench_now_ns();
    cor_devnet_response response;
    cor_devnet_request(worker->client, node->url, "POST", "/v1/payments",
                       node->banks[record->debtor].api_key, body, &response);
    uint64_t latency_ns = cor_bench_now_ns() - start_ns;
    if (response.status == 201 || response.status == 200) {
        demo_complete(d, record, DEMO_COMMITTED, latency_ns);
    } else if (response.status == 422 && json_object_get(response.json, "payment") != NULL) {
        demo_note_refusal(record, &response);
        demo_complete(d, record, DEMO_REJECTED, latency_ns);
    } else if (response.status != 0) {
        demo_note_refusal(record, &response); /* 4xx/5xx not recorded by the node */
        demo_complete(d, record, DEMO_REFUSED, latency_ns);
    } /* no answer: stays open; the checks ask the node what happened */
    cor_devnet_response_release(&response);
}

/* Polls the origin until the payment is final or the wait ends. */
static demo_outcome demo_poll_final(demo_worker *worker, demo_record *record,
                                    const cor_devnet_node_info *origin, const char *key,
                                    const char *uetr, uint64_t start_ns)
{
    demo *d = worker->d;
    char path[96];
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s", uetr);
    uint64_t pause_ns = 500000u;
    uint64_t give_up_ns = start_ns + (uint64_t)DEMO_FINAL_WAIT_MS * 1000000u;
    for (uint32_t attempt = 0; attempt < 1000000u; attempt++) {
        cor_devnet_response response;
        cor_devnet_request(worker->client, origin->url, "GET", path, key, NULL, &response);
        const char *state = response.status == 200 ? cor_devnet_str(response.json, "state") : NULL;
        demo_outcome outcome = DEMO_OPEN;
        if (state != NULL && strcmp(state, "committed") == 0) outcome = DEMO_COMMITTED;
        if (state != NULL && strcmp(state, "rejected") == 0) {
            const char *reason = cor_devnet_str(response.json, "reason");
            snprintf(record->refusal, sizeof(record->refusal), "%s",
                     reason != NULL && reason[0] ? reason : "rejected");
            outcome = DEMO_REJECTED;
        }
        cor_devnet_response_release(&response);
        if (outcome != DEMO_OPEN) return outcome;
        uint64_t now_ns = cor_bench_now_ns();
        if (now_ns >= give_up_ns) return DEMO_OPEN;
        if (atomic_load(&d->stop) && now_ns >= atomic_load(&d->drain_until_ns)) return DEMO_OPEN;
        demo_sleep_ns(pause_ns);
        if (pause_ns < (uint64_t)DEMO_POLL_MS_MAX * 1000000u) pause_ns *= 2u;
    }
    return DEMO_OPEN;
}

static void demo_cross_border(demo_worker *worker, demo_record *record, uint32_t origin_index)
{
    demo *d = worker->d;
    const cor_devnet_node_info *origin = cor_devnet_node(d->net, origin_index);
    const cor_devnet_node_info *beneficiary = cor_devnet_node(d->net, 1u - origin_index);
    const cor_devnet_rate *rate = cor_devnet_rate_of(d->net, origin_index);
    record->debtor = (uint8_t)(cor_bench_random(&worker->random_state) % COR_DEVNET_BANKS_COUNT);
    bool wrong = record->payment_id % DEMO_WRONG_CREDITOR_EVERY == 0; /* slot + 1 */
    record->creditor =
        wrong ? DEMO_WRONG_CREDITOR
              : (uint8_t)(cor_bench_random(&worker->random_state) % COR_DEVNET_BANKS_COUNT);
    unsigned creditor_id =
        wrong ? DEMO_WRONG_CREDITOR_ID : (unsigned)beneficiary->banks[record->creditor].id;
    const char *key = origin->banks[record->debtor].api_key;
    /* At least twice the minimum: the fee comes off the source amount before the rate's
     * minimum applies. */
    uint64_t amount = rate->amount_min * (2u + cor_bench_random(&worker->random_state) % 5000u);
    char body[512];
    snprintf(body, sizeof(body), "{\"peer\":\"%s\",\"source_amount\":\"%" PRIu64 "\"}",
             beneficiary->name, amount);
    atomic_fetch_add(&d->counters[record->flow].submitted, 1);
    atomic_store(&record->outcome, (uint8_t)DEMO_OPEN);
    cor_devnet_response response;
    cor_devnet_request(worker->client, origin->url, "POST", "/v1/fx/quotes", key, body, &response);
    json_t *quote = json_array_get(json_object_get(response.json, "quotes"), 0);
    const char *quote_id = cor_devnet_str(quote, "quote_id");
    if (response.status != 201 || quote_id == NULL ||
        !cor_devnet_u128(quote, "source_amount", &record->amount_source) ||
        !cor_devnet_u128(quote, "destination_amount", &record->amount_dest)) {
        demo_note_refusal(record, &response);
        cor_devnet_response_release(&response);
        demo_complete(d, record, DEMO_REFUSED, 0);
        return;
    }
    static const char *const debtors[] = {"Ivan Petrov", "Olga Smirnova", "Sergei Volkov"};
    static const char *const creditors[] = {"Ali Rezaei", "Maryam Karimi", "Reza Ahmadi"};
    bool from_ru = origin_index == COR_DEVNET_RU;
    char uetr[37];
    demo_uetr_new(record->uetr);
    demo_uetr_text(record->uetr, uetr);
    snprintf(body, sizeof(body),
             "{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"creditor\":\"%u\",\"debtor_name\":\"%s\","
             "\"creditor_name\":\"%s\"}",
             uetr, quote_id, creditor_id, (from_ru ? debtors : creditors)[record->debtor],
             (from_ru ? creditors : debtors)[record->creditor % 3u]);
    cor_devnet_response_release(&response);

    uint64_t start_ns = cor_bench_now_ns();
    cor_devnet_request(worker->client, origin->url, "POST", "/v1/xborder/payments", key, body,
                       &response);
    const char *state = cor_devnet_str(response.json, "state");
    if (response.status != 0 && response.status != 200 && response.status != 202) {
        demo_note_refusal(record, &response);
        cor_devnet_response_release(&response);
        demo_complete(d, record, DEMO_REFUSED, cor_bench_now_ns() - start_ns);
        return;
    }
    demo_outcome outcome = DEMO_OPEN;
    if (state != NULL && strcmp(state, "committed") == 0) outcome = DEMO_COMMITTED;
    if (state != NULL && strcmp(state, "rejected") == 0) {
        const char *reason = cor_devnet_str(response.json, "reason");
        snprintf(record->refusal, sizeof(record->refusal), "%s",
                 reason != NULL && reason[0] ? reason : "rejected");
        outcome = DEMO_REJECTED;
    }
    cor_devnet_response_release(&response);
    if (outcome == DEMO_OPEN)
        outcome = demo_poll_final(worker, record, origin, key, uetr, start_ns);
    if (outcome != DEMO_OPEN) demo_complete(d, record, outcome, cor_bench_now_ns() - start_ns);
}

/* The flow of slot k: 35% each way across the border, 15% domestic on each node. */
static demo_flow demo_flow_of(const demo *d, uint64_t slot)
{
    uint64_t state = slot;
    uint64_t pick = cor_bench_random(&state) % 100u;
    if (d->domestic_only) return pick < 50u ? DEMO_FLOW_RU_DOMESTIC : DEMO_FLOW_IR_DOMESTIC;
    if (pick < 35u) return DEMO_FLOW_RU_IR;
    if (pick < 70u) return DEMO_FLOW_IR_RU;
    return pick < 85u ? DEMO_FLOW_RU_DOMESTIC : DEMO_FLOW_IR_DOMESTIC;
}

static void *demo_worker_main(void *argument)
{
    demo_worker *worker = argument;
    demo *d = worker->d;
    uint64_t interval_ns = 1000000000u / d->rate;
    while (!atomic_load(&d->stop)) {
        uint64_t slot = atomic_fetch_add(&d->next_slot, 1);
        if (slot >= DEMO_RECORDS_MAX) break;
        uint64_t due_ns = d->start_ns + slot * interval_ns;
        for (uint32_t naps = 0; naps < 1000000u && !atomic_load(&d->stop); naps++) {
            uint64_t now_ns = cor_bench_now_ns();
            if (now_ns >= due_ns) break;
            uint64_t nap_ns = due_ns - now_ns;
            demo_sleep_ns(nap_ns < 100000000u ? nap_ns : 100000000u);
        }
        if (atomic_load(&d->stop)) break;
        demo_record *record = &d->records[slot];
        record->flow = (uint8_t)demo_flow_of(d, slot);
        record->payment_id = slot + 1u;
        switch ((demo_flow)record->flow) {
        case DEMO_FLOW_RU_IR:
            demo_cross_border(worker, record, COR_DEVNET_RU);
            break;
        case DEMO_FLOW_IR_RU:
            demo_cross_border(worker, record, COR_DEVNET_IR);
            break;
        case DEMO_FLOW_RU_DOMESTIC:
            demo_domestic(worker, record, COR_DEVNET_RU);
            break;
        case DEMO_FLOW_IR_DOMESTIC:
            demo_domestic(worker, record, COR_DEVNET_IR);
            break;
        case DEMO_FLOWS_COUNT:
            COR_UNREACHABLE();
        }
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Status                                                                                   */
/* ---------------------------------------------------------------------------------------- */

#define DEMO_REASONS_MAX 8u /* distinct rejection/refusal codes listed per flow */

typedef struct demo_reason {
    char code[24];
    uint64_t count;
} demo_reason;

typedef struct demo_flow_summary {
    uint64_t submitted, committed, rejected, refused, open;
    uint64_t lost;             /* outcomes learned from the checks' lookups, not from an answer */
    cor_bench_latency latency; /* zero when no sample */
    uint64_t samples;
    demo_reason reasons[DEMO_REASONS_MAX]; /* why payments were rejected or refused */
    uint32_t reasons_count;
    uint64_t reasons_other; /* beyond DEMO_REASONS_MAX distinct codes */
} demo_flow_summary;

/* Percentiles over latencies[flow][from ... count); copies into scratch. */
static uint64_t demo_latency(demo *d, demo_flow flow, uint64_t from, uint64_t *scratch,
                             cor_bench_latency *out)
{
    pthread_mutex_lock(&d->latency_lock);
    uint64_t count = d->latency_counts[flow];
    if (from < count) {
        memcpy(scratch, d->latencies[flow] + from, (count - from) * sizeof(uint64_t));
    }
    pthread_mutex_unlock(&d->latency_lock);
    *out = (cor_bench_latency){0};
    if (from >= count) return count;
    cor_bench_latency_compute(scratch, count - from, out);
    return count;
}

static void demo_flow_totals(demo *d, demo_flow flow, demo_flow_summary *out)
{
    demo_counters *c = &d->counters[flow];
    out->submitted = atomic_load(&c->submitted);
    out->committed = atomic_load(&c->committed);
    out->rejected = atomic_load(&c->rejected);
    out->refused = atomic_load(&c->refused);
    out->lost = atomic_load(&c->lost);
    uint64_t ended = out->committed + out->rejected + out->refused;
    out->open = out->submitted > ended ? out->submitted - ended : 0;
}

static void demo_status_line(demo *d, uint64_t seconds, uint64_t *last_counts, uint64_t *scratch)
{
    fprintf(d->out, "%5" PRIu64 "s", seconds);
    for (uint32_t f = 0; f < DEMO_FLOWS_COUNT; f++) {
        if (d->domestic_only && f <= DEMO_FLOW_IR_RU) continue;
        demo_flow_summary s;
        demo_flow_totals(d, (demo_flow)f, &s);
        cor_bench_latency latency;
        uint64_t count = demo_latency(d, (demo_flow)f, last_counts[f], scratch, &latency);
        fprintf(d->out,
                " | %s %3" PRIu64 "/s ok %" PRIu64 " rej %" PRIu64 " fly %" PRIu64 " %.1f/%.1f ms",
                demo_flow_names[f], count - last_counts[f], s.committed, s.rejected + s.refused,
                s.open, (double)latency.p50_ns / 1e6, (double)latency.p99_ns / 1e6);
        last_counts[f] = count;
    }
    fprintf(d->out, "\n");
    fflush(d->out);
}

/* ---------------------------------------------------------------------------------------- */
/* Invariant checks (through the nodes' APIs)                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct demo_check {
    const char *name;
    bool ok;
    char detail[640];   /* what was checked, with the figures */
    char problems[512]; /* the first problems found */
} demo_check;

#define DEMO_CHECKS_MAX 8u

typedef struct demo_checks {
    demo_check items[DEMO_CHECKS_MAX];
    uint32_t count;
} demo_checks;

static demo_check *demo_check_add(demo_checks *checks, const char *name)
{
    COR_ASSERT(checks->count < DEMO_CHECKS_MAX);
    demo_check *check = &checks->items[checks->count++];
    check->name = name;
    check->ok = true;
    check->detail[0] = '\0';
    return check;
}

static void demo_append(char *text, size_t size, const char *format, va_list args)
{
    size_t used = strnlen(text, size);
    if (used + 8 >= size) return;
    if (used > 0) {
        text[used++] = ';';
        text[used++] = ' ';
        text[used] = '\0';
    }
    vsnprintf(text + used, size - used, format, args);
}

/* Adds a finding to the detail. */
static void demo_check_note(demo_check *check, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void demo_check_note(demo_check *check, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    demo_append(check->detail, sizeof(check->detail), format, args);
    va_end(args);
}

/* Records a problem: the check fails (the first problems are kept in full). */
static void demo_check_fail(demo_check *check, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void demo_check_fail(demo_check *check, const char *format, ...)
{
    check->ok = false;
    va_list args;
    va_start(args, format);
    demo_append(check->problems, sizeof(check->problems), format, args);
    va_end(args);
}

/* detail, then the problems: what the summary prints. */
static void demo_check_text(const demo_check *check, char *out, size_t size)
{
    COR_ASSERT(size > 0);
    size_t used = 0;
    const char *parts[3] = {check->detail, check->problems[0] ? "; problems: " : "",
                            check->problems};
    for (size_t p = 0; p < 3; p++) {
        size_t length = strlen(parts[p]);
        if (length > size - 1 - used) length = size - 1 - used;
        memcpy(out + used, parts[p], length);
        used += length;
    }
    out[used] = '\0';
}

static const char *demo_u128_text(cor_u128 value, char buffer[40])
{
    cor_u128_format(value, buffer);
    return buffer;
}

/* Signed decimal (balance.net may be negative) into a signed 128-bit value. */
static bool demo_parse_signed(const char *text, demo_i128 *out)
{
    if (text == NULL) return false;
    bool negative = text[0] == '-';
    cor_u128 magnitude = 0;
    const char *digits = negative ? text + 1 : text;
    if (!cor_u128_parse(digits, strlen(digits), &magnitude) || magnitude > COR_U128_MAX / 2u) {
        return false;
    }
    *out = negative ? -(demo_i128)magnitude : (demo_i128)magnitude;
    return true;
}

static const char *demo_state_of(const cor_devnet_response *response)
{
    if (response->status == 404) return "absent";
    if (response->status != 200) return "unreadable";
    const char *state = cor_devnet_str(response->json, "state");
    return state != NULL ? state : "unreadable";
}

/* A cross-border payment's state on its origin (states[0], with the amounts it recorded) and
 * on its beneficiary (states[1]): "committed", "rejected", "forwarded", "held", "absent" (404)
 * or "unreadable". */
static void demo_xb_states(demo *d, cor_devnet_client *client, const demo_record *record,
                           char uetr[37], char states[2][16], cor_u128 amounts[2])
{
    uint32_t origin_index = record->flow == DEMO_FLOW_RU_IR ? COR_DEVNET_RU : COR_DEVNET_IR;
    const cor_devnet_node_info *nodes[2] = {cor_devnet_node(d->net, origin_index),
                                            cor_devnet_node(d->net, 1u - origin_index)};
    char path[96];
    demo_uetr_text(record->uetr, uetr);
    snprintf(path, sizeof(path), "/v1/xborder/payments/%s", uetr);
    for (uint32_t side = 0; side < 2; side++) {
        cor_devnet_response response;
        cor_devnet_request(client, nodes[side]->url, "GET", path, nodes[side]->operator_key, NULL,
                           &response);
        snprintf(states[side], 16, "%s", demo_state_of(&response));
        if (side == 0) {
            cor_devnet_u128(response.json, "source_amount", &amounts[0]);
            cor_devnet_u128(response.json, "destination_amount", &amounts[1]);
        }
        cor_devnet_response_release(&response);
    }
}

/* (a) every cross-border payment ends the same on both nodes; none open. */
static void demo_check_same_state(demo *d, cor_devnet_client *client, demo_check *check,
                                  uint64_t slots)
{
    uint64_t compared = 0, committed = 0, rejected = 0, refused = 0, open = 0, bad = 0;
    for (uint64_t slot = 0; slot < slots && compared < DEMO_CHECK_RECORDS_MAX; slot++) {
        if (slot % 1024u == 0) cor_bench_progress("xborder", slot, slots);
        demo_record *record = &d->records[slot];
        uint8_t outcome = atomic_load(&record->outcome);
        if (outcome == DEMO_UNUSED || record->flow > DEMO_FLOW_IR_RU) continue;
        if (outcome == DEMO_REFUSED && record->uetr[6] == 0) { /* refused before a uetr */
            refused++;
            continue;
        }
        compared++;
        char uetr[37], states[2][16];
        cor_u128 amounts[2] = {0, 0};
        demo_xb_states(d, client, record, uetr, states, amounts);
        bool final = strcmp(states[0], "committed") == 0 || strcmp(states[0], "rejected") == 0;
        bool same = strcmp(states[0], states[1]) == 0 ||
                    (strcmp(states[0], "rejected") == 0 && strcmp(states[1], "absent") == 0);
        bool nowhere = strcmp(states[0], "absent") == 0 && strcmp(states[1], "absent") == 0;
        if (outcome == DEMO_REFUSED || (outcome == DEMO_OPEN && nowhere)) {
            /* refused at submission, or the submission never arrived: nothing committed */
            same = strcmp(states[0], "committed") != 0 && strcmp(states[1], "committed") != 0;
            final = true;
            if (outcome == DEMO_OPEN) demo_resolve(d, record, DEMO_REFUSED);
            outcome = DEMO_REFUSED;
        }
        if (!final) open++;
        bool seen = outcome == DEMO_OPEN || outcome == DEMO_REFUSED ||
                    (outcome == DEMO_COMMITTED) == (strcmp(states[0], "committed") == 0);
        if (record->creditor == DEMO_WRONG_CREDITOR && strcmp(states[0], "rejected") != 0) {
            seen = false; /* a payment to no one must be rejected */
        }
        bool amounts_ok = outcome != DEMO_COMMITTED || (amounts[0] == record->amount_source &&
                                                        amounts[1] == record->amount_dest);
        if (!final || !same || !seen || !amounts_ok) {
            if (bad++ < 3) {
                demo_check_fail(check, "%s %s: origin %s, beneficiary %s%s", uetr,
                                demo_flow_names[record->flow], states[0], states[1],
                                amounts_ok ? "" : ", amounts differ from the quote");
            }
            continue;
        }
        if (outcome == DEMO_REFUSED) {
            refused++;
        } else if (strcmp(states[0], "committed") == 0) {
            committed++;
        } else {
            rejected++;
        }
        if (outcome == DEMO_OPEN) { /* learned late: the final state is now known */
            demo_resolve(d, record,
                         strcmp(states[0], "committed") == 0 ? DEMO_COMMITTED : DEMO_REJECTED);
        }
    }
    cor_bench_progress("xborder", slots, slots);
    demo_check_note(check,
                    "%" PRIu64 " payments on both nodes: %" PRIu64 " committed, %" PRIu64
                    " rejected, %" PRIu64 " refused at the door, %" PRIu64 " open, %" PRIu64
                    " mismatched",
                    compared, committed, rejected, refused, open, bad);
    if (open > 0 || bad > 0) check->ok = false;
}

typedef struct demo_balance {
    demo_i128 net;
    cor_u128 debits_pending;
    cor_u128 credits_pending;
} demo_balance;

/* Reads every participant's balance of one node; false when the list cannot be read. */
static bool demo_read_balances(cor_devnet_client *client, const cor_devnet_node_info *node,
                               demo_balance *balances, uint32_t balances_max, uint32_t *count)
{
    cor_devnet_response response;
    cor_devnet_request(client, node->url, "GET", "/v1/participants", node->operator_key, NULL,
                       &response);
    json_t *list = json_object_get(response.json, "participants");
    bool ok = response.status == 200 && json_is_array(list);
    *count = 0;
    for (size_t i = 0; ok && i < json_array_size(list); i++) {
        json_t *item = json_array_get(list, i);
        json_t *balance = json_object_get(item, "balance");
        const char *id_text = cor_devnet_str(item, "id");
        unsigned long id = id_text ? strtoul(id_text, NULL, 10) : 0;
        if (id == 0 || id > balances_max) {
            ok = false;
            break;
        }
        demo_balance *b = &balances[id - 1];
        ok = demo_parse_signed(cor_devnet_str(balance, "net"), &b->net) &&
             cor_devnet_u128(balance, "debits_pending", &b->debits_pending) &&
             cor_devnet_u128(balance, "credits_pending", &b->credits_pending);
        if (id > *count) *count = (uint32_t)id;
    }
    cor_devnet_response_release(&response);
    return ok;
}

#define DEMO_PARTICIPANTS_MAX 16u

/* (b) each node's books balance: the participants' net balances add up to the money issued,
 * and no reservation is left pending. */
static void demo_check_books(demo *d, cor_devnet_client *client, demo_check *check,
                             demo_balance balances[][DEMO_PARTICIPANTS_MAX])
{
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(d->net, i);
        uint32_t count = 0;
        if (!demo_read_balances(client, node, balances[i], DEMO_PARTICIPANTS_MAX, &count)) {
            demo_check_fail(check, "%s: participant list unreadable", node->name);
            continue;
        }
        demo_i128 sum = 0;
        cor_u128 pending = 0;
        for (uint32_t p = 0; p < count; p++) {
            sum += balances[i][p].net;
            pending += balances[i][p].debits_pending + balances[i][p].credits_pending;
        }
        char a[40], b[40], c[40];
        bool ok = sum == (demo_i128)node->issued && pending == 0;
        demo_check_note(check, "%s: %u participants, net sum %s%s %s issued %s, pending %s",
                        node->name, (unsigned)count, sum < 0 ? "-" : "",
                        demo_u128_text((cor_u128)(sum < 0 ? -sum : sum), a),
                        ok ? "=" : "!=", demo_u128_text(node->issued, b),
                        demo_u128_text(pending, c));
        if (!ok) check->ok = false;
    }
}

/* Every participant's expected net balance from what the demo saw: funding, domestic
 * payments accepted, cross-border legs committed. */
static void demo_expected_balances(demo *d, uint64_t slots,
                                   demo_i128 expected[][DEMO_PARTICIPANTS_MAX])
{
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(d->net, i);
        const cor_devnet_participant *all[] = {&node->central_bank, &node->banks[0],
                                               &node->banks[1], &node->banks[2], &node->fx};
        for (size_t p = 0; p < sizeof(all) / sizeof(all[0]); p++) {
            COR_ASSERT(all[p]->id >= 1 && all[p]->id <= DEMO_PARTICIPANTS_MAX);
            expected[i][all[p]->id - 1] = (demo_i128)all[p]->funded;
        }
    }
    for (uint64_t slot = 0; slot < slots; slot++) {
        const demo_record *record = &d->records[slot];
        if (atomic_load(&record->outcome) != DEMO_COMMITTED) continue;
        uint32_t origin = record->flow == DEMO_FLOW_RU_IR || record->flow == DEMO_FLOW_RU_DOMESTIC
                              ? COR_DEVNET_RU
                              : COR_DEVNET_IR;
        const cor_devnet_node_info *a = cor_devnet_node(d->net, origin);
        if (record->creditor == DEMO_WRONG_CREDITOR) continue; /* must never be accepted */
        if (record->flow >= DEMO_FLOW_RU_DOMESTIC) {
            expected[origin][a->banks[record->debtor].id - 1] -= (demo_i128)record->amount_source;
            expected[origin][a->banks[record->creditor].id - 1] += (demo_i128)record->amount_dest;
            continue;
        }
        const cor_devnet_node_info *b = cor_devnet_node(d->net, 1u - origin);
        expected[origin][a->banks[record->debtor].id - 1] -= (demo_i128)record->amount_source;
        expected[origin][a->fx.id - 1] += (demo_i128)record->amount_source;
        expected[1u - origin][b->fx.id - 1] -= (demo_i128)record->amount_dest;
        expected[1u - origin][b->banks[record->creditor].id - 1] += (demo_i128)record->amount_dest;
    }
}

/* (e) every participant's balance equals the one computed from the demo's own records. */
static void demo_check_balances(demo *d, demo_check *check, uint64_t slots,
                                demo_balance balances[][DEMO_PARTICIPANTS_MAX])
{
    static demo_i128 expected[COR_DEVNET_NODES_COUNT][DEMO_PARTICIPANTS_MAX];
    memset(expected, 0, sizeof(expected));
    demo_expected_balances(d, slots, expected);
    uint32_t checked = 0;
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        for (uint32_t p = 0; p < 5u; p++) {
            checked++;
            if (balances[i][p].net == expected[i][p]) continue;
            char a[40], b[40];
            demo_i128 got = balances[i][p].net, want = expected[i][p];
            demo_check_fail(check, "%s participant %u: net %s%s, expected %s%s",
                            cor_devnet_node(d->net, i)->name, (unsigned)p + 1u, got < 0 ? "-" : "",
                            demo_u128_text((cor_u128)(got < 0 ? -got : got), a),
                            want < 0 ? "-" : "",
                            demo_u128_text((cor_u128)(want < 0 ? -want : want), b));
        }
    }
    demo_check_note(check,
                    "%u participants: net balance = funding + accepted domestic payments "
                    "+ committed cross-border legs",
                    (unsigned)checked);
}

/* (d) every domestic payment is recorded by its node as the demo saw it. */
static void demo_check_domestic(demo *d, cor_devnet_client *client, demo_check *check,
                                uint64_t slots)
{
    uint64_t looked = 0, accepted = 0, rejected = 0, refused = 0, bad = 0;
    for (uint64_t slot = 0; slot < slots && looked < DEMO_CHECK_RECORDS_MAX; slot++) {
        if (slot % 1024u == 0) cor_bench_progress("domestic", slot, slots);
        demo_record *record = &d->records[slot];
        uint8_t outcome = atomic_load(&record->outcome);
        if (outcome == DEMO_UNUSED || record->flow < DEMO_FLOW_RU_DOMESTIC) continue;
        looked++;
        uint32_t index = record->flow == DEMO_FLOW_RU_DOMESTIC ? COR_DEVNET_RU : COR_DEVNET_IR;
        const cor_devnet_node_info *node = cor_devnet_node(d->net, index);
        char path[128];
        snprintf(path, sizeof(path), "/v1/payments/%" PRIu64 "?debtor=%u", record->payment_id,
                 (unsigned)node->banks[record->debtor].id);
        cor_devnet_response response;
        cor_devnet_request(client, node->url, "GET", path, node->operator_key, NULL, &response);
        const char *status = cor_devnet_str(response.json, "status");
        cor_u128 amount = 0;
        bool has_amount = cor_devnet_u128(response.json, "amount", &amount);
        const char *want = outcome == DEMO_COMMITTED ? "accepted" : "rejected";
        bool ok;
        if (outcome == DEMO_REFUSED) {
            ok = response.status == 404;
            refused += ok;
        } else if (outcome == DEMO_OPEN) { /* no answer came: the node's record decides */
            bool found = response.status == 200 && status != NULL && has_amount &&
                         amount == record->amount_source;
            ok = response.status == 404 || found;
            if (response.status == 404) {
                demo_resolve(d, record, DEMO_REFUSED);
                refused++;
            } else if (found) {
                bool accepted_now = strcmp(status, "accepted") == 0;
                demo_resolve(d, record, accepted_now ? DEMO_COMMITTED : DEMO_REJECTED);
                accepted += accepted_now;
                rejected += !accepted_now;
            }
        } else {
            ok = response.status == 200 && status != NULL && strcmp(status, want) == 0 &&
                 has_amount && amount == record->amount_source &&
                 (record->creditor != DEMO_WRONG_CREDITOR || outcome == DEMO_REJECTED);
            accepted += ok && outcome == DEMO_COMMITTED;
            rejected += ok && outcome == DEMO_REJECTED;
        }
        if (!ok && bad++ < 3) {
            demo_check_fail(check, "%s payment %" PRIu64 ": node says %ld %s, demo saw %s",
                            node->name, record->payment_id, response.status, status ? status : "-",
                            want);
        }
        cor_devnet_response_release(&response);
    }
    cor_bench_progress("domestic", slots, slots);
    demo_check_note(check,
                    "%" PRIu64 " domestic payments looked up: %" PRIu64 " accepted, %" PRIu64
                    " rejected, %" PRIu64 " refused, %" PRIu64 " mismatched",
                    looked, accepted, rejected, refused, bad);
}

/* Finds the summary of direction from -> to in a reconcile answer of node `self`: a member
 * object or array item naming its direction by node name or id ("from"/"to", "from_node"/
 * "to_node"), or "outbound"/"inbound" seen from the answering node. NULL when absent. */
static bool demo_names_node(const json_t *value, const cor_devnet_node_info *node)
{
    char id[16];
    snprintf(id, sizeof(id), "%u", (unsigned)node->node_id);
    if (json_is_integer(value)) return (uint64_t)json_integer_value(value) == node->node_id;
    const char *text = json_string_value(value);
    return text != NULL && (strcmp(text, id) == 0 || strcmp(text, node->name) == 0);
}

static const json_t *demo_reconcile_find(const json_t *answer, const cor_devnet_node_info *self,
                                         const cor_devnet_node_info *from,
                                         const cor_devnet_node_info *to)
{
    const char *side = self == from ? "outbound" : "inbound";
    if (json_is_object(json_object_get(answer, side))) return json_object_get(answer, side);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)answer, key, value)
    {
        size_t count = json_is_array(value) ? json_array_size(value) : 1u;
        for (size_t i = 0; i < count && i < 64u; i++) {
            const json_t *item = json_is_array(value) ? json_array_get(value, i) : value;
            if (!json_is_object(item)) continue;
            const json_t *f = json_object_get(item, "from");
            const json_t *t = json_object_get(item, "to");
            if (f == NULL) f = json_object_get(item, "from_node");
            if (t == NULL) t = json_object_get(item, "to_node");
            if (demo_names_node(f, from) && demo_names_node(t, to)) return item;
        }
    }
    return NULL;
}

static bool demo_json_u128(const json_t *object, const char *field, cor_u128 *out)
{
    const json_t *value = json_object_get(object, field);
    if (json_is_integer(value) && json_integer_value(value) >= 0) {
        *out = (cor_u128)json_integer_value(value);
        return true;
    }
    return cor_devnet_u128(object, field, out);
}

/* (c) the FX provider's legs: both nodes' reconcile summaries agree per direction, and match
 * the quotes of the payments the demo saw committed. */
static void demo_check_fx(demo *d, cor_devnet_client *client, demo_check *check, uint64_t slots)
{
    cor_u128 source[2] = {0, 0}, dest[2] = {0, 0};
    uint64_t count[2] = {0, 0};
    for (uint64_t slot = 0; slot < slots; slot++) {
        const demo_record *record = &d->records[slot];
        if (record->flow > DEMO_FLOW_IR_RU) continue;
        if (atomic_load(&record->outcome) != DEMO_COMMITTED) continue;
        source[record->flow] += record->amount_source;
        dest[record->flow] += record->amount_dest;
        count[record->flow]++;
    }
    json_t *answers[COR_DEVNET_NODES_COUNT] = {NULL, NULL};
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(d->net, i);
        char path[160];
        snprintf(path, sizeof(path), "/v1/xborder/reconcile?fx_id=%u&peer=%s", COR_DEVNET_FX_ID,
                 cor_devnet_node(d->net, 1u - i)->name);
        cor_devnet_response response;
        cor_devnet_request(client, node->url, "GET", path, node->operator_key, NULL, &response);
        if (response.status == 200 && json_is_object(response.json)) {
            answers[i] = json_incref(response.json);
        } else {
            demo_check_fail(check, "%s: reconcile answered %ld", node->name, response.status);
        }
        cor_devnet_response_release(&response);
    }
    for (uint32_t flow = 0; answers[0] && answers[1] && flow <= DEMO_FLOW_IR_RU; flow++) {
        const cor_devnet_node_info *from = cor_devnet_node(d->net, flow);
        const cor_devnet_node_info *to = cor_devnet_node(d->net, 1u - flow);
        const json_t *sides[2] = {demo_reconcile_find(answers[flow], from, from, to),
                                  demo_reconcile_find(answers[1u - flow], to, from, to)};
        if (sides[0] == NULL || sides[1] == NULL) {
            demo_check_fail(check, "%s: direction missing in a reconcile answer",
                            demo_flow_names[flow]);
            continue;
        }
        cor_u128 got_count[2] = {0, 0}, got_source[2] = {0, 0}, got_dest[2] = {0, 0};
        for (uint32_t s = 0; s < 2; s++) {
            if (!demo_json_u128(sides[s], "count", &got_count[s]) ||
                !demo_json_u128(sides[s], "source_amount", &got_source[s]) ||
                !demo_json_u128(sides[s], "destination_amount", &got_dest[s])) {
                demo_check_fail(check, "%s: reconcile summary unreadable", demo_flow_names[flow]);
            }
        }
        bool equal =
            json_equal((json_t *)sides[0], (json_t *)sides[1]) ||
            (got_count[0] == got_count[1] && got_source[0] == got_source[1] &&
             got_dest[0] == got_dest[1] &&
             json_equal(json_object_get(sides[0], "digest"), json_object_get(sides[1], "digest")));
        bool quotes = got_count[0] == count[flow] && got_source[0] == source[flow] &&
                      got_dest[0] == dest[flow];
        char a[40], b[40], c[40], e[40];
        demo_check_note(check,
                        "%s: both nodes %s (%" PRIu64 " payments, leg 1 %s %s, leg 2 %s %s); "
                        "quotes %s (leg 1 %s, leg 2 %s)",
                        demo_flow_names[flow], equal ? "agree" : "DIFFER", (uint64_t)got_count[0],
                        demo_u128_text(got_source[0], a), from->currency,
                        demo_u128_text(got_dest[0], b), to->currency, quotes ? "match" : "DIFFER",
                        demo_u128_text(source[flow], c), demo_u128_text(dest[flow], e));
        if (!equal || !quotes) check->ok = false;
    }
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        if (answers[i] != NULL) json_decref(answers[i]);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* One payment's path (GET /v1/payments/{uetr}/track on both nodes, merged by time)         */
/* ---------------------------------------------------------------------------------------- */

#define DEMO_TRACK_STEPS_MAX 32u

typedef struct demo_step {
    uint64_t timestamp_ns;
    uint32_t rank; /* protocol order, for steps with the same timestamp */
    char step[24];
    char node[8];
} demo_step;

/* Steps one batch records at one timestamp keep the protocol's order. */
static uint32_t demo_step_rank(const char *step)
{
    static const char *const order[] = {"reserved", "cancel_requested", "received",       "held",
                                        "settled",  "refused",          "decision_known", "posted",
                                        "voided",   "returned"};
    for (uint32_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (strcmp(step, order[i]) == 0) return i;
    }
    return 100u;
}

static int demo_step_compare(const void *a, const void *b)
{
    const demo_step *x = a;
    const demo_step *y = b;
    if (x->timestamp_ns != y->timestamp_ns) return x->timestamp_ns > y->timestamp_ns ? 1 : -1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Prints the steps of the last committed payment of flow (both nodes' views, by time). */
static void demo_print_track(demo *d, cor_devnet_client *client, demo_flow flow, FILE *out)
{
    const demo_record *record = NULL;
    for (uint64_t slot = d->slots; slot > 0 && record == NULL; slot--) {
        const demo_record *r = &d->records[slot - 1u];
        if (r->flow == flow && atomic_load(&r->outcome) == DEMO_COMMITTED) record = r;
    }
    if (record == NULL) return;
    char uetr[37], path[128];
    demo_uetr_text(record->uetr, uetr);
    snprintf(path, sizeof(path), "/v1/payments/%s/track", uetr);
    demo_step steps[DEMO_TRACK_STEPS_MAX];
    size_t count = 0;
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(d->net, i);
        cor_devnet_response response;
        cor_devnet_request(client, node->url, "GET", path, node->operator_key, NULL, &response);
        json_t *list = json_object_get(response.json, "steps");
        for (size_t k = 0; k < json_array_size(list) && count < DEMO_TRACK_STEPS_MAX; k++) {
            json_t *item = json_array_get(list, k);
            const char *step = cor_devnet_str(item, "step");
            const char *name = cor_devnet_str(item, "node");
            cor_u128 timestamp = 0;
            if (step == NULL || name == NULL || !cor_devnet_u128(item, "timestamp", &timestamp)) {
                continue;
            }
            demo_step *s = &steps[count++];
            s->timestamp_ns = (uint64_t)timestamp;
            s->rank = demo_step_rank(step);
            snprintf(s->step, sizeof(s->step), "%s", step);
            snprintf(s->node, sizeof(s->node), "%s", name);
        }
        cor_devnet_response_release(&response);
    }
    if (count == 0) return;
    qsort(steps, count, sizeof(steps[0]), demo_step_compare);
    fprintf(out, "\none payment's path, as both nodes tracked it (%s, uetr %s):\n",
            demo_flow_names[flow], uetr);
    for (size_t k = 0; k < count; k++) {
        fprintf(out, "  +%8.3f ms  %-3s %s\n",
                (double)(steps[k].timestamp_ns - steps[0].timestamp_ns) / 1e6, steps[k].node,
                steps[k].step);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Command                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct demo_options {
    uint64_t duration_s;   /* 0: until SIGINT/SIGTERM */
    uint64_t rate;         /* payments per second, all flows together */
    uint64_t port_base;    /* 0: free ports */
    const char *dir;       /* NULL: a new directory under $TMPDIR, removed at the end */
    uint64_t kill_every_s; /* 0: never */
    bool json;
    bool domestic_only;
} demo_options;

static void demo_usage(FILE *out)
{
    fprintf(out, "usage: corridor demo [--duration S] [--json] [--dir DIR] [--port-base P] "
                 "[--rate R] [--domestic-only] [--kill-every S]\n");
}

static int demo_parse(int argc, char **argv, demo_options *options)
{
    *options = (demo_options){.rate = DEMO_RATE_DEFAULT};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            demo_usage(stdout);
            return -1;
        } else if (strcmp(argv[i], "--json") == 0) {
            options->json = true;
            continue;
        } else if (strcmp(argv[i], "--domestic-only") == 0) {
            options->domestic_only = true;
            continue;
        } else if (strcmp(argv[i], "--duration") == 0) {
            ok = cor_cli_parse_u64(value, &options->duration_s) &&
                 options->duration_s <= DEMO_DURATION_MAX_S;
        } else if (strcmp(argv[i], "--rate") == 0) {
            ok = cor_cli_parse_u64(value, &options->rate) && options->rate >= 1 &&
                 options->rate <= DEMO_RATE_MAX;
        } else if (strcmp(argv[i], "--kill-every") == 0) {
            ok = cor_cli_parse_u64(value, &options->kill_every_s) && options->kill_every_s >= 1 &&
                 options->kill_every_s <= DEMO_DURATION_MAX_S;
        } else if (strcmp(argv[i], "--port-base") == 0) {
            ok = cor_cli_parse_u64(value, &options->port_base) && options->port_base >= 1024 &&
                 options->port_base <= 65535u - COR_DEVNET_NODES_COUNT;
        } else if (strcmp(argv[i], "--dir") == 0 && value != NULL && value[0] != '\0') {
            options->dir = value;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "corridor demo: bad option '%s'%s%s\n", argv[i], value ? " " : "",
                    value ? value : "");
            demo_usage(stderr);
            return COR_EXIT_USAGE;
        }
        i++;
    }
    return COR_EXIT_OK;
}

static void demo_banner(demo *d, FILE *out, const char *dir, bool removed)
{
    fprintf(out, "corridor demo: two nodes on 127.0.0.1, data in %s%s\n", dir,
            removed ? " (removed at the end)" : "");
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *n = cor_devnet_node(d->net, i);
        fprintf(out, "  %s  %s  %s  node %u  pid %d  operator key %s\n", n->name, n->url,
                n->currency, (unsigned)n->node_id, (int)n->pid, n->operator_key);
        fprintf(out, "      central bank %u %s; banks", (unsigned)n->central_bank.id,
                n->central_bank.bic);
        for (uint32_t b = 0; b < COR_DEVNET_BANKS_COUNT; b++) {
            fprintf(out, " %u %s", (unsigned)n->banks[b].id, n->banks[b].bic);
        }
        fprintf(out, "; fx provider %u %s%s\n", (unsigned)n->fx.id, n->fx.bic,
                d->domestic_only ? "" : " (fx id 1)");
    }
    if (!d->domestic_only) {
        const cor_devnet_rate *r = cor_devnet_rate_of(d->net, COR_DEVNET_RU);
        fprintf(out,
                "  rates: RUB->IRR %llu/%llu, IRR->RUB %llu/%llu (minor units), "
                "spread %u ppm\n",
                (unsigned long long)r->rate_num, (unsigned long long)r->rate_den,
                (unsigned long long)cor_devnet_rate_of(d->net, COR_DEVNET_IR)->rate_num,
                (unsigned long long)cor_devnet_rate_of(d->net, COR_DEVNET_IR)->rate_den,
                (unsigned)r->spread_ppm);
    }
    fprintf(out, "status each second, per flow: finished/s, ok (committed), rej (rejected or "
                 "refused), fly (in flight), latency p50/p99 of that second\n");
    fprintf(out, "traffic: %u payments/s (%s); Ctrl-C stops\n", (unsigned)d->rate,
            d->domestic_only ? "domestic only, half on each node"
                             : "35% RU->IR, 35% IR->RU, 15% domestic on each node");
    fflush(out);
}

/* SIGKILL one node (RU and IR in turn) in the middle of the traffic and restart it at once:
 * what it acknowledged must survive and the payments in flight must still end. */
static void demo_kill_and_restart(demo *d)
{
    uint32_t index = d->kills % COR_DEVNET_NODES_COUNT;
    const cor_devnet_node_info *node = cor_devnet_node(d->net, index);
    fprintf(stderr, "corridor demo: SIGKILL node %s (pid %d), restarting it\n", node->name,
            (int)node->pid);
    cor_devnet_kill(d->net, index);
    d->kills++;
    uint64_t start_ns = cor_bench_now_ns();
    cor_error rc = cor_devnet_restart(d->net, index);
    if (rc != COR_OK) {
        d->restart_failures++;
        fprintf(stderr, "corridor demo: node %s did not come back (%s)\n", node->name,
                cor_error_name(rc));
        return;
    }
    fprintf(stderr, "corridor demo: node %s back (pid %d) after %.0f ms\n", node->name,
            (int)node->pid, (double)(cor_bench_now_ns() - start_ns) / 1e6);
}

/* Runs the traffic until a signal or the duration; returns the slots handed out. */
static uint64_t demo_run_traffic(demo *d, demo_worker *workers, uint64_t duration_s,
                                 uint64_t *scratch)
{
    d->start_ns = cor_bench_now_ns() + 20000000u;
    for (uint32_t w = 0; w < DEMO_WORKERS_COUNT; w++) {
        workers[w].started =
            pthread_create(&workers[w].thread, NULL, demo_worker_main, &workers[w]) == 0;
    }
    uint64_t last_counts[DEMO_FLOWS_COUNT] = {0};
    uint64_t seconds = 0;
    uint64_t next_ns = d->start_ns + 1000000000u;
    while (demo_signals == 0 && (duration_s == 0 || seconds < duration_s)) {
        uint64_t now_ns = cor_bench_now_ns();
        if (now_ns < next_ns) {
            demo_sleep_ns(next_ns - now_ns);
            continue; /* a signal ends the nap early; the loop re-checks */
        }
        seconds++;
        next_ns += 1000000000u;
        demo_status_line(d, seconds, last_counts, scratch);
        if (d->kill_every_s != 0 && seconds % d->kill_every_s == 0) {
            demo_kill_and_restart(d);
            uint64_t after_ns = cor_bench_now_ns();
            if (next_ns < after_ns) next_ns = after_ns; /* no burst of catch-up lines */
        }
        if (seconds % DEMO_RATES_REFRESH_S == 0 && cor_devnet_publish_rates(d->net) != COR_OK) {
            fprintf(stderr, "corridor demo: republishing the rates failed\n");
        }
    }
    atomic_store(&d->drain_until_ns, cor_bench_now_ns() + (uint64_t)DEMO_DRAIN_MS * 1000000u);
    atomic_store(&d->stop, true);
    fprintf(stderr, "corridor demo: %s; waiting for in-flight payments (at most %u s)\n",
            demo_signals ? "interrupted" : "duration reached", DEMO_DRAIN_MS / 1000u);
    /* Workers end once their payment is final or the drain time has passed: bounded. A second
     * signal ends the drain now. */
    int seen_signals = demo_signals;
    for (uint32_t w = 0; w < DEMO_WORKERS_COUNT; w++) {
        if (!workers[w].started) continue;
        for (uint32_t wait = 0; wait < 100000u; wait++) {
            if (pthread_tryjoin_np(workers[w].thread, NULL) == 0) break;
            if (demo_signals > seen_signals) {
                atomic_store(&d->drain_until_ns, 0);
            }
            demo_sleep_ns(10000000u);
        }
    }
    uint64_t slots = atomic_load(&d->next_slot);
    return slots < DEMO_RECORDS_MAX ? slots : DEMO_RECORDS_MAX;
}

static void demo_flow_summarize(demo *d, demo_flow flow, uint64_t *scratch, demo_flow_summary *out)
{
    demo_flow_totals(d, flow, out);
    out->samples = demo_latency(d, flow, 0, scratch, &out->latency);
    out->reasons_count = 0;
    out->reasons_other = 0;
    for (uint64_t slot = 0; slot < d->slots; slot++) {
        const demo_record *record = &d->records[slot];
        uint8_t outcome = atomic_load(&record->outcome);
        if (record->flow != flow || (outcome != DEMO_REJECTED && outcome != DEMO_REFUSED)) {
            continue;
        }
        const char *code = record->refusal[0] ? record->refusal : "unknown";
        uint32_t r = 0;
        while (r < out->reasons_count && strcmp(out->reasons[r].code, code) != 0)
            r++;
        if (r == DEMO_REASONS_MAX) {
            out->reasons_other++;
            continue;
        }
        if (r == out->reasons_count) {
            snprintf(out->reasons[r].code, sizeof(out->reasons[r].code), "%s", code);
            out->reasons[r].count = 0;
            out->reasons_count++;
        }
        out->reasons[r].count++;
    }
}

static json_t *demo_summary_json(demo *d, const demo_checks *checks, double elapsed_s,
                                 uint64_t *scratch, bool ok)
{
    json_t *root = json_object();
    json_object_set_new(root, "ok", json_boolean(ok));
    json_object_set_new(root, "duration_s", json_real(elapsed_s));
    json_object_set_new(root, "rate_target", json_integer((json_int_t)d->rate));
    json_object_set_new(root, "domestic_only", json_boolean(d->domestic_only));
    json_t *nodes = json_array();
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *n = cor_devnet_node(d->net, i);
        json_array_append_new(nodes, json_pack("{s:s, s:s, s:s, s:I}", "name", n->name, "url",
                                               n->url, "currency", n->currency, "node_id",
                                               (json_int_t)n->node_id));
    }
    json_object_set_new(root, "nodes", nodes);
    json_t *flows = json_object();
    for (uint32_t f = 0; f < DEMO_FLOWS_COUNT; f++) {
        demo_flow_summary s;
        demo_flow_summarize(d, (demo_flow)f, scratch, &s);
        json_t *latency = json_pack("{s:I, s:I, s:I, s:I}", "samples", (json_int_t)s.samples, "p50",
                                    (json_int_t)(s.latency.p50_ns / 1000u), "p99",
                                    (json_int_t)(s.latency.p99_ns / 1000u), "max",
                                    (json_int_t)(s.latency.max_ns / 1000u));
        json_t *reasons = json_object();
        for (uint32_t r = 0; r < s.reasons_count; r++) {
            json_object_set_new(reasons, s.reasons[r].code,
                                json_integer((json_int_t)s.reasons[r].count));
        }
        if (s.reasons_other > 0) {
            json_object_set_new(reasons, "other", json_integer((json_int_t)s.reasons_other));
        }
        json_t *flow = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o}", "submitted", (json_int_t)s.submitted,
            "committed", (json_int_t)s.committed, "rejected", (json_int_t)s.rejected, "refused",
            (json_int_t)s.refused, "open", (json_int_t)s.open, "answers_lost", (json_int_t)s.lost,
            "per_second", elapsed_s > 0 ? (double)(s.committed + s.rejected) / elapsed_s : 0.0,
            "latency_us", latency, "reasons", reasons);
        json_object_set_new(flows, demo_flow_keys[f], flow);
    }
    json_object_set_new(root, "flows", flows);
    json_t *invariants = json_object();
    for (uint32_t c = 0; c < checks->count; c++) {
        char text[sizeof(checks->items[c].detail) + sizeof(checks->items[c].problems) + 16];
        demo_check_text(&checks->items[c], text, sizeof(text));
        json_object_set_new(invariants, checks->items[c].name,
                            json_pack("{s:b, s:s}", "ok", checks->items[c].ok, "detail", text));
    }
    json_object_set_new(root, "invariants", invariants);
    return root;
}

static void demo_summary_text(demo *d, const demo_checks *checks, double elapsed_s,
                              uint64_t *scratch, bool ok, FILE *out)
{
    fprintf(out, "\nsummary after %.1f s:\n", elapsed_s);
    for (uint32_t f = 0; f < DEMO_FLOWS_COUNT; f++) {
        if (d->domestic_only && f <= DEMO_FLOW_IR_RU) continue;
        demo_flow_summary s;
        demo_flow_summarize(d, (demo_flow)f, scratch, &s);
        fprintf(out,
                "  %-7s submitted %" PRIu64 ", committed %" PRIu64 ", rejected %" PRIu64
                ", refused %" PRIu64 ", open %" PRIu64 ", answers lost %" PRIu64
                "; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                demo_flow_names[f], s.submitted, s.committed, s.rejected, s.refused, s.open, s.lost,
                (double)s.latency.p50_ns / 1e6, (double)s.latency.p99_ns / 1e6,
                (double)s.latency.max_ns / 1e6);
        for (uint32_t r = 0; r < s.reasons_count; r++) {
            fprintf(out, "          %s: %" PRIu64 "\n", s.reasons[r].code, s.reasons[r].count);
        }
    }
    fprintf(out, "invariants:\n");
    for (uint32_t c = 0; c < checks->count; c++) {
        char text[sizeof(checks->items[c].detail) + sizeof(checks->items[c].problems) + 16];
        demo_check_text(&checks->items[c], text, sizeof(text));
        fprintf(out, "  [%s] %s: %s\n", checks->items[c].ok ? " ok " : "FAIL",
                checks->items[c].name, text);
    }
    fprintf(out, "%s\n", ok ? "all invariants hold" : "AN INVARIANT FAILED");
}

static void demo_run_checks(demo *d, uint64_t slots, demo_checks *checks)
{
    cor_devnet_client *client = cor_devnet_client_open(30000);
    if (client == NULL) {
        demo_check_fail(demo_check_add(checks, "checks_ran"), "out of memory");
        return;
    }
    static demo_balance balances[COR_DEVNET_NODES_COUNT][DEMO_PARTICIPANTS_MAX];
    memset(balances, 0, sizeof(balances));
    if (!d->domestic_only) {
        demo_check_same_state(d, client, demo_check_add(checks, "xborder_same_state"), slots);
    }
    demo_check_domestic(d, client, demo_check_add(checks, "domestic_accounted"), slots);
    demo_check_books(d, client, demo_check_add(checks, "books_balance"), balances);
    if (!d->domestic_only) demo_check_fx(d, client, demo_check_add(checks, "fx_legs"), slots);
    demo_check_balances(d, demo_check_add(checks, "balances_match_traffic"), slots, balances);
    if (!d->domestic_only && d->out == stdout) demo_print_track(d, client, DEMO_FLOW_RU_IR, stdout);
    cor_devnet_client_close(client);
}

static bool demo_alloc(demo *d)
{
    d->records_size_bytes = (size_t)DEMO_RECORDS_MAX * sizeof(demo_record);
    d->records = cor_alloc_large(d->records_size_bytes);
    bool ok = d->records != NULL;
    for (uint32_t f = 0; f < DEMO_FLOWS_COUNT; f++) {
        d->latencies[f] = cor_alloc_large((size_t)DEMO_RECORDS_MAX * sizeof(uint64_t));
        ok = ok && d->latencies[f] != NULL;
    }
    return ok;
}

static void demo_release(demo *d)
{
    if (d->records != NULL) cor_free_large(d->records, d->records_size_bytes);
    for (uint32_t f = 0; f < DEMO_FLOWS_COUNT; f++) {
        if (d->latencies[f] != NULL) {
            cor_free_large(d->latencies[f], (size_t)DEMO_RECORDS_MAX * sizeof(uint64_t));
        }
    }
}

/* The directory for the nodes: --dir (kept), else a new one under $TMPDIR (removed). */
static bool demo_directory(const demo_options *options, char *dir, size_t size)
{
    if (options->dir != NULL) {
        int written = snprintf(dir, size, "%s", options->dir);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) return false; /* ru/ir must be new */
        return written > 0 && (size_t)written < size;
    }
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0') tmp = "/tmp";
    int written = snprintf(dir, size, "%s/corridor-demo-XXXXXX", tmp);
    return written > 0 && (size_t)written < size && mkdtemp(dir) != NULL;
}

static void demo_install_signals(void)
{
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = demo_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL); /* no SA_RESTART: sleeps end at once */
    sigaction(SIGTERM, &action, NULL);
}

/* Checks, stops the nodes (part of the checks), prints the summary; the exit status. */
static int demo_finish(demo *d, bool json, uint64_t *scratch)
{
    double elapsed_s = (double)(cor_bench_now_ns() - d->start_ns) / 1e9;
    fprintf(stderr, "corridor demo: checking the invariants through both nodes' APIs\n");
    demo_checks checks = {.count = 0};
    demo_run_checks(d, d->slots, &checks);
    if (d->kill_every_s != 0) {
        demo_check *restarts = demo_check_add(&checks, "nodes_restarted");
        demo_check_note(restarts, "%u SIGKILLs in the traffic, %u restarts healthy",
                        (unsigned)d->kills, (unsigned)(d->kills - d->restart_failures));
        if (d->restart_failures > 0) restarts->ok = false;
    }
    demo_check *stopped = demo_check_add(&checks, "nodes_stopped_cleanly");
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(d->net, i);
        pid_t pid = node->pid;
        int exit_status = cor_devnet_stop(d->net, i);
        demo_check_note(stopped, "%s pid %d: SIGTERM, exit status %d", node->name, (int)pid,
                        exit_status);
        if (exit_status != 0) stopped->ok = false;
    }
    bool ok = true;
    for (uint32_t c = 0; c < checks.count; c++) {
        ok = ok && checks.items[c].ok;
    }
    if (json) {
        json_t *summary = demo_summary_json(d, &checks, elapsed_s, scratch, ok);
        json_dumpf(summary, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        fflush(stdout);
        json_decref(summary);
    } else {
        demo_summary_text(d, &checks, elapsed_s, scratch, ok, stdout);
    }
    return ok ? COR_EXIT_OK : COR_EXIT_PROBLEM;
}

/* The corridor binary itself (it execs `serve`), from /proc/self/exe. */
static bool demo_self_path(char *out, size_t size)
{
    ssize_t length = readlink("/proc/self/exe", out, size - 1);
    if (length <= 0 || (size_t)length >= size - 1) return false;
    out[length] = '\0';
    return true;
}

int cor_cli_demo(int argc, char **argv)
{
    demo_options options;
    int status = demo_parse(argc, argv, &options);
    if (status < 0) return COR_EXIT_OK; /* --help */
    if (status != COR_EXIT_OK) return status;
    if (sodium_init() < 0) return COR_EXIT_ERROR;
    char bin[COR_DEVNET_PATH_SIZE], dir[COR_DEVNET_PATH_SIZE];
    if (!demo_self_path(bin, sizeof(bin))) {
        fprintf(stderr, "corridor demo: cannot find the corridor binary\n");
        return COR_EXIT_ERROR;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return COR_EXIT_ERROR;
    if (!demo_directory(&options, dir, sizeof(dir))) {
        fprintf(stderr, "corridor demo: cannot create a directory for the nodes\n");
        curl_global_cleanup();
        return COR_EXIT_ERROR;
    }
    demo_install_signals();

    static demo d;
    memset(&d, 0, sizeof(d));
    d.rate = (uint32_t)options.rate;
    d.domestic_only = options.domestic_only;
    d.kill_every_s = (uint32_t)options.kill_every_s;
    d.out = options.json ? stderr : stdout;
    pthread_mutex_init(&d.latency_lock, NULL);
    uint64_t *scratch = cor_alloc_large((size_t)DEMO_RECORDS_MAX * sizeof(uint64_t));
    demo_worker *workers = cor_calloc(DEMO_WORKERS_COUNT, sizeof(*workers));
    bool ready = scratch != NULL && workers != NULL && demo_alloc(&d);
    for (uint32_t w = 0; ready && w < DEMO_WORKERS_COUNT; w++) {
        workers[w] = (demo_worker){.d = &d, .client = cor_devnet_client_open(30000)};
        randombytes_buf(&workers[w].random_state, sizeof(workers[w].random_state));
        ready = workers[w].client != NULL;
    }
    cor_devnet_options net_options = {.corridor_bin = bin,
                                      .dir = dir,
                                      .port_base = (uint16_t)options.port_base,
                                      .domestic_only = options.domestic_only,
                                      .remove_on_close = false,
                                      .log = stderr};
    cor_error rc = ready ? cor_devnet_open(&net_options, &d.net) : COR_ERR_NOMEM;
    if (rc != COR_OK) {
        fprintf(stderr, "corridor demo: cannot start the network (%s; files in %s)\n",
                cor_error_name(rc), dir);
        status = COR_EXIT_ERROR;
        goto done;
    }
    demo_banner(&d, d.out, dir, options.dir == NULL);

    uint64_t slots = demo_run_traffic(&d, workers, options.duration_s, scratch);
    d.slots = slots;
    status = demo_finish(&d, options.json, scratch);

done:
    cor_devnet_close(d.net);
    if (options.dir == NULL && status == COR_EXIT_OK) {
        if (cor_devnet_remove_tree(dir) != COR_OK) {
            fprintf(stderr, "corridor demo: cannot remove %s\n", dir);
        }
    } else if (options.dir == NULL) {
        fprintf(stderr, "corridor demo: node data and logs kept in %s\n", dir);
    }
    for (uint32_t w = 0; workers != NULL && w < DEMO_WORKERS_COUNT; w++) {
        cor_devnet_client_close(workers[w].client);
    }
    cor_free(workers);
    if (scratch != NULL) cor_free_large(scratch, (size_t)DEMO_RECORDS_MAX * sizeof(uint64_t));
    demo_release(&d);
    pthread_mutex_destroy(&d.latency_lock);
    curl_global_cleanup();
    return status;
}
