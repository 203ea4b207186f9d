"""Readers: turn a round's files into :class:`Document` records of numbered lines.

Supported inputs are plain text (UTF-8 with or without BOM, UTF-16, CP949/EUC-KR), HWPX,
HWP 5.0, PDF (with a text layer) and DOCX. This module picks the format's reader by the file's content
(:func:`content_format`: OLE compound file, ZIP of HWPX or DOCX parts, ``%PDF``, else text), the suffix
being only a hint: a file whose suffix names another format is read as what it is, with one warning
naming both. The readers (:mod:`pipeline.read.textfile`, :mod:`pipeline.read.hwp`, :mod:`pipeline.read.pdf`,
:mod:`pipeline.read.docx`) extract lines and this module finishes them. Every reader keeps the lines
as the format gives them: the parser reads leading indentation and trailing spaces, so nothing but
line break characters is stripped. Then, once
for every format, :func:`normalize_text` makes the characters uniform (NFC, fullwidth ASCII
folded, control characters removed). What a file may unpack to is capped (:class:`SizeLimits`,
in :mod:`pipeline.read.limits`), so a decompression bomb is refused before it is inflated.
Anything unreadable becomes an :class:`InputError` whose message is one line naming the file
and the reason.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.core.errors import InputError, reading
from pipeline.core.records import Document, Line
from pipeline.read.docx import read_docx
from pipeline.read.hwp import read_hwp, read_hwpx
from pipeline.read.limits import FILE_LIMIT_VAR, MAX_LINE_LENGTH, RawLine, SizeLimits, over_limit
from pipeline.read.pdf import read_pdf
from pipeline.read.textfile import read_txt

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".hwpx", ".hwp", ".pdf", ".docx")
#: How a warning names each format (the researcher sees it).
FORMAT_NAMES = {"txt": "텍스트", "hwpx": "HWPX", "hwp": "HWP", "pdf": "PDF", "docx": "DOCX"}


def read_document(path: str | os.PathLike[str], limits: SizeLimits | None = None) -> Document:
    """Read one file into a :class:`Document`, choosing the reader by content (:func:`content_format`).

    In: a path to a ``.txt``, ``.hwpx``, ``.hwp``, ``.pdf`` or ``.docx`` file; the caps on
    decompressed size (default: :meth:`SizeLimits.from_env`). A file whose content is another of these
    formats than its suffix says is read as its content, with one warning naming both.
    Out: the document with every line numbered from 1 (running over pages/paragraphs),
    ``page`` set for PDF, ``encoding`` set for text files, ``format`` the format read, and the
    SHA-256 of the bytes.
    Raises :class:`InputError` for a missing, empty, binary, undecodable, corrupt,
    encrypted or unsupported file, one with no text at all, or one that is (or unpacks to)
    more than the caps allow.
    """
    name = str(path)
    limits = limits or SizeLimits.from_env()
    file = Path(path)
    suffix = file.suffix.lower()
    data = _file_bytes(name, file, suffix, limits)
    fmt = _format_of(name, suffix.lstrip("."), data)
    encoding: str | None = None
    with reading(name, f"{FORMAT_NAMES[fmt]} 파일"):
        if fmt == "txt":
            raw_lines, encoding = read_txt(name, data)
        else:
            raw_lines = _BINARY_READERS[fmt](name, data, limits)
    return Document(path=name, lines=_numbered_lines(name, fmt, raw_lines), format=fmt,
                    sha256=hashlib.sha256(data).hexdigest(), encoding=encoding)


def _file_bytes(name: str, file: Path, suffix: str, limits: SizeLimits) -> bytes:
    """The bytes of a supported, non-empty file within the caps; ``InputError`` naming the file otherwise."""
    if not file.exists():
        raise InputError(name, "파일이 없습니다")
    if not file.is_file():
        raise InputError(name, "일반 파일이 아닙니다")
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            name, f"지원하지 않는 파일 형식입니다 ('{suffix or '(확장자 없음)'}'); "
                  f"{', '.join(SUPPORTED_SUFFIXES)} 중 하나여야 합니다"
        )
    try:
        size = file.stat().st_size
        if size > limits.file:
            raise over_limit(name, "파일", size, limits.file, FILE_LIMIT_VAR)
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(name, f"파일을 읽을 수 없습니다 ({exc.strerror or exc})") from exc
    if not data:
        raise InputError(name, "빈 파일입니다 (0바이트)")
    return data


def _numbered_lines(name: str, fmt: str, raw_lines: list) -> tuple[Line, ...]:
    """A reader's ``(text, page)`` lines normalised (:func:`normalize_text`) and numbered from 1; ``InputError``
    for a document with no text or a line too long to be a paragraph."""
    # One pass over the whole text: normalising line by line costs a call per line. The raw
    # lines go as soon as they are joined: a long text is held in as few copies as possible.
    pages = [page for _, page in raw_lines]
    joined = "\n".join(text for text, _ in raw_lines)
    raw_lines.clear()
    texts = normalize_text(joined).split("\n")
    del joined
    if not any(not text.isspace() and text for text in texts):
        reason = ("텍스트 층이 없습니다 (스캔한 PDF인가요?)" if fmt == "pdf"
                  else "글자가 없습니다: 공백만 있는 파일입니다")
        raise InputError(name, reason)
    longest = max(map(len, texts))
    if longest > MAX_LINE_LENGTH:
        raise InputError(name, f"줄바꿈 없는 {longest:,}자짜리 문단이 있습니다: 문서가 아닙니다")
    return tuple(
        Line(text=text, number=i, page=page) for i, (text, page) in enumerate(zip(texts, pages, strict=True), start=1)
    )


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HWP3_MAGIC = b"HWP Document File"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def content_format(data: bytes) -> str | None:
    """The format ``data`` holds, by its first bytes: ``hwp`` (an OLE compound file, or HWP 3.x, which
    the HWP reader refuses by name), ``hwpx`` or ``docx`` (a ZIP holding their parts), ``pdf``
    (``%PDF-`` in the first KB, where viewers look for it), ``txt`` (a byte-order mark, or no NUL byte
    in the first 4 KB); None when it cannot tell (a ZIP of neither, one too damaged to list, binary
    data), and the suffix decides.
    """
    if data.startswith((_OLE_MAGIC, _HWP3_MAGIC)):
        return "hwp"
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_BOMS) or b"\x00" not in data[:4096]:
        return "txt"
    return None


def _zip_format(data: bytes) -> str | None:
    """``hwpx`` or ``docx`` by the part names of a ZIP (its directory only: nothing is inflated)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None  # damaged: the suffix's reader says how
    if "word/document.xml" in names:
        return "docx"
    if any(n.lower().startswith("contents/section") for n in names) or "mimetype" in names:
        return "hwpx"
    return None


def _format_of(name: str, suffix_format: str, data: bytes) -> str:
    """The reader to use for a file: its content's format, or its suffix's when the content cannot tell.

    A mismatch is one warning naming both, so a researcher can rename the file; the text is read either way.
    """
    found = content_format(data)
    if found is None or found == suffix_format:
        return suffix_format
    log.warning("%s: 확장자는 .%s이지만 내용은 %s 파일입니다 — %s로 읽습니다", name, suffix_format,
                FORMAT_NAMES[found], FORMAT_NAMES[found])
    return found


# Characters the reader rewrites (see normalize_text): C0 controls but tab and newline, DEL,
# C1 controls, lone surrogates, the ideographic space and the fullwidth forms of ASCII.
_TO_NORMALIZE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u3000\uff01-\uff5e]")


def _normalize_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xFF01 <= code <= 0xFF5E:
        return chr(code - 0xFEE0)
    if code == 0x3000 or code in (0x0B, 0x0C, 0x0D):
        # Vertical tab and form feed are line/page breaks of exported text: a space keeps the
        # words either side apart without adding a line (line numbers stay those of an editor).
        return " "
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return ""


def normalize_text(text: str) -> str:
    """Text as every later stage sees it, whatever the format or editor that produced it.

    In: extracted text (any newline-free lines joined by ``\n``). Out: the same lines with
    fullwidth ASCII (``［질문］``, ``１．``) and the ideographic space folded to ASCII; vertical tab,
    form feed and stray carriage returns as spaces; other control characters (C0 but tab and
    newline, DEL, C1) removed, as Excel and XML refuse them; lone surrogates as U+FFFD; then NFC,
    so Hangul typed as conjoining jamo (NFD, as macOS file systems store it) reads as syllables.
    Only these are folded, not all of NFKC: NFKC would rewrite the markers the parser and the
    researchers read (``ㅇ`` → ``ᄋ``, ``①`` → ``1``, ``㈜`` → ``(주)``, ``｢｣`` → ``「」``).
    The number of lines never changes.
    """
    if _TO_NORMALIZE.search(text):
        text = _TO_NORMALIZE.sub(_normalize_char, text)
    return unicodedata.normalize("NFC", text)


def read_round(
    paths: Sequence[str | os.PathLike[str]], skip_bad: bool = False
) -> tuple[list[Document], list[InputError]]:
    """Read every document of a round.

    In: files and/or folders (a folder contributes its supported files, recursively,
    sorted by their path inside the folder; hidden files and Office lock files ``~$…``
    are ignored). A bare string or path is taken as a single entry.
    Out: the documents read, in input order, and the errors of the files that were
    skipped (always empty unless ``skip_bad``).
    Raises the first :class:`InputError` when ``skip_bad`` is false; with ``skip_bad``
    it raises only when no readable document remains. A folder with no supported file
    is itself an error naming the folder.
    """
    entries: Sequence[str | os.PathLike[str]] = [paths] if isinstance(paths, (str, os.PathLike)) else paths
    if not entries:
        raise InputError("(입력 없음)", "입력 파일이나 폴더가 없습니다")

    documents: list[Document] = []
    errors: list[InputError] = []
    seen: set[Path] = set()

    def fail(error: InputError) -> None:
        if not skip_bad:
            raise error
        errors.append(error)

    for entry in entries:
        folder = Path(entry)
        files: list[str | os.PathLike[str]]
        if folder.is_dir():
            files = list(_supported_files(folder))
            if not files:
                fail(InputError(str(entry), f"이 폴더에 지원하는 파일({', '.join(SUPPORTED_SUFFIXES)})이 없습니다"))
                continue
        else:
            # Kept as given, so messages and Document.path show the path the user typed.
            files = [entry]
        for file in files:
            key = Path(file).resolve()
            # The same file named twice (itself and via its folder) would double its units.
            if key in seen:
                continue
            seen.add(key)
            try:
                documents.append(read_document(file))
            except InputError as error:
                fail(error)

    if not documents:
        raise errors[0]
    return documents, errors


def _supported_files(folder: Path) -> list[Path]:
    """In: a folder. Out: its supported files at any depth, sorted by relative path."""
    found = []
    for file in folder.rglob("*"):
        relative = file.relative_to(folder)
        # Editors leave hidden files and Word/Hangul owner files ("~$name.docx") beside the
        # real ones; they are not documents of the round.
        if any(part.startswith((".", "~$")) for part in relative.parts):
            continue
        if file.suffix.lower() in SUPPORTED_SUFFIXES and file.is_file():
            found.append(file)
    return sorted(found, key=lambda f: f.relative_to(folder).as_posix())


_BINARY_READERS: dict[str, Callable[[str, bytes, SizeLimits], list[RawLine]]] = {
    "hwpx": read_hwpx,
    "hwp": read_hwp,
    "pdf": read_pdf,
    "docx": read_docx,
}
