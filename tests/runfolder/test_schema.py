"""The run folder's schema: the CSV rules, recommendations.csv's columns in contract order with every unit,
themes.csv, the coding record's bytes, advisory parse's unit file, and records read back from their rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.records import Assignment
from pipeline.runfolder.schema import (
    CONTRACT_COLUMNS,
    RECORD_COLUMNS,
    assignment_from_cells,
    card_from_cells,
    corrections_csv,
    recommendations_frame,
    themes_frame,
    unit_from_cells,
    units_file,
)
from pipeline.themes.corrections import Correction
from tests.support.sample_run import sample_run

BOM = b"\xef\xbb\xbf"


def test_csvs_have_bom_lf_and_intact_korean(sample_run_dir: Path) -> None:
    for name in ("recommendations.csv", "themes.csv", "theme_program_matrix.csv"):
        raw = (sample_run_dir / name).read_bytes()
        assert raw.startswith(BOM), name
        assert b"\r\n" not in raw, name
    text = (sample_run_dir / "recommendations.csv").read_bytes()[len(BOM):].decode("utf-8")
    assert "랜선나눔캠퍼스 수료인원" in text
    assert "넥스트로컬" in text


def test_recommendations_columns_in_contract_order_and_no_unit_dropped(sample_run_dir: Path) -> None:
    units, _, _, _ = sample_run()
    frame = pd.read_csv(sample_run_dir / "recommendations.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str)
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


def test_parquet_matches_csv_rows(sample_run_dir: Path) -> None:
    frame = pd.read_parquet(sample_run_dir / "recommendations.parquet")
    assert tuple(frame.columns[: len(CONTRACT_COLUMNS)]) == CONTRACT_COLUMNS
    assert len(frame) == 12


def test_unknown_rec_id_in_assignments_is_rejected() -> None:
    units, assignments, _, _ = sample_run()
    with pytest.raises(ValueError, match="unknown rec_id"):
        recommendations_frame(units, [*assignments, Assignment("없는-999", "branding", "브랜딩", 0.5, "codebook")])


def test_themes_frame_joins_lists() -> None:
    _, _, cards, _ = sample_run()
    frame = themes_frame(cards)
    assert list(frame.columns[:7]) == ["theme_id", "theme_label", "theme_source", "size", "keywords",
                                       "representative_rec_ids", "program_codes"]
    branding = frame.set_index("theme_id").loc["branding"]
    assert branding["keywords"] == "홍보;브랜드;상생상회"
    assert branding["program_codes"] == "3-3-1:2;NL:1"
    assert branding["size"] == 3


def test_record_bytes_have_every_column_and_formula_safe_cells() -> None:
    rows = [Correction("r2", "sales_channels", "판로·유통", "노트, 쉼표", "report", "2025-01-01T00:00:00Z", "unassigned"),
            Correction("r3", "researcher_1", "기후·환경", "=1+2.qdpx")]
    text = corrections_csv(rows).decode("utf-8")
    assert text.splitlines() == ["\ufeff" + ",".join(RECORD_COLUMNS),
                                 'r2,sales_channels,판로·유통,"노트, 쉼표",report,2025-01-01T00:00:00Z,unassigned',
                                 "r3,researcher_1,기후·환경,'=1+2.qdpx,file,,"]


def test_a_unit_file_refuses_duplicate_ids() -> None:
    unit = sample_run()[0][0]
    with pytest.raises(ValueError, match=unit.rec_id):
        units_file([unit, unit], ".csv")


def test_rows_read_back_as_the_records_they_were_made_from() -> None:
    """A unit, its assignment and a card become rows one way and come back from all-text cells the same."""
    units, assignments, cards, _ = sample_run()
    frame = recommendations_frame(units, assignments).astype(object)
    cells = frame.where(frame.notna(), "").astype(str)
    by_rec = {a.rec_id: a for a in assignments}
    for unit, row in zip(units, cells.itertuples(index=False), strict=True):
        assert unit_from_cells(row) == replace(unit, subpoints=(), notes=())  # they are in the text already
        a = by_rec.get(unit.rec_id)
        if a is not None:  # scores are kept to 4 decimals, as the file has them
            assert assignment_from_cells(row) == replace(a, theme_score=round(a.theme_score, 4), theme_margin=None
                                                         if a.theme_margin is None else round(a.theme_margin, 4))
    themes = themes_frame(cards).astype(str)
    for card, row in zip(cards, themes.itertuples(index=False), strict=True):
        assert card_from_cells(row) == replace(card, member_counts=(), agenda_counts=())
