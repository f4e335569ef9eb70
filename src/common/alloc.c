/* Allocation wrappers with Nth-allocation fault injection (see alloc.h). */
#include "common/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static _Atomic uint64_t alloc_fail_countdown; /* 0: injection off */

void cor_alloc_fail_after(uint64_t count)
{
    atomic_store(&alloc_fail_countdown, count);
}

static bool alloc_should_fail(void)
{
    uint64_t left = atomic_load(&alloc_fail_countdown);
    while (left != 0) {
        if (atomic_compare_exchange_weak(&alloc_fail_countdown, &left, left - 1)) {
            return left == 1;
        }
    }
    return false;
}

void *cor_alloc(size_t size_bytes)
{
    if (size_bytes == 0 || alloc_should_fail()) return NULL;
    return malloc(size_bytes);
}

void *cor_calloc(size_t count, size_t size_bytes)
{
    size_t total = 0;
    if (!cor_size_mul(count, size_bytes, &total) || total == 0) return NULL;
    if (alloc_should_fail()) return NULL;
    return calloc(count, size_bytes);
}

#define ALLOC_HUGE_PAGE_SIZE_BYTES (2u << 20)

void *cor_alloc_large(size_t size_bytes)
{
    if (size_bytes == 0 || alloc_should_fail()) return NULL;
    void *pointer = mmap(NULL, size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    if (pointer == MAP_FAILED) return NULL;
    /* Big tables are accessed at random: huge pages cut TLB misses and page faults by 512x.
     * Advice only; failure (no THP) changes speed, not behaviour. */
    if (size_bytes >= ALLOC_HUGE_PAGE_SIZE_BYTES) madvise(pointer, size_bytes, MADV_HUGEPAGE);
    return pointer;
}

void cor_prefault(void *pointer, size_t size_bytes)
{
    volatile unsigned char *bytes = pointer;
    for (size_t offset = 0; offset < size_bytes; offset += 4096) bytes[offset] = 0;
}

void cor_free_large(void *pointer, size_t size_bytes)
{
    if (pointer == NULL) return;
    munmap(pointer, size_bytes);
}

void cor_free(void *pointer)
{
    free(pointer);
}
