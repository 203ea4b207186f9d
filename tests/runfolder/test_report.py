"""report.html and summary.md of a real run agree with the run's codebook and its matrix CSV.

A four-unit round run against the bundled codebook (``tfidf`` embedder, no cache) leaves most
codebook themes without a unit: the report's theme choices must still offer every one of them, in the
codebook's order, then 미분류. The matrix in report.html and in summary.md must have the columns of
``theme_program_matrix.csv`` (``(코드 없음)`` last) and its counts.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.options import RunOptions
from pipeline.core.records import UNASSIGNED_ID
from pipeline.runfolder.matrices import NO_CODE
from pipeline.themes.codebook import load_codebook
from pipeline.workflow import run_round

ROUND = (
    "□ 홍길동 위원\n"
    "ㅇ (3-3-1) 상생상회 판로를 온라인몰 입점으로 넓혀야 합니다.\n"
    "ㅇ 청년 창업팀의 지역 정착을 위해 창업 지원금을 늘려야 합니다.\n"
    "ㅇ 생활인구 확대를 위해 두 지역 살기와 워케이션을 연계해야 합니다.\n"
    "ㅇ 성과지표는 정량지표와 정성지표를 병행해야 합니다.\n"
)



class _Report(HTMLParser):
    """What the tests read of report.html: the theme filter's options, the embedded data and the matrix."""

    def __init__(self) -> None:
        super().__init__()
        self.theme_options: list[str] = []
        self.data = ""
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self._in: str | None = None
        self._text: list[str] = []
        self._table = False
        self._select = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "select":
            self._select = attr.get("id") or ""
        elif tag == "option" and self._select == "f-theme" and attr.get("value"):
            self.theme_options.append(str(attr["value"]))
        elif tag == "script" and attr.get("id") == "report-data":
            self._in, self._text = "data", []
        elif tag == "table" and attr.get("class") == "matrix":
            self._table = True
        elif self._table and tag == "tr":
            self.rows.append([])
        elif self._table and tag in ("th", "td"):
            self._in, self._text = "cell", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = ""
        elif tag == "script" and self._in == "data":
            self.data, self._in = "".join(self._text), None
        elif tag == "table":
            self._table = False
        elif self._table and tag in ("th", "td") and self._in == "cell":
            self.rows[-1].append("".join(self._text).strip())
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("report")
    path = tmp / "2025_자문.txt"
    path.write_text(ROUND, encoding="utf-8")
    run_round([path], tmp / "run", RunOptions(embedder="tfidf", use_cache=False, seed=0))
    return tmp / "run"


def _report(run_dir: Path) -> _Report:
    page = _Report()
    page.feed((run_dir / "report.html").read_text(encoding="utf-8"))
    return page


def _matrix_csv(run_dir: Path) -> pd.DataFrame:
    return pd.read_csv(run_dir / "theme_program_matrix.csv", encoding="utf-8-sig", index_col=[0, 1])


def test_theme_choices_list_every_codebook_theme_in_codebook_order(run_dir: Path) -> None:
    codebook = list(load_codebook().ids)
    used = set(pd.read_csv(run_dir / "recommendations.csv", encoding="utf-8-sig")["theme_id"])
    assert set(codebook) - used, "the round should leave some codebook theme without a unit"
    page = _report(run_dir)
    choices = [t["id"] for t in json.loads(page.data)["themes"]]
    # The select boxes are built from the embedded list; the theme filter is rendered from the same one.
    assert choices == page.theme_options
    assert choices[: len(codebook)] == codebook
    assert choices[-1] == UNASSIGNED_ID
    assert set(choices) >= used


def test_report_matrix_has_the_csv_columns_and_counts(run_dir: Path) -> None:
    csv = _matrix_csv(run_dir)
    assert csv.columns[-1] == NO_CODE and int(csv[NO_CODE].sum()) > 0
    header, *body = _report(run_dir).rows
    assert header == ["주제", "권고 수", *csv.columns]
    assert [row[0] for row in body] == list(csv.index.get_level_values("theme_label"))
    # Empty cells show zero counts.
    assert [[int(v or 0) for v in row[2:]] for row in body] == csv.to_numpy().tolist()


def test_summary_matrix_has_the_csv_columns_and_counts(run_dir: Path) -> None:
    csv = _matrix_csv(run_dir)
    summary = (run_dir / "summary.md").read_text(encoding="utf-8")
    table = [line for line in summary.split("## 주제 × 사업 코드", 1)[1].splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in table]
    assert cells[0] == ["주제", *csv.columns]
    assert [row[0] for row in cells[2:]] == list(csv.index.get_level_values("theme_label"))
    assert [[int(v or 0) for v in row[1:]] for row in cells[2:]] == csv.to_numpy().tolist()


def test_report_names_programs_from_the_registry(sample_run_dir: Path) -> None:
    html = (sample_run_dir / "report.html").read_text(encoding="utf-8")
    assert '<option value="3-3-1">3-3-1 상생상회 운영</option>' in html
    assert 'title="서울농장·워케이션 운영">1-2-1</th>' in html
