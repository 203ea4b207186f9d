"""evaluate(): matching gold keys to units and the agreement metrics, on small hand-made files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.study.evaluate import GOLD_COLUMNS, evaluate, format_table, write_json

# The columns of recommendations.csv that every reader of a run folder needs (theme labels left to the codebook).
RUN_COLUMNS = ("rec_id", "text", "theme_id", "program_codes", "fields", "theme_label", "theme_source", "member")


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
        ("r1", "① 서울시정의 비전과  시민이 공감할 수 있는 브랜딩 필요", "branding", "", "", "", "codebook", "1"),
        ("r2", "(3-3-1) 상생상회 운영 및 판로 지원", "sales_channels", "3-3-1;NL", "3", "", "codebook", "1"),
        ("r3", "성과지표를 정량과 정성으로 보완", "performance_evaluation", "NL", "1;2", "", "codebook", "2"),
        ("r4", "청년 창업 자금 지원", "sales_channels", "NL", "", "", "codebook", "2"),
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
    assert result["per_theme"]["startup_support"]["accuracy"] == 1.0
    assert result["mode"] == "codebook" and result["mapped_accuracy"] == 1.0
    table = format_table(result)
    assert "accuracy" in table and "맞추지 못한 정답 권고: G5" in table


# Three gold rows the run's units agree with (theme, programs and fields); tests add a fourth that may not.
AGREED = [
        ("G1", "서울시정의 비전과", "branding", "branding", "", ""),
        ("G2", "(3-3-1) 상생상회", "sales_channels", "sales_channels", "3-3-1;NL", "3"),
        ("G3", "성과지표를", "performance_evaluation", "performance_evaluation", "NL", "1;2"),
]


def test_perfect_agreement_scores_one(tmp_path, run_dir):
    gold = _write(tmp_path / "perfect.csv", GOLD_COLUMNS, [
        *AGREED,
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
    with pytest.raises(InputError, match="정답 코딩을 읽을 수 없습니다"):
        evaluate(tmp_path / "missing.csv", run_dir)
    broken = _write(tmp_path / "broken.csv", ("unit", "key"), [("G1", "x")])
    with pytest.raises(InputError, match="열이 없습니다"):
        evaluate(broken, run_dir)
    with pytest.raises(InputError, match="결과 폴더가 아닙니다"):
        evaluate(gold, tmp_path)
    nothing = _write(tmp_path / "nothing.csv", GOLD_COLUMNS, [("G1", "없는 문장", "branding", "branding", "", "")])
    with pytest.raises(InputError, match="정답의 어느 키도"):
        evaluate(nothing, run_dir)


def test_kappa_f1_and_confusion_on_a_wrong_unit(tmp_path, run_dir):
    # G4 accepts only startup_support, but the run says sales_channels.
    gold = _write(tmp_path / "strict.csv", GOLD_COLUMNS, [
        *AGREED,
        ("G4", "청년 창업", "startup_support", "startup_support", "NL", ""),
    ])
    result = evaluate(gold, run_dir)
    assert result["accuracy"] == 0.75
    # Observed agreement 3/4; chance agreement sum(p_gold * p_pred) = 2 * (1/4 * 1/4) + 1/4 * 2/4 = 1/4.
    assert result["kappa"] == pytest.approx((0.75 - 0.25) / (1 - 0.25), abs=1e-4)
    sales, startup = result["per_theme"]["sales_channels"], result["per_theme"]["startup_support"]
    assert (sales["precision"], sales["recall"]) == (0.5, 1.0) and sales["f1"] == pytest.approx(2 / 3, abs=1e-4)
    assert (startup["precision"], startup["recall"], startup["f1"]) == (0.0, 0.0, 0.0)
    conf = result["confusion"]
    row = conf["counts"][conf["gold"].index("startup_support")]
    assert row[conf["predicted"].index("sales_channels")] == 1 and sum(row) == 1
    assert sum(conf["counts"][i][conf["predicted"].index(g)] for i, g in enumerate(conf["gold"])
               if g in conf["predicted"]) == 3  # the diagonal is the 3 correct units
    table = format_table(result)
    assert "startup_support" in table and "F1" in table and "kappa" in table


def test_discovery_run_reports_mapped_accuracy_not_zero(tmp_path, gold):
    folder = tmp_path / "discovery"
    folder.mkdir()
    _write(folder / "recommendations.csv", RUN_COLUMNS, [
        ("r1", "서울시정의 비전과 시민이 공감할 수 있는 브랜딩 필요", "discovered_02", "", "", "", "discovered", "1"),
        ("r2", "(3-3-1) 상생상회 운영 및 판로 지원", "discovered_01", "3-3-1", "3", "", "discovered", "1"),
        ("r3", "성과지표를 정량과 정성으로 보완", "discovered_01", "NL", "1;2", "", "discovered", "2"),
        ("r4", "청년 창업 자금 지원", "discovered_03", "NL", "", "", "discovered", "2"),
    ])
    result = evaluate(gold, folder)
    assert result["mode"] == "discovery" and result["accuracy"] is None
    # discovered_02 -> branding, discovered_03 -> startup_support, discovered_01 -> one of its two gold
    # themes: 3 of 4 units right under the best one-to-one matching.
    assert result["mapped_accuracy"] == 0.75
    table = format_table(result)
    assert "발견 모드 결과" in table and "mapped_accuracy    0.7500" in table
    assert "accuracy           -\n" in table


def test_out_writes_confusion_csv_and_png_with_korean_labels(tmp_path, gold, run_dir):
    path = write_json(evaluate(gold, run_dir), tmp_path / "eval" / "metrics.json")
    csv_path, png_path = tmp_path / "eval" / "metrics.confusion.csv", tmp_path / "eval" / "metrics.confusion.png"
    raw = csv_path.read_bytes()
    assert path.is_file() and raw.startswith(b"\xef\xbb\xbf")
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "정답 주제" and "판로·유통" in rows[0]
    by_gold = {row[0]: row[1:] for row in rows[1:]}
    assert by_gold["브랜딩·홍보·소통"][rows[0].index("브랜딩·홍보·소통") - 1] == "1"
    from PIL import Image

    with Image.open(png_path) as image:
        assert image.format == "PNG" and image.width > 200
