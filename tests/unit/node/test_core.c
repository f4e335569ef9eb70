/*
 * The node's pipeline (src/node/core.c) with a real journal in a temporary directory: the
 * ingress queue's bound, batching of many jobs, completion only after the append, and the
 * poisoned state after a failed append.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corridor/journal.h"
#include "node/core.h"

typedef struct core_fixture {
    char dir[64];
    cor_node_state *state;
    cor_journal *journal;
    pthread_rwlock_t lock;
    cor_metrics metrics;
    cor_node_core *core;
} core_fixture;

static cor_error replay_nothing(void *context, const cor_journal_batch *batch)
{
    (void)context;
    (void)batch;
    return COR_OK;
}

static void fixture_open(core_fixture *f, uint64_t journal_size_max)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/cor-core-XXXXXX");
    cr_assert(mkdtemp(f->dir) != NULL);
    cor_node_state_options state_options = {.ledger = 643,
                                            .payments_max = 1024,
                                            .ledger_accounts_max = 16,
                                            .ledger_transfers_max = 1024};
    cr_assert_eq(cor_node_state_open(&state_options, &f->state), COR_OK);
    cor_journal_options journal_options = {.dir = f->dir,
                                           .flags = COR_JOURNAL_CREATE,
                                           .size_bytes_max = journal_size_max,
                                           .replay = replay_nothing};
    cr_assert_eq(cor_journal_open(&journal_options, &f->journal), COR_OK);
    pthread_rwlock_init(&f->lock, NULL);
    cor_node_core_options options = {
        .state = f->state, .state_lock = &f->lock, .journal = f->journal, .metrics = &f->metrics};
    cr_assert_eq(cor_node_core_open(&options, &f->core), COR_OK);
}

static void fixture_close(core_fixture *f)
{
    cor_node_core_close(f->core);
    cor_journal_close(f->journal);
    cor_node_state_close(f->state);
    pthread_rwlock_destroy(&f->lock);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", f->dir);
    cr_assert_eq(system(command), 0);
}

/* One job: an auditor key (always accepted), with its own payload and result. */
typedef struct test_job {
    cor_node_job job;
    uint8_t payload[32 + 48];
    cor_node_result result;
    _Atomic int *done_count;
} test_job;

static void test_job_done(cor_node_job *job)
{
    test_job *t = job->context;
    atomic_fetch_add(t->done_count, 1);
}

static void test_job_init(test_job *t, _Atomic int *done_count)
{
    memset(t, 0, sizeof(*t));
    cor_node_command_header header = {.type = COR_NODE_CMD_KEY_ADD,
                                      .event_count = 1,
                                      .body_size_bytes = sizeof(cor_node_cmd_key_add)};
    cor_node_cmd_key_add body = {.kind = COR_NODE_KEY_AUDITOR};
    memcpy(t->payload, &header, sizeof(header));
    memcpy(t->payload + sizeof(header), &body, sizeof(body));
    t->done_count = done_count;
    t->job = (cor_node_job){.payload = t->payload,
                            .payload_size_bytes = sizeof(t->payload),
                            .event_count = 1,
                            .results = &t->result,
                            .done = test_job_done,
                            .context = t,
                            .error = COR_ERR_INVALID};
}

static void wait_done(_Atomic int *done_count, int expected)
{
    for (int i = 0; i < 2000 && atomic_load(done_count) < expected; i++) { /* 20 s */
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    cr_assert_eq(atomic_load(done_count), expected);
}

Test(node_core, the_queue_is_bounded_and_batches_jobs)
{
    static core_fixture f;
    fixture_open(&f, 0);
    static test_job jobs[COR_NODE_QUEUE_COMMANDS_MAX];
    static _Atomic int done_count;
    /* Reserve every slot without pushing: the next reservation is refused, not queued. */
    for (uint32_t i = 0; i < COR_NODE_QUEUE_COMMANDS_MAX; i++) {
        cr_assert_eq(cor_node_core_reserve(f.core), COR_OK);
    }
    cr_assert_eq(cor_node_core_reserve(f.core), COR_ERR_BUSY);
    cr_assert_eq(atomic_load(&f.metrics.queue_rejected), 1);
    for (uint32_t i = 0; i < COR_NODE_QUEUE_COMMANDS_MAX; i++) {
        test_job_init(&jobs[i], &done_count);
        cor_node_core_push(f.core, &jobs[i].job);
    }
    wait_done(&done_count, (int)COR_NODE_QUEUE_COMMANDS_MAX);
    for (uint32_t i = 0; i < COR_NODE_QUEUE_COMMANDS_MAX; i++) {
        cr_assert_eq(jobs[i].job.error, COR_OK);
        cr_assert_eq(jobs[i].result.code, COR_NODE_CREATED);
    }
    /* Far fewer batches (appends) than jobs: group commit. */
    uint64_t batches = atomic_load(&f.metrics.batches);
    cr_assert_geq(batches, 1);
    cr_assert_lt(batches, COR_NODE_QUEUE_COMMANDS_MAX / 4, "%llu batches",
                 (unsigned long long)batches);
    cr_assert_eq(atomic_load(&f.metrics.events), COR_NODE_QUEUE_COMMANDS_MAX);
    cr_assert_eq(cor_node_state_keys_count(f.state), COR_NODE_QUEUE_COMMANDS_MAX);
    /* After stop, reservations are refused as closed. */
    cor_node_core_stop(f.core);
    cr_assert_eq(cor_node_core_reserve(f.core), COR_ERR_CLOSED);
    fixture_close(&f);
}

Test(node_core, a_failed_append_poisons_and_applies_nothing)
{
    static core_fixture f;
    fixture_open(&f, 4096); /* room for a few records only */
    static _Atomic int done_count;
    static test_job jobs[64];
    int failed_at = -1;
    for (int i = 0; i < 64 && failed_at < 0; i++) {
        test_job_init(&jobs[i], &done_count);
        cor_error rc = cor_node_core_reserve(f.core);
        if (rc != COR_OK) {
            cr_assert_eq(rc, COR_ERR_POISONED);
            failed_at = i;
            break;
        }
        cor_node_core_push(f.core, &jobs[i].job);
        wait_done(&done_count, i + 1);
        if (jobs[i].job.error != COR_OK) {
            cr_assert_eq(jobs[i].job.error, COR_ERR_JOURNAL_FULL);
            failed_at = i;
        }
    }
    cr_assert_geq(failed_at, 1, "the journal limit was never reached");
    /* Only the durable jobs were applied, and nothing is accepted any more. */
    cr_assert_eq(cor_node_state_keys_count(f.state), (uint32_t)failed_at);
    cr_assert_eq(cor_node_core_reserve(f.core), COR_ERR_POISONED);
    cr_assert(cor_node_core_poisoned(f.core));
    fixture_close(&f);
}
