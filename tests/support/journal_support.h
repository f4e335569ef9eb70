/* Helpers for the journal tests: temporary data directories, file surgery, log capture. */
#ifndef COR_TEST_JOURNAL_SUPPORT_H
#define COR_TEST_JOURNAL_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor/journal.h"

/* Creates a fresh directory under $TMPDIR (or /tmp); out must hold 256 bytes. */
void cor_test_dir_make(char *out, size_t out_size);

/* Removes every file in dir, then dir (the data directories are flat). */
void cor_test_dir_remove(const char *dir);

/* dir/name into out. */
void cor_test_path(char *out, size_t out_size, const char *dir, const char *name);

uint64_t cor_test_file_size(const char *path);
void cor_test_file_truncate(const char *path, uint64_t size);
void cor_test_file_flip_bit(const char *path, uint64_t offset, unsigned bit);
void cor_test_file_read(const char *path, uint64_t offset, void *bytes, size_t size);
void cor_test_file_write(const char *path, uint64_t offset, const void *bytes, size_t size);

/* Collects log lines; pass cor_test_log as the log callback and the struct as its context. */
typedef struct cor_test_log_lines {
    char text[8192];
    size_t used;
    uint32_t count;
} cor_test_log_lines;

void cor_test_log(void *context, const char *message);
bool cor_test_log_contains(const cor_test_log_lines *lines, const char *needle);

/* BLAKE2b-256 of a ledger's canonical serialization. */
void cor_test_ledger_hash(const cor_ledger *ledger, uint8_t out[32]);

#endif
