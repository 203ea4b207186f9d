"""``advisory parse`` as a researcher runs it: units out, or one clear line and nothing written."""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pytest

from pipeline.cli import main


def test_parse_bundled_round_to_csv(tmp_path):
    out = tmp_path / "units.csv"
    assert main(["parse", "--quiet", "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Korean Excel opens it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 52
    assert list(rows[0])[:7] == ["rec_id", "round", "source", "member", "agenda", "question", "text"]
    assert {r["member"] for r in rows} == {"1", "2", "3", "4", "5", "6"}


def test_parse_to_jsonl_is_deterministic(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    main(["parse", "--quiet", "--out", str(a)])
    main(["parse", "--quiet", "--out", str(b)])
    assert a.read_bytes() == b.read_bytes()
    first = json.loads(a.read_text(encoding="utf-8").splitlines()[0])
    assert first["program_codes"] == "1-1-2;1-3-2;2-3-6;3-1-2"


@pytest.mark.parametrize(
    "name, content",
    [
        ("empty.txt", b""),
        ("blank.txt", b"  \n\n \t \n"),
        ("binary.txt", bytes(range(256)) * 40),
        ("broken.docx", b"PK\x03\x04 this is not a real archive"),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog"),
        ("broken.hwpx", b"PK\x03\x04\x14\x00\x00\x00"),
    ],
)
def test_bad_input_one_line_error_no_output(tmp_path, capsys, name, content):
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "units.csv"
    assert main(["parse", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and name in err[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_round_with_no_recommendation_is_an_error(tmp_path, capsys):
    doc = tmp_path / "headers_only.txt"
    doc.write_text("□ ○○○ 위원\n❶ 안건\n[ 질문 ]\n", encoding="utf-8")
    assert main(["parse", str(doc), "--out", str(tmp_path / "u.csv")]) == 2
    assert "권고 단위를 하나도 찾지 못했습니다" in capsys.readouterr().err


def test_folder_with_bad_file_fails_unless_skip_bad(tmp_path, capsys):
    folder = tmp_path / "round"
    folder.mkdir()
    (folder / "a_good.txt").write_text("□ 김철수 위원\n ㅇ 상생상회 판로 확대\n", encoding="utf-8")
    (folder / "b_bad.docx").write_bytes(b"PK\x03\x04 not a whole zip")
    (folder / "c_good.txt").write_text("□ 이영희 위원\n ㅇ 생활인구 확대\n", encoding="utf-8")
    out = tmp_path / "u.csv"
    assert main(["parse", str(folder), "--out", str(out)]) == 2
    assert "b_bad.docx" in capsys.readouterr().err and not out.exists()
    assert main(["parse", str(folder), "--skip-bad", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [(r["round"], r["member"], r["text"]) for r in rows] == [
        ("round", "1", "상생상회 판로 확대"),
        ("round", "2", "생활인구 확대"),
    ]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_parse_out_file_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        for name in ("units.csv", "units.jsonl"):
            assert main(["parse", "--quiet", "--out", str(tmp_path / name)]) == 0
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode
            # The bundled round's title line is in no unit: it is listed beside the output.
            assert stat.S_IMODE((tmp_path / "units.unplaced.csv").stat().st_mode) == mode
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv", "units.jsonl", "units.unplaced.csv"]


def test_parse_lists_the_lines_no_unit_took_beside_its_output(tmp_path, caplog):
    doc = tmp_path / "notice.txt"
    doc.write_text("보도자료\n\n1. 목차 항목\n2. 다른 항목\n\n□ 김철수 위원\n ㅇ 상생상회 판로 확대\n", encoding="utf-8")
    out = tmp_path / "units.csv"
    with caplog.at_level("WARNING"):
        assert main(["parse", str(doc), "--out", str(out)]) == 0
    rows = list(csv.DictReader((tmp_path / "units.unplaced.csv").open(encoding="utf-8-sig")))
    assert [(r["source"], r["line_start"], r["line_end"], r["reason"], r["text"]) for r in rows] == [
        ("notice.txt", "1", "1", "preamble", "보도자료"),
        ("notice.txt", "3", "4", "heading_without_units", "1. 목차 항목\n2. 다른 항목"),
    ]
    (warning,) = [m for m in caplog.messages if "권고 단위에 들어가지 않은 줄" in m]
    assert "3개" in warning and "units.unplaced.csv" in warning


def test_parse_writes_no_unplaced_file_when_every_line_is_in_a_unit(tmp_path):
    doc = tmp_path / "round.txt"
    doc.write_text("□ 김철수 위원\n ㅇ 상생상회 판로 확대\n", encoding="utf-8")
    assert main(["parse", str(doc), "--out", str(tmp_path / "units.csv")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["round.txt", "units.csv"]


def test_parse_csv_cells_that_look_like_formulas_are_written_as_text(tmp_path: Path) -> None:
    round_file = tmp_path / "round.txt"
    round_file.write_text("□ 가나다 위원\n\nㅇ =HYPERLINK(\"http://x\",\"클릭\") 홍보 강화가 필요함\n", encoding="utf-8")
    out = tmp_path / "units.csv"
    assert main(["parse", str(round_file), "--out", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert len(rows) == 1
    assert rows[0]["text"].startswith("'=HYPERLINK")
