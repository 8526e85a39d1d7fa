#!/usr/bin/env bash
# Compares two builds of stetgate on the same scenarios, one after the other in one run, each
# against the bare-TLS baseline of its own build (docs/performance.md, "before and after").
#
#   scripts/bench-ab.sh BEFORE_DIR AFTER_DIR
#
# Each directory holds release binaries as `cargo build --release -p stetgate -p stet-tpp --bins
# --example baseline` leaves them in target/release (stetgate, stet-tpp, examples/baseline): copy
# them aside before and after a change. SQLite by default; with BENCH_DATABASE_URL (a server
# URL ending in /postgres) each build gets a fresh database `bench_ab` there. Reports go to
# $BENCH_OUT (default /tmp/bench-ab)/<build>/<scenario>.json; one line per run is printed.
#   BENCH_SCENARIOS (default "accounts balances funds consents refresh"), BENCH_DURATION (10),
#   BENCH_CONNECTIONS (64), BENCH_PORT (18443).
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/bench-lib.sh"
PORT=${BENCH_PORT:-18443}
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
OUTROOT=${BENCH_OUT:-/tmp/bench-ab}
DB=${BENCH_DATABASE_URL:-}
for build in "$1" "$2"; do
  BIN=$(cd "$build" && pwd)
  WORK=$(mktemp -d)
  OUT=$OUTROOT/$(basename "$BIN")${DB:+-postgres}
  mkdir -p "$OUT"
  cd "$WORK"
  trap 'stop_server; stop_baseline; rm -rf "$WORK"' EXIT
  DB_FLAGS=()
  if [ -n "$DB" ]; then
    psql "$DB" -qc "DROP DATABASE IF EXISTS bench_ab" -c "CREATE DATABASE bench_ab" >/dev/null
    DB_FLAGS=(--database-url "${DB%/*}/bench_ab")
  fi
  "$BIN/stetgate" fill --accounts 1000 --data-dir data "${DB_FLAGS[@]}" >/dev/null 2>&1
  start_server "${DB_FLAGS[@]}"
  issue_tpp
  start_baseline
  for scenario in ${BENCH_SCENARIOS:-accounts balances funds consents refresh}; do
    extra=()
    [ "$scenario" = transactions ] && extra=(--psu F0000000000)
    peak=$(peak_rss_while "$SERVER" "$BIN/stet-tpp" bench "${COMMON[@]}" --duration "$DURATION" \
      --scenario "$scenario" "${extra[@]}" --connections "$CONNECTIONS" --http 1 --json "$OUT/$scenario.json" \
      --baseline-url "$BASELINE_URL" 3>&1 >/dev/null 2>&1)
    python3 - "$OUT/$scenario.json" "$(basename "$BIN")" "$peak" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:>10} {r['scenario']:<14} {r['throughput_rps']:>7.0f} req/s  p99 {r['latency_ms']['p99']:6.1f} ms  "
      f"baseline {r['baseline']['throughput_rps']:>6.0f} req/s  ratio {r['throughput_ratio_to_baseline']:.0%}  "
      f"{r['statuses']}  peak RSS {int(sys.argv[3]) // 1024} MB")
PY
  done
  stop_server; stop_baseline
  cd /; rm -rf "$WORK"
  trap - EXIT
done
