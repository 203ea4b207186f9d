"""The run's Excel workbook (``theme_program_matrix.xlsx``): Korean sheets of the matrices, the units behind each
cell, every unit and the programs cited, laid out for a researcher (frozen headers, colour scales, filters),
written with the same bytes for the same data.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pipeline.core.cells import xlsx_text
from pipeline.core.records import Assignment, ThemeCard, Unit
from pipeline.runfolder.matrices import (
    NO_CODE,
    UNREGISTERED,
    cell_units,
    code_field,
    complete_matrix,
    field_matrix,
    member_matrix,
    program_header,
    sort_program_codes,
    with_no_code,
)
from pipeline.runfolder.schema import recommendations_frame

#: Count sheets (colour scale on the counts, the two label columns frozen) and list sheets (autofilter).
_MATRIX_SHEETS = ("주제×사업", "분야별", "위원×주제")
_LIST_SHEETS = ("셀별 권고", "전체 권고")

# Fixed xlsx timestamp: openpyxl stamps "now" into the file, which would change its bytes every run.
_XLSX_TIMESTAMP = "2000-01-01T00:00:00Z"
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)


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
