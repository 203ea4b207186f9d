"""Real documents (tests/fixtures/real, see its MANIFEST.csv): every one is read, every line of it is in a
unit or listed as unplaced, distribution-protected HWP files open, and a wrong suffix is one warning."""

from __future__ import annotations

import csv
import hashlib
import shutil
import struct
from collections import Counter
from pathlib import Path

import pytest

from pipeline.core.errors import InputError
from pipeline.core.records import Document
from pipeline.read.documents import read_document
from pipeline.read.hwp import FURNITURE_ONLY
from pipeline.read.parser import ParsedDocument, StructureParser
from tests.support.parse_helpers import placed_and_unplaced

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "real"
MANIFEST = list(csv.DictReader((FOLDER / "MANIFEST.csv").open(encoding="utf-8")))
REFUSED = {"HeaderFooter.hwpx": FURNITURE_ONLY}
READABLE = [row["file"] for row in MANIFEST if row["file"] not in REFUSED]


def hangul(texts: list[str]) -> Counter:
    return Counter(ch for text in texts for ch in text if "가" <= ch <= "힣")


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[Document, ParsedDocument]]:
    parser = StructureParser()
    out = {}
    for name in READABLE:
        document = read_document(FOLDER / name)
        out[name] = (document, parser.parse(document))
    return out


def test_manifest_names_every_file_with_its_source_license_and_hash() -> None:
    files = sorted(p.name for p in FOLDER.iterdir() if p.is_file() and p.name not in ("MANIFEST.csv", "README.md"))
    assert sorted(row["file"] for row in MANIFEST) == files
    assert len(files) >= 20
    licenses = {p.name for p in (FOLDER / "licenses").iterdir()}
    for row in MANIFEST:
        assert hashlib.sha256((FOLDER / row["file"]).read_bytes()).hexdigest() == row["sha256"], row["file"]
        assert row["repository"] and row["path"] and len(row["commit"]) == 40
        assert any(name.endswith(f"-{row['license']}.txt") for name in licenses), row["license"]
        assert not row["same_document_as"] or row["same_document_as"] in files


@pytest.mark.parametrize("name", READABLE)
def test_every_line_of_a_real_document_is_in_a_unit_or_listed_unplaced(parsed, name: str) -> None:
    document, result = parsed[name]
    assert result.units
    # Each Hangul syllable of the document is in a unit, a heading units stand under, or an unplaced stretch.
    assert hangul(placed_and_unplaced(result)) == hangul([line.text for line in document.lines])


def test_most_real_documents_keep_nearly_all_their_text_in_units(parsed) -> None:
    shares = {}
    for name, (document, result) in parsed.items():
        total = sum(hangul([line.text for line in document.lines]).values())
        left_out = sum(hangul([s.text for s in result.unplaced]).values())
        shares[name] = 1 - left_out / total
    assert sum(share >= 0.95 for share in shares.values()) >= 0.9 * len(shares), shares


def test_titles_and_contents_entries_are_what_stays_out(parsed) -> None:
    _, result = parsed["86712_regulatory_analysis.hwp"]
    assert result.unplaced[0].reason == "preamble"
    assert result.unplaced[0].text.startswith("규제영향분석서")
    contents = [s for s in result.unplaced if "미해당" in s.text]
    assert contents and all(s.reason == "heading_without_units" for s in contents)


@pytest.mark.parametrize(
    ("name", "first_words"),
    [("distribution.hwp", "강남세움복지관 공고 제 2024-08호"), ("20250130-hongbo-no.hwp", "보도자료")],
)
def test_distribution_protected_hwp_is_read(parsed, name: str, first_words: str) -> None:
    document, result = parsed[name]
    texts = [line.text.strip() for line in document.lines if line.text.strip()]
    assert texts[0] == first_words
    # Hangul's notice in BodyText ("배포용 문서입니다…") is not what is read.
    assert not any("배포용 문서" in text for text in texts)
    assert len(result.units) >= 15


def test_distribution_protected_press_release_reads_as_its_pdf(parsed) -> None:
    hwp = hangul([line.text for line in parsed["20250130-hongbo-no.hwp"][0].lines])
    pdf = hangul([line.text for line in parsed["20250130-hongbo-2022.pdf"][0].lines])
    assert hwp == pdf


def test_damaged_view_text_is_one_line_naming_the_file(tmp_path: Path) -> None:
    olefile = pytest.importorskip("olefile")
    path = tmp_path / "damaged.hwp"
    shutil.copy(FOLDER / "distribution.hwp", path)
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        stream = bytearray(ole.openstream("ViewText/Section0").read())
        struct.pack_into("<I", stream, 0, 0)  # the key record's header gone
        ole.write_stream("ViewText/Section0", bytes(stream))
    with pytest.raises(InputError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "distribution-protected HWP section ViewText/Section0" in message and "key record" in message


def test_hwpx_under_an_hwp_name_is_read_with_one_warning(parsed, caplog: pytest.LogCaptureFixture) -> None:
    name = "19439117_gokseong_voucher_form.hwp"
    with caplog.at_level("WARNING"):
        document = read_document(FOLDER / name)
    assert document.format == "hwpx" and parsed[name][1].units
    (warning,) = caplog.messages
    assert name in warning and ".hwp" in warning and "HWPX" in warning


def test_text_only_in_the_page_header_and_footer_says_so(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_document(FOLDER / "HeaderFooter.hwpx")
    assert str(caught.value) == f"{FOLDER / 'HeaderFooter.hwpx'}: {FURNITURE_ONLY}"
