"""Linear-time check of reading and parsing: seconds per MB of the bundled round vs a long file.

``python -m bench.safety.long_lines [N_LINES ...]`` (default 10,000,000) writes one recommendation
hard-wrapped over N_LINES short lines (the worst case for joining wrapped lines: every line is appended
to the same unit) and times ``load_units`` (read, normalise, parse, map programs) on it and on the
bundled round; several N_LINES are measured in turn, smallest first, in this one process (peak RSS is the
process's peak so far). The goal (issue 13): the long file's seconds per MB within 2x of the bundled
round's. The table is block ``long-lines`` of ``bench/results/long_lines.json``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.lib.results import Recorder, add_output_options
from bench.lib.tables import Column, cell, table, text
from pipeline.core.paths import DEFAULT_ROUND as SEED
from pipeline.read.rounds import load_units

# A wrapped line of the seed's own kind: Korean words with a trailing space before the wrap.
LINE = "상생 교류 사업 \n"


def seconds_per_mb(path: Path, repeat: int) -> tuple[float, float, int]:
    """Best of ``repeat`` runs of load_units on ``path``: CPU and wall seconds per MB, number of units.

    CPU seconds are the figure to compare: on a shared machine wall time mostly measures the others.
    """
    cpu, wall, units = float("inf"), float("inf"), 0
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        units = len(load_units([path]))
        cpu = min(cpu, time.process_time() - started_cpu)
        wall = min(wall, time.perf_counter() - started)
    mb = path.stat().st_size / 1e6
    return cpu / mb, wall / mb, units


def write_wrapped(path: Path, n_lines: int) -> None:
    """One recommendation hard-wrapped over ``n_lines`` lines, written in blocks of 100,000 lines."""
    with path.open("w", encoding="utf-8") as out:
        out.write("□ ○○○ 위원\nㅇ ")
        for _ in range(n_lines // 100_000):
            out.write(LINE * 100_000)
        out.write(LINE * (n_lines % 100_000))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n_lines", type=int, nargs="*", default=[10_000_000], help="wrapped lines (default 10,000,000)")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    seed_cpu, seed_wall, seed_units = seconds_per_mb(SEED, repeat=20)
    seed_mb = SEED.stat().st_size / 1e6
    print(f"bundled round: {seed_mb:.3f} MB, {seed_units} units, CPU {seed_cpu:.3f} s/MB, wall {seed_wall:.3f} s/MB")
    rows = [["bundled round (best of 20)", cell(seed_mb, "{:.3f}"), seed_cpu, cell(1, "{}"), seed_wall, cell(1, "{}"),
             None]]
    notes = []
    for n_lines in sorted(args.n_lines):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "long.txt"
            write_wrapped(path, n_lines)
            mb = path.stat().st_size / 1e6
            long_cpu, long_wall, long_units = seconds_per_mb(path, repeat=1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append([f"{n_lines:,} wrapped lines", mb, long_cpu, long_cpu / seed_cpu, long_wall, long_wall / seed_wall,
                     peak])
        notes.append(f"{n_lines:,} lines: {long_units} unit, {mb * long_cpu:.1f} CPU s in all.")
    columns = [Column("file"), Column("MB", "{:.1f}"), Column("CPU s/MB", "{:.3f}"),
               Column("x bundled round (CPU)", "{:.2f}"), Column("wall s/MB", "{:.3f}"),
               Column("x bundled round (wall)", "{:.2f}"), Column("peak RSS MB", "{:,.0f}")]
    recorder.record("long-lines", "Seconds per MB of load_units on one recommendation wrapped over many lines",
                    [table(columns, rows), text(" ".join(notes) + " Goal: within 2x of the bundled round's CPU s/MB.")])


if __name__ == "__main__":
    main()
