"""The theme card: what a researcher reads about one theme, computed once per run.

:func:`theme_cards` turns a round's units, their final assignments and the model's themes into one
:class:`~pipeline.core.records.ThemeCard` per theme that has units: size, keywords, representative units,
members (by number, and by display name with counts), agendas and program codes with counts. The
report (HTML and Markdown), the run folder's ``themes.csv`` and the notebooks (through
:class:`pipeline.runfolder.folder.RunFolder`) render these cards; nothing else counts a theme's units.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pipeline.core.records import UNASSIGNED_ID, Assignment, ThemeCard, ThemeInfo, Unit
from pipeline.read.programs import program_code_key

#: Representative units per card: the theme's most typical (highest theme score) units.
REPRESENTATIVES = 3
NO_AGENDA = "(안건 없음)"


def member_display(number: int | None, label: str | None) -> str:
    """Display name of a member numbered ``number`` in its round with the label the document gives:
    ``위원 2 (△△△)``; masked labels alone cannot tell members apart."""
    if number is None:
        return "위원 미상"
    label = (label or "").strip().removesuffix("위원").strip()
    return f"위원 {int(number)}" + (f" ({label})" if label else "")


def member_name(unit: Unit, with_round: bool = False) -> str:
    """Display name of a unit's member (:func:`member_display`).

    Members are numbered per round, so with ``with_round`` (runs over several rounds)
    the round is prefixed: ``2024_자문 · 위원 2 (△△△)``.
    """
    name = member_display(unit.member, unit.member_label)
    return f"{unit.round} · {name}" if with_round else name


def several_rounds(units: Sequence[Unit]) -> bool:
    """Whether ``units`` come from more than one round (member names then carry their round)."""
    return len({u.round for u in units}) > 1


def theme_cards(units: Sequence[Unit], assignments: Sequence[Assignment], themes: Sequence[ThemeInfo | ThemeCard],
                n_representatives: int = REPRESENTATIVES) -> list[ThemeCard]:
    """The theme cards of a round, for the themes that have units, in the model's theme order.

    In: the round's units, their final assignments (at most one per unit; a unit without one
    belongs to no theme) and the model's themes (id, label, source, keywords). Out: one
    :class:`ThemeCard` per non-empty theme with its size, keywords, the ``n_representatives`` units
    with the highest theme score (ties: document order), members (sorted member numbers; with
    counts by display name, most first, ties by round and number), agendas (most first, ties in
    document order) and program codes (most cited first, then code order). Unassigned units
    belong to no theme. Raises ``ValueError`` for an assignment naming no unit or a unit twice.
    """
    by_rec: dict[str, Assignment] = {}
    for a in assignments:
        if a.rec_id in by_rec:
            raise ValueError(f"rec_id {a.rec_id!r} has more than one assignment")
        by_rec[a.rec_id] = a
    members_of: dict[str, list[tuple[int, Unit, Assignment]]] = {}
    for position, unit in enumerate(units):
        a = by_rec.pop(unit.rec_id, None)
        if a is not None and a.theme_id != UNASSIGNED_ID:
            members_of.setdefault(a.theme_id, []).append((position, unit, a))
    if by_rec:
        raise ValueError(f"assignment names unknown rec_id {next(iter(by_rec))!r}")
    with_round = several_rounds(units)
    agenda_order = {a: i for i, a in enumerate(dict.fromkeys(u.agenda or NO_AGENDA for u in units))}
    cards = []
    for theme in themes:
        rows = members_of.get(theme.theme_id)
        if not rows:
            continue
        mine = [unit for _, unit, _ in rows]
        typical = sorted(rows, key=lambda r: (-r[2].theme_score, r[0]))[:n_representatives]
        programs = Counter(code for unit in mine for code in unit.program_codes)
        # Keyed with the member number first so equal counts list members in their numeric order.
        members = Counter((u.round, u.member is None, u.member or 0, member_name(u, with_round)) for u in mine)
        agendas = Counter(u.agenda or NO_AGENDA for u in mine)
        cards.append(ThemeCard(
            theme_id=theme.theme_id,
            label=rows[0][2].theme_label or theme.label,
            source=theme.source,
            size=len(rows),
            keywords=tuple(theme.keywords),
            representative_rec_ids=tuple(unit.rec_id for _, unit, _ in typical),
            members=tuple(sorted({u.member for u in mine if u.member is not None})),
            program_counts=tuple(sorted(programs.items(), key=lambda kv: (-kv[1], program_code_key(kv[0])))),
            member_counts=tuple((key[3], n) for key, n in sorted(members.items(), key=lambda kv: (-kv[1], kv[0]))),
            agenda_counts=tuple(sorted(agendas.items(), key=lambda kv: (-kv[1], agenda_order[kv[0]]))),
        ))
    return cards
