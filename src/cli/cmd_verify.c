/*
 * corridor verify --data DIR: proves a ledger data directory is intact.
 *
 * Opens the store read-only and ignoring snapshots, so every journal record from op 1 is
 * decoded (header checksum, op number, BLAKE2b chain link over header and payload) and
 * replayed; every snapshot file is checked against its own state hash, against the journal's
 * chain head at its op, and against the replayed state at that op. Then the ledger's
 * invariants are checked. Changes no file.
 *
 * Exit: 0 intact (a torn tail, which holds no acknowledged batch, is reported as a warning);
 * 1 a problem was found (the first one is named); 2 usage; 3 the directory could not be read.
 */
#include <stdio.h>
#include <string.h>

#include <limits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "corridor/journal.h"
#include "corridor/node.h"

typedef struct verify_log {
    bool quiet;
} verify_log;

static void verify_log_line(void *context, const char *message)
{
    const verify_log *log = context;
    if (!log->quiet) fprintf(stderr, "verify: %s\n", message);
}

static int verify_usage(const char *problem)
{
    if (problem != NULL) fprintf(stderr, "verify: %s\n", problem);
    fprintf(stderr, "usage: corridor verify --data DIR [--quiet]\n");
    return COR_EXIT_USAGE;
}

static void verify_hex(const uint8_t *bytes, size_t size, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15u];
    }
    out[2 * size] = '\0';
}

static int verify_status(cor_error rc)
{
    switch (rc) {
    case COR_ERR_CORRUPT:
    case COR_ERR_VERSION:
    case COR_ERR_LIMIT:
    case COR_ERR_INVALID:
        return COR_EXIT_PROBLEM;
    default:
        return COR_EXIT_ERROR;
    }
}

static void verify_summary(const char *dir, const cor_journal_stats *stats,
                           const cor_ledger_stats *ledger)
{
    char head[2 * COR_JOURNAL_HASH_SIZE + 1];
    verify_hex(stats->chain_hash, COR_JOURNAL_HASH_SIZE, head);
    printf("verify: '%s' is intact\n", dir);
    printf("  records    %llu\n", (unsigned long long)stats->records_total);
    printf("  events     %llu\n", (unsigned long long)stats->events_total);
    printf("  head hash  %s\n", head);
    printf("  snapshots  %llu checked\n", (unsigned long long)stats->snapshots_found);
    printf("  journal    %llu bytes\n", (unsigned long long)stats->size_bytes);
    printf("  ledger     %u accounts, %u transfers, %u pending, timestamp %llu\n",
           ledger->accounts_count, ledger->transfers_count, ledger->pending_transfers_count,
           (unsigned long long)ledger->timestamp);
}

/* A node's directory (it has the node's configuration file): its journal holds node
 * batches, replayed through the node's core instead of a bare ledger. */
static int verify_node(const char *dir)
{
    char detail[1024] = "";
    cor_node_verify_report report;
    cor_error rc = cor_node_verify(dir, &report, detail, sizeof(detail));
    if (rc != COR_OK) {
        fprintf(stderr, "verify: problem: %s\n", detail[0] ? detail : cor_strerror(rc));
        return verify_status(rc);
    }
    if (report.tail_bytes_torn > 0) {
        fprintf(stderr, "verify: warning: torn tail of %llu bytes (never acknowledged; the next "
                        "open truncates it)\n", (unsigned long long)report.tail_bytes_torn);
    }
    char head[2 * COR_JOURNAL_HASH_SIZE + 1];
    verify_hex(report.head_hash, COR_JOURNAL_HASH_SIZE, head);
    printf("verify: node '%s' is intact\n", dir);
    printf("  records       %llu\n", (unsigned long long)report.records);
    printf("  events        %llu\n", (unsigned long long)report.events);
    printf("  head hash     %s\n", head);
    printf("  snapshots     %llu checked\n", (unsigned long long)report.snapshots_checked);
    printf("  journal       %llu bytes\n", (unsigned long long)report.journal_size_bytes);
    printf("  participants  %u, payments %llu\n", report.participants,
           (unsigned long long)report.payments);
    printf("  ledger        %u accounts, %u transfers\n", report.ledger_accounts,
           report.ledger_transfers);
    return COR_EXIT_OK;
}

int cor_cli_verify(int argc, char **argv)
{
    const char *dir = NULL;
    verify_log log = {false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            log.quiet = true;
        } else {
            return verify_usage("unknown option");
        }
    }
    if (dir == NULL) return verify_usage("--data DIR is required");
    char config[PATH_MAX];
    snprintf(config, sizeof(config), "%s/corridor.ini", dir);
    if (access(config, F_OK) == 0) return verify_node(dir);

    char detail[1024] = "";
    cor_ledger_store_options options = {
        .dir = dir,
        .flags = COR_JOURNAL_READ_ONLY | COR_JOURNAL_IGNORE_SNAPSHOTS,
        .ledger = {.hash_seed = 0x636f727269646f72ull},
        .log = verify_log_line,
        .log_context = &log,
        .error_detail = detail,
        .error_detail_size = sizeof(detail),
    };
    cor_ledger_store *store = NULL;
    cor_error rc = cor_ledger_store_open(&options, &store);
    if (rc != COR_OK) {
        if (detail[0] == '\0') {
            snprintf(detail, sizeof(detail), "cannot open store '%s': %s", dir, cor_strerror(rc));
        }
        fprintf(stderr, "verify: problem: %s\n", detail);
        return verify_status(rc);
    }
    cor_journal_stats stats;
    cor_ledger_store_stats(store, &stats);
    const cor_ledger *ledger = cor_ledger_store_ledger(store);
    char problem[512] = "";
    if (!cor_ledger_check(ledger, problem, sizeof(problem))) {
        fprintf(stderr,
                "verify: problem: ledger invariant violated after replaying %llu "
                "records: %s\n",
                (unsigned long long)stats.records_total, problem);
        cor_ledger_store_close(store);
        return COR_EXIT_PROBLEM;
    }
    if (stats.tail_bytes_torn > 0) {
        fprintf(stderr,
                "verify: warning: torn tail of %llu bytes after offset %llu (a crash "
                "during an append; it holds no acknowledged batch and the next open "
                "truncates it)\n",
                (unsigned long long)stats.tail_bytes_torn, (unsigned long long)stats.size_bytes);
    }
    cor_ledger_stats ledger_stats;
    cor_ledger_stats_get(ledger, &ledger_stats);
    verify_summary(dir, &stats, &ledger_stats);
    cor_ledger_store_close(store);
    return COR_EXIT_OK;
}
