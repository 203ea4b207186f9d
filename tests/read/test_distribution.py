"""Distribution-protected HWP 5.0 (배포용 문서), made by rule from the seed's HWP (tests/support/hwp_distribution.py):
read as the plain file is, while password protection keeps its one-line refusal."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import olefile
import pytest

from pipeline.core.errors import InputError
from pipeline.read.distribution import view_text_key
from pipeline.read.documents import read_document
from pipeline.read.hwp import hwp_paragraph_texts
from pipeline.read.parser import StructureParser
from tests.support.hwp_distribution import NOTICE, distribution_copy, key_record, scramble


@pytest.fixture(scope="module")
def pair(seed_fixtures: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The seed as a plain HWP and, under the same name in another folder, as a distribution document."""
    if "seed.hwp" not in seed_fixtures:
        pytest.skip("hwp-converter-ai is not installed: no HWP 5.0 fixture")
    folder = tmp_path_factory.mktemp("distribution")
    return seed_fixtures["seed.hwp"], distribution_copy(seed_fixtures["seed.hwp"], folder / "seed.hwp")


def test_the_fixture_is_a_distribution_document(pair: tuple[Path, Path]) -> None:
    # What makes the test below mean something: the flag is set, the text is only in ViewText (encrypted),
    # and BodyText holds the notice an older viewer shows.
    _, protected = pair
    with olefile.OleFileIO(str(protected)) as ole:
        (flags,) = struct.unpack_from("<I", ole.openstream("FileHeader").read(), 36)
        view = ole.openstream("ViewText/Section0").read()
        body = zlib.decompress(ole.openstream("BodyText/Section0").read(), -15)
    assert flags & 0x04 and flags & 0x01
    assert struct.unpack_from("<I", view)[0] == 0x1C | 256 << 20  # DISTRIBUTE_DOC_DATA, 256 bytes
    assert "위원".encode("utf-16-le") not in view
    assert hwp_paragraph_texts(body) == [NOTICE]


def test_distribution_protected_hwp_gives_the_plain_files_units(
    pair: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    plain, protected = pair
    with caplog.at_level("WARNING"):
        document = read_document(protected)
    assert caplog.messages == [] and document.format == "hwp"
    parser = StructureParser()
    units = parser.parse(document).units
    assert len(units) == 52
    assert units == parser.parse(read_document(plain)).units
    assert not any(NOTICE in line.text for line in document.lines)


def test_the_key_sits_where_the_seed_puts_it() -> None:
    # Seeds whose low nibble differs put the key at different offsets; the reader finds each.
    for seed in (0x10, 0x1F, 0xDEADBEE7):
        record, key = key_record(seed)
        assert view_text_key(struct.pack("<I", 0x1C | 256 << 20) + record) == key
        assert scramble(scramble(record)) == record and record[:4] == struct.pack("<I", seed)


def _set_flags(path: Path, extra: int) -> None:
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        header = bytearray(ole.openstream("FileHeader").read())
        (flags,) = struct.unpack_from("<I", header, 36)
        struct.pack_into("<I", header, 36, flags | extra)
        ole.write_stream("FileHeader", bytes(header))


def test_a_password_protected_file_keeps_its_one_line_refusal(pair: tuple[Path, Path], tmp_path: Path) -> None:
    path = tmp_path / "locked.hwp"
    shutil.copy(pair[1], path)
    _set_flags(path, 0x02)
    with pytest.raises(InputError) as caught:
        read_document(path)
    assert str(caught.value) == f"{path}: 암호화된 HWP 파일입니다 (암호 보호)"


@pytest.mark.parametrize(
    ("damage", "reason"),
    [(lambda s: b"\0\0\0\0" + s[4:], "키 레코드(DISTRIBUTE_DOC_DATA)로 시작하지 않습니다"),
     (lambda s: s[:-5], "AES 블록의 정수배가 아닙니다")],
)
def test_a_damaged_view_text_is_one_line_naming_the_file(pair: tuple[Path, Path], tmp_path: Path, damage,
                                                         reason: str) -> None:
    from tests.support.cfb import write_compound_file

    with olefile.OleFileIO(str(pair[1])) as ole:
        streams = {tuple(entry): ole.openstream(entry).read() for entry in ole.listdir()}
    streams[("ViewText", "Section0")] = damage(streams[("ViewText", "Section0")])
    path = write_compound_file(streams, tmp_path / "damaged.hwp")
    with pytest.raises(InputError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 배포용 문서의 HWP 구역 ViewText/Section0이(가) 손상되었습니다: ")
    assert reason in message and "\n" not in message
