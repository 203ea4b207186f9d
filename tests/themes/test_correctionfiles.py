"""Reading corrections files: with or without a BOM, every bad line of every file named in one message, labels and
other cases accepted for ids, researcher themes made from labels, discovered ids waiting for the fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import ThemeInfo
from pipeline.themes.correctionfiles import load_record
from pipeline.themes.corrections import (
    CodingRecord,
    researcher_theme_id,
    settle,
)
from tests.support.coding_record import THEMES, write_record


def _rows(record: CodingRecord) -> list[tuple[str, str, str]]:
    return [(c.rec_id, c.theme_id, c.theme_label) for f in record.files for c in f.rows]


@pytest.mark.parametrize("bom", [False, True])
def test_reads_with_or_without_bom_notes_and_extra_columns(tmp_path: Path, bom: bool) -> None:
    path = write_record(tmp_path, "theme_id,reviewer,rec_id,note\nsales_channels,김,r2,\"판로 얘기, 명확함\"\n\n"
                            "branding,,r1,\n", bom=bom)
    record = load_record([path], THEMES)
    rows = record.files[0].rows
    assert [(c.rec_id, c.theme_id, c.note, c.line, c.source) for c in rows] == [
        ("r2", "sales_channels", "판로 얘기, 명확함", 2, "file"), ("r1", "branding", "", 4, "file")]
    assert record.run_info() == [{"path": str(path), "sha256": record.files[0].sha256, "rows": 2}]


def test_every_bad_line_of_every_file_is_named_in_one_message(tmp_path: Path) -> None:
    first = write_record(tmp_path, "rec_id,theme_id\nr1,performance_evalution\nr2,\n,branding\nr3,tourism\n", "a.csv")
    second = write_record(tmp_path, "rec_id,theme_id,note\nr4,branding,\"never closed\nr5,branding,x\n", "b.csv")
    third = write_record(tmp_path, "rec_id,theme_id,note\nr6,branding," + "가" * 140_000 + "\n", "c.csv")
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
        load_record([write_record(tmp_path, text)], THEMES)


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cp949.csv"
    path.write_bytes("rec_id,theme_id\nr1,브랜딩\n".encode("cp949"))
    with pytest.raises(InputError, match="UTF-8 텍스트가 아닙니다"):
        load_record([path], THEMES)
    with pytest.raises(InputError, match="수정 파일이 없습니다"):
        load_record([tmp_path / "nope.csv"], THEMES)


def test_labels_and_other_cases_are_accepted_for_ids(tmp_path: Path) -> None:
    path = write_record(tmp_path, "rec_id,theme_id\nr1,판로·유통\nr2,BRANDING\nr3,미분류\n")
    assert _rows(load_record([path], THEMES)) == [("r1", "sales_channels", "판로·유통"),
                                                  ("r2", "branding", "브랜딩·홍보·소통"), ("r3", "unassigned", "미분류")]


def test_a_label_for_an_unknown_theme_makes_a_researcher_theme(tmp_path: Path) -> None:
    path = write_record(tmp_path, "rec_id,theme_id,theme_label\nr1,,기후·환경\nr2,climate,기후위기\nr3,기후·환경,\n"
                            "r4,researcher_abc,판로·유통\n")
    with pytest.raises(InputError, match="5행: 주제 이름 '판로·유통'은\\(는\\) 이미 sales_channels 주제의 이름입니다"):
        load_record([path], THEMES)
    path = write_record(tmp_path, "rec_id,theme_id,theme_label\nr1,,기후·환경\nr2,climate,기후위기\nr3,기후·환경,\n")
    record = load_record([path], THEMES)
    climate = researcher_theme_id("기후·환경")
    assert climate == researcher_theme_id(" 기후·환경 ") and climate.startswith("researcher_")
    assert _rows(record) == [("r1", climate, "기후·환경"), ("r2", "climate", "기후위기"), ("r3", climate, "기후·환경")]
    assert record.new_themes == {climate: "기후·환경", "climate": "기후위기"}
    rows = [c for f in record.files for c in f.rows]
    assert settle(rows, THEMES) == ({climate: "기후·환경", "climate": "기후위기"}, {})


def test_discovered_ids_wait_for_the_fit_and_a_new_label_renames_them(tmp_path: Path) -> None:
    path = write_record(tmp_path, "rec_id,theme_id,theme_label\nr1,discovered_02,\nr2,discovered_01,청년 주거\n")
    with pytest.raises(InputError, match="discovered_02"):
        load_record([path], THEMES)
    record = load_record([path], THEMES, provisional=lambda theme_id: theme_id.startswith("discovered_"))
    rows = [c for f in record.files for c in f.rows]
    fitted = [*THEMES, ThemeInfo("discovered_01", "새 주제 후보: 주거", "discovered")]
    with pytest.raises(InputError, match="corrections.csv 2행: 이 실행에는 discovered_02 주제가 없습니다"):
        settle(rows, fitted)
    fitted.append(ThemeInfo("discovered_02", "새 주제 후보: 교통", "discovered"))
    assert settle(rows, fitted) == ({}, {"discovered_01": "청년 주거"})
