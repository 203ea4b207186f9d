"""Structure parser: document lines -> recommendation units with their context (the state it keeps while
walking a document is :mod:`pipeline.read.parsestate`'s).

What a line is, in the order it is tested (``pipeline.read.markers.classify_line``):

* member header   ``□ ○○○ 위원`` (also ``■ ▢ ◆``, any mask or a real name, or a bare ``홍길동 위원`` line,
                  an anonymous ``A 위원`` / ``위원 2``, or one after a list marker: ``○ 김OO 위원 의견``,
                  ``1. 홍길동 위원``)
* agenda item     ``❶ …``, ``Ⅰ. …``, ``1. …``
* question        ``[ … ]``, ``【 … 】``, ``< … >``, ``〈 … 〉`` (a program code in brackets is not one)
* box paragraph   a ``□`` line that does not end in ``위원`` (press-release style): a heading when
  recommendations follow it, otherwise a unit of its own
* recommendation  ``ㅇ ○ ◦ ● ❍``
* sub-point       ``- – · ▪ •``, enumerators ``①…⑳ ➀…➉ 가.``; notes ``※ *``
* anything else   continuation text (hard-wrapped lines are joined, blank lines between them ignored; in a
                  word processor's file a line is a paragraph, joined with a space: ``WHOLE_PARAGRAPH_FORMATS``)

A document with no recommendation markers promotes the items of each member's outermost list to units
(the list the member's first item belongs to: dash bullets, ``1)``/``(1)``, ``가.``/``가)`` or ``①``), the
other lists staying their sub-points; one with neither is read as one unit per blank-line separated
paragraph. An opinion table (``연번 | 위원 | 의견 | 반영 여부``, one opinion per row) is read row by row first
(:mod:`pipeline.read.tables`). A recommendation whose intro is followed by line-initial ``①/②/③`` items that
each carry their own dash sub-points is split into one unit per item (the intro is kept as ``lead`` of the first part).

Text before the first structure is content (an intro, a table of figures, a form's boxes) but for a title:
the paragraphs that are not prose (:func:`pipeline.read.wrapping.is_prose`) before the first prose one, when
they are at most three (a notice's number, title and date), else the first paragraph alone when it is not
prose, are left out of the units (:func:`pipeline.read.placement.split_opening`); the rest becomes units, a
prose paragraph each and a run of short fragments (a table's cells) one; a rest with neither prose nor
:data:`~pipeline.read.wrapping.PROSE_MIN_HANGUL` syllables (a date, a document number) stays out too. An
agenda or question heading under which no unit came is content when it is prose (a numbered sentence,
``1. 신청서는 검은색 펜으로 작성하시기 바랍니다.``): it becomes a unit of its own; a short one (a
table-of-contents entry) stays a heading without units. An outline's section (``Ⅰ. 추진 배경`` over
``1.`` items, :class:`pipeline.read.placement.Outline`) is not an agenda level of its own: units under its
items take the item as their agenda, and the section heading is listed as a ``section_heading``. After the last
member, the next heading of the outline over the members (:func:`members_section_end`) is no member's; outside a
member's block, a meeting's frame (``일 시 : …``) and the secretariat's answer (:func:`answer_lines`) are listed,
not made units.

Markers are structure, not content (so is the enumerator of an item promoted to a unit, ``1)`` or ``가.``:
:func:`promote_outermost_lists`): every other non-whitespace character of the input lands in
exactly one unit (``text`` or ``lead``) or one header field (``ParsedDocument.headers``,
``ParsedDocument.preamble``). Every line whose words no unit took, a heading under which no unit came
included, is listed in ``ParsedDocument.unplaced`` with its reason (:mod:`pipeline.read.placement`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.core.records import Document, Line, Unit, Unplaced
from pipeline.read.markers import (
    AGENDA_DINGBATS,
    BRACKETS,
    DASHES,
    ROMAN,
    Classified,
    agenda_family,
    classify_line,
    list_family,
    trailing_member,
)
from pipeline.read.pagebreaks import page_furniture
from pipeline.read.parsestate import ParseState
from pipeline.read.placement import PAGE_FURNITURE, RANKS, TABLE_COLUMNS, is_answer_heading
from pipeline.read.tables import read_tables

#: Formats whose lines are a word processor's paragraphs. Such a line never stops inside a word (the program
#: wraps a paragraph when it lays it out, not in the file), so the next line starts a new word even where the
#: author left no space before the break; a text copied from a PDF or a word processor's display breaks
#: mid-word (`게스트` / `하우스`). In the real HWP and HWPX documents Kiwi's spacing judges 658 of the 718
#: joins between two Hangul syllables word breaks (``bench.quality.wrap_joins``).
WHOLE_PARAGRAPH_FORMATS = frozenset({"hwp", "hwpx", "docx"})


def _paragraph_ends(lines: Sequence[Line]) -> list[Line]:
    """``lines`` with a space closing each that does not end in one: how a line that ends at a word break
    reads to the joining of wrapped lines (:func:`pipeline.read.wrapping.glue`)."""
    return [line if not line.text or line.text[-1].isspace() else replace(line, text=line.text + " ")
            for line in lines]


@dataclass(frozen=True)
class ParsedDocument:
    """What the parser read from one document.

    ``units`` are in document order; ``headers`` are (kind, text, line) for every member, agenda
    and question heading met (and ``section`` for a ``□`` paragraph over agenda or question headings);
    ``preamble`` holds the text before the first structure that no unit took (a title); ``unplaced``
    lists every stretch of lines whose words are in no unit, with why.
    """

    units: tuple[Unit, ...]
    headers: tuple[tuple[str, str, int], ...]
    preamble: tuple[str, ...]
    unplaced: tuple[Unplaced, ...] = ()


class StructureParser:
    """Turn :class:`~pipeline.core.records.Document` lines into :class:`~pipeline.core.records.Unit` records.

    Parameters
    ----------
    split_enumerated:
        Split a recommendation whose ``①/②/③`` items carry their own dash sub-points into one
        unit per item (default True).

    Program codes are not looked at here: :class:`pipeline.read.programs.ProgramMapper` adds them.
    """

    def __init__(self, split_enumerated: bool = True) -> None:
        self.split_enumerated = split_enumerated

    def fit(self, documents: Iterable[Document] | None = None) -> StructureParser:
        """No-op, for pipeline symmetry: the parser has nothing to learn."""
        return self

    def transform(self, documents: Iterable[Document]) -> list[Unit]:
        """Units of every document, in order. Members are numbered per document."""
        units: list[Unit] = []
        for doc in documents:
            units.extend(self.parse(doc).units)
        return units

    def parse(self, doc: Document, round_id: str | None = None) -> ParsedDocument:
        """Parse one document; ``round_id`` defaults to the document's file stem."""
        lines = _paragraph_ends(doc.lines) if doc.format in WHOLE_PARAGRAPH_FORMATS else doc.lines
        return _parse_lines(lines, round_id or doc.round, _basename(doc.path), self.split_enumerated)


def promote_outermost_lists(classified: Sequence[Classified]) -> list[Classified]:
    """``classified`` with the items of the outermost list of each member's block without ``ㅇ/○`` marks made
    recommendations: the list that member's first item with words belongs to
    (:func:`~pipeline.read.markers.list_family`), as an outline opens with an item of its outer level (``1)``
    over ``-``, or ``-`` over ``1)``); one member may write ``1)`` where another writes ``가.`` or ``ㅇ``. Text
    before the first member is a block of its own. A dash with no words after it (a divider line, ``-``) opens
    no list."""
    starts = [0, *(i for i, c in enumerate(classified) if c.kind == "member"), len(classified)]
    out: list[Classified] = []
    for start, end in itertools.pairwise(starts):
        block = classified[start:end]
        if any(c.kind == "rec" for c in block):
            out.extend(block)
            continue
        top = next((list_family(c.mark) for c in block if c.kind == "sub" and c.text), None)
        for c in block:
            # A lone dash (a divider) is an empty recommendation, as ever: it ends the one before it and holds
            # nothing. The item's enumerator (``1)``, ``가.``) is structure here, as ``ㅇ`` is.
            promoted = c.kind == "sub" and ((top is not None and list_family(c.mark) == top) or (
                not c.text and c.mark in DASHES))
            out.append(Classified("rec", c.text, c.mark) if promoted else c)
    return out


def members_section_end(classified: Sequence[Classified]) -> int | None:
    """The index of the agenda heading that closes the members' section, or None: after the last member, the
    next heading of the outline the members stand in (``4. 향후 계획`` after ``3. 위원별 자문의견``: the same
    numbering, one on from the heading over the first member) is the document's again, not the last member's.
    A member who numbers their own items the same way restarts it (``1.`` under ``3. 위원별 의견``), so their
    items never read as the next heading."""
    members = [i for i, c in enumerate(classified) if c.kind == "member"]
    if not members:
        return None
    over = next((c for c in reversed(classified[:members[0]]) if c.kind == "agenda"), None)
    if over is None:
        return None
    family = agenda_family(over.mark)
    after = next((i for i in range(members[-1] + 1, len(classified))
                  if classified[i].kind == "agenda" and agenda_family(classified[i].mark) == family), None)
    return after if after is not None and _follows(over.mark, classified[after].mark) else None


def answer_lines(lines: Sequence[Line], classified: Sequence[Classified]) -> set[int]:
    """The line numbers under the secretariat's or department's answer to the members (``Ⅲ. 사무국 조치계획``,
    ``4. 향후 계획``, :func:`~pipeline.read.placement.is_answer_heading`) once a member has spoken (by a header
    or a closing tag): from that heading to the next member, or the next heading of its numbering or one
    above it (``Ⅳ.`` after ``Ⅲ.``, not its own ``1.`` items)."""
    spoken, family, numbers = False, None, set()
    for line, c in zip(lines, classified, strict=True):
        if c.kind == "member":
            spoken, family = True, None
            continue
        if c.kind == "agenda":
            if family is not None and RANKS[agenda_family(c.mark)] <= RANKS[family]:
                family = None
            if spoken and family is None and is_answer_heading(c.text):
                family = agenda_family(c.mark)
        elif not spoken and trailing_member(line.text) is not None:
            spoken = True
        if family is not None:
            numbers.add(line.number)
    return numbers


def _follows(mark: str, following: str) -> bool:
    """Whether agenda marker ``following`` numbers the item after ``mark`` (``3`` then ``4``, ``Ⅲ`` then ``Ⅳ``)."""
    for series in (ROMAN, AGENDA_DINGBATS[:10], AGENDA_DINGBATS[10:]):
        if mark in series and following in series:
            return series.index(following) == series.index(mark) + 1
    return mark.isdigit() and following.isdigit() and int(following) == int(mark) + 1


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _parse_lines(
    lines: Sequence[Line], round_id: str, source: str, split_enumerated: bool
) -> ParsedDocument:
    given = lines  # as the reader gave them: what the unplaced list quotes
    # A page break left in a text (``- 3 -`` and a running title) is not there: the text runs on across it.
    furniture = page_furniture(lines)
    lines = [line for i, line in enumerate(lines) if i not in furniture] if furniture else lines
    # An opinion table written as text (``연번 | 위원 | 의견``) is read row by row: a row gives a unit.
    lines, classified, table_cells = read_tables(lines, [classify_line(line.text) for line in lines])
    # A member's block without ㅇ/○ marks: its outermost list is the top level a reader sees, its items the units.
    classified = promote_outermost_lists(classified)
    paragraph_mode = not any(c.kind in ("rec", "box") for c in classified)

    members_end = members_section_end(classified)
    state = ParseState(round_id, source, split_enumerated, answer_lines(lines, classified))
    state.ledger.cells(table_cells, TABLE_COLUMNS)
    state.ledger.cells(((given[i].number, given[i].text.strip()) for i in sorted(furniture)
                        if given[i].text.strip()), PAGE_FURNITURE)
    i = 0
    while i < len(lines):
        line, c = lines[i], classified[i]
        if c.kind == "question_open":
            # A heading wrapped over lines: join until the closing bracket (at most 3 lines).
            j = _wrapped_close(lines, classified, i, BRACKETS[c.mark])
            if j is None:
                state.text(line, Classified("text", line.text.strip()), paragraph_mode)
                i += 1
            else:
                middle = (lines[k].text.strip() for k in range(i + 1, j))
                joined = " ".join(part for part in (c.text, *middle, lines[j].text.strip()[:-1].strip()) if part)
                state.header("question", joined, [ln.number for ln in lines[i : j + 1]])
                i = j + 1
            continue
        if c.kind == "blank":
            state.blank(paragraph_mode)
        elif c.kind == "end":
            state.close()
        elif c.kind in ("member", "agenda", "question"):
            if i == members_end:
                state.end_members()
            state.header(c.kind, c.text, [line.number], c.mark, line.text)
        elif c.kind == "box":
            state.start("box", c.text, line)
        elif c.kind == "rec":
            state.start("rec", c.text, line)
        elif c.kind in ("sub", "note"):
            state.part(c, line)
        else:
            state.text(line, c, paragraph_mode)
        i += 1
    state.close()
    state.box_section.close(state.ledger, len(state.units))
    state.flush_preamble()
    state.resolve(("agenda", "question"))
    state.close_sections(0)
    headers = tuple((kind, str(text), number) for kind, text, number in state.headers
                    if (kind, number) not in state.converted)
    return ParsedDocument(tuple(state.units), headers, tuple(state.preamble), state.ledger.unplaced(given, source))


def _wrapped_close(lines: Sequence, classified: Sequence[Classified], i: int, close: str) -> int | None:
    """The line that closes the bracket opened on line ``i`` (at most 3 lines on), or None.

    Only plain text or blank lines can carry a wrapped heading: an agenda, member or
    recommendation line before the closing bracket means the bracket was never closed, and
    joining would swallow that line into the question.
    """
    for j in range(i + 1, min(i + 4, len(lines))):
        if classified[j].kind not in ("text", "blank"):
            return None
        if lines[j].text.strip().endswith(close):
            return j
    return None
