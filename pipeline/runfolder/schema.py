"""What every table the pipeline writes holds: file names, column tuples and the record <-> row conversions.

The one owner of the run folder's schema (``recommendations.csv``, ``themes.csv``, ``unplaced.csv``,
``corrections.csv``), of ``advisory parse``'s unit file, and of the columns the archive stores
(:mod:`pipeline.archive.db` builds its ``units``, ``assignments``, ``corrections`` and ``themes`` tables from
the tuples here). A record becomes a row one way (``*_cells``) and a row becomes a record one way
(``*_from_cells``: every cell text, ``""`` when empty, as a CSV or the archive gives it back). The CSV rules
are here too: UTF-8 with BOM (Korean Excel opens it), LF line endings, and a leading ``'`` on any text cell a
spreadsheet would run as a formula (:mod:`pipeline.core.cells`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.core.cells import csv_text
from pipeline.core.records import UNASSIGNED_ID, Assignment, ThemeCard, Unit, Unplaced
from pipeline.read.programs import FIELD_NAMES
from pipeline.themes.corrections import Correction

#: Every file a run folder holds; the coding record among them.
RUN_FILES: tuple[str, ...] = (
    "recommendations.csv", "recommendations.parquet", "themes.csv", "theme_program_matrix.csv",
    "theme_program_matrix.xlsx", "heatmap.png", "heatmap.svg", "report.html", "summary.md", "run.json",
    "unplaced.csv", "corrections.csv",
)
#: The run folder's coding record: every researcher decision made on its units.
RECORD = "corrections.csv"

#: A unit's columns in ``advisory parse``'s output (the contract's order, less the theme columns).
UNIT_COLUMNS: tuple[str, ...] = (
    "rec_id", "round", "source", "member", "agenda", "question", "text", "program_codes", "code_sources",
    "fields", "line_start", "line_end", "member_label", "lead", "tags", "subpoints", "notes", "unknown_codes",
)
#: A unit's theme, as the model or a researcher gave it.
THEME_OF_UNIT: tuple[str, ...] = ("theme_id", "theme_label", "theme_score", "theme_source")
#: The contract's columns of ``recommendations.csv``, in order.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "rec_id", "round", "source", "member", "agenda", "question", "text", *THEME_OF_UNIT,
    "program_codes", "code_sources", "fields", "line_start", "line_end",
)
#: A unit's confidence (docs/formats.md, `recommendations.csv` columns), right after the contract's columns.
REVIEW_COLUMNS: tuple[str, ...] = ("theme_runner_up", "theme_margin", "needs_review")
#: The unit's other fields a run folder keeps (sub-points and notes are in ``text`` already).
EXTRA_COLUMNS: tuple[str, ...] = ("member_label", "tags", "unknown_codes", "lead")
#: ``recommendations.csv``: one row per unit with its theme.
RECOMMENDATION_COLUMNS: tuple[str, ...] = (*CONTRACT_COLUMNS, *REVIEW_COLUMNS, *EXTRA_COLUMNS)
#: What every reader of a run folder needs of ``recommendations.csv`` (a folder of an older version has these).
READ_COLUMNS: tuple[str, ...] = ("rec_id", "member", "text", "theme_id", "theme_label", "theme_source",
                                 "program_codes", "fields")
#: ``themes.csv``: one row per theme card.
THEME_COLUMNS: tuple[str, ...] = (
    "theme_id", "theme_label", "theme_source", "size", "keywords", "representative_rec_ids", "program_codes",
    "members",
)
#: ``unplaced.csv``: the lines of a round no unit took.
UNPLACED_COLUMNS: tuple[str, ...] = ("source", "line_start", "line_end", "reason", "text")
#: ``corrections.csv`` (the coding record, and every corrections file the pipeline writes).
RECORD_COLUMNS: tuple[str, ...] = ("rec_id", "theme_id", "theme_label", "note", "source", "time",
                                   "previous_theme_id")

#: The archive's ``units`` table after ``round_name``: the unit with its final theme, its order, its confidence.
STORED_UNIT_COLUMNS: tuple[str, ...] = (*CONTRACT_COLUMNS, *EXTRA_COLUMNS, "seq", *REVIEW_COLUMNS)
#: The archive's ``assignments`` table after ``round_name``: the model's own choice per unit.
STORED_ASSIGNMENT_COLUMNS: tuple[str, ...] = ("rec_id", *THEME_OF_UNIT, *REVIEW_COLUMNS)
#: The archive's ``corrections`` table after ``round_name`` (the record's newer columns last: a version-2
#: archive gains them at the end when it is upgraded).
STORED_RECORD_COLUMNS: tuple[str, ...] = ("rec_id", "theme_id", "note", "line", "theme_label", "source", "time",
                                          "previous_theme_id")


def split_cell(cell: str) -> tuple[str, ...]:
    """A ``;``-joined cell as its parts (an empty cell has none)."""
    return tuple(filter(None, cell.split(";")))


def unit_cells(unit: Unit) -> dict[str, object]:
    """One unit as the cells of :data:`UNIT_COLUMNS`: lists ``;``-joined (sub-points and notes `` | ``-joined),
    code sources as ``code:source``, no member as ``None``."""
    return {
        "rec_id": unit.rec_id, "round": unit.round, "source": unit.source, "member": unit.member,
        "agenda": unit.agenda, "question": unit.question, "text": unit.text,
        "program_codes": ";".join(unit.program_codes),
        "code_sources": ";".join(f"{code}:{source}" for code, source in unit.code_sources),
        "fields": ";".join(unit.fields), "line_start": unit.line_start, "line_end": unit.line_end,
        "member_label": unit.member_label, "lead": unit.lead, "tags": ";".join(unit.tags),
        "subpoints": " | ".join(unit.subpoints), "notes": " | ".join(unit.notes),
        "unknown_codes": ";".join(unit.unknown_codes),
    }


def unit_from_cells(row) -> Unit:
    """A :class:`Unit` from a row of ``recommendations.csv`` (or the archive's ``units``) with every cell text;
    the inverse of :func:`unit_cells` for the columns a run folder keeps (sub-points and notes stay empty)."""
    return Unit(
        rec_id=row.rec_id, round=row.round, source=row.source, member=int(row.member) if row.member else None,
        member_label=row.member_label, agenda=row.agenda, question=row.question, text=row.text,
        line_start=int(row.line_start), line_end=int(row.line_end), lead=row.lead, tags=split_cell(row.tags),
        program_codes=split_cell(row.program_codes),
        code_sources=tuple(tuple(pair.rsplit(":", 1)) for pair in split_cell(row.code_sources)),
        fields=split_cell(row.fields), unknown_codes=split_cell(row.unknown_codes),
    )


def _rounded(value: float | None, digits: int | None) -> float | None:
    return None if value is None else float(value) if digits is None else round(float(value), digits)


def assignment_cells(a: Assignment | None, digits: int | None = 4) -> dict[str, object]:
    """A unit's theme and confidence as the cells of :data:`THEME_OF_UNIT` and :data:`REVIEW_COLUMNS`: score and
    margin rounded to ``digits`` (``None``: as they are), no margin where there is no runner-up, ``needs_review``
    1 or 0. A unit without an assignment is ``unassigned`` and needs review."""
    if a is None:
        return {"theme_id": "", "theme_label": "", "theme_score": None, "theme_source": UNASSIGNED_ID,
                "theme_runner_up": "", "theme_margin": None, "needs_review": 1}
    return {"theme_id": a.theme_id, "theme_label": a.theme_label, "theme_score": _rounded(a.theme_score, digits),
            "theme_source": a.theme_source, "theme_runner_up": a.theme_runner_up,
            "theme_margin": _rounded(a.theme_margin, digits), "needs_review": int(a.needs_review)}


def assignment_from_cells(row) -> Assignment:
    """An :class:`Assignment` from a row of ``recommendations.csv`` with every cell text."""
    return Assignment(
        rec_id=row.rec_id, theme_id=row.theme_id, theme_label=row.theme_label,
        theme_score=float(row.theme_score) if row.theme_score else 0.0, theme_source=row.theme_source,
        theme_runner_up=row.theme_runner_up, theme_margin=float(row.theme_margin) if row.theme_margin else None,
        needs_review=row.needs_review == "1",
    )


def card_cells(card: ThemeCard) -> dict[str, object]:
    """A theme card as the cells of :data:`THEME_COLUMNS`: lists ``;``-joined, ``program_codes`` as ``3-3-1:4;NL:2``
    (the card's own order of counts)."""
    return {
        "theme_id": card.theme_id, "theme_label": card.label, "theme_source": card.source, "size": int(card.size),
        "keywords": ";".join(card.keywords), "representative_rec_ids": ";".join(card.representative_rec_ids),
        "program_codes": ";".join(f"{code}:{count}" for code, count in card.program_counts),
        "members": ";".join(str(m) for m in card.members),
    }


def card_from_cells(row) -> ThemeCard:
    """A :class:`ThemeCard` from a row of ``themes.csv`` with every cell text (the member and agenda counts the
    report lists are not in the file and stay empty)."""
    return ThemeCard(
        theme_id=row.theme_id, label=row.theme_label, source=row.theme_source, size=int(row.size or 0),
        keywords=split_cell(row.keywords), representative_rec_ids=split_cell(row.representative_rec_ids),
        members=tuple(int(m) for m in split_cell(row.members)),
        program_counts=tuple((code, int(n)) for code, n in (pair.rsplit(":", 1)
                                                            for pair in split_cell(row.program_codes))),
    )


def correction_cells(c: Correction) -> dict[str, str]:
    """A researcher decision as the cells of :data:`RECORD_COLUMNS`."""
    return {"rec_id": c.rec_id, "theme_id": c.theme_id, "theme_label": c.theme_label, "note": c.note,
            "source": c.source, "time": c.time, "previous_theme_id": c.previous_theme_id}


def assignments_by_unit(units: Sequence[Unit], assignments: Sequence[Assignment]) -> dict[str, Assignment]:
    """Assignments by rec_id, refusing (``ValueError``) one that names no unit or repeats a unit."""
    known = {u.rec_id for u in units}
    by_rec: dict[str, Assignment] = {}
    for a in assignments:
        if a.rec_id not in known:
            raise ValueError(f"assignment names unknown rec_id {a.rec_id!r}")
        if a.rec_id in by_rec:
            raise ValueError(f"rec_id {a.rec_id!r} has more than one assignment")
        by_rec[a.rec_id] = a
    return by_rec


def recommendations_frame(units: Sequence[Unit], assignments: Sequence[Assignment]) -> pd.DataFrame:
    """``recommendations.csv``: one row per unit with its theme, :data:`RECOMMENDATION_COLUMNS` in order.

    In: parsed units and their assignments (at most one per unit; units without one are ``unassigned``
    and need review). Out: a DataFrame in unit order (:func:`unit_cells`, :func:`assignment_cells`).
    Raises ``ValueError`` for an assignment whose rec_id is not among the units.
    """
    by_rec = assignments_by_unit(units, assignments)
    rows = [{**unit_cells(u), **assignment_cells(by_rec.get(u.rec_id))} for u in units]
    frame = pd.DataFrame(rows, columns=list(RECOMMENDATION_COLUMNS))
    # Nullable ints: a member-less unit stays empty instead of turning the column into 1.0, 2.0, ...
    frame["member"] = frame["member"].astype("Int64")
    frame["theme_score"] = frame["theme_score"].astype("Float64")
    frame["theme_margin"] = frame["theme_margin"].astype("Float64")
    for col in ("line_start", "line_end", "needs_review"):
        frame[col] = frame[col].astype("int64")
    return frame


def themes_frame(cards: Sequence[ThemeCard]) -> pd.DataFrame:
    """``themes.csv``: one row per theme card (:func:`card_cells`), in the given order."""
    return pd.DataFrame([card_cells(card) for card in cards], columns=list(THEME_COLUMNS)).astype({"size": "int64"})


def _csv_safe(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Text values made formula-safe (:func:`pipeline.core.cells.csv_text`); other values as they are."""
    return values.map(lambda v: csv_text(v) if isinstance(v, str) else v)


def write_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> None:
    """Write ``frame`` by the CSV rules (module docstring), index included with ``index``; same data, same bytes."""
    frame = frame.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = _csv_safe(frame[column])
    if index and frame.index.nlevels == 1:
        frame.index = _csv_safe(frame.index)
    elif index:
        frame.index = pd.MultiIndex.from_arrays(
            [_csv_safe(frame.index.get_level_values(i)) for i in range(frame.index.nlevels)], names=frame.index.names)
    frame.to_csv(path, index=index, encoding="utf-8-sig", lineterminator="\n")


def _csv_bytes(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """A header and rows by the CSV rules, without pandas (the small files: unplaced lines, the record)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([csv_text(cell) if isinstance(cell, str) else cell for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def unplaced_csv(unplaced: Sequence[Unplaced]) -> bytes:
    """``unplaced.csv``: :data:`UNPLACED_COLUMNS`, one row per stretch; the header alone when there is none."""
    return _csv_bytes(UNPLACED_COLUMNS, [(s.source, s.line_start, s.line_end, s.reason, s.text) for s in unplaced])


def corrections_csv(corrections: Sequence[Correction]) -> bytes:
    """A coding record's bytes (:data:`RECORD_COLUMNS`); the header alone when it is empty. A note starts with the
    project's file name, which may start like a formula (``=1+2.qdpx``): every cell is made formula-safe."""
    return _csv_bytes(RECORD_COLUMNS, [tuple(correction_cells(c)[k] for k in RECORD_COLUMNS) for c in corrections])


def units_file(units: Sequence[Unit], suffix: str) -> bytes:
    """``advisory parse``'s output: the units as CSV (:data:`UNIT_COLUMNS`, the CSV rules) or, for ``.jsonl``, one
    JSON object per line with the field names beside the codes. An empty member is an empty string.
    Raises ``ValueError`` for units sharing a rec_id: a unit file with duplicate ids breaks every join a
    researcher makes on it."""
    repeated = sorted(rec_id for rec_id, n in Counter(u.rec_id for u in units).items() if n > 1)
    if repeated:
        raise ValueError(f"units share rec_ids: {', '.join(repeated[:5])}")
    rows = [{**unit_cells(u), "member": "" if u.member is None else u.member} for u in units]
    if suffix == ".jsonl":
        return "".join(json.dumps({**row, "field_names": [FIELD_NAMES[f] for f in u.fields]}, ensure_ascii=False)
                       + "\n" for row, u in zip(rows, units, strict=True)).encode("utf-8")
    return _csv_bytes(UNIT_COLUMNS, [tuple(row[c] for c in UNIT_COLUMNS) for row in rows])
