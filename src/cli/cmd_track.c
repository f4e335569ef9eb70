/*
 * corridor track UETR --node URL --key K [--peer-node URL --peer-key K2] [--json]
 *
 * Asks one node, or both nodes of a corridor, for a cross-border payment's steps
 * (GET /v1/payments/{uetr}/track) and prints them merged by time: the origin's reservation,
 * the beneficiary's receipt and decision, the origin learning it and posting or voiding.
 * Each node answers from its own record, so a step seen by both (none today) is printed once.
 *
 * Exit: 0 at least one node knows the payment; 1 neither does; 2 usage; 3 a node
 * unreachable or refusing (bad key, ...).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define TRACK_STEPS_MAX 64u /* two nodes' steps; a node keeps at most COR_XB_TRACK_MAX */

typedef struct track_step {
    uint64_t timestamp;
    const char *step;
    const char *node;
    const char *node_id;
    size_t order; /* arrival order: each node lists its steps in the order they happened */
} track_step;

static void track_usage(FILE *out)
{
    fprintf(out, "usage: corridor track UETR --node URL --key K [--peer-node URL --peer-key K2]"
                 " [--json]\n"
                 "  exit 0 found, 1 unknown to every node asked, 2 usage, 3 a node unreachable"
                 " or refusing\n");
}

static bool track_uetr_valid(const char *text)
{
    if (strlen(text) != 36) return false;
    for (int i = 0; i < 36; i++) {
        char c = text[i];
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-'
                 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static int track_compare(const void *a, const void *b)
{
    const track_step *x = a;
    const track_step *y = b;
    if (x->timestamp != y->timestamp) return x->timestamp < y->timestamp ? -1 : 1;
    /* The origin's decision_known carries the beneficiary's decision time, so it ties with
     * the beneficiary's own steps; it was learned after them. */
    bool x_learned = strcmp(x->step, "decision_known") == 0;
    bool y_learned = strcmp(y->step, "decision_known") == 0;
    if (x_learned != y_learned) return x_learned ? 1 : -1;
    return x->order < y->order ? -1 : x->order > y->order ? 1 : 0;
}

static const char *track_str(json_t *object, const char *field)
{
    const char *text = json_string_value(json_object_get(object, field));
    return text != NULL ? text : "";
}

int cor_cli_track(int argc, char **argv)
{
    const char *uetr = NULL;
    const char *url[2] = {NULL, NULL};
    const char *key[2] = {NULL, NULL};
    bool json_out = false;
    for (int i = 1; i < argc; i++) {
        const char *option = argv[i];
        if (strcmp(option, "--json") == 0) {
            json_out = true;
            continue;
        }
        if (option[0] != '-' && uetr == NULL) {
            uetr = option;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(option, "--node") == 0) slot = &url[0];
        if (strcmp(option, "--key") == 0) slot = &key[0];
        if (strcmp(option, "--peer-node") == 0) slot = &url[1];
        if (strcmp(option, "--peer-key") == 0) slot = &key[1];
        if (slot == NULL || value == NULL || *slot != NULL) {
            fprintf(stderr, "corridor track: %s option '%s'\n",
                    slot == NULL    ? "unknown"
                    : value == NULL ? "no value for"
                                    : "repeated",
                    option);
            track_usage(stderr);
            return COR_EXIT_USAGE;
        }
        *slot = value;
        i++;
    }
    if (uetr == NULL || url[0] == NULL || key[0] == NULL || (url[1] == NULL) != (key[1] == NULL)) {
        fprintf(stderr, "corridor track: a UETR, --node and --key are required; --peer-node "
                        "goes with --peer-key\n");
        track_usage(stderr);
        return COR_EXIT_USAGE;
    }
    if (!track_uetr_valid(uetr)) {
        fprintf(stderr, "corridor track: '%s' is not a UETR (a UUID)\n", uetr);
        return COR_EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "corridor track: cannot initialise libcurl\n");
        return COR_EXIT_ERROR;
    }
    int rc = COR_EXIT_OK;
    json_t *answers[2] = {NULL, NULL};
    bool found[2] = {false, false};
    track_step steps[TRACK_STEPS_MAX];
    size_t count = 0;
    char path[128];
    snprintf(path, sizeof(path), "/v1/payments/%s/track", uetr);
    int sides = url[1] != NULL ? 2 : 1;
    for (int s = 0; s < sides; s++) {
        char error[512];
        long status = cor_cli_get_json(url[s], path, key[s], &answers[s], error, sizeof(error));
        if (status == 404) continue;
        if (status != 200) {
            fprintf(stderr, "corridor track: %s\n", error);
            rc = COR_EXIT_ERROR;
            goto done;
        }
        found[s] = true;
        json_t *list = json_object_get(answers[s], "steps");
        for (size_t i = 0; i < json_array_size(list); i++) {
            json_t *e = json_array_get(list, i);
            track_step step = {.step = track_str(e, "step"),
                               .node = track_str(e, "node"),
                               .node_id = track_str(e, "node_id")};
            if (!cor_cli_parse_u64(track_str(e, "timestamp"), &step.timestamp)) continue;
            bool duplicate = false;
            for (size_t k = 0; k < count && !duplicate; k++) {
                duplicate = steps[k].timestamp == step.timestamp &&
                            strcmp(steps[k].step, step.step) == 0 &&
                            strcmp(steps[k].node_id, step.node_id) == 0;
            }
            step.order = count;
            if (!duplicate && count < TRACK_STEPS_MAX) steps[count++] = step;
        }
    }
    if (!found[0] && !found[1]) {
        fprintf(stderr, "corridor track: no node asked knows payment %s\n", uetr);
        rc = COR_EXIT_PROBLEM;
        goto done;
    }
    qsort(steps, count, sizeof(steps[0]), track_compare);
    if (json_out) {
        json_t *out = json_pack("{s:s}", "uetr", uetr);
        json_t *views = json_array();
        for (int s = 0; s < sides; s++) {
            json_t *v = json_pack("{s:s, s:b}", "url", url[s], "found", found[s]);
            if (found[s]) {
                json_object_set_new(v, "role", json_string(track_str(answers[s], "role")));
                json_object_set_new(v, "state", json_string(track_str(answers[s], "state")));
            }
            json_array_append_new(views, v);
        }
        json_object_set_new(out, "nodes", views);
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++) {
            char at[32];
            snprintf(at, sizeof(at), "%llu", (unsigned long long)steps[i].timestamp);
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "step", steps[i].step,
                                                  "node", steps[i].node, "node_id",
                                                  steps[i].node_id, "timestamp", at));
        }
        json_object_set_new(out, "steps", list);
        json_dumpf(out, stdout, JSON_COMPACT);
        printf("\n");
        json_decref(out);
    } else {
        printf("payment %s\n", uetr);
        for (int s = 0; s < sides; s++) {
            if (found[s]) {
                printf("  %s: %s, %s\n", url[s], track_str(answers[s], "role"),
                       track_str(answers[s], "state"));
            } else {
                printf("  %s: not known there\n", url[s]);
            }
        }
        for (size_t i = 0; i < count; i++) {
            char at[40];
            cor_cli_format_ns(steps[i].timestamp, at, sizeof(at));
            printf("  %s  %-8s %s\n", at, steps[i].node, steps[i].step);
        }
    }
done:
    json_decref(answers[0]);
    json_decref(answers[1]);
    curl_global_cleanup();
    if (fflush(stdout) != 0 && rc == COR_EXIT_OK) rc = COR_EXIT_ERROR;
    return rc;
}
