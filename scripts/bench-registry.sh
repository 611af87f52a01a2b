#!/usr/bin/env bash
# Registry benchmarks for docs/benchmarks.md. Usage: scripts/bench-registry.sh [sqlite|postgres]
# A release server with the demo city, the database's raw insert ceiling (gongzhi insert-ceiling),
# three 1,000,000-row imports (the first with a dwelling for every third row), then lookups at
# ~3 million residents. About 10–15 minutes on the 2-core machine and ~6 GB of disk.
# PostgreSQL: GONGZHI_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is used to
# (re)create a scratch database `gongzhi_bench_registry`.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
cargo build --release -q -p gongzhi -p gongzhi-loadgen
BIN=target/release/gongzhi
LG=target/release/gongzhi-loadgen
dir=$(mktemp -d /tmp/gongzhi-bench-registry.XXXXXX)
port=${BENCH_PORT:-18401}
export GONGZHI_DATA_DIR=$dir GONGZHI_ADDR=127.0.0.1:$port GONGZHI_ADMIN_PASSWORD='Bench#Guanli2026' GONGZHI_LOG=warn
export GONGZHI_BENCH_PASSWORD='Bench#Guanli2026'
unset GONGZHI_DATABASE_URL
if [[ $db == postgres ]]; then
  admin=${GONGZHI_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  psql "$admin" -qc 'DROP DATABASE IF EXISTS gongzhi_bench_registry WITH (FORCE)' -c 'CREATE DATABASE gongzhi_bench_registry' >/dev/null
  export GONGZHI_DATABASE_URL="${admin%/*}/gongzhi_bench_registry"
fi
echo "database: $db; machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
$BIN demo >/dev/null
echo "== raw insert ceiling of this database (same run)"
$BIN insert-ceiling --rows 500000
$BIN serve >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"; [[ $db == postgres ]] && psql "$admin" -qc "DROP DATABASE IF EXISTS gongzhi_bench_registry WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
echo "== 1M residents, every third with a dwelling"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110101 --server-pid $pid
echo "== 1M residents only"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110102 --no-rooms --server-pid $pid
echo "== 1M residents only"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110105 --no-rooms --server-pid $pid
echo "== lookups at ~3.06M residents"
$LG --addr 127.0.0.1:$port --scenario registry --user admin --rows 1000000
echo "== server peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$pid/status)"
