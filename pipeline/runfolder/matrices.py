"""The matrices of a run: theme x program code (and rolled up to fields), member x theme, and the units behind
each cell, with the headers they are shown with.

The builders are pure: units and their assignments in, pandas frames out; the theme cards fix the row order.
``theme_program_matrix.csv``, the heatmap, the report and the workbook (:mod:`pipeline.runfolder.workbook`)
all show :func:`complete_matrix`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

import pandas as pd

from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeCard, Unit
from pipeline.read.programs import program_code_key
from pipeline.runfolder.schema import REVIEW_COLUMNS, assignment_cells, assignments_by_unit

FIELD_LABELS: dict[str, str] = {"1": "1 인적교류", "2": "2 정보교류", "3": "3 물자교류"}
MATRIX_INDEX: tuple[str, str] = ("theme_id", "theme_label")
#: The matrix column of units that cite no program code: with it every unit is counted in some cell.
NO_CODE = "(코드 없음)"
#: Shown beside a cited code that the program registry does not list.
UNREGISTERED = "미등록"


def sort_program_codes(codes: Iterable[str]) -> list[str]:
    """Return the distinct ``codes`` in natural order with ``NL`` last."""
    return sorted(set(codes), key=program_code_key)


def code_field(code: str) -> str:
    """Field column a program code rolls up to: ``1 인적교류`` etc. by its first digit; other codes stay as is."""
    head = code.split("-", 1)[0]
    return FIELD_LABELS.get(head, code) if "-" in code else code


def _theme_key(a: Assignment | None) -> tuple[str, str]:
    """(theme_id, theme_label) of the matrix row a unit counts in; unassigned units share one row."""
    if a is None or a.theme_source == UNASSIGNED_ID or not a.theme_id:
        return (UNASSIGNED_ID, UNASSIGNED_LABEL)
    return (a.theme_id, a.theme_label or a.theme_id)


def _theme_rows(units: Sequence[Unit], by_rec: dict[str, Assignment],
                cards: Sequence[ThemeCard] | None) -> list[tuple[str, str]]:
    """Matrix rows: the given themes in order, then themes seen only in assignments, then unassigned."""
    rows: list[tuple[str, str]] = [(t.theme_id, t.label) for t in cards or ()]
    seen = {theme_id for theme_id, _ in rows}
    has_unassigned = False
    for u in units:
        key = _theme_key(by_rec.get(u.rec_id))
        if key[0] == UNASSIGNED_ID and UNASSIGNED_ID not in seen:
            has_unassigned = True
        elif key[0] not in seen:
            rows.append(key)
            seen.add(key[0])
    if has_unassigned:
        rows.append((UNASSIGNED_ID, UNASSIGNED_LABEL))
    return rows


def _counts(units: Sequence[Unit], assignments: Sequence[Assignment], cards: Sequence[ThemeCard] | None,
            column_of: Callable[[str], str]) -> pd.DataFrame:
    """Count units per (theme row, column); ``column_of(code)`` maps a program code to its column."""
    by_rec = assignments_by_unit(units, assignments)
    rows = _theme_rows(units, by_rec, cards)
    row_of = {theme_id: i for i, (theme_id, _) in enumerate(rows)}
    columns = sorted({column_of(c) for u in units for c in u.program_codes}, key=_column_key)
    col_of = {c: j for j, c in enumerate(columns)}
    cells = [[0] * len(columns) for _ in rows]
    for u in units:
        r = row_of[_theme_key(by_rec.get(u.rec_id))[0]]
        # A unit counts once per column even when two of its codes roll up to the same field.
        for col in {column_of(c) for c in u.program_codes}:
            cells[r][col_of[col]] += 1
    index = pd.MultiIndex.from_tuples(rows, names=list(MATRIX_INDEX))
    return pd.DataFrame(cells, index=index, columns=pd.Index(columns, name="program_code"), dtype="int64")


def _column_key(column: str) -> tuple[int, tuple[int, ...], str]:
    """Order matrix columns: field roll-up labels sort like their digit, codes like :func:`program_code_key`."""
    head = column.split(" ", 1)[0]
    if column in FIELD_LABELS.values():
        return (0, (int(head),), column)
    return program_code_key(column)


def program_matrix(units: Sequence[Unit], assignments: Sequence[Assignment],
                   cards: Sequence[ThemeCard] | None = None) -> pd.DataFrame:
    """Theme × program-code matrix of unit counts.

    In: units, assignments and (optionally) the themes, whose order fixes the row order.
    Out: index ``(theme_id, theme_label)`` (themes not in ``themes`` follow in order of
    first appearance, then a ``unassigned``/미분류 row if any unit has no theme); columns
    are the program codes cited by any unit, natural order, ``NL`` last.
    """
    return _counts(units, assignments, cards, lambda code: code)


def field_matrix(units: Sequence[Unit], assignments: Sequence[Assignment],
                 cards: Sequence[ThemeCard] | None = None) -> pd.DataFrame:
    """:func:`program_matrix` rolled up to fields: columns ``1 인적교류``, ``2 정보교류``, ``3 물자교류``, then ``NL``.

    A cell counts units with at least one code of that field, so a unit citing
    ``1-2-1`` and ``1-10-1`` counts once. All three field columns are always present.
    """
    matrix = _counts(units, assignments, cards, code_field)
    for label in FIELD_LABELS.values():
        if label not in matrix.columns:
            matrix[label] = 0
    return matrix[sorted(matrix.columns, key=_column_key)]


def with_no_code(matrix: pd.DataFrame, units: Sequence[Unit], assignments: Sequence[Assignment]) -> pd.DataFrame:
    """``matrix`` plus a last :data:`NO_CODE` column: per theme row, the units citing no program code."""
    by_rec = assignments_by_unit(units, assignments)
    uncoded = Counter(_theme_key(by_rec.get(u.rec_id))[0] for u in units if not u.program_codes)
    out = matrix.copy()
    out[NO_CODE] = pd.Series([uncoded.get(theme_id, 0) for theme_id, _ in matrix.index], index=matrix.index,
                             dtype="int64")
    return out


def complete_matrix(units: Sequence[Unit], assignments: Sequence[Assignment],
                    cards: Sequence[ThemeCard] | None = None) -> pd.DataFrame:
    """:func:`program_matrix` with a last :data:`NO_CODE` column, so that every unit is counted at least once.

    This is the matrix of ``theme_program_matrix.csv``/``.xlsx`` and the heatmap: a unit citing
    no program code still shows under its theme, so no theme looks empty for want of codes.
    """
    return with_no_code(program_matrix(units, assignments, cards), units, assignments)


def member_matrix(units: Sequence[Unit], assignments: Sequence[Assignment],
                  cards: Sequence[ThemeCard] | None = None) -> pd.DataFrame:
    """Member × theme matrix of unit counts: who raises which theme.

    Out: index ``(member, member_label)`` in order of appearance (units without a member last, as
    ``(위원 없음)``), columns the theme labels in :func:`program_matrix`'s row order; every unit counts once.
    """
    by_rec = assignments_by_unit(units, assignments)
    rows = _theme_rows(units, by_rec, cards)
    col_of = {theme_id: j for j, (theme_id, _) in enumerate(rows)}
    members: dict[tuple[object, str], list[int]] = {}
    for u in sorted(units, key=lambda u: u.member is None):
        key = (u.member, u.member_label or f"위원 {u.member}") if u.member is not None else (None, "(위원 없음)")
        counts = members.setdefault(key, [0] * len(rows))
        counts[col_of[_theme_key(by_rec.get(u.rec_id))[0]]] += 1
    index = pd.MultiIndex.from_tuples(list(members), names=["member", "member_label"])
    return pd.DataFrame(list(members.values()), index=index, columns=[label for _, label in rows], dtype="int64")


def program_header(code: str, names: dict[str, str]) -> str:
    """A matrix header: the code and its registry name (``3-3-1 상생상회``), ``미등록`` for a code not listed."""
    if code == NO_CODE or code in FIELD_LABELS.values():
        return code
    return f"{code} {names[code]}" if names.get(code) else f"{code} ({UNREGISTERED})"


def cell_units(units: Sequence[Unit], assignments: Sequence[Assignment],
               cards: Sequence[ThemeCard] | None = None) -> pd.DataFrame:
    """The units behind each nonzero cell of :func:`complete_matrix`, one row per (cell, unit).

    Out columns: ``theme_id, theme_label, program_code, rec_id, member, member_label,
    agenda, text``, then the unit's ``theme_score, theme_runner_up, theme_margin, needs_review``;
    ordered by matrix row, then column, then unit order. A unit citing no code has one row
    with ``program_code`` :data:`NO_CODE`.
    """
    by_rec = assignments_by_unit(units, assignments)
    row_order = {theme_id: i for i, (theme_id, _) in enumerate(_theme_rows(units, by_rec, cards))}
    records = []
    for position, u in enumerate(units):
        theme_id, theme_label = _theme_key(by_rec.get(u.rec_id))
        confidence = assignment_cells(by_rec.get(u.rec_id))
        # NO_CODE sorts after every code, as its column does.
        for code, key in [(c, (0, program_code_key(c))) for c in u.program_codes] or [(NO_CODE, (1, ()))]:
            records.append(((row_order[theme_id], key, position), {
                "theme_id": theme_id, "theme_label": theme_label, "program_code": code,
                "rec_id": u.rec_id, "member": u.member, "member_label": u.member_label,
                "agenda": u.agenda, "text": u.text,
                **{c: confidence[c] for c in ("theme_score", *REVIEW_COLUMNS)},
            }))
    records.sort(key=lambda r: r[0])
    frame = pd.DataFrame([r for _, r in records],
                         columns=["theme_id", "theme_label", "program_code", "rec_id", "member", "member_label",
                                  "agenda", "text", "theme_score", *REVIEW_COLUMNS])
    frame["member"] = frame["member"].astype("Int64")
    frame["theme_score"] = frame["theme_score"].astype("Float64")
    frame["theme_margin"] = frame["theme_margin"].astype("Float64")
    frame["needs_review"] = frame["needs_review"].astype("int64")
    return frame


def short_header(header: str, limit: int = 16) -> str:
    """A heatmap tick label: long program names are cut so the axis stays readable (the xlsx has them whole)."""
    return header if len(header) <= limit else header[: limit - 1] + "…"
