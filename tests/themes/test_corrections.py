"""The coding record: reading corrections files (every bad line at once, labels for ids, near-miss
suggestions, researcher themes), merging several in order, keeping one round's rows, applying them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import Assignment, ThemeInfo
from pipeline.themes.correctionfiles import load_record
from pipeline.themes.corrections import (
    CodingRecord,
    Correction,
    apply_corrections,
    researcher_theme_id,
    settle,
)

THEMES = [ThemeInfo("branding", "브랜딩·홍보·소통", "codebook"), ThemeInfo("sales_channels", "판로·유통", "codebook"),
          ThemeInfo("performance_evaluation", "성과평가·지표", "codebook")]
LABELS = {t.theme_id: t.label for t in THEMES}
ASSIGNMENTS = [
    Assignment("r1", "branding", "브랜딩·홍보·소통", 0.8, "codebook"),
    Assignment("r2", "", "", 0.1, "unassigned"),
    Assignment("r3", "performance_evaluation", "성과평가·지표", 0.7, "codebook", "branding", 0.05, True),
]


def _write(tmp_path: Path, text: str, name: str = "corrections.csv", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _rows(record: CodingRecord) -> list[tuple[str, str, str]]:
    return [(c.rec_id, c.theme_id, c.theme_label) for f in record.files for c in f.rows]


@pytest.mark.parametrize("bom", [False, True])
def test_reads_with_or_without_bom_notes_and_extra_columns(tmp_path: Path, bom: bool) -> None:
    path = _write(tmp_path, "theme_id,reviewer,rec_id,note\nsales_channels,김,r2,\"판로 얘기, 명확함\"\n\n"
                            "branding,,r1,\n", bom=bom)
    record = load_record([path], THEMES)
    rows = record.files[0].rows
    assert [(c.rec_id, c.theme_id, c.note, c.line, c.source) for c in rows] == [
        ("r2", "sales_channels", "판로 얘기, 명확함", 2, "file"), ("r1", "branding", "", 4, "file")]
    assert record.run_info() == [{"path": str(path), "sha256": record.files[0].sha256, "rows": 2}]


def test_every_bad_line_of_every_file_is_named_in_one_message(tmp_path: Path) -> None:
    first = _write(tmp_path, "rec_id,theme_id\nr1,performance_evalution\nr2,\n,branding\nr3,tourism\n", "a.csv")
    second = _write(tmp_path, "rec_id,theme_id,note\nr4,branding,\"never closed\nr5,branding,x\n", "b.csv")
    third = _write(tmp_path, "rec_id,theme_id,note\nr6,branding," + "가" * 140_000 + "\n", "c.csv")
    with pytest.raises(InputError) as err:
        load_record([first, second, third], THEMES)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{first}: 수정 파일 오류 6건 — ")
    parts = message.split(" — ", 1)[1].split("; ")
    assert parts[0] == "a.csv 2행: 'performance_evalution'은(는) 코드북에도 모델에도 없는 주제입니다 " \
                       "(혹시 performance_evaluation?)"
    assert [p.split(":")[0] for p in parts if "행" in p.split(":")[0]] == [
        "a.csv 2행", "a.csv 3행", "a.csv 4행", "a.csv 5행", "b.csv 2행", "c.csv 2행"]
    assert "r2의 theme_id가 비어 있습니다" in message and "rec_id가 비어 있습니다" in message
    assert "b.csv 2행: 따옴표(\")가 닫히지 않았습니다" in message
    assert "c.csv 2행: 칸 하나가 128 KB를 넘습니다" in message


@pytest.mark.parametrize("text, reason", [
    ("rec,theme\nr1,branding\n", "corrections.csv 1행: 수정 파일에는 rec_id 열과 theme_id(또는 theme_label) 열이 있어야"),
    ("rec_id,theme_id\nr1,branding\nr1,sales_channels\n", "corrections.csv 3행: r1가 2행에서는 branding, 여기서는 "
                                                          "sales_channels(으)로 코딩되어 있습니다"),
    ("rec_id,theme_id,source\nr1,branding,email\n", "source 'email'는 report, qdpx, file 중 하나여야 합니다"),
])
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, reason: str) -> None:
    with pytest.raises(InputError, match=re.escape(reason)):
        load_record([_write(tmp_path, text)], THEMES)


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cp949.csv"
    path.write_bytes("rec_id,theme_id\nr1,브랜딩\n".encode("cp949"))
    with pytest.raises(InputError, match="UTF-8 텍스트가 아닙니다"):
        load_record([path], THEMES)
    with pytest.raises(InputError, match="수정 파일이 없습니다"):
        load_record([tmp_path / "nope.csv"], THEMES)


def test_labels_and_other_cases_are_accepted_for_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, "rec_id,theme_id\nr1,판로·유통\nr2,BRANDING\nr3,미분류\n")
    assert _rows(load_record([path], THEMES)) == [("r1", "sales_channels", "판로·유통"),
                                                  ("r2", "branding", "브랜딩·홍보·소통"), ("r3", "unassigned", "미분류")]


def test_a_label_for_an_unknown_theme_makes_a_researcher_theme(tmp_path: Path) -> None:
    path = _write(tmp_path, "rec_id,theme_id,theme_label\nr1,,기후·환경\nr2,climate,기후위기\nr3,기후·환경,\n"
                            "r4,researcher_abc,판로·유통\n")
    with pytest.raises(InputError, match="5행: 주제 이름 '판로·유통'은\\(는\\) 이미 sales_channels 주제의 이름입니다"):
        load_record([path], THEMES)
    path = _write(tmp_path, "rec_id,theme_id,theme_label\nr1,,기후·환경\nr2,climate,기후위기\nr3,기후·환경,\n")
    record = load_record([path], THEMES)
    climate = researcher_theme_id("기후·환경")
    assert climate == researcher_theme_id(" 기후·환경 ") and climate.startswith("researcher_")
    assert _rows(record) == [("r1", climate, "기후·환경"), ("r2", "climate", "기후위기"), ("r3", climate, "기후·환경")]
    assert record.new_themes == {climate: "기후·환경", "climate": "기후위기"}
    rows = [c for f in record.files for c in f.rows]
    assert settle(rows, THEMES) == ({climate: "기후·환경", "climate": "기후위기"}, {})


def test_discovered_ids_wait_for_the_fit_and_a_new_label_renames_them(tmp_path: Path) -> None:
    path = _write(tmp_path, "rec_id,theme_id,theme_label\nr1,discovered_02,\nr2,discovered_01,청년 주거\n")
    with pytest.raises(InputError, match="discovered_02"):
        load_record([path], THEMES)
    record = load_record([path], THEMES, provisional=lambda theme_id: theme_id.startswith("discovered_"))
    rows = [c for f in record.files for c in f.rows]
    fitted = [*THEMES, ThemeInfo("discovered_01", "새 주제 후보: 주거", "discovered")]
    with pytest.raises(InputError, match="corrections.csv 2행: 이 실행에는 discovered_02 주제가 없습니다"):
        settle(rows, fitted)
    fitted.append(ThemeInfo("discovered_02", "새 주제 후보: 교통", "discovered"))
    assert settle(rows, fitted) == ({}, {"discovered_01": "청년 주거"})


def test_files_merge_in_order_later_wins_and_each_conflict_is_one_line(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    report = _write(tmp_path, "rec_id,theme_id,source,previous_theme_id\nr1,sales_channels,report,branding\n"
                              "r3,branding,report,performance_evaluation\n", "report.csv")
    # A QDA project exported before the report's edits: it keeps r1 and r3 as the run had them, and recodes r2.
    qdpx = _write(tmp_path, "rec_id,theme_id,source,previous_theme_id\nr1,branding,qdpx,branding\n"
                            "r2,performance_evaluation,qdpx,unassigned\nr3,sales_channels,qdpx,performance_evaluation\n",
                  "recoded.csv")
    record = load_record([report, qdpx], THEMES)
    with caplog.at_level(logging.INFO):
        merged = record.for_round(["r1", "r2", "r3"])
    assert [(c.rec_id, c.theme_id, c.source) for c in merged] == [
        ("r1", "sales_channels", "report"), ("r2", "performance_evaluation", "qdpx"), ("r3", "sales_channels", "qdpx")]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["r3: report.csv 3행(report)의 branding 대신 recoded.csv 4행(qdpx)의 sales_channels를 따릅니다"]
    assert any("이전 결정 1건은 그대로 둡니다" in r.getMessage() for r in caplog.records)


def test_a_file_of_another_round_is_an_error_other_rounds_rows_one_warning(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    mixed = _write(tmp_path, "rec_id,theme_id\nr2,sales_channels\nold1,branding\nold2,branding\n", "mixed.csv")
    other = _write(tmp_path, "rec_id,theme_id\nold3,branding\n", "other.csv")
    with pytest.raises(InputError, match="other.csv: 1건 모두 이 회차에 없는 rec_id입니다"):
        load_record([mixed, other], THEMES).for_round(["r1", "r2", "r3"])
    with caplog.at_level(logging.WARNING):
        kept = load_record([mixed], THEMES).for_round(["r1", "r2", "r3"])
    assert [c.rec_id for c in kept] == ["r2"]
    assert [r.getMessage() for r in caplog.records] == ["수정 파일의 rec_id 2건은 이 회차에 없어 건너뜁니다: old1, old2"]
    # A run folder's own record of another round is not carried over, and is no error.
    own = load_record([], THEMES, prior=other)
    assert own.for_round(["r1"]) == [] and own.run_info() == [{"path": str(other), "sha256": own.files[0].sha256,
                                                              "rows": 1}]


def test_apply_gives_decided_units_their_theme_and_leaves_the_input() -> None:
    rows = [Correction("r2", "sales_channels", "판로·유통", "노트, 쉼표", "report", "2025-01-01T00:00:00Z", "unassigned"),
            Correction("r3", "researcher_1", "기후·환경")]
    out = apply_corrections(ASSIGNMENTS, rows, LABELS)
    assert out[0] == ASSIGNMENTS[0]
    assert out[1] == Assignment("r2", "sales_channels", "판로·유통", 1.0, "researcher")
    assert out[2] == Assignment("r3", "researcher_1", "기후·환경", 1.0, "researcher")
    assert ASSIGNMENTS[1].theme_source == "unassigned"  # the input is not changed
