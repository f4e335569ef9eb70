/*
 * corridor reconcile --node URL --key K --peer-node URL --peer-key K2 --fx-id N
 *                    [--from NS] [--until NS] [--json]
 *
 * Compares two corridor nodes' records of one FX provider's committed cross-border payments,
 * both directions, over a window of decision times [from, until) in ns (default: all).
 * Each node is asked who it is and who its peers are (GET /v1/corridor/peers), so each side's
 * name for the other comes from that side's own configuration; then each answers its
 * summaries (GET /v1/xborder/reconcile?fx_id=&peer=&from=&until=): per direction the count,
 * the sums of both legs and an order-independent digest. When a direction differs, both are
 * asked again with &payments=true and every UETR present on one side only, or with different
 * amounts or direction, is listed.
 *
 * The keys must be the operator's or an auditor's on each node.
 *
 * Exit: 0 both directions match; 1 a mismatch (or the two nodes are not each other's
 * peers); 2 usage; 3 a node unreachable or refusing (bad key, ...).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define REC_ERROR_SIZE 512u

typedef struct rec_side {
    const char *url;
    const char *key;
    json_t *peers;    /* GET /v1/corridor/peers */
    const char *name; /* the node's own name */
    const char *id;   /* its node id */
    const char *peer; /* its name for the other side */
    json_t *summary;  /* GET /v1/xborder/reconcile */
    json_t *detail;   /* the same with payments=true (only on a mismatch) */
} rec_side;

typedef struct rec_args {
    const char *url[2];
    const char *key[2];
    const char *fx_id;
    const char *from;
    const char *until;
    bool json;
} rec_args;

static void rec_usage(FILE *out)
{
    fprintf(out, "usage: corridor reconcile --node URL --key K --peer-node URL --peer-key K2\n"
                 "                          --fx-id N [--from NS] [--until NS] [--json]\n"
                 "  compares both nodes' committed payments of FX provider N, both directions,\n"
                 "  decided in [from, until) (ns since the epoch; default: all)\n"
                 "  exit 0 match, 1 mismatch, 2 usage, 3 a node unreachable or refusing\n");
}

static bool rec_parse(int argc, char **argv, rec_args *args)
{
    memset(args, 0, sizeof(*args));
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "--json") == 0) {
            args->json = true;
            continue;
        }
        if (strcmp(option, "-h") == 0 || strcmp(option, "--help") == 0) return false;
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(option, "--node") == 0) slot = &args->url[0];
        if (strcmp(option, "--key") == 0) slot = &args->key[0];
        if (strcmp(option, "--peer-node") == 0) slot = &args->url[1];
        if (strcmp(option, "--peer-key") == 0) slot = &args->key[1];
        if (strcmp(option, "--fx-id") == 0) slot = &args->fx_id;
        if (strcmp(option, "--from") == 0) slot = &args->from;
        if (strcmp(option, "--until") == 0) slot = &args->until;
        if (slot == NULL || value == NULL || *slot != NULL) {
            fprintf(stderr, "corridor reconcile: %s option '%s'\n",
                    slot == NULL    ? "unknown"
                    : value == NULL ? "no value for"
                                    : "repeated",
                    option);
            return false;
        }
        *slot = value;
        i++;
    }
    if (!args->url[0] || !args->key[0] || !args->url[1] || !args->key[1] || !args->fx_id) {
        fprintf(stderr, "corridor reconcile: --node, --key, --peer-node, --peer-key and "
                        "--fx-id are required\n");
        return false;
    }
    uint64_t fx = 0, from = 0, until = UINT64_MAX;
    if (!cor_cli_parse_u64(args->fx_id, &fx) || fx == 0) {
        fprintf(stderr, "corridor reconcile: --fx-id must be an integer from 1\n");
        return false;
    }
    if ((args->from && !cor_cli_parse_u64(args->from, &from)) ||
        (args->until && !cor_cli_parse_u64(args->until, &until)) || from >= until) {
        fprintf(stderr, "corridor reconcile: --from and --until are ns since the epoch, "
                        "from < until\n");
        return false;
    }
    return true;
}

static const char *rec_str(json_t *object, const char *field)
{
    const char *text = json_string_value(json_object_get(object, field));
    return text != NULL ? text : "";
}

/* Fills side->peers, name, id. Returns an exit status. */
static int rec_identify(rec_side *side)
{
    char error[REC_ERROR_SIZE];
    long status = cor_cli_get_json(side->url, "/v1/corridor/peers", side->key, &side->peers, error,
                                   sizeof(error));
    if (status != 200) {
        fprintf(stderr, "corridor reconcile: %s\n", error);
        return COR_EXIT_ERROR;
    }
    side->name = rec_str(side->peers, "node");
    side->id = rec_str(side->peers, "node_id");
    if (side->name[0] == '\0' || side->id[0] == '\0') {
        fprintf(stderr, "corridor reconcile: %s: the peers answer names no node\n", side->url);
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}

/* side's name for the node whose id is other_id, or NULL. */
static const char *rec_peer_name(const rec_side *side, const char *other_id)
{
    json_t *list = json_object_get(side->peers, "peers");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        if (strcmp(rec_str(p, "node_id"), other_id) == 0) return rec_str(p, "name");
    }
    return NULL;
}

static int rec_fetch(rec_side *side, const rec_args *args, bool detail, json_t **out)
{
    char path[1024], error[REC_ERROR_SIZE];
    char *peer = curl_easy_escape(NULL, side->peer, 0);
    if (peer == NULL) {
        fprintf(stderr, "corridor reconcile: out of memory\n");
        return COR_EXIT_ERROR;
    }
    snprintf(path, sizeof(path), "/v1/xborder/reconcile?fx_id=%s&peer=%s%s%s%s%s%s", args->fx_id,
             peer, args->from ? "&from=" : "", args->from ? args->from : "",
             args->until ? "&until=" : "", args->until ? args->until : "",
             detail ? "&payments=true" : "");
    curl_free(peer);
    long status = cor_cli_get_json(side->url, path, side->key, out, error, sizeof(error));
    if (status != 200 || !json_is_array(json_object_get(*out, "directions"))) {
        fprintf(stderr, "corridor reconcile: %s\n",
                status == 200 ? "answer without directions" : error);
        return COR_EXIT_ERROR;
    }
    return COR_EXIT_OK;
}

static json_t *rec_direction(json_t *answer, const char *from_id, const char *to_id)
{
    json_t *list = json_object_get(answer, "directions");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *d = json_array_get(list, i);
        if (strcmp(rec_str(d, "from_node"), from_id) == 0 &&
            strcmp(rec_str(d, "to_node"), to_id) == 0)
            return d;
    }
    return NULL;
}

static const char *const rec_fields[4] = {"count", "source_amount", "destination_amount", "digest"};

static bool rec_same(json_t *a, json_t *b, const char *const *fields, int count)
{
    if (a == NULL || b == NULL) return false;
    for (int f = 0; f < count; f++) {
        if (strcmp(rec_str(a, fields[f]), rec_str(b, fields[f])) != 0) return false;
    }
    return true;
}

static json_t *rec_summary_json(json_t *d)
{
    json_t *out = json_object();
    for (int f = 0; f < 4; f++)
        json_object_set_new(out, rec_fields[f], json_string(rec_str(d, rec_fields[f])));
    return out;
}

static json_t *rec_payment_json(json_t *p)
{
    if (p == NULL) return json_null();
    static const char *const fields[] = {"from_node", "to_node", "source_amount",
                                         "destination_amount", "decided_at"};
    json_t *out = json_object();
    for (int f = 0; f < 5; f++)
        json_object_set_new(out, fields[f], json_string(rec_str(p, fields[f])));
    return out;
}

/* uetr -> payment entry of one side's detail answer. */
static json_t *rec_index(json_t *detail)
{
    json_t *index = json_object();
    json_t *list = json_object_get(detail, "payments");
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *p = json_array_get(list, i);
        json_object_set(index, rec_str(p, "uetr"), p);
    }
    return index;
}

/* Appends to diffs every UETR on one side only or with different facts. */
static void rec_differences(const rec_side sides[2], json_t *diffs)
{
    static const char *const facts[] = {"from_node", "to_node", "source_amount",
                                        "destination_amount"};
    json_t *index[2] = {rec_index(sides[0].detail), rec_index(sides[1].detail)};
    for (int s = 0; s < 2; s++) {
        json_t *list = json_object_get(sides[s].detail, "payments");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *mine = json_array_get(list, i);
            const char *uetr = rec_str(mine, "uetr");
            json_t *theirs = json_object_get(index[1 - s], uetr);
            if (theirs != NULL && (s == 1 || rec_same(mine, theirs, facts, 4))) continue;
            json_t *d = json_object();
            json_object_set_new(d, "uetr", json_string(uetr));
            json_object_set_new(d, "only_on",
                                theirs == NULL ? json_string(sides[s].name) : json_null());
            json_object_set_new(d, "node", rec_payment_json(s == 0 ? mine : theirs));
            json_object_set_new(d, "peer", rec_payment_json(s == 0 ? theirs : mine));
            json_array_append_new(diffs, d);
        }
    }
    json_decref(index[0]);
    json_decref(index[1]);
}

static const char *rec_name_of(const rec_side sides[2], const char *id)
{
    for (int s = 0; s < 2; s++) {
        if (strcmp(sides[s].id, id) == 0) return sides[s].name;
    }
    return id;
}

static void rec_print_payment(const rec_side sides[2], const char *label, json_t *p)
{
    if (json_is_null(p)) {
        printf("      %-4s -\n", label);
        return;
    }
    printf("      %-4s %s -> %s, source %s, destination %s\n", label,
           rec_name_of(sides, rec_str(p, "from_node")), rec_name_of(sides, rec_str(p, "to_node")),
           rec_str(p, "source_amount"), rec_str(p, "destination_amount"));
}

static void rec_print(const rec_side sides[2], json_t *report)
{
    printf("fx %s: %s (node %s) and %s (node %s), decided in [%s, %s)\n", rec_str(report, "fx_id"),
           sides[0].name, sides[0].id, sides[1].name, sides[1].id, rec_str(report, "from"),
           rec_str(report, "until"));
    json_t *dirs = json_object_get(report, "directions");
    for (size_t i = 0; i < json_array_size(dirs); i++) {
        json_t *d = json_array_get(dirs, i);
        bool match = json_is_true(json_object_get(d, "match"));
        printf("  %s -> %s: %s\n", rec_str(d, "from"), rec_str(d, "to"),
               match ? "match" : "MISMATCH");
        for (int s = 0; s < (match ? 1 : 2); s++) {
            json_t *sum = json_object_get(d, s == 0 ? "node" : "peer");
            printf("    %-4s count %s, source %s, destination %s, digest %s\n",
                   match ? "both" : sides[s].name, rec_str(sum, "count"),
                   rec_str(sum, "source_amount"), rec_str(sum, "destination_amount"),
                   rec_str(sum, "digest"));
        }
    }
    json_t *diffs = json_object_get(report, "differences");
    if (json_array_size(diffs) > 0) {
        printf("  payments that differ (%zu):\n", json_array_size(diffs));
        for (size_t i = 0; i < json_array_size(diffs); i++) {
            json_t *d = json_array_get(diffs, i);
            json_t *only = json_object_get(d, "only_on");
            printf("    %s  %s%s\n", rec_str(d, "uetr"), json_is_string(only) ? "only on " : "",
                   json_is_string(only) ? json_string_value(only) : "different on each node");
            rec_print_payment(sides, sides[0].name, json_object_get(d, "node"));
            rec_print_payment(sides, sides[1].name, json_object_get(d, "peer"));
        }
    }
    if (json_is_true(json_object_get(report, "truncated"))) {
        printf("  the payment lists were truncated: narrow the window with --from/--until\n");
    }
    bool match = json_is_true(json_object_get(report, "match"));
    printf("result: %s\n", match ? "match" : "MISMATCH");
}

int cor_cli_reconcile(int argc, char **argv)
{
    rec_args args;
    if (!rec_parse(argc, argv, &args)) {
        rec_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "corridor reconcile: cannot initialise libcurl\n");
        return COR_EXIT_ERROR;
    }
    int rc = COR_EXIT_OK;
    json_t *report = NULL;
    rec_side sides[2] = {{.url = args.url[0], .key = args.key[0]},
                         {.url = args.url[1], .key = args.key[1]}};
    for (int s = 0; s < 2 && rc == COR_EXIT_OK; s++)
        rc = rec_identify(&sides[s]);
    if (rc != COR_EXIT_OK) goto done;
    for (int s = 0; s < 2; s++) {
        sides[s].peer = rec_peer_name(&sides[s], sides[1 - s].id);
        if (sides[s].peer == NULL) {
            fprintf(stderr, "corridor reconcile: %s (node %s) has no peer with node id %s (%s)\n",
                    sides[s].name, sides[s].id, sides[1 - s].id, sides[1 - s].name);
            rc = COR_EXIT_PROBLEM;
            goto done;
        }
    }
    for (int s = 0; s < 2 && rc == COR_EXIT_OK; s++)
        rc = rec_fetch(&sides[s], &args, false, &sides[s].summary);
    if (rc != COR_EXIT_OK) goto done;

    report = json_object();
    json_t *dirs = json_array();
    json_t *diffs = json_array();
    json_object_set_new(report, "fx_id", json_string(args.fx_id));
    json_object_set_new(report, "from", json_string(rec_str(sides[0].summary, "from")));
    json_object_set_new(report, "until", json_string(rec_str(sides[0].summary, "until")));
    static const char *const roles[2] = {"node", "peer"};
    for (int s = 0; s < 2; s++) {
        json_object_set_new(report, roles[s],
                            json_pack("{s:s, s:s, s:s}", "name", sides[s].name, "node_id",
                                      sides[s].id, "url", sides[s].url));
    }
    bool match = true;
    for (int o = 0; o < 2; o++) {
        const rec_side *from = &sides[o];
        const rec_side *to = &sides[1 - o];
        json_t *d[2] = {rec_direction(sides[0].summary, from->id, to->id),
                        rec_direction(sides[1].summary, from->id, to->id)};
        if (d[0] == NULL || d[1] == NULL) {
            fprintf(stderr, "corridor reconcile: %s did not answer the direction %s -> %s\n",
                    d[0] == NULL ? sides[0].name : sides[1].name, from->name, to->name);
            rc = COR_EXIT_ERROR;
            goto done;
        }
        bool same = rec_same(d[0], d[1], rec_fields, 4);
        match = match && same;
        json_t *entry = json_pack("{s:s, s:s, s:s, s:s, s:b}", "from", from->name, "to", to->name,
                                  "from_node", from->id, "to_node", to->id, "match", same);
        json_object_set_new(entry, "node", rec_summary_json(d[0]));
        json_object_set_new(entry, "peer", rec_summary_json(d[1]));
        json_array_append_new(dirs, entry);
    }
    bool truncated = false;
    if (!match) {
        for (int s = 0; s < 2 && rc == COR_EXIT_OK; s++)
            rc = rec_fetch(&sides[s], &args, true, &sides[s].detail);
        if (rc != COR_EXIT_OK) {
            json_decref(dirs);
            json_decref(diffs);
            goto done;
        }
        rec_differences(sides, diffs);
        truncated = json_is_true(json_object_get(sides[0].detail, "truncated")) ||
                    json_is_true(json_object_get(sides[1].detail, "truncated"));
    }
    json_object_set_new(report, "match", json_boolean(match));
    json_object_set_new(report, "directions", dirs);
    json_object_set_new(report, "differences", diffs);
    json_object_set_new(report, "truncated", json_boolean(truncated));
    if (args.json) {
        json_dumpf(report, stdout, JSON_COMPACT);
        printf("\n");
    } else {
        rec_print(sides, report);
    }
    rc = match ? COR_EXIT_OK : COR_EXIT_PROBLEM;
done:
    json_decref(report);
    for (int s = 0; s < 2; s++) {
        json_decref(sides[s].peers);
        json_decref(sides[s].summary);
        json_decref(sides[s].detail);
    }
    curl_global_cleanup();
    if (fflush(stdout) != 0 && rc == COR_EXIT_OK) rc = COR_EXIT_ERROR;
    return rc;
}
