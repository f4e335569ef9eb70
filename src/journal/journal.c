/*
 * The write-ahead journal: open (= recover), append, snapshots, close.
 *
 * Tuned for large batches: one record per batch, appended with one pwritev (header, payload,
 * padding; no copy) and one fdatasync, so the per-batch cost is one disk flush however many
 * events the batch holds. Recovery maps the file read-only and walks it once.
 *
 * Invariants: size_bytes is the end of the last durable record; op_number and chain are that
 * record's. After a failed write or fdatasync the tail of the file is unknown, so the journal
 * is poisoned and writes nothing more; reopening recovers exactly the durable records.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/assert.h"
#include "journal/journal_internal.h"

/* How long open waits for a busy lock to be released (see journal_open_file). */
#define JOURNAL_LOCK_WAIT_MS 1000u
/* Small appends write into zeros written ahead of them (see journal_prezero). */
#define JOURNAL_PREZERO_BYTES      (4u << 20)  /* zeros written ahead at a time */
#define JOURNAL_PREZERO_RECORD_MAX (64u << 10) /* records up to this size use them, */
#define JOURNAL_PREZERO_STREAK     8u          /* after this many such records in a row */

struct cor_journal {
    char dir[JOURNAL_PATH_SIZE_MAX]; /* data directory */
    int fd;                          /* journal file */
    int dir_fd;                      /* data directory, for fsync and *at calls */
    uint32_t flags;                  /* enum cor_journal_open_flags */
    uint32_t payload_size_bytes_max;
    uint64_t size_bytes_max;
    uint32_t snapshots_kept;        /* >= 1 */
    bool poisoned;                  /* a write or fdatasync failed */
    uint64_t last_record_offset;    /* start of record op_number (0: none) */
    uint64_t allocated_end;         /* the file's size: zeros from stats.size_bytes to here */
    uint32_t small_streak;          /* appends in a row of at most JOURNAL_PREZERO_RECORD_MAX */
    pid_t snapshot_pid;             /* running snapshot child, or 0 */
    unsigned char *snapshot_buffer; /* SNAPSHOT_BUFFER_SIZE, allocated at open */
    journal_reporter reporter;
    cor_journal_stats stats; /* op_number, chain, size_bytes: the durable end */
};

static ssize_t journal_pwritev_real(int fd, const struct iovec *iov, int count, off_t offset)
{
    return pwritev(fd, iov, count, offset);
}

static int journal_fdatasync_real(int fd)
{
    return fdatasync(fd);
}

cor__journal_io cor__journal_io_hooks = {journal_pwritev_real, journal_fdatasync_real};

void cor__journal_io_reset(void)
{
    cor__journal_io_hooks = (cor__journal_io){journal_pwritev_real, journal_fdatasync_real};
}

/* ---------------------------------------------------------------------------------------- */
/* Creating the journal file                                                                */
/* ---------------------------------------------------------------------------------------- */

static void journal_file_header(unsigned char header[JOURNAL_FILE_HEADER_SIZE])
{
    memset(header, 0, JOURNAL_FILE_HEADER_SIZE);
    journal_store_u64(header + 0, JOURNAL_FILE_MAGIC);
    journal_store_u32(header + 8, JOURNAL_FILE_VERSION);
    journal_store_u32(header + 12, JOURNAL_FILE_HEADER_SIZE);
    journal_store_u32(header + 16, JOURNAL_BYTE_ORDER_MARK);
    journal_store_u32(header + 20, COR_JOURNAL_RECORD_HEADER_SIZE);
    journal_store_u64(header + 56, cor__journal_checksum64(header, 56));
}

/* Writes the header to a temporary file, fsyncs, renames it into place, fsyncs the dir. */
static cor_error journal_create(cor_journal *journal)
{
    unsigned char header[JOURNAL_FILE_HEADER_SIZE];
    journal_file_header(header);
    const char *tmp = JOURNAL_FILE_NAME ".tmp";
    int fd = openat(journal->dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) goto fail;
    if (pwrite(fd, header, sizeof(header), 0) != (ssize_t)sizeof(header)) goto fail;
    if (fsync(fd) != 0) goto fail;
    close(fd);
    fd = -1;
    if (renameat(journal->dir_fd, tmp, journal->dir_fd, JOURNAL_FILE_NAME) != 0) goto fail;
    if (fsync(journal->dir_fd) != 0) goto fail;
    cor__journal_log(&journal->reporter, "journal '%s/%s' created", journal->dir,
                     JOURNAL_FILE_NAME);
    return COR_OK;

fail:;
    int saved = errno;
    if (fd >= 0) close(fd);
    return cor__journal_problem(&journal->reporter, COR_ERR_IO, "cannot create journal '%s/%s': %s",
                                journal->dir, JOURNAL_FILE_NAME, strerror(saved));
}

static cor_error journal_file_header_check(cor_journal *journal, const unsigned char *bytes,
                                           uint64_t file_size)
{
    journal_reporter *r = &journal->reporter;
    const char *dir = journal->dir;
    if (file_size < JOURNAL_FILE_HEADER_SIZE || journal_load_u64(bytes) != JOURNAL_FILE_MAGIC) {
        return cor__journal_problem(r, COR_ERR_CORRUPT,
                                    "journal '%s/%s' is not a corridor journal (bad magic at "
                                    "offset 0)",
                                    dir, JOURNAL_FILE_NAME);
    }
    uint32_t version = journal_load_u32(bytes + 8);
    if (version != JOURNAL_FILE_VERSION) {
        return cor__journal_problem(r, COR_ERR_VERSION,
                                    "journal '%s/%s' has format version %u; this build reads "
                                    "version %u",
                                    dir, JOURNAL_FILE_NAME, version, JOURNAL_FILE_VERSION);
    }
    unsigned char expected[JOURNAL_FILE_HEADER_SIZE];
    journal_file_header(expected);
    if (memcmp(bytes, expected, JOURNAL_FILE_HEADER_SIZE) != 0) {
        return cor__journal_problem(r, COR_ERR_CORRUPT,
                                    "journal '%s/%s': corrupt file header at offset 0", dir,
                                    JOURNAL_FILE_NAME);
    }
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Recovery                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct journal_recovery {
    const cor_journal_options *options;
    const unsigned char *bytes; /* the mapped journal file */
    uint64_t file_size;
    journal_snapshot_file snapshots[SNAPSHOT_FILES_MAX]; /* newest first */
    uint32_t snapshots_count;
    const journal_snapshot_file *loaded; /* snapshot the state starts from, or NULL */
} journal_recovery;

/* Damage at offset: a torn tail when no plausible record header follows it (a crash during
 * the last append leaves garbage only at the end; damage followed by a valid record cannot be
 * a crash, because appends are sequential and each was flushed before the next began). */
static bool journal_damage_is_tail(const journal_recovery *recovery, uint64_t offset)
{
    for (uint64_t at = offset + JOURNAL_RECORD_ALIGN;
         at + COR_JOURNAL_RECORD_HEADER_SIZE <= recovery->file_size; at += JOURNAL_RECORD_ALIGN) {
        if (cor__journal_record_header_plausible(recovery->bytes + at)) return false;
    }
    return true;
}

static cor_error journal_cut_tail(cor_journal *journal, journal_recovery *recovery, uint64_t offset)
{
    uint64_t torn = recovery->file_size - offset;
    journal->stats.tail_bytes_torn = torn;
    if (journal->flags & COR_JOURNAL_READ_ONLY) {
        cor__journal_log(&journal->reporter,
                         "journal '%s/%s': torn tail of %llu bytes at offset %llu (read-only: "
                         "left in place)",
                         journal->dir, JOURNAL_FILE_NAME, (unsigned long long)torn,
                         (unsigned long long)offset);
        return COR_OK;
    }
    if (ftruncate(journal->fd, (off_t)offset) != 0 || fsync(journal->fd) != 0) {
        return cor__journal_problem(
            &journal->reporter, COR_ERR_IO, "cannot truncate journal '%s/%s' at offset %llu: %s",
            journal->dir, JOURNAL_FILE_NAME, (unsigned long long)offset, strerror(errno));
    }
    cor__journal_log(&journal->reporter,
                     "journal '%s/%s': torn tail of %llu bytes at offset %llu truncated "
                     "(crash during an append)",
                     journal->dir, JOURNAL_FILE_NAME, (unsigned long long)torn,
                     (unsigned long long)offset);
    return COR_OK;
}

static const char *journal_damage_text(cor_error rc)
{
    if (rc == COR_ERR_LIMIT) return "record larger than the payload limit";
    if (rc == COR_ERR_PARSE) return "record cut short";
    return "checksum, chain or op number mismatch";
}

/* Called after op has been replayed, in verification mode: lets the caller compare its state
 * with every snapshot covering this op, and checks the snapshot's chain head. */
static cor_error journal_snapshots_at(cor_journal *journal, journal_recovery *recovery)
{
    const cor_journal_options *options = recovery->options;
    for (uint32_t i = 0; i < recovery->snapshots_count; i++) {
        const journal_snapshot_file *file = &recovery->snapshots[i];
        if (file->info.op_number != journal->stats.op_number) continue;
        if (sodium_memcmp(file->info.chain_hash, journal->stats.chain_hash,
                          COR_JOURNAL_HASH_SIZE) != 0) {
            return cor__journal_problem(&journal->reporter, COR_ERR_CORRUPT,
                                        "snapshot '%s/%s' does not match the journal's hash "
                                        "chain at op %llu",
                                        journal->dir, file->name,
                                        (unsigned long long)file->info.op_number);
        }
        if (options->snapshot_check == NULL) continue;
        cor_error rc = options->snapshot_check(options->context, &file->info);
        if (rc != COR_OK) {
            return cor__journal_problem(&journal->reporter, rc,
                                        "snapshot '%s/%s' differs from the replayed state at "
                                        "op %llu",
                                        journal->dir, file->name,
                                        (unsigned long long)file->info.op_number);
        }
    }
    return COR_OK;
}

/*
 * The walk is a two-stage pipeline: a verifier thread decodes records ahead (header checksum,
 * op number, BLAKE2b chain over the payload) into a bounded ring, while the calling thread
 * replays the verified ones. Replay never sees a record before it verified, and hashing
 * (about 1 ms per MiB) overlaps the state machine's work instead of adding to it.
 */
#define WALK_RING_SIZE 64u

typedef struct walk_entry {
    cor_journal_batch batch;
    uint64_t offset;    /* where the record starts */
    size_t record_size; /* on disk, padding included */
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    cor_error rc; /* not OK: the decode failed at offset; the walk ends */
    bool end;     /* the end of the file was reached; the walk ends */
} walk_entry;

typedef struct walk_pipeline {
    const journal_recovery *recovery;
    uint32_t payload_size_bytes_max;
    uint64_t offset; /* where the verifier starts, and its state there */
    uint64_t op_number;
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    walk_entry ring[WALK_RING_SIZE];
    uint64_t produced; /* entries ever produced / consumed (guarded) */
    uint64_t consumed;
    bool stop; /* the consumer gave up (guarded) */
    pthread_mutex_t mutex;
    pthread_cond_t changed;
} walk_pipeline;

static void *walk_verifier_main(void *argument)
{
    walk_pipeline *pipeline = argument;
    const journal_recovery *recovery = pipeline->recovery;
    uint64_t offset = pipeline->offset;
    uint64_t op_number = pipeline->op_number;
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    memcpy(chain, pipeline->chain, sizeof(chain));
    uint64_t records_bound = recovery->file_size / COR_JOURNAL_RECORD_HEADER_SIZE + 2;
    for (uint64_t step = 0; step < records_bound; step++) {
        walk_entry entry = {.offset = offset, .end = offset >= recovery->file_size};
        if (!entry.end) {
            entry.rc = cor_journal_record_decode(recovery->bytes + offset,
                                                 (size_t)(recovery->file_size - offset), chain,
                                                 op_number + 1, pipeline->payload_size_bytes_max,
                                                 &entry.batch, &entry.record_size, entry.chain);
        }
        pthread_mutex_lock(&pipeline->mutex);
        while (pipeline->produced - pipeline->consumed == WALK_RING_SIZE && !pipeline->stop) {
            pthread_cond_wait(&pipeline->changed, &pipeline->mutex);
        }
        bool stop = pipeline->stop;
        if (!stop) {
            pipeline->ring[pipeline->produced % WALK_RING_SIZE] = entry;
            pipeline->produced++;
            pthread_cond_broadcast(&pipeline->changed);
        }
        pthread_mutex_unlock(&pipeline->mutex);
        if (stop || entry.end || entry.rc != COR_OK) break;
        offset += entry.record_size;
        op_number++;
        memcpy(chain, entry.chain, sizeof(chain));
    }
    return NULL;
}

static walk_entry walk_take(walk_pipeline *pipeline)
{
    pthread_mutex_lock(&pipeline->mutex);
    while (pipeline->produced == pipeline->consumed) {
        pthread_cond_wait(&pipeline->changed, &pipeline->mutex);
    }
    walk_entry entry = pipeline->ring[pipeline->consumed % WALK_RING_SIZE];
    pipeline->consumed++;
    pthread_cond_broadcast(&pipeline->changed);
    pthread_mutex_unlock(&pipeline->mutex);
    return entry;
}

/* Whether every byte from offset to the end of the file is zero: the zeros small appends write
 * ahead of themselves (journal_prezero), not damage. */
static bool journal_zero_tail(const journal_recovery *recovery, uint64_t offset)
{
    static const unsigned char zeros[4096];
    for (uint64_t at = offset; at < recovery->file_size; at += sizeof(zeros)) {
        uint64_t left = recovery->file_size - at;
        size_t size = left < sizeof(zeros) ? (size_t)left : sizeof(zeros);
        if (memcmp(recovery->bytes + at, zeros, size) != 0) return false;
    }
    return true;
}

/* Decides what a decode failure at offset means: the end of the records (zeros follow), a
 * torn tail (cut) or corruption (refused). */
static cor_error journal_walk_damage(cor_journal *journal, journal_recovery *recovery,
                                     uint64_t offset, cor_error rc)
{
    if (journal_zero_tail(recovery, offset)) {
        journal->stats.size_bytes = offset;
        journal->allocated_end = recovery->file_size;
        return COR_OK;
    }
    if (rc == COR_ERR_PARSE || journal_damage_is_tail(recovery, offset)) {
        journal->stats.size_bytes = offset;
        return journal_cut_tail(journal, recovery, offset);
    }
    return cor__journal_problem(&journal->reporter, rc == COR_ERR_LIMIT ? rc : COR_ERR_CORRUPT,
                                "journal '%s/%s': corrupt record at offset %llu (op %llu "
                                "expected): %s; valid records follow, refusing to recover",
                                journal->dir, JOURNAL_FILE_NAME, (unsigned long long)offset,
                                (unsigned long long)journal->stats.op_number + 1,
                                journal_damage_text(rc));
}

/* Replays one verified record and advances the durable end past it. */
static cor_error journal_walk_replay(cor_journal *journal, journal_recovery *recovery,
                                     const walk_entry *entry)
{
    const cor_journal_options *options = recovery->options;
    cor_error rc = options->replay(options->context, &entry->batch);
    if (rc != COR_OK) {
        return cor__journal_problem(
            &journal->reporter, rc, "replay of op %llu (journal '%s/%s' offset %llu) failed: %s",
            (unsigned long long)entry->batch.op_number, journal->dir, JOURNAL_FILE_NAME,
            (unsigned long long)entry->offset, cor_strerror(rc));
    }
    journal->last_record_offset = entry->offset;
    journal->stats.op_number = entry->batch.op_number;
    journal->stats.timestamp = entry->batch.timestamp;
    memcpy(journal->stats.chain_hash, entry->chain, COR_JOURNAL_HASH_SIZE);
    journal->stats.records_replayed++;
    journal->stats.events_replayed += entry->batch.event_count;
    journal->stats.size_bytes = entry->offset + entry->record_size;
    if (journal->flags & COR_JOURNAL_IGNORE_SNAPSHOTS)
        return journal_snapshots_at(journal, recovery);
    return COR_OK;
}

/* Walks records from offset, replaying each; leaves stats.size_bytes at the durable end. */
static cor_error journal_walk(cor_journal *journal, journal_recovery *recovery, uint64_t offset)
{
    journal->stats.size_bytes = offset;
    walk_pipeline *pipeline = cor_calloc(1, sizeof(*pipeline));
    if (pipeline == NULL) return COR_ERR_NOMEM;
    *pipeline = (walk_pipeline){.recovery = recovery,
                                .payload_size_bytes_max = journal->payload_size_bytes_max,
                                .offset = offset,
                                .op_number = journal->stats.op_number};
    memcpy(pipeline->chain, journal->stats.chain_hash, COR_JOURNAL_HASH_SIZE);
    pthread_mutex_init(&pipeline->mutex, NULL);
    pthread_cond_init(&pipeline->changed, NULL);
    pthread_t verifier;
    cor_error rc = COR_OK;
    if (pthread_create(&verifier, NULL, walk_verifier_main, pipeline) != 0) {
        rc = COR_ERR_NOMEM;
        goto done;
    }
    uint64_t records_bound = recovery->file_size / COR_JOURNAL_RECORD_HEADER_SIZE + 2;
    for (uint64_t step = 0; step < records_bound; step++) {
        walk_entry entry = walk_take(pipeline);
        if (entry.end) break;
        rc = entry.rc != COR_OK ? journal_walk_damage(journal, recovery, entry.offset, entry.rc)
                                : journal_walk_replay(journal, recovery, &entry);
        if (rc != COR_OK || entry.rc != COR_OK) break;
    }
    pthread_mutex_lock(&pipeline->mutex);
    pipeline->stop = true;
    pthread_cond_broadcast(&pipeline->changed);
    pthread_mutex_unlock(&pipeline->mutex);
    pthread_join(verifier, NULL);

done:
    pthread_cond_destroy(&pipeline->changed);
    pthread_mutex_destroy(&pipeline->mutex);
    cor_free(pipeline);
    return rc;
}

/* Checks that the journal holds snapshot file's op at its recorded offset, with the same
 * chain head; returns in *end_out where the next record starts. */
static cor_error journal_snapshot_matches(cor_journal *journal, const journal_recovery *recovery,
                                          const journal_snapshot_file *file, uint64_t *end_out)
{
    const cor_journal_snapshot_info *info = &file->info;
    uint64_t at = file->record_offset;
    bool ok = at >= JOURNAL_FILE_HEADER_SIZE && at <= recovery->file_size &&
              recovery->file_size - at >= COR_JOURNAL_RECORD_HEADER_SIZE &&
              cor__journal_record_header_plausible(recovery->bytes + at) &&
              journal_load_u64(recovery->bytes + at + 8) == info->op_number &&
              memcmp(recovery->bytes + at + 32, info->chain_hash, COR_JOURNAL_HASH_SIZE) == 0;
    uint64_t end = ok ? at + journal_record_size(journal_load_u32(recovery->bytes + at + 28)) : 0;
    if (!ok || end > recovery->file_size) {
        return cor__journal_problem(&journal->reporter, COR_ERR_CORRUPT,
                                    "snapshot '%s/%s' covers op %llu, but journal '%s/%s' has "
                                    "no matching record at offset %llu",
                                    journal->dir, file->name, (unsigned long long)info->op_number,
                                    journal->dir, JOURNAL_FILE_NAME, (unsigned long long)at);
    }
    *end_out = end;
    return COR_OK;
}

/* Loads the newest snapshot whose state checksum verifies (older ones when it does not),
 * after checking the journal agrees with it. Returns in *offset_out where the walk
 * continues. */
static cor_error journal_recover_snapshot(cor_journal *journal, journal_recovery *recovery,
                                          uint64_t *offset_out)
{
    journal_reporter *r = &journal->reporter;
    for (uint32_t i = 0; i < recovery->snapshots_count; i++) {
        const journal_snapshot_file *file = &recovery->snapshots[i];
        uint64_t end = 0;
        cor_error rc = journal_snapshot_matches(journal, recovery, file, &end);
        if (rc != COR_OK) return rc;
        if (recovery->options->load == NULL) {
            return cor__journal_problem(r, COR_ERR_INVALID,
                                        "snapshot '%s/%s' found but no "
                                        "loader was given",
                                        journal->dir, file->name);
        }
        bool damaged = false;
        rc =
            cor__journal_snapshot_load(journal->dir_fd, journal->dir, file, recovery->options->load,
                                       recovery->options->context, r, &damaged);
        if (damaged) {
            cor__journal_log(r, "snapshot '%s/%s' is damaged; trying an older one", journal->dir,
                             file->name);
            continue;
        }
        if (rc != COR_OK) return rc;
        recovery->loaded = file;
        journal->last_record_offset = file->record_offset;
        journal->stats.op_number = file->info.op_number;
        journal->stats.timestamp = file->info.timestamp;
        journal->stats.snapshot_op_number = file->info.op_number;
        memcpy(journal->stats.chain_hash, file->info.chain_hash, COR_JOURNAL_HASH_SIZE);
        *offset_out = end;
        return COR_OK;
    }
    return COR_OK;
}

/* Maps the journal file and runs the whole recovery. */
static cor_error journal_recover(cor_journal *journal, const cor_journal_options *options)
{
    journal_reporter *r = &journal->reporter;
    journal_recovery *recovery = cor_calloc(1, sizeof(*recovery));
    if (recovery == NULL) return COR_ERR_NOMEM;
    recovery->options = options;
    void *map = MAP_FAILED;
    cor_error rc = COR_OK;

    struct stat st;
    if (fstat(journal->fd, &st) != 0) {
        rc = cor__journal_problem(r, COR_ERR_IO, "cannot stat journal '%s/%s': %s", journal->dir,
                                  JOURNAL_FILE_NAME, strerror(errno));
        goto done;
    }
    recovery->file_size = (uint64_t)st.st_size;
    if (recovery->file_size > 0) {
        map = mmap(NULL, (size_t)recovery->file_size, PROT_READ, MAP_PRIVATE, journal->fd, 0);
        if (map == MAP_FAILED) {
            rc = cor__journal_problem(r, COR_ERR_IO, "cannot map journal '%s/%s': %s", journal->dir,
                                      JOURNAL_FILE_NAME, strerror(errno));
            goto done;
        }
        madvise(map, (size_t)recovery->file_size, MADV_SEQUENTIAL | MADV_WILLNEED);
        recovery->bytes = map;
    }
    rc = journal_file_header_check(journal, recovery->bytes, recovery->file_size);
    if (rc != COR_OK) goto done;

    bool verify = (journal->flags & COR_JOURNAL_IGNORE_SNAPSHOTS) != 0;
    rc = cor__journal_snapshots_list(journal->dir_fd, journal->dir, verify, r, recovery->snapshots,
                                     SNAPSHOT_FILES_MAX, &recovery->snapshots_count);
    if (rc != COR_OK) goto done;
    journal->stats.snapshots_found = recovery->snapshots_count;

    uint64_t offset = JOURNAL_FILE_HEADER_SIZE;
    uint64_t events_before = 0;
    if (verify) {
        for (uint32_t i = 0; i < recovery->snapshots_count && rc == COR_OK; i++) {
            rc = cor__journal_snapshot_verify(journal->dir_fd, journal->dir,
                                              &recovery->snapshots[i], true, r);
        }
        if (rc != COR_OK) goto done;
    } else {
        rc = journal_recover_snapshot(journal, recovery, &offset);
        if (rc != COR_OK) goto done;
        if (recovery->loaded != NULL) events_before = recovery->loaded->events_total;
    }
    rc = journal_walk(journal, recovery, offset);
    if (rc != COR_OK) goto done;
    if (journal->allocated_end < journal->stats.size_bytes) {
        journal->allocated_end = journal->stats.size_bytes;
    }
    journal->stats.records_total = journal->stats.op_number;
    journal->stats.events_total = events_before + journal->stats.events_replayed;
    for (uint32_t i = 0; i < recovery->snapshots_count; i++) {
        if (recovery->snapshots[i].info.op_number > journal->stats.op_number) {
            rc = cor__journal_problem(r, COR_ERR_CORRUPT,
                                      "snapshot '%s/%s' covers op %llu but journal '%s/%s' "
                                      "ends at op %llu",
                                      journal->dir, recovery->snapshots[i].name,
                                      (unsigned long long)recovery->snapshots[i].info.op_number,
                                      journal->dir, JOURNAL_FILE_NAME,
                                      (unsigned long long)journal->stats.op_number);
            goto done;
        }
    }

done:
    if (map != MAP_FAILED) munmap(map, (size_t)recovery->file_size);
    cor_free(recovery);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Open and close                                                                           */
/* ---------------------------------------------------------------------------------------- */

static cor_error journal_open_file(cor_journal *journal)
{
    bool read_only = (journal->flags & COR_JOURNAL_READ_ONLY) != 0;
    int mode = read_only ? O_RDONLY : O_RDWR;
    journal->fd = openat(journal->dir_fd, JOURNAL_FILE_NAME, mode | O_CLOEXEC);
    if (journal->fd < 0 && errno == ENOENT && !read_only && (journal->flags & COR_JOURNAL_CREATE)) {
        cor_error rc = journal_create(journal);
        if (rc != COR_OK) return rc;
        journal->fd = openat(journal->dir_fd, JOURNAL_FILE_NAME, mode | O_CLOEXEC);
    }
    if (journal->fd < 0) {
        cor_error rc = errno == ENOENT ? COR_ERR_NOT_FOUND : COR_ERR_IO;
        return cor__journal_problem(&journal->reporter, rc, "cannot open journal '%s/%s': %s",
                                    journal->dir, JOURNAL_FILE_NAME, strerror(errno));
    }
    /* A snapshot child of a process that was just killed dies asynchronously (its
     * PR_SET_PDEATHSIG is delivered, then its memory is torn down) and holds the lock until
     * then, so a busy lock is retried for a short, bounded while before it counts. */
    int locked = read_only ? 0 : flock(journal->fd, LOCK_EX | LOCK_NB);
    for (uint32_t wait = 0; locked != 0 && errno == EWOULDBLOCK && wait < JOURNAL_LOCK_WAIT_MS;
         wait += 10u) {
        struct timespec pause = {.tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
        locked = flock(journal->fd, LOCK_EX | LOCK_NB);
    }
    if (locked != 0) {
        cor_error rc = errno == EWOULDBLOCK ? COR_ERR_BUSY : COR_ERR_IO;
        return cor__journal_problem(&journal->reporter, rc, "cannot lock journal '%s/%s': %s",
                                    journal->dir, JOURNAL_FILE_NAME,
                                    rc == COR_ERR_BUSY ? "another process has it open"
                                                       : strerror(errno));
    }
    if (!read_only) cor__journal_snapshot_clean(journal->dir_fd, &journal->reporter, journal->dir);
    return COR_OK;
}

static cor_error journal_options_check(const cor_journal_options *options,
                                       journal_reporter *reporter)
{
    const char *problem = NULL;
    if (options->dir == NULL || options->dir[0] == '\0')
        problem = "no data directory given";
    else if (strlen(options->dir) >= JOURNAL_PATH_SIZE_MAX - 128)
        problem = "path too long";
    else if (options->replay == NULL)
        problem = "no replay callback given";
    else if (options->payload_size_bytes_max > COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX) {
        problem = "payload_size_bytes_max above COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX";
    }
    if (problem == NULL) return COR_OK;
    return cor__journal_problem(reporter, COR_ERR_INVALID, "journal options: %s", problem);
}

cor_error cor_journal_open(const cor_journal_options *options, cor_journal **journal_out)
{
    *journal_out = NULL;
    journal_reporter reporter = {options->log, options->log_context, options->error_detail,
                                 options->error_detail_size, false};
    if (options->error_detail != NULL && options->error_detail_size > 0) {
        options->error_detail[0] = '\0';
    }
    cor_error rc = journal_options_check(options, &reporter);
    if (rc != COR_OK) return rc;
    if (sodium_init() < 0) return cor__journal_problem(&reporter, COR_ERR_IO, "libsodium init");

    cor_journal *journal = cor_calloc(1, sizeof(*journal));
    if (journal == NULL) return COR_ERR_NOMEM;
    journal->fd = -1;
    journal->reporter = reporter;
    journal->flags = options->flags;
    journal->payload_size_bytes_max = options->payload_size_bytes_max
                                          ? options->payload_size_bytes_max
                                          : COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX;
    journal->size_bytes_max =
        options->size_bytes_max ? options->size_bytes_max : COR_JOURNAL_SIZE_BYTES_MAX_DEFAULT;
    journal->snapshots_kept = options->snapshots_kept ? options->snapshots_kept : 2u;
    snprintf(journal->dir, sizeof(journal->dir), "%s", options->dir);
    journal->dir_fd = open(options->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (journal->dir_fd < 0) {
        rc = cor__journal_problem(
            &journal->reporter, errno == ENOENT ? COR_ERR_NOT_FOUND : COR_ERR_IO,
            "cannot open data directory '%s': %s", options->dir, strerror(errno));
        goto fail;
    }
    journal->snapshot_buffer = cor_alloc(SNAPSHOT_BUFFER_SIZE);
    if (journal->snapshot_buffer == NULL) {
        rc = COR_ERR_NOMEM;
        goto fail;
    }
    rc = journal_open_file(journal);
    if (rc != COR_OK) goto fail;
    rc = journal_recover(journal, options);
    if (rc != COR_OK) goto fail;
    journal->reporter.detail = NULL; /* the caller's buffer is only valid during open */
    *journal_out = journal;
    return COR_OK;

fail:
    journal->reporter.detail = NULL;
    cor_journal_close(journal);
    return rc;
}

void cor_journal_close(cor_journal *journal)
{
    if (journal == NULL) return;
    if (journal->snapshot_pid > 0) (void)cor_journal_snapshot_wait(journal);
    if (journal->fd >= 0) close(journal->fd);
    if (journal->dir_fd >= 0) close(journal->dir_fd);
    cor_free(journal->snapshot_buffer);
    cor_free(journal);
}

void cor_journal_stats_get(const cor_journal *journal, cor_journal_stats *out)
{
    *out = journal->stats;
}

/* ---------------------------------------------------------------------------------------- */
/* Append                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Writes the whole record at offset: continues after short writes, retries EINTR. */
static cor_error journal_write_all(cor_journal *journal, struct iovec *iov, int iov_count,
                                   uint64_t offset, uint64_t size_bytes)
{
    uint64_t written = 0;
    for (uint32_t attempt = 0; attempt < JOURNAL_WRITE_ATTEMPTS_MAX; attempt++) {
        ssize_t n =
            cor__journal_io_hooks.pwritev(journal->fd, iov, iov_count, (off_t)(offset + written));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return COR_ERR_IO;
        written += (uint64_t)n;
        if (written == size_bytes) return COR_OK;
        COR_ASSERT(written < size_bytes);
        size_t skip = (size_t)n; /* drop what was written from the front of iov */
        while (iov_count > 0 && skip >= iov[0].iov_len) {
            skip -= iov[0].iov_len;
            iov++;
            iov_count--;
        }
        COR_ASSERT(iov_count > 0);
        iov[0].iov_base = (char *)iov[0].iov_base + skip;
        iov[0].iov_len -= skip;
    }
    errno = EIO;
    return COR_ERR_IO;
}

static cor_error journal_append_check(const cor_journal *journal, const cor_journal_batch *batch)
{
    if (journal->poisoned) return COR_ERR_POISONED;
    if (journal->flags & COR_JOURNAL_READ_ONLY) return COR_ERR_INVALID;
    if (batch->operation == 0) return COR_ERR_INVALID;
    if (batch->payload == NULL && batch->payload_size_bytes > 0) return COR_ERR_INVALID;
    if (batch->payload_size_bytes > journal->payload_size_bytes_max) return COR_ERR_LIMIT;
    uint64_t record_size = journal_record_size(batch->payload_size_bytes);
    if (journal->stats.size_bytes + record_size > journal->size_bytes_max) {
        return COR_ERR_JOURNAL_FULL;
    }
    return COR_OK;
}

/*
 * Writes zeros past the end of the records, JOURNAL_PREZERO_BYTES at a time, before a small
 * append needs them. An append into bytes the file already holds changes neither the file's
 * size nor its extents, so its fdatasync flushes the data alone instead of also committing
 * the file system's metadata: measured here with appends of 1-3 KB, a third less time per
 * flush at the median and at p99 (docs/JOURNAL.md "Preallocation"). Only a run of small
 * appends uses it: a large append's flush is mostly data, and between large appends the
 * zeros would only double the bytes written.
 * Best effort: a failed write leaves fewer zeros, which recovery reads as the end.
 */
static void journal_prezero(cor_journal *journal, uint64_t end)
{
    static const unsigned char zeros[64u << 10];
    if (end <= journal->allocated_end) return;
    uint64_t until = end + JOURNAL_PREZERO_BYTES;
    if (until > journal->size_bytes_max) until = journal->size_bytes_max;
    uint64_t at = journal->allocated_end;
    while (at < until) {
        size_t size = until - at < sizeof(zeros) ? (size_t)(until - at) : sizeof(zeros);
        ssize_t written = pwrite(journal->fd, zeros, size, (off_t)at);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) break;
        at += (uint64_t)written;
    }
    journal->allocated_end = at;
}

cor_error cor_journal_append(cor_journal *journal, const cor_journal_batch *batch,
                             uint64_t *op_number_out)
{
    cor_error rc = journal_append_check(journal, batch);
    if (rc != COR_OK) return rc;

    uint64_t op_number = journal->stats.op_number + 1;
    unsigned char header[COR_JOURNAL_RECORD_HEADER_SIZE];
    uint8_t chain[COR_JOURNAL_HASH_SIZE];
    cor__journal_record_encode(header, batch, op_number, journal->stats.chain_hash, chain);
    static const unsigned char padding[JOURNAL_RECORD_ALIGN];
    uint64_t record_size = journal_record_size(batch->payload_size_bytes);
    struct iovec iov[3] = {
        {header, sizeof(header)},
        {(void *)(uintptr_t)batch->payload, batch->payload_size_bytes},
        {(void *)(uintptr_t)padding,
         (size_t)(record_size - sizeof(header) - batch->payload_size_bytes)},
    };
    uint64_t offset = journal->stats.size_bytes;
    if (record_size > JOURNAL_PREZERO_RECORD_MAX) {
        journal->small_streak = 0;
    } else if (journal->small_streak < JOURNAL_PREZERO_STREAK) {
        journal->small_streak++; /* saturates: never wraps back to a short run */
    }
    if (journal->small_streak >= JOURNAL_PREZERO_STREAK)
        journal_prezero(journal, offset + record_size);
    rc = journal_write_all(journal, iov, 3, offset, record_size);
    if (rc == COR_OK && cor__journal_io_hooks.fdatasync(journal->fd) != 0) rc = COR_ERR_IO;
    if (rc != COR_OK) {
        journal->poisoned = true;
        cor__journal_log(&journal->reporter,
                         "journal '%s/%s': append of op %llu at offset %llu failed (%s); the "
                         "journal accepts no more work until reopened",
                         journal->dir, JOURNAL_FILE_NAME, (unsigned long long)op_number,
                         (unsigned long long)offset, strerror(errno));
        return rc;
    }
    journal->last_record_offset = offset;
    journal->stats.size_bytes = offset + record_size;
    if (journal->allocated_end < journal->stats.size_bytes) {
        journal->allocated_end = journal->stats.size_bytes;
    }
    journal->stats.op_number = op_number;
    journal->stats.timestamp = batch->timestamp;
    journal->stats.records_total++;
    journal->stats.events_total += batch->event_count;
    memcpy(journal->stats.chain_hash, chain, COR_JOURNAL_HASH_SIZE);
    if (op_number_out != NULL) *op_number_out = op_number;
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Snapshots                                                                                */
/* ---------------------------------------------------------------------------------------- */

static cor_error journal_snapshot_reap(cor_journal *journal, int options);

/* A previous background snapshot that has finished is reaped first (its failure is logged
 * and does not stop a new one). */
static cor_error journal_snapshot_check(cor_journal *journal)
{
    if (journal->flags & COR_JOURNAL_READ_ONLY) return COR_ERR_INVALID;
    if (journal->poisoned) return COR_ERR_INVALID;
    if (journal->stats.op_number == 0) return COR_ERR_INVALID; /* nothing to cover yet */
    if (journal_snapshot_reap(journal, WNOHANG) == COR_ERR_BUSY) return COR_ERR_BUSY;
    return COR_OK;
}

static void journal_snapshot_info(const cor_journal *journal, cor_journal_snapshot_info *info)
{
    *info = (cor_journal_snapshot_info){
        .op_number = journal->stats.op_number,
        .timestamp = journal->stats.timestamp,
    };
    memcpy(info->chain_hash, journal->stats.chain_hash, COR_JOURNAL_HASH_SIZE);
}

cor_error cor_journal_snapshot(cor_journal *journal, cor_journal_serialize_fn serialize,
                               void *context)
{
    cor_error rc = journal_snapshot_check(journal);
    if (rc != COR_OK) return rc;
    cor_journal_snapshot_info info;
    journal_snapshot_info(journal, &info);
    rc = cor__journal_snapshot_write(journal->dir_fd, &info, journal->last_record_offset,
                                     journal->stats.events_total, journal->snapshot_buffer,
                                     serialize, context);
    if (rc == COR_OK) cor__journal_snapshot_prune(journal->dir_fd, journal->snapshots_kept);
    if (rc != COR_OK) {
        cor__journal_log(&journal->reporter, "snapshot of op %llu in '%s' failed: %s",
                         (unsigned long long)info.op_number, journal->dir, cor_strerror(rc));
    }
    return rc;
}

cor_error cor_journal_snapshot_start(cor_journal *journal, cor_journal_serialize_fn serialize,
                                     void *context)
{
    cor_error rc = journal_snapshot_check(journal);
    if (rc != COR_OK) return rc;
    cor_journal_snapshot_info info;
    journal_snapshot_info(journal, &info);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return COR_ERR_IO;
    if (pid == 0) {
        /* The child dies with the thread that started it. Without this, a parent killed
         * (SIGKILL, a crash) mid-snapshot leaves the child running with the journal's fd,
         * hence its flock, and a restart fails "another process has it open" until the
         * child finishes. The unfinished snapshot is removed at the next open. A parent
         * already gone before prctl took effect is caught by getppid. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
        /* The child: only the serializer, write(2) and BLAKE2b run here; no locks. */
        rc = cor__journal_snapshot_write(journal->dir_fd, &info, journal->last_record_offset,
                                         journal->stats.events_total, journal->snapshot_buffer,
                                         serialize, context);
        _exit(rc == COR_OK ? 0 : 1);
    }
    journal->snapshot_pid = pid;
    return COR_OK;
}

static cor_error journal_snapshot_reap(cor_journal *journal, int options)
{
    if (journal->snapshot_pid <= 0) return COR_OK;
    int status = 0;
    pid_t pid;
    do {
        pid = waitpid(journal->snapshot_pid, &status, options);
    } while (pid < 0 && errno == EINTR);
    if (pid == 0) return COR_ERR_BUSY;
    journal->snapshot_pid = 0;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cor__journal_log(&journal->reporter, "background snapshot in '%s' failed", journal->dir);
        return COR_ERR_IO;
    }
    cor__journal_snapshot_prune(journal->dir_fd, journal->snapshots_kept);
    return COR_OK;
}

cor_error cor_journal_snapshot_poll(cor_journal *journal)
{
    return journal_snapshot_reap(journal, WNOHANG);
}

cor_error cor_journal_snapshot_wait(cor_journal *journal)
{
    return journal_snapshot_reap(journal, 0);
}
