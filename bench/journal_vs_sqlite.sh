#!/bin/sh
# Runs the durable-transfer workload through corridor (journal + ledger, one fdatasync per
# batch) and through SQLite (WAL, synchronous=FULL, 8,000 transfers per transaction, each with
# a funds check) in the same run, on the same disk, and prints both results as JSON lines.
#
#   bench/journal_vs_sqlite.sh                      1,000,000 accounts, 10,000,000 transfers
#   ACCOUNTS=100000 TRANSFERS=1000000 bench/journal_vs_sqlite.sh
#   SNAPSHOT_EVERY=400 bench/journal_vs_sqlite.sh    forked snapshots every 400 batches
#   CORRIDOR_ARGS=--snapshot-at-end bench/journal_vs_sqlite.sh   recovery from a final snapshot
#
# Temporary data goes under $TMPDIR (default /tmp) and is removed at the end.
set -eu

ACCOUNTS=${ACCOUNTS:-1000000}
TRANSFERS=${TRANSFERS:-10000000}
BATCH=${BATCH:-8189}
SQLITE_PER_TRANSACTION=${SQLITE_PER_TRANSACTION:-8000}
SNAPSHOT_EVERY=${SNAPSHOT_EVERY:-0}
CORRIDOR_ARGS=${CORRIDOR_ARGS:-}

cd "$(dirname "$0")/.."
sh scripts/deps.sh
make --no-print-directory build/corridor >/dev/null
mkdir -p build/bench
cc -std=c17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE bench/sqlite_transfers.c -lsqlite3 \
    -o build/bench/sqlite_transfers

work=$(mktemp -d "${TMPDIR:-/tmp}/corridor-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

echo "machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "workload: $ACCOUNTS accounts, $TRANSFERS transfers"
build/corridor bench journal --data "$work/corridor" --accounts "$ACCOUNTS" \
    --transfers "$TRANSFERS" --batch "$BATCH" --snapshot-every "$SNAPSHOT_EVERY" $CORRIDOR_ARGS --json
rm -rf "$work/corridor"
build/bench/sqlite_transfers "$work/sqlite.db" "$ACCOUNTS" "$TRANSFERS" "$SQLITE_PER_TRANSACTION"
