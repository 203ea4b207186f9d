"""Hangul word processor files: HWPX (a ZIP of XML parts) and HWP 5.0 (an OLE compound file).

Both give one line per paragraph, line breaks inside a paragraph splitting it, tables after the
paragraph that anchors them; page headers and footers are skipped (a file whose only text is there says
so). Sections are unpacked within the caps of :class:`~pipeline.read.limits.SizeLimits`. A
distribution-protected HWP (배포용 문서) is read from its ViewText streams (:mod:`pipeline.read.distribution`).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from xml.etree import ElementTree

import olefile

from pipeline.core.errors import InputError
from pipeline.read.distribution import decrypt_view_text
from pipeline.read.limits import (
    FILE_LIMIT_VAR,
    MEMBER_LIMIT_VAR,
    RawLine,
    SizeLimits,
    one_line,
    over_limit,
    paragraph_lines,
)
from pipeline.read.tables import CELL_BREAK, RecordTables, opinion_table_rows
from pipeline.read.zipped import ZipPackage, open_zip

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


def read_hwpx(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of an HWPX package. Out: one line per paragraph (line breaks split it)."""
    not_a_zip = "손상되었거나 잘린 HWPX 파일입니다 (읽을 수 있는 ZIP 압축 파일이 아님)"
    with open_zip(name, data, limits, not_a_zip) as archive:
        names = archive.names()
        if "META-INF/manifest.xml" in names and b"encryption-data" in archive.read("META-INF/manifest.xml"):
            raise InputError(name, "암호화된 HWPX 파일입니다 (암호 보호)")
        sections = _hwpx_section_order(archive, names)
        if not sections:
            raise InputError(name, "HWPX 문서가 아닙니다: 압축 파일에 Contents/section*.xml이 없습니다")
        lines: list[RawLine] = []
        furniture = False
        for section in sections:
            try:
                root = ElementTree.fromstring(archive.read(section))
            except ElementTree.ParseError as exc:
                raise InputError(name, f"HWPX 구역 {section}이(가) 손상되었습니다: {one_line(exc)}") from exc
            _check_depth(name, section, root)
            for paragraph in _hwpx_paragraph_texts(root):
                lines.extend(paragraph_lines(paragraph))
            furniture = furniture or _hwpx_has_furniture_text(root)
    if furniture and not any(text.strip() for text, _ in lines):
        raise InputError(name, FURNITURE_ONLY)
    return lines


# Hancom nests a table in a table cell a few levels deep (about ten elements a level); past this the
# walk below would exhaust Python's stack. lxml (DOCX, REFI-QDA) refuses XML deeper than 256 too.
MAX_DEPTH = 256


#: The reason given for a document whose only text is in its page headers and footers.
FURNITURE_ONLY = (
    "본문이 없습니다: 글자가 머리말/꼬리말에만 있고, 머리말/꼬리말은 내용으로 읽지 않습니다"
)


def _hwpx_has_furniture_text(root: ElementTree.Element) -> bool:
    """In: a section's XML root. Out: whether a page header or footer in it holds visible text."""
    for element in root.iter():
        if _local(element.tag) in ("header", "footer"):
            if any(_local(t.tag) == "t" and (t.text or "").strip() for t in element.iter()):
                return True
    return False




def _check_depth(name: str, section: str, root: ElementTree.Element) -> None:
    """Refuse a section whose elements nest deeper than :data:`MAX_DEPTH` (measured without recursion)."""
    level = [root]
    for _ in range(MAX_DEPTH):
        level = [child for element in level for child in element]
        if not level:
            return
    raise InputError(name, f"HWPX 구역 {section}의 요소가 {MAX_DEPTH}단계보다 깊게 중첩되어 있습니다: "
                           "문서가 아닙니다")


def _hwpx_section_order(archive: ZipPackage, names: list[str]) -> list[str]:
    """Section parts in reading order: the content.hpf spine when it lists them, else by number."""
    present = {n for n in names if _SECTION_NAME.fullmatch(n)}
    manifest = next((n for n in names if n.lower() == "contents/content.hpf"), None)
    if manifest is not None:
        try:
            package = ElementTree.fromstring(archive.read(manifest))
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
        nested: list[ElementTree.Element | str] = []
        _hwpx_collect(paragraph, pieces, nested, in_text=False)
        texts.append("".join(pieces))
        for inner in nested:
            if isinstance(inner, str):
                texts.append(inner)
            else:
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
    element: ElementTree.Element, pieces: list[str], nested: list[ElementTree.Element | str], in_text: bool
) -> None:
    """Gather the characters of one paragraph; paragraphs nested in tables or text boxes go to ``nested``, and
    an opinion table's rows, one text each (:func:`pipeline.read.tables.opinion_table_rows`)."""
    for child in element:
        local = _local(child.tag)
        rows = _hwpx_opinion_rows(child) if local == "tbl" else None
        if rows is not None:
            nested.extend(rows)
        elif local == "p":
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


def _hwpx_opinion_rows(table: ElementTree.Element) -> list[str] | None:
    """An HWPX table's rows as text when it is an opinion table, else None; a cell goes to its ``cellAddr``
    column, so a cell merged down from the row above leaves its place empty."""
    rows: list[list[str]] = []
    for row in (child for child in table if _local(child.tag) == "tr"):
        cells: dict[int, str] = {}
        for cell in (child for child in row if _local(child.tag) == "tc"):
            address = next((e for e in cell if _local(e.tag) == "cellAddr"), None)
            column = int(address.get("colAddr", len(cells))) if address is not None else len(cells)
            cells[column] = CELL_BREAK.join(CELL_BREAK.join(_hwpx_paragraph_texts(part)) for part in cell
                                            if _local(part.tag) == "subList")
        rows.append([cells.get(column, "") for column in range(max(cells, default=-1) + 1)])
    return opinion_table_rows(rows)


# --------------------------------------------------------------------------- HWP 5.0

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HWP_SIGNATURE = b"HWP Document File"
_HWPTAG_PARA_HEADER = 66
_HWPTAG_PARA_TEXT = 67
_HWPTAG_CTRL_HEADER = 71
_HWPTAG_LIST_HEADER = 72
_HWP_TABLE = b" lbt"  # the control id "tbl ", stored as a little-endian DWORD
# Control ids are four characters stored as a little-endian DWORD: "head" reads b"daeh".
_HWP_PAGE_FURNITURE = frozenset({b"daeh", b"toof"})
# Control characters that occupy 8 WCHARs (the code, 6 WCHARs of parameters, the code
# again): inline controls 4-9, 19, 20 and extended controls 1-3, 11, 12, 14-18, 21-23.
_HWP_WIDE_CONTROLS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23})
# Single-WCHAR controls that stand for visible characters (tab is a wide control, 9).
_HWP_CHAR_CONTROLS = {9: " ", 10: "\n", 24: "-", 30: " ", 31: " "}
_SECTION_STREAM = re.compile(r"Section(\d+)")


def read_hwp(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of an HWP 5.0 file. Out: one line per paragraph (line breaks split it)."""
    if data.startswith(_HWP_SIGNATURE):
        raise InputError(name, "HWP 3.x 파일입니다: HWP 5.0만 지원합니다 (한글에서 HWP나 HWPX로 다시 저장하세요)")
    if not data.startswith(_OLE_MAGIC):
        raise InputError(name, "HWP 5.0 파일이 아닙니다 (OLE 복합 파일 서명이 없음)")
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError, IndexError, struct.error… on damage
        raise InputError(name, f"손상되었거나 잘린 HWP 파일입니다 ({one_line(exc)})") from exc
    with ole:
        try:
            return _hwp_lines(name, ole, limits)
        except InputError:
            raise
        except Exception as exc:  # a damaged sector chain surfaces only when a stream is read
            raise InputError(name, f"손상되었거나 잘린 HWP 파일입니다 ({one_line(exc)})") from exc


def _hwp_lines(name: str, ole: olefile.OleFileIO, limits: SizeLimits) -> list[RawLine]:
    """In: an opened HWP compound file. Out: its body paragraphs as lines."""
    if not ole.exists("FileHeader"):
        raise InputError(name, "HWP 문서가 아닙니다 (FileHeader 스트림이 없음)")
    header = ole.openstream("FileHeader").read()
    if not header.startswith(_HWP_SIGNATURE) or len(header) < 40:
        raise InputError(name, "HWP 문서가 아닙니다 (FileHeader 서명이 다름)")
    version, flags = struct.unpack_from("<II", header, 32)
    if version >> 24 != 5:
        raise InputError(name, f"지원하지 않는 HWP 버전입니다 ({version >> 24}.{(version >> 16) & 0xFF})")
    if flags & 0x02:
        raise InputError(name, "암호화된 HWP 파일입니다 (암호 보호)")
    if flags & 0x10:
        raise InputError(name, "DRM으로 보호된 HWP 파일입니다")
    compressed = bool(flags & 0x01)
    # A 배포용 문서 keeps its sections encrypted in ViewText; its BodyText holds only Hangul's notice
    # that a newer viewer is needed. Some editors leave a stale ViewText beside a real BodyText, so the
    # flag decides, and ViewText is read without it only when there is no BodyText at all.
    storage = "ViewText" if flags & 0x04 or not _sections(ole, "BodyText") else "BodyText"
    sections = _sections(ole, storage)
    if not sections:
        raise InputError(name, "ViewText 구역이 없는 배포용 문서(HWP)입니다"
                         if flags & 0x04 else "HWP 파일에 BodyText 구역이 없습니다")
    lines: list[RawLine] = []
    furniture: list[str] = []
    budget = limits.file  # what the sections may still unpack to
    for entry in sections:
        stream_name = "/".join(entry)
        cap, var = (limits.member, MEMBER_LIMIT_VAR) if limits.member <= budget else (budget, FILE_LIMIT_VAR)
        size = ole.get_size(entry)
        if size > cap:
            raise over_limit(name, f"HWP 구역 {stream_name}", size, cap, var)
        stream = ole.openstream(entry).read()
        if storage == "ViewText":
            try:
                stream = decrypt_view_text(stream)
            except ValueError as exc:
                raise InputError(name, f"배포용 문서의 HWP 구역 {stream_name}이(가) 손상되었습니다: {exc}") from exc
        body = _inflate(name, stream_name, stream, cap, var) if compressed else stream
        budget -= len(body)
        try:
            paragraphs = hwp_paragraph_texts(body, furniture)
        except ValueError as exc:
            raise InputError(name, f"HWP 구역 {stream_name}이(가) 손상되었습니다: {exc}") from exc
        for paragraph in paragraphs:
            lines.extend(paragraph_lines(paragraph))
    if not any(text.strip() for text, _ in lines) and any(text.strip() for text in furniture):
        raise InputError(name, FURNITURE_ONLY)
    return lines


def _sections(ole: olefile.OleFileIO, storage: str) -> list[list[str]]:
    """The ``Section<n>`` streams of ``storage`` (BodyText or ViewText), in section order."""
    found = [entry for entry in ole.listdir() if len(entry) == 2 and entry[0] == storage
             and _SECTION_STREAM.fullmatch(entry[1])]
    return sorted(found, key=lambda entry: int(entry[1][len("Section") :]))


def _inflate(name: str, stream_name: str, stream: bytes, cap: int, var: str) -> bytes:
    """In: a compressed HWP stream (raw deflate), the most it may unpack to and the variable
    that sets that cap. Out: its bytes; InputError if damaged, cut short or over ``cap``
    (inflating stops there).
    """
    inflater = zlib.decompressobj(-15)
    try:
        body = inflater.decompress(stream, cap + 1)
    except zlib.error as exc:
        raise InputError(name, f"HWP 구역 {stream_name}이(가) 손상되었습니다 ({exc})") from exc
    if len(body) > cap:
        raise over_limit(name, f"HWP 구역 {stream_name}", len(body), cap, var)
    # Hangul pads streams after the deflate end; a stream that never reaches its end is cut short.
    if not inflater.eof:
        raise InputError(name, f"HWP 구역 {stream_name}이(가) 잘렸습니다")
    return body


def hwp_paragraph_texts(body: bytes, furniture: list[str] | None = None) -> list[str]:
    """Walk the records of an uncompressed HWP 5.0 BodyText section.

    In: the section's bytes (a sequence of records with 32-bit headers: tag id in bits
    0-9, level 10-19, size 20-31, size 0xFFF meaning a 32-bit size follows); optionally a list
    that receives the texts of the page headers and footers the walk skips.
    Out: one text per paragraph (``PARA_HEADER``), in record order, so table-cell
    paragraphs follow the paragraph that anchors the table; ``\\n`` marks line breaks.
    Raises ValueError when a record runs past the end of the data.
    """
    paragraphs: list[str] = []
    tables = RecordTables(paragraphs)
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
        tables.close(level)
        if skip_below is not None and tag == _HWPTAG_PARA_TEXT and furniture is not None:
            furniture.append(hwp_decode_para_text(body[pos : pos + size]))
        elif skip_below is None:
            if tag == _HWPTAG_PARA_HEADER:
                paragraphs.append("")
            elif tag == _HWPTAG_PARA_TEXT and paragraphs:
                paragraphs[-1] = hwp_decode_para_text(body[pos : pos + size])
            elif tag == _HWPTAG_CTRL_HEADER and body[pos : pos + 4] in _HWP_PAGE_FURNITURE:
                # Page headers/footers are not body text (the HWPX reader skips them too).
                skip_below = level
            elif tag == _HWPTAG_CTRL_HEADER and body[pos : pos + 4] == _HWP_TABLE:
                tables.open(level)
            elif tag == _HWPTAG_LIST_HEADER and size >= 12:
                # A table cell's list header: bytes 8-11 are its column and row (pyhwp's ListHeader, TableCell).
                tables.cell(level, *struct.unpack_from("<HH", body, pos + 8))
        pos += size
    tables.close(0)
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
