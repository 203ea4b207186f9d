"""DOCX files, through python-docx (imported only when such a file is read)."""

from __future__ import annotations

import io

from pipeline.core.errors import InputError
from pipeline.read.limits import RawLine, SizeLimits, one_line
from pipeline.read.tables import CELL_BREAK, opinion_table_rows
from pipeline.read.zipped import open_zip

_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def read_docx(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of a DOCX. Out: body paragraphs and table-cell paragraphs in document order.

    python-docx loads every part the package links (headers, footnotes, images) into memory, so
    the archive's sizes are checked against the caps first (:func:`~pipeline.read.zipped.open_zip`;
    zipfile, which python-docx reads through, inflates no member past its declared size).
    """
    import docx  # deferred: only DOCX input needs python-docx
    from docx.text.paragraph import Paragraph

    with open_zip(name, data, limits, "손상되었거나 잘린 DOCX 파일입니다"):
        pass
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
    except Exception as exc:  # python-docx raises KeyError, ValueError, BadZipFile… on damage
        raise InputError(name, f"손상되었거나 잘린 DOCX 파일입니다 ({one_line(exc)})") from exc

    lines: list[RawLine] = []

    def walk(container: object) -> None:
        for child in container:  # type: ignore[attr-defined]
            tag = child.tag
            if tag == f"{_W_NS}p":
                text = Paragraph(child, document).text.replace("\t", " ")
                lines.extend((part, None) for part in text.split("\n"))
            elif tag == f"{_W_NS}tbl" and (rows := _opinion_rows(child, document)) is not None:
                lines.extend((row, None) for row in rows)
            elif tag in (f"{_W_NS}tbl", f"{_W_NS}tr", f"{_W_NS}tc", f"{_W_NS}sdt", f"{_W_NS}sdtContent"):
                # Walk the XML rather than python-docx's row.cells, which repeats merged cells.
                walk(child)

    walk(body)
    return lines


def _opinion_rows(table: object, document: object) -> list[str] | None:
    """A table's rows as text when it is an opinion table (:func:`~pipeline.read.tables.opinion_table_rows`),
    else None. A cell spanning columns keeps each column's place; one merged down from the row above is
    empty in Word's XML already."""
    from docx.text.paragraph import Paragraph

    rows = []
    for row in table.iterchildren(f"{_W_NS}tr"):  # type: ignore[attr-defined]
        cells: list[str] = []
        for cell in row.iterchildren(f"{_W_NS}tc"):
            text = CELL_BREAK.join(Paragraph(p, document).text for p in cell.iter(f"{_W_NS}p"))
            span = cell.find(f"{_W_NS}tcPr/{_W_NS}gridSpan")
            cells += [text, *[""] * (int(span.get(f"{_W_NS}val", "1")) - 1 if span is not None else 0)]
        rows.append(cells)
    return opinion_table_rows(rows)
