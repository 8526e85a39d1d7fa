#!/usr/bin/env bash
# Growth curves (docs/performance.md): latency of GET /accounts and of GET transactions (an
# account of 500 operations) as the ledger grows, filled with `stetgate fill`.
#
#   GROWTH_PG_URL=postgres://user@host:port/postgres scripts/growth.sh
#
# SQLite at 1k, 10k and 100k accounts; PostgreSQL at 1k, 10k, 100k and 1M (in a database
# `stetgate_growth` it drops and creates on the server of GROWTH_PG_URL; without GROWTH_PG_URL the
# PostgreSQL curve is left out). Each size: fill (growing the same deterministic data), start
# `stetgate sandbox` on it, run both scenarios, stop. Raw JSON to docs/bench/<date>/growth/, then
# scripts/plot-growth.py draws growth.svg and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-8}
PORT=${BENCH_PORT:-18443}
SQLITE_SIZES=${GROWTH_SIZES_SQLITE:-1000 10000 100000}
POSTGRES_SIZES=${GROWTH_SIZES_POSTGRES:-1000 10000 100000 1000000}
ROOT=$PWD
OUT=${BENCH_OUT:-$ROOT/docs/bench/$(date -u +%Y-%m-%d)/growth}
mkdir -p "$OUT"

build_release
BIN=$ROOT/target/release

curve() {
  local backend=$1 sizes=$2; shift 2
  local db_flags=("$@")
  WORK=$(mktemp -d)
  cd "$WORK"
  for size in $sizes; do
    echo "== $backend, $size accounts" >&2
    local started=$SECONDS
    "$BIN/stetgate" fill --accounts "$size" --data-dir data "${db_flags[@]}" >/dev/null 2>fill.log
    echo "$backend $size: filled in $((SECONDS - started)) s" | tee -a "$OUT/fill-times.txt"
    start_server "${db_flags[@]}"
    [ -d tpp ] || issue_tpp
    # transactions first: its set-up grants the consent, so GET /accounts reads the balances of
    # both accounts at every size (the consent persists as the database grows).
    for scenario in transactions accounts; do
      "$BIN/stet-tpp" bench "${COMMON[@]}" --psu F0000000000 --scenario "$scenario" \
        --connections "$CONNECTIONS" --duration "$DURATION" --pool 500 --format json \
        --json "$OUT/$backend-$size-$scenario.json" >/dev/null
    done
    stop_server
  done
  cd "$ROOT"
  rm -rf "$WORK"
}

trap 'stop_server' EXIT
rm -f "$OUT/fill-times.txt"
curve sqlite "$SQLITE_SIZES"
if [ -n "${GROWTH_PG_URL:-}" ]; then
  psql -q "$GROWTH_PG_URL" -c "DROP DATABASE IF EXISTS stetgate_growth" -c "CREATE DATABASE stetgate_growth"
  curve postgres "$POSTGRES_SIZES" --database-url "${GROWTH_PG_URL%/*}/stetgate_growth"
else
  echo "GROWTH_PG_URL not set: no PostgreSQL curve" >&2
fi
python3 scripts/plot-growth.py "$OUT"
