/* Prometheus metrics of the node (see metrics.h). */
#include "node/metrics.h"

#include <stddef.h>

static const char *const route_names[] = {
#define COR_ROUTE_NAME(name, text) text,
    COR_ROUTE_LIST(COR_ROUTE_NAME)
#undef COR_ROUTE_NAME
};

/* HTTP statuses we produce; index 0 collects anything else. */
static const unsigned statuses[COR_METRICS_STATUSES_COUNT] = {
    0, 200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 429, 500, 503, 507, 411};

/* Latency bucket bounds in microseconds (50 us .. 5 s). */
static const uint64_t latency_bounds_us[COR_METRICS_LATENCY_BUCKETS] = {
    50, 100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 500000, 1000000, 5000000};

/* Batch size bounds in events (1 .. 8,192). */
static const uint64_t batch_bounds[COR_METRICS_BATCH_BUCKETS] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};

static void histogram_observe(cor_histogram *h, const uint64_t *bounds, uint64_t value)
{
    size_t bucket = COR_METRICS_LATENCY_BUCKETS;
    for (size_t i = 0; i < COR_METRICS_LATENCY_BUCKETS; i++) {
        if (value <= bounds[i]) {
            bucket = i;
            break;
        }
    }
    atomic_fetch_add_explicit(&h->buckets[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, value, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void cor_metrics_latency(cor_histogram *histogram, uint64_t latency_us)
{
    histogram_observe(histogram, latency_bounds_us, latency_us);
}

void cor_metrics_request(cor_metrics *metrics, cor_route route, unsigned status,
                         uint64_t latency_us)
{
    size_t index = 0;
    for (size_t i = 1; i < COR_METRICS_STATUSES_COUNT; i++) {
        if (statuses[i] == status) index = i;
    }
    if ((unsigned)route >= COR_ROUTE_COUNT) route = COR_ROUTE_UNKNOWN;
    atomic_fetch_add_explicit(&metrics->requests[route][index], 1, memory_order_relaxed);
    cor_metrics_latency(&metrics->request_latency, latency_us);
}

void cor_metrics_batch(cor_metrics *metrics, uint32_t events)
{
    histogram_observe(&metrics->batch_events, batch_bounds, events);
    atomic_fetch_add_explicit(&metrics->batches, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics->events, events, memory_order_relaxed);
}

static void render_histogram(cor_nbuf *out, const char *name, const char *help,
                             const cor_histogram *h, const uint64_t *bounds, double scale)
{
    cor_nbuf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < COR_METRICS_LATENCY_BUCKETS; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        cor_nbuf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] * scale,
                        (unsigned long long)cumulative);
    }
    cumulative +=
        atomic_load_explicit(&h->buckets[COR_METRICS_LATENCY_BUCKETS], memory_order_relaxed);
    cor_nbuf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cumulative);
    /* Sums are exact integers of the unit (us or events), printed without float rounding. */
    uint64_t sum = atomic_load_explicit(&h->sum, memory_order_relaxed);
    if (scale == 1.0) {
        cor_nbuf_printf(out, "%s_sum %llu\n", name, (unsigned long long)sum);
    } else {
        cor_nbuf_printf(out, "%s_sum %llu.%06llu\n", name, (unsigned long long)(sum / 1000000u),
                        (unsigned long long)(sum % 1000000u));
    }
    cor_nbuf_printf(out, "%s_count %llu\n", name, (unsigned long long)cumulative);
}

static void render_gauge(cor_nbuf *out, const char *name, const char *type, const char *help,
                         uint64_t value)
{
    cor_nbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                    (unsigned long long)value);
}

void cor_metrics_render(const cor_metrics *metrics, const cor_metrics_totals *totals, cor_nbuf *out)
{
    cor_nbuf_str(out, "# HELP corridor_http_requests_total HTTP requests by route and status.\n"
                      "# TYPE corridor_http_requests_total counter\n");
    for (size_t r = 0; r < COR_ROUTE_COUNT; r++) {
        for (size_t s = 0; s < COR_METRICS_STATUSES_COUNT; s++) {
            uint64_t count = atomic_load_explicit(&metrics->requests[r][s], memory_order_relaxed);
            if (count == 0) continue;
            cor_nbuf_printf(out, "corridor_http_requests_total{route=\"%s\",code=\"%u\"} %llu\n",
                            route_names[r], statuses[s], (unsigned long long)count);
        }
    }
    render_histogram(out, "corridor_http_request_duration_seconds",
                     "Time from the first byte of a request to its response.",
                     &metrics->request_latency, latency_bounds_us, 1e-6);
    render_histogram(out, "corridor_batch_events", "Events per journaled core batch.",
                     &metrics->batch_events, batch_bounds, 1.0);
    render_histogram(out, "corridor_journal_fsync_duration_seconds",
                     "Time of one journal append (write and fdatasync).", &metrics->fsync_latency,
                     latency_bounds_us, 1e-6);
    render_gauge(out, "corridor_ingress_queue_depth", "gauge",
                 "Commands waiting for the core thread.",
                 atomic_load_explicit(&metrics->queue_depth, memory_order_relaxed));
    render_gauge(out, "corridor_ingress_rejected_total", "counter",
                 "Commands refused because the ingress queue was full.",
                 atomic_load_explicit(&metrics->queue_rejected, memory_order_relaxed));
    render_gauge(out, "corridor_journal_size_bytes", "gauge", "Size of the journal file.",
                 atomic_load_explicit(&metrics->journal_size_bytes, memory_order_relaxed));
    render_gauge(out, "corridor_batches_total", "counter", "Batches journaled and applied.",
                 atomic_load_explicit(&metrics->batches, memory_order_relaxed));
    render_gauge(out, "corridor_events_total", "counter", "Events journaled and applied.",
                 atomic_load_explicit(&metrics->events, memory_order_relaxed));
    render_gauge(out, "corridor_participants", "gauge", "Participants of this node.",
                 totals->participants);
    cor_nbuf_printf(out,
                    "# HELP corridor_money_issued_minor Central-bank money in participants' "
                    "accounts, in minor units.\n# TYPE corridor_money_issued_minor gauge\n"
                    "corridor_money_issued_minor{currency=\"%s\"} %s\n",
                    totals->currency, totals->issued);
    cor_nbuf_printf(out,
                    "# HELP corridor_payments_total Payments decided, by outcome.\n"
                    "# TYPE corridor_payments_total counter\n"
                    "corridor_payments_total{currency=\"%s\",outcome=\"accepted\"} %llu\n"
                    "corridor_payments_total{currency=\"%s\",outcome=\"rejected\"} %llu\n",
                    totals->currency, (unsigned long long)totals->payments_accepted,
                    totals->currency, (unsigned long long)totals->payments_rejected);
    cor_nbuf_printf(out,
                    "# HELP corridor_payments_amount_minor_total Amount of accepted payments, in "
                    "minor units.\n# TYPE corridor_payments_amount_minor_total counter\n"
                    "corridor_payments_amount_minor_total{currency=\"%s\"} %s\n",
                    totals->currency, totals->payments_amount);
}
