"""PDF (through pdfplumber, text layer only) and DOCX (through python-docx) files.

Both libraries are imported only when such a file is read: a round of text or HWP files does not
pay for their imports (pdfminer's is slow).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable

from pipeline.errors import InputError
from pipeline.reader_base import RawLine, SizeLimits, check_zip_sizes, one_line, split_lines

# --------------------------------------------------------------------------- PDF


def read_pdf(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
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
    lines: list[RawLine] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for number, page in enumerate(pdf.pages, start=1):
                text = page.extract_text() or ""
                if text:
                    lines.extend(split_lines(text, page=number))
    except Exception as exc:  # pdfplumber wraps pdfminer's many error types
        if any(isinstance(cause, PDFPasswordIncorrect) for cause in _causes(exc)):
            raise InputError(name, "encrypted PDF: a password is required to read it") from exc
        raise InputError(name, f"corrupt PDF ({one_line(exc)})") from exc
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


def read_docx(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of a DOCX. Out: body paragraphs and table-cell paragraphs in document order.

    python-docx loads every part the package links (headers, footnotes, images) into memory, so
    the archive's sizes are checked against the caps first.
    """
    import docx  # deferred: only DOCX input needs python-docx
    from docx.text.paragraph import Paragraph

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            check_zip_sizes(name, archive, limits)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(name, f"corrupt or truncated DOCX file ({one_line(exc)})") from exc
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # python-docx raises KeyError, ValueError, BadZipFile… on damage
        raise InputError(name, f"corrupt or truncated DOCX file ({one_line(exc)})") from exc

    lines: list[RawLine] = []

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
