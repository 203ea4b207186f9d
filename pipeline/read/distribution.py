"""Distribution-protected HWP 5.0 files (배포용 문서): the ViewText streams and their key.

Hangul saves a 배포용 문서 with its sections in ``ViewText/Section*`` instead of ``BodyText``. Each such
stream starts with a ``DISTRIBUTE_DOC_DATA`` record of 256 bytes that carries the stream's AES-128 key,
scrambled with a byte stream drawn from the C runtime's linear congruential generator seeded by the
record's first four bytes (the published HWP 5.0 format, "배포용 문서 데이터"); the rest of the stream is
the section as ``BodyText`` would hold it (raw-deflated when the file is compressed), encrypted with
AES-128 in ECB mode. The key is in the file, so any viewer opens such a document without a password, and so does
this reader. The cipher is the ``cryptography`` package's AES; only the key's unscrambling is done here.
"""

from __future__ import annotations

import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

#: HWPTAG_BEGIN (0x10) + 12: the record that opens every ViewText stream.
HWPTAG_DISTRIBUTE_DOC_DATA = 0x10 + 12
_DATA_SIZE = 256
_HEADER_SIZE = 4
_BLOCK = 16


def _unscramble(data: bytes) -> bytes:
    """In: the record's 256 bytes. Out: them XOR-decoded (the first four, the seed, stay as they are).

    MSVC's ``rand()`` (seed = seed * 214013 + 2531011, bits 16-30), seeded with the first four bytes
    read little-endian, gives pairs: a byte to XOR with, then how many bytes (1 to 16) it covers.
    """
    (state,) = struct.unpack_from("<I", data, 0)

    def rand() -> int:
        nonlocal state
        state = (state * 214013 + 2531011) & 0xFFFFFFFF
        return (state >> 16) & 0x7FFF

    out = bytearray(data)
    value = count = 0
    for i in range(len(out)):
        if count == 0:
            value = rand() & 0xFF
            count = (rand() & 0xF) + 1
        if i >= 4:
            out[i] ^= value
        count -= 1
    return bytes(out)


def view_text_key(stream: bytes) -> bytes:
    """In: a ViewText stream. Out: the 16-byte AES key its first record holds.

    Raises ValueError when the stream does not start with a whole ``DISTRIBUTE_DOC_DATA`` record.
    """
    if len(stream) < _HEADER_SIZE + _DATA_SIZE:
        raise ValueError("ViewText 스트림이 키 레코드보다 짧습니다")
    (header,) = struct.unpack_from("<I", stream, 0)
    if header & 0x3FF != HWPTAG_DISTRIBUTE_DOC_DATA or header >> 20 != _DATA_SIZE:
        raise ValueError("ViewText 스트림이 키 레코드(DISTRIBUTE_DOC_DATA)로 시작하지 않습니다")
    data = _unscramble(stream[_HEADER_SIZE : _HEADER_SIZE + _DATA_SIZE])
    # The key's place inside the record depends on the seed's low nibble.
    offset = 4 + (data[0] & 0xF)
    return data[offset : offset + 16]


def decrypt_view_text(stream: bytes) -> bytes:
    """In: a ViewText/Section stream. Out: the section as BodyText would hold it (still compressed
    when the file is). Raises ValueError for a stream without its key record or cut mid-block."""
    key = view_text_key(stream)
    body = stream[_HEADER_SIZE + _DATA_SIZE :]
    if len(body) % _BLOCK:
        raise ValueError(f"{len(body)}바이트의 암호화 구역이 AES 블록의 정수배가 아닙니다")
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()  # noqa: S305 - the format's own mode
    return decryptor.update(body) + decryptor.finalize()
