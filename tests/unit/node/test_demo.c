/*
 * corridor demo, headless: runs the real binary (COR_BIN) on free loopback ports, reads its
 * JSON summary and checks that every invariant held and that payments really flowed (both
 * ways across the border). Also its refusals: bad options (exit 2) and a network that cannot
 * start (exit 3).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../support/node_support.h"

#define DEMO_RUN_TIMEOUT_S 120 /* the demo's own bounds: start + duration + 30 s drain + checks */

typedef struct demo_run {
    int status; /* exit status, or -signal */
    char *out;  /* stdout (malloc'd) */
    char *err;  /* stderr (malloc'd) */
    json_t *summary;
} demo_run;

static char *slurp(const char *path)
{
    FILE *file = fopen(path, "r");
    cr_assert(file != NULL);
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *text = calloc(1, (size_t)size + 1);
    cr_assert(text != NULL);
    cr_assert_eq(fread(text, 1, (size_t)size, file), (size_t)size);
    fclose(file);
    return text;
}

/* Called every 100 ms while the demo runs, with its stderr so far, until it returns true. */
typedef bool (*demo_meddle_fn)(const char *err_path);

/* Runs `corridor demo` with args (NULL-terminated), bounded in time; stops it by PID.
 * interrupt_after_s > 0: sends SIGINT (a terminal's Ctrl-C) after that many seconds. */
static void demo_exec_with(const char *const *args, int interrupt_after_s, demo_meddle_fn meddle,
                           demo_run *run)
{
    memset(run, 0, sizeof(*run));
    char dir[] = "/tmp/cor-demo-test-XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char out_path[64], err_path[64];
    snprintf(out_path, sizeof(out_path), "%s/out", dir);
    snprintf(err_path, sizeof(err_path), "%s/err", dir);
    const char *argv[24] = {cor_test_bin(), "demo"};
    size_t argc = 2;
    for (size_t i = 0; args[i] != NULL && argc < 23; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (out < 0 || err < 0) _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        setenv("TMPDIR", dir, 1);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int wstatus = 0;
    bool ended = false;
    for (int tick = 0; tick < DEMO_RUN_TIMEOUT_S * 10; tick++) {
        if (waitpid(pid, &wstatus, WNOHANG) == pid) {
            ended = true;
            break;
        }
        if (interrupt_after_s > 0 && tick == interrupt_after_s * 10) kill(pid, SIGINT);
        if (meddle != NULL && meddle(err_path)) meddle = NULL;
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 100000000L};
        nanosleep(&pause, NULL);
    }
    if (!ended) {
        kill(pid, SIGINT); /* the demo then stops its nodes by PID */
        for (int tick = 0; tick < 600 && !ended; tick++) {
            ended = waitpid(pid, &wstatus, WNOHANG) == pid;
            struct timespec pause = {.tv_sec = 0, .tv_nsec = 100000000L};
            nanosleep(&pause, NULL);
        }
        if (!ended) {
            kill(pid, SIGKILL);
            waitpid(pid, &wstatus, 0);
        }
    }
    run->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -WTERMSIG(wstatus);
    run->out = slurp(out_path);
    run->err = slurp(err_path);
    run->summary = json_loads(run->out, 0, NULL);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", dir);
    cr_assert_eq(system(command), 0);
    cr_assert(ended, "demo did not end in time; stderr:\n%s", run->err);
}

static void demo_exec(const char *const *args, demo_run *run)
{
    demo_exec_with(args, 0, NULL, run);
}

static void demo_run_free(demo_run *run)
{
    free(run->out);
    free(run->err);
    if (run->summary != NULL) json_decref(run->summary);
}

static json_int_t flow_count(const demo_run *run, const char *flow, const char *field)
{
    json_t *value =
        json_object_get(json_object_get(json_object_get(run->summary, "flows"), flow), field);
    cr_assert(json_is_integer(value), "flows.%s.%s missing in %s", flow, field, run->out);
    return json_integer_value(value);
}

/* No Criterion timeout: every demo run is bounded above (DEMO_RUN_TIMEOUT_S, then SIGINT,
 * then SIGKILL), and Criterion's timeouts leak a runner allocation that LeakSanitizer reports
 * when suites with timeouts run side by side (--jobs 2). */
TestSuite(node_demo);

/* Every invariant of the summary is ok, and names are the documented ones. */
static void assert_invariants(const demo_run *run, const char *const *expected)
{
    json_t *invariants = json_object_get(run->summary, "invariants");
    cr_assert(json_is_object(invariants), "no invariants in: %s", run->out);
    for (size_t i = 0; expected[i] != NULL; i++) {
        cr_assert(json_object_get(invariants, expected[i]) != NULL, "invariant %s missing: %s",
                  expected[i], run->out);
    }
    const char *name;
    json_t *check;
    json_object_foreach(invariants, name, check)
    {
        cr_assert(json_is_true(json_object_get(check, "ok")), "invariant %s failed: %s", name,
                  json_string_value(json_object_get(check, "detail")));
        cr_assert(json_is_string(json_object_get(check, "detail")));
    }
    cr_assert(json_is_true(json_object_get(run->summary, "ok")));
}

Test(node_demo, cross_border_both_ways_with_every_invariant)
{
    const char *args[] = {"--duration", "5", "--json", "--rate", "80", NULL};
    demo_run run;
    demo_exec(args, &run);
    cr_assert_not_null(run.summary, "stdout is not one JSON object: %s\nstderr:\n%s", run.out,
                       run.err);
    const char *expected[] = {"xborder_same_state",
                              "domestic_accounted",
                              "books_balance",
                              "fx_legs",
                              "balances_match_traffic",
                              "nodes_stopped_cleanly",
                              NULL};
    assert_invariants(&run, expected);
    cr_assert_eq(run.status, 0, "exit %d; stderr:\n%s", run.status, run.err);
    cr_assert_gt(flow_count(&run, "ru_to_ir", "committed"), 0);
    cr_assert_gt(flow_count(&run, "ir_to_ru", "committed"), 0);
    cr_assert_gt(flow_count(&run, "ru_domestic", "committed"), 0);
    cr_assert_gt(flow_count(&run, "ir_domestic", "committed"), 0);
    /* Every 50th payment names a creditor bank that does not exist: rejected, recorded. */
    cr_assert_gt(flow_count(&run, "ru_to_ir", "rejected") +
                     flow_count(&run, "ir_to_ru", "rejected") +
                     flow_count(&run, "ru_domestic", "rejected") +
                     flow_count(&run, "ir_domestic", "rejected"),
                 0);
    cr_assert_eq(flow_count(&run, "ru_to_ir", "open"), 0);
    cr_assert_eq(flow_count(&run, "ir_to_ru", "open"), 0);
    cr_assert_eq(flow_count(&run, "ru_to_ir", "answers_lost"), 0, "no node was killed");
    json_t *latency = json_object_get(
        json_object_get(json_object_get(run.summary, "flows"), "ru_to_ir"), "latency_us");
    cr_assert_gt(json_integer_value(json_object_get(latency, "p50")), 0);
    /* The status lines went to stderr, the summary alone to stdout. */
    cr_assert(strstr(run.err, "RU->IR") != NULL, "no status line: %s", run.err);
    demo_run_free(&run);
}

Test(node_demo, sigkill_and_restart_in_the_traffic_keep_every_invariant)
{
    const char *args[] = {"--duration", "7", "--json", "--rate", "100", "--kill-every", "2", NULL};
    demo_run run;
    demo_exec(args, &run);
    cr_assert_not_null(run.summary, "stdout: %s\nstderr:\n%s", run.out, run.err);
    const char *expected[] = {
        "xborder_same_state",     "domestic_accounted", "books_balance",         "fx_legs",
        "balances_match_traffic", "nodes_restarted",    "nodes_stopped_cleanly", NULL};
    assert_invariants(&run, expected);
    cr_assert_eq(run.status, 0, "exit %d; stderr:\n%s", run.status, run.err);
    cr_assert(strstr(run.err, "SIGKILL node RU") != NULL, "%s", run.err);
    cr_assert(strstr(run.err, "SIGKILL node IR") != NULL, "%s", run.err);
    cr_assert_gt(flow_count(&run, "ru_to_ir", "committed"), 0);
    cr_assert_gt(flow_count(&run, "ir_to_ru", "committed"), 0);
    for (size_t i = 0; i < 4; i++) {
        const char *flows[] = {"ru_to_ir", "ir_to_ru", "ru_domestic", "ir_domestic"};
        cr_assert_eq(flow_count(&run, flows[i], "open"), 0, "%s open", flows[i]);
    }
    demo_run_free(&run);
}

Test(node_demo, domestic_only_run_accounts_every_payment)
{
    const char *args[] = {"--duration", "2", "--json", "--domestic-only", NULL};
    demo_run run;
    demo_exec(args, &run);
    cr_assert_not_null(run.summary, "stdout: %s\nstderr:\n%s", run.out, run.err);
    const char *expected[] = {"domestic_accounted", "books_balance", "balances_match_traffic",
                              "nodes_stopped_cleanly", NULL};
    assert_invariants(&run, expected);
    cr_assert_eq(run.status, 0, "exit %d; stderr:\n%s", run.status, run.err);
    cr_assert_eq(flow_count(&run, "ru_to_ir", "submitted"), 0);
    cr_assert_gt(flow_count(&run, "ru_domestic", "committed"), 0);
    cr_assert_gt(flow_count(&run, "ir_domestic", "committed"), 0);
    demo_run_free(&run);
}

Test(node_demo, ctrl_c_stops_traffic_then_checks_and_stops_the_nodes)
{
    const char *args[] = {"--json", "--rate", "60", NULL}; /* no duration: runs until SIGINT */
    demo_run run;
    demo_exec_with(args, 5, NULL, &run);
    cr_assert_not_null(run.summary, "stdout: %s\nstderr:\n%s", run.out, run.err);
    const char *expected[] = {"xborder_same_state", "fx_legs", "nodes_stopped_cleanly", NULL};
    assert_invariants(&run, expected);
    cr_assert_eq(run.status, 0, "exit %d; stderr:\n%s", run.status, run.err);
    cr_assert(strstr(run.err, "interrupted") != NULL, "%s", run.err);
    cr_assert_gt(
        flow_count(&run, "ru_to_ir", "committed") + flow_count(&run, "ir_to_ru", "committed"), 0);
    demo_run_free(&run);
}

/* Once the banner is out, issues money on node RU behind the demo's back, as an operator
 * could: the URL and the operator key are on the banner's RU line. */
static bool issue_behind_the_demo(const char *err_path)
{
    FILE *file = fopen(err_path, "r");
    if (file == NULL) return false;
    char line[512];
    bool done = false;
    for (int lines = 0; !done && lines < 200 && fgets(line, sizeof(line), file) != NULL; lines++) {
        const char *key = strstr(line, "operator key cor_0_");
        if (strncmp(line, "  RU  http://", 13) != 0 || key == NULL) continue;
        cor_test_node node;
        memset(&node, 0, sizeof(node));
        snprintf(node.base_url, sizeof(node.base_url), "%.*s", (int)strcspn(line + 6, " "),
                 line + 6);
        snprintf(node.operator_key, sizeof(node.operator_key), "%.*s",
                 (int)strcspn(key + 13, " \n"), key + 13);
        cor_test_response response;
        cor_test_http(&node, "POST", "/v1/participants/2/funding", node.operator_key,
                      "{\"funding_id\":\"777\",\"direction\":\"credit\",\"amount\":\"5\","
                      "\"currency\":\"RUB\"}",
                      &response);
        cr_assert_eq(response.status, 201, "funding behind the demo: %ld %s", response.status,
                     response.body ? response.body : "");
        cor_test_response_free(&response);
        done = true;
    }
    fclose(file);
    return done;
}

Test(node_demo, money_moved_behind_its_back_fails_the_checks)
{
    const char *args[] = {"--duration", "3", "--json", "--rate", "40", NULL};
    demo_run run;
    demo_exec_with(args, 0, issue_behind_the_demo, &run);
    cr_assert_not_null(run.summary, "stdout: %s\nstderr:\n%s", run.out, run.err);
    cr_assert_eq(run.status, 1, "exit %d; stderr:\n%s", run.status, run.err);
    cr_assert(json_is_false(json_object_get(run.summary, "ok")));
    json_t *invariants = json_object_get(run.summary, "invariants");
    const char *failed[] = {"books_balance", "balances_match_traffic"};
    for (size_t i = 0; i < 2; i++) {
        json_t *check = json_object_get(invariants, failed[i]);
        cr_assert(json_is_false(json_object_get(check, "ok")), "%s passed: %s", failed[i], run.out);
    }
    const char *detail = json_string_value(
        json_object_get(json_object_get(invariants, "balances_match_traffic"), "detail"));
    cr_assert(strstr(detail, "RU participant 2") != NULL, "%s", detail);
    /* What was not touched still holds. */
    const char *held[] = {"xborder_same_state", "domestic_accounted", "fx_legs",
                          "nodes_stopped_cleanly"};
    for (size_t i = 0; i < 4; i++) {
        json_t *check = json_object_get(invariants, held[i]);
        cr_assert(json_is_true(json_object_get(check, "ok")), "%s failed: %s", held[i], run.out);
    }
    cr_assert(strstr(run.err, "kept in") != NULL, "the data is kept for inspection: %s", run.err);
    demo_run_free(&run);
}

Test(node_demo, bad_options_are_usage_errors)
{
    const char *const cases[][4] = {
        {"--rate", "0", NULL},       {"--rate", "lots", NULL},       {"--duration", "-1", NULL},
        {"--port-base", "80", NULL}, {"--port-base", "65535", NULL}, {"--dir", NULL},
        {"--frobnicate", NULL},      {"--kill-every", "0", NULL},    {"--duration", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        demo_run run;
        demo_exec(cases[i], &run);
        cr_assert_eq(run.status, 2, "case %zu: exit %d, stderr %s", i, run.status, run.err);
        cr_assert(strstr(run.err, "usage: corridor demo") != NULL, "case %zu: %s", i, run.err);
        cr_assert_eq(run.out[0], '\0', "case %zu printed %s", i, run.out);
        demo_run_free(&run);
    }
}

Test(node_demo, port_taken_is_an_operating_error)
{
    /* Hold a port, then ask the demo to put node RU on it: init works, serve cannot bind. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&address, sizeof(address)), 0);
    cr_assert_eq(listen(fd, 1), 0);
    socklen_t length = sizeof(address);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&address, &length), 0);
    char port[16];
    snprintf(port, sizeof(port), "%u", (unsigned)ntohs(address.sin_port));
    const char *args[] = {"--duration",  "1",  "--json", "--domestic-only",
                          "--port-base", port, NULL};
    demo_run run;
    demo_exec(args, &run);
    close(fd);
    cr_assert_eq(run.status, 3, "exit %d, stderr %s", run.status, run.err);
    cr_assert(strstr(run.err, "cannot start the network") != NULL, "%s", run.err);
    cr_assert_eq(run.out[0], '\0', "printed %s", run.out);
    demo_run_free(&run);
}
