#!/usr/bin/env bash
# Measures stetgate with `stet-tpp bench` on this machine, each scenario against stetgate and then
# against the bare-TLS baseline, and writes the raw JSON reports to docs/bench/<date>/
# (docs/performance.md). Client and server share the machine (loopback).
#
#   scripts/bench.sh            every scenario, 10 s each, 64 connections, SQLite
#   BENCH_DATABASE_URL=postgres://user@host/db scripts/bench.sh
#                               the same on PostgreSQL (reports in docs/bench/<date>/postgres/)
#   scripts/bench.sh --smoke    a few seconds on the debug build, to check the load generator works
#                               (used by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

SMOKE=false
[ "${1:-}" = "--smoke" ] && SMOKE=true
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-18443}
DB=${BENCH_DATABASE_URL:-}
$SMOKE && DURATION=2 && CONNECTIONS=4

# The smoke only checks that the load generator, stetgate and the baseline work together: it runs
# the debug binaries scripts/test.sh has just built instead of a release build of its own (about
# ten minutes of CI on two cores). Measurements always use the release build.
if $SMOKE; then
  cargo build -q -p stetgate -p stet-tpp --bins --example baseline
  BIN=$PWD/target/debug
else
  build_release
  BIN=$PWD/target/release
fi
WORK=$(mktemp -d)
OUT=${BENCH_OUT:-$PWD/docs/bench/$(date -u +%Y-%m-%d)${DB:+/postgres}}
$SMOKE && OUT=$WORK/reports
mkdir -p "$OUT"
DB_FLAGS=()
[ -n "$DB" ] && DB_FLAGS=(--database-url "$DB")

cd "$WORK"
trap 'stop_server; stop_baseline; rm -rf "$WORK"' EXIT
# 1,000 synthetic accounts; account 0 (PSU F0000000000) has the 500 operations of the
# transactions scenario.
"$BIN/stetgate" fill --accounts 1000 --data-dir data "${DB_FLAGS[@]}" >/dev/null 2>&1
start_server "${DB_FLAGS[@]}"
issue_tpp
start_baseline

echo "server RSS idle: $(rss_kb "$SERVER") kB" | tee "$OUT/rss.txt"
{ echo "# rows before the series"; census "$DB"; } >"$OUT/tables.txt"

run() {
  local name=$1; shift
  local peak
  peak=$(peak_rss_while "$SERVER" "$BIN/stet-tpp" bench "${COMMON[@]}" --duration "$DURATION" \
    --json "$OUT/$name.json" --baseline-url "$BASELINE_URL" "$@" 3>&1 >&2)
  echo "server RSS during $name: peak $peak kB, after $(rss_kb "$SERVER") kB" | tee -a "$OUT/rss.txt"
}

if $SMOKE; then
  run accounts-h1 --scenario accounts --connections "$CONNECTIONS" --http 1 --pool 50
  run funds-h2 --scenario funds --connections "$CONNECTIONS" --http 2 --pool 50
  run transactions-h1 --scenario transactions --psu F0000000000 --connections "$CONNECTIONS" --pool 50
  for f in "$OUT"/*.json; do
    python3 - "$f" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["requests"] > 0, r
assert set(r["statuses"]) == {"200"}, r["statuses"]
assert r["transport_errors"] == 0, r
b = r["baseline"]
assert b["requests"] > 0 and set(b["statuses"]) == {"200"}, b
print(f"smoke ok: {r['scenario']} {r['http']} {r['requests']} requests, p99 {r['latency_ms']['p99']} ms, "
      f"{r['throughput_ratio_to_baseline']:.0%} of the baseline's throughput")
PY
  done
  exit 0
fi

run accounts-h1 --scenario accounts --connections "$CONNECTIONS" --http 1
run balances-h1 --scenario balances --connections "$CONNECTIONS" --http 1
run transactions-h1 --scenario transactions --psu F0000000000 --connections "$CONNECTIONS" --http 1
run consents-h1 --scenario consents --connections "$CONNECTIONS" --http 1
run funds-h1 --scenario funds --connections "$CONNECTIONS" --http 1
run refresh-h1 --scenario refresh --connections "$CONNECTIONS" --http 1
run accounts-h2 --scenario accounts --connections "$CONNECTIONS" --http 2
run funds-h2 --scenario funds --connections "$CONNECTIONS" --http 2
run accounts-batch --scenario accounts --batch --connections "$CONNECTIONS" --http 1
run accounts-handshake --scenario accounts --connections 16 --http 1 --new-connection-per-request --pool 200
run accounts-1000-connections --scenario accounts --connections 1000 --http 1 --pool 2000
{ echo "# rows after the series"; census "$DB"; } | tee -a "$OUT/tables.txt"
echo "reports in $OUT"
