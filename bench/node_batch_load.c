/*
 * Closed-loop load on the node's batch endpoint: CONNECTIONS keep-alive connections (libcurl
 * multi) each send POST /v1/payments with an array of BATCH payments (fresh ids), and send
 * the next as soon as the answer arrives, for SECONDS. Bodies are built in C, so the client
 * costs little next to the node (wrk's Lua spends about as much CPU building a body as the
 * node spends deciding it).
 *
 *   node_batch_load URL KEY CREDITOR BATCH SECONDS CONNECTIONS RUN
 *
 * Prints payments/s (counting "accepted" in the answers), requests, errors and the request
 * latency p50/p99 in microseconds. Built and run by bench/node_bench.sh.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECTIONS_MAX 64
#define REQUESTS_MAX    100000

typedef struct slot {
    CURL *curl;
    char *body; /* request */
    size_t body_capacity;
    char *answer; /* response */
    size_t answer_size;
    size_t answer_capacity;
    uint64_t started_ns;
} slot;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static size_t collect(char *data, size_t size, size_t count, void *context)
{
    slot *s = context;
    size_t bytes = size * count;
    if (s->answer_size + bytes + 1 > s->answer_capacity) {
        size_t capacity = (s->answer_size + bytes + 1) * 2;
        char *grown = realloc(s->answer, capacity);
        if (grown == NULL) return 0;
        s->answer = grown;
        s->answer_capacity = capacity;
    }
    memcpy(s->answer + s->answer_size, data, bytes);
    s->answer_size += bytes;
    s->answer[s->answer_size] = '\0';
    return bytes;
}

static unsigned long long next_id;

static void build_body(slot *s, long batch, const char *creditor)
{
    size_t at = 0;
    s->body[at++] = '[';
    for (long i = 0; i < batch; i++) {
        at += (size_t)snprintf(s->body + at, s->body_capacity - at,
                               "%s{\"payment_id\":\"%llu\",\"creditor\":\"%s\",\"amount\":\"1\","
                               "\"currency\":\"RUB\"}",
                               i ? "," : "", ++next_id, creditor);
    }
    s->body[at++] = ']';
    s->body[at] = '\0';
    s->answer_size = 0;
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)at);
}

static size_t count_accepted(const char *text)
{
    size_t count = 0;
    for (const char *p = strstr(text, "\"accepted\""); p != NULL;
         p = strstr(p + 10, "\"accepted\"")) {
        count++;
    }
    return count;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: node_batch_load URL KEY CREDITOR BATCH SECONDS CONNECTIONS RUN\n");
        return 2;
    }
    long batch = strtol(argv[4], NULL, 10);
    double seconds = strtod(argv[5], NULL);
    long connections = strtol(argv[6], NULL, 10);
    next_id = strtoull(argv[7], NULL, 10) * 10000000000ull;
    if (batch < 1 || batch > 8189 || seconds <= 0 || connections < 1 ||
        connections > CONNECTIONS_MAX) {
        return 2;
    }
    char url[256], authorization[256];
    snprintf(url, sizeof(url), "%s/v1/payments", argv[1]);
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    CURLM *multi = curl_multi_init();
    static slot slots[CONNECTIONS_MAX];
    static uint64_t latencies[REQUESTS_MAX];
    size_t requests = 0, errors = 0, accepted = 0;
    uint64_t start = now_ns();
    uint64_t end = start + (uint64_t)(seconds * 1e9);
    for (long i = 0; i < connections; i++) {
        slot *s = &slots[i];
        s->curl = curl_easy_init();
        s->body_capacity = (size_t)batch * 128 + 16;
        s->body = malloc(s->body_capacity);
        curl_easy_setopt(s->curl, CURLOPT_URL, url);
        curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->curl, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        build_body(s, batch, argv[3]);
        s->started_ns = now_ns();
        curl_multi_add_handle(multi, s->curl);
    }
    long running = connections;
    /* Bounded by the deadline (plus the answers in flight) and by REQUESTS_MAX. */
    while (running > 0 && requests < REQUESTS_MAX) {
        int active = 0;
        curl_multi_perform(multi, &active);
        CURLMsg *message;
        int queued;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            slot *s;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_multi_remove_handle(multi, s->curl);
            uint64_t now = now_ns();
            if (message->data.result == CURLE_OK && status == 200) {
                accepted += count_accepted(s->answer ? s->answer : "");
            } else {
                errors++;
            }
            if (requests < REQUESTS_MAX) latencies[requests] = (now - s->started_ns) / 1000u;
            requests++;
            if (now < end && requests < REQUESTS_MAX) {
                build_body(s, batch, argv[3]);
                s->started_ns = now_ns();
                curl_multi_add_handle(multi, s->curl);
            } else {
                running--;
            }
        }
        curl_multi_poll(multi, NULL, 0, 10, NULL);
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    size_t measured = requests < REQUESTS_MAX ? requests : REQUESTS_MAX;
    qsort(latencies, measured, sizeof(uint64_t), compare_u64);
    printf("batch=%ld connections=%ld payments_per_s=%.0f requests=%zu errors=%zu "
           "p50_us=%llu p99_us=%llu\n",
           batch, connections, (double)accepted / elapsed, requests, errors,
           (unsigned long long)(measured ? latencies[measured / 2] : 0),
           (unsigned long long)(measured ? latencies[(size_t)((double)measured * 0.99)] : 0));
    for (long i = 0; i < connections; i++) {
        curl_easy_cleanup(slots[i].curl);
        free(slots[i].body);
        free(slots[i].answer);
    }
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    return errors == 0 ? 0 : 1;
}
