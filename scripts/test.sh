#!/usr/bin/env bash
# Runs every test of the stetgate workspace, on SQLite and on PostgreSQL.
#
# On a fresh Debian machine, as root, it installs what the tests need (PostgreSQL, Chromium and its
# WebDriver, openssl and curl from Debian's packages, httpsig and schemathesis from PyPI, the OpenID
# provider of the OpenID Connect tests from npm) and starts a private, throw-away PostgreSQL cluster on 127.0.0.1:55432 for them, then
# exports TEST_PG_URL. If TEST_PG_URL is already set, that server is used instead.
# With CI=true a PostgreSQL that cannot be had is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

PGDATA_DIR=${STETGATE_TEST_PGDATA:-/tmp/stetgate-test-pg}
PGPORT=${STETGATE_TEST_PGPORT:-55432}

say() { printf 'scripts/test.sh: %s\n' "$*" >&2; }

as_root() { [ "$(id -u)" = 0 ]; }

# Installs Debian packages when we can (root on Debian); fails otherwise.
apt_install() {
  if as_root && command -v apt-get >/dev/null; then
    say "installing $* (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    say "$* missing and this is not a root Debian shell"
    return 1
  fi
}

ensure_postgres() {
  if [ -n "${TEST_PG_URL:-}" ]; then
    say "using TEST_PG_URL from the environment"
    return 0
  fi
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql || return 1
  fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  # PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' user then.
  local run=()
  if as_root; then
    id postgres >/dev/null 2>&1 || useradd --system --home /var/lib/postgresql postgres
    run=(runuser -u postgres --)
  fi
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
    if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
      say "creating a test cluster in $PGDATA_DIR"
      mkdir -p "$PGDATA_DIR"
      as_root && chown postgres "$PGDATA_DIR"
      "${run[@]}" "$bin/initdb" -D "$PGDATA_DIR" -U stetgate -A trust --no-sync >/dev/null
    fi
    say "starting PostgreSQL on 127.0.0.1:$PGPORT"
    # A test-only cluster: durability is traded for speed (fsync off).
    "${run[@]}" "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PGDATA_DIR/server.log" -w -t 60 start \
      -o "-p $PGPORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGDATA_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
  fi
  export TEST_PG_URL="postgres://stetgate@127.0.0.1:$PGPORT/postgres"
  # The restart test runs a cluster of its own with these binaries.
  export TEST_PG_BIN="$bin"
}

# The interoperability tests use certificates made by the openssl command line, signatures made by
# the httpsig package from PyPI, and the guide's curl example.
ensure_interop_tools() {
  if ! command -v openssl >/dev/null; then
    apt_install openssl || return 1
  fi
  if ! command -v curl >/dev/null; then
    apt_install curl || return 1
  fi
  if ! python3 -c 'import httpsig' 2>/dev/null; then
    say "installing httpsig (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check httpsig || return 1
  fi
  # The served OpenAPI documents are checked by an independent validator.
  if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
    say "installing openapi-spec-validator (PyPI)"
    python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator || return 1
  fi
}

# The PSU pages are also driven in a real headless Chromium through chromedriver.
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    apt_install chromium chromium-driver || return 1
  fi
}

# The bank's identity provider in the OpenID Connect tests (tests/it/oidc.rs): the certified
# oidc-provider package on Node.js, installed from its lock file when absent.
OIDC_PROVIDER_DIR="$PWD/crates/stetgate/tests/oidc-provider"
ensure_oidc_provider() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm || return 1
  fi
  # oidc-provider 9 needs Node.js 20.19 or later (its package.json says so; Debian 12's own
  # nodejs is 18): say so plainly rather than fail inside npm or the provider.
  local version
  version=$(node -p 'process.versions.node')
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    say "Node.js $version is too old for the OpenID provider of the tests (20.19 or later is needed)"
    return 1
  fi
  if [ ! -d "$OIDC_PROVIDER_DIR/node_modules/oidc-provider" ]; then
    say "installing the OpenID provider of the tests (npm ci in $OIDC_PROVIDER_DIR)"
    (cd "$OIDC_PROVIDER_DIR" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  fi
  export STETGATE_OIDC_PROVIDER_DIR="$OIDC_PROVIDER_DIR"
}

if ! ensure_oidc_provider; then
  if [ "${CI:-}" = "true" ]; then
    say "CI=true: Node.js and the oidc-provider package are required for the OpenID Connect tests"
    exit 1
  fi
  say "the OpenID provider is unavailable: the OpenID Connect tests will be skipped"
fi

if ! ensure_browser; then
  if [ "${CI:-}" = "true" ]; then
    say "CI=true: chromium and chromium-driver are required for the browser tests"
    exit 1
  fi
  say "chromium unavailable: the browser tests will be skipped"
fi

if ! ensure_interop_tools; then
  if [ "${CI:-}" = "true" ]; then
    say "CI=true: openssl, python3 httpsig and openapi-spec-validator are required for the tests"
    exit 1
  fi
  say "interoperability tools unavailable: those tests will be skipped"
fi

if ! ensure_postgres; then
  if [ "${CI:-}" = "true" ]; then
    say "CI=true: PostgreSQL is required for the tests"
    exit 1
  fi
  say "PostgreSQL unavailable: its tests will be skipped (set TEST_PG_URL to run them)"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The binaries the tests drive as users do (`stet-tpp pay`, schemathesis's sandbox).
cargo build -p stetgate -p stet-tpp --bins 2>&1 | tail -n 1
cargo test --workspace "$@" 2>&1 | tee "$log" || status=$?

# The official STET 1.4.0.47 definition against a real sandbox (scripts/schemathesis.sh): no 5xx,
# the ErrorModel on every 4xx, the official schema on every 2xx. Skipped when a test filter is given.
if [ $# -eq 0 ]; then
  if scripts/schemathesis.sh; then
    echo "test result: ok. 1 passed; 0 failed; 0 ignored (schemathesis against the STET 1.4.0.47 definition)" | tee -a "$log"
  else
    echo "test result: FAILED. 0 passed; 1 failed; 0 ignored (schemathesis against the STET 1.4.0.47 definition)" | tee -a "$log"
    status=1
  fi
fi

# One closing line for the whole workspace (cargo prints one per test binary, the last often a
# doc-test run with nothing in it).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i; if ($(i+1) ~ /^ignored;?$/) s += $i } }
     END { printf "summary: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
