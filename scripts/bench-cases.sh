#!/usr/bin/env bash
# 接诉即办 benchmarks for docs/benchmarks.md. Usage: scripts/bench-cases.sh [sqlite|postgres]
# Case intake over HTTP (as fast as it goes, and at 1,000/s for the latency target), the raw insert
# and commit ceilings in the same run, and the rate dashboard over BENCH_CASES synthetic cases.
# PostgreSQL: GONGZHI_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is used to
# (re)create a scratch database `gongzhi_bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
duration=${BENCH_SECONDS:-15}
cases=${BENCH_CASES:-5000000}
cargo build --release -q -p gongzhi -p gongzhi-loadgen
BIN=target/release/gongzhi
LG=target/release/gongzhi-loadgen
dir=$(mktemp -d /tmp/gongzhi-bench.XXXXXX)
port=${BENCH_PORT:-18300}
export GONGZHI_DATA_DIR=$dir GONGZHI_ADDR=127.0.0.1:$port GONGZHI_ADMIN_PASSWORD='Bench#Guanli2026' \
  GONGZHI_LOGIN_RATE_PER_MINUTE=10000000 GONGZHI_LOG=warn GONGZHI_SINGLE_SESSION=false
unset GONGZHI_DATABASE_URL
if [[ $db == postgres ]]; then
  admin=${GONGZHI_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  psql "$admin" -qc 'DROP DATABASE IF EXISTS gongzhi_bench WITH (FORCE)' -c 'CREATE DATABASE gongzhi_bench' >/dev/null
  export GONGZHI_DATABASE_URL="${admin%/*}/gongzhi_bench"
fi
echo "database: $db; machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
$BIN demo >/dev/null
$BIN insert-ceiling --rows 200000 --commit-writers 32
$BIN serve >/dev/null 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
export GONGZHI_BENCH_PASSWORD='Demo@2026'
echo "-- intake, as fast as it goes (32 connections):"
$LG --addr 127.0.0.1:$port --scenario cases --user shequ --connections 32 --duration "$duration"
echo "-- intake at 1,000 cases/s:"
$LG --addr 127.0.0.1:$port --scenario cases --user shequ --connections 32 --duration "$duration" --rate 1000
kill $pid; wait $pid 2>/dev/null || true
echo "-- the rate dashboard over $cases cases:"
$BIN bench-cases --cases "$cases"
