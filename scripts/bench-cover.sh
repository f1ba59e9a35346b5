#!/usr/bin/env bash
# Cover benchmark: 5% of 4,000 PAs report sick for the shifts of 890 people, two reports at a
# time back to back; prints the time from each report to its first offers being in the outbox
# (p50, p95, p99) and checks every offered PA against the safety gate from scratch. On
# PostgreSQL (the target: p99 under a second) and SQLite. The README quotes it.
#   scripts/bench-cover.sh [postgres|sqlite]...
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --example bench_cover
out=target/bench-cover
mkdir -p "$out"
bin=target/release/examples/bench_cover
pg_admin="${PAROTA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
name="parota_bench_cover_$$"
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

for backend in ${@:-postgres sqlite}; do
  case "$backend" in
    sqlite)
      rm -f "$out"/bench.db*
      "$bin" "sqlite://$out/bench.db" ;;
    postgres)
      psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
      "$bin" "${pg_admin%/*}/$name"
      psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name" >/dev/null ;;
  esac
done
