"""Run-folder exporter: CONTRACT files, encodings, column order, matrices, determinism, atomic writes."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.text import Text
from openpyxl import load_workbook

from pipeline.core.records import Assignment
from pipeline.runfolder.folder import write_run
from pipeline.runfolder.matrices import (
    NO_CODE,
    cell_units,
    complete_matrix,
    field_matrix,
    member_matrix,
    program_matrix,
    sort_program_codes,
)
from pipeline.runfolder.plots import heatmap, korean_font_path, korean_style
from pipeline.runfolder.schema import CONTRACT_COLUMNS, recommendations_frame, themes_frame
from tests.support.sample_run import sample_run

RUN_FILES = (
    "recommendations.csv", "themes.csv", "theme_program_matrix.csv", "theme_program_matrix.xlsx",
    "recommendations.parquet", "heatmap.png", "heatmap.svg", "report.html", "summary.md", "run.json",
)
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    units, assignments, cards, run_info = sample_run()
    return write_run(tmp_path_factory.mktemp("runs") / "run", units, assignments, cards, run_info)


def test_run_folder_has_every_contract_file(run_dir: Path) -> None:
    for name in RUN_FILES:
        assert (run_dir / name).is_file(), name
        assert (run_dir / name).stat().st_size > 0, name
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"


def test_csvs_have_bom_lf_and_intact_korean(run_dir: Path) -> None:
    for name in ("recommendations.csv", "themes.csv", "theme_program_matrix.csv"):
        raw = (run_dir / name).read_bytes()
        assert raw.startswith(BOM), name
        assert b"\r\n" not in raw, name
    text = (run_dir / "recommendations.csv").read_bytes()[len(BOM):].decode("utf-8")
    assert "랜선나눔캠퍼스 수료인원" in text
    assert "넥스트로컬" in text


def test_recommendations_columns_in_contract_order_and_no_unit_dropped(run_dir: Path) -> None:
    units, _, _, _ = sample_run()
    frame = pd.read_csv(run_dir / "recommendations.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert tuple(frame.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert list(frame.columns[len(CONTRACT_COLUMNS):]) == [
        "theme_runner_up", "theme_margin", "needs_review", "member_label", "tags", "unknown_codes", "lead"]
    assert frame["rec_id"].tolist() == [u.rec_id for u in units]
    row = frame.set_index("rec_id")
    # The unit with no assignment at all and the one the model left unassigned both keep their rows.
    assert row.loc["2024_자문-007", "theme_source"] == "unassigned"
    assert row.loc["2024_자문-007", "unknown_codes"] == "9-9-9"
    # A unit the model gave no theme has no runner-up and is queued for review.
    assert row.loc["2024_자문-007", ["theme_runner_up", "theme_margin", "needs_review"]].tolist() == ["", "", "1"]
    assert row.loc["2024_자문-012", "theme_source"] == "unassigned"
    assert row.loc["2024_자문-012", "member"] == ""
    assert row.loc["2024_자문-001", "theme_score"] == "0.8123"
    assert row.loc["2024_자문-011", "code_sources"] == "3-3-1:explicit;NL:agenda"
    assert row.loc["2024_자문-011", "program_codes"] == "3-3-1;NL"
    assert row.loc["2024_자문-006", "text"].endswith("- 체류 기간별 인센티브 설계")


def test_parquet_matches_csv_rows(run_dir: Path) -> None:
    frame = pd.read_parquet(run_dir / "recommendations.parquet")
    assert tuple(frame.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert len(frame) == 12


def test_unknown_rec_id_in_assignments_is_rejected() -> None:
    units, assignments, _, _ = sample_run()
    with pytest.raises(ValueError, match="unknown rec_id"):
        recommendations_frame(units, [*assignments, Assignment("없는-999", "branding", "브랜딩", 0.5, "codebook")])


def test_program_codes_sort_naturally_with_nl_last() -> None:
    assert sort_program_codes(["NL", "3-3-1", "1-10-1", "1-2-1", "2-3-6", "1-2-1"]) == [
        "1-2-1", "1-10-1", "2-3-6", "3-3-1", "NL"]


def test_program_matrix_counts_and_order() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = program_matrix(units, assignments, cards)
    assert list(matrix.columns) == ["1-2-1", "1-10-1", "3-3-1", "NL"]
    assert list(matrix.index.get_level_values("theme_id")) == [
        "branding", "living_population", "nextlocal_roles", "performance_evaluation", "unassigned"]
    counts = matrix.droplevel("theme_label")
    assert counts.loc["branding", "3-3-1"] == 2
    assert counts.loc["branding", "NL"] == 1
    assert counts.loc["nextlocal_roles", "NL"] == 2
    assert counts.loc["performance_evaluation"].tolist() == [1, 1, 1, 1]
    assert counts.loc["unassigned", "NL"] == 1
    # Every (unit, code) pair lands in exactly one cell.
    assert int(matrix.to_numpy().sum()) == sum(len(u.program_codes) for u in units)


def test_field_matrix_rolls_codes_up_once_per_unit() -> None:
    units, assignments, cards, _ = sample_run()
    fields = field_matrix(units, assignments, cards).droplevel("theme_label")
    assert list(fields.columns) == ["1 인적교류", "2 정보교류", "3 물자교류", "NL"]
    assert fields.loc["living_population", "1 인적교류"] == 2
    assert fields.loc["performance_evaluation", "1 인적교류"] == 2
    assert fields["2 정보교류"].sum() == 0


def test_complete_matrix_counts_every_unit_at_least_once() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = complete_matrix(units, assignments, cards)
    assert list(matrix.columns) == ["1-2-1", "1-10-1", "3-3-1", "NL", NO_CODE]
    uncoded = [u for u in units if not u.program_codes]
    assert uncoded, "the sample needs a unit without a program code"
    assert int(matrix[NO_CODE].sum()) == len(uncoded)
    # Each unit adds one per code it cites, or one to (코드 없음): the cells add up to that, never less.
    assert int(matrix.to_numpy().sum()) == sum(max(len(u.program_codes), 1) for u in units)
    assert (matrix.sum(axis=1) > 0).all()


def test_member_matrix_counts_each_unit_once() -> None:
    units, assignments, cards, _ = sample_run()
    members = member_matrix(units, assignments, cards)
    assert int(members.to_numpy().sum()) == len(units)
    assert list(members.columns) == list(complete_matrix(units, assignments, cards).index.get_level_values(1))


def test_cell_units_back_every_nonzero_cell() -> None:
    units, assignments, cards, _ = sample_run()
    matrix = complete_matrix(units, assignments, cards).droplevel("theme_label")
    cells = cell_units(units, assignments, cards)
    per_cell = cells.groupby(["theme_id", "program_code"]).size()
    for (theme_id, code), n in per_cell.items():
        assert matrix.loc[theme_id, code] == n
    assert len(cells) == int(matrix.to_numpy().sum())
    assert set(cells["rec_id"]) == {u.rec_id for u in units}
    assert cells.iloc[0]["theme_id"] == "branding"


def test_themes_frame_joins_lists() -> None:
    _, _, cards, _ = sample_run()
    frame = themes_frame(cards)
    assert list(frame.columns[:7]) == ["theme_id", "theme_label", "theme_source", "size", "keywords",
                                       "representative_rec_ids", "program_codes"]
    branding = frame.set_index("theme_id").loc["branding"]
    assert branding["keywords"] == "홍보;브랜드;상생상회"
    assert branding["program_codes"] == "3-3-1:2;NL:1"
    assert branding["size"] == 3


def test_xlsx_has_korean_sheets(run_dir: Path) -> None:
    units = sample_run()[0]
    wb = load_workbook(run_dir / "theme_program_matrix.xlsx")
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


def test_matrix_csv_has_the_no_code_column(run_dir: Path) -> None:
    matrix = pd.read_csv(run_dir / "theme_program_matrix.csv", encoding="utf-8-sig", index_col=[0, 1])
    assert matrix.columns[-1] == "(코드 없음)"
    assert int(matrix.to_numpy().sum()) == sum(max(len(u.program_codes), 1) for u in sample_run()[0])


def _chart_messages(draw: Callable[[], None]) -> list[str]:
    """Warnings and log records emitted while ``draw`` runs (matplotlib reports missing glyphs either way)."""
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw()
    finally:
        logger.removeHandler(handler)
    return [str(w.message) for w in caught] + records


def test_missing_glyph_detection_works(tmp_path: Path) -> None:
    """Control: a Hangul label in a Latin-only font is reported, so the check below can see tofu."""
    def draw() -> None:
        fig, ax = plt.subplots()
        ax.set_title("한글", fontfamily="DejaVu Sans")
        fig.savefig(tmp_path / "tofu.png")
        plt.close(fig)

    assert any("missing" in m for m in _chart_messages(draw))


def test_heatmap_renders_hangul_with_bundled_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    units, assignments, cards, _ = sample_run()
    matrix = program_matrix(units, assignments, cards)
    drawn: list[str] = []
    real_draw = Text.draw

    def recording_draw(self: Text, renderer: object) -> None:
        drawn.append(self.get_text())
        real_draw(self, renderer)

    monkeypatch.setattr(Text, "draw", recording_draw)
    messages = _chart_messages(lambda: heatmap(matrix, tmp_path / "h.png", tmp_path / "h.svg"))
    assert not [m for m in messages if "missing" in m or "Glyph" in m], messages
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "h.svg").read_bytes()

    with korean_style():
        resolved = font_manager.findfont(font_manager.FontProperties(family=plt.rcParams["font.family"]),
                                         fallback_to_default=False)
    assert Path(resolved) == korean_font_path()
    wide = {ch for text in drawn for ch in text if ord(ch) > 0x7F}
    assert {"브", "랜", "딩", "미", "분", "류"} <= wide  # theme labels were drawn
    cmap = TTFont(korean_font_path()).getBestCmap()
    assert sorted(ch for ch in wide if ord(ch) not in cmap) == []


def test_heatmap_of_an_empty_matrix(tmp_path: Path) -> None:
    heatmap(program_matrix([], []), tmp_path / "e.png")
    assert (tmp_path / "e.png").read_bytes().startswith(b"\x89PNG")


def test_report_names_programs_from_the_registry(run_dir: Path) -> None:
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert '<option value="3-3-1">3-3-1 상생상회 운영</option>' in html
    assert 'title="서울농장·워케이션 운영">1-2-1</th>' in html
