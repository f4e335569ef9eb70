/*
 * Test support for multi-process cross-border tests: two real `corridor serve` processes
 * (COR_BIN), RU (RUB, node id 643) and IR (IRR, node id 364), peered with each other on
 * loopback, each with one bank (participant 1) and FX provider 1 (participant 2, fx id 1),
 * funded, FX mapped and rates published. Nodes are started and stopped by PID only.
 *
 * Every node opened here is remembered in a small registry so that a Criterion .fini can
 * kill and reap whatever is still running (cor_xbk_reap_all) even when an assertion failed
 * in the middle of a test.
 *
 * Thread safety: cor_xbk_request and cor_xbk_pay may be called from any thread (they never
 * assert); everything else asserts with Criterion and belongs on the test's main thread.
 */
#ifndef COR_TEST_XB_KILL_SUPPORT_H
#define COR_TEST_XB_KILL_SUPPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node_support.h"

/* Money issued by the setup (minor units), per node and participant. */
#define COR_XBK_RU_BANK_FUNDS "1000000000000"
#define COR_XBK_RU_FX_FUNDS   "1000000000000"
#define COR_XBK_IR_BANK_FUNDS "1000000000000000"
#define COR_XBK_IR_FX_FUNDS   "1000000000000000"

/* Batches between snapshots in the nodes' configuration (the default is 100,000). */
#define COR_XBK_SNAPSHOT_EVERY_OPS 500u

typedef struct cor_xbk_node {
    cor_test_node t;    /* dir (data in t.dir/n, log in t.dir/serve.log), port, pid, keys */
    char name[8];       /* "RU" or "IR" */
    char currency[4];   /* "RUB" or "IRR" */
    char peer_name[8];  /* the other node's name */
    char bank_key[128]; /* participant 1 (bank) */
    char fx_key[128];   /* participant 2 (FX provider, fx id 1) */
} cor_xbk_node;

typedef struct cor_xbk_net {
    cor_xbk_node ru;
    cor_xbk_node ir;
} cor_xbk_net;

/* Creates both data directories (fresh temporary directories, free loopback ports), peers
 * them, starts both and runs cor_xbk_net_setup. Asserts success. */
void cor_xbk_net_open(cor_xbk_net *net);
/* Starts serve on the node's data directory and waits (bounded) until /healthz answers;
 * asserts with the log's tail when the node exits or does not come up. */
void cor_xbk_node_start(cor_xbk_node *node);
/* Participants, keys, funding (fixed funding ids, so it is idempotent), FX mapping, rates. */
void cor_xbk_net_setup(cor_xbk_net *net);
/* SIGKILLs (if running) and removes both nodes; forgets them in the registry. */
void cor_xbk_net_close(cor_xbk_net *net);
/* SIGKILLs every registered node still running, reaps it and removes its directory. */
void cor_xbk_reap_all(void);

/* One HTTP request to base_url + path; never asserts. Returns the HTTP status, or 0 when
 * the node could not be reached. *json_out (may be NULL) gets the parsed body or NULL. */
long cor_xbk_request(const char *base_url, const char *method, const char *path, const char *key,
                     const char *body, long timeout_s, json_t **json_out);

/* What became of one payment request. */
typedef enum cor_xbk_outcome {
    COR_XBK_NO_QUOTE = 0, /* the quote failed: no payment was attempted */
    COR_XBK_ACKED,        /* 202/200: the origin acknowledged it */
    COR_XBK_REFUSED,      /* a 4xx from the origin: nothing may be recorded */
    COR_XBK_UNKNOWN,      /* transport error or 5xx: may or may not be recorded */
} cor_xbk_outcome;

/* Quotes source_amount towards the other node and pays it to creditor (a participant id on
 * the other node) under uetr. With bogus_quote the payment names a quote id that does not
 * exist instead (the origin must refuse it, 422 quote_unknown). Never asserts. */
cor_xbk_outcome cor_xbk_pay(const cor_xbk_node *origin, const char *creditor,
                            uint64_t source_amount, const char *uetr, bool bogus_quote);

/* Writes a random UUID v4 drawn from *state (splitmix64). */
void cor_xbk_uuid(uint64_t *state, char out[37]);
uint64_t cor_xbk_rand(uint64_t *state);

/* Runs COR_BIN with argv (argv[0] is the subcommand; NULL-terminated), captures up to
 * out_size - 1 bytes of its standard output in out, and returns its exit status (-1 when
 * it did not exit normally). Bounded: killed after 60 s. */
int cor_xbk_cli(char *const argv[], char *out, size_t out_size);

#endif
