"""Where every line of a document went: into a unit, or onto the list of unplaced lines with its reason.

The parser puts a line's words into a unit (its text, its lead, or the member/agenda/question heading a unit
stands under) or, when no unit takes them, hands the line to a :class:`LineLedger`, which groups such lines
into :class:`~pipeline.core.records.Unplaced` stretches. Nothing a reader gave the parser is dropped
silently: ``unplaced.csv`` in a run folder lists the stretches, and ``run.json`` counts their lines.
Lines that hold no words (blank, or a marker alone) need no place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipeline.core.records import Line, Unplaced

#: Text before the first recognised structure that is too short to be content: a title, a document number.
PREAMBLE = "preamble"
#: A member, agenda or question heading (or a □ heading) under which no recommendation came: a table of
#: contents, table rows numbered like agenda items, a member who wrote nothing.
HEADING_WITHOUT_UNITS = "heading_without_units"
#: How the report and the warning name each reason (the researcher reads them).
REASON_LABELS = {
    PREAMBLE: "첫 구조 앞 제목·문서 번호",
    HEADING_WITHOUT_UNITS: "권고가 없는 제목·목차·번호 행",
}


class LineLedger:
    """The lines of one document that no unit took, as the parser meets them.

    Headings are registered as they come (:meth:`heading`) and marked used when a unit is made under them
    (:meth:`use`); what stays unused, and the preamble lines given to :meth:`preamble`, are the unplaced
    lines (:meth:`unplaced`).
    """

    def __init__(self) -> None:
        self._headings: list[list[int]] = []
        self._used: set[int] = set()
        self._preamble: list[int] = []

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

    def lines(self, heading: int) -> list[int]:
        """The line numbers of ``heading``."""
        return self._headings[heading]

    def preamble(self, numbers: Iterable[int]) -> None:
        """Lines before the first structure that no unit took."""
        self._preamble.extend(numbers)

    def unplaced(self, lines: Sequence[Line], source: str) -> tuple[Unplaced, ...]:
        """In: the document's lines and its file name. Out: the unplaced stretches in line order.

        Consecutive unplaced lines of one reason (blank lines between them allowed) form one stretch;
        its text is the lines' words, one line of the document per line of the text.
        """
        by_number = {line.number: line for line in lines}
        reasons = {n: PREAMBLE for n in self._preamble}
        for heading, numbers in enumerate(self._headings):
            if heading not in self._used:
                reasons.update(dict.fromkeys(numbers, HEADING_WITHOUT_UNITS))
        stretches: list[Unplaced] = []
        pending: list[int] = []

        def flush() -> None:
            if pending:
                text = "\n".join(by_number[n].text.strip() for n in pending)
                stretches.append(Unplaced(source, pending[0], pending[-1], reasons[pending[0]], text))
                pending.clear()

        last = None
        for number in sorted(n for n in reasons if n in by_number and by_number[n].text.strip()):
            if pending and not (reasons[number] == reasons[pending[-1]] and _only_blank(by_number, last, number)):
                flush()
            pending.append(number)
            last = number
        flush()
        return tuple(stretches)


def _only_blank(by_number: dict[int, Line], start: int | None, stop: int) -> bool:
    """Whether every line strictly between ``start`` and ``stop`` is blank."""
    if start is None:
        return True
    return all(not by_number[n].text.strip() for n in range(start + 1, stop) if n in by_number)
