#!/bin/sh
# End-to-end ISO 20022 benchmark of the node (docs/BENCHMARKS.md, "ISO 20022 through the
# node"). Starts a fresh node on a loopback port in a temporary data directory, creates a
# payer and a payee bank and funds the payer, then measures:
#   1. single-transaction pacs.008 documents (3.7 KB with AppHdr, bench/iso_payment.lua) on
#      POST /v1/iso20022, closed loop with wrk: each answered by its pacs.002 once durable;
#   2. `corridor pay` on a file of DOCS pacs.008 documents of TXS transactions each (one
#      connection, one document at a time, every answer parsed by the CLI);
# and stops the node by its PID. Needs wrk and curl (scripts/deps.sh).
#
#   sh bench/iso_bench.sh [build/corridor]
set -eu
BIN=${1:-build/corridor}
SECONDS_RUN=${COR_BENCH_SECONDS:-5}
PORT=${COR_BENCH_PORT:-18490}
DOCS=${COR_BENCH_DOCS:-20}
TXS=${COR_BENCH_TXS:-1000}
DIR=$(mktemp -d /tmp/corridor-iso-bench-XXXXXX)
URL=http://127.0.0.1:$PORT
HERE=$(cd "$(dirname "$0")" && pwd)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"$BIN" init --data "$DIR/node" --currency RUB --node-name isobench --port "$PORT" > "$DIR/init.out"
OPERATOR=$(tail -n 1 "$DIR/init.out")
sed -i "s/^payments_max = .*/payments_max = ${COR_BENCH_PAYMENTS_MAX:-4194304}/; s/^prefault = .*/prefault = true/; s/^snapshot_every_ops = .*/snapshot_every_ops = 0/" \
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

echo "machine: nproc=$(nproc) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') load=$(cut -d' ' -f1-3 /proc/loadavg)"
# CPU time (clock ticks) the node has used so far: utime + stime from /proc.
node_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK_HZ=$(getconf CLK_TCK)
run=1
for connections in 16 64; do
    printf 'pacs.008 single, wrk connections=%s: ' "$connections"
    before=$(node_ticks)
    COR_KEY=$KEY COR_RUN=$run wrk -t2 -c"$connections" -d"${SECONDS_RUN}s" \
        -s "$HERE/iso_payment.lua" "$URL" > "$DIR/wrk.out"
    after=$(node_ticks)
    grep -E 'Requests/sec|p50_us' "$DIR/wrk.out" | tr '\n' ' '
    requests=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' "$DIR/wrk.out")
    echo "node_cpu_us_per_request=$(( (after - before) * 1000000 / TICK_HZ / (requests > 0 ? requests : 1) ))"
    run=$((run + 1))
done

# DOCS documents of TXS transactions, each with its own UETR (version 4 form).
awk -v docs="$DOCS" -v txs="$TXS" 'BEGIN {
    for (d = 1; d <= docs; d++) {
        printf "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        printf "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><FIToFICstmrCdtTrf>"
        printf "<GrpHdr><MsgId>BULK-%d</MsgId><CreDtTm>2026-11-29T10:30:00Z</CreDtTm>", d
        printf "<NbOfTxs>%d</NbOfTxs><SttlmInf><SttlmMtd>CLRG</SttlmMtd></SttlmInf></GrpHdr>\n", txs
        for (t = 1; t <= txs; t++) {
            printf "<CdtTrfTxInf><PmtId><EndToEndId>E2E-%d-%d</EndToEndId>", d, t
            printf "<UETR>%08x-0000-4000-8000-%012x</UETR></PmtId>", d, t
            printf "<IntrBkSttlmAmt Ccy=\"RUB\">1.00</IntrBkSttlmAmt><ChrgBr>SLEV</ChrgBr>"
            printf "<Dbtr><Nm>Ivan Sidorov</Nm></Dbtr><DbtrAgt><FinInstnId><BICFI>PAYERUMM</BICFI></FinInstnId></DbtrAgt>"
            printf "<CdtrAgt><FinInstnId><BICFI>PAYEEUMM</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>Olga Petrova</Nm></Cdtr>"
            printf "<RmtInf><Ustrd>invoice %d-%d</Ustrd></RmtInf></CdtTrfTxInf>\n", d, t
        }
        printf "</FIToFICstmrCdtTrf></Document>\n<!--EOD-->\n"
    }
}' > "$DIR/bulk.xml"
before=$(node_ticks)
start=$(date +%s%N)
"$BIN" pay --file "$DIR/bulk.xml" --url "$URL" --key "$KEY" --out "$DIR/answers.xml" 2> "$DIR/pay.err"
end=$(date +%s%N)
after=$(node_ticks)
settled=$(grep -o '<TxSts>ACSC</TxSts>' "$DIR/answers.xml" | wc -l)
elapsed_ms=$(( (end - start) / 1000000 ))
echo "corridor pay: $DOCS documents x $TXS transactions ($(wc -c < "$DIR/bulk.xml") bytes): ${elapsed_ms} ms, $settled settled, $(( settled * 1000 / (elapsed_ms > 0 ? elapsed_ms : 1) )) payments/s, node CPU $(( (after - before) * 1000000 / TICK_HZ / (settled > 0 ? settled : 1) )) us per payment"
tail -n 1 "$DIR/pay.err"
