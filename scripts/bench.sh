#!/usr/bin/env bash
# Measures stetgate with `stet-tpp bench` on this machine and writes the raw JSON reports to
# docs/bench/<date>/ (see docs/performance.md). Client and server share the machine (loopback).
#
#   scripts/bench.sh            every scenario, 10 s each, 64 connections
#   scripts/bench.sh --smoke    a few seconds, to check the load generator works (used by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=false
[ "${1:-}" = "--smoke" ] && SMOKE=true
DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-18443}
$SMOKE && DURATION=2 && CONNECTIONS=4

cargo build --release -q -p stetgate -p stet-tpp --bins --example baseline
BIN=$PWD/target/release
WORK=$(mktemp -d)
OUT=${BENCH_OUT:-$PWD/docs/bench/$(date -u +%Y-%m-%d)}
$SMOKE && OUT=$WORK/reports
mkdir -p "$OUT"

cd "$WORK"
STETGATE_LOG_LEVEL=warn "$BIN/stetgate" sandbox --listen "127.0.0.1:$PORT" --data-dir data >server.log 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null --cacert data/pki/ca.pem "https://localhost:$PORT/healthz" 2>/dev/null && break
  sleep 0.1
done
"$BIN/stetgate" certs issue --org-id PSDFR-ACPR-12345 --roles PSP_AI,PSP_IC --data-dir data --out tpp >/dev/null
URL="https://www.17515.sandbox.localhost:$PORT"
COMMON=(--url "$URL" --cacert data/pki/ca.pem --certs tpp)
"$BIN/stet-tpp" register "${COMMON[@]}" --name "Bench TPP" --redirect-uri https://tpp.example/cb >/dev/null

# The bare-TLS baseline: same TLS stack, QWAC check and signature verification, fixed answer.
BASE_PORT=$((PORT + 1))
"$BIN/examples/baseline" --listen "127.0.0.1:$BASE_PORT" --server-cert data/pki/server.pem \
  --server-key data/pki/server.key --trust-anchors data/pki/ca.pem --tpp-certs tpp >baseline.log 2>&1 &
BASELINE=$!
trap 'kill $SERVER $BASELINE 2>/dev/null || true; wait $SERVER $BASELINE 2>/dev/null || true; rm -rf "$WORK"' EXIT
BASELINE_URL="https://www.17515.sandbox.localhost:$BASE_PORT"

rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
echo "server RSS idle: $(rss) kB" | tee "$OUT/rss.txt"

run() {
  local name=$1; shift
  "$BIN/stet-tpp" bench "${COMMON[@]}" --duration "$DURATION" --json "$OUT/$name.json" --baseline-url "$BASELINE_URL" "$@"
  echo "server RSS after $name: $(rss) kB" | tee -a "$OUT/rss.txt"
}

if $SMOKE; then
  run accounts-h1 --scenario accounts --connections "$CONNECTIONS" --http 1 --pool 50
  run funds-h2 --scenario funds --connections "$CONNECTIONS" --http 2 --pool 50
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

for scenario in accounts balances transactions consents funds refresh; do
  run "$scenario-h1" --scenario "$scenario" --connections "$CONNECTIONS" --http 1
done
run accounts-h2 --scenario accounts --connections "$CONNECTIONS" --http 2
run funds-h2 --scenario funds --connections "$CONNECTIONS" --http 2
run accounts-batch --scenario accounts --batch --connections "$CONNECTIONS" --http 1
run accounts-handshake --scenario accounts --connections 16 --http 1 --new-connection-per-request --pool 200
echo "reports in $OUT"
