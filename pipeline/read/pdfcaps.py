"""The decompression caps of a PDF, applied before PDFium sees the file.

PDFium inflates streams in C, where no cap can reach. :func:`check_streams` therefore inflates every stream
of the file a chunk at a time, keeping nothing, and counts it against
:class:`~pipeline.read.limits.SizeLimits`: past a cap it stops with the one-line error of
:func:`~pipeline.read.limits.over_limit`, having held no more than a chunk. Streams are found in the file's
bytes (a stream is always an indirect object of its own, never inside an object stream), which costs a
fraction of what parsing every object would; an encrypted file, whose streams only its key opens, is walked
object by object with pdfminer's parser instead, which decrypts them. The filters are pdfminer's
decoders (LZW, ASCII85, ASCIIHex) or zlib, run a chunk at a time.
"""

from __future__ import annotations

import contextvars
import io
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pipeline.core.errors import InputError
from pipeline.read.limits import FILE_LIMIT_VAR, MEMBER_LIMIT_VAR, SizeLimits, over_limit


def check_streams(name: str, data: bytes, limits: SizeLimits) -> None:
    """Inflate every stream of the PDF a chunk at a time, keeping nothing, and count it against ``limits``.

    Images are skipped: extracting text never decodes them. Raises the over-limit :class:`InputError`,
    or the one for a PDF that needs a password.
    """
    budget = _Budget(name, limits, limits.file)
    if _ENCRYPTED.search(data):
        _walk_objects(name, data, budget)
        return
    for objid, dictionary, raw in _raw_streams(data):
        if _IMAGE.search(dictionary):
            continue
        _measure_raw(objid, raw, _filters(dictionary), budget)


_OBJECT = re.compile(rb"(\d+)\s+\d+\s+obj\b")
_STREAM = re.compile(rb">>\s*stream(?:\r\n|\r|\n)")
_ENCRYPTED = re.compile(rb"/Encrypt\s*(?:\d+\s+\d+\s+R|<<)")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_FILTER = re.compile(rb"/Filter\s*(?:\[(?P<many>[^\]]*)\]|/(?P<one>[^\s/\[\]<>()]+))")
_NAME = re.compile(rb"/([^\s/\[\]<>()]+)")


def _raw_streams(data: bytes) -> Iterator[tuple[int | None, bytes, bytes]]:
    """Every stream in the file's bytes: its object number (None when no ``N G obj`` header precedes it),
    its dictionary and its raw bytes, in file order. The search resumes after each ``endstream``, so bytes
    inside a stream are never taken for a header or another stream."""
    pos = 0
    while True:
        found = _STREAM.search(data, pos)
        if found is None:
            return
        head = None
        for header in _OBJECT.finditer(data, pos, found.start()):
            head = header  # the last object header before the stream is its own
        dict_start = head.end() if head is not None else max(pos, found.start() - 4096)
        stop = data.find(b"endstream", found.end())
        stop = len(data) if stop < 0 else stop
        yield (int(head.group(1)) if head is not None else None), data[dict_start : found.start() + 2], \
            data[found.end() : stop]
        pos = stop + len(b"endstream")


def _filters(dictionary: bytes) -> list[Any]:
    """The filter names of a stream dictionary, as pdfminer's literals (empty when it has none)."""
    from pdfminer.psparser import LIT

    found = _FILTER.search(dictionary)
    if found is None:
        return []
    names = [found.group("one")] if found.group("one") else _NAME.findall(found.group("many"))
    return [LIT(name.decode("latin-1")) for name in names]


def _walk_objects(name: str, data: bytes, budget: _Budget) -> None:
    """Measure an encrypted PDF's streams object by object with pdfminer, which decrypts them (and also
    inflates cross-reference and object streams while the file opens: those are counted through
    :func:`_cap_stream_decoding`). A file pdfminer cannot parse is left to PDFium, which says whether it
    is damaged."""
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream
    from pdfminer.psparser import LIT

    _cap_stream_decoding()
    token = _BUDGET.set(budget)
    image = LIT("Image")
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        for xref in document.xrefs:
            for objid in xref.get_objids():
                try:
                    obj = document.getobj(objid)
                except Exception:  # noqa: BLE001 - a broken object is PDFium's to judge
                    if budget.exceeded is not None:
                        raise
                    continue
                if isinstance(obj, PDFStream) and obj.get("Subtype") is not image:
                    _measure(obj, budget)
    except Exception as exc:  # pdfminer's many error types
        if budget.exceeded is not None:
            raise budget.exceeded from exc
        if any(isinstance(cause, PDFPasswordIncorrect) for cause in _causes(exc)):
            raise InputError(name, "암호화된 PDF입니다: 읽으려면 암호가 필요합니다") from exc
    finally:
        _BUDGET.reset(token)
    if budget.exceeded is not None:  # a caller inside pdfminer swallowed the error: the file still fails
        raise budget.exceeded
    from pdfminer.pdfdocument import PDFDocument, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import PDFStream
    from pdfminer.psparser import LIT

    _cap_stream_decoding()


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


# What one walk of an encrypted file may still inflate; None outside it, where decoding is pdfminer's own.
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
    measured: set[int] = field(default_factory=set)  # object numbers counted already


def _cap_stream_decoding() -> None:
    """Make pdfminer measure every stream against the current read's caps before decoding it.

    pdfminer inflates a stream whole (``zlib.decompress``) and in several places, some while the
    document is still opening (cross-reference streams, object streams in its fallback scan),
    all through ``PDFStream.decode``, so that method is the one place to cap what happens inside
    ``PDFDocument``. The wrapper is installed once and acts only inside :func:`_walk_objects`.
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
    """Measure a pdfminer PDFStream (decrypting it once, here, and handing pdfminer the plain bytes: its
    RC4 is pure Python) with :func:`_measure_raw`."""
    if budget.exceeded is not None:
        raise budget.exceeded
    data = stream.rawdata
    if stream.decipher and data is not None:
        data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        stream.rawdata, stream.decipher = data, None
    _measure_raw(stream.objid, data or b"", [name for name, _params in stream.get_filters()], budget)


def _measure_raw(objid: int | None, data: bytes, filters: list[Any], budget: _Budget) -> None:
    """Inflate ``data`` through ``filters`` (pdfminer literals) chunk by chunk, keeping nothing, and
    charge its largest filter stage to ``budget``. Raises the over-limit InputError (also kept in
    ``budget``) as soon as a stage passes the member cap or what is left of the file cap."""
    if budget.exceeded is not None:
        raise budget.exceeded
    # An object stream is met twice, as an object of the walk and when pdfminer opens it: count it once.
    if objid is not None:
        if objid in budget.measured:
            return
        budget.measured.add(objid)
    if not filters:
        return  # raw bytes are no bigger than the file, whose size is capped already
    limits = budget.limits
    cap, var = (limits.member, MEMBER_LIMIT_VAR) if limits.member <= budget.left else (budget.left, FILE_LIMIT_VAR)
    # Inline images and a stream found without its object header have no object number.
    what = f"PDF 스트림 {objid}" if objid is not None else "PDF 스트림"
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
                    budget.exceeded = over_limit(budget.name, "PDF 전체", total, limits.file, var)
                raise budget.exceeded
            yield chunk
        largest = max(largest, size)

    chunks: Iterator[bytes] = iter((data,))
    for name in filters:
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
