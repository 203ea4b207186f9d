"""Round files for studies: synthetic rounds kept on disk, and a round rebuilt from units in another layout."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.lib.paths import ROOT
from bench.lib.synth import synth_round
from pipeline.core.records import Unit

# The rounds that raise concerns the codebook lacks, each with its gold coding beside it (``<stem>_gold.csv``):
# the new-theme studies' held-back rounds (``bench.quality.loto``, ``bench.quality.recurring``).
NEW_ROUNDS = {
    "new_concerns": ROOT / "tests" / "fixtures" / "new_concerns_round.txt",
    "new_concerns_press": ROOT / "tests" / "fixtures" / "new_concerns_press.txt",
    # Written after the rule was fixed, as rounds of other committees and layouts (tests/test_workflow_new_themes.py).
    "new_concerns_nextlocal": ROOT / "tests" / "fixtures" / "new_concerns_nextlocal.txt",
    "new_concerns_outline": ROOT / "tests" / "fixtures" / "new_concerns_outline.txt",
    # Written by helpers who never saw the code nor ran the tool (bench/rounds/blind/README.md).
    **{f"blind_{name}": ROOT / "bench" / "rounds" / "blind" / f"round_{name}.txt"
       for name in ("a1", "a2", "b1", "b2", "c1", "c2", "c3")},
}


def synthetic_round(work: Path, n_units: int, seed: int = 0) -> Path:
    """The synthetic round of ``n_units`` (made once, then reused from ``work/rounds``)."""
    path = work / "rounds" / f"synthetic_{n_units}_s{seed}.txt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(synth_round(n_units, seed), encoding="utf-8")
    return path


def embedded_texts(paths: Sequence[Path]) -> list[str]:
    """The distinct passage texts the pipeline embeds for the units of ``paths`` (headings and unit texts)."""
    from pipeline.features.embedders import unit_passages
    from pipeline.read.rounds import load_units

    return unit_passages(load_units(paths))


def paragraphs(units: list[Unit], mark: str = "") -> str:
    """One paragraph per unit (its text on one line, after ``mark``), separated by blank lines."""
    return "\n\n".join(f"{mark}{' '.join(u.text.split())}" for u in units) + "\n"


def parse_text(text: str, name: str) -> list[Unit]:
    """Units of a round given as text (written to a temporary file named ``name`` and parsed)."""
    from pipeline.read.rounds import load_units

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        return load_units([path])
