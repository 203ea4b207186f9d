"""The trend tables of an archive, computed in SQL: theme x round, program x round and theme x program x round
counts with each round's unit count ``n_units`` and the share ``count / n_units``, each round's new-theme
candidates, and the units behind each theme x round cell.

A new-theme candidate is a theme of its own round, keyed ``<id>@<round>`` in the trend tables and labelled
with its round, so its row shows the round the concern first appeared in (and ``new_themes`` links the
candidates of later rounds that raise it again, :mod:`pipeline.archive.recurring`); a round under
:data:`SMALL_ROUND` units is flagged ``small_round`` (its shares swing with a single unit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from pipeline.archive.db import column_names
from pipeline.archive.recurring import link_recurring, split_key
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL
from pipeline.runfolder.matrices import sort_program_codes
from pipeline.runfolder.schema import split_cell
from pipeline.themes.openset import NEW_THEME_PREFIX

# Shares from a round with fewer units than this are marked in the trend tables and report.
SMALL_ROUND = 20


@dataclass
class TrendTables:
    """The trend tables; ``rounds`` has ``round_name, round_date, n_units, small_round`` in archive order;
    ``themes`` has ``theme_id, theme_label, count, first_raised`` (the round a named theme's concern first
    appeared as a candidate, :func:`first_raised`); ``new_themes`` lists each round's new-theme candidates
    (``advisory archive trends``: ``new_themes.csv``)."""

    rounds: pd.DataFrame
    themes: pd.DataFrame
    theme_by_round: pd.DataFrame
    program_by_round: pd.DataFrame
    theme_program_by_round: pd.DataFrame
    new_themes: pd.DataFrame = field(default_factory=pd.DataFrame)


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
    new_themes = _new_themes(con, rounds)
    themes["first_raised"] = first_raised(themes, new_themes, rounds["round_name"].tolist())
    return TrendTables(rounds, themes, by_theme, _with_rounds(program_grid, rounds, ["program_code"], order),
                       _with_rounds(pairs, rounds, ["theme_id", "program_code"], order), new_themes)


def _new_themes(con, rounds: pd.DataFrame) -> pd.DataFrame:
    """Every round's new-theme candidates in round order (then by size): ``round_name, round_date, n_units,
    theme_id, theme_label, size, share, keywords, members, program_codes`` (``themes.csv``'s columns), then
    ``first_round`` and ``earlier_candidates`` (a concern raised again) and ``later_theme`` (the codebook or
    researcher theme it became, :func:`link_recurring`)."""
    found = con.execute(f"SELECT round_name, theme_id, theme_label, size, keywords, members, program_codes "
                        f"FROM themes WHERE {_CANDIDATE}").df()
    frame = rounds[["round_name", "round_date", "n_units"]].merge(found, on="round_name", how="inner")
    frame["share"] = (frame["size"] / frame["n_units"].where(frame["n_units"] > 0)).round(4).fillna(0.0)
    frame["_r"] = frame["round_name"].map({name: i for i, name in enumerate(rounds["round_name"])})
    frame = frame.sort_values(["_r", "size", "theme_id"], ascending=[True, False, True], kind="stable")
    named = _named_themes(con)
    return link_recurring(frame[["round_name", "round_date", "n_units", "theme_id", "theme_label", "size", "share",
                                 "keywords", "members", "program_codes"]],
                          named=named, round_order=rounds["round_name"].tolist())


def _named_themes(con) -> pd.DataFrame:
    """``round_name, theme_id, keywords`` of every codebook or researcher theme in every round that had it: with
    its keywords where it has units (``themes``), without where the round's stored model lists it, and, for a
    round stored without a model (a run folder made without ``--save-model``), where a unit has it as
    runner-up. A concern promoted or named in a later round is linked back to its candidates by it
    (``later_theme``, :func:`~pipeline.archive.recurring.link_recurring`); a theme the codebook had all along
    is not, units or none."""
    named = con.execute(f"SELECT round_name, theme_id, keywords FROM themes WHERE NOT ({_CANDIDATE}) "
                        f"AND coalesce(theme_id, '') NOT IN ('', '{UNASSIGNED_ID}') AND size > 0").fetchall()
    for round_name, themes in con.execute("SELECT round_name, themes FROM rounds JOIN models USING (model_hash) "
                                          "ORDER BY position").fetchall():
        named += [(round_name, t[0], None) for t in json.loads(themes)
                  if t[0] not in ("", UNASSIGNED_ID) and not str(t[0]).startswith(NEW_THEME_PREFIX)]
    # Archives of schema version 1 have no runner-up (read-only use does not upgrade them).
    if "theme_runner_up" in column_names(con, "units"):
        named += con.execute(
            "SELECT DISTINCT round_name, theme_runner_up, NULL FROM units JOIN rounds USING (round_name) "
            f"WHERE rounds.model_hash = '' AND coalesce(theme_runner_up, '') NOT IN ('', '{UNASSIGNED_ID}') "
            f"AND NOT starts_with(theme_runner_up, '{NEW_THEME_PREFIX}')").fetchall()
    return pd.DataFrame(sorted(named, key=lambda r: (r[0], r[1], r[2] or "")),
                        columns=["round_name", "theme_id", "keywords"])


def first_raised(themes: pd.DataFrame, new_themes: pd.DataFrame, round_names: list[str]) -> list[str]:
    """Per row of ``themes`` (``theme_id``), the round its concern first appeared as a new-theme candidate
    before the theme was named (``new_themes``' ``later_theme`` and ``first_round``), or ``""``."""
    first: dict[str, str] = {}
    # new_themes rows are in round order, so the first concern seen for a theme is its earliest.
    for later, round_name in zip(new_themes.get("later_theme", []), new_themes.get("first_round", []), strict=True):
        for key in split_cell(later):
            first.setdefault(split_key(key, round_names)[0], round_name)
    return [first.get(t, "") for t in themes["theme_id"]]


def units_per_cell(n_rounds: int, n_themes: int) -> int:
    """How many units each report cell lists: all of them in a small archive, fewer in a large one."""
    return max(MIN_UNITS_PER_CELL, UNITS_IN_REPORT // max(n_rounds * n_themes, 1))


def cell_units(con, per_cell: int) -> list[tuple]:
    """Up to ``per_cell`` units per (round, theme) cell, in document order: (round_name, theme_id, rec_id,
    member, member_label, agenda, question, text, program_codes)."""
    return con.execute(
        "SELECT round_name, theme_key, rec_id, member, member_label, agenda, question, text, program_codes "
        f"FROM (SELECT *, {_THEME_KEY} AS theme_key, row_number() OVER "
        f"(PARTITION BY round_name, {_THEME_KEY} ORDER BY seq) AS rn FROM units) "
        "WHERE rn <= ? ORDER BY round_name, theme_key, seq", [per_cell]).fetchall()


