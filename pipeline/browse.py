"""Open a run folder and slice it: what the notebooks call to browse themes.

``load_run(dir)`` reads the CONTRACT files of a run folder into pandas; ``filter_units``
narrows the units the way the HTML report's filters do; ``theme_card`` gathers what a
researcher reads about one theme (keywords, quotes, members, programs); ``find_folder`` is how a
notebook finds the project's run folder or model wherever Jupyter was started.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

# Re-exported: the notebooks open runs through this module.
from pipeline.runfolder import RunFolder, load_run, read_recommendations

__all__ = ["RunFolder", "filter_units", "find_folder", "load_run", "read_recommendations", "theme_card"]


def find_folder(name: str | Path, env: str | None = None, start: str | Path | None = None) -> Path:
    """Where a notebook finds ``name`` (``outputs``, ``models/seed``, a file): ``$env`` when that is set,
    else ``name`` in ``start`` (default: the working folder) or the nearest of its parents that has it.
    A ``name`` not there yet (a results folder to write, ``outputs/new_round``) goes under the nearest
    folder that has its first part (``outputs``), else under ``start``.

    A notebook opened from ``notebooks/``, from the project folder or from a folder below it finds the
    same ``outputs/``; ``advisory run`` writes ``./outputs`` wherever it is run.
    """
    if env and os.environ.get(env):
        return Path(os.environ[env])
    here = Path(start or Path.cwd()).resolve()
    name = Path(name)
    folders = (here, *here.parents)
    found = next((f for f in folders if (f / name).exists()), None)
    found = found or next((f for f in folders if (f / name.parts[0]).is_dir()), here)
    return found / name


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
