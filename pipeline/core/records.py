"""Typed records that flow between the pipeline's stages.

Every stage is a function from these records to these records; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The theme id and label of a unit that fits no theme (``theme_source`` is ``unassigned`` too).
UNASSIGNED_ID = "unassigned"
UNASSIGNED_LABEL = "미분류"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of text as a reader extracted it.

    ``number`` is 1-based in the reader's own numbering (text line, or running line
    over all pages/paragraphs for PDF, DOCX, HWPX, HWP); ``page`` is set where the
    format has pages. Slotted: a long document holds millions of them.
    """

    text: str
    number: int
    page: int | None = None


@dataclass(frozen=True)
class Document:
    """A read document: its lines plus where they came from."""

    path: str
    lines: tuple[Line, ...]
    format: str
    sha256: str
    encoding: str | None = None

    @property
    def round(self) -> str:
        """Round id: the file name without directory and extension."""
        name = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        return name.rsplit(".", 1)[0] if "." in name else name


@dataclass(frozen=True)
class Unit:
    """One recommendation (the unit of analysis) with its context and program mapping.

    ``text`` is the whole unit: the intro line, sub-points and notes, wrapped lines
    joined. ``lead`` holds the shared intro of a recommendation that was split into
    numbered parts (set on the first part only, so no text is counted twice).
    """

    rec_id: str
    round: str
    source: str
    member: int | None
    member_label: str
    agenda: str
    question: str
    text: str
    line_start: int
    line_end: int
    lead: str = ""
    tags: tuple[str, ...] = ()
    subpoints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    program_codes: tuple[str, ...] = ()
    code_sources: tuple[tuple[str, str], ...] = ()
    fields: tuple[str, ...] = ()
    unknown_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unplaced:
    """A stretch of lines the parser put in no unit (``unplaced.csv``): the file, first and last line,
    why (:mod:`pipeline.read.placement`) and the lines' words, one document line per text line."""

    source: str
    line_start: int
    line_end: int
    reason: str
    text: str


@dataclass(frozen=True)
class Program:
    """One entry of the program registry (``corpus/programs.csv``)."""

    code: str
    name: str
    field: str
    aliases: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Assignment:
    """The theme given to one unit.

    ``theme_source`` is ``codebook``, ``discovered``, ``unassigned`` or ``researcher`` (a
    correction); ``theme_score`` is the model's confidence in [0, 1] (cosine similarity or cluster
    membership). ``theme_runner_up`` is the second-best theme id (empty where there is none),
    ``theme_margin`` the chosen theme's score minus the runner-up's (same units as
    ``theme_score``; ``None`` where there is no runner-up), and ``needs_review`` flags a unit a
    researcher should look at.
    """

    rec_id: str
    theme_id: str
    theme_label: str
    theme_score: float
    theme_source: str
    theme_runner_up: str = ""
    theme_margin: float | None = None
    needs_review: bool = False


@dataclass(frozen=True)
class ThemeInfo:
    """A theme the model knows: id, label, source (``codebook``/``discovered``) and keywords.

    The model's list of themes, before any unit is counted; :class:`ThemeCard` is the card a run shows.
    """

    theme_id: str
    label: str
    source: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThemeCard:
    """The theme card: what a researcher reads about one theme of a run (:func:`pipeline.runfolder.cards.theme_cards`).

    ``size`` counts the theme's units, ``representative_rec_ids`` are its most typical units,
    ``members`` the member numbers raising it, ``program_counts`` ``(code, units)`` most cited
    first. ``member_counts`` (``(display name, units)``) and ``agenda_counts`` (``(agenda,
    units)``), most first, are what the report lists; ``themes.csv`` does not hold them, so a card
    read back from a run folder has them empty.
    """

    theme_id: str
    label: str
    source: str
    size: int
    keywords: tuple[str, ...]
    representative_rec_ids: tuple[str, ...]
    members: tuple[int, ...] = ()
    program_counts: tuple[tuple[str, int], ...] = ()
    member_counts: tuple[tuple[str, int], ...] = ()
    agenda_counts: tuple[tuple[str, int], ...] = ()
