#!/usr/bin/env bash
# The roster solver on large generated instances (scripts/gen-curtois.py, the benchmark's
# format, drawn like the published ones and tuned to by nobody): 12, 26 and 52 weeks with 50 to
# 150 staff, SEEDS seeds each (default 2). Each instance is solved once with a 10 s limit and
# once with 60 s, one search per run, two runs at a time on this 2-core machine; REFERENCE=600
# adds a 10-minute run per instance. Every roster is checked by the benchmark's evaluator,
# nrp_eval.py, and the figures are its penalties. The gap is to the best roster of all runs
# kept in target/bench-generated (so a reference run, once made, stays the yardstick).
# Prints a table for the README.
#
#   scripts/bench-generated.sh            (SEEDS=2, REFERENCE unset; TABLE_ONLY=1 prints the
#                                          table from the runs kept, running none)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=../shared/bench/curtois
out=target/bench-generated
seeds="${SEEDS:-2}"
mkdir -p "$out"
[ -n "${TABLE_ONLY:-}" ] || cargo build --release --quiet --example bench_curtois
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

sizes=("12 50 12" "26 100 24" "52 150 32")
limits=(10 60)
[ -n "${REFERENCE:-}" ] && limits+=("$REFERENCE")
jobs=()
for size in "${sizes[@]}"; do
  set -- $size
  for seed in $(seq 1 "$seeds"); do
    name="g$1-$2-$3-s$seed"
    [ -s "$out/$name.txt" ] || python3 scripts/gen-curtois.py --weeks "$1" --staff "$2" --types "$3" --seed "$seed" > "$out/$name.txt"
    for limit in "${limits[@]}"; do jobs+=("$name $limit"); done
  done
done
[ -n "${TABLE_ONLY:-}" ] && jobs=()
[ ${#jobs[@]} -eq 0 ] || printf '%s\n' "${jobs[@]}" | xargs -P 2 -L 1 sh -c '
  run="'"$out"'/$0-$1"
  /usr/bin/time -f "%M" -o "$run.rss" target/release/examples/bench_curtois "'"$out"'/$0.txt" "$1" 1 "$run.csv" 1 > "$run.json" 2>/dev/null
  python3 "'"$bench"'/nrp_eval.py" "'"$out"'/$0.txt" "$run.csv" > "$run.eval" || true
'

python3 - "$out" "$seeds" <<'PY'
import glob, json, os, sys
out, seeds = sys.argv[1], int(sys.argv[2])
runs = {}
for path in glob.glob(f"{out}/*.json"):
    name, limit = os.path.basename(path)[:-5].rsplit("-", 1)
    run = json.load(open(path))
    ev = json.load(open(path[:-5] + ".eval"))
    rss = int(open(path[:-5] + ".rss").read().split()[-1]) // 1024
    runs.setdefault(name, {})[int(limit)] = (ev["hard_violations"], ev["penalty"], run, rss)
print("| instance (weeks-staff-types-seed) | first contract-keeping roster | at 10 s | at 60 s | best of all runs | gap at 10 s | gap at 60 s | longest answer at 10 s / 60 s | peak memory |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for name in sorted(runs, key=lambda n: [int(x) for x in n[1:].replace("s", "").split("-")]):
    r = runs[name]
    kept = [p for (h, p, _, _) in r.values() if h == 0]
    best = min(kept) if kept else None
    def cell(limit):
        if limit not in r: return "none"
        h, p, _, _ = r[limit]
        return f"{p}" if h == 0 else f"{p} ({h} hard)"
    def gap(limit):
        if limit not in r or best is None or r[limit][0] > 0: return "none"
        return f"{100 * (r[limit][1] - best) / best:+.1f}%"
    first = r.get(10, (0, 0, {}, 0))[2].get("first_keeping_ms")
    answers = " / ".join(f"{r[l][2].get('solve_ms', 0) / 1000:.2f} s" for l in (10, 60) if l in r)
    rss = max(v[3] for v in r.values())
    print(f"| {name[1:]} | {first} ms | {cell(10)} | {cell(60)} | {best} | {gap(10)} | {gap(60)} | {answers} | {rss} MB |")
PY
