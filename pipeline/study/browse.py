"""Open a run folder and slice it: what the notebooks call to browse themes.

``load_run(dir)`` reads a run folder (:mod:`pipeline.runfolder.folder`); ``filter_units`` narrows the
units the way the HTML report's filters do; ``theme_card`` is the card the run saved for one theme
(keywords, representative units, members, programs) and ``quotes`` its representative texts;
``find_folder`` is how a notebook finds the project's run folder or model wherever Jupyter was started.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

# Re-exported: the notebooks open runs through this module.
from pipeline.core.records import ThemeCard
from pipeline.runfolder.folder import RunFolder, load_run, read_recommendations

__all__ = ["RunFolder", "filter_units", "find_folder", "load_run", "quotes", "read_recommendations", "theme_card"]


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


def theme_card(run: RunFolder, theme: str) -> ThemeCard:
    """The card of one theme (id or label) as the run saved it: label, size, keywords, representative
    units, members and the program codes its units cite (:class:`~pipeline.core.records.ThemeCard`).

    Raises ``KeyError`` when the run has no such theme.
    """
    for card in run.theme_cards:
        if theme in (card.theme_id, card.label):
            return card
    raise KeyError(f"{run.path}에 {theme!r} 주제가 없습니다")


def quotes(run: RunFolder, card: ThemeCard) -> list[str]:
    """The texts of a card's representative units, most typical first."""
    texts = dict(zip(run.recommendations["rec_id"], run.recommendations["text"], strict=True))
    return [texts[r] for r in card.representative_rec_ids if r in texts]
