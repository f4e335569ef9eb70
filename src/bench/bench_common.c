/* Helpers shared by the benchmarks: clock, percentiles, progress bar. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"

uint64_t cor_bench_now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

static int latency_compare(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a;
    uint64_t y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void cor_bench_latency_compute(uint64_t *samples_ns, uint64_t count, cor_bench_latency *out)
{
    qsort(samples_ns, count, sizeof(*samples_ns), latency_compare);
    /* Nearest-rank percentiles. */
    uint64_t p50 = (count * 50 + 99) / 100;
    uint64_t p99 = (count * 99 + 99) / 100;
    out->p50_ns = samples_ns[p50 == 0 ? 0 : p50 - 1];
    out->p99_ns = samples_ns[p99 == 0 ? 0 : p99 - 1];
    out->max_ns = samples_ns[count - 1];
}

void cor_bench_progress(const char *label, uint64_t done, uint64_t total)
{
    static int is_terminal = -1;
    if (is_terminal < 0) is_terminal = isatty(STDERR_FILENO);
    if (!is_terminal || total == 0) return;
    unsigned width = 40;
    unsigned filled = (unsigned)(done * width / total);
    char bar[41];
    for (unsigned i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%-10s [%s] %3u%%", label, bar, (unsigned)(done * 100 / total));
    if (done == total) fprintf(stderr, "\n");
    fflush(stderr);
}
