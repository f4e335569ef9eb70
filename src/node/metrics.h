/*
 * The node's Prometheus metrics: lock-free counters and histograms updated by the HTTP and
 * core threads, rendered in the Prometheus text exposition format by GET /metrics.
 */
#ifndef COR_NODE_METRICS_H
#define COR_NODE_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "node/buf.h"

/* Routes as metrics label them (a fixed set keeps label cardinality bounded). */
#define COR_ROUTE_LIST(X)                                                                          \
    X(COR_ROUTE_UNKNOWN, "unknown")                                                                \
    X(COR_ROUTE_HEALTHZ, "/healthz")                                                               \
    X(COR_ROUTE_METRICS, "/metrics")                                                               \
    X(COR_ROUTE_PARTICIPANTS, "/v1/participants")                                                  \
    X(COR_ROUTE_PARTICIPANT, "/v1/participants/{id}")                                              \
    X(COR_ROUTE_KEYS, "/v1/participants/{id}/keys")                                                \
    X(COR_ROUTE_KEY, "/v1/participants/{id}/keys/{key_id}")                                        \
    X(COR_ROUTE_FUNDING, "/v1/participants/{id}/funding")                                          \
    X(COR_ROUTE_AUDITOR_KEYS, "/v1/auditor-keys")                                                  \
    X(COR_ROUTE_AUDITOR_KEY, "/v1/auditor-keys/{key_id}")                                          \
    X(COR_ROUTE_PAYMENTS, "/v1/payments")                                                          \
    X(COR_ROUTE_PAYMENT, "/v1/payments/{id}")                                                      \
    X(COR_ROUTE_STATEMENT, "/v1/statement")                                                        \
    X(COR_ROUTE_LEDGER_ACCOUNTS, "/v1/ledger/accounts")                                            \
    X(COR_ROUTE_LEDGER_ACCOUNT, "/v1/ledger/accounts/{id}")                                        \
    X(COR_ROUTE_LEDGER_ACCOUNT_TRANSFERS, "/v1/ledger/accounts/{id}/transfers")                    \
    X(COR_ROUTE_LEDGER_ACCOUNT_BALANCES, "/v1/ledger/accounts/{id}/balances")                      \
    X(COR_ROUTE_LEDGER_TRANSFERS, "/v1/ledger/transfers")                                          \
    X(COR_ROUTE_LEDGER_TRANSFER, "/v1/ledger/transfers/{id}")                                      \
    X(COR_ROUTE_LEDGER_ACCOUNTS_LOOKUP, "/v1/ledger/accounts/lookup")                              \
    X(COR_ROUTE_LEDGER_TRANSFERS_LOOKUP, "/v1/ledger/transfers/lookup")                            \
    X(COR_ROUTE_ISO20022, "/v1/iso20022")                                                          \
    X(COR_ROUTE_STATEMENTS, "/v1/statements/{id}")                                                 \
    X(COR_ROUTE_NOTIFICATIONS, "/v1/notifications")                                              \
    X(COR_ROUTE_XB_PEERS, "/v1/corridor/peers")                                                    \
    X(COR_ROUTE_XB_FX, "/v1/corridor/fx")                                                          \
    X(COR_ROUTE_FX_RATES, "/v1/fx/rates")                                                          \
    X(COR_ROUTE_FX_QUOTES, "/v1/fx/quotes")                                                        \
    X(COR_ROUTE_XB_PAYMENTS, "/v1/xborder/payments")                                               \
    X(COR_ROUTE_XB_PAYMENT, "/v1/xborder/payments/{uetr}")                                         \
    X(COR_ROUTE_XB_PAYMENT_ACTION, "/v1/xborder/payments/{uetr}/{action}")                         \
    X(COR_ROUTE_XB_TRACK, "/v1/payments/{uetr}/track")                                             \
    X(COR_ROUTE_XB_HOLDS, "/v1/xborder/holds")                                                     \
    X(COR_ROUTE_XB_STATS, "/v1/xborder/stats")                                                     \
    X(COR_ROUTE_XB_RECONCILE, "/v1/xborder/reconcile")                                             \
    X(COR_ROUTE_WATCHLIST, "/v1/screening/watchlist")                                              \
    X(COR_ROUTE_PEER_MESSAGES, "/v1/peer/messages")

typedef enum cor_route {
#define COR_ROUTE_ENUM(name, text) name,
    COR_ROUTE_LIST(COR_ROUTE_ENUM)
#undef COR_ROUTE_ENUM
        COR_ROUTE_COUNT
} cor_route;

#define COR_METRICS_STATUSES_COUNT  16u
#define COR_METRICS_LATENCY_BUCKETS 14u
#define COR_METRICS_BATCH_BUCKETS   14u

typedef struct cor_histogram {
    _Atomic uint64_t buckets[COR_METRICS_LATENCY_BUCKETS + 1]; /* last: +Inf */
    _Atomic uint64_t sum; /* microseconds (latency) or events (batch) */
    _Atomic uint64_t count;
} cor_histogram;

typedef struct cor_metrics {
    _Atomic uint64_t requests[COR_ROUTE_COUNT][COR_METRICS_STATUSES_COUNT];
    cor_histogram request_latency; /* us */
    cor_histogram fsync_latency;   /* us */
    cor_histogram batch_events;    /* events */
    _Atomic uint64_t queue_depth;
    _Atomic uint64_t queue_rejected; /* submits refused because the queue was full */
    _Atomic uint64_t journal_size_bytes;
    _Atomic uint64_t batches;
    _Atomic uint64_t events;
} cor_metrics;

void cor_metrics_request(cor_metrics *metrics, cor_route route, unsigned status,
                         uint64_t latency_us);
void cor_metrics_latency(cor_histogram *histogram, uint64_t latency_us);
void cor_metrics_batch(cor_metrics *metrics, uint32_t events);

/* Renders everything (plus the node totals the caller passes in) in Prometheus text form. */
typedef struct cor_metrics_totals {
    const char *currency;     /* "RUB" */
    char issued[48];          /* decimal minor units */
    char payments_amount[48]; /* decimal minor units */
    uint64_t payments_accepted;
    uint64_t payments_rejected;
    uint32_t participants;
} cor_metrics_totals;
void cor_metrics_render(const cor_metrics *metrics, const cor_metrics_totals *totals,
                        cor_nbuf *out);

#endif
