/*
 * The local two-node network (src/bench/devnet.c) used by the demo, benchmarks and
 * multi-process tests: it starts real nodes (COR_BIN) whose participants, keys and funding
 * are usable, survives SIGKILL + restart and SIGTERM + restart with nothing lost, peers the
 * nodes and publishes the FX provider's rates, and refuses bad options.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../support/node_support.h"
#include "bench/devnet.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/cor-devnet-XXXXXX");
    cr_assert(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
    cr_assert_eq(cor_devnet_remove_tree(dir), COR_OK);
    struct stat info;
    cr_assert_neq(stat(dir, &info), 0, "directory still there");
}

TestSuite(bench_devnet, .init = setup, .fini = teardown, .timeout = 120);

static cor_devnet *open_net(bool domestic_only)
{
    cor_devnet_options options = {.corridor_bin = cor_test_bin(),
                                  .dir = dir,
                                  .domestic_only = domestic_only,
                                  .remove_on_close = true,
                                  .log = stderr};
    cor_devnet *net = NULL;
    cr_assert_eq(cor_devnet_open(&options, &net), COR_OK);
    cr_assert_not_null(net);
    return net;
}

/* The participant's net balance, read with its own key. */
static cor_u128 balance_of(cor_devnet_client *client, const cor_devnet_node_info *node,
                           const cor_devnet_participant *participant)
{
    char path[64];
    snprintf(path, sizeof(path), "/v1/participants/%u", (unsigned)participant->id);
    cor_devnet_response response;
    cr_assert_eq(
        cor_devnet_request(client, node->url, "GET", path, participant->api_key, NULL, &response),
        COR_OK);
    cr_assert_eq(response.status, 200);
    cor_u128 net = 0;
    cr_assert(cor_devnet_u128(json_object_get(response.json, "balance"), "net", &net));
    cor_devnet_response_release(&response);
    return net;
}

static long pay(cor_devnet_client *client, const cor_devnet_node_info *node, unsigned payment_id,
                unsigned amount)
{
    char body[256];
    snprintf(body, sizeof(body),
             "{\"payment_id\":\"%u\",\"creditor\":\"%u\",\"amount\":\"%u\",\"currency\":\"%s\"}",
             payment_id, (unsigned)node->banks[1].id, amount, node->currency);
    cor_devnet_response response;
    cr_assert_eq(cor_devnet_request(client, node->url, "POST", "/v1/payments",
                                    node->banks[0].api_key, body, &response),
                 COR_OK);
    long status = response.status;
    cor_devnet_response_release(&response);
    return status;
}

Test(bench_devnet, nodes_participants_and_funding_are_real)
{
    cor_devnet *net = open_net(true);
    cor_devnet_client *client = cor_devnet_client_open(5000);
    cr_assert_not_null(client);
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(net, i);
        cr_assert_gt(node->pid, 0);
        cr_assert_eq(strlen(node->public_key_hex), 64);
        cr_assert_eq(strncmp(node->operator_key, "cor_0_", 6), 0);
        cor_devnet_response response;
        cr_assert_eq(
            cor_devnet_request(client, node->url, "GET", "/healthz", NULL, NULL, &response),
            COR_OK);
        cr_assert_eq(response.status, 200);
        cr_assert_str_eq(cor_devnet_str(response.json, "currency"), node->currency);
        cor_devnet_response_release(&response);
        cr_assert_eq(balance_of(client, node, &node->banks[2]), node->banks[2].funded);
        cr_assert_eq(balance_of(client, node, &node->fx), node->fx.funded);
        cor_u128 sum = node->central_bank.funded + node->fx.funded;
        for (uint32_t b = 0; b < COR_DEVNET_BANKS_COUNT; b++)
            sum += node->banks[b].funded;
        cr_assert(sum == node->issued);
        cr_assert_str_eq(node->fx.role, "fx_provider");
    }
    cr_assert_str_eq(cor_devnet_node(net, COR_DEVNET_RU)->name, "RU");
    cr_assert_eq(cor_devnet_node(net, COR_DEVNET_IR)->node_id, 364);
    cor_devnet_client_close(client);
    cor_devnet_close(net);
}

Test(bench_devnet, kill_and_stop_then_restart_lose_nothing)
{
    cor_devnet *net = open_net(true);
    cor_devnet_client *client = cor_devnet_client_open(5000);
    const cor_devnet_node_info *ru = cor_devnet_node(net, COR_DEVNET_RU);
    const cor_devnet_node_info *ir = cor_devnet_node(net, COR_DEVNET_IR);
    cr_assert_eq(pay(client, ru, 1, 700), 201);
    pid_t old_pid = ru->pid;

    cor_devnet_kill(net, COR_DEVNET_RU);
    cr_assert_eq(ru->pid, 0);
    cr_assert_neq(kill(old_pid, 0), 0, "killed node still exists");
    cr_assert_eq(pay(client, ir, 1, 900), 201, "the other node keeps working");
    cr_assert_eq(cor_devnet_restart(net, COR_DEVNET_RU), COR_OK);
    cr_assert_gt(ru->pid, 0);
    cr_assert_eq(cor_devnet_restart(net, COR_DEVNET_RU), COR_ERR_EXISTS, "already running");
    cr_assert(balance_of(client, ru, &ru->banks[0]) == ru->banks[0].funded - 700);
    cr_assert_eq(pay(client, ru, 1, 700), 200, "the same payment again is a duplicate");

    cr_assert_eq(cor_devnet_stop(net, COR_DEVNET_IR), 0, "SIGTERM stops cleanly");
    cr_assert_eq(cor_devnet_stop(net, COR_DEVNET_IR), 0, "stopping a stopped node is a no-op");
    cor_devnet_kill(net, COR_DEVNET_IR); /* no-op too */
    cr_assert_eq(cor_devnet_restart(net, COR_DEVNET_IR), COR_OK);
    cr_assert(balance_of(client, ir, &ir->banks[1]) == ir->banks[1].funded + 900);
    cor_devnet_client_close(client);
    cor_devnet_close(net);
}

Test(bench_devnet, peers_fx_mapping_and_rates_are_set_up)
{
    cor_devnet *net = open_net(false);
    cor_devnet_client *client = cor_devnet_client_open(5000);
    for (uint32_t i = 0; i < COR_DEVNET_NODES_COUNT; i++) {
        const cor_devnet_node_info *node = cor_devnet_node(net, i);
        const cor_devnet_node_info *peer = cor_devnet_node(net, 1u - i);
        char body[128];
        snprintf(body, sizeof(body), "{\"peer\":\"%s\",\"source_amount\":\"%llu\"}", peer->name,
                 (unsigned long long)cor_devnet_rate_of(net, i)->amount_min * 10u);
        cor_devnet_response response;
        cr_assert_eq(cor_devnet_request(client, node->url, "POST", "/v1/fx/quotes",
                                        node->banks[0].api_key, body, &response),
                     COR_OK);
        cr_assert_eq(response.status, 201, "%s quote: %ld", node->name, response.status);
        json_t *quote = json_array_get(json_object_get(response.json, "quotes"), 0);
        cr_assert_str_eq(cor_devnet_str(quote, "fx_id"), "1");
        cr_assert_str_eq(cor_devnet_str(quote, "destination_currency"), peer->currency);
        cor_devnet_response_release(&response);
    }
    cr_assert_eq(cor_devnet_publish_rates(net), COR_OK, "publishing again replaces the sheet");
    cor_devnet_client_close(client);
    cor_devnet_close(net);
}

Test(bench_devnet, bad_options_and_a_missing_binary_are_refused)
{
    cor_devnet *net = (cor_devnet *)&net;
    cor_devnet_options options = {.corridor_bin = NULL, .dir = dir};
    cr_assert_eq(cor_devnet_open(&options, &net), COR_ERR_INVALID);
    cr_assert_null(net);
    options = (cor_devnet_options){.corridor_bin = cor_test_bin(), .dir = dir, .port_base = 65535};
    cr_assert_eq(cor_devnet_open(&options, &net), COR_ERR_INVALID);
    options = (cor_devnet_options){.corridor_bin = "/nonexistent/corridor", .dir = dir};
    cr_assert_eq(cor_devnet_open(&options, &net), COR_ERR_IO);
    cr_assert_null(net);
    options = (cor_devnet_options){.corridor_bin = cor_test_bin(), .dir = "/nonexistent/dir"};
    cr_assert_eq(cor_devnet_open(&options, &net), COR_ERR_IO);
    cr_assert_null(net);
}
