"""Real documents: each PDF's read + parse time against the same document as HWP or HWPX, side by side.

``python -m bench.speed.real_docs_pdf [--repeat N]`` takes every PDF of ``tests/fixtures/real/`` that the
manifest pairs with another file of the same document (``same_document_as``), reads and parses both as
``advisory parse`` does, in turn, ``--repeat`` times each (default 5), and keeps each one's best wall time and
best CPU time. Both files of a pair are timed in this one process, one after the other, so their ratio is
taken on the same machine under the same load. The documents are not distributed with the project
(``tests/fixtures/real/README.md`` says how to fetch them); each is checked against the manifest's SHA-256.
A second table times the command a researcher runs, ``advisory parse FILE --out units.csv``, each in a fresh
process (interpreter start and imports included: what the issue's 0.7 s for a 37-page HWP measured), best of
``--repeat`` wall and CPU seconds from the child's own rusage.
Goal (issue 22): a multi-page PDF within 3x the time of the same document as HWP.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.lib.real_docs import FOLDER, available, read_and_parse
from bench.lib.results import Recorder, add_output_options
from bench.lib.runner import run_child
from bench.lib.tables import Column, figure, table, text


def timed(path, repeat: int) -> tuple[float, float, int]:
    """Best wall seconds, best CPU seconds of reading and parsing ``path`` ``repeat`` times, and its pages."""
    wall = cpu = float("inf")
    pages = 0
    for _ in range(repeat):
        started = time.process_time()
        reading = read_and_parse(path)
        cpu = min(cpu, time.process_time() - started)
        wall, pages = min(wall, reading.seconds), reading.pages
    return wall, cpu, pages


def command_timed(path: Path, repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds of ``advisory parse path --out units.csv`` in a fresh process, ``repeat`` times."""
    wall = cpu = float("inf")
    with tempfile.TemporaryDirectory() as work:
        out = Path(work)
        cmd = [sys.executable, "-m", "pipeline.cli", "parse", str(path), "--out", str(out / "units.csv"), "--quiet"]
        for _ in range(repeat):
            child = run_child(cmd, out / "parse.log", timeout_s=600, mem_limit_gb=8)
            if not child.ok:
                raise SystemExit(f"advisory parse {path.name} failed: {child.failure}")
            wall, cpu = min(wall, child.wall_s), min(cpu, child.cpu_s)
    return wall, cpu


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: time every PDF against the same document's other file; record block ``real-docs-pdf``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="readings of each file (the best counts)")
    add_output_options(ap)
    args = ap.parse_args(argv)
    recorder = Recorder(__spec__.name, args, argv)
    present, absent = available()
    here = {row["file"] for row in present}
    pairs = [(row["file"], row["same_document_as"]) for row in present
             if row["file"].endswith(".pdf") and row["same_document_as"] in here]
    if not pairs:
        raise SystemExit(f"no PDF with its HWP in {FOLDER}: tests/fixtures/real/README.md says how to fetch them")
    rows = []
    for pdf, other in pairs:
        pdf_wall, pdf_cpu, pages = timed(FOLDER / pdf, args.repeat)
        other_wall, other_cpu, _ = timed(FOLDER / other, args.repeat)
        rows.append([pdf, pages, pdf_wall, pdf_cpu, other, other_wall, other_cpu, pdf_wall / other_wall,
                     pdf_cpu / other_cpu])
    rows.sort(key=lambda r: -r[1])
    columns = [Column("PDF"), figure("pages", "{:,}"), figure("seconds", "{:.3f}"), figure("CPU s", "{:.3f}"),
               Column("same document"), figure("seconds", "{:.3f}"), figure("CPU s", "{:.3f}"),
               figure("PDF / other (wall)", "{:.2f}"), figure("PDF / other (CPU)", "{:.2f}")]
    multi = [r for r in rows if r[1] > 1]
    longest = rows[0]
    verdict = (f"Best of {args.repeat} read + parse each; load average before the run "
               f"{recorder.stamp['load_before']:.1f}. The longest PDF ({longest[0]}, {longest[1]} pages) takes "
               f"{longest[7]:.2f}x the wall time of its {longest[4]} (goal <= 3)")
    verdict += f"; multi-page PDFs: {min(r[7] for r in multi):.2f}-{max(r[7] for r in multi):.2f}x." if multi else "."
    if absent:
        verdict += f" Not here, so not timed: {', '.join(sorted(set(absent)))}."
    recorder.record("real-docs-pdf", "PDF against the same document as HWP: read + parse time",
                    [table(columns, rows), text(verdict)])
    commands = []
    for pdf, other in pairs:
        pdf_wall, pdf_cpu = command_timed(FOLDER / pdf, args.repeat)
        other_wall, other_cpu = command_timed(FOLDER / other, args.repeat)
        pages = next(r[1] for r in rows if r[0] == pdf)
        commands.append([pdf, pages, pdf_wall, pdf_cpu, other, other_wall, other_cpu, pdf_wall / other_wall,
                         pdf_cpu / other_cpu])
    commands.sort(key=lambda r: -r[1])
    said = (f"`advisory parse FILE --out units.csv`, each run a fresh process, best of {args.repeat}. The longest "
            f"PDF ({commands[0][0]}) takes {commands[0][7]:.2f}x the wall time of its {commands[0][4]} (goal <= 3).")
    recorder.record("real-docs-pdf-command", "PDF against the same document as HWP: the parse command",
                    [table(columns, commands), text(said)])


if __name__ == "__main__":
    main()
