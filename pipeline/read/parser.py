"""Structure parser: document lines -> recommendation units with their context.

What a line is, in the order it is tested (``pipeline.read.markers.classify_line``):

* member header   ``□ ○○○ 위원`` (also ``■ ▢ ◆``, any mask or a real name, or a bare ``홍길동 위원`` line)
* agenda item     ``❶ …``, ``Ⅰ. …``, ``1. …``
* question        ``[ … ]``, ``【 … 】``, ``< … >``, ``〈 … 〉`` (a program code in brackets is not one)
* box paragraph   a ``□`` line that does not end in ``위원`` (press-release style): a heading when
  recommendations follow it, otherwise a unit of its own
* recommendation  ``ㅇ ○ ◦ ● ❍``
* sub-point       ``- – · ▪ •``, enumerators ``①…⑳ ➀…➉ 가.``; notes ``※ *``
* anything else   continuation text (hard-wrapped lines are joined, blank lines between them ignored)

A document with no recommendation markers promotes its dash bullets to units; one with neither
is read as one unit per blank-line separated paragraph. A recommendation whose intro is followed
by line-initial ``①/②/③`` items that each carry their own dash sub-points is split into one
unit per item (the intro is kept as ``lead`` of the first part).

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
items take the item as their agenda, and the section heading is listed as a ``section_heading``.

Markers are structure, not content: every other non-whitespace character of the input lands in
exactly one unit (``text`` or ``lead``) or one header field (``ParsedDocument.headers``,
``ParsedDocument.preamble``). Every line whose words no unit took, a heading under which no unit came
included, is listed in ``ParsedDocument.unplaced`` with its reason (:mod:`pipeline.read.placement`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.core.records import Document, Line, Unit, Unplaced
from pipeline.read.builders import Builder, Part, split_items
from pipeline.read.markers import (
    BRACKETS,
    DASHES,
    MARKER_CHARS,
    MASKS,
    Classified,
    agenda_family,
    classify_line,
)
from pipeline.read.placement import LineLedger, Outline, split_opening
from pipeline.read.wrapping import Joined, is_hangul, is_prose

# A label in brackets at the start of a unit or part, ``(문제점) …``: not a number, at most 20 characters.
_TAG = re.compile(r"^\(\s*(?P<tag>[^()\d\s][^()]{0,19}?)\s*\)")


@dataclass(frozen=True)
class ParsedDocument:
    """What the parser read from one document.

    ``units`` are in document order; ``headers`` are (kind, text, line) for every member, agenda
    and question heading met; ``preamble`` holds the text before the first structure that no unit
    took (a title); ``unplaced`` lists every stretch of lines whose words are in no unit, with why.
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
        return _parse_lines(doc.lines, round_id or doc.round, _basename(doc.path), self.split_enumerated)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _parse_lines(
    lines: Sequence[Line], round_id: str, source: str, split_enumerated: bool
) -> ParsedDocument:
    classified = [classify_line(line.text) for line in lines]
    has_recs = any(c.kind == "rec" for c in classified)
    # A dash with no words after it (a divider line, "-") is no bullet: it must not take a document out of
    # paragraph mode, where its paragraphs would become a preamble.
    has_dash = any(c.kind == "sub" and c.mark in DASHES and c.text for c in classified)
    paragraph_mode = not has_recs and not has_dash and not any(c.kind == "box" for c in classified)
    if not has_recs:
        # No ㅇ/○ markers: dash bullets are the top level a reader sees.
        classified = [
            Classified("rec", c.text, c.mark) if c.kind == "sub" and c.mark in DASHES else c
            for c in classified
        ]

    state = _State(round_id, source, split_enumerated)
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
        elif c.kind in ("member", "agenda", "question"):
            state.header(c.kind, c.text, [line.number], c.mark)
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
    state.flush_preamble()
    state.resolve(("agenda", "question"))
    state.close_sections(0)
    headers = tuple((kind, str(text), number) for kind, text, number in state.headers
                    if (kind, number) not in state.converted)
    return ParsedDocument(tuple(state.units), headers, tuple(state.preamble), state.ledger.unplaced(lines, source))


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


class _State:
    """Mutable parse state: the open unit and the current member/agenda/question."""

    def __init__(self, round_id: str, source: str, split_enumerated: bool) -> None:
        self.round_id = round_id
        self.source = source
        self.split_enumerated = split_enumerated
        self.member: int | None = None
        self.member_label = ""
        self.members: dict[str, int] = {}
        self.n_members = 0
        self.title = Joined("", "")  # the agenda title, which may wrap over lines
        self.question = ""
        self.cur: Builder | None = None
        self.units: list[Unit] = []
        self.headers: list[tuple[str, str | Joined, int]] = []
        self.preamble: list[str] = []
        # Lines before the first structure, None between paragraphs, until the first structure decides them.
        self.opening: list[Line | None] = []
        self.ledger = LineLedger()
        # The ledger's ids of the member, agenda and question headings the next unit stands under.
        self.current: dict[str, int | None] = {"member": None, "agenda": None, "question": None}
        # Agenda/question headings no unit has come under yet: kind -> (ledger id, index in headers).
        self.pending: dict[str, tuple[int, int]] = {}
        self.sections = Outline()
        self.converted: set[tuple[str, int]] = set()  # (kind, line) of headings that became units
        self.seen_structure = False
        self.after_header = False  # the previous non-blank line was an agenda or box heading
        self.ids: dict[str, int] = {}

    @property
    def agenda(self) -> str:
        return str(self.title)

    # -- headers -------------------------------------------------------------------------------
    def header(self, kind: str, text: str, numbers: Sequence[int], mark: str = "") -> None:
        self.close()
        self.structure()
        if kind == "agenda":
            self.outline(agenda_family(mark))
        self.resolve({"member": ("agenda", "question"), "agenda": ("agenda", "question")}.get(kind, ("question",)))
        if kind == "member":
            self.close_sections(0)
        number = numbers[0]
        heading = self.ledger.heading(numbers)
        self.current[kind] = heading
        if kind != "member":
            self.pending[kind] = (heading, len(self.headers))
        if kind == "agenda":
            self.sections.families[heading] = agenda_family(mark)
        # A heading opens a new context for the levels below it.
        for lower in {"member": ("agenda", "question"), "agenda": ("question",)}.get(kind, ()):
            self.current[lower] = None
        if kind == "agenda":
            self.title = Joined(text, text)
        self.headers.append((kind, self.title if kind == "agenda" else text, number))
        if kind == "member":
            # Masked names (○○○) all look alike: each header is a new member. A real name met
            # again in the same document is the same member.
            masked = any(ch in MASKS for ch in text) or not any(is_hangul(ch) for ch in text.replace("위원", ""))
            if masked or text not in self.members:
                self.n_members += 1
                self.members[text] = self.n_members
            self.member = self.n_members if masked else self.members[text]
            self.member_label = text
            self.title = Joined("", "")
            self.question = ""
            self.after_header = False
        elif kind == "agenda":
            self.question = ""
            self.after_header = True
        else:
            self.question = text
            self.after_header = False

    # -- units ---------------------------------------------------------------------------------
    def start(self, kind: str, text: str, line: Line) -> None:
        if kind == "rec" and self.cur is not None and self.cur.kind == "box" and not self.cur.parts:
            # A box paragraph followed by recommendations is their heading.
            box = self.cur
            self.cur = None
            self.headers.append(("question", box.intro, box.line_start))
            self.question = box.intro
            self.current["question"] = self.ledger.heading(range(box.line_start, box.line_end + 1))
        self.close()
        self.structure()
        self.cur = Builder(kind, Joined(text, line.text), line.number, line.number)
        self.after_header = kind == "box"

    def part(self, c: Classified, line: Line) -> None:
        if self.cur is None:
            self.structure()
            self.cur = Builder("orphan", Joined("", ""), line.number, line.number)
        self.cur.add_part(c, line.text, line.number)
        self.after_header = False

    def text(self, line: Line, c: Classified, paragraph_mode: bool) -> None:
        if self.after_header and self.cur is None and self.headers and self.headers[-1][0] == "agenda":
            # A wrapped agenda title: its next lines belong to the title (the header holds it too).
            self.title.add(c.text, c.text)
            self.ledger.extend(self.current["agenda"], line.number)
            return
        if self.cur is not None:
            self.cur.add_text(c.text, line.text, line.number)
            return
        if not self.seen_structure and not paragraph_mode:
            self.opening.append(line)
            return
        kind = "para" if paragraph_mode else "orphan"
        self.cur = Builder(kind, Joined(c.text, line.text), line.number, line.number)

    def blank(self, paragraph_mode: bool) -> None:
        self.after_header = False
        if self.opening and self.opening[-1] is not None:
            self.opening.append(None)
        if paragraph_mode or (self.cur is not None and self.cur.kind == "para"):
            self.close()

    def structure(self) -> None:
        """The first structure is met: the text before it is decided (:meth:`flush_preamble`)."""
        if not self.seen_structure:
            self.seen_structure = True
            self.flush_preamble()

    def flush_preamble(self) -> None:
        """Decide the text before the first structure (:func:`pipeline.read.placement.split_opening`)."""
        left_out, groups = split_opening(self.opening)
        self.opening = []
        for paragraph in left_out:
            self.preamble.extend(ln.text.strip() for ln in paragraph)
            self.ledger.preamble(ln.number for ln in paragraph)
        for group in groups:
            self._paragraph_unit(group)

    def _paragraph_unit(self, paragraphs: Sequence[Sequence[Line]]) -> None:
        """One unit of ``paragraphs``: wrapped lines joined, paragraphs with a space."""
        body = Joined("", "")
        for paragraph in paragraphs:
            body.new_paragraph()
            for ln in paragraph:
                body.add(ln.text.strip(), ln.text)
        self.cur = Builder("para", body, paragraphs[0][0].number, paragraphs[-1][-1].number)
        self.close()

    # -- an outline's sections (:class:`pipeline.read.placement.Outline`) ----------------------------
    def outline(self, family: str) -> None:
        """Before an agenda heading of ``family``: a section of the outline opens or closes."""
        depth = self.sections.level(family)
        if depth is not None:
            self.resolve(("agenda", "question"))  # the last item closes before its section
            self.close_sections(depth)
            return
        pending = self.pending.get("agenda")
        if pending is not None and not self.ledger.is_used(pending[0]) and self.sections.opens(pending[0], family):
            del self.pending["agenda"]
            self.sections.open(pending, len(self.units))

    def close_sections(self, depth: int) -> None:
        """Close the open sections from ``depth`` down: a heading with units under its items is a section."""
        for (heading, index), units_made in self.sections.close(depth):
            if len(self.units) > units_made:
                self.ledger.section(heading)
            else:
                self.settle("agenda", heading, index)

    def resolve(self, kinds: Sequence[str]) -> None:
        """Headings of ``kinds`` under which no unit came are settled (:meth:`settle`)."""
        for kind in kinds:
            if kind in self.pending:
                self.settle(kind, *self.pending.pop(kind))

    def settle(self, kind: str, heading: int, index: int) -> None:
        """A heading under which no unit came: a prose one becomes a unit of its own."""
        text = str(self.headers[index][1])
        if self.ledger.is_used(heading) or not is_prose(text):
            return
        numbers = self.ledger.lines(heading)
        # The heading is the unit's text: it stands under neither itself nor the headings below it (a section
        # settled at its end has its last item as the current agenda).
        saved = self.title, self.question, dict(self.current)
        lower = ("agenda", "question") if kind == "agenda" else ("question",)
        self.current.update(dict.fromkeys(lower))
        self.title = Joined("", "") if kind == "agenda" else self.title
        self.question = ""
        self._emit(text, "", (), numbers[0], numbers[-1], text)
        self.ledger.use([heading])
        self.title, self.question, self.current = saved
        self.converted.add((kind, self.headers[index][2]))

    def close(self) -> None:
        b, self.cur = self.cur, None
        if b is None:
            return
        pieces = split_items(b) if self.split_enumerated else None
        if pieces is None:
            text = " ".join(x for x in [b.intro, *(p.rendered() for p in b.parts)] if x)
            self._emit(text, "", b.parts, b.line_start, b.line_end, b.intro)
            return
        for k, (head, rest) in enumerate(pieces):
            # The item's own enumerator is structure here: the unit starts with the item's words.
            text = " ".join(x for x in [head.text, *(p.rendered() for p in rest)] if x)
            start = b.line_start if k == 0 else head.line_start
            end = rest[-1].line_end if rest else head.line_end
            self._emit(text, b.intro if k == 0 else "", rest, start, end, head.text)

    def _emit(
        self,
        text: str,
        lead: str,
        parts: Sequence[Part],
        line_start: int,
        line_end: int,
        intro: str,
    ) -> None:
        if not text and not lead:
            return
        self.ledger.use(self.current.values())
        tags = _tags([intro, *(p.text for p in parts)])
        key = "\x1f".join(
            id_key(x) for x in (self.round_id, str(self.member or ""), self.agenda, self.question, lead, text)
        )
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
        self.ids[digest] = self.ids.get(digest, 0) + 1
        rec_id = digest if self.ids[digest] == 1 else f"{digest}-{self.ids[digest]}"
        self.units.append(
            Unit(
                rec_id=rec_id,
                round=self.round_id,
                source=self.source,
                member=self.member,
                member_label=self.member_label,
                agenda=self.agenda,
                question=self.question,
                text=text,
                line_start=line_start,
                line_end=line_end,
                lead=lead,
                tags=tags,
                subpoints=tuple(p.rendered() for p in parts if p.kind == "sub"),
                notes=tuple(p.text for p in parts if p.kind == "note"),
            )
        )


def _tags(texts: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for t in texts:
        m = _TAG.match(t)
        if m:
            seen.setdefault(m.group("tag"), None)
    return tuple(seen)


def id_key(s: str) -> str:
    """Text as rec_ids see it: NFKC, no whitespace, no marker characters.

    So a round re-saved in another format or encoding (CP949 has no ❶ or ➀; a PDF loses trailing
    spaces) keeps its ids.
    """
    # Markers go before NFKC too: NFKC turns ① into 1, which would then count as text.
    # translate and re.sub run in C: a per-character generator cost seconds on a long unit.
    kept = unicodedata.normalize("NFKC", s.translate(_DROP_MARKERS)).translate(_DROP_MARKERS)
    return _WHITESPACE.sub("", kept)


_DROP_MARKERS = dict.fromkeys(map(ord, MARKER_CHARS))
# \s in a str pattern is exactly str.isspace().
_WHITESPACE = re.compile(r"\s+")
