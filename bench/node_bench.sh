#!/bin/sh
# HTTP load benchmark of the node (docs/BENCHMARKS.md, section "Node").
#
# Starts a fresh node on a loopback port in a temporary data directory, creates two
# participants and funds the payer, then measures:
#   1. single-payment requests, closed loop, with wrk (throughput at several connection counts)
#   2. single-payment requests at a fixed 10,000 requests/s with bench/node_load.c
#      (libcurl multi, latency from the scheduled send time)
#   3. the batch endpoint: 8,189 payments per request, closed loop, with
#      bench/node_batch_load.c (libcurl multi; bodies built in C, so the client is cheap)
# and stops the node by its PID. Needs wrk, curl and a C compiler (scripts/deps.sh).
#
#   sh bench/node_bench.sh [build/corridor]
set -eu
BIN=${1:-build/corridor}
SECONDS_RUN=${COR_BENCH_SECONDS:-10}
# Batch runs are shorter: at ~800 k payments/s they would outgrow payments_max.
BATCH_SECONDS=${COR_BENCH_BATCH_SECONDS:-3}
PORT=${COR_BENCH_PORT:-18480}
DIR=$(mktemp -d /tmp/corridor-bench-XXXXXX)
URL=http://127.0.0.1:$PORT
HERE=$(cd "$(dirname "$0")" && pwd)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

cc -std=c17 -O2 -D_GNU_SOURCE "$HERE/node_load.c" -lcurl -o "$DIR/node_load"
cc -std=c17 -O2 -D_GNU_SOURCE "$HERE/node_batch_load.c" -lcurl -o "$DIR/node_batch_load"
"$BIN" init --data "$DIR/node" --currency RUB --node-name bench --port "$PORT" > "$DIR/init.out"
OPERATOR=$(tail -n 1 "$DIR/init.out")
# Room for every payment the runs below send (the tables are allocated lazily).
sed -i "s/^payments_max = .*/payments_max = ${COR_BENCH_PAYMENTS_MAX:-12582912}/; s/^prefault = .*/prefault = true/; s/^snapshot_every_ops = .*/snapshot_every_ops = 0/" \
    "$DIR/node/corridor.ini"
"$BIN" serve --data "$DIR/node" 2> "$DIR/serve.log" &
PID=$!
i=0
until curl -sf "$URL/healthz" > /dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 1200 ] || { cat "$DIR/serve.log"; exit 1; }; sleep 0.05
done
auth="Authorization: Bearer $OPERATOR"
curl -sf -H "$auth" -X POST "$URL/v1/participants" -d '{"name":"Payer","bic":"PAYERUMM","role":"bank"}' > /dev/null
curl -sf -H "$auth" -X POST "$URL/v1/participants" -d '{"name":"Payee","bic":"PAYEEUMM","role":"bank"}' > /dev/null
curl -sf -H "$auth" -X POST "$URL/v1/participants/1/funding" \
    -d '{"funding_id":"1","direction":"credit","amount":"100000000000000000","currency":"RUB"}' > /dev/null
KEY=$(curl -sf -H "$auth" -X POST "$URL/v1/participants/1/keys" | sed 's/.*"api_key":"\([^"]*\)".*/\1/')

echo "machine: nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
run=1
for connections in 64 128 256; do
    printf 'single wrk connections=%s: ' "$connections"
    COR_KEY=$KEY COR_RUN=$run wrk -t2 -c"$connections" -d"${SECONDS_RUN}s" \
        -s "$HERE/node_payment.lua" "$URL" | grep -E 'Requests/sec|p50_us' | tr '\n' ' '
    echo
    run=$((run + 1))
done
for rate in 10000 20000; do
    printf 'single fixed-rate: '
    "$DIR/node_load" "$URL" "$KEY" 2 "$rate" "$SECONDS_RUN" 128 "$run" || true
    run=$((run + 1))
done
for connections in 1 2 4; do
    printf 'batch: '
    "$DIR/node_batch_load" "$URL" "$KEY" 2 8189 "$BATCH_SECONDS" "$connections" "$run" || true
    run=$((run + 1))
done
curl -sf -H "$auth" "$URL/metrics" | grep -E '^corridor_(batch_events|journal_fsync_duration_seconds)_(sum|count)|^corridor_payments_total'
