"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.make_fixtures import make_all


@pytest.fixture(scope="session")
def seed_fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed round in every input format (file name -> path), generated once per session."""
    return make_all(tmp_path_factory.mktemp("seed_fixtures"))
