/* corridor init and corridor serve: thin wrappers over include/corridor/node.h. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "corridor/node.h"

static void init_usage(FILE *out)
{
    fprintf(out, "usage: corridor init --data DIR --currency CODE --node-name NAME [--port P]\n"
                 "                     [--node-id N] [--bic BIC]\n");
}

int cor_cli_init(int argc, char **argv)
{
    cor_node_init_options options = {0};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t port = 0;
        if (strcmp(argv[i], "--data") == 0 && value) {
            options.data_dir = value;
        } else if (strcmp(argv[i], "--currency") == 0 && value) {
            options.currency = value;
        } else if (strcmp(argv[i], "--node-name") == 0 && value) {
            options.node_name = value;
        } else if (strcmp(argv[i], "--port") == 0 && value && cor_cli_parse_u64(value, &port) &&
                   port >= 1 && port <= 65535) {
            options.port = (uint16_t)port;
        } else if (strcmp(argv[i], "--node-id") == 0 && value &&
                   cor_cli_parse_u64(value, &port) && port >= 1 && port <= UINT32_MAX) {
            options.node_id = (uint32_t)port;
        } else if (strcmp(argv[i], "--bic") == 0 && value) {
            options.bic = value;
        } else {
            fprintf(stderr, "corridor init: bad option '%s'\n", argv[i]);
            init_usage(stderr);
            return COR_EXIT_USAGE;
        }
        i++;
    }
    if (!options.data_dir || !options.currency || !options.node_name) {
        init_usage(stderr);
        return COR_EXIT_USAGE;
    }
    char key[COR_NODE_API_KEY_TEXT_SIZE];
    char detail[512] = "";
    cor_error rc = cor_node_init(&options, key, sizeof(key), detail, sizeof(detail));
    if (rc != COR_OK) {
        fprintf(stderr, "corridor init: %s\n", detail[0] ? detail : cor_strerror(rc));
        return rc == COR_ERR_INVALID ? COR_EXIT_USAGE : COR_EXIT_ERROR;
    }
    printf("node '%s' created in %s (currency %s)\n", options.node_name, options.data_dir,
           options.currency);
    printf("operator api key (shown once; store it now):\n%s\n", key);
    memset(key, 0, sizeof(key));
    return COR_EXIT_OK;
}

int cor_cli_serve(int argc, char **argv)
{
    cor_node_serve_options options = {0};
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t port = 0;
        if (strcmp(argv[i], "--data") == 0 && value) {
            options.data_dir = value;
        } else if (strcmp(argv[i], "--port") == 0 && value && cor_cli_parse_u64(value, &port) &&
                   port >= 1 && port <= 65535) {
            options.port = (uint16_t)port;
        } else {
            fprintf(stderr, "corridor serve: bad option '%s'\n", argv[i]);
            fprintf(stderr, "usage: corridor serve --data DIR [--port P]\n");
            return COR_EXIT_USAGE;
        }
        i++;
    }
    if (options.data_dir == NULL) {
        fprintf(stderr, "usage: corridor serve --data DIR [--port P]\n");
        return COR_EXIT_USAGE;
    }
    char detail[512] = "";
    cor_error rc = cor_node_serve(&options, detail, sizeof(detail));
    if (rc != COR_OK) {
        fprintf(stderr, "corridor serve: %s (%s)\n", detail[0] ? detail : cor_strerror(rc),
                cor_error_name(rc));
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}
