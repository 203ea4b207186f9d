"""The numbered notebooks execute against the bundled round (as CI runs them); 03 on an archive of two rounds."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from pipeline.cli import main
from pipeline.core.paths import DEFAULT_ROUND

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The bundled round run with the default embedder, its theme model saved, and an archive of two
    rounds coded with that model: the bundled round as "2024 자문" and tests/fixtures/round_2025.txt."""
    root = tmp_path_factory.mktemp("nb")
    run, model, archive = root / "run", root / "model", root / "archive.duckdb"
    assert main(["run", "--out", str(run), "--save-model", str(model), "--quiet"]) == 0
    for name, path in (("2024 자문", DEFAULT_ROUND), ("2025 자문", ROOT / "tests" / "fixtures" / "round_2025.txt")):
        assert main(["archive", "add", str(path), "--archive", str(archive), "--round-name", name,
                     "--model", str(model), "--quiet"]) == 0
    return run, model, archive


def test_notebooks_are_stored_without_outputs() -> None:
    assert [p.name for p in NOTEBOOKS] == ["01_theme_browser.ipynb", "02_new_round.ipynb", "03_trends.ipynb"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path: Path, seed_run: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch,
                           tmp_path: Path) -> None:
    run, model, archive = seed_run
    monkeypatch.setenv("ADVISORY_ARCHIVE", str(archive))
    monkeypatch.setenv("ADVISORY_RUN", str(run))
    monkeypatch.setenv("ADVISORY_MODEL", str(model))
    monkeypatch.setenv("ADVISORY_NEW_ROUND", str(ROOT / "tests" / "fixtures" / "new_round.txt"))
    kept = tmp_path / "내 결과"
    monkeypatch.setenv("ADVISORY_NEW_OUT", str(kept))
    # The kernel must import this checkout's package, whichever folder it starts in.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(path, as_version=4)
    # Started in a folder that is neither the checkout nor notebooks/: the notebooks must not depend on it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(elsewhere)}}).execute()
    texts = "".join(
        o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values())
        for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Error" not in texts
    kinds = {k for c in nb.cells if c.cell_type == "code" for o in c.outputs for k in o.get("data", {})}
    assert "image/png" in kinds
    if path.name in ("01_theme_browser.ipynb", "03_trends.ipynb"):
        # The filters are widgets, not constants to edit.
        assert "application/vnd.jupyter.widget-view+json" in kinds
    if path.name == "02_new_round.ipynb":
        # The results stay in the folder the reader chose.
        assert (kept / "run" / "recommendations.csv").is_file() and (kept / "compare" / "compare.png").is_file()
