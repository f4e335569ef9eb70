/* Helpers for the journal tests (see journal_support.h). */
#include "journal_support.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

void cor_test_dir_make(char *out, size_t out_size)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') base = "/tmp";
    snprintf(out, out_size, "%s/corridor-journal-XXXXXX", base);
    cr_assert_not_null(mkdtemp(out), "mkdtemp failed");
}

void cor_test_dir_remove(const char *dir)
{
    DIR *listing = opendir(dir);
    if (listing == NULL) return;
    struct dirent *entry;
    while ((entry = readdir(listing)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
        char path[512];
        cor_test_path(path, sizeof(path), dir, entry->d_name);
        unlink(path);
    }
    closedir(listing);
    rmdir(dir);
}

void cor_test_path(char *out, size_t out_size, const char *dir, const char *name)
{
    snprintf(out, out_size, "%s/%s", dir, name);
}

uint64_t cor_test_file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

void cor_test_file_truncate(const char *path, uint64_t size)
{
    cr_assert_eq(truncate(path, (off_t)size), 0, "truncate %s", path);
}

void cor_test_file_read(const char *path, uint64_t offset, void *bytes, size_t size)
{
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pread(fd, bytes, size, (off_t)offset), (ssize_t)size);
    close(fd);
}

void cor_test_file_write(const char *path, uint64_t offset, const void *bytes, size_t size)
{
    int fd = open(path, O_WRONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(pwrite(fd, bytes, size, (off_t)offset), (ssize_t)size);
    close(fd);
}

void cor_test_file_flip_bit(const char *path, uint64_t offset, unsigned bit)
{
    unsigned char byte;
    cor_test_file_read(path, offset, &byte, 1);
    byte ^= (unsigned char)(1u << bit);
    cor_test_file_write(path, offset, &byte, 1);
}

void cor_test_log(void *context, const char *message)
{
    cor_test_log_lines *lines = context;
    size_t length = strlen(message);
    if (lines->used + length + 2 > sizeof(lines->text)) return;
    memcpy(lines->text + lines->used, message, length);
    lines->used += length;
    lines->text[lines->used++] = '\n';
    lines->text[lines->used] = '\0';
    lines->count++;
}

bool cor_test_log_contains(const cor_test_log_lines *lines, const char *needle)
{
    return lines->used > 0 && strstr(lines->text, needle) != NULL;
}

static cor_error test_hash_write(void *context, const void *bytes, size_t size)
{
    crypto_generichash_update(context, bytes, size);
    return COR_OK;
}

void cor_test_ledger_hash(const cor_ledger *ledger, uint8_t out[32])
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, 32);
    cr_assert_eq(cor_ledger_serialize(ledger, test_hash_write, &state), COR_OK);
    crypto_generichash_final(&state, out, 32);
}
