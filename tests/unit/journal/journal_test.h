/* Shared fixture of the raw-journal tests: a journal of numbered batches whose payloads are a
 * pure function of their op number, so recovery can check every byte it gets back. */
#ifndef COR_TEST_JOURNAL_TEST_H
#define COR_TEST_JOURNAL_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/journal_support.h"
#include "common/alloc.h"
#include "journal/journal_internal.h"

#define TEST_PAYLOAD_SIZE_MAX 600u

static inline size_t test_payload_size(uint64_t op)
{
    return (size_t)((op * 37u) % 500u + (op % 3u == 0 ? 0u : 1u));
}

static inline void test_payload(uint64_t op, unsigned char *out)
{
    size_t size = test_payload_size(op);
    for (size_t i = 0; i < size; i++)
        out[i] = (unsigned char)(op * 31u + i);
}

typedef struct test_replayed {
    uint64_t count;
    uint64_t last_op;
    bool bad; /* a payload or op out of order */
} test_replayed;

static inline cor_error test_replay(void *context, const cor_journal_batch *batch)
{
    test_replayed *replayed = context;
    unsigned char expected[TEST_PAYLOAD_SIZE_MAX];
    test_payload(batch->op_number, expected);
    if (batch->op_number != replayed->last_op + 1 || batch->operation != 7 ||
        batch->timestamp != batch->op_number * 10u ||
        batch->payload_size_bytes != test_payload_size(batch->op_number) ||
        memcmp(batch->payload, expected, batch->payload_size_bytes) != 0) {
        replayed->bad = true;
    }
    replayed->count++;
    replayed->last_op = batch->op_number;
    return COR_OK;
}

typedef struct test_journal {
    char dir[256];
    char path[300];
    test_replayed replayed;
    cor_test_log_lines log;
    char detail[512];
    cor_journal_options options;
} test_journal;

static inline void test_journal_init(test_journal *t)
{
    memset(t, 0, sizeof(*t));
    cor_test_dir_make(t->dir, sizeof(t->dir));
    cor_test_path(t->path, sizeof(t->path), t->dir, "journal");
    t->options = (cor_journal_options){
        .dir = t->dir,
        .flags = COR_JOURNAL_CREATE,
        .replay = test_replay,
        .context = &t->replayed,
        .log = cor_test_log,
        .log_context = &t->log,
        .error_detail = t->detail,
        .error_detail_size = sizeof(t->detail),
    };
}

static inline cor_error test_journal_open(test_journal *t, cor_journal **journal)
{
    t->replayed = (test_replayed){0};
    t->log = (cor_test_log_lines){0};
    return cor_journal_open(&t->options, journal);
}

static inline cor_error test_journal_append(cor_journal *journal, uint64_t op)
{
    unsigned char payload[TEST_PAYLOAD_SIZE_MAX];
    test_payload(op, payload);
    cor_journal_batch batch = {.timestamp = op * 10u,
                               .operation = 7,
                               .event_count = 1,
                               .payload = payload,
                               .payload_size_bytes = test_payload_size(op)};
    uint64_t op_out = 0;
    cor_error rc = cor_journal_append(journal, &batch, &op_out);
    if (rc == COR_OK) cr_assert_eq(op_out, op);
    return rc;
}

/* Creates the journal with ops 1..count; returns each record's start offset in offsets
 * (count + 1 entries: the last is the end of the file). */
static inline void test_journal_fill(test_journal *t, uint64_t count, uint64_t *offsets)
{
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(t, &journal), COR_OK, "%s", t->detail);
    for (uint64_t op = 1; op <= count; op++) {
        cor_journal_stats stats;
        cor_journal_stats_get(journal, &stats);
        if (offsets != NULL) offsets[op - 1] = stats.size_bytes;
        cr_assert_eq(test_journal_append(journal, op), COR_OK);
    }
    cor_journal_stats stats;
    cor_journal_stats_get(journal, &stats);
    if (offsets != NULL) offsets[count] = stats.size_bytes;
    cor_journal_close(journal);
}

/* Reopens and expects success with exactly ops 1..count replayed, all intact. */
static inline void test_journal_expect(test_journal *t, uint64_t count)
{
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(t, &journal), COR_OK, "reopen: %s", t->detail);
    cr_assert_eq(t->replayed.count, count);
    cr_assert_not(t->replayed.bad);
    cor_journal_stats stats;
    cor_journal_stats_get(journal, &stats);
    cr_assert_eq(stats.op_number, count);
    cor_journal_close(journal);
}

#endif
