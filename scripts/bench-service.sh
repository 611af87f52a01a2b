#!/usr/bin/env bash
# 党员下沉、志愿服务、积分 benchmarks for docs/benchmarks.md. Usage: scripts/bench-service.sh [sqlite|postgres]
# Loads the demo city into a scratch database, adds BENCH_MEMBERS synthetic party members, then times
# the check-out + confirmation of a BENCH_PEOPLE-person activity with its postings, balance reads of
# a short and a long account history, and the annual ratings of all the members.
# PostgreSQL: GONGZHI_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is used to
# (re)create a scratch database `gongzhi_bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
cargo build --release -q -p gongzhi
BIN=target/release/gongzhi
dir=$(mktemp -d /tmp/gongzhi-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
export GONGZHI_DATA_DIR=$dir GONGZHI_ADMIN_PASSWORD='Bench#Guanli2026' GONGZHI_LOG=warn
unset GONGZHI_DATABASE_URL
if [[ $db == postgres ]]; then
  admin=${GONGZHI_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
  psql "$admin" -qc 'DROP DATABASE IF EXISTS gongzhi_bench WITH (FORCE)' -c 'CREATE DATABASE gongzhi_bench' >/dev/null
  export GONGZHI_DATABASE_URL="${admin%/*}/gongzhi_bench"
fi
echo "database: $db; machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
$BIN demo >/dev/null
$BIN bench-service --people "${BENCH_PEOPLE:-10000}" --members "${BENCH_MEMBERS:-100000}" --history "${BENCH_HISTORY:-200000}"
