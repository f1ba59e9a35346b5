#!/usr/bin/env bash
# Durability: the server is killed (SIGKILL) twice in the middle of the clock-event load (0.5 s
# in, and 0.5 s after it is back) and restarted; the load generator resends what it was not
# answered, with the same keys, as the app does. Then every event the server acknowledged must
# be stored, and none twice.
#   scripts/crash-clock.sh [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin parota --example bench_clock
out=target/bench-clock
mkdir -p "$out"
bench=target/release/examples/bench_clock
secret=bench-clock-signing-secret-long-enough-for-hs256
port=${PORT:-18182}
pg_admin="${PAROTA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
backend=${1:-sqlite}

case "$backend" in
  sqlite) rm -f "$out"/crash.db*; url="sqlite://$out/crash.db" ;;
  postgres)
    name="parota_crash_clock_$$"
    psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
    url="${pg_admin%/*}/$name" ;;
esac

start_server() {
  PAROTA_DATABASE_URL="$url" PAROTA_JWT_SECRET="$secret" PAROTA_BIND="127.0.0.1:$port" \
    PAROTA_RUN_JOBS=false PAROTA_LOG_LEVEL=warn PAROTA_POOL_SIZE=16 \
    target/release/parota serve >>"$out/crash-server.log" 2>&1 &
  server=$!
}

$bench seed "$url" "$out/crash-plan.tsv"
start_server
$bench load "127.0.0.1:$port" "$out/crash-plan.tsv" "$out/crash-acked.tsv" 64 10 &
load=$!
for pause in 0.5 0.5; do
  sleep "$pause"
  kill -9 "$server"; wait "$server" 2>/dev/null || true
  echo "killed the server mid-load"
  sleep 0.5
  start_server
done
wait "$load"
kill "$server"; wait "$server" 2>/dev/null || true
$bench verify "$url" "$out/crash-acked.tsv"
if [ "$backend" = postgres ]; then psql "$pg_admin" -qc "DROP DATABASE $name" >/dev/null; fi
echo "durability: ok"
