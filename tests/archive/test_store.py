"""One round's rows: a failed write leaves the archive as it was, rounds are removed and listed (in Korean), every
table is exported as Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipeline.archive.db import TABLES
from pipeline.archive.rounds import add_round
from pipeline.cli import main
from pipeline.core.options import RunOptions
from tests.support.archive_rows import ROUND_2025, ROUND_TABLES, round_rows, sql


def test_failed_add_leaves_the_archive_as_it_was(built: dict, copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.archive.store as archive_module

    before = {t: sql(copy, f"select * from {t} order by all") for t in TABLES}
    original = archive_module._write_coding

    def half_then_fail(con, stored):
        original(con, stored)  # every row of the round is written ...
        raise OSError("disk full")  # ... and then the write fails

    monkeypatch.setattr(archive_module, "_write_coding", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        add_round(copy, [ROUND_2025], "2026 자문", RunOptions(cache_dir=built["cache"]))
    assert {t: sql(copy, f"select * from {t} order by all") for t in TABLES} == before
    fresh = copy.with_name("fresh.duckdb")
    with pytest.raises(OSError, match="disk full"):
        add_round(fresh, [ROUND_2025], "2025 자문", RunOptions(cache_dir=built["cache"]), model_dir=built["model"])
    assert not fresh.exists()


def test_remove_and_list(copy: Path, capsys: pytest.CaptureFixture, built: dict) -> None:
    assert main(["archive", "remove", "--archive", str(copy), "--round", "2025 자문", "--quiet"]) == 0
    for table in ROUND_TABLES:
        assert sql(copy, f"select count(*) from {table} where round_name = '2025 자문'") == [(0,)]
    assert round_rows(copy, "2024 자문") == built["before_2024"]
    assert main(["archive", "remove", "--archive", str(copy), "--round", "2025 자문"]) == 2
    assert "보관소에 '2025 자문' 회차가 없습니다" in capsys.readouterr().err
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    listing = capsys.readouterr().out
    assert "2024 자문" in listing and "2025 자문" not in listing and "52" in listing


def test_export_writes_each_table_as_parquet(built: dict, tmp_path: Path) -> None:
    assert main(["archive", "export", "--archive", str(built["archive"]), "--out", str(tmp_path / "x"),
                 "--quiet"]) == 0
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    units = pd.read_parquet(tmp_path / "x" / "units.parquet")
    assert len(units) == 71 and list(units.columns[:3]) == ["round_name", "rec_id", "round"]
    assert units["round_name"].tolist() == ["2024 자문"] * 52 + ["2025 자문"] * 19


def test_archive_list_speaks_korean(copy: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:4] == ["회차", "날짜", "권고", "수"] and "연구자" in header
