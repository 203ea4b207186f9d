"""The matrices of a run folder (theme x program, fields, member x theme, the units behind each cell) and its
Excel workbook.

The frame builders are pure; :func:`write_xlsx` writes one file with the same bytes for the same data.
The columns of the run folder's tables and the CSV rules are :mod:`pipeline.runfolder.schema`'s; which
files make a run folder, writing them together and reading them back are :mod:`pipeline.runfolder.folder`'s.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from pipeline.core.cells import xlsx_text
from pipeline.core.records import UNASSIGNED_ID, UNASSIGNED_LABEL, Assignment, ThemeCard, Unit
from pipeline.read.programs import program_code_key
from pipeline.runfolder.schema import REVIEW_COLUMNS, assignment_cells, assignments_by_unit, recommendations_frame

FIELD_LABELS: dict[str, str] = {"1": "1 인적교류", "2": "2 정보교류", "3": "3 물자교류"}
MATRIX_INDEX: tuple[str, str] = ("theme_id", "theme_label")
#: The matrix column of units that cite no program code: with it every unit is counted in some cell.
NO_CODE = "(코드 없음)"
#: Shown beside a cited code that the program registry does not list.
UNREGISTERED = "미등록"
#: Count sheets (colour scale on the counts, the two label columns frozen) and list sheets (autofilter).
_MATRIX_SHEETS = ("주제×사업", "분야별", "위원×주제")
_LIST_SHEETS = ("셀별 권고", "전체 권고")

# Fixed xlsx timestamp: openpyxl stamps "now" into the file, which would change its bytes every run.
_XLSX_TIMESTAMP = "2000-01-01T00:00:00Z"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


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


def all_units_frame(units: Sequence[Unit], assignments: Sequence[Assignment],
                    program_names: dict[str, str]) -> pd.DataFrame:
    """The "전체 권고" sheet: every unit in order with its theme, score, programs (with names), runner-up theme,
    margin, review flag, member and lines."""
    recs = recommendations_frame(units, assignments)
    programs = [
        "; ".join(program_header(code, program_names) for code in u.program_codes) or NO_CODE for u in units]
    return pd.DataFrame({
        "권고 ID": recs["rec_id"], "주제 ID": recs["theme_id"], "주제": recs["theme_label"],
        "점수": recs["theme_score"], "분류 방식": recs["theme_source"], "사업": programs,
        "차순위 주제": recs["theme_runner_up"], "점수 차이": recs["theme_margin"], "검토 필요": recs["needs_review"],
        "위원 번호": recs["member"], "위원": recs["member_label"], "안건": recs["agenda"],
        "시작 줄": recs["line_start"], "끝 줄": recs["line_end"], "권고 내용": recs["text"],
    })


def xlsx_sheets(units: Sequence[Unit], assignments: Sequence[Assignment],
                 cards: Sequence[ThemeCard], program_names: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The workbook sheets with Korean headers, keyed by sheet name: the matrix (program names in the
    headers), the field roll-up, member × theme, the units behind each cell, every unit, and the programs
    cited (with names, ``미등록`` where the registry has none)."""
    def korean_rows(matrix: pd.DataFrame) -> pd.DataFrame:
        out = matrix.reset_index().rename(columns={"theme_id": "주제 ID", "theme_label": "주제"})
        out.columns.name = None
        return out

    cells = cell_units(units, assignments, cards).rename(columns={
        "theme_id": "주제 ID", "theme_label": "주제", "program_code": "사업 코드", "rec_id": "권고 ID",
        "member": "위원 번호", "member_label": "위원", "agenda": "안건", "text": "권고 내용",
        "theme_score": "주제 점수", "theme_runner_up": "차순위 주제", "theme_margin": "점수 차이",
        "needs_review": "검토 필요",
    })
    cited = pd.Series([c for u in units for c in u.program_codes], dtype=str).value_counts()
    programs = pd.DataFrame({
        "사업 코드": sort_program_codes(cited.index),
    })
    programs["사업명"] = programs["사업 코드"].map(lambda c: program_names.get(c) or UNREGISTERED)
    programs["분야"] = programs["사업 코드"].map(lambda c: code_field(c) if "-" in c else "")
    programs["권고 수"] = programs["사업 코드"].map(cited).astype("int64")
    matrix = complete_matrix(units, assignments, cards)
    members = member_matrix(units, assignments, cards).reset_index().rename(
        columns={"member": "위원 번호", "member_label": "위원"})
    return {
        "주제×사업": korean_rows(matrix.rename(columns=lambda c: program_header(c, program_names))),
        "분야별": korean_rows(with_no_code(field_matrix(units, assignments, cards), units, assignments)),
        "위원×주제": members,
        "셀별 권고": cells,
        "전체 권고": all_units_frame(units, assignments, program_names),
        "사업 목록": programs,
    }


def _lay_out_sheet(ws, name: str, frame: pd.DataFrame) -> None:
    """Freeze the header row (and a matrix's two label columns); a colour scale on a matrix's counts, an
    autofilter on a list, so a researcher can sort and filter in Excel without setting anything up."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    last = f"{get_column_letter(max(len(frame.columns), 1))}{len(frame) + 1}"
    if name in _MATRIX_SHEETS:
        ws.freeze_panes = "C2"
        if len(frame.columns) > 2 and len(frame):
            ws.conditional_formatting.add(f"C2:{last}", ColorScaleRule(
                start_type="num", start_value=0, start_color="FFFFFF", end_type="max", end_color="2B6CB0"))
    else:
        ws.freeze_panes = "A2"
    if name in _LIST_SHEETS:
        ws.auto_filter.ref = f"A1:{last}"


def short_header(header: str, limit: int = 16) -> str:
    """A heatmap tick label: long program names are cut so the axis stays readable (the xlsx has them whole)."""
    return header if len(header) <= limit else header[: limit - 1] + "…"


def _display_width(value: object) -> int:
    """Approximate column width in Excel units: Hangul and other wide characters take two."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def write_xlsx(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write ``sheets`` to one workbook with bold frozen headers and readable widths; same data → same bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=name)
        ws.append([xlsx_text(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False):
            ws.append([None if pd.isna(v) else xlsx_text(v) if isinstance(v, str) else v.item() if hasattr(v, "item")
                       else v for v in row])
        for line in ws.iter_rows():
            for cell in line:
                # openpyxl makes any text starting with "=" a formula; researchers' text is never one.
                if cell.data_type == "f":
                    cell.data_type = "s"
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        _lay_out_sheet(ws, name, frame)
        for j, column in enumerate(frame.columns, 1):
            letter = ws.cell(row=1, column=j).column_letter
            longest = max([_display_width(column), *(_display_width(v) for v in frame[column])])
            # Long texts wrap inside a capped width instead of producing one endless line.
            ws.column_dimensions[letter].width = min(max(longest + 2, 6), 80)
            if longest > 78:
                for cell in ws[letter][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    wb.save(buffer)
    _repack_deterministic(buffer.getvalue(), path)


def _repack_deterministic(data: bytes, path: Path) -> None:
    """Rewrite an xlsx zip with fixed entry dates and document timestamps, so reruns give identical bytes."""
    stamp = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = stamp.sub(rb"\g<1>" + _XLSX_TIMESTAMP.encode() + rb"\g<2>", content)
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, content)
