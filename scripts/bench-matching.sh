#!/usr/bin/env bash
# Matching benchmark: 4,000 PAs and 890 budget holders across East Lancashire, and 150,000 PAs
# across England, on SQLite and (when it answers) PostgreSQL. Each run times match requests in
# process and over HTTP on loopback and reports memory. The README quotes its output.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --quiet --example bench_matching
bin=target/release/examples/bench_matching
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

backends=(sqlite)
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then backends+=(postgres); fi
for backend in "${backends[@]}"; do
  "$bin" --backend "$backend" --pas 4000 --holders 890 --region east-lancashire --requests "${REQUESTS:-2000}" --concurrency 2
  "$bin" --backend "$backend" --pas 150000 --holders 890 --region england --requests "${REQUESTS:-2000}" --concurrency 2
done
