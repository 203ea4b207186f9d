"""Decompression bombs: small DOCX, HWPX and HWP files that unpack to many megabytes.

Used by tests/read/test_documents.py (a few MB against lowered caps) and bench/safety/bombs.py (GiB, for
peak memory). Each writer streams its payload, so building a 1 GiB bomb needs no 1 GiB buffer.
"""

from __future__ import annotations

import shutil
import zipfile
import zlib
from pathlib import Path

_MB = 1024 * 1024
_CHUNK = b"\0" * _MB


def copy_zip(source: Path, target: zipfile.ZipFile, replace: dict[str, bytes] | None = None,
              skip: frozenset[str] = frozenset()) -> None:
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if info.filename in skip:
                continue
            data = (replace or {}).get(info.filename, archive.read(info))
            target.writestr(info, data, compress_type=info.compress_type)


def stream_member(archive: zipfile.ZipFile, name: str, head: bytes, filler: bytes, mb: int, tail: bytes) -> None:
    """Write member ``name``: ``head``, then ``mb`` MB of ``filler`` repeated, then ``tail``."""
    block = filler * (_MB // len(filler))
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        member.write(head)
        for _ in range(mb):
            member.write(block)
        member.write(tail)


def docx_bomb(seed_docx: Path, path: Path, part_mb: int, parts: int = 3) -> Path:
    """A working DOCX whose main document links ``parts`` extra parts of ``part_mb`` MB of zeros each.

    python-docx loads every linked part, so reading it used to inflate them all into memory.
    """
    with zipfile.ZipFile(seed_docx) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
        types = archive.read("[Content_Types].xml").decode()
    links = "".join(
        f'<Relationship Id="rIdBomb{i}" Target="bomb{i}.bin" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/package"/>'
        for i in range(parts)
    )
    rels = rels.replace("</Relationships>", links + "</Relationships>")
    types = types.replace("</Types>", '<Default Extension="bin" ContentType="application/octet-stream"/></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        copy_zip(seed_docx, out, {"word/_rels/document.xml.rels": rels.encode(), "[Content_Types].xml": types.encode()})
        for i in range(parts):
            stream_member(out, f"word/bomb{i}.bin", b"", _CHUNK, part_mb, b"")
    return path


def hwpx_bomb(seed_hwpx: Path, path: Path, section_mb: int) -> Path:
    """An HWPX whose section0.xml is ``section_mb`` MB of well-formed paragraphs."""
    head = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<hs:sec xmlns:hs="http://www.hancom.co.kr/hwpml/2011/section" '
        b'xmlns:hp="http://www.hancom.co.kr/hwpml/2011/paragraph">'
    )
    paragraph = "<hp:p><hp:run><hp:t>ㅇ 가</hp:t></hp:run></hp:p>".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        copy_zip(seed_hwpx, out, skip=frozenset({"Contents/section0.xml"}))
        stream_member(out, "Contents/section0.xml", head, paragraph, section_mb, b"</hs:sec>")
    return path


def hwp_bomb(source_hwp: Path, path: Path, section_mb: int) -> Path:
    """A copy of ``source_hwp`` whose BodyText/Section0 inflates to ``section_mb`` MB of zeros.

    olefile rewrites a stream only at its own size, so the deflate data is padded with zeros
    after its end (as Hangul pads streams). Deflate packs at most about 1,000:1, so the bomb
    must fit the stream: about 10 MB for the seed's 10 KB section. Raises ValueError otherwise.
    """
    import olefile

    shutil.copy(source_hwp, path)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = b"".join(compressor.compress(_CHUNK) for _ in range(section_mb)) + compressor.flush()
    with olefile.OleFileIO(str(path), write_mode=True) as ole:
        size = ole.get_size("BodyText/Section0")
        if len(bomb) > size:
            raise ValueError(f"a {section_mb} MB bomb needs {len(bomb):,} bytes; the stream has {size:,}")
        ole.write_stream("BodyText/Section0", bomb + b"\0" * (size - len(bomb)))
    return path
