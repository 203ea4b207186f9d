"""Parse benchmark: MB/s and units/s of the structure parser (and the txt reader) on one core.

``python -m bench.speed.parse [N_UNITS]`` (default 10,000) generates a synthetic round with
``bench.lib.synth``, then times reading and parsing it (best of 3). The goal is >= 5 MB/s of text.
The table is block ``parse`` of ``bench/results/parse.json``; ``make bench`` runs this study.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.lib.synth import synth_round, synthetic_study
from bench.lib.tables import Column, figure, table, text
from pipeline.read.documents import read_document
from pipeline.read.parser import StructureParser
from pipeline.read.programs import ProgramMapper, ProgramRegistry


def best_of(fn, repeat: int = 3) -> tuple[tuple[float, float], object]:
    """Best wall and best CPU seconds of ``repeat`` calls, and the last result.

    CPU seconds are beside wall time because on a shared machine wall time mostly measures the others
    (the stages are single-threaded, so on an idle machine the two agree).
    """
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return (wall, cpu), result


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: time read, parse and program mapping of a synthetic round; record the table."""
    args, recorder = synthetic_study(__spec__.name, __doc__.splitlines()[0], argv)
    n = args.n_units
    round_text = synth_round(n, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.txt"
        path.write_text(round_text, encoding="utf-8")
        mb = path.stat().st_size / 1e6
        t_read, doc = best_of(lambda: read_document(path))
        parser = StructureParser()
        t_parse, parsed = best_of(lambda: parser.parse(doc))
        mapper = ProgramMapper(ProgramRegistry.load())
        t_map, _ = best_of(lambda: mapper.transform(list(parsed.units)))
    units = len(parsed.units)
    assert units == n, f"synthetic round of {n} units parsed into {units}"
    total = (t_read[0] + t_parse[0] + t_map[0], t_read[1] + t_parse[1] + t_map[1])
    rows = [[name, wall, mb / wall, units / wall, cpu, mb / cpu] for name, (wall, cpu) in (
        ("read (txt)", t_read), ("parse", t_parse), ("map programs", t_map), ("all three", total))]
    columns = [Column("stage"), figure("seconds", "{:.3f}"), figure("MB/s", "{:.1f}"), figure("units/s", "{:,.0f}"),
               figure("CPU s", "{:.3f}"), figure("MB/s of CPU time", "{:.1f}")]
    recorder.record("parse", "Read and parse a synthetic round (one core, best of 3)", [
        text(f"Synthetic round: {n:,} units, {mb:.2f} MB, {len(doc.lines):,} lines; load average before the run "
             f"{recorder.stamp['load_before']:.1f}."), table(columns, rows),
        text("Goal: >= 5 MB/s of text.")])


if __name__ == "__main__":
    main()
