"""The structure parser's state as it walks a document's lines (:mod:`pipeline.read.parser` drives it).

:class:`ParseState` holds the current member, agenda and question, the unit being built, the headings
no unit has come under yet, the text before the first structure, and the ledger of the lines every unit
and heading took (:class:`pipeline.read.placement.LineLedger`); it emits the units with their ids and tags.
A unit's id is a hash of its round, member, agenda, question and text as :func:`id_key` sees them, so
the same document saved in another format keeps its ids.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence

from pipeline.core.records import Line, Unit
from pipeline.read.builders import Builder, Part, split_items
from pipeline.read.markers import MARKER_CHARS, MASKS, Classified, agenda_family, trailing_member
from pipeline.read.placement import (
    ANSWER_SECTION,
    MEETING_FRAME,
    PREAMBLE,
    LineLedger,
    Outline,
    is_meeting_frame,
    split_opening,
)
from pipeline.read.wrapping import Joined, is_prose

# A label in brackets at the start of a unit or part, ``(문제점) …``: not a number, at most 20 characters.
_TAG = re.compile(r"^\(\s*(?P<tag>[^()\d\s][^()]{0,19}?)\s*\)")


class ParseState:
    """Mutable parse state: the open unit and the current member/agenda/question."""

    def __init__(self, round_id: str, source: str, split_enumerated: bool, answers: Collection[int] = ()) -> None:
        self.round_id = round_id
        self.source = source
        self.split_enumerated = split_enumerated
        self.member: int | None = None
        self.member_label = ""
        self.members = MemberNumbers()
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
        self.box_section = BoxSection()
        self.seen_structure = False
        self.after_header = False  # the previous non-blank line was an agenda or box heading
        self.ids: dict[str, int] = {}
        self.answers = answers  # lines of the secretariat's answer (pipeline.read.parser.answer_lines)

    @property
    def agenda(self) -> str:
        return str(self.title)

    # -- headers -------------------------------------------------------------------------------
    def header(self, kind: str, text: str, numbers: Sequence[int], mark: str = "", raw: str = "") -> None:
        if kind == "member":
            self.box_section.close(self.ledger, len(self.units))
        elif BoxSection.heads(self.cur):
            box, self.cur = self.cur, None
            self.box_section.open(self.ledger, box.line_start, box.line_end, len(self.units))
            self.headers.append(("section", box.intro, box.line_start))
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
            self.title = Joined(text, raw or text)  # the line as read decides how a wrap joins it
        self.headers.append((kind, self.title if kind == "agenda" else text, number))
        if kind == "member":
            # ``[위원 1]`` over ``◇ 최○○ 위원 (소속)``, nothing between, in two styles: one member named twice.
            last, self.members.last = self.members.last, (len(self.units), mark)
            twice = self.member is not None and last[0] == len(self.units) and last[1] != mark
            self.member = self.member if twice else self.members.number(text)
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

    def end_members(self) -> None:
        """The document's outline goes on after the members' section (``4. 향후 계획``): no member's words."""
        self.close()
        self.member, self.member_label = None, ""

    # -- units ---------------------------------------------------------------------------------
    def start(self, kind: str, text: str, line: Line) -> None:
        if kind == "box":
            self.close()
            self.box_section.close(self.ledger, len(self.units))
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
            self.title.add(c.text, line.text)
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
            self.ledger.set_aside((ln.number for ln in paragraph), PREAMBLE)
        for group in groups:
            self.cur = paragraph_builder(group)
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
        """A heading under which no unit came: a prose agenda heading becomes a unit of its own.

        Only an agenda heading (``1. 민원실에 비치된 신청서를 … 바랍니다.``: a notice's numbered items are its
        content). A ``[ … ]`` question with nothing under it is the committee's question that this member
        left unanswered: as a unit it would put the question's words in the member's mouth, so it stays an
        unplaced heading (``heading_without_units``). No real document measured had one converted.
        """
        text = str(self.headers[index][1])
        if kind != "agenda" or self.ledger.is_used(heading) or not is_prose(text):
            return
        numbers = self.ledger.lines(heading)
        # The heading is the unit's text: it stands under neither itself nor the headings below it (a section
        # settled at its end has its last item as the current agenda).
        saved = self.title, self.question, dict(self.current)
        self.current.update(dict.fromkeys(("agenda", "question")))
        self.title = Joined("", "")
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

    def _emit(self, text: str, lead: str, parts: Sequence[Part], line_start: int, line_end: int, intro: str) -> None:
        if not text and not lead:
            return
        # Outside a member's block, a meeting's frame (``일 시 : …``) and, once members have spoken, the secretariat's
        # answer (``Ⅲ. 사무국 조치계획``) are no one's opinion.
        aside = None if self.member is not None else MEETING_FRAME if is_meeting_frame(intro) else (
            ANSWER_SECTION if line_start in self.answers else None)
        if aside is not None:
            self.ledger.set_aside(range(line_start, line_end + 1), aside)
            return
        self.ledger.use(self.current.values())
        tags = _tags([intro, *(p.text for p in parts)])
        # Outside a member's block, a unit that ends with who raised it (``… (박○○ 위원)``) is that member's.
        member, label = self.members.tagged(text) if self.member is None else (self.member, self.member_label)
        key = "\x1f".join(id_key(x) for x in (self.round_id, str(member or ""), self.agenda, self.question, lead, text))
        digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
        self.ids[digest] = self.ids.get(digest, 0) + 1
        rec_id = digest if self.ids[digest] == 1 else f"{digest}-{self.ids[digest]}"
        self.units.append(
            Unit(
                rec_id=rec_id,
                round=self.round_id,
                source=self.source,
                member=member,
                member_label=label,
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


class MemberNumbers:
    """Each member header's number in a document, 1, 2, 3 … in order of appearance.

    Masked names (○○○) all look alike: each header is a new member. A real name, or the letter or number an
    anonymous member goes by (``A 위원``, ``위원 2``), met again in the same document is the same member.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._count = 0
        #: At the last member header: the units made so far, and its mark.
        self.last: tuple[int, str] = (-1, "")

    def number(self, label: str) -> int:
        masked = any(ch in MASKS for ch in label) or not any(ch.isalnum() for ch in label.replace("위원", ""))
        return self._new() if masked else self._known(label)

    def _new(self) -> int:
        self._count += 1
        return self._count

    def _known(self, label: str) -> int:
        """``label``'s number, a new one the first time it is met."""
        if label not in self._numbers:
            self._numbers[label] = self._new()
        return self._numbers[label]

    def tagged(self, text: str) -> tuple[int | None, str]:
        """The member a unit's closing tag names (``… (박○○ 위원)``) and the tag, or (None, ""). A tag names one
        member each time it recurs, a surname with a mask included; a mask alone (``○○○ 위원``) names none."""
        label = trailing_member(text)
        if label is None or not any(ch.isalnum() and ch not in MASKS for ch in label.replace("위원", "")):
            return None, ""
        return self._known(label), label


class BoxSection:
    """A short ``□`` heading followed by agenda or question headings: a section over them (``□ 분야별 검토의견``
    over ``1. 체류·체험 분야``), not a unit of its own. A ``□`` sentence is a press release's paragraph, the last
    of its part when the next part's number follows, and stays a unit. The section's lines are listed as a
    section heading when units came under it, else as any heading without units."""

    def __init__(self) -> None:
        self._open: tuple[int, int] | None = None  # (ledger id, units made before it)

    @staticmethod
    def heads(builder: Builder | None) -> bool:
        """Whether the paragraph being built is a □ heading that the next heading makes a section."""
        return (builder is not None and builder.kind == "box" and not builder.parts
                and not is_prose(str(builder.intro)))

    def open(self, ledger: LineLedger, line_start: int, line_end: int, units_made: int) -> None:
        self.close(ledger, units_made)
        self._open = (ledger.heading(range(line_start, line_end + 1)), units_made)

    def close(self, ledger: LineLedger, units_made: int) -> None:
        """The open section ends, ``units_made`` units into the document."""
        if self._open is not None:
            heading, before = self._open
            if units_made > before:
                ledger.section(heading)
            self._open = None


def paragraph_builder(paragraphs: Sequence[Sequence[Line]]) -> Builder:
    """One unit's builder of ``paragraphs``: wrapped lines joined, paragraphs with a space."""
    body = Joined("", "")
    for paragraph in paragraphs:
        body.new_paragraph()
        for ln in paragraph:
            body.add(ln.text.strip(), ln.text)
    return Builder("para", body, paragraphs[0][0].number, paragraphs[-1][-1].number)
