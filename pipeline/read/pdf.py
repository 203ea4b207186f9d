"""PDF files, through pdfplumber (text layer only).

pdfplumber is imported only when such a file is read: a round of text or HWP files does not
pay for its import (pdfminer's is slow). What a PDF's streams may inflate to is capped by
:class:`~pipeline.read.limits.SizeLimits`, as for the other formats.
"""

from __future__ import annotations

import contextvars
import io
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import InputError
from pipeline.read.limits import (
    FILE_LIMIT_VAR,
    MEMBER_LIMIT_VAR,
    RawLine,
    SizeLimits,
    one_line,
    over_limit,
    split_lines,
)


def read_pdf(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of a PDF. Out: the text lines of every page, with 1-based page numbers.

    Every stream pdfminer decodes is first inflated a chunk at a time and counted against
    ``limits`` (see :func:`_cap_stream_decoding`): past a cap the read stops with the one-line
    error of :func:`~pipeline.read.limits.over_limit`, having held no more than a chunk of it.
    """
    import pdfplumber  # deferred: pdfminer's import is slow and only PDF input needs it
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    if b"%PDF-" not in data[:1024]:
        raise InputError(name, "not a PDF file (no %PDF header)")
    # Every complete PDF ends with %%EOF (viewers tolerate some trailing junk); a file
    # cut short in transfer does not, and pdfminer would silently read what is left.
    if b"%%EOF" not in data[-2048:]:
        raise InputError(name, "truncated PDF (no %%EOF at the end of the file)")
    _cap_stream_decoding()
    budget = _Budget(name, limits, limits.file)
    token = _BUDGET.set(budget)
    lines: list[RawLine] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                if text:
                    lines.extend(split_lines(text, page=number))
    except Exception as exc:  # pdfplumber wraps pdfminer's many error types
        if budget.exceeded is not None:
            raise budget.exceeded from exc
        if any(isinstance(cause, PDFPasswordIncorrect) for cause in _causes(exc)):
            raise InputError(name, "encrypted PDF: a password is required to read it") from exc
        raise InputError(name, f"corrupt PDF ({one_line(exc)})") from exc
    finally:
        _BUDGET.reset(token)
    if budget.exceeded is not None:  # a caller inside pdfminer swallowed the error: the file still fails
        raise budget.exceeded
    if not lines:
        raise InputError(name, "no text layer (scanned PDF?)")
    return lines


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """In: an exception. Out: it, its chained causes, and exceptions carried in its args."""
    seen: list[BaseException] = []
    pending = [exc]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.append(current)
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(c for c in (current.__cause__, current.__context__) if c is not None)
    return seen


# What one read_pdf call may still inflate; None outside read_pdf, where decoding is pdfminer's own.
_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("pdf_inflate_budget", default=None)
_CHUNK = 1024 * 1024  # the most one filter stage holds at a time while a stream is measured


@dataclass
class _Budget:
    """The caps of one PDF read: its name and limits, the bytes the file may still inflate to,
    and the error that stopped it (kept because some of pdfminer's callers swallow errors)."""

    name: str
    limits: SizeLimits
    left: int
    exceeded: InputError | None = None


def _cap_stream_decoding() -> None:
    """Make pdfminer measure every stream against the current read's caps before decoding it.

    pdfminer inflates a stream whole (``zlib.decompress``) and in several places, some while the
    document is still opening (cross-reference streams, object streams in its fallback scan),
    all through ``PDFStream.decode``; pdfplumber creates the parser itself, so that method is
    the one place to cap. The wrapper is installed once and acts only inside :func:`read_pdf`.
    """
    from pdfminer.pdftypes import PDFStream

    original = PDFStream.decode
    if getattr(original, "capped", False):
        return

    def decode(stream: PDFStream) -> None:
        budget = _BUDGET.get()
        if budget is not None:
            _measure(stream, budget)
        original(stream)

    decode.capped = True  # type: ignore[attr-defined]
    PDFStream.decode = decode  # type: ignore[method-assign]


def _measure(stream: Any, budget: _Budget) -> None:
    """Inflate ``stream`` (a pdfminer PDFStream) chunk by chunk, keeping nothing, and charge its
    largest filter stage to ``budget``. Raises the over-limit InputError (also kept in ``budget``)
    as soon as a stage passes the member cap or what is left of the file cap."""
    if budget.exceeded is not None:
        raise budget.exceeded
    filters = stream.get_filters()
    if not filters:
        return  # raw bytes are no bigger than the file, whose size is capped already
    data = stream.rawdata
    if stream.decipher:
        # Decrypt once, here, and hand pdfminer the plain bytes (its RC4 is pure Python).
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        stream.rawdata, stream.decipher = data, None
    limits = budget.limits
    cap, var = (limits.member, MEMBER_LIMIT_VAR) if limits.member <= budget.left else (budget.left, FILE_LIMIT_VAR)
    # Cross-reference streams and inline images have no object number.
    what = f"PDF stream {stream.objid}" if stream.objid is not None else "a PDF stream"
    largest = 0

    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        nonlocal largest
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > cap:
                if var == MEMBER_LIMIT_VAR:
                    budget.exceeded = over_limit(budget.name, what, size, cap, var)
                else:  # name the whole file's total, not the sliver of the cap this stream had left
                    total = limits.file - budget.left + size
                    budget.exceeded = over_limit(budget.name, "the PDF", total, limits.file, var)
                raise budget.exceeded
            yield chunk
        largest = max(largest, size)

    chunks: Iterator[bytes] = iter((data,))
    for name, _params in filters:
        stage = _stage(name)
        if stage is None:
            break
        chunks = counted(stage(chunks))
    for _chunk in chunks:
        pass
    budget.left -= largest


def _stage(name: object) -> Callable[[Iterator[bytes]], Iterator[bytes]] | None:
    """In: a filter name. Out: a decoder from chunks to chunks, or None for filters that end the
    measure: image codecs (pdfminer leaves DCT, JPX and JBIG2 encoded and decodes CCITT only for
    whoever renders the image) and those it cannot decode at all. ASCII85 and ASCIIHex shrink
    their input, so they decode it whole; predictors are left out: they never enlarge it."""
    from pdfminer.ascii85 import ascii85decode, asciihexdecode
    from pdfminer.pdftypes import (
        LITERALS_ASCII85_DECODE,
        LITERALS_ASCIIHEX_DECODE,
        LITERALS_FLATE_DECODE,
        LITERALS_LZW_DECODE,
        LITERALS_RUNLENGTH_DECODE,
    )

    if name in LITERALS_FLATE_DECODE:
        return _inflate
    if name in LITERALS_LZW_DECODE:
        return _lzw
    if name in LITERALS_RUNLENGTH_DECODE:
        return _run_length
    if name in LITERALS_ASCII85_DECODE:
        return lambda chunks: iter((ascii85decode(b"".join(chunks)),))
    if name in LITERALS_ASCIIHEX_DECODE:
        return lambda chunks: iter((asciihexdecode(b"".join(chunks)),))
    return None


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """FlateDecode, at most ``_CHUNK`` bytes out at a time."""
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            while chunk and not inflater.eof:
                yield inflater.decompress(chunk, _CHUNK)
                chunk = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error:
        return  # pdfminer keeps what inflates before the damage: that much has been counted


def _lzw(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """LZWDecode through pdfminer's own decoder, which yields a code's bytes at a time."""
    from pdfminer.lzw import LZWDecoder

    yield from LZWDecoder(io.BytesIO(b"".join(chunks))).run()


def _run_length(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """RunLengthDecode, a run at a time (a run repeats a byte up to 128 times)."""
    data = b"".join(chunks)
    i = 0
    while i < len(data) and data[i] != 128:
        length = data[i]
        if length < 128:
            yield data[i + 1 : i + 2 + length]
            i += length + 2
        else:
            yield data[i + 1 : i + 2] * (257 - length)
            i += 2
