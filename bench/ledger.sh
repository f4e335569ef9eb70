#!/bin/sh
# Ledger benchmark with a same-run baseline: runs `corridor bench ledger` (uniform and zipf)
# and the naive loop (bench/naive_ledger.c) alternately, RUNS times each, and prints every
# figure and the medians. Usage: bench/ledger.sh [RUNS] [ACCOUNTS] [TRANSFERS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-3}
accounts=${2:-1000000}
transfers=${3:-10000000}
make -s build/corridor
cc -O2 -o build/naive_ledger bench/naive_ledger.c
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
field() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
: >build/bench_ledger_uniform.txt; : >build/bench_ledger_zipf.txt; : >build/bench_naive.txt
i=0
while [ "$i" -lt "$runs" ]; do
    build/corridor bench ledger --accounts "$accounts" --transfers "$transfers" --batch 8189 \
        --distribution uniform --json | tee -a build/bench_ledger_uniform.txt
    build/corridor bench ledger --accounts "$accounts" --transfers "$transfers" --batch 8189 \
        --distribution zipf --json | tee -a build/bench_ledger_zipf.txt
    build/naive_ledger "$accounts" "$transfers" | tee -a build/bench_naive.txt
    i=$((i + 1))
done
echo "median uniform transfers/s: $(field transfers_per_second <build/bench_ledger_uniform.txt | median)"
echo "median uniform batch p99 us: $(field batch_latency_us_p99 <build/bench_ledger_uniform.txt | median)"
echo "median zipf transfers/s:    $(field transfers_per_second <build/bench_ledger_zipf.txt | median)"
echo "median naive transfers/s:   $(field naive_transfers_per_second <build/bench_naive.txt | median)"
