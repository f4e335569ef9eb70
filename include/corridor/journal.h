/*
 * corridor: the write-ahead journal, snapshots and crash recovery.
 *
 * A data directory holds one append-only journal file of batch records and a few snapshot
 * files. Each record is one batch of commands that the core applied, with the timestamp the
 * core assigned to it; it is appended (one write, one fdatasync: group commit) before any
 * result of the batch is released. Records carry their length, a header checksum, and a link
 * in a BLAKE2b-256 hash chain over every earlier record (which also covers the payload, so it
 * detects torn and corrupted writes as well as rewritten history). The on-disk format is in
 * docs/JOURNAL.md.
 *
 * The journal does not interpret a batch's payload: the state machine above it (the ledger,
 * or the node's core) gives each batch an operation code and bytes, and gets them back, in
 * order, at recovery through a callback.
 *
 * Recovery (cor_journal_open) = the newest valid snapshot, handed to a caller-supplied loader,
 * then every journal record after it, handed to a replay callback. A torn tail (a crash during
 * an append) is truncated, with a log line saying so. Damage anywhere before the tail is
 * refused with COR_ERR_CORRUPT and a message naming the file and the byte offset, never
 * skipped. An unknown format version is refused with COR_ERR_VERSION.
 *
 * Threads: a cor_journal is not thread-safe. One thread at a time may call into it. append
 * reads the caller's batch but never the caller's other state, so a core may apply batch N in
 * memory on one thread while another thread appends batch N, as long as no result of N is
 * released before append returns COR_OK (cor_ledger_store below does exactly that).
 *
 * Errors: every function returns a cor_error (include/corridor/error.h). When a detail
 * matters (which file, which offset), it is written to the log callback and, when given, to
 * the error_detail buffer of the options.
 */
#ifndef CORRIDOR_JOURNAL_H
#define CORRIDOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"
#include "corridor/ledger.h"

#define COR_JOURNAL_HASH_SIZE 32u /* BLAKE2b-256 */

/* Largest payload of one record; the default of options.payload_size_bytes_max. */
#define COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX (16u * 1024u * 1024u)

/* Default of options.size_bytes_max (the journal file). */
#define COR_JOURNAL_SIZE_BYTES_MAX_DEFAULT (1ull << 40)

typedef struct cor_journal cor_journal; /* opaque */

/* One batch as the state machine sees it. */
typedef struct cor_journal_batch {
    uint64_t op_number;        /* 1, 2, 3, ... assigned by the journal at append */
    uint64_t timestamp;        /* ns, assigned by the core to the batch; opaque to the journal */
    uint32_t operation;        /* the state machine's operation code; not 0 */
    uint32_t event_count;      /* events in the batch (for summaries); opaque to the journal */
    const void *payload;       /* borrowed; at recovery 16-byte aligned and valid until the
                                * callback returns */
    size_t payload_size_bytes; /* 0 .. payload_size_bytes_max */
} cor_journal_batch;

/* What a snapshot covers: the state after applying ops 1 .. op_number. */
typedef struct cor_journal_snapshot_info {
    uint64_t op_number;                        /* 0: no snapshot (empty state) */
    uint64_t timestamp;                        /* timestamp of op op_number */
    uint64_t state_size_bytes;                 /* the blob the serializer wrote */
    uint8_t chain_hash[COR_JOURNAL_HASH_SIZE]; /* chain head after op op_number */
    uint8_t state_hash[COR_JOURNAL_HASH_SIZE]; /* BLAKE2b-256 of the state blob */
} cor_journal_snapshot_info;

/* ---------------------------------------------------------------------------------------- */
/* Callbacks                                                                                */
/* ---------------------------------------------------------------------------------------- */

/* One line of text (no trailing newline). NULL in the options means stderr. */
typedef void (*cor_journal_log_fn)(void *context, const char *message);

/* Same shape as cor_ledger_write_fn / cor_ledger_read_fn, so the ledger's serializer can be
 * passed straight through. write: consecutive pieces of the state. read: must fill exactly
 * size_bytes; asking for more than the snapshot holds returns COR_ERR_CORRUPT. */
typedef cor_error (*cor_journal_write_fn)(void *context, const void *bytes, size_t size_bytes);
typedef cor_error (*cor_journal_read_fn)(void *context, void *bytes, size_t size_bytes);

/* Writes the caller's whole state through write. Runs in a forked child for
 * cor_journal_snapshot_start (see there), in the caller's thread for cor_journal_snapshot. */
typedef cor_error (*cor_journal_serialize_fn)(void *context, cor_journal_write_fn write,
                                              void *write_context);

/* Rebuilds the caller's state from a snapshot (info says what it covers) by reading through
 * read. Called at most once per open, before any replay. The journal has already verified the
 * snapshot's checksum, and after the loader returns it checks the loader read every byte. */
typedef cor_error (*cor_journal_load_fn)(void *context, const cor_journal_snapshot_info *info,
                                         cor_journal_read_fn read, void *read_context);

/* Applies one recovered batch. Called for each valid record after the snapshot, in op order.
 * A non-OK return stops recovery and open returns it. */
typedef cor_error (*cor_journal_replay_fn)(void *context, const cor_journal_batch *batch);

/* Verification only (flag IGNORE_SNAPSHOTS): called right after the replay of op
 * info->op_number for each snapshot file that covers that op, so the caller can compare its
 * replayed state with the snapshot (for instance the BLAKE2b-256 of its serialization with
 * info->state_hash). A non-OK return stops recovery and open returns it. */
typedef cor_error (*cor_journal_snapshot_check_fn)(void *context,
                                                   const cor_journal_snapshot_info *info);

/* ---------------------------------------------------------------------------------------- */
/* Open (= recover), append, close                                                          */
/* ---------------------------------------------------------------------------------------- */

enum cor_journal_open_flags {
    COR_JOURNAL_CREATE = 1u << 0,           /* create the directory's journal if absent */
    COR_JOURNAL_READ_ONLY = 1u << 1,        /* change no file: a torn tail is reported, not cut;
                                             * append and snapshots fail with COR_ERR_INVALID */
    COR_JOURNAL_IGNORE_SNAPSHOTS = 1u << 2, /* replay every record from op 1 (verify); still
                                             * checks every snapshot file (checksum, chain) */
};

typedef struct cor_journal_options {
    const char *dir;                 /* data directory (must exist); borrowed during open */
    uint32_t flags;                  /* enum cor_journal_open_flags */
    uint32_t payload_size_bytes_max; /* 0: COR_JOURNAL_PAYLOAD_SIZE_BYTES_MAX */
    uint64_t size_bytes_max;         /* journal file; 0: COR_JOURNAL_SIZE_BYTES_MAX_DEFAULT */
    uint32_t snapshots_kept;         /* snapshot files kept after a new one; 0: 2 */

    cor_journal_load_fn load;                     /* NULL: a snapshot found is an error */
    cor_journal_replay_fn replay;                 /* required */
    cor_journal_snapshot_check_fn snapshot_check; /* optional */
    void *context;                                /* passed to load, replay, snapshot_check */

    cor_journal_log_fn log; /* NULL: stderr */
    void *log_context;

    char *error_detail; /* optional: the first problem, NUL-terminated, on failure */
    size_t error_detail_size;
} cor_journal_options;

/* A summary of what open found and did. */
typedef struct cor_journal_stats {
    uint64_t op_number;          /* last durable op (0: empty journal) */
    uint64_t timestamp;          /* its timestamp */
    uint64_t size_bytes;         /* journal file size after recovery */
    uint64_t records_replayed;   /* records handed to replay by open */
    uint64_t events_replayed;    /* sum of their event_count */
    uint64_t records_total;      /* records in the journal */
    uint64_t events_total;       /* sum of every record's event_count */
    uint64_t snapshot_op_number; /* snapshot loaded by open (0: none) */
    uint64_t snapshots_found;    /* valid snapshot files */
    uint64_t tail_bytes_torn;    /* torn tail cut at open (reported only, when READ_ONLY) */
    uint8_t chain_hash[COR_JOURNAL_HASH_SIZE]; /* head of the hash chain */
} cor_journal_stats;

/*
 * Opens dir's journal and recovers: loads the newest valid snapshot through options->load
 * (a damaged snapshot is logged and the next older one is used), then replays every later
 * record through options->replay, checking each header checksum, op number and chain link.
 * A torn tail is truncated (logged); with READ_ONLY it is only counted in tail_bytes_torn.
 * Takes an exclusive lock on the journal file (flock) unless READ_ONLY.
 *
 * Errors: COR_ERR_INVALID (bad options), COR_ERR_NOT_FOUND (no journal and no CREATE),
 * COR_ERR_BUSY (another process still holds the directory after a 1 s wait, which lets the
 * snapshot child of a process killed a moment ago die first), COR_ERR_VERSION (unknown journal or
 * snapshot format version), COR_ERR_CORRUPT (damage before the tail; a snapshot that does not
 * match the journal; a gap), COR_ERR_LIMIT (a record larger than payload_size_bytes_max),
 * COR_ERR_IO, COR_ERR_NOMEM, or the first non-OK return of a callback.
 * On failure the callbacks may already have run: the caller must discard whatever state they
 * built. Success: *journal_out must go to cor_journal_close. Failure: *journal_out is NULL.
 */
cor_error cor_journal_open(const cor_journal_options *options, cor_journal **journal_out);

/*
 * Appends batch (its op_number field is ignored) as op stats.op_number + 1, with one write
 * (writev of header and payload; short writes are continued) and one fdatasync, and returns
 * only when the record is durable. *op_number_out (may be NULL) receives its op number.
 * Copies nothing: the payload is borrowed for the duration of the call.
 *
 * Errors: COR_ERR_INVALID (operation 0, NULL payload with a size, READ_ONLY),
 * COR_ERR_LIMIT (payload larger than payload_size_bytes_max), COR_ERR_JOURNAL_FULL
 * (size_bytes_max reached; the journal stays usable), COR_ERR_IO (the write or fdatasync
 * failed: the journal is then poisoned), COR_ERR_POISONED (an earlier append failed; only
 * close remains useful; reopening recovers exactly the durable records).
 */
cor_error cor_journal_append(cor_journal *journal, const cor_journal_batch *batch,
                             uint64_t *op_number_out);

void cor_journal_stats_get(const cor_journal *journal, cor_journal_stats *out);

/* Waits for a running snapshot child (see below), releases the lock, closes. NULL: no-op. */
void cor_journal_close(cor_journal *journal);

/* ---------------------------------------------------------------------------------------- */
/* Snapshots                                                                                */
/* ---------------------------------------------------------------------------------------- */

/*
 * The caller's state must be exactly the state after ops 1 .. stats.op_number (every durable
 * op applied, nothing more) when either call starts. The snapshot file is written to a
 * temporary name, fsynced, renamed into place and the directory fsynced; only then does it
 * count. Older snapshot files beyond snapshots_kept are then removed.
 *
 * cor_journal_snapshot writes it in the calling thread (the core pauses for the whole write).
 *
 * cor_journal_snapshot_start forks: the child process serializes its copy-on-write image of
 * the state and writes the file, while the parent returns at once and may keep appending and
 * applying. The core pauses only for fork() (page-table copy; figures in docs/JOURNAL.md).
 * The serializer runs in the child, so it must not take locks that other threads of the
 * parent may hold (no cor_alloc/malloc, no stdio): the ledger's serializer qualifies.
 * The child is killed when the thread that started it ends (Linux PR_SET_PDEATHSIG), so a
 * crashed parent leaves no child holding the journal's lock; that thread must therefore
 * reap it (poll/wait, or close the journal) before it exits, as the node's core thread does.
 * Errors: COR_ERR_BUSY (a snapshot is still running), COR_ERR_INVALID (READ_ONLY, poisoned,
 * or no op appended yet: the empty state needs no snapshot), COR_ERR_IO (fork failed).
 *
 * cor_journal_snapshot_poll reaps a finished child without blocking: COR_ERR_BUSY while it
 * runs, COR_OK when it succeeded or none was running, COR_ERR_IO when it failed (the previous
 * snapshots stay valid). cor_journal_snapshot_wait blocks until it finishes, same results.
 * Errors of cor_journal_snapshot: COR_ERR_IO, COR_ERR_INVALID, or the serializer's error.
 */
cor_error cor_journal_snapshot(cor_journal *journal, cor_journal_serialize_fn serialize,
                               void *context);
cor_error cor_journal_snapshot_start(cor_journal *journal, cor_journal_serialize_fn serialize,
                                     void *context);
cor_error cor_journal_snapshot_poll(cor_journal *journal);
cor_error cor_journal_snapshot_wait(cor_journal *journal);

/* ---------------------------------------------------------------------------------------- */
/* Record codec (used by recovery; exposed for the fuzzer and for tools)                    */
/* ---------------------------------------------------------------------------------------- */

#define COR_JOURNAL_RECORD_HEADER_SIZE 96u

/*
 * Decodes the record at the start of bytes (size bytes available), given the chain head
 * before it and the op number it must have. On success fills *batch (payload points into
 * bytes), *record_size_out (header + payload + padding) and chain_out (the new head).
 * Errors: COR_ERR_PARSE (fewer bytes than the record claims: a possible torn tail),
 * COR_ERR_CORRUPT (bad magic, header checksum, size, padding, op number or chain link),
 * COR_ERR_LIMIT (payload larger than payload_size_bytes_max). Never reads past size.
 */
cor_error cor_journal_record_decode(const void *bytes, size_t size,
                                    const uint8_t chain_before[COR_JOURNAL_HASH_SIZE],
                                    uint64_t op_number_expected, uint32_t payload_size_bytes_max,
                                    cor_journal_batch *batch, size_t *record_size_out,
                                    uint8_t chain_out[COR_JOURNAL_HASH_SIZE]);

/* ---------------------------------------------------------------------------------------- */
/* Ledger store: a pure cor_ledger kept durable in a data directory                         */
/* ---------------------------------------------------------------------------------------- */

/*
 * Convenience layer over the journal for a ledger alone (bench journal, verify, tests). Its
 * operation codes are cor_ledger_operation (payload: the cor_account / cor_transfer array, or
 * for expire_pending a uint32 limit and 4 zero bytes) and COR_LEDGER_STORE_OP_CONFIGURE, the
 * first record of every store, whose payload holds the capacities (four uint32 little-endian:
 * accounts_max, transfers_max, pending_transfers_max, failed_ids_max). A snapshot's state is
 * those 16 bytes followed by cor_ledger_serialize's bytes.
 *
 * Each command is appended by a writer thread while the calling thread applies it to the
 * ledger, and returns only when both are done, so results are released only once durable.
 * If the append fails, the in-memory ledger is ahead of the journal: the store is poisoned
 * (every later command returns COR_ERR_POISONED); reopen it to recover.
 */
#define COR_LEDGER_STORE_OP_CONFIGURE 0x100u

typedef struct cor_ledger_store cor_ledger_store; /* opaque */

typedef struct cor_ledger_store_options {
    const char *dir; /* data directory (must exist) */
    uint32_t flags;  /* enum cor_journal_open_flags */
    uint32_t reserved;
    cor_ledger_options ledger; /* capacities for a new store (an existing store keeps the
                                * journaled ones), the hash seed and prefault */
    cor_journal_log_fn log;    /* NULL: stderr */
    void *log_context;
    char *error_detail; /* optional, as in cor_journal_options */
    size_t error_detail_size;
} cor_ledger_store_options;

/* Recovers (or creates, with COR_JOURNAL_CREATE) the store. In IGNORE_SNAPSHOTS mode every
 * snapshot is also compared with the replayed state at its op (COR_ERR_CORRUPT if it
 * differs). Errors: those of cor_journal_open and cor_ledger_open/deserialize. */
cor_error cor_ledger_store_open(const cor_ledger_store_options *options,
                                cor_ledger_store **store_out);
void cor_ledger_store_close(cor_ledger_store *store); /* NULL: no-op */

/* The ledger, borrowed for the store's lifetime; read it only between commands. */
const cor_ledger *cor_ledger_store_ledger(const cor_ledger_store *store);

/* What the journal found at open and its state now. */
void cor_ledger_store_stats(const cor_ledger_store *store, cor_journal_stats *out);

/* The ledger commands, made durable (same arguments and results as ledger.h). Errors:
 * COR_ERR_INVALID (as the ledger's; nothing is journaled then), the append's errors, and
 * COR_ERR_POISONED. */
cor_error cor_ledger_store_create_accounts(cor_ledger_store *store, uint64_t timestamp,
                                           const cor_account *accounts, uint32_t count,
                                           cor_create_result *results);
cor_error cor_ledger_store_create_transfers(cor_ledger_store *store, uint64_t timestamp,
                                            const cor_transfer *transfers, uint32_t count,
                                            cor_create_result *results);
cor_error cor_ledger_store_expire_pending(cor_ledger_store *store, uint64_t timestamp,
                                          uint32_t limit, uint32_t *expired_out);

/* Snapshot of the ledger: forked (background=true; finish with cor_ledger_store_snapshot_wait
 * or let the next snapshot/close reap it) or in the calling thread. Errors: as the journal's
 * snapshot calls. */
cor_error cor_ledger_store_snapshot(cor_ledger_store *store, bool background);
cor_error cor_ledger_store_snapshot_wait(cor_ledger_store *store);

#endif
