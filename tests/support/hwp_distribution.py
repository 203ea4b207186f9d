"""Distribution-protected HWP 5.0 files (배포용 문서) made by rule from a plain HWP, for the reader's tests.

The HWP 5.0 format ("배포용 문서 데이터") describes what Hangul writes when it saves a document for
distribution, and this follows it step by step:

* ``FileHeader``: the properties' bit 2 (distribution document) is set.
* ``ViewText/Section<n>``: a ``DISTRIBUTE_DOC_DATA`` record (tag HWPTAG_BEGIN + 12, 256 bytes), then the
  section as ``BodyText`` held it (raw-deflated when the file is compressed), encrypted with AES-128 in ECB
  mode and padded with zero bytes to whole blocks.
* The record's 256 bytes: a 4-byte seed, then filler in which, at offset ``4 + (seed & 0xF)``, stand the
  SHA-1 of the distribution password as 40 hex digits in UTF-16LE (80 bytes; the AES key is their first
  16) and the copy/print options; everything after the seed is XOR-ed with bytes drawn from MSVC's
  ``rand()`` seeded with it (each draw gives a byte, the next how many bytes, 1 to 16, it covers).
* ``BodyText/Section<n>``: what an older viewer shows instead, one paragraph saying the document needs a
  newer one (here a fixed sentence of our own).

The scrambling is written here independently of ``pipeline/read/distribution.py`` (a fixture made by the
reader's own code would test nothing); ``tests/read/test_documents_real.py`` checks it against the key
records of real distribution files where those are present.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib
from pathlib import Path

import olefile
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from tests.support.cfb import write_compound_file

DISTRIBUTE_DOC_DATA = 0x10 + 12
PARA_HEADER, PARA_TEXT = 0x10 + 50, 0x10 + 51
#: The paragraph an older viewer shows in BodyText (the reader must not read it).
NOTICE = "이 문서는 배포용 문서입니다. 새 버전의 한글 뷰어에서 여십시오."


def _msvc_rand(seed: int):
    """MSVC's ``srand(seed)`` then ``rand()`` forever: state * 214013 + 2531011, bits 16 to 30."""
    state = seed
    while True:
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        yield (state >> 16) & 0x7FFF


def scramble(record: bytes) -> bytes:
    """XOR every byte after the 4-byte seed with the seed's ``rand()`` stream (its own inverse)."""
    (seed,) = struct.unpack_from("<I", record)
    draws = _msvc_rand(seed)
    out = bytearray(record)
    value = left = 0
    for i in range(len(out)):
        if left == 0:
            value, left = next(draws) & 0xFF, (next(draws) & 0xF) + 1
        if i >= 4:
            out[i] ^= value
        left -= 1
    return bytes(out)


def key_record(seed: int, password: str = "배포", options: int = 0) -> tuple[bytes, bytes]:
    """The scrambled 256-byte record for ``seed`` and ``password``, and the AES key it carries."""
    filler = random.Random(seed)
    plain = bytearray(struct.pack("<I", seed) + bytes(filler.randrange(256) for _ in range(252)))
    digest = hashlib.sha1(password.encode("utf-16-le")).hexdigest().upper().encode("utf-16-le")
    at = 4 + (seed & 0xF)
    plain[at : at + 80] = digest
    plain[at + 80 : at + 82] = struct.pack("<H", options)
    return scramble(bytes(plain)), digest[:16]


def record(tag: int, payload: bytes, level: int = 0) -> bytes:
    """One HWP record: header (tag, level, size) and payload (sizes under 4,095 bytes only)."""
    return struct.pack("<I", tag | level << 10 | len(payload) << 20) + payload


def view_text(section: bytes, seed: int) -> bytes:
    """A ``ViewText`` stream holding ``section`` (as BodyText held it), keyed by ``seed``."""
    scrambled, key = key_record(seed)
    padded = section + b"\0" * (-len(section) % 16)
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 - the format's own mode
    return record(DISTRIBUTE_DOC_DATA, scrambled) + encryptor.update(padded) + encryptor.finalize()


def notice_section(compressed: bool) -> bytes:
    """A BodyText section of one paragraph: the notice an older viewer shows."""
    text = NOTICE.encode("utf-16-le") + b"\r\0"
    body = record(PARA_HEADER, struct.pack("<IIHBBHHHI", len(text) // 2, 0, 0, 0, 0, 1, 0, 1, 0)) + record(PARA_TEXT, text, 1)
    if not compressed:
        return body
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(body) + deflate.flush()


def distribution_copy(plain: Path, target: Path, seed: int = 0x5EED1234) -> Path:
    """Write ``target``: the HWP 5.0 file ``plain`` saved as a distribution document (the module docstring
    says how). Every other stream is copied as it is."""
    with olefile.OleFileIO(str(plain)) as ole:
        streams = {tuple(entry): ole.openstream(entry).read() for entry in ole.listdir()}
    header = bytearray(streams[("FileHeader",)])
    (flags,) = struct.unpack_from("<I", header, 36)
    struct.pack_into("<I", header, 36, flags | 0x04)
    streams[("FileHeader",)] = bytes(header)
    for path in [p for p in streams if p[0] == "BodyText"]:
        streams[("ViewText", path[1])] = view_text(streams[path], seed + int(path[1][len("Section") :]))
        streams[path] = notice_section(bool(flags & 0x01))
    return write_compound_file(streams, target)
