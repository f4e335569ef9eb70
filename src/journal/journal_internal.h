/*
 * Private declarations of the journal module: on-disk layout constants (docs/JOURNAL.md),
 * the codec helpers shared by journal.c and journal_snapshot.c, and the test-only I/O hooks.
 */
#ifndef COR_JOURNAL_INTERNAL_H
#define COR_JOURNAL_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "corridor/journal.h"

#define JOURNAL_FILE_NAME        "journal"
#define JOURNAL_FILE_MAGIC       0x6c6e726a726f63ull /* "corjrnl" little-endian */
#define JOURNAL_FILE_VERSION     1u
#define JOURNAL_FILE_HEADER_SIZE 64u
#define JOURNAL_RECORD_MAGIC     0x31636572u /* "rec1" little-endian */
#define JOURNAL_BYTE_ORDER_MARK  0x01020304u

#define SNAPSHOT_FILE_MAGIC       0x70616e73726f63ull /* "corsnap" little-endian */
#define SNAPSHOT_FILE_VERSION     1u
#define SNAPSHOT_FILE_HEADER_SIZE 160u
#define SNAPSHOT_FILES_MAX        64u        /* snapshot files considered at open */
#define SNAPSHOT_BUFFER_SIZE      (4u << 20) /* write buffer, allocated before fork */

#define JOURNAL_WRITE_ATTEMPTS_MAX 64u /* pwritev calls per append (short writes continue) */
#define JOURNAL_PATH_SIZE_MAX      4096u

/* Records start and end on 16 bytes, so a payload in a mapped journal is 16-byte aligned
 * (cor_account and cor_transfer need that to be read in place). */
#define JOURNAL_RECORD_ALIGN 16u
_Static_assert(COR_JOURNAL_RECORD_HEADER_SIZE % JOURNAL_RECORD_ALIGN == 0, "header alignment");
_Static_assert(JOURNAL_FILE_HEADER_SIZE % JOURNAL_RECORD_ALIGN == 0, "first record alignment");
_Static_assert(COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX % JOURNAL_RECORD_ALIGN == 0, "limit alignment");

/* Test-only fault injection: every journal write and fdatasync goes through these. Tests
 * replace them (one Criterion test per process) and restore them with
 * cor__journal_io_reset. */
typedef struct cor__journal_io {
    ssize_t (*pwritev)(int fd, const struct iovec *iov, int iov_count, off_t offset);
    int (*fdatasync)(int fd);
} cor__journal_io;

extern cor__journal_io cor__journal_io_hooks;
void cor__journal_io_reset(void);

/* Little-endian field access (the format is little-endian on every host). */
static inline uint32_t journal_load_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t journal_load_u64(const unsigned char *p)
{
    return (uint64_t)journal_load_u32(p) | (uint64_t)journal_load_u32(p + 4) << 32;
}

static inline void journal_store_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void journal_store_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* 8-byte BLAKE2b of bytes, as a little-endian u64: the header checksums. */
uint64_t cor__journal_checksum64(const void *bytes, size_t size_bytes);

/* Fast 64-bit checksum of snapshot blobs (journal_checksum.c): detects damage, not forgery. */
typedef struct cor__checksum {
    uint64_t lanes[4];
    uint64_t size_bytes;     /* bytes fed so far */
    unsigned char carry[32]; /* a partial stripe */
    size_t carry_size;       /* 0 .. 31 */
} cor__checksum;

void cor__checksum_init(cor__checksum *state);
void cor__checksum_update(cor__checksum *state, const void *bytes, size_t size_bytes);
uint64_t cor__checksum_final(cor__checksum *state);

/* Record size on disk for a payload: header + payload + zero padding to 16 bytes. */
static inline uint64_t journal_record_size(uint64_t payload_size_bytes)
{
    uint64_t mask = JOURNAL_RECORD_ALIGN - 1u;
    return COR_JOURNAL_RECORD_HEADER_SIZE + ((payload_size_bytes + mask) & ~mask);
}

/* Fills header (COR_JOURNAL_RECORD_HEADER_SIZE bytes) for batch as op op_number, computing
 * the new chain head into chain_out. */
void cor__journal_record_encode(unsigned char *header, const cor_journal_batch *batch,
                                uint64_t op_number,
                                const uint8_t chain_before[COR_JOURNAL_HASH_SIZE],
                                uint8_t chain_out[COR_JOURNAL_HASH_SIZE]);

/* True when bytes (at least the header size) hold a record header with the right magic and
 * checksum: used to tell a torn tail from damage followed by valid records. */
bool cor__journal_record_header_plausible(const unsigned char *bytes);

/* Logs a problem (and keeps the first one in the detail buffer); returns rc. */
typedef struct journal_reporter {
    cor_journal_log_fn log;
    void *log_context;
    char *detail;
    size_t detail_size;
    bool detail_set;
} journal_reporter;

void cor__journal_log(journal_reporter *reporter, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
cor_error cor__journal_problem(journal_reporter *reporter, cor_error rc, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- snapshots (journal_snapshot.c) ---- */

typedef struct journal_snapshot_file {
    cor_journal_snapshot_info info;
    uint64_t record_offset;  /* where record op_number starts; 0 if op 0 */
    uint64_t events_total;   /* events in ops 1 .. op_number */
    uint64_t state_checksum; /* fast checksum of the state blob */
    char name[64];
} journal_snapshot_file;

/* Lists the snapshot files of dir_fd, newest first, checking headers (not the state hash).
 * Files with a damaged header are logged and skipped, unless strict (then an error).
 * Unknown versions are COR_ERR_VERSION. */
cor_error cor__journal_snapshots_list(int dir_fd, const char *dir, bool strict,
                                      journal_reporter *reporter, journal_snapshot_file *files,
                                      uint32_t files_max, uint32_t *count_out);

/* Checks one snapshot file's state (reads it whole): its fast checksum, and with full also
 * its BLAKE2b state hash. */
cor_error cor__journal_snapshot_verify(int dir_fd, const char *dir,
                                       const journal_snapshot_file *file, bool full,
                                       journal_reporter *reporter);

/* Maps one snapshot once, checks its fast checksum and hands its state to load. A checksum
 * mismatch sets *damaged_out (load never ran: an older snapshot may be tried). */
cor_error cor__journal_snapshot_load(int dir_fd, const char *dir, const journal_snapshot_file *file,
                                     cor_journal_load_fn load, void *context,
                                     journal_reporter *reporter, bool *damaged_out);

/* Writes a snapshot file of the state serialize produces, covering info's op, atomically.
 * buffer: SNAPSHOT_BUFFER_SIZE bytes. Allocates nothing (it may run in a forked child). */
cor_error cor__journal_snapshot_write(int dir_fd, const cor_journal_snapshot_info *info,
                                      uint64_t record_offset, uint64_t events_total,
                                      unsigned char *buffer, cor_journal_serialize_fn serialize,
                                      void *context);

/* Removes all but the newest kept snapshot files. */
void cor__journal_snapshot_prune(int dir_fd, uint32_t kept);

/* Removes leftover temporary snapshot files (a crash during a snapshot). */
void cor__journal_snapshot_clean(int dir_fd, journal_reporter *reporter, const char *dir);

#endif
