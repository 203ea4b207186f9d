"""Parse benchmark: MB/s and units/s of the structure parser (and the txt reader) on one core.

``python bench/bench_parse.py [N_UNITS]`` (default 10,000) generates a synthetic round with
``bench/synth.py``, then times reading and parsing it. The goal is >= 5 MB/s of text.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synth import synth_round  # noqa: E402

from pipeline.read.documents import read_document  # noqa: E402
from pipeline.read.parser import StructureParser  # noqa: E402
from pipeline.read.programs import ProgramMapper, ProgramRegistry  # noqa: E402


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    text = synth_round(n, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.txt"
        path.write_text(text, encoding="utf-8")
        mb = path.stat().st_size / 1e6
        t_read, doc = best_of(lambda: read_document(path))
        parser = StructureParser()
        t_parse, parsed = best_of(lambda: parser.parse(doc))
        mapper = ProgramMapper(ProgramRegistry.load())
        t_map, _ = best_of(lambda: mapper.transform(list(parsed.units)))
    units = len(parsed.units)
    assert units == n, f"synthetic round of {n} units parsed into {units}"
    print(f"synthetic round: {n} units, {mb:.2f} MB, {len(doc.lines)} lines")
    print(f"{'stage':<16}{'seconds':>10}{'MB/s':>10}{'units/s':>12}")
    for name, t in (("read (txt)", t_read), ("parse", t_parse), ("map programs", t_map),
                    ("all three", t_read + t_parse + t_map)):
        print(f"{name:<16}{t:>10.3f}{mb / t:>10.1f}{units / t:>12,.0f}")


if __name__ == "__main__":
    main()
