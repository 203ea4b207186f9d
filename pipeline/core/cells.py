"""Spreadsheet-safe cell text: formula injection (OWASP "CSV Injection") and Excel's cell limits.

A cell whose text begins with ``= + - @`` (after leading whitespace), a tab or a carriage return
is run as a formula by Excel and LibreOffice. Every text cell of every CSV the pipeline writes goes
through :func:`csv_text` (such text gets a leading ``'``, which :func:`from_csv_text` removes
when a run folder is read back); the xlsx writer stores such text as a string, never a formula,
and passes every text cell through :func:`xlsx_text`.
"""

from __future__ import annotations

import re

FORMULA_START = re.compile(r"^(?:[\t\r]|\s*[=+\-@])")
EXCEL_CELL_LIMIT = 32_767


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return bool(FORMULA_START.match(text))


def csv_text(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet runs: a ``'`` before formula-like text."""
    return "'" + text if looks_like_formula(text) else text


def from_csv_text(text: str) -> str:
    """Undo :func:`csv_text` (a cell read back from a CSV the pipeline wrote)."""
    return text[1:] if text.startswith("'") and looks_like_formula(text[1:]) else text


def xlsx_text(text: str) -> str:
    """``text`` as an xlsx cell: characters XML 1.0 forbids become U+FFFD, and text over Excel's
    32,767-character limit is cut with a visible note saying so (the CSV keeps the full text)."""
    # Imported here: every command reads cells.csv_text, only the xlsx export needs openpyxl.
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text)
    if len(text) <= EXCEL_CELL_LIMIT:
        return text
    note = f" … [Excel 셀 한도 초과: 전체 {len(text):,}자 중 일부, 전문은 CSV 참조]"
    return text[:EXCEL_CELL_LIMIT - len(note)] + note
