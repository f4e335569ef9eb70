/*
 * Durability of the node across restarts in the middle of a load: client threads send
 * single payments and record each one the node acknowledged (201); the node is killed
 * (SIGKILL) or stopped (SIGTERM) while they run; after a restart every acknowledged payment is
 * there, exactly once, and the money still adds up.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../../support/node_support.h"

#define LOAD_THREADS        4
#define LOAD_PER_THREAD_MAX 20000 /* bound on each client's loop */

static cor_test_node node;
static char key_a[128];

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    cor_test_node_init(&node);
    cor_test_participant(&node, "Bank A", "AAAARUMM", "bank", key_a, sizeof(key_a));
    cor_test_participant(&node, "Bank B", "BBBBRUMM", "bank", NULL, 0);
    cor_test_fund(&node, 1, "1000000000");
}

static void teardown(void)
{
    cor_test_node_cleanup(&node);
}

TestSuite(node_restart, .init = setup, .fini = teardown);

typedef struct load_client {
    pthread_t thread;
    unsigned index;
    _Atomic bool *stop;
    unsigned acknowledged[LOAD_PER_THREAD_MAX]; /* payment numbers acked (201) */
    unsigned acknowledged_count;
    _Atomic unsigned sent;
} load_client;

static size_t discard(char *data, size_t size, size_t count, void *context)
{
    (void)data;
    (void)context;
    return size * count;
}

static void *load_main(void *argument)
{
    load_client *client = argument;
    CURL *curl = curl_easy_init();
    char url[128], authorization[200], body[256];
    snprintf(url, sizeof(url), "%s/v1/payments", node.base_url);
    snprintf(authorization, sizeof(authorization), "Authorization: Bearer %s", key_a);
    struct curl_slist *headers = curl_slist_append(NULL, authorization);
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    for (unsigned i = 0; i < LOAD_PER_THREAD_MAX && !atomic_load(client->stop); i++) {
        unsigned id = client->index * 1000000u + i + 1;
        snprintf(body, sizeof(body),
                 "{\"payment_id\":\"%u\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                 id);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        atomic_fetch_add(&client->sent, 1);
        long status = 0;
        if (curl_easy_perform(curl) != CURLE_OK) break; /* the node went away */
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status == 201)
            client->acknowledged[client->acknowledged_count++] = id;
        else if (status != 503)
            break;
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return NULL;
}

static unsigned run_load_and_stop(load_client *clients, int signal_number, int *exit_status)
{
    static _Atomic bool stop;
    atomic_store(&stop, false);
    for (unsigned i = 0; i < LOAD_THREADS; i++) {
        memset(&clients[i], 0, sizeof(clients[i]));
        clients[i].index = i + 1;
        clients[i].stop = &stop;
        cr_assert_eq(pthread_create(&clients[i].thread, NULL, load_main, &clients[i]), 0);
    }
    /* Let the load run until a few hundred payments went out (bounded: 10 s). */
    for (int wait = 0; wait < 1000; wait++) {
        unsigned sent = 0;
        for (unsigned i = 0; i < LOAD_THREADS; i++)
            sent += atomic_load(&clients[i].sent);
        if (sent >= 400) break;
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    *exit_status = cor_test_node_signal(&node, signal_number);
    atomic_store(&stop, true);
    unsigned acknowledged = 0;
    for (unsigned i = 0; i < LOAD_THREADS; i++) {
        pthread_join(clients[i].thread, NULL);
        acknowledged += clients[i].acknowledged_count;
    }
    return acknowledged;
}

static void check_after_restart(load_client *clients, unsigned acknowledged)
{
    cor_test_node_start(&node);
    for (unsigned c = 0; c < LOAD_THREADS; c++) {
        for (unsigned i = 0; i < clients[c].acknowledged_count; i++) {
            char path[64];
            snprintf(path, sizeof(path), "/v1/payments/%u", clients[c].acknowledged[i]);
            cor_test_response r;
            cor_test_http(&node, "GET", path, key_a, NULL, &r);
            cr_assert_eq(r.status, 200, "acknowledged payment %u lost", clients[c].acknowledged[i]);
            cr_assert_str_eq(cor_test_str(&r, "status"), "accepted");
            cor_test_response_free(&r);
        }
    }
    long long b = cor_test_net(&node, 2);
    long long a = cor_test_net(&node, 1);
    cr_assert_geq(b, (long long)acknowledged, "B holds less than the acknowledged payments");
    cr_assert_eq(a + b, 1000000000LL, "money was created or destroyed");
    /* The node keeps working after recovery: a retry of an acknowledged payment is a
     * duplicate, a new one is accepted. */
    char body[256];
    snprintf(body, sizeof(body),
             "{\"payment_id\":\"%u\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
             clients[0].acknowledged_count > 0 ? clients[0].acknowledged[0] : 5);
    cor_test_response r;
    cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
    cr_assert(r.status == 200 || r.status == 201, "%ld %s", r.status, r.body);
    cor_test_response_free(&r);
    cor_test_http(
        &node, "POST", "/v1/payments", key_a,
        "{\"payment_id\":\"999999999\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
        &r);
    cr_assert_eq(r.status, 201);
    cor_test_response_free(&r);
}

Test(node_restart, sigkill_mid_load_loses_nothing_acknowledged)
{
    load_client *clients = calloc(LOAD_THREADS, sizeof(load_client));
    int exit_status = 0;
    unsigned acknowledged = run_load_and_stop(clients, SIGKILL, &exit_status);
    cr_assert_eq(exit_status, -SIGKILL);
    cr_assert_gt(acknowledged, 0, "the load never got an acknowledgement");
    check_after_restart(clients, acknowledged);
    free(clients);
}

Test(node_restart, sigterm_mid_load_exits_zero_and_loses_nothing)
{
    load_client *clients = calloc(LOAD_THREADS, sizeof(load_client));
    int exit_status = -1;
    unsigned acknowledged = run_load_and_stop(clients, SIGTERM, &exit_status);
    cr_assert_eq(exit_status, 0, "serve must exit 0 on SIGTERM, got %d; log:\n%s", exit_status,
                 cor_test_node_log_tail(&node));
    cr_assert_gt(acknowledged, 0);
    check_after_restart(clients, acknowledged);
    /* A graceful stop finishes what it accepted: B holds exactly the acknowledged ones plus
     * the two payments of check_after_restart at most. */
    free(clients);
}

Test(node_restart, init_refuses_to_overwrite_and_keys_are_private)
{
    char command[600];
    snprintf(command, sizeof(command),
             "%s init --data %s/n --currency RUB --node-name again >/dev/null 2>&1", cor_test_bin(),
             node.dir);
    int status = system(command);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3, "init over an existing node");
    snprintf(command, sizeof(command),
             "%s init --data %s/m --currency XXX --node-name x "
             ">/dev/null 2>&1",
             cor_test_bin(), node.dir);
    status = system(command);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "unknown currency is a usage error");
    char path[400];
    snprintf(path, sizeof(path), "%s/n/node.key", node.dir);
    struct stat info;
    cr_assert_eq(stat(path, &info), 0);
    cr_assert_eq(info.st_mode & 0777, 0600);
    cr_assert_eq(info.st_size, 64);
    /* The operator key still works after the refused init. */
    cr_assert_geq(cor_test_net(&node, 1), 0);
}

static void config_set_snapshot_every(unsigned ops)
{
    char path[400], command[600];
    snprintf(path, sizeof(path), "%s/n/corridor.ini", node.dir);
    snprintf(command, sizeof(command),
             "sed -i 's/^snapshot_every_ops = .*/snapshot_every_ops = %u/' %s", ops, path);
    cr_assert_eq(system(command), 0);
}

static bool log_contains(const char *text)
{
    char path[400], line[512];
    snprintf(path, sizeof(path), "%s/serve.log", node.dir);
    FILE *file = fopen(path, "r");
    cr_assert(file != NULL);
    bool found = false;
    while (!found && fgets(line, sizeof(line), file) != NULL)
        found = strstr(line, text) != NULL;
    fclose(file);
    return found;
}

Test(node_restart, recovery_from_a_snapshot_keeps_everything)
{
    cr_assert_eq(cor_test_node_signal(&node, SIGTERM), 0);
    config_set_snapshot_every(3);
    cor_test_node_start(&node);
    char key_c[128];
    unsigned c =
        cor_test_participant(&node, "Bank C", "CCCCRUMM", "fx_provider", key_c, sizeof(key_c));
    cor_test_response r;
    for (unsigned i = 1; i <= 20; i++) {
        char body[160];
        snprintf(
            body, sizeof(body),
            "{\"payment_id\":\"%u\",\"creditor\":\"%u\",\"amount\":\"%u\",\"currency\":\"RUB\","
            "\"end_to_end_id\":\"E%u\"}",
            i, c, i, i);
        cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
        cr_assert_eq(r.status, 201, "%s", r.body);
        cor_test_response_free(&r);
    }
    cor_test_http(&node, "PATCH", "/v1/participants/2", node.operator_key,
                  "{\"status\":\"suspended\",\"debit_cap\":\"77\"}", &r);
    cr_assert_eq(r.status, 200);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_node_signal(&node, SIGTERM), 0);
    cor_test_node_start(&node);
    cr_assert(log_contains("snapshot loaded"), "recovery did not use a snapshot");

    /* Participants, keys, payments (with their fields) and balances all came back. */
    cr_assert_eq(cor_test_net(&node, c), 210);
    cr_assert_eq(cor_test_net(&node, 1), 1000000000LL - 210);
    cor_test_http(&node, "GET", "/v1/payments/20", key_a, NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(cor_test_str(&r, "end_to_end_id"), "E20");
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/participants/2", node.operator_key, NULL, &r);
    cr_assert_str_eq(cor_test_str(&r, "status"), "suspended");
    cr_assert_str_eq(cor_test_str(&r, "debit_cap"), "77");
    cor_test_response_free(&r);
    cor_test_http(&node, "GET", "/v1/statement", key_c, NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(json_array_size(json_object_get(r.json, "entries")), 20);
    cor_test_response_free(&r);
    /* Idempotency survives too. */
    cor_test_http(&node, "POST", "/v1/payments", key_a,
                  "{\"payment_id\":\"5\",\"creditor\":\"3\",\"amount\":\"5\",\"currency\":\"RUB\","
                  "\"end_to_end_id\":\"E5\"}",
                  &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cor_test_response_free(&r);
    cr_assert_eq(cor_test_net(&node, c), 210);
}

Test(node_restart, verify_proves_a_node_directory_and_finds_damage)
{
    cor_test_response r;
    for (unsigned i = 1; i <= 5; i++) {
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"payment_id\":\"%u\",\"creditor\":\"2\",\"amount\":\"3\",\"currency\":\"RUB\"}",
                 i);
        cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
        cr_assert_eq(r.status, 201);
        cor_test_response_free(&r);
    }
    cr_assert_eq(cor_test_node_signal(&node, SIGTERM), 0);
    char command[700];
    snprintf(command, sizeof(command), "%s verify --data %s/n > %s/verify.out 2>&1", cor_test_bin(),
             node.dir, node.dir);
    int status = system(command);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "verify of an intact node failed");
    char path[400], line[256];
    snprintf(path, sizeof(path), "%s/verify.out", node.dir);
    FILE *file = fopen(path, "r");
    bool intact = false, payments = false;
    while (fgets(line, sizeof(line), file) != NULL) {
        intact = intact || strstr(line, "is intact") != NULL;
        payments = payments || strstr(line, "payments 5") != NULL;
    }
    fclose(file);
    cr_assert(intact && payments);

    /* Flip one byte in the middle of the journal's records (zeros written ahead of the
     * appends follow them): verify names the problem, exit 1. */
    snprintf(path, sizeof(path), "%s/n/journal", node.dir);
    file = fopen(path, "r+b");
    cr_assert(file != NULL);
    long records_end = 0;
    for (long at = 0;; at++) {
        int c = fgetc(file);
        if (c == EOF) break;
        if (c != 0) records_end = at + 1;
    }
    cr_assert_gt(records_end, 64);
    fseek(file, records_end / 2, SEEK_SET);
    int byte = fgetc(file);
    fseek(file, records_end / 2, SEEK_SET);
    fputc(byte ^ 0x40, file);
    fclose(file);
    status = system(command);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "verify missed a flipped byte");
}

Test(node_restart, capacities_come_from_the_journal_not_the_config)
{
    cor_test_response r;
    for (unsigned i = 1; i <= 3; i++) {
        char body[160];
        snprintf(body, sizeof(body),
                 "{\"payment_id\":\"%u\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                 i);
        cor_test_http(&node, "POST", "/v1/payments", key_a, body, &r);
        cr_assert_eq(r.status, 201);
        cor_test_response_free(&r);
    }
    cr_assert_eq(cor_test_node_signal(&node, SIGTERM), 0);
    /* Replaying with payments_max = 1 would reject payments 2 and 3: the journal's capacity
     * must be used instead, with a warning. */
    char command[600];
    snprintf(command, sizeof(command),
             "sed -i 's/^payments_max = .*/payments_max = 1/' %s/n/corridor.ini", node.dir);
    cr_assert_eq(system(command), 0);
    cor_test_node_start(&node);
    cr_assert(log_contains("capacities in the configuration differ"));
    cr_assert_eq(cor_test_net(&node, 2), 3);
    cor_test_http(&node, "POST", "/v1/payments", key_a,
                  "{\"payment_id\":\"4\",\"creditor\":\"2\",\"amount\":\"1\",\"currency\":\"RUB\"}",
                  &r);
    cr_assert_eq(r.status, 201);
    cor_test_response_free(&r);
}
