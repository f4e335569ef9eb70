/*
 * Test support for the node: start a real `corridor serve` (COR_BIN) on a loopback port in a
 * fresh data directory, stop it by PID, and talk to it over HTTP with libcurl.
 */
#ifndef COR_TEST_NODE_SUPPORT_H
#define COR_TEST_NODE_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct cor_test_node {
    char dir[256];          /* data directory (removed by cor_test_node_cleanup) */
    char operator_key[128]; /* printed by init */
    unsigned port;
    pid_t pid; /* 0 when not running */
    char base_url[64];
} cor_test_node;

typedef struct cor_test_response {
    long status;
    char *body; /* NUL-terminated; free with cor_test_response_free */
    size_t size;
    json_t *json; /* parsed body or NULL */
} cor_test_response;

/* Path of the corridor binary (COR_BIN, else build/corridor). */
const char *cor_test_bin(void);

/* Runs `corridor init` in a new temporary directory and starts `serve`; asserts success. */
void cor_test_node_init(cor_test_node *node);
/* Only the `corridor init` part (data in node->dir/n, node name and currency given, a free
 * port chosen): the node is not started (cor_test_node_start). */
void cor_test_node_create(cor_test_node *node, const char *currency, const char *name);
/* Starts serve on node->dir and waits (bounded) until /healthz answers. */
void cor_test_node_start(cor_test_node *node);
/* Sends signal to the node and waits (bounded) for it; returns the exit status (or -signal). */
int cor_test_node_signal(cor_test_node *node, int signal_number);
/* The last bytes of the node's stderr log (for assertion messages); never NULL. */
const char *cor_test_node_log_tail(const cor_test_node *node);
/* Stops the node if running and removes its directory. */
void cor_test_node_cleanup(cor_test_node *node);

/* One HTTP request; key may be NULL (no Authorization), body may be NULL. */
void cor_test_http(const cor_test_node *node, const char *method, const char *path, const char *key,
                   const char *body, cor_test_response *out);
/* The same with a raw body of size bytes (may hold NULs) and a chosen Content-Type. */
void cor_test_http_bytes(const cor_test_node *node, const char *method, const char *path,
                         const char *key, const char *content_type, const void *body, size_t size,
                         cor_test_response *out);
void cor_test_response_free(cor_test_response *response);

/* Convenience: string field of the response JSON (NULL when absent). */
const char *cor_test_str(const cor_test_response *response, const char *field);
/* The "error.code" of an error response (NULL when absent). */
const char *cor_test_error_code(const cor_test_response *response);

/* Creates a participant (operator) and an API key for it; returns its id, fills key. */
unsigned cor_test_participant(const cor_test_node *node, const char *name, const char *bic,
                              const char *role, char *key, size_t key_size);
/* Credits amount to participant (operator funding with a fresh funding id). */
void cor_test_fund(const cor_test_node *node, unsigned participant, const char *amount);
/* The participant's "balance.net" as seen by the operator. */
long long cor_test_net(const cor_test_node *node, unsigned participant);

#endif
