/*
 * A local corridor network for the demo, benchmarks and multi-process tests: two real nodes
 * (`corridor serve` child processes) on loopback, RU (RUB, node id 643) and IR (IRR, node id
 * 364), peered both ways, each with a central bank, three commercial banks and one FX
 * provider, all funded by central-bank issuance; the FX provider is mapped to the same fx id
 * on both nodes and publishes rates both ways.
 *
 * Nothing is simulated: cor_devnet_open runs `corridor init` and `corridor peer add`, starts
 * `corridor serve` (fork + exec of options.corridor_bin) and sets everything up through the
 * HTTP API, exactly as an operator would. Every wait is bounded in time.
 *
 * Layout under options.dir (which must exist): <dir>/ru/data (the node's data directory),
 * <dir>/ru/serve.log (the node's stderr, appended across restarts), <dir>/ru/init.log; the
 * same under <dir>/ir.
 *
 * Threads: the cor_devnet functions are called from one thread (the one that opened it; the
 * children get SIGTERM if that thread dies, PR_SET_PDEATHSIG). A cor_devnet_client belongs to
 * one thread at a time; use one per thread. Node records from cor_devnet_node are read-only
 * and stay valid until cor_devnet_close (pid and port change only in kill/stop/restart).
 */
#ifndef COR_BENCH_DEVNET_H
#define COR_BENCH_DEVNET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "corridor/error.h"
#include "corridor/u128.h"

#define COR_DEVNET_NODES_COUNT 2u
#define COR_DEVNET_BANKS_COUNT 3u
#define COR_DEVNET_RU          0u /* index of node RU */
#define COR_DEVNET_IR          1u /* index of node IR */
#define COR_DEVNET_FX_ID       1u /* the FX provider's fx id, the same on both nodes */
#define COR_DEVNET_KEY_SIZE    96u
#define COR_DEVNET_PATH_SIZE   512u

typedef struct cor_devnet_options {
    const char *corridor_bin;  /* path of the corridor binary to exec; required */
    const char *dir;           /* existing directory for the nodes' files; required */
    uint16_t port_base;        /* node i listens on port_base + i; 0: free ports chosen */
    bool domestic_only;        /* true: no peering, no FX setup (two separate national systems) */
    bool remove_on_close;      /* cor_devnet_close removes <dir>/ru and <dir>/ir */
    uint32_t start_timeout_ms; /* per node, until /healthz answers 200; 0: 20,000 */
    uint32_t stop_timeout_ms;  /* SIGTERM until the process is gone (then SIGKILL); 0: 30,000 */
    FILE *log;                 /* progress and failure messages; NULL: silent */
} cor_devnet_options;

typedef struct cor_devnet_participant {
    uint32_t id; /* participant id on its node */
    char name[32];
    char bic[12];
    char role[16]; /* "central_bank", "bank" or "fx_provider" */
    char api_key[COR_DEVNET_KEY_SIZE];
    cor_u128 funded; /* issued into its account by cor_devnet_open (minor) */
} cor_devnet_participant;

typedef struct cor_devnet_node_info {
    char name[8];      /* "RU", "IR": also the peer name on the other node */
    char currency[4];  /* "RUB", "IRR" */
    uint32_t node_id;  /* 643, 364 */
    char node_bic[12]; /* the node's own BIC */
    uint16_t port;
    char url[64]; /* http://127.0.0.1:<port> */
    char data_dir[COR_DEVNET_PATH_SIZE];
    char log_path[COR_DEVNET_PATH_SIZE];
    char operator_key[COR_DEVNET_KEY_SIZE];
    char public_key_hex[65]; /* node.pub */
    pid_t pid;               /* 0 when not running */
    cor_devnet_participant central_bank;
    cor_devnet_participant banks[COR_DEVNET_BANKS_COUNT];
    cor_devnet_participant fx; /* mapped to COR_DEVNET_FX_ID (unless domestic_only) */
    cor_u128 issued;           /* sum of every participant's funding (minor) */
    uint64_t funding_ids_used; /* funding ids 1 ... this were used by the devnet */
} cor_devnet_node_info;

/* The rate sheet the FX provider publishes from node `from` towards the other node. */
typedef struct cor_devnet_rate {
    uint64_t rate_num; /* destination minor units per rate_den source minor units */
    uint64_t rate_den;
    uint32_t spread_ppm;
    uint64_t fee_minor;  /* source currency */
    uint64_t amount_min; /* source minor units */
    uint64_t amount_max;
} cor_devnet_rate;

typedef struct cor_devnet cor_devnet;

/*
 * Builds and starts the network. Success: *net_out goes to cor_devnet_close. Failure: the
 * nodes it started are stopped, *net_out is NULL and options->log says what failed.
 * Errors: COR_ERR_INVALID (options), COR_ERR_IO (a command, a file, a port, a process),
 * COR_ERR_PARSE (an answer not understood), COR_ERR_CLOSED (a node did not become healthy
 * in time), COR_ERR_NOMEM.
 */
cor_error cor_devnet_open(const cor_devnet_options *options, cor_devnet **net_out);

/* Node index (COR_DEVNET_RU or COR_DEVNET_IR); never NULL for a valid index. */
const cor_devnet_node_info *cor_devnet_node(const cor_devnet *net, uint32_t index);

/* The rate sheet published on node `index` (towards the other node). */
const cor_devnet_rate *cor_devnet_rate_of(const cor_devnet *net, uint32_t index);

/* Publishes the FX provider's rate sheets again (valid one hour from now) on both nodes. */
cor_error cor_devnet_publish_rates(cor_devnet *net);

/* SIGKILL the node and reap it. No-op when it is not running. */
void cor_devnet_kill(cor_devnet *net, uint32_t index);

/*
 * SIGTERM, wait up to stop_timeout_ms for the process to end (then SIGKILL). Returns its exit
 * status (0 = clean), -N when killed by signal N, 0 when it was not running.
 */
int cor_devnet_stop(cor_devnet *net, uint32_t index);

/* Starts `serve` again on the same data directory and waits for /healthz (bounded).
 * Errors: COR_ERR_IO (fork/exec), COR_ERR_CLOSED (exited or not healthy in time). */
cor_error cor_devnet_restart(cor_devnet *net, uint32_t index);

/* Stops every running node (SIGTERM, bounded), removes the files if asked, frees. NULL ok. */
void cor_devnet_close(cor_devnet *net);

/* Removes a directory tree (no symbolic links followed); COR_OK when it is gone. */
cor_error cor_devnet_remove_tree(const char *path);

/* ---------------------------------------------------------------------------------------- */
/* HTTP client (libcurl easy handle, keeps connections alive); one per thread               */
/* ---------------------------------------------------------------------------------------- */

typedef struct cor_devnet_client cor_devnet_client;

typedef struct cor_devnet_response {
    long status;  /* HTTP status; 0 when no answer (connection refused, timeout) */
    json_t *json; /* parsed body, or NULL (not JSON, or no answer); owned by the response */
} cor_devnet_response;

/* NULL when out of memory. timeout_ms bounds each request (0: 30,000). */
cor_devnet_client *cor_devnet_client_open(uint32_t timeout_ms);
void cor_devnet_client_close(cor_devnet_client *client); /* NULL is a no-op */

/*
 * One request to base_url + path with `Authorization: Bearer key` (key may be NULL) and a
 * JSON body (may be NULL). out is always filled; release it with cor_devnet_response_release.
 * Returns COR_OK when an HTTP answer came (whatever its status), COR_ERR_IO otherwise.
 */
cor_error cor_devnet_request(cor_devnet_client *client, const char *base_url, const char *method,
                             const char *path, const char *key, const char *body,
                             cor_devnet_response *out);
void cor_devnet_response_release(cor_devnet_response *response);

/* Field helpers on a response: a string member (NULL when absent), "error.code". */
const char *cor_devnet_str(const json_t *object, const char *field);
const char *cor_devnet_error_code(const cor_devnet_response *response);
/* A decimal-string member parsed as u128; false when absent or not a decimal. */
bool cor_devnet_u128(const json_t *object, const char *field, cor_u128 *out);

#endif
