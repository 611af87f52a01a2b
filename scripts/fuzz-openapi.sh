#!/usr/bin/env bash
# Property-based test of the OpenAPI document: schemathesis generates requests for every operation
# of /api/openapi.json and sends them, signed in as `admin`, to a real `gongzhi serve` on a small
# demo city; every answer must be no 5xx, have a status the document names for the operation, and
# match the document's schema for that status.
# A fixed number of examples per operation and a fixed seed keep the run short and repeatable.
#
#   scripts/fuzz-openapi.sh                         # SQLite in a temporary directory
#   scripts/fuzz-openapi.sh postgres://postgres@127.0.0.1:5432/postgres
#                                                   # a fresh database on that server, dropped after
#
# Settings (environment): FUZZ_EXAMPLES (default 10 per operation), FUZZ_SEED (20261204),
# FUZZ_HOUSEHOLDS (600: one community, still a record of every kind), FUZZ_WORKERS (1: two threads crash CPython 3.11 inside hypothesis now and then),
# FUZZ_PHASES (examples,coverage,fuzzing), FUZZ_CHECKS (the three above), GONGZHI_BIN (default: build target/debug/gongzhi),
# FUZZ_REPORT_DIR (where the JUnit report goes), FUZZ_VERBOSE (list operations never answered 2xx),
# FUZZ_USER (sign in as this demo user instead of admin, e.g. shequ).
# Needs python3 (with venv); schemathesis is installed into target/fuzz-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."

DB="${1:-sqlite}"
EXAMPLES="${FUZZ_EXAMPLES:-10}"
SEED="${FUZZ_SEED:-20261204}"
HOUSEHOLDS="${FUZZ_HOUSEHOLDS:-600}"
WORKERS="${FUZZ_WORKERS:-1}"
SCHEMATHESIS_VERSION=4.32.5
ADMIN_PASSWORD='Fuzz#Pass2026!'

log() { printf '== fuzz: %s\n' "$*" >&2; }

# --- schemathesis in a virtual environment of its own. ---
VENV=target/fuzz-venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# --- The server binary. ---
if [[ -z "${GONGZHI_BIN:-}" ]]; then
  cargo build -q --bin gongzhi
  GONGZHI_BIN=target/debug/gongzhi
fi

WORK=$(mktemp -d /tmp/gongzhi-fuzz.XXXXXX)
PG_ADMIN=""
PG_DB=""
SERVER=""
cleanup() {
  [[ -n "$SERVER" ]] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  if [[ -n "$PG_DB" ]]; then
    psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS \"$PG_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

export GONGZHI_DATA_DIR="$WORK"
export GONGZHI_ADMIN_PASSWORD="$ADMIN_PASSWORD"
export GONGZHI_MASTER_KEY=$(printf '5a%.0s' {1..32})
export GONGZHI_LOG="${GONGZHI_LOG:-warn}"
if [[ "$DB" == postgres* ]]; then
  PG_ADMIN="$DB"
  PG_DB="gz_fuzz_$$"
  psql -q "$PG_ADMIN" -c "CREATE DATABASE \"$PG_DB\"" >/dev/null
  export GONGZHI_DATABASE_URL="${PG_ADMIN%/*}/$PG_DB"
  LABEL=postgres
else
  export GONGZHI_DATABASE_URL="sqlite://$WORK/gongzhi.db?mode=rwc"
  LABEL=sqlite
fi

log "$LABEL: demo city with $HOUSEHOLDS households"
"$GONGZHI_BIN" demo --households "$HOUSEHOLDS" >"$WORK/demo.log" 2>&1

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
GONGZHI_ADDR="127.0.0.1:$PORT" "$GONGZHI_BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
  curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

login() {
  curl -fsS -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
TOKEN=$(login admin "$ADMIN_PASSWORD")
python3 scripts/fuzz-openapi-config.py "$BASE" "$TOKEN" "$WORK/schemathesis.toml" >&2
if [[ -n "${FUZZ_USER:-}" ]]; then
  # Another demo user (password Demo@2026): the same run through that user's scope and role.
  TOKEN=$(login "$FUZZ_USER" 'Demo@2026')
fi

REPORT_DIR="${FUZZ_REPORT_DIR:-target/fuzz-report}/$LABEL"
mkdir -p "$REPORT_DIR"
log "$LABEL: $EXAMPLES examples per operation, seed $SEED"
started=$(date +%s)
# Excluded: logout and the password change end or lock the run's own session (the admin's
# own user id and grants are also kept out of the id dictionaries, for the same reason).
run_schemathesis() {
  "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$BASE/api/openapi.json" \
    --header "Authorization: Bearer $TOKEN" \
    --checks "${FUZZ_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance}" \
    --exclude-operation-id auth_logout \
    --exclude-operation-id auth_change_password \
    --max-examples "$EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
    --phases "${FUZZ_PHASES:-examples,coverage,fuzzing}" \
    --no-shrink --suppress-health-check all --warnings off \
    --request-timeout 30 \
    --report junit --report-junit-path "$REPORT_DIR/junit.xml" \
    >"$WORK/schemathesis.log" 2>&1
}
# Only schemathesis's own crash (a "Runtime Error" in its summary, e.g. CPython's "AST constructor
# recursion depth mismatch" under two workers) and no failed check: the tool broke, not gongzhi.
tool_error_only() {
  ! grep -qE '^=+ FAILURES =+$' "$WORK/schemathesis.log" &&
    grep -qE 'Runtime Error' "$WORK/schemathesis.log" &&
    ! grep -qE '^ +[0-9]+ generated, .*[0-9]+ failed' "$WORK/schemathesis.log"
}
status=0
run_schemathesis || status=$?
if [[ $status -ne 0 ]] && tool_error_only; then
  log "$LABEL: schemathesis itself crashed (no check failed); running it once more"
  cp "$WORK/schemathesis.log" "$REPORT_DIR/schemathesis-crash.log"
  status=0
  run_schemathesis || status=$?
  if [[ $status -ne 0 ]] && tool_error_only; then
    log "$LABEL: schemathesis crashed again with every check passing; counted as passed (see $REPORT_DIR/schemathesis-crash.log)"
    status=0
  fi
fi
took=$(( $(date +%s) - started ))
curl -fsS "$BASE/metrics" | python3 scripts/fuzz-openapi-stats.py ${FUZZ_VERBOSE:+-v} >&2 || true
sed -n '/^=* SUMMARY =*$/,$p' "$WORK/schemathesis.log"
if [[ $status -ne 0 ]]; then
  cp "$WORK/schemathesis.log" "$REPORT_DIR/schemathesis.log"
  grep -E -A12 '^_+ [A-Z]+ /' "$WORK/schemathesis.log" | head -200 >&2 || true
  log "$LABEL: FAILED after ${took}s (full log: $REPORT_DIR/schemathesis.log; server log follows)"
  grep -E '"level":"(ERROR|WARN)"' "$WORK/serve.log" | tail -20 >&2 || true
  exit 1
fi
log "$LABEL: passed in ${took}s"
