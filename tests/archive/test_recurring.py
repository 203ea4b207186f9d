"""A concern raised again in a later round is linked to its earlier candidates (pipeline.archive.recurring)."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.archive.recurring import link_recurring

SAFETY_2024 = "안전;보험;가입;사고;대피"
SAFETY_2025 = "안전;보험;사고;교육;체험"
# Shares only two keywords with 2024 (안전, 사고) but three with 2025: linked through 2025.
SAFETY_2026 = "사고;교육;체험;안전;응급"


def candidates(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["round_name", "theme_id", "keywords"])


def test_a_concern_raised_again_names_the_round_it_first_appeared_in() -> None:
    linked = link_recurring(candidates(
        ("2024", "new_theme_01", SAFETY_2024),
        ("2024", "new_theme_02", "환경;배출량;단체;기준"),
        ("2025", "new_theme_01", SAFETY_2025),
        ("2026", "new_theme_01", SAFETY_2026),
        ("2026", "new_theme_02", "상표;출원;등록;특허"),
    ))
    assert linked["first_round"].tolist() == ["2024", "2024", "2024", "2024", "2026"]
    # Only direct links are listed: 2026 shares three keywords with 2025, two with 2024.
    assert linked["earlier_candidates"].tolist() == ["", "", "new_theme_01@2024", "new_theme_01@2025", ""]


def test_candidates_of_one_round_are_never_one_concern() -> None:
    # The finder kept them apart on purpose, whatever words they share.
    linked = link_recurring(candidates(("2025", "new_theme_01", SAFETY_2024), ("2025", "new_theme_02", SAFETY_2024)))
    assert linked["first_round"].tolist() == ["2025", "2025"]
    assert linked["earlier_candidates"].tolist() == ["", ""]


def test_two_shared_keywords_are_not_enough_and_the_threshold_is_a_parameter() -> None:
    rows = candidates(("2024", "new_theme_01", "안전;보험;가입"), ("2025", "new_theme_01", "안전;보험;환경"))
    assert link_recurring(rows)["first_round"].tolist() == ["2024", "2025"]
    assert link_recurring(rows, min_shared=2)["first_round"].tolist() == ["2024", "2024"]
    with pytest.raises(ValueError, match="min_shared"):
        link_recurring(rows, min_shared=0)


def test_an_archive_without_candidates_gets_the_columns_and_no_rows() -> None:
    linked = link_recurring(candidates())
    assert linked.empty and {"first_round", "earlier_candidates"} <= set(linked.columns)
    # A candidate without keywords (none stored) is linked to nothing.
    lone = link_recurring(candidates(("2024", "new_theme_01", SAFETY_2024)).assign(keywords=[None]))
    assert lone["first_round"].tolist() == ["2024"]


def named_themes(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["round_name", "theme_id", "keywords"])


def test_a_concern_named_in_a_later_round_is_linked_back_to_its_candidates() -> None:
    # 2024 and 2025 raised the safety concern as candidates; the researcher promoted it, and from 2026 on it is
    # the codebook theme participant_safety. branding was in the codebook from the first round.
    linked = link_recurring(candidates(
        ("2023", "new_theme_01", "안전;보험;가입;대피;훈련"),
        ("2024", "new_theme_01", SAFETY_2024),
        ("2024", "new_theme_02", "환경;배출량;단체;기준"),
        ("2025", "new_theme_01", SAFETY_2025),
    ), named=named_themes(
        ("2024", "branding", "홍보;안전;보험;사고"),
        ("2026", "branding", "홍보;브랜드"),
        ("2026", "participant_safety", "보험;사고;체험;교육;안전"),
        ("2027", "participant_safety", "보험;사고;체험"),
    ), round_order=["2023", "2024", "2025", "2026", "2027"])
    # 2023's candidate shares two words with the theme (안전, 보험) but four with 2024's, which shares three with
    # the theme: one concern, named in 2026. The environment candidate became nothing, and branding, a theme
    # from the first round, never "became" from a candidate however many words they share.
    assert linked["later_theme"].tolist() == ["participant_safety@2026", "participant_safety@2026", "",
                                              "participant_safety@2026"]
    assert linked["first_round"].tolist() == ["2023", "2023", "2024", "2023"]


def test_a_candidate_after_its_theme_was_named_is_not_linked_back() -> None:
    # 2026's candidate shares the words of a theme named in 2025: the model did not file it there, which a
    # researcher should see as a candidate of its own round, not as the theme's past.
    linked = link_recurring(candidates(("2026", "new_theme_01", SAFETY_2025)),
                            named=named_themes(("2025", "participant_safety", SAFETY_2025)),
                            round_order=["2025", "2026"])
    assert linked["later_theme"].tolist() == [""]
    assert link_recurring(candidates(("2024", "new_theme_01", SAFETY_2025)))["later_theme"].tolist() == [""]


def test_a_codebook_theme_without_units_in_early_rounds_did_not_become_from_a_candidate() -> None:
    # university_research was in every round's codebook (2024's units name it as their runner-up: a row without
    # keywords) but had units only from 2025; 2024's candidate shares its words, yet it was not named later.
    rows = candidates(("2024", "new_theme_01", "대학;연구;학점;리빙랩"))
    present = named_themes(("2024", "university_research", None), ("2025", "university_research", "대학;연구;학점"))
    assert link_recurring(rows, named=present, round_order=["2024", "2025"])["later_theme"].tolist() == [""]
    # Without the runner-up row, the theme entered in 2025 and the candidate is that concern.
    entered = present.iloc[1:]
    assert link_recurring(rows, named=entered, round_order=["2024", "2025"])["later_theme"].tolist() == [
        "university_research@2025"]


def test_round_names_and_theme_ids_may_hold_an_at_sign() -> None:
    from pipeline.archive.recurring import split_key

    rounds = ["2025 자문@서울", "2025 자문"]
    assert split_key("univ@lab@2025 자문@서울", rounds) == ("univ@lab", "2025 자문@서울")
    assert split_key("univ@2025 자문", rounds) == ("univ", "2025 자문")
    linked = link_recurring(candidates(("2024@A", "new_theme_01", "대학;연구;학점")),
                            named=named_themes(("2025@B", "univ", "대학;연구;학점")), round_order=["2024@A", "2025@B"])
    assert linked["later_theme"].tolist() == ["univ@2025@B"]


def test_named_themes_need_the_archives_round_order() -> None:
    # The candidates' own rounds would miss a theme that entered in a round without candidates.
    with pytest.raises(ValueError, match="round_order"):
        link_recurring(candidates(("2024", "new_theme_01", SAFETY_2024)),
                       named=named_themes(("2025", "participant_safety", None), ("2026", "participant_safety", SAFETY_2024)))
    # A theme present in a round without units, before the one it has units in, enters there.
    linked = link_recurring(candidates(("2024", "new_theme_01", SAFETY_2024)),
                            named=named_themes(("2025", "participant_safety", None),
                                               ("2026", "participant_safety", SAFETY_2024)),
                            round_order=["2024", "2025", "2026"])
    assert linked["later_theme"].tolist() == ["participant_safety@2026"]
