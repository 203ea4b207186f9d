"""The parse stage over rounds of many files: every unit kept, every rec_id unique and stable."""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.core.options import RunOptions
from pipeline.read.rounds import load_units
from tests.support.make_fixtures import SEED


@pytest.fixture()
def twice(seed_fixtures, tmp_path) -> Path:
    """One round given as HWPX and TXT together: the same 52 recommendations twice."""
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copy(seed_fixtures["seed.hwpx"], folder / "seed.hwpx")
    shutil.copy(SEED, folder / "seed.txt")
    return folder


def test_same_round_in_two_formats_keeps_all_units_with_unique_ids(twice, caplog):
    with caplog.at_level(logging.WARNING, logger="pipeline.read.rounds"):
        units = load_units([twice])
    assert len(units) == 104
    assert len({u.rec_id for u in units}) == 104
    assert [u.source for u in units] == ["seed.hwpx"] * 52 + ["seed.txt"] * 52
    repeats = [r.getMessage() for r in caplog.records if "되풀이" in r.getMessage()]
    assert len(repeats) == 1
    assert "권고 52건이 앞의 권고를" in repeats[0] and "seed.txt 52건" in repeats[0]


def test_ids_do_not_depend_on_the_format_or_on_other_files(twice, seed_fixtures, tmp_path):
    units = load_units([twice])
    alone = tmp_path / "alone" / "round"
    alone.mkdir(parents=True)
    shutil.copy(SEED, alone / "seed.txt")
    # The first file of the round keeps the ids it has alone, whatever its format.
    assert [u.rec_id for u in units[:52]] == [u.rec_id for u in load_units([alone])]
    # A repeat's id is made from its own file: the same round read again gives the same ids.
    assert [u.rec_id for u in load_units([twice])] == [u.rec_id for u in units]


def test_same_recommendation_in_two_files_of_a_round(tmp_path, caplog):
    folder = tmp_path / "round"
    folder.mkdir()
    text = "□ ○○○ 위원\n[ 질문 ]\nㅇ 상생상회 판로 확대\nㅇ 상생상회 판로 확대\n"
    (folder / "a.txt").write_text(text, encoding="utf-8")
    (folder / "b.txt").write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.read.rounds"):
        units = load_units([folder])
    assert [u.text for u in units] == ["상생상회 판로 확대"] * 4
    assert len({u.rec_id for u in units}) == 4
    assert [u.member for u in units] == [1, 1, 2, 2]
    (line,) = [r.getMessage() for r in caplog.records if "되풀이" in r.getMessage()]
    assert "권고 3건이 앞의 권고를" in line and "a.txt 1건, b.txt 2건" in line


def test_one_round_given_twice_as_two_paths_gets_unique_ids(twice):
    units = load_units([twice / "seed.txt", twice / "seed.hwpx"])
    assert len(units) == 104 and len({u.rec_id for u in units}) == 104


def test_parse_writes_every_unit_with_a_unique_id_and_one_warning(twice, tmp_path, caplog):
    out = tmp_path / "units.csv"
    assert main(["parse", str(twice), "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 104 and len({r["rec_id"] for r in rows}) == 104
    assert len([r for r in caplog.records if r.levelno == logging.WARNING and "되풀이" in r.getMessage()]) == 1


def _one_unit(tmp_path: Path) -> Path:
    path = tmp_path / "one.txt"
    path.write_text("ㅇ 상생상회 판로 확대\n", encoding="utf-8")
    return path


def test_run_on_a_round_given_in_two_formats_exports_every_unit(twice, tmp_path):
    # Before unique ids, this crashed at export ("more than one assignment") after all the work.
    from pipeline.workflow import run_round

    result = run_round([twice], tmp_path / "run", RunOptions(embedder="tfidf", use_cache=False))
    rows = list(csv.DictReader((result.out_dir / "recommendations.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert len(rows) == 104 and len({r["rec_id"] for r in rows}) == 104
