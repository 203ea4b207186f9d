"""The run options: where the cache is (or that there is none), and how run.json names the program registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.core.options import DEFAULT_OPTIONS, RunOptions
from pipeline.core.paths import BUNDLED_PROGRAMS, CACHE_ENV, DEFAULT_PROGRAMS


def test_the_cache_folder_follows_cache_dir_the_environment_or_no_cache(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert RunOptions(cache_dir=tmp_path).cache_folder == tmp_path
    assert RunOptions(cache_dir=tmp_path, use_cache=False).cache_folder is None
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "env"))
    assert DEFAULT_OPTIONS.cache_folder == tmp_path / "env"  # read when asked, not when the options were made


def test_run_json_names_the_registry_given_or_the_bundled_one() -> None:
    assert RunOptions(programs=Path("mine.csv")).programs_name == "mine.csv"
    assert DEFAULT_OPTIONS.programs_name == BUNDLED_PROGRAMS == "corpus/programs.csv"
    assert DEFAULT_PROGRAMS.is_file() and DEFAULT_PROGRAMS.as_posix().endswith(BUNDLED_PROGRAMS)
