"""``advisory archive trends``: the trend tables of an archive as CSV (UTF-8 BOM), ``trends.png`` and one offline
``report.html``, written into a staging folder swapped in at the end, so a failure leaves no half-written
folder (:data:`TRENDS_FOLDER` says which folder may be replaced)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pipeline.archive.db import DEFAULT_WAIT, open_archive
from pipeline.archive.report import render_trends_report
from pipeline.archive.trendtables import cell_units, trend_tables, units_per_cell
from pipeline.core.atomic import FolderKind, replacing
from pipeline.core.errors import InputError
from pipeline.runfolder.plots import share_lines
from pipeline.runfolder.schema import write_csv

#: What ``trends --out`` may replace: an earlier trends folder.
TRENDS_FOLDER = FolderKind("이전 추이 폴더", "theme_by_round.csv")


def _legend_labels(themes: pd.DataFrame) -> list[str]:
    """Each theme's label, with its id where another theme has the same label."""
    counts = themes["theme_label"].value_counts()
    return [f"{label} ({theme_id})" if counts[label] > 1 else label
            for theme_id, label in zip(themes["theme_id"], themes["theme_label"], strict=True)]


def write_trends(archive: str | os.PathLike, out_dir: str | os.PathLike, *, wait: float = DEFAULT_WAIT) -> Path:
    """Write the trend CSVs, ``trends.png`` and ``report.html`` of an archive into ``out_dir``; returns it."""
    with open_archive(archive, wait=wait) as con:
        tables = trend_tables(con)
        per_cell = units_per_cell(len(tables.rounds), len(tables.themes))
        units = cell_units(con, per_cell)
    if tables.rounds.empty:
        raise InputError(str(archive), "보관소에 아직 회차가 없습니다")

    def write(folder: Path) -> None:
        write_csv(tables.theme_by_round, folder / "theme_by_round.csv")
        write_csv(tables.program_by_round, folder / "program_by_round.csv")
        write_csv(tables.theme_program_by_round, folder / "theme_program_by_round.csv")
        write_csv(tables.new_themes, folder / "new_themes.csv")
        # On theme ids: two models may give different themes the same label.
        shares = tables.theme_by_round.pivot(index="round_name", columns="theme_id", values="share")
        shares = shares.loc[list(tables.rounds["round_name"]), list(tables.themes["theme_id"])]
        shares.columns = _legend_labels(tables.themes)
        share_lines(shares, tables.rounds["small_round"].astype(bool).tolist(), folder / "trends.png")
        (folder / "report.html").write_text(render_trends_report(tables, units, per_cell,
                                                                                Path(archive).name),
                                            encoding="utf-8", newline="\n")

    with replacing([TRENDS_FOLDER.target(out_dir)]) as (staging,):
        write(staging)
    return Path(out_dir)
