/* Injected write and fdatasync faults: the journal must never carry on as if durable. */
#include <errno.h>
#include <unistd.h>

#include "journal_test.h"

static unsigned fault_short_budget; /* pwritev calls still shortened */
static unsigned fault_calls;
static bool fault_fail_after_short; /* the call after a short write fails with ENOSPC */

static ssize_t fault_pwritev_short(int fd, const struct iovec *iov, int count, off_t offset)
{
    fault_calls++;
    if (fault_short_budget == 0) {
        if (fault_fail_after_short) {
            errno = ENOSPC;
            return -1;
        }
        return pwritev(fd, iov, count, offset);
    }
    fault_short_budget--;
    /* Write only part of the first vector that has bytes: at most 50 bytes. */
    for (int i = 0; i < count; i++) {
        if (iov[i].iov_len == 0) continue;
        size_t part = iov[i].iov_len > 50 ? 50 : iov[i].iov_len;
        if (part > 1) part /= 2;
        return pwrite(fd, iov[i].iov_base, part, offset);
    }
    return 0;
}

static int fault_fdatasync_fails(int fd)
{
    (void)fd;
    errno = EIO;
    return -1;
}

static ssize_t fault_pwritev_zero(int fd, const struct iovec *iov, int count, off_t offset)
{
    (void)fd;
    (void)iov;
    (void)count;
    (void)offset;
    return 0;
}

Test(journal_faults, short_writes_are_continued)
{
    test_journal t;
    test_journal_init(&t);
    test_journal_fill(&t, 3, NULL);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    cor__journal_io_hooks.pwritev = fault_pwritev_short;
    fault_short_budget = 5;
    cr_assert_eq(test_journal_append(journal, 4), COR_OK);
    cr_assert_geq(fault_calls, 6, "the record took several writes");
    cr_assert_eq(test_journal_append(journal, 5), COR_OK);
    cor__journal_io_reset();
    cor_journal_close(journal);
    test_journal_expect(&t, 5);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, short_write_then_error_poisons_and_recovers)
{
    test_journal t;
    test_journal_init(&t);
    test_journal_fill(&t, 3, NULL);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    cor__journal_io_hooks.pwritev = fault_pwritev_short;
    fault_short_budget = 2;
    fault_fail_after_short = true;
    cr_assert_eq(test_journal_append(journal, 4), COR_ERR_IO);
    cor__journal_io_reset();
    cr_assert_eq(test_journal_append(journal, 4), COR_ERR_POISONED, "no work after a failure");
    cr_assert(cor_test_log_contains(&t.log, "accepts no more work"), "%s", t.log.text);
    cor_journal_stats stats;
    cor_journal_stats_get(journal, &stats);
    cr_assert_eq(stats.op_number, 3);
    cor_journal_close(journal);
    /* The partial record is a torn tail: reopening cuts it and keeps ops 1..3. */
    test_journal_expect(&t, 3);
    cr_assert(cor_test_log_contains(&t.log, "torn tail"), "%s", t.log.text);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, failing_fdatasync_stops_the_writer)
{
    test_journal t;
    test_journal_init(&t);
    test_journal_fill(&t, 2, NULL);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    cor__journal_io_hooks.fdatasync = fault_fdatasync_fails;
    cr_assert_eq(test_journal_append(journal, 3), COR_ERR_IO);
    cor__journal_io_reset();
    /* Even with a healthy disk again, the journal refuses: page-cache state is unknown. */
    cr_assert_eq(test_journal_append(journal, 3), COR_ERR_POISONED);
    cr_assert_eq(test_journal_append(journal, 4), COR_ERR_POISONED);
    cr_assert_eq(cor_journal_snapshot(journal, NULL, NULL), COR_ERR_INVALID);
    cor_journal_close(journal);
    /* Reopening recovers what is on disk: ops 1..2 and possibly the unacknowledged 3. */
    cor_journal *reopened = NULL;
    cr_assert_eq(test_journal_open(&t, &reopened), COR_OK, "%s", t.detail);
    cr_assert_not(t.replayed.bad);
    cr_assert_geq(t.replayed.count, 2);
    cr_assert_leq(t.replayed.count, 3);
    cor_journal_close(reopened);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, write_returning_zero_is_an_error)
{
    test_journal t;
    test_journal_init(&t);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    cor__journal_io_hooks.pwritev = fault_pwritev_zero;
    cr_assert_eq(test_journal_append(journal, 1), COR_ERR_IO);
    cor__journal_io_reset();
    cr_assert_eq(test_journal_append(journal, 1), COR_ERR_POISONED);
    cor_journal_close(journal);
    test_journal_expect(&t, 0);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, full_journal_refuses_without_poisoning)
{
    test_journal t;
    test_journal_init(&t);
    t.options.size_bytes_max = 64 + 3 * (COR_JOURNAL_RECORD_HEADER_SIZE + 512);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    uint64_t op = 1;
    cor_error rc = COR_OK;
    for (; op < 100 && rc == COR_OK; op++)
        rc = test_journal_append(journal, op);
    cr_assert_eq(rc, COR_ERR_JOURNAL_FULL);
    cor_journal_stats stats;
    cor_journal_stats_get(journal, &stats);
    cr_assert_leq(stats.size_bytes, t.options.size_bytes_max);
    cr_assert_eq(stats.op_number, op - 2);
    cor_journal_close(journal);
    test_journal_expect(&t, op - 2);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, bad_batches_are_refused_before_writing)
{
    test_journal t;
    test_journal_init(&t);
    t.options.payload_size_bytes_max = 256;
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    unsigned char payload[512] = {0};
    cor_journal_batch batch = {.operation = 0, .payload = payload, .payload_size_bytes = 8};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_ERR_INVALID);
    batch = (cor_journal_batch){.operation = 1, .payload = NULL, .payload_size_bytes = 8};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_ERR_INVALID);
    batch = (cor_journal_batch){.operation = 1, .payload = payload, .payload_size_bytes = 512};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_ERR_LIMIT);
    batch = (cor_journal_batch){.operation = 1, .payload = NULL, .payload_size_bytes = 0};
    cr_assert_eq(cor_journal_append(journal, &batch, NULL), COR_OK, "empty payload is fine");
    cor_journal_close(journal);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, record_over_the_limit_at_recovery)
{
    test_journal t;
    test_journal_init(&t);
    test_journal_fill(&t, 6, NULL);
    t.options.payload_size_bytes_max = 16;
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_ERR_LIMIT, "%s", t.detail);
    cr_assert(strstr(t.detail, "payload limit") != NULL, "%s", t.detail);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, allocation_failure_at_open)
{
    test_journal t;
    test_journal_init(&t);
    test_journal_fill(&t, 2, NULL);
    for (uint64_t n = 1; n <= 3; n++) {
        cor_alloc_fail_after(n);
        cor_journal *journal = NULL;
        cor_error rc = test_journal_open(&t, &journal);
        cor_alloc_fail_after(0);
        cr_assert(rc == COR_ERR_NOMEM || rc == COR_OK);
        if (rc == COR_OK)
            cor_journal_close(journal);
        else
            cr_assert_null(journal);
    }
    test_journal_expect(&t, 2);
    cor_test_dir_remove(t.dir);
}

Test(journal_faults, snapshot_of_an_empty_journal_is_refused)
{
    test_journal t;
    test_journal_init(&t);
    cor_journal *journal = NULL;
    cr_assert_eq(test_journal_open(&t, &journal), COR_OK);
    cr_assert_eq(cor_journal_snapshot(journal, NULL, NULL), COR_ERR_INVALID);
    cr_assert_eq(cor_journal_snapshot_start(journal, NULL, NULL), COR_ERR_INVALID);
    cr_assert_eq(cor_journal_snapshot_poll(journal), COR_OK, "nothing running");
    cor_journal_close(journal);
    cor_test_dir_remove(t.dir);
}
