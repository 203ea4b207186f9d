"""Comparing two run folders written by write_run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.errors import InputError
from pipeline.runfolder.folder import write_run
from pipeline.study.compare import compare_programs, compare_runs, write_comparison
from tests.support.sample_run import sample_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compare")
    return (write_run(root / "2024", *sample_run("a")), write_run(root / "2025", *sample_run("b")))


def test_theme_shares_and_statuses(runs: tuple[Path, Path]) -> None:
    table = compare_runs(*runs).set_index("theme_label")
    assert list(table.columns) == ["units_a", "share_a", "units_b", "share_b", "share_change", "status"]
    assert table.loc["판로·유통"].to_dict() == {"units_a": 0, "share_a": 0.0, "units_b": 3, "share_b": 0.375,
                                              "share_change": 0.375, "status": "new"}
    assert table.loc["생활인구·체류", "status"] == "vanished"
    assert table.loc["미분류", "units_a"] == 2
    assert table.loc["미분류", "status"] == "vanished"
    assert table.loc["성과평가·지표", "status"] == "grew"
    assert table.loc["성과평가·지표", "share_change"] == pytest.approx(0.125)
    assert table.loc["브랜딩·홍보·소통", "status"] == "shrank"
    # Both runs' units are fully accounted for.
    assert table["units_a"].sum() == 12 and table["units_b"].sum() == 8
    assert table["share_change"].is_monotonic_decreasing


def test_tolerance_decides_stable(runs: tuple[Path, Path]) -> None:
    table = compare_runs(*runs, tolerance=0.05).set_index("theme_label")
    assert table.loc["넥스트로컬 협력체계·역할분담", "status"] == "stable"
    assert compare_runs(*runs, tolerance=0.01).set_index("theme_label").loc[
        "넥스트로컬 협력체계·역할분담", "status"] == "shrank"


def test_program_attention(runs: tuple[Path, Path]) -> None:
    table = compare_programs(*runs)
    assert table["program_code"].tolist() == ["1-2-1", "1-10-1", "2-3-6", "3-3-1", "NL"]
    rows = table.set_index("program_code")
    assert rows.loc["1-10-1", "status"] == "vanished"
    assert rows.loc["2-3-6", "status"] == "new"
    assert (rows.loc["3-3-1", "units_a"], rows.loc["3-3-1", "units_b"]) == (3, 3)
    assert rows.loc["3-3-1", "share_change"] == pytest.approx(0.375 - 0.25)
    assert (rows.loc["NL", "units_a"], rows.loc["NL", "units_b"]) == (5, 3)


def test_same_run_is_stable(runs: tuple[Path, Path]) -> None:
    table = compare_runs(runs[0], runs[0])
    assert set(table["status"]) == {"stable"}
    assert (table["share_change"] == 0).all()


def test_write_comparison_files(runs: tuple[Path, Path], tmp_path: Path) -> None:
    out = write_comparison(*runs, tmp_path / "cmp")
    for name in ("compare_themes.csv", "compare_programs.csv"):
        raw = (out / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    themes = pd.read_csv(out / "compare_themes.csv", encoding="utf-8-sig")
    assert "판로·유통" in set(themes["theme_label"])
    assert (out / "compare.png").read_bytes().startswith(b"\x89PNG")


def test_not_a_run_folder(tmp_path: Path, runs: tuple[Path, Path]) -> None:
    with pytest.raises(InputError, match="recommendations.csv 없음"):
        compare_runs(tmp_path, runs[1])


def test_compare_command(runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.cli import main

    a, b = runs
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out), "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["compare.png", "compare_programs.csv", "compare_themes.csv"]
    assert main(["compare", str(a), str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 2
    assert "missing" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
