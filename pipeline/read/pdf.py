"""PDF files: the text layer through PDFium (pypdfium2), every stream measured against the caps first.

PDFium (the PDF engine of Chromium) extracts a page's text in the order it is drawn, which for the word
processors that write advisory rounds (Hangul, Word) is the reading order, one line per visual line; the
parser joins the hard wraps. Page headers and footers that repeat on most pages (a running title, a page
number) are left out, as the HWP and HWPX readers leave out theirs. PDFium inflates streams in C, where no
cap can reach, so every stream of the file is first inflated a chunk at a time, kept nowhere, and counted
against :class:`~pipeline.read.limits.SizeLimits` (:mod:`pipeline.read.pdfcaps`); only a file within the
caps reaches PDFium, which is imported only when a PDF is read.
"""

from __future__ import annotations

from collections import Counter

from pipeline.core.errors import InputError
from pipeline.read.limits import RawLine, SizeLimits, one_line, split_lines
from pipeline.read.pagebreaks import furniture_key
from pipeline.read.pdfcaps import check_streams

#: A line at the top or bottom of at least this share of the pages (digits aside) is page furniture.
FURNITURE_SHARE = 0.6
_MIN_PAGES_FOR_FURNITURE = 3


def read_pdf(name: str, data: bytes, limits: SizeLimits) -> list[RawLine]:
    """In: the bytes of a PDF. Out: the text lines of every page, with 1-based page numbers.

    Every stream is measured against ``limits`` before PDFium sees the file (:func:`check_streams`):
    past a cap the read stops with the one-line error of :func:`~pipeline.read.limits.over_limit`,
    having held no more than a chunk of the stream.
    """
    if b"%PDF-" not in data[:1024]:
        raise InputError(name, "PDF 파일이 아닙니다 (%PDF 머리말이 없음)")
    # Every complete PDF ends with %%EOF (viewers tolerate some trailing junk); a file
    # cut short in transfer does not, and a reader would silently read what is left.
    if b"%%EOF" not in data[-2048:]:
        raise InputError(name, "잘린 PDF입니다 (파일 끝에 %%EOF가 없음)")
    check_streams(name, data, limits)
    pages = _page_texts(name, data)
    lines: list[RawLine] = []
    for number, page in enumerate(drop_page_furniture(pages), start=1):
        lines.extend((text, number) for text in page)
    if not any(text.strip() for text, _ in lines):
        raise InputError(name, "텍스트 층이 없습니다 (스캔한 PDF인가요?)")
    return lines


def _page_texts(name: str, data: bytes) -> list[list[str]]:
    """In: a PDF within the caps. Out: each page's lines as PDFium extracts them."""
    import pypdfium2 as pdfium  # deferred: only PDF input needs PDFium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if exc.err_code == pdfium.raw.FPDF_ERR_PASSWORD:
            raise InputError(name, "암호화된 PDF입니다: 읽으려면 암호가 필요합니다") from exc
        raise InputError(name, f"손상된 PDF입니다 ({one_line(exc)})") from exc
    pages: list[list[str]] = []
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            pages.append([line for line, _ in split_lines(text)] if text else [])
    except pdfium.PdfiumError as exc:
        raise InputError(name, f"손상된 PDF입니다 ({one_line(exc)})") from exc
    finally:
        document.close()
    return pages


def drop_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """In: each page's lines. Out: the same without running headers and footers.

    A page's first or last non-blank line is furniture when, with its digits and spacing set aside
    (``- 3 -``, ``2024 업무계획 | 5``), it opens (or closes) at least :data:`FURNITURE_SHARE` of the pages of a
    document of three pages or more. A page keeps such a line when it is all the page holds.
    """
    if len(pages) < _MIN_PAGES_FOR_FURNITURE:
        return pages

    def edge(page: list[str], last: bool) -> int | None:
        indices = [i for i, line in enumerate(page) if line.strip()]
        return (indices[-1] if last else indices[0]) if len(indices) > 1 else None

    result = [list(page) for page in pages]
    for last in (False, True):
        edges = [edge(page, last) for page in result]
        counts = Counter(furniture_key(page[i]) for page, i in zip(result, edges, strict=True) if i is not None)
        furniture = {k for k, n in counts.items() if n >= FURNITURE_SHARE * len(pages)}
        for page, i in zip(result, edges, strict=True):
            if i is not None and furniture_key(page[i]) in furniture:
                del page[i]
    return result
