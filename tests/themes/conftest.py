"""The bundled round's units, parsed once for the package's theme tests."""

from __future__ import annotations

import pytest

from pipeline.core.records import Unit
from pipeline.read.rounds import load_units
from tests.support.make_fixtures import SEED


@pytest.fixture(scope="package")
def units() -> list[Unit]:
    return load_units([SEED])
