/*
 * corridor pay --file FILE --url URL [--key KEY] [--out FILE]
 *
 * Sends each pacs.008 document of FILE to a node's POST /v1/iso20022 and writes the node's
 * pacs.002 answers, in order, each followed by a line <!--EOD--> (the framing FILE uses: one
 * document, or several each followed by that line). A progress bar goes to stderr when it is
 * a terminal; a summary line always does. The API key comes from --key or the environment
 * variable CORRIDOR_API_KEY (which keeps it out of the process list).
 *
 * A document the node refuses (HTTP 4xx/5xx) is reported on stderr with its code, message and
 * ISO reason, and the run goes on with the next; 503 busy is retried after a pause, at most
 * PAY_RETRIES_MAX times. Sending a document again is safe: the node keys payments by UETR or
 * TxId and answers a repeat with the recorded outcome.
 *
 * Exit: 0 every document answered with a pacs.002 (whatever its transactions' statuses);
 * 1 a document was refused; 2 usage; 3 the file, the output or the node cannot be used.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "corridor/iso20022.h"

#define PAY_SEPARATOR             "<!--EOD-->"
#define PAY_FILE_SIZE_BYTES_MAX   (1024u * 1024u * 1024u)
#define PAY_DOCUMENTS_MAX         1000000u
#define PAY_ANSWER_SIZE_BYTES_MAX (64u * 1024u * 1024u)
#define PAY_RETRIES_MAX           20u
#define PAY_RETRY_PAUSE_MS        500u
#define PAY_TIMEOUT_S             120L

static void pay_usage(FILE *out)
{
    fprintf(out, "usage: corridor pay --file FILE --url URL [--key KEY] [--out FILE]\n"
                 "  --url   the node, e.g. http://127.0.0.1:8080\n"
                 "  --key   a participant's API key (default: $CORRIDOR_API_KEY)\n"
                 "  --out   where the pacs.002 answers go (default: standard output)\n");
}

static bool pay_read(const char *path, char **data_out, size_t *size_out)
{
    *data_out = NULL;
    FILE *file = fopen(path, "rb");
    if (file == NULL) return false;
    size_t capacity = 64u * 1024u, size = 0;
    char *data = cor_alloc(capacity + 1u);
    bool ok = data != NULL;
    while (ok) {
        size_t got = fread(data + size, 1, capacity - size, file);
        size += got;
        if (got == 0) {
            ok = !ferror(file);
            break;
        }
        if (size < capacity) continue;
        if (capacity >= PAY_FILE_SIZE_BYTES_MAX) {
            errno = EFBIG;
            ok = false;
            break;
        }
        char *bigger = cor_alloc(capacity * 2u + 1u);
        if (bigger == NULL) {
            errno = ENOMEM;
            ok = false;
            break;
        }
        memcpy(bigger, data, size);
        cor_free(data);
        data = bigger;
        capacity *= 2u;
    }
    fclose(file);
    if (!ok) {
        cor_free(data);
        return false;
    }
    data[size] = '\0';
    *data_out = data;
    *size_out = size;
    return true;
}

/* The next document of [*at, end): up to a line that holds only the separator, or the end. */
static bool pay_next(const char **at, const char *end, const char **doc, size_t *doc_size)
{
    const char *start = *at;
    while (start < end && (*start == '\n' || *start == '\r' || *start == ' ' || *start == '\t'))
        start++;
    if (start >= end) return false;
    const size_t mark_size = sizeof(PAY_SEPARATOR) - 1u;
    for (const char *search = start;;) {
        const char *mark = memmem(search, (size_t)(end - search), PAY_SEPARATOR, mark_size);
        if (mark == NULL) {
            *doc = start;
            *doc_size = (size_t)(end - start);
            *at = end;
            return true;
        }
        const char *after = mark + mark_size;
        while (after < end && (*after == ' ' || *after == '\t' || *after == '\r'))
            after++;
        if ((mark == start || mark[-1] == '\n') && (after == end || *after == '\n')) {
            *doc = start;
            *doc_size = (size_t)(mark - start);
            *at = after;
            return true;
        }
        search = mark + 1;
    }
}

typedef struct pay_answer {
    char *data;
    size_t size;
    size_t capacity;
    bool too_large;
} pay_answer;

static size_t pay_write(char *bytes, size_t size, size_t count, void *context)
{
    pay_answer *answer = context;
    size_t n = size * count;
    if (n > PAY_ANSWER_SIZE_BYTES_MAX - answer->size) {
        answer->too_large = true;
        return 0;
    }
    if (answer->size + n + 1u > answer->capacity) {
        size_t capacity = answer->capacity ? answer->capacity : 16384u;
        while (capacity < answer->size + n + 1u)
            capacity *= 2u;
        char *bigger = cor_alloc(capacity);
        if (bigger == NULL) return 0;
        if (answer->size > 0) memcpy(bigger, answer->data, answer->size);
        cor_free(answer->data);
        answer->data = bigger;
        answer->capacity = capacity;
    }
    memcpy(answer->data + answer->size, bytes, n);
    answer->size += n;
    answer->data[answer->size] = '\0';
    return n;
}

/* Transaction statuses counted from the node's pacs.002 answers. */
typedef struct pay_totals {
    uint64_t documents;
    uint64_t refused;
    uint64_t settled;  /* ACSC */
    uint64_t rejected; /* RJCT */
    uint64_t other;
} pay_totals;

static void pay_count(cor_iso_parser *parser, cor_iso_message *message, const pay_answer *answer,
                      pay_totals *totals)
{
    if (cor_iso_parse(parser, answer->data, answer->size, message) != COR_OK ||
        message->type != COR_ISO_MSG_PACS_002) {
        totals->other++;
        return;
    }
    for (uint32_t i = 0; i < message->tx_count; i++) {
        const char *status = message->related[i].status;
        if (status != NULL && strcmp(status, "ACSC") == 0) {
            totals->settled++;
        } else if (status != NULL && strcmp(status, "RJCT") == 0) {
            totals->rejected++;
        } else {
            totals->other++;
        }
    }
}

typedef struct pay_options {
    const char *file;
    const char *url;
    const char *key;
    const char *out;
} pay_options;

static int pay_parse_args(int argc, char **argv, pay_options *o)
{
    for (int i = 1; i < argc; i++) { /* argv[0] is "pay" */
        const char *name = argv[i];
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            pay_usage(stdout);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "corridor pay: option '%s' needs a value\n", name);
            return COR_EXIT_USAGE;
        }
        const char *value = argv[++i];
        if (strcmp(name, "--file") == 0) {
            o->file = value;
        } else if (strcmp(name, "--url") == 0) {
            o->url = value;
        } else if (strcmp(name, "--key") == 0) {
            o->key = value;
        } else if (strcmp(name, "--out") == 0) {
            o->out = value;
        } else {
            fprintf(stderr, "corridor pay: unknown option '%s'\n", name);
            return COR_EXIT_USAGE;
        }
    }
    if (o->key == NULL) o->key = getenv("CORRIDOR_API_KEY");
    if (o->file == NULL || o->url == NULL || o->key == NULL) {
        fprintf(stderr, "corridor pay: --file, --url and a key (--key or CORRIDOR_API_KEY) "
                        "are required\n");
        pay_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0) {
        fprintf(stderr, "corridor pay: --url must start with http:// or https://\n");
        return COR_EXIT_USAGE;
    }
    return COR_EXIT_OK;
}

/* Ends the progress bar's line before a message (only a terminal has one). */
static const char *pay_break(void)
{
    return isatty(STDERR_FILENO) ? "\n" : "";
}

static void pay_sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

/* Posts one document, retrying 503; returns the HTTP status (0: transport failure). */
static long pay_post(CURL *curl, const char *doc, size_t doc_size, pay_answer *answer, char *error,
                     size_t error_size)
{
    long status = 0;
    for (unsigned attempt = 0; attempt <= PAY_RETRIES_MAX; attempt++) {
        answer->size = 0;
        answer->too_large = false;
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, doc);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)doc_size);
        CURLcode rc = curl_easy_perform(curl);
        if (rc != CURLE_OK) {
            snprintf(error, error_size, "%s",
                     answer->too_large ? "answer too large" : curl_easy_strerror(rc));
            return 0;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 503) break;
        pay_sleep_ms(PAY_RETRY_PAUSE_MS);
    }
    return status;
}

int cor_cli_pay(int argc, char **argv)
{
    pay_options o = {0};
    int status = pay_parse_args(argc, argv, &o);
    if (status != COR_EXIT_OK) return status < 0 ? COR_EXIT_OK : status;

    char *data = NULL;
    size_t size = 0;
    if (!pay_read(o.file, &data, &size)) {
        fprintf(stderr, "corridor pay: cannot read '%s': %s\n", o.file, strerror(errno));
        return COR_EXIT_ERROR;
    }
    FILE *out = o.out != NULL ? fopen(o.out, "wb") : stdout;
    if (out == NULL) {
        fprintf(stderr, "corridor pay: cannot create '%s': %s\n", o.out, strerror(errno));
        cor_free(data);
        return COR_EXIT_ERROR;
    }
    char url[1024], authorization[256];
    size_t url_length = strlen(o.url);
    while (url_length > 0 && o.url[url_length - 1] == '/')
        url_length--;
    snprintf(url, sizeof(url), "%.*s/v1/iso20022", (int)url_length, o.url);
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", o.key);

    cor_iso_parser *parser = NULL;
    cor_iso_message message;
    cor_iso_message_init(&message);
    pay_answer answer = {0};
    pay_totals totals = {0};
    struct curl_slist *headers = NULL;
    CURL *curl = NULL;
    status = COR_EXIT_ERROR;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) goto done;
    curl = curl_easy_init();
    headers = curl_slist_append(headers, "Content-Type: application/xml");
    struct curl_slist *more = headers != NULL ? curl_slist_append(headers, authorization) : NULL;
    if (curl == NULL || more == NULL || cor_iso_parser_open(NULL, &parser) != COR_OK) {
        fprintf(stderr, "corridor pay: out of memory\n");
        goto done;
    }
    headers = more;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, pay_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, PAY_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

    status = COR_EXIT_OK;
    const char *at = data, *doc = NULL;
    size_t doc_size = 0;
    while (totals.documents < PAY_DOCUMENTS_MAX && pay_next(&at, data + size, &doc, &doc_size)) {
        totals.documents++;
        char error[256] = "";
        long http = pay_post(curl, doc, doc_size, &answer, error, sizeof(error));
        if (http == 0) {
            fprintf(stderr, "%scorridor pay: cannot reach '%s': %s\n", pay_break(), url, error);
            status = COR_EXIT_ERROR;
            break;
        }
        if (http != 200) {
            fprintf(stderr, "%scorridor pay: %s#%llu refused: HTTP %ld %.*s\n", pay_break(), o.file,
                    (unsigned long long)totals.documents, http,
                    (int)(answer.size > 400 ? 400 : answer.size),
                    answer.data != NULL ? answer.data : "");
            totals.refused++;
            status = COR_EXIT_PROBLEM;
        } else {
            pay_count(parser, &message, &answer, &totals);
            if (fwrite(answer.data, 1, answer.size, out) != answer.size ||
                fputs("\n" PAY_SEPARATOR "\n", out) == EOF) {
                fprintf(stderr, "%scorridor pay: cannot write the answers: %s\n", pay_break(),
                        strerror(errno));
                status = COR_EXIT_ERROR;
                break;
            }
        }
        cor_bench_progress("pay", (uint64_t)(at - data), size);
    }
    if (totals.documents > 0) cor_bench_progress("pay", size, size); /* 100%, ends the line */
    if (fflush(out) != 0) {
        fprintf(stderr, "corridor pay: cannot write the answers: %s\n", strerror(errno));
        status = COR_EXIT_ERROR;
    }
    fprintf(stderr,
            "corridor pay: %llu document(s), %llu refused; transactions: %llu settled (ACSC), "
            "%llu rejected (RJCT), %llu other\n",
            (unsigned long long)totals.documents, (unsigned long long)totals.refused,
            (unsigned long long)totals.settled, (unsigned long long)totals.rejected,
            (unsigned long long)totals.other);
    if (totals.documents == 0 && status == COR_EXIT_OK) {
        fprintf(stderr, "corridor pay: '%s' holds no document\n", o.file);
        status = COR_EXIT_PROBLEM;
    }
done:
    if (out != stdout && out != NULL) fclose(out);
    curl_slist_free_all(headers);
    if (curl != NULL) curl_easy_cleanup(curl);
    curl_global_cleanup();
    cor_iso_message_release(&message);
    cor_iso_parser_close(parser);
    cor_free(answer.data);
    cor_free(data);
    return status;
}
