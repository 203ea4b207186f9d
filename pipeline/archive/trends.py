"""``advisory archive trends`` and ``archive export``: what the archive of rounds hands to researchers.

:func:`trend_tables` computes, in SQL over the archive, the theme × round, program × round and
theme × program × round counts with each round's unit count ``n_units`` and the share
``count / n_units``, and each round's new-theme candidates (``new_themes.csv``: a candidate is a theme
of its own round, keyed ``<id>@<round>`` in the trend tables and labelled with its round, so its row
shows the round the concern first appeared in); a round under
:data:`~pipeline.archive.rounds.SMALL_ROUND` units is flagged ``small_round`` (its shares swing with a
single unit). :func:`write_trends` writes them as CSV (UTF-8 BOM), ``trends.png`` and one offline
``report.html``; :func:`export_tables` writes every table as Parquet. Both write into a temporary
folder swapped in at the end, so a failure leaves no half-written folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pipeline.archive.db import DEFAULT_WAIT, TABLES, open_archive
from pipeline.archive.html import render_trends_report
from pipeline.archive.rounds import SMALL_ROUND, TrendTables
from pipeline.core.atomic import FolderKind, replacing
from pipeline.core.errors import InputError
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL
from pipeline.runfolder.plots import share_lines
from pipeline.runfolder.schema import write_csv
from pipeline.runfolder.tables import sort_program_codes
from pipeline.themes.openset import NEW_THEME_PREFIX

# The report lists every unit of a cell unless the page would hold more than UNITS_IN_REPORT units
# (a 100k-unit archive would make a page no browser opens comfortably); then each cell lists its first
# units, at least MIN_UNITS_PER_CELL, and the rest are one SQL query away.
UNITS_IN_REPORT = 20_000
MIN_UNITS_PER_CELL = 10
# A new-theme candidate is a theme of its round only (new_theme_01 of two rounds are two concerns), so
# the trend tables key it by id and round, and label it with its round: the row shows when it appeared.
_CANDIDATE = f"theme_source = 'discovered' AND starts_with(theme_id, '{NEW_THEME_PREFIX}')"
_THEME_KEY = (f"CASE WHEN theme_source = '{UNASSIGNED_ID}' OR coalesce(theme_id, '') = '' "
              f"THEN '{UNASSIGNED_ID}' WHEN {_CANDIDATE} THEN theme_id || '@' || round_name ELSE theme_id END")
#: What ``trends --out`` and ``export --out`` may replace: an earlier folder of the same command.
TRENDS_FOLDER = FolderKind("an earlier trends folder", "theme_by_round.csv")
EXPORT_FOLDER = FolderKind("an earlier export folder", "units.parquet")
_THEME_LABEL = f"CASE WHEN {_CANDIDATE} THEN theme_label || ' (' || round_name || ')' ELSE theme_label END"


def _with_rounds(counts: pd.DataFrame, rounds: pd.DataFrame, keys: list[str], order: dict[str, list]) -> pd.DataFrame:
    """``counts`` joined to the rounds (n_units, share, small_round), sorted by round then by ``order``."""
    frame = rounds.merge(counts, on="round_name", how="inner")
    frame["count"] = frame["count"].astype("int64")
    frame["share"] = (frame["count"] / frame["n_units"].where(frame["n_units"] > 0)).round(4).fillna(0.0)
    frame["_r"] = frame["round_name"].map({name: i for i, name in enumerate(rounds["round_name"])})
    sort = ["_r"]
    for key in keys:
        frame[f"_{key}"] = frame[key].map({v: i for i, v in enumerate(order[key])})
        sort.append(f"_{key}")
    frame = frame.sort_values(sort, kind="stable").drop(columns=[c for c in frame.columns if c.startswith("_")])
    return frame[["round_name", "round_date", "n_units", "small_round", *keys,
                  *(["theme_label"] if "theme_id" in keys else []), "count", "share"]].reset_index(drop=True)


def trend_tables(con) -> TrendTables:
    """Theme, program and theme × program counts and shares per round, from an open archive.

    Themes are ordered by total units (most first; ``unassigned``/미분류 last) and carry the label
    of the latest round using them; programs in code order, ``NL`` last. ``theme_by_round`` and
    ``program_by_round`` list every (round, theme/program) pair, zeros included;
    ``theme_program_by_round`` only the nonzero ones.
    """
    rounds = con.execute("SELECT round_name, round_date, n_units FROM rounds "
                         "ORDER BY round_date NULLS LAST, position").df()
    rounds["round_date"] = ["" if pd.isna(d) else pd.Timestamp(d).date().isoformat() for d in rounds["round_date"]]
    rounds["small_round"] = (rounds["n_units"] < SMALL_ROUND).astype("int64")
    theme_counts = con.execute(f"SELECT round_name, {_THEME_KEY} AS theme_id, count(*) AS count FROM units "
                               "GROUP BY ALL").df()
    labels = dict(con.execute(
        f"SELECT {_THEME_KEY} AS key, arg_max({_THEME_LABEL}, position) FROM units JOIN rounds USING (round_name) "
        "GROUP BY key").fetchall())
    labels[UNASSIGNED_ID] = UNASSIGNED_LABEL
    totals = theme_counts.groupby("theme_id")["count"].sum()
    theme_order = sorted(totals.index, key=lambda t: (t == UNASSIGNED_ID, -totals[t], t))
    themes = pd.DataFrame({"theme_id": theme_order, "theme_label": [labels[t] or t for t in theme_order],
                           "count": [int(totals[t]) for t in theme_order]})
    codes_sql = (f"SELECT round_name, {_THEME_KEY} AS theme_id, "
                 "unnest(string_split(program_codes, ';')) AS program_code "
                 "FROM units WHERE coalesce(program_codes, '') <> ''")
    program_counts = con.execute(f"SELECT round_name, program_code, count(*) AS count FROM ({codes_sql}) "
                                 "GROUP BY ALL").df()
    pair_counts = con.execute(f"SELECT round_name, theme_id, program_code, count(*) AS count FROM ({codes_sql}) "
                              "GROUP BY ALL").df()
    codes = sort_program_codes(program_counts["program_code"])
    order = {"theme_id": theme_order, "program_code": codes}
    grid_themes = pd.MultiIndex.from_product([rounds["round_name"], theme_order], names=["round_name", "theme_id"])
    theme_grid = theme_counts.set_index(["round_name", "theme_id"]).reindex(grid_themes, fill_value=0).reset_index()
    grid_codes = pd.MultiIndex.from_product([rounds["round_name"], codes], names=["round_name", "program_code"])
    program_grid = (program_counts.set_index(["round_name", "program_code"]).reindex(grid_codes, fill_value=0)
                    .reset_index())
    by_theme = _with_rounds(theme_grid.assign(theme_label=theme_grid["theme_id"].map(dict(
        zip(themes["theme_id"], themes["theme_label"], strict=True)))), rounds, ["theme_id"], order)
    pairs = pair_counts.assign(theme_label=pair_counts["theme_id"].map(dict(
        zip(themes["theme_id"], themes["theme_label"], strict=True))))
    return TrendTables(rounds, themes, by_theme, _with_rounds(program_grid, rounds, ["program_code"], order),
                       _with_rounds(pairs, rounds, ["theme_id", "program_code"], order), _new_themes(con, rounds))


def _new_themes(con, rounds: pd.DataFrame) -> pd.DataFrame:
    """Every round's new-theme candidates in round order (then by size): ``round_name, round_date, n_units,
    theme_id, theme_label, size, share, keywords, members, program_codes`` (``themes.csv``'s columns)."""
    found = con.execute(f"SELECT round_name, theme_id, theme_label, size, keywords, members, program_codes "
                        f"FROM themes WHERE {_CANDIDATE}").df()
    frame = rounds[["round_name", "round_date", "n_units"]].merge(found, on="round_name", how="inner")
    frame["share"] = (frame["size"] / frame["n_units"].where(frame["n_units"] > 0)).round(4).fillna(0.0)
    frame["_r"] = frame["round_name"].map({name: i for i, name in enumerate(rounds["round_name"])})
    frame = frame.sort_values(["_r", "size", "theme_id"], ascending=[True, False, True], kind="stable")
    return frame[["round_name", "round_date", "n_units", "theme_id", "theme_label", "size", "share", "keywords",
                  "members", "program_codes"]].reset_index(drop=True)


def units_per_cell(n_rounds: int, n_themes: int) -> int:
    """How many units each report cell lists: all of them in a small archive, fewer in a large one."""
    return max(MIN_UNITS_PER_CELL, UNITS_IN_REPORT // max(n_rounds * n_themes, 1))


def _cell_units(con, per_cell: int) -> list[tuple]:
    """Up to ``per_cell`` units per (round, theme) cell, in document order: (round_name, theme_id, rec_id,
    member, member_label, agenda, question, text, program_codes)."""
    return con.execute(
        "SELECT round_name, theme_key, rec_id, member, member_label, agenda, question, text, program_codes "
        f"FROM (SELECT *, {_THEME_KEY} AS theme_key, row_number() OVER "
        f"(PARTITION BY round_name, {_THEME_KEY} ORDER BY seq) AS rn FROM units) "
        "WHERE rn <= ? ORDER BY round_name, theme_key, seq", [per_cell]).fetchall()


def _replace_folder(kind: FolderKind, out_dir: Path, write) -> Path:
    """Run ``write(folder)`` on a staging folder and swap it in for ``out_dir`` (:mod:`pipeline.core.atomic`),
    which may be missing, empty or an earlier folder of the ``kind``."""
    with replacing([kind.target(out_dir)]) as (staging,):
        write(staging)
    return out_dir


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
        units = _cell_units(con, per_cell)
    if tables.rounds.empty:
        raise InputError(str(archive), "the archive has no rounds yet")

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

    return _replace_folder(TRENDS_FOLDER, Path(out_dir), write)


def export_tables(archive: str | os.PathLike, out_dir: str | os.PathLike, *, wait: float = DEFAULT_WAIT) -> Path:
    """Write every archive table as ``<table>.parquet`` into ``out_dir`` (rows in a stable order)."""
    order = {"meta": "key", "models": "model_hash", "units": "round_name, seq", "assignments": "round_name, rec_id",
             "corrections": "round_name, line", "themes": "round_name, theme_id", "rounds": "position",
             "inputs": "round_name, path"}

    def write(folder: Path) -> None:
        with open_archive(archive, wait=wait) as con:
            for table in TABLES:
                target = str(folder / f"{table}.parquet").replace("'", "''")
                con.execute(f"COPY (SELECT * FROM {table} ORDER BY {order[table]}) TO '{target}' (FORMAT parquet)")

    return _replace_folder(EXPORT_FOLDER, Path(out_dir), write)
