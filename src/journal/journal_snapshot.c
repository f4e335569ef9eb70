/*
 * Snapshot files: a 160-byte header (what the snapshot covers, BLAKE2b-256 and a fast
 * checksum of the state, a header checksum) followed by the state blob the caller's serializer
 * wrote. Recovery checks the fast checksum; verify also checks the BLAKE2b state hash.
 *
 * Written atomically: a temporary file is filled, fsynced, renamed to
 * snapshot-<op, 20 digits> and the directory fsynced, so a crash leaves either the old set of
 * snapshots or the new one, plus at most a temporary file that the next open removes.
 * The writer may run in a forked child: it uses only a buffer allocated before the fork,
 * write(2) and BLAKE2b, and allocates nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/assert.h"
#include "journal/journal_internal.h"

enum {
    SNAP_MAGIC = 0,
    SNAP_VERSION = 8,
    SNAP_HEADER_SIZE = 12,
    SNAP_OP_NUMBER = 16,
    SNAP_TIMESTAMP = 24,
    SNAP_STATE_SIZE = 32,
    SNAP_RECORD_OFFSET = 40,
    SNAP_CHAIN = 48,
    SNAP_STATE_HASH = 80,
    SNAP_EVENTS_TOTAL = 112,
    SNAP_STATE_CHECKSUM = 120,
    SNAP_RESERVED = 128,
    SNAP_CHECKSUM = 152,
};
_Static_assert(SNAP_CHECKSUM + 8 == SNAPSHOT_FILE_HEADER_SIZE, "snapshot header layout");

#define SNAPSHOT_PREFIX     "snapshot-"
#define SNAPSHOT_DIGITS     20u
#define SNAPSHOT_TMP_SUFFIX ".tmp"

/* Parses "snapshot-<20 digits>[suffix]"; false for any other name. */
static bool snapshot_name_parse(const char *name, const char *suffix, uint64_t *op_out)
{
    size_t prefix_size = strlen(SNAPSHOT_PREFIX);
    if (strncmp(name, SNAPSHOT_PREFIX, prefix_size) != 0) return false;
    const char *digits = name + prefix_size;
    uint64_t op = 0;
    for (uint32_t i = 0; i < SNAPSHOT_DIGITS; i++) {
        if (digits[i] < '0' || digits[i] > '9') return false;
        uint64_t digit = (uint64_t)(digits[i] - '0');
        if (op > (UINT64_MAX - digit) / 10u) return false;
        op = op * 10u + digit;
    }
    if (strcmp(digits + SNAPSHOT_DIGITS, suffix) != 0) return false;
    *op_out = op;
    return true;
}

static void snapshot_name(char *out, size_t out_size, uint64_t op, const char *suffix)
{
    snprintf(out, out_size, SNAPSHOT_PREFIX "%020llu%s", (unsigned long long)op, suffix);
}

/* ---------------------------------------------------------------------------------------- */
/* Listing and checking                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* Reads and checks one snapshot header: COR_OK, COR_ERR_VERSION, COR_ERR_CORRUPT, IO. */
static cor_error snapshot_header_read(int dir_fd, const char *name, uint64_t name_op,
                                      journal_snapshot_file *file, const char **why)
{
    unsigned char header[SNAPSHOT_FILE_HEADER_SIZE];
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return COR_ERR_IO;
    }
    struct stat st;
    ssize_t n = pread(fd, header, sizeof(header), 0);
    int stat_rc = fstat(fd, &st);
    close(fd);
    *why = "bad magic or header checksum";
    if (n != (ssize_t)sizeof(header) || stat_rc != 0) return COR_ERR_CORRUPT;
    if (journal_load_u64(header + SNAP_MAGIC) != SNAPSHOT_FILE_MAGIC) return COR_ERR_CORRUPT;
    if (journal_load_u32(header + SNAP_VERSION) != SNAPSHOT_FILE_VERSION) {
        *why = "unknown format version";
        return COR_ERR_VERSION;
    }
    if (journal_load_u64(header + SNAP_CHECKSUM) !=
        cor__journal_checksum64(header, SNAP_CHECKSUM)) {
        return COR_ERR_CORRUPT;
    }
    file->info.op_number = journal_load_u64(header + SNAP_OP_NUMBER);
    file->info.timestamp = journal_load_u64(header + SNAP_TIMESTAMP);
    file->info.state_size_bytes = journal_load_u64(header + SNAP_STATE_SIZE);
    file->record_offset = journal_load_u64(header + SNAP_RECORD_OFFSET);
    file->events_total = journal_load_u64(header + SNAP_EVENTS_TOTAL);
    file->state_checksum = journal_load_u64(header + SNAP_STATE_CHECKSUM);
    memcpy(file->info.chain_hash, header + SNAP_CHAIN, COR_JOURNAL_HASH_SIZE);
    memcpy(file->info.state_hash, header + SNAP_STATE_HASH, COR_JOURNAL_HASH_SIZE);
    snprintf(file->name, sizeof(file->name), "%s", name);
    *why = "size or op number disagrees with the header";
    for (uint32_t i = SNAP_RESERVED; i < SNAP_CHECKSUM; i++) {
        if (header[i] != 0) return COR_ERR_CORRUPT;
    }
    if (journal_load_u32(header + SNAP_HEADER_SIZE) != SNAPSHOT_FILE_HEADER_SIZE ||
        file->info.op_number != name_op ||
        (uint64_t)st.st_size != SNAPSHOT_FILE_HEADER_SIZE + file->info.state_size_bytes) {
        return COR_ERR_CORRUPT;
    }
    return COR_OK;
}

static int snapshot_file_compare(const void *a, const void *b)
{
    uint64_t x = ((const journal_snapshot_file *)a)->info.op_number;
    uint64_t y = ((const journal_snapshot_file *)b)->info.op_number;
    return (x < y) - (x > y); /* newest first */
}

cor_error cor__journal_snapshots_list(int dir_fd, const char *dir, bool strict,
                                      journal_reporter *reporter, journal_snapshot_file *files,
                                      uint32_t files_max, uint32_t *count_out)
{
    *count_out = 0;
    int fd = dup(dir_fd);
    DIR *listing = fd >= 0 ? fdopendir(fd) : NULL;
    if (listing == NULL) {
        if (fd >= 0) close(fd);
        return cor__journal_problem(reporter, COR_ERR_IO, "cannot list data directory '%s': %s",
                                    dir, strerror(errno));
    }
    rewinddir(listing);
    cor_error rc = COR_OK;
    uint32_t count = 0;
    struct dirent *entry;
    while (rc == COR_OK && (entry = readdir(listing)) != NULL) {
        uint64_t op = 0;
        if (!snapshot_name_parse(entry->d_name, "", &op)) continue;
        if (count == files_max) {
            rc = cor__journal_problem(reporter, COR_ERR_LIMIT,
                                      "data directory '%s' holds more than %u snapshot files", dir,
                                      files_max);
            break;
        }
        const char *why = NULL;
        cor_error file_rc = snapshot_header_read(dir_fd, entry->d_name, op, &files[count], &why);
        if (file_rc == COR_OK) {
            count++;
        } else if (file_rc == COR_ERR_CORRUPT && !strict) {
            cor__journal_log(reporter, "snapshot '%s/%s' is damaged (%s); ignoring it", dir,
                             entry->d_name, why);
        } else {
            rc = cor__journal_problem(reporter, file_rc, "snapshot '%s/%s' refused: %s", dir,
                                      entry->d_name, why);
        }
    }
    closedir(listing);
    if (rc != COR_OK) return rc;
    qsort(files, count, sizeof(files[0]), snapshot_file_compare);
    *count_out = count;
    return COR_OK;
}

typedef struct snapshot_map {
    int fd;
    const unsigned char *bytes; /* whole file */
    uint64_t size_bytes;
    uint64_t cursor; /* next state byte to read, from the file start */
} snapshot_map;

/* Maps the whole file. (MAP_POPULATE was measured: no faster for a 3 GB snapshot.) */
static cor_error snapshot_map_open(int dir_fd, const journal_snapshot_file *file, snapshot_map *map)
{
    *map = (snapshot_map){.fd = -1, .cursor = SNAPSHOT_FILE_HEADER_SIZE};
    map->size_bytes = SNAPSHOT_FILE_HEADER_SIZE + file->info.state_size_bytes;
    map->fd = openat(dir_fd, file->name, O_RDONLY | O_CLOEXEC);
    if (map->fd < 0) return COR_ERR_IO;
    void *bytes = mmap(NULL, (size_t)map->size_bytes, PROT_READ, MAP_PRIVATE, map->fd, 0);
    if (bytes == MAP_FAILED) {
        close(map->fd);
        map->fd = -1;
        return COR_ERR_IO;
    }
    madvise(bytes, (size_t)map->size_bytes, MADV_SEQUENTIAL | MADV_WILLNEED);
    map->bytes = bytes;
    return COR_OK;
}

static void snapshot_map_close(snapshot_map *map)
{
    if (map->bytes != NULL) munmap((void *)(uintptr_t)map->bytes, (size_t)map->size_bytes);
    if (map->fd >= 0) close(map->fd);
    map->bytes = NULL;
    map->fd = -1;
}

/* Checks the mapped state: the fast checksum, and with full the BLAKE2b state hash too. */
static bool snapshot_map_verify(const snapshot_map *map, const journal_snapshot_file *file,
                                bool full)
{
    const unsigned char *state = map->bytes + SNAPSHOT_FILE_HEADER_SIZE;
    cor__checksum checksum;
    cor__checksum_init(&checksum);
    cor__checksum_update(&checksum, state, (size_t)file->info.state_size_bytes);
    if (cor__checksum_final(&checksum) != file->state_checksum) return false;
    if (!full) return true;
    uint8_t hash[COR_JOURNAL_HASH_SIZE];
    crypto_generichash(hash, sizeof(hash), state, (unsigned long long)file->info.state_size_bytes,
                       NULL, 0);
    return sodium_memcmp(hash, file->info.state_hash, sizeof(hash)) == 0;
}

static cor_error snapshot_damaged(journal_reporter *reporter, const char *dir,
                                  const journal_snapshot_file *file)
{
    return cor__journal_problem(
        reporter, COR_ERR_CORRUPT, "snapshot '%s/%s': state checksum mismatch (offset %u .. %llu)",
        dir, file->name, SNAPSHOT_FILE_HEADER_SIZE,
        (unsigned long long)(SNAPSHOT_FILE_HEADER_SIZE + file->info.state_size_bytes));
}

cor_error cor__journal_snapshot_verify(int dir_fd, const char *dir,
                                       const journal_snapshot_file *file, bool full,
                                       journal_reporter *reporter)
{
    snapshot_map map;
    if (snapshot_map_open(dir_fd, file, &map) != COR_OK) {
        return cor__journal_problem(reporter, COR_ERR_IO, "cannot read snapshot '%s/%s': %s", dir,
                                    file->name, strerror(errno));
    }
    bool ok = snapshot_map_verify(&map, file, full);
    snapshot_map_close(&map);
    return ok ? COR_OK : snapshot_damaged(reporter, dir, file);
}

static cor_error snapshot_map_read(void *context, void *bytes, size_t size_bytes)
{
    snapshot_map *map = context;
    if (size_bytes > map->size_bytes - map->cursor) return COR_ERR_CORRUPT;
    memcpy(bytes, map->bytes + map->cursor, size_bytes);
    map->cursor += size_bytes;
    return COR_OK;
}

cor_error cor__journal_snapshot_load(int dir_fd, const char *dir, const journal_snapshot_file *file,
                                     cor_journal_load_fn load, void *context,
                                     journal_reporter *reporter, bool *damaged_out)
{
    *damaged_out = false;
    snapshot_map map;
    if (snapshot_map_open(dir_fd, file, &map) != COR_OK) {
        return cor__journal_problem(reporter, COR_ERR_IO, "cannot read snapshot '%s/%s': %s", dir,
                                    file->name, strerror(errno));
    }
    if (!snapshot_map_verify(&map, file, false)) {
        snapshot_map_close(&map);
        *damaged_out = true;
        return snapshot_damaged(reporter, dir, file);
    }
    cor_error rc = load(context, &file->info, snapshot_map_read, &map);
    uint64_t unread = map.size_bytes - map.cursor;
    snapshot_map_close(&map);
    if (rc != COR_OK) {
        return cor__journal_problem(reporter, rc, "cannot load snapshot '%s/%s': %s", dir,
                                    file->name, cor_strerror(rc));
    }
    if (unread != 0) {
        return cor__journal_problem(reporter, COR_ERR_CORRUPT,
                                    "snapshot '%s/%s': %llu bytes left after the state", dir,
                                    file->name, (unsigned long long)unread);
    }
    return COR_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct snapshot_writer {
    int fd;
    unsigned char *buffer; /* SNAPSHOT_BUFFER_SIZE */
    size_t buffered;
    uint64_t offset; /* file offset of buffer[0] */
    crypto_generichash_state hash;
    cor__checksum checksum;
} snapshot_writer;

static cor_error snapshot_writer_flush(snapshot_writer *writer)
{
    size_t done = 0;
    for (uint32_t attempt = 0; done < writer->buffered && attempt < 1024u; attempt++) {
        ssize_t n = pwrite(writer->fd, writer->buffer + done, writer->buffered - done,
                           (off_t)(writer->offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return COR_ERR_IO;
        done += (size_t)n;
    }
    if (done != writer->buffered) return COR_ERR_IO;
    writer->offset += writer->buffered;
    writer->buffered = 0;
    return COR_OK;
}

static cor_error snapshot_writer_write(void *context, const void *bytes, size_t size_bytes)
{
    snapshot_writer *writer = context;
    const unsigned char *cursor = bytes;
    crypto_generichash_update(&writer->hash, cursor, size_bytes);
    cor__checksum_update(&writer->checksum, cursor, size_bytes);
    while (size_bytes > 0) {
        size_t room = SNAPSHOT_BUFFER_SIZE - writer->buffered;
        size_t piece = size_bytes < room ? size_bytes : room;
        memcpy(writer->buffer + writer->buffered, cursor, piece);
        writer->buffered += piece;
        cursor += piece;
        size_bytes -= piece;
        if (writer->buffered == SNAPSHOT_BUFFER_SIZE) {
            cor_error rc = snapshot_writer_flush(writer);
            if (rc != COR_OK) return rc;
        }
    }
    return COR_OK;
}

static void snapshot_header_encode(unsigned char *header, const cor_journal_snapshot_info *info,
                                   uint64_t record_offset, uint64_t events_total,
                                   uint64_t state_checksum)
{
    memset(header, 0, SNAPSHOT_FILE_HEADER_SIZE);
    journal_store_u64(header + SNAP_MAGIC, SNAPSHOT_FILE_MAGIC);
    journal_store_u32(header + SNAP_VERSION, SNAPSHOT_FILE_VERSION);
    journal_store_u32(header + SNAP_HEADER_SIZE, SNAPSHOT_FILE_HEADER_SIZE);
    journal_store_u64(header + SNAP_OP_NUMBER, info->op_number);
    journal_store_u64(header + SNAP_TIMESTAMP, info->timestamp);
    journal_store_u64(header + SNAP_STATE_SIZE, info->state_size_bytes);
    journal_store_u64(header + SNAP_RECORD_OFFSET, record_offset);
    memcpy(header + SNAP_CHAIN, info->chain_hash, COR_JOURNAL_HASH_SIZE);
    memcpy(header + SNAP_STATE_HASH, info->state_hash, COR_JOURNAL_HASH_SIZE);
    journal_store_u64(header + SNAP_EVENTS_TOTAL, events_total);
    journal_store_u64(header + SNAP_STATE_CHECKSUM, state_checksum);
    journal_store_u64(header + SNAP_CHECKSUM, cor__journal_checksum64(header, SNAP_CHECKSUM));
}

cor_error cor__journal_snapshot_write(int dir_fd, const cor_journal_snapshot_info *info_in,
                                      uint64_t record_offset, uint64_t events_total,
                                      unsigned char *buffer, cor_journal_serialize_fn serialize,
                                      void *context)
{
    char tmp[64];
    char name[64];
    snapshot_name(tmp, sizeof(tmp), info_in->op_number, SNAPSHOT_TMP_SUFFIX);
    snapshot_name(name, sizeof(name), info_in->op_number, "");
    snapshot_writer writer = {.buffer = buffer, .offset = SNAPSHOT_FILE_HEADER_SIZE};
    crypto_generichash_init(&writer.hash, NULL, 0, COR_JOURNAL_HASH_SIZE);
    cor__checksum_init(&writer.checksum);
    writer.fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (writer.fd < 0) return COR_ERR_IO;

    cor_error rc = serialize(context, snapshot_writer_write, &writer);
    if (rc == COR_OK) rc = snapshot_writer_flush(&writer);
    if (rc != COR_OK) goto fail;
    cor_journal_snapshot_info info = *info_in;
    info.state_size_bytes = writer.offset - SNAPSHOT_FILE_HEADER_SIZE;
    crypto_generichash_final(&writer.hash, info.state_hash, COR_JOURNAL_HASH_SIZE);
    unsigned char header[SNAPSHOT_FILE_HEADER_SIZE];
    snapshot_header_encode(header, &info, record_offset, events_total,
                           cor__checksum_final(&writer.checksum));
    rc = COR_ERR_IO;
    if (pwrite(writer.fd, header, sizeof(header), 0) != (ssize_t)sizeof(header)) goto fail;
    if (fsync(writer.fd) != 0) goto fail;
    if (close(writer.fd) != 0) {
        writer.fd = -1;
        goto fail;
    }
    writer.fd = -1;
    if (renameat(dir_fd, tmp, dir_fd, name) != 0) goto fail;
    if (fsync(dir_fd) != 0) return COR_ERR_IO;
    return COR_OK;

fail:
    if (writer.fd >= 0) close(writer.fd);
    unlinkat(dir_fd, tmp, 0);
    return rc;
}

/* ---------------------------------------------------------------------------------------- */
/* Housekeeping                                                                             */
/* ---------------------------------------------------------------------------------------- */

void cor__journal_snapshot_clean(int dir_fd, journal_reporter *reporter, const char *dir)
{
    int fd = dup(dir_fd);
    DIR *listing = fd >= 0 ? fdopendir(fd) : NULL;
    if (listing == NULL) {
        if (fd >= 0) close(fd);
        return;
    }
    rewinddir(listing);
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        uint64_t op = 0;
        if (!snapshot_name_parse(entry->d_name, SNAPSHOT_TMP_SUFFIX, &op)) continue;
        if (unlinkat(dir_fd, entry->d_name, 0) == 0) {
            cor__journal_log(reporter, "removed unfinished snapshot '%s/%s'", dir, entry->d_name);
        }
    }
    closedir(listing);
}

void cor__journal_snapshot_prune(int dir_fd, uint32_t kept)
{
    enum { PRUNE_NAMES_MAX = 256 };
    uint64_t ops[PRUNE_NAMES_MAX];
    uint32_t count = 0;
    int fd = dup(dir_fd);
    DIR *listing = fd >= 0 ? fdopendir(fd) : NULL;
    if (listing == NULL) {
        if (fd >= 0) close(fd);
        return;
    }
    rewinddir(listing);
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL && count < PRUNE_NAMES_MAX) {
        uint64_t op = 0;
        if (snapshot_name_parse(entry->d_name, "", &op)) ops[count++] = op;
    }
    closedir(listing);
    /* Selection of the kept newest: count is small, so a quadratic rank is fine. */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t newer = 0;
        for (uint32_t j = 0; j < count; j++)
            newer += ops[j] > ops[i];
        if (newer < kept) continue;
        char name[64];
        snapshot_name(name, sizeof(name), ops[i], "");
        unlinkat(dir_fd, name, 0);
    }
    if (count > 0) fsync(dir_fd);
}
