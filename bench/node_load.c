/*
 * Fixed-rate (open-loop) HTTP load for the node: single-payment POST /v1/payments requests
 * sent at a constant rate over keep-alive connections with libcurl multi, each with a fresh
 * payment id. Latency is measured from the time a request was *scheduled*, not sent, so a
 * stalled server cannot hide its queueing (no coordinated omission).
 *
 *   node_load URL KEY CREDITOR RATE SECONDS CONNECTIONS RUN
 *
 * Prints one line: rate, sent, ok (201), errors, p50/p99/p999/max latency in microseconds.
 * Built and run by bench/node_bench.sh.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONNECTIONS_MAX 512

typedef struct slot {
    CURL *curl;
    uint64_t scheduled_ns;
    char body[160];
    bool busy;
} slot;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static size_t discard(char *data, size_t size, size_t count, void *context)
{
    (void)data;
    (void)context;
    return size * count;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: node_load URL KEY CREDITOR RATE SECONDS CONNECTIONS RUN\n");
        return 2;
    }
    const char *base = argv[1];
    double rate = atof(argv[4]);
    double seconds = atof(argv[5]);
    int connections = (int)strtol(argv[6], NULL, 10);
    unsigned long long run = strtoull(argv[7], NULL, 10);
    if (rate <= 0 || seconds <= 0 || connections < 1 || connections > CONNECTIONS_MAX) return 2;
    size_t total = (size_t)(rate * seconds);
    uint64_t *latencies = calloc(total, sizeof(uint64_t));
    static slot slots[CONNECTIONS_MAX];
    char url[256], authorization[256];
    snprintf(url, sizeof(url), "%s/v1/payments", base);
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)connections);
    for (int i = 0; i < connections; i++) {
        slots[i].curl = curl_easy_init();
        curl_easy_setopt(slots[i].curl, CURLOPT_URL, url);
        curl_easy_setopt(slots[i].curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(slots[i].curl, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(slots[i].curl, CURLOPT_PRIVATE, &slots[i]);
        curl_easy_setopt(slots[i].curl, CURLOPT_TIMEOUT, 10L);
        curl_easy_setopt(slots[i].curl, CURLOPT_NOSIGNAL, 1L);
    }
    uint64_t interval_ns = (uint64_t)(1e9 / rate);
    uint64_t start = now_ns();
    uint64_t deadline = start + (uint64_t)(seconds * 1e9) + 10000000000ull; /* +10 s drain */
    size_t sent = 0, done = 0, ok = 0, errors = 0;
    /* Bounded by the request count and by the deadline. */
    while (done < total && now_ns() < deadline) {
        uint64_t now = now_ns();
        while (sent < total && start + sent * interval_ns <= now) {
            int free_slot = -1;
            for (int i = 0; i < connections && free_slot < 0; i++) {
                if (!slots[i].busy) free_slot = i;
            }
            if (free_slot < 0) break; /* all busy: the request waits, its clock runs */
            slot *s = &slots[free_slot];
            s->busy = true;
            s->scheduled_ns = start + sent * interval_ns;
            snprintf(s->body, sizeof(s->body),
                     "{\"payment_id\":\"%llu\",\"creditor\":\"%s\",\"amount\":\"1\",\"currency\":"
                     "\"RUB\"}",
                     run * 1000000000ull + (unsigned long long)sent + 1, argv[3]);
            curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
            curl_multi_add_handle(multi, s->curl);
            sent++;
        }
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *message;
        int queued;
        while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
            if (message->msg != CURLMSG_DONE) continue;
            slot *s;
            curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(message->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            if (message->data.result == CURLE_OK && status == 201)
                ok++;
            else
                errors++;
            latencies[done++] = (now_ns() - s->scheduled_ns) / 1000u;
            curl_multi_remove_handle(multi, s->curl);
            s->busy = false;
        }
        curl_multi_poll(multi, NULL, 0, 1, NULL);
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    qsort(latencies, done, sizeof(uint64_t), compare_u64);
    uint64_t p50 = done ? latencies[done / 2] : 0;
    uint64_t p99 = done ? latencies[(size_t)((double)done * 0.99)] : 0;
    uint64_t p999 = done ? latencies[(size_t)((double)done * 0.999)] : 0;
    uint64_t max = done ? latencies[done - 1] : 0;
    printf("target_rate=%.0f achieved_rate=%.0f sent=%zu ok=%zu errors=%zu p50_us=%llu "
           "p99_us=%llu p999_us=%llu max_us=%llu\n",
           rate, (double)done / elapsed, sent, ok, errors, (unsigned long long)p50,
           (unsigned long long)p99, (unsigned long long)p999, (unsigned long long)max);
    for (int i = 0; i < connections; i++)
        curl_easy_cleanup(slots[i].curl);
    curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
    free(latencies);
    return errors == 0 ? 0 : 1;
}
