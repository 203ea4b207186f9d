"""The seed round saved in every supported format parses into the same 52 units with the same ids."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.units import load_units
from tests.make_fixtures import SEED


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    folder = tmp_path_factory.mktemp("txt")
    shutil.copy(SEED, folder / "seed.txt")
    return load_units([folder / "seed.txt"])


@pytest.mark.parametrize(
    "fixture, as_name",
    [
        ("seed.hwpx", "seed.hwpx"),
        ("seed.docx", "seed.docx"),
        ("seed.pdf", "seed.pdf"),
        ("seed.hwp", "seed.hwp"),
        ("seed_utf16.txt", "seed.txt"),
        ("seed_utf16le_nobom.txt", "seed.txt"),
        ("seed_utf8_bom.txt", "seed.txt"),
        ("seed_cp949.txt", "seed.txt"),
    ],
)
def test_same_units_and_ids_in_every_format(seed_fixtures, reference, tmp_path, fixture, as_name):
    if fixture not in seed_fixtures:
        pytest.skip(f"{fixture} needs a writer that is not installed")
    path = Path(tmp_path / as_name)
    shutil.copy(seed_fixtures[fixture], path)
    units = load_units([path])
    assert len(units) == len(reference) == 52
    assert [u.rec_id for u in units] == [u.rec_id for u in reference]
    assert [u.program_codes for u in units] == [u.program_codes for u in reference]
    assert [u.member for u in units] == [u.member for u in reference]
    squash = lambda s: "".join(s.split())  # noqa: E731
    assert [squash(u.question) for u in units] == [squash(u.question) for u in reference]
