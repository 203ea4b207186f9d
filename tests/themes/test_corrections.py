"""The coding record: several files merged in order (the later wins, a kept theme does not undo a decision),
one round's rows kept, decisions settled against a model's themes and applied (reading the files:
``test_correctionfiles.py``)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import Assignment
from pipeline.themes.correctionfiles import load_record
from pipeline.themes.corrections import (
    Correction,
    apply_corrections,
)
from tests.support.coding_record import THEMES, write_record

LABELS = {t.theme_id: t.label for t in THEMES}
ASSIGNMENTS = [
    Assignment("r1", "branding", "브랜딩·홍보·소통", 0.8, "codebook"),
    Assignment("r2", "", "", 0.1, "unassigned"),
    Assignment("r3", "performance_evaluation", "성과평가·지표", 0.7, "codebook", "branding", 0.05, True),
]


def test_files_merge_in_order_later_wins_and_each_conflict_is_one_line(tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    report = write_record(tmp_path, "rec_id,theme_id,source,previous_theme_id\nr1,sales_channels,report,branding\n"
                              "r3,branding,report,performance_evaluation\n", "report.csv")
    # A QDA project exported before the report's edits: it keeps r1 and r3 as the run had them, and recodes r2.
    qdpx = write_record(tmp_path, "rec_id,theme_id,source,previous_theme_id\nr1,branding,qdpx,branding\n"
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
    mixed = write_record(tmp_path, "rec_id,theme_id\nr2,sales_channels\nold1,branding\nold2,branding\n", "mixed.csv")
    other = write_record(tmp_path, "rec_id,theme_id\nold3,branding\n", "other.csv")
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
