"""The runs every REFI-QDA test exports or edits, made once for the package."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.core.options import RunOptions
from pipeline.qda.export import export_qdpx
from pipeline.workflow import run_round
from tests.support.make_fixtures import seed_lines, write_docx

NEW_ROUND = Path(__file__).resolve().parents[1] / "fixtures" / "new_round.txt"


@pytest.fixture(scope="package")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two run folders of the same two-file round (the seed round as a DOCX, so offsets go through a binary
    reader, and the text of ``new_round.txt``), same seed, tfidf embedder."""
    base = tmp_path_factory.mktemp("qdpx")
    round_dir = base / "round"
    round_dir.mkdir()
    write_docx(seed_lines(), round_dir / "seed.docx")
    shutil.copy(NEW_ROUND, round_dir / "new_round.txt")
    first = run_round([round_dir], base / "run_a", RunOptions(embedder="tfidf", use_cache=False))
    second = run_round([round_dir], base / "run_b", RunOptions(embedder="tfidf", use_cache=False))
    return first.out_dir, second.out_dir


@pytest.fixture(scope="package")
def exported(runs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_qdpx(runs[0], tmp_path_factory.mktemp("export") / "run_a.qdpx").path
