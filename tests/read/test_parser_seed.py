"""The bundled seed round parses into exactly the units of the human coding."""

from __future__ import annotations

import csv

import pytest

from tests.support.parse_helpers import GOLD, SEED, squash, units_from_text


@pytest.fixture(scope="module")
def seed_units():
    return units_from_text(SEED.read_text(encoding="utf-8"), str(SEED))


@pytest.fixture(scope="module")
def gold():
    if not GOLD.exists():
        pytest.skip(f"gold coding not found at {GOLD}")
    with GOLD.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _match(gold_rows, units):
    out = {}
    for row in gold_rows:
        hits = [u for u in units if squash(u.text).startswith(squash(row["key"]))]
        assert len(hits) == 1, f"{row['unit']} key {row['key']!r} starts {len(hits)} units"
        out[row["unit"]] = hits[0]
    return out


def test_seed_has_52_units_six_members(seed_units):
    assert len(seed_units) == 52
    assert sorted({u.member for u in seed_units}) == [1, 2, 3, 4, 5, 6]
    assert all(u.agenda and u.question for u in seed_units)
    assert len({u.rec_id for u in seed_units}) == 52


def test_each_gold_key_starts_exactly_one_unit(gold, seed_units):
    matched = _match(gold, seed_units)
    assert len({u.rec_id for u in matched.values()}) == len(gold) == 52


def test_program_codes_and_fields_equal_gold(gold, seed_units):
    matched = _match(gold, seed_units)
    for row in gold:
        u = matched[row["unit"]]
        assert ";".join(u.program_codes) == row["program_codes"], row["unit"]
        assert ";".join(u.fields) == row["fields"], row["unit"]


def test_multi_part_recommendation_is_split_with_lead(seed_units):
    parts = [u for u in seed_units if u.question.startswith("지역상생교류 사업 활성화") and u.member == 2]
    first, second, third = parts[:3]
    assert first.lead.startswith("향후 정책추진 방향은")
    assert second.lead == third.lead == ""
    assert first.text.startswith("서울시정의 비전과 시민이 공감할 수 있는 브랜딩")
    assert second.text.startswith("지역에서 서울시의 정책을")
    assert third.text.startswith("지역의 생활인구 사업과 연계된")
    # the nested ② of the first item's proposal stays inside the first item
    assert "② 서울시 지역상생교류 추진사업의 지속성" in first.text
    assert first.line_end < second.line_start <= second.line_end < third.line_start


def test_wrapped_words_are_rejoined(seed_units):
    text = " ".join(u.text for u in seed_units)
    assert "게스트하우스 이용인원" in text  # "게스트" / blank / "하우스" in the export
    assert "엑셀러레이터" in text


def test_notes_and_tags_are_kept(seed_units):
    u = next(u for u in seed_units if "2-3-5" in u.program_codes)
    assert any(n.startswith("(2-3-5)") for n in u.notes)
    assert dict(u.code_sources)["2-3-5"] == "explicit"
    assert {"문제점", "제안사항"} <= set(u.tags)


def test_nextlocal_agenda_context_gives_nl(seed_units):
    nl = [u for u in seed_units if "NL" in u.program_codes]
    assert nl and all("넥스트로컬" in u.agenda for u in nl)
    assert all(("NL", "agenda") in u.code_sources for u in nl)
