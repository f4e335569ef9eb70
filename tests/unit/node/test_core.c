/*
 * The node's pipeline (src/node/core.c) with a real journal in a temporary directory: the
 * ingress queue's bound, batching of many jobs, completion only after the append, the
 * poisoned state after a failed append, and the corridor's re-sends waiting while the peer
 * links are backlogged.
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
    void (*before_core)(cor_node_state *state); /* prepares the state before the core starts */
} core_fixture;

static cor_error replay_nothing(void *context, const cor_journal_batch *batch)
{
    (void)context;
    (void)batch;
    return COR_OK;
}

static void fixture_open_with(core_fixture *f, uint64_t journal_size_max,
                              const cor_node_state_options *state_options,
                              const cor_node_core_options *core_options)
{
    snprintf(f->dir, sizeof(f->dir), "/tmp/cor-core-XXXXXX");
    cr_assert(mkdtemp(f->dir) != NULL);
    cr_assert_eq(cor_node_state_open(state_options, &f->state), COR_OK);
    cor_journal_options journal_options = {.dir = f->dir,
                                           .flags = COR_JOURNAL_CREATE,
                                           .size_bytes_max = journal_size_max,
                                           .replay = replay_nothing};
    cr_assert_eq(cor_journal_open(&journal_options, &f->journal), COR_OK);
    pthread_rwlock_init(&f->lock, NULL);
    cor_node_core_options options = {0};
    if (core_options != NULL) options = *core_options;
    options.state = f->state;
    options.state_lock = &f->lock;
    options.journal = f->journal;
    options.metrics = &f->metrics;
    if (f->before_core != NULL) f->before_core(f->state);
    cr_assert_eq(cor_node_core_open(&options, &f->core), COR_OK);
}

static void fixture_open(core_fixture *f, uint64_t journal_size_max)
{
    cor_node_state_options state_options = {.ledger = 643,
                                            .payments_max = 1024,
                                            .ledger_accounts_max = 16,
                                            .ledger_transfers_max = 1024};
    memset(f, 0, sizeof(*f));
    fixture_open_with(f, journal_size_max, &state_options, NULL);
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

/* ---- re-sends wait while the peer links are backlogged ---------------------------------- */

typedef struct outbox_probe {
    _Atomic uint32_t messages; /* protocol messages the core handed over */
    _Atomic bool busy;         /* what outbox_busy answers */
    _Atomic uint32_t asked;    /* how often the core asked */
} outbox_probe;

static outbox_probe probe;

static void probe_outbox(void *context, const cor_xb_message *messages, uint32_t count)
{
    (void)context;
    (void)messages;
    atomic_fetch_add(&probe.messages, count);
}

static bool probe_busy(void *context)
{
    (void)context;
    atomic_fetch_add(&probe.asked, 1);
    return atomic_load(&probe.busy);
}

static uint64_t wall_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

/* Appends one command (header, body padded to 16) to payload at *size. */
static void command_add(uint8_t *payload, size_t *size, uint16_t type, uint32_t key_id,
                        uint32_t participant, const void *body, size_t body_size)
{
    cor_node_command_header h = {.type = type,
                                 .event_count = 1,
                                 .body_size_bytes = (uint32_t)body_size,
                                 .key_id = key_id,
                                 .participant = participant};
    memcpy(payload + *size, &h, sizeof(h));
    *size += sizeof(h);
    memcpy(payload + *size, body, body_size);
    size_t padded = (body_size + 15u) & ~(size_t)15u;
    memset(payload + *size + body_size, 0, padded - body_size);
    *size += padded;
}

static void state_apply_one(cor_node_state *state, uint16_t type, uint32_t key_id,
                            uint32_t participant, const void *body, size_t body_size)
{
    static uint8_t payload[1024];
    size_t size = 0;
    command_add(payload, &size, type, key_id, participant, body, body_size);
    cor_node_result result;
    cr_assert_eq(cor_node_state_apply(state, wall_ns(), payload, size, &result, 1), COR_OK);
    cr_assert(result.code == COR_NODE_CREATED || result.code == COR_NODE_OK, "type %u: %s",
              type, cor_node_code_name(result.code));
}

static cor_u128 probe_quote_id;

/* Node RU (643): bank 1 (key 1), FX provider 2 (key 2) mapped as fx 9 towards peer IR (364)
 * with a rate, the bank funded, and one quote for the bank. */
static void corridor_prepare(cor_node_state *state)
{
    for (uint32_t id = 1; id <= 2; id++) {
        cor_node_cmd_participant_create p = {
            .role = id == 1 ? COR_NODE_ROLE_BANK : COR_NODE_ROLE_FX_PROVIDER,
            .name_length = 4,
            .bic_length = 8};
        memcpy(p.name, "Bank", 4);
        memcpy(p.bic, id == 1 ? "AAAARUMM" : "FXFXRUMM", 8);
        state_apply_one(state, COR_NODE_CMD_PARTICIPANT_CREATE, 0, 0, &p, sizeof(p));
        cor_node_cmd_key_add key = {.kind = COR_NODE_KEY_PARTICIPANT, .participant = id};
        memset(key.hash, (int)id, sizeof(key.hash));
        state_apply_one(state, COR_NODE_CMD_KEY_ADD, 0, 0, &key, sizeof(key));
    }
    cor_node_cmd_funding funding = {
        .amount = 1000000, .funding_id = 1, .participant = 1, .direction = COR_NODE_FUNDING_CREDIT};
    state_apply_one(state, COR_NODE_CMD_FUNDING, 0, 0, &funding, sizeof(funding));
    cor_xb_peer peer = {.node_id = 364, .ledger = 364};
    state_apply_one(state, COR_NODE_CMD_XB_PEER, 0, 0, &peer, sizeof(peer));
    cor_node_cmd_xb_fx fx = {.fx_id = 9, .participant = 2, .peer_node = 364};
    state_apply_one(state, COR_NODE_CMD_XB_FX, 0, 0, &fx, sizeof(fx));
    uint64_t now = wall_ns();
    cor_xb_rate rate = {.amount_min = 1,
                        .amount_max = 1000000000,
                        .peer_node = 364,
                        .rate_num = 485,
                        .rate_den = 1,
                        .valid_from = now - 1000000000ull,
                        .valid_until = now + 3600ull * 1000000000ull};
    state_apply_one(state, COR_NODE_CMD_XB_RATE, 2, 2, &rate, sizeof(rate));
    static uint8_t payload[256];
    size_t size = 0;
    cor_xb_quote_request request = {.amount = 1000, .peer_node = 364, .fixed = COR_XB_FIXED_SOURCE};
    command_add(payload, &size, COR_NODE_CMD_XB_QUOTES, 1, 1, &request, sizeof(request));
    cor_node_result result;
    cr_assert_eq(cor_node_state_apply(state, wall_ns(), payload, size, &result, 1), COR_OK);
    cr_assert_eq(result.code, COR_NODE_CREATED);
    probe_quote_id = ((cor_u128)643 << 96) | result.value;
}

/* Waits (at most timeout_ms) until the core handed over at least `count` messages. */
static uint32_t wait_messages(uint32_t count, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms && atomic_load(&probe.messages) < count;
         waited += 10) {
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    return atomic_load(&probe.messages);
}

Test(node_core, resends_wait_while_the_links_are_backlogged, .timeout = 60)
{
    static core_fixture f;
    memset(&f, 0, sizeof(f));
    memset(&probe, 0, sizeof(probe));
    atomic_store(&probe.busy, true);
    f.before_core = corridor_prepare;
    cor_node_state_options state_options = {.ledger = 643,
                                            .node_id = 643,
                                            .payments_max = 1024,
                                            .ledger_accounts_max = 16,
                                            .ledger_transfers_max = 1024,
                                            .xb_quotes_max = 256};
    cor_node_core_options core_options = {.outbox = probe_outbox, .outbox_busy = probe_busy};
    fixture_open_with(&f, 0, &state_options, &core_options);

    /* One payment to IR: its pacs.008 leaves once the batch is durable. */
    static struct {
        cor_node_job job;
        uint8_t payload[512];
        cor_node_result result;
    } pay;
    size_t size = 0;
    cor_node_cmd_xb_payment cmd = {.uetr = ((cor_u128)0x1234567800004000ull << 64) |
                                           0x8000000000000001ull,
                                   .quote_id = probe_quote_id,
                                   .creditor_account = cor_node_settlement_id(1)};
    command_add(pay.payload, &size, COR_NODE_CMD_XB_PAYMENTS, 1, 1, &cmd, sizeof(cmd));
    static _Atomic int done_count;
    static test_job holder; /* test_job_done counts through the context's done_count */
    holder.done_count = &done_count;
    pay.job = (cor_node_job){.payload = pay.payload,
                             .payload_size_bytes = size,
                             .event_count = 1,
                             .results = &pay.result,
                             .done = test_job_done,
                             .context = &holder,
                             .error = COR_ERR_INVALID};
    cr_assert_eq(cor_node_core_reserve(f.core), COR_OK);
    cor_node_core_push(f.core, &pay.job);
    wait_done(&done_count, 1);
    cr_assert_eq(pay.job.error, COR_OK);
    cr_assert_eq(pay.result.code, COR_NODE_CREATED, "%s reason %u",
                 cor_node_code_name(pay.result.code), pay.result.ledger);
    cr_assert_eq(wait_messages(1, 2000), 1);

    /* Busy links: three first re-send intervals (200 ms) pass without a re-send. */
    struct timespec pause = {.tv_nsec = 600000000L};
    nanosleep(&pause, NULL);
    cr_assert_eq(atomic_load(&probe.messages), 1, "re-sent while the links were busy");
    cr_assert_gt(atomic_load(&probe.asked), 0);

    /* Idle links: the re-send follows. */
    atomic_store(&probe.busy, false);
    cr_assert_eq(wait_messages(2, 3000), 2);

    /* Busy for good: the timers still run once COR_NODE_XB_TICK_DEFER_MAX_NS has passed. */
    atomic_store(&probe.busy, true);
    uint64_t started = wall_ns();
    cr_assert_eq(wait_messages(3, 10000), 3);
    cr_assert_geq(wall_ns() - started, COR_NODE_XB_TICK_DEFER_MAX_NS / 2);
    fixture_close(&f);
}
