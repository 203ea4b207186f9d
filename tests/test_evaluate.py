"""evaluate(): matching gold keys to units and the agreement metrics, on small hand-made files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.evaluate import GOLD_COLUMNS, evaluate, format_table

RUN_COLUMNS = ("rec_id", "text", "theme_id", "program_codes", "fields")


def _write(path: Path, columns, rows) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(dict(zip(columns, row, strict=True)) for row in rows)
    return path


@pytest.fixture
def run_dir(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    _write(folder / "recommendations.csv", RUN_COLUMNS, [
        ("r1", "① 서울시정의 비전과  시민이 공감할 수 있는 브랜딩 필요", "branding", "", ""),
        ("r2", "(3-3-1) 상생상회 운영 및 판로 지원", "sales_channels", "3-3-1;NL", "3"),
        ("r3", "성과지표를 정량과 정성으로 보완", "performance_evaluation", "NL", "1;2"),
        ("r4", "청년 창업 자금 지원", "sales_channels", "NL", ""),
    ])
    return folder


@pytest.fixture
def gold(tmp_path):
    return _write(tmp_path / "gold.csv", GOLD_COLUMNS, [
        ("G1", "서울시정의 비전과 시민이", "branding", "branding", "", ""),
        ("G2", "(3-3-1) 상생상회 운영", "sales_channels", "sales_channels", "3-3-1", "3"),
        ("G3", "성과지표를 정량과", "performance_evaluation", "performance_evaluation", "NL", "1;2"),
        ("G4", "청년 창업 자금", "startup_support", "startup_support;sales_channels", "NL", ""),
        ("G5", "어디에도 없는 문장", "branding", "branding", "", ""),
    ])


def test_metrics_on_a_small_coding(gold, run_dir):
    result = evaluate(gold, run_dir)
    assert result["n_gold"] == 5 and result["n_matched"] == 4 and result["unmatched"] == ["G5"]
    # G4 is predicted sales_channels: acceptable, but not the gold theme_id.
    assert result["accuracy"] == 1.0
    assert result["kappa"] < 1.0 and result["ari"] < 1.0
    assert result["program_recall"] == 1.0
    assert result["program_precision"] == pytest.approx(3 / 4)
    assert result["fields_accuracy"] == 1.0
    assert result["per_theme"]["startup_support"] == {"n": 1, "correct": 1, "accuracy": 1.0}
    table = format_table(result)
    assert "accuracy" in table and "unmatched gold units: G5" in table


def test_perfect_agreement_scores_one(tmp_path, run_dir):
    gold = _write(tmp_path / "perfect.csv", GOLD_COLUMNS, [
        ("G1", "서울시정의 비전과", "branding", "branding", "", ""),
        ("G2", "(3-3-1) 상생상회", "sales_channels", "sales_channels", "3-3-1;NL", "3"),
        ("G3", "성과지표를", "performance_evaluation", "performance_evaluation", "NL", "1;2"),
        ("G4", "청년 창업", "sales_channels", "sales_channels", "NL", ""),
    ])
    result = evaluate(gold, run_dir)
    for name in ("accuracy", "ari", "ami", "nmi", "kappa", "program_precision", "program_recall"):
        assert result[name] == pytest.approx(1.0), name


def test_each_unit_matches_one_gold_row(tmp_path, run_dir):
    gold = _write(tmp_path / "twice.csv", GOLD_COLUMNS, [
        ("G1", "청년 창업", "startup_support", "startup_support", "NL", ""),
        ("G2", "청년 창업", "startup_support", "startup_support", "NL", ""),
    ])
    result = evaluate(gold, run_dir)
    assert result["n_matched"] == 1 and result["unmatched"] == ["G2"]


def test_bad_files_are_one_line_errors(tmp_path, run_dir, gold):
    with pytest.raises(InputError, match="cannot read gold coding"):
        evaluate(tmp_path / "missing.csv", run_dir)
    broken = _write(tmp_path / "broken.csv", ("unit", "key"), [("G1", "x")])
    with pytest.raises(InputError, match="lacks column"):
        evaluate(broken, run_dir)
    with pytest.raises(InputError, match="cannot read recommendations"):
        evaluate(gold, tmp_path)
    nothing = _write(tmp_path / "nothing.csv", GOLD_COLUMNS, [("G1", "없는 문장", "branding", "branding", "", "")])
    with pytest.raises(InputError, match="no gold key matches"):
        evaluate(nothing, run_dir)
