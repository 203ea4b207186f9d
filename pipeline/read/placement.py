"""Where every line of a document went: into a unit, or onto the list of unplaced lines with its reason.

The parser puts a line's words into a unit (its text, its lead, or the member/agenda/question heading a unit
stands under) or, when no unit takes them, hands the line to a :class:`LineLedger`, which groups such lines
into :class:`~pipeline.core.records.Unplaced` stretches. Nothing a reader gave the parser is dropped
silently: ``unplaced.csv`` in a run folder lists the stretches, and ``run.json`` counts their lines.
Lines that hold no words (blank, or a marker alone) need no place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipeline.core.records import Line, Unplaced
from pipeline.read.tables import CELL_BREAK
from pipeline.read.wrapping import PROSE_MIN_HANGUL, is_hangul, is_prose

#: Text before the first recognised structure that is too short to be content: a title, a document number.
PREAMBLE = "preamble"
#: A member, agenda or question heading (or a □ heading) under which no recommendation came: a table of
#: contents, table rows numbered like agenda items, a member who wrote nothing.
HEADING_WITHOUT_UNITS = "heading_without_units"
#: An outline's section heading (``Ⅰ. 추진 배경`` over ``1.`` items) with recommendations under its items but
#: none directly under it: the parser keeps one agenda level, the item's, so the section's words are in no unit.
SECTION_HEADING = "section_heading"
#: An opinion table's header row, and its cells that are not the members' words (``반영 여부``, ``조치계획``):
#: :mod:`pipeline.read.tables`.
TABLE_COLUMNS = "table_columns"
#: A page's number and running title left in a text (``- 3 -``): :mod:`pipeline.read.pagebreaks`.
PAGE_FURNITURE = "page_furniture"
#: A meeting's frame, not an opinion: ``일 시 : …``, ``참 석 자 : …``, ``안 건`` outside a member's block.
MEETING_FRAME = "meeting_frame"
#: The secretariat's or the department's answer after the members' opinions (``Ⅲ. 사무국 조치계획``, ``4. 향후 계획``).
ANSWER_SECTION = "answer_section"
#: How the report and the warning name each reason (the researcher reads them).
REASON_LABELS = {
    PREAMBLE: "첫 구조 앞 제목·문서 번호",
    HEADING_WITHOUT_UNITS: "권고가 없는 제목·목차·번호 행",
    SECTION_HEADING: "하위 항목에 권고가 있는 상위 제목(장·절)",
    TABLE_COLUMNS: "의견 표의 머리행과 의견이 아닌 열(반영 여부·조치계획 등)",
    PAGE_FURNITURE: "본문 사이에 남은 쪽 번호·머리글",
    MEETING_FRAME: "회의 개요(일시·장소·참석자·안건 등)",
    ANSWER_SECTION: "위원 의견 뒤 사무국·부서의 조치계획·향후 계획",
}

# The labels of a meeting's frame, spaces removed (``일    시``, ``참 석 자``): when, where, who, what, how.
_FRAME_LABELS = frozenset({
    "일시", "일자", "기간", "장소", "방식", "참석", "참석자", "참석위원", "참석대상", "참석인원", "출석위원", "배석",
    "안건", "자문안건", "심의안건", "회의명", "회의일시", "회의장소", "회의방식", "제출위원", "제출일", "주관", "주재",
    "주최", "검토대상", "검토기간", "자문기간", "자문방식", "자문위원",
})
_FRAME_LINE = re.compile(r"^(?P<label>[가-힣][가-힣 ]{0,10}?)\s*(?:[:：].*)?$")


# Headings of the secretariat's answer, spaces removed: ``사무국 조치계획``, ``향후 추진 계획``, ``조치 결과``.
_ANSWER_HEADING = re.compile(r"조치계획|조치결과|조치사항|향후(?:추진)?계획|향후일정|처리계획|반영계획")


def is_answer_heading(text: str) -> bool:
    """Whether an agenda heading is the secretariat's or the department's answer to the members (``Ⅲ. 사무국
    조치계획``, ``4. 향후 계획``): what comes under it, outside a member's block, is no member's opinion."""
    return bool(_ANSWER_HEADING.search("".join(text.split())))


def is_meeting_frame(text: str) -> bool:
    """Whether ``text`` (an item's first line) is a line of a meeting's frame: one of its labels (``일    시``,
    ``참 석 자``, ``안 건``) alone or before a colon."""
    m = _FRAME_LINE.match(text.strip())
    return bool(m) and "".join(m.group("label").split()) in _FRAME_LABELS


#: At most this many short paragraphs before the first prose one are a title block (number, title, date).
TITLE_BLOCK = 3


class LineLedger:
    """The lines of one document that no unit took, as the parser meets them.

    Headings are registered as they come (:meth:`heading`) and marked used when a unit is made under them
    (:meth:`use`); what stays unused, and the preamble lines given to :meth:`preamble`, are the unplaced
    lines (:meth:`unplaced`).
    """

    def __init__(self) -> None:
        self._headings: list[list[int]] = []
        self._used: set[int] = set()
        self._sections: set[int] = set()
        self._cells: list[tuple[int, str, str]] = []
        self._set_aside: dict[int, str] = {}

    def heading(self, numbers: Iterable[int]) -> int:
        """Register a heading on the lines ``numbers``; returns its id for :meth:`use` and :meth:`extend`."""
        self._headings.append(list(numbers))
        return len(self._headings) - 1

    def extend(self, heading: int | None, number: int) -> None:
        """A further line of ``heading`` (a wrapped title)."""
        if heading is not None:
            self._headings[heading].append(number)

    def use(self, headings: Iterable[int | None]) -> None:
        """A unit was made under ``headings`` (None: no heading of that kind)."""
        self._used.update(h for h in headings if h is not None)

    def is_used(self, heading: int) -> bool:
        """Whether a unit was made under ``heading``."""
        return heading in self._used

    def section(self, heading: int) -> None:
        """``heading`` is a section heading: units came under the headings below it, none under it."""
        self._sections.add(heading)

    def lines(self, heading: int) -> list[int]:
        """The line numbers of ``heading``."""
        return self._headings[heading]

    def set_aside(self, numbers: Iterable[int], reason: str) -> None:
        """Whole lines that are no unit for ``reason``: the preamble (text before the first structure that no unit
        took), a meeting's frame, the secretariat's answer."""
        self._set_aside.update(dict.fromkeys(numbers, reason))

    def cells(self, cells: Iterable[tuple[int, str]], reason: str) -> None:
        """Lines or parts of lines that no unit took, as (line number, text), one record each: an opinion
        table's header row and its cells that are not the members' words, a page's number and running title."""
        self._cells.extend((number, text, reason) for number, text in cells)

    def unplaced(self, lines: Sequence[Line], source: str) -> tuple[Unplaced, ...]:
        """In: the document's lines and its file name. Out: the unplaced stretches in line order.

        Consecutive unplaced lines of one reason (blank lines between them allowed) form one stretch;
        its text is the lines' words, one line of the document per line of the text.
        """
        by_number = {line.number: line for line in lines}
        reasons = dict(self._set_aside)
        for heading, numbers in enumerate(self._headings):
            if heading not in self._used:
                reason = SECTION_HEADING if heading in self._sections else HEADING_WITHOUT_UNITS
                reasons.update(dict.fromkeys(numbers, reason))
        stretches: list[Unplaced] = []
        pending: list[int] = []

        def flush() -> None:
            if pending:
                # A row of a document's opinion table keeps its cell's paragraphs apart: one line here.
                text = "\n".join(by_number[n].text.strip().replace(CELL_BREAK, " ") for n in pending)
                stretches.append(Unplaced(source, pending[0], pending[-1], reasons[pending[0]], text))
                pending.clear()

        last = None
        for number in sorted(n for n in reasons if n in by_number and by_number[n].text.strip()):
            if pending and not (reasons[number] == reasons[pending[-1]] and _only_blank(by_number, last, number)):
                flush()
            pending.append(number)
            last = number
        flush()
        stretches += [Unplaced(source, number, number, reason, text) for number, text, reason in self._cells]
        return tuple(sorted(stretches, key=lambda s: s.line_start))


def _only_blank(by_number: dict[int, Line], start: int | None, stop: int) -> bool:
    """Whether every line strictly between ``start`` and ``stop`` is blank."""
    if start is None:
        return True
    return all(not by_number[n].text.strip() for n in range(start + 1, stop) if n in by_number)


def split_opening(opening: Sequence[Line | None]) -> tuple[list[list[Line]], list[list[list[Line]]]]:
    """Decide the text before the first structure (:mod:`pipeline.read.parser`'s docstring says how).

    In: its lines in order, None between paragraphs. Out: the paragraphs left out (a title, a date alone),
    and the groups of paragraphs that become one unit each (a prose paragraph alone, a run of short
    fragments such as a table's cells together).
    """
    paragraphs: list[list[Line]] = [[]]
    for line in opening:
        if line is None:
            paragraphs.append([])
        else:
            paragraphs[-1].append(line)
    paragraphs = [p for p in paragraphs if p]
    if not paragraphs:
        return [], []
    prose = [is_prose(" ".join(ln.text for ln in p)) for p in paragraphs]
    # A title block (a notice's number, its title, a date) is a few short paragraphs before the first prose
    # one; more short paragraphs than that are a table's cells, of which only the first (its title) is out.
    first_prose = prose.index(True) if True in prose else None
    start = first_prose if first_prose is not None and first_prose <= TITLE_BLOCK else 1
    rest = paragraphs[start:]
    if not any(prose[start:]) and sum(is_hangul(ch) for p in rest for ln in p for ch in ln.text) < PROSE_MIN_HANGUL:
        start = len(paragraphs)
    groups: list[list[list[Line]]] = []
    run: list[list[Line]] = []
    for p, is_p in zip(paragraphs[start:], prose[start:], strict=True):
        if is_p:
            groups += [g for g in (run, [p]) if g]
            run = []
        else:
            run.append(p)
    return paragraphs[:start], groups + ([run] if run else [])


#: Korean outlines go ``Ⅰ.`` > ``❶`` > ``1.``: the rank of each numbering family, highest first.
RANKS = {"roman": 0, "dingbat": 1, "arabic": 2}


class Outline:
    """The open sections of an outline (``Ⅰ.`` over ``1.`` items), outermost first.

    An agenda heading with no unit under it, followed by one of a lower-ranked numbering family
    (:func:`pipeline.read.markers.agenda_family`), is a section over the headings that follow; the next
    heading of its own family (or a member, or the end of the document) closes it. The parser keeps one
    agenda level, the item's, so a section under whose items units came is listed as ``section_heading``;
    one without any is settled as any heading is.
    """

    def __init__(self) -> None:
        #: The numbering family of each agenda heading (ledger id -> family).
        self.families: dict[int, str] = {}
        self._open: list[tuple[tuple[int, int], int]] = []

    def level(self, family: str) -> int | None:
        """The depth of the open section of ``family`` (which a heading of that family closes), or None."""
        levels = [self.families[heading] for (heading, _), _ in self._open]
        return levels.index(family) if family in levels else None

    def opens(self, heading: int, family: str) -> bool:
        """Whether the unused agenda ``heading``, followed by a heading of ``family``, is a section: its
        numbering ranks above that one (Korean outlines go ``Ⅰ.`` > ``❶`` > ``1.``; a ``1.`` item followed by
        a ``Ⅰ.`` heading is the end of a list, not a section)."""
        return RANKS[self.families[heading]] < RANKS[family]

    def open(self, heading: tuple[int, int], units_made: int) -> None:
        """A section opens: ``heading`` is (ledger id, index in headers); ``units_made`` so far in the document."""
        self._open.append((heading, units_made))

    def close(self, depth: int) -> list[tuple[tuple[int, int], int]]:
        """Close the sections from ``depth`` down: each one's heading and the units made before it, innermost
        first."""
        closed = self._open[depth:][::-1]
        del self._open[depth:]
        return closed
