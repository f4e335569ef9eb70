/* Two real cross-border nodes on loopback for multi-process tests (see xb_kill_support.h). */
#include "xb_kill_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define XBK_REGISTRY_MAX 8

static cor_test_node *xbk_registry[XBK_REGISTRY_MAX];
static pthread_mutex_t xbk_registry_lock = PTHREAD_MUTEX_INITIALIZER;

static void xbk_register(cor_test_node *node)
{
    pthread_mutex_lock(&xbk_registry_lock);
    for (int i = 0; i < XBK_REGISTRY_MAX; i++) {
        if (xbk_registry[i] == NULL) {
            xbk_registry[i] = node;
            break;
        }
    }
    pthread_mutex_unlock(&xbk_registry_lock);
}

static void xbk_forget(cor_test_node *node)
{
    pthread_mutex_lock(&xbk_registry_lock);
    for (int i = 0; i < XBK_REGISTRY_MAX; i++) {
        if (xbk_registry[i] == node) xbk_registry[i] = NULL;
    }
    pthread_mutex_unlock(&xbk_registry_lock);
}

void cor_xbk_reap_all(void)
{
    for (int i = 0; i < XBK_REGISTRY_MAX; i++) {
        cor_test_node *node = xbk_registry[i];
        if (node == NULL) continue;
        xbk_registry[i] = NULL;
        cor_test_node_cleanup(node); /* SIGKILL by PID, waitpid, rm -rf its directory */
    }
}

static unsigned xbk_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(bind(fd, (struct sockaddr *)&address, sizeof(address)) == 0);
    socklen_t length = sizeof(address);
    cr_assert(getsockname(fd, (struct sockaddr *)&address, &length) == 0);
    close(fd);
    return ntohs(address.sin_port);
}

static void xbk_node_init(cor_xbk_node *node, const char *name, const char *currency,
                          const char *peer_name)
{
    memset(node, 0, sizeof(*node));
    snprintf(node->name, sizeof(node->name), "%s", name);
    snprintf(node->currency, sizeof(node->currency), "%s", currency);
    snprintf(node->peer_name, sizeof(node->peer_name), "%s", peer_name);
    snprintf(node->t.dir, sizeof(node->t.dir), "/tmp/cor-xbk-%s-XXXXXX", name);
    cr_assert(mkdtemp(node->t.dir) != NULL);
    xbk_register(&node->t);
    node->t.port = xbk_free_port();
    snprintf(node->t.base_url, sizeof(node->t.base_url), "http://127.0.0.1:%u", node->t.port);
    char command[512];
    snprintf(command, sizeof(command),
             "%s init --data %s/n --currency %s --node-name %s --port %u 2>/dev/null",
             cor_test_bin(), node->t.dir, currency, name, node->t.port);
    FILE *out = popen(command, "r");
    cr_assert(out != NULL);
    char line[160];
    while (fgets(line, sizeof(line), out) != NULL) {
        char *key = strstr(line, "cor_0_");
        if (key != NULL) {
            key[strcspn(key, " \r\n")] = '\0';
            snprintf(node->t.operator_key, sizeof(node->t.operator_key), "%s", key);
        }
    }
    cr_assert_eq(pclose(out), 0, "corridor init %s failed", name);
    cr_assert(node->t.operator_key[0] != '\0');
    /* Snapshot often, so that kills also land during and after background snapshots and
     * recovery starts from a snapshot plus a journal tail, not only from the journal. */
    snprintf(command, sizeof(command),
             "sed -i 's/^snapshot_every_ops = .*/snapshot_every_ops = %u/' %s/n/corridor.ini",
             COR_XBK_SNAPSHOT_EVERY_OPS, node->t.dir);
    cr_assert_eq(system(command), 0);
}

static void xbk_peer_add(const cor_xbk_node *node, const cor_xbk_node *peer)
{
    char command[1024];
    snprintf(command, sizeof(command),
             "%s peer add --data %s/n --name %s --currency %s --url %s --public-key @%s/n/node.pub"
             " >/dev/null",
             cor_test_bin(), node->t.dir, peer->name, peer->currency, peer->t.base_url,
             peer->t.dir);
    cr_assert_eq(system(command), 0, "corridor peer add on %s failed", node->name);
}

void cor_xbk_node_start(cor_xbk_node *node)
{
    char data[300], log[300], port[16];
    snprintf(data, sizeof(data), "%s/n", node->t.dir);
    snprintf(log, sizeof(log), "%s/serve.log", node->t.dir);
    snprintf(port, sizeof(port), "%u", node->t.port);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        execl(cor_test_bin(), cor_test_bin(), "serve", "--data", data, "--port", port,
              (char *)NULL);
        _exit(127);
    }
    node->t.pid = pid;
    for (int attempt = 0; attempt < 600; attempt++) { /* up to 30 s (sanitizer builds) */
        long status = cor_xbk_request(node->t.base_url, "GET", "/healthz", NULL, NULL, 5, NULL);
        if (status == 200) return;
        int wstatus = 0;
        if (waitpid(pid, &wstatus, WNOHANG) == pid) {
            node->t.pid = 0;
            cr_assert_fail("%s exited during start (status %d):\n%s", node->name, wstatus,
                           cor_test_node_log_tail(&node->t));
        }
        struct timespec pause = {.tv_nsec = 50000000L};
        nanosleep(&pause, NULL);
    }
    cr_assert_fail("%s did not become healthy:\n%s", node->name, cor_test_node_log_tail(&node->t));
}

void cor_xbk_net_open(cor_xbk_net *net)
{
    memset(net, 0, sizeof(*net));
    xbk_node_init(&net->ru, "RU", "RUB", "IR");
    xbk_node_init(&net->ir, "IR", "IRR", "RU");
    xbk_peer_add(&net->ru, &net->ir);
    xbk_peer_add(&net->ir, &net->ru);
    cor_xbk_node_start(&net->ru);
    cor_xbk_node_start(&net->ir);
    cor_xbk_net_setup(net);
}

void cor_xbk_net_close(cor_xbk_net *net)
{
    cor_test_node *nodes[2] = {&net->ru.t, &net->ir.t};
    for (int i = 0; i < 2; i++) {
        xbk_forget(nodes[i]);
        if (nodes[i]->dir[0] != '\0') cor_test_node_cleanup(nodes[i]);
        nodes[i]->dir[0] = '\0';
    }
}

/* POST as the operator (or key) expecting one of two statuses; returns the parsed body. */
static json_t *xbk_post(const cor_xbk_node *node, const char *key, const char *path,
                        const char *body)
{
    json_t *json = NULL;
    long status = cor_xbk_request(node->t.base_url, "POST", path, key, body, 30, &json);
    cr_assert(status == 200 || status == 201, "%s POST %s: %ld", node->name, path, status);
    cr_assert(json != NULL);
    return json;
}

static void xbk_participant(cor_xbk_node *node, const char *name, const char *bic, const char *role,
                            char *key, size_t key_size)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"bic\":\"%s\",\"role\":\"%s\"}", name, bic,
             role);
    json_t *json = xbk_post(node, node->t.operator_key, "/v1/participants", body);
    const char *id = json_string_value(json_object_get(json, "id"));
    cr_assert(id != NULL);
    char path[64];
    snprintf(path, sizeof(path), "/v1/participants/%s/keys", id);
    json_decref(json);
    json = xbk_post(node, node->t.operator_key, path, NULL);
    const char *api_key = json_string_value(json_object_get(json, "api_key"));
    cr_assert(api_key != NULL);
    snprintf(key, key_size, "%s", api_key);
    json_decref(json);
}

static void xbk_fund(cor_xbk_node *node, unsigned participant, const char *funding_id,
                     const char *amount)
{
    char body[256], path[64];
    snprintf(body, sizeof(body),
             "{\"funding_id\":\"%s\",\"direction\":\"credit\",\"amount\":\"%s\","
             "\"currency\":\"%s\"}",
             funding_id, amount, node->currency);
    snprintf(path, sizeof(path), "/v1/participants/%u/funding", participant);
    json_decref(xbk_post(node, node->t.operator_key, path, body));
}

void cor_xbk_net_setup(cor_xbk_net *net)
{
    xbk_participant(&net->ru, "Bank A", "BANKRUMM", "bank", net->ru.bank_key,
                    sizeof(net->ru.bank_key));
    xbk_participant(&net->ru, "FX One", "FXONRUMM", "fx_provider", net->ru.fx_key,
                    sizeof(net->ru.fx_key));
    xbk_participant(&net->ir, "Bank B", "BANKIRTH", "bank", net->ir.bank_key,
                    sizeof(net->ir.bank_key));
    xbk_participant(&net->ir, "FX One", "FXONIRTH", "fx_provider", net->ir.fx_key,
                    sizeof(net->ir.fx_key));
    xbk_fund(&net->ru, 1, "1", COR_XBK_RU_BANK_FUNDS);
    xbk_fund(&net->ru, 2, "2", COR_XBK_RU_FX_FUNDS);
    xbk_fund(&net->ir, 1, "1", COR_XBK_IR_BANK_FUNDS);
    xbk_fund(&net->ir, 2, "2", COR_XBK_IR_FX_FUNDS);
    json_decref(xbk_post(&net->ru, net->ru.t.operator_key, "/v1/corridor/fx",
                         "{\"fx_id\":\"1\",\"participant\":\"2\",\"peer\":\"IR\"}"));
    json_decref(xbk_post(&net->ir, net->ir.t.operator_key, "/v1/corridor/fx",
                         "{\"fx_id\":\"1\",\"participant\":\"2\",\"peer\":\"RU\"}"));
    /* RUB -> IRR at 485 IRR per RUB; IRR -> RUB at 1/500. */
    json_decref(xbk_post(&net->ru, net->ru.fx_key, "/v1/fx/rates",
                         "{\"peer\":\"IR\",\"rate_num\":\"485\",\"rate_den\":\"1\","
                         "\"spread_ppm\":2000,\"fee\":\"100\",\"valid_for_s\":86400}"));
    json_decref(xbk_post(&net->ir, net->ir.fx_key, "/v1/fx/rates",
                         "{\"peer\":\"RU\",\"rate_num\":\"1\",\"rate_den\":\"500\","
                         "\"spread_ppm\":3000,\"fee\":\"5000\",\"valid_for_s\":86400}"));
}

/* ---------------------------------------------------------------------------------------- */

typedef struct xbk_body {
    char *data;
    size_t size;
    bool overflow;
} xbk_body;

#define XBK_BODY_MAX (64u << 20)

static size_t xbk_write(char *data, size_t size, size_t count, void *context)
{
    xbk_body *body = context;
    size_t bytes = size * count;
    if (body->size + bytes > XBK_BODY_MAX) {
        body->overflow = true;
        return 0;
    }
    char *grown = realloc(body->data, body->size + bytes + 1);
    if (grown == NULL) return 0;
    memcpy(grown + body->size, data, bytes);
    body->data = grown;
    body->size += bytes;
    body->data[body->size] = '\0';
    return bytes;
}

long cor_xbk_request(const char *base_url, const char *method, const char *path, const char *key,
                     const char *body, long timeout_s, json_t **json_out)
{
    if (json_out != NULL) *json_out = NULL;
    CURL *curl = curl_easy_init();
    if (curl == NULL) return 0;
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    struct curl_slist *headers = NULL;
    char authorization[256];
    if (key != NULL) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, authorization);
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    xbk_body answer = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, xbk_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    long status = 0;
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (json_out != NULL && answer.data != NULL && status != 0) {
        *json_out = json_loads(answer.data, 0, NULL);
    }
    free(answer.data);
    return status;
}

cor_xbk_outcome cor_xbk_pay(const cor_xbk_node *origin, const char *creditor,
                            uint64_t source_amount, const char *uetr, bool bogus_quote)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"peer\":\"%s\",\"source_amount\":\"%llu\"}", origin->peer_name,
             (unsigned long long)source_amount);
    json_t *json = NULL;
    long status = cor_xbk_request(origin->t.base_url, "POST", "/v1/fx/quotes", origin->bank_key,
                                  body, 10, &json);
    const char *quote = NULL;
    if (status == 201) {
        quote = json_string_value(
            json_object_get(json_array_get(json_object_get(json, "quotes"), 0), "quote_id"));
    }
    if (quote == NULL) {
        json_decref(json);
        return COR_XBK_NO_QUOTE;
    }
    snprintf(body, sizeof(body),
             "{\"uetr\":\"%s\",\"quote_id\":\"%s\",\"creditor\":\"%s\","
             "\"debtor_name\":\"Ivan Petrov\",\"creditor_name\":\"Ali Rezaei\"}",
             uetr, bogus_quote ? "1" : quote, creditor);
    json_decref(json);
    status = cor_xbk_request(origin->t.base_url, "POST", "/v1/xborder/payments", origin->bank_key,
                             body, 10, NULL);
    if (status == 200 || status == 202) return COR_XBK_ACKED;
    if (status >= 400 && status < 500) return COR_XBK_REFUSED;
    return COR_XBK_UNKNOWN;
}

uint64_t cor_xbk_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void cor_xbk_uuid(uint64_t *state, char out[37])
{
    uint64_t hi = cor_xbk_rand(state);
    uint64_t lo = cor_xbk_rand(state);
    hi = (hi & ~0xf000ull) | 0x4000ull;           /* version 4 */
    lo = (lo & ~(0xcull << 60)) | (0x8ull << 60); /* variant 10 */
    snprintf(out, 37, "%08llx-%04llx-%04llx-%04llx-%012llx", (unsigned long long)(hi >> 32),
             (unsigned long long)((hi >> 16) & 0xffff), (unsigned long long)(hi & 0xffff),
             (unsigned long long)(lo >> 48), (unsigned long long)(lo & 0xffffffffffffull));
}

int cor_xbk_cli(char *const argv[], char *out, size_t out_size)
{
    cr_assert(out_size > 0);
    int pipe_fds[2];
    cr_assert(pipe(pipe_fds) == 0);
    const char *bin = cor_test_bin();
    char *args[32];
    size_t n = 0;
    args[n++] = (char *)bin;
    for (size_t i = 0; argv[i] != NULL && n < 31; i++)
        args[n++] = argv[i];
    args[n] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(pipe_fds[1], 1);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
        execv(bin, args);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t size = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int round = 0; round < 6000; round++) { /* bounded: 60 s of 10 ms polls */
        struct pollfd p = {.fd = pipe_fds[0], .events = POLLIN};
        int ready = poll(&p, 1, 10);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        char chunk[4096];
        ssize_t got = read(pipe_fds[0], chunk, sizeof(chunk));
        if (got <= 0) break;
        size_t keep = (size_t)got;
        if (keep > out_size - 1 - size) keep = out_size - 1 - size;
        memcpy(out + size, chunk, keep);
        size += keep;
    }
    out[size] = '\0';
    close(pipe_fds[0]);
    int status = 0;
    for (int attempt = 0; attempt < 200; attempt++) { /* up to 2 s more */
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}
