"""Readers: every input format gives the seed's lines; every kind of bad input is one clear error."""

from __future__ import annotations

import os
import random
import shutil
import struct
import time
import unicodedata
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.read.documents import SUPPORTED_SUFFIXES, SizeLimits, read_document, read_round
from pipeline.read.hwp import FURNITURE_ONLY, hwp_decode_para_text, hwp_paragraph_texts
from pipeline.read.parser import StructureParser
from tests.support.bombs import copy_zip, docx_bomb, hwp_bomb, hwpx_bomb
from tests.support.make_fixtures import SEED, cp949_lines, seed_lines, write_page_furniture_hwpx

SEED_LINES = seed_lines()


def texts(path: Path) -> list[str]:
    """The line texts ``read_document`` gives for ``path``."""
    return [line.text for line in read_document(path).lines]


def expect_error(path: Path, *fragments: str) -> InputError:
    """Reading ``path`` fails with a one-line message naming the file and containing ``fragments``."""
    with pytest.raises(InputError) as caught:
        read_document(path)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return caught.value


# --------------------------------------------------------------------------- good input


def test_bundled_seed_keeps_every_line_verbatim() -> None:
    document = read_document(SEED)
    assert [line.text for line in document.lines] == SEED_LINES
    assert [line.number for line in document.lines] == list(range(1, len(SEED_LINES) + 1))
    assert document.format == "txt"
    assert document.encoding == "utf-8"
    assert document.round == "000_95284008f5259e47"
    # Trailing spaces mark word breaks at hard wraps; the reader must not strip them.
    assert any(line.text.endswith(" ") for line in document.lines)
    assert document.lines[0].text == ""


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("seed_utf8_bom.txt", "utf-8-sig"),
        ("seed_utf16.txt", "utf-16-le"),
        ("seed_utf16le_nobom.txt", "utf-16-le"),
    ],
)
def test_text_encodings_give_the_seed_lines(seed_fixtures: dict[str, Path], name: str, encoding: str) -> None:
    document = read_document(seed_fixtures[name])
    assert [line.text for line in document.lines] == SEED_LINES
    assert document.encoding == encoding


def test_cp949_text_gives_the_substituted_seed_lines(seed_fixtures: dict[str, Path]) -> None:
    document = read_document(seed_fixtures["seed_cp949.txt"])
    assert [line.text for line in document.lines] == cp949_lines(SEED_LINES)
    assert document.encoding == "cp949"


def test_utf16_big_endian_with_and_without_bom(tmp_path: Path) -> None:
    text = "".join(line + "\n" for line in SEED_LINES[:60])
    with_bom = tmp_path / "be_bom.txt"
    with_bom.write_bytes(b"\xfe\xff" + text.encode("utf-16-be"))
    without_bom = tmp_path / "be.txt"
    without_bom.write_bytes(text.encode("utf-16-be"))
    for path in (with_bom, without_bom):
        document = read_document(path)
        assert [line.text for line in document.lines] == SEED_LINES[:60]
        assert document.encoding == "utf-16-be"


def test_newlines_are_normalised_and_blank_lines_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("□ 위원 \r\n\r\n ㅇ 권고\r- 세부\n\nend".encode())
    assert texts(path) == ["□ 위원 ", "", " ㅇ 권고", "- 세부", "", "end"]


def test_uppercase_suffix_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "ROUND.TXT"
    path.write_text("ㅇ 권고\n", encoding="utf-8")
    assert read_document(path).format == "txt"


def test_hwpx_gives_the_seed_lines(seed_fixtures: dict[str, Path]) -> None:
    document = read_document(seed_fixtures["seed.hwpx"])
    assert [line.text for line in document.lines] == SEED_LINES
    assert document.format == "hwpx"


def test_hwpx_with_text_only_in_its_page_header_and_footer_says_so(tmp_path: Path) -> None:
    path = write_page_furniture_hwpx(tmp_path / "cover.hwpx", "2025년 자문회의 결과", "서울특별시 지역상생과")
    with pytest.raises(InputError) as caught:
        read_document(path)
    assert str(caught.value) == f"{path}: {FURNITURE_ONLY}"


def test_hwpx_page_header_and_footer_stay_out_of_the_body(tmp_path: Path) -> None:
    body = ["□ 김철수 위원", " ㅇ 상생상회 판로 확대 필요"]
    path = write_page_furniture_hwpx(tmp_path / "round.hwpx", "2025년 자문회의 결과", "서울특별시 지역상생과", body)
    assert texts(path) == body


def test_hwpx_line_breaks_tabs_tables_and_section_order(tmp_path: Path) -> None:
    hp = 'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph"'
    section0 = (
        f'<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" {hp}>'
        "<hp:p><hp:run><hp:t>첫째<hp:lineBreak/>둘째</hp:t><hp:t><hp:tab/>탭 뒤</hp:t></hp:run></hp:p>"
        "<hp:p><hp:run><hp:ctrl><hp:header><hp:subList><hp:p><hp:run><hp:t>머리말</hp:t></hp:run></hp:p>"
        "</hp:subList></hp:header></hp:ctrl><hp:t>표 앞</hp:t><hp:tbl><hp:tr><hp:tc><hp:subList>"
        "<hp:p><hp:run><hp:t>셀</hp:t></hp:run></hp:p></hp:subList></hp:tc></hp:tr></hp:tbl></hp:run></hp:p>"
        "</hs:sec>"
    )
    section1 = f'<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" {hp}><hp:p><hp:run><hp:t>끝</hp:t></hp:run></hp:p></hs:sec>'
    # The spine lists section1 first: reading order follows the spine, not the file names.
    content = (
        '<opf:package xmlns:opf="http://www.idpf.org/2007/opf/"><opf:manifest>'
        '<opf:item id="s0" href="Contents/section0.xml" media-type="application/xml"/>'
        '<opf:item id="s1" href="Contents/section1.xml" media-type="application/xml"/>'
        '</opf:manifest><opf:spine><opf:itemref idref="s1"/><opf:itemref idref="s0"/></opf:spine></opf:package>'
    )
    path = tmp_path / "breaks.hwpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("Contents/content.hpf", content)
        archive.writestr("Contents/section0.xml", section0)
        archive.writestr("Contents/section1.xml", section1)
    assert texts(path) == ["끝", "첫째", "둘째 탭 뒤", "표 앞", "셀"]


def test_docx_gives_the_seed_lines(seed_fixtures: dict[str, Path]) -> None:
    document = read_document(seed_fixtures["seed.docx"])
    assert [line.text for line in document.lines] == SEED_LINES
    assert document.format == "docx"


def test_docx_reads_table_cells_in_document_order(tmp_path: Path) -> None:
    import docx

    built = docx.Document()
    built.add_paragraph("표 앞")
    table = built.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "왼쪽"
    table.cell(0, 1).text = "오른쪽"
    built.add_paragraph("표 뒤")
    path = tmp_path / "table.docx"
    built.save(str(path))
    assert texts(path) == ["표 앞", "왼쪽", "오른쪽", "표 뒤"]


def test_pdf_gives_the_seed_lines_with_pages(seed_fixtures: dict[str, Path]) -> None:
    document = read_document(seed_fixtures["seed.pdf"])
    # PDF text has no blank lines and loses runs of spaces, so compare the
    # non-blank lines with whitespace normalised.
    got = [" ".join(line.text.split()) for line in document.lines if line.text.strip()]
    assert got == [" ".join(line.split()) for line in SEED_LINES if line.strip()]
    pages = [line.page for line in document.lines]
    assert pages[0] == 1 and pages == sorted(pages) and pages[-1] > 1
    assert [line.number for line in document.lines] == list(range(1, len(document.lines) + 1))


def test_hwp_gives_the_seed_lines(seed_fixtures: dict[str, Path]) -> None:
    if "seed.hwp" not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    document = read_document(seed_fixtures["seed.hwp"])
    # The writer leaves out empty paragraphs, so only the non-blank lines can match.
    assert [line.text for line in document.lines if line.text.strip()] == [line for line in SEED_LINES if line.strip()]
    assert document.format == "hwp"


def test_hwp_made_by_hangul_reads_body_and_table_cells(tmp_path: Path) -> None:
    hwp_converter_ai = pytest.importorskip("hwp_converter_ai")
    template = Path(hwp_converter_ai.__file__).parent / "hwp_template.hwp"
    lines = texts(template)
    assert lines[0] == "한글 2005 예제 파일입니다."
    # Table-cell paragraphs follow the paragraph that anchors the table.
    anchor = lines.index("표표끝")
    assert lines[anchor + 1 : anchor + 6] == ["A0", "B0", "A1", "B10", "B11"]


def para_text(*units: int | str) -> bytes:
    """PARA_TEXT payload from WCHAR codes and strings."""
    out = b""
    for unit in units:
        out += unit.encode("utf-16-le") if isinstance(unit, str) else struct.pack("<H", unit)
    return out


def record(tag: int, level: int, payload: bytes) -> bytes:
    """One HWP record: 32-bit header (tag, level, size; 0xFFF means a 32-bit size follows)."""
    if len(payload) < 0xFFF:
        return struct.pack("<I", tag | level << 10 | len(payload) << 20) + payload
    return struct.pack("<II", tag | level << 10 | 0xFFF << 20, len(payload)) + payload


def test_hwp_para_text_controls() -> None:
    section_def = (2, *[0] * 6, 2)  # extended control: 8 WCHARs including its parameters
    tab = (9, *[0] * 6, 9)
    payload = para_text(*section_def, "ㅇ 권고", *tab, "내용", 10, "다음 줄", 24, 30, "끝", 13)
    assert hwp_decode_para_text(payload) == "ㅇ 권고 내용\n다음 줄- 끝"


def test_hwp_record_walker_keeps_paragraphs_and_skips_headers() -> None:
    long_text = "가" * 3000  # a record over 4094 bytes uses the extended size field
    header_ctrl = b"daeh" + b"\x00" * 12
    body = b"".join(
        [
            record(66, 0, b"\x00" * 22),
            record(67, 1, para_text("첫 문단", 13)),
            record(66, 0, b"\x00" * 22),  # an empty paragraph has no PARA_TEXT record
            record(66, 0, b"\x00" * 22),
            record(67, 1, para_text(*(11, *[0] * 6, 11), 13)),
            record(71, 1, header_ctrl),
            record(66, 2, b"\x00" * 22),
            record(67, 3, para_text("머리말", 13)),
            record(66, 0, b"\x00" * 22),
            record(67, 1, para_text(long_text, 13)),
        ]
    )
    assert hwp_paragraph_texts(body) == ["첫 문단", "", "", long_text]
    furniture: list[str] = []
    hwp_paragraph_texts(body, furniture)
    assert furniture == ["머리말"]  # what a header-only document is told it holds
    with pytest.raises(ValueError, match="past the end"):
        hwp_paragraph_texts(body[:-10])


def test_read_round_folder_reads_supported_files_sorted(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "round"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(seed_fixtures["seed.docx"], folder / "b.docx")
    shutil.copy(seed_fixtures["seed_utf8_bom.txt"], folder / "sub" / "a.txt")
    shutil.copy(seed_fixtures["seed.hwpx"], folder / "a.hwpx")
    (folder / "notes.md").write_text("not a round document", encoding="utf-8")
    (folder / "~$b.docx").write_bytes(b"\x00lock")
    documents, errors = read_round([folder])
    assert [Path(d.path).relative_to(folder).as_posix() for d in documents] == ["a.hwpx", "b.docx", "sub/a.txt"]
    assert errors == []
    assert all([line.text for line in d.lines] == SEED_LINES for d in documents)


# --------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.txt", "파일이 없습니다")


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = tmp_path / "round.xls"
    path.write_bytes(b"data")
    expect_error(path, "지원하지 않는 파일 형식입니다 ('.xls')")


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    expect_error(path, "빈 파일입니다")


def test_whitespace_only_file(tmp_path: Path) -> None:
    path = tmp_path / "blank.txt"
    path.write_bytes(b"  \r\n\t\n   \n")
    expect_error(path, "공백만 있는 파일입니다")


def test_binary_file_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "random.txt"
    path.write_bytes(random.Random(7).randbytes(20_000) + b"\x00\x00")
    expect_error(path, "이진 데이터")


def test_control_codes_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "controls.txt"
    path.write_bytes(bytes(range(1, 32)) * 50)
    expect_error(path, "이진 데이터", "제어 문자")


def test_undecodable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes("ㅇ 정상 텍스트\n".encode() + b"\xff\xfe\xfd\x80\n")
    expect_error(path, "해독할 수 없는 바이트")


def test_huge_file_without_newline_is_rejected_fast(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"a" * (50 * 1024 * 1024))
    started = time.perf_counter()
    expect_error(path, "50.0 MB의 텍스트에 줄바꿈이 없습니다")
    assert time.perf_counter() - started < 2.0


def test_one_huge_line_among_short_ones(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_bytes(b"ok\n" + b"x" * (2 * 1024 * 1024) + b"\nok\n")
    expect_error(path, "줄바꿈 없는 2.0 MB짜리 줄")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("seed.hwpx", "손상되었거나 잘린 HWPX"),
        ("seed.docx", "손상되었거나 잘린 DOCX"),
        ("seed.pdf", "잘린 PDF"),
        ("seed.hwp", "HWP"),
    ],
)
def test_truncated_documents(seed_fixtures: dict[str, Path], tmp_path: Path, name: str, reason: str) -> None:
    if name not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    data = seed_fixtures[name].read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: len(data) // 2])
    expect_error(path, reason)


def test_zip_renamed_docx(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    expect_error(path, "손상되었거나 잘린 DOCX")


def test_docx_missing_document_part(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "gutted.docx"
    with zipfile.ZipFile(path, "w") as target:
        copy_zip(seed_fixtures["seed.docx"], target, skip=frozenset({"word/document.xml"}))
    expect_error(path, "DOCX", "word/document.xml")


def test_hwpx_without_sections(tmp_path: Path) -> None:
    path = tmp_path / "hollow.hwpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/hwp+zip")
        archive.writestr("version.xml", "<version/>")
    expect_error(path, "Contents/section*.xml이 없습니다")


def test_password_protected_hwpx(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "locked.hwpx"
    # Hangul lists each encrypted part with an <odf:encryption-data> entry.
    manifest = (b'<odf:manifest xmlns:odf="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
                b'<odf:file-entry odf:full-path="Contents/section0.xml"><odf:encryption-data/>'
                b"</odf:file-entry></odf:manifest>")
    with zipfile.ZipFile(path, "w") as target:
        copy_zip(seed_fixtures["seed.hwpx"], target, replace={"META-INF/manifest.xml": manifest})
    expect_error(path, "암호화된 HWPX")


def test_hwpx_with_broken_section_xml(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "broken.hwpx"
    with zipfile.ZipFile(seed_fixtures["seed.hwpx"]) as source:
        section = source.read("Contents/section0.xml")
    with zipfile.ZipFile(path, "w") as target:
        copy_zip(seed_fixtures["seed.hwpx"], target, replace={"Contents/section0.xml": section[: len(section) // 2]})
    expect_error(path, "HWPX 구역 Contents/section0.xml이(가) 손상되었습니다")


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a page with only a drawing, like a scan
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    expect_error(path, "텍스트 층이 없습니다 (스캔한 PDF인가요?)")


def test_encrypted_pdf(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="confidential")
    path = tmp_path / "locked.pdf"
    pdf.output(str(path))
    expect_error(path, "암호화된 PDF")


@pytest.mark.parametrize("suffix", [".pdf", ".hwp", ".hwpx", ".docx"])
def test_text_under_another_suffix_is_read_as_text_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, suffix: str
) -> None:
    path = tmp_path / f"memo{suffix}"
    path.write_text("ㅇ 권고\n", encoding="utf-8")
    with caplog.at_level("WARNING"):
        document = read_document(path)
    assert [line.text for line in document.lines] == ["ㅇ 권고"] and document.format == "txt"
    (warning,) = caplog.messages
    assert str(path) in warning and f".{suffix[1:]}" in warning and "텍스트" in warning


@pytest.mark.parametrize(
    ("fixture", "as_name", "read_as"),
    [("seed.hwp", "seed.hwpx", "hwp"), ("seed.hwpx", "seed.hwp", "hwpx"), ("seed.pdf", "seed.txt", "pdf"),
     ("seed.docx", "seed.hwpx", "docx"), ("seed.hwpx", "seed.docx", "hwpx"), ("seed.pdf", "seed.hwp", "pdf"),
     ("seed.docx", "seed.hwp", "docx"), ("seed.hwp", "seed.docx", "hwp")],
)
def test_format_comes_from_the_content_and_a_wrong_suffix_is_one_warning(
    seed_fixtures: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture, fixture: str, as_name: str,
    read_as: str,
) -> None:
    if fixture not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    path = tmp_path / as_name
    shutil.copy(seed_fixtures[fixture], path)
    with caplog.at_level("WARNING"):
        document = read_document(path)
    assert document.format == read_as
    assert [line.text for line in document.lines] == [line.text for line in read_document(seed_fixtures[fixture]).lines]
    (warning,) = caplog.messages
    assert str(path) in warning and Path(as_name).suffix in warning and read_as.upper() in warning
    # The same units as the rightly named file (same stem, so the same rec_ids), the file name aside.
    parser = StructureParser()
    renamed = [replace(u, source="-") for u in parser.parse(document).units]
    right = [replace(u, source="-") for u in parser.parse(read_document(seed_fixtures[fixture])).units]
    assert len(renamed) == 52 and renamed == right


def test_binary_junk_named_hwp_keeps_the_hwp_refusal(tmp_path: Path) -> None:
    path = tmp_path / "junk.hwp"
    path.write_bytes(b"\x00\x01\x02" * 100)
    expect_error(path, "HWP 5.0 파일이 아닙니다")


@pytest.mark.parametrize(
    ("flag", "reason"),
    [(0x02, "암호화된 HWP"), (0x04, "ViewText 구역이 없는 배포용 문서(HWP)입니다"),
     (0x10, "DRM으로 보호된")],
)
def test_protected_hwp(seed_fixtures: dict[str, Path], tmp_path: Path, flag: int, reason: str) -> None:
    olefile = pytest.importorskip("olefile")
    if "seed.hwp" not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    path = tmp_path / "protected.hwp"
    shutil.copy(seed_fixtures["seed.hwp"], path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        header = bytearray(ole.openstream("FileHeader").read())
        (flags,) = struct.unpack_from("<I", header, 36)
        struct.pack_into("<I", header, 36, flags | flag)
        ole.write_stream("FileHeader", bytes(header))
    expect_error(path, reason)


def test_folder_without_supported_files(tmp_path: Path) -> None:
    folder = tmp_path / "empty_round"
    folder.mkdir()
    (folder / "readme.md").write_text("nothing here", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_round([folder])
    assert str(folder) in str(caught.value) and "지원하는 파일" in str(caught.value)


def test_folder_with_a_bad_file(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "round"
    folder.mkdir()
    shutil.copy(seed_fixtures["seed.docx"], folder / "a.docx")
    bad = folder / "b.txt"
    bad.write_bytes(b"")
    shutil.copy(seed_fixtures["seed_cp949.txt"], folder / "c.txt")

    with pytest.raises(InputError) as caught:
        read_round([folder])
    assert caught.value.path == str(bad)

    documents, errors = read_round([folder], skip_bad=True)
    assert [Path(d.path).name for d in documents] == ["a.docx", "c.txt"]
    assert [e.path for e in errors] == [str(bad)]
    assert "빈 파일" in str(errors[0])


def test_skip_bad_still_raises_when_nothing_is_readable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(os.urandom(64) + b"\x00")
    with pytest.raises(InputError) as caught:
        read_round([bad, tmp_path / "missing.pdf"], skip_bad=True)
    assert caught.value.path == str(bad)


def test_read_round_accepts_one_path_and_reads_it_once(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("ㅇ 권고\n", encoding="utf-8")
    documents, errors = read_round([path, tmp_path])
    assert len(documents) == 1 and errors == []
    assert read_round(str(path))[0][0].path == str(path)


# --------------------------------------------------------------------------- normalisation


def test_nfd_hangul_reads_as_the_nfc_seed(tmp_path: Path) -> None:
    # macOS stores file names, and some editors text, as conjoining jamo (NFD).
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", SEED.read_text(encoding="utf-8")), encoding="utf-8")
    assert texts(path) == SEED_LINES


def test_fullwidth_ascii_is_folded_but_korean_markers_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_text("［ 질문 ］\u3000ＡＢＣ１２３（３－３－１）\nㅇ ① ｢상생상회｣ ※ ㈜ 【가】 ➀ ❶ Ⅰ\n", encoding="utf-8")
    assert texts(path) == ["[ 질문 ] ABC123(3-3-1)", "ㅇ ① ｢상생상회｣ ※ ㈜ 【가】 ➀ ❶ Ⅰ"]


def test_control_characters_are_removed_or_spaced(tmp_path: Path) -> None:
    path = tmp_path / "controls.txt"
    # A few stray controls in a real text (a wholly binary file is refused before this point).
    path.write_text(
        "ㅇ 첫째\x0c둘째\x0b셋째\x1b[0m 넷째\x07\x7f\x85\t탭\n\x0c□ ○○○ 위원\n" + "\n".join(SEED_LINES) + "\n", encoding="utf-8"
    )
    assert texts(path) == ["ㅇ 첫째 둘째 셋째[0m 넷째\t탭", " □ ○○○ 위원", *SEED_LINES]


def test_normalisation_keeps_line_numbers_and_pages_of_every_format(seed_fixtures: dict[str, Path]) -> None:
    document = read_document(seed_fixtures["seed.pdf"])
    # PDF text keeps its page numbers through normalisation, and the lines are numbered 1..n.
    assert [line.number for line in document.lines] == list(range(1, len(document.lines) + 1))
    assert {line.page for line in document.lines} >= {1, 2}


# --------------------------------------------------------------------------- decompression caps

SMALL = SizeLimits(member=2 * 1024 * 1024, file=5 * 1024 * 1024)


def expect_bomb(path: Path, limits: SizeLimits = SMALL) -> str:
    with pytest.raises(InputError) as caught:
        read_document(path, limits=limits)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and "압축 폭탄" in message
    return message


def test_docx_with_a_part_over_the_member_cap(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = docx_bomb(seed_fixtures["seed.docx"], tmp_path / "bomb.docx", part_mb=3, parts=1)
    assert "압축 파일 항목 word/bomb0.bin의 압축을 풀면 3.0 MB 이상으로 한도 2 MB를 넘습니다" in expect_bomb(path)
    assert len(read_document(path).lines) == len(SEED_LINES)  # the default caps read it


def test_docx_whose_parts_together_pass_the_file_cap(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = docx_bomb(seed_fixtures["seed.docx"], tmp_path / "bomb.docx", part_mb=2, parts=3)
    assert "압축 파일 전체의 압축을 풀면" in expect_bomb(path, SizeLimits(member=3 * 1024 * 1024, file=5 * 1024 * 1024))


def test_hwpx_with_a_section_over_the_member_cap(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    path = hwpx_bomb(seed_fixtures["seed.hwpx"], tmp_path / "bomb.hwpx", section_mb=3)
    assert "압축 파일 항목 Contents/section0.xml의 압축을 풀면 3.0 MB 이상" in expect_bomb(path)


def test_hwp_section_that_inflates_past_the_cap(seed_fixtures: dict[str, Path], tmp_path: Path) -> None:
    if "seed.hwp" not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    path = hwp_bomb(seed_fixtures["seed.hwp"], tmp_path / "bomb.hwp", section_mb=4)
    assert "HWP 구역 BodyText/Section0의 압축을 풀면 2.0 MB 이상" in expect_bomb(path)


def test_text_file_over_the_file_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"ok\n" * (2 * 1024 * 1024))
    assert "파일의 압축을 풀면 6.0 MB 이상" in expect_bomb(path)


def test_caps_come_from_the_environment(
    seed_fixtures: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = hwpx_bomb(seed_fixtures["seed.hwpx"], tmp_path / "bomb.hwpx", section_mb=3)
    monkeypatch.setenv("ADVISORY_MAX_MEMBER_MB", "2.5")
    with pytest.raises(InputError, match="ADVISORY_MAX_MEMBER_MB"):
        read_document(path)
    monkeypatch.setenv("ADVISORY_MAX_MEMBER_MB", "4")
    assert read_document(path).lines  # 3 MB of "ㅇ 가" paragraphs
    for bad in ("0", "-1", "lots", "inf"):
        monkeypatch.setenv("ADVISORY_MAX_FILE_MB", bad)
        with pytest.raises(InputError, match="ADVISORY_MAX_FILE_MB: 양수인 메가바이트 수여야 합니다"):
            read_document(SEED)
