#!/usr/bin/env bash
# HTTP benchmarks for docs/benchmarks.md. Usage: scripts/bench.sh [sqlite|postgres]
# PostgreSQL: GONGZHI_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is used to
# (re)create a scratch database `gongzhi_bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
duration=${BENCH_SECONDS:-15}
cargo build --release -q -p gongzhi -p gongzhi-loadgen
BIN=target/release/gongzhi
LG=target/release/gongzhi-loadgen
dir=$(mktemp -d /tmp/gongzhi-bench.XXXXXX)
port=${BENCH_PORT:-18200}
export GONGZHI_DATA_DIR=$dir GONGZHI_ADDR=127.0.0.1:$port GONGZHI_ADMIN_PASSWORD='Bench#Guanli2026' \
  GONGZHI_LOGIN_RATE_PER_MINUTE=10000000 GONGZHI_LOG=warn GONGZHI_SINGLE_SESSION=false
unset GONGZHI_DATABASE_URL
if [[ $db == postgres ]]; then
  admin=${GONGZHI_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  psql "$admin" -qc 'DROP DATABASE IF EXISTS gongzhi_bench WITH (FORCE)' -c 'CREATE DATABASE gongzhi_bench' >/dev/null
  export GONGZHI_DATABASE_URL="${admin%/*}/gongzhi_bench"
fi
$BIN demo >/dev/null
$BIN serve >/dev/null 2>"$dir/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$pid/status; }
sleep 3
echo "database: $db; machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "server RSS idle after start: $(rss)"
export GONGZHI_BENCH_PASSWORD='Demo@2026'
$LG --addr 127.0.0.1:$port --scenario health --user shequ --connections 64 --duration "$duration"
$LG --addr 127.0.0.1:$port --scenario children --user shequ --connections 64 --duration "$duration"
$LG --addr 127.0.0.1:$port --scenario children --user shequ --connections 64 --duration "$duration" --threads 2
# The same read with the tree cache off (every request reads the database twice).
GONGZHI_TREE_CACHE_MS=0 GONGZHI_ADDR=127.0.0.1:$((port + 1)) $BIN serve >/dev/null 2>>"$dir/serve.log" &
pid2=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((port + 1))/readyz" >/dev/null && break; sleep 0.1; done
echo "-- tree cache off:"
$LG --addr 127.0.0.1:$((port + 1)) --scenario children --user shequ --connections 64 --duration "$duration"
kill $pid2
for c in 1 4 16; do
  $LG --addr 127.0.0.1:$port --scenario login --user jiedao --connections $c --duration 10
done
echo "server RSS after load: $(rss)"
sleep 5
echo "server RSS idle after load: $(rss)"
