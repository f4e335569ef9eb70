/*
 * Two real nodes, RU (RUB) and IR (IRR), on loopback; client threads stream cross-border
 * payments both ways (quote + pay) while the main thread SIGKILLs either node (or both) at
 * random moments and restarts it from its data directory. After each run the traffic stops,
 * the corridor is left to go quiet (no payment open on either node) and the invariants are
 * checked through the APIs only:
 *
 *   (a) every payment an origin acknowledged (202/200) exists there and ends committed or
 *       rejected, and the beneficiary holds a record of it in the same state with the same
 *       amounts (the protocol's guarantee: A finalizes only on an answer B sends from a
 *       durable record, and a PACS028 after the deadline makes B record AB05, so a payment
 *       B never saw cannot end on A); a request the origin refused (4xx) exists nowhere; a
 *       request whose answer was lost to the kill exists on both nodes or on neither;
 *   (b) nothing acknowledged is lost after a SIGKILL (part of (a));
 *   (c) each node's books balance (sum of nets == money issued) and no pending leg remains;
 *   (d) the FX provider's reconciliation summaries agree on both nodes for both directions,
 *       match the committed payments, and its gain on each node equals the committed source
 *       amounts received minus the committed destination amounts paid there.
 *
 * The seed is printed; COR_SEED=<n> replays the same schedule (the kill moments are
 * relative to real time, so a replay repeats the choices, not the exact interleaving).
 * Then `corridor reconcile` must exit 0, `corridor track` must show both sides, and both
 * nodes must stop cleanly with journals that `corridor verify` proves intact.
 *
 * A second test builds two separate networks and reconciles RU of one against IR of the
 * other: exit 1 with every differing UETR listed.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../support/xb_kill_support.h"

#define XBK_RUNS             3
#define XBK_KILLS_PER_RUN    17     /* 51 kills, in every build (about 130 s under ASan) */
#define XBK_CLIENTS          4      /* two each way */
#define XBK_CLIENT_LOOP_MAX  100000 /* bound on each client's loop */
#define XBK_RECORDS_MAX      200000
#define XBK_QUIET_WAIT_MS    60000 /* deadline 30 s + re-send backoff 5 s, with room */
#define XBK_UNKNOWN_CREDITOR "77"

typedef struct xbk_record {
    char uetr[37];
    uint8_t origin; /* 0 RU, 1 IR */
    uint8_t outcome;
    bool bad_creditor;
} xbk_record;

static cor_xbk_net net;
static cor_xbk_net other; /* the second network of the mismatch test */
static xbk_record *records;
static _Atomic uint32_t record_count;
static pthread_mutex_t record_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t clients[XBK_CLIENTS];
static bool clients_running;
static _Atomic bool clients_stop;
static uint64_t seed;

static void sleep_ms(unsigned ms)
{
    struct timespec pause = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
    nanosleep(&pause, NULL);
}

static void traffic_stop(void)
{
    if (!clients_running) return;
    atomic_store(&clients_stop, true);
    for (int i = 0; i < XBK_CLIENTS; i++)
        pthread_join(clients[i], NULL);
    clients_running = false;
}

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    records = calloc(XBK_RECORDS_MAX, sizeof(*records));
    cr_assert(records != NULL);
    atomic_store(&record_count, 0);
}

static void teardown(void)
{
    traffic_stop();     /* no client thread outlives the test */
    cor_xbk_reap_all(); /* every node still running: SIGKILL by PID, reaped, removed */
    free(records);
    records = NULL;
    curl_global_cleanup();
}

TestSuite(xborder_kill, .init = setup, .fini = teardown, .timeout = 900);

/* ---------------------------------------------------------------------------------------- */

typedef struct client_args {
    unsigned index;
    unsigned run;
} client_args;

static client_args client_argv[XBK_CLIENTS];

static void record_add(const char *uetr, uint8_t origin, cor_xbk_outcome outcome, bool bad)
{
    pthread_mutex_lock(&record_lock);
    uint32_t n = atomic_load(&record_count);
    if (n < XBK_RECORDS_MAX) {
        snprintf(records[n].uetr, sizeof(records[n].uetr), "%s", uetr);
        records[n].origin = origin;
        records[n].outcome = (uint8_t)outcome;
        records[n].bad_creditor = bad;
        atomic_store(&record_count, n + 1);
    }
    pthread_mutex_unlock(&record_lock);
}

static void *client_main(void *argument)
{
    const client_args *args = argument;
    uint64_t rng = seed ^ ((uint64_t)(args->run * XBK_CLIENTS + args->index + 1) << 40);
    uint8_t origin = (uint8_t)(args->index % 2);
    const cor_xbk_node *node = origin == 0 ? &net.ru : &net.ir;
    for (unsigned i = 0; i < XBK_CLIENT_LOOP_MAX && !atomic_load(&clients_stop); i++) {
        if (atomic_load(&record_count) >= XBK_RECORDS_MAX) break;
        uint64_t r = cor_xbk_rand(&rng);
        uint64_t amount = origin == 0 ? 1000 + r % 100000 : 500000 + r % 50000000;
        bool bad = (r >> 32) % 10 == 0; /* a creditor the beneficiary does not know: AC03 */
        char uetr[37];
        cor_xbk_uuid(&rng, uetr);
        bool bogus = (r >> 40) % 50 == 0; /* an unknown quote: refused, recorded nowhere */
        cor_xbk_outcome outcome =
            cor_xbk_pay(node, bad ? XBK_UNKNOWN_CREDITOR : "1", amount, uetr, bogus);
        if (outcome == COR_XBK_NO_QUOTE) {
            sleep_ms(20); /* the node is down or restarting */
            continue;
        }
        record_add(uetr, origin, outcome, bad);
        /* A short pause keeps the stream steady without saturating a shared CI machine:
         * what matters is that payments are in flight at every kill, not their number. */
        sleep_ms(outcome == COR_XBK_UNKNOWN ? 20 : 2);
    }
    return NULL;
}

static void traffic_start(unsigned run)
{
    atomic_store(&clients_stop, false);
    for (unsigned i = 0; i < XBK_CLIENTS; i++) {
        client_argv[i] = (client_args){.index = i, .run = run};
        cr_assert_eq(pthread_create(&clients[i], NULL, client_main, &client_argv[i]), 0);
    }
    clients_running = true;
}

/* ---------------------------------------------------------------------------------------- */

static long long json_ll(json_t *object, const char *field)
{
    const char *text = json_string_value(json_object_get(object, field));
    cr_assert(text != NULL, "field %s missing", field);
    return strtoll(text, NULL, 10);
}

static unsigned open_count(const cor_xbk_node *node)
{
    json_t *json = NULL;
    long status = cor_xbk_request(node->t.base_url, "GET", "/v1/xborder/stats",
                                  node->t.operator_key, NULL, 10, &json);
    cr_assert_eq(status, 200, "%s stats: %ld", node->name, status);
    json_t *open = json_object_get(json, "open");
    cr_assert(json_is_integer(open));
    unsigned value = (unsigned)json_integer_value(open);
    json_decref(json);
    return value;
}

/* Waits (bounded) until no payment is open on either node. */
static void wait_quiet(const cor_xbk_net *n)
{
    unsigned ru = 0, ir = 0;
    for (unsigned waited = 0; waited < XBK_QUIET_WAIT_MS; waited += 100) {
        ru = open_count(&n->ru);
        ir = open_count(&n->ir);
        if (ru == 0 && ir == 0) return;
        sleep_ms(100);
    }
    cr_assert_fail("payments still open after %u ms: RU %u, IR %u (seed %" PRIu64 ")",
                   XBK_QUIET_WAIT_MS, ru, ir, seed);
}

typedef struct xbk_totals {
    long long src[2]; /* committed source amounts by origin (0 RU -> IR, 1 IR -> RU) */
    long long dst[2]; /* committed destination amounts by origin */
    long long committed[2];
    long long rejected[2];
    unsigned acked, refused, unknown_recorded, unknown_absent;
} xbk_totals;

static const char *state_of(json_t *payment)
{
    const char *state = json_string_value(json_object_get(payment, "state"));
    return state != NULL ? state : "";
}

/* (a) and (b): each request against both nodes. */
static void check_payments(const cor_xbk_net *n, xbk_totals *t)
{
    uint32_t count = atomic_load(&record_count);
    for (uint32_t i = 0; i < count; i++) {
        const xbk_record *rec = &records[i];
        const cor_xbk_node *a = rec->origin == 0 ? &n->ru : &n->ir;
        const cor_xbk_node *b = rec->origin == 0 ? &n->ir : &n->ru;
        char path[128];
        snprintf(path, sizeof(path), "/v1/xborder/payments/%s", rec->uetr);
        json_t *pa = NULL, *pb = NULL;
        long sa = cor_xbk_request(a->t.base_url, "GET", path, a->t.operator_key, NULL, 10, &pa);
        long sb = cor_xbk_request(b->t.base_url, "GET", path, b->t.operator_key, NULL, 10, &pb);
        cr_assert(sa == 200 || sa == 404, "GET %s on %s: %ld", rec->uetr, a->name, sa);
        cr_assert(sb == 200 || sb == 404, "GET %s on %s: %ld", rec->uetr, b->name, sb);
        if (rec->outcome == COR_XBK_ACKED) {
            t->acked++;
            cr_assert_eq(sa, 200,
                         "acknowledged payment %s lost by its origin %s (seed %" PRIu64 ")",
                         rec->uetr, a->name, seed);
        } else if (rec->outcome == COR_XBK_REFUSED) {
            t->refused++;
            cr_assert(sa == 404 && sb == 404, "refused payment %s recorded (%ld/%ld)", rec->uetr,
                      sa, sb);
        } else if (sa == 200) {
            t->unknown_recorded++;
        } else {
            t->unknown_absent++;
        }
        if (sa == 404) {
            cr_assert_eq(sb, 404, "%s has %s which its origin %s never recorded", b->name,
                         rec->uetr, a->name);
        } else {
            const char *state = state_of(pa);
            cr_assert(strcmp(state, "committed") == 0 || strcmp(state, "rejected") == 0,
                      "payment %s is %s on %s after the corridor went quiet", rec->uetr, state,
                      a->name);
            cr_assert_str_eq(json_string_value(json_object_get(pa, "role")), "origin");
            cr_assert_eq(sb, 200, "%s is %s on %s but %s has no record of it (seed %" PRIu64 ")",
                         rec->uetr, state, a->name, b->name, seed);
            cr_assert_str_eq(state_of(pb), state, "%s: %s on %s, %s on %s (seed %" PRIu64 ")",
                             rec->uetr, state, a->name, state_of(pb), b->name, seed);
            cr_assert_str_eq(json_string_value(json_object_get(pb, "role")), "beneficiary");
            const char *fields[] = {"source_amount", "destination_amount", "quote_id", "reason"};
            for (int f = 0; f < 4; f++) {
                cr_assert_str_eq(json_string_value(json_object_get(pa, fields[f])),
                                 json_string_value(json_object_get(pb, fields[f])),
                                 "%s: %s differs", rec->uetr, fields[f]);
            }
            if (rec->bad_creditor) {
                cr_assert_str_eq(state, "rejected", "%s to an unknown creditor", rec->uetr);
            }
            if (strcmp(state, "committed") == 0) {
                t->committed[rec->origin]++;
                t->src[rec->origin] += json_ll(pa, "source_amount");
                t->dst[rec->origin] += json_ll(pa, "destination_amount");
            } else {
                t->rejected[rec->origin]++;
            }
        }
        json_decref(pa);
        json_decref(pb);
    }
}

/* (c): sum of nets == issued, nothing pending; returns the nets of participants 1 and 2. */
static void check_books(const cor_xbk_node *node, long long issued, long long nets[3])
{
    json_t *json = NULL;
    long status = cor_xbk_request(node->t.base_url, "GET", "/v1/participants", node->t.operator_key,
                                  NULL, 10, &json);
    cr_assert_eq(status, 200);
    json_t *list = json_object_get(json, "participants");
    cr_assert(json_array_size(list) == 2);
    long long sum = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        json_t *balance = json_object_get(p, "balance");
        long long id = json_ll(p, "id");
        cr_assert(id == 1 || id == 2);
        nets[id] = json_ll(balance, "net");
        sum += nets[id];
        cr_assert_eq(json_ll(balance, "debits_pending"), 0, "%s participant %lld has a pending leg",
                     node->name, id);
        cr_assert_eq(json_ll(balance, "credits_pending"), 0, "%s participant %lld pending credit",
                     node->name, id);
    }
    cr_assert_eq(sum, issued, "%s books: nets %lld, issued %lld", node->name, sum, issued);
    json_decref(json);
}

static json_t *reconcile_get(const cor_xbk_node *node)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/xborder/reconcile?fx_id=1&peer=%s", node->peer_name);
    json_t *json = NULL;
    long status =
        cor_xbk_request(node->t.base_url, "GET", path, node->t.operator_key, NULL, 10, &json);
    cr_assert_eq(status, 200, "%s reconcile: %ld", node->name, status);
    return json;
}

static json_t *direction_of(json_t *answer, const char *from_node, const char *to_node)
{
    json_t *list = json_object_get(answer, "directions");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *d = json_array_get(list, i);
        if (strcmp(json_string_value(json_object_get(d, "from_node")), from_node) == 0 &&
            strcmp(json_string_value(json_object_get(d, "to_node")), to_node) == 0)
            return d;
    }
    cr_assert_fail("direction %s -> %s missing", from_node, to_node);
    return NULL;
}

/* (d) */
static void check_reconcile(const cor_xbk_net *n, const xbk_totals *t)
{
    json_t *ru = reconcile_get(&n->ru);
    json_t *ir = reconcile_get(&n->ir);
    const char *ends[2][2] = {{"643", "364"}, {"364", "643"}};
    for (int o = 0; o < 2; o++) {
        json_t *dr = direction_of(ru, ends[o][0], ends[o][1]);
        json_t *di = direction_of(ir, ends[o][0], ends[o][1]);
        const char *fields[] = {"count", "source_amount", "destination_amount", "digest"};
        for (int f = 0; f < 4; f++) {
            cr_assert_str_eq(json_string_value(json_object_get(dr, fields[f])),
                             json_string_value(json_object_get(di, fields[f])),
                             "reconcile %s -> %s: %s differs between RU and IR", ends[o][0],
                             ends[o][1], fields[f]);
        }
        cr_assert_eq(json_ll(dr, "count"), t->committed[o]);
        cr_assert_eq(json_ll(dr, "source_amount"), t->src[o]);
        cr_assert_eq(json_ll(dr, "destination_amount"), t->dst[o]);
    }
    json_decref(ru);
    json_decref(ir);
}

static void check_all(const cor_xbk_net *n, xbk_totals *t)
{
    memset(t, 0, sizeof(*t));
    check_payments(n, t);
    long long ru[3] = {0}, ir[3] = {0};
    check_books(&n->ru,
                strtoll(COR_XBK_RU_BANK_FUNDS, NULL, 10) + strtoll(COR_XBK_RU_FX_FUNDS, NULL, 10),
                ru);
    check_books(&n->ir,
                strtoll(COR_XBK_IR_BANK_FUNDS, NULL, 10) + strtoll(COR_XBK_IR_FX_FUNDS, NULL, 10),
                ir);
    /* The FX provider gains on each node what it received minus what it paid there. */
    cr_assert_eq(ru[2] - strtoll(COR_XBK_RU_FX_FUNDS, NULL, 10), t->src[0] - t->dst[1],
                 "FX RUB gain on RU");
    cr_assert_eq(ir[2] - strtoll(COR_XBK_IR_FX_FUNDS, NULL, 10), t->src[1] - t->dst[0],
                 "FX IRR gain on IR");
    cr_assert_eq(ru[1] - strtoll(COR_XBK_RU_BANK_FUNDS, NULL, 10), t->dst[1] - t->src[0]);
    cr_assert_eq(ir[1] - strtoll(COR_XBK_IR_BANK_FUNDS, NULL, 10), t->dst[0] - t->src[1]);
    check_reconcile(n, t);
}

static void restart(cor_xbk_node *node)
{
    cor_xbk_node_start(node);
}

Test(xborder_kill, sigkill_either_node_during_a_stream_of_payments)
{
    const char *env = getenv("COR_SEED");
    seed = env != NULL ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    fprintf(stderr, "xborder_kill: seed %" PRIu64 " (COR_SEED=%" PRIu64 " replays)\n", seed, seed);
    uint64_t rng = seed;
    cor_xbk_net_open(&net);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned kills = 0;
    xbk_totals t;
    for (unsigned run = 0; run < XBK_RUNS; run++) {
        traffic_start(run);
        sleep_ms(200);
        for (unsigned k = 0; k < XBK_KILLS_PER_RUN; k++) {
            sleep_ms((unsigned)(cor_xbk_rand(&rng) % 400));
            unsigned which = (unsigned)(cor_xbk_rand(&rng) % 7); /* 0-2 RU, 3-5 IR, 6 both */
            cor_xbk_node *victims[2] = {which <= 2 || which == 6 ? &net.ru : NULL,
                                        which >= 3 ? &net.ir : NULL};
            for (int v = 0; v < 2; v++) {
                if (victims[v] == NULL) continue;
                int status = cor_test_node_signal(&victims[v]->t, SIGKILL);
                cr_assert_eq(status, -SIGKILL, "%s exited %d before the kill: %s", victims[v]->name,
                             status, cor_test_node_log_tail(&victims[v]->t));
                kills++;
            }
            sleep_ms((unsigned)(cor_xbk_rand(&rng) % 150));
            for (int v = 0; v < 2; v++) {
                if (victims[v] != NULL) restart(victims[v]);
            }
        }
        sleep_ms(300);
        traffic_stop();
        wait_quiet(&net);
        check_all(&net, &t);
        fprintf(stderr,
                "xborder_kill: run %u: %u kills so far; %u requests: %u acked, %u refused, "
                "%u unanswered (%u recorded); RU->IR %lld committed %lld rejected; "
                "IR->RU %lld committed %lld rejected\n",
                run + 1, kills, atomic_load(&record_count), t.acked, t.refused,
                t.unknown_recorded + t.unknown_absent, t.unknown_recorded, t.committed[0],
                t.rejected[0], t.committed[1], t.rejected[1]);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "xborder_kill: %u kills in %.1f s (seed %" PRIu64 ")\n", kills,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, seed);
    cr_assert_geq(kills, XBK_RUNS * XBK_KILLS_PER_RUN);
    cr_assert(t.committed[0] > 0 && t.committed[1] > 0 && t.rejected[0] > 0 && t.rejected[1] > 0,
              "the stream exercised both outcomes both ways");
    cr_assert(t.refused > 0, "the stream exercised refusals at the origin");

    /* corridor reconcile agrees, in both output forms. */
    char out[1 << 16];
    char *argv[] = {"reconcile",
                    "--node",
                    net.ru.t.base_url,
                    "--key",
                    net.ru.t.operator_key,
                    "--peer-node",
                    net.ir.t.base_url,
                    "--peer-key",
                    net.ir.t.operator_key,
                    "--fx-id",
                    "1",
                    NULL,
                    NULL};
    int rc = cor_xbk_cli(argv, out, sizeof(out));
    cr_assert_eq(rc, 0, "corridor reconcile exit %d: %s", rc, out);
    argv[11] = "--json";
    rc = cor_xbk_cli(argv, out, sizeof(out));
    cr_assert_eq(rc, 0, "corridor reconcile --json exit %d: %s", rc, out);
    json_t *json = json_loads(out, 0, NULL);
    cr_assert(json != NULL, "reconcile --json: %s", out);
    cr_assert(json_is_true(json_object_get(json, "match")));
    json_t *dirs = json_object_get(json, "directions");
    cr_assert_eq(json_array_size(dirs), 2);
    cr_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(dirs, 0), "node"), "count")),
                     json_string_value(json_object_get(
                         json_object_get(json_array_get(dirs, 0), "peer"), "count")));
    json_decref(json);

    /* corridor track merges both sides of a committed payment. */
    uint32_t count = atomic_load(&record_count);
    const xbk_record *found = NULL;
    for (uint32_t i = 0; i < count && found == NULL; i++) {
        if (records[i].origin != 0 || records[i].outcome != COR_XBK_ACKED ||
            records[i].bad_creditor)
            continue;
        json_t *p = NULL;
        char path[128];
        snprintf(path, sizeof(path), "/v1/xborder/payments/%s", records[i].uetr);
        cor_xbk_request(net.ru.t.base_url, "GET", path, net.ru.t.operator_key, NULL, 10, &p);
        if (strcmp(state_of(p), "committed") == 0) found = &records[i];
        json_decref(p);
    }
    cr_assert(found != NULL);
    char uetr[37];
    snprintf(uetr, sizeof(uetr), "%s", found->uetr);
    char *track[] = {"track",       uetr,
                     "--node",      net.ru.t.base_url,
                     "--key",       net.ru.t.operator_key,
                     "--peer-node", net.ir.t.base_url,
                     "--peer-key",  net.ir.t.operator_key,
                     "--json",      NULL};
    rc = cor_xbk_cli(track, out, sizeof(out));
    cr_assert_eq(rc, 0, "corridor track exit %d: %s", rc, out);
    json = json_loads(out, 0, NULL);
    cr_assert(json != NULL, "track --json: %s", out);
    json_t *steps = json_object_get(json, "steps");
    bool seen_reserved = false, seen_settled = false, seen_posted = false;
    unsigned long long last = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        const char *step = json_string_value(json_object_get(s, "step"));
        const char *node = json_string_value(json_object_get(s, "node"));
        unsigned long long at =
            strtoull(json_string_value(json_object_get(s, "timestamp")), NULL, 10);
        cr_assert_geq(at, last, "track steps are ordered by time");
        last = at;
        seen_reserved |= strcmp(step, "reserved") == 0 && strcmp(node, "RU") == 0;
        seen_settled |= strcmp(step, "settled") == 0 && strcmp(node, "IR") == 0;
        seen_posted |= strcmp(step, "posted") == 0 && strcmp(node, "RU") == 0;
    }
    cr_assert(seen_reserved && seen_settled && seen_posted, "track: %s", out);
    json_decref(json);

    /* After all the kills, both nodes stop cleanly and their journals and snapshots verify
     * (checksums, hash chain, every snapshot equal to the replayed state). */
    cor_xbk_node *both[2] = {&net.ru, &net.ir};
    for (int i = 0; i < 2; i++) {
        int status = cor_test_node_signal(&both[i]->t, SIGTERM);
        cr_assert_eq(status, 0, "%s SIGTERM exit %d: %s", both[i]->name, status,
                     cor_test_node_log_tail(&both[i]->t));
        char data[300];
        snprintf(data, sizeof(data), "%s/n", both[i]->t.dir);
        char *verify[] = {"verify", "--data", data, NULL};
        rc = cor_xbk_cli(verify, out, sizeof(out));
        cr_assert_eq(rc, 0, "corridor verify %s exit %d: %s", both[i]->name, rc, out);
    }
    cor_xbk_net_close(&net);
}

/* ---------------------------------------------------------------------------------------- */

/* Pays one payment from origin and returns when it is final on both nodes. */
static void pay_final(const cor_xbk_net *n, int origin, uint64_t amount, uint64_t *rng,
                      char uetr[37])
{
    cor_xbk_uuid(rng, uetr);
    const cor_xbk_node *a = origin == 0 ? &n->ru : &n->ir;
    cr_assert_eq(cor_xbk_pay(a, "1", amount, uetr, false), COR_XBK_ACKED);
}

static bool contains(const char *haystack, const char *needle)
{
    return strstr(haystack, needle) != NULL;
}

Test(xborder_kill, reconcile_and_track_find_mismatches_and_refuse_bad_usage)
{
    uint64_t rng = 42;
    cor_xbk_net_open(&net);
    cor_xbk_net_open(&other);
    char a1[37], a2[37], a3[37], b1[37], b2[37];
    pay_final(&net, 0, 100000, &rng, a1);
    pay_final(&net, 0, 200000, &rng, a2);
    pay_final(&net, 1, 5000000, &rng, a3);
    pay_final(&other, 0, 100000, &rng, b1);
    pay_final(&other, 1, 7000000, &rng, b2);
    wait_quiet(&net);
    wait_quiet(&other);

    char out[1 << 16];
    /* The real pair matches. */
    char *same[] = {"reconcile",
                    "--node",
                    net.ru.t.base_url,
                    "--key",
                    net.ru.t.operator_key,
                    "--peer-node",
                    net.ir.t.base_url,
                    "--peer-key",
                    net.ir.t.operator_key,
                    "--fx-id",
                    "1",
                    NULL};
    cr_assert_eq(cor_xbk_cli(same, out, sizeof(out)), 0, "%s", out);
    cr_assert(contains(out, "match"), "%s", out);

    /* RU of one network against IR of the other: every payment differs. */
    char *cross[] = {"reconcile",
                     "--node",
                     net.ru.t.base_url,
                     "--key",
                     net.ru.t.operator_key,
                     "--peer-node",
                     other.ir.t.base_url,
                     "--peer-key",
                     other.ir.t.operator_key,
                     "--fx-id",
                     "1",
                     NULL,
                     NULL};
    int rc = cor_xbk_cli(cross, out, sizeof(out));
    cr_assert_eq(rc, 1, "mismatch exit %d: %s", rc, out);
    const char *uetrs[] = {a1, a2, a3, b1, b2};
    for (int i = 0; i < 5; i++)
        cr_assert(contains(out, uetrs[i]), "%s not listed:\n%s", uetrs[i], out);
    cross[11] = "--json";
    rc = cor_xbk_cli(cross, out, sizeof(out));
    cr_assert_eq(rc, 1, "%s", out);
    json_t *json = json_loads(out, 0, NULL);
    cr_assert(json != NULL, "%s", out);
    cr_assert(json_is_false(json_object_get(json, "match")));
    json_t *diffs = json_object_get(json, "differences");
    cr_assert_eq(json_array_size(diffs), 5, "%s", out);
    for (size_t i = 0; i < 5; i++) {
        json_t *d = json_array_get(diffs, i);
        const char *uetr = json_string_value(json_object_get(d, "uetr"));
        const char *only = json_string_value(json_object_get(d, "only_on"));
        bool ours = strcmp(uetr, a1) == 0 || strcmp(uetr, a2) == 0 || strcmp(uetr, a3) == 0;
        cr_assert_str_eq(only, ours ? "RU" : "IR", "%s", out);
    }
    json_decref(json);

    /* A window that holds none of them matches (both sides empty). */
    char *empty[] = {"reconcile",
                     "--node",
                     net.ru.t.base_url,
                     "--key",
                     net.ru.t.operator_key,
                     "--peer-node",
                     other.ir.t.base_url,
                     "--peer-key",
                     other.ir.t.operator_key,
                     "--fx-id",
                     "1",
                     "--from",
                     "1",
                     "--until",
                     "2",
                     NULL};
    cr_assert_eq(cor_xbk_cli(empty, out, sizeof(out)), 0, "%s", out);

    /* Usage errors: 2. */
    char *no_fx[] = {"reconcile",   "--node",          net.ru.t.base_url, "--key", "k",
                     "--peer-node", net.ir.t.base_url, "--peer-key",      "k",     NULL};
    cr_assert_eq(cor_xbk_cli(no_fx, out, sizeof(out)), 2);
    char *bad_fx[] = {
        "reconcile",  "--node", net.ru.t.base_url, "--key", "k", "--peer-node", net.ir.t.base_url,
        "--peer-key", "k",      "--fx-id",         "0",     NULL};
    cr_assert_eq(cor_xbk_cli(bad_fx, out, sizeof(out)), 2);
    char *bad_window[] = {"reconcile",
                          "--node",
                          net.ru.t.base_url,
                          "--key",
                          "k",
                          "--peer-node",
                          net.ir.t.base_url,
                          "--peer-key",
                          "k",
                          "--fx-id",
                          "1",
                          "--from",
                          "5",
                          "--until",
                          "5",
                          NULL};
    cr_assert_eq(cor_xbk_cli(bad_window, out, sizeof(out)), 2);
    char *unknown[] = {"reconcile", "--bogus", NULL};
    cr_assert_eq(cor_xbk_cli(unknown, out, sizeof(out)), 2);

    /* A wrong key or a node that is not there: 3. */
    char *bad_key[] = {"reconcile",       "--node",     net.ru.t.base_url,
                       "--key",           "cor_0_00",   "--peer-node",
                       net.ir.t.base_url, "--peer-key", net.ir.t.operator_key,
                       "--fx-id",         "1",          NULL};
    cr_assert_eq(cor_xbk_cli(bad_key, out, sizeof(out)), 3);
    int status = cor_test_node_signal(&other.ru.t, SIGKILL);
    cr_assert_eq(status, -SIGKILL);
    char *gone[] = {"reconcile",
                    "--node",
                    net.ru.t.base_url,
                    "--key",
                    net.ru.t.operator_key,
                    "--peer-node",
                    other.ru.t.base_url,
                    "--peer-key",
                    other.ru.t.operator_key,
                    "--fx-id",
                    "1",
                    NULL};
    cr_assert_eq(cor_xbk_cli(gone, out, sizeof(out)), 3);

    /* track: one side, both sides, unknown, bad. */
    char *track_one[] = {"track", a3, "--node", net.ir.t.base_url, "--key", net.ir.t.operator_key,
                         NULL};
    cr_assert_eq(cor_xbk_cli(track_one, out, sizeof(out)), 0, "%s", out);
    cr_assert(contains(out, "reserved") && contains(out, "IR"), "%s", out);
    char *track_both[] = {"track",       a1,
                          "--node",      net.ru.t.base_url,
                          "--key",       net.ru.t.operator_key,
                          "--peer-node", net.ir.t.base_url,
                          "--peer-key",  net.ir.t.operator_key,
                          NULL};
    cr_assert_eq(cor_xbk_cli(track_both, out, sizeof(out)), 0, "%s", out);
    cr_assert(contains(out, "reserved") && contains(out, "settled") && contains(out, "posted"),
              "%s", out);
    char unseen[37];
    cor_xbk_uuid(&rng, unseen);
    char *track_unknown[] = {"track",       unseen,
                             "--node",      net.ru.t.base_url,
                             "--key",       net.ru.t.operator_key,
                             "--peer-node", net.ir.t.base_url,
                             "--peer-key",  net.ir.t.operator_key,
                             NULL};
    cr_assert_eq(cor_xbk_cli(track_unknown, out, sizeof(out)), 1, "%s", out);
    char *track_bad[] = {"track", "not-a-uetr", "--node", net.ru.t.base_url, "--key", "k", NULL};
    cr_assert_eq(cor_xbk_cli(track_bad, out, sizeof(out)), 2);
    char *track_none[] = {"track", a1, NULL};
    cr_assert_eq(cor_xbk_cli(track_none, out, sizeof(out)), 2);
    char *track_gone[] = {"track", a1, "--node", other.ru.t.base_url, "--key", "k", NULL};
    cr_assert_eq(cor_xbk_cli(track_gone, out, sizeof(out)), 3);

    cor_xbk_net_close(&net);
    cor_xbk_net_close(&other);
}
