/* Real-process test support for the node (see node_support.h). */
#include "node_support.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *cor_test_bin(void)
{
    const char *bin = getenv("COR_BIN");
    return bin != NULL ? bin : "build/corridor";
}

static unsigned free_port(void)
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

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

void cor_test_node_create(cor_test_node *node, const char *currency, const char *name)
{
    memset(node, 0, sizeof(*node));
    snprintf(node->dir, sizeof(node->dir), "/tmp/cor-node-XXXXXX");
    cr_assert(mkdtemp(node->dir) != NULL);
    node->port = free_port();
    snprintf(node->base_url, sizeof(node->base_url), "http://127.0.0.1:%u", node->port);
    char command[512];
    snprintf(command, sizeof(command),
             "%s init --data %s/n --currency %s --node-name %s "
             "--port %u",
             cor_test_bin(), node->dir, currency, name, node->port);
    FILE *out = popen(command, "r");
    cr_assert(out != NULL);
    char line[120];
    while (fgets(line, sizeof(line), out) != NULL) {
        if (strncmp(line, "cor_0_", 6) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(node->operator_key, sizeof(node->operator_key), "%s", line);
        }
    }
    cr_assert_eq(pclose(out), 0, "corridor init failed");
    cr_assert(node->operator_key[0] != '\0');
}

void cor_test_node_init(cor_test_node *node)
{
    cor_test_node_create(node, "RUB", "test");
    cor_test_node_start(node);
}

void cor_test_node_start(cor_test_node *node)
{
    char data[300], log[300], port[16];
    snprintf(data, sizeof(data), "%s/n", node->dir);
    snprintf(log, sizeof(log), "%s/serve.log", node->dir);
    snprintf(port, sizeof(port), "%u", node->port);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) dup2(fd, 2);
        execl(cor_test_bin(), cor_test_bin(), "serve", "--data", data, "--port", port,
              (char *)NULL);
        _exit(127);
    }
    node->pid = pid;
    for (int attempt = 0; attempt < 400; attempt++) { /* up to 20 s (sanitizer builds) */
        cor_test_response response;
        cor_test_http(node, "GET", "/healthz", NULL, NULL, &response);
        long status = response.status;
        cor_test_response_free(&response);
        if (status == 200) return;
        int wstatus;
        cr_assert(waitpid(pid, &wstatus, WNOHANG) == 0, "node exited during start");
        sleep_ms(50);
    }
    cr_assert_fail("node did not become healthy");
}

int cor_test_node_signal(cor_test_node *node, int signal_number)
{
    cr_assert(node->pid > 0);
    kill(node->pid, signal_number);
    int wstatus = 0;
    for (int attempt = 0; attempt < 600; attempt++) { /* up to 30 s */
        pid_t done = waitpid(node->pid, &wstatus, WNOHANG);
        if (done == node->pid) {
            node->pid = 0;
            return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
        }
        sleep_ms(50);
    }
    kill(node->pid, SIGKILL);
    waitpid(node->pid, &wstatus, 0);
    node->pid = 0;
    cr_assert_fail("node did not stop");
    return -1;
}

const char *cor_test_node_log_tail(const cor_test_node *node)
{
    static char tail[4096];
    char path[300];
    snprintf(path, sizeof(path), "%s/serve.log", node->dir);
    tail[0] = '\0';
    FILE *file = fopen(path, "r");
    if (file == NULL) return tail;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
    size_t read = fread(tail, 1, sizeof(tail) - 1, file);
    tail[read] = '\0';
    fclose(file);
    return tail;
}

void cor_test_node_cleanup(cor_test_node *node)
{
    if (node->pid > 0) {
        kill(node->pid, SIGKILL);
        waitpid(node->pid, NULL, 0);
        node->pid = 0;
    }
    if (node->dir[0] != '\0') {
        char command[400];
        snprintf(command, sizeof(command), "rm -rf '%s'", node->dir);
        if (system(command) != 0) fprintf(stderr, "cannot remove %s\n", node->dir);
    }
}

/* ---------------------------------------------------------------------------------------- */

static size_t http_write(char *data, size_t size, size_t count, void *context)
{
    cor_test_response *response = context;
    size_t bytes = size * count;
    char *body = realloc(response->body, response->size + bytes + 1);
    if (body == NULL) return 0;
    memcpy(body + response->size, data, bytes);
    response->body = body;
    response->size += bytes;
    response->body[response->size] = '\0';
    return bytes;
}

void cor_test_http(const cor_test_node *node, const char *method, const char *path, const char *key,
                   const char *body, cor_test_response *out)
{
    cor_test_http_bytes(node, method, path, key, "application/json", body,
                        body != NULL ? strlen(body) : 0, out);
}

void cor_test_http_bytes(const cor_test_node *node, const char *method, const char *path,
                         const char *key, const char *content_type, const void *body, size_t size,
                         cor_test_response *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    cr_assert(curl != NULL);
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", node->base_url, path);
    struct curl_slist *headers = NULL;
    char authorization[256];
    if (key != NULL) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, authorization);
    }
    char type[128];
    snprintf(type, sizeof(type), "Content-Type: %s", content_type);
    headers = curl_slist_append(headers, type);
    /* Large bodies go with "Expect: 100-continue": a node refusing one by its Content-Length
     * (413) answers before the upload, instead of closing mid-upload (a reset the client
     * may see before the answer). */
    if (size <= (1u << 20)) headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
    }
    CURLcode code = curl_easy_perform(curl);
    if (code == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (out->body != NULL) out->json = json_loads(out->body, 0, NULL);
}

void cor_test_response_free(cor_test_response *response)
{
    free(response->body);
    json_decref(response->json);
    memset(response, 0, sizeof(*response));
}

const char *cor_test_str(const cor_test_response *response, const char *field)
{
    return json_string_value(json_object_get(response->json, field));
}

const char *cor_test_error_code(const cor_test_response *response)
{
    return json_string_value(json_object_get(json_object_get(response->json, "error"), "code"));
}

unsigned cor_test_participant(const cor_test_node *node, const char *name, const char *bic,
                              const char *role, char *key, size_t key_size)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"bic\":\"%s\",\"role\":\"%s\"}", name, bic,
             role);
    cor_test_response r;
    cor_test_http(node, "POST", "/v1/participants", node->operator_key, body, &r);
    cr_assert_eq(r.status, 201, "create participant: %ld %s", r.status, r.body);
    unsigned id = (unsigned)strtoul(cor_test_str(&r, "id"), NULL, 10);
    cor_test_response_free(&r);
    if (key != NULL) {
        char path[64];
        snprintf(path, sizeof(path), "/v1/participants/%u/keys", id);
        cor_test_http(node, "POST", path, node->operator_key, NULL, &r);
        cr_assert_eq(r.status, 201, "create key: %ld %s", r.status, r.body);
        snprintf(key, key_size, "%s", cor_test_str(&r, "api_key"));
        cor_test_response_free(&r);
    }
    return id;
}

void cor_test_fund(const cor_test_node *node, unsigned participant, const char *amount)
{
    static unsigned funding_id = 1000;
    char body[256], path[64];
    snprintf(
        body, sizeof(body),
        "{\"funding_id\":\"%u\",\"direction\":\"credit\",\"amount\":\"%s\",\"currency\":\"RUB\"}",
        ++funding_id, amount);
    snprintf(path, sizeof(path), "/v1/participants/%u/funding", participant);
    cor_test_response r;
    cor_test_http(node, "POST", path, node->operator_key, body, &r);
    cr_assert_eq(r.status, 201, "fund: %ld %s", r.status, r.body);
    cor_test_response_free(&r);
}

long long cor_test_net(const cor_test_node *node, unsigned participant)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/participants/%u", participant);
    cor_test_response r;
    cor_test_http(node, "GET", path, node->operator_key, NULL, &r);
    cr_assert_eq(r.status, 200);
    const char *net = json_string_value(json_object_get(json_object_get(r.json, "balance"), "net"));
    cr_assert(net != NULL);
    long long value = strtoll(net, NULL, 10);
    cor_test_response_free(&r);
    return value;
}
