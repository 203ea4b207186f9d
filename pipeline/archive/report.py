"""The archive's trend report: one self-contained, offline HTML page.

A round filter (checkboxes), the theme × round matrix (count and share per cell; shares of
rounds under 20 units carry a ※ caution) whose cells list their units, and the program ×
round counts. It is rendered from ``templates/trends.html.j2`` by the run report's HTML stack
(:mod:`pipeline.runfolder.pages`): styles and script inline, the units embedded as JSON that cannot close
its ``<script>`` element, every document text escaped (the script only sets ``textContent``) and a
subset of NanumGothic with the page's characters, so Hangul renders on a machine without a Korean font.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.archive.recurring import SHARED_KEYWORDS, shared_keywords, split_key
from pipeline.archive.trendtables import SMALL_ROUND, TrendTables
from pipeline.runfolder.cards import member_display
from pipeline.runfolder.pages import embedded_json, render_page
from pipeline.runfolder.schema import split_cell

_CAUTION = f"권고 {SMALL_ROUND}건 미만 회차: 비중이 한두 건에 크게 흔들리므로 해석에 주의"


def _rounds(tables: TrendTables) -> list[dict]:
    return [{"name": r.round_name, "date": r.round_date or "", "n": int(r.n_units), "small": bool(r.small_round)}
            for r in tables.rounds.itertuples(index=False)]


def _theme_rows(tables: TrendTables) -> list[dict]:
    """Per theme: its cells in round order (count, share in % with one decimal, whether the round is small)."""
    rounds = list(tables.rounds.itertuples(index=False))
    cells = tables.theme_by_round.set_index(["theme_id", "round_name"])
    rows = []
    for t in tables.themes.itertuples(index=False):
        row = []
        for r in rounds:
            cell = cells.loc[(t.theme_id, r.round_name)]
            row.append({"count": int(cell["count"]), "share": f"{float(cell['share']) * 100:.1f}",
                        "small": bool(r.small_round)})
        rows.append({"theme_id": t.theme_id, "label": t.theme_label, "cells": row,
                     "first_raised": t.first_raised})
    return rows


def _program_rows(tables: TrendTables) -> list[dict]:
    counts = tables.program_by_round.pivot(index="program_code", columns="round_name", values="count")
    return [{"code": code, "counts": [int(counts.loc[code, name]) for name in tables.rounds["round_name"]]}
            for code in dict.fromkeys(tables.program_by_round["program_code"])]


def _new_theme_rows(tables: TrendTables) -> list[dict]:
    """Each round's new-theme candidates, rounds in order: when a concern the codebook lacks first appeared."""
    frame = tables.new_themes.fillna("")
    # An earlier candidate is shown as the theme x round matrix labels it, with the keywords the two share,
    # so a researcher sees at once why they were linked.
    earlier = {f"{r.theme_id}@{r.round_name}": (f"{r.theme_label} ({r.round_name})", r.keywords)
               for r in frame.itertuples()}

    named = dict(zip(tables.themes["theme_id"], tables.themes["theme_label"], strict=True))
    round_names = tables.rounds["round_name"].tolist()

    def links(row) -> list[str]:
        return [f"{earlier[key][0]}: {', '.join(shared_keywords(earlier[key][1], row.keywords))}"
                for key in split_cell(str(row.earlier_candidates))]

    def became(row) -> list[str]:
        # ``<theme_id>@<round>``: the named theme's label as the theme x round matrix shows it, and its round.
        return [f"{named.get(theme_id, theme_id)} ({round_name})" for theme_id, round_name in
                (split_key(key, round_names) for key in split_cell(str(row.later_theme)))]

    return [{"round": r.round_name, "label": r.theme_label, "size": int(r.size), "share": float(r.share) * 100,
             "keywords": str(r.keywords).replace(";", ", "), "members": str(r.members).replace(";", ", "),
             "programs": str(r.program_codes).replace(";", ", "), "first_round": r.first_round, "earlier": links(r),
             "later": became(r)}
            for r in frame.itertuples(index=False)]


def render_trends_report(tables: TrendTables, units: Sequence[tuple], per_cell: int, archive_name: str) -> str:
    """The report page as a string; the same tables and units give the same string.

    ``units``: the rows listed behind the cells, as tuples ``(round_name, theme_id, rec_id, member,
    member_label, agenda, question, text, program_codes)``; ``per_cell``: at most how many per cell.
    """
    round_index = {name: i for i, name in enumerate(tables.rounds["round_name"])}
    payload = {
        "rounds": [{"name": r.round_name, "n": int(r.n_units), "small": bool(r.small_round)}
                   for r in tables.rounds.itertuples(index=False)],
        "themes": dict(zip(tables.themes["theme_id"], tables.themes["theme_label"], strict=True)),
        "units": [[round_index[round_name], theme_id, rec_id, member_display(member, member_label), agenda or "",
                   question or "", text, codes or ""]
                  for round_name, theme_id, rec_id, member, member_label, agenda, question, text, codes in units],
    }
    context = {
        "archive_name": archive_name, "rounds": _rounds(tables), "n_units": int(tables.rounds["n_units"].sum()),
        "per_cell": per_cell, "caution": _CAUTION,
        "small": tables.rounds.loc[tables.rounds["small_round"] == 1, "round_name"].tolist(),
        "theme_rows": _theme_rows(tables), "program_rows": _program_rows(tables),
        "new_theme_rows": _new_theme_rows(tables),
        "shared_keywords": SHARED_KEYWORDS,
        "payload": embedded_json(payload),
    }
    return render_page("pipeline.archive", "trends", context)
