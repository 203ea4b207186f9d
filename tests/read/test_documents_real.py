"""Real documents (tests/fixtures/real, see its README and MANIFEST.csv): every one is read, every line of it is
in a unit or listed as unplaced, distribution-protected HWP files open, and a wrong suffix is one warning.

The documents come from other repositories and are not distributed with the project: a developer who fetched
them keeps them in that folder (git ignores them), and a clean clone has none. So each test that needs a file
skips, saying which, when it is absent; a file that is there but differs from the manifest's SHA-256 fails.
What CI must check without them is tested on documents made by rule (tests/read/test_distribution.py,
test_documents.py, test_placement.py).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from bench.lib.real_docs import FOLDER, TRACKED, available, hangul, manifest
from pipeline.core.errors import InputError
from pipeline.core.records import Document
from pipeline.read.documents import read_document
from pipeline.read.hwp import FURNITURE_ONLY
from pipeline.read.parser import ParsedDocument, StructureParser
from tests.support.parse_helpers import content_lines, placed_and_unplaced

MANIFEST = manifest()
REFUSED = {"HeaderFooter.hwpx": FURNITURE_ONLY}
READABLE = [row["file"] for row in MANIFEST if row["file"] not in REFUSED]
WHERE = "tests/fixtures/real/README.md says how to fetch it"


def _present() -> set[str]:
    # A mismatch raises here, at collection: the whole module fails rather than measuring other bytes.
    present, _ = available(MANIFEST)
    return {row["file"] for row in present}


PRESENT = _present()


def need(*names: str) -> None:
    """Skip the calling test unless every one of ``names`` is here."""
    missing = [name for name in names if name not in PRESENT]
    if missing:
        pytest.skip(f"real document not here (not distributed with the project; {WHERE}): {', '.join(missing)}")


def text_hangul(texts: list[str]):
    return hangul("\n".join(texts))


@pytest.fixture(scope="module")
def parsed() -> dict[str, tuple[Document, ParsedDocument]]:
    parser = StructureParser()
    out = {}
    for name in READABLE:
        if name in PRESENT:
            document = read_document(FOLDER / name)
            out[name] = (document, parser.parse(document))
    return out


def test_manifest_names_every_file_with_its_source_license_and_hash() -> None:
    files = [row["file"] for row in MANIFEST]
    assert len(files) >= 20 and len(set(files)) == len(files)
    for row in MANIFEST:
        assert row["repository"].count("/") == 1 and row["path"], row["file"]
        assert re.fullmatch(r"[0-9a-f]{40}", row["commit"]), row["file"]
        assert re.fullmatch(r"[0-9a-f]{64}", row["sha256"]), row["file"]
        assert row["license"] in ("MIT", "Apache-2.0"), row["file"]
        assert not row["same_document_as"] or row["same_document_as"] in files


def test_fetched_documents_are_ignored_by_git() -> None:
    # A developer who fetched them must not commit them by accident; the manifest and README are tracked.
    if shutil.which("git") is None or not (FOLDER.parents[2] / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(name: str) -> bool:
        probe = subprocess.run(["git", "check-ignore", "-q", "--no-index", f"tests/fixtures/real/{name}"],
                               cwd=FOLDER.parents[2], check=False)
        return probe.returncode == 0

    assert not any(ignored(name) for name in TRACKED)
    assert all(ignored(name) for name in [*READABLE[:3], "licenses/rhwp-MIT.txt", "new.hwp"])


def test_a_file_that_is_not_the_manifests_bytes_fails(tmp_path: Path) -> None:
    from bench.lib.real_docs import ChecksumMismatch

    row = dict(MANIFEST[0])
    (tmp_path / row["file"]).write_bytes(b"other bytes")
    with pytest.raises(ChecksumMismatch, match=re.escape(row["file"])):
        available([row], tmp_path)
    assert available([row], tmp_path / "empty") == ([], [row["file"]])


@pytest.mark.parametrize("name", READABLE)
def test_every_line_of_a_real_document_is_in_a_unit_or_listed_unplaced(parsed, name: str) -> None:
    need(name)
    document, result = parsed[name]
    assert result.units
    # Each Hangul syllable of the document is in a unit, a heading units stand under, or an unplaced stretch.
    # (An item's enumerator is structure when the item is a unit: content_lines leaves it out.)
    assert text_hangul(placed_and_unplaced(result)) == text_hangul(content_lines([line.text for line in document.lines]))


def test_most_real_documents_keep_nearly_all_their_text_in_units(parsed) -> None:
    if len(parsed) < len(READABLE):
        need(*READABLE)
    shares = {}
    for name, (document, result) in parsed.items():
        total = sum(text_hangul([line.text for line in document.lines]).values())
        left_out = sum(text_hangul([s.text for s in result.unplaced]).values())
        shares[name] = 1 - left_out / total
    assert sum(share >= 0.95 for share in shares.values()) >= 0.9 * len(shares), shares


def test_titles_and_contents_entries_are_what_stays_out(parsed) -> None:
    need("86712_regulatory_analysis.hwp")
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
    need(name)
    document, result = parsed[name]
    texts = [line.text.strip() for line in document.lines if line.text.strip()]
    assert texts[0] == first_words
    # Hangul's notice in BodyText ("배포용 문서입니다…") is not what is read.
    assert not any("배포용 문서" in text for text in texts)
    assert len(result.units) >= 15


def test_distribution_protected_press_release_reads_as_its_pdf(parsed) -> None:
    need("20250130-hongbo-no.hwp", "20250130-hongbo-2022.pdf")
    hwp = text_hangul([line.text for line in parsed["20250130-hongbo-no.hwp"][0].lines])
    pdf = text_hangul([line.text for line in parsed["20250130-hongbo-2022.pdf"][0].lines])
    assert hwp == pdf


def test_the_fixture_writer_reads_real_key_records_as_the_reader_does() -> None:
    # tests/support/hwp_distribution.py writes what CI tests distribution-protected files with; here its model
    # of the key record is checked against real ones: unscrambled by the writer's own code, each holds a SHA-1
    # as 40 hex digits in UTF-16LE where the seed says, and its first 16 bytes are the key the reader finds.
    need("distribution.hwp", "20250130-hongbo-no.hwp")
    olefile = pytest.importorskip("olefile")
    from pipeline.read.distribution import view_text_key
    from tests.support.hwp_distribution import scramble

    for name in ("distribution.hwp", "20250130-hongbo-no.hwp"):
        with olefile.OleFileIO(str(FOLDER / name)) as ole:
            stream = ole.openstream("ViewText/Section0").read()
        plain = scramble(stream[4:260])
        at = 4 + (plain[0] & 0xF)
        assert re.fullmatch("[0-9A-F]{40}", plain[at : at + 80].decode("utf-16-le")), name
        assert plain[at : at + 16] == view_text_key(stream), name


def test_damaged_view_text_is_one_line_naming_the_file(tmp_path: Path) -> None:
    need("distribution.hwp")
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
    assert "배포용 문서의 HWP 구역 ViewText/Section0" in message and "키 레코드" in message


def test_hwpx_under_an_hwp_name_is_read_with_one_warning(parsed, caplog: pytest.LogCaptureFixture) -> None:
    name = "19439117_gokseong_voucher_form.hwp"
    need(name)
    with caplog.at_level("WARNING"):
        document = read_document(FOLDER / name)
    assert document.format == "hwpx" and parsed[name][1].units
    (warning,) = caplog.messages
    assert name in warning and ".hwp" in warning and "HWPX" in warning


def test_text_only_in_the_page_header_and_footer_says_so() -> None:
    need("HeaderFooter.hwpx")
    with pytest.raises(InputError) as caught:
        read_document(FOLDER / "HeaderFooter.hwpx")
    assert str(caught.value) == f"{FOLDER / 'HeaderFooter.hwpx'}: {FURNITURE_ONLY}"
