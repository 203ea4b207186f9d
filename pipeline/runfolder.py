"""The run folder's layout, the rule for where a run may be written, and reading one back.

A run folder (CONTRACT.md, "Run folder") is written by :func:`pipeline.exporters.write_run`
through :mod:`pipeline.atomic`, and read by the notebooks, ``compare`` and ``evaluate`` through
:func:`load_run` / :func:`read_recommendations`. ``--out`` may be a new folder, an empty one, or
an earlier run folder, which is replaced as a whole (:func:`refusal`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.cells import from_csv_text
from pipeline.errors import InputError

RUN_FILES: tuple[str, ...] = (
    "recommendations.csv", "recommendations.parquet", "themes.csv", "theme_program_matrix.csv",
    "theme_program_matrix.xlsx", "heatmap.png", "heatmap.svg", "report.html", "summary.md", "run.json",
)
# The repository's placeholder in outputs/: it counts as empty, and a new run folder keeps it.
PLACEHOLDER = ".gitkeep"
_RECOMMENDATION_COLUMNS = {"rec_id", "theme_id", "theme_label", "theme_source", "program_codes", "member", "text"}


def refusal(folder: Path) -> str | None:
    """Why ``folder`` (which exists) may not be replaced by a run folder; ``None`` when it may.

    It may when it is empty (a ``.gitkeep`` aside) or an earlier run folder: it has ``run.json``
    and nothing that a run does not write, so replacing it loses nothing a run did not make.
    """
    entries = sorted(p.name for p in folder.iterdir() if p.name != PLACEHOLDER)
    if not entries:
        return None
    if "run.json" not in entries:
        return "is not empty and is not an earlier run folder (no run.json); choose a new or empty folder"
    foreign = [name for name in entries if name not in RUN_FILES]
    if foreign:
        return (f"is an earlier run folder but also holds {foreign[0]!r}, which a run does not write; "
                "move it away or choose another folder")
    return None


def read_recommendations(run: str | Path) -> pd.DataFrame:
    """A run's ``recommendations.csv`` as strings (empty cells stay empty strings).

    Raises :class:`InputError` when the folder is not a run folder.
    """
    path = Path(run) / "recommendations.csv"
    if not path.is_file():
        raise InputError(str(run), "not a run folder (recommendations.csv missing)")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False).map(from_csv_text)
    missing = _RECOMMENDATION_COLUMNS - set(frame.columns)
    if missing:
        raise InputError(str(path), f"missing columns: {', '.join(sorted(missing))}")
    return frame


@dataclass(frozen=True)
class RunFolder:
    """A loaded run folder: units with themes, theme table, theme × program matrix, run.json."""

    path: Path
    recommendations: pd.DataFrame
    themes: pd.DataFrame
    matrix: pd.DataFrame
    info: dict

    @property
    def heatmap(self) -> Path:
        return self.path / "heatmap.png"


def load_run(run: str | Path) -> RunFolder:
    """Read a run folder written by ``advisory run`` or ``advisory assign``."""
    path = Path(run)
    recs = read_recommendations(path)
    themes = pd.read_csv(path / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False).map(from_csv_text)
    matrix = pd.read_csv(path / "theme_program_matrix.csv", encoding="utf-8-sig", index_col=[0, 1])
    info = json.loads((path / "run.json").read_text(encoding="utf-8"))
    return RunFolder(path, recs, themes, matrix, info)
