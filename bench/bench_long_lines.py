"""Linear-time check of reading and parsing: seconds per MB of the bundled round vs a long file.

``python bench/bench_long_lines.py [N_LINES]`` (default 10,000,000) writes one recommendation hard-
wrapped over N_LINES short lines (the worst case for joining wrapped lines: every line is appended
to the same unit) and times ``load_units`` (read, normalise, parse, map programs) on it and on the
bundled round. The goal (issue 13): the long file's seconds per MB within 2x of the bundled round's.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.read.rounds import load_units  # noqa: E402

SEED = ROOT / "corpus" / "rounds" / "000_95284008f5259e47.txt"
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


def main() -> None:
    n_lines = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    seed_cpu, seed_wall, seed_units = seconds_per_mb(SEED, repeat=20)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.txt"
        with path.open("w", encoding="utf-8") as out:
            out.write("□ ○○○ 위원\nㅇ ")
            for _ in range(n_lines // 100_000):
                out.write(LINE * 100_000)
        mb = path.stat().st_size / 1e6
        long_cpu, long_wall, long_units = seconds_per_mb(path, repeat=1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bundled round: {SEED.stat().st_size / 1e6:.3f} MB, {seed_units} units, "
          f"CPU {seed_cpu:.3f} s/MB, wall {seed_wall:.3f} s/MB")
    print(f"{n_lines:,} wrapped lines: {mb:.1f} MB, {long_units} unit, CPU {long_cpu:.3f} s/MB "
          f"({mb * long_cpu:.1f} s), {long_cpu / seed_cpu:.2f}x the bundled round's; "
          f"wall {long_wall:.3f} s/MB ({long_wall / seed_wall:.2f}x); peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
