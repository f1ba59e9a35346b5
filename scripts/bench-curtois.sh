#!/usr/bin/env bash
# The published yardstick: Curtois & Qu shift scheduling instances 1-12 solved by parota's roster
# solver core (scripts/bench/bench_curtois.rs) and by OR-Tools CP-SAT (the peer), on this machine.
#
# parota: 5 seeds per instance, each run once with a 10 s limit and once with 60 s (the solver
# shares out its time by its limit, so a 60 s run's roster at 10 s is not what a 10 s run gives).
# THREADS (default 2, as CP-SAT's workers) searches per run, a portfolio of seeds whose best
# roster wins (`solve_portfolio`), so one run at a time on this 2-core machine; THREADS=1 runs
# one search per run, two runs at a time. Every roster is checked by the independent evaluator,
# nrp_eval.py, and the figures are the evaluator's.
# CP-SAT: 2 workers, 60 s, one run per instance, alone on the machine; it reports its objective
# at 10 s and at the end. Needs the instances beside the project (../shared/bench/curtois) and
# PyPI for OR-Tools (installed once into .venv-ort); the peer's figures in target/bench-curtois
# are reused unless PEER_AGAIN=1 (NO_PEER=1 skips the peer). Prints a table for the README.
#
#   scripts/bench-curtois.sh [instances...]   (default 1-12; SECONDS_LIMIT=60, SEEDS=5, THREADS=2)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=../shared/bench/curtois
limit="${SECONDS_LIMIT:-60}"
short="${SHORT_LIMIT:-10}"
seeds="${SEEDS:-5}"
threads="${THREADS:-2}"
at_once=$(( $(nproc) / threads ))
[ "$at_once" -ge 1 ] || at_once=1
instances=("$@")
[ ${#instances[@]} -eq 0 ] && instances=(1 2 3 4 5 6 7 8 9 10 11 12)
out=target/bench-curtois
mkdir -p "$out"

cargo build --release --quiet --example bench_curtois
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); parota threads per run: $threads"

jobs=()
for i in "${instances[@]}"; do
  for seed in $(seq 1 "$seeds"); do
    jobs+=("$i $seed $limit" "$i $seed $short")
  done
done
# Run k's searches take seeds (k-1)*threads+1 onwards: no two runs share a search.
printf '%s\n' "${jobs[@]}" | xargs -P "$at_once" -L 1 sh -c '
  run="'"$out"'/parota-$0-$1-$2"
  target/release/examples/bench_curtois "'"$bench"'/Instance$0.txt" "$2" $(( ($1 - 1) * '"$threads"' + 1 )) "$run.csv" '"$threads"' > "$run.json"
  python3 "'"$bench"'/nrp_eval.py" "'"$bench"'/Instance$0.txt" "$run.csv" > "$run.eval" || true
'

# NO_PEER=1: parota only (the table leaves CP-SAT's columns as none where no figures are kept).
if [ -n "${NO_PEER:-}" ]; then instances_for_peer=(); else instances_for_peer=("${instances[@]}"); fi
if [ ${#instances_for_peer[@]} -gt 0 ] && [ ! -x .venv-ort/bin/python ]; then
  python3 -m venv .venv-ort
  .venv-ort/bin/pip install --quiet ortools
fi
for i in "${instances_for_peer[@]}"; do
  # The peer does not change with parota's code: an earlier run's figures stand unless asked.
  if [ -s "$out/cpsat-$i.json" ] && [ -z "${PEER_AGAIN:-}" ]; then continue; fi
  .venv-ort/bin/python "$bench/cpsat_peer.py" "$bench/Instance$i.txt" "$limit" 2 "$out/cpsat-$i.csv" > "$out/cpsat-$i.json" || true
done

python3 - "$out" "$bench" "$seeds" "$short" "$limit" "${instances[@]}" <<'PY'
import csv, json, statistics, sys
out, bench, seeds, short, limit, instances = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6:]
best = {r['instance']: int(r['best_known_ub']) for r in csv.DictReader(open(f'{bench}/best_known.csv'))}
print('| instance | best known | parota %s s (median of %d) | parota %s s (median) | gap at %s s | all pass nrp_eval | CP-SAT 10 s | CP-SAT 60 s |' % (short, seeds, limit, limit))
print('| --- | --- | --- | --- | --- | --- | --- | --- |')
for i in instances:
    evals = lambda secs: [json.loads(open(f'{out}/parota-{i}-{s}-{secs}.eval').read()) for s in range(1, seeds + 1)]
    objective = lambda es: [e['penalty'] if e['hard_violations'] == 0 else None for e in es]
    ten, fin = objective(evals(short)), objective(evals(limit))
    ok = all(e['hard_violations'] == 0 for e in evals(short) + evals(limit))
    m = lambda xs: statistics.median(xs) if all(x is not None for x in xs) else None
    m10, m60 = m(ten), m(fin)
    b = best[f'Instance{i}']
    gap = f'{(m60 - b) / b * 100:.1f}%' if m60 is not None else 'n/a'
    try:
        peer = json.load(open(f'{out}/cpsat-{i}.json'))
    except Exception:
        peer = {}
    p10 = peer.get('obj_at_10s')
    p60 = peer.get('objective')
    fmt = lambda v: 'none' if v is None else f'{v:g}'
    print(f'| {i} | {b} | {fmt(m10)} ({", ".join(fmt(x) for x in ten)}) | {fmt(m60)} ({", ".join(fmt(x) for x in fin)}) | {gap} | {"yes" if ok else "NO"} | {fmt(p10)} | {fmt(p60)} |')
PY
