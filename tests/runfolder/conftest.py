"""The run folder of the sample run, written once for the package's tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.runfolder.folder import write_run
from tests.support.sample_run import sample_run


@pytest.fixture(scope="package")
def sample_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    units, assignments, cards, run_info = sample_run()
    return write_run(tmp_path_factory.mktemp("runs") / "run", units, assignments, cards, run_info)
