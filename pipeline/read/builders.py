"""Units under construction: a recommendation's intro, its sub-points and notes, as the parser meets them.

:class:`Builder` collects consecutive lines of one unit; :func:`split_items` says whether a recommendation
whose ``①/②/③`` items carry their own dash sub-points is to be split into one unit per item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.read.markers import CIRCLED, DASHES, DINGBAT_CIRCLED, Classified
from pipeline.read.wrapping import Joined


@dataclass
class Part:
    """A sub-point or note of a unit being built."""

    kind: str  # "sub" or "note"
    mark: str
    body: Joined
    line_start: int
    line_end: int

    @property
    def text(self) -> str:
        return str(self.body)

    @property
    def enum(self) -> int | None:
        for table in (CIRCLED, DINGBAT_CIRCLED):
            if self.mark in table:
                return table.index(self.mark) + 1
        return None

    def rendered(self) -> str:
        """The part as it reads in the unit text, marker kept (``- …``, ``※ …``, ``② …``)."""
        return f"{self.mark} {self.text}".strip()


@dataclass
class Builder:
    """A unit being built from consecutive lines."""

    kind: str  # "rec", "box", "orphan", "para"
    head: Joined
    line_start: int
    line_end: int
    parts: list[Part] = field(default_factory=list)

    @property
    def intro(self) -> str:
        return str(self.head)

    def add_text(self, text: str, raw: str, number: int) -> None:
        """Append a wrapped line: ``text`` is ``raw`` stripped (the classifier's copy, kept once)."""
        if self.parts:
            self.parts[-1].body.add(text, raw)
            self.parts[-1].line_end = number
        else:
            self.head.add(text, raw)
        self.line_end = number

    def add_part(self, c: Classified, raw: str, number: int) -> None:
        self.parts.append(Part(c.kind, c.mark, Joined(c.text, raw), number, number))
        self.line_end = number


def split_items(b: Builder) -> list[tuple[Part, list[Part]]] | None:
    """Split points of a multi-part recommendation, or None when it is one unit.

    An item is a line-initial enumerator whose next part is a dash sub-point; items must run
    ①, ②, ③ … with the first directly after the intro.
    """
    if b.kind != "rec" or not b.intro or len(b.parts) < 4:
        return None
    items = [
        k
        for k, p in enumerate(b.parts[:-1])
        if p.enum is not None and b.parts[k + 1].kind == "sub" and b.parts[k + 1].mark in DASHES
    ]
    if len(items) < 2 or items[0] != 0:
        return None
    if [b.parts[k].enum for k in items] != list(range(1, len(items) + 1)):
        return None
    bounds = [*items, len(b.parts)]
    return [(b.parts[s], b.parts[s + 1 : e]) for s, e in zip(bounds, bounds[1:], strict=False)]
