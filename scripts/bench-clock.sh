#!/usr/bin/env bash
# Clock-event load at an 08:00 changeover: 4,000 PAs on published shifts clock in (10% of
# phones send the clock-in twice: idempotent replays) and later clock out, over HTTP against
# the release server, on SQLite and on PostgreSQL. Prints events per second and latency
# percentiles, then checks every acknowledged event is stored once. The README quotes it.
#   CONNECTIONS=64 POOL=16 scripts/bench-clock.sh [sqlite|postgres]...
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --bin parota --example bench_clock
out=target/bench-clock
mkdir -p "$out"
bench=target/release/examples/bench_clock
secret=bench-clock-signing-secret-long-enough-for-hs256
port=${PORT:-18181}
pg_admin="${PAROTA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

start_server() {
  PAROTA_DATABASE_URL="$1" PAROTA_JWT_SECRET="$secret" PAROTA_BIND="127.0.0.1:$port" \
    PAROTA_RUN_JOBS=false PAROTA_LOG_LEVEL=warn PAROTA_POOL_SIZE="${POOL:-16}" \
    target/release/parota serve >>"$out/server.log" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start" >&2
  exit 1
}

name="parota_bench_clock_$$"
database_for() {
  case "$1" in
    sqlite)
      rm -f "$out"/bench.db*
      echo "sqlite://$out/bench.db" ;;
    postgres)
      psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
      echo "${pg_admin%/*}/$name" ;;
  esac
}

for backend in "${@:-sqlite postgres}"; do
  for b in $backend; do
    url=$(database_for "$b")
    $bench seed "$url" "$out/plan.tsv"
    start_server "$url"
    echo "== $b"
    $bench load "127.0.0.1:$port" "$out/plan.tsv" "$out/acked.tsv" "${CONNECTIONS:-64}" 10
    kill "$server"; wait "$server" 2>/dev/null || true
    $bench verify "$url" "$out/acked.tsv"
    if [ "$b" = postgres ]; then psql "$pg_admin" -qc "DROP DATABASE $name" >/dev/null; fi
  done
done
