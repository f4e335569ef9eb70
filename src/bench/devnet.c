/*
 * The local two-node network (see devnet.h). Set-up goes through the same doors an operator
 * uses: the corridor CLI for the data directories and peering, the HTTP API for participants,
 * keys, funding, the FX mapping and rates. Child processes are started with fork + exec and
 * stopped by PID only; each runs in its own process group so a terminal's Ctrl-C reaches the
 * program driving the network (which then stops them in order) and not the nodes directly.
 */
#include "bench/devnet.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "common/alloc.h"
#include "common/assert.h"

#define DEVNET_RESPONSE_SIZE_BYTES_MAX (8u * 1024u * 1024u) /* the node's largest answer */
#define DEVNET_COMMAND_TIMEOUT_MS      15000u               /* corridor init / peer add */
#define DEVNET_POLL_INTERVAL_MS        20u
#define DEVNET_RATE_VALID_S            3600u
#define DEVNET_ARGS_MAX                32u

/* ---------------------------------------------------------------------------------------- */
/* HTTP client                                                                              */
/* ---------------------------------------------------------------------------------------- */

struct cor_devnet_client {
    CURL *curl;
    char *body; /* response bytes, NUL-terminated; capacity body_size_max + 1 */
    size_t body_size;
    size_t body_size_max;
    bool body_overflow;
    uint32_t timeout_ms;
};

static size_t client_write(char *data, size_t size, size_t count, void *context)
{
    cor_devnet_client *client = context;
    size_t bytes = size * count;
    if (bytes > client->body_size_max - client->body_size) {
        client->body_overflow = true;
        return 0; /* aborts the transfer */
    }
    memcpy(client->body + client->body_size, data, bytes);
    client->body_size += bytes;
    client->body[client->body_size] = '\0';
    return bytes;
}

cor_devnet_client *cor_devnet_client_open(uint32_t timeout_ms)
{
    cor_devnet_client *client = cor_calloc(1, sizeof(*client));
    if (client == NULL) return NULL;
    client->body_size_max = DEVNET_RESPONSE_SIZE_BYTES_MAX;
    client->body = cor_alloc(client->body_size_max + 1);
    client->curl = curl_easy_init();
    if (client->body == NULL || client->curl == NULL) {
        cor_devnet_client_close(client);
        return NULL;
    }
    client->timeout_ms = timeout_ms == 0 ? 30000u : timeout_ms;
    return client;
}

void cor_devnet_client_close(cor_devnet_client *client)
{
    if (client == NULL) return;
    if (client->curl != NULL) curl_easy_cleanup(client->curl);
    cor_free(client->body);
    cor_free(client);
}

cor_error cor_devnet_request(cor_devnet_client *client, const char *base_url, const char *method,
                             const char *path, const char *key, const char *body,
                             cor_devnet_response *out)
{
    COR_ASSERT(client != NULL);
    COR_ASSERT(base_url != NULL && method != NULL && path != NULL);
    *out = (cor_devnet_response){0};
    char url[1024];
    int url_size = snprintf(url, sizeof(url), "%s%s", base_url, path);
    if (url_size < 0 || (size_t)url_size >= sizeof(url)) return COR_ERR_LIMIT;

    struct curl_slist *headers = NULL;
    char authorization[COR_DEVNET_KEY_SIZE + 32];
    if (key != NULL) {
        snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, authorization);
    }
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Expect:");
    CURL *curl = client->curl;
    curl_easy_reset(curl); /* keeps the connection cache */
    client->body_size = 0;
    client->body_overflow = false;
    client->body[0] = '\0';
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, client_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, client);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)client->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_NODELAY, 1L);
    if (body != NULL) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (code != CURLE_OK) return COR_ERR_IO;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    if (client->body_size > 0) out->json = json_loadb(client->body, client->body_size, 0, NULL);
    return COR_OK;
}

void cor_devnet_response_release(cor_devnet_response *response)
{
    if (response->json != NULL) json_decref(response->json);
    *response = (cor_devnet_response){0};
}

const char *cor_devnet_str(const json_t *object, const char *field)
{
    return json_string_value(json_object_get(object, field));
}

const char *cor_devnet_error_code(const cor_devnet_response *response)
{
    return cor_devnet_str(json_object_get(response->json, "error"), "code");
}

bool cor_devnet_u128(const json_t *object, const char *field, cor_u128 *out)
{
    const char *text = cor_devnet_str(object, field);
    return text != NULL && cor_u128_parse(text, strlen(text), out);
}

/* ---------------------------------------------------------------------------------------- */
/* The network                                                                              */
/* ---------------------------------------------------------------------------------------- */

struct cor_devnet {
    char bin[COR_DEVNET_PATH_SIZE];
    char dir[COR_DEVNET_PATH_SIZE];
    bool domestic_only;
    bool remove_on_close;
    uint32_t start_timeout_ms;
    uint32_t stop_timeout_ms;
    FILE *log;
    cor_devnet_node_info nodes[COR_DEVNET_NODES_COUNT];
    cor_devnet_rate rates[COR_DEVNET_NODES_COUNT]; /* published on node i towards the other */
    cor_devnet_client *client;                     /* set-up requests (the owner's thread) */
    bool curl_ready;                               /* curl_global_init succeeded */
    bool created[COR_DEVNET_NODES_COUNT];          /* <dir>/ru, <dir>/ir made by us */
};

/* The fixed cast of the network. BICs are made-up (first four letters a bank code, then the
 * country); amounts are issuance in minor units (IRR has two decimals in ISO 4217). */
typedef struct devnet_cast {
    const char *name, *currency, *node_bic;
    uint32_t node_id;
    const char *central_bank_name, *central_bank_bic;
    const char *bank_names[COR_DEVNET_BANKS_COUNT];
    const char *bank_bics[COR_DEVNET_BANKS_COUNT];
    const char *fx_name, *fx_bic;
    uint64_t central_bank_funding, bank_funding, fx_funding;
    cor_devnet_rate rate; /* towards the other node */
} devnet_cast;

static const devnet_cast devnet_casts[COR_DEVNET_NODES_COUNT] = {
    {"RU",
     "RUB",
     "CRDRRUXX",
     643,
     "Central Bank RU",
     "CBRURUMM",
     {"Volga Bank", "Ural Bank", "Neva Bank"},
     {"VOLGRUMM", "URALRUMM", "NEVARUMM"},
     "Caravan FX RU",
     "CRVNRUMM",
     1000000000000ull,
     100000000000ull,
     100000000000ull,
     /* 1 kopeck -> 485 IRR minor units (1 RUB = 485 IRR), fee 1 RUB, 10 RUB ... 10 M RUB */
     {485, 1, 2000, 100, 1000, 1000000000ull}},
    {"IR",
     "IRR",
     "CRDRIRXX",
     364,
     "Central Bank IR",
     "CBIRIRTH",
     {"Alborz Bank", "Zagros Bank", "Caspian Bank"},
     {"ALBZIRTH", "ZAGRIRTH", "CASPIRTH"},
     "Caravan FX IR",
     "CRVNIRTH",
     500000000000000ull,
     50000000000000ull,
     50000000000000ull,
     /* 485 IRR minor units -> 1 kopeck, fee 485 IRR, 4,850 IRR ... 4.85 G IRR */
     {1, 485, 2000, 48500, 485000, 485000000000ull}},
};

static void devnet_log(const cor_devnet *net, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static void devnet_log(const cor_devnet *net, const char *format, ...)
{
    if (net->log == NULL) return;
    va_list args;
    va_start(args, format);
    fprintf(net->log, "devnet: ");
    vfprintf(net->log, format, args);
    fprintf(net->log, "\n");
    va_end(args);
    fflush(net->log);
}

/* snprintf that reports truncation (paths are checked against their buffers once, here). */
static bool devnet_format(char *out, size_t size, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static bool devnet_format(char *out, size_t size, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int written = vsnprintf(out, size, format, args);
    va_end(args);
    return written >= 0 && (size_t)written < size;
}

static void devnet_sleep_ms(uint32_t ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
    }
}

static uint64_t devnet_now_ms(void)
{
    return cor_bench_now_ns() / 1000000u;
}

static cor_error devnet_free_port(uint16_t *port_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return COR_ERR_IO;
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    cor_error rc = COR_OK;
    if (bind(fd, (struct sockaddr *)&address, sizeof(address)) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        rc = COR_ERR_IO;
    }
    close(fd);
    *port_out = ntohs(address.sin_port);
    return rc;
}

/* Waits up to timeout_ms for pid; returns true and the wait status when it ended. */
static bool devnet_wait_pid(pid_t pid, uint32_t timeout_ms, int *wstatus_out)
{
    uint64_t until_ms = devnet_now_ms() + timeout_ms;
    for (;;) {
        pid_t done = waitpid(pid, wstatus_out, WNOHANG);
        if (done == pid) return true;
        if (done < 0 && errno != EINTR) {
            *wstatus_out = 0;
            return true; /* not our child any more: nothing to wait for */
        }
        if (devnet_now_ms() >= until_ms) return false;
        devnet_sleep_ms(10);
    }
}

/*
 * Runs the corridor binary with argv (argv[0] is the binary) with stdout and stderr appended
 * to out_path; bounded by DEVNET_COMMAND_TIMEOUT_MS (then killed). COR_OK when it exited 0.
 */
static cor_error devnet_run(cor_devnet *net, char *const argv[], const char *out_path)
{
    pid_t pid = fork();
    if (pid < 0) return COR_ERR_IO;
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null_fd = open("/dev/null", O_RDONLY);
        if (fd < 0 || null_fd < 0) _exit(126);
        dup2(null_fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        close_range(3, ~0u, 0); /* the parent's sockets and files are not the child's */
        execv(net->bin, argv);
        _exit(127);
    }
    int wstatus = 0;
    if (!devnet_wait_pid(pid, DEVNET_COMMAND_TIMEOUT_MS, &wstatus)) {
        kill(pid, SIGKILL);
        waitpid(pid, &wstatus, 0);
        devnet_log(net, "'%s %s' did not finish in time", net->bin, argv[1]);
        return COR_ERR_IO;
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        devnet_log(net, "'%s %s' failed (status %d): see %s", net->bin, argv[1],
                   WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus), out_path);
        return COR_ERR_IO;
    }
    return COR_OK;
}

/* Reads the first line starting with prefix from path into out (trimmed). */
static cor_error devnet_read_line(const char *path, const char *prefix, char *out, size_t size)
{
    FILE *file = fopen(path, "r");
    if (file == NULL) return COR_ERR_IO;
    char line[256];
    cor_error rc = COR_ERR_PARSE;
    size_t prefix_size = strlen(prefix);
    for (int lines = 0; lines < 1000 && fgets(line, sizeof(line), file) != NULL; lines++) {
        if (strncmp(line, prefix, prefix_size) != 0) continue;
        line[strcspn(line, "\r\n \t")] = '\0';
        if (strlen(line) < size) {
            snprintf(out, size, "%s", line);
            rc = COR_OK;
        }
        break;
    }
    fclose(file);
    return rc;
}

static cor_error devnet_init_node(cor_devnet *net, uint32_t index)
{
    cor_devnet_node_info *node = &net->nodes[index];
    const devnet_cast *cast = &devnet_casts[index];
    char node_dir[COR_DEVNET_PATH_SIZE], init_log[COR_DEVNET_PATH_SIZE + 16];
    if (!devnet_format(node_dir, sizeof(node_dir), "%s/%c%c", net->dir, cast->name[0] | 0x20,
                       cast->name[1] | 0x20) ||
        !devnet_format(node->data_dir, sizeof(node->data_dir), "%s/data", node_dir) ||
        !devnet_format(node->log_path, sizeof(node->log_path), "%s/serve.log", node_dir) ||
        !devnet_format(init_log, sizeof(init_log), "%s/init.log", node_dir)) {
        return COR_ERR_INVALID;
    }
    if (mkdir(node_dir, 0700) != 0) {
        devnet_log(net, "cannot create '%s': %s", node_dir, strerror(errno));
        return COR_ERR_IO;
    }
    net->created[index] = true;
    char port[8], node_id[16];
    snprintf(port, sizeof(port), "%u", (unsigned)node->port);
    snprintf(node_id, sizeof(node_id), "%u", (unsigned)node->node_id);
    char *argv[DEVNET_ARGS_MAX] = {
        net->bin,       "init",        "--data",   node->data_dir, "--currency",
        node->currency, "--node-name", node->name, "--port",       port};
    size_t argc = 10;
    if (!net->domestic_only) {
        char *extra[] = {"--node-id", node_id, "--bic", node->node_bic};
        for (size_t i = 0; i < 4; i++)
            argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    cor_error rc = devnet_run(net, argv, init_log);
    if (rc != COR_OK) return rc;
    rc = devnet_read_line(init_log, "cor_0_", node->operator_key, sizeof(node->operator_key));
    if (rc != COR_OK) {
        devnet_log(net, "no operator key in '%s'", init_log);
        return rc;
    }
    char pub_path[COR_DEVNET_PATH_SIZE + 16];
    snprintf(pub_path, sizeof(pub_path), "%s/node.pub", node->data_dir);
    rc = devnet_read_line(pub_path, "", node->public_key_hex, sizeof(node->public_key_hex));
    if (rc != COR_OK || strlen(node->public_key_hex) != 64) {
        devnet_log(net, "no 64-hex public key in '%s'", pub_path);
        return COR_ERR_PARSE;
    }
    return COR_OK;
}

/* corridor peer add on node `index` for the other node. */
static cor_error devnet_peer_add(cor_devnet *net, uint32_t index)
{
    cor_devnet_node_info *node = &net->nodes[index];
    const cor_devnet_node_info *peer = &net->nodes[1u - index];
    char node_id[16], log_path[COR_DEVNET_PATH_SIZE + 16];
    snprintf(node_id, sizeof(node_id), "%u", (unsigned)peer->node_id);
    snprintf(log_path, sizeof(log_path), "%s/../init.log", node->data_dir);
    char *argv[] = {net->bin,
                    "peer",
                    "add",
                    "--data",
                    node->data_dir,
                    "--name",
                    (char *)peer->name,
                    "--node-id",
                    node_id,
                    "--currency",
                    (char *)peer->currency,
                    "--bic",
                    (char *)peer->node_bic,
                    "--url",
                    (char *)peer->url,
                    "--public-key",
                    (char *)peer->public_key_hex,
                    NULL};
    return devnet_run(net, argv, log_path);
}

/* Forks `corridor serve`; the child gets its own process group and dies with us. */
static cor_error devnet_spawn(cor_devnet *net, uint32_t index)
{
    cor_devnet_node_info *node = &net->nodes[index];
    COR_ASSERT(node->pid == 0);
    char *argv[] = {net->bin, "serve", "--data", node->data_dir, NULL};
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return COR_ERR_IO;
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(125);
        int fd = open(node->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        int null_fd = open("/dev/null", O_RDWR);
        if (fd < 0 || null_fd < 0) _exit(126);
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(fd, 2);
        close_range(3, ~0u, 0);
        execv(net->bin, argv);
        _exit(127);
    }
    node->pid = pid;
    return COR_OK;
}

static cor_error devnet_wait_healthy(cor_devnet *net, uint32_t index)
{
    cor_devnet_node_info *node = &net->nodes[index];
    uint64_t until_ms = devnet_now_ms() + net->start_timeout_ms;
    cor_devnet_client *probe = cor_devnet_client_open(1000);
    if (probe == NULL) return COR_ERR_NOMEM;
    cor_error rc = COR_ERR_CLOSED;
    for (;;) {
        cor_devnet_response response;
        cor_error sent =
            cor_devnet_request(probe, node->url, "GET", "/healthz", NULL, NULL, &response);
        long status = response.status;
        cor_devnet_response_release(&response);
        if (sent == COR_OK && status == 200) {
            rc = COR_OK;
            break;
        }
        int wstatus = 0;
        if (waitpid(node->pid, &wstatus, WNOHANG) == node->pid) {
            node->pid = 0;
            devnet_log(net, "node %s exited while starting: see %s", node->name, node->log_path);
            break;
        }
        if (devnet_now_ms() >= until_ms) {
            devnet_log(net, "node %s not healthy after %u ms: see %s", node->name,
                       (unsigned)net->start_timeout_ms, node->log_path);
            break;
        }
        devnet_sleep_ms(DEVNET_POLL_INTERVAL_MS);
    }
    cor_devnet_client_close(probe);
    return rc;
}

/* One set-up request that must answer `expected` (or `also`, e.g. 200 for "exists"). */
static cor_error devnet_call(cor_devnet *net, const cor_devnet_node_info *node, const char *method,
                             const char *path, const char *key, const char *body, long expected,
                             json_t **json_out)
{
    cor_devnet_response response;
    cor_error rc = cor_devnet_request(net->client, node->url, method, path, key, body, &response);
    if (rc == COR_OK && response.status != expected) {
        devnet_log(net, "%s %s%s answered %ld: %s", method, node->url, path, response.status,
                   net->client->body);
        rc = COR_ERR_IO;
    } else if (rc != COR_OK) {
        devnet_log(net, "%s %s%s: no answer", method, node->url, path);
    }
    if (rc == COR_OK && json_out != NULL) {
        *json_out = response.json;
        response.json = NULL;
        if (*json_out == NULL) rc = COR_ERR_PARSE;
    }
    cor_devnet_response_release(&response);
    return rc;
}

static bool devnet_parse_u64(const char *text, uint64_t *out)
{
    cor_u128 value = 0;
    if (!cor_u128_parse(text, strlen(text), &value) || value > UINT64_MAX) return false;
    *out = (uint64_t)value;
    return true;
}

static cor_error devnet_participant(cor_devnet *net, cor_devnet_node_info *node, const char *name,
                                    const char *bic, const char *role, uint64_t funding,
                                    cor_devnet_participant *out)
{
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->bic, sizeof(out->bic), "%s", bic);
    snprintf(out->role, sizeof(out->role), "%s", role);
    char body[512], path[96];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"bic\":\"%s\",\"role\":\"%s\"}", name, bic,
             role);
    json_t *json = NULL;
    cor_error rc =
        devnet_call(net, node, "POST", "/v1/participants", node->operator_key, body, 201, &json);
    if (rc != COR_OK) return rc;
    uint64_t id = 0;
    const char *id_text = cor_devnet_str(json, "id");
    if (id_text == NULL || !devnet_parse_u64(id_text, &id) || id == 0 || id > UINT32_MAX) {
        json_decref(json);
        return COR_ERR_PARSE;
    }
    json_decref(json);
    out->id = (uint32_t)id;

    snprintf(path, sizeof(path), "/v1/participants/%u/keys", (unsigned)out->id);
    rc = devnet_call(net, node, "POST", path, node->operator_key, NULL, 201, &json);
    if (rc != COR_OK) return rc;
    const char *key = cor_devnet_str(json, "api_key");
    if (key == NULL || strlen(key) >= sizeof(out->api_key)) {
        json_decref(json);
        return COR_ERR_PARSE;
    }
    snprintf(out->api_key, sizeof(out->api_key), "%s", key);
    json_decref(json);

    node->funding_ids_used++;
    snprintf(path, sizeof(path), "/v1/participants/%u/funding", (unsigned)out->id);
    snprintf(body, sizeof(body),
             "{\"funding_id\":\"%llu\",\"direction\":\"credit\",\"amount\":\"%llu\","
             "\"currency\":\"%s\"}",
             (unsigned long long)node->funding_ids_used, (unsigned long long)funding,
             node->currency);
    rc = devnet_call(net, node, "POST", path, node->operator_key, body, 201, NULL);
    if (rc != COR_OK) return rc;
    out->funded = funding;
    node->issued += funding;
    return COR_OK;
}

static cor_error devnet_populate(cor_devnet *net, uint32_t index)
{
    cor_devnet_node_info *node = &net->nodes[index];
    const devnet_cast *cast = &devnet_casts[index];
    cor_error rc =
        devnet_participant(net, node, cast->central_bank_name, cast->central_bank_bic,
                           "central_bank", cast->central_bank_funding, &node->central_bank);
    for (uint32_t b = 0; rc == COR_OK && b < COR_DEVNET_BANKS_COUNT; b++) {
        rc = devnet_participant(net, node, cast->bank_names[b], cast->bank_bics[b], "bank",
                                cast->bank_funding, &node->banks[b]);
    }
    if (rc == COR_OK) {
        rc = devnet_participant(net, node, cast->fx_name, cast->fx_bic, "fx_provider",
                                cast->fx_funding, &node->fx);
    }
    if (rc != COR_OK || net->domestic_only) return rc;
    char body[256];
    snprintf(body, sizeof(body), "{\"fx_id\":\"%u\",\"participant\":\"%u\",\"peer\":\"%s\"}",
             COR_DEVNET_FX_ID, (unsigned)node->fx.id, net->nodes[1u - index].name);
    return devnet_call(net, node, "POST", "/v1/corridor/fx", node->operator_key, body, 201, NULL);
}

cor_error cor_devnet_publish_rates(cor_devnet *net)
{
    COR_ASSERT(net != NULL);
    if (net->domestic_only) return COR_OK;
    cor_error rc = COR_OK;
    for (uint32_t i = 0; rc == COR_OK && i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_rate *rate = &net->rates[i];
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"peer\":\"%s\",\"rate_num\":\"%llu\",\"rate_den\":\"%llu\","
                 "\"spread_ppm\":%u,\"fee\":\"%llu\",\"amount_min\":\"%llu\","
                 "\"amount_max\":\"%llu\",\"valid_for_s\":%u}",
                 net->nodes[1u - i].name, (unsigned long long)rate->rate_num,
                 (unsigned long long)rate->rate_den, (unsigned)rate->spread_ppm,
                 (unsigned long long)rate->fee_minor, (unsigned long long)rate->amount_min,
                 (unsigned long long)rate->amount_max, DEVNET_RATE_VALID_S);
        rc = devnet_call(net, &net->nodes[i], "POST", "/v1/fx/rates", net->nodes[i].fx.api_key,
                         body, 201, NULL);
    }
    return rc;
}

static cor_error devnet_configure(cor_devnet *net, const cor_devnet_options *options)
{
    if (options->corridor_bin == NULL || options->dir == NULL ||
        strlen(options->corridor_bin) >= sizeof(net->bin) ||
        strlen(options->dir) + 32 >= sizeof(net->dir) ||
        (options->port_base != 0 && options->port_base > 65535u - COR_DEVNET_NODES_COUNT)) {
        return COR_ERR_INVALID;
    }
    snprintf(net->bin, sizeof(net->bin), "%s", options->corridor_bin);
    snprintf(net->dir, sizeof(net->dir), "%s", options->dir);
    net->domestic_only = options->domestic_only;
    net->remove_on_close = options->remove_on_close;
    net->start_timeout_ms = options->start_timeout_ms ? options->start_timeout_ms : 20000u;
    net->stop_timeout_ms = options->stop_timeout_ms ? options->stop_timeout_ms : 30000u;
    net->log = options->log;
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        cor_devnet_node_info *node = &net->nodes[i];
        const devnet_cast *cast = &devnet_casts[i];
        snprintf(node->name, sizeof(node->name), "%s", cast->name);
        snprintf(node->currency, sizeof(node->currency), "%s", cast->currency);
        snprintf(node->node_bic, sizeof(node->node_bic), "%s", cast->node_bic);
        node->node_id = cast->node_id;
        net->rates[i] = cast->rate;
        if (options->port_base != 0) {
            node->port = (uint16_t)(options->port_base + i);
        } else if (devnet_free_port(&node->port) != COR_OK) {
            return COR_ERR_IO;
        }
        snprintf(node->url, sizeof(node->url), "http://127.0.0.1:%u", (unsigned)node->port);
    }
    return COR_OK;
}

cor_error cor_devnet_open(const cor_devnet_options *options, cor_devnet **net_out)
{
    COR_ASSERT(options != NULL && net_out != NULL);
    *net_out = NULL;
    cor_devnet *net = cor_calloc(1, sizeof(*net));
    if (net == NULL) return COR_ERR_NOMEM;
    net->log = options->log;
    cor_error rc = devnet_configure(net, options);
    if (rc != COR_OK) {
        devnet_log(net, "bad options (binary, directory or port base)");
        goto fail;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = COR_ERR_IO;
        goto fail;
    }
    net->curl_ready = true;
    net->client = cor_devnet_client_open(30000);
    if (net->client == NULL) {
        rc = COR_ERR_NOMEM;
        goto fail;
    }
    for (uint32_t i = 0; rc == COR_OK && i < COR_DEVNET_NODES_COUNT; i++) {
        rc = devnet_init_node(net, i);
    }
    for (uint32_t i = 0; rc == COR_OK && !net->domestic_only && i < COR_DEVNET_NODES_COUNT; i++) {
        rc = devnet_peer_add(net, i);
    }
    for (uint32_t i = 0; rc == COR_OK && i < COR_DEVNET_NODES_COUNT; i++) {
        rc = devnet_spawn(net, i);
        if (rc == COR_OK) rc = devnet_wait_healthy(net, i);
    }
    for (uint32_t i = 0; rc == COR_OK && i < COR_DEVNET_NODES_COUNT; i++) {
        rc = devnet_populate(net, i);
    }
    if (rc == COR_OK) rc = cor_devnet_publish_rates(net);
    if (rc != COR_OK) goto fail;
    devnet_log(net, "nodes %s (%s) and %s (%s) ready", net->nodes[0].name, net->nodes[0].url,
               net->nodes[1].name, net->nodes[1].url);
    *net_out = net;
    return COR_OK;

fail:
    if (rc == COR_OK) rc = COR_ERR_IO;
    cor_devnet_close(net);
    return rc;
}

const cor_devnet_node_info *cor_devnet_node(const cor_devnet *net, uint32_t index)
{
    COR_ASSERT(net != NULL);
    COR_ASSERT(index < COR_DEVNET_NODES_COUNT);
    return &net->nodes[index];
}

const cor_devnet_rate *cor_devnet_rate_of(const cor_devnet *net, uint32_t index)
{
    COR_ASSERT(net != NULL);
    COR_ASSERT(index < COR_DEVNET_NODES_COUNT);
    return &net->rates[index];
}

void cor_devnet_kill(cor_devnet *net, uint32_t index)
{
    COR_ASSERT(index < COR_DEVNET_NODES_COUNT);
    cor_devnet_node_info *node = &net->nodes[index];
    if (node->pid <= 0) return;
    kill(node->pid, SIGKILL);
    int wstatus = 0;
    waitpid(node->pid, &wstatus, 0); /* SIGKILL cannot be ignored: bounded */
    node->pid = 0;
}

int cor_devnet_stop(cor_devnet *net, uint32_t index)
{
    COR_ASSERT(index < COR_DEVNET_NODES_COUNT);
    cor_devnet_node_info *node = &net->nodes[index];
    if (node->pid <= 0) return 0;
    kill(node->pid, SIGTERM);
    int wstatus = 0;
    if (!devnet_wait_pid(node->pid, net->stop_timeout_ms, &wstatus)) {
        devnet_log(net, "node %s did not stop in %u ms: SIGKILL", node->name,
                   (unsigned)net->stop_timeout_ms);
        kill(node->pid, SIGKILL);
        waitpid(node->pid, &wstatus, 0);
    }
    node->pid = 0;
    return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
}

cor_error cor_devnet_restart(cor_devnet *net, uint32_t index)
{
    COR_ASSERT(index < COR_DEVNET_NODES_COUNT);
    if (net->nodes[index].pid > 0) return COR_ERR_EXISTS;
    cor_error rc = devnet_spawn(net, index);
    if (rc == COR_OK) rc = devnet_wait_healthy(net, index);
    return rc;
}

static int devnet_remove_entry(const char *path, const struct stat *info, int type,
                               struct FTW *walk)
{
    (void)info;
    (void)type;
    (void)walk;
    return remove(path) == 0 ? 0 : -1;
}

cor_error cor_devnet_remove_tree(const char *path)
{
    COR_ASSERT(path != NULL);
    struct stat info;
    if (lstat(path, &info) != 0) return errno == ENOENT ? COR_OK : COR_ERR_IO;
    /* Depth first, without following symbolic links; 32 descriptors at most. */
    return nftw(path, devnet_remove_entry, 32, FTW_DEPTH | FTW_PHYS) == 0 ? COR_OK : COR_ERR_IO;
}

void cor_devnet_close(cor_devnet *net)
{
    if (net == NULL) return;
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        int status = cor_devnet_stop(net, i);
        if (status != 0) devnet_log(net, "node %s exit status %d", net->nodes[i].name, status);
    }
    if (net->remove_on_close && net->dir[0] != '\0') {
        for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
            char node_dir[COR_DEVNET_PATH_SIZE];
            if (net->created[i] &&
                devnet_format(node_dir, sizeof(node_dir), "%s/%c%c", net->dir,
                              net->nodes[i].name[0] | 0x20, net->nodes[i].name[1] | 0x20)) {
                if (cor_devnet_remove_tree(node_dir) != COR_OK) {
                    devnet_log(net, "cannot remove '%s'", node_dir);
                }
            }
        }
    }
    cor_devnet_client_close(net->client);
    if (net->curl_ready) curl_global_cleanup();
    cor_free(net);
}
