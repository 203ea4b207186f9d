"""Where the benchmarks live and write: the checkout, scratch space and the committed results."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
# Rounds, run folders, caches and logs: large, machine-specific, ignored by git.
OUT = BENCH / "out"
# One JSON file per study, committed: the figures behind bench/README.md's tables.
RESULTS = BENCH / "results"
README = BENCH / "README.md"
