#!/usr/bin/env bash
# Registry benchmarks for docs/benchmarks.md: three 1,000,000-row imports into a fresh SQLite
# registry (the first with dwellings for every third row), then lookups at ~3 million residents.
# Takes about 10 minutes on the 2-core machine and ~6 GB of disk.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p gongzhi -p gongzhi-loadgen
BIN=target/release/gongzhi
LG=target/release/gongzhi-loadgen
dir=$(mktemp -d /tmp/gongzhi-bench-registry.XXXXXX)
port=${BENCH_PORT:-18401}
export GONGZHI_DATA_DIR=$dir GONGZHI_ADDR=127.0.0.1:$port GONGZHI_ADMIN_PASSWORD='Bench#Guanli2026' GONGZHI_LOG=warn
export GONGZHI_BENCH_PASSWORD='Bench#Guanli2026'
unset GONGZHI_DATABASE_URL
$BIN demo >/dev/null
$BIN serve >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
echo "== 1M residents, every third with a dwelling"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110101 --server-pid $pid
echo "== 1M residents only"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110102 --no-rooms --server-pid $pid
echo "== 1M residents only"
$LG --addr 127.0.0.1:$port --scenario import --user admin --rows 1000000 --region 110105 --no-rooms --server-pid $pid
echo "== lookups at ~3.06M residents"
$LG --addr 127.0.0.1:$port --scenario registry --user admin --rows 1000000
