#!/usr/bin/env bash
# Roster benchmark: a team manager's month (10 people, 100 PAs, 4 weeks) solved for 60 s with
# three seeds; prints the time to the first roster and the score at 1 s, 10 s and 60 s.
# The README quotes its output.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --example bench_roster
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for seed in 1 2 3; do
  target/release/examples/bench_roster "${SECONDS_LIMIT:-60}" "$seed"
done
