"""PDF decompression bombs, written by hand: a few pages whose content streams inflate to many MB.

Used by tests/read/test_pdfcaps.py (a few MB against lowered caps) and bench/safety/bombs.py (GiB, for
peak memory). The PDF is built byte by byte with zlib, and each stream is compressed as it is
written, so a 1 GiB bomb needs no 1 GiB buffer.
"""

from __future__ import annotations

import zlib
from pathlib import Path

_MB = 1024 * 1024
_FILL = b" "  # whitespace in a content stream, which pdfminer skips fast (NUL it parses at ~5 s per MB)


def pdf_bomb(
    path: Path, stream_mb: float, pages: int = 1, filters: int = 1, hex_armour: bool = False,
    run_length: bool = False, xref_stream_mb: float | None = None,
) -> Path:
    """Write a valid PDF of ``pages`` pages, each showing one line of text then ``stream_mb`` MB of spaces.

    Under raised caps the file reads as ``pages`` lines.
    Each page has its own content stream, with ``run_length`` run-length encoded (64 to one), then
    FlateDecoded ``filters`` times over (two passes pack about a million to one), then with
    ``hex_armour`` written in hex (ASCIIHexDecode first in the filter chain). With ``xref_stream_mb`` the cross-reference table is a stream instead (PDF 1.5),
    its entries followed by that many MB of zero padding, which pdfminer inflates while it opens
    the file. Out: ``path``.
    """
    with path.open("wb") as out:
        offsets: list[int] = []

        def start_object() -> int:
            offsets.append(out.tell())
            number = len(offsets)
            out.write(f"{number} 0 obj\n".encode())
            return number

        def write_object(body: bytes) -> None:
            start_object()
            out.write(body + b"\nendobj\n")

        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(pages))
        write_object(b"<< /Type /Catalog /Pages 2 0 R >>")
        write_object(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
        write_object(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        for page in range(1, pages + 1):
            write_object(
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
                f"/Contents {len(offsets) + 2} 0 R >>".encode()
            )
            head = f"BT /F1 12 Tf 72 770 Td (page {page} of the bomb) Tj ET\n".encode()
            data = _encoded(head, stream_mb, filters, run_length)
            start_object()
            chain = ["/ASCIIHexDecode"] * hex_armour + ["/FlateDecode"] * filters + ["/RunLengthDecode"] * run_length
            decode = " ".join(chain)
            if hex_armour:
                data = data.hex().encode() + b">"
            out.write(f"<< /Length {len(data)} /Filter [{decode}] >>\nstream\n".encode())
            out.write(data + b"\nendstream\nendobj\n")
        xref = out.tell()
        if xref_stream_mb is None:
            out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
            out.write(b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets))
            out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\n".encode())
        else:
            size = len(offsets) + 2  # the objects, the free entry 0 and the xref stream itself
            entries = b"\0\0\0\0\0\xff\xff" + b"".join(b"\1" + o.to_bytes(4, "big") + b"\0\0" for o in [*offsets, xref])
            compressor = zlib.compressobj(9)
            data = compressor.compress(entries) + b"".join(
                compressor.compress(b"\0" * _MB) for _ in range(int(xref_stream_mb))
            ) + compressor.flush()
            out.write(
                f"{size - 1} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R /Length {len(data)} "
                f"/Filter /FlateDecode >>\nstream\n".encode()
            )
            out.write(data + b"\nendstream\nendobj\n")
        out.write(f"startxref\n{xref}\n%%EOF\n".encode())
    return path


def _encoded(head: bytes, mb: float, passes: int, run_length: bool) -> bytes:
    """``head`` then ``mb`` MB of spaces, run-length encoded if asked, then deflated ``passes`` times
    (without run-length encoding the first pass streams the spaces a MB at a time)."""
    size = int(mb * _MB)
    if run_length:
        # Literal runs of the head, runs of 128 spaces (length byte 129), the rest, end of data (128).
        runs, tail = divmod(size, 128)
        literal = b"".join(bytes([len(part) - 1]) + part for part in (head[i : i + 128] for i in range(0, len(head), 128)))
        rest = bytes([tail - 1]) + _FILL * tail if tail else b""
        data = literal + (bytes([129]) + _FILL) * runs + rest + bytes([128])
    else:
        compressor = zlib.compressobj(9)
        whole, rest_size = divmod(size, _MB)
        chunk = _FILL * _MB
        data = compressor.compress(head) + b"".join(compressor.compress(chunk) for _ in range(whole))
        data += compressor.compress(chunk[:rest_size]) + compressor.flush()
        passes -= 1
    for _ in range(passes):
        data = zlib.compress(data, 9)
    return data
