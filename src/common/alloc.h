/*
 * Every allocation in corridor goes through cor_alloc / cor_free so that tests can fail the
 * Nth allocation (cor_alloc_fail_after). Allocation happens at open time, never on a hot
 * path: the ledger, journal and node size their pools once.
 */
#ifndef COR_ALLOC_H
#define COR_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Returns NULL on failure (or when fault injection says so). size 0 returns NULL. */
void *cor_alloc(size_t size_bytes);

/* Zero-filled; count * size is overflow-checked (NULL on overflow). */
void *cor_calloc(size_t count, size_t size_bytes);

/*
 * Large zero-filled region for pools and tables (mmap'd, so untouched pages cost nothing
 * until used). Free with cor_free_large and the same size.
 */
void *cor_alloc_large(size_t size_bytes);
void  cor_free_large(void *pointer, size_t size_bytes);

/* Touches every page of a cor_alloc_large region now, so that first use on a hot path pays
 * no page fault (static allocation: the memory is committed at open). */
void cor_prefault(void *pointer, size_t size_bytes);

void cor_free(void *pointer); /* NULL is a no-op */

/* Fault injection for tests: the Nth following allocation (1-based) fails; 0 disables. */
void cor_alloc_fail_after(uint64_t count);

/* Checked size arithmetic: false on overflow, *out untouched then. */
static inline bool cor_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}

static inline bool cor_size_add(size_t a, size_t b, size_t *out)
{
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

#endif
