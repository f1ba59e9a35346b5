"""How deep a Curtois roster's local optimum is: CP-SAT re-decides part of it exactly, the rest fixed.

    .venv-ort/bin/python scripts/curtois-exact-parts.py InstanceN.txt roster.csv workers K [samples]
    .venv-ort/bin/python scripts/curtois-exact-parts.py InstanceN.txt roster.csv days L1,L2,...

`workers K`: every choice of K nurses free (or `samples` random ones), everyone else as in the
roster. `days L`: every window of L consecutive days free for every nurse. Prints, per
neighbourhood, the choices that improve on the roster. A research aid for the solver (the
README's benchmark section quotes what it found on instance 3); needs OR-Tools, which
scripts/bench-curtois.sh installs into .venv-ort.
"""
import itertools
import os
import random
import sys

bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'bench', 'curtois')
sys.path.insert(0, bench)
from cpsat_peer import build  # noqa: E402
from nrp_eval import evaluate, read_solution  # noqa: E402
from nrp_parse import parse  # noqa: E402
from ortools.sat.python import cp_model  # noqa: E402


def best_with(whole, x, roster, free):
    """The cheapest roster with `free(e, d)` cells open and the others as in `roster`
    (`whole`, `x`: the instance's model and its variables, built once and copied here)."""
    model = whole.clone()
    for (e, d, s), v in x.items():
        if not free(e, d):
            v = model.get_bool_var_from_proto_index(v.index)
            model.add(v == (1 if roster[e][d] == s else 0))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.max_time_in_seconds = 20
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return int(solver.objective_value)
    return None


def main():
    inst = parse(sys.argv[1])
    roster, _ = read_solution(inst, sys.argv[2])
    start = evaluate(inst, roster)[1]
    whole, x = build(inst)
    print(f'roster: {start}')
    if sys.argv[3] == 'workers':
        k = int(sys.argv[4])
        choices = list(itertools.combinations(list(inst.staff), k))
        if len(sys.argv) > 5:
            random.Random(1).shuffle(choices)
            choices = choices[: int(sys.argv[5])]
        better = []
        for nurses in choices:
            found = best_with(whole, x, roster, lambda e, d: e in nurses)
            if found is not None and found < start:
                better.append((found, nurses))
        print(f'{k} nurses free, {len(choices)} choices: {len(better)} improve', sorted(better)[:10])
    else:
        for length in map(int, sys.argv[4].split(',')):
            better = []
            for first in range(inst.horizon - length + 1):
                found = best_with(whole, x, roster, lambda e, d: first <= d < first + length)
                if found is not None and found < start:
                    better.append((found, first))
            print(f'windows of {length} days: {len(better)} improve', better)


if __name__ == '__main__':
    main()
