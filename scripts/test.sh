#!/usr/bin/env bash
# The whole test suite: formatting, every test on SQLite, a time-bounded fuzzing run against
# the OpenAPI document (scripts/fuzz.sh), then every test again on PostgreSQL
# when one answers (PAROTA_TEST_POSTGRES_URL, or 127.0.0.1:5432). Each test makes its own
# database and drops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --locked --all-targets --quiet -- -D warnings

echo "== tests on SQLite"
PAROTA_TEST_BACKEND=sqlite cargo test --locked --all-targets

echo "== fuzzing the API against its OpenAPI document (schemathesis, ${FUZZ_SECONDS:-60} s per role)"
scripts/fuzz.sh

pg_url="${PAROTA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
hostport="${pg_url#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
host="${hostport%%:*}"; port="${hostport##*:}"; [ "$port" = "$host" ] && port=5432
if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
  echo "== integration tests on PostgreSQL ($host:$port)"
  PAROTA_TEST_BACKEND=postgres PAROTA_TEST_POSTGRES_URL="$pg_url" cargo test --locked --test api
else
  if [ -n "${PAROTA_TEST_POSTGRES_URL:-}" ]; then
    echo "PAROTA_TEST_POSTGRES_URL is set but $host:$port does not answer" >&2
    exit 1
  fi
  echo "== PostgreSQL does not answer on $host:$port: its run is skipped"
fi
