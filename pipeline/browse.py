"""Open a run folder and slice it: what the notebooks call to browse themes.

``load_run(dir)`` reads the CONTRACT files of a run folder into pandas; ``filter_units``
narrows the units the way the HTML report's filters do; ``theme_card`` gathers what a
researcher reads about one theme (keywords, quotes, members, programs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipeline.errors import InputError

_RECOMMENDATION_COLUMNS = {"rec_id", "theme_id", "theme_label", "theme_source", "program_codes", "member", "text"}


def read_recommendations(run: str | Path) -> pd.DataFrame:
    """A run's ``recommendations.csv`` as strings (empty cells stay empty strings).

    Raises :class:`InputError` when the folder is not a run folder.
    """
    path = Path(run) / "recommendations.csv"
    if not path.is_file():
        raise InputError(str(run), "not a run folder (recommendations.csv missing)")
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
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
    themes = pd.read_csv(path / "themes.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)
    matrix = pd.read_csv(path / "theme_program_matrix.csv", encoding="utf-8-sig", index_col=[0, 1])
    info = json.loads((path / "run.json").read_text(encoding="utf-8"))
    return RunFolder(path, recs, themes, matrix, info)


def filter_units(
    recommendations: pd.DataFrame,
    program: str | None = None,
    member: str | int | None = None,
    agenda: str | None = None,
    theme: str | None = None,
    text: str | None = None,
) -> pd.DataFrame:
    """Units matching every given filter.

    ``program`` is a code (``3-3-1``, ``NL``); ``member`` a member number; ``agenda`` a substring
    of the agenda title; ``theme`` a theme id or label; ``text`` a substring of the unit text.
    """
    keep = pd.Series(True, index=recommendations.index)
    if program:
        keep &= recommendations["program_codes"].str.split(";").apply(lambda codes: program in codes)
    if member is not None and member != "":
        keep &= recommendations["member"] == str(member)
    if agenda:
        keep &= recommendations["agenda"].str.contains(agenda, regex=False)
    if theme:
        keep &= (recommendations["theme_id"] == theme) | (recommendations["theme_label"] == theme)
    if text:
        keep &= recommendations["text"].str.contains(text, regex=False)
    return recommendations[keep]


def theme_card(run: RunFolder, theme: str) -> dict:
    """What a researcher reads about one theme (id or label): label, size, keywords, quotes,
    members raising it and the program codes its units cite, most cited first."""
    rows = run.themes[(run.themes["theme_id"] == theme) | (run.themes["theme_label"] == theme)]
    if rows.empty:
        raise KeyError(f"no theme {theme!r} in {run.path}")
    row = rows.iloc[0]
    units = filter_units(run.recommendations, theme=row["theme_id"])
    by_id = run.recommendations.set_index("rec_id")["text"]
    quotes = [by_id[r] for r in row["representative_rec_ids"].split(";") if r in by_id.index]
    codes = units["program_codes"].str.split(";").explode()
    return {
        "theme_id": row["theme_id"],
        "label": row["theme_label"],
        "size": len(units),
        "keywords": row["keywords"].split(";") if row["keywords"] else [],
        "quotes": quotes,
        "members": sorted({m for m in units["member"] if m}, key=int),
        "programs": codes[codes != ""].value_counts().to_dict(),
    }
