#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis (from PyPI, pinned, in a
# venv this script makes under target/), against a demo server on SQLite, as a team manager and
# as an admin, each for FUZZ_SECONDS (default 60). Fails on any 5xx and on any answer the
# document does not describe (status, content type, body schema). scripts/test.sh runs it.
#   FUZZ_SECONDS=300 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/fuzz
venv="$out/venv"
mkdir -p "$out"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

cargo build --locked --quiet --bin parota
port=${FUZZ_PORT:-18282}
rm -f "$out"/demo.db*
export PAROTA_DATABASE_URL="sqlite://$out/demo.db"
export PAROTA_JWT_SECRET=fuzz-signing-secret-long-enough-for-hs256
export PAROTA_BIND="127.0.0.1:$port" PAROTA_LOG_LEVEL=error PAROTA_RUN_JOBS=false
target/debug/parota demo >"$out/demo.log" 2>&1
target/debug/parota serve >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

token() {
  curl -sf -X POST "http://127.0.0.1:$port/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"grant_type\":\"password\",\"username\":\"$1\",\"password\":\"parota-demo\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

status=0
for login in manager@demo.parota.test admin@demo.parota.test; do
  echo "== fuzzing as $login for ${FUZZ_SECONDS:-60} s"
  # Logging out and changing the password would end the fuzzer's own session.
  "$venv/bin/schemathesis" run openapi/openapi.json \
    --url "http://127.0.0.1:$port" \
    --header "Authorization: Bearer $(token "$login")" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/me/password \
    --phases examples,coverage,fuzzing \
    --max-time "${FUZZ_SECONDS:-60}" --workers 1 --seed 20261202 \
    --suppress-health-check all --warnings off \
    >"$out/fuzz-$login.log" 2>&1 || status=1
  tail -n 25 "$out/fuzz-$login.log"
done
exit $status
