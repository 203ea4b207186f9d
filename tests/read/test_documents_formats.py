"""The seed round saved in every supported format parses into the same 52 units with the same ids."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest

from pipeline.read.rounds import load_units
from tests.support.make_fixtures import SEED


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


def test_nfd_round_parses_exactly_like_the_nfc_one(reference, tmp_path):
    path = tmp_path / "seed.txt"
    path.write_text(unicodedata.normalize("NFD", SEED.read_text(encoding="utf-8")), encoding="utf-8")
    units = load_units([path])
    assert [(u.rec_id, u.member, u.agenda, u.question, u.text, u.program_codes) for u in units] == [
        (u.rec_id, u.member, u.agenda, u.question, u.text, u.program_codes) for u in reference
    ]
    assert any("NL" in u.program_codes for u in units)


def test_fullwidth_ascii_headings_and_codes_are_found(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_text(
        "□ ○○○ 위원\n１． 지역상생교류 사업\n［ 사업 추진 방향 ］\nㅇ 상생상회 판로를 넓힐 필요（３－３－１）\n", encoding="utf-8"
    )
    (unit,) = load_units([path])
    assert (unit.member, unit.agenda, unit.question) == (1, "지역상생교류 사업", "사업 추진 방향")
    assert unit.text == "상생상회 판로를 넓힐 필요(3-3-1)"
    assert "3-3-1" in unit.program_codes
