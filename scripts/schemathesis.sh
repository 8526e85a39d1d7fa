#!/usr/bin/env bash
# A bounded schemathesis pass over the /stet/psd2/v1 API (STET 1.4.0.47) of a real stetgate
# sandbox, fuzzing from the official definition crates/stet/spec/stet-psd2-v1.4.0.47.swagger.json
# as a registered TPP (mutual TLS, signed requests, real tokens). See scripts/schemathesis/run.py.
#
# Needs target/debug/stetgate and target/debug/stet-tpp already built (it never builds; set
# STETGATE_BIN_DIR to use others). On a fresh Debian machine, as root, it installs python3 and pip
# from Debian's packages, and schemathesis 4 and httpsig from PyPI, when they are missing.
#
# Exit status: 0 no violation, 1 violations (each printed with method, path, status and answer),
# 2 the harness could not run (missing binary, sandbox or schemathesis failure, time cap reached).
# Options are passed to run.py: --examples N (per operation, default 30), --seed N, --time-limit S
# (default 200), --keep (keep the work dir), --verbose.
set -euo pipefail
cd "$(dirname "$0")/.."

# The hooks use schemathesis's 4.x Python API; 4.32.5 is the version they were written against.
SCHEMATHESIS_REQUIREMENT=${STET_SCHEMATHESIS_REQUIREMENT:-schemathesis==4.32.5}

say() { printf 'scripts/schemathesis.sh: %s\n' "$*" >&2; }

as_root() { [ "$(id -u)" = 0 ]; }

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

pip_install() {
  local log
  log=$(mktemp)
  if python3 -m pip install --quiet --disable-pip-version-check "$@" 2>"$log"; then
    rm -f "$log"
    return 0
  fi
  # Debian's own python3 refuses pip installs into it (PEP 668) unless told otherwise; this is a
  # throw-away CI or developer machine where that is what we want.
  if grep -q externally-managed-environment "$log"; then
    rm -f "$log"
    python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$@"
    return
  fi
  cat "$log" >&2
  rm -f "$log"
  return 1
}

has_schemathesis_4() {
  python3 - <<'EOF' 2>/dev/null
import sys
import schemathesis
major, minor = (int(part) for part in schemathesis.__version__.split(".")[:2])
sys.exit(0 if major == 4 and minor >= 32 else 1)
EOF
}

if ! command -v python3 >/dev/null; then
  apt_install python3
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  apt_install python3-pip
fi
if ! has_schemathesis_4; then
  say "installing $SCHEMATHESIS_REQUIREMENT (PyPI)"
  pip_install "$SCHEMATHESIS_REQUIREMENT"
fi
if ! python3 -c 'import httpsig' 2>/dev/null; then
  say "installing httpsig (PyPI)"
  pip_install httpsig
fi

exec python3 scripts/schemathesis/run.py "$@"
