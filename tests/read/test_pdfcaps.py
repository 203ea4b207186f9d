"""PDF decompression bombs: a small PDF whose streams inflate past the caps is one clear line, read
in a chunk's worth of memory, and nothing is written; legitimate streams read as before."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.core.errors import InputError
from pipeline.read.documents import SizeLimits, read_document
from tests.support.pdf_bombs import pdf_bomb

MB = 1024 * 1024
SMALL = SizeLimits(member=2 * MB, file=5 * MB)


def bomb_message(path: Path, limits: SizeLimits = SMALL) -> str:
    """The error ``read_document`` gives for ``path``: one line naming the file and the bomb."""
    with pytest.raises(InputError) as caught:
        read_document(path, limits=limits)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and "압축 폭탄" in message
    return message


@pytest.mark.parametrize(
    ("filters", "hex_armour", "run_length"), [(1, False, False), (2, False, False), (1, True, False), (0, False, True),
                                              (1, False, True)]
)
def test_stream_over_the_member_cap(tmp_path: Path, filters: int, hex_armour: bool, run_length: bool) -> None:
    path = pdf_bomb(tmp_path / "bomb.pdf", stream_mb=3, filters=filters, hex_armour=hex_armour, run_length=run_length)
    message = bomb_message(path)
    # Object 5 is the page's content stream; the count stops at the first chunk past the cap
    # (a MB from Flate, a run of 128 bytes from RunLength).
    assert re.search(r"PDF 스트림 5의 압축을 풀면 (2\.0|3\.0) MB 이상으로 한도 2 MB를 넘습니다", message)
    assert "ADVISORY_MAX_MEMBER_MB" in message
    # Under caps that allow it, the same file is an ordinary one-page PDF.
    assert [line.text for line in read_document(path, SizeLimits(member=4 * MB, file=8 * MB)).lines] == [
        "page 1 of the bomb"
    ]


def test_pages_whose_streams_together_pass_the_file_cap(tmp_path: Path) -> None:
    path = pdf_bomb(tmp_path / "pages.pdf", stream_mb=1.5, pages=4)
    message = bomb_message(path)
    assert "PDF 전체의 압축을 풀면 5.5 MB 이상으로 한도 5 MB를 넘습니다" in message
    assert "ADVISORY_MAX_FILE_MB" in message
    lines = read_document(path, SizeLimits(member=2 * MB, file=7 * MB)).lines
    assert [(line.text, line.page) for line in lines] == [(f"page {n} of the bomb", n) for n in range(1, 5)]


def test_caps_from_the_environment_apply_to_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = pdf_bomb(tmp_path / "bomb.pdf", stream_mb=3)
    monkeypatch.setenv("ADVISORY_MAX_MEMBER_MB", "2")
    with pytest.raises(InputError, match="한도 2 MB를 넘습니다"):
        read_document(path)
    monkeypatch.setenv("ADVISORY_MAX_MEMBER_MB", "4")
    assert len(read_document(path).lines) == 1


@pytest.mark.parametrize("command", ["parse", "run"])
def test_cli_on_a_pdf_bomb_says_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    bomb = pdf_bomb(tmp_path / "bomb.pdf", stream_mb=3)
    monkeypatch.setenv("ADVISORY_MAX_MEMBER_MB", "2")
    out = tmp_path / "out"
    extra = ["--embedder", "tfidf", "--no-cache", "--quiet"] if command == "run" else []
    assert main([command, str(bomb), "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bomb.pdf" in err[0] and "압축 폭탄" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.pdf"]


def test_cross_reference_stream_is_capped_before_the_file_opens(tmp_path: Path) -> None:
    # A reader inflates a cross-reference stream while it opens the file, before any page is read.
    path = pdf_bomb(tmp_path / "xref.pdf", stream_mb=0.1, xref_stream_mb=3)
    assert re.search(r"PDF 스트림 \d+의 압축을 풀면 3\.0 MB 이상으로 한도 2 MB를 넘습니다", bomb_message(path))
    assert [line.text for line in read_document(path, SizeLimits(member=4 * MB, file=8 * MB)).lines] == [
        "page 1 of the bomb"
    ]


def test_encrypted_pdf_without_a_user_password_is_measured_and_read(tmp_path: Path) -> None:
    # Its streams open only with the file's key: they are measured through pdfminer, which decrypts them.
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="readable without a password")
    path = tmp_path / "owner_only.pdf"
    pdf.output(str(path))
    assert [line.text for line in read_document(path, SMALL).lines] == ["readable without a password"]
    with pytest.raises(InputError, match="압축을 풀면"):
        read_document(path, SizeLimits(member=40, file=5 * MB))
