"""The Excel workbook: Korean sheets, program names in the headers, frozen headers and filters."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.support.sample_run import sample_run


def test_xlsx_has_korean_sheets(sample_run_dir: Path) -> None:
    units = sample_run()[0]
    wb = load_workbook(sample_run_dir / "theme_program_matrix.xlsx")
    assert wb.sheetnames == ["주제×사업", "분야별", "위원×주제", "셀별 권고", "전체 권고", "사업 목록"]
    programs = [[c.value for c in row] for row in wb["사업 목록"].iter_rows()]
    assert programs[0] == ["사업 코드", "사업명", "분야", "권고 수"]
    assert programs[1][:3] == ["1-2-1", "서울농장·워케이션 운영", "1 인적교류"]
    assert programs[-1][:2] == ["NL", "넥스트로컬"]
    assert programs[2][:2] == ["1-10-1", "미등록"]  # not in the registry: marked, no invented name
    matrix = wb["주제×사업"]
    assert [c.value for c in matrix[1]] == ["주제 ID", "주제", "1-2-1 서울농장·워케이션 운영", "1-10-1 (미등록)",
                                            "3-3-1 상생상회 운영", "NL 넥스트로컬", "(코드 없음)"]
    assert matrix["B2"].value == "브랜딩·홍보·소통"
    assert matrix.column_dimensions["B"].width >= 20
    assert matrix.freeze_panes == "C2"
    assert [r.sqref for r in matrix.conditional_formatting] and all(
        rule.colorScale is not None for r in matrix.conditional_formatting for rule in r.rules)
    counts = [c.value for row in matrix.iter_rows(min_row=2, min_col=3) for c in row]
    assert sum(counts) == sum(max(len(u.program_codes), 1) for u in units)
    assert [c.value for c in wb["분야별"][1]][2:] == ["1 인적교류", "2 정보교류", "3 물자교류", "NL", "(코드 없음)"]
    members = wb["위원×주제"]
    assert [c.value for c in members[1]][:3] == ["위원 번호", "위원", "브랜딩·홍보·소통"]
    assert sum(c.value for row in members.iter_rows(min_row=2, min_col=3) for c in row) == len(units)
    cells = wb["셀별 권고"]
    assert [c.value for c in cells[1]] == ["주제 ID", "주제", "사업 코드", "권고 ID", "위원 번호", "위원", "안건",
                                           "권고 내용", "주제 점수", "차순위 주제", "점수 차이", "검토 필요"]
    assert cells.max_row - 1 == sum(max(len(u.program_codes), 1) for u in units)
    every = wb["전체 권고"]
    assert [c.value for c in every[1]][:9] == ["권고 ID", "주제 ID", "주제", "점수", "분류 방식", "사업", "차순위 주제",
                                               "점수 차이", "검토 필요"]
    assert [row[0].value for row in every.iter_rows(min_row=2)] == [u.rec_id for u in units]
    assert every.auto_filter.ref == f"A1:O{len(units) + 1}" and every.freeze_panes == "A2"
    by_id = {row[0].value: row[5].value for row in every.iter_rows(min_row=2)}
    coded = next(u for u in units if "3-3-1" in u.program_codes)
    assert "3-3-1 상생상회 운영" in by_id[coded.rec_id]
    assert by_id[next(u for u in units if not u.program_codes).rec_id] == "(코드 없음)"
