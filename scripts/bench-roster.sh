#!/usr/bin/env bash
# Roster benchmarks; the README quotes their output.
# - A team manager's month (10 people, 100 PAs, 4 weeks) solved for 60 s with three seeds:
#   the time to the first roster and the score at 1 s, 10 s and 60 s.
# - An organisation's month (89 teams, 890 people, 4,000 PAs) through the solver core at 10 s
#   and 60 s: the first roster, and each team's part beside the same team rostered alone.
# - The organisation's month as an admin's roster run through the product (demo market in a
#   fresh database, SQLite and PostgreSQL), 10 s: the first roster shown, the drafts written.
# ORGANISATION=0 skips the organisation's runs; SECONDS_LIMIT changes the team's 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --example bench_roster --example bench_org_run
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for seed in 1 2 3; do
  target/release/examples/bench_roster "${SECONDS_LIMIT:-60}" "$seed"
done
if [ "${ORGANISATION:-1}" != 0 ]; then
  for limit in 10 60; do
    target/release/examples/bench_roster "$limit" 1 organisation 1
  done
  for backend in sqlite postgres; do
    target/release/examples/bench_org_run 10 "$backend"
  done
fi
