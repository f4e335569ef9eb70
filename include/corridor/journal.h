/*
 * corridor: the write-ahead journal.
 *
 * An append-only file of batch records. Each record is one batch of commands that the core
 * applied, with the timestamp the core assigned to it; it is appended (one write, one
 * fdatasync: group commit) before any result of the batch is released. Records carry their
 * length, a checksum that detects torn and corrupted writes, and a link in a BLAKE2b hash
 * chain over every earlier record, so rewritten history is detectable. The format is in
 * docs/JOURNAL.md.
 *
 * The journal does not interpret a batch's payload: the state machine above it (the ledger,
 * or the node's core) gives each batch an operation code and bytes, and gets them back in
 * order at recovery.
 *
 * Threads: one writer thread per journal.
 */
#ifndef CORRIDOR_JOURNAL_H
#define CORRIDOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/error.h"

#define COR_JOURNAL_HASH_SIZE 32u

typedef struct cor_journal cor_journal; /* opaque */

/* One batch as the state machine sees it. */
typedef struct cor_journal_batch {
    uint64_t    op_number;   /* 1, 2, 3, ... assigned by the journal at append */
    uint64_t    timestamp;   /* ns, assigned by the core to the batch */
    uint32_t    operation;   /* the state machine's operation code (not 0) */
    uint32_t    event_count; /* events in the batch (for summaries) */
    const void *payload;     /* borrowed; valid until the callback returns */
    size_t      payload_size_bytes;
} cor_journal_batch;

#endif
