"""Every text cell the pipeline writes to CSV or xlsx is inert and complete (issue 13, items 3a, 5, 12a)."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace

from openpyxl import load_workbook

from pipeline.core.cells import EXCEL_CELL_LIMIT, csv_text, from_csv_text
from pipeline.core.records import Assignment, ThemeInfo
from pipeline.read.rounds import load_units
from pipeline.runfolder.cards import theme_cards
from pipeline.runfolder.folder import load_run, write_run
from pipeline.study.compare import write_comparison

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", " +1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def _hostile_run(tmp_path):
    path = tmp_path / "round.txt"
    path.write_text("□ 홍길동 위원\nㅇ 상생상회(3-3-1) 운영을 개선해야 합니다.\nㅇ 청년 창업(3-3-1) 지원을 늘려야 합니다.\n",
                    encoding="utf-8")
    units = load_units([path])
    long_text = "가" * (EXCEL_CELL_LIMIT + 500)
    units = [replace(units[0], text="=cmd|' /C calc'!A0", agenda="@agenda", member_label="+위원"),
             replace(units[1], text=long_text + "\x0b\x1b끝", question="-질문")]
    label = "=1+1"
    assignments = [Assignment(u.rec_id, "discovered_01", label, 0.5, "discovered") for u in units]
    cards = theme_cards(units, assignments, [ThemeInfo("discovered_01", label, "discovered", ("=kw", "키워드"))])
    out = write_run(tmp_path / "run", units, assignments, cards, {"programs": {"3-3-1": "=상생상회"}})
    return units, out


def test_csv_text_escapes_formula_starts_and_reads_back():
    for text in HOSTILE:
        assert csv_text(text).startswith("'")
        assert from_csv_text(csv_text(text)) == text
    for text in ("상생상회", "3-3-1", "'quoted", "a=b", ""):
        assert csv_text(text) == text
        assert from_csv_text(text) == text


def test_no_csv_or_xlsx_cell_of_a_run_is_a_formula(tmp_path):
    units, out = _hostile_run(tmp_path)
    for name in ("recommendations.csv", "themes.csv", "theme_program_matrix.csv"):
        with open(out / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not (cell[:1] in "=+-@\t\r" and cell) and not cell.lstrip().startswith(("=", "+", "@")), \
                        (name, cell[:40])
    book = load_workbook(out / "theme_program_matrix.xlsx")
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert "=1+1" in texts and "=cmd|' /C calc'!A0" in texts and "=상생상회" in texts
    with zipfile.ZipFile(out / "theme_program_matrix.xlsx") as z:
        assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    # Reading the run back gives the researchers' text, not the escaped one.
    run = load_run(out)
    assert list(run.recommendations["text"])[0] == units[0].text
    assert list(run.themes["theme_label"]) == ["=1+1"]


def test_long_and_control_character_text_is_exported_complete_or_flagged(tmp_path):
    units, out = _hostile_run(tmp_path)
    with open(out / "recommendations.csv", encoding="utf-8-sig", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    assert texts[1] == units[1].text  # the CSV keeps every character
    book = load_workbook(out / "theme_program_matrix.xlsx")
    cells = [c.value for row in book["셀별 권고"].iter_rows() for c in row if isinstance(c.value, str)]
    long_cells = [c for c in cells if c.startswith("가" * 100)]
    assert long_cells and all(len(c) <= EXCEL_CELL_LIMIT for c in long_cells)
    assert all("Excel 셀 한도 초과" in c and f"{len(units[1].text):,}" in c for c in long_cells)


def test_comparison_csvs_are_formula_safe(tmp_path):
    _, out = _hostile_run(tmp_path)
    compared = write_comparison(out, out, tmp_path / "cmp")
    for name in ("compare_themes.csv", "compare_programs.csv"):
        with open(compared / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                assert not any(cell.lstrip().startswith(("=", "+", "@")) for cell in row), row
