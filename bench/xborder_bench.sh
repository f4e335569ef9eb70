#!/bin/sh
# Cross-border benchmark between two real nodes (docs/BENCHMARKS.md, "Cross-border, two nodes").
#
# Starts node RU (RUB) and node IR (IRR) on loopback in a temporary directory, each the other's
# peer; on each a bank (participant 1) and the FX provider (participant 2, fx id 1 on both),
# everyone funded; the FX provider publishes RUB -> IRR on RU and IRR -> RUB on IR. Then, with
# bench/xborder_load.c (libcurl multi, bodies built in C):
#   1. batched, RU -> IR: COUNT payments, quotes first (arrays of BATCH), then payments
#      (arrays of BATCH, INFLIGHT requests in flight); the clock stops when no payment is open
#      at the origin, and both nodes' reconciliation must agree (count and digest). RUNS times.
#   2. the same in both directions at once (COUNT each way). RUNS times.
#   3. single payments RU -> IR at RATE per second for SECONDS (open loop, quotes fetched
#      first): latency from the scheduled send to the "posted" step of the origin's track.
# Stops both nodes by PID. Needs curl and a C compiler.
#
#   sh bench/xborder_bench.sh [build/corridor]
#   COR_XB_COUNT=100000 COR_XB_RUNS=3 COR_XB_PHASES="batch both latency" sh bench/xborder_bench.sh
set -eu
BIN=${1:-build/corridor}
COUNT=${COR_XB_COUNT:-100000}
BATCH=${COR_XB_BATCH:-4096}
INFLIGHT=${COR_XB_INFLIGHT:-4}
RUNS=${COR_XB_RUNS:-3}
RATE=${COR_XB_RATE:-1000}
SECONDS_RUN=${COR_XB_SECONDS:-20}
CONNECTIONS=${COR_XB_CONNECTIONS:-64}
PHASES=${COR_XB_PHASES:-batch both latency}
PORT_RU=${COR_XB_PORT:-18581}
PORT_IR=$((PORT_RU + 1))
PAYMENTS_MAX=${COR_XB_PAYMENTS_MAX:-2097152}
DIR=$(mktemp -d /tmp/corridor-xbench-XXXXXX)
HERE=$(cd "$(dirname "$0")" && pwd)
RU=http://127.0.0.1:$PORT_RU
IR=http://127.0.0.1:$PORT_IR
PID_RU=
PID_IR=
cleanup() {
    for pid in $PID_RU $PID_IR; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "${COR_XB_KEEP:-}" ]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT INT TERM

LOAD=${COR_XB_LOAD:-$DIR/xborder_load}
[ -x "$LOAD" ] || cc -std=c17 -O2 -D_GNU_SOURCE "$HERE/xborder_load.c" -lcurl -o "$LOAD"

setup_node() { # name currency port -> prints the operator key
    "$BIN" init --data "$DIR/$1" --currency "$2" --node-name "$1" --port "$3" > "$DIR/$1.init"
    sed -i "s/^payments_max = .*/payments_max = $PAYMENTS_MAX/; s/^prefault = .*/prefault = true/; s/^snapshot_every_ops = .*/snapshot_every_ops = 0/" \
        "$DIR/$1/corridor.ini"
    tail -n 1 "$DIR/$1.init"
}
OP_RU=$(setup_node RU RUB "$PORT_RU")
OP_IR=$(setup_node IR IRR "$PORT_IR")
"$BIN" peer add --data "$DIR/RU" --name IR --currency IRR --url "$IR" --public-key "@$DIR/IR/node.pub" > /dev/null
"$BIN" peer add --data "$DIR/IR" --name RU --currency RUB --url "$RU" --public-key "@$DIR/RU/node.pub" > /dev/null
"$BIN" serve --data "$DIR/RU" 2> "$DIR/RU.log" &
PID_RU=$!
"$BIN" serve --data "$DIR/IR" 2> "$DIR/IR.log" &
PID_IR=$!
for url in "$RU" "$IR"; do
    i=0
    until curl -sf "$url/healthz" > /dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 1200 ] || { cat "$DIR/RU.log" "$DIR/IR.log"; exit 1; }; sleep 0.05
    done
done

post() { # key url body -> answer (fails on HTTP errors)
    curl -sf -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -X POST "$2" -d "$3"
}
key_of() { sed 's/.*"api_key":"\([^"]*\)".*/\1/'; }
post "$OP_RU" "$RU/v1/participants" '{"name":"Bank RU","bic":"BANKRUMM","role":"bank"}' > /dev/null
post "$OP_RU" "$RU/v1/participants" '{"name":"FX One RU","bic":"FXONRUMM","role":"fx_provider"}' > /dev/null
post "$OP_IR" "$IR/v1/participants" '{"name":"Bank IR","bic":"BANKIRTH","role":"bank"}' > /dev/null
post "$OP_IR" "$IR/v1/participants" '{"name":"FX One IR","bic":"FXONIRTH","role":"fx_provider"}' > /dev/null
BANK_RU=$(post "$OP_RU" "$RU/v1/participants/1/keys" '' | key_of)
FX_RU=$(post "$OP_RU" "$RU/v1/participants/2/keys" '' | key_of)
BANK_IR=$(post "$OP_IR" "$IR/v1/participants/1/keys" '' | key_of)
FX_IR=$(post "$OP_IR" "$IR/v1/participants/2/keys" '' | key_of)
for p in 1 2; do
    post "$OP_RU" "$RU/v1/participants/$p/funding" \
        "{\"funding_id\":\"$p\",\"direction\":\"credit\",\"amount\":\"100000000000000000\",\"currency\":\"RUB\"}" > /dev/null
    post "$OP_IR" "$IR/v1/participants/$p/funding" \
        "{\"funding_id\":\"$p\",\"direction\":\"credit\",\"amount\":\"100000000000000000000\",\"currency\":\"IRR\"}" > /dev/null
done
post "$OP_RU" "$RU/v1/corridor/fx" '{"fx_id":"1","participant":"2","peer":"IR"}' > /dev/null
post "$OP_IR" "$IR/v1/corridor/fx" '{"fx_id":"1","participant":"2","peer":"RU"}' > /dev/null
post "$FX_RU" "$RU/v1/fx/rates" \
    '{"peer":"IR","rate_num":"485","rate_den":"1","spread_ppm":2000,"fee":"100","valid_for_s":86400}' > /dev/null
post "$FX_IR" "$IR/v1/fx/rates" \
    '{"peer":"RU","rate_num":"1","rate_den":"485","spread_ppm":2000,"fee":"10000","valid_for_s":86400}' > /dev/null

# NAME,URL,OPERATOR_KEY,BANK_KEY,AMOUNT,CREDITOR (the creditor bank's id on the other node)
NODE_RU="RU,$RU,$OP_RU,$BANK_RU,100000,1"
NODE_IR="IR,$IR,$OP_IR,$BANK_IR,50000000,1"
export XB_PIDS="$PID_RU,$PID_IR"

echo "machine: nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "nodes: RU pid $PID_RU, IR pid $PID_IR; payments_max=$PAYMENTS_MAX prefault=true"
run=1
status=0
for phase in $PHASES; do
    i=0
    while [ $i -lt "$RUNS" ]; do
        echo "== $phase run $((i + 1)) ($(date -u +%H:%M:%S) UTC, load$(uptime | sed 's/.*load average//'))"
        case $phase in
        batch) "$LOAD" batch "$NODE_RU" "$NODE_IR" "$COUNT" "$BATCH" "$INFLIGHT" "$run" 0 || status=1 ;;
        both) "$LOAD" batch "$NODE_RU" "$NODE_IR" "$COUNT" "$BATCH" "$INFLIGHT" "$run" 1 || status=1 ;;
        latency) "$LOAD" latency "$NODE_RU" "$NODE_IR" "$RATE" "$SECONDS_RUN" "$CONNECTIONS" "$run" || status=1 ;;
        *) echo "unknown phase $phase"; exit 2 ;;
        esac
        run=$((run + 1))
        i=$((i + 1))
    done
done
for url in "$RU" "$IR"; do
    echo "stats $url: $(curl -sf -H "Authorization: Bearer $([ "$url" = "$RU" ] && echo "$OP_RU" || echo "$OP_IR")" "$url/v1/xborder/stats")"
done
for n in RU IR; do
    url=$([ $n = RU ] && echo "$RU" || echo "$IR")
    op=$([ $n = RU ] && echo "$OP_RU" || echo "$OP_IR")
    echo "metrics $n: $(curl -sf -H "Authorization: Bearer $op" "$url/metrics" | grep -E '^corridor_(batch_events_(sum|count)|journal_fsync_duration_seconds_(sum|count|bucket))' | tr '\n' ' ')"
    echo "peers $n: $(curl -sf -H "Authorization: Bearer $op" "$url/v1/corridor/peers" | sed 's/.*"link"://')"
done
grep -h -E '"level":"(warn|error)"|WARN|ERROR' "$DIR/RU.log" "$DIR/IR.log" | head -n 5 || true
exit $status
