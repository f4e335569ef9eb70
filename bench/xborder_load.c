/*
 * Cross-border load between two real corridor nodes (bench/xborder_bench.sh builds and runs
 * it; docs/BENCHMARKS.md, section "Cross-border, two nodes").
 *
 *   xborder_load batch   NODE_A NODE_B COUNT BATCH INFLIGHT RUN BOTH
 *   xborder_load latency NODE_A NODE_B RATE SECONDS CONNECTIONS RUN
 *
 * NODE = NAME,URL,OPERATOR_KEY,BANK_KEY,AMOUNT,CREDITOR: the node's name (its peer knows it by
 * that name), base URL, operator key (stats, reconciliation), the paying bank's key, the
 * source amount of each payment sent from this node and the creditor bank's participant id on
 * the other node. The FX provider is fx id 1 on both nodes.
 *
 * batch: COUNT payments A -> B (and as many B -> A at the same time when BOTH is 1). First
 * one quote per payment, in arrays of BATCH requests (POST /v1/fx/quotes), INFLIGHT requests
 * in flight; then the payments in arrays of BATCH (POST /v1/xborder/payments), INFLIGHT in
 * flight; then GET /v1/xborder/stats on every origin every 10 ms until "open" is 0. The clock
 * runs from the first payment request sent to the poll that saw no open payment left. The
 * committed count is the change of GET /v1/xborder/reconcile's count for that direction on
 * BOTH nodes; the two must agree (count and digest), else the run reports a mismatch.
 *
 * latency: RATE single payments per second for SECONDS from A (open loop: each request has a
 * scheduled time and is sent then, or as soon as one of CONNECTIONS is free; its clock runs
 * from the scheduled time). The quotes are fetched first, in arrays, so only the payment path
 * is timed. When all payments are decided, GET /v1/payments/{uetr}/track on A gives the
 * "posted" step's timestamp (the origin's own record, CLOCK_REALTIME of the same machine):
 * latency = posted - scheduled send time. Also reports the 202 answer's latency.
 *
 * Environment: XB_PIDS="pid_a,pid_b" makes it report each node's CPU time per phase
 * (/proc/PID/stat utime + stime). Every loop is bounded by a count and a deadline.
 */
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLOTS_MAX        512
#define BATCH_MAX        4096
#define COUNT_MAX        4000000
#define QUOTE_ID_SIZE    48
#define PHASE_TIMEOUT_NS (300ull * 1000000000ull)
#define DRAIN_TIMEOUT_NS (120ull * 1000000000ull)
#define POLL_NS          10000000ull

enum kind { KIND_QUOTES, KIND_PAYMENTS, KIND_TRACK };

typedef struct node {
    char name[16];
    char url[128];
    char operator_key[128];
    char bank_key[128];
    char amount[40];
    char creditor[24];
    struct curl_slist *bank_headers;
    struct curl_slist *operator_headers;
    int pid;
} node;

typedef struct direction {
    node *from;
    node *to;
    int index; /* 0: A -> B, 1: B -> A */
    size_t count;
    char (*quote)[QUOTE_ID_SIZE]; /* [count]; "" when the quote was refused */
    uint64_t *scheduled_ns;       /* latency mode: CLOCK_REALTIME */
    uint64_t *ack_ns;             /* latency mode: the answer's arrival */
    uint64_t *posted_ns;          /* latency mode: from the track */
    uint64_t *reserved_ns;        /* latency mode: the origin's "reserved" step */
    uint64_t *decided_ns;         /* latency mode: "decision_known" (the beneficiary's time) */
    bool *accepted;
    size_t next; /* next item to send in the current phase */
    size_t quotes_ok, quote_errors;
    size_t payments_accepted, payments_refused;
    size_t http_errors;
    unsigned long long reconcile_before_from, reconcile_before_to;
} direction;

typedef struct slot {
    CURL *curl;
    direction *d;
    enum kind kind;
    size_t first, n;
    char *body;
    size_t body_capacity;
    char *answer;
    size_t answer_size, answer_capacity;
    bool busy;
} slot;

static unsigned salt;
static unsigned run_number;
static slot slots[SLOTS_MAX];
static int slot_count;
static CURLM *multi;

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t now_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

static void die(const char *message)
{
    fprintf(stderr, "xborder_load: %s\n", message);
    exit(1);
}

static void *xmalloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (p == NULL) die("out of memory");
    return p;
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

static void body_reserve(slot *s, size_t size)
{
    if (size <= s->body_capacity) return;
    free(s->body);
    s->body = xmalloc(size);
    s->body_capacity = size;
}

static void parse_node(const char *spec, node *out)
{
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", spec);
    char *fields[6];
    int n = 0;
    char *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f != NULL && n < 6; f = strtok_r(NULL, ",", &save))
        fields[n++] = f;
    if (n != 6) die("NODE is NAME,URL,OPERATOR_KEY,BANK_KEY,AMOUNT,CREDITOR");
    snprintf(out->name, sizeof(out->name), "%s", fields[0]);
    snprintf(out->url, sizeof(out->url), "%s", fields[1]);
    snprintf(out->operator_key, sizeof(out->operator_key), "%s", fields[2]);
    snprintf(out->bank_key, sizeof(out->bank_key), "%s", fields[3]);
    snprintf(out->amount, sizeof(out->amount), "%s", fields[4]);
    snprintf(out->creditor, sizeof(out->creditor), "%s", fields[5]);
    char header[256];
    snprintf(header, sizeof(header), "Authorization: Bearer %s", out->bank_key);
    out->bank_headers = curl_slist_append(NULL, header);
    out->bank_headers = curl_slist_append(out->bank_headers, "Content-Type: application/json");
    out->bank_headers = curl_slist_append(out->bank_headers, "Expect:");
    snprintf(header, sizeof(header), "Authorization: Bearer %s", out->operator_key);
    out->operator_headers = curl_slist_append(NULL, header);
}

static void uetr_format(const direction *d, size_t i, char out[37])
{
    snprintf(out, 37, "%08x-%04x-4%03x-8%03x-%012llx", salt, run_number & 0xffffu,
             (unsigned)d->index, 0u, (unsigned long long)i);
}

/* ---------------------------------------------------------------------------------------- */
/* Synchronous GETs (stats, reconcile)                                                      */
/* ---------------------------------------------------------------------------------------- */

static CURL *sync_curl;
static slot sync_slot;

static const char *http_get(const char *url, struct curl_slist *headers, long *status)
{
    sync_slot.answer_size = 0;
    if (sync_slot.answer) sync_slot.answer[0] = '\0';
    curl_easy_setopt(sync_curl, CURLOPT_URL, url);
    curl_easy_setopt(sync_curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(sync_curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(sync_curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(sync_curl, CURLOPT_WRITEDATA, &sync_slot);
    curl_easy_setopt(sync_curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(sync_curl, CURLOPT_NOSIGNAL, 1L);
    *status = 0;
    if (curl_easy_perform(sync_curl) != CURLE_OK) return "";
    curl_easy_getinfo(sync_curl, CURLINFO_RESPONSE_CODE, status);
    return sync_slot.answer ? sync_slot.answer : "";
}

static long long json_number_after(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    if (at == NULL) return -1;
    at += strlen(key);
    while (*at == '"' || *at == ':') at++;
    return strtoll(at, NULL, 10);
}

static long long open_count(const node *n)
{
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/xborder/stats", n->url);
    long status;
    const char *answer = http_get(url, n->operator_headers, &status);
    if (status != 200) return -1;
    return json_number_after(answer, "\"open\"");
}

/* The reconcile count and digest of direction from -> to, as node `at` records it. */
static bool reconcile(const node *at, const node *peer, const node *from, unsigned long long *count,
                      char digest[17])
{
    char url[256];
    snprintf(url, sizeof(url), "%s/v1/xborder/reconcile?fx_id=1&peer=%s", at->url, peer->name);
    long status;
    const char *answer = http_get(url, at->operator_headers, &status);
    if (status != 200) return false;
    /* directions[0] is at -> peer, directions[1] is peer -> at. */
    const char *d = strstr(answer, "\"directions\"");
    if (d == NULL) return false;
    if (from != at) {
        d = strstr(d, "},{");
        if (d == NULL) return false;
    }
    long long c = json_number_after(d, "\"count\"");
    const char *g = strstr(d, "\"digest\":\"");
    if (c < 0 || g == NULL) return false;
    *count = (unsigned long long)c;
    snprintf(digest, 17, "%.16s", g + 10);
    return true;
}

/* This process's own CPU time (user + system), seconds. */
static double self_cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static double cpu_seconds(int pid)
{
    if (pid <= 0) return 0;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return 0;
    char line[2048];
    size_t got = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[got] = '\0';
    const char *p = strrchr(line, ')');
    if (p == NULL) return 0;
    unsigned long long utime = 0, stime = 0;
    /* fields after ')': state(3) ... utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ---------------------------------------------------------------------------------------- */
/* Closed-loop phases                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void slots_open(int count)
{
    if (count < 1 || count > SLOTS_MAX) die("INFLIGHT/CONNECTIONS is 1 .. 512");
    slot_count = count;
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)count);
    for (int i = 0; i < count; i++) {
        slot *s = &slots[i];
        s->curl = curl_easy_init();
        curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->curl, CURLOPT_PRIVATE, s);
        curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->curl, CURLOPT_TCP_NODELAY, 1L);
    }
}

/* Builds the request for items [first, first + n) of d and adds it to the multi handle. */
static void slot_start(slot *s, direction *d, enum kind kind, size_t first, size_t n)
{
    char url[256];
    s->d = d;
    s->kind = kind;
    s->first = first;
    s->n = n;
    s->answer_size = 0;
    s->busy = true;
    size_t at = 0;
    if (kind == KIND_QUOTES) {
        body_reserve(s, n * 96 + 16);
        s->body[at++] = '[';
        for (size_t i = 0; i < n; i++) {
            at += (size_t)snprintf(s->body + at, s->body_capacity - at,
                                   "%s{\"peer\":\"%s\",\"source_amount\":\"%s\"}",
                                   i ? "," : "", d->to->name, d->from->amount);
        }
        s->body[at++] = ']';
        snprintf(url, sizeof(url), "%s/v1/fx/quotes", d->from->url);
    } else if (kind == KIND_PAYMENTS) {
        body_reserve(s, n * 224 + 16);
        bool array = n > 1 || d->scheduled_ns == NULL;
        if (array) s->body[at++] = '[';
        for (size_t i = first; i < first + n; i++) {
            char uetr[37];
            uetr_format(d, i, uetr);
            at += (size_t)snprintf(s->body + at, s->body_capacity - at,
                                   "%s{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"creditor\":\"%s\","
                                   "\"debtor_name\":\"Ivan Petrov\","
                                   "\"creditor_name\":\"Ali Rezaei\"}",
                                   i > first ? "," : "", uetr, d->quote[i], d->from->creditor);
        }
        if (array) s->body[at++] = ']';
        snprintf(url, sizeof(url), "%s/v1/xborder/payments", d->from->url);
    } else {
        char uetr[37];
        uetr_format(d, first, uetr);
        snprintf(url, sizeof(url), "%s/v1/payments/%s/track", d->from->url, uetr);
    }
    curl_easy_setopt(s->curl, CURLOPT_URL, url);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, d->from->bank_headers);
    if (kind == KIND_TRACK) {
        curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)at);
    }
    curl_multi_add_handle(multi, s->curl);
}

/* Next marker of one item's answer in an array answer: {"quotes":[ or {"error":. The error
 * marker is looked for only before the next quotes marker, so a long answer is read once. */
static const char *next_result(const char *p, bool *ok)
{
    const char *q = strstr(p, "{\"quotes\":[");
    size_t span = q != NULL ? (size_t)(q - p) : strlen(p);
    const char *e = memmem(p, span, "{\"error\":", 9);
    if (e != NULL) {
        *ok = false;
        return e + 9;
    }
    if (q == NULL) return NULL;
    *ok = true;
    return q + 11;
}

static void quotes_done(slot *s, long status)
{
    direction *d = s->d;
    if (status != 200) {
        d->http_errors++;
        d->quote_errors += s->n;
        fprintf(stderr, "quotes: http %ld: %.300s\n", status, s->answer ? s->answer : "");
        return;
    }
    const char *p = s->answer;
    for (size_t i = s->first; i < s->first + s->n; i++) {
        bool ok = false;
        p = p ? next_result(p, &ok) : NULL;
        const char *id = ok && p ? strstr(p, "\"quote_id\":\"") : NULL;
        if (p == NULL || !ok || id == NULL) {
            d->quote[i][0] = '\0';
            d->quote_errors++;
            if (d->quote_errors <= 3 && p != NULL) fprintf(stderr, "quote refused: %.200s\n", p);
            continue;
        }
        id += 12;
        size_t length = strcspn(id, "\"");
        if (length == 0 || length >= QUOTE_ID_SIZE) die("bad quote_id in an answer");
        memcpy(d->quote[i], id, length);
        d->quote[i][length] = '\0';
        d->quotes_ok++;
        p = id + length;
    }
}

static size_t count_occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    size_t length = strlen(needle);
    const char *p = text ? strstr(text, needle) : NULL;
    for (; p != NULL; p = strstr(p + length, needle))
        n++;
    return n;
}

static void payments_done(slot *s, long status)
{
    direction *d = s->d;
    bool single = d->scheduled_ns != NULL;
    if (single) {
        d->ack_ns[s->first] = now_ns();
        bool ok = status == 202;
        d->accepted[s->first] = ok;
        if (ok) {
            d->payments_accepted++;
        } else {
            d->payments_refused++;
            if (d->payments_refused <= 3) {
                fprintf(stderr, "payment: http %ld: %.300s\n", status, s->answer ? s->answer : "");
            }
        }
        return;
    }
    if (status != 200) {
        d->http_errors++;
        d->payments_refused += s->n;
        fprintf(stderr, "payments: http %ld: %.300s\n", status, s->answer ? s->answer : "");
        return;
    }
    size_t errors = count_occurrences(s->answer, "\"state\":\"error\"");
    if (errors > 0 && d->payments_refused == 0) {
        const char *e = strstr(s->answer, "\"state\":\"error\"");
        fprintf(stderr, "payment refused: %.300s\n", e);
    }
    d->payments_refused += errors;
    d->payments_accepted += s->n - errors;
}

static void track_done(slot *s, long status)
{
    direction *d = s->d;
    d->posted_ns[s->first] = 0;
    if (status != 200) {
        d->http_errors++;
        return;
    }
    const char *steps[3] = {"\"step\":\"reserved\"", "\"step\":\"decision_known\"",
                            "\"step\":\"posted\""};
    uint64_t *out[3] = {d->reserved_ns, d->decided_ns, d->posted_ns};
    for (int k = 0; k < 3; k++) {
        const char *p = strstr(s->answer, steps[k]);
        long long t = p ? json_number_after(p, "\"timestamp\"") : 0;
        out[k][s->first] = t > 0 ? (uint64_t)t : 0;
    }
}

static void slot_finish(slot *s)
{
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (s->kind == KIND_QUOTES) quotes_done(s, status);
    if (s->kind == KIND_PAYMENTS) payments_done(s, status);
    if (s->kind == KIND_TRACK) track_done(s, status);
    curl_multi_remove_handle(multi, s->curl);
    s->busy = false;
}

/* Completes finished transfers; returns how many finished. */
static int harvest(int timeout_ms)
{
    int running = 0;
    curl_multi_perform(multi, &running);
    int finished = 0;
    CURLMsg *message;
    int queued;
    while ((message = curl_multi_info_read(multi, &queued)) != NULL) {
        if (message->msg != CURLMSG_DONE) continue;
        slot *s;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        if (message->data.result != CURLE_OK) {
            fprintf(stderr, "transfer failed: %s\n", curl_easy_strerror(message->data.result));
            curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
        }
        slot_finish(s);
        finished++;
    }
    if (finished == 0 && timeout_ms > 0) curl_multi_poll(multi, NULL, 0, timeout_ms, NULL);
    return finished;
}

static slot *slot_free(void)
{
    for (int i = 0; i < slot_count; i++)
        if (!slots[i].busy) return &slots[i];
    return NULL;
}

static bool slots_idle(void)
{
    for (int i = 0; i < slot_count; i++)
        if (slots[i].busy) return false;
    return true;
}

/* Sends every item of every direction in chunks of `chunk`, round robin, closed loop.
 * For payments, items whose quote was refused are skipped. Returns false on timeout. */
static bool phase_run(direction **dirs, int dir_count, enum kind kind, size_t chunk)
{
    for (int k = 0; k < dir_count; k++) dirs[k]->next = 0;
    uint64_t deadline = now_ns() + PHASE_TIMEOUT_NS;
    int turn = 0;
    while (now_ns() < deadline) {
        slot *s;
        bool more = false;
        while ((s = slot_free()) != NULL) {
            direction *d = NULL;
            for (int k = 0; k < dir_count && d == NULL; k++) {
                direction *c = dirs[(turn + k) % dir_count];
                if (c->next < c->count) d = c;
            }
            if (d == NULL) break;
            turn++;
            size_t first = d->next;
            if (kind == KIND_PAYMENTS) {
                while (first < d->count && d->quote[first][0] == '\0') first++;
            }
            size_t n = 0;
            while (first + n < d->count && n < chunk &&
                   (kind != KIND_PAYMENTS || d->quote[first + n][0] != '\0'))
                n++;
            d->next = first + n;
            if (n == 0) continue;
            slot_start(s, d, kind, first, n);
        }
        for (int k = 0; k < dir_count; k++) more |= dirs[k]->next < dirs[k]->count;
        if (!more && slots_idle()) return true;
        harvest(1);
    }
    return false;
}

/* Polls every origin's stats until no payment is open; returns the time it saw that (0:
 * timeout). */
static uint64_t drain(direction **dirs, int dir_count)
{
    uint64_t deadline = now_ns() + DRAIN_TIMEOUT_NS;
    while (now_ns() < deadline) {
        bool open = false;
        for (int k = 0; k < dir_count && !open; k++) open = open_count(dirs[k]->from) != 0;
        uint64_t seen = now_ns();
        if (!open) return seen;
        struct timespec pause = {0, (long)POLL_NS};
        nanosleep(&pause, NULL);
    }
    return 0;
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void percentiles(const char *label, uint64_t *values, size_t n)
{
    if (n == 0) {
        printf("%s: no samples\n", label);
        return;
    }
    qsort(values, n, sizeof(uint64_t), compare_u64);
    printf("%s: n=%zu p50_us=%.0f p90_us=%.0f p99_us=%.0f p999_us=%.0f max_us=%.0f\n", label, n,
           values[n / 2] / 1e3, values[(size_t)(n * 0.90)] / 1e3, values[(size_t)(n * 0.99)] / 1e3,
           values[(size_t)(n * 0.999)] / 1e3, values[n - 1] / 1e3);
}

static direction *direction_new(node *from, node *to, int index, size_t count, bool timed)
{
    direction *d = xmalloc(sizeof(*d));
    d->from = from;
    d->to = to;
    d->index = index;
    d->count = count;
    d->quote = xmalloc(count * sizeof(*d->quote));
    if (timed) {
        d->scheduled_ns = xmalloc(count * sizeof(uint64_t));
        d->ack_ns = xmalloc(count * sizeof(uint64_t));
        d->posted_ns = xmalloc(count * sizeof(uint64_t));
        d->reserved_ns = xmalloc(count * sizeof(uint64_t));
        d->decided_ns = xmalloc(count * sizeof(uint64_t));
        d->accepted = xmalloc(count * sizeof(bool));
    }
    return d;
}

static void parse_pids(node *a, node *b)
{
    const char *pids = getenv("XB_PIDS");
    if (pids == NULL) return;
    if (sscanf(pids, "%d,%d", &a->pid, &b->pid) != 2) a->pid = b->pid = 0;
}

static void quotes_phase(direction **dirs, int dir_count, size_t batch, const node *a,
                         const node *b)
{
    double cpu_a = cpu_seconds(a->pid), cpu_b = cpu_seconds(b->pid);
    uint64_t start = now_ns();
    if (!phase_run(dirs, dir_count, KIND_QUOTES, batch)) die("quotes: timed out");
    uint64_t end = now_ns();
    size_t ok = 0, errors = 0;
    for (int k = 0; k < dir_count; k++) {
        ok += dirs[k]->quotes_ok;
        errors += dirs[k]->quote_errors;
    }
    double seconds = (double)(end - start) / 1e9;
    printf("quotes: count=%zu refused=%zu seconds=%.3f quotes_per_s=%.0f", ok, errors, seconds,
           ok / seconds);
    if (a->pid > 0) {
        printf(" cpu_us_per_quote %s=%.1f %s=%.1f", a->name,
               (cpu_seconds(a->pid) - cpu_a) * 1e6 / (ok ? ok : 1), b->name,
               (cpu_seconds(b->pid) - cpu_b) * 1e6 / (ok ? ok : 1));
    }
    printf("\n");
}

static int run_batch(node *a, node *b, size_t count, size_t batch, bool both)
{
    direction *dirs[2];
    int dir_count = both ? 2 : 1;
    dirs[0] = direction_new(a, b, 0, count, false);
    if (both) dirs[1] = direction_new(b, a, 1, count, false);
    for (int k = 0; k < dir_count; k++) {
        direction *d = dirs[k];
        char digest[17];
        if (!reconcile(d->from, d->to, d->from, &d->reconcile_before_from, digest) ||
            !reconcile(d->to, d->from, d->from, &d->reconcile_before_to, digest))
            die("reconcile before the run failed");
    }
    quotes_phase(dirs, dir_count, batch, a, b);

    double cpu_a = cpu_seconds(a->pid), cpu_b = cpu_seconds(b->pid);
    double cpu_self = self_cpu_seconds();
    uint64_t start = now_ns();
    if (!phase_run(dirs, dir_count, KIND_PAYMENTS, batch)) die("payments: timed out");
    uint64_t submitted = now_ns();
    uint64_t end = drain(dirs, dir_count);
    if (end == 0) {
        fprintf(stderr, "payments still open after %llu s\n", DRAIN_TIMEOUT_NS / 1000000000ull);
    }
    double cpu_a2 = cpu_seconds(a->pid), cpu_b2 = cpu_seconds(b->pid);
    double cpu_self2 = self_cpu_seconds();

    unsigned long long committed = 0;
    size_t accepted = 0, refused = 0;
    bool mismatch = false;
    for (int k = 0; k < dir_count; k++) {
        direction *d = dirs[k];
        unsigned long long at_from, at_to;
        char digest_from[17], digest_to[17];
        if (!reconcile(d->from, d->to, d->from, &at_from, digest_from) ||
            !reconcile(d->to, d->from, d->from, &at_to, digest_to))
            die("reconcile after the run failed");
        unsigned long long c_from = at_from - d->reconcile_before_from;
        unsigned long long c_to = at_to - d->reconcile_before_to;
        bool same = c_from == c_to && strcmp(digest_from, digest_to) == 0;
        mismatch |= !same;
        printf("direction %s->%s: accepted=%zu refused=%zu committed_at_%s=%llu "
               "committed_at_%s=%llu digests %s\n",
               d->from->name, d->to->name, d->payments_accepted, d->payments_refused, d->from->name,
               c_from, d->to->name, c_to, same ? "match" : "MISMATCH");
        committed += c_from < c_to ? c_from : c_to;
        accepted += d->payments_accepted;
        refused += d->payments_refused;
    }
    double seconds = end ? (double)(end - start) / 1e9 : (double)(now_ns() - start) / 1e9;
    printf("payments: directions=%d batch=%zu accepted=%zu refused=%zu committed=%llu "
           "submit_s=%.3f total_s=%.3f payments_per_s=%.0f%s",
           dir_count, batch, accepted, refused, committed, (double)(submitted - start) / 1e9,
           seconds, committed / seconds, end ? "" : " (TIMED OUT)");
    if (a->pid > 0) {
        printf(" cpu_us_per_payment %s=%.1f %s=%.1f", a->name,
               (cpu_a2 - cpu_a) * 1e6 / (committed ? committed : 1), b->name,
               (cpu_b2 - cpu_b) * 1e6 / (committed ? committed : 1));
    }
    printf(" client=%.1f\n", (cpu_self2 - cpu_self) * 1e6 / (committed ? committed : 1));
    if (mismatch) printf("MISMATCH between the nodes' records\n");
    return mismatch || end == 0 || committed != accepted ? 1 : 0;
}

static int run_latency(node *a, node *b, double rate, double seconds)
{
    size_t count = (size_t)(rate * seconds);
    if (count == 0 || count > COUNT_MAX) die("RATE x SECONDS out of range");
    direction *d = direction_new(a, b, 0, count, true);
    direction *dirs[1] = {d};
    quotes_phase(dirs, 1, BATCH_MAX, a, b);
    double cpu_a = cpu_seconds(a->pid), cpu_b = cpu_seconds(b->pid);
    uint64_t interval = (uint64_t)(1e9 / rate);
    uint64_t start = now_ns() + 1000000ull;
    uint64_t deadline = start + (uint64_t)(seconds * 1e9) + PHASE_TIMEOUT_NS;
    size_t sent = 0, late = 0;
    while (now_ns() < deadline) {
        uint64_t now = now_ns();
        while (sent < count && start + sent * interval <= now) {
            if (d->quote[sent][0] == '\0') {
                sent++;
                continue;
            }
            slot *s = slot_free();
            if (s == NULL) break; /* all busy: it waits, its clock runs */
            d->scheduled_ns[sent] = start + sent * interval;
            if (now - d->scheduled_ns[sent] > 1000000ull) late++;
            slot_start(s, d, KIND_PAYMENTS, sent, 1);
            sent++;
        }
        if (sent == count && slots_idle()) break;
        /* Wake for the next send or an answer, whichever comes first. */
        uint64_t next = start + sent * interval;
        now = now_ns();
        int wait_ms = next > now ? (int)((next - now) / 1000000ull) : 0;
        int running = 0;
        curl_multi_perform(multi, &running);
        if (harvest(0) == 0 && wait_ms > 0) curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
    }
    uint64_t sent_end = now_ns();
    uint64_t end = drain(dirs, 1);
    double cpu_a2 = cpu_seconds(a->pid), cpu_b2 = cpu_seconds(b->pid);
    printf("latency: rate=%.0f seconds=%.1f sent=%zu accepted=%zu refused=%zu late_over_1ms=%zu "
           "achieved_rate=%.0f%s",
           rate, seconds, sent, d->payments_accepted, d->payments_refused, late,
           d->payments_accepted / ((double)(sent_end - start) / 1e9), end ? "" : " (TIMED OUT)");
    if (a->pid > 0) {
        printf(" cpu_us_per_payment %s=%.1f %s=%.1f", a->name,
               (cpu_a2 - cpu_a) * 1e6 / (sent ? sent : 1), b->name,
               (cpu_b2 - cpu_b) * 1e6 / (sent ? sent : 1));
    }
    printf("\n");
    /* Tracks, one GET per accepted payment, closed loop. */
    d->next = 0;
    uint64_t track_deadline = now_ns() + PHASE_TIMEOUT_NS;
    size_t item = 0;
    while (now_ns() < track_deadline) {
        slot *s;
        while (item < count && (s = slot_free()) != NULL) {
            if (d->accepted[item]) slot_start(s, d, KIND_TRACK, item, 1);
            item++;
        }
        if (item == count && slots_idle()) break;
        harvest(1);
    }
    uint64_t *commit = xmalloc(count * sizeof(uint64_t));
    uint64_t *ack = xmalloc(count * sizeof(uint64_t));
    uint64_t *to_reserved = xmalloc(count * sizeof(uint64_t));
    uint64_t *to_decided = xmalloc(count * sizeof(uint64_t));
    uint64_t *to_posted = xmalloc(count * sizeof(uint64_t));
    size_t n_commit = 0, n_ack = 0, not_posted = 0, negative = 0, n_steps = 0;
    for (size_t i = 0; i < count; i++) {
        if (!d->accepted[i]) continue;
        ack[n_ack++] = d->ack_ns[i] - d->scheduled_ns[i];
        if (d->posted_ns[i] == 0) {
            not_posted++;
            continue;
        }
        if (d->posted_ns[i] < d->scheduled_ns[i]) {
            negative++;
            continue;
        }
        commit[n_commit++] = d->posted_ns[i] - d->scheduled_ns[i];
        uint64_t r = d->reserved_ns[i], k = d->decided_ns[i], p = d->posted_ns[i];
        if (r >= d->scheduled_ns[i] && k >= r && p >= k) {
            to_reserved[n_steps] = r - d->scheduled_ns[i];
            to_decided[n_steps] = k - r;
            to_posted[n_steps] = p - k;
            n_steps++;
        }
    }
    printf("not_posted=%zu posted_before_send=%zu\n", not_posted, negative);
    percentiles("commit_latency (send -> posted at origin)", commit, n_commit);
    percentiles("answer_latency (send -> 202 at client)", ack, n_ack);
    percentiles("  step send -> reserved (origin batch)", to_reserved, n_steps);
    percentiles("  step reserved -> decided (beneficiary batch)", to_decided, n_steps);
    percentiles("  step decided -> posted (origin batch)", to_posted, n_steps);
    return not_posted == 0 && negative == 0 && end != 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    bool batch_mode = argc == 9 && strcmp(argv[1], "batch") == 0;
    if (!batch_mode && !(argc == 8 && strcmp(argv[1], "latency") == 0)) {
        fprintf(stderr, "usage: xborder_load batch NODE_A NODE_B COUNT BATCH INFLIGHT RUN BOTH\n"
                        "       xborder_load latency NODE_A NODE_B RATE SECONDS CONNECTIONS RUN\n"
                        "NODE = NAME,URL,OPERATOR_KEY,BANK_KEY,AMOUNT,CREDITOR\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    sync_curl = curl_easy_init();
    salt = (unsigned)(now_ns() ^ ((uint64_t)getpid() << 16));
    static node a, b;
    parse_node(argv[2], &a);
    parse_node(argv[3], &b);
    parse_pids(&a, &b);
    run_number = (unsigned)strtoul(argv[7], NULL, 10);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (batch_mode) {
        size_t count = strtoull(argv[4], NULL, 10);
        size_t batch = strtoull(argv[5], NULL, 10);
        if (count == 0 || count > COUNT_MAX || batch == 0 || batch > BATCH_MAX)
            die("COUNT is 1 .. 4,000,000 and BATCH 1 .. 4096");
        slots_open((int)strtol(argv[6], NULL, 10));
        return run_batch(&a, &b, count, batch, strcmp(argv[8], "1") == 0);
    }
    slots_open((int)strtol(argv[6], NULL, 10));
    return run_latency(&a, &b, atof(argv[4]), atof(argv[5]));
}
