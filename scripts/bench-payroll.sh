#!/usr/bin/env bash
# Payroll close: a month for 4,000 PAs (25 shifts each: 100,000 approved shift records) and 400
# direct-payment employers, closed in one transaction and every export streamed as CSV, on
# SQLite and on PostgreSQL, in release builds. Then again with 50 shifts each, to show memory
# follows PAs and pay lines, not shifts. The README quotes it.
#   scripts/bench-payroll.sh [sqlite|postgres]...
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --example bench_payroll
out=target/bench-payroll
mkdir -p "$out"
bench=target/release/examples/bench_payroll
pg_admin="${PAROTA_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
name="parota_bench_payroll_$$"
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

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
  for backend_one in $backend; do
    for shifts in 25 50; do
      url=$(database_for "$backend_one")
      "$bench" seed "$url" "$shifts"
      echo -n "$backend_one, $shifts shifts per PA: "
      "$bench" close "$url"
    done
  done
done
psql "$pg_admin" -qc "DROP DATABASE IF EXISTS $name" >/dev/null 2>&1 || true
