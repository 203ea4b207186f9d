"""theme_cards: the one theme card, computed from units, assignments and the model's themes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.core.records import Assignment, ThemeInfo, Unit
from pipeline.runfolder.cards import member_name, theme_cards


def _unit(i: int, member: int | None, agenda: str, codes: tuple[str, ...] = (), round_id: str = "r") -> Unit:
    return Unit(rec_id=f"{round_id}-{i}", round=round_id, source="x.txt", member=member,
                member_label={1: "○○ 위원", 2: "△△ 위원"}.get(member or 0, ""), agenda=agenda, question="q", text=f"text {i}",
                line_start=i, line_end=i, program_codes=codes)


UNITS = [_unit(1, 2, "A", ("1-10-1",)), _unit(2, 1, "B", ("1-2-1",)), _unit(3, 2, "B", ("1-2-1", "NL")),
         _unit(4, None, "", ()), _unit(5, 1, "A", ("NL",))]
THEMES = [ThemeInfo("t2", "둘", "discovered", ("c",)), ThemeInfo("t1", "하나", "codebook", ("a", "b")),
          ThemeInfo("t0", "빈", "codebook")]


def _assign(theme_ids: list[str | None], scores: list[float]) -> list[Assignment]:
    return [Assignment(u.rec_id, t, {"t1": "하나", "t2": "둘"}[t], s, "codebook")
            for u, t, s in zip(UNITS, theme_ids, scores, strict=True) if t is not None]


def test_cards_count_members_agendas_and_programs_most_first() -> None:
    cards = theme_cards(UNITS, _assign(["t1", "t1", "t1", "t1", "t2"], [0.5, 0.9, 0.5, 0.2, 0.7]), THEMES)
    # The model's order, empty themes left out.
    assert [c.theme_id for c in cards] == ["t2", "t1"]
    card = cards[1]
    assert card.size == 4 and card.keywords == ("a", "b") and card.source == "codebook"
    # Highest score first; the tie between units 1 and 3 goes by document order.
    assert card.representative_rec_ids == ("r-2", "r-1", "r-3")
    assert card.members == (1, 2)
    assert card.member_counts == (("위원 2 (△△)", 2), ("위원 1 (○○)", 1), ("위원 미상", 1))
    # Ties in document order of the agendas.
    assert card.agenda_counts == (("B", 2), ("A", 1), ("(안건 없음)", 1))
    # Natural code order on ties: 1-2-1 before 1-10-1.
    assert card.program_counts == (("1-2-1", 2), ("1-10-1", 1), ("NL", 1))


def test_unassigned_units_and_units_without_assignment_belong_to_no_theme() -> None:
    assignments = _assign(["t1", None, "t1", None, "t2"], [0.5, 0, 0.6, 0, 0.7])
    assignments[0] = replace(assignments[0], theme_id="unassigned", theme_source="unassigned")
    cards = theme_cards(UNITS, assignments, THEMES)
    assert {c.theme_id: c.size for c in cards} == {"t2": 1, "t1": 1}


def test_member_names_carry_the_round_when_a_run_has_several() -> None:
    units = [*UNITS[:2], _unit(9, 2, "A", round_id="s")]
    cards = theme_cards(units, [Assignment(u.rec_id, "t1", "하나", 0.5, "codebook") for u in units], THEMES)
    assert [name for name, _ in cards[0].member_counts] == ["r · 위원 1 (○○)", "r · 위원 2 (△△)", "s · 위원 2 (△△)"]
    assert member_name(units[2]) == "위원 2 (△△)"


def test_an_assignment_naming_no_unit_or_a_unit_twice_is_refused() -> None:
    good = _assign(["t1"] * 5, [0.5] * 5)
    with pytest.raises(ValueError, match="unknown rec_id 'zz'"):
        theme_cards(UNITS, [*good, Assignment("zz", "t1", "하나", 0.5, "codebook")], THEMES)
    with pytest.raises(ValueError, match="more than one assignment"):
        theme_cards(UNITS, [*good, good[0]], THEMES)
