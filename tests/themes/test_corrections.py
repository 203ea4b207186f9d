"""Researcher corrections files: reading, checking against a round, applying to assignments."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import Assignment
from pipeline.themes.corrections import Correction, apply_corrections, check_corrections, read_corrections

LABELS = {"branding": "브랜딩·홍보·소통", "sales_channels": "판로·유통", "performance_evaluation": "성과평가·지표"}
ASSIGNMENTS = [
    Assignment("r1", "branding", "브랜딩·홍보·소통", 0.8, "codebook"),
    Assignment("r2", "", "", 0.1, "unassigned"),
    Assignment("r3", "performance_evaluation", "성과평가·지표", 0.7, "codebook"),
]


def _write(tmp_path: Path, text: str, bom: bool = False) -> Path:
    path = tmp_path / "corrections.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_reads_with_or_without_bom_and_notes(tmp_path: Path, bom: bool) -> None:
    path = _write(tmp_path, "rec_id,theme_id,note\nr2,sales_channels,\"판로 얘기, 명확함\"\n\nr1,branding,\n", bom)
    got = read_corrections(path)
    assert [(c.rec_id, c.theme_id, c.note, c.line) for c in got] == [
        ("r2", "sales_channels", "판로 얘기, 명확함", 2), ("r1", "branding", "", 4)]


def test_note_column_is_optional_and_extra_columns_ignored(tmp_path: Path) -> None:
    path = _write(tmp_path, "theme_id,reviewer,rec_id\nbranding,김,r3\n")
    assert [(c.rec_id, c.theme_id) for c in read_corrections(path)] == [("r3", "branding")]


@pytest.mark.parametrize("text, reason", [
    ("rec,theme\nr1,branding\n", "line 1: corrections need the columns rec_id,theme_id[,note]; missing rec_id,theme_id"),
    ("rec_id,theme_id\nr1,\n", "line 2: both rec_id and theme_id are needed"),
    ("rec_id,theme_id\nr1,branding\nr1,sales_channels\n",
     "line 3: rec_id r1 is corrected to sales_channels here but to branding on line 2"),
])
def test_malformed_files_name_file_and_line(tmp_path: Path, text: str, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as err:
        read_corrections(path)
    assert str(err.value) == f"{path}: {reason}"


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cp949.csv"
    path.write_bytes("rec_id,theme_id\nr1,브랜딩\n".encode("cp949"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_corrections(path)
    with pytest.raises(InputError, match="not found"):
        read_corrections(tmp_path / "nope.csv")


def test_unknown_theme_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "rec_id,theme_id\nr1,branding\nzz,tourism\n")
    with pytest.raises(InputError) as err:
        check_corrections(read_corrections(path), path, LABELS, ["r1", "r2", "r3"])
    assert str(err.value).startswith(f"{path}: line 3: theme_id 'tourism' is neither in the codebook")


def test_rec_ids_outside_the_round_are_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = _write(tmp_path, "rec_id,theme_id\nr2,sales_channels\nold1,branding\nold2,branding\n")
    with caplog.at_level(logging.WARNING):
        kept = check_corrections(read_corrections(path), path, LABELS, ["r1", "r2", "r3"])
    assert [c.rec_id for c in kept] == ["r2"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"{path}: 2 of 3 corrected rec_ids are not in this round and were ignored: old1, old2"]


def test_apply_gives_researcher_theme_and_leaves_the_rest() -> None:
    corrections = [Correction("r2", "sales_channels", "", 2), Correction("r3", "branding", "", 3)]
    out = apply_corrections(ASSIGNMENTS, corrections, LABELS)
    assert out[0] == ASSIGNMENTS[0]
    assert out[1] == Assignment("r2", "sales_channels", "판로·유통", 1.0, "researcher")
    assert out[2] == Assignment("r3", "branding", "브랜딩·홍보·소통", 1.0, "researcher")
    assert ASSIGNMENTS[1].theme_source == "unassigned"  # the input is not changed

