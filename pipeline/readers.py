"""Readers: turn a round's files into :class:`Document` records of numbered lines.

Supported inputs are plain text (UTF-8 with or without BOM, UTF-16, CP949/EUC-KR), HWPX,
HWP 5.0, PDF (with a text layer) and DOCX. Every reader keeps the lines as the format
gives them: the parser reads leading indentation and trailing spaces, so nothing but line
break characters is stripped. Then, once for every format, :func:`normalize_text` makes the
characters uniform (NFC, fullwidth ASCII folded, control characters removed). What a file
may unpack to is capped (:class:`SizeLimits`), so a decompression bomb is refused before it is
inflated. Anything unreadable becomes an :class:`InputError` whose message is one line naming
the file and the reason.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import charset_normalizer
import olefile

from pipeline.errors import InputError
from pipeline.records import Document, Line

SUPPORTED_SUFFIXES = (".txt", ".hwpx", ".hwp", ".pdf", ".docx")

# A "line" longer than this is not prose but a dump (minified data, a binary blob with a
# .txt suffix). Text files are checked on the raw bytes, before any decoding or encoding
# detection, so a huge file with no line breaks is rejected in milliseconds; other formats
# are checked on the characters of the extracted paragraphs.
MAX_LINE_LENGTH = 1024 * 1024
_MB = 1024 * 1024

#: Caps on what a file may unpack to, in MB (MiB): one archive member or HWP section, and the
#: whole file (all members read, or a text file's bytes). A 3 MB DOCX can hold parts that
#: inflate to gigabytes; past a cap the reader stops with an InputError before inflating more.
#: A researcher with a genuinely larger document raises them through these environment variables.
MAX_MEMBER_MB = 200
MAX_FILE_MB = 500
MEMBER_LIMIT_VAR = "ADVISORY_MAX_MEMBER_MB"
FILE_LIMIT_VAR = "ADVISORY_MAX_FILE_MB"


@dataclass(frozen=True)
class SizeLimits:
    """Caps in bytes on decompressed size: per archive member / HWP section and per file."""

    member: int = MAX_MEMBER_MB * _MB
    file: int = MAX_FILE_MB * _MB

    @classmethod
    def from_env(cls) -> SizeLimits:
        """The caps set by ``ADVISORY_MAX_MEMBER_MB`` / ``ADVISORY_MAX_FILE_MB``, else the defaults.

        Raises :class:`InputError` naming the variable when it is not a positive number.
        """
        member, file = MAX_MEMBER_MB, MAX_FILE_MB
        values = []
        for var, default in ((MEMBER_LIMIT_VAR, member), (FILE_LIMIT_VAR, file)):
            raw = os.environ.get(var, "").strip()
            try:
                value = float(raw) if raw else float(default)
            except ValueError:
                value = -1.0
            if not value > 0 or value == float("inf"):
                raise InputError(var, f"must be a positive number of megabytes, got {raw!r}")
            values.append(int(value * _MB))
        return cls(member=values[0], file=values[1])


def _over(name: str, what: str, size: int, limit: int, var: str) -> InputError:
    """The one-line error for ``what`` unpacking to ``size`` bytes past ``limit``."""
    return InputError(
        name,
        f"{what} unpacks to {size / _MB:,.1f} MB or more, over the limit of {limit / _MB:,.0f} MB: "
        f"a decompression bomb, not a document (set {var} to raise the limit)",
    )

# Share of non-whitespace characters that may be control, unassigned or private-use
# before a decoded text counts as binary garbage rather than a document.
_MAX_BAD_CHAR_SHARE = 0.05

# Paragraph-level text the reader has extracted, before numbering.
_RawLine = tuple[str, int | None]


def read_document(path: str | os.PathLike[str], limits: SizeLimits | None = None) -> Document:
    """Read one file into a :class:`Document`, choosing the reader by suffix (case-insensitive).

    In: a path to a ``.txt``, ``.hwpx``, ``.hwp``, ``.pdf`` or ``.docx`` file; the caps on
    decompressed size (default: :meth:`SizeLimits.from_env`).
    Out: the document with every line numbered from 1 (running over pages/paragraphs),
    ``page`` set for PDF, ``encoding`` set for text files, and the SHA-256 of the bytes.
    Raises :class:`InputError` for a missing, empty, binary, undecodable, corrupt,
    encrypted or unsupported file, one with no text at all, or one that is (or unpacks to)
    more than the caps allow.
    """
    name = str(path)
    file = Path(path)
    if not file.exists():
        raise InputError(name, "file not found")
    if not file.is_file():
        raise InputError(name, "not a regular file")
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(
            name, f"unsupported file type '{suffix or '(none)'}'; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    limits = limits or SizeLimits.from_env()
    try:
        size = file.stat().st_size
        if size > limits.file:
            raise _over(name, "the file", size, limits.file, FILE_LIMIT_VAR)
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read file: {exc.strerror or exc}") from exc
    if not data:
        raise InputError(name, "empty file (0 bytes)")

    encoding: str | None = None
    if suffix == ".txt":
        raw_lines, encoding = _read_txt(name, data)
    else:
        raw_lines = _BINARY_READERS[suffix](name, data, limits)

    # One pass over the whole text: normalising line by line costs a call per line. The raw
    # lines go as soon as they are joined: a long text is held in as few copies as possible.
    pages = [page for _, page in raw_lines]
    joined = "\n".join(text for text, _ in raw_lines)
    del raw_lines
    texts = normalize_text(joined).split("\n")
    del joined
    if not any(not text.isspace() and text for text in texts):
        reason = "no text layer (scanned PDF?)" if suffix == ".pdf" else "no text: the file holds only whitespace"
        raise InputError(name, reason)
    longest = max(map(len, texts))
    if longest > MAX_LINE_LENGTH:
        raise InputError(name, f"a paragraph of {longest:,} characters without a line break: not a document")
    lines = tuple(
        Line(text=text, number=i, page=page) for i, (text, page) in enumerate(zip(texts, pages, strict=True), start=1)
    )
    return Document(
        path=name,
        lines=lines,
        format=suffix.lstrip("."),
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
    )


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
        raise InputError("(no input)", "no input files or folders given")

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
                fail(InputError(str(entry), f"no supported files ({', '.join(SUPPORTED_SUFFIXES)}) in this folder"))
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


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """In: an exception from a third-party library. Out: its message on one short line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _split_lines(text: str, page: int | None = None) -> list[_RawLine]:
    """In: text with any newline convention. Out: its lines (blank ones kept), newlines removed."""
    parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A final newline ends the last line; it does not start another one.
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return [(part, page) for part in parts]


# --------------------------------------------------------------------------- text


def _read_txt(name: str, data: bytes) -> tuple[list[_RawLine], str]:
    """In: the bytes of a text file. Out: its lines and the encoding that decoded them."""
    _check_line_lengths(name, data)
    text, encoding = _decode_text(name, data)
    return _split_lines(text), encoding


def _check_line_lengths(name: str, data: bytes) -> None:
    """Reject text whose longest line exceeds :data:`MAX_LINE_LENGTH`, looking only at bytes."""
    if len(data) <= MAX_LINE_LENGTH:
        return
    if b"\n" not in data and b"\r" not in data:
        raise InputError(name, f"no line breaks in {len(data) / _MB:.1f} MB of text: not a document")
    longest = max(map(len, data.splitlines()))
    if longest > MAX_LINE_LENGTH:
        raise InputError(name, f"a line of {longest / _MB:.1f} MB without a line break: not a document")


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "utf-8"),
    (b"\xff\xfe", "utf-16-le", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be", "utf-16-be"),
)


def _decode_text(name: str, data: bytes) -> tuple[str, str]:
    """Decode text bytes: BOM first, then strict UTF-8, then detection among Korean encodings.

    In: non-empty bytes. Out: the text without BOM and the encoding's name.
    Raises :class:`InputError` for binary data or bytes no supported encoding explains.
    """
    for bom, encoding, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                reason = f"invalid {codec.upper()} text after its byte-order mark ({exc.reason})"
                raise InputError(name, reason) from exc
            _check_plausible(name, text, encoding)
            return text, encoding

    if b"\x00" in data:
        # NUL bytes are either UTF-16 without a BOM (every ASCII character carries one) or binary.
        candidates = ["utf_16_le", "utf_16_be"]
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Korean text that is not UTF-8 is, in practice, CP949 (a superset of EUC-KR).
            candidates = ["cp949", "euc_kr"]
        else:
            _check_plausible(name, text, "utf-8")
            return text, "utf-8"

    best = charset_normalizer.from_bytes(data, cp_isolation=candidates).best()
    if best is None:
        if b"\x00" in data:
            raise InputError(name, "binary data (NUL bytes), not a text file")
        raise InputError(name, "undecodable bytes: not UTF-8, UTF-16 or CP949/EUC-KR text")
    encoding = best.encoding.replace("_", "-")
    try:
        text = data.decode(best.encoding)
    except UnicodeDecodeError as exc:
        raise InputError(name, f"undecodable bytes at offset {exc.start} (best guess {encoding})") from exc
    # A guessed encoding that needed replacement characters guessed wrong.
    if "\ufffd" in text:
        raise InputError(name, f"undecodable bytes: decoding as {encoding} gives replacement characters")
    _check_plausible(name, text, encoding)
    return text, encoding


def _check_plausible(name: str, text: str, encoding: str) -> None:
    """Raise :class:`InputError` when decoded text is mostly control or unassigned characters.

    Binary data is binary throughout, so four 32K-character windows (start, two middles, end)
    decide; checking every character of a large round would cost more than parsing it.
    """
    window = 32_768
    if len(text) > 4 * window:
        step = len(text) // 3
        text = "".join(text[k * step : k * step + window] for k in range(3)) + text[-window:]
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return
    bad = sum(1 for ch in visible if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"))
    if bad > _MAX_BAD_CHAR_SHARE * len(visible):
        raise InputError(
            name, f"binary data: {bad / len(visible):.0%} of the characters are control codes when read as {encoding}"
        )


# --------------------------------------------------------------------------- HWPX

_SECTION_NAME = re.compile(r"Contents/section(\d+)\.xml", re.IGNORECASE)
# Subtrees whose text is not body text: page headers/footers repeat on every page and
# hidden comments are not shown; the parser must not see them as paragraphs.
_HWPX_SKIP = frozenset({"header", "footer", "hiddenComment", "linesegarray"})
# Inline elements of <hp:t> that stand for characters.
_HWPX_INLINE = {"lineBreak": "\n", "tab": " ", "nbSpace": " ", "fwSpace": " ", "hyphen": "-"}


def _local(tag: object) -> str:
    """In: an ElementTree tag ('{ns}name'). Out: the name without namespace ('' for comments)."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _read_hwpx(name: str, data: bytes, limits: SizeLimits) -> list[_RawLine]:
    """In: the bytes of an HWPX package. Out: one line per paragraph (line breaks split it)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(name, "corrupt or truncated HWPX file (not a readable ZIP archive)") from exc
    with archive:
        _check_zip_sizes(name, archive, limits)
        names = archive.namelist()
        if "META-INF/manifest.xml" in names and b"encryption-data" in _zip_read(name, archive, "META-INF/manifest.xml"):
            raise InputError(name, "encrypted HWPX file (password-protected)")
        sections = _hwpx_section_order(name, archive, names)
        if not sections:
            raise InputError(name, "not an HWPX document: no Contents/section*.xml in the archive")
        lines: list[_RawLine] = []
        for section in sections:
            try:
                root = ElementTree.fromstring(_zip_read(name, archive, section))
            except ElementTree.ParseError as exc:
                raise InputError(name, f"corrupt HWPX section {section}: {_one_line(exc)}") from exc
            for paragraph in _hwpx_paragraph_texts(root):
                lines.extend(_paragraph_lines(paragraph))
    return lines


def _paragraph_lines(paragraph: str) -> list[_RawLine]:
    """In: a paragraph with line breaks. Out: its lines; a trailing break keeps its empty line."""
    return [(part, None) for part in paragraph.split("\n")]


def _zip_read(name: str, archive: zipfile.ZipFile, member: str) -> bytes:
    """In: an open archive and a member name. Out: the member's bytes, or InputError if corrupt."""
    try:
        return archive.read(member)
    except (zipfile.BadZipFile, zlib.error, KeyError, EOFError, OSError, NotImplementedError) as exc:
        raise InputError(name, f"corrupt archive member {member}: {_one_line(exc)}") from exc


def _check_zip_sizes(name: str, archive: zipfile.ZipFile, limits: SizeLimits) -> None:
    """Refuse an archive whose members declare more than the caps, before inflating any of them.

    The declared sizes can be trusted as an upper bound: zipfile stops inflating a member at
    its declared size (and then fails its CRC check), so a member that lies gets no further.
    """
    total = 0
    for info in archive.infolist():
        if info.file_size > limits.member:
            raise _over(name, f"archive member {info.filename}", info.file_size, limits.member, MEMBER_LIMIT_VAR)
        total += info.file_size
        if total > limits.file:
            raise _over(name, "the archive", total, limits.file, FILE_LIMIT_VAR)


def _hwpx_section_order(name: str, archive: zipfile.ZipFile, names: list[str]) -> list[str]:
    """Section parts in reading order: the content.hpf spine when it lists them, else by number."""
    present = {n for n in names if _SECTION_NAME.fullmatch(n)}
    manifest = next((n for n in names if n.lower() == "contents/content.hpf"), None)
    if manifest is not None:
        try:
            package = ElementTree.fromstring(_zip_read(name, archive, manifest))
        except ElementTree.ParseError:
            # A broken manifest does not hide the sections; numeric order is the fallback.
            package = None
        if package is not None:
            hrefs = {item.get("id"): item.get("href", "") for item in package.iter() if _local(item.tag) == "item"}
            ordered = []
            for ref in package.iter():
                if _local(ref.tag) != "itemref":
                    continue
                href = hrefs.get(ref.get("idref"), "")
                # Hrefs are package-relative in Hancom's files; accept Contents-relative too.
                for candidate in (href, f"Contents/{href}"):
                    if candidate in present and candidate not in ordered:
                        ordered.append(candidate)
                        break
            if ordered:
                return ordered
    return sorted(present, key=lambda n: int(_SECTION_NAME.fullmatch(n).group(1)))  # type: ignore[union-attr]


def _hwpx_paragraph_texts(root: ElementTree.Element) -> list[str]:
    """In: a section's XML root. Out: paragraph texts in document order (tables after their anchor)."""
    texts: list[str] = []

    def emit(paragraph: ElementTree.Element) -> None:
        pieces: list[str] = []
        nested: list[ElementTree.Element] = []
        _hwpx_collect(paragraph, pieces, nested, in_text=False)
        texts.append("".join(pieces))
        for inner in nested:
            emit(inner)

    def walk(element: ElementTree.Element) -> None:
        for child in element:
            local = _local(child.tag)
            if local == "p":
                emit(child)
            elif local not in _HWPX_SKIP:
                walk(child)

    walk(root)
    return texts


def _hwpx_collect(
    element: ElementTree.Element, pieces: list[str], nested: list[ElementTree.Element], in_text: bool
) -> None:
    """Gather the characters of one paragraph; paragraphs nested in tables or text boxes go to ``nested``."""
    for child in element:
        local = _local(child.tag)
        if local == "p":
            nested.append(child)
        elif local in _HWPX_SKIP:
            pass
        elif local == "t":
            pieces.append(child.text or "")
            _hwpx_collect(child, pieces, nested, in_text=True)
        elif local in _HWPX_INLINE:
            pieces.append(_HWPX_INLINE[local])
        else:
            _hwpx_collect(child, pieces, nested, in_text=False)
        # Inside <hp:t>, the text after an inline element (its tail) is part of the run.
        if in_text and child.tail:
            pieces.append(child.tail)


# --------------------------------------------------------------------------- HWP 5.0

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HWP_SIGNATURE = b"HWP Document File"
_HWPTAG_PARA_HEADER = 66
_HWPTAG_PARA_TEXT = 67
_HWPTAG_CTRL_HEADER = 71
# Control ids are four characters stored as a little-endian DWORD: "head" reads b"daeh".
_HWP_PAGE_FURNITURE = frozenset({b"daeh", b"toof"})
# Control characters that occupy 8 WCHARs (the code, 6 WCHARs of parameters, the code
# again): inline controls 4-9, 19, 20 and extended controls 1-3, 11, 12, 14-18, 21-23.
_HWP_WIDE_CONTROLS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23})
# Single-WCHAR controls that stand for visible characters (tab is a wide control, 9).
_HWP_CHAR_CONTROLS = {9: " ", 10: "\n", 24: "-", 30: " ", 31: " "}
_SECTION_STREAM = re.compile(r"Section(\d+)")


def _read_hwp(name: str, data: bytes, limits: SizeLimits) -> list[_RawLine]:
    """In: the bytes of an HWP 5.0 file. Out: one line per paragraph (line breaks split it)."""
    if data.startswith(_HWP_SIGNATURE):
        raise InputError(name, "HWP 3.x file: only HWP 5.0 is supported (save it as HWP or HWPX in Hangul)")
    if not data.startswith(_OLE_MAGIC):
        raise InputError(name, "not an HWP 5.0 file (no OLE compound-file signature)")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError, IndexError, struct.error… on damage
        raise InputError(name, f"corrupt or truncated HWP file ({_one_line(exc)})") from exc
    with ole:
        try:
            return _hwp_lines(name, ole, limits)
        except InputError:
            raise
        except Exception as exc:  # a damaged sector chain surfaces only when a stream is read
            raise InputError(name, f"corrupt or truncated HWP file ({_one_line(exc)})") from exc


def _hwp_lines(name: str, ole: olefile.OleFileIO, limits: SizeLimits) -> list[_RawLine]:
    """In: an opened HWP compound file. Out: its body paragraphs as lines."""
    if not ole.exists("FileHeader"):
        raise InputError(name, "not an HWP document (no FileHeader stream)")
    header = ole.openstream("FileHeader").read()
    if not header.startswith(_HWP_SIGNATURE) or len(header) < 40:
        raise InputError(name, "not an HWP document (bad FileHeader signature)")
    version, flags = struct.unpack_from("<II", header, 32)
    if version >> 24 != 5:
        raise InputError(name, f"unsupported HWP version {version >> 24}.{(version >> 16) & 0xFF}")
    if flags & 0x02:
        raise InputError(name, "encrypted HWP file (password-protected)")
    if flags & 0x10:
        raise InputError(name, "DRM-protected HWP file")
    if flags & 0x04 or ole.exists("ViewText"):
        raise InputError(name, "distribution-protected HWP file (배포용 문서): its text is encrypted")
    compressed = bool(flags & 0x01)

    sections = sorted(
        (
            entry
            for entry in ole.listdir()
            if len(entry) == 2 and entry[0] == "BodyText" and _SECTION_STREAM.fullmatch(entry[1])
        ),
        key=lambda entry: int(entry[1][len("Section") :]),
    )
    if not sections:
        raise InputError(name, "no BodyText sections in the HWP file")
    lines: list[_RawLine] = []
    budget = limits.file  # what the sections may still unpack to
    for entry in sections:
        stream_name = "/".join(entry)
        cap, var = (limits.member, MEMBER_LIMIT_VAR) if limits.member <= budget else (budget, FILE_LIMIT_VAR)
        size = ole.get_size(entry)
        if size > cap:
            raise _over(name, f"HWP section {stream_name}", size, cap, var)
        stream = ole.openstream(entry).read()
        body = _inflate(name, stream_name, stream, cap, var) if compressed else stream
        budget -= len(body)
        try:
            paragraphs = hwp_paragraph_texts(body)
        except ValueError as exc:
            raise InputError(name, f"corrupt HWP section {'/'.join(entry)}: {exc}") from exc
        for paragraph in paragraphs:
            lines.extend(_paragraph_lines(paragraph))
    return lines


def _inflate(name: str, stream_name: str, stream: bytes, cap: int, var: str) -> bytes:
    """In: a compressed HWP stream (raw deflate), the most it may unpack to and the variable
    that sets that cap. Out: its bytes; InputError if damaged, cut short or over ``cap``
    (inflating stops there).
    """
    inflater = zlib.decompressobj(-15)
    try:
        body = inflater.decompress(stream, cap + 1)
    except zlib.error as exc:
        raise InputError(name, f"corrupt HWP section {stream_name} ({exc})") from exc
    if len(body) > cap:
        raise _over(name, f"HWP section {stream_name}", len(body), cap, var)
    # Hangul pads streams after the deflate end; a stream that never reaches its end is cut short.
    if not inflater.eof:
        raise InputError(name, f"truncated HWP section {stream_name}")
    return body


def hwp_paragraph_texts(body: bytes) -> list[str]:
    """Walk the records of an uncompressed HWP 5.0 BodyText section.

    In: the section's bytes (a sequence of records with 32-bit headers: tag id in bits
    0-9, level 10-19, size 20-31, size 0xFFF meaning a 32-bit size follows).
    Out: one text per paragraph (``PARA_HEADER``), in record order, so table-cell
    paragraphs follow the paragraph that anchors the table; ``\\n`` marks line breaks.
    Raises ValueError when a record runs past the end of the data.
    """
    paragraphs: list[str] = []
    pos = 0
    end = len(body)
    # Level of a page header/footer control whose records are being skipped, else None.
    skip_below: int | None = None
    while pos + 4 <= end:
        (header,) = struct.unpack_from("<I", body, pos)
        pos += 4
        tag = header & 0x3FF
        level = (header >> 10) & 0x3FF
        size = header >> 20
        if size == 0xFFF:
            if pos + 4 > end:
                raise ValueError("record header cut short")
            (size,) = struct.unpack_from("<I", body, pos)
            pos += 4
        if pos + size > end:
            raise ValueError(f"record of {size} bytes runs past the end of the section")
        if skip_below is not None and level <= skip_below:
            skip_below = None
        if skip_below is None:
            if tag == _HWPTAG_PARA_HEADER:
                paragraphs.append("")
            elif tag == _HWPTAG_PARA_TEXT and paragraphs:
                paragraphs[-1] = hwp_decode_para_text(body[pos : pos + size])
            elif tag == _HWPTAG_CTRL_HEADER and body[pos : pos + 4] in _HWP_PAGE_FURNITURE:
                # Page headers/footers are not body text (the HWPX reader skips them too).
                skip_below = level
        pos += size
    return paragraphs


def hwp_decode_para_text(payload: bytes) -> str:
    """Decode an ``HWPTAG_PARA_TEXT`` payload (UTF-16LE with embedded control characters).

    In: the record's bytes. Out: the paragraph's visible text, control objects removed
    (8-WCHAR inline/extended controls skipped whole), tab as a space, line break as
    ``\\n``; the paragraph end (13) stops the text.
    """
    count = len(payload) // 2
    units = struct.unpack(f"<{count}H", payload[: 2 * count])
    pieces: list[str] = []
    start = 0
    i = 0
    while i < count:
        code = units[i]
        if code >= 32:
            i += 1
            continue
        pieces.append(payload[2 * start : 2 * i].decode("utf-16-le", errors="replace"))
        if code == 13:
            start = count
            break
        pieces.append(_HWP_CHAR_CONTROLS.get(code, ""))
        i += 8 if code in _HWP_WIDE_CONTROLS else 1
        start = i
    # Empty when the text ended at a paragraph end or inside a control's parameters.
    pieces.append(payload[2 * start : 2 * count].decode("utf-16-le", errors="replace"))
    return "".join(pieces)


# --------------------------------------------------------------------------- PDF


def _read_pdf(name: str, data: bytes, limits: SizeLimits) -> list[_RawLine]:
    """In: the bytes of a PDF. Out: the text lines of every page, with 1-based page numbers.

    pdfminer inflates a page's streams whole and offers no cap: only the file's own size is
    capped (by ``read_document``).
    """
    import pdfplumber  # deferred: pdfminer's import is slow and only PDF input needs it
    from pdfminer.pdfdocument import PDFPasswordIncorrect

    if b"%PDF-" not in data[:1024]:
        raise InputError(name, "not a PDF file (no %PDF header)")
    # Every complete PDF ends with %%EOF (viewers tolerate some trailing junk); a file
    # cut short in transfer does not, and pdfminer would silently read what is left.
    if b"%%EOF" not in data[-2048:]:
        raise InputError(name, "truncated PDF (no %%EOF at the end of the file)")
    lines: list[_RawLine] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                if text:
                    lines.extend(_split_lines(text, page=number))
    except Exception as exc:  # pdfplumber wraps pdfminer's many error types
        if any(isinstance(cause, PDFPasswordIncorrect) for cause in _causes(exc)):
            raise InputError(name, "encrypted PDF: a password is required to read it") from exc
        raise InputError(name, f"corrupt PDF ({_one_line(exc)})") from exc
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


# --------------------------------------------------------------------------- DOCX

_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _read_docx(name: str, data: bytes, limits: SizeLimits) -> list[_RawLine]:
    """In: the bytes of a DOCX. Out: body paragraphs and table-cell paragraphs in document order.

    python-docx loads every part the package links (headers, footnotes, images) into memory, so
    the archive's sizes are checked against the caps first.
    """
    import docx  # deferred: only DOCX input needs python-docx
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_zip_sizes(name, archive, limits)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(name, f"corrupt or truncated DOCX file ({_one_line(exc)})") from exc
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # python-docx raises KeyError, ValueError, BadZipFile… on damage
        raise InputError(name, f"corrupt or truncated DOCX file ({_one_line(exc)})") from exc

    lines: list[_RawLine] = []

    def walk(container: object) -> None:
        for child in container:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == f"{_W_NS}p":
                text = Paragraph(child, document).text.replace("\t", " ")
                lines.extend((part, None) for part in text.split("\n"))
            elif tag in (f"{_W_NS}tbl", f"{_W_NS}tr", f"{_W_NS}tc", f"{_W_NS}sdt", f"{_W_NS}sdtContent"):
                # Walk the XML rather than python-docx's row.cells, which repeats merged cells.
                walk(child)

    walk(body)
    return lines


_BINARY_READERS: dict[str, Callable[[str, bytes, SizeLimits], list[_RawLine]]] = {
    ".hwpx": _read_hwpx,
    ".hwp": _read_hwp,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
}
