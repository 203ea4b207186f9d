"""The archive file: an older schema gains its new columns when next written, a newer schema, a foreign file or
edited tables are refused, a held lock is one line, two writers at once both land."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.archive.db import open_archive
from pipeline.cli import main
from pipeline.core.errors import InputError
from tests.support.archive_rows import ROUND_2025, as_version_1, round_rows, sql

ROOT = Path(__file__).resolve().parents[2]


def test_version_1_archive_gains_confidence_when_next_written(built: dict, copy: Path) -> None:
    as_version_1(copy)
    # read-only use of an old file works and leaves it as it was
    assert main(["archive", "list", "--archive", str(copy)]) == 0
    assert sql(copy, "select value from meta where key = 'schema_version'") == [("1",)]
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "again",
                 "--cache-dir", str(built["cache"]), "--quiet"]) == 0
    assert sql(copy, "select value from meta where key = 'schema_version'") == [("3",)]
    counts = sql(copy, "select round_name, count(needs_review), count(*) from units group by 1 order by 1")
    # rows written before the upgrade have no confidence; the new round's rows all have it
    assert counts == [("2024 자문", 0, 52), ("2025 자문", 0, 19), ("again", 19, 19)]


def test_newer_schema_and_foreign_files_are_refused(copy: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    con = duckdb.connect(str(copy))
    con.execute("update meta set value = '99' where key = 'schema_version'")
    con.close()
    assert main(["archive", "list", "--archive", str(copy)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"오류: {copy}: 보관소 스키마 버전 99은(는) 이 advisory-themes가 읽는 버전(3)보다 새롭습니다; "
        "advisory-themes를 업그레이드하세요")
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(InputError, match="advisory 보관소가 아닙니다"):
        with open_archive(other):
            pass
    text = tmp_path / "notes.duckdb"
    text.write_text("회의록" * 100, encoding="utf-8")
    with pytest.raises(InputError, match="읽을 수 있는 DuckDB 보관소가 아닙니다"):
        with open_archive(text):
            pass


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def test_a_held_lock_gives_a_one_line_message(copy: Path) -> None:
    holder = duckdb.connect(str(copy))  # this process writes the file ...
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(_cli("archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", "x",
                                   "--wait", "1"), capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    finally:
        holder.close()
    assert done.returncode == 2
    assert done.stderr.strip() == (f"오류: {copy}: 다른 프로세스가 보관소를 쓰고 있습니다 (1초 기다림); "
                                   "그 작업이 끝난 뒤 다시 하세요")


def test_two_adds_at_once_both_land_and_nothing_is_corrupted(built: dict, copy: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(_cli("archive", "add", str(ROUND_2025), "--archive", str(copy), "--round-name", name,
                                   "--cache-dir", str(built["cache"]), "--workers", "1", "--quiet"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for name in ("동시 A", "동시 B")]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert sql(copy, "select round_name, count(*) from units group by 1 order by 1") == [
        ("2024 자문", 52), ("2025 자문", 19), ("동시 A", 19), ("동시 B", 19)]
    assert sql(copy, "select count(distinct position), count(*) from rounds") == [(4, 4)]
    assert round_rows(copy, "2024 자문") == built["before_2024"]
