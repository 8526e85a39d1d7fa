# Shared by scripts/bench.sh and scripts/growth.sh (sourced, not run): the release build, a
# sandbox server in a work directory, the bare-TLS baseline, the test TPP, resident memory.
# The caller sets BIN, WORK and PORT and has cd'ed into WORK.

build_release() {
  cargo build --release -q -p stetgate -p stet-tpp --bins --example baseline
}

# wait_for NAME PID URL LOG: waits (up to 30 s) until URL answers over TLS, or the process PID has
# exited; then shows LOG and fails.
wait_for() {
  local name=$1 pid=$2 url=$3 log=$4
  for _ in $(seq 1 300); do
    curl -s -o /dev/null --cacert data/pki/ca.pem "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; its log:" >&2
  cat "$log" >&2
  return 1
}

# stop PID: stops a process started here and waits for it.
stop() {
  [ -n "${1:-}" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# start_server [extra stetgate sandbox flags...]: starts `stetgate sandbox` on $PORT with data in
# $WORK/data, waits until it answers, and sets SERVER to its pid.
# Every bench client comes from 127.0.0.1, so the per-address connection cap (512 by default) is
# lifted to the global one (4096) for the 1,000-connection scenario; the baseline does the same.
start_server() {
  STETGATE_LOG_LEVEL=warn STETGATE_CONNECTIONS__MAX_PER_ADDRESS=4096 "$BIN/stetgate" sandbox --listen "127.0.0.1:$PORT" --data-dir data "$@" \
    >>server.log 2>&1 &
  SERVER=$!
  wait_for "stetgate sandbox" "$SERVER" "https://localhost:$PORT/healthz" server.log
}

stop_server() { stop "${SERVER:-}"; SERVER=; }

# start_baseline: the bare-TLS baseline on $PORT + 1 with the sandbox's server certificate; sets
# BASELINE and BASELINE_URL.
start_baseline() {
  local port=$((PORT + 1))
  "$BIN/examples/baseline" --listen "127.0.0.1:$port" --server-cert data/pki/server.pem \
    --server-key data/pki/server.key --trust-anchors data/pki/ca.pem --tpp-certs tpp >baseline.log 2>&1 &
  BASELINE=$!
  BASELINE_URL="https://www.17515.sandbox.localhost:$port"
  wait_for "the baseline" "$BASELINE" "https://localhost:$port/" baseline.log
}

stop_baseline() { stop "${BASELINE:-}"; BASELINE=; }

# issue_tpp: a test QWAC/QSealC in $WORK/tpp, registered with the running server's database.
issue_tpp() {
  "$BIN/stetgate" certs issue --org-id PSDFR-ACPR-12345 --roles PSP_AI,PSP_IC --data-dir data --out tpp >/dev/null
  COMMON=(--url "https://www.17515.sandbox.localhost:$PORT" --cacert data/pki/ca.pem --certs tpp)
  "$BIN/stet-tpp" register "${COMMON[@]}" --name "Bench TPP" --redirect-uri https://tpp.example/cb >/dev/null
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# peak_rss_while PID COMMAND...: runs COMMAND, sampling PID's VmRSS every 0.2 s, and prints the
# highest value seen (kB) on file descriptor 3.
peak_rss_while() {
  local pid=$1; shift
  local peak=0 sampler
  (
    while kill -0 "$pid" 2>/dev/null; do
      rss_kb "$pid"
      sleep 0.2
    done
  ) >"$WORK/rss.samples" &
  sampler=$!
  "$@"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  peak=$(sort -n "$WORK/rss.samples" | tail -n 1)
  echo "${peak:-0}" >&3
}

# census [DATABASE_URL]: rows of the tables the load writes (tokens, consents, quota, counters), one
# "table rows" line each; the sandbox's SQLite file when no URL is given.
CENSUS_TABLES="psu_journeys authorization_codes token_pairs ais_consents ais_consent_accounts batch_quota rate_counters request_stats"
census() {
  local table
  for table in $CENSUS_TABLES; do
    if [ -n "${1:-}" ]; then
      printf '%s %s\n' "$table" "$(psql -tA "$1" -c "SELECT count(*) FROM $table")"
    else
      printf '%s %s\n' "$table" "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM $table').fetchone()[0])" data/stetgate.db)"
    fi
  done
}
