"""Where a run's units are in a QDA project's copy of a source text, checked by their text.

A project comes back from a QDA tool with its own copy of each source. Its selections' positions only mean
something where that copy still has the unit's text at the unit's lines: a researcher may have corrected a
typo or added a line in the tool, and a tool that renews every GUID leaves positions as the only link. So
:func:`locate_units` places each unit where the text at its lines *is* the unit's (compared on letters and
digits alone: markers, spaces and line breaks differ between the run's joined text and the source's
lines), else where the unit's text occurs exactly once in the copy; a unit found nowhere has no span, and
selections that overlap no span are matched by their own text (:meth:`UnitSpans.by_text`).
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.records import Unit
from pipeline.qda.export import SourceText

#: How alike (difflib's ratio of the letters and digits) a selection's text and a unit's must be to match by text.
MIN_TEXT_RATIO = 0.75


def compact(text: str) -> tuple[str, list[int]]:
    """The letters and digits of ``text`` and, for each, its offset in ``text``."""
    kept = [(ch, i) for i, ch in enumerate(text) if ch.isalnum()]
    return "".join(ch for ch, _ in kept), [i for _, i in kept]


def _same_text(unit_text: str, found: str) -> bool:
    """Whether ``found`` (a span of the source) holds the unit's text: all of its letters, in order, or nearly."""
    if not unit_text:
        return False
    if unit_text in found:
        return True
    return difflib.SequenceMatcher(None, unit_text, found, autojunk=False).ratio() >= 0.9


@dataclass(frozen=True)
class UnitSpans:
    """The run's units in one source of a project: verified spans sorted by start, for overlap lookups, and
    each unit's compact text for matching a selection by its text."""

    text: SourceText
    starts: tuple[int, ...]
    spans: tuple[tuple[int, int, str], ...]
    longest: int
    texts: dict[str, str]

    def best_overlap(self, start: int, end: int) -> str | None:
        """The rec_id whose span overlaps ``[start, end)`` most; None if none does.

        Only spans starting in ``[start - longest, end)`` can overlap, so this looks at a few
        spans, not the whole round (a tool that renews every GUID sends every selection here).
        """
        best, best_overlap = None, 0
        low = bisect.bisect_left(self.starts, start - self.longest)
        for k in range(low, bisect.bisect_left(self.starts, end)):
            s, e, rec_id = self.spans[k]
            overlap = min(e, end) - max(s, start)
            if overlap > best_overlap:
                best, best_overlap = rec_id, overlap
        return best

    def by_text(self, start: int, end: int) -> str | None:
        """The unit whose text is most like the selection's (a unit edited in the tool); None below
        :data:`MIN_TEXT_RATIO` or for a selection outside the text."""
        if not 0 <= start < end <= len(self.text.text):
            return None
        wanted = compact(self.text.text[start:end])[0]
        best, best_ratio = None, MIN_TEXT_RATIO
        for rec_id, unit_text in self.texts.items():
            matcher = difflib.SequenceMatcher(None, wanted, unit_text, autojunk=False)
            if matcher.real_quick_ratio() >= best_ratio and matcher.quick_ratio() >= best_ratio \
                    and (ratio := matcher.ratio()) >= best_ratio:
                best, best_ratio = rec_id, ratio
        return best


def _at_lines(text: SourceText, unit: Unit, unit_text: str) -> tuple[int, int] | None:
    if not 1 <= unit.line_start <= unit.line_end <= text.n_lines:
        return None
    start, end = text.span(unit.line_start, unit.line_end)
    return (start, end) if _same_text(unit_text, compact(text.text[start:end])[0]) else None


def locate_units(text: SourceText, units: Sequence[Unit]) -> UnitSpans | None:
    """The ``units`` (of the run source ``text`` is a copy of) in ``text``; None when none is found."""
    whole, offsets = compact(text.text)
    found, texts = [], {}
    for unit in units:
        unit_text = compact(unit.text)[0]
        texts[unit.rec_id] = unit_text
        span = _at_lines(text, unit, unit_text)
        if span is None and unit_text and whole.count(unit_text) == 1:
            # Moved in the tool's copy (lines added or removed before it): the one place its text is.
            first = whole.index(unit_text)
            span = (offsets[first], offsets[first + len(unit_text) - 1] + 1)
        if span is not None:
            found.append((*span, unit.rec_id))
    if not found and not texts:
        return None
    found.sort()
    return UnitSpans(text, tuple(f[0] for f in found), tuple(found), max((e - s for s, e, _ in found), default=0),
                     texts)
