#!/usr/bin/env bash
# The message sender's drain rate (issue 15) for docs/benchmarks.md. Usage: scripts/bench-sender.sh [sqlite|postgres]
# Loads the demo city into a scratch database, adds BENCH_PEOPLE synthetic accounts, writes one message to them
# through the hub, and drains it with the sender's rounds to a webhook endpoint on a loopback port (signed posts,
# answered 200): fan-out, claim, send, record.
# PostgreSQL: GONGZHI_BENCH_PG (default postgres://postgres@127.0.0.1:5432/postgres) is used to
# (re)create a scratch database `gongzhi_bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-sqlite}
BIN=${GONGZHI_BIN:-target/release/gongzhi}
[[ -n ${GONGZHI_BIN:-} ]] || cargo build --release -q -p gongzhi
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
$BIN bench-sender --people "${BENCH_PEOPLE:-20000}"
