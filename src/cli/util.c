/* Small helpers shared by the subcommands. */
#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/alloc.h"

bool cor_cli_parse_u64(const char *text, uint64_t *out)
{
    if (text == NULL || *text == '\0') return false;
    uint64_t value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return false;
        uint64_t digit = (uint64_t)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10u) return false;
        value = value * 10u + digit;
    }
    *out = value;
    return true;
}

#define CLI_ANSWER_SIZE_BYTES_MAX (64u * 1024u * 1024u)
#define CLI_HTTP_TIMEOUT_S        30L

typedef struct cli_answer {
    char *data;
    size_t size;
    size_t capacity;
    bool too_large;
} cli_answer;

static size_t cli_answer_write(char *data, size_t size, size_t count, void *context)
{
    cli_answer *answer = context;
    size_t bytes = size * count;
    if (bytes > CLI_ANSWER_SIZE_BYTES_MAX - answer->size) {
        answer->too_large = true;
        return 0;
    }
    if (answer->size + bytes + 1u > answer->capacity) {
        size_t capacity = answer->capacity == 0 ? 64u * 1024u : answer->capacity;
        while (capacity < answer->size + bytes + 1u)
            capacity *= 2u;
        char *grown = cor_alloc(capacity);
        if (grown == NULL) return 0;
        if (answer->size > 0) memcpy(grown, answer->data, answer->size);
        cor_free(answer->data);
        answer->data = grown;
        answer->capacity = capacity;
    }
    memcpy(answer->data + answer->size, data, bytes);
    answer->size += bytes;
    answer->data[answer->size] = '\0';
    return bytes;
}

long cor_cli_get_json(const char *base_url, const char *path, const char *key,
                      json_t **json_out, char *error, size_t error_size)
{
    *json_out = NULL;
    if (error_size > 0) error[0] = '\0';
    long status = 0;
    cli_answer answer = {0};
    struct curl_slist *headers = NULL;
    char url[2048];
    char authorization[512];
    CURL *curl = curl_easy_init();
    int n = snprintf(url, sizeof(url), "%s%s", base_url, path);
    int m = snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
    if (curl == NULL || n < 0 || (size_t)n >= sizeof(url) || m < 0 ||
        (size_t)m >= sizeof(authorization)) {
        snprintf(error, error_size, "%s", curl == NULL ? "out of memory" : "URL or key too long");
        goto done;
    }
    headers = curl_slist_append(NULL, authorization);
    if (headers == NULL) {
        snprintf(error, error_size, "out of memory");
        goto done;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cli_answer_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, CLI_HTTP_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(error, error_size, "%s: %s", url,
                 answer.too_large ? "answer too large" : curl_easy_strerror(rc));
        goto done;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (answer.data != NULL) *json_out = json_loadb(answer.data, answer.size, 0, NULL);
    if (status != 200) {
        const char *code = json_string_value(
            json_object_get(json_object_get(*json_out, "error"), "code"));
        snprintf(error, error_size, "%s: HTTP %ld%s%s", url, status, code ? " " : "",
                 code ? code : "");
    }
done:
    cor_free(answer.data);
    curl_slist_free_all(headers);
    if (curl != NULL) curl_easy_cleanup(curl);
    return status;
}

void cor_cli_format_ns(uint64_t ns, char *out, size_t out_size)
{
    time_t seconds = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL) {
        snprintf(out, out_size, "%llu", (unsigned long long)ns);
        return;
    }
    snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (unsigned long long)(ns % 1000000000u));
}
