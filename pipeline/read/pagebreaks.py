"""Page breaks left in a text: a PDF or a printout copied into a ``.txt`` keeps each page's number and running
title between its lines (``- 3 -``, ``2025년 지역상생 자문회의 결과``), often in the middle of a sentence.

The PDF reader knows its pages and leaves their headers and footers out
(:func:`pipeline.read.pdf.drop_page_furniture`); a text file has no pages, so the parser read a page number as
a dash sub-point (``- 3 -``) and the running title as part of the opinion the page break cut, and the opinion's
two halves stayed apart by those words. :func:`page_furniture` finds the page breaks by their numbers: lines that
are a page number alone (``- 3 -``, ``— 3 —``, ``3 / 12``), two or more in the document, each one more than the
one before. A line beside page numbers (just before or just after, blank lines aside) that reads the same at
half the page breaks or more, digits aside, is the running title or footer. The parser walks on as if the page
had not broken, and lists these lines as unplaced (``page_furniture``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence

from pipeline.core.records import Line

# ``- 3 -``, ``— 3 —``, ``3 / 12``, ``- 3/12 -``: a page number alone on its line.
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-–—]\s*(\d{1,4})\s*[-–—]|(\d{1,4})\s*/\s*\d{1,4}|[-–—]\s*(\d{1,4})\s*/\s*\d{1,4}\s*[-–—])\s*$")
_DIGITS = re.compile(r"\d+")


def _number(text: str) -> int | None:
    m = _PAGE_NUMBER.match(text)
    return int(next(g for g in m.groups() if g is not None)) if m else None


def furniture_key(text: str) -> str:
    """A line as page furniture is compared, its spacing and digits set aside (``- 3 -`` reads as ``-#-``)."""
    return _DIGITS.sub("#", "".join(text.split()))


def page_furniture(lines: Sequence[Line]) -> set[int]:
    """The indices of ``lines`` that are page furniture, with the blank lines around each page break (module
    docstring); empty when the text has no run of page numbers."""
    numbered = [(i, n) for i, line in enumerate(lines) if (n := _number(line.text)) is not None]
    # Page numbers count up by one; a lone "- 3 -" or a list of them elsewhere is not a page break.
    breaks = sorted({i for (i, n), (j, m) in itertools.pairwise(numbered) if m == n + 1 for i in (i, j)})
    if len(breaks) < 2:
        return set()
    neighbours: dict[int, list[int]] = {i: [j for j in (_next(lines, i, -1), _next(lines, i, 1)) if j is not None]
                                        for i in breaks}
    counts = Counter(furniture_key(lines[j].text) for near in neighbours.values() for j in set(near))
    running = {key for key, n in counts.items() if 2 * n >= len(breaks) and n >= 2}
    furniture = set(breaks)
    for near in neighbours.values():
        furniture.update(j for j in near if furniture_key(lines[j].text) in running)
    # The blank lines of a page break go with it: the text runs on across the page.
    for i in sorted(furniture):
        before, after = _next(lines, i, -1), _next(lines, i, 1)
        furniture.update(range(0 if before is None else before + 1, len(lines) if after is None else after))
    return furniture


def _next(lines: Sequence[Line], i: int, step: int) -> int | None:
    """The index of the nearest non-blank line before (``step`` -1) or after (1) line ``i``, or None."""
    j = i + step
    while 0 <= j < len(lines) and not lines[j].text.strip():
        j += step
    return j if 0 <= j < len(lines) else None
