/*
 * corridor peer add | list | remove: edits the [peer NAME] sections of a node's
 * corridor.ini. The file is rewritten atomically (temporary file, fsync, rename, fsync of
 * the directory), so a crash leaves the old configuration or the new one. A running node
 * reads its peers when `serve` starts: restart it to apply a change.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "corridor/iso20022.h"
#include "node/config.h"
#include "node/currency.h"

static void peer_usage(FILE *out)
{
    fprintf(out, "usage: corridor peer add --data DIR --name NAME --currency CODE --url URL\n"
                 "                         --public-key HEX|@FILE [--node-id N] [--bic BIC]\n"
                 "                         [--key-id N] [--payment-max-out N] [--daily-max-out N]\n"
                 "                         [--payment-max-in N] [--daily-max-in N]\n"
                 "       corridor peer list --data DIR [--json]\n"
                 "       corridor peer remove --data DIR --name NAME\n");
}

typedef struct peer_args {
    const char *data_dir;
    const char *name;
    const char *currency;
    const char *url;
    const char *public_key;
    const char *bic;
    const char *node_id;
    const char *key_id;
    const char *limits[4]; /* payment_max_out, daily_max_out, payment_max_in, daily_max_in */
    bool json;
} peer_args;

static const char *const peer_limit_options[4] = {"--payment-max-out", "--daily-max-out",
                                                  "--payment-max-in", "--daily-max-in"};

/* Returns false (after printing why) on an unknown option or a missing value. */
static bool peer_parse_args(const char *command, int argc, char **argv, peer_args *args)
{
    memset(args, 0, sizeof(*args));
    for (int i = 2; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "--json") == 0) {
            args->json = true;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(option, "--data") == 0) slot = &args->data_dir;
        if (strcmp(option, "--name") == 0) slot = &args->name;
        if (strcmp(option, "--currency") == 0) slot = &args->currency;
        if (strcmp(option, "--url") == 0) slot = &args->url;
        if (strcmp(option, "--public-key") == 0) slot = &args->public_key;
        if (strcmp(option, "--bic") == 0) slot = &args->bic;
        if (strcmp(option, "--node-id") == 0) slot = &args->node_id;
        if (strcmp(option, "--key-id") == 0) slot = &args->key_id;
        for (int l = 0; l < 4; l++) {
            if (strcmp(option, peer_limit_options[l]) == 0) slot = &args->limits[l];
        }
        if (slot == NULL || value == NULL || *slot != NULL) {
            fprintf(stderr, "corridor peer %s: %s option '%s'\n", command,
                    slot == NULL    ? "unknown"
                    : value == NULL ? "no value for"
                                    : "repeated",
                    option);
            return false;
        }
        *slot = value;
        i++;
    }
    if (args->data_dir == NULL) {
        fprintf(stderr, "corridor peer %s: --data is required\n", command);
        return false;
    }
    return true;
}

/* Reads the 64 hex digits of a public key from text or from @FILE (e.g. a node's node.pub). */
static bool peer_public_key(const char *text, uint8_t out[COR_WIRE_PUBLIC_KEY_SIZE])
{
    char buffer[COR_WIRE_PUBLIC_KEY_SIZE * 2 + 8];
    if (text[0] == '@') {
        FILE *file = fopen(text + 1, "r");
        if (file == NULL) {
            fprintf(stderr, "corridor peer add: cannot open '%s': %s\n", text + 1, strerror(errno));
            return false;
        }
        size_t size = fread(buffer, 1, sizeof(buffer) - 1, file);
        fclose(file);
        buffer[size] = '\0';
        while (size > 0 && isspace((unsigned char)buffer[size - 1]))
            buffer[--size] = '\0';
    } else if (strlen(text) < sizeof(buffer)) {
        snprintf(buffer, sizeof(buffer), "%s", text);
    } else {
        buffer[0] = '\0';
    }
    bool ok = strlen(buffer) == COR_WIRE_PUBLIC_KEY_SIZE * 2;
    for (size_t i = 0; ok && i < COR_WIRE_PUBLIC_KEY_SIZE; i++) {
        char pair[3] = {buffer[2 * i], buffer[2 * i + 1], '\0'};
        ok = isxdigit((unsigned char)pair[0]) && isxdigit((unsigned char)pair[1]);
        if (ok) out[i] = (uint8_t)strtoul(pair, NULL, 16);
    }
    if (!ok) fprintf(stderr, "corridor peer add: public key must be 64 hex digits\n");
    return ok;
}

static int peer_load(const char *command, const char *data_dir, char *path, size_t path_size,
                     cor_node_config *config)
{
    int n = snprintf(path, path_size, "%s/%s", data_dir, COR_NODE_CONFIG_FILE);
    if (n < 0 || (size_t)n >= path_size) {
        fprintf(stderr, "corridor peer %s: data directory path too long\n", command);
        return COR_EXIT_USAGE;
    }
    char detail[512] = "";
    cor_error rc = cor_node_config_load(path, config, detail, sizeof(detail));
    if (rc != COR_OK) {
        fprintf(stderr, "corridor peer %s: %s\n", command, detail[0] ? detail : cor_strerror(rc));
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}

static int peer_save(const char *command, const char *path, const cor_node_config *config)
{
    char detail[320] = "";
    if (cor_node_config_check(config, detail, sizeof(detail), NULL) != COR_OK) {
        fprintf(stderr, "corridor peer %s: %s\n", command, detail);
        return COR_EXIT_USAGE;
    }
    cor_error rc = cor_node_config_replace(path, config);
    if (rc != COR_OK) {
        fprintf(stderr, "corridor peer %s: cannot replace '%s': %s\n", command, path,
                cor_strerror(rc));
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}

/* Fills peer from the options; false (after printing why) on a bad value. */
static bool peer_from_args(const peer_args *args, cor_node_peer_config *peer)
{
    memset(peer, 0, sizeof(*peer));
    if (!cor_node_config_wire_name_valid(args->name)) {
        fprintf(stderr,
                "corridor peer add: name '%s' must be 1 to 16 characters of "
                "A-Z a-z 0-9 . _ -\n",
                args->name);
        return false;
    }
    snprintf(peer->name, sizeof(peer->name), "%s", args->name);
    const cor_currency *currency = cor_currency_by_alpha(args->currency, strlen(args->currency));
    if (currency == NULL) {
        fprintf(stderr, "corridor peer add: unknown currency '%s'\n", args->currency);
        return false;
    }
    memcpy(peer->currency, currency->alpha, 4);
    peer->currency_numeric = currency->numeric;
    peer->node_id = currency->numeric;
    uint64_t number = 0;
    if (args->node_id != NULL) {
        if (!cor_cli_parse_u64(args->node_id, &number) || number == 0 || number > UINT32_MAX) {
            fprintf(stderr, "corridor peer add: --node-id must be 1 .. 4294967295\n");
            return false;
        }
        peer->node_id = (uint32_t)number;
    }
    if (args->bic == NULL) {
        cor_node_config_default_bic(peer->currency, peer->bic);
    } else if (strlen(args->bic) >= sizeof(peer->bic) || !cor_iso_bic_valid(args->bic)) {
        fprintf(stderr, "corridor peer add: bic '%s' is not a BIC8 or BIC11\n", args->bic);
        return false;
    } else {
        snprintf(peer->bic, sizeof(peer->bic), "%s", args->bic);
    }
    if (!cor_node_config_url_valid(args->url)) {
        fprintf(stderr,
                "corridor peer add: url '%s' must be http(s)://host[:port][/prefix], at most "
                "%u characters, without a final '/'\n",
                args->url, COR_NODE_PEER_URL_SIZE_MAX - 1);
        return false;
    }
    snprintf(peer->url, sizeof(peer->url), "%s", args->url);
    if (!peer_public_key(args->public_key, peer->public_key)) return false;
    peer->key_id = 1;
    if (args->key_id != NULL) {
        if (!cor_cli_parse_u64(args->key_id, &number) || number > UINT32_MAX) {
            fprintf(stderr, "corridor peer add: --key-id must be 0 .. 4294967295\n");
            return false;
        }
        peer->key_id = (uint32_t)number;
    }
    cor_u128 *limits[4] = {&peer->payment_max_out, &peer->daily_max_out, &peer->payment_max_in,
                           &peer->daily_max_in};
    for (int l = 0; l < 4; l++) {
        const char *text = args->limits[l];
        if (text != NULL && !cor_u128_parse(text, strlen(text), limits[l])) {
            fprintf(stderr, "corridor peer add: %s must be a decimal amount in minor units\n",
                    peer_limit_options[l]);
            return false;
        }
    }
    return true;
}

static int peer_add(int argc, char **argv)
{
    peer_args args;
    if (!peer_parse_args("add", argc, argv, &args)) {
        peer_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (args.name == NULL || args.currency == NULL || args.url == NULL || args.public_key == NULL ||
        args.json) {
        fprintf(stderr, "corridor peer add: --name, --currency, --url and --public-key are "
                        "required\n");
        peer_usage(stderr);
        return COR_EXIT_USAGE;
    }
    cor_node_peer_config peer;
    if (!peer_from_args(&args, &peer)) return COR_EXIT_USAGE;
    static cor_node_config config;
    char path[PATH_MAX];
    int status = peer_load("add", args.data_dir, path, sizeof(path), &config);
    if (status != COR_EXIT_OK) return status;
    int index = cor_node_config_peer_find(&config, peer.name);
    bool replaced = index >= 0;
    if (!replaced) {
        if (config.peer_count == COR_WIRE_PEERS_MAX) {
            fprintf(stderr, "corridor peer add: already %u peers\n", COR_WIRE_PEERS_MAX);
            return COR_EXIT_ERROR;
        }
        index = (int)config.peer_count++;
    }
    config.peers[index] = peer;
    status = peer_save("add", path, &config);
    if (status != COR_EXIT_OK) return status;
    printf("peer '%s' %s in %s (node id %u, currency %s, %s); restart the node to apply\n",
           peer.name, replaced ? "replaced" : "added", path, peer.node_id, peer.currency, peer.url);
    return COR_EXIT_OK;
}

static int peer_remove(int argc, char **argv)
{
    peer_args args;
    if (!peer_parse_args("remove", argc, argv, &args)) {
        peer_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (args.name == NULL || args.currency || args.url || args.public_key || args.bic ||
        args.node_id || args.key_id || args.json) {
        fprintf(stderr, "corridor peer remove: takes --data and --name only\n");
        return COR_EXIT_USAGE;
    }
    static cor_node_config config;
    char path[PATH_MAX];
    int status = peer_load("remove", args.data_dir, path, sizeof(path), &config);
    if (status != COR_EXIT_OK) return status;
    int index = cor_node_config_peer_find(&config, args.name);
    if (index < 0) {
        fprintf(stderr, "corridor peer remove: no peer named '%s' in %s\n", args.name, path);
        return COR_EXIT_ERROR;
    }
    for (uint32_t i = (uint32_t)index; i + 1 < config.peer_count; i++) {
        config.peers[i] = config.peers[i + 1];
    }
    config.peer_count--;
    status = peer_save("remove", path, &config);
    if (status != COR_EXIT_OK) return status;
    printf("peer '%s' removed from %s; restart the node to apply\n", args.name, path);
    return COR_EXIT_OK;
}

/* A JSON string; the node's name is the only field the configuration lets hold '"'. */
static void peer_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            printf("\\%c", *p);
        } else if (*p < 0x20) {
            printf("\\u%04x", *p);
        } else {
            putchar(*p);
        }
    }
    putchar('"');
}

static int peer_list(int argc, char **argv)
{
    peer_args args;
    if (!peer_parse_args("list", argc, argv, &args)) {
        peer_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (args.name || args.currency || args.url || args.public_key || args.bic || args.node_id ||
        args.key_id) {
        fprintf(stderr, "corridor peer list: takes --data and --json only\n");
        return COR_EXIT_USAGE;
    }
    static cor_node_config config;
    char path[PATH_MAX];
    int status = peer_load("list", args.data_dir, path, sizeof(path), &config);
    if (status != COR_EXIT_OK) return status;
    if (args.json) {
        printf("{\"node\":{\"name\":");
        peer_json_string(config.name);
        printf(",\"node_id\":%u,\"currency\":\"%s\",\"bic\":\"%s\"},\"peers\":[", config.node_id,
               config.currency, config.bic);
    } else {
        printf("%-16s %10s %-8s %-11s %-8s %s\n", "name", "node_id", "currency", "bic", "key_id",
               "url");
    }
    for (uint32_t i = 0; i < config.peer_count; i++) {
        const cor_node_peer_config *p = &config.peers[i];
        char key[COR_WIRE_PUBLIC_KEY_SIZE * 2 + 1];
        for (size_t k = 0; k < COR_WIRE_PUBLIC_KEY_SIZE; k++) {
            snprintf(key + 2 * k, 3, "%02x", p->public_key[k]);
        }
        char limits[4][COR_U128_DECIMAL_SIZE_MAX];
        cor_u128_format(p->payment_max_out, limits[0]);
        cor_u128_format(p->daily_max_out, limits[1]);
        cor_u128_format(p->payment_max_in, limits[2]);
        cor_u128_format(p->daily_max_in, limits[3]);
        if (args.json) {
            /* Peer fields passed the configuration's character checks: nothing to escape. */
            printf("%s{\"name\":\"%s\",\"node_id\":%u,\"currency\":\"%s\",\"bic\":\"%s\","
                   "\"url\":\"%s\",\"public_key\":\"%s\",\"key_id\":%u,"
                   "\"payment_max_out\":\"%s\",\"daily_max_out\":\"%s\","
                   "\"payment_max_in\":\"%s\",\"daily_max_in\":\"%s\"}",
                   i == 0 ? "" : ",", p->name, p->node_id, p->currency, p->bic, p->url, key,
                   p->key_id, limits[0], limits[1], limits[2], limits[3]);
        } else {
            printf("%-16s %10u %-8s %-11s %-8u %s\n", p->name, p->node_id, p->currency, p->bic,
                   p->key_id, p->url);
        }
    }
    if (args.json) printf("]}\n");
    return COR_EXIT_OK;
}

int cor_cli_peer(int argc, char **argv)
{
    if (argc < 2) {
        peer_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (strcmp(argv[1], "add") == 0) return peer_add(argc, argv);
    if (strcmp(argv[1], "list") == 0) return peer_list(argc, argv);
    if (strcmp(argv[1], "remove") == 0) return peer_remove(argc, argv);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        peer_usage(stdout);
        return COR_EXIT_OK;
    }
    fprintf(stderr, "corridor peer: unknown subcommand '%s'\n", argv[1]);
    peer_usage(stderr);
    return COR_EXIT_USAGE;
}
